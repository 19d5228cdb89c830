//! Fan-out of job events on one replica: one Redis reader per watched job, however many
//! watchers.
//!
//! Contract: [`EventHub::subscribe`] returns a broadcast receiver of the job's events,
//! starting a reader task for the job if none runs on this replica. The reader blocks on
//! `XREAD` on its own connection (a blocking read would stall a shared multiplexed one),
//! from the position given by its first subscriber, and broadcasts every entry in log
//! order. It stops once no receiver is left (checked after each blocking read, so within
//! the configured block time), deregistering itself under the same lock subscriptions take,
//! so a subscriber never joins a reader that is about to stop. On Redis errors it
//! reconnects with backoff and resumes from the last id it broadcast, so a Redis restart
//! loses nothing that Redis kept.
//!
//! No gap: a watcher subscribes first and reads the backlog after; every event is either
//! in that backlog or broadcast after the subscription (the reader's position never
//! passes the log's end). Watchers drop what they have already sent by id.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use redis::{AsyncConnectionConfig, aio::MultiplexedConnection};
use tokio::sync::broadcast;
use uuid::Uuid;

use super::{
    id::EventId,
    log::{EventLog, StoredEvent, parse_read_reply},
};

/// Events as broadcast to watchers.
pub type SharedEvent = Arc<StoredEvent>;

/// The per-replica registry of job readers.
pub struct EventHub {
    client: redis::Client,
    log: EventLog,
    block: Duration,
    buffer: usize,
    readers: Mutex<HashMap<Uuid, broadcast::Sender<SharedEvent>>>,
    readers_started: AtomicU64,
}

impl EventHub {
    /// A hub reading through dedicated connections of `client`.
    pub fn new(client: redis::Client, log: EventLog, block: Duration, buffer: usize) -> Arc<Self> {
        Arc::new(Self {
            client,
            log,
            block,
            buffer,
            readers: Mutex::new(HashMap::new()),
            readers_started: AtomicU64::new(0),
        })
    }

    /// The log this hub reads.
    pub fn log(&self) -> &EventLog {
        &self.log
    }

    /// Readers running now.
    pub fn active_readers(&self) -> usize {
        self.readers.lock().map_or(0, |readers| readers.len())
    }

    /// Readers started since the hub was created.
    pub fn readers_started(&self) -> u64 {
        self.readers_started.load(Ordering::Relaxed)
    }

    /// Subscribes to a job's events; a new reader starts reading after `from`.
    pub fn subscribe(
        self: &Arc<Self>,
        job_id: Uuid,
        from: EventId,
    ) -> broadcast::Receiver<SharedEvent> {
        let mut readers = match self.readers.lock() {
            Ok(readers) => readers,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some(sender) = readers.get(&job_id) {
            return sender.subscribe();
        }
        let (sender, receiver) = broadcast::channel(self.buffer);
        readers.insert(job_id, sender.clone());
        self.readers_started.fetch_add(1, Ordering::Relaxed);
        tokio::spawn(Arc::clone(self).read(job_id, from, sender));
        receiver
    }

    /// Removes the job's reader if nobody listens; returns whether it was removed.
    fn retire_if_idle(&self, job_id: Uuid, sender: &broadcast::Sender<SharedEvent>) -> bool {
        let mut readers = match self.readers.lock() {
            Ok(readers) => readers,
            Err(poisoned) => poisoned.into_inner(),
        };
        if sender.receiver_count() == 0 {
            readers.remove(&job_id);
            true
        } else {
            false
        }
    }

    async fn connect(&self) -> redis::RedisResult<MultiplexedConnection> {
        // The blocking read must outlive its BLOCK time.
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(self.block + Duration::from_secs(5)));
        self.client
            .get_multiplexed_async_connection_with_config(&config)
            .await
    }

    async fn read(
        self: Arc<Self>,
        job_id: Uuid,
        mut cursor: EventId,
        sender: broadcast::Sender<SharedEvent>,
    ) {
        let key = self.log.key(job_id);
        let block_ms = u64::try_from(self.block.as_millis()).unwrap_or(1_000);
        let mut connection: Option<MultiplexedConnection> = None;
        let mut backoff = Duration::from_millis(50);
        loop {
            if self.retire_if_idle(job_id, &sender) {
                return;
            }
            let conn = match connection.as_mut() {
                Some(conn) => conn,
                None => match self.connect().await {
                    Ok(conn) => connection.insert(conn),
                    Err(error) => {
                        tracing::warn!(%error, %job_id, "event reader cannot reach Redis; retrying");
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(Duration::from_secs(2));
                        continue;
                    }
                },
            };
            let reply = redis::cmd("XREAD")
                .arg("COUNT")
                .arg(512)
                .arg("BLOCK")
                .arg(block_ms)
                .arg("STREAMS")
                .arg(&key)
                .arg(cursor.to_string())
                .query_async(conn)
                .await
                .and_then(parse_read_reply);
            match reply {
                Ok(events) => {
                    backoff = Duration::from_millis(50);
                    for event in events {
                        if event.id <= cursor {
                            continue;
                        }
                        cursor = event.id;
                        // No receiver right now is fine: the idle check above decides.
                        let _ = sender.send(Arc::new(event));
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, %job_id, "event reader lost Redis; reconnecting");
                    connection = None;
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(2));
                }
            }
        }
    }
}
