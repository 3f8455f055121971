//! [`StateStore`] on Firestore (crate `firestore`).
//!
//! Mapping:
//! * a state-store collection is a Firestore collection, a document id a
//!   Firestore document; both are escaped ([`firestore_id`]) because ids
//!   such as `run/2025-03-15/a` hold `/`, which Firestore reads as a path
//!   separator;
//! * a document is stored as two fields: `id`, the state-store id as given,
//!   and `json`, the document as JSON text. One text field is lossless (JSON
//!   numbers, key order, nulls and nesting come back exactly as written,
//!   which a field-by-field mapping to Firestore values would not promise for
//!   large integers or key order) and keeps Firestore's 20-level nesting
//!   limit out of the way; the price is that Firestore cannot query inside a
//!   document, which the trait never asks for;
//! * `list(prefix)` is a range query on the `id` field (`prefix <= id <
//!   next(prefix)`) ordered by `id`: Firestore orders strings by UTF-8
//!   bytes, as Rust does, and the automatic single-field index serves it;
//! * `transaction` is a Firestore read-write transaction: the document is
//!   read in the transaction, the decision applied, the transaction
//!   committed. On `ABORTED` (contention) or a transient error the
//!   transaction is rolled back and run again, closure included, with
//!   jittered exponential backoff (`backon`, 10 ms doubling to 2 s) until
//!   [`TX_RETRY_BUDGET`] of waiting is spent; then `StateError::Conflict` is
//!   returned. A retry names the transaction it retries
//!   (`retry_transaction`) and every transaction asks for optimistic
//!   concurrency: reads take no locks and a commit whose reads changed is
//!   `ABORTED`. (The emulator still reports some `Transaction lock timeout`
//!   aborts under heavy contention; they are retried like any conflict.)
//!
//! Against the emulator (`FIRESTORE_EMULATOR_HOST` set) the `firestore`
//! crate connects to it without credentials.

use crate::state::{StateError, StateStore, TxDecision, TxFn};
use async_trait::async_trait;
use backon::{BackoffBuilder, ExponentialBuilder};
use firestore::errors::FirestoreError;
use firestore::gcloud_sdk::google::firestore::v1::transaction_options::ConcurrencyMode;
use firestore::{
    FirestoreConsistencySelector, FirestoreDb, FirestoreDbOptions, FirestoreTransactionId,
    FirestoreTransactionMode, FirestoreTransactionOptions,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;

/// How long a transaction keeps being retried (sum of the backoff delays)
/// before a conflict is given up on.
pub const TX_RETRY_BUDGET: Duration = Duration::from_secs(180);

/// How many transactions one handle runs on one document at a time; the
/// others wait their turn in the handle. More at once only abort each other:
/// the emulator detects a conflict by a lock timeout, and 240 contenders
/// made no progress in minutes. Transactions from other handles and
/// processes still conflict in Firestore and are retried.
pub const TX_CONCURRENCY_PER_DOCUMENT: usize = 2;

/// (collection, id) → that document's transaction permits.
type Gates = Mutex<HashMap<(String, String), Arc<Semaphore>>>;

/// A state-store document as Firestore holds it.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredDoc {
    /// The state-store id, unescaped (what `list` filters and orders on).
    id: String,
    /// The document as JSON text.
    json: String,
}

/// Firestore as the state store. Cheap to clone; clones share the channel.
#[derive(Clone)]
pub struct FirestoreStateStore {
    db: FirestoreDb,
    /// (collection, id) → the permits of [`TX_CONCURRENCY_PER_DOCUMENT`].
    gates: Arc<Gates>,
}

impl std::fmt::Debug for FirestoreStateStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FirestoreStateStore")
            .field("database", self.db.get_database_path())
            .finish()
    }
}

impl FirestoreStateStore {
    /// Connects to the `(default)` database of `project_id`: to the emulator
    /// when `FIRESTORE_EMULATOR_HOST` is set, else to Firestore with the
    /// application default credentials.
    pub async fn connect(project_id: &str) -> Result<Self, StateError> {
        Self::connect_database(project_id, None).await
    }

    /// Connects to `database` of `project_id` (`None`: `(default)`), as
    /// [`FirestoreStateStore::connect`] does.
    pub async fn connect_database(
        project_id: &str,
        database: Option<&str>,
    ) -> Result<Self, StateError> {
        let mut options = FirestoreDbOptions::new(project_id.to_string());
        if let Some(database) = database {
            options = options.with_database_id(database.to_string());
        }
        let db = FirestoreDb::with_options(options)
            .await
            .map_err(|e| map_error(e, "", ""))?;
        Ok(Self::from_db(db))
    }

    /// Wraps an existing client.
    pub fn from_db(db: FirestoreDb) -> Self {
        Self {
            db,
            gates: Arc::default(),
        }
    }

