//! `GET /artifacts/<object key>?expires=..&sig=..`: artifact downloads.
//!
//! Contract: the URL is one the worker's `GetArtifactUrl` signed (HMAC over the path and
//! expiry, `gts_common::signed_url`); anything else is refused with 403 before the store is
//! touched, and only job artifacts (`jobs/...`) are ever served. The object streams from the
//! object store in its own chunks (memory stays flat whatever the size), with
//! `Accept-Ranges: bytes`: one `Range` (`a-b`, `a-`, `-n`) answers 206 with
//! `Content-Range`, an unsatisfiable one 416; several ranges get the whole file (allowed by
//! RFC 9110). Content types follow the file extension. HEAD answers the same headers.
//! Downloads count against the per-IP limit in a count of their own (429 with
//! `Retry-After` past it), so seeking in a player never starves the address's API calls.

use std::sync::Arc;

use axum::{
    body::Body,
    extract::{ConnectInfo, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header},
    response::{IntoResponse, Response},
};
use gts_common::signed_url::UrlSigner;
use gts_storage::{BlobStore, StorageError};

use crate::edge_limits::RateLimits;

/// What the download route needs.
#[derive(Clone)]
pub struct Artifacts {
    signer: Option<UrlSigner>,
    store: BlobStore,
    limits: RateLimits,
}

impl Artifacts {
    /// Downloads verified with `signer` (none: every download is refused) from `store`,
    /// counted per client IP by `limits`.
    pub fn new(signer: Option<UrlSigner>, store: BlobStore, limits: RateLimits) -> Arc<Self> {
        Arc::new(Self {
            signer,
            store,
            limits,
        })
    }
}

/// The content type of an artifact file name.
pub fn content_type(key: &str) -> &'static str {
    let extension = key
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase());
    match extension.as_deref() {
        Some("flac") => "audio/flac",
        Some("wav") => "audio/wav",
        Some("mp4") => "video/mp4",
        Some("png") => "image/png",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}

/// A byte range to serve, end exclusive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RangeAnswer {
    /// The whole file.
    Whole,
    /// One satisfiable range.
    Partial(std::ops::Range<u64>),
    /// Nothing of the file can satisfy it.
    Unsatisfiable,
}

/// Interprets a `Range` header against a file of `size` bytes.
pub fn parse_range(header: Option<&str>, size: u64) -> RangeAnswer {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return RangeAnswer::Whole;
    };
    if spec.contains(',') {
        return RangeAnswer::Whole;
    }
    let Some((start, end)) = spec.trim().split_once('-') else {
        return RangeAnswer::Whole;
    };
    let (start, end) = (start.trim(), end.trim());
    let range = if start.is_empty() {
        // Suffix: the last n bytes.
        match end.parse::<u64>() {
            Ok(0) => return RangeAnswer::Unsatisfiable,
            Ok(n) => size.saturating_sub(n)..size,
            Err(_) => return RangeAnswer::Whole,
        }
    } else {
        let Ok(first) = start.parse::<u64>() else {
            return RangeAnswer::Whole;
        };
        let last = if end.is_empty() {
            size.saturating_sub(1)
        } else {
            match end.parse::<u64>() {
                Ok(last) if last >= first => last.min(size.saturating_sub(1)),
                _ => return RangeAnswer::Whole,
            }
        };
        if first >= size {
            return RangeAnswer::Unsatisfiable;
        }
        first..last + 1
    };
    if range.is_empty() {
        RangeAnswer::Unsatisfiable
    } else {
        RangeAnswer::Partial(range)
    }
}

pub(crate) fn refusal(status: StatusCode, message: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{message}\n"),
    )
        .into_response()
}

/// The answer to an address over its download limit, if it is.
pub(crate) async fn over_limit(artifacts: &Artifacts, peer: std::net::IpAddr) -> Option<Response> {
    let wait = artifacts.limits.check_download(peer).await?;
    let seconds = wait.as_millis().div_ceil(1000).max(1);
    let mut response = refusal(
        StatusCode::TOO_MANY_REQUESTS,
        &format!("too many downloads from this network address; try again in {seconds} s"),
    );
    if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    Some(response)
}

/// The route handler (GET and HEAD).
pub async fn download(
    State(artifacts): State<Arc<Artifacts>>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = over_limit(&artifacts, peer.ip()).await {
        return refused;
    }
    serve_signed(
        &artifacts,
        &method,
        uri.path(),
        uri.query(),
        &headers,
        "private, max-age=300",
    )
    .await
}

