-- The worker service's schema: jobs (which are also the durable queue), their last
-- progress, and their artifacts. Shootouts and users are referenced by id only.
--
-- The job row IS the queue entry: submitting inserts it (status 'queued'), so no committed
-- job is ever lost and no queue entry lacks its row. Workers claim with
-- `FOR UPDATE SKIP LOCKED` and hold a lease (lease_owner, lease_expires_at) that their
-- heartbeats renew. The state machine is enforced below by a trigger, so a late worker
-- (or any buggy statement) cannot bring a finished or cancelled job back.

CREATE TABLE worker.jobs (
    id               uuid PRIMARY KEY,
    owner_id         uuid NOT NULL,
    shootout_id      uuid NOT NULL,
    idempotency_key  text NOT NULL,
    status           text NOT NULL DEFAULT 'queued'
        CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    -- The render spec snapshot taken at submit time (prost-encoded gts.v1.RenderSpec).
    spec             bytea NOT NULL,
    -- Attempts started so far; a claim increments it.
    attempt          integer NOT NULL DEFAULT 0 CHECK (attempt >= 0),
    max_attempts     integer NOT NULL DEFAULT 3 CHECK (max_attempts >= 1),
    -- A queued job is not claimed before this time (retry backoff).
    run_after        timestamptz NOT NULL DEFAULT now(),
    lease_owner      text,
    lease_expires_at timestamptz,
    -- Last progress of the current attempt (prost-encoded gts.v1.JobProgress).
    progress         bytea,
    -- Per-chain results once succeeded (length-delimited gts.v1.ChainResult messages).
    chain_results    bytea,
    -- Why the job failed, or the last transient error while retrying.
    error_message    text NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL DEFAULT now(),
    started_at       timestamptz,
    finished_at      timestamptz,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (owner_id, idempotency_key),
    -- A lease exists exactly while the job runs.
    CHECK ((status = 'running') = (lease_owner IS NOT NULL AND lease_expires_at IS NOT NULL))
);
CREATE INDEX jobs_claimable_idx ON worker.jobs (run_after, created_at) WHERE status = 'queued';
CREATE INDEX jobs_lease_idx ON worker.jobs (lease_expires_at) WHERE status = 'running';
CREATE INDEX jobs_running_owner_idx ON worker.jobs (owner_id) WHERE status = 'running';
CREATE INDEX jobs_owner_created_idx ON worker.jobs (owner_id, created_at DESC, id DESC);

-- The only transitions: queued -> running | cancelled; running -> succeeded | failed |
-- cancelled, and running -> queued (a retry, or a lost worker's job put back). Terminal
-- rows never change again. Also keeps the bookkeeping columns right and wakes workers:
-- NOTIFY worker_job_queued when there is something to claim, worker_job_cancelled
-- (payload: the job id) when a job is cancelled, so the worker running it stops at once.
CREATE FUNCTION worker.guard_job_transition() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.status <> 'queued' THEN
            RAISE EXCEPTION 'a job starts queued, not %', NEW.status
                USING ERRCODE = 'check_violation';
        END IF;
        PERFORM pg_notify('worker_job_queued', '');
        RETURN NEW;
    END IF;

    IF OLD.status IN ('succeeded', 'failed', 'cancelled') THEN
        RAISE EXCEPTION 'job % is % and cannot change any more', OLD.id, OLD.status
            USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.status <> OLD.status AND NOT (
        (OLD.status = 'queued' AND NEW.status IN ('running', 'cancelled')) OR
        (OLD.status = 'running' AND NEW.status IN ('succeeded', 'failed', 'cancelled', 'queued'))
    ) THEN
        RAISE EXCEPTION 'job % cannot go from % to %', OLD.id, OLD.status, NEW.status
            USING ERRCODE = 'check_violation';
    END IF;

    NEW.updated_at := now();
    IF NEW.status <> 'running' THEN
        NEW.lease_owner := NULL;
        NEW.lease_expires_at := NULL;
    END IF;
    IF NEW.status IN ('succeeded', 'failed', 'cancelled') THEN
        NEW.finished_at := now();
    END IF;
    IF NEW.status = 'queued' AND OLD.status <> 'queued' THEN
        PERFORM pg_notify('worker_job_queued', '');
    END IF;
    IF NEW.status = 'cancelled' THEN
        PERFORM pg_notify('worker_job_cancelled', NEW.id::text);
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER jobs_guard_transition
    BEFORE INSERT OR UPDATE ON worker.jobs
    FOR EACH ROW EXECUTE FUNCTION worker.guard_job_transition();

CREATE TABLE worker.artifacts (
    id           uuid PRIMARY KEY,
    job_id       uuid NOT NULL REFERENCES worker.jobs (id) ON DELETE CASCADE,
    -- gts.v1.ArtifactKind name, e.g. 'ARTIFACT_KIND_CHAIN_FLAC'.
    kind         text NOT NULL,
    chain_index  integer CHECK (chain_index >= 0),
    filename     text NOT NULL,
    -- Key in the artifact store; the same on every attempt, so a re-run overwrites.
    object_key   text NOT NULL,
    content_type text NOT NULL,
    size_bytes   bigint NOT NULL CHECK (size_bytes >= 0),
    sha256       text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (job_id, object_key)
);