    fn gate(&self, collection: &str, id: &str) -> Arc<Semaphore> {
        let mut gates = self.gates.lock().expect("gates lock");
        // Forget the gates nobody holds.
        gates.retain(|_, g| Arc::strong_count(g) > 1);
        Arc::clone(
            gates
                .entry((collection.to_string(), id.to_string()))
                .or_insert_with(|| Arc::new(Semaphore::new(TX_CONCURRENCY_PER_DOCUMENT))),
        )
    }

    fn backoff() -> impl Iterator<Item = Duration> {
        ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(10))
            .with_max_delay(Duration::from_secs(2))
            .with_factor(2.0)
            .with_jitter()
            .without_max_times()
            .with_total_delay(Some(TX_RETRY_BUDGET))
            .build()
    }

    /// One attempt of [`StateStore::transaction`].
    async fn try_transaction(
        &self,
        collection: &str,
        id: &str,
        f: &mut TxFn<'_>,
        previous: &mut Option<FirestoreTransactionId>,
    ) -> Result<Option<serde_json::Value>, StateError> {
        let err = |e| map_error(e, collection, id);
        let col = firestore_id(collection);
        let doc_id = firestore_id(id);
        // A retry names the transaction it retries, so Firestore keeps its
        // place in the lock queue (what Google's client libraries do).
        let mode = match previous.take() {
            Some(tid) => FirestoreTransactionMode::ReadWriteRetry(tid),
            None => FirestoreTransactionMode::ReadWrite,
        };
        let mut tx = self
            .db
            .begin_transaction_with_options(
                FirestoreTransactionOptions::new()
                    .with_mode(mode)
                    .with_concurrent_mode(ConcurrencyMode::Optimistic),
            )
            .await
            .map_err(err)?;
        *previous = Some(tx.transaction_id().clone());
        let in_tx =
            self.db
                .clone_with_consistency_selector(FirestoreConsistencySelector::Transaction(
                    tx.transaction_id().clone(),
                ));
        let read = in_tx
            .fluent()
            .select()
            .by_id_in(&col)
            .obj::<StoredDoc>()
            .one(&doc_id)
            .await;
        let current = match read {
            Ok(doc) => doc.map(|d| parse(&d, collection, id)).transpose(),
            Err(e) => Err(err(e)),
        };
        let current = match current {
            Ok(c) => c,
            Err(e) => {
                let _ = tx.rollback().await;
                return Err(e);
            }
        };
        let result = match f(current.as_ref()) {
            TxDecision::Keep => {
                // Committing a read-only transaction releases its locks.
                tx.commit().await.map_err(err)?;
                return Ok(current);
            }
            TxDecision::Delete => {
                self.db
                    .fluent()
                    .delete()
                    .from(col.as_str())
                    .document_id(&doc_id)
                    .add_to_transaction(&mut tx)
                    .map_err(err)?;
                None
            }
            TxDecision::Put(doc) => {
                let stored = StoredDoc {
                    id: id.to_string(),
                    json: doc.to_string(),
                };
                self.db
                    .fluent()
                    .update()
                    .in_col(&col)
                    .document_id(&doc_id)
                    .object(&stored)
                    .add_to_transaction(&mut tx)
                    .map_err(err)?;
                Some(doc)
            }
        };
        tx.commit().await.map_err(err)?;
        Ok(result)
    }
}

fn parse(doc: &StoredDoc, collection: &str, id: &str) -> Result<serde_json::Value, StateError> {
    serde_json::from_str(&doc.json).map_err(|e| {
        StateError::Other(format!(
            "{collection}/{id}: stored document is not JSON: {e}"
        ))
    })
}

/// Escapes a state-store collection or document id into a valid Firestore
/// id: `%`, `/`, `.` and `_` become `%25`, `%2F`, `%2E`, `%5F` (so no id is
/// `.`/`..`, holds a `/` or looks like the reserved `__x__`); the empty id
/// becomes `%`, which no escape produces.
pub fn firestore_id(id: &str) -> String {
    if id.is_empty() {
        return "%".to_string();
    }
    let mut out = String::with_capacity(id.len());
    for c in id.chars() {
        match c {
            '%' => out.push_str("%25"),
            '/' => out.push_str("%2F"),
            '.' => out.push_str("%2E"),
            '_' => out.push_str("%5F"),
            c => out.push(c),
        }
    }
    out
}

