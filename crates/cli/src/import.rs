//! The bulk imports: `propcast import-shots` (shot charts into
//! `nba_raw.shot_zones`) and `propcast import-props` (historical sportsbook
//! lines into `nba_raw.player_props_imported`), each file with its
//! quarantine and a run-history row.

use crate::summary::group_thousands;
use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use propcast_core::date::today_eastern;
use propcast_core::tables::{ALL_TABLES, ProcessorRun};
use propcast_core::{Phase, RunStatus};
use propcast_patterns::Quarantine;
use propcast_platform::{Warehouse, WarehouseExt};
use propcast_raw::prop_import::import_prop_lines;
use propcast_raw::shot_zones::import_shot_zones;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

/// The processor name the shot import's quarantine and run history carry.
pub const IMPORT_PROCESSOR: &str = "shot_zones_import";
/// The processor name of the props import.
pub const PROPS_IMPORT_PROCESSOR: &str = "player_props_import";

/// What one file's import wrote, as run history records it.
struct Imported<'a> {
    command: &'static str,
    processor: &'static str,
    table: &'static str,
    source_file: &'a str,
    rows_per_date: &'a BTreeMap<NaiveDate, u64>,
    quarantine: &'a Quarantine,
    /// Said after the counts ("" for nothing).
    note: String,
}

async fn ensure_tables(warehouse: &dyn Warehouse) -> anyhow::Result<()> {
    for def in ALL_TABLES {
        warehouse
            .ensure_table(def)
            .await
            .with_context(|| format!("creating {}", def.qualified()))?;
    }
    Ok(())
}

/// Records one file's quarantine (on its first game date, or today when
/// it gave no row) and run-history row, and prints what it did.
async fn record(
    warehouse: &dyn Warehouse,
    execution_id: &str,
    imported: Imported<'_>,
    started_at: DateTime<Utc>,
    clock: Instant,
) -> anyhow::Result<()> {
    let run_id = uuid::Uuid::new_v4().to_string();
    let total: u64 = imported.rows_per_date.values().sum();
    let date = imported
        .rows_per_date
        .keys()
        .next()
        .copied()
        .unwrap_or_else(today_eastern);
    let quarantine = imported
        .quarantine
        .to_rows(date, imported.processor, &run_id, started_at);
    warehouse
        .replace_rows(
            date,
            &[
                ("processor", imported.processor),
                ("source_file", imported.source_file),
            ],
            &quarantine,
        )
        .await?;
    let status = if imported.quarantine.is_empty() {
        RunStatus::Success
    } else {
        RunStatus::Partial
    };
    warehouse
        .merge_rows(&[ProcessorRun {
            run_id,
            execution_id: execution_id.to_string(),
            correlation_id: format!("{execution_id}/{}", imported.source_file),
            processor: imported.processor.to_string(),
            phase: Phase::Raw.number(),
            game_date: date,
            status,
            skip_reason: None,
            error: None,
            round_id: execution_id.to_string(),
            entities_in_scope: None,
            entities_changed: None,
            rows_written: total as i64,
            records_quarantined: imported.quarantine.len() as i64,
            duration_ms: clock.elapsed().as_millis() as i64,
            mode: "import".to_string(),
            started_at,
            finished_at: Utc::now(),
        }])
        .await?;
    let (first, last) = (
        imported.rows_per_date.keys().next(),
        imported.rows_per_date.keys().next_back(),
    );
    println!(
        "propcast {}: {} → {}: {} rows on {} dates ({} → {}), {} quarantined{}{}  ({:.1} s)",
        imported.command,
        imported.source_file,
        imported.table,
        group_thousands(total),
        imported.rows_per_date.len(),
        first.map(|d| d.to_string()).unwrap_or_else(|| "-".into()),
        last.map(|d| d.to_string()).unwrap_or_else(|| "-".into()),
        group_thousands(imported.quarantine.len() as u64),
        imported.note,
        if imported.quarantine.is_empty() {
            String::new()
        } else {
            format!(
                " — see: propcast query \"SELECT * FROM nba_processing.quarantine WHERE processor = '{}'\"",
                imported.processor
            )
        },
        clock.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Imports every shot file, one after the other, and prints what each did.
/// A bad line is quarantined and the rest loads; an unreadable file is an
/// error.
pub async fn import_shots(warehouse: &dyn Warehouse, files: &[PathBuf]) -> anyhow::Result<()> {
    ensure_tables(warehouse).await?;
    let execution_id = uuid::Uuid::new_v4().to_string();
    for file in files {
        let started_at = Utc::now();
        let clock = Instant::now();
        let report = import_shot_zones(warehouse, file)
            .await
            .with_context(|| format!("importing {}", file.display()))?;
        let imported = Imported {
            command: "import-shots",
            processor: IMPORT_PROCESSOR,
            table: "nba_raw.shot_zones",
            source_file: &report.source_file,
            rows_per_date: &report.rows_per_date,
            quarantine: &report.quarantine,
            note: String::new(),
        };
        record(warehouse, &execution_id, imported, started_at, clock).await?;
    }
    Ok(())
}

/// Imports every props file (`market` names the market of files without a
/// market column), one after the other, and prints what each did.
pub async fn import_props(
    warehouse: &dyn Warehouse,
    files: &[PathBuf],
    market: Option<&str>,
) -> anyhow::Result<()> {
    ensure_tables(warehouse).await?;
    let execution_id = uuid::Uuid::new_v4().to_string();
    for file in files {
        let started_at = Utc::now();
        let clock = Instant::now();
        let report = import_prop_lines(warehouse, file, market)
            .await
            .with_context(|| format!("importing {}", file.display()))?;
        let imported = Imported {
            command: "import-props",
            processor: PROPS_IMPORT_PROCESSOR,
            table: "nba_raw.player_props_imported",
            source_file: &report.source_file,
            rows_per_date: &report.rows_per_date,
            quarantine: &report.quarantine,
            note: format!(
                ", {} rows with a name not resolved to an NBA id (kept, id NULL)",
                group_thousands(report.unresolved_rows)
            ),
        };
        record(warehouse, &execution_id, imported, started_at, clock).await?;
    }
    Ok(())
}
