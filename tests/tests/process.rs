//! The real binaries: configuration errors stop them with one line naming the variable,
//! and SIGTERM drains an in-flight call before a clean exit.

use std::{process::Stdio, time::Duration};

use gts_e2e::{
    binaries::{command, send_sigterm},
    clients,
    db::TestDatabase,
    health::wait_for_status,
    redis_url, unique_redis_prefix,
};
use gts_proto::v1::{PingRequest, ops_internal_client::OpsInternalClient};
use tokio::io::{AsyncBufReadExt, BufReader};
use tonic_health::pb::health_check_response::ServingStatus;

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_a_slow_in_flight_call_finish_then_exits_zero() {
    let db = TestDatabase::create().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let addr: std::net::SocketAddr = ([127, 0, 0, 1], port).into();
    let prefix = unique_redis_prefix();
    let redis = redis_url();
    let listen = addr.to_string();
    let mut child = command("gts-auth")
        .envs([
            ("GTS_DATABASE_URL", db.url()),
            ("GTS_REDIS_URL", redis.as_str()),
            ("GTS_REDIS_PREFIX", prefix.as_str()),
            ("GTS_AUTH_LISTEN", listen.as_str()),
            ("GTS_HEALTH_INTERVAL_MS", "200"),
            // Request start lines are how the test knows the call is in flight.
            ("GTS_LOG", "info,tower_http=debug"),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start gts-auth");
    let pid = child.id().expect("child pid");
    let mut log = BufReader::new(child.stdout.take().expect("stdout")).lines();

    // Wait for the listening line, then for SERVING.
    loop {
        let line = log
            .next_line()
            .await
            .expect("read log")
            .expect("gts-auth exited early");
        if line.contains("gRPC server listening") {
            break;
        }
    }
    let channel = clients::grpc(addr).await;
    wait_for_status(
        channel.clone(),
        "",
        ServingStatus::Serving,
        Duration::from_secs(30),
    )
    .await;

    let mut ops = OpsInternalClient::new(channel);
    let call = tokio::spawn(async move {
        ops.ping(PingRequest {
            delay_ms: 1500,
            message: "drain me".to_owned(),
        })
        .await
    });
    // The Ping has reached the server once its request line is logged.
    loop {
        let line = log
            .next_line()
            .await
            .expect("read log")
            .expect("gts-auth exited early");
        if line.contains("started processing request") && line.contains("Ping") {
            break;
        }
    }
    send_sigterm(pid).await;
    // Keep draining the log so the child never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = log.next_line().await {} });

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
