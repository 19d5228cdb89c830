//! ListArtifacts and GetArtifactUrl (and the URL signing shared with share links).

use chrono::Utc;
use gts_proto::v1::{GetArtifactUrlResponse, ListArtifactsResponse};
use uuid::Uuid;

use super::JobApi;
use crate::{
    convert::{artifact_to_proto, timestamp},
    error::WorkerError,
    queue,
};

impl JobApi {
    async fn require_job(&self, owner: Uuid, job_id: Uuid) -> Result<(), WorkerError> {
        queue::get(&self.db, owner, job_id)
            .await?
            .map(|_| ())
            .ok_or(WorkerError::NotFound("job"))
    }

    pub(super) async fn artifacts_of(
        &self,
        owner: Uuid,
        job_id: Uuid,
    ) -> Result<ListArtifactsResponse, WorkerError> {
        self.require_job(owner, job_id).await?;
        let rows = queue::list_artifacts(&self.db, job_id).await?;
        Ok(ListArtifactsResponse {
            artifacts: rows
                .iter()
                .map(artifact_to_proto)
                .collect::<Result<_, _>>()?,
        })
    }

    pub(super) async fn artifact_url(
        &self,
        owner: Uuid,
        job_id: Uuid,
        artifact_id: Uuid,
    ) -> Result<GetArtifactUrlResponse, WorkerError> {
        self.require_job(owner, job_id).await?;
        let artifact = queue::get_artifact(&self.db, job_id, artifact_id)
            .await?
            .ok_or(WorkerError::NotFound("artifact"))?;
        let (url, expires_at) = self.sign(&artifact.object_key, self.artifacts.url_ttl)?;
        Ok(GetArtifactUrlResponse {
            url,
            expires_at: Some(expires_at),
        })
    }

    /// A gateway download URL of `object_key`, valid for `ttl`.
    pub(super) fn sign(
        &self,
        object_key: &str,
        ttl: std::time::Duration,
    ) -> Result<(String, prost_types::Timestamp), WorkerError> {
        let Some(signer) = &self.artifacts.signer else {
            return Err(WorkerError::FailedPrecondition(
                "artifact downloads are not configured on this server (GTS_ARTIFACT_URL_KEY)"
                    .to_owned(),
            ));
        };
        let ttl = chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::minutes(15));
        // Whole seconds: the URL carries the expiry in Unix seconds.
        let expires_unix = (Utc::now() + ttl).timestamp();
        let url = signer.signed_url(&self.artifacts.url_base, object_key, expires_unix);
        let expires_at = chrono::DateTime::from_timestamp(expires_unix, 0)
            .map(timestamp)
            .unwrap_or_default();
        Ok((url, expires_at))
    }
}
