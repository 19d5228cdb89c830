//! The SQL of the queue. Every statement that a worker runs on a job it claimed is guarded
//! by its [`Lease`]; see the module contract in `queue/mod.rs`.

use std::time::Duration;

use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

use super::{ArtifactRecord, ArtifactRow, JobRow, Lease, Status};

macro_rules! job_columns {
    () => {
        "id, owner_id, shootout_id, idempotency_key, status, spec, attempt, max_attempts, \
         run_after, lease_owner, lease_expires_at, progress, chain_results, error_message, \
         created_at, started_at, finished_at, updated_at"
    };
}

macro_rules! artifact_columns {
    () => {
        "id, job_id, kind, chain_index, filename, object_key, content_type, size_bytes, sha256, \
         created_at"
    };
}

/// The lease guard every worker write carries ($1 id, $2 owner, $3 attempt).
macro_rules! lease_guard {
    () => {
        " WHERE id = $1 AND status = 'running' AND lease_owner = $2 AND attempt = $3 "
    };
}

/// Candidates one claim looks at before giving up (busy users are skipped).
const CLAIM_CANDIDATES: usize = 16;

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// What a new job is made of.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub id: Uuid,
    pub owner_id: Uuid,
    pub shootout_id: Uuid,
    pub idempotency_key: String,
    pub spec: Vec<u8>,
    pub max_attempts: i32,
}

/// The caller's job with this idempotency key, if any.
pub async fn find_by_key(
    db: &PgPool,
    owner_id: Uuid,
    idempotency_key: &str,
) -> Result<Option<JobRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        job_columns!(),
        " FROM jobs WHERE owner_id = $1 AND idempotency_key = $2"
    ))
    .bind(owner_id)
    .bind(idempotency_key)
    .fetch_optional(db)
    .await
}

/// Inserts (enqueues) a job; `None` when the owner already used the idempotency key.
pub async fn insert(db: &PgPool, job: &NewJob) -> Result<Option<JobRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "INSERT INTO jobs (id, owner_id, shootout_id, idempotency_key, spec, max_attempts) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (owner_id, idempotency_key) DO NOTHING RETURNING ",
        job_columns!()
    ))
    .bind(job.id)
    .bind(job.owner_id)
    .bind(job.shootout_id)
    .bind(&job.idempotency_key)
    .bind(&job.spec)
    .bind(job.max_attempts)
    .fetch_optional(db)
    .await
}

/// The owner's job `id`; `None` when missing or someone else's.
pub async fn get(db: &PgPool, owner_id: Uuid, id: Uuid) -> Result<Option<JobRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        job_columns!(),
        " FROM jobs WHERE id = $1 AND owner_id = $2"
    ))
    .bind(id)
    .bind(owner_id)
    .fetch_optional(db)
    .await
}

/// Any job by id (internal use: workers and watch streams that already checked ownership).
pub async fn get_any(db: &PgPool, id: Uuid) -> Result<Option<JobRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        job_columns!(),
        " FROM jobs WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(db)
    .await
}

/// Filters and position of a ListJobs page.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub status: Option<Status>,
    pub shootout_id: Option<Uuid>,
    /// Strictly older than this (created_at, id), newest first.
    pub before: Option<(chrono::DateTime<chrono::Utc>, Uuid)>,
    pub limit: i64,
}

/// The owner's jobs, newest first.
pub async fn list(
    db: &PgPool,
    owner_id: Uuid,
    filter: &ListFilter,
) -> Result<Vec<JobRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        job_columns!(),
        " FROM jobs WHERE owner_id = $1 \
           AND ($2::text IS NULL OR status = $2) \
           AND ($3::uuid IS NULL OR shootout_id = $3) \
           AND ($4::timestamptz IS NULL OR (created_at, id) < ($4, $5)) \
         ORDER BY created_at DESC, id DESC LIMIT $6"
    ))
    .bind(owner_id)
    .bind(filter.status.map(Status::as_str))
    .bind(filter.shootout_id)
    .bind(filter.before.map(|(at, _)| at))
    .bind(filter.before.map(|(_, id)| id))
    .bind(filter.limit)
    .fetch_all(db)
    .await
}

/// What a cancel request did.
#[derive(Debug)]
pub enum CancelOutcome {
    /// The job was queued or running and is now cancelled.
    Cancelled { from: Status, job: JobRow },
    /// The job had already ended; it is unchanged.
    AlreadyFinished(JobRow),
    /// No such job for this owner.
    NotFound,
}

