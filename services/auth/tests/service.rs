//! The auth service over an in-memory duplex connection: its real routes behind its real
//! token layer (`gts_auth::routes` + `AppState::auth_layer`, what `serve` runs), a fresh
//! database that drops itself, a Redis prefix of its own, and the fake TONE3000 for the
//! OAuth round trip. Sign-in, an authenticated call, logout, and what anonymous callers get.

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;

use gts_common::Env;
use gts_proto::v1::{
    CompleteLoginRequest, GetMeRequest, LogoutRequest, RefreshRequest, StartLoginRequest,
    auth_service_client::AuthServiceClient,
};
use hyper_util::rt::TokioIo;
use sqlx::{Connection, PgConnection};
use tonic::{Code, Request, transport::Channel};
use uuid::Uuid;

const REDIRECT_URI: &str = "http://127.0.0.1:8080/auth/callback";

fn admin_url() -> String {
    std::env::var("GTS_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://gts:gts@127.0.0.1:5432/gts".to_owned())
}

/// A database of this test's own, dropped when the value is, also when the test panics.
struct TestDatabase {
    name: String,
    url: String,
}

impl TestDatabase {
    async fn create() -> Self {
        let name = format!("gts_test_{}", Uuid::new_v4().simple());
        let mut admin = PgConnection::connect(&admin_url()).await.unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .unwrap();
        let mut url: url::Url = admin_url().parse().unwrap();
        url.set_path(&name);
        Self {
            name,
            url: url.to_string(),
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop runs inside the test's runtime, which cannot be blocked on: a thread of its own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                let mut admin = PgConnection::connect(&admin_url()).await.ok()?;
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(&mut admin)
                .await
                .ok()
            });
            Ok::<_, std::io::Error>(())
        });
        let _ = dropped.join();
    }
}

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
    let database = TestDatabase::create().await;
    let tone3000 =
        fake_tone3000::FakeTone3000::start(fake_tone3000::FakeConfig::for_workspace_tests())
            .await
            .unwrap();
    let env = Env::from_pairs(
        [
            ("GTS_DATABASE_URL", database.url.clone()),
            ("GTS_REDIS_URL", "redis://127.0.0.1:6379".to_owned()),
            (
                "GTS_REDIS_PREFIX",
                format!("gts-test:{}:", Uuid::new_v4().simple()),
            ),
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
