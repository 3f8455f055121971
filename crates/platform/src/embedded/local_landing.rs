//! The embedded landing zone: a local directory (or memory, for tests) read
//! through `object_store`, the same API the GCS landing zone uses.

use crate::landing::{LandingError, LandingObject, LandingZone, PutOutcome};
use async_trait::async_trait;
use bytes::Bytes;
use futures::TryStreamExt;
use object_store::ObjectStore;
use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;
use object_store::path::Path as ObjectPath;
use std::path::Path;
use std::sync::Arc;

/// Scraped payloads in a local directory, or in memory.
#[derive(Debug, Clone)]
pub struct LocalLandingZone {
    store: Arc<dyn ObjectStore>,
    description: String,
}

impl LocalLandingZone {
    /// The landing zone rooted at `root`; the directory is created if missing.
    pub fn open(root: impl AsRef<Path>) -> Result<Self, LandingError> {
        let root = root.as_ref();
        let io = |e: &dyn std::fmt::Display| LandingError::Io {
            path: root.display().to_string(),
            message: e.to_string(),
        };
        std::fs::create_dir_all(root).map_err(|e| io(&e))?;
        let store = LocalFileSystem::new_with_prefix(root).map_err(|e| io(&e))?;
        Ok(Self {
            store: Arc::new(store),
            description: root.display().to_string(),
        })
    }

    /// An empty landing zone in memory; fill it with [`put`](Self::put).
    pub fn in_memory() -> Self {
        Self {
            store: Arc::new(InMemory::new()),
            description: "memory://landing".to_string(),
        }
    }

    /// Stores a payload at `path` (relative, `/`-separated).
    /// A landing zone in Cloud Storage: `gs://bucket/prefix` (feature
    /// `gcp`). Credentials are the application default ones; with
    /// `STORAGE_EMULATOR_HOST` set (`host:port` or a URL) it talks to that
    /// emulator without OAuth instead.
    #[cfg(feature = "gcp")]
    pub fn gcs(bucket: &str, prefix: &str) -> Result<Self, LandingError> {
        use object_store::gcp::GoogleCloudStorageBuilder;
        use object_store::prefix::PrefixStore;
        let fail =
            |e: &dyn std::fmt::Display| LandingError::Other(format!("gs://{bucket}/{prefix}: {e}"));
        let mut builder = GoogleCloudStorageBuilder::from_env().with_bucket_name(bucket);
        if let Ok(host) = std::env::var("STORAGE_EMULATOR_HOST")
            && !host.is_empty()
        {
            let url = if host.contains("://") {
                host
            } else {
                format!("http://{host}")
            };
            // object_store's documented emulator form: a service account
            // naming the base URL with OAuth disabled (a stand-in only for
            // Google's token issuer).
            let key = serde_json::json!({
                "private_key": "unused", "private_key_id": "unused",
                "client_email": "emulator@propcast.invalid",
                "gcs_base_url": url, "disable_oauth": true,
            });
            builder = builder
                .with_service_account_key(key.to_string())
                .with_client_options(object_store::ClientOptions::new().with_allow_http(true));
        }
        let store = builder.build().map_err(|e| fail(&e))?;
        let store: Arc<dyn ObjectStore> = if prefix.is_empty() {
            Arc::new(store)
        } else {
            Arc::new(PrefixStore::new(store, prefix))
        };
        Ok(Self {
            store,
            description: format!("gs://{bucket}/{prefix}"),
        })
    }

    /// Lists one object of the zone: proves it is reachable and readable.
    pub async fn probe(&self) -> Result<(), LandingError> {
        let mut listing = self.store.list(None);
        match listing.try_next().await {
            Ok(_) => Ok(()),
            Err(e) => Err(map_error(&self.description, e)),
        }
    }

    pub async fn put(&self, path: &str, data: impl Into<Bytes>) -> Result<(), LandingError> {
        let location = object_path(path)?;
        self.store
            .put(&location, data.into().into())
            .await
            .map(|_| ())
            .map_err(|e| map_error(path, e))
    }
}

fn object_path(path: &str) -> Result<ObjectPath, LandingError> {
    ObjectPath::parse(path).map_err(|e| LandingError::Other(format!("invalid path {path:?}: {e}")))
}

fn map_error(path: &str, error: object_store::Error) -> LandingError {
    match error {
        object_store::Error::NotFound { .. } => LandingError::NotFound {
            path: path.to_string(),
        },
        other => LandingError::Io {
            path: path.to_string(),
            message: other.to_string(),
        },
    }
}

#[async_trait]
impl LandingZone for LocalLandingZone {
    async fn list(&self, prefix: &str) -> Result<Vec<LandingObject>, LandingError> {
        let prefix = prefix.trim_matches('/');
        let location = if prefix.is_empty() {
            None
        } else {
            Some(object_path(prefix)?)
        };
        let metas: Vec<_> = match self.store.list(location.as_ref()).try_collect().await {
            Ok(metas) => metas,
            Err(object_store::Error::NotFound { .. }) => Vec::new(),
            Err(e) => return Err(map_error(prefix, e)),
        };
        let mut objects: Vec<LandingObject> = metas
            .into_iter()
            .map(|m| LandingObject {
                path: m.location.to_string(),
                size: m.size,
            })
            .collect();
        objects.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(objects)
    }

    async fn get(&self, path: &str) -> Result<Bytes, LandingError> {
        let location = object_path(path.trim_start_matches('/'))?;
        let result = self
            .store
            .get(&location)
            .await
            .map_err(|e| map_error(path, e))?;
        result.bytes().await.map_err(|e| map_error(path, e))
    }

    async fn put_new(&self, path: &str, data: Bytes) -> Result<PutOutcome, LandingError> {
        let location = object_path(path.trim_start_matches('/'))?;
        let options = object_store::PutOptions::from(object_store::PutMode::Create);
        match self.store.put_opts(&location, data.into(), options).await {
            Ok(_) => Ok(PutOutcome::Created),
            Err(object_store::Error::AlreadyExists { .. }) => Ok(PutOutcome::AlreadyExists),
            Err(e) => Err(map_error(path, e)),
        }
    }

    fn describe(&self) -> String {
        self.description.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_landed_snapshot_is_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let zone = LocalLandingZone::open(dir.path()).unwrap();
        let path = "nba-com/scoreboard-v3/2025-11-05/20251105_150000.json";
        let first = zone
            .put_new(path, Bytes::from_static(b"{\"a\":1}"))
            .await
            .unwrap();
        let second = zone
            .put_new(path, Bytes::from_static(b"{\"a\":2}"))
            .await
            .unwrap();
        assert_eq!(
            (first, second),
            (PutOutcome::Created, PutOutcome::AlreadyExists)
        );
        assert_eq!(
            zone.get(path).await.unwrap(),
            Bytes::from_static(b"{\"a\":1}")
        );
        let memory = LocalLandingZone::in_memory();
        assert_eq!(
            memory.put_new(path, Bytes::new()).await.unwrap(),
            PutOutcome::Created
        );
        assert_eq!(
            memory.put_new(path, Bytes::new()).await.unwrap(),
            PutOutcome::AlreadyExists
        );
    }
}
