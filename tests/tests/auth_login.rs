//! Sign-in with TONE3000 through the gateway over grpc-web, as the console does: the full
//! flow, every way a login attempt can be wrong (none of which creates a user or a
//! session), the TONE3000 tokens at rest, and the session RPCs.

#![allow(clippy::unwrap_used)] // in tests a panic is the failure report

use std::time::Duration;

use gts_e2e::{Stack, clients, stack::REDIRECT_URI, with_bearer};
use gts_proto::v1::{
    CompleteLoginRequest, GetMeRequest, GetTone3000AccessTokenRequest, ListJobsRequest,
    ListShootoutsRequest, LogoutAllRequest, LogoutRequest, StartLoginRequest,
    auth_internal_client::AuthInternalClient, job_service_client::JobServiceClient,
    shootout_service_client::ShootoutServiceClient,
};
use sqlx::PgPool;
use tonic::Code;

async fn pool(stack: &Stack) -> PgPool {
    PgPool::connect(stack.db.url()).await.unwrap()
}

/// (users, sessions) rows in auth's schema.
async fn counts(db: &PgPool) -> (i64, i64) {
    let users = sqlx::query_scalar("SELECT count(*) FROM auth.users")
        .fetch_one(db)
        .await
        .unwrap();
    let sessions = sqlx::query_scalar("SELECT count(*) FROM auth.sessions")
        .fetch_one(db)
        .await
        .unwrap();
    (users, sessions)
}

