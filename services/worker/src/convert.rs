//! Conversions between stored rows and the contract's messages.

use chrono::Utc;
use gts_proto::v1::{Artifact, ArtifactKind, ChainResult, Job, JobProgress};
use prost::Message;
use prost_types::Timestamp;

use crate::{
    error::WorkerError,
    queue::{ArtifactRow, JobRow},
};

pub use gts_common::{stored::stored, time::timestamp};

/// A protobuf timestamp of now.
pub fn timestamp_now() -> Timestamp {
    timestamp(Utc::now())
}

/// Encodes per-chain results for `jobs.chain_results` (length-delimited messages).
pub fn encode_chain_results(results: &[ChainResult]) -> Vec<u8> {
    let mut bytes = Vec::new();
    for result in results {
        // Writing into a Vec cannot run out of space.
        let _ = result.encode_length_delimited(&mut bytes);
    }
    bytes
}

/// Decodes `jobs.chain_results`.
pub fn decode_chain_results(mut bytes: &[u8]) -> Result<Vec<ChainResult>, WorkerError> {
    let mut results = Vec::new();
    while !bytes.is_empty() {
        results.push(ChainResult::decode_length_delimited(&mut bytes)?);
    }
    Ok(results)
}

/// The contract's view of a stored job.
pub fn job_to_proto(row: &JobRow) -> Result<Job, WorkerError> {
    let progress = row
        .progress
        .as_deref()
        .map(JobProgress::decode)
        .transpose()?;
    let chain_results = row
        .chain_results
        .as_deref()
        .map(decode_chain_results)
        .transpose()?
        .unwrap_or_default();
    Ok(Job {
        id: row.id.to_string(),
        shootout_id: row.shootout_id.to_string(),
        owner_user_id: row.owner_id.to_string(),
        status: row.status().to_proto() as i32,
        attempt: row.attempt,
        max_attempts: row.max_attempts,
        progress,
        error_message: row.error_message.clone(),
        idempotency_key: row.idempotency_key.clone(),
        created_at: Some(timestamp(row.created_at)),
        started_at: row.started_at.map(timestamp),
        finished_at: row.finished_at.map(timestamp),
        updated_at: Some(timestamp(row.updated_at)),
        chain_results,
    })
}

/// The contract's view of a stored artifact.
pub fn artifact_to_proto(row: &ArtifactRow) -> Result<Artifact, WorkerError> {
    Ok(Artifact {
        id: row.id.to_string(),
        job_id: row.job_id.to_string(),
        // A kind this build does not know (written by a newer worker during a rolling
        // deploy) is listed as unspecified rather than failing the whole list.
        kind: ArtifactKind::from_str_name(&row.kind).unwrap_or(ArtifactKind::Unspecified) as i32,
        chain_index: row
            .chain_index
            .map(|index| stored("job_artifacts.chain_index", index))
            .transpose()?,
        filename: row.filename.clone(),
        content_type: row.content_type.clone(),
        size_bytes: stored("job_artifacts.size_bytes", row.size_bytes)?,
        sha256: row.sha256.clone(),
        created_at: Some(timestamp(row.created_at)),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn chain_results_round_trip() {
        let results = vec![
            ChainResult {
                chain_index: 0,
                chain_id: "a".into(),
                display_name: "Plexi".into(),
                metrics: None,
                evaluation: vec!["Brighter than average by 420 Hz.".into()],
                ..Default::default()
            },
            ChainResult {
                chain_index: 1,
                ..Default::default()
            },
        ];
        let bytes = encode_chain_results(&results);
        assert_eq!(decode_chain_results(&bytes).unwrap(), results);
        assert!(decode_chain_results(&[0xff, 0xff]).is_err());
    }
}
