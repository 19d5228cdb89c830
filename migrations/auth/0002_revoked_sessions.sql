-- Sessions that ended early (Logout, LogoutAll, a reused refresh token revoking its
-- family, the user deleted), recorded by a trigger whatever the path, so auth's publisher
-- can copy them into Redis, where the gateway, shootout and worker read them within about
-- a second (gts_common::auth::revocation). Rows older than the longest access token are
-- pruned by the publisher.
CREATE TABLE auth.revoked_sessions (
    session_id  uuid PRIMARY KEY,
    revoked_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX revoked_sessions_at_idx ON auth.revoked_sessions (revoked_at);

CREATE FUNCTION auth.record_revoked_session() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO auth.revoked_sessions (session_id) VALUES (OLD.id)
        ON CONFLICT (session_id) DO NOTHING;
        RETURN OLD;
    END IF;
    IF OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL THEN
        INSERT INTO auth.revoked_sessions (session_id) VALUES (NEW.id)
        ON CONFLICT (session_id) DO NOTHING;
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER sessions_record_revoked
    AFTER UPDATE OF revoked_at OR DELETE ON auth.sessions
    FOR EACH ROW EXECUTE FUNCTION auth.record_revoked_session();
