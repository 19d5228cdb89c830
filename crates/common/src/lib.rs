//! Runtime shared by every GTS binary: configuration, telemetry, the gRPC server
//! bootstrap (health that follows real dependencies, reflection, graceful shutdown),
//! PostgreSQL and Redis connections, and the database-error classification that each
//! service's own error type maps to `tonic::Status`.

pub mod access;
pub mod auth;
pub mod binary;
/// Configuration from `GTS_*` variables (its own crate, so libraries need not link the rest).
pub use gts_config as config;
pub mod db;
pub mod db_error;
pub mod echo;
pub mod health;
pub mod identity;
pub mod infra;
pub mod log_bridge;
pub mod metrics;
pub mod ops;
pub mod paging;
pub mod rate_limit;
pub mod redis_conn;
pub mod server;
pub mod settings;
pub mod shutdown;
pub mod signed_url;
pub mod stored;
pub mod telemetry;
pub mod time;
pub mod tone3000_token;
pub mod trace_context;

pub use config::{ConfigError, Env};
