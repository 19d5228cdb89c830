//! The durable job queue in PostgreSQL: the job row is the queue entry.
//!
//! Design contract:
//! - Enqueue is the row insert (`status = 'queued'`), atomic with the job itself.
//! - [`claim`] takes one claimable job (`queued`, `run_after <= now()`) with
//!   `FOR UPDATE SKIP LOCKED`, respecting the per-user running limit (checked under a
//!   per-user advisory lock so concurrent claimers cannot exceed it), and gives it a lease.
//! - Every later write by a worker is guarded by `status = 'running' AND lease_owner = $me
//!   AND attempt = $attempt`: a worker that lost its lease (or whose job was cancelled)
//!   changes nothing. The trigger in the migration additionally refuses any transition
//!   outside queued → running → succeeded | failed | cancelled (plus queued → cancelled and
//!   running → queued for retries), so a terminal job never changes again.
//! - [`reclaim_expired`] puts jobs whose lease expired (their worker died) back in the
//!   queue, or fails them when their attempts are used up.

pub mod backoff;
mod store;

pub use store::*;

use chrono::{DateTime, Utc};
use gts_proto::v1::JobStatus;
use uuid::Uuid;

/// A job's status as stored (`worker.jobs.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

impl Status {
    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Queued => "queued",
            Status::Running => "running",
            Status::Succeeded => "succeeded",
            Status::Failed => "failed",
            Status::Cancelled => "cancelled",
        }
    }

    /// Parses the stored text.
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "queued" => Status::Queued,
            "running" => Status::Running,
            "succeeded" => Status::Succeeded,
            "failed" => Status::Failed,
            "cancelled" => Status::Cancelled,
            _ => return None,
        })
    }

    /// Whether the job has ended for good.
    pub fn is_terminal(self) -> bool {
        matches!(self, Status::Succeeded | Status::Failed | Status::Cancelled)
    }

    /// The contract's enum.
    pub fn to_proto(self) -> JobStatus {
        match self {
            Status::Queued => JobStatus::Queued,
            Status::Running => JobStatus::Running,
            Status::Succeeded => JobStatus::Succeeded,
            Status::Failed => JobStatus::Failed,
            Status::Cancelled => JobStatus::Cancelled,
        }
    }

    /// From the contract's enum; `None` for UNSPECIFIED.
    pub fn from_proto(status: JobStatus) -> Option<Self> {
        match status {
            JobStatus::Unspecified => None,
            JobStatus::Queued => Some(Status::Queued),
            JobStatus::Running => Some(Status::Running),
            JobStatus::Succeeded => Some(Status::Succeeded),
            JobStatus::Failed => Some(Status::Failed),
            JobStatus::Cancelled => Some(Status::Cancelled),
        }
    }
}

/// One row of `worker.jobs`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct JobRow {
    pub id: Uuid,
    pub owner_id: Uuid,
    pub shootout_id: Uuid,
    pub idempotency_key: String,
    pub status: String,
    pub spec: Vec<u8>,
    /// Decoded strictly: a stored value out of range fails the row's decode (a corrupt
    /// row is an error, never a zero).
    #[sqlx(try_from = "i32")]
    pub attempt: u32,
    #[sqlx(try_from = "i32")]
    pub max_attempts: u32,
    pub run_after: DateTime<Utc>,
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<DateTime<Utc>>,
    pub progress: Option<Vec<u8>>,
    pub chain_results: Option<Vec<u8>>,
    pub error_message: String,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

impl JobRow {
    /// The parsed status (the CHECK constraint guarantees one of the five).
    pub fn status(&self) -> Status {
        Status::parse(&self.status).unwrap_or(Status::Failed)
    }
}

/// The claim a worker holds on a running job; every guarded write names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub job_id: Uuid,
    pub owner: String,
    pub attempt: u32,
}

/// One artifact row to record with a job's success.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactRecord {
    /// gts.v1.ArtifactKind name.
    pub kind: String,
    pub chain_index: Option<i32>,
    pub filename: String,
    pub object_key: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
}

/// One row of `worker.artifacts`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ArtifactRow {
    pub id: Uuid,
    pub job_id: Uuid,
    pub kind: String,
    pub chain_index: Option<i32>,
    pub filename: String,
    pub object_key: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub created_at: DateTime<Utc>,
}
