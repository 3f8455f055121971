//! Assembling backends: the one place that turns a configuration
//! ([`crate::config::Config`], backends by URI) into the warehouse, landing
//! zone, state store and event bus a process runs on. Every backend is
//! opened and checked reachable before any work starts; a failure names the
//! configuration key, its value and what to do.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::bus::EventBus;
use crate::config::{BusUri, Config, LandingUri, StateUri, WarehouseUri};
use crate::landing::{LandingError, LandingZone};
use crate::state::StateStore;
use crate::warehouse::{Warehouse, WarehouseError};

/// Every backend a pipeline runs on.
#[derive(Clone)]
pub struct Backends {
    pub warehouse: Arc<dyn Warehouse>,
    pub landing: Arc<dyn LandingZone>,
    pub state: Arc<dyn StateStore>,
    pub bus: Arc<dyn EventBus>,
}

/// The state store and event bus alone: what the orchestrator service
/// needs (the warehouse stays free for the phase services).
#[derive(Clone)]
pub struct Coordination {
    pub state: Arc<dyn StateStore>,
    pub bus: Arc<dyn EventBus>,
}

/// Why the backends could not be opened; each message names the path and
/// what to pass instead.
#[derive(Debug, thiserror::Error)]
pub enum BackendsError {
    #[error(
        "landing zone {0} is not a directory: pass --landing with the folder that holds nba-com/ and odds-api/"
    )]
    LandingNotADirectory(PathBuf),
    #[error("opening the landing zone {path}: {source}")]
    Landing { path: PathBuf, source: LandingError },
    #[cfg(feature = "embedded")]
    #[error("opening the embedded backends in {path}: {source}")]
    Embedded {
        path: PathBuf,
        source: crate::embedded::EmbeddedOpenError,
    },
    #[error("opening {path}: {message} (pass --data-dir with the folder propcast runs on)")]
    StateFile { path: PathBuf, message: String },
    /// A configured backend could not be opened or reached.
    #[error("{key} = {value}: {message}; {hint}")]
    Unreachable {
        key: &'static str,
        value: String,
        message: String,
        hint: String,
    },
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// A cloud URI in a build without the `gcp` feature.
    #[error(
        "{key} = {value}: this build has no cloud backends; build propcast with the `gcp` feature (the default of the propcast binary)"
    )]
    NotBuilt { key: &'static str, value: String },
}

fn unreachable(
    key: &'static str,
    value: &dyn std::fmt::Display,
    message: impl ToString,
) -> BackendsError {
    let hint = match key {
        "warehouse" => {
            "check the project and the credentials (gcloud auth application-default login), or BIGQUERY_EMULATOR_HOST for an emulator; for the embedded default pass --warehouse duckdb://PATH or leave it unset"
        }
        "state" => {
            "check the project and the credentials, or FIRESTORE_EMULATOR_HOST for an emulator; for the embedded default leave --state unset"
        }
        "bus" => {
            "check the project and the credentials, or PUBSUB_EMULATOR_HOST for an emulator; for the embedded default leave --bus unset"
        }
        _ => {
            "check the path or bucket and the credentials, or STORAGE_EMULATOR_HOST for an emulator"
        }
    };
    BackendsError::Unreachable {
        key,
        value: value.to_string(),
        message: message.to_string(),
        hint: hint.to_string(),
    }
}

#[cfg(feature = "embedded")]
impl Backends {
    /// The backends a configuration names, each opened and checked
    /// reachable (the landing zone from [`Config::require_landing`]).
    pub async fn open(config: &Config) -> Result<Self, BackendsError> {
        let landing = config.require_landing()?;
        let landing = open_landing(landing).await?;
        let warehouse = open_warehouse(config, false).await?;
        let Coordination { state, bus } = Coordination::open(config).await?;
        Ok(Backends {
            warehouse,
            landing,
            state,
            bus,
        })
    }
}

