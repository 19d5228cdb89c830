//! In-process harness for the shootout service's API tests: the real routes on an
//! ephemeral port, a fresh PostgreSQL database and a Redis key prefix per test, and a tiny
//! identity layer that turns an `x-test-user` / `x-test-service` header into the `Caller`
//! the real auth layer would insert after verifying a token.

#![allow(dead_code)]

pub mod audio;

use std::{net::SocketAddr, path::PathBuf};

use gts_common::{
    Env,
    identity::{Caller, UserIdentity},
};
use sqlx::{Connection, PgConnection};
use tokio::{net::TcpListener, task::JoinHandle};
use tokio_stream::wrappers::TcpListenerStream;
use tonic::{Request, transport::Channel};
use uuid::Uuid;

pub const USER_HEADER: &str = "x-test-user";
pub const SERVICE_HEADER: &str = "x-test-service";

fn admin_url() -> String {
    std::env::var("GTS_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://gts:gts@127.0.0.1:5432/gts".to_owned())
}

fn redis_url() -> String {
    std::env::var("GTS_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// The running service.
pub struct TestService {
    pub addr: SocketAddr,
    pub channel: Channel,
    pub db: sqlx::PgPool,
    pub state: gts_shootout::AppState,
    pub storage_dir: tempfile::TempDir,
    db_name: String,
    server: JoinHandle<()>,
}

/// Extra environment for a test (on top of the defaults below).
pub async fn start_with(extra: &[(&str, String)]) -> TestService {
    start_custom(extra, None).await
}

/// Like [`start_with`], with users' TONE3000 tokens from `tokens`.
pub async fn start_custom(
    extra: &[(&str, String)],
    tokens: Option<std::sync::Arc<dyn gts_shootout::Tone3000TokenSource>>,
) -> TestService {
    let db_name = format!("gts_test_{}", Uuid::new_v4().simple());
    let mut admin = PgConnection::connect(&admin_url()).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {db_name}")))
        .execute(&mut admin)
        .await
        .unwrap();
    let mut url: url::Url = admin_url().parse().unwrap();
    url.set_path(&db_name);
    let storage_dir = tempfile::tempdir().unwrap();
    let mut pairs: Vec<(String, String)> = vec![
        ("GTS_DATABASE_URL".into(), url.to_string()),
        ("GTS_REDIS_URL".into(), redis_url()),
        (
            "GTS_REDIS_PREFIX".into(),
            format!("gts-test:{}:", Uuid::new_v4().simple()),
        ),
        (
            "GTS_STORAGE_DIR".into(),
            storage_dir
                .path()
                .join("blobs")
                .to_string_lossy()
                .into_owned(),
        ),
        (
            "GTS_UPLOAD_STAGING_DIR".into(),
            storage_dir
                .path()
                .join("staging")
                .to_string_lossy()
                .into_owned(),
        ),
    ];
    pairs.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
    let config = gts_shootout::Config::from_env(&Env::from_pairs(pairs)).unwrap();
    let infra = gts_shootout::connect(&config).await.unwrap();
    let mut state = gts_shootout::AppState::new(&config, infra.clone()).unwrap();
    if let Some(tokens) = tokens {
        state = state.with_token_source(tokens);
    }
    let routes = gts_shootout::routes(&state);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let _ = tonic::transport::Server::builder()
            .layer(tower::util::MapRequestLayer::new(identity_from_headers))
            .add_routes(routes)
            .serve_with_incoming(TcpListenerStream::new(listener))
            .await;
    });
    let channel = Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    TestService {
        addr,
        channel,
        db: infra.db.clone(),
        state,
        storage_dir,
        db_name,
        server,
    }
}

pub async fn start() -> TestService {
    start_with(&[]).await
}

impl TestService {
    /// Stops the server and drops the database.
    pub async fn finish(self) {
        self.server.abort();
        self.db.close().await;
        if let Ok(mut conn) = PgConnection::connect(&admin_url()).await {
            let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.db_name
            )))
            .execute(&mut conn)
            .await;
        }
    }
}

