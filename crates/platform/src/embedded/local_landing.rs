//! The embedded landing zone: a local directory (or memory, for tests) read
//! through `object_store`, the same API the GCS landing zone uses.

use crate::landing::{LandingError, LandingObject, LandingZone};
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

    fn describe(&self) -> String {
        self.description.clone()
    }
}
