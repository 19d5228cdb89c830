-- Share links: one per job at most, the token kept only as its SHA-256 (a leaked table
-- grants nothing). Turning a link off deletes its row, so a revoked token is unknown from
-- the next lookup on. Rows go with their job.
CREATE TABLE worker.share_links (
    job_id     uuid PRIMARY KEY REFERENCES worker.jobs (id) ON DELETE CASCADE,
    token_hash bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    created_at timestamptz NOT NULL DEFAULT now()
);
