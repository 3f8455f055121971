//! What the end-to-end tests share: where the real data is, one runtime,
//! copying a landing zone to change it.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

pub fn shared_data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data")
}

pub fn landing() -> PathBuf {
    shared_data().join("landing")
}

pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("runtime")
    })
}

/// Copies a directory tree (a landing zone to corrupt or cut).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Every deterministic column (no run metadata) of a table, in a canonical
/// order.
pub fn snapshot(
    warehouse: &dyn propcast_platform::Warehouse,
    def: &propcast_core::TableDef,
) -> Vec<propcast_platform::Record> {
    let columns: Vec<&str> = def
        .columns
        .iter()
        .map(|c| c.name)
        .filter(|c| !propcast_core::TableDef::is_run_metadata(c))
        .collect();
    let list = columns.join(", ");
    runtime()
        .block_on(warehouse.query(&format!(
            "SELECT {list} FROM {} ORDER BY {list}",
            def.qualified()
        )))
        .unwrap_or_else(|e| panic!("{e}"))
}

/// The tables a rerun or resume must leave identical: all but run history
/// (`nba_processing.*`, the coordinator's batch log).
pub fn data_tables() -> Vec<&'static propcast_core::TableDef> {
    propcast_core::tables::ALL_TABLES
        .iter()
        .filter(|d| d.dataset != "nba_processing" && d.name != "prediction_worker_runs")
        .collect()
}