/// Cancels the owner's job if it has not ended.
pub async fn cancel(db: &PgPool, owner_id: Uuid, id: Uuid) -> Result<CancelOutcome, sqlx::Error> {
    let mut tx = db.begin().await?;
    let current: Option<JobRow> = sqlx::query_as(concat!(
        "SELECT ",
        job_columns!(),
        " FROM jobs WHERE id = $1 AND owner_id = $2 FOR UPDATE"
    ))
    .bind(id)
    .bind(owner_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(current) = current else {
        return Ok(CancelOutcome::NotFound);
    };
    let from = current.status();
    if from.is_terminal() {
        return Ok(CancelOutcome::AlreadyFinished(current));
    }
    let job: JobRow = sqlx::query_as(concat!(
        "UPDATE jobs SET status = 'cancelled' WHERE id = $1 RETURNING ",
        job_columns!()
    ))
    .bind(id)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(CancelOutcome::Cancelled { from, job })
}

/// Of `ids`, the jobs that are neither queued nor running: ended, or not stored at all.
pub async fn without_pending(db: &PgPool, ids: &[Uuid]) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT candidate.id FROM unnest($1::uuid[]) AS candidate(id) \
         WHERE NOT EXISTS (SELECT 1 FROM jobs \
             WHERE jobs.id = candidate.id AND jobs.status IN ('queued', 'running'))",
    )
    .bind(ids)
    .fetch_all(db)
    .await
}

/// Claims one claimable job for `lease_owner`, or `None` when there is nothing to do
/// (including when every waiting job belongs to a user at the running limit).
pub async fn claim(
    db: &PgPool,
    lease_owner: &str,
    lease: Duration,
    user_running_limit: i64,
) -> Result<Option<JobRow>, sqlx::Error> {
    let mut tx = db.begin().await?;
    // Users found busy in this transaction (at their limit, or being claimed for by another
    // worker right now) are skipped. Candidates are locked one at a time, so concurrent
    // claimers never hide more than the one row each is looking at from one another.
    let mut skipped: Vec<Uuid> = Vec::new();
    for _ in 0..CLAIM_CANDIDATES {
        let candidate: Option<(Uuid, Uuid)> = sqlx::query_as(
            "SELECT id, owner_id FROM jobs \
             WHERE status = 'queued' AND run_after <= now() AND owner_id <> ALL($2) \
               AND owner_id NOT IN ( \
                 SELECT owner_id FROM jobs WHERE status = 'running' \
                 GROUP BY owner_id HAVING count(*) >= $1) \
             ORDER BY run_after, created_at \
             LIMIT 1 FOR UPDATE SKIP LOCKED",
        )
        .bind(user_running_limit)
        .bind(&skipped)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((job_id, owner_id)) = candidate else {
            break;
        };
        // The advisory lock makes the running count exact against concurrent claimers.
        if !lock_user(&mut tx, owner_id).await? {
            skipped.push(owner_id);
            continue;
        }
        let (running,): (i64,) =
            sqlx::query_as("SELECT count(*) FROM jobs WHERE owner_id = $1 AND status = 'running'")
                .bind(owner_id)
                .fetch_one(&mut *tx)
                .await?;
        if running >= user_running_limit {
            skipped.push(owner_id);
            continue;
        }
        let claimed: JobRow = sqlx::query_as(concat!(
            "UPDATE jobs SET status = 'running', attempt = attempt + 1, lease_owner = $2, \
               lease_expires_at = now() + ($3::bigint * interval '1 millisecond'), \
               started_at = now(), progress = NULL \
             WHERE id = $1 RETURNING ",
            job_columns!()
        ))
        .bind(job_id)
        .bind(lease_owner)
        .bind(millis(lease))
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        return Ok(Some(claimed));
    }
    tx.commit().await?;
    Ok(None)
}

/// Takes the transaction-scoped lock of one user's running slots, without waiting.
async fn lock_user(
    tx: &mut Transaction<'_, Postgres>,
    owner_id: Uuid,
) -> Result<bool, sqlx::Error> {
    let (locked,): (bool,) = sqlx::query_as(
        "SELECT pg_try_advisory_xact_lock(hashtextextended('gts-worker-user:' || $1::text, 0))",
    )
    .bind(owner_id)
    .fetch_one(&mut **tx)
    .await?;
    Ok(locked)
}

/// Renews a lease; `false` when it is no longer held (expired and reclaimed, or cancelled).
pub async fn renew(db: &PgPool, lease: &Lease, length: Duration) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(concat!(
        "UPDATE jobs SET lease_expires_at = now() + ($4::bigint * interval '1 millisecond')",
        lease_guard!()
    ))
    .bind(lease.job_id)
    .bind(&lease.owner)
    .bind(i64::from(lease.attempt))
    .bind(millis(length))
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Stores the last progress; `false` when the lease is no longer held.
pub async fn save_progress(
    db: &PgPool,
    lease: &Lease,
    progress: &[u8],
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(concat!("UPDATE jobs SET progress = $4", lease_guard!()))
        .bind(lease.job_id)
        .bind(&lease.owner)
        .bind(i64::from(lease.attempt))
        .bind(progress)
        .execute(db)
        .await?;
    Ok(result.rows_affected() == 1)
}

