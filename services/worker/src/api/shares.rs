//! Share links: ShareJob and UnshareJob (the owner's), GetSharedResult and
//! GetSharedArtifactUrl (anyone holding the token, no sign-in).
//!
//! Contract: a token is 256 random bits (43 URL-safe base64 characters), shown once; only
//! its SHA-256 is stored (`worker.share_links`, computed by PostgreSQL). A token grants
//! exactly one succeeded job's result and its artifacts: an unknown, revoked or malformed
//! token and an artifact of another job all answer NOT_FOUND, the same answer, so tokens
//! and artifact ids cannot be probed. Revoking deletes the row, so the next lookup
//! fails; shared download URLs live [`SHARED_URL_TTL`] only and the gateway asks for a
//! fresh one on every download.

use std::time::Duration;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use gts_proto::v1::{
    GetSharedArtifactUrlResponse, GetSharedResultResponse, RenderSpec, ShareJobResponse,
    SharedChain, UnshareJobResponse,
};
use prost::Message;
use uuid::Uuid;

use super::JobApi;
use crate::{
    convert::{artifact_to_proto, job_to_proto, timestamp},
    error::WorkerError,
    queue::{self, Status},
};

/// How long a download URL handed out for a shared result stays valid.
pub const SHARED_URL_TTL: Duration = Duration::from_secs(60);

/// Length of a token in characters (32 bytes, URL-safe base64 without padding).
const TOKEN_CHARS: usize = 43;

fn new_token() -> String {
    let bytes: [u8; 32] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A token with the shape of one; anything else is NOT_FOUND without a query.
fn well_formed(token: &str) -> bool {
    token.len() == TOKEN_CHARS
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl JobApi {
    pub(super) async fn share(
        &self,
        owner: Uuid,
        job_id: Uuid,
    ) -> Result<ShareJobResponse, WorkerError> {
        let job = queue::get(&self.db, owner, job_id)
            .await?
            .ok_or(WorkerError::NotFound("job"))?;
        if job.status() != Status::Succeeded {
            return Err(WorkerError::FailedPrecondition(
                "only a finished render can be shared; wait until it has succeeded".to_owned(),
            ));
        }
        let token = new_token();
        let shared_at: DateTime<Utc> = sqlx::query_scalar(
            "INSERT INTO share_links (job_id, token_hash) \
             VALUES ($1, sha256(convert_to($2, 'UTF8'))) \
             ON CONFLICT (job_id) DO UPDATE \
               SET token_hash = EXCLUDED.token_hash, created_at = now() \
             RETURNING created_at",
        )
        .bind(job_id)
        .bind(&token)
        .fetch_one(&self.db)
        .await?;
        Ok(ShareJobResponse {
            token,
            shared_at: Some(timestamp(shared_at)),
        })
    }

    pub(super) async fn unshare(
        &self,
        owner: Uuid,
        job_id: Uuid,
    ) -> Result<UnshareJobResponse, WorkerError> {
        let deleted = sqlx::query(
            "DELETE FROM share_links s USING jobs j \
             WHERE s.job_id = j.id AND j.id = $1 AND j.owner_id = $2",
        )
        .bind(job_id)
        .bind(owner)
        .execute(&self.db)
        .await?
        .rows_affected();
        if deleted == 0 {
            // Missing, someone else's, or not shared: tell the first two apart from the last.
            queue::get(&self.db, owner, job_id)
                .await?
                .ok_or(WorkerError::NotFound("job"))?;
        }
        Ok(UnshareJobResponse {
            revoked: deleted > 0,
        })
    }

    /// The job a live token grants.
    async fn shared_job(&self, token: &str) -> Result<queue::JobRow, WorkerError> {
        if !well_formed(token) {
            return Err(WorkerError::NotFound("shared result"));
        }
        let job_id: Option<Uuid> = sqlx::query_scalar(
            "SELECT job_id FROM share_links WHERE token_hash = sha256(convert_to($1, 'UTF8'))",
        )
        .bind(token)
        .fetch_optional(&self.db)
        .await?;
        let job_id = job_id.ok_or(WorkerError::NotFound("shared result"))?;
        queue::get_any(&self.db, job_id)
            .await?
            .filter(|job| job.status() == Status::Succeeded)
            .ok_or(WorkerError::NotFound("shared result"))
    }

    pub(super) async fn shared_result(
        &self,
        token: &str,
    ) -> Result<GetSharedResultResponse, WorkerError> {
        let row = self.shared_job(token).await?;
        let job = job_to_proto(&row)?;
        let spec = RenderSpec::decode(row.spec.as_slice())?;
        let shootout = spec.shootout.unwrap_or_default();
        let artifacts = queue::list_artifacts(&self.db, row.id)
            .await?
            .iter()
            .map(|a| {
                Ok(gts_proto::v1::Artifact {
                    job_id: String::new(),
                    ..artifact_to_proto(a)?
                })
            })
            .collect::<Result<_, WorkerError>>()?;
        Ok(GetSharedResultResponse {
            shootout_name: shootout.name,
            chains: shootout
                .chains
                .into_iter()
                .map(|chain| SharedChain {
                    display_name: chain.display_name,
                    blocks: chain.blocks,
                    input_high_pass_hz: chain.input_high_pass_hz.unwrap_or(0.0),
                })
                .collect(),
            chain_results: job.chain_results,
            artifacts,
            finished_at: job.finished_at,
        })
    }

    pub(super) async fn shared_artifact_url(
        &self,
        token: &str,
        artifact_id: Uuid,
    ) -> Result<GetSharedArtifactUrlResponse, WorkerError> {
        let job = self.shared_job(token).await?;
        let artifact = queue::get_artifact(&self.db, job.id, artifact_id)
            .await?
            .ok_or(WorkerError::NotFound("shared result"))?;
        let (url, expires_at) = self.sign(&artifact.object_key, SHARED_URL_TTL)?;
        Ok(GetSharedArtifactUrlResponse {
            url,
            expires_at: Some(expires_at),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_well_formed_and_distinct() {
        let a = new_token();
        let b = new_token();
        assert!(well_formed(&a), "{a}");
        assert_ne!(a, b);
        for bad in ["", "short", &format!("{}!", &a[..42]), &format!("{a}x")] {
            assert!(!well_formed(bad), "{bad}");
        }
    }
}
