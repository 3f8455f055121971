//! The landing zone: scraped payloads as received (a local directory, or
//! GCS in production), read through `object_store`.

use async_trait::async_trait;
use bytes::Bytes;

#[derive(Debug, thiserror::Error)]
pub enum LandingError {
    #[error("landing zone: {path}: not found")]
    NotFound { path: String },
    #[error("landing zone: {path}: {message}")]
    Io { path: String, message: String },
    #[error("landing zone: {0}")]
    Other(String),
}

impl LandingError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, LandingError::Io { .. })
    }
}

/// One stored payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LandingObject {
    /// Path relative to the landing-zone root, `/`-separated
    /// ("nba-com/player-boxscores/2025-03-15/20250316_080500.json").
    pub path: String,
    pub size: u64,
}

/// What a create-only write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutOutcome {
    /// The payload is stored at the path.
    Created,
    /// Something was already stored at the path; it was left as it was.
    AlreadyExists,
}

#[async_trait]
pub trait LandingZone: Send + Sync {
    /// Objects under `prefix` (a folder path without trailing slash, or ""),
    /// recursively, sorted by path.
    async fn list(&self, prefix: &str) -> Result<Vec<LandingObject>, LandingError>;

    async fn get(&self, path: &str) -> Result<Bytes, LandingError>;

    /// Stores `data` at `path` only if nothing is there yet: a landed
    /// snapshot is never overwritten (the scrapers' rule). Atomic where the
    /// store is (a local rename, a GCS `ifGenerationMatch=0` precondition).
    async fn put_new(&self, path: &str, data: Bytes) -> Result<PutOutcome, LandingError>;

    /// A human-readable location for error messages ("/data/landing").
    fn describe(&self) -> String;
}
