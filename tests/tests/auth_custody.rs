//! Custody of TONE3000 tokens: one upstream refresh for many concurrent callers, TONE3000
//! failures that write nothing, and a refused refresh that asks the user to sign in again.

#![allow(clippy::unwrap_used)] // in tests a panic is the failure report

use std::time::Duration;

use fake_tone3000::FailureMode;
use gts_e2e::{SignedIn, Stack, stack::TONE3000_TIMEOUT_MS};
use gts_proto::v1::{
    CompleteLoginRequest, GetTone3000AccessTokenRequest, GetTone3000AccessTokenResponse,
    auth_internal_client::AuthInternalClient,
};
use sqlx::PgPool;
use tonic::{Code, Status, transport::Channel};

/// Signs in while TONE3000 issues access tokens that expire within the 60 s early-refresh
/// margin, then restores normal lifetimes: the stored token is due for a refresh.
async fn login_with_a_token_about_to_expire(stack: &Stack) -> SignedIn {
    let fake = stack.tone3000.state();
    fake.set_access_token_lifetime(Duration::from_secs(30));
    let signed_in = stack.login().await;
    fake.set_access_token_lifetime(Duration::from_secs(3600));
    signed_in
}

async fn get_token(
    channel: Channel,
    stack: &Stack,
    user_id: &str,
) -> Result<GetTone3000AccessTokenResponse, Status> {
    let mut request = tonic::Request::new(GetTone3000AccessTokenRequest {
        user_id: user_id.to_owned(),
    });
    stack
        .service_credential("gts-worker")
        .attach(&mut request)
        .unwrap();
    AuthInternalClient::new(channel)
        .get_tone3000_access_token(request)
        .await
        .map(|r| r.into_inner())
}

