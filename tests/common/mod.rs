//! What the end-to-end tests share: where the real data is, one runtime,
//! copying a landing zone to change it.

#![allow(dead_code)]

use std::sync::OnceLock;

// Not every test binary uses every helper.
#[allow(unused_imports)]
pub use propcast_test_support::landing::{copy_dir, corrupt_player_points, landing};

pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("runtime")
    })
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
