//! Session tokens: refresh rotation and theft detection, forged access tokens refused by
//! every service (at the gateway and directly), internal RPCs closed to user tokens, and
//! the rate limits on login and refresh.

#![allow(clippy::unwrap_used)] // in tests a panic is the failure report

use gts_common::auth::{AccessClaims, JwtSigner, SigningKey, testing};
use gts_e2e::{Stack, clients, with_bearer};
use gts_proto::v1::{
    GetMeRequest, GetPublicKeysRequest, GetTone3000AccessTokenRequest, ListJobsRequest,
    ListShootoutsRequest, RefreshRequest, StartLoginRequest,
    auth_internal_client::AuthInternalClient, auth_service_client::AuthServiceClient,
    job_service_client::JobServiceClient, shootout_service_client::ShootoutServiceClient,
};
use tonic::{Code, Status};

fn served_by(status: &Status) -> String {
    status
        .metadata()
        .get(gts_common::server::SERVED_BY_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("<none>")
        .to_owned()
}

async fn refresh(stack: &Stack, token: &str) -> Result<gts_proto::v1::Session, Status> {
    stack
        .auth_web()
        .refresh(RefreshRequest {
            refresh_token: token.to_owned(),
        })
        .await
        .map(|r| r.into_inner().session.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_rotates_and_reusing_a_rotated_token_revokes_the_session() {
    let stack = Stack::start().await;
    let signed_in = stack.login().await;
    let first = signed_in.session.clone();

    let second = refresh(&stack, &first.refresh_token).await.unwrap();
    assert_eq!(second.session_id, first.session_id, "same session");
    assert_ne!(second.refresh_token, first.refresh_token, "rotated");
    let third = refresh(&stack, &second.refresh_token).await.unwrap();
    stack
        .auth_web()
        .get_me(with_bearer(GetMeRequest {}, &third.access_token))
        .await
        .unwrap();

    // The first token is dead; presenting it again is taken as theft.
    let status = refresh(&stack, &first.refresh_token).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    assert!(status.message().contains("revoked"), "{status:?}");

    // The whole session is gone: its latest refresh token and its access tokens.
    let status = refresh(&stack, &third.refresh_token).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    for access in [&first.access_token, &third.access_token] {
        let status = stack
            .auth_web()
            .get_me(with_bearer(GetMeRequest {}, access))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    }
    // Another session of the same user is untouched.
    let other = stack.login().await;
    refresh(&stack, other.refresh_token()).await.unwrap();

    let status = refresh(&stack, "gtsr_never-issued").await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_access_tokens_are_refused_by_every_service() {
    let stack = Stack::start().await;
    let signed_in = stack.login().await;
    let key = &stack.secrets.signing_key;
    let signer = JwtSigner::new(key.clone());
    let now = testing::unix_now();
    let claims = AccessClaims {
        sub: signed_in.user.id.clone(),
        sid: signed_in.session.session_id.clone(),
        iat: now,
        nbf: now,
        exp: now + 600,
        iss: "gts-auth".to_owned(),
        aud: "gts".to_owned(),
    };
    let foreign = JwtSigner::new(SigningKey::generate(key.key_id()).unwrap());
    let forged: Vec<(&str, String, &str)> = vec![
        (
            "tampered",
            testing::tamper_payload(signed_in.access_token(), |c| {
                c["sub"] = uuid::Uuid::new_v4().to_string().into();
            }),
            "signature is invalid",
        ),
        (
            "expired",
            signer
                .sign(&AccessClaims {
                    iat: now - 3600,
                    nbf: now - 3600,
                    exp: now - 60,
                    ..claims.clone()
                })
                .unwrap(),
            "expired",
        ),
        (
            "wrong audience",
            signer
                .sign(&AccessClaims {
                    aud: "another-app".to_owned(),
                    ..claims.clone()
                })
                .unwrap(),
            "another audience",
        ),
        (
            "not yet valid",
            signer
                .sign(&AccessClaims {
                    nbf: now + 600,
                    ..claims.clone()
                })
                .unwrap(),
            "not valid yet",
        ),
        (
            "alg none",
            testing::unsigned_token(&claims, key.key_id()),
            "only EdDSA",
        ),
        (
            "HMAC keyed with the public key",
            testing::hs256_token(&claims, key.key_id(), key.public_key().pem().as_bytes()),
            "only EdDSA",
        ),
        (
            "foreign key",
            foreign.sign(&claims).unwrap(),
            "signature is invalid",
        ),
    ];
    // The genuine token works, so the refusals below are about the forgeries.
    stack
        .auth_web()
        .get_me(with_bearer(GetMeRequest {}, signed_in.access_token()))
        .await
        .unwrap();

    let origin = stack.gateway_origin();
    for (what, token, reason) in &forged {
        let mut refusals: Vec<(String, Status, Option<&str>)> = Vec::new();
        // Through the gateway (which refuses before forwarding) …
        let web = clients::grpc_web();
        refusals.push((
            "auth via gateway".into(),
            AuthServiceClient::with_origin(web.clone(), origin.clone())
                .get_me(with_bearer(GetMeRequest {}, token))
                .await
                .unwrap_err(),
            None,
        ));
        refusals.push((
            "shootout via gateway".into(),
            ShootoutServiceClient::with_origin(web.clone(), origin.clone())
                .list_shootouts(with_bearer(ListShootoutsRequest::default(), token))
                .await
                .unwrap_err(),
            None,
        ));
        refusals.push((
            "worker via gateway".into(),
            JobServiceClient::with_origin(web, origin.clone())
                .list_jobs(with_bearer(ListJobsRequest::default(), token))
                .await
                .unwrap_err(),
            None,
        ));
        // … and directly at each service, which verify again.
        refusals.push((
            "auth direct".into(),
            AuthServiceClient::new(stack.auth.channel().await)
                .get_me(with_bearer(GetMeRequest {}, token))
                .await
                .unwrap_err(),
            Some("gts-auth"),
        ));
        refusals.push((
            "shootout direct".into(),
            ShootoutServiceClient::new(stack.shootout.channel().await)
                .list_shootouts(with_bearer(ListShootoutsRequest::default(), token))
                .await
                .unwrap_err(),
            Some("gts-shootout"),
        ));
        refusals.push((
            "worker direct".into(),
            JobServiceClient::new(stack.worker.channel().await)
                .list_jobs(with_bearer(ListJobsRequest::default(), token))
                .await
                .unwrap_err(),
            Some("gts-worker"),
        ));
        for (where_, status, service) in refusals {
            assert_eq!(
                status.code(),
                Code::Unauthenticated,
                "{what} at {where_}: {status:?}"
            );
            assert!(
                status.message().contains(reason),
                "{what} at {where_}: {status:?}"
            );
            let expected = service.unwrap_or("<none>");
            assert_eq!(
                served_by(&status),
                expected,
                "{what} at {where_}: who refused"
            );
        }
    }
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_token_cannot_call_auth_internal() {
    let stack = Stack::start().await;
    let signed_in = stack.login().await;
    let mut internal = AuthInternalClient::new(stack.auth.channel().await);
    let wanted = || GetTone3000AccessTokenRequest {
        user_id: signed_in.user.id.clone(),
    };

    // Directly at auth, with the user's valid access token.
    let status = internal
        .get_tone3000_access_token(with_bearer(wanted(), signed_in.access_token()))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    let status = internal
        .get_public_keys(with_bearer(
            GetPublicKeysRequest {},
            signed_in.access_token(),
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    // The user's token in the service-credential header is no credential either.
    let mut disguised = tonic::Request::new(wanted());
    disguised.metadata_mut().insert(
        gts_common::auth::SERVICE_TOKEN_HEADER,
        signed_in.access_token().parse().unwrap(),
    );
    let status = internal
        .get_tone3000_access_token(disguised)
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    // No credential at all.
    let status = internal
        .get_tone3000_access_token(wanted())
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    // Through the gateway, even with a service credential, it is not routed.
    let mut via_gateway = tonic::Request::new(wanted());
    stack
        .service_credential("gts-worker")
        .attach(&mut via_gateway)
        .unwrap();
    let status = AuthInternalClient::with_origin(clients::grpc_web(), stack.gateway_origin())
        .get_tone3000_access_token(via_gateway)
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");

    // With a service credential it answers.
    let mut request = tonic::Request::new(wanted());
    stack
        .service_credential("gts-worker")
        .attach(&mut request)
        .unwrap();
    internal.get_tone3000_access_token(request).await.unwrap();
    let keys = internal
        .get_public_keys(GetPublicKeysRequest {})
        .await
        .unwrap()
        .into_inner()
        .keys;
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].key_id, stack.secrets.signing_key.key_id());
    assert_eq!(
        keys[0].public_key_der,
        stack.secrets.signing_key.public_key().spki_der
    );
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_and_refresh_attempts_are_rate_limited_per_ip_and_per_user() {
    let stack = Stack::start_with(&[
        ("GTS_AUTH_RATE_LIMIT_PER_IP", "4".to_owned()),
        ("GTS_AUTH_RATE_LIMIT_PER_USER", "2".to_owned()),
        // A long window, so the test never straddles two.
        ("GTS_AUTH_RATE_WINDOW_SECS", "3600".to_owned()),
    ])
    .await;
    // Per IP: StartLogin, a fifth time within the window.
    let signed_in = stack.login().await; // one StartLogin
    for _ in 0..3 {
        stack
            .auth_web()
            .start_login(StartLoginRequest::default())
            .await
            .unwrap();
    }
    let status = stack
        .auth_web()
        .start_login(StartLoginRequest::default())
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(status.message().contains("try again in"), "{status:?}");
    assert!(
        !status.details().is_empty(),
        "google.rpc.RetryInfo is attached"
    );

    // Per user: the third refresh within the window.
    let second = refresh(&stack, signed_in.refresh_token()).await.unwrap();
    let third = refresh(&stack, &second.refresh_token).await.unwrap();
    let status = refresh(&stack, &third.refresh_token).await.unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    // Refused before rotating: the token still works once the window passes (not waited
    // for here); it was not consumed.
    let rotated: i64 = sqlx::query_scalar("SELECT count(*) FROM auth.rotated_refresh_tokens")
        .fetch_one(&sqlx::PgPool::connect(stack.db.url()).await.unwrap())
        .await
        .unwrap();
    assert_eq!(rotated, 2);
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verifiers_without_configured_keys_fetch_them_from_auth() {
    // No GTS_JWT_PUBLIC_KEYS: the gateway, shootout and worker ask auth at start-up.
    let stack = Stack::start_with(&[("GTS_JWT_PUBLIC_KEYS", String::new())]).await;
    let signed_in = stack.login().await;
    let jobs = JobServiceClient::with_origin(clients::grpc_web(), stack.gateway_origin())
        .list_jobs(with_bearer(
            ListJobsRequest::default(),
            signed_in.access_token(),
        ))
        .await;
    if let Err(status) = jobs {
        assert_ne!(status.code(), Code::Unauthenticated, "{status:?}");
    }
    let foreign = JwtSigner::new(SigningKey::generate("other-kid").unwrap());
    let now = testing::unix_now();
    let token = foreign
        .sign(&AccessClaims {
            sub: signed_in.user.id.clone(),
            sid: signed_in.session.session_id.clone(),
            iat: now,
            nbf: now,
            exp: now + 600,
            iss: "gts-auth".to_owned(),
            aud: "gts".to_owned(),
        })
        .unwrap();
    let status = JobServiceClient::new(stack.worker.channel().await)
        .list_jobs(with_bearer(ListJobsRequest::default(), &token))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    assert!(
        status.message().contains("unknown signing key"),
        "{status:?}"
    );
    stack.stop().await;
}
