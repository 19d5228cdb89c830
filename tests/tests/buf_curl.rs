//! A real, independent gRPC client (`buf curl`) calls the services through server
//! reflection alone: a health check and an RPC, with no generated code on its side.
//! `deploy/local/ensure-deps.sh` installs buf under deploy/local/tools.

use std::path::PathBuf;

use gts_e2e::Stack;
use serde_json::Value;

fn buf() -> PathBuf {
    let path = std::env::var_os("GTS_BUF_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../deploy/local/tools/node_modules/.bin/buf")
        });
    assert!(
        path.is_file(),
        "buf not found at {}; run deploy/local/ensure-deps.sh (or set GTS_BUF_BIN)",
        path.display()
    );
    path
}

async fn buf_curl(args: &[&str]) -> String {
    let output = tokio::process::Command::new(buf())
        .arg("curl")
        .args(["--protocol", "grpc", "--http2-prior-knowledge"])
        .args(args)
        .output()
        .await
        .expect("run buf curl");
    assert!(
        output.status.success(),
        "buf curl {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("buf prints UTF-8")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buf_curl_calls_health_and_an_rpc_through_reflection() {
    let stack = Stack::start().await;
    let auth = format!("http://{}", stack.auth.addr);

    let health: Value =
        serde_json::from_str(&buf_curl(&[&format!("{auth}/grpc.health.v1.Health/Check")]).await)
            .expect("health answer is JSON");
    assert_eq!(health["status"], "SERVING", "{health}");

    let ping: Value = serde_json::from_str(
        &buf_curl(&[
            "-H",
            &format!(
                "{}: {}",
                gts_common::auth::SERVICE_TOKEN_HEADER,
                stack.service_credential("gts-ops").token().unwrap()
            ),
            "-d",
            r#"{"message": "through reflection"}"#,
            &format!("{auth}/gts.v1.OpsInternal/Ping"),
        ])
        .await,
    )
    .expect("ping answer is JSON");
    assert_eq!(ping["message"], "through reflection", "{ping}");
    assert_eq!(ping["service"], "gts-auth", "{ping}");

    let methods = buf_curl(&["--list-methods", &auth]).await;
    assert!(
        methods.contains("gts.v1.AuthService/StartLogin"),
        "{methods}"
    );
    assert!(!methods.contains("gts.v1.JobService"), "{methods}");

    stack.stop().await;
}
