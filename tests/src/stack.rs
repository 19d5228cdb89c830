//! All four services in-process on ephemeral ports, sharing one fresh database.

use std::{collections::HashMap, net::SocketAddr, time::Duration};

use fake_tone3000::{FakeConfig, FakeHandle, FakeTone3000};
use gts_common::{
    Env,
    auth::{AccessClaims, JwtSigner, ServiceCredential, ServiceSecret, SigningKey, testing},
    infra::StartError,
    shutdown::{Shutdown, ShutdownTrigger},
};
use gts_proto::v1::{
    CompleteLoginRequest, Session, StartLoginRequest, StartLoginResponse, User,
    auth_service_client::AuthServiceClient,
};
use tokio::{net::TcpListener, task::JoinHandle};
use tonic::transport::Channel;
use tonic_health::pb::health_check_response::ServingStatus;

use crate::{
    clients::{self, GrpcWebChannel},
    db::TestDatabase,
    health::wait_for_status,
};

/// A signed-in user: their session's tokens and their record.
pub struct SignedIn {
    pub session: Session,
    pub user: User,
}

impl SignedIn {
    /// The access JWT.
    pub fn access_token(&self) -> &str {
        &self.session.access_token
    }

    /// The refresh token.
    pub fn refresh_token(&self) -> &str {
        &self.session.refresh_token
    }
}

/// `message` with `authorization: Bearer <token>`.
pub fn with_bearer<T>(message: T, token: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {token}")
            .parse()
            .expect("a token fits a header"),
    );
    request
}

