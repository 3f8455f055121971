//! `propcast status`: the pipeline's state in the terminal — for each of the
//! last dates, what every phase's processors last did (succeeded, partial,
//! no data, skipped, failed) and how many records were quarantined; the
//! failures with their processor and reason; the circuit breakers that are
//! not closed. Read from run history (`nba_processing.processor_runs`,
//! latest run per date and processor: `propcast_patterns::history`, which
//! the dashboard reads too), the quarantine table and the state store, on
//! whatever backends are configured.

use crate::summary::group_thousands;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use comfy_table::{Cell, Table, presets::UTF8_FULL_CONDENSED};
use propcast_core::RunStatus;
use propcast_patterns::circuit_breaker::{BreakerState, list_breakers};
use propcast_patterns::history;
use propcast_platform::{StateStore, Warehouse};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// What each phase's processors last did on one date.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PhaseCounts {
    pub succeeded: u32,
    pub partial: u32,
    pub no_data: u32,
    pub skipped: u32,
    pub failed: u32,
}

/// One date.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DateStatus {
    pub game_date: NaiveDate,
    /// Phase number → counts of its processors' latest runs.
    pub phases: BTreeMap<i64, PhaseCounts>,
    pub quarantined: i64,
}

/// A processor whose latest run of a date failed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Failure {
    pub game_date: NaiveDate,
    pub phase: i64,
    pub processor: String,
    pub reason: String,
    pub finished_at: DateTime<Utc>,
}

/// A breaker that is open or half-open.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BreakerNote {
    /// The state-store id: the namespace and what it guards.
    pub id: String,
    pub state: String,
    pub failure_count: u32,
    pub opened_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

/// Everything `propcast status` reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Status {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub dates: Vec<DateStatus>,
    pub failures: Vec<Failure>,
    pub open_breakers: Vec<BreakerNote>,
    /// The service-level objectives over the same dates, with the default
    /// targets (`propcast slo` sets them).
    pub slo: Vec<crate::slo::Objective>,
}

/// The status of the `days` dates ending on `to` (default: the last date in
/// run history).
pub async fn status(
    warehouse: &dyn Warehouse,
    state: &dyn StateStore,
    to: Option<NaiveDate>,
    days: u32,
) -> anyhow::Result<Status> {
    let to = match to {
        Some(d) => d,
        None => crate::slo::last_date(warehouse).await?,
    };
    let from = to - Duration::days(i64::from(days.max(1)) - 1);
    let runs = history::latest_runs(warehouse, from, to).await?;
    let quarantined = history::quarantined_per_date(warehouse, from, to).await?;
    let mut dates: BTreeMap<NaiveDate, DateStatus> = BTreeMap::new();
    let mut failures = Vec::new();
    for run in runs {
        let date = dates.entry(run.game_date).or_insert_with(|| DateStatus {
            game_date: run.game_date,
            phases: BTreeMap::new(),
            quarantined: quarantined.get(&run.game_date).copied().unwrap_or(0),
        });
        let counts = date.phases.entry(run.phase).or_default();
        match run.status {
            RunStatus::Success => counts.succeeded += 1,
            RunStatus::Partial => counts.partial += 1,
            RunStatus::NoData => counts.no_data += 1,
            RunStatus::Skipped => counts.skipped += 1,
            RunStatus::Failed => {
                counts.failed += 1;
                failures.push(Failure {
                    game_date: run.game_date,
                    phase: run.phase,
                    reason: run.reason().unwrap_or("no error recorded").to_string(),
                    processor: run.processor,
                    finished_at: run.finished_at,
                });
            }
        }
    }
    let open_breakers = list_breakers(state)
        .await?
        .into_iter()
        .filter(|(_, breaker)| breaker.state != BreakerState::Closed)
        .map(|(id, breaker)| BreakerNote {
            id,
            state: breaker.state.as_str().to_string(),
            failure_count: breaker.failure_count,
            opened_at: breaker.opened_at,
            last_error: breaker.last_error,
        })
        .collect();
    let slo = crate::slo::evaluate(
        &crate::slo::load(warehouse, from, to).await?,
        &crate::slo::Targets::default(),
    );
    Ok(Status {
        from,
        to,
        dates: dates.into_values().collect(),
        failures,
        open_breakers,
        slo,
    })
}

fn phase_cell(counts: Option<&PhaseCounts>) -> String {
    let Some(c) = counts else {
        return "not run".to_string();
    };
    let mut parts = Vec::new();
    for (n, word) in [
        (c.failed, "FAILED"),
        (c.succeeded, "ok"),
        (c.partial, "partial"),
        (c.no_data, "no data"),
        (c.skipped, "skipped"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {word}"));
        }
    }
    parts.join(", ")
}

