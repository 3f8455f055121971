//! `/`: dates × processors, in the manner of a partition-status grid. Rows
//! are the processors that have run history, grouped by phase; columns are
//! the dates of the window; each cell is the processor's latest run of that
//! date (`propcast_patterns::history::latest_runs`, as `propcast status`
//! reads it) or "not triggered" when it has none. A cell is *stale* when an
//! earlier phase's latest run of the date finished after it started (its
//! inputs changed since), and outlined when the run quarantined records.

use crate::Dashboard;
use crate::page::{PageError, layout, parse_date};
use axum::extract::{Query, State};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use maud::{Markup, html};
use propcast_core::{Phase, RunStatus};
use propcast_patterns::history::{self, LatestRun};
use propcast_platform::{Warehouse, WarehouseExt};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};

/// Dates shown unless `days` says otherwise.
pub const DEFAULT_DAYS: i64 = 28;
/// The widest window a page draws.
pub const MAX_DAYS: i64 = 366;

#[derive(Debug, Deserialize)]
pub struct GridQuery {
    /// Last date shown (default: the last date with a run).
    pub to: Option<String>,
    pub days: Option<i64>,
}

/// What a cell shows: a run's status, or no run at all.
pub fn cell_status(run: Option<&LatestRun>) -> &'static str {
    run.map(|r| r.status.as_str()).unwrap_or("not_triggered")
}

/// Whether `run` started before an earlier phase's latest run of its date
/// finished: its inputs changed after it read them.
pub fn is_stale(run: &LatestRun, same_date: &[&LatestRun]) -> bool {
    matches!(run.status, RunStatus::Success | RunStatus::Partial)
        && same_date
            .iter()
            .any(|u| u.phase < run.phase && u.finished_at > run.started_at)
}

#[derive(Debug, Deserialize)]
struct ProcessorName {
    phase: i64,
    processor: String,
}

/// Whether the warehouse has run history at all; `Empty` says what to do
/// when not.
pub async fn require_history(
    warehouse: &dyn Warehouse,
) -> Result<(NaiveDate, NaiveDate), PageError> {
    #[derive(Deserialize)]
    struct N {
        n: i64,
    }
    let tables: Vec<N> = warehouse
        .query_as(
            "SELECT COUNT(*) AS n FROM information_schema.tables \
             WHERE table_schema = 'nba_processing' AND table_name = 'processor_runs'",
        )
        .await
        .map_err(PageError::query("the table list"))?;
    if tables.first().is_none_or(|t| t.n == 0) {
        return Err(PageError::Empty(
            "the warehouse has no run history table (nba_processing.processor_runs): nothing has run on it".into(),
        ));
    }
    history::run_dates(warehouse)
        .await
        .map_err(PageError::query("run history"))?
        .ok_or_else(|| PageError::Empty("run history is empty: no processor has run yet".into()))
}

fn phase_name(phase: i64) -> String {
    match Phase::ALL.iter().find(|p| p.number() == phase) {
        Some(p) => p
            .label()
            .replacen('_', " · ", 1)
            .replacen("phase", "phase ", 1),
        None => format!("phase {phase}"),
    }
}

fn tooltip(processor: &str, date: NaiveDate, run: Option<&LatestRun>, stale: bool) -> String {
    let Some(run) = run else {
        return format!("{processor} {date}: not triggered (no run)");
    };
    let mut text = format!(
        "{processor} {date}: {} · {} rows · {} ms",
        run.status, run.rows_written, run.duration_ms
    );
    if let Some(reason) = run.reason() {
        text.push_str(" · ");
        text.push_str(reason);
    }
    if run.records_quarantined > 0 {
        text.push_str(&format!(" · {} quarantined", run.records_quarantined));
    }
    if stale {
        text.push_str(" · stale: an earlier phase re-ran after it");
    }
    text
}

