-- The shootout service's schema: shootouts with ordered signal chains of typed blocks,
-- user assets (DI tracks, uploaded .nam models and IRs) and resumable uploads.
-- Users are referenced by id only: they belong to the auth service.

CREATE TABLE shootout.shootouts (
    id              uuid PRIMARY KEY,
    owner_id        uuid NOT NULL,
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description     text NOT NULL DEFAULT '',
    guitar          text NOT NULL DEFAULT '',
    pickup_notes    text NOT NULL DEFAULT '',
    -- Output options: loudness target (LUFS), A/B phrase length, video on/off.
    loudness_target_lufs double precision NOT NULL DEFAULT -14,
    phrase_length_seconds double precision NOT NULL DEFAULT 4
        CHECK (phrase_length_seconds BETWEEN 3 AND 5),
    video_enabled   boolean NOT NULL DEFAULT true,
    version         bigint NOT NULL DEFAULT 1,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX shootouts_owner_created_idx ON shootout.shootouts (owner_id, created_at DESC, id DESC);

CREATE TABLE shootout.assets (
    id          uuid PRIMARY KEY,
    owner_id    uuid NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('di_track', 'nam_model', 'impulse_response')),
    filename    text NOT NULL,
    size_bytes  bigint NOT NULL CHECK (size_bytes >= 0),
    sha256      text NOT NULL,
    object_key  text NOT NULL,
    -- Facts measured at upload (duration, rate, architecture, ...), by kind.
    facts       jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX assets_owner_idx ON shootout.assets (owner_id, created_at DESC);

CREATE TABLE shootout.di_tracks (
    shootout_id uuid NOT NULL REFERENCES shootout.shootouts (id) ON DELETE CASCADE,
    position    integer NOT NULL CHECK (position >= 0),
    asset_id    uuid NOT NULL REFERENCES shootout.assets (id),
    PRIMARY KEY (shootout_id, position)
);

CREATE TABLE shootout.signal_chains (
    id           uuid PRIMARY KEY,
    shootout_id  uuid NOT NULL REFERENCES shootout.shootouts (id) ON DELETE CASCADE,
    position     integer NOT NULL CHECK (position >= 0),
    display_name text NOT NULL,
    description  text NOT NULL DEFAULT '',
    -- Ordered typed blocks, stored as the protobuf JSON mapping of each Block.
    blocks       jsonb NOT NULL DEFAULT '[]',
    UNIQUE (shootout_id, position) DEFERRABLE INITIALLY DEFERRED
);

CREATE TABLE shootout.uploads (
    id              uuid PRIMARY KEY,
    owner_id        uuid NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('di_track', 'nam_model', 'impulse_response')),
    filename        text NOT NULL,
    size_bytes      bigint NOT NULL CHECK (size_bytes > 0),
    sha256          text NOT NULL,
    bytes_received  bigint NOT NULL DEFAULT 0,
    state           text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'finished', 'aborted', 'expired')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL
);
CREATE INDEX uploads_owner_open_idx ON shootout.uploads (owner_id) WHERE state = 'open';
