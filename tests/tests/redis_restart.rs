//! Redis restarts in the middle of a render: the job still completes, and a watcher that
//! reconnects with its last event id catches up with every event once, in order. The
//! stack runs on a private Redis (append-only file on, as a production Redis keeps its
//! data across restarts) so the test can kill and restart it.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use gts_e2e::{
    Stack,
    redis_server::RedisServer,
    shootouts::{
        create_shootout, events_to_end, events_until_rendering, get_job, one_di_shootout,
        plucked_wav, resumed_log, submit_job, two_standard_chains, upload, watch_job,
    },
};
use gts_proto::v1::{AssetKind, JobStatus, job_event::Event};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_restart_mid_render_loses_no_job_and_no_event() {
    let mut redis = RedisServer::start();
    let stack = Stack::start_with(&[("GTS_REDIS_URL", redis.url())]).await;
    let token = stack.login().await.access_token().to_owned();
    let di = upload(
        &stack,
        &token,
        AssetKind::DiTrack,
        "long.wav",
        &plucked_wav(20.0, 48_000),
    )
    .await;
    let shootout = create_shootout(
        &stack,
        &token,
        one_di_shootout("Redis restart", &di, "", two_standard_chains()),
    )
    .await;
    let job = submit_job(&stack, &token, &shootout.id, "redis").await;

    // Watch until a chain is rendering, then restart Redis under everyone's feet.
    let mut stream = watch_job(&stack, &token, &job.id, "").await;
    let seen = events_until_rendering(&mut stream).await;
    redis.kill_server();
    redis.start_server();

    // The old stream may end or break; a reconnect from the last event id catches up.
    drop(stream);
    let last = seen.last().unwrap().event_id.clone();
    let catch_up = async {
        let mut stream = watch_job(&stack, &token, &job.id, &last).await;
        events_to_end(&mut stream).await
    };
    let rest = tokio::time::timeout(Duration::from_secs(240), catch_up)
        .await
        .expect("the job ends and the stream with it");
    let logged = resumed_log(&seen, &rest);
    assert!(
        matches!(
            logged.last().unwrap().event,
            Some(Event::StatusChange(ref change)) if change.to_status() == JobStatus::Succeeded
        ),
        "the stream ends with SUCCEEDED: {:?}",
        logged.last()
    );
    let done = get_job(&stack, &token, &job.id).await;
    assert_eq!(
        done.status(),
        JobStatus::Succeeded,
        "{}",
        done.error_message
    );
    assert_eq!(done.chain_results.len(), 2);

    stack.stop().await;
}
