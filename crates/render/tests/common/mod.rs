//! Shared helpers for the engine's integration tests (the rest are the test kit's).
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
#![allow(dead_code, unused_imports)]

use std::path::Path;

pub use gts_testkit::media::{fixtures, four_chain_spec, write_wav};

pub fn read_json_f32(path: &Path) -> Vec<f32> {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}