/// The raw custody row and the user's flag, to prove nothing changed.
async fn snapshot(db: &PgPool) -> (Vec<u8>, Vec<u8>, i64, bool) {
    sqlx::query_as(
        "SELECT t.access_token_ciphertext, t.refresh_token_ciphertext, t.version, u.needs_reauth
         FROM auth.tone3000_tokens t JOIN auth.users u ON u.id = t.user_id",
    )
    .fetch_one(db)
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_concurrent_callers_share_one_upstream_refresh() {
    let stack = Stack::start().await;
    let fake = stack.tone3000.state();
    let signed_in = login_with_a_token_about_to_expire(&stack).await;
    let before = (fake.refresh_attempts(), fake.token_refreshes());

    let channel = stack.auth.channel().await;
    let calls = (0..20).map(|_| get_token(channel.clone(), &stack, &signed_in.user.id));
    let answers = futures::future::join_all(calls).await;
    let tokens: Vec<GetTone3000AccessTokenResponse> =
        answers.into_iter().map(|a| a.unwrap()).collect();

    assert_eq!(
        fake.refresh_attempts() - before.0,
        1,
        "exactly one upstream refresh"
    );
    assert_eq!(fake.token_refreshes() - before.1, 1);
    let first = &tokens[0];
    assert!(
        tokens.iter().all(|t| t.access_token == first.access_token),
        "every caller got the same, new token"
    );
    let lifetime = first.expires_at.unwrap().seconds - gts_common::auth::testing::unix_now();
    assert!(
        lifetime > 3000,
        "the refreshed token is the new one-hour token: {lifetime}"
    );

    // Now fresh: later calls use it without going upstream.
    let again = get_token(channel, &stack, &signed_in.user.id)
        .await
        .unwrap();
    assert_eq!(again.access_token, first.access_token);
    assert_eq!(fake.refresh_attempts() - before.0, 1);
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tone3000_down_failing_or_slow_is_unavailable_and_writes_nothing() {
    let stack = Stack::start().await;
    let fake = stack.tone3000.state();
    let db = PgPool::connect(stack.db.url()).await.unwrap();
    let signed_in = login_with_a_token_about_to_expire(&stack).await;
    let channel = stack.auth.channel().await;
    let stored = snapshot(&db).await;

    for (what, mode) in [
        ("down (503)", FailureMode::Unavailable),
        ("failing (500)", FailureMode::InternalError),
    ] {
        fake.set_failure_mode(mode);
        let status = get_token(channel.clone(), &stack, &signed_in.user.id)
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::Unavailable, "{what}: {status:?}");
        assert!(status.message().contains("TONE3000"), "{what}: {status:?}");
        assert_eq!(snapshot(&db).await, stored, "{what}: nothing written");
    }

    // Login attempts too: nothing is created while TONE3000 fails.
    fake.set_failure_mode(FailureMode::None);
    let started = stack.start_login().await;
    let redirect = stack.authorize(&started.authorize_url).await;
    fake.set_failure_mode(FailureMode::Unavailable);
    let status = stack
        .auth_web()
        .complete_login(CompleteLoginRequest {
            code: redirect["code"].clone(),
            state: redirect["state"].clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    let sessions: i64 = sqlx::query_scalar("SELECT count(*) FROM auth.sessions")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(sessions, 1, "only the first sign-in's session");
    assert_eq!(snapshot(&db).await, stored);

    // Once TONE3000 is back, the stored refresh token still works: it was never spent.
    fake.set_failure_mode(FailureMode::None);
    get_token(channel.clone(), &stack, &signed_in.user.id)
        .await
        .unwrap();
    let refreshed = snapshot(&db).await;
    assert_ne!(refreshed.2, stored.2, "refreshed and stored");

    // Slower than auth's timeout. The fake stays failing, so the late request it is still
    // holding cannot spend the refresh token after auth gave up on it.
    sqlx::query(
        "UPDATE auth.tone3000_tokens SET access_expires_at = now() + interval '10 seconds'",
    )
    .execute(&db)
    .await
    .unwrap();
    let stored = snapshot(&db).await;
    fake.set_failure_mode(FailureMode::InternalError);
    fake.set_extra_latency(Duration::from_millis(TONE3000_TIMEOUT_MS * 2));
    let status = get_token(channel, &stack, &signed_in.user.id)
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "timing out: {status:?}");
    assert!(status.message().contains("no answer within"), "{status:?}");
    assert_eq!(snapshot(&db).await, stored, "timing out: nothing written");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_tone3000_makes_login_unavailable() {
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let stack = Stack::start_with(&[("GTS_TONE3000_URL", format!("http://{closed}/api/v1"))]).await;
    let started = stack.start_login().await;
    let state = url::Url::parse(&started.authorize_url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    let status = stack
        .auth_web()
        .complete_login(CompleteLoginRequest {
            code: "any-code".to_owned(),
            state,
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert!(status.message().contains("TONE3000"), "{status:?}");
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM auth.users")
        .fetch_one(&PgPool::connect(stack.db.url()).await.unwrap())
        .await
        .unwrap();
    assert_eq!(users, 0);
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_refresh_asks_the_user_to_sign_in_again() {
    let stack = Stack::start().await;
    let fake = stack.tone3000.state();
    let db = PgPool::connect(stack.db.url()).await.unwrap();
    let signed_in = login_with_a_token_about_to_expire(&stack).await;
    let channel = stack.auth.channel().await;

    fake.set_failure_mode(FailureMode::RefuseRefresh);
    let status = get_token(channel.clone(), &stack, &signed_in.user.id)
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    assert!(status.message().contains("sign in"), "{status:?}");
    assert!(snapshot(&db).await.3, "needs_reauth is set");

    // It stays so without asking TONE3000 again, until the user signs in again.
    fake.set_failure_mode(FailureMode::None);
    let attempts = fake.refresh_attempts();
    let status = get_token(channel.clone(), &stack, &signed_in.user.id)
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    assert_eq!(fake.refresh_attempts(), attempts);
    let again = stack.login().await;
    assert!(!again.user.needs_reauth);
    get_token(channel, &stack, &signed_in.user.id)
        .await
        .unwrap();
    stack.stop().await;
}