/// The smallest string greater than every string starting with `prefix`
/// (`None` when there is none: `prefix` is empty or all `char::MAX`).
fn prefix_upper_bound(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = match last {
            '\u{D7FF}' => Some('\u{E000}'),
            char::MAX => None,
            c => char::from_u32(c as u32 + 1),
        };
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

fn map_error(e: FirestoreError, collection: &str, id: &str) -> StateError {
    match &e {
        FirestoreError::DatabaseError(db) if db.public.code == "Aborted" => StateError::Conflict {
            collection: collection.to_string(),
            id: id.to_string(),
        },
        FirestoreError::DatabaseError(db) if db.retry_possible => {
            StateError::Transient(e.to_string())
        }
        FirestoreError::NetworkError(_) => StateError::Transient(e.to_string()),
        _ => StateError::Other(e.to_string()),
    }
}

#[async_trait]
impl StateStore for FirestoreStateStore {
    async fn get(
        &self,
        collection: &str,
        id: &str,
    ) -> Result<Option<serde_json::Value>, StateError> {
        let doc: Option<StoredDoc> = self
            .db
            .fluent()
            .select()
            .by_id_in(firestore_id(collection))
            .obj()
            .one(&firestore_id(id))
            .await
            .map_err(|e| map_error(e, collection, id))?;
        doc.map(|d| parse(&d, collection, id)).transpose()
    }

    async fn put(
        &self,
        collection: &str,
        id: &str,
        doc: &serde_json::Value,
    ) -> Result<(), StateError> {
        let stored = StoredDoc {
            id: id.to_string(),
            json: doc.to_string(),
        };
        let _: StoredDoc = self
            .db
            .fluent()
            .update()
            .in_col(firestore_id(collection))
            .document_id(firestore_id(id))
            .object(&stored)
            .execute()
            .await
            .map_err(|e| map_error(e, collection, id))?;
        Ok(())
    }

    async fn delete(&self, collection: &str, id: &str) -> Result<(), StateError> {
        self.db
            .fluent()
            .delete()
            .from(firestore_id(collection).as_str())
            .document_id(firestore_id(id))
            .execute()
            .await
            .map_err(|e| map_error(e, collection, id))
    }

    async fn list(
        &self,
        collection: &str,
        prefix: &str,
    ) -> Result<Vec<(String, serde_json::Value)>, StateError> {
        let upper = prefix_upper_bound(prefix);
        let docs: Vec<StoredDoc> = self
            .db
            .fluent()
            .select()
            .from(firestore_id(collection).as_str())
            .filter(|q| {
                q.for_all([
                    (!prefix.is_empty())
                        .then(|| q.field("id").greater_than_or_equal(prefix))
                        .flatten(),
                    upper
                        .as_ref()
                        .and_then(|u| q.field("id").less_than(u.as_str())),
                ])
            })
            .order(|o| o.fields([o.field("id").asc()]))
            .obj()
            .query()
            .await
            .map_err(|e| map_error(e, collection, prefix))?;
        docs.into_iter()
            .map(|d| {
                let value = parse(&d, collection, &d.id)?;
                Ok((d.id, value))
            })
            .collect()
    }

    async fn transaction(
        &self,
        collection: &str,
        id: &str,
        f: &mut TxFn<'_>,
    ) -> Result<Option<serde_json::Value>, StateError> {
        let gate = self.gate(collection, id);
        let _permit = gate
            .acquire()
            .await
            .map_err(|e| StateError::Other(e.to_string()))?;
        let mut delays = Self::backoff();
        let mut previous = None;
        loop {
            match self.try_transaction(collection, id, f, &mut previous).await {
                Ok(doc) => return Ok(doc),
                Err(err) => match (err.is_retryable(), delays.next()) {
                    (true, Some(delay)) => {
                        tracing::debug!(collection, id, error = %err, ?delay, "firestore transaction retried");
                        tokio::time::sleep(delay).await;
                    }
                    _ => return Err(err),
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_escaped_without_collisions() {
        assert_eq!(firestore_id("run/2025-03-15/a"), "run%2F2025-03-15%2Fa");
        assert_eq!(firestore_id(".."), "%2E%2E");
        assert_eq!(firestore_id("__x__"), "%5F%5Fx%5F%5F");
        assert_eq!(firestore_id("100%"), "100%25");
        assert_eq!(firestore_id(""), "%");
        assert_ne!(firestore_id("%2F"), firestore_id("/"));
    }

    #[test]
    fn prefix_upper_bound_is_the_next_string() {
        assert_eq!(prefix_upper_bound("run/"), Some("run0".to_string()));
        assert_eq!(prefix_upper_bound(""), None);
        assert_eq!(prefix_upper_bound("a\u{10FFFF}"), Some("b".to_string()));
        assert_eq!(prefix_upper_bound("\u{D7FF}"), Some("\u{E000}".to_string()));
        assert_eq!(prefix_upper_bound("\u{10FFFF}"), None);
        let upper = prefix_upper_bound("run/2025").unwrap();
        assert!("run/2025-03-15/a" < upper.as_str());
        assert!("run/2026" >= upper.as_str());
    }
}
