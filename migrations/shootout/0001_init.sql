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
    -- Output options: loudness target (LUFS), A/B phrase length, DI level, video on/off.
    loudness_target_lufs double precision NOT NULL DEFAULT -14,
    phrase_length_seconds double precision NOT NULL DEFAULT 4
        CHECK (phrase_length_seconds BETWEEN 3 AND 5),
    input_level_dbfs double precision NOT NULL DEFAULT -18,
    video_enabled   boolean NOT NULL DEFAULT true,
    -- Bumped by every mutation; the etag clients send back.
    version         bigint NOT NULL DEFAULT 1,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
-- Cursor pagination: newest first by (created_at, id) within an owner.
CREATE INDEX shootouts_owner_created_idx ON shootout.shootouts (owner_id, created_at DESC, id DESC);

CREATE TABLE shootout.assets (
    id          uuid PRIMARY KEY,
    owner_id    uuid NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('di_track', 'nam_model', 'impulse_response')),
    filename    text NOT NULL,
    size_bytes  bigint NOT NULL CHECK (size_bytes >= 0),
    sha256      text NOT NULL,
    -- Content-addressed key in the object store (shared by identical files).
    object_key  text NOT NULL,
    -- Facts measured at upload, the encoded protobuf AudioFacts/NamFacts/IrFacts by kind.
    facts       bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX assets_owner_idx ON shootout.assets (owner_id, created_at DESC, id DESC);
CREATE INDEX assets_object_key_idx ON shootout.assets (object_key);

CREATE TABLE shootout.di_tracks (
    shootout_id uuid NOT NULL REFERENCES shootout.shootouts (id) ON DELETE CASCADE,
    position    integer NOT NULL CHECK (position >= 0),
    -- RESTRICT: an asset a shootout plays cannot disappear under it.
    asset_id    uuid NOT NULL REFERENCES shootout.assets (id) ON DELETE RESTRICT,
    label       text NOT NULL DEFAULT '',
    PRIMARY KEY (shootout_id, position)
);
CREATE INDEX di_tracks_asset_idx ON shootout.di_tracks (asset_id);

CREATE TABLE shootout.signal_chains (
    id           uuid PRIMARY KEY,
    shootout_id  uuid NOT NULL REFERENCES shootout.shootouts (id) ON DELETE CASCADE,
    position     integer NOT NULL CHECK (position >= 0),
    display_name text NOT NULL,
    description  text NOT NULL DEFAULT '',
    -- Ordered typed blocks: a protobuf-encoded gts.v1.SignalChain holding only `blocks`,
    -- so a read returns exactly what was written.
    blocks       bytea NOT NULL,
    UNIQUE (shootout_id, position) DEFERRABLE INITIALLY DEFERRED
);

-- Which uploaded assets the blocks of a chain use (kept in step with `blocks`), so an asset
-- still in use cannot be deleted.
CREATE TABLE shootout.chain_assets (
    chain_id  uuid NOT NULL REFERENCES shootout.signal_chains (id) ON DELETE CASCADE,
    asset_id  uuid NOT NULL REFERENCES shootout.assets (id) ON DELETE RESTRICT,
    PRIMARY KEY (chain_id, asset_id)
);
CREATE INDEX chain_assets_asset_idx ON shootout.chain_assets (asset_id);

CREATE TABLE shootout.uploads (
    id              uuid PRIMARY KEY,
    owner_id        uuid NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('di_track', 'nam_model', 'impulse_response')),
    filename        text NOT NULL,
    size_bytes      bigint NOT NULL CHECK (size_bytes > 0),
    sha256          text NOT NULL,
    bytes_received  bigint NOT NULL DEFAULT 0 CHECK (bytes_received BETWEEN 0 AND size_bytes),
    state           text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'finished', 'aborted', 'expired')),
    -- Set once finished.
    asset_id        uuid REFERENCES shootout.assets (id) ON DELETE SET NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL
);
CREATE INDEX uploads_owner_open_idx ON shootout.uploads (owner_id) WHERE state = 'open';
CREATE INDEX uploads_expiry_idx ON shootout.uploads (expires_at) WHERE state = 'open';
