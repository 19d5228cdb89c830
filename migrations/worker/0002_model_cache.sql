-- TONE3000 model files the worker has downloaded, cached in the object store under
-- `cache/tone3000/<sha256>` (content-addressed: two model ids with the same bytes share a
-- blob). The rows are the cache's index: a hit touches last_used_at, and when the sizes add
-- up to more than the configured cap the least recently used rows are deleted (and their
-- blob when no other row names it). A blob evicted while a render reads it is simply
-- downloaded again.
CREATE TABLE worker.model_cache (
    model_id     bigint PRIMARY KEY,
    sha256       text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    size_bytes   bigint NOT NULL CHECK (size_bytes >= 0),
    last_used_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX model_cache_lru ON worker.model_cache (last_used_at DESC, model_id);
CREATE INDEX model_cache_sha256 ON worker.model_cache (sha256);
