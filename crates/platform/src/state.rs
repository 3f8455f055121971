//! The state store: small JSON documents (phase-completion docs, circuit
//! breakers, checkpoints, idempotency keys) updated in transactions.
//! Firestore in production; a SQLite file embedded.

use async_trait::async_trait;

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// Another writer changed the document; the transaction may be retried.
    #[error("transaction conflict on {collection}/{id}")]
    Conflict { collection: String, id: String },
    #[error("transient state-store error: {0}")]
    Transient(String),
    #[error("state-store error: {0}")]
    Other(String),
}

impl StateError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, StateError::Conflict { .. } | StateError::Transient(_))
    }
}

/// What a transaction function decides after reading the current document.
#[derive(Debug, Clone, PartialEq)]
pub enum TxDecision {
    /// Write this document (create or replace).
    Put(serde_json::Value),
    /// Delete the document.
    Delete,
    /// Change nothing.
    Keep,
}

/// The function a transaction runs; it may be called more than once when the
/// store retries after a conflict, so it must not have side effects.
pub type TxFn<'a> = dyn FnMut(Option<&serde_json::Value>) -> TxDecision + Send + 'a;

#[async_trait]
pub trait StateStore: Send + Sync {
    async fn get(
        &self,
        collection: &str,
        id: &str,
    ) -> Result<Option<serde_json::Value>, StateError>;

    async fn put(
        &self,
        collection: &str,
        id: &str,
        doc: &serde_json::Value,
    ) -> Result<(), StateError>;

    async fn delete(&self, collection: &str, id: &str) -> Result<(), StateError>;

    /// Documents of a collection whose id starts with `prefix`, ordered by id.
    async fn list(
        &self,
        collection: &str,
        prefix: &str,
    ) -> Result<Vec<(String, serde_json::Value)>, StateError>;

    /// Reads the document, lets `f` decide, and applies the decision
    /// atomically (serializable: no other write to the document in between).
    /// Retries internally on conflict; returns the document as written (or
    /// as read, for `Keep`/`Delete` → `None` after delete).
    async fn transaction(
        &self,
        collection: &str,
        id: &str,
        f: &mut TxFn<'_>,
    ) -> Result<Option<serde_json::Value>, StateError>;
}
