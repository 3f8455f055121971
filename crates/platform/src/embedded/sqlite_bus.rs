//! The embedded event bus: a durable at-least-once queue in SQLite.
//!
//! Publishing copies a message to one delivery row per subscription of the
//! topic. Pulling leases deliveries: the row becomes invisible until its
//! ack deadline passes, then it is pulled again with a higher attempt
//! number. A delivery pulled `max_attempts` times whose lease ran out (or
//! was nacked) moves to the dead-letter state. Every change runs in a
//! `BEGIN IMMEDIATE` transaction, so many processes may share the file.

use crate::bus::{Delivery, EventBus, EventBusError};
use crate::embedded::run_blocking;
use crate::embedded::sqlite_state::{
    LOCK_ATTEMPTS, is_busy, open_sqlite, open_sqlite_in_memory, with_lock_retry,
};
use async_trait::async_trait;
use bytes::Bytes;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS bus_topics (
    name TEXT PRIMARY KEY
);
CREATE TABLE IF NOT EXISTS bus_subscriptions (
    name            TEXT PRIMARY KEY,
    topic           TEXT NOT NULL REFERENCES bus_topics (name),
    ack_deadline_ms INTEGER NOT NULL,
    max_attempts    INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS bus_messages (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    topic        TEXT NOT NULL,
    data         BLOB NOT NULL,
    attributes   TEXT NOT NULL,
    published_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS bus_deliveries (
    subscription TEXT NOT NULL,
    seq          INTEGER NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    visible_ms   INTEGER NOT NULL DEFAULT 0,
    ack_id       TEXT,
    dead         INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (subscription, seq)
);
CREATE INDEX IF NOT EXISTS bus_deliveries_ready
    ON bus_deliveries (subscription, dead, visible_ms);
CREATE INDEX IF NOT EXISTS bus_deliveries_ack
    ON bus_deliveries (subscription, ack_id);
";

/// Topics and subscriptions in a SQLite file (or memory).
pub struct SqliteEventBus {
    conn: Mutex<Connection>,
    location: String,
}

impl std::fmt::Debug for SqliteEventBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteEventBus")
            .field("location", &self.location)
            .finish()
    }
}

#[derive(Debug)]
enum BusFailure {
    Sqlite(rusqlite::Error),
    Bus(EventBusError),
}

impl From<rusqlite::Error> for BusFailure {
    fn from(e: rusqlite::Error) -> Self {
        BusFailure::Sqlite(e)
    }
}

impl From<EventBusError> for BusFailure {
    fn from(e: EventBusError) -> Self {
        BusFailure::Bus(e)
    }
}

