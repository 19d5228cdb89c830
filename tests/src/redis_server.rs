//! A private Redis server that a test can restart, to check how services behave while
//! Redis is away. Uses the machine's `redis-server`, with its append-only file on, as a
//! production Redis keeps its data across a restart.

use std::process::{Child, Command, Stdio};

/// A throw-away Redis on a free local port.
pub struct RedisServer {
    dir: tempfile::TempDir,
    port: u16,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts the server and waits until it answers.
    pub fn start() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("gts-redis-")
            .tempdir()
            .expect("create a Redis directory");
        let port = crate::binaries::free_local_addr().port();
        let mut server = Self {
            dir,
            port,
            child: None,
        };
        server.start_server();
        server
    }

    /// `redis://` URL of the server.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Starts the server (again, on the same port and data) and waits until its log says
    /// it accepts connections (after loading the append-only file).
    pub fn start_server(&mut self) {
        use std::io::BufRead;
        let mut child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args([
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
            ])
            .args(["--logfile", ""])
            .arg("--dir")
            .arg(self.dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start redis-server (is Redis installed? deploy/local/ensure-deps.sh)");
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut lines = std::io::BufReader::new(stdout).lines();
        loop {
            match lines.next() {
                Some(Ok(line)) if line.contains("Ready to accept connections") => break,
                Some(Ok(_)) => {}
                _ => panic!(
                    "redis-server on port {} exited before it was ready",
                    self.port
                ),
            }
        }
        // Keep draining its log so it never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        self.child = Some(child);
    }

    /// Kills the server (SIGKILL: no goodbye to clients) and waits for it to exit.
    pub fn kill_server(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill_server();
    }
}
