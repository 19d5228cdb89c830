-- The W3C trace context of the call that queued a job, so the worker that claims it
-- continues the same trace (services/worker/src/observe.rs). Written before the job
-- itself (a worker may claim the job the moment it is inserted), hence no foreign key;
-- a row whose job was never inserted (an idempotent retry) is deleted at once.
CREATE TABLE worker.job_traces (
    job_id      uuid PRIMARY KEY,
    traceparent text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
