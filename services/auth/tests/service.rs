//! The auth service over an in-memory duplex connection: its real routes behind its real
//! token layer (`gts_auth::routes` + `AppState::auth_layer`, what `serve` runs), the test
//! kit's database (dropped with the test, also on a panic), a Redis prefix of its own, and the fake TONE3000 for the
//! OAuth round trip. Sign-in, an authenticated call, logout, and what anonymous callers get.

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;

use gts_common::Env;
use gts_proto::v1::{
    CompleteLoginRequest, GetMeRequest, LogoutRequest, RefreshRequest, StartLoginRequest,
    auth_service_client::AuthServiceClient,
};
use hyper_util::rt::TokioIo;
use tonic::{Code, Request, transport::Channel};

const REDIRECT_URI: &str = "http://127.0.0.1:8080/auth/callback";

/// A client connected to the service through a duplex pipe (no socket).
async fn duplex_client(
    routes: tonic::service::Routes,
    layer: gts_common::auth::AuthLayer,
) -> AuthServiceClient<Channel> {
    let (client_io, server_io) = tokio::io::duplex(64 * 1024);
    tokio::spawn(async move {
        tonic::transport::Server::builder()
            .layer(layer)
            .add_routes(routes)
            .serve_with_incoming(tokio_stream::once(Ok::<_, std::io::Error>(server_io)))
            .await
    });
    let mut client_io = Some(client_io);
    let channel = tonic::transport::Endpoint::try_from("http://in-memory")
        .unwrap()
        .connect_with_connector(tower::service_fn(move |_| {
            let io = client_io.take();
            async move {
                io.map(TokioIo::new)
                    .ok_or_else(|| std::io::Error::other("the duplex pipe is already used"))
            }
        }))
        .await
        .unwrap();
    AuthServiceClient::new(channel)
}

fn bearer<T>(message: T, token: &str) -> Request<T> {
    let mut request = Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    request
}

/// The fake's authorize endpoint answers with a redirect carrying the code and state.
async fn authorize(url: &str) -> HashMap<String, String> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = client.get(url).send().await.unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::FOUND);
    let location = response.headers()[reqwest::header::LOCATION]
        .to_str()
        .unwrap();
    url::Url::parse(location)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

#[tokio::test]
async fn sign_in_call_and_log_out_over_an_in_memory_connection() {
    let database = gts_testkit::TestDatabase::create().await;
    let tone3000 =
        fake_tone3000::FakeTone3000::start(fake_tone3000::FakeConfig::for_workspace_tests())
            .await
            .unwrap();
    let env = Env::from_pairs(
        [
            ("GTS_DATABASE_URL", database.url().to_owned()),
            ("GTS_REDIS_URL", gts_testkit::redis_url()),
            ("GTS_REDIS_PREFIX", gts_testkit::redis_prefix()),
            ("GTS_TONE3000_URL", tone3000.base_url().to_owned()),
            (
                "GTS_TONE3000_CLIENT_ID",
                tone3000.state().client_id().to_owned(),
            ),
            ("GTS_TONE3000_REDIRECT_URI", REDIRECT_URI.to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v)),
    );
    let config = gts_auth::Config::from_env(&env).unwrap();
    let infra = gts_auth::connect(&config).await.unwrap();
    let state = gts_auth::AppState::new(&config, infra);
    let mut client = duplex_client(gts_auth::routes(&state), state.auth_layer()).await;

    // Anonymous callers reach sign-in, nothing else.
    let refused = client.get_me(GetMeRequest {}).await.unwrap_err();
    assert_eq!(refused.code(), Code::Unauthenticated, "{refused:?}");
    let junk = client
        .refresh(RefreshRequest {
            refresh_token: "not-a-refresh-token".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(junk.code(), Code::Unauthenticated, "{junk:?}");

    let started = client
        .start_login(StartLoginRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(
        started.authorize_url.starts_with(tone3000.base_url()),
        "{}",
        started.authorize_url
    );
    let redirect = authorize(&started.authorize_url).await;
    let signed_in = client
        .complete_login(CompleteLoginRequest {
            code: redirect["code"].clone(),
            state: redirect["state"].clone(),
        })
        .await
        .unwrap()
        .into_inner();
    let session = signed_in.session.unwrap();
    let me = client
        .get_me(bearer(GetMeRequest {}, &session.access_token))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(me.user.unwrap().id, signed_in.user.unwrap().id);

    // Replaying the same code is refused: a login attempt is used once.
    let replayed = client
        .complete_login(CompleteLoginRequest {
            code: redirect["code"].clone(),
            state: redirect["state"].clone(),
        })
        .await
        .unwrap_err();
    assert_ne!(replayed.code(), Code::Ok);

    client
        .logout(bearer(LogoutRequest {}, &session.access_token))
        .await
        .unwrap();
    let after = client
        .refresh(RefreshRequest {
            refresh_token: session.refresh_token,
        })
        .await
        .unwrap_err();
    assert_eq!(
        after.code(),
        Code::Unauthenticated,
        "a logged-out session cannot refresh: {after:?}"
    );
}
