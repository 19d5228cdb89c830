//! With `GTS_OTLP_ENDPOINT` set, a service exports its spans over OTLP/gRPC, and a span
//! continues the W3C trace the caller sent. The collector here is a real OTLP trace
//! service receiving real exports.

use std::{sync::Arc, time::Duration};

use gts_e2e::{
    binaries::{RunningBinary, backend_command, free_local_addr, send_sigterm},
    db::TestDatabase,
    health::serving_channel,
};
use gts_proto::v1::{PingRequest, ops_internal_client::OpsInternalClient};
use opentelemetry_proto::tonic::{
    collector::trace::v1::{
        ExportTraceServiceRequest, ExportTraceServiceResponse,
        trace_service_server::{TraceService, TraceServiceServer},
    },
    common::v1::any_value::Value,
};
use tokio::sync::Mutex;
use tokio_stream::wrappers::TcpListenerStream;

#[derive(Default, Clone)]
struct Collector {
    exports: Arc<Mutex<Vec<ExportTraceServiceRequest>>>,
}

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        self.exports.lock().await.push(request.into_inner());
        Ok(tonic::Response::new(ExportTraceServiceResponse {
            partial_success: None,
        }))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_are_exported_over_otlp_and_continue_the_callers_trace() {
    let collector = Collector::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let collector_addr = listener.local_addr().unwrap();
    let server = tonic::transport::Server::builder()
        .add_service(TraceServiceServer::new(collector.clone()))
        .serve_with_incoming(TcpListenerStream::new(listener));
    let collector_task = tokio::spawn(server);

    let db = TestDatabase::create().await;
    let addr = free_local_addr();
    let mut auth = backend_command("gts-auth", db.url(), "GTS_AUTH_LISTEN", addr);
    auth.env("GTS_OTLP_ENDPOINT", format!("http://{collector_addr}"));
    // Ping is internal: it needs a service credential.
    let secrets = gts_e2e::stack::StackSecrets::generate();
    auth.env("GTS_SERVICE_TOKEN", &secrets.service_token);
    let credential = secrets.service_credential("gts-ops");
    let running = RunningBinary::start(auth).await;
    let pid = running.child.id().expect("pid");
    let mut child = running.drain_log();
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
    send_sigterm(pid).await;
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("exits in time")
        .expect("wait");
    assert_eq!(status.code(), Some(0));

    let exports = collector.exports.lock().await;
    let resource_spans: Vec<_> = exports.iter().flat_map(|e| &e.resource_spans).collect();
    assert!(!resource_spans.is_empty(), "no spans were exported");
    let service_names: Vec<String> = resource_spans
        .iter()
        .filter_map(|rs| rs.resource.as_ref())
        .flat_map(|r| &r.attributes)
        .filter(|kv| kv.key == "service.name")
        .filter_map(
            |kv| match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                Some(Value::StringValue(s)) => Some(s.clone()),
                _ => None,
            },
        )
        .collect();
    assert!(
        service_names.iter().all(|n| n == "gts-auth"),
        "{service_names:?}"
    );
    assert!(!service_names.is_empty());
    let continued = resource_spans
        .iter()
        .flat_map(|rs| &rs.scope_spans)
        .flat_map(|ss| &ss.spans)
        .any(|span| hex(&span.trace_id) == trace_id && span.name.contains("Ping"));
    assert!(continued, "no Ping span continued trace {trace_id}");

    collector_task.abort();
    db.drop_now().await;
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Scrapes the Prometheus text of `addr`.
async fn scrape(addr: std::net::SocketAddr) -> String {
    use http_body_util::{BodyExt, Empty};
    use hyper_util::{client::legacy::Client, rt::TokioExecutor};
    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<bytes::Bytes>>();
    let response = client
        .request(
            http::Request::get(format!("http://{addr}/metrics"))
                .body(Empty::new())
                .expect("a metrics request"),
        )
        .await
        .expect("the metrics endpoint answers");
    assert_eq!(response.status(), http::StatusCode::OK);
    let body = response
        .into_body()
        .collect()
        .await
        .expect("the metrics body")
        .to_bytes();
    String::from_utf8(body.to_vec()).expect("UTF-8 metrics")
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

    let pid = running.child.id().expect("pid");
    let mut child = running.drain_log();
    send_sigterm(pid).await;
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("exits in time")
        .expect("wait");
    assert_eq!(status.code(), Some(0));
    db.drop_now().await;
}
