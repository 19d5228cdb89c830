//! Revocation in seconds: after Logout, LogoutAll, a reused refresh token (its family
//! revoked) or the user's deletion, the session's access tokens stop working at the
//! gateway, at shootout and at worker within a few seconds (the revoked-sessions feed in
//! Redis), while other sessions go on working.

#![allow(clippy::unwrap_used)] // in tests a panic is the failure report

use std::time::{Duration, Instant};

use gts_e2e::{Stack, clients, with_bearer};
use gts_proto::v1::{
    ListJobsRequest, ListShootoutsRequest, LogoutAllRequest, LogoutRequest, RefreshRequest,
    job_service_client::JobServiceClient, shootout_service_client::ShootoutServiceClient,
};
use tonic::Code;

/// How long a revocation may take to reach every service (the feed polls every 500 ms).
const PROPAGATION: Duration = Duration::from_secs(5);

/// What each place answers `token`: `None` when the call is accepted, else the code.
async fn answers(stack: &Stack, token: &str) -> [(&'static str, Option<Code>); 3] {
    let gateway = ShootoutServiceClient::with_origin(clients::grpc_web(), stack.gateway_origin())
        .list_shootouts(with_bearer(ListShootoutsRequest::default(), token))
        .await;
    let shootout = ShootoutServiceClient::new(stack.shootout.channel().await)
        .list_shootouts(with_bearer(ListShootoutsRequest::default(), token))
        .await;
    let worker = JobServiceClient::new(stack.worker.channel().await)
        .list_jobs(with_bearer(ListJobsRequest::default(), token))
        .await;
    [
        ("gateway", gateway.err().map(|s| s.code())),
        ("shootout", shootout.err().map(|s| s.code())),
        ("worker", worker.err().map(|s| s.code())),
    ]
}

async fn assert_accepted(stack: &Stack, token: &str) {
    for (place, answer) in answers(stack, token).await {
        assert_eq!(answer, None, "{place} must accept a live session");
    }
}

/// Waits until every place refuses `token` as UNAUTHENTICATED; fails after [`PROPAGATION`].
async fn assert_refused_everywhere_soon(stack: &Stack, token: &str, what: &str) {
    assert_refused_everywhere_within(stack, token, what, PROPAGATION).await;
}

async fn assert_refused_everywhere_within(
    stack: &Stack,
    token: &str,
    what: &str,
    within: Duration,
) {
    let started = Instant::now();
    loop {
        let seen = answers(stack, token).await;
        if seen.iter().all(|(_, a)| *a == Some(Code::Unauthenticated)) {
            return;
        }
        assert!(
            started.elapsed() < within,
            "{what}: the token still works after {:?}: {seen:?}",
            started.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_ends_that_session_everywhere_and_only_that_one() {
    let stack = Stack::start().await;
    let gone = stack.login().await;
    let other = stack.login().await;
    assert_accepted(&stack, gone.access_token()).await;
    assert_accepted(&stack, other.access_token()).await;

    stack
        .auth_web()
        .logout(with_bearer(LogoutRequest {}, gone.access_token()))
        .await
        .unwrap();
    assert_refused_everywhere_soon(&stack, gone.access_token(), "Logout").await;
    assert_accepted(&stack, other.access_token()).await;
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_all_ends_every_session_of_the_user_everywhere() {
    let stack = Stack::start().await;
    let first = stack.login().await;
    let second = stack.login().await;
    assert_accepted(&stack, second.access_token()).await;

    let revoked = stack
        .auth_web()
        .logout_all(with_bearer(LogoutAllRequest {}, first.access_token()))
        .await
        .unwrap()
        .into_inner()
        .revoked_sessions;
    assert_eq!(revoked, 2);
    assert_refused_everywhere_soon(&stack, first.access_token(), "LogoutAll").await;
    assert_refused_everywhere_soon(&stack, second.access_token(), "LogoutAll").await;
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reused_refresh_token_ends_its_family_everywhere() {
    let stack = Stack::start().await;
    let signed_in = stack.login().await;
    let refresh = |token: String| {
        let mut auth = stack.auth_web();
        async move {
            auth.refresh(RefreshRequest {
                refresh_token: token,
            })
            .await
        }
    };
    let rotated = refresh(signed_in.refresh_token().to_owned())
        .await
        .unwrap()
        .into_inner()
        .session
        .unwrap();
    assert_accepted(&stack, &rotated.access_token).await;

    // The rotated-out token presented again: theft evidence, the family is revoked.
    let status = refresh(signed_in.refresh_token().to_owned())
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    assert_refused_everywhere_soon(&stack, &rotated.access_token, "refresh reuse").await;
    assert_refused_everywhere_soon(&stack, signed_in.access_token(), "refresh reuse").await;
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_user_is_refused_everywhere() {
    let stack = Stack::start().await;
    let signed_in = stack.login().await;
    assert_accepted(&stack, signed_in.access_token()).await;

    let db = stack.db_pool().await;
    let user_id: uuid::Uuid = signed_in.user.id.parse().unwrap();
    let deleted = sqlx::query("DELETE FROM auth.users WHERE id = $1")
        .bind(user_id)
        .execute(&db)
        .await
        .unwrap()
        .rows_affected();
    assert_eq!(deleted, 1);
    assert_refused_everywhere_soon(&stack, signed_in.access_token(), "user deleted").await;
    db.close().await;
    stack.stop().await;
}

/// Redis down (docs/auth.md): what the verifiers knew stays refused, a live session goes
/// on working, and a session revoked during the outage is refused once Redis is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_down_known_revocations_hold_and_new_ones_follow_its_return() {
    let mut redis = gts_e2e::redis_server::RedisServer::start();
    let stack = Stack::start_with(&[("GTS_REDIS_URL", redis.url())]).await;
    let before = stack.login().await;
    let during = stack.login().await;
    stack
        .auth_web()
        .logout(with_bearer(LogoutRequest {}, before.access_token()))
        .await
        .unwrap();
    assert_refused_everywhere_soon(&stack, before.access_token(), "Logout").await;

    redis.kill_server();
    for (place, answer) in answers(&stack, before.access_token()).await {
        assert_eq!(
            answer,
            Some(Code::Unauthenticated),
            "{place} forgot a revocation"
        );
    }
    assert_accepted(&stack, during.access_token()).await;
    // Signed out while Redis is down: auth records it (PostgreSQL) and publishes it later.
    stack
        .auth_web()
        .logout(with_bearer(LogoutRequest {}, during.access_token()))
        .await
        .unwrap();

    // Clients reconnect to Redis with a backoff: allow for it on top of the propagation.
    redis.start_server();
    assert_refused_everywhere_within(
        &stack,
        during.access_token(),
        "Logout during the outage",
        PROPAGATION * 4,
    )
    .await;
    stack.stop().await;
}
