//! What every test suite shares: a PostgreSQL database per test that drops itself, a Redis
//! key prefix per test, the identity layer that stands in for token verification in a
//! service's own tests, and the audio/video helpers of the render suites. A dev-dependency
//! only.
//!
//! Settings: `GTS_TEST_DATABASE_URL` (an admin connection able to CREATE DATABASE, default
//! the local `gts` role) and `GTS_TEST_REDIS_URL` (default `redis://127.0.0.1:6379`).

pub mod db;
pub mod identity;
pub mod media;

pub use db::TestDatabase;

/// The admin URL tests create databases with.
pub fn admin_url() -> String {
    std::env::var("GTS_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://gts:gts@127.0.0.1:5432/gts".to_owned())
}

/// The Redis tests use.
pub fn redis_url() -> String {
    std::env::var("GTS_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// A Redis key prefix of one test's own (`gts-test:<random>:`).
pub fn redis_prefix() -> String {
    format!("gts-test:{}:", uuid::Uuid::new_v4().simple())
}
