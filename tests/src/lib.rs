//! The end-to-end harness: the whole GTS stack on ephemeral ports against the real
//! PostgreSQL (a fresh database per test) and Redis (a key prefix per test), plus the fake
//! TONE3000, with a grpc-web client that talks to the gateway exactly as a browser does
//! (HTTP/1.1, `application/grpc-web+proto`) and plain gRPC channels to each service.
//!
//! Settings: `GTS_TEST_DATABASE_URL` (an admin connection able to CREATE DATABASE, default
//! `postgres://gts:gts@127.0.0.1:5432/gts`) and `GTS_TEST_REDIS_URL` (default
//! `redis://127.0.0.1:6379`). `deploy/local/test.sh` prepares both.

pub mod binaries;
pub mod clients;
pub mod db;
pub mod health;
pub mod pg_cluster;
pub mod redis_server;
pub mod s3_server;
pub mod shootouts;
pub mod stack;
pub mod telemetry;

pub use stack::{SignedIn, Stack, with_bearer};

/// Redis used by tests.
pub fn redis_url() -> String {
    std::env::var("GTS_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// A Redis key prefix unique to one test.
pub fn unique_redis_prefix() -> String {
    gts_testkit::redis_prefix()
}
