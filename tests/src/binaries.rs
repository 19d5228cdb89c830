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

/// Sends SIGTERM to `child` and asserts that it drains and exits 0 within 10 s.
pub async fn stop_cleanly(mut child: tokio::process::Child) {
    let pid = child.id().expect("the process is still running");
    send_sigterm(pid).await;
    let status = tokio::time::timeout(std::time::Duration::from_secs(10), child.wait())
        .await
        .expect("exits within 10 s of SIGTERM")
        .expect("wait");
    assert_eq!(status.code(), Some(0), "a clean exit after SIGTERM");
}

/// A running service binary whose JSON log is being read.
pub struct RunningBinary {
    /// The process.
    pub child: tokio::process::Child,
    /// Its stdout, line by line.
    pub log: tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStdout>>,
}

impl RunningBinary {
    /// Starts `command` with stdout captured and waits for its "listening" log line, so
    /// the caller knows the port accepts connections.
    pub async fn start(mut command: tokio::process::Command) -> Self {
        use tokio::io::AsyncBufReadExt;
        let mut child = command
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("start the binary");
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut running = Self {
            child,
            log: tokio::io::BufReader::new(stdout).lines(),
        };
        running.wait_for_log("listening").await;
        running
    }

    /// Reads log lines until one contains `needle` (panics if the process exits first).
    pub async fn wait_for_log(&mut self, needle: &str) -> String {
        loop {
            match self.log.next_line().await.expect("read the log") {
                Some(line) if line.contains(needle) => return line,
                Some(_) => {}
                None => panic!("the process exited before logging {needle:?}"),
            }
        }
    }

    /// Keeps draining the log in the background so the child never blocks on a full pipe.
    pub fn drain_log(self) -> tokio::process::Child {
        let mut log = self.log;
        tokio::spawn(async move { while let Ok(Some(_)) = log.next_line().await {} });
        self.child
    }
}

/// A free loopback address for a child process to listen on.
pub fn free_local_addr() -> std::net::SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("find a free port")
}

/// A backend binary's command with the environment it needs against `database_url`,
/// the test Redis (a fresh key prefix) and `listen_var` set to `addr`.
pub fn backend_command(
    name: &str,
    database_url: &str,
    listen_var: &str,
    addr: std::net::SocketAddr,
) -> tokio::process::Command {
    let mut command = command(name);
    command.envs([
        ("GTS_DATABASE_URL", database_url.to_owned()),
        ("GTS_REDIS_URL", crate::redis_url()),
        ("GTS_REDIS_PREFIX", crate::unique_redis_prefix()),
        (listen_var, addr.to_string()),
        ("GTS_HEALTH_INTERVAL_MS", "200".to_owned()),
    ]);
    command
}
