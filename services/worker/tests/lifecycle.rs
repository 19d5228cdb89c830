//! Job lifecycle lines, read as the process would print them: the production JSON
//! format (`gts_common::telemetry::json_subscriber`) captured into a buffer while
//! scripted renders succeed, fail on their input, and fail transiently until the job is
//! dead. Every line names the service and carries the trace and span ids of its attempt.
//!
//! The subscriber is process-wide, so this file holds one test.

#![allow(clippy::unwrap_used)]

mod common;

use std::{
    io::Write,
    sync::{Arc, Mutex},
};

use common::{Harness, collect_until_end, next_event};
use gts_worker::testing::{ScriptedRenderer, Step};
use serde_json::Value;
use uuid::Uuid;

/// Lines written by the subscriber.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'w> tracing_subscriber::fmt::MakeWriter<'w> for Captured {
    type Writer = Captured;
    fn make_writer(&'w self) -> Self::Writer {
        self.clone()
    }
}

impl Captured {
    /// The JSON lines about `job` whose message is one of the lifecycle messages.
    fn lifecycle_of(&self, job: Uuid) -> Vec<Value> {
        let text = String::from_utf8(self.0.lock().unwrap().clone()).unwrap();
        text.lines()
            .map(|line| serde_json::from_str::<Value>(line).unwrap())
            .filter(|line| line["fields"]["job_id"] == job.to_string())
            .filter(|line| {
                line["fields"]["message"]
                    .as_str()
                    .is_some_and(|m| m.starts_with("job "))
            })
            .collect()
    }
}

fn message(line: &Value) -> &str {
    line["fields"]["message"].as_str().unwrap()
}

fn assert_ids(line: &Value) {
    assert_eq!(line["service"], "gts-worker", "{line}");
    let trace = line["trace_id"].as_str().unwrap_or_default();
    assert_eq!(trace.len(), 32, "{line}");
    assert_ne!(trace, "0".repeat(32), "{line}");
    assert_eq!(line["span_id"].as_str().map(str::len), Some(16), "{line}");
}

async fn run_to_end(h: &Harness, steps: Vec<Step>) -> Uuid {
    let user = Uuid::new_v4();
    let job = h.submit(user, h.shootout(user)).await;
    let mut stream = h.watch(user, job, "").await;
    next_event(&mut stream).await;
    let runner = h.spawn_runner(Arc::new(ScriptedRenderer::new(steps, 1)));
    collect_until_end(&mut stream).await;
    runner.stop().await;
    job
}

#[tokio::test]
async fn every_attempt_logs_its_claim_and_its_end_with_trace_ids() {
    let captured = Captured::default();
    let (subscriber, _guard) =
        gts_common::telemetry::json_subscriber("gts-worker", "info", captured.clone()).unwrap();
    tracing::subscriber::set_global_default(subscriber).unwrap();
    let h = Harness::start(&[("GTS_WORKER_MAX_ATTEMPTS", "2")]).await;

    let succeeded = run_to_end(&h, vec![Step::Succeed]).await;
    let lines = captured.lifecycle_of(succeeded);
    let messages: Vec<&str> = lines.iter().map(message).collect();
    assert_eq!(messages, ["job claimed", "job succeeded"], "{lines:?}");
    lines.iter().for_each(assert_ids);
    assert_eq!(
        lines[0]["trace_id"], lines[1]["trace_id"],
        "one attempt, one trace"
    );
    assert_eq!(
        lines[0]["span_id"], lines[1]["span_id"],
        "the attempt's span"
    );
    assert!(
        lines[0]["fields"]["waited_ms"].as_u64().is_some(),
        "{}",
        lines[0]
    );
    assert!(
        lines[1]["fields"]["run_ms"].as_u64().is_some(),
        "{}",
        lines[1]
    );

    let failed = run_to_end(
        &h,
        vec![Step::FailInput("chain 1: the model does not load".into())],
    )
    .await;
    let lines = captured.lifecycle_of(failed);
    let messages: Vec<&str> = lines.iter().map(message).collect();
    assert_eq!(messages, ["job claimed", "job failed"], "{lines:?}");
    assert_eq!(
        lines[1]["fields"]["reason"],
        "chain 1: the model does not load"
    );
    lines.iter().for_each(assert_ids);

    let dead = run_to_end(
        &h,
        vec![
            Step::FailTransient("TONE3000 is unavailable (1)".into()),
            Step::FailTransient("TONE3000 is unavailable (2)".into()),
        ],
    )
    .await;
    let lines = captured.lifecycle_of(dead);
    let messages: Vec<&str> = lines.iter().map(message).collect();
    assert_eq!(
        messages,
        [
            "job claimed",
            "job attempt failed; retrying",
            "job claimed",
            "job dead: failed on its last attempt",
        ],
        "{lines:?}"
    );
    assert_eq!(lines[1]["level"], "WARN");
    assert_eq!(lines[1]["fields"]["reason"], "TONE3000 is unavailable (1)");
    assert_eq!(lines[3]["fields"]["reason"], "TONE3000 is unavailable (2)");
    assert_eq!(lines[3]["fields"]["attempt"], 2);
    assert_eq!(lines[3]["fields"]["max_attempts"], 2);
    lines.iter().for_each(assert_ids);
    // Each attempt's lines are in its span. (That attempts continue the trace stored at
    // SubmitJob is tests/tests/observability.rs's: this harness serves without request
    // spans, so no trace is stored here.)
    assert_eq!(lines[0]["span_id"], lines[1]["span_id"]);
    assert_eq!(lines[2]["span_id"], lines[3]["span_id"]);
    assert_ne!(lines[0]["span_id"], lines[2]["span_id"]);
    h.finish().await;
}