fn map_error(error: rusqlite::Error) -> EventBusError {
    if is_busy(&error) {
        EventBusError::Transient(error.to_string())
    } else {
        EventBusError::Other(error.to_string())
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

struct Subscription {
    ack_deadline_ms: i64,
    max_attempts: i64,
}

fn subscription(conn: &Connection, name: &str) -> Result<Subscription, BusFailure> {
    conn.query_row(
        "SELECT ack_deadline_ms, max_attempts FROM bus_subscriptions WHERE name = ?1",
        params![name],
        |row| {
            Ok(Subscription {
                ack_deadline_ms: row.get(0)?,
                max_attempts: row.get(1)?,
            })
        },
    )
    .optional()?
    .ok_or_else(|| EventBusError::UnknownSubscription(name.to_string()).into())
}

fn topic_exists(conn: &Connection, topic: &str) -> Result<bool, rusqlite::Error> {
    conn.query_row(
        "SELECT 1 FROM bus_topics WHERE name = ?1",
        params![topic],
        |_| Ok(()),
    )
    .optional()
    .map(|r| r.is_some())
}

/// Moves deliveries that used up their attempts and are no longer leased
/// to the dead-letter state.
fn sweep_dead(
    conn: &Connection,
    name: &str,
    sub: &Subscription,
    now: i64,
) -> Result<(), rusqlite::Error> {
    let moved = conn.execute(
        "UPDATE bus_deliveries SET dead = 1, ack_id = NULL
         WHERE subscription = ?1 AND dead = 0 AND visible_ms <= ?2 AND attempts >= ?3",
        params![name, now, sub.max_attempts],
    )?;
    if moved > 0 {
        tracing::warn!(
            subscription = name,
            messages = moved,
            "messages dead-lettered"
        );
    }
    Ok(())
}

fn delivery_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<(Delivery, String)> {
    let seq: i64 = row.get("seq")?;
    let data: Vec<u8> = row.get("data")?;
    let attributes: String = row.get("attributes")?;
    let attempts: i64 = row.get("attempts")?;
    let ack_id: Option<String> = row.get("ack_id")?;
    Ok((
        Delivery {
            ack_id: ack_id.unwrap_or_default(),
            message_id: seq.to_string(),
            data: Bytes::from(data),
            attributes: BTreeMap::new(),
            attempt: u32::try_from(attempts).unwrap_or(u32::MAX),
        },
        attributes,
    ))
}

fn with_attributes((mut delivery, text): (Delivery, String)) -> Result<Delivery, BusFailure> {
    delivery.attributes = serde_json::from_str(&text).map_err(|e| {
        EventBusError::Other(format!(
            "attributes of message {} are not a JSON object: {e}",
            delivery.message_id
        ))
    })?;
    Ok(delivery)
}

impl SqliteEventBus {
    /// Opens (or creates) the bus tables in a SQLite file; the file may be
    /// the state store's, and other processes may open it at the same time.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, EventBusError> {
        let path = path.as_ref();
        let conn = open_sqlite(path, SCHEMA).map_err(map_error)?;
        Ok(Self {
            conn: Mutex::new(conn),
            location: path.display().to_string(),
        })
    }

    /// A private in-memory bus.
    pub fn in_memory() -> Result<Self, EventBusError> {
        let conn = open_sqlite_in_memory(SCHEMA).map_err(map_error)?;
        Ok(Self {
            conn: Mutex::new(conn),
            location: ":memory:".to_string(),
        })
    }

    pub fn location(&self) -> &str {
        &self.location
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` in `BEGIN IMMEDIATE ... COMMIT`, retrying on contention.
    fn immediate<T>(
        &self,
        mut f: impl FnMut(&Connection) -> Result<T, BusFailure>,
    ) -> Result<T, EventBusError> {
        let mut conn = self.lock();
        let mut attempt = 1;
        loop {
            let result = (|| {
                let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let value = f(&tx)?;
                tx.commit()?;
                Ok(value)
            })();
            match result {
                Ok(value) => return Ok(value),
                Err(BusFailure::Sqlite(e)) if is_busy(&e) && attempt < LOCK_ATTEMPTS => {
                    tracing::debug!(attempt, error = %e, "event bus busy, retrying");
                    std::thread::sleep(Duration::from_millis(20 * u64::from(attempt)));
                    attempt += 1;
                }
                Err(BusFailure::Sqlite(e)) => return Err(map_error(e)),
                Err(BusFailure::Bus(e)) => return Err(e),
            }
        }
    }

    /// Messages of a subscription not yet acked nor dead-lettered.
    pub fn backlog(&self, subscription: &str) -> Result<u64, EventBusError> {
        let conn = self.lock();
        with_lock_retry(|| {
            conn.query_row(
                "SELECT COUNT(*) FROM bus_deliveries WHERE subscription = ?1 AND dead = 0",
                params![subscription],
                |row| row.get::<_, i64>(0),
            )
        })
        .map(|n| n as u64)
        .map_err(map_error)
    }
}

#[async_trait]
impl EventBus for SqliteEventBus {
    async fn create_topic(&self, topic: &str) -> Result<(), EventBusError> {
        run_blocking(|| {
            self.immediate(|conn| {
                conn.execute(
                    "INSERT INTO bus_topics (name) VALUES (?1) ON CONFLICT DO NOTHING",
                    params![topic],
                )?;
                Ok(())
            })
        })
    }

    async fn create_subscription(
        &self,
        topic: &str,
        subscription: &str,
        ack_deadline: Duration,
        max_attempts: u32,
    ) -> Result<(), EventBusError> {
        let deadline_ms = i64::try_from(ack_deadline.as_millis())
            .unwrap_or(i64::MAX)
            .max(1);
        run_blocking(|| {
            self.immediate(|conn| {
                if !topic_exists(conn, topic)? {
                    return Err(EventBusError::UnknownTopic(topic.to_string()).into());
                }
                let existing: Option<String> = conn
                    .query_row(
                        "SELECT topic FROM bus_subscriptions WHERE name = ?1",
                        params![subscription],
                        |row| row.get(0),
                    )
                    .optional()?;
                match existing {
                    Some(t) if t != topic => Err(EventBusError::Other(format!(
                        "subscription {subscription} already exists on topic {t}"
                    ))
                    .into()),
                    Some(_) => {
                        conn.execute(
                            "UPDATE bus_subscriptions SET ack_deadline_ms = ?2, max_attempts = ?3
                             WHERE name = ?1",
                            params![subscription, deadline_ms, max_attempts.max(1)],
                        )?;
                        Ok(())
                    }
                    None => {
                        conn.execute(
                            "INSERT INTO bus_subscriptions (name, topic, ack_deadline_ms, max_attempts)
                             VALUES (?1, ?2, ?3, ?4)",
                            params![subscription, topic, deadline_ms, max_attempts.max(1)],
                        )?;
                        Ok(())
                    }
                }
            })
        })
    }

    async fn publish(
        &self,
        topic: &str,
        data: Bytes,
        attributes: BTreeMap<String, String>,
    ) -> Result<String, EventBusError> {
        let attributes = serde_json::to_string(&crate::bus::outgoing_attributes(attributes))
            .map_err(|e| EventBusError::Other(format!("attributes: {e}")))?;
        let id = run_blocking(|| {
            self.immediate(|conn| {
                if !topic_exists(conn, topic)? {
                    return Err(EventBusError::UnknownTopic(topic.to_string()).into());
                }
                conn.execute(
                    "INSERT INTO bus_messages (topic, data, attributes, published_ms)
                     VALUES (?1, ?2, ?3, ?4)",
                    params![topic, data.as_ref(), attributes, now_ms()],
                )?;
                let seq = conn.last_insert_rowid();
                conn.execute(
                    "INSERT INTO bus_deliveries (subscription, seq)
                     SELECT name, ?2 FROM bus_subscriptions WHERE topic = ?1",
                    params![topic, seq],
                )?;
                // A topic without subscriptions keeps nothing.
                conn.execute(
                    "DELETE FROM bus_messages WHERE seq = ?1
                     AND NOT EXISTS (SELECT 1 FROM bus_deliveries WHERE seq = ?1)",
                    params![seq],
                )?;
                Ok(seq.to_string())
            })
        })?;
        tracing::debug!(topic, message_id = %id, "published message");
        Ok(id)
    }

    async fn pull(&self, subscription: &str, max: usize) -> Result<Vec<Delivery>, EventBusError> {
        if max == 0 {
            return Ok(Vec::new());
        }
        run_blocking(|| {
            self.immediate(|conn| {
                let sub = self::subscription(conn, subscription)?;
                let now = now_ms();
                sweep_dead(conn, subscription, &sub, now)?;
                let seqs: Vec<i64> = {
                    let mut stmt = conn.prepare_cached(
                        "SELECT seq FROM bus_deliveries
                         WHERE subscription = ?1 AND dead = 0 AND visible_ms <= ?2
                         ORDER BY seq LIMIT ?3",
                    )?;
                    let rows = stmt.query_map(
                        params![subscription, now, i64::try_from(max).unwrap_or(i64::MAX)],
                        |row| row.get(0),
                    )?;
                    rows.collect::<Result<_, _>>()?
                };
                let mut out = Vec::with_capacity(seqs.len());
                for seq in seqs {
                    conn.execute(
                        "UPDATE bus_deliveries SET
                            attempts = attempts + 1,
                            visible_ms = ?3,
                            ack_id = ?2 || '.' || seq || '.' || (attempts + 1)
                         WHERE subscription = ?2 AND seq = ?1",
                        params![seq, subscription, now.saturating_add(sub.ack_deadline_ms)],
                    )?;
                    let delivery = conn.query_row(
                        "SELECT d.seq, d.attempts, d.ack_id, m.data, m.attributes
                         FROM bus_deliveries d JOIN bus_messages m ON m.seq = d.seq
                         WHERE d.subscription = ?1 AND d.seq = ?2",
                        params![subscription, seq],
                        delivery_from_row,
                    )?;
                    out.push(with_attributes(delivery)?);
                }
                Ok(out)
            })
        })
    }

    async fn ack(&self, subscription: &str, ack_ids: &[String]) -> Result<(), EventBusError> {
        run_blocking(|| {
            self.immediate(|conn| {
                self::subscription(conn, subscription)?;
                for ack_id in ack_ids {
                    let seq: Option<i64> = conn
                        .query_row(
                            "DELETE FROM bus_deliveries WHERE subscription = ?1 AND ack_id = ?2
                             RETURNING seq",
                            params![subscription, ack_id],
                            |row| row.get(0),
                        )
                        .optional()?;
                    if let Some(seq) = seq {
                        conn.execute(
                            "DELETE FROM bus_messages WHERE seq = ?1
                             AND NOT EXISTS (SELECT 1 FROM bus_deliveries WHERE seq = ?1)",
                            params![seq],
                        )?;
                    }
                }
                Ok(())
            })
        })
    }

    async fn nack(&self, subscription: &str, ack_ids: &[String]) -> Result<(), EventBusError> {
        run_blocking(|| {
            self.immediate(|conn| {
                self::subscription(conn, subscription)?;
                let now = now_ms();
                for ack_id in ack_ids {
                    conn.execute(
                        "UPDATE bus_deliveries SET visible_ms = ?3, ack_id = NULL
                         WHERE subscription = ?1 AND ack_id = ?2 AND dead = 0",
                        params![subscription, ack_id, now],
                    )?;
                }
                Ok(())
            })
        })
    }

    async fn dead_letters(&self, subscription: &str) -> Result<Vec<Delivery>, EventBusError> {
        run_blocking(|| {
            self.immediate(|conn| {
                let sub = self::subscription(conn, subscription)?;
                sweep_dead(conn, subscription, &sub, now_ms())?;
                let mut stmt = conn.prepare_cached(
                    "SELECT d.seq, d.attempts, d.ack_id, m.data, m.attributes
                     FROM bus_deliveries d JOIN bus_messages m ON m.seq = d.seq
                     WHERE d.subscription = ?1 AND d.dead = 1
                     ORDER BY d.seq",
                )?;
                let rows = stmt
                    .query_map(params![subscription], delivery_from_row)?
                    .collect::<Result<Vec<_>, _>>()?;
                rows.into_iter().map(with_attributes).collect()
            })
        })
    }
}
