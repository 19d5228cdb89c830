//! The per-job event log: a capped Redis Stream `<prefix>job:<id>:events`.
//!
//! Contract: each entry has one field `e`, the prost-encoded `JobEvent` without its
//! `event_id` (the entry id is the event id). Appends trim with `MAXLEN ~ <cap>`; the
//! append of a terminal status change also sets the key to expire after the configured
//! TTL (a day by default), atomically with it; other appends set a week-long expiry only
//! if none is set, so no log outlives its use even if its job never logs an end. Entry ids are assigned by Redis, so the log
//! order is the order in which appends reached Redis.

use std::time::Duration;

use gts_proto::v1::{JobEvent, JobStatus, job_event};
use prost::Message;
use redis::{Value, aio::ConnectionManager};
use uuid::Uuid;

use super::id::EventId;
use crate::convert::timestamp_now;

/// Longest life of the log of a job that never logged its end.
const UNFINISHED_LOG_TTL: Duration = Duration::from_secs(7 * 86_400);

/// One logged event, with its id filled in.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    pub id: EventId,
    pub event: JobEvent,
}

impl StoredEvent {
    /// Whether this is the job's terminal status change (the end of a watch stream).
    pub fn is_terminal(&self) -> bool {
        is_terminal_event(&self.event)
    }
}

/// Whether an event is a status change to SUCCEEDED, FAILED or CANCELLED.
pub fn is_terminal_event(event: &JobEvent) -> bool {
    matches!(
        &event.event,
        Some(job_event::Event::StatusChange(change))
            if matches!(
                change.to_status(),
                JobStatus::Succeeded | JobStatus::Failed | JobStatus::Cancelled
            )
    )
}

/// Writes and reads job event logs.
#[derive(Clone)]
pub struct EventLog {
    conn: ConnectionManager,
    prefix: String,
    max_len: usize,
    ttl: Duration,
}

/// Whether a resume point is still covered by the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retention {
    /// Every event after the point is still in the log.
    Complete,
    /// Some events after the point were trimmed or expired.
    Trimmed,
}

impl EventLog {
    /// A log writer/reader over `conn`, keys under `prefix`.
    pub fn new(conn: ConnectionManager, prefix: &str, max_len: usize, ttl: Duration) -> Self {
        Self {
            conn,
            prefix: prefix.to_owned(),
            max_len,
            ttl,
        }
    }

    /// The stream key of a job.
    pub fn key(&self, job_id: Uuid) -> String {
        format!("{}job:{job_id}:events", self.prefix)
    }

    /// Appends an event (its `emitted_at` is set to now) and returns its id.
    pub async fn append(
        &self,
        job_id: Uuid,
        event: job_event::Event,
    ) -> Result<EventId, redis::RedisError> {
        let event = JobEvent {
            event_id: String::new(),
            emitted_at: Some(timestamp_now()),
            event: Some(event),
        };
        let terminal = is_terminal_event(&event);
        let key = self.key(job_id);
        let mut pipe = redis::pipe();
        pipe.atomic();
        pipe.cmd("XADD")
            .arg(&key)
            .arg("MAXLEN")
            .arg("~")
            .arg(self.max_len)
            .arg("*")
            .arg("e")
            .arg(event.encode_to_vec());
        if terminal {
            pipe.cmd("EXPIRE")
                .arg(&key)
                .arg(self.ttl.as_secs())
                .ignore();
        } else {
            // A safety net for logs whose job never logs an end (and for late appends
            // after the end expired): NX keeps an expiry already set.
            pipe.cmd("EXPIRE")
                .arg(&key)
                .arg(UNFINISHED_LOG_TTL.as_secs().max(self.ttl.as_secs()))
                .arg("NX")
                .ignore();
        }
        let mut conn = self.conn.clone();
        let (id,): (String,) = pipe.query_async(&mut conn).await?;
        id.parse()
            .map_err(|_| protocol_error("XADD returned a malformed id"))
    }