/// GETs an authorize URL without following redirects and returns the redirect's query.
pub async fn follow_authorize(url: &str) -> HashMap<String, String> {
    use hyper_util::{client::legacy::Client, rt::TokioExecutor};
    let client = Client::builder(TokioExecutor::new()).build_http::<tonic::body::Body>();
    let request = http::Request::get(url)
        .body(tonic::body::Body::default())
        .expect("a GET request");
    let response = client.request(request).await.expect("the fake answers");
    assert_eq!(
        response.status(),
        http::StatusCode::FOUND,
        "authorize must redirect"
    );
    let location = response
        .headers()
        .get(http::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .expect("a Location header");
    let location = url::Url::parse(location).expect("an absolute redirect");
    location.query_pairs().into_owned().collect()
}

/// One running service.
pub struct ServiceHandle {
    /// Where it listens.
    pub addr: SocketAddr,
    trigger: ShutdownTrigger,
    task: JoinHandle<Result<(), StartError>>,
}

impl ServiceHandle {
    /// Starts `serve` on a fresh ephemeral listener.
    pub async fn spawn<F, Fut>(listener: TcpListener, serve: F) -> Self
    where
        F: FnOnce(TcpListener, Shutdown) -> Fut,
        Fut: std::future::Future<Output = Result<(), StartError>> + Send + 'static,
    {
        let addr = listener.local_addr().expect("listener has an address");
        let (trigger, shutdown) = Shutdown::new();
        let task = tokio::spawn(serve(listener, shutdown));
        Self {
            addr,
            trigger,
            task,
        }
    }

    /// Triggers a graceful shutdown and waits for the server to return.
    pub async fn stop(self) -> Result<(), StartError> {
        self.trigger.trigger();
        self.task.await.expect("service task did not panic")
    }

    /// A plain gRPC channel to this service.
    pub async fn channel(&self) -> Channel {
        clients::grpc(self.addr).await
    }
}

/// Binds 127.0.0.1:0.
pub async fn ephemeral_listener() -> TcpListener {
    TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind an ephemeral port")
}

/// The environment every backend service gets in tests.
pub fn service_env(database_url: &str, redis_prefix: &str) -> Vec<(String, String)> {
    [
        ("GTS_DATABASE_URL", database_url.to_owned()),
        ("GTS_REDIS_URL", crate::redis_url()),
        ("GTS_REDIS_PREFIX", redis_prefix.to_owned()),
        ("GTS_HEALTH_INTERVAL_MS", "200".to_owned()),
        ("GTS_SHUTDOWN_GRACE_MS", "3000".to_owned()),
        ("GTS_STARTUP_TIMEOUT_MS", "10000".to_owned()),
        ("GTS_LOG", "warn".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// The keys and secrets a stack runs with, generated per stack as a deployment would
/// provision them.
pub struct StackSecrets {
    /// The key auth signs access JWTs with (its public half goes to every verifier).
    pub signing_key: SigningKey,
    /// The shared secret behind service credentials.
    pub service_token: String,
    /// `GTS_TOKEN_ENCRYPTION_KEYS` of auth.
    pub encryption_keys: String,
    /// `GTS_ARTIFACT_URL_KEY` shared by the worker (signs) and the gateway (verifies).
    pub artifact_url_key: String,
}

impl StackSecrets {
    /// Fresh random secrets.
    pub fn generate() -> Self {
        Self {
            signing_key: SigningKey::generate("test-k1").expect("generate an Ed25519 key"),
            service_token: format!(
                "{}{}",
                uuid::Uuid::new_v4().simple(),
                uuid::Uuid::new_v4().simple()
            ),
            encryption_keys: gts_auth::TokenCipher::generate_config_entry("test-t1")
                .expect("generate an AES key"),
            artifact_url_key: format!(
                "{}{}",
                uuid::Uuid::new_v4().simple(),
                uuid::Uuid::new_v4().simple()
            ),
        }
    }

    /// What every verifying process gets.
    pub fn verifier_env(&self) -> Vec<(String, String)> {
        vec![
            (
                "GTS_JWT_PUBLIC_KEYS".to_owned(),
                self.signing_key.public_key().config_form(),
            ),
            ("GTS_SERVICE_TOKEN".to_owned(), self.service_token.clone()),
        ]
    }

    /// What only auth gets.
    pub fn auth_env(&self) -> Vec<(String, String)> {
        vec![
            (
                "GTS_JWT_SIGNING_KEY".to_owned(),
                self.signing_key.pkcs8_pem(),
            ),
            (
                "GTS_JWT_SIGNING_KEY_ID".to_owned(),
                self.signing_key.key_id().to_owned(),
            ),
            (
                "GTS_TOKEN_ENCRYPTION_KEYS".to_owned(),
                self.encryption_keys.clone(),
            ),
        ]
    }

    /// Service credentials as `service_name`.
    pub fn service_credential(&self, service_name: &str) -> ServiceCredential {
        let secret = ServiceSecret::new(&self.service_token).expect("a long enough secret");
        ServiceCredential::new(service_name, &secret)
    }
}

/// The built web console (`web/dist` of the workspace; `npm run build` in `web/` makes it).
pub fn console_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../web/dist")
}

/// The loopback redirect URI auth is configured with (the fake accepts loopback URIs).
pub const REDIRECT_URI: &str = "http://127.0.0.1:53682/callback";
/// Upper bound on one TONE3000 call in the stack (timeout tests add more latency).
pub const TONE3000_TIMEOUT_MS: u64 = 1500;

/// The whole stack.
pub struct Stack {
    pub db: TestDatabase,
    pub redis_prefix: String,
    /// The fake TONE3000 auth talks to; its `state()` has the knobs and counters.
    pub tone3000: FakeHandle,
    pub secrets: StackSecrets,
    /// Blob store and upload staging shared by shootout and worker, removed on drop.
    pub storage: tempfile::TempDir,
    pub auth: ServiceHandle,
    pub shootout: ServiceHandle,
    pub worker: ServiceHandle,
    pub gateway: ServiceHandle,
    /// What every backend's environment shares (database, Redis prefix, secrets, storage,
    /// TONE3000, overrides), plus the service URLs: extra worker processes start with it.
    pub backend_env: Vec<(String, String)>,
}

impl Stack {
    /// Starts every service against a fresh database and waits until all are SERVING.
    pub async fn start() -> Self {
        Self::start_with(&[]).await
    }

    /// Like [`Stack::start`], with `overrides` added to every service's environment.
    pub async fn start_with(overrides: &[(&str, String)]) -> Self {
        let db = TestDatabase::create().await;
        let redis_prefix = crate::unique_redis_prefix();
        let tone3000 = FakeTone3000::start(FakeConfig::for_workspace_tests())
            .await
            .expect("start the fake TONE3000");
        let secrets = StackSecrets::generate();
        let storage = tempfile::Builder::new()
            .prefix("gts-stack-")
            .tempdir()
            .expect("a storage directory");
        // Bound first: the worker signs artifact URLs with the gateway's address.
        let gateway_listener = ephemeral_listener().await;
        let gateway_addr = gateway_listener
            .local_addr()
            .expect("the gateway's address");
        let mut base = service_env(db.url(), &redis_prefix);
        base.extend(secrets.verifier_env());
        base.extend([
            (
                "GTS_ARTIFACT_URL_KEY".to_owned(),
                secrets.artifact_url_key.clone(),
            ),
            (
                "GTS_ARTIFACT_URL_BASE".to_owned(),
                format!("http://{gateway_addr}"),
            ),
            (
                "GTS_WORKER_SCRATCH_DIR".to_owned(),
                storage.path().join("scratch").display().to_string(),
            ),
            (
                "GTS_TONE3000_CLIENT_ID".to_owned(),
                tone3000.state().client_id().to_owned(),
            ),
            (
                "GTS_STORAGE_DIR".to_owned(),
                storage.path().join("blobs").display().to_string(),
            ),
            (
                "GTS_UPLOAD_STAGING_DIR".to_owned(),
                storage.path().join("uploads").display().to_string(),
            ),
            (
                "GTS_TONE3000_URL".to_owned(),
                tone3000.base_url().to_owned(),
            ),
        ]);
        let env = |extra: &[(&str, String)]| {
            let mut pairs = base.clone();
            pairs.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
            pairs.extend(overrides.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
            Env::from_pairs(pairs)
        };

        let mut auth_extra: Vec<(&str, String)> = vec![
            ("GTS_TONE3000_URL", tone3000.base_url().to_owned()),
            (
                "GTS_TONE3000_CLIENT_ID",
                tone3000.state().client_id().to_owned(),
            ),
            ("GTS_TONE3000_REDIRECT_URI", REDIRECT_URI.to_owned()),
            ("GTS_TONE3000_TIMEOUT_MS", TONE3000_TIMEOUT_MS.to_string()),
        ];
        let auth_secrets = secrets.auth_env();
        auth_extra.extend(auth_secrets.iter().map(|(k, v)| (k.as_str(), v.clone())));
        let auth_config = gts_auth::Config::from_env(&env(&auth_extra)).expect("auth config");
        let auth = ServiceHandle::spawn(ephemeral_listener().await, |l, s| {
            gts_auth::serve(auth_config, l, s)
        })
        .await;
        let auth_url = ("GTS_AUTH_URL", format!("http://{}", auth.addr));
        let shootout_config = gts_shootout::Config::from_env(&env(std::slice::from_ref(&auth_url)))
            .expect("shootout config");
        let shootout = ServiceHandle::spawn(ephemeral_listener().await, |l, s| {
            gts_shootout::serve(shootout_config, l, s)
        })
        .await;
        let worker_config = gts_worker::Config::from_env(&env(&[
            auth_url.clone(),
            ("GTS_SHOOTOUT_URL", format!("http://{}", shootout.addr)),
        ]))
        .expect("worker config");
        let worker = ServiceHandle::spawn(ephemeral_listener().await, |l, s| {
            gts_worker::serve(worker_config, l, s)
        })
        .await;
        let gateway_config = gts_gateway::Config::from_env(&env(&[
            auth_url,
            ("GTS_SHOOTOUT_URL", format!("http://{}", shootout.addr)),
            ("GTS_WORKER_URL", format!("http://{}", worker.addr)),
            ("GTS_CORS_ORIGINS", "http://console.test".to_owned()),
            (
                "GTS_GATEWAY_CONSOLE_DIR",
                console_dir().display().to_string(),
            ),
        ]))
        .expect("gateway config");
        let gateway = ServiceHandle::spawn(gateway_listener, |l, s| {
            gts_gateway::serve(gateway_config, l, s)
        })
        .await;

        let mut backend_env = base.clone();
        backend_env.extend(overrides.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
        backend_env.extend([
            ("GTS_AUTH_URL".to_owned(), format!("http://{}", auth.addr)),
            (
                "GTS_SHOOTOUT_URL".to_owned(),
                format!("http://{}", shootout.addr),
            ),
        ]);
        let stack = Self {
            backend_env,
            db,
            redis_prefix,
            tone3000,
            secrets,
            storage,
            auth,
            shootout,
            worker,
            gateway,
        };
        for service in [&stack.auth, &stack.shootout, &stack.worker, &stack.gateway] {
            wait_for_status(
                service.channel().await,
                "",
                ServingStatus::Serving,
                Duration::from_secs(30),
            )
            .await;
        }
        stack
    }

    /// An `AuthService` client speaking grpc-web to the gateway, as the console does.
    pub fn auth_web(&self) -> AuthServiceClient<GrpcWebChannel> {
        AuthServiceClient::with_origin(clients::grpc_web(), self.gateway_origin())
    }

    /// StartLogin through the gateway.
    pub async fn start_login(&self) -> StartLoginResponse {
        self.auth_web()
            .start_login(StartLoginRequest::default())
            .await
            .expect("StartLogin")
            .into_inner()
    }

    /// Opens `authorize_url` as the browser would (the fake approves at once) and returns
    /// the query of the redirect back to GTS (`code`, `state`, or `error`…).
    pub async fn authorize(&self, authorize_url: &str) -> HashMap<String, String> {
        follow_authorize(authorize_url).await
    }

    /// The whole sign-in of the fake's test user, through the gateway over grpc-web.
    pub async fn login(&self) -> SignedIn {
        let started = self.start_login().await;
        let redirect = self.authorize(&started.authorize_url).await;
        let response = self
            .auth_web()
            .complete_login(CompleteLoginRequest {
                code: redirect.get("code").cloned().expect("a code"),
                state: redirect.get("state").cloned().expect("the state"),
            })
            .await
            .expect("CompleteLogin")
            .into_inner();
        SignedIn {
            session: response.session.expect("a session"),
            user: response.user.expect("a user"),
        }
    }

    /// Service credentials as `service_name`, for calling internal RPCs directly.
    pub fn service_credential(&self, service_name: &str) -> ServiceCredential {
        self.secrets.service_credential(service_name)
    }

    /// A valid access JWT of a new GTS user (no TONE3000 sign-in behind it), for tests
    /// that need a second user: the fake TONE3000 signs in only its one test user.
    pub fn token_for_new_user(&self) -> String {
        self.token_for(uuid::Uuid::new_v4())
    }

    /// A valid access JWT of GTS user `user` (no TONE3000 sign-in behind it).
    pub fn token_for(&self, user: uuid::Uuid) -> String {
        let now = testing::unix_now();
        JwtSigner::new(self.secrets.signing_key.clone())
            .sign(&AccessClaims {
                sub: user.to_string(),
                sid: uuid::Uuid::new_v4().to_string(),
                iat: now,
                nbf: now,
                exp: now + 600,
                iss: "gts-auth".to_owned(),
                aud: "gts".to_owned(),
            })
            .expect("sign an access token")
    }

    /// The object store the stack's services share (uploads, cached models, artifacts).
    pub fn blob_store(&self) -> gts_storage::BlobStore {
        gts_storage::BlobStore::open(&gts_storage::StorageSettings::Local {
            root: self.storage.path().join("blobs"),
        })
        .expect("open the stack's object store")
    }

    /// A pool on the stack's database, for assertions on stored state.
    pub async fn db_pool(&self) -> sqlx::PgPool {
        sqlx::PgPool::connect(self.db.url())
            .await
            .expect("connect to the stack's database")
    }

    /// The gateway's origin for grpc-web clients.
    pub fn gateway_origin(&self) -> http::Uri {
        clients::origin(self.gateway.addr)
    }

    /// Stops every service gracefully (each must return cleanly) and drops the database.
    pub async fn stop(self) {
        let tone3000 = self.tone3000;
        for (name, service) in [
            ("gateway", self.gateway),
            ("worker", self.worker),
            ("shootout", self.shootout),
            ("auth", self.auth),
        ] {
            if let Err(error) = service.stop().await {
                panic!("{name} did not stop cleanly: {error}");
            }
        }
        let _ = tone3000.shutdown().await;
        self.db.drop_now().await;
    }
}
