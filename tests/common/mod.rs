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

pub mod tables;

/// A landing zone under `root` with the 2025-26 schedule and every payload
/// of `dates` (box scores, events, props) copied from the shared one.
pub fn landing_for(root: &std::path::Path, dates: &[&str]) -> std::path::PathBuf {
    let land = root.join("landing");
    let real = landing();
    copy_dir(
        &real.join("nba-com/schedule-cdn/2025-26"),
        &land.join("nba-com/schedule-cdn/2025-26"),
    );
    for date in dates {
        for dir in [
            "nba-com/player-boxscores",
            "nba-com/team-boxscores",
            "odds-api/events-history",
            "odds-api/player-props-history",
        ] {
            let from = real.join(dir).join(date);
            if from.is_dir() {
                copy_dir(&from, &land.join(dir).join(date));
            }
        }
    }
    land
}

/// `propcast backfill` of `from..=to` on `land`, with `backends` flags.
pub fn backfill(
    land: &std::path::Path,
    data: &std::path::Path,
    from: &str,
    to: &str,
    backends: &[String],
) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_propcast"))
        .arg("backfill")
        .arg("--landing")
        .arg(land)
        .args(["--from", from, "--to", to, "--no-progress"])
        .arg("--data-dir")
        .arg(data)
        .args(backends)
        .env_remove("PROPCAST_WAREHOUSE")
        .env_remove("PROPCAST_STATE")
        .env_remove("PROPCAST_BUS")
        .env_remove("PROPCAST_CONFIG")
        .output()
        .expect("run propcast");
    assert!(
        output.status.success(),
        "propcast backfill {backends:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A loopback port nothing listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
