//! All four services in-process on ephemeral ports, sharing one fresh database.

use std::{net::SocketAddr, time::Duration};

use gts_common::{
    Env,
    infra::StartError,
    shutdown::{Shutdown, ShutdownTrigger},
};
use tokio::{net::TcpListener, task::JoinHandle};
use tonic::transport::Channel;
use tonic_health::pb::health_check_response::ServingStatus;

use crate::{clients, db::TestDatabase, health::wait_for_status};

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

/// The whole stack.
pub struct Stack {
    pub db: TestDatabase,
    pub redis_prefix: String,
    pub auth: ServiceHandle,
    pub shootout: ServiceHandle,
    pub worker: ServiceHandle,
    pub gateway: ServiceHandle,
}

impl Stack {
    /// Starts every service against a fresh database and waits until all are SERVING.
    pub async fn start() -> Self {
        let db = TestDatabase::create().await;
        let redis_prefix = crate::unique_redis_prefix();
        let base = service_env(db.url(), &redis_prefix);
        let env = |extra: &[(&str, String)]| {
            let mut pairs = base.clone();
            pairs.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
            Env::from_pairs(pairs)
        };

        let auth_config = gts_auth::Config::from_env(&env(&[])).expect("auth config");
        let auth = ServiceHandle::spawn(ephemeral_listener().await, |l, s| {
            gts_auth::serve(auth_config, l, s)
        })
        .await;
        let shootout_config = gts_shootout::Config::from_env(&env(&[])).expect("shootout config");
        let shootout = ServiceHandle::spawn(ephemeral_listener().await, |l, s| {
            gts_shootout::serve(shootout_config, l, s)
        })
        .await;
        let worker_config = gts_worker::Config::from_env(&env(&[])).expect("worker config");
        let worker = ServiceHandle::spawn(ephemeral_listener().await, |l, s| {
            gts_worker::serve(worker_config, l, s)
        })
        .await;
        let gateway_config = gts_gateway::Config::from_env(&env(&[
            ("GTS_AUTH_URL", format!("http://{}", auth.addr)),
            ("GTS_SHOOTOUT_URL", format!("http://{}", shootout.addr)),
            ("GTS_WORKER_URL", format!("http://{}", worker.addr)),
            ("GTS_CORS_ORIGINS", "http://console.test".to_owned()),
        ]))
        .expect("gateway config");
        let gateway = ServiceHandle::spawn(ephemeral_listener().await, |l, s| {
            gts_gateway::serve(gateway_config, l, s)
        })
        .await;

        let stack = Self {
            db,
            redis_prefix,
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

    /// The gateway's origin for grpc-web clients.
    pub fn gateway_origin(&self) -> http::Uri {
        clients::origin(self.gateway.addr)
    }

    /// Stops every service gracefully (each must return cleanly) and drops the database.
    pub async fn stop(self) {
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
        self.db.drop_now().await;
    }
}
