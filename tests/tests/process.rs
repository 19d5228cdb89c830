//! The real binaries: configuration errors stop them with one line naming the variable,
//! and SIGTERM drains an in-flight call before a clean exit.

use std::time::Duration;

use gts_e2e::{
    binaries::{RunningBinary, backend_command, command, free_local_addr, send_sigterm},
    db::TestDatabase,
    health::serving_channel,
};
use gts_proto::v1::{PingRequest, ops_internal_client::OpsInternalClient};

const BINARIES: &[&str] = &["gts-auth", "gts-shootout", "gts-worker", "gts-gateway"];

/// Runs a binary with `env` and returns (exit code, stderr lines).
async fn run_with(binary: &str, env: &[(&str, &str)]) -> (Option<i32>, Vec<String>) {
    let output = tokio::time::timeout(
        Duration::from_secs(20),
        command(binary).envs(env.iter().copied()).output(),
    )
    .await
    .unwrap_or_else(|_| panic!("{binary} did not exit on a configuration error"))
    .expect("run binary");
    let stderr = String::from_utf8_lossy(&output.stderr);
    (
        output.status.code(),
        stderr.lines().map(str::to_owned).collect(),
    )
}

#[tokio::test]
async fn a_missing_required_variable_stops_every_binary_with_one_line() {
    for binary in BINARIES {
        let (code, lines) = run_with(binary, &[]).await;
        assert_eq!(code, Some(2), "{binary}: {lines:?}");
        assert_eq!(lines.len(), 1, "{binary} printed {lines:?}");
        let expected = if *binary == "gts-gateway" {
            "GTS_REDIS_URL"
        } else {
            "GTS_DATABASE_URL"
        };
        assert!(lines[0].contains(expected), "{binary}: {lines:?}");
    }
}

#[tokio::test]
async fn a_malformed_variable_stops_every_binary_with_one_line_naming_it() {
    let listen_var = |binary: &str| match binary {
        "gts-auth" => "GTS_AUTH_LISTEN",
        "gts-shootout" => "GTS_SHOOTOUT_LISTEN",
        "gts-worker" => "GTS_WORKER_LISTEN",
        _ => "GTS_GATEWAY_LISTEN",
    };
    for binary in BINARIES {
        let var = listen_var(binary);
        let (code, lines) = run_with(
            binary,
            &[
                ("GTS_DATABASE_URL", "postgres://gts:gts@127.0.0.1:5432/gts"),
                ("GTS_REDIS_URL", "redis://127.0.0.1:6379"),
                (var, "not-an-address"),
            ],
        )
        .await;
        assert_eq!(code, Some(2), "{binary}: {lines:?}");
        assert_eq!(lines.len(), 1, "{binary} printed {lines:?}");
        assert!(lines[0].contains(var), "{binary}: {lines:?}");
    }

    let (code, lines) = run_with(
        "gts-worker",
        &[
            ("GTS_DATABASE_URL", "mysql://user:hunter2@db/gts"),
            ("GTS_REDIS_URL", "redis://127.0.0.1:6379"),
        ],
    )
    .await;
    assert_eq!(code, Some(2));
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("GTS_DATABASE_URL"), "{lines:?}");
    assert!(
        !lines[0].contains("hunter2"),
        "the password leaked: {lines:?}"
    );
}

#[tokio::test]
async fn the_shipped_placeholder_secrets_stop_the_binaries_that_read_them() {
    let base = [
        ("GTS_DATABASE_URL", "postgres://gts:gts@127.0.0.1:5432/gts"),
        ("GTS_REDIS_URL", "redis://127.0.0.1:6379"),
    ];
    // The example values of deploy/k8s/config.yaml.
    let cases = [
        (
            "gts-auth",
            "GTS_SERVICE_TOKEN",
            "change-me-to-a-random-secret-of-at-least-32-characters",
        ),
        (
            "gts-shootout",
            "GTS_SERVICE_TOKEN",
            "change-me-to-a-random-secret-of-at-least-32-characters",
        ),
        (
            "gts-worker",
            "GTS_ARTIFACT_URL_KEY",
            "change-me-to-another-random-secret-of-at-least-32-characters",
        ),
    ];
    for (binary, var, placeholder) in cases {
        let mut env = base.to_vec();
        env.push((var, placeholder));
        let (code, lines) = run_with(binary, &env).await;
        assert_eq!(code, Some(2), "{binary}: {lines:?}");
        assert_eq!(lines.len(), 1, "{binary} printed {lines:?}");
        assert!(lines[0].contains(var), "{binary}: {lines:?}");
        assert!(lines[0].contains("placeholder"), "{binary}: {lines:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_a_slow_in_flight_call_finish_then_exits_zero() {
    let db = TestDatabase::create().await;
    let addr = free_local_addr();
    let mut auth = backend_command("gts-auth", db.url(), "GTS_AUTH_LISTEN", addr);
    // Ping is internal: it needs a service credential.
    let secrets = gts_e2e::stack::StackSecrets::generate();
    auth.env("GTS_SERVICE_TOKEN", &secrets.service_token);
    let credential = secrets.service_credential("gts-ops");
    // Request start lines are how the test knows the call is in flight.
    auth.env("GTS_LOG", "info,tower_http=debug");
    let mut running = RunningBinary::start(auth).await;
    let pid = running.child.id().expect("child pid");
    let channel = serving_channel(addr).await;

    let mut ops = OpsInternalClient::new(channel);
    let call = tokio::spawn(async move {
        let mut request = tonic::Request::new(PingRequest {
            delay_ms: 1500,
            message: "drain me".to_owned(),
        });
        credential.attach(&mut request)?;
        ops.ping(request).await
    });
    // The Ping has reached the server once its request line is logged.
    loop {
        let line = running.wait_for_log("started processing request").await;
        if line.contains("Ping") {
            break;
        }
    }
    send_sigterm(pid).await;
    let mut child = running.drain_log();

    let answer = call
        .await
        .expect("call task")
        .expect("the in-flight call completes despite SIGTERM")
        .into_inner();
    assert_eq!(answer.message, "drain me");

    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("gts-auth exits within 10 s of SIGTERM")
        .expect("wait for gts-auth");
    assert_eq!(status.code(), Some(0), "exit status {status:?}");
    db.drop_now().await;
}
