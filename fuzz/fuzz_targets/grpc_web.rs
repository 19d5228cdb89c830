//! The gateway's grpc-web front: tonic-web's translation (binary and base64 text, any
//! content type and accept header) with the gateway's size limit behind it, exactly as
//! `gts_gateway::serve` layers them, in front of an echo backend; plus the routing of the
//! request path. Any request gets an HTTP response whose body can be read to the end;
//! nothing panics.
#![no_main]

use std::{convert::Infallible, sync::OnceLock};

use arbitrary::Arbitrary;
use bytes::Bytes;
use gts_gateway::{limits, routing};
use http::{HeaderValue, Request, Response};
use http_body_util::{BodyExt, StreamBody};
use libfuzzer_sys::fuzz_target;
use tonic::body::Body;
use tower::{Service, ServiceBuilder, ServiceExt};

const CONTENT_TYPES: [&str; 7] = [
    "application/grpc-web",
    "application/grpc-web+proto",
    "application/grpc-web-text",
    "application/grpc-web-text+proto",
    "application/grpc",
    "application/json",
    "",
];
/// The limit the fuzzed stack enforces (small, so the over-limit path is reached).
const MAX_BYTES: usize = 4096;

#[derive(Debug, Arbitrary)]
struct Input {
    content_type: u8,
    accept: u8,
    declared_length: Option<u32>,
    path: String,
    /// The body, in the chunks it arrives in.
    chunks: Vec<Vec<u8>>,
    /// Whether the echo backend answers with trailers-only (an error status).
    fail: bool,
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("a runtime")
    })
}

/// A gRPC backend that answers the bytes it read as one data frame, then OK trailers (or
/// an error status).
async fn echo(request: Request<Body>) -> Result<Response<Body>, Infallible> {
    let fail = request.headers().contains_key("x-fuzz-fail");
    let body = match request.into_body().collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) => {
            return Ok(tonic::Status::invalid_argument(error.to_string()).into_http());
        }
    };
    if fail {
        return Ok(tonic::Status::not_found("nothing here").into_http());
    }
    let mut trailers = http::HeaderMap::new();
    trailers.insert("grpc-status", HeaderValue::from_static("0"));
    let frames = futures::stream::iter([
        Ok::<_, Infallible>(http_body::Frame::data(body)),
        Ok(http_body::Frame::trailers(trailers)),
    ]);
    let response = Response::builder()
        .header("content-type", "application/grpc")
        .body(Body::new(StreamBody::new(frames)))
        .expect("a response");
    Ok(response)
}

fuzz_target!(|input: Input| {
    let _ = routing::route(&input.path);
    let uri = if input.path.starts_with('/') && input.path.parse::<http::Uri>().is_ok() {
        input.path.clone()
    } else {
        "/gts.v1.JobService/GetJob".to_owned()
    };
    let pick = |index: u8| CONTENT_TYPES[usize::from(index) % CONTENT_TYPES.len()];
    let mut request = Request::post(uri)
        .header("content-type", pick(input.content_type))
        .header("accept", pick(input.accept))
        .header("x-grpc-web", "1");
    if let Some(length) = input.declared_length {
        request = request.header("content-length", length);
    }
    if input.fail {
        request = request.header("x-fuzz-fail", "1");
    }
    let chunks: Vec<Result<http_body::Frame<Bytes>, Infallible>> = input
        .chunks
        .into_iter()
        .take(64)
        .map(|chunk| Ok(http_body::Frame::data(Bytes::from(chunk))))
        .collect();
    let Ok(request) = request.body(Body::new(StreamBody::new(futures::stream::iter(chunks))))
    else {
        return;
    };
    runtime().block_on(async move {
        // The order of `gts_gateway::serve`: declared length, grpc-web, size limit.
        let mut service = ServiceBuilder::new()
            .map_request(limits::record_declared_length)
            .layer(tonic_web::GrpcWebLayer::new())
            .layer(limits::SizeLimitLayer::new(MAX_BYTES))
            .service(tower::service_fn(echo));
        // The echo backend is infallible: the stack always answers.
        let Ok(ready) = service.ready().await;
        let Ok(response) = ready.call(request).await;
        let _ = response.into_body().collect().await;
    });
});
