//! Reading run history back: the latest run of every processor on each
//! date, the records quarantined per date, the last date with a run.
//! [`crate::record_runs`] is the one writer of `nba_processing.processor_runs`;
//! these are its readers, shared by `propcast status` and the dashboard.

use chrono::{DateTime, NaiveDate, Utc};
use propcast_core::RunStatus;
use propcast_platform::warehouse::date_literal;
use propcast_platform::{Warehouse, WarehouseError, WarehouseExt};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A processor's latest run of a date (the last to finish; ties broken by
/// run id), with what a person needs to read it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LatestRun {
    pub game_date: NaiveDate,
    pub processor: String,
    pub phase: i64,
    pub status: RunStatus,
    pub error: Option<String>,
    pub skip_reason: Option<String>,
    pub rows_written: i64,
    pub records_quarantined: i64,
    pub duration_ms: i64,
    pub correlation_id: String,
    pub mode: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
}

impl LatestRun {
    /// Why the run failed or was skipped, if it says.
    pub fn reason(&self) -> Option<&str> {
        self.error.as_deref().or(self.skip_reason.as_deref())
    }
}

fn between(from: NaiveDate, to: NaiveDate) -> String {
    format!(
        "game_date BETWEEN {} AND {}",
        date_literal(from),
        date_literal(to)
    )
}

/// The latest run of every processor on every date of `[from, to]`, by
/// date, phase and processor.
pub async fn latest_runs(
    warehouse: &dyn Warehouse,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<LatestRun>, WarehouseError> {
    warehouse
        .query_as(&format!(
            "SELECT game_date, processor, phase, status, error, skip_reason, rows_written,
                    records_quarantined, duration_ms, correlation_id, mode, started_at, finished_at
             FROM (
                SELECT *, ROW_NUMBER() OVER (
                    PARTITION BY game_date, processor ORDER BY finished_at DESC, run_id DESC) AS latest
                FROM nba_processing.processor_runs WHERE {}) r
             WHERE latest = 1 ORDER BY game_date, phase, processor",
            between(from, to)
        ))
        .await
}

#[derive(Debug, Deserialize)]
struct Quarantined {
    game_date: NaiveDate,
    n: i64,
}

/// Records in quarantine per date of `[from, to]` (dates without any are
/// left out).
pub async fn quarantined_per_date(
    warehouse: &dyn Warehouse,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<BTreeMap<NaiveDate, i64>, WarehouseError> {
    Ok(warehouse
        .query_as::<Quarantined>(&format!(
            "SELECT game_date, COUNT(*) AS n FROM nba_processing.quarantine WHERE {} GROUP BY game_date",
            between(from, to)
        ))
        .await?
        .into_iter()
        .map(|q| (q.game_date, q.n))
        .collect())
}

#[derive(Debug, Deserialize)]
struct Bounds {
    first: Option<NaiveDate>,
    last: Option<NaiveDate>,
}

/// The first and last dates with a run; `None` when nothing ran yet.
pub async fn run_dates(
    warehouse: &dyn Warehouse,
) -> Result<Option<(NaiveDate, NaiveDate)>, WarehouseError> {
    let bounds = warehouse
        .query_as::<Bounds>(
            "SELECT MIN(game_date) AS first, MAX(game_date) AS last FROM nba_processing.processor_runs",
        )
        .await?;
    Ok(bounds.first().and_then(|b| Some((b.first?, b.last?))))
}
