//! Versions recorded in the manifest.
//!
//! Contract: [`CRATE_VERSIONS`] lists the resolved versions of the crates that shape the
//! audio; a test checks them against the workspace's Cargo.lock, so they cannot drift.

/// The engine's own version.
pub const ENGINE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// (crate, version) of every dependency that affects rendered samples.
pub const CRATE_VERSIONS: &[(&str, &str)] = &[
    ("nam-rs", "0.4.0"),
    ("symphonia", "0.6.1"),
    ("rubato", "5.1.0"),
    ("realfft", "3.5.1"),
    ("ebur128", "0.1.11"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_versions_match_cargo_lock() {
        let lock_path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.lock");
        let lock = std::fs::read_to_string(lock_path).unwrap();
        for (name, version) in CRATE_VERSIONS {
            let entry = format!("name = \"{name}\"\nversion = \"{version}\"");
            assert!(lock.contains(&entry), "{name} {version} not in Cargo.lock");
        }
    }
}
