//! In-process harness for the shootout service's API tests: the real routes on an
//! ephemeral port, with the test kit's database (dropped with the harness, also on a
//! panic), Redis prefix and identity layer (`x-test-user` / `x-test-service` headers in
//! place of verified tokens).

#![allow(dead_code)]

pub mod audio;

use std::{net::SocketAddr, path::PathBuf};

use gts_common::Env;
use gts_proto::v1::{
    Block, CabinetIrBlock, CreateShootoutRequest, DiTrackRef, ModelSource, NamModelBlock, Shootout,
    SignalChain, block::Kind, model_source::Source, shootout_service_client::ShootoutServiceClient,
};
use gts_testkit::TestDatabase;
pub use gts_testkit::identity::as_user;
use tokio::{net::TcpListener, task::JoinHandle};
use tokio_stream::wrappers::TcpListenerStream;
use tonic::{Request, transport::Channel};
use uuid::Uuid;

/// The running service.
pub struct TestService {
    pub addr: SocketAddr,
    pub channel: Channel,
    pub db: sqlx::PgPool,
    pub state: gts_shootout::AppState,
    pub storage_dir: tempfile::TempDir,
    database: TestDatabase,
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
    let database = TestDatabase::create().await;
    let storage_dir = tempfile::tempdir().unwrap();
    let mut pairs: Vec<(String, String)> = vec![
        ("GTS_DATABASE_URL".into(), database.url().to_owned()),
        ("GTS_REDIS_URL".into(), gts_testkit::redis_url()),
        ("GTS_REDIS_PREFIX".into(), gts_testkit::redis_prefix()),
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
            .layer(gts_testkit::identity::layer())
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
        database,
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
        self.database.drop_now().await;
    }
}

/// A request made by the worker (a service credential).
pub fn as_service<T>(message: T) -> Request<T> {
    gts_testkit::identity::as_service("gts-worker", message)
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

/// An asset row of `kind` straight in the database (no upload, no blob): enough for tests
/// of shootouts and specs, which only read the row. Returns its id.
pub async fn insert_asset(db: &sqlx::PgPool, owner: Uuid, kind: &str, filename: &str) -> String {
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO shootout.assets (id, owner_id, kind, filename, size_bytes, sha256, object_key, facts) \
         VALUES ($1, $2, $3, $4, 10, 'x', 'k', '\\x')",
    )
    .bind(id)
    .bind(owner)
    .bind(kind)
    .bind(filename)
    .execute(db)
    .await
    .unwrap();
    id.to_string()
}

/// A block source naming an uploaded asset.
pub fn uploaded(asset_id: &str) -> Option<ModelSource> {
    Some(ModelSource {
        source: Some(Source::AssetId(asset_id.to_owned())),
    })
}

/// A shootout of `chains` chains of uploaded files only (no TONE3000 call to resolve it).
pub async fn create_uploaded_shootout(svc: &TestService, user: Uuid, chains: usize) -> Shootout {
    let di = insert_asset(&svc.db, user, "di_track", "riff.wav").await;
    let nam = insert_asset(&svc.db, user, "nam_model", "plexi.nam").await;
    let ir = insert_asset(&svc.db, user, "impulse_response", "v30.wav").await;
    let shootout = Shootout {
        name: "Race".into(),
        di_tracks: vec![DiTrackRef {
            asset_id: di,
            label: "Riff".into(),
        }],
        chains: (0..chains)
            .map(|i| SignalChain {
                display_name: format!("Chain {i}"),
                blocks: vec![
                    Block {
                        id: String::new(),
                        kind: Some(Kind::NamModel(NamModelBlock {
                            source: uploaded(&nam),
                            input_gain_db: 0.0,
                        })),
                    },
                    Block {
                        id: String::new(),
                        kind: Some(Kind::CabinetIr(CabinetIrBlock {
                            source: uploaded(&ir),
                            mix: None,
                        })),
                    },
                ],
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    };
    ShootoutServiceClient::new(svc.channel.clone())
        .create_shootout(as_user(
            user,
            CreateShootoutRequest {
                shootout: Some(shootout),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .shootout
        .unwrap()
}
