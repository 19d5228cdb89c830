-- The auth service's schema: users, sessions with rotating refresh tokens, and the
-- TONE3000 tokens it holds in custody (encrypted at rest; key id stored with each value).
-- The search_path is `auth`; names are qualified anyway so the file reads on its own.

CREATE TABLE auth.users (
    id              uuid PRIMARY KEY,
    tone3000_id     text NOT NULL UNIQUE,
    username        text NOT NULL,
    avatar_url      text,
    needs_reauth    boolean NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE auth.sessions (
    id                  uuid PRIMARY KEY,
    user_id             uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    -- SHA-256 of the current refresh token; the token itself is never stored.
    refresh_token_hash  bytea NOT NULL UNIQUE,
    created_at          timestamptz NOT NULL DEFAULT now(),
    refreshed_at        timestamptz NOT NULL DEFAULT now(),
    expires_at          timestamptz NOT NULL,
    revoked_at          timestamptz,
    user_agent          text,
    ip                  inet
);
CREATE INDEX sessions_user_idx ON auth.sessions (user_id);

-- Refresh tokens that were rotated out: presenting one again revokes its session.
CREATE TABLE auth.rotated_refresh_tokens (
    token_hash  bytea PRIMARY KEY,
    session_id  uuid NOT NULL REFERENCES auth.sessions (id) ON DELETE CASCADE,
    rotated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE auth.login_attempts (
    state_hash      bytea PRIMARY KEY,
    pkce_verifier   bytea NOT NULL,
    verifier_key_id text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL
);

CREATE TABLE auth.tone3000_tokens (
    user_id                 uuid PRIMARY KEY REFERENCES auth.users (id) ON DELETE CASCADE,
    access_token_ciphertext bytea NOT NULL,
    refresh_token_ciphertext bytea NOT NULL,
    key_id                  text NOT NULL,
    access_expires_at       timestamptz NOT NULL,
    updated_at              timestamptz NOT NULL DEFAULT now()
);