/// What the real auth layer does after verifying a token, keyed by a test header.
fn identity_from_headers(
    mut request: http::Request<tonic::body::Body>,
) -> http::Request<tonic::body::Body> {
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let caller = if let Some(user) = header(USER_HEADER).and_then(|u| Uuid::parse_str(&u).ok()) {
        Some(Caller::User(UserIdentity {
            user_id: user,
            session_id: Uuid::nil(),
        }))
    } else {
        header(SERVICE_HEADER).map(Caller::Service)
    };
    if let Some(caller) = caller {
        request.extensions_mut().insert(caller);
    }
    request
}

/// A request made by `user`.
pub fn as_user<T>(user: Uuid, message: T) -> Request<T> {
    let mut request = Request::new(message);
    request
        .metadata_mut()
        .insert(USER_HEADER, user.to_string().parse().unwrap());
    request
}

/// A request made by the worker (a service credential).
pub fn as_service<T>(message: T) -> Request<T> {
    let mut request = Request::new(message);
    request
        .metadata_mut()
        .insert(SERVICE_HEADER, "gts-worker".parse().unwrap());
    request
}

/// The fixtures directory of the repository.
pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

/// The field paths of a status's BadRequest details.
pub fn violation_fields(status: &tonic::Status) -> Vec<String> {
    use tonic_types::StatusExt;
    status
        .get_details_bad_request()
        .map(|b| b.field_violations.into_iter().map(|v| v.field).collect())
        .unwrap_or_default()
}

/// Uploads `bytes` as one file of `kind` in 1 MiB chunks and finishes it.
pub async fn upload(
    channel: &Channel,
    user: Uuid,
    kind: gts_proto::v1::AssetKind,
    filename: &str,
    bytes: &[u8],
) -> Result<gts_proto::v1::Asset, tonic::Status> {
    use gts_proto::v1::{
        BeginUploadRequest, FinishUploadRequest, PutChunkRequest,
        upload_service_client::UploadServiceClient,
    };
    let mut client = UploadServiceClient::new(channel.clone());
    let upload = client
        .begin_upload(as_user(
            user,
            BeginUploadRequest {
                kind: kind as i32,
                filename: filename.into(),
                size_bytes: bytes.len() as u64,
                sha256: sha256_hex(bytes),
            },
        ))
        .await?
        .into_inner()
        .upload
        .unwrap();
    for (i, chunk) in bytes.chunks(1024 * 1024).enumerate() {
        client
            .put_chunk(as_user(
                user,
                PutChunkRequest {
                    upload_id: upload.upload_id.clone(),
                    offset: (i * 1024 * 1024) as u64,
                    data: chunk.to_vec(),
                },
            ))
            .await?;
    }
    Ok(client
        .finish_upload(as_user(
            user,
            FinishUploadRequest {
                upload_id: upload.upload_id,
            },
        ))
        .await?
        .into_inner()
        .asset
        .unwrap())
}

/// Lowercase hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    gts_storage::sha256_hex(bytes)
}

/// Hands out one fixed TONE3000 token and records whom it was asked for.
pub struct FixedToken {
    pub token: String,
    pub asked_for: std::sync::Mutex<Vec<Uuid>>,
}

impl FixedToken {
    pub fn new(token: impl Into<String>) -> std::sync::Arc<Self> {
        std::sync::Arc::new(Self {
            token: token.into(),
            asked_for: std::sync::Mutex::new(vec![]),
        })
    }
}

#[tonic::async_trait]
impl gts_shootout::Tone3000TokenSource for FixedToken {
    async fn access_token(&self, user: Uuid) -> Result<String, tonic::Status> {
        self.asked_for.lock().unwrap().push(user);
        Ok(self.token.clone())
    }
}
