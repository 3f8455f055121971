//! The embedded state store: JSON documents in one SQLite table.
//!
//! Every write runs in a `BEGIN IMMEDIATE` transaction, which takes SQLite's
//! write lock up front: transactions from tasks, threads and processes on
//! the same file run one after another, so a read-decide-write transaction
//! never loses an update (serializable). WAL mode lets readers proceed while
//! a writer holds the lock.

use crate::embedded::run_blocking;
use crate::state::{StateError, StateStore, TxDecision, TxFn};
use async_trait::async_trait;
use rusqlite::{Connection, ErrorCode, OptionalExtension, TransactionBehavior, params};
use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// How long a writer waits for another connection's write lock before the
/// store retries (and, after [`LOCK_ATTEMPTS`], reports a transient error).
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
pub(crate) const LOCK_ATTEMPTS: u32 = 6;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS state_documents (
    collection TEXT NOT NULL,
    id         TEXT NOT NULL,
    doc        TEXT NOT NULL,
    version    INTEGER NOT NULL,
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (collection, id)
) WITHOUT ROWID;
";

/// Documents in a SQLite file (or memory), shareable across tasks via `Arc`.
pub struct SqliteStateStore {
    conn: Mutex<Connection>,
    location: String,
}

impl std::fmt::Debug for SqliteStateStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStateStore")
            .field("location", &self.location)
            .finish()
    }
}

/// Opens a SQLite file for many concurrent writers: WAL, a busy timeout,
/// then `schema`. Creates missing parent directories.
pub(crate) fn open_sqlite(path: &Path, schema: &str) -> Result<Connection, rusqlite::Error> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| {
            rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CANTOPEN),
                Some(format!("cannot create {}: {e}", parent.display())),
            )
        })?;
    }
    let conn = Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    with_lock_retry(|| {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.execute_batch(schema)
    })?;
    Ok(conn)
}

pub(crate) fn open_sqlite_in_memory(schema: &str) -> Result<Connection, rusqlite::Error> {
    let conn = Connection::open_in_memory()?;
    conn.execute_batch(schema)?;
    Ok(conn)
}

/// Whether SQLite reported lock contention (worth retrying).
pub(crate) fn is_busy(error: &rusqlite::Error) -> bool {
    matches!(
        error.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    )
}

/// Runs `f` again (after a short pause) while it fails on lock contention.
pub(crate) fn with_lock_retry<T>(
    mut f: impl FnMut() -> Result<T, rusqlite::Error>,
) -> Result<T, rusqlite::Error> {
    let mut attempt = 1;
    loop {
        match f() {
            Err(e) if is_busy(&e) && attempt < LOCK_ATTEMPTS => {
                tracing::debug!(attempt, error = %e, "sqlite busy, retrying");
                std::thread::sleep(Duration::from_millis(20 * u64::from(attempt)));
                attempt += 1;
            }
            other => return other,
        }
    }
}

fn map_error(error: rusqlite::Error) -> StateError {
    if is_busy(&error) {
        StateError::Transient(error.to_string())
    } else {
        StateError::Other(error.to_string())
    }
}

fn parse_doc(collection: &str, id: &str, text: &str) -> Result<serde_json::Value, StateError> {
    serde_json::from_str(text)
        .map_err(|e| StateError::Other(format!("document {collection}/{id} is not JSON: {e}")))
}

