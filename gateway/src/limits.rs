//! Request size limits at the edge.
//!
//! Contract: a request whose body is larger than the configured limit is refused with
//! RESOURCE_EXHAUSTED and a message saying how to send large data (chunked uploads), before
//! authentication and before any byte reaches a backend. tonic-web drops `content-length`
//! when it translates grpc-web, so the declared length is recorded by
//! [`record_declared_length`] in front of the translation and checked by [`SizeLimit`]
//! behind it, where a status is still encoded for grpc-web clients. A body that declares no
//! length (chunked) is read up to the limit before it is forwarded: every RPC of the
//! contract sends exactly one request message (no client streaming), so this bounds memory
//! per call without changing any call's behaviour.
//!
//! A refused HTTP/1.1 body is read and discarded (up to [`DRAIN_CAP_BYTES`], for at most
//! [`DRAIN_TIMEOUT`]) before the answer goes out: a server that answers and closes while
//! the client is still writing makes the client's kernel see a reset, and the client gets
//! "broken pipe" instead of the status that tells it what to do. Beyond the cap the
//! connection is given up on, which bounds what a hostile client can make the gateway read.

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use tonic::{Status, body::Body};
use tower::{Layer, Service};

/// The most a refused body is read (and discarded) before the refusal is sent.
pub const DRAIN_CAP_BYTES: u64 = 32 * 1024 * 1024;
/// The longest a refused body is read before the refusal is sent.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// The body length a client declared, recorded before tonic-web removes the header.
#[derive(Debug, Clone, Copy)]
pub struct DeclaredLength(pub u64);

/// Records `content-length` as a [`DeclaredLength`] extension.
pub fn record_declared_length<B>(mut request: Request<B>) -> Request<B> {
    let declared = request
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if let Some(length) = declared {
        request.extensions_mut().insert(DeclaredLength(length));
    }
    request
}

/// Refuses bodies over `max_bytes`.
#[derive(Debug, Clone, Copy)]
pub struct SizeLimitLayer {
    max_bytes: usize,
}

impl SizeLimitLayer {
    pub fn new(max_bytes: usize) -> Self {
        Self { max_bytes }
    }
}

impl<S> Layer<S> for SizeLimitLayer {
    type Service = SizeLimit<S>;

    fn layer(&self, inner: S) -> SizeLimit<S> {
        SizeLimit {
            inner,
            max_bytes: self.max_bytes,
        }
    }
}

/// See [`SizeLimitLayer`].
#[derive(Debug, Clone)]
pub struct SizeLimit<S> {
    inner: S,
    max_bytes: usize,
}

impl<S> Service<Request<Body>> for SizeLimit<S>
where
    S: Service<Request<Body>, Response = Response<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let max_bytes = self.max_bytes;
        let declared = request.extensions().get::<DeclaredLength>().map(|d| d.0);
        if let Some(length) = declared.filter(|&length| length > max_bytes as u64) {
            let status = too_large(&format!("the request is {length} bytes"), max_bytes);
            let body = request.into_body();
            return Box::pin(async move {
                if length <= DRAIN_CAP_BYTES {
                    discard(body, DRAIN_CAP_BYTES).await;
                }
                Ok(status.into_http())
            });
        }
        // The ready service goes to this call; a fresh clone waits for the next one.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            let (parts, mut body) = request.into_parts();
            let mut collected = Vec::new();
            while let Some(frame) = body.frame().await {
                let data = match frame {
                    Ok(frame) => frame.into_data().unwrap_or_default(),
                    Err(error) => {
                        return Ok(Status::invalid_argument(format!(
                            "the request body could not be read: {error}"
                        ))
                        .into_http());
                    }
                };
                if collected.len() + data.len() > max_bytes {
                    discard(body, DRAIN_CAP_BYTES).await;
                    return Ok(too_large("the request", max_bytes).into_http());
                }
                collected.extend_from_slice(&data);
            }
            let body = Body::new(Full::new(bytes::Bytes::from(collected)));
            inner.call(Request::from_parts(parts, body)).await
        })
    }
}

/// Reads and drops what is left of `body`, up to `cap` bytes and [`DRAIN_TIMEOUT`].
async fn discard(mut body: Body, cap: u64) {
    let drain = async {
        let mut read = 0u64;
        while read <= cap {
            match body.frame().await {
                Some(Ok(frame)) => {
                    read += frame.data_ref().map_or(0, |data| data.len() as u64);
                }
                Some(Err(_)) | None => return,
            }
        }
    };
    let _ = tokio::time::timeout(DRAIN_TIMEOUT, drain).await;
}

fn too_large(what: &str, max_bytes: usize) -> Status {
    Status::resource_exhausted(format!(
        "{what} is over the gateway's limit of {max_bytes} bytes; send files with \
         UploadService.PutChunk in chunks of at most 1 MiB"
    ))
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use super::*;

    /// An inner service that answers OK with the request body's length in a header.
    fn echo_length() -> impl Service<
        Request<Body>,
        Response = Response<Body>,
        Error = Infallible,
        Future = impl Future<Output = Result<Response<Body>, Infallible>> + Send,
    > + Clone
    + Send
    + 'static {
        tower::service_fn(|request: Request<Body>| async move {
            let bytes = request.into_body().collect().await.unwrap().to_bytes();
            Ok::<_, Infallible>(
                Response::builder()
                    .header("x-length", bytes.len())
                    .body(Body::empty())
                    .unwrap(),
            )
        })
    }

    fn grpc_status(response: &Response<Body>) -> Option<&str> {
        response
            .headers()
            .get("grpc-status")
            .and_then(|v| v.to_str().ok())
    }

    #[tokio::test]
    async fn a_declared_oversized_body_is_refused_unread() {
        let mut service = SizeLimitLayer::new(10).layer(echo_length());
        let mut request = Request::new(Body::new(Full::new(bytes::Bytes::from(vec![0u8; 5]))));
        request.extensions_mut().insert(DeclaredLength(11));
        let response = service.call(request).await.unwrap();
        assert_eq!(grpc_status(&response), Some("8"), "RESOURCE_EXHAUSTED");
        assert!(response.headers().get("x-length").is_none());
    }

    #[tokio::test]
    async fn an_undeclared_body_is_capped_while_read_and_small_ones_pass_whole() {
        let mut service = SizeLimitLayer::new(10).layer(echo_length());
        let big = Request::new(Body::new(Full::new(bytes::Bytes::from(vec![0u8; 11]))));
        let response = service.call(big).await.unwrap();
        assert_eq!(grpc_status(&response), Some("8"));

        let small = Request::new(Body::new(Full::new(bytes::Bytes::from(vec![0u8; 10]))));
        let response = service.call(small).await.unwrap();
        assert_eq!(grpc_status(&response), None);
        assert_eq!(response.headers()["x-length"], "10");
    }
}
