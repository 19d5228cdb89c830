//! `grpc.health.v1` statuses that follow the service's real dependencies.
//!
//! Contract: a monitor task probes every dependency (PostgreSQL `SELECT 1`, Redis `PING`)
//! each interval, each probe bounded by a timeout. While any probe fails, the overall
//! status ("") and every hosted service report NOT_SERVING; when all succeed again they
//! report SERVING. Status changes are logged once, not on every probe.

use std::time::Duration;

use redis::aio::ConnectionManager;
use sqlx::PgPool;
use tonic_health::{ServingStatus, server::HealthReporter};

/// Something the service cannot work without.
#[derive(Clone)]
pub enum Dependency {
    /// The service's PostgreSQL pool.
    Postgres(PgPool),
    /// The service's Redis connection.
    Redis(ConnectionManager),
}

impl Dependency {
    fn name(&self) -> &'static str {
        match self {
            Dependency::Postgres(_) => "postgresql",
            Dependency::Redis(_) => "redis",
        }
    }

    async fn probe(&self, timeout: Duration) -> bool {
        let probe = async {
            match self {
                Dependency::Postgres(pool) => sqlx::query("SELECT 1").execute(pool).await.is_ok(),
                Dependency::Redis(conn) => {
                    let mut conn = conn.clone();
                    redis::cmd("PING")
                        .query_async::<String>(&mut conn)
                        .await
                        .is_ok()
                }
            }
        };
        tokio::time::timeout(timeout, probe).await.unwrap_or(false)
    }
}

/// Probes dependencies and publishes the result to the health service.
pub struct HealthMonitor {
    reporter: HealthReporter,
    services: Vec<String>,
    dependencies: Vec<Dependency>,
    interval: Duration,
}

impl HealthMonitor {
    /// A monitor for the given hosted service names (fully qualified).
    pub fn new(
        reporter: HealthReporter,
        services: Vec<String>,
        dependencies: Vec<Dependency>,
        interval: Duration,
    ) -> Self {
        Self {
            reporter,
            services,
            dependencies,
            interval,
        }
    }

    /// Publishes `status` for the whole server and every hosted service.
    pub async fn publish(&self, status: ServingStatus) {
        self.reporter.set_service_status("", status).await;
        for service in &self.services {
            self.reporter.set_service_status(service, status).await;
        }
    }

    /// Probes once; returns whether every dependency answered.
    async fn probe_all(&self) -> bool {
        let mut healthy = true;
        for dependency in &self.dependencies {
            if !dependency
                .probe(self.interval.max(Duration::from_secs(1)))
                .await
            {
                tracing::warn!(dependency = dependency.name(), "dependency probe failed");
                healthy = false;
            }
        }
        healthy
    }

    /// Runs until `stop` resolves, then reports NOT_SERVING so balancers drain.
    pub async fn run(self, stop: impl std::future::Future<Output = ()>) {
        tokio::pin!(stop);
        let mut last: Option<bool> = None;
        loop {
            let healthy = self.probe_all().await;
            if last != Some(healthy) {
                let status = if healthy {
                    ServingStatus::Serving
                } else {
                    ServingStatus::NotServing
                };
                tracing::info!(?status, "health status changed");
                self.publish(status).await;
                last = Some(healthy);
            }
            tokio::select! {
                () = &mut stop => break,
                () = tokio::time::sleep(self.interval) => {}
            }
        }
        self.publish(ServingStatus::NotServing).await;
    }
}
