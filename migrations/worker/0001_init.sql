-- The worker service's schema: jobs (which are also the durable queue), their last
-- progress, and their artifacts. Shootouts and users are referenced by id only.

CREATE TABLE worker.jobs (
    id               uuid PRIMARY KEY,
    owner_id         uuid NOT NULL,
    shootout_id      uuid NOT NULL,
    idempotency_key  text NOT NULL,
    status           text NOT NULL DEFAULT 'queued'
        CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    -- The render spec snapshot taken at submit time.
    spec             jsonb NOT NULL,
    attempt          integer NOT NULL DEFAULT 0,
    max_attempts     integer NOT NULL DEFAULT 3,
    run_after        timestamptz NOT NULL DEFAULT now(),
    lease_owner      text,
    lease_expires_at timestamptz,
    progress         jsonb NOT NULL DEFAULT '{}',
    error_message    text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    started_at       timestamptz,
    finished_at      timestamptz,
    UNIQUE (owner_id, idempotency_key)
);
CREATE INDEX jobs_claimable_idx ON worker.jobs (run_after) WHERE status = 'queued';
CREATE INDEX jobs_owner_created_idx ON worker.jobs (owner_id, created_at DESC, id DESC);

CREATE TABLE worker.artifacts (
    id           uuid PRIMARY KEY,
    job_id       uuid NOT NULL REFERENCES worker.jobs (id) ON DELETE CASCADE,
    kind         text NOT NULL,
    chain_index  integer,
    object_key   text NOT NULL,
    content_type text NOT NULL,
    size_bytes   bigint NOT NULL,
    sha256       text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (job_id, object_key)
);
