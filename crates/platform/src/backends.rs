//! Assembling backends: the one place that turns a configuration into the
//! warehouse, landing zone, state store and event bus a process runs on.
//! Today that is the embedded default on a data directory; backends chosen
//! by URI are resolved here too.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::bus::EventBus;
use crate::landing::{LandingError, LandingZone};
use crate::state::StateStore;
use crate::warehouse::Warehouse;

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
