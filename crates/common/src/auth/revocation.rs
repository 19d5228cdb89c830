//! Revoked sessions, known to every verifying process within about a second, without a
//! call to auth per request.
//!
//! Contract:
//! - auth is the only writer. Whenever a session ends early (Logout, LogoutAll, a reused
//!   refresh token revoking its family, the user deleted), a trigger in auth's schema
//!   records the session id in `auth.revoked_sessions`, and auth's publisher copies it into
//!   the Redis sorted set [`revoked_key`] (member: the session id; score: when the entry may
//!   be forgotten, in Unix milliseconds) and bumps [`version_key`].
//! - Every verifier (gateway, shootout, worker) holds a [`RevocationList`] in memory that a
//!   [`poll`] task refreshes every `GTS_REVOCATION_POLL_MS` (500 ms by default): it reads
//!   the version, and only when it changed the whole (small) set. The per-request check is
//!   a lookup in that local set: no Redis or auth round trip on the request path.
//! - An entry lives [`RETENTION`]: longer than any access token (≤ 15 min plus leeway), so
//!   every token of a revoked session has expired by the time its entry goes.
//! - Redis unreachable: the list keeps what it last read (those sessions stay refused) and
//!   catches up as soon as Redis answers; new revocations made meanwhile take effect then,
//!   or at the latest when the tokens expire. Refusing every user while Redis is down would
//!   turn a cache outage into a full outage; auth itself still refuses revoked sessions at
//!   once (it checks PostgreSQL) and no revoked session can refresh. See docs/auth.md.

use std::{
    collections::HashSet,
    sync::{Arc, RwLock},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use uuid::Uuid;

use crate::{
    redis_conn::RedisHandle,
    shutdown::{Rounds, Shutdown},
};

/// How long a revocation is kept: the longest access-token lifetime (900 s) plus a margin
/// above any leeway.
pub const RETENTION: Duration = Duration::from_secs(900 + 120);

/// Default interval of [`poll`] (`GTS_REVOCATION_POLL_MS`).
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_millis(500);

/// The sorted set of revoked session ids.
pub fn revoked_key(redis: &RedisHandle) -> String {
    redis.key(&["auth", "revoked-sessions"])
}

/// A counter bumped on every change of [`revoked_key`].
pub fn version_key(redis: &RedisHandle) -> String {
    redis.key(&["auth", "revoked-sessions", "version"])
}

fn unix_millis(at: SystemTime) -> i64 {
    at.duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Writes `sessions` (each with the time it was revoked) into the set, drops entries past
/// their retention and bumps the version (auth's publisher).
pub async fn publish(
    redis: &RedisHandle,
    sessions: &[(Uuid, SystemTime)],
) -> redis::RedisResult<()> {
    let mut pipe = redis::pipe();
    pipe.atomic();
    let key = revoked_key(redis);
    for (session, revoked_at) in sessions {
        let forget_at = unix_millis(*revoked_at + RETENTION);
        pipe.cmd("ZADD")
            .arg(&key)
            .arg("GT")
            .arg(forget_at)
            .arg(session.to_string())
            .ignore();
    }
    pipe.cmd("ZREMRANGEBYSCORE")
        .arg(&key)
        .arg("-inf")
        .arg(unix_millis(SystemTime::now()))
        .ignore();
    pipe.cmd("INCR").arg(version_key(redis)).ignore();
    let mut conn = redis.conn.clone();
    pipe.query_async(&mut conn).await
}

/// Whether the set still exists in Redis (false after Redis lost its data: republish).
pub async fn published(redis: &RedisHandle) -> redis::RedisResult<bool> {
    let mut conn = redis.conn.clone();
    redis::cmd("EXISTS")
        .arg(version_key(redis))
        .query_async(&mut conn)
        .await
}

/// The revoked sessions this process knows of.
#[derive(Debug, Default)]
pub struct RevocationList {
    sessions: RwLock<HashSet<Uuid>>,
}

impl RevocationList {
    /// An empty list (nothing revoked yet).
    pub fn new() -> Arc<Self> {
        Arc::default()
    }

    /// Whether `session` was revoked.
    pub fn is_revoked(&self, session: Uuid) -> bool {
        self.sessions
            .read()
            .map(|sessions| sessions.contains(&session))
            .unwrap_or(false)
    }

    /// Sets the list by hand (unit tests of the layer).
    #[cfg(test)]
    pub(crate) fn replace_for_tests(&self, sessions: impl IntoIterator<Item = Uuid>) {
        self.replace(sessions.into_iter().collect());
    }

    fn replace(&self, sessions: HashSet<Uuid>) {
        if let Ok(mut current) = self.sessions.write() {
            *current = sessions;
        }
    }

    /// Reads the set from Redis if its version moved since `seen`; answers the version read.
    pub async fn refresh(
        &self,
        redis: &RedisHandle,
        seen: Option<i64>,
    ) -> redis::RedisResult<Option<i64>> {
        let mut conn = redis.conn.clone();
        let version: Option<i64> = redis::cmd("GET")
            .arg(version_key(redis))
            .query_async(&mut conn)
            .await?;
        if version.is_some() && version == seen {
            return Ok(version);
        }
        let members: Vec<String> = redis::cmd("ZRANGE")
            .arg(revoked_key(redis))
            .arg(unix_millis(SystemTime::now()))
            .arg("+inf")
            .arg("BYSCORE")
            .query_async(&mut conn)
            .await?;
        self.replace(
            members
                .iter()
                .filter_map(|m| Uuid::parse_str(m).ok())
                .collect(),
        );
        Ok(version)
    }
}

/// Keeps `list` current until `shutdown`, reading Redis every `interval`.
pub async fn poll(
    list: Arc<RevocationList>,
    redis: RedisHandle,
    interval: Duration,
    shutdown: Shutdown,
) {
    let mut seen = None;
    let mut rounds = Rounds::new("read revoked sessions from Redis", interval, shutdown);
    while rounds.next().await {
        // On a failure the last known list stays in force.
        let outcome = list
            .refresh(&redis, seen)
            .await
            .map(|version| seen = version);
        rounds.record(outcome);
    }
}
