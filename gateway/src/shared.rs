//! `GET /shared/<token>/<artifact id>`: downloads of a shared result, without a session.
//!
//! Contract: every request asks the worker (`JobService.GetSharedArtifactUrl`, which
//! checks the token is live and the artifact belongs to its job) for a fresh signed URL,
//! then serves that object exactly as `/artifacts/...` does (signature check, Range). So
//! a token grants its one result's artifacts and nothing else, and a revoked token is
//! refused from the next request on. Answers are `no-store`, so no browser cache outlives
//! a revocation. Requests count against the per-IP download limit (429 + Retry-After),
//! and the worker sees the client's address in `x-forwarded-for`.

use std::sync::Arc;

use axum::{
    extract::{ConnectInfo, Path, State},
    http::{HeaderMap, Method, StatusCode},
    response::Response,
};
use gts_proto::v1::{GetSharedArtifactUrlRequest, job_service_client::JobServiceClient};
use tonic::{Code, transport::Channel};

use crate::downloads::{Artifacts, over_limit, refusal, serve_signed};

/// What the shared-download route needs.
#[derive(Clone)]
pub struct SharedDownloads {
    artifacts: Arc<Artifacts>,
    worker: Channel,
}

impl SharedDownloads {
    /// Downloads resolved by the worker behind `worker`, served like `artifacts`.
    pub fn new(artifacts: Arc<Artifacts>, worker: Channel) -> Arc<Self> {
        Arc::new(Self { artifacts, worker })
    }
}

/// The route handler (GET and HEAD).
pub async fn download(
    State(shared): State<Arc<SharedDownloads>>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    Path((token, artifact_id)): Path<(String, String)>,
    method: Method,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = over_limit(&shared.artifacts, peer.ip()).await {
        return refused;
    }
    let mut request = tonic::Request::new(GetSharedArtifactUrlRequest { token, artifact_id });
    if let Ok(value) = peer.ip().to_string().parse() {
        request.metadata_mut().insert("x-forwarded-for", value);
    }
    let answer = JobServiceClient::new(shared.worker.clone())
        .get_shared_artifact_url(request)
        .await;
    let url = match answer {
        Ok(response) => response.into_inner().url,
        Err(status) if status.code() == Code::NotFound => {
            return refusal(
                StatusCode::NOT_FOUND,
                "this share link was turned off, or it never existed",
            );
        }
        Err(status) => {
            tracing::warn!(code = ?status.code(), message = status.message(), "shared download");
            return refusal(
                StatusCode::SERVICE_UNAVAILABLE,
                "shared results are unavailable right now; try again shortly",
            );
        }
    };
    // The worker signs a full URL under its configured base; only its path and query matter.
    let Ok(uri) = url.parse::<http::Uri>() else {
        return refusal(
            StatusCode::INTERNAL_SERVER_ERROR,
            "cannot read the download link",
        );
    };
    serve_signed(
        &shared.artifacts,
        &method,
        uri.path(),
        uri.query(),
        &headers,
        "no-store",
    )
    .await
}
