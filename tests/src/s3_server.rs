//! A private S3-compatible server for a test: moto's server mode (PyPI `moto[server]`,
//! which `deploy/local/ensure-deps.sh` installs), a maintained implementation of the S3
//! REST API (buckets, PUT/GET with Range, HEAD, DELETE, ListObjectsV2, multipart uploads)
//! that keeps objects in memory. It installs in seconds with no compiler; it does not
//! verify request signatures, so credentials are not what these tests check.

use std::process::Stdio;

use gts_storage::{S3Settings, StorageSettings};

/// A moto server on a free loopback port, stopped when dropped.
pub struct S3Server {
    port: u16,
    _child: tokio::process::Child,
}

impl S3Server {
    /// Starts the server and waits until its log says it serves.
    pub async fn start() -> Self {
        use tokio::io::AsyncBufReadExt;
        let port = crate::binaries::free_local_addr().port();
        let mut child = tokio::process::Command::new("python3")
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect(
                "start moto's S3 server (pip install 'moto[server]'; deploy/local/ensure-deps.sh)",
            );
        let stderr = child.stderr.take().expect("stderr is piped");
        let mut lines = tokio::io::BufReader::new(stderr).lines();
        let serving = async {
            while let Some(line) = lines.next_line().await.expect("read moto's log") {
                if line.contains("Running on") {
                    return;
                }
            }
            panic!("moto's S3 server exited before serving (is moto[server] installed?)");
        };
        tokio::time::timeout(std::time::Duration::from_secs(30), serving)
            .await
            .expect("moto's S3 server starts within 30 s");
        // Keep reading its request log so the pipe never fills.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Self {
            port,
            _child: child,
        }
    }

    /// The server's URL (`GTS_S3_ENDPOINT`).
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Creates a fresh bucket and answers its settings.
    pub async fn bucket(&self) -> S3Settings {
        use http_body_util::Empty;
        use hyper_util::{client::legacy::Client, rt::TokioExecutor};
        let name = format!("gts-test-{}", uuid::Uuid::new_v4().simple());
        let client = Client::builder(TokioExecutor::new()).build_http::<Empty<bytes::Bytes>>();
        let request = http::Request::put(format!("{}/{name}", self.endpoint()))
            .body(Empty::new())
            .expect("a bucket request");
        let response = client.request(request).await.expect("moto answers");
        assert!(
            response.status().is_success(),
            "CreateBucket: {}",
            response.status()
        );
        S3Settings {
            bucket: name,
            endpoint: Some(self.endpoint()),
            region: "us-east-1".to_owned(),
            access_key_id: Some("gts-test".to_owned()),
            secret_access_key: Some("gts-test-secret".to_owned()),
            allow_http: true,
        }
    }

    /// The `GTS_STORAGE_*`/`GTS_S3_*` variables of `bucket`, for a service's environment.
    pub fn env(bucket: &S3Settings) -> Vec<(&'static str, String)> {
        vec![
            ("GTS_STORAGE_BACKEND", "s3".to_owned()),
            ("GTS_S3_BUCKET", bucket.bucket.clone()),
            (
                "GTS_S3_ENDPOINT",
                bucket.endpoint.clone().unwrap_or_default(),
            ),
            ("GTS_S3_REGION", bucket.region.clone()),
            (
                "GTS_S3_ACCESS_KEY_ID",
                bucket.access_key_id.clone().unwrap_or_default(),
            ),
            (
                "GTS_S3_SECRET_ACCESS_KEY",
                bucket.secret_access_key.clone().unwrap_or_default(),
            ),
            ("GTS_S3_ALLOW_HTTP", "true".to_owned()),
        ]
    }

    /// Storage settings of `bucket`.
    pub fn settings(bucket: &S3Settings) -> StorageSettings {
        StorageSettings::S3(bucket.clone())
    }
}
