//! Start-up of a backend service's infrastructure: its PostgreSQL pool (migrated) and its
//! Redis connection, and the server options derived from its settings.

use sqlx::{PgPool, migrate::Migrator};

use crate::{
    db::{self, DbSettings},
    health::Dependency,
    redis_conn::RedisHandle,
    server::ServerOptions,
    settings::ServiceSettings,
};

/// Why a service could not start. Printed to the operator, never sent to a client.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot reach PostgreSQL: {0}")]
    Database(#[from] sqlx::Error),
    #[error("cannot apply the migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("cannot reach Redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Serve(#[from] crate::server::ServeError),
    #[error("{0}")]
    Other(String),
}

/// A service's connections.
#[derive(Clone)]
pub struct Infra {
    /// The service's pool; `search_path` is its own schema.
    pub db: PgPool,
    /// The process's Redis connection and key prefix.
    pub redis: RedisHandle,
}

impl Infra {
    /// Connects to PostgreSQL (applying the schema's migrations) and Redis.
    pub async fn connect(
        settings: &ServiceSettings,
        schema: &'static str,
        migrator: &Migrator,
    ) -> Result<Self, StartError> {
        let db_settings = DbSettings {
            url: settings.database_url.clone(),
            schema,
            max_connections: settings.database_max_connections,
            connect_timeout: settings.startup_timeout,
        };
        let db = db::connect(&db_settings).await?;
        db::migrate(&db, schema, migrator).await?;
        let redis = RedisHandle::connect(
            &settings.redis_url,
            &settings.redis_prefix,
            settings.startup_timeout,
        )
        .await?;
        Ok(Self { db, redis })
    }

    /// The dependencies health follows.
    pub fn dependencies(&self) -> Vec<Dependency> {
        vec![
            Dependency::Postgres(self.db.clone()),
            Dependency::Redis(self.redis.conn.clone()),
        ]
    }

    /// Server options for a service hosting `service_names`.
    pub fn server_options(
        &self,
        settings: &ServiceSettings,
        served_by: &'static str,
        service_names: &[&str],
    ) -> ServerOptions {
        ServerOptions {
            service_names: service_names.iter().map(|s| (*s).to_owned()).collect(),
            dependencies: self.dependencies(),
            health_interval: settings.health_interval,
            shutdown_grace: settings.shutdown_grace,
            served_by: http::HeaderValue::from_static(served_by),
        }
    }
}