impl Status {
    /// The report a person reads.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "propcast status: {} → {} ({} dates with runs)",
            self.from,
            self.to,
            self.dates.len()
        );
        let mut table = Table::new();
        table.load_preset(UTF8_FULL_CONDENSED);
        table.set_header(vec![
            "date",
            "phase 1 scrape",
            "phase 2 raw",
            "phase 3 analytics",
            "phase 4 precompute",
            "phase 5 predictions",
            "quarantined",
        ]);
        for d in &self.dates {
            let mut row = vec![Cell::new(d.game_date)];
            // Phase 1 is the scrapers' runs (`propcast scrape`), recorded
            // beside the pipeline's phases though no orchestrator runs it.
            for phase in 1..=5 {
                row.push(Cell::new(phase_cell(d.phases.get(&phase))));
            }
            row.push(Cell::new(group_thousands(d.quarantined.max(0) as u64)));
            table.add_row(row);
        }
        let _ = writeln!(out, "{table}");
        if self.failures.is_empty() {
            let _ = writeln!(out, "failures: none");
        } else {
            let _ = writeln!(out, "failures (latest run of the processor on that date):");
            for f in &self.failures {
                let rerun = match f.processor.strip_prefix("scrape_") {
                    Some(source) if f.phase == 1 => {
                        format!("propcast scrape --date {} --sources {source}", f.game_date)
                    }
                    _ => format!("propcast run --date {}", f.game_date),
                };
                let _ = writeln!(
                    out,
                    "  {} phase {} {}: {}  — rerun: {rerun}",
                    f.game_date, f.phase, f.processor, f.reason
                );
            }
        }
        if self.open_breakers.is_empty() {
            let _ = writeln!(out, "circuit breakers: all closed");
        } else {
            let _ = writeln!(out, "circuit breakers not closed:");
            for b in &self.open_breakers {
                let _ = writeln!(
                    out,
                    "  {} {} ({} failures{}){}",
                    b.id,
                    b.state,
                    b.failure_count,
                    b.opened_at
                        .map(|t| format!(", opened {t}"))
                        .unwrap_or_default(),
                    b.last_error
                        .as_ref()
                        .map(|e| format!(": {e}"))
                        .unwrap_or_default()
                );
            }
        }
        let breached: Vec<&crate::slo::Objective> = self
            .slo
            .iter()
            .filter(|o| o.state == crate::slo::State::Breached)
            .collect();
        let measured = self
            .slo
            .iter()
            .filter(|o| o.state != crate::slo::State::NoData)
            .count();
        if breached.is_empty() {
            let _ = writeln!(
                out,
                "service-level objectives: {measured} measured, all met"
            );
        } else {
            let _ = writeln!(
                out,
                "service-level objectives: {} of {measured} BREACHED (propcast slo --date {} --days {} for all):",
                breached.len(),
                self.to,
                (self.to - self.from).num_days() + 1
            );
            for o in breached {
                let _ = writeln!(
                    out,
                    "  {} phase {} {}: {} — {}{}",
                    o.slo,
                    o.phase,
                    o.mode,
                    o.objective,
                    o.actual_text(),
                    if o.detail.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", o.detail)
                    }
                );
            }
        }
        if self.dates.iter().any(|d| d.quarantined > 0) {
            let _ = writeln!(
                out,
                "quarantined records: propcast query \"SELECT * FROM nba_processing.quarantine WHERE game_date BETWEEN DATE '{}' AND DATE '{}'\"",
                self.from, self.to
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use propcast_core::Phase;
    use propcast_core::tables::{ALL_TABLES, ProcessorRun, QuarantineRecord};
    use propcast_platform::WarehouseExt;
    use propcast_platform::embedded::{DuckDbWarehouse, SqliteStateStore};

    fn run(
        date: NaiveDate,
        processor: &str,
        phase: Phase,
        status: RunStatus,
        minute: u32,
    ) -> ProcessorRun {
        let at = date.and_hms_opt(12, minute, 0).unwrap().and_utc();
        ProcessorRun {
            run_id: format!("{date}-{processor}-{minute}"),
            execution_id: "e".into(),
            correlation_id: "c".into(),
            processor: processor.into(),
            phase: phase.number(),
            game_date: date,
            status,
            skip_reason: None,
            error: (status == RunStatus::Failed)
                .then(|| "nba_raw.player_boxscores has no rows for the date".to_string()),
            round_id: "r".into(),
            entities_in_scope: None,
            entities_changed: None,
            rows_written: 0,
            records_quarantined: 0,
            duration_ms: 5,
            mode: "backfill".into(),
            started_at: at,
            finished_at: at,
        }
    }

    #[tokio::test]
    async fn a_failed_date_is_named_with_its_processor_and_reason() {
        let warehouse = DuckDbWarehouse::in_memory().unwrap();
        for def in ALL_TABLES {
            warehouse.ensure_table(def).await.unwrap();
        }
        let d1 = NaiveDate::from_ymd_opt(2025, 11, 4).unwrap();
        let d2 = NaiveDate::from_ymd_opt(2025, 11, 5).unwrap();
        warehouse
            .merge_rows(&[
                run(d1, "player_boxscores", Phase::Raw, RunStatus::Success, 0),
                run(
                    d1,
                    "player_game_summary",
                    Phase::Analytics,
                    RunStatus::Success,
                    1,
                ),
                run(d2, "player_boxscores", Phase::Raw, RunStatus::Success, 0),
                // Failed first, then failed again: the latest run counts once.
                run(
                    d2,
                    "player_game_summary",
                    Phase::Analytics,
                    RunStatus::Failed,
                    1,
                ),
                run(
                    d2,
                    "player_game_summary",
                    Phase::Analytics,
                    RunStatus::Failed,
                    2,
                ),
                run(
                    d2,
                    "team_offense_game_summary",
                    Phase::Analytics,
                    RunStatus::Skipped,
                    1,
                ),
            ])
            .await
            .unwrap();
        let quarantined = QuarantineRecord {
            game_date: d2,
            processor: "player_boxscores".into(),
            source_file: "f.json".into(),
            record: "rowSet[3]".into(),
            field: "PTS".into(),
            reason: "not a number".into(),
            excerpt: "x".into(),
            run_id: "r".into(),
            quarantined_at: Utc::now(),
        };
        warehouse
            .replace_rows(d2, &[], &[quarantined])
            .await
            .unwrap();
        let state = SqliteStateStore::in_memory().unwrap();
        let status = status(&warehouse, &state, None, 7).await.unwrap();
        assert_eq!(status.to, d2);
        assert_eq!(status.dates.len(), 2);
        let second = &status.dates[1];
        assert_eq!(second.quarantined, 1);
        assert_eq!(second.phases[&3].failed, 1);
        assert_eq!(second.phases[&3].skipped, 1);
        assert_eq!(status.failures.len(), 1);
        let f = &status.failures[0];
        assert_eq!(
            (f.game_date, f.processor.as_str()),
            (d2, "player_game_summary")
        );
        let text = status.render();
        assert!(
            text.contains("2025-11-05 phase 3 player_game_summary: nba_raw.player_boxscores has no rows for the date"),
            "{text}"
        );
        assert!(text.contains("1 FAILED, 1 skipped"), "{text}");
        // Only the first date: no failure.
        let first = super::status(&warehouse, &state, Some(d1), 1)
            .await
            .unwrap();
        assert!(first.failures.is_empty());
        assert!(first.render().contains("failures: none"));
    }

    #[tokio::test]
    async fn a_failed_scrape_is_shown_in_phase_1_with_its_rerun() {
        let warehouse = DuckDbWarehouse::in_memory().unwrap();
        for def in ALL_TABLES {
            warehouse.ensure_table(def).await.unwrap();
        }
        let d = NaiveDate::from_ymd_opt(2025, 11, 5).unwrap();
        let mut scrape = run(d, "scrape_scoreboard_v3", Phase::Raw, RunStatus::Failed, 1);
        scrape.phase = 1;
        scrape.mode = "scrape".into();
        scrape.error = Some("rejected nba-com/scoreboard-v3/x.json: not valid JSON".into());
        let raw = run(d, "player_boxscores", Phase::Raw, RunStatus::Success, 2);
        warehouse.merge_rows(&[scrape, raw]).await.unwrap();
        let state = SqliteStateStore::in_memory().unwrap();
        let status = status(&warehouse, &state, None, 7).await.unwrap();
        assert_eq!(status.dates[0].phases[&1].failed, 1);
        let text = status.render();
        assert!(text.contains("phase 1 scrape"), "{text}");
        assert!(
            text.contains("2025-11-05 phase 1 scrape_scoreboard_v3: rejected nba-com/scoreboard-v3/x.json: not valid JSON  — rerun: propcast scrape --date 2025-11-05 --sources scoreboard_v3"),
            "{text}"
        );
    }
}