fn served_by(status: &tonic::Status) -> String {
    status
        .metadata()
        .get(gts_common::server::SERVED_BY_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("<none>")
        .to_owned()
}

fn unix_now() -> i64 {
    gts_common::auth::testing::unix_now()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_full_login_flow_issues_a_session_that_shootout_and_worker_accept() {
    let stack = Stack::start().await;
    let fake = stack.tone3000.state();

    let started = stack
        .auth_web()
        .start_login(StartLoginRequest {
            return_to: "/shootouts/new".to_owned(),
        })
        .await
        .unwrap()
        .into_inner();
    // The authorize URL is TONE3000's, with PKCE S256, our client, redirect URI and state.
    let url = url::Url::parse(&started.authorize_url).unwrap();
    assert!(
        started
            .authorize_url
            .starts_with(&stack.tone3000.authorize_url()),
        "{url}"
    );
    let query: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(query["code_challenge_method"], "S256");
    assert_eq!(query["code_challenge"].len(), 43, "base64url SHA-256");
    assert_eq!(query["client_id"], fake.client_id());
    assert_eq!(query["redirect_uri"], REDIRECT_URI);
    assert_eq!(query["state"], started.state);
    assert!(started.state.len() >= 43, "state carries ≥ 256 bits");
    let ttl = started.expires_at.unwrap().seconds - unix_now();
    assert!(
        (595..=600).contains(&ttl),
        "login attempts last 10 minutes: {ttl}"
    );

    let redirect = stack.authorize(&started.authorize_url).await;
    assert_eq!(redirect["state"], started.state);
    let completed = stack
        .auth_web()
        .complete_login(CompleteLoginRequest {
            code: redirect["code"].clone(),
            state: redirect["state"].clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(completed.return_to, "/shootouts/new");
    let user = completed.user.unwrap();
    assert_eq!(user.tone3000_user_id, fake.test_user().id);
    assert_eq!(user.username, fake.test_user().username);
    assert!(!user.needs_reauth);
    let session = completed.session.unwrap();
    let access_ttl = session.access_token_expires_at.unwrap().seconds - unix_now();
    assert!(
        (0..=900).contains(&access_ttl),
        "access tokens live ≤ 15 min: {access_ttl}"
    );
    assert!(
        session.refresh_token.len() >= 43,
        "refresh token carries ≥ 256 bits"
    );
    assert_eq!(fake.code_exchanges(), 1);

    // Auth itself knows the caller.
    let me = stack
        .auth_web()
        .get_me(with_bearer(GetMeRequest {}, &session.access_token))
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    assert_eq!(me.id, user.id);

    // Shootout and worker accept the JWT, through the gateway and directly; without it,
    // the same calls are refused.
    let origin = stack.gateway_origin();
    let token = session.access_token.as_str();
    let shootouts_web = ShootoutServiceClient::with_origin(clients::grpc_web(), origin.clone())
        .list_shootouts(with_bearer(ListShootoutsRequest::default(), token))
        .await;
    let shootouts_direct = ShootoutServiceClient::new(stack.shootout.channel().await)
        .list_shootouts(with_bearer(ListShootoutsRequest::default(), token))
        .await;
    let jobs_web = JobServiceClient::with_origin(clients::grpc_web(), origin.clone())
        .list_jobs(with_bearer(ListJobsRequest::default(), token))
        .await;
    let jobs_direct = JobServiceClient::new(stack.worker.channel().await)
        .list_jobs(with_bearer(ListJobsRequest::default(), token))
        .await;
    for (what, result) in [
        ("shootout via gateway", shootouts_web.map(|_| ())),
        ("shootout direct", shootouts_direct.map(|_| ())),
        ("worker via gateway", jobs_web.map(|_| ())),
        ("worker direct", jobs_direct.map(|_| ())),
    ] {
        if let Err(status) = result {
            assert!(
                !matches!(
                    status.code(),
                    Code::Unauthenticated | Code::PermissionDenied
                ),
                "{what} refused a valid token: {status:?}"
            );
        }
    }
    let anonymous = JobServiceClient::new(stack.worker.channel().await)
        .list_jobs(ListJobsRequest::default())
        .await
        .unwrap_err();
    assert_eq!(anonymous.code(), Code::Unauthenticated, "{anonymous:?}");
    assert_eq!(served_by(&anonymous), "gts-worker");
    let anonymous = ShootoutServiceClient::new(stack.shootout.channel().await)
        .list_shootouts(ListShootoutsRequest::default())
        .await
        .unwrap_err();
    assert_eq!(anonymous.code(), Code::Unauthenticated, "{anonymous:?}");

    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_reused_or_expired_states_and_bad_codes_create_nothing() {
    let stack = Stack::start().await;
    let db = pool(&stack).await;
    let fake = stack.tone3000.state();
    let complete = |code: String, state: String| {
        let mut client = stack.auth_web();
        async move {
            client
                .complete_login(CompleteLoginRequest { code, state })
                .await
                .unwrap_err()
        }
    };

    // A state auth never issued.
    let started = stack.start_login().await;
    let redirect = stack.authorize(&started.authorize_url).await;
    let status = complete(redirect["code"].clone(), "made-up-state".to_owned()).await;
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert!(
        status
            .message()
            .contains("unknown or already used login state"),
        "{status:?}"
    );

    // An expired attempt (its 10 minutes are over).
    let started = stack.start_login().await;
    let redirect = stack.authorize(&started.authorize_url).await;
    sqlx::query("UPDATE auth.login_attempts SET expires_at = now() - interval '1 second'")
        .execute(&db)
        .await
        .unwrap();
    let status = complete(redirect["code"].clone(), redirect["state"].clone()).await;
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    assert!(status.message().contains("expired"), "{status:?}");

    // The wrong PKCE verifier: A's code presented with B's state (so B's verifier).
    let a = stack.start_login().await;
    let b = stack.start_login().await;
    let redirect_a = stack.authorize(&a.authorize_url).await;
    let status = complete(redirect_a["code"].clone(), b.state.clone()).await;
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    assert!(status.message().contains("invalid_grant"), "{status:?}");

    // An expired code (TONE3000 codes live 30 minutes).
    let started = stack.start_login().await;
    let redirect = stack.authorize(&started.authorize_url).await;
    fake.advance_clock(Duration::from_secs(31 * 60));
    let status = complete(redirect["code"].clone(), redirect["state"].clone()).await;
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    assert!(status.message().contains("invalid_grant"), "{status:?}");

    assert_eq!(
        counts(&db).await,
        (0, 0),
        "no user and no session after failed logins"
    );
    assert_eq!(fake.code_exchanges(), 0);

    // A state is single use: once it has signed someone in, it cannot again.
    let started = stack.start_login().await;
    let redirect = stack.authorize(&started.authorize_url).await;
    stack
        .auth_web()
        .complete_login(CompleteLoginRequest {
            code: redirect["code"].clone(),
            state: redirect["state"].clone(),
        })
        .await
        .unwrap();
    assert_eq!(counts(&db).await, (1, 1));
    let again = stack.authorize(&started.authorize_url).await;
    let status = complete(again["code"].clone(), started.state.clone()).await;
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert_eq!(counts(&db).await, (1, 1), "a reused state opens no session");

    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tone3000_tokens_are_stored_as_ciphertext() {
    let stack = Stack::start().await;
    let signed_in = stack.login().await;
    let db = pool(&stack).await;

    let mut request = tonic::Request::new(GetTone3000AccessTokenRequest {
        user_id: signed_in.user.id.clone(),
    });
    stack
        .service_credential("gts-worker")
        .attach(&mut request)
        .unwrap();
    let access = AuthInternalClient::new(stack.auth.channel().await)
        .get_tone3000_access_token(request)
        .await
        .unwrap()
        .into_inner()
        .access_token;
    assert!(access.starts_with("t3k_"), "a TONE3000 token: {access}");

    let (access_ct, refresh_ct, key_id): (Vec<u8>, Vec<u8>, String) = sqlx::query_as(
        "SELECT access_token_ciphertext, refresh_token_ciphertext, key_id
         FROM auth.tone3000_tokens",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(key_id, "test-t1", "the key id is stored with the value");
    for ciphertext in [&access_ct, &refresh_ct] {
        assert!(
            !ciphertext.windows(4).any(|w| w == b"t3k_"),
            "a token prefix appears in the raw row"
        );
        assert!(
            !ciphertext
                .windows(access.len())
                .any(|w| w == access.as_bytes())
        );
    }
    // nonce (12) + ciphertext (as long as the token) + tag (16).
    assert_eq!(access_ct.len(), 12 + access.len() + 16);

    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_ends_one_session_and_logout_all_ends_every_session() {
    let stack = Stack::start().await;
    let first = stack.login().await;
    let second = stack.login().await;
    let third = stack.login().await;
    assert_eq!(
        first.user.id, second.user.id,
        "one user per TONE3000 account"
    );

    stack
        .auth_web()
        .logout(with_bearer(LogoutRequest {}, first.access_token()))
        .await
        .unwrap();
    let status = stack
        .auth_web()
        .get_me(with_bearer(GetMeRequest {}, first.access_token()))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    stack
        .auth_web()
        .get_me(with_bearer(GetMeRequest {}, second.access_token()))
        .await
        .unwrap();

    let revoked = stack
        .auth_web()
        .logout_all(with_bearer(LogoutAllRequest {}, second.access_token()))
        .await
        .unwrap()
        .into_inner()
        .revoked_sessions;
    assert_eq!(revoked, 2, "the second and third sessions");
    for signed_in in [&second, &third] {
        let status = stack
            .auth_web()
            .get_me(with_bearer(GetMeRequest {}, signed_in.access_token()))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
        let status = stack
            .auth_web()
            .refresh(gts_proto::v1::RefreshRequest {
                refresh_token: signed_in.refresh_token().to_owned(),
            })
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    }

    stack.stop().await;
}
