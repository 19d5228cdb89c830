//! What an operator's tools see, for tests: a real OTLP trace receiver in this process, and
//! a Prometheus scrape with a reader for its samples.

use std::{net::SocketAddr, sync::Arc};

use http_body_util::{BodyExt, Empty};
use hyper_util::{client::legacy::Client, rt::TokioExecutor};
use opentelemetry_proto::tonic::{
    collector::trace::v1::{
        ExportTraceServiceRequest, ExportTraceServiceResponse,
        trace_service_server::{TraceService, TraceServiceServer},
    },
    trace::v1::Span,
};
use tokio::{sync::Mutex, task::JoinHandle};
use tokio_stream::wrappers::TcpListenerStream;

/// An OTLP/gRPC trace service on an ephemeral port that keeps every export it receives;
/// it stops when dropped.
pub struct OtlpCollector {
    pub addr: SocketAddr,
    exports: Arc<Mutex<Vec<ExportTraceServiceRequest>>>,
    server: JoinHandle<()>,
}

#[derive(Clone)]
struct Receiver(Arc<Mutex<Vec<ExportTraceServiceRequest>>>);

#[tonic::async_trait]
impl TraceService for Receiver {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        self.0.lock().await.push(request.into_inner());
        Ok(tonic::Response::new(ExportTraceServiceResponse {
            partial_success: None,
        }))
    }
}

impl OtlpCollector {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the OTLP receiver");
        let addr = listener.local_addr().expect("the receiver's address");
        let exports = Arc::default();
        let receiver = Receiver(Arc::clone(&exports));
        let server = tokio::spawn(async move {
            let served = tonic::transport::Server::builder()
                .add_service(TraceServiceServer::new(receiver))
                .serve_with_incoming(TcpListenerStream::new(listener))
                .await;
            served.expect("the OTLP receiver serves");
        });
        Self {
            addr,
            exports,
            server,
        }
    }

    /// The endpoint a service's `GTS_OTLP_ENDPOINT` names.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every span received so far, with the name of the service that exported it.
    pub async fn spans(&self) -> Vec<(String, Span)> {
        let exports = self.exports.lock().await;
        let mut spans = Vec::new();
        for resource_spans in exports.iter().flat_map(|e| &e.resource_spans) {
            let service = resource_spans
                .resource
                .as_ref()
                .and_then(|r| r.attributes.iter().find(|a| a.key == "service.name"))
                .and_then(|a| a.value.as_ref())
                .and_then(|v| match &v.value {
                    Some(
                        opentelemetry_proto::tonic::common::v1::any_value::Value::StringValue(s),
                    ) => Some(s.clone()),
                    _ => None,
                })
                .unwrap_or_default();
            for span in resource_spans.scope_spans.iter().flat_map(|s| &s.spans) {
                spans.push((service.clone(), span.clone()));
            }
        }
        spans
    }
}

impl Drop for OtlpCollector {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// A trace or span id as W3C `traceparent` spells it (lowercase hex).
pub fn hex_id(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The Prometheus text a metrics endpoint at `addr` serves.
pub async fn scrape(addr: SocketAddr) -> String {
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

/// The sum of the samples of series `name` (a counter, a gauge, or one of a histogram's
/// `_bucket`/`_sum`/`_count` series) whose labels contain every one of `labels`.
pub fn sample(exposition: &str, name: &str, labels: &[&str]) -> f64 {
    exposition
        .lines()
        .filter(|line| {
            line.starts_with(&format!("{name}{{")) || line.starts_with(&format!("{name} "))
        })
        .filter(|line| labels.iter().all(|label| line.contains(label)))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}
