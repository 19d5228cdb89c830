//! PostgreSQL: one pool per service, each service owning one schema.
//!
//! Contract: a service's tables live in its own schema (`auth`, `shootout`, `worker`) and
//! its migration history in `<schema>._sqlx_migrations`, so services share a database
//! without sharing a migration table and each could move to its own database by changing
//! one URL. Migrations are embedded at compile time and applied at start-up under sqlx's
//! advisory lock, so replicas starting together apply them once.

use std::time::Duration;

use sqlx::{
    migrate::Migrator,
    postgres::{PgConnectOptions, PgPool, PgPoolOptions},
};

/// Settings for a service's pool.
#[derive(Debug, Clone)]
pub struct DbSettings {
    /// `postgres://` URL of the database.
    pub url: String,
    /// The schema the service owns; also its `search_path`.
    pub schema: &'static str,
    /// Upper bound on pooled connections.
    pub max_connections: u32,
    /// How long start-up waits for PostgreSQL before giving up.
    pub connect_timeout: Duration,
}

/// Opens the pool, waiting up to `connect_timeout` for PostgreSQL.
pub async fn connect(settings: &DbSettings) -> Result<PgPool, sqlx::Error> {
    let options: PgConnectOptions = settings.url.parse()?;
    let options = options
        .options([("search_path", settings.schema)])
        .application_name(settings.schema);
    let pool = PgPoolOptions::new()
        .max_connections(settings.max_connections)
        .acquire_timeout(Duration::from_secs(5))
        .connect_lazy_with(options);
    wait_until_reachable(&pool, settings.connect_timeout).await?;
    Ok(pool)
}

/// Applies the service's migrations to its own schema.
pub async fn migrate(
    pool: &PgPool,
    schema: &'static str,
    migrator: &Migrator,
) -> Result<(), sqlx::migrate::MigrateError> {
    let mut migrator = Migrator::with_migrations(migrator.iter().cloned().collect());
    migrator.create_schema(schema);
    migrator.dangerous_set_table_name(format!("{schema}._sqlx_migrations"));
    migrator.run(pool).await
}

async fn wait_until_reachable(pool: &PgPool, timeout: Duration) -> Result<(), sqlx::Error> {
    let deadline = tokio::time::Instant::now() + timeout;
    let mut backoff = Duration::from_millis(100);
    loop {
        match sqlx::query("SELECT 1").execute(pool).await {
            Ok(_) => return Ok(()),
            Err(error) if tokio::time::Instant::now() + backoff < deadline => {
                tracing::warn!(%error, "PostgreSQL not reachable yet; retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(2));
            }
            Err(error) => return Err(error),
        }
    }
}