    /// [`Self::append`] retried over a few seconds, for events that must not be lost to a
    /// brief Redis outage.
    pub async fn append_reliably(
        &self,
        job_id: Uuid,
        event: job_event::Event,
    ) -> Result<EventId, redis::RedisError> {
        retrying(job_id, "log a job event", || {
            self.append(job_id, event.clone())
        })
        .await
    }

    /// The id of the last event logged, if any.
    pub async fn last_id(&self, job_id: Uuid) -> Result<Option<EventId>, redis::RedisError> {
        retrying(job_id, "read a job's log", || self.last_id_once(job_id)).await
    }

    async fn last_id_once(&self, job_id: Uuid) -> Result<Option<EventId>, redis::RedisError> {
        let mut conn = self.conn.clone();
        let reply: Value = redis::cmd("XREVRANGE")
            .arg(self.key(job_id))
            .arg("+")
            .arg("-")
            .arg("COUNT")
            .arg(1)
            .query_async(&mut conn)
            .await?;
        Ok(parse_entries(reply)?
            .into_iter()
            .next()
            .map(|event| event.id))
    }

    /// Up to `count` events strictly after `after`, in order.
    pub async fn range_after(
        &self,
        job_id: Uuid,
        after: EventId,
        count: usize,
    ) -> Result<Vec<StoredEvent>, redis::RedisError> {
        retrying(job_id, "read a job's log", || {
            self.range_after_once(job_id, after, count)
        })
        .await
    }

    async fn range_after_once(
        &self,
        job_id: Uuid,
        after: EventId,
        count: usize,
    ) -> Result<Vec<StoredEvent>, redis::RedisError> {
        let mut conn = self.conn.clone();
        let reply: Value = redis::cmd("XRANGE")
            .arg(self.key(job_id))
            .arg(format!("({after}"))
            .arg("+")
            .arg("COUNT")
            .arg(count)
            .query_async(&mut conn)
            .await?;
        parse_entries(reply)
    }

    /// Whether every event after `after` is still in the log.
    pub async fn retention(
        &self,
        job_id: Uuid,
        after: EventId,
    ) -> Result<Retention, redis::RedisError> {
        retrying(job_id, "read a job's log", || {
            self.retention_once(job_id, after)
        })
        .await
    }

    async fn retention_once(
        &self,
        job_id: Uuid,
        after: EventId,
    ) -> Result<Retention, redis::RedisError> {
        let key = self.key(job_id);
        let mut conn = self.conn.clone();
        let exists: bool = redis::cmd("EXISTS")
            .arg(&key)
            .query_async(&mut conn)
            .await?;
        if !exists {
            // The log expired (or was never written): only "from the start" is complete.
            return Ok(if after == EventId::ZERO {
                Retention::Complete
            } else {
                Retention::Trimmed
            });
        }
        let info: Value = redis::cmd("XINFO")
            .arg("STREAM")
            .arg(&key)
            .query_async(&mut conn)
            .await?;
        let max_deleted = field_of(&info, "max-deleted-entry-id")
            .and_then(|text| text.parse::<EventId>().ok())
            .unwrap_or(EventId::ZERO);
        Ok(if after < max_deleted {
            Retention::Trimmed
        } else {
            Retention::Complete
        })
    }
}

fn protocol_error(message: &'static str) -> redis::RedisError {
    redis::RedisError::from((redis::ErrorKind::Parse, message))
}

fn text_of(value: &Value) -> Option<String> {
    match value {
        Value::BulkString(bytes) => String::from_utf8(bytes.clone()).ok(),
        Value::SimpleString(text) => Some(text.clone()),
        Value::VerbatimString { text, .. } => Some(text.clone()),
        _ => None,
    }
}

/// A field of a RESP2 flat key/value array or a RESP3 map.
fn field_of(reply: &Value, name: &str) -> Option<String> {
    match reply {
        Value::Array(items) => items
            .chunks(2)
            .find(|pair| pair.first().and_then(text_of).as_deref() == Some(name))
            .and_then(|pair| pair.get(1))
            .and_then(text_of),
        Value::Map(pairs) => pairs
            .iter()
            .find(|(key, _)| text_of(key).as_deref() == Some(name))
            .and_then(|(_, value)| text_of(value)),
        _ => None,
    }
}

