//! Embedded backends: DuckDB warehouse, SQLite state store and event bus,
//! local-directory landing zone.

mod duckdb_warehouse;
mod local_landing;
mod readers;
mod sqlite_bus;
mod sqlite_state;

pub use duckdb_warehouse::DuckDbWarehouse;
pub use local_landing::LocalLandingZone;
pub use readers::{RemoteReadWarehouse, readers_socket};
pub use sqlite_bus::SqliteEventBus;
pub use sqlite_state::SqliteStateStore;

use crate::bus::EventBusError;
use crate::state::StateError;
use crate::warehouse::WarehouseError;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The warehouse file inside a data directory.
pub const WAREHOUSE_FILE: &str = crate::config::EMBEDDED_WAREHOUSE_FILE;
/// The state store and event bus file inside a data directory.
pub const STATE_FILE: &str = crate::config::EMBEDDED_STATE_FILE;

/// Why the embedded backends could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedOpenError {
    #[error("cannot create data directory {path}: {message}")]
    DataDir { path: PathBuf, message: String },
    #[error(transparent)]
    Warehouse(#[from] WarehouseError),
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Bus(#[from] EventBusError),
}

/// The warehouse, state store and event bus of one data directory.
#[derive(Debug, Clone)]
pub struct EmbeddedBackends {
    pub warehouse: Arc<DuckDbWarehouse>,
    pub state: Arc<SqliteStateStore>,
    pub bus: Arc<SqliteEventBus>,
}

impl EmbeddedBackends {
    /// Opens (creating when missing) `data_dir/warehouse.duckdb` and
    /// `data_dir/state.sqlite` (state store and event bus share the file).
    pub fn open(data_dir: &Path) -> Result<Self, EmbeddedOpenError> {
        std::fs::create_dir_all(data_dir).map_err(|e| EmbeddedOpenError::DataDir {
            path: data_dir.to_path_buf(),
            message: e.to_string(),
        })?;
        let warehouse = DuckDbWarehouse::open(data_dir.join(WAREHOUSE_FILE))?;
        let state = SqliteStateStore::open(data_dir.join(STATE_FILE))?;
        let bus = SqliteEventBus::open(data_dir.join(STATE_FILE))?;
        tracing::info!(data_dir = %data_dir.display(), "opened embedded backends");
        Ok(Self {
            warehouse: Arc::new(warehouse),
            state: Arc::new(state),
            bus: Arc::new(bus),
        })
    }

    /// All three in memory (nothing touches the disk).
    pub fn in_memory() -> Result<Self, EmbeddedOpenError> {
        Ok(Self {
            warehouse: Arc::new(DuckDbWarehouse::in_memory()?),
            state: Arc::new(SqliteStateStore::in_memory()?),
            bus: Arc::new(SqliteEventBus::in_memory()?),
        })
    }
}

/// Runs blocking backend work from async code: on a multi-threaded tokio
/// runtime the worker hands its other tasks off first; elsewhere (a
/// current-thread runtime, no runtime) it runs inline.
pub(crate) fn run_blocking<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}
