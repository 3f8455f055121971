//! `propcast import-shots`: the shot-chart bulk import into
//! `nba_raw.shot_zones`, with its quarantine and a run-history row.

use crate::summary::group_thousands;
use anyhow::Context;
use chrono::Utc;
use propcast_core::date::today_eastern;
use propcast_core::tables::{ALL_TABLES, ProcessorRun};
use propcast_core::{Phase, RunStatus};
use propcast_platform::{Warehouse, WarehouseExt};
use propcast_raw::shot_zones::import_shot_zones;
use std::path::PathBuf;
use std::time::Instant;

/// The processor name the import's quarantine and run history carry.
pub const IMPORT_PROCESSOR: &str = "shot_zones_import";

/// Imports every file, one after the other, and prints what each did. A bad
/// line is quarantined (on the file's first game date, or today when the
/// file gave no row) and the rest loads; an unreadable file is an error.
pub async fn import_shots(warehouse: &dyn Warehouse, files: &[PathBuf]) -> anyhow::Result<()> {
    for def in ALL_TABLES {
        warehouse
            .ensure_table(def)
            .await
            .with_context(|| format!("creating {}", def.qualified()))?;
    }
    let execution_id = uuid::Uuid::new_v4().to_string();
    for file in files {
        let started_at = Utc::now();
        let clock = Instant::now();
        let report = import_shot_zones(warehouse, file)
            .await
            .with_context(|| format!("importing {}", file.display()))?;
        let run_id = uuid::Uuid::new_v4().to_string();
        let date = report
            .rows_per_date
            .keys()
            .next()
            .copied()
            .unwrap_or_else(today_eastern);
        let quarantine = report
            .quarantine
            .to_rows(date, IMPORT_PROCESSOR, &run_id, started_at);
        warehouse
            .replace_rows(date, &[("processor", IMPORT_PROCESSOR)], &quarantine)
            .await?;
        let status = if report.quarantine.is_empty() {
            RunStatus::Success
        } else {
            RunStatus::Partial
        };
        warehouse
            .merge_rows(&[ProcessorRun {
                run_id,
                execution_id: execution_id.clone(),
                correlation_id: format!("{execution_id}/{}", report.source_file),
                processor: IMPORT_PROCESSOR.to_string(),
                phase: Phase::Raw.number(),
                game_date: date,
                status,
                skip_reason: None,
                error: None,
                round_id: execution_id.clone(),
                entities_in_scope: None,
                entities_changed: None,
                rows_written: report.total_rows() as i64,
                records_quarantined: report.quarantine.len() as i64,
                duration_ms: clock.elapsed().as_millis() as i64,
                mode: "import".to_string(),
                started_at,
                finished_at: Utc::now(),
            }])
            .await?;
        let (first, last) = (
            report.rows_per_date.keys().next(),
            report.rows_per_date.keys().next_back(),
        );
        println!(
            "propcast import-shots: {} → nba_raw.shot_zones: {} rows on {} dates ({} → {}), {} quarantined{}  ({:.1} s)",
            report.source_file,
            group_thousands(report.total_rows()),
            report.rows_per_date.len(),
            first.map(|d| d.to_string()).unwrap_or_else(|| "-".into()),
            last.map(|d| d.to_string()).unwrap_or_else(|| "-".into()),
            report.quarantine.len(),
            if report.quarantine.is_empty() {
                String::new()
            } else {
                format!(
                    " — see: propcast query \"SELECT * FROM nba_processing.quarantine WHERE processor = '{IMPORT_PROCESSOR}'\""
                )
            },
            clock.elapsed().as_secs_f64()
        );
    }
    Ok(())
}
