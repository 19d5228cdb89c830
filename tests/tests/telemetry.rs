//! With `GTS_OTLP_ENDPOINT` set, a service exports its spans over OTLP/gRPC, and a span
//! continues the W3C trace the caller sent. The collector here is a real OTLP trace
//! service receiving real exports. Every call has one access line, captured from a real
//! process's output: a service's for a service caller, the gateway's for a signed-in user.

use std::time::Duration;

use gts_e2e::{
    Stack,
    binaries::{RunningBinary, backend_command, command, free_local_addr, stop_cleanly},
    clients,
    db::TestDatabase,
    health::serving_channel,
    telemetry::{OtlpCollector, hex_id, scrape},
    with_bearer,
};
use gts_proto::v1::{
    ListShootoutsRequest, PingRequest, ops_internal_client::OpsInternalClient,
    shootout_service_client::ShootoutServiceClient,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_are_exported_over_otlp_and_continue_the_callers_trace() {
    let collector = OtlpCollector::start().await;

    let db = TestDatabase::create().await;
    let addr = free_local_addr();
    let mut auth = backend_command("gts-auth", db.url(), "GTS_AUTH_LISTEN", addr);
    auth.env("GTS_OTLP_ENDPOINT", collector.endpoint());
    // Ping is internal: it needs a service credential.
    let secrets = gts_e2e::stack::StackSecrets::generate();
    auth.env("GTS_SERVICE_TOKEN", &secrets.service_token);
    let credential = secrets.service_credential("gts-ops");
    let running = RunningBinary::start(auth).await;
    let child = running.drain_log();
    let channel = serving_channel(addr).await;

    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let mut request = tonic::Request::new(PingRequest {
        delay_ms: 0,
        message: "traced".to_owned(),
    });
    request.metadata_mut().insert(
        "traceparent",
        format!("00-{trace_id}-00f067aa0ba902b7-01")
            .parse()
            .unwrap(),
    );
    credential.attach(&mut request).expect("credential");
    OpsInternalClient::new(channel)
        .ping(request)
        .await
        .expect("ping");

    // Shutdown flushes the batch exporter before the process exits.
    stop_cleanly(child).await;

    let spans = collector.spans().await;
    assert!(!spans.is_empty(), "no spans were exported");
    let services: Vec<&str> = spans.iter().map(|(service, _)| service.as_str()).collect();
    assert!(services.iter().all(|n| *n == "gts-auth"), "{services:?}");
    let continued = spans
        .iter()
        .any(|(_, span)| hex_id(&span.trace_id) == trace_id && span.name.contains("Ping"));
    assert!(continued, "no Ping span continued trace {trace_id}");

    db.drop_now().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_call_has_an_access_line_with_trace_ids_and_is_counted_on_the_metrics_port() {
    let db = TestDatabase::create().await;
    let (addr, metrics_addr) = (free_local_addr(), free_local_addr());
    let mut auth = backend_command("gts-auth", db.url(), "GTS_AUTH_LISTEN", addr);
    auth.envs([
        ("GTS_LOG", "info".to_owned()),
        ("GTS_METRICS_LISTEN", metrics_addr.to_string()),
    ]);
    let secrets = gts_e2e::stack::StackSecrets::generate();
    auth.env("GTS_SERVICE_TOKEN", &secrets.service_token);
    let credential = secrets.service_credential("gts-ops");
    let mut running = RunningBinary::start(auth).await;
    let channel = serving_channel(addr).await;

    let trace_id = "0af7651916cd43dd8448eb211c80319c";
    let mut request = tonic::Request::new(PingRequest {
        delay_ms: 0,
        message: "logged".to_owned(),
    });
    request.metadata_mut().insert(
        "traceparent",
        format!("00-{trace_id}-b7ad6b7169203331-01")
            .parse()
            .unwrap(),
    );
    credential.attach(&mut request).expect("credential");
    OpsInternalClient::new(channel)
        .ping(request)
        .await
        .expect("ping");

    let line = tokio::time::timeout(
        Duration::from_secs(10),
        running.wait_for_log("\"target\":\"gts::access\""),
    )
    .await
    .expect("an access line in time");
    let line = if line.contains("Ping") {
        line
    } else {
        // Health probes log at DEBUG; anything else before the Ping is skipped.
        tokio::time::timeout(Duration::from_secs(10), running.wait_for_log("Ping"))
            .await
            .expect("the Ping's access line")
    };
    let json: serde_json::Value = serde_json::from_str(&line).expect("a JSON log line");
    assert_eq!(json["service"], "gts-auth", "{line}");
    assert_eq!(json["trace_id"], trace_id, "{line}");
    assert_eq!(json["span_id"].as_str().map(str::len), Some(16), "{line}");
    assert_eq!(json["fields"]["rpc_method"], "Ping", "{line}");
    assert_eq!(json["fields"]["grpc_code"], "OK", "{line}");
    assert!(json["fields"]["duration_ms"].as_f64().is_some(), "{line}");
    // The verified caller, recorded on the request span by the auth layer.
    assert_eq!(json["span"]["caller_service"], "gts-ops", "{line}");

    let exposition = scrape(metrics_addr).await;
    let ping = exposition
        .lines()
        .find(|l| {
            l.starts_with("gts_rpc_requests_total{")
                && l.contains("method=\"Ping\"")
                && l.contains("code=\"OK\"")
        })
        .unwrap_or_else(|| panic!("no Ping counter in {exposition}"));
    assert!(ping.contains("process=\"gts-auth\""), "{ping}");
    assert!(ping.contains("service=\"gts.v1.OpsInternal\""), "{ping}");
    assert!(ping.ends_with(" 1"), "{ping}");
    assert!(
        exposition.contains("gts_rpc_duration_seconds_bucket{"),
        "{exposition}"
    );

    stop_cleanly(running.drain_log()).await;
    db.drop_now().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateways_access_line_names_the_signed_in_user() {
    let stack = Stack::start().await;
    let (addr, metrics_addr) = (free_local_addr(), free_local_addr());
    let mut gateway = command("gts-gateway");
    gateway.envs(stack.backend_env.iter().cloned()).envs([
        ("GTS_WORKER_URL", format!("http://{}", stack.worker.addr)),
        ("GTS_GATEWAY_LISTEN", addr.to_string()),
        ("GTS_METRICS_LISTEN", metrics_addr.to_string()),
        ("GTS_LOG", "info".to_owned()),
    ]);
    let mut running = RunningBinary::start(gateway).await;

    let user = uuid::Uuid::new_v4();
    let token = stack.token_for(user);
    ShootoutServiceClient::with_origin(clients::grpc_web(), clients::origin(addr))
        .list_shootouts(with_bearer(ListShootoutsRequest::default(), &token))
        .await
        .expect("ListShootouts through the gateway binary");

    let line = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let line = running.wait_for_log("\"target\":\"gts::access\"").await;
            if line.contains("ListShootouts") {
                return line;
            }
        }
    })
    .await
    .expect("the call's access line in time");
    let json: serde_json::Value = serde_json::from_str(&line).expect("a JSON log line");
    assert_eq!(json["service"], "gts-gateway", "{line}");
    assert_eq!(json["span"]["user_id"], user.to_string(), "{line}");
    assert_eq!(json["fields"]["rpc_method"], "ListShootouts", "{line}");
    assert_eq!(json["fields"]["grpc_code"], "OK", "{line}");
    assert!(json["fields"]["duration_ms"].as_f64().is_some(), "{line}");
    assert_eq!(json["trace_id"].as_str().map(str::len), Some(32), "{line}");

    stop_cleanly(running.drain_log()).await;
    stack.stop().await;
}