/// Verifies a signed artifact path and streams the object (with Range).
pub(crate) async fn serve_signed(
    artifacts: &Artifacts,
    method: &Method,
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    cache_control: &'static str,
) -> Response {
    let Some(signer) = &artifacts.signer else {
        return refusal(
            StatusCode::SERVICE_UNAVAILABLE,
            "downloads are not configured on this gateway (GTS_ARTIFACT_URL_KEY)",
        );
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    if let Err(error) = signer.verify_query(path, query, now) {
        return refusal(
            StatusCode::FORBIDDEN,
            &format!("{error}; ask for a new download link"),
        );
    }
    let Some(key) = UrlSigner::object_key_of(path).filter(|key| key.starts_with("jobs/")) else {
        return refusal(StatusCode::NOT_FOUND, "no such artifact");
    };
    let size = match artifacts.store.size(&key).await {
        Ok(size) => size,
        Err(StorageError::NotFound(_)) => {
            return refusal(StatusCode::NOT_FOUND, "this artifact no longer exists");
        }
        Err(error) => {
            tracing::warn!(%error, "artifact store unavailable");
            return refusal(
                StatusCode::SERVICE_UNAVAILABLE,
                "the file store is unavailable; try again shortly",
            );
        }
    };
    let range_header = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    let (status, range) = match parse_range(range_header, size) {
        RangeAnswer::Whole => (StatusCode::OK, 0..size),
        RangeAnswer::Partial(range) => (StatusCode::PARTIAL_CONTENT, range),
        RangeAnswer::Unsatisfiable => {
            let mut response = refusal(StatusCode::RANGE_NOT_SATISFIABLE, "range not satisfiable");
            if let Ok(value) = HeaderValue::from_str(&format!("bytes */{size}")) {
                response.headers_mut().insert(header::CONTENT_RANGE, value);
            }
            return response;
        }
    };
    let mut builder = Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, content_type(&key))
        .header(header::CONTENT_LENGTH, range.end - range.start)
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::CACHE_CONTROL, cache_control)
        .header("x-content-type-options", "nosniff");
    if let Some(name) = key.rsplit('/').next() {
        builder = builder.header(
            header::CONTENT_DISPOSITION,
            format!("inline; filename=\"{name}\""),
        );
    }
    if status == StatusCode::PARTIAL_CONTENT {
        builder = builder.header(
            header::CONTENT_RANGE,
            format!("bytes {}-{}/{size}", range.start, range.end - 1),
        );
    }
    let body = if *method == Method::HEAD || range.is_empty() {
        Body::empty()
    } else {
        match artifacts.store.stream_range(&key, range).await {
            Ok(stream) => Body::from_stream(stream),
            Err(error) => {
                tracing::warn!(%error, "artifact read failed");
                return refusal(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the file store is unavailable; try again shortly",
                );
            }
        }
    };
    builder
        .body(body)
        .unwrap_or_else(|_| refusal(StatusCode::INTERNAL_SERVER_ERROR, "cannot build the answer"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_follow_rfc_9110() {
        use RangeAnswer::*;
        assert_eq!(parse_range(None, 10), Whole);
        assert_eq!(parse_range(Some("bytes=0-3"), 10), Partial(0..4));
        assert_eq!(parse_range(Some("bytes=4-"), 10), Partial(4..10));
        assert_eq!(parse_range(Some("bytes=-3"), 10), Partial(7..10));
        assert_eq!(parse_range(Some("bytes=-30"), 10), Partial(0..10));
        assert_eq!(parse_range(Some("bytes=5-100"), 10), Partial(5..10));
        assert_eq!(parse_range(Some("bytes=10-"), 10), Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=-0"), 10), Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=0-1,4-5"), 10), Whole);
        assert_eq!(parse_range(Some("bytes=5-2"), 10), Whole);
        assert_eq!(parse_range(Some("items=0-1"), 10), Whole);
        assert_eq!(parse_range(Some("bytes=0-0"), 0), Unsatisfiable);
    }

    #[test]
    fn content_types_follow_the_extension() {
        assert_eq!(content_type("jobs/x/ab.flac"), "audio/flac");
        assert_eq!(content_type("jobs/x/AB.MP4"), "video/mp4");
        assert_eq!(content_type("jobs/x/cues.json"), "application/json");
        assert_eq!(content_type("jobs/x/noext"), "application/octet-stream");
    }
}