/// Marks the job succeeded and records its artifacts, atomically; `None` (nothing
/// written) when the lease is no longer held.
pub async fn complete(
    db: &PgPool,
    lease: &Lease,
    progress: Option<&[u8]>,
    chain_results: &[u8],
    artifacts: &[ArtifactRecord],
) -> Result<Option<JobRow>, sqlx::Error> {
    let mut tx = db.begin().await?;
    let job: Option<JobRow> = sqlx::query_as(concat!(
        "UPDATE jobs SET status = 'succeeded', progress = COALESCE($4, progress), \
           chain_results = $5, error_message = ''",
        lease_guard!(),
        "RETURNING ",
        job_columns!()
    ))
    .bind(lease.job_id)
    .bind(&lease.owner)
    .bind(i64::from(lease.attempt))
    .bind(progress)
    .bind(chain_results)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(job) = job else {
        return Ok(None);
    };
    for artifact in artifacts {
        // Same key on a re-run: keep the row (and its id), refresh the facts.
        sqlx::query(
            "INSERT INTO artifacts (id, job_id, kind, chain_index, filename, object_key, \
               content_type, size_bytes, sha256) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (job_id, object_key) DO UPDATE SET kind = EXCLUDED.kind, \
               chain_index = EXCLUDED.chain_index, filename = EXCLUDED.filename, \
               content_type = EXCLUDED.content_type, size_bytes = EXCLUDED.size_bytes, \
               sha256 = EXCLUDED.sha256, created_at = now()",
        )
        .bind(Uuid::now_v7())
        .bind(lease.job_id)
        .bind(&artifact.kind)
        .bind(artifact.chain_index)
        .bind(&artifact.filename)
        .bind(&artifact.object_key)
        .bind(&artifact.content_type)
        .bind(artifact.size_bytes)
        .bind(&artifact.sha256)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(Some(job))
}

/// Fails the job for good; `None` when the lease is no longer held.
pub async fn fail(
    db: &PgPool,
    lease: &Lease,
    message: &str,
) -> Result<Option<JobRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "UPDATE jobs SET status = 'failed', error_message = $4",
        lease_guard!(),
        "RETURNING ",
        job_columns!()
    ))
    .bind(lease.job_id)
    .bind(&lease.owner)
    .bind(i64::from(lease.attempt))
    .bind(message)
    .fetch_optional(db)
    .await
}

/// Puts the job back in the queue after a transient failure, claimable after `delay`;
/// `None` when the lease is no longer held.
pub async fn retry(
    db: &PgPool,
    lease: &Lease,
    message: &str,
    delay: Duration,
) -> Result<Option<JobRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "UPDATE jobs SET status = 'queued', error_message = $4, \
           run_after = now() + ($5::bigint * interval '1 millisecond')",
        lease_guard!(),
        "RETURNING ",
        job_columns!()
    ))
    .bind(lease.job_id)
    .bind(&lease.owner)
    .bind(i64::from(lease.attempt))
    .bind(message)
    .bind(millis(delay))
    .fetch_optional(db)
    .await
}

/// Gives a job back when its worker shuts down: queued again at once, and the attempt
/// it had started does not count.
pub async fn release(db: &PgPool, lease: &Lease) -> Result<Option<JobRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "UPDATE jobs SET status = 'queued', attempt = attempt - 1, run_after = now()",
        lease_guard!(),
        "RETURNING ",
        job_columns!()
    ))
    .bind(lease.job_id)
    .bind(&lease.owner)
    .bind(i64::from(lease.attempt))
    .fetch_optional(db)
    .await
}

/// The message a job carries after its worker stopped responding.
pub const LOST_WORKER_MESSAGE: &str = "the worker rendering this job stopped responding";

/// Requeues (or, with no attempts left, fails) up to `limit` running jobs whose lease has
/// expired. Returns the rows after the change.
pub async fn reclaim_expired(db: &PgPool, limit: i64) -> Result<Vec<JobRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "UPDATE jobs SET \
           status = CASE WHEN attempt >= max_attempts THEN 'failed' ELSE 'queued' END, \
           error_message = $1, run_after = now() \
         WHERE id IN (SELECT id FROM jobs WHERE status = 'running' AND lease_expires_at < now() \
                      ORDER BY lease_expires_at LIMIT $2 FOR UPDATE SKIP LOCKED) \
         RETURNING ",
        job_columns!()
    ))
    .bind(LOST_WORKER_MESSAGE)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// A job's artifacts: chain artifacts in chain order, then the shared ones.
pub async fn list_artifacts(db: &PgPool, job_id: Uuid) -> Result<Vec<ArtifactRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        artifact_columns!(),
        " FROM artifacts WHERE job_id = $1 ORDER BY chain_index NULLS LAST, kind, filename"
    ))
    .bind(job_id)
    .fetch_all(db)
    .await
}

/// One artifact of a job.
pub async fn get_artifact(
    db: &PgPool,
    job_id: Uuid,
    artifact_id: Uuid,
) -> Result<Option<ArtifactRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        artifact_columns!(),
        " FROM artifacts WHERE job_id = $1 AND id = $2"
    ))
    .bind(job_id)
    .bind(artifact_id)
    .fetch_optional(db)
    .await
}