/// Decodes the entries of an XRANGE/XREVRANGE reply (or one stream of an XREAD reply).
pub(crate) fn parse_entries(reply: Value) -> Result<Vec<StoredEvent>, redis::RedisError> {
    let entries = match reply {
        Value::Nil => return Ok(Vec::new()),
        Value::Array(entries) => entries,
        _ => return Err(protocol_error("unexpected stream reply")),
    };
    let mut events = Vec::with_capacity(entries.len());
    for entry in entries {
        let Value::Array(parts) = entry else {
            return Err(protocol_error("unexpected stream entry"));
        };
        let mut parts = parts.into_iter();
        let id = parts
            .next()
            .as_ref()
            .and_then(text_of)
            .and_then(|text| text.parse::<EventId>().ok())
            .ok_or_else(|| protocol_error("stream entry without an id"))?;
        let payload = match parts.next() {
            Some(Value::Array(fields)) => fields
                .chunks(2)
                .find(|pair| pair.first().and_then(text_of).as_deref() == Some("e"))
                .and_then(|pair| match pair.get(1) {
                    Some(Value::BulkString(bytes)) => Some(bytes.clone()),
                    _ => None,
                }),
            Some(Value::Map(fields)) => fields.into_iter().find_map(|(key, value)| {
                match (text_of(&key).as_deref(), value) {
                    (Some("e"), Value::BulkString(bytes)) => Some(bytes),
                    _ => None,
                }
            }),
            _ => None,
        };
        // An entry we cannot decode is skipped, not fatal: it carries no id we could miss.
        let Some(mut event) = payload.and_then(|bytes| JobEvent::decode(bytes.as_slice()).ok())
        else {
            tracing::warn!(%id, "skipping an undecodable job event");
            continue;
        };
        event.event_id = id.to_string();
        events.push(StoredEvent { id, event });
    }
    Ok(events)
}

/// Decodes an XREAD reply for a single stream.
pub(crate) fn parse_read_reply(reply: Value) -> Result<Vec<StoredEvent>, redis::RedisError> {
    match reply {
        Value::Nil => Ok(Vec::new()),
        Value::Array(streams) => {
            let mut events = Vec::new();
            for stream in streams {
                if let Value::Array(mut pair) = stream
                    && pair.len() == 2
                    && let Some(entries) = pair.pop()
                {
                    events.extend(parse_entries(entries)?);
                }
            }
            Ok(events)
        }
        Value::Map(streams) => {
            let mut events = Vec::new();
            for (_, entries) in streams {
                events.extend(parse_entries(entries)?);
            }
            Ok(events)
        }
        _ => Err(protocol_error("unexpected XREAD reply")),
    }
}
/// Runs `operation` again while Redis is unreachable, for about three seconds in all: a
/// Redis that just restarted fails the first command of the connection manager, which
/// reconnects behind it, and a short outage should cost a watcher nothing. Other errors
/// (a wrong type, a protocol error) return at once.
async fn retrying<T, F, Fut>(
    job_id: Uuid,
    what: &str,
    mut operation: F,
) -> Result<T, redis::RedisError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, redis::RedisError>>,
{
    let mut delay = Duration::from_millis(50);
    let mut waited = Duration::ZERO;
    loop {
        match operation().await {
            Ok(value) => return Ok(value),
            Err(error) if is_unreachable(&error) && waited < Duration::from_secs(3) => {
                tracing::warn!(%error, %job_id, "cannot {what} yet; retrying");
                tokio::time::sleep(delay).await;
                waited += delay;
                delay = (delay * 2).min(Duration::from_millis(800));
            }
            Err(error) => return Err(error),
        }
    }
}

fn is_unreachable(error: &redis::RedisError) -> bool {
    error.is_io_error()
        || error.is_connection_dropped()
        || error.is_connection_refusal()
        || error.is_timeout()
}
