//! The service binaries as child processes, for what only a real process shows: exit
//! codes, signals, configuration errors.
//!
//! The binaries are the ones cargo built next to this test (`cargo build --workspace
//! --bins`, which `deploy/local/test.sh` runs before the tests).

use std::path::PathBuf;

/// Path of a workspace binary in the same target directory as the running test.
pub fn binary_path(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test knows its own path");
    // target/<profile>/deps/<test> -> target/<profile>/<name>
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("test binary lives in target/<profile>/deps");
    let path = profile_dir.join(name);
    assert!(
        path.is_file(),
        "{} is not built; run `cargo build --workspace --bins` first (deploy/local/test.sh does)",
        path.display()
    );
    path
}

/// A command for a binary with an empty environment (PATH only), so nothing from the
/// developer's shell leaks into the test.
pub fn command(name: &str) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(binary_path(name));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .kill_on_drop(true);
    command
}

/// Sends SIGTERM to a process (through `kill(1)`, which needs no unsafe code).
pub async fn send_sigterm(pid: u32) {
    let status = tokio::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .await
        .expect("run kill");
    assert!(status.success(), "kill -TERM {pid} failed");
}