/// The configured warehouse alone. A writer (`read_only` false) of an
/// embedded DuckDB file serves other processes' reads of it on the socket
/// beside the file while it runs ([`DuckDbWarehouse::serve_readers`]). A
/// reader (`query`, `status`, `validate`, `train`, the dashboard) reads
/// through that socket when a writer answers on it, and otherwise opens
/// the file read-only without taking its write lock.
///
/// [`DuckDbWarehouse::serve_readers`]: crate::embedded::DuckDbWarehouse::serve_readers
#[cfg(feature = "embedded")]
pub async fn open_warehouse(
    config: &Config,
    read_only: bool,
) -> Result<Arc<dyn Warehouse>, BackendsError> {
    let uri = &config.warehouse;
    match uri {
        WarehouseUri::DuckDb(path) if read_only => {
            // A writer creates the file before its socket, so no file means
            // no warehouse, written or not.
            if !path.exists() {
                return Err(BackendsError::Unreachable {
                    key: "warehouse",
                    value: uri.to_string(),
                    message: format!("no warehouse at {}", path.display()),
                    hint: "run `propcast backfill --landing DIR` first, or pass --data-dir / --warehouse with the one to read".to_string(),
                });
            }
            match open_reader(path).await {
                Ok(opened) => Ok(opened),
                Err(e) if e.is_retryable() => Err(BackendsError::Unreachable {
                    key: "warehouse",
                    value: uri.to_string(),
                    message: e.to_string(),
                    hint: "another process holds the file and serves no readers: a propcast \
                           writer started before readers were served, or a program of its own \
                           (the DuckDB CLI, a notebook). Close it or wait for it to finish"
                        .to_string(),
                }),
                Err(e) => Err(unreachable("warehouse", uri, e)),
            }
        }
        WarehouseUri::DuckDb(path) => {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).map_err(|e| unreachable("warehouse", uri, e))?;
            }
            let opened = open_writer(path)
                .await
                .map_err(|e| unreachable("warehouse", uri, e))?;
            // Readers are a convenience beside the write: a socket that
            // cannot be made (a path too long for a Unix socket, a
            // read-only directory) leaves them the file lock's error, and
            // the write goes on.
            if let Err(e) = opened.serve_readers() {
                tracing::warn!(error = %e, "cannot serve readers beside the warehouse's writer: `query`, `status` and the dashboard will wait for it to finish");
            }
            Ok(Arc::new(opened))
        }
        #[cfg(feature = "gcp")]
        WarehouseUri::BigQuery {
            project,
            dataset_prefix,
        } => {
            use crate::gcp::{BigQueryTarget, BigQueryWarehouse};
            let endpoint = std::env::var("BIGQUERY_EMULATOR_HOST")
                .ok()
                .filter(|h| !h.is_empty())
                .map(|h| {
                    if h.contains("://") {
                        h
                    } else {
                        format!("http://{h}")
                    }
                });
            let warehouse = BigQueryWarehouse::connect(BigQueryTarget {
                project: project.clone(),
                dataset_prefix: dataset_prefix.clone(),
                endpoint,
            })
            .await
            .map_err(|e| unreachable("warehouse", uri, e))?;
            Ok(Arc::new(warehouse))
        }
        #[cfg(not(feature = "gcp"))]
        WarehouseUri::BigQuery { .. } => Err(BackendsError::NotBuilt {
            key: "warehouse",
            value: uri.to_string(),
        }),
    }
}

/// Opens a DuckDB file to write, waiting up to [`WRITER_WAIT`] while
/// another process holds it: a reader that opened it read-only (one that
/// found no writer serving reads) holds it only for its own short query.
#[cfg(feature = "embedded")]
async fn open_writer(
    path: &std::path::Path,
) -> Result<crate::embedded::DuckDbWarehouse, WarehouseError> {
    let deadline = tokio::time::Instant::now() + WRITER_WAIT;
    loop {
        match crate::embedded::DuckDbWarehouse::open(path) {
            Err(e) if e.is_retryable() && tokio::time::Instant::now() < deadline => {
                tracing::debug!(error = %e, "warehouse busy; retrying");
                tokio::time::sleep(std::time::Duration::from_millis(250)).await;
            }
            other => return other,
        }
    }
}

/// Opens a DuckDB file to read: through its writer when one answers on the
/// socket beside it, else the file itself, read-only. A writer that has
/// just opened the file serves readers a moment later, so a lock error is
/// asked again for up to [`READER_WAIT`].
#[cfg(feature = "embedded")]
async fn open_reader(path: &std::path::Path) -> Result<Arc<dyn Warehouse>, WarehouseError> {
    use crate::embedded::{DuckDbWarehouse, RemoteReadWarehouse};
    let deadline = tokio::time::Instant::now() + READER_WAIT;
    loop {
        if let Some(remote) = RemoteReadWarehouse::connect(path).await {
            tracing::debug!(socket = %remote.socket().display(), "reading through the warehouse's writer");
            return Ok(Arc::new(remote));
        }
        match DuckDbWarehouse::open_read_only(path) {
            Err(e) if e.is_retryable() && tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            opened => return Ok(Arc::new(opened?)),
        }
    }
}

/// How long a reader asks again while a writer starts serving readers.
#[cfg(feature = "embedded")]
pub const READER_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// How long a writer waits for a DuckDB file another process holds.
#[cfg(feature = "embedded")]
pub const WRITER_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// The configured landing zone.
#[cfg(feature = "embedded")]
pub async fn open_landing(uri: &LandingUri) -> Result<Arc<dyn LandingZone>, BackendsError> {
    use crate::embedded::LocalLandingZone;
    match uri {
        LandingUri::File(dir) => {
            if !dir.is_dir() {
                return Err(BackendsError::LandingNotADirectory(dir.clone()));
            }
            let zone = LocalLandingZone::open(dir).map_err(|source| BackendsError::Landing {
                path: dir.clone(),
                source,
            })?;
            Ok(Arc::new(zone))
        }
        #[cfg(feature = "gcp")]
        LandingUri::Gcs { bucket, prefix } => {
            let zone = LocalLandingZone::gcs(bucket, prefix)
                .map_err(|e| unreachable("landing", uri, e))?;
            zone.probe()
                .await
                .map_err(|e| unreachable("landing", uri, e))?;
            Ok(Arc::new(zone))
        }
        #[cfg(not(feature = "gcp"))]
        LandingUri::Gcs { .. } => Err(BackendsError::NotBuilt {
            key: "landing",
            value: uri.to_string(),
        }),
    }
}