impl SqliteStateStore {
    /// Opens (or creates) the state file; other handles and processes may
    /// open the same file at the same time.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StateError> {
        let path = path.as_ref();
        let conn = open_sqlite(path, SCHEMA).map_err(map_error)?;
        Ok(Self {
            conn: Mutex::new(conn),
            location: path.display().to_string(),
        })
    }

    /// A private in-memory store.
    pub fn in_memory() -> Result<Self, StateError> {
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

    fn read(
        conn: &Connection,
        collection: &str,
        id: &str,
    ) -> Result<Option<String>, rusqlite::Error> {
        conn.query_row(
            "SELECT doc FROM state_documents WHERE collection = ?1 AND id = ?2",
            params![collection, id],
            |row| row.get::<_, String>(0),
        )
        .optional()
    }

    fn write(
        conn: &Connection,
        collection: &str,
        id: &str,
        doc: &str,
    ) -> Result<(), rusqlite::Error> {
        conn.execute(
            "INSERT INTO state_documents (collection, id, doc, version) VALUES (?1, ?2, ?3, 1)
             ON CONFLICT (collection, id) DO UPDATE SET
                doc = excluded.doc,
                version = state_documents.version + 1,
                updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
            params![collection, id, doc],
        )?;
        Ok(())
    }

    /// Runs `f` inside `BEGIN IMMEDIATE ... COMMIT`, retrying on contention.
    fn immediate<T>(
        &self,
        mut f: impl FnMut(&Connection) -> Result<T, StateError>,
    ) -> Result<T, StateError> {
        let mut conn = self.lock();
        let mut attempt = 1;
        loop {
            let tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
                Ok(tx) => tx,
                Err(e) if is_busy(&e) && attempt < LOCK_ATTEMPTS => {
                    tracing::debug!(attempt, error = %e, "state store busy, retrying");
                    std::thread::sleep(Duration::from_millis(20 * u64::from(attempt)));
                    attempt += 1;
                    continue;
                }
                Err(e) => return Err(map_error(e)),
            };
            // Dropping `tx` on error rolls back.
            let value = f(&tx)?;
            tx.commit().map_err(map_error)?;
            return Ok(value);
        }
    }
}

#[async_trait]
impl StateStore for SqliteStateStore {
    async fn get(
        &self,
        collection: &str,
        id: &str,
    ) -> Result<Option<serde_json::Value>, StateError> {
        run_blocking(|| {
            let conn = self.lock();
            let text = with_lock_retry(|| Self::read(&conn, collection, id)).map_err(map_error)?;
            text.map(|t| parse_doc(collection, id, &t)).transpose()
        })
    }

    async fn put(
        &self,
        collection: &str,
        id: &str,
        doc: &serde_json::Value,
    ) -> Result<(), StateError> {
        let text = doc.to_string();
        run_blocking(|| {
            self.immediate(|conn| Self::write(conn, collection, id, &text).map_err(map_error))
        })
    }

    async fn delete(&self, collection: &str, id: &str) -> Result<(), StateError> {
        run_blocking(|| {
            self.immediate(|conn| {
                conn.execute(
                    "DELETE FROM state_documents WHERE collection = ?1 AND id = ?2",
                    params![collection, id],
                )
                .map(|_| ())
                .map_err(map_error)
            })
        })
    }

    async fn list(
        &self,
        collection: &str,
        prefix: &str,
    ) -> Result<Vec<(String, serde_json::Value)>, StateError> {
        run_blocking(|| {
            let conn = self.lock();
            let rows: Vec<(String, String)> = with_lock_retry(|| {
                let mut stmt = conn.prepare_cached(
                    "SELECT id, doc FROM state_documents
                     WHERE collection = ?1 AND substr(id, 1, length(?2)) = ?2
                     ORDER BY id",
                )?;
                let rows = stmt.query_map(params![collection, prefix], |row| {
                    Ok((row.get(0)?, row.get(1)?))
                })?;
                rows.collect()
            })
            .map_err(map_error)?;
            rows.into_iter()
                .map(|(id, text)| {
                    let doc = parse_doc(collection, &id, &text)?;
                    Ok((id, doc))
                })
                .collect()
        })
    }

    async fn transaction(
        &self,
        collection: &str,
        id: &str,
        f: &mut TxFn<'_>,
    ) -> Result<Option<serde_json::Value>, StateError> {
        run_blocking(|| {
            self.immediate(|conn| {
                let current = Self::read(conn, collection, id)
                    .map_err(map_error)?
                    .map(|t| parse_doc(collection, id, &t))
                    .transpose()?;
                match f(current.as_ref()) {
                    TxDecision::Put(doc) => {
                        Self::write(conn, collection, id, &doc.to_string()).map_err(map_error)?;
                        Ok(Some(doc))
                    }
                    TxDecision::Delete => {
                        conn.execute(
                            "DELETE FROM state_documents WHERE collection = ?1 AND id = ?2",
                            params![collection, id],
                        )
                        .map_err(map_error)?;
                        Ok(None)
                    }
                    TxDecision::Keep => Ok(current),
                }
            })
        })
    }
}