pub async fn page(
    State(dashboard): State<Dashboard>,
    Query(query): Query<GridQuery>,
) -> Result<Markup, PageError> {
    let warehouse = dashboard.warehouse().await?;
    let (first, last) = require_history(warehouse.as_ref()).await?;
    let days = query.days.unwrap_or(DEFAULT_DAYS).clamp(1, MAX_DAYS);
    let to = match &query.to {
        Some(text) => parse_date(text)?,
        None => last,
    };
    let from = to - Duration::days(days - 1);
    let runs = history::latest_runs(warehouse.as_ref(), from, to)
        .await
        .map_err(PageError::query("run history"))?;
    let quarantined = history::quarantined_per_date(warehouse.as_ref(), from, to)
        .await
        .map_err(PageError::query("quarantine"))?;
    // Every processor that ever ran, so rows stay put from page to page.
    let processors: Vec<ProcessorName> = warehouse
        .query_as(
            "SELECT phase, processor FROM nba_processing.processor_runs \
             GROUP BY phase, processor ORDER BY phase, processor",
        )
        .await
        .map_err(PageError::query("processors"))?;
    let mut by_cell: BTreeMap<(NaiveDate, &str), &LatestRun> = BTreeMap::new();
    let mut by_date: BTreeMap<NaiveDate, Vec<&LatestRun>> = BTreeMap::new();
    for run in &runs {
        by_cell.insert((run.game_date, run.processor.as_str()), run);
        by_date.entry(run.game_date).or_default().push(run);
    }
    let dates: Vec<NaiveDate> = from.iter_days().take_while(|d| *d <= to).collect();
    let with_runs: BTreeSet<NaiveDate> = by_date.keys().copied().collect();
    let mut phases: BTreeMap<i64, Vec<&str>> = BTreeMap::new();
    for p in &processors {
        phases
            .entry(p.phase)
            .or_default()
            .push(p.processor.as_str());
    }
    let window = |to: NaiveDate| format!("/?to={to}&days={days}");
    let latest_finish: Option<DateTime<Utc>> = runs.iter().map(|r| r.finished_at).max();
    let content = html! {
        p {
            "Each processor's latest run of each date, " (from) " → " (to) " (" (with_runs.len()) " of " (dates.len())
            " dates have runs; run history spans " (first) " → " (last) ")."
            @if let Some(at) = latest_finish { " Last run finished " (at.format("%Y-%m-%d %H:%M:%S UTC")) "." }
        }
        nav.pager {
            @if from > first { a #prev href=(window(from - Duration::days(1))) { "← earlier " (days) " days" } }
            @if to < last { a #next href=(window((to + Duration::days(days)).min(last))) { "later " (days) " days →" } }
            a href=(window(last)) { "latest" }
        }
        div.legend {
            @for (class, label) in [("success", "succeeded"), ("partial", "partial (records quarantined)"),
                ("no_data", "no data"), ("skipped", "skipped"), ("failed", "failed"), ("not_triggered", "not triggered")] {
                span { i class=(class) {} (label) }
            }
            span { "outlined: records quarantined · hatched: stale" }
        }
        table.grid {
            thead {
                tr {
                    th { "processor" }
                    @for d in &dates {
                        th.date data-date=(d) title=(format!("{d}: {} quarantined", quarantined.get(d).copied().unwrap_or(0))) {
                            a href=(format!("/date/{d}")) { (d.format("%m-%d")) }
                        }
                    }
                }
            }
            tbody {
                @for (phase, names) in &phases {
                    tr { th.phase colspan=(dates.len() + 1) { (phase_name(*phase)) } }
                    @for name in names {
                        tr {
                            th { (name) }
                            @for d in &dates {
                                @let run = by_cell.get(&(*d, *name)).copied();
                                @let stale = run.is_some_and(|r| is_stale(r, by_date.get(d).map(Vec::as_slice).unwrap_or(&[])));
                                @let status = cell_status(run);
                                @let quarantine = run.is_some_and(|r| r.records_quarantined > 0);
                                td class={ "cell " (status) @if quarantine { " quarantined" } @if stale { " stale" } }
                                    data-date=(d) data-processor=(name) data-phase=(phase) data-status=(status)
                                    data-stale=(stale) data-quarantined=(run.map(|r| r.records_quarantined).unwrap_or(0))
                                    title=(tooltip(name, *d, run, stale)) {
                                    @if run.is_some() { a href=(format!("/date/{d}")) {} }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(layout("Runs by date", content))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(processor: &str, phase: i64, status: RunStatus, start: u32, end: u32) -> LatestRun {
        let at = |m: u32| {
            NaiveDate::from_ymd_opt(2025, 11, 1)
                .unwrap()
                .and_hms_opt(12, m, 0)
                .unwrap()
                .and_utc()
        };
        LatestRun {
            game_date: NaiveDate::from_ymd_opt(2025, 11, 1).unwrap(),
            processor: processor.into(),
            phase,
            status,
            error: None,
            skip_reason: None,
            rows_written: 1,
            records_quarantined: 0,
            duration_ms: 1,
            correlation_id: "c".into(),
            mode: "daily".into(),
            started_at: at(start),
            finished_at: at(end),
        }
    }

    #[test]
    fn a_run_is_stale_when_an_earlier_phase_finished_after_it_started() {
        let raw = run("player_boxscores", 2, RunStatus::Success, 10, 11);
        let summary = run("player_game_summary", 3, RunStatus::Success, 5, 6);
        let rerun = run("player_game_summary", 3, RunStatus::Success, 12, 13);
        let failed = run("player_game_summary", 3, RunStatus::Failed, 5, 6);
        let same_phase = run("team_boxscores", 2, RunStatus::Success, 5, 6);
        let date = [&raw, &summary];
        assert!(is_stale(&summary, &date));
        assert!(!is_stale(&rerun, &[&raw, &rerun]));
        // A failure is shown as failed, not as stale; a phase is not its own upstream.
        assert!(!is_stale(&failed, &[&raw, &failed]));
        assert!(!is_stale(&same_phase, &[&raw, &same_phase]));
        assert_eq!(cell_status(None), "not_triggered");
        assert_eq!(cell_status(Some(&raw)), "success");
    }
}
