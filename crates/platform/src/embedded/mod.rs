//! Embedded backends: DuckDB warehouse, SQLite state store and event bus,
//! local-directory landing zone.

mod duckdb_warehouse;
mod local_landing;

pub use duckdb_warehouse::DuckDbWarehouse;
pub use local_landing::LocalLandingZone;

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