#[cfg(feature = "embedded")]
impl Coordination {
    /// The configured state store and event bus, each checked reachable.
    pub async fn open(config: &Config) -> Result<Self, BackendsError> {
        use crate::embedded::{SqliteEventBus, SqliteStateStore};
        let sqlite_dir = |path: &Path, key: &'static str, uri: &dyn std::fmt::Display| match path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
        {
            Some(parent) => std::fs::create_dir_all(parent).map_err(|e| unreachable(key, uri, e)),
            None => Ok(()),
        };
        let state: Arc<dyn StateStore> = match &config.state {
            uri @ StateUri::Sqlite(path) => {
                sqlite_dir(path, "state", uri)?;
                Arc::new(SqliteStateStore::open(path).map_err(|e| unreachable("state", uri, e))?)
            }
            #[cfg(feature = "gcp")]
            uri @ StateUri::Firestore { project, database } => {
                let store =
                    crate::gcp::FirestoreStateStore::connect_database(project, database.as_deref())
                        .await
                        .map_err(|e| unreachable("state", uri, e))?;
                store
                    .get("propcast_probe", "reachable")
                    .await
                    .map_err(|e| unreachable("state", uri, e))?;
                Arc::new(store)
            }
            #[cfg(not(feature = "gcp"))]
            uri @ StateUri::Firestore { .. } => {
                return Err(BackendsError::NotBuilt {
                    key: "state",
                    value: uri.to_string(),
                });
            }
        };
        let bus: Arc<dyn EventBus> = match &config.bus {
            uri @ BusUri::Sqlite(path) => {
                sqlite_dir(path, "bus", uri)?;
                Arc::new(SqliteEventBus::open(path).map_err(|e| unreachable("bus", uri, e))?)
            }
            #[cfg(feature = "gcp")]
            uri @ BusUri::PubSub { project } => {
                let bus = crate::gcp::PubSubEventBus::connect(project)
                    .await
                    .map_err(|e| unreachable("bus", uri, e))?;
                bus.probe().await.map_err(|e| unreachable("bus", uri, e))?;
                Arc::new(bus)
            }
            #[cfg(not(feature = "gcp"))]
            uri @ BusUri::PubSub { .. } => {
                return Err(BackendsError::NotBuilt {
                    key: "bus",
                    value: uri.to_string(),
                });
            }
        };
        Ok(Coordination { state, bus })
    }
}

#[cfg(feature = "embedded")]
impl Backends {
    /// The embedded default: DuckDB and SQLite files in `data_dir` (the
    /// state store and the event bus share the SQLite file), the landing
    /// zone in a local directory.
    pub fn embedded(data_dir: &Path, landing_dir: &Path) -> Result<Self, BackendsError> {
        use crate::embedded::{EmbeddedBackends, LocalLandingZone};
        if !landing_dir.is_dir() {
            return Err(BackendsError::LandingNotADirectory(
                landing_dir.to_path_buf(),
            ));
        }
        let embedded =
            EmbeddedBackends::open(data_dir).map_err(|source| BackendsError::Embedded {
                path: data_dir.to_path_buf(),
                source,
            })?;
        let landing =
            LocalLandingZone::open(landing_dir).map_err(|source| BackendsError::Landing {
                path: landing_dir.to_path_buf(),
                source,
            })?;
        Ok(Backends {
            warehouse: embedded.warehouse,
            landing: Arc::new(landing),
            state: embedded.state,
            bus: embedded.bus,
        })
    }
}

#[cfg(feature = "embedded")]
impl Coordination {
    /// The state store and event bus of `data_dir` (its `state.sqlite`,
    /// created when missing), without opening the warehouse.
    pub fn embedded(data_dir: &Path) -> Result<Self, BackendsError> {
        use crate::embedded::{STATE_FILE, SqliteEventBus, SqliteStateStore};
        let file = data_dir.join(STATE_FILE);
        let failed = |message: String| BackendsError::StateFile {
            path: file.clone(),
            message,
        };
        std::fs::create_dir_all(data_dir).map_err(|e| failed(e.to_string()))?;
        let state = SqliteStateStore::open(&file).map_err(|e| failed(e.to_string()))?;
        let bus = SqliteEventBus::open(&file).map_err(|e| failed(e.to_string()))?;
        Ok(Coordination {
            state: Arc::new(state),
            bus: Arc::new(bus),
        })
    }
}
