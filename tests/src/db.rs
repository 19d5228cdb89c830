//! The test kit's database (one per test, dropped when the value is, also on a panic).

pub use gts_testkit::{TestDatabase, admin_url};
