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
