-- The auth service's schema: users, sessions with rotating refresh tokens, the login
-- attempts in flight, and the TONE3000 tokens it holds in custody (AES-256-GCM at rest,
-- with the key id stored beside each value so keys can rotate).
-- The search_path is `auth`; names are qualified anyway so the file reads on its own.

CREATE TABLE auth.users (
    id              uuid PRIMARY KEY,
    tone3000_id     text NOT NULL UNIQUE,
    username        text NOT NULL,
    avatar_url      text,
    -- TONE3000 rejected the stored refresh token: the user must sign in again.
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
    -- When the current refresh token expires if unused.
    expires_at          timestamptz NOT NULL,
    revoked_at          timestamptz,
    -- Why it was revoked: logout, logout_all, refresh_token_reuse.
    revoked_reason      text
);
CREATE INDEX sessions_user_idx ON auth.sessions (user_id);

-- Refresh tokens that were rotated out: presenting one again revokes its session.
CREATE TABLE auth.rotated_refresh_tokens (
    token_hash  bytea PRIMARY KEY,
    session_id  uuid NOT NULL REFERENCES auth.sessions (id) ON DELETE CASCADE,
    rotated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX rotated_refresh_tokens_session_idx ON auth.rotated_refresh_tokens (session_id);

-- Login attempts between StartLogin and CompleteLogin: single use (deleted when
-- presented) and short-lived. The state is stored only as a hash; the PKCE verifier is
-- encrypted like the TONE3000 tokens.
CREATE TABLE auth.login_attempts (
    state_hash              bytea PRIMARY KEY,
    pkce_verifier_ciphertext bytea NOT NULL,
    key_id                  text NOT NULL,
    return_to               text NOT NULL DEFAULT '',
    created_at              timestamptz NOT NULL DEFAULT now(),
    expires_at              timestamptz NOT NULL
);
CREATE INDEX login_attempts_expiry_idx ON auth.login_attempts (expires_at);

CREATE TABLE auth.tone3000_tokens (
    user_id                  uuid PRIMARY KEY REFERENCES auth.users (id) ON DELETE CASCADE,
    -- nonce (12 bytes) || AES-256-GCM ciphertext and tag; the AAD binds each value to its
    -- user and column.
    access_token_ciphertext  bytea NOT NULL,
    refresh_token_ciphertext bytea NOT NULL,
    key_id                   text NOT NULL,
    access_expires_at        timestamptz NOT NULL,
    -- Bumped by every write, so callers waiting on a refresh see that one happened.
    version                  bigint NOT NULL DEFAULT 1,
    updated_at               timestamptz NOT NULL DEFAULT now()
);
