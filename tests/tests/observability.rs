//! One render through the gateway, seen as an operator sees it.
//!
//! - **Traces**: the production telemetry (`gts_common::telemetry::init`) exports over
//!   OTLP/gRPC to a real OTLP trace service in this process. One `SubmitJob` from a
//!   grpc-web client yields one trace holding the gateway's and the worker's SubmitJob
//!   spans, shootout's `GetRenderSpec`, auth's TONE3000 token call, and the render's
//!   spans (the job, fetching inputs, each engine stage, the upload) continued from the
//!   queue by the worker that claimed the job.
//! - **Metrics**: the Prometheus exposition after the render holds the RPC, job and
//!   render metrics with their labels.
//!
//! The services run in this process (one global subscriber and recorder), so the test
//! is alone in its file.

#![allow(clippy::unwrap_used)]

use std::{collections::HashSet, time::Duration};

use gts_common::telemetry::{LogFormat, TelemetrySettings};
use gts_e2e::{
    Stack,
    shootouts::{
        cabinet, chain, create_shootout, events_to_end, library, nam, one_di_shootout, plucked_wav,
        submit_job, upload, watch_job,
    },
    telemetry::{OtlpCollector, hex_id, sample},
};
use gts_proto::v1::{AssetKind, JobStatus, job_event::Event};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_submit_job_is_one_trace_and_the_render_shows_in_the_metrics() {
    let collector = OtlpCollector::start().await;
    let telemetry = gts_common::telemetry::init(&TelemetrySettings {
        service_name: "gts-e2e",
        filter: "info".to_owned(),
        format: LogFormat::Json,
        otlp_endpoint: Some(collector.endpoint()),
    })
    .expect("install telemetry");
    let metrics = gts_common::metrics::builder("gts-e2e")
        .install_recorder()
        .expect("install the metrics recorder");

    let stack = Stack::start().await;
    let signed_in = stack.login().await;
    let token = signed_in.access_token();
    let di_bytes = plucked_wav(2.0, 48_000);
    let di = upload(&stack, token, AssetKind::DiTrack, "riff.wav", &di_bytes).await;
    let shootout = create_shootout(
        &stack,
        token,
        one_di_shootout(
            "Traced",
            &di,
            "Riff",
            vec![chain(
                "JCM800",
                vec![nam(library(51949, 293886)), cabinet(library(33510, 220300))],
            )],
        ),
    )
    .await;
    let job = submit_job(&stack, token, &shootout.id, "traced-1").await;
    let mut stream = watch_job(&stack, token, &job.id, "").await;
    let events = tokio::time::timeout(Duration::from_secs(120), events_to_end(&mut stream))
        .await
        .expect("the render ends in time");
    let ended = events.iter().rev().find_map(|event| match &event.event {
        Some(Event::StatusChange(change)) => Some(change.to_status()),
        _ => None,
    });
    assert_eq!(ended, Some(JobStatus::Succeeded), "{events:?}");

    // Every span is closed once the services stopped; dropping the guard flushes them.
    stack.stop().await;
    let exposition = metrics.render();
    drop(telemetry);

    // --- Metrics -------------------------------------------------------------------------
    let submit_ok = [
        "service=\"gts.v1.JobService\"",
        "method=\"SubmitJob\"",
        "code=\"OK\"",
    ];
    // The gateway and the worker each count the call.
    assert!(
        sample(&exposition, "gts_rpc_requests_total", &submit_ok) >= 2.0,
        "{exposition}"
    );
    assert!(
        sample(
            &exposition,
            "gts_rpc_duration_seconds_count",
            &["method=\"SubmitJob\""]
        ) >= 2.0
    );
    assert!(exposition.contains("gts_rpc_duration_seconds_bucket{"));
    assert!(
        sample(
            &exposition,
            "gts_rpc_requests_total",
            &["method=\"GetRenderSpec\"", "code=\"OK\""]
        ) >= 1.0
    );
    assert_eq!(
        sample(
            &exposition,
            "gts_job_attempts_total",
            &["outcome=\"succeeded\""]
        ),
        1.0
    );
    assert_eq!(sample(&exposition, "gts_job_wait_seconds_count", &[]), 1.0);
    assert_eq!(
        sample(
            &exposition,
            "gts_job_run_seconds_count",
            &["outcome=\"succeeded\""]
        ),
        1.0
    );
    for stage in ["decode", "chain", "level", "measure", "artifacts"] {
        let label = format!("stage=\"{stage}\"");
        assert_eq!(
            sample(&exposition, "gts_render_stage_seconds_count", &[&label]),
            1.0,
            "{stage}: {exposition}"
        );
        assert_eq!(
            sample(&exposition, "gts_render_realtime_factor_count", &[&label]),
            1.0,
            "{stage}"
        );
    }
    assert!(
        sample(
            &exposition,
            "gts_model_cache_lookups_total",
            &["result=\"miss\""]
        ) >= 1.0
    );
    // The one upload of the test, each byte stored once.
    assert_eq!(
        sample(&exposition, "gts_upload_bytes_total", &[]),
        di_bytes.len() as f64
    );
    // WatchJob streams open: the worker's and the gateway's gauges, back to 0 once the
    // stream ended.
    assert!(
        exposition.contains("gts_rpc_in_flight{")
            && exposition
                .lines()
                .any(|l| l.starts_with("gts_rpc_in_flight{") && l.contains("method=\"WatchJob\"")),
        "{exposition}"
    );
    assert_eq!(
        sample(&exposition, "gts_rpc_in_flight", &["method=\"WatchJob\""]),
        0.0
    );
    // The queue depth gauge has a series per state (refreshed from the first moment).
    for state in ["queued", "running", "succeeded", "failed", "cancelled"] {
        let label = format!("state=\"{state}\"");
        assert!(
            exposition
                .lines()
                .any(|l| l.starts_with("gts_jobs_queue_depth{") && l.contains(&label)),
            "{state}: {exposition}"
        );
    }
    assert!(exposition.contains("process=\"gts-e2e\""));

    // --- Traces --------------------------------------------------------------------------
    let spans: Vec<_> = collector
        .spans()
        .await
        .into_iter()
        .map(|(_, span)| span)
        .collect();
    let submits: Vec<_> = spans
        .iter()
        .filter(|span| span.name == "/gts.v1.JobService/SubmitJob")
        .collect();
    assert_eq!(
        submits.len(),
        2,
        "the gateway's and the worker's SubmitJob spans"
    );
    let trace_id = submits[0].trace_id.clone();
    assert_eq!(
        submits[1].trace_id, trace_id,
        "SubmitJob crossed the gateway as one trace"
    );
    // The gateway's span is the root; the worker's is its descendant.
    let root = submits.iter().find(|span| span.parent_span_id.is_empty());
    assert!(root.is_some(), "one SubmitJob span is the trace's root");

    let in_trace: HashSet<&str> = spans
        .iter()
        .filter(|span| span.trace_id == trace_id)
        .map(|span| span.name.as_str())
        .collect();
    for wanted in [
        "/gts.v1.ShootoutInternal/GetRenderSpec",
        "/gts.v1.AuthInternal/GetTone3000AccessToken",
        "render job",
        "render.fetch_inputs",
        "render.engine",
        "decode",
        "chain",
        "level",
        "measure",
        "artifacts",
        "render.upload",
    ] {
        assert!(
            in_trace.contains(wanted),
            "trace {} has no {wanted:?} span; it has {in_trace:?}",
            hex_id(&trace_id)
        );
    }
}
