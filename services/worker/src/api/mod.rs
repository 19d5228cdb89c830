//! gRPC handlers of `gts.v1.JobService`. Every RPC is scoped to the caller
//! (`require_user`); another user's job answers NOT_FOUND exactly like a missing one. The
//! two shared-result RPCs are the exception: the share token is the credential
//! ([`shares`]).
//! Errors go through [`crate::WorkerError`], the one mapping to `Status`.

mod artifacts;
mod jobs;
mod paging;
mod shares;

use std::sync::Arc;

use gts_common::identity::require_user;
use gts_proto::v1::{
    CancelJobRequest, CancelJobResponse, GetArtifactUrlRequest, GetArtifactUrlResponse,
    GetJobRequest, GetJobResponse, GetSharedArtifactUrlRequest, GetSharedArtifactUrlResponse,
    GetSharedResultRequest, GetSharedResultResponse, ListArtifactsRequest, ListArtifactsResponse,
    ListJobsRequest, ListJobsResponse, ShareJobRequest, ShareJobResponse, SubmitJobRequest,
    SubmitJobResponse, UnshareJobRequest, UnshareJobResponse, WatchJobRequest, WatchJobResponse,
    job_service_server::JobService,
};
use sqlx::PgPool;
use tonic::{Request, Response, Status, codegen::BoxStream};
use uuid::Uuid;

use crate::{
    config::ArtifactSettings, error::WorkerError, events::EventLog, events::watch::Watcher,
    spec_source::RenderSpecSource,
};

/// `gts.v1.JobService`: jobs, progress streams and artifacts.
#[derive(Clone)]
pub struct JobApi {
    db: PgPool,
    log: EventLog,
    watcher: Watcher,
    specs: Arc<dyn RenderSpecSource>,
    artifacts: ArtifactSettings,
    max_attempts: i32,
}

impl JobApi {
    /// The handlers over their dependencies.
    pub fn new(
        db: PgPool,
        watcher: Watcher,
        specs: Arc<dyn RenderSpecSource>,
        artifacts: ArtifactSettings,
        max_attempts: i32,
    ) -> Self {
        Self {
            db,
            log: watcher.hub.log().clone(),
            watcher,
            specs,
            artifacts,
            max_attempts,
        }
    }
}

/// Parses a UUID field, naming it in the error.
fn parse_id(field: &str, value: &str) -> Result<Uuid, WorkerError> {
    Uuid::parse_str(value)
        .map_err(|_| WorkerError::InvalidArgument(format!("{field} must be a UUID")))
}

#[tonic::async_trait]
impl JobService for JobApi {
    type WatchJobStream = BoxStream<WatchJobResponse>;

    async fn submit_job(
        &self,
        request: Request<SubmitJobRequest>,
    ) -> Result<Response<SubmitJobResponse>, Status> {
        let user = require_user(&request)?;
        Ok(Response::new(
            self.submit(user.user_id, request.into_inner()).await?,
        ))
    }

    async fn get_job(
        &self,
        request: Request<GetJobRequest>,
    ) -> Result<Response<GetJobResponse>, Status> {
        let user = require_user(&request)?;
        let job_id = parse_id("job_id", &request.get_ref().job_id)?;
        Ok(Response::new(GetJobResponse {
            job: Some(self.job(user.user_id, job_id).await?),
        }))
    }

    async fn list_jobs(
        &self,
        request: Request<ListJobsRequest>,
    ) -> Result<Response<ListJobsResponse>, Status> {
        let user = require_user(&request)?;
        Ok(Response::new(
            self.list(user.user_id, request.get_ref()).await?,
        ))
    }

    async fn cancel_job(
        &self,
        request: Request<CancelJobRequest>,
    ) -> Result<Response<CancelJobResponse>, Status> {
        let user = require_user(&request)?;
        let job_id = parse_id("job_id", &request.get_ref().job_id)?;
        Ok(Response::new(CancelJobResponse {
            job: Some(self.cancel(user.user_id, job_id).await?),
        }))
    }

    async fn watch_job(
        &self,
        request: Request<WatchJobRequest>,
    ) -> Result<Response<Self::WatchJobStream>, Status> {
        let user = require_user(&request)?;
        let request = request.into_inner();
        let job_id = parse_id("job_id", &request.job_id)?;
        let after =
            if request.after_event_id.is_empty() {
                None
            } else {
                Some(request.after_event_id.parse().map_err(
                    |e: crate::events::id::BadEventId| {
                        WorkerError::InvalidArgument(format!("after_event_id: {e}"))
                    },
                )?)
            };
        let stream = self.watcher.open(user.user_id, job_id, after).await?;
        Ok(Response::new(stream))
    }

    async fn list_artifacts(
        &self,
        request: Request<ListArtifactsRequest>,
    ) -> Result<Response<ListArtifactsResponse>, Status> {
        let user = require_user(&request)?;
        let job_id = parse_id("job_id", &request.get_ref().job_id)?;
        Ok(Response::new(
            self.artifacts_of(user.user_id, job_id).await?,
        ))
    }

    async fn get_artifact_url(
        &self,
        request: Request<GetArtifactUrlRequest>,
    ) -> Result<Response<GetArtifactUrlResponse>, Status> {
        let user = require_user(&request)?;
        let job_id = parse_id("job_id", &request.get_ref().job_id)?;
        let artifact_id = parse_id("artifact_id", &request.get_ref().artifact_id)?;
        Ok(Response::new(
            self.artifact_url(user.user_id, job_id, artifact_id).await?,
        ))
    }

    async fn share_job(
        &self,
        request: Request<ShareJobRequest>,
    ) -> Result<Response<ShareJobResponse>, Status> {
        let user = require_user(&request)?;
        let job_id = parse_id("job_id", &request.get_ref().job_id)?;
        Ok(Response::new(self.share(user.user_id, job_id).await?))
    }

    async fn unshare_job(
        &self,
        request: Request<UnshareJobRequest>,
    ) -> Result<Response<UnshareJobResponse>, Status> {
        let user = require_user(&request)?;
        let job_id = parse_id("job_id", &request.get_ref().job_id)?;
        Ok(Response::new(self.unshare(user.user_id, job_id).await?))
    }

    async fn get_shared_result(
        &self,
        request: Request<GetSharedResultRequest>,
    ) -> Result<Response<GetSharedResultResponse>, Status> {
        // No require_user: the token is the credential.
        Ok(Response::new(
            self.shared_result(&request.get_ref().token).await?,
        ))
    }

    async fn get_shared_artifact_url(
        &self,
        request: Request<GetSharedArtifactUrlRequest>,
    ) -> Result<Response<GetSharedArtifactUrlResponse>, Status> {
        let request = request.into_inner();
        // A malformed artifact id is as unknown as a missing one (no probing by shape).
        let artifact_id = Uuid::parse_str(&request.artifact_id)
            .map_err(|_| WorkerError::NotFound("shared result"))?;
        Ok(Response::new(
            self.shared_artifact_url(&request.token, artifact_id)
                .await?,
        ))
    }
}
