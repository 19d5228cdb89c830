//! SubmitJob, GetJob, ListJobs and CancelJob.

use gts_proto::v1::{
    Job, JobStatus, ListJobsRequest, ListJobsResponse, SubmitJobRequest, SubmitJobResponse,
};
use prost::Message;
use uuid::Uuid;

use super::{JobApi, paging, parse_id};
use crate::{
    convert::job_to_proto,
    error::WorkerError,
    events,
    queue::{self, CancelOutcome, JobRow, ListFilter, NewJob, Status},
    spec_source::SpecError,
};

const MAX_IDEMPOTENCY_KEY_CHARS: usize = 128;

impl JobApi {
    pub(super) async fn submit(
        &self,
        owner: Uuid,
        request: SubmitJobRequest,
    ) -> Result<SubmitJobResponse, WorkerError> {
        let shootout_id = parse_id("shootout_id", &request.shootout_id)?;
        let key = request.idempotency_key;
        let key_chars = key.chars().count();
        if key_chars == 0 || key_chars > MAX_IDEMPOTENCY_KEY_CHARS {
            return Err(WorkerError::InvalidArgument(format!(
                "idempotency_key must be 1 to {MAX_IDEMPOTENCY_KEY_CHARS} characters"
            )));
        }
        if let Some(existing) = queue::find_by_key(&self.db, owner, &key).await? {
            return existing_job(&existing, shootout_id);
        }
        let spec =
            self.specs
                .render_spec(shootout_id, owner)
                .await
                .map_err(|error| match error {
                    SpecError::NotFound => WorkerError::NotFound("shootout"),
                    SpecError::NotRenderable(message) => WorkerError::FailedPrecondition(message),
                    SpecError::Unavailable(message) => WorkerError::Unavailable(message),
                })?;
        let new_job = NewJob {
            id: Uuid::now_v7(),
            owner_id: owner,
            shootout_id,
            idempotency_key: key.clone(),
            spec: spec.encode_to_vec(),
            max_attempts: self.max_attempts,
        };
        // Before the insert: a worker may claim the job as soon as it exists.
        if let Err(error) = crate::observe::store_trace(&self.db, new_job.id).await {
            tracing::warn!(%error, job_id = %new_job.id, "cannot store a job's trace context");
        }
        let Some(row) = queue::insert(&self.db, &new_job).await? else {
            crate::observe::forget_trace(&self.db, new_job.id).await;
            // A concurrent call with the same key won the insert.
            let existing = queue::find_by_key(&self.db, owner, &key)
                .await?
                .ok_or(WorkerError::NotFound("job"))?;
            return existing_job(&existing, shootout_id);
        };
        if let Err(error) = self
            .log
            .append_reliably(row.id, events::status_change(None, Status::Queued, 0, ""))
            .await
        {
            // The job is queued all the same; watchers start from its snapshot.
            tracing::warn!(%error, job_id = %row.id, "cannot log a job's submission");
        }
        Ok(SubmitJobResponse {
            job: Some(job_to_proto(&row)?),
            created: true,
        })
    }

    pub(super) async fn job(&self, owner: Uuid, job_id: Uuid) -> Result<Job, WorkerError> {
        let row = queue::get(&self.db, owner, job_id)
            .await?
            .ok_or(WorkerError::NotFound("job"))?;
        job_to_proto(&row)
    }

    pub(super) async fn list(
        &self,
        owner: Uuid,
        request: &ListJobsRequest,
    ) -> Result<ListJobsResponse, WorkerError> {
        let status = JobStatus::try_from(request.status)
            .map_err(|_| WorkerError::InvalidArgument("status is not a JobStatus".to_owned()))?;
        let shootout_id = if request.shootout_id.is_empty() {
            None
        } else {
            Some(parse_id("shootout_id", &request.shootout_id)?)
        };
        let page_size = gts_common::paging::page_size(request.page_size)
            .map_err(|message| WorkerError::InvalidArgument(format!("page_size: {message}")))?;
        let before = if request.page_token.is_empty() {
            None
        } else {
            Some(paging::decode(&request.page_token)?)
        };
        let filter = ListFilter {
            status: Status::from_proto(status),
            shootout_id,
            before,
            limit: i64::from(page_size) + 1,
        };
        let mut rows = queue::list(&self.db, owner, &filter).await?;
        let has_more = rows.len() > page_size as usize;
        rows.truncate(page_size as usize);
        let next_page_token = match rows.last() {
            Some(last) if has_more => paging::encode(last.created_at, last.id),
            _ => String::new(),
        };
        Ok(ListJobsResponse {
            jobs: rows.iter().map(job_to_proto).collect::<Result<_, _>>()?,
            next_page_token,
        })
    }

    pub(super) async fn cancel(&self, owner: Uuid, job_id: Uuid) -> Result<Job, WorkerError> {
        match queue::cancel(&self.db, owner, job_id).await? {
            CancelOutcome::NotFound => Err(WorkerError::NotFound("job")),
            CancelOutcome::AlreadyFinished(row) => job_to_proto(&row),
            CancelOutcome::Cancelled { from, job } => {
                // The worker running it (if any) was told by NOTIFY; watchers learn here.
                if let Err(error) = self
                    .log
                    .append_reliably(
                        job.id,
                        events::status_change(Some(from), Status::Cancelled, job.attempt, ""),
                    )
                    .await
                {
                    tracing::warn!(%error, %job_id, "cannot log a cancellation");
                }
                job_to_proto(&job)
            }
        }
    }
}

fn existing_job(row: &JobRow, shootout_id: Uuid) -> Result<SubmitJobResponse, WorkerError> {
    if row.shootout_id != shootout_id {
        return Err(WorkerError::FailedPrecondition(
            "this idempotency_key was already used to submit another shootout".to_owned(),
        ));
    }
    Ok(SubmitJobResponse {
        job: Some(job_to_proto(row)?),
        created: false,
    })
}
