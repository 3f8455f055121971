//! Service-level objectives computed from run history (`propcast slo`).
//!
//! Four objectives, each per phase and mode, over the game dates of a
//! window:
//! - **predictions ready**: a game date's predictions are ready when the
//!   first successful run of the prediction coordinator for it, in a daily
//!   mode (overnight, same-day, tomorrow), finished by the configured time
//!   (US Eastern) on the game date; the objective is a share of game dates.
//!   Backfill and import runs are history being rebuilt, not a day served,
//!   so they never count here;
//! - **phase duration p95**: a phase's duration on a date is from the
//!   first start to the last finish of its processors' runs in one
//!   execution; its 95th percentile must stay within the phase's target;
//! - **quarantine rate**: records quarantined over records seen (written
//!   plus quarantined);
//! - **run success**: the share of (date, processor) whose latest run did
//!   not fail.
//!
//! The computation ([`evaluate`]) is a pure function of the runs, so it is
//! tested on hand-built run history; [`load`] reads the runs.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use propcast_core::RunStatus;
use propcast_platform::warehouse::date_literal;
use propcast_platform::{Warehouse, WarehouseExt};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The processor whose successful run makes a date's predictions ready.
pub const READY_PROCESSOR: &str = propcast_prediction_worker::coordinator::NAME;

/// The modes that serve a day (the others rebuild history).
pub const DAILY_MODES: [&str; 3] = ["overnight", "same_day", "tomorrow"];

/// What each objective asks. Defaults: predictions by 11:00 ET (the
/// original system's coordinator ran at ~06:15 ET and its same-day rerun at
/// 10:30 ET) on 99 % of game dates; phase p95 within 10 min (phases 2, 3),
/// 15 min (4) and 30 min (5), the original's phase timeouts; at most 1 % of
/// records quarantined; 99 % of runs not failed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Targets {
    /// US Eastern wall-clock time on the game date.
    pub ready_by: NaiveTime,
    pub ready_objective: f64,
    /// Phase number → p95 target in seconds.
    pub phase_p95_seconds: BTreeMap<i64, f64>,
    pub max_quarantine_rate: f64,
    pub success_objective: f64,
}

impl Default for Targets {
    fn default() -> Self {
        Targets {
            ready_by: NaiveTime::from_hms_opt(11, 0, 0).expect("valid time"),
            ready_objective: 0.99,
            phase_p95_seconds: BTreeMap::from([(2, 600.0), (3, 600.0), (4, 900.0), (5, 1800.0)]),
            max_quarantine_rate: 0.01,
            success_objective: 0.99,
        }
    }
}

/// One processor run, as the objectives read it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Run {
    pub game_date: NaiveDate,
    pub phase: i64,
    pub processor: String,
    pub mode: String,
    pub status: RunStatus,
    pub execution_id: String,
    pub rows_written: i64,
    pub records_quarantined: i64,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
}

/// Whether an objective holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Met,
    Breached,
    /// Nothing in the window to measure.
    NoData,
}

impl State {
    fn word(self) -> &'static str {
        match self {
            State::Met => "met",
            State::Breached => "BREACHED",
            State::NoData => "no data",
        }
    }
}

/// One objective for one phase and mode.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Objective {
    /// `predictions_ready`, `phase_duration_p95`, `quarantine_rate`,
    /// `run_success`.
    pub slo: &'static str,
    pub phase: i64,
    pub mode: String,
    /// What is asked, in words ("≥ 99.0 % of game dates by 11:00 ET").
    pub objective: String,
    /// What was measured, in the objective's unit.
    pub actual: Option<f64>,
    /// How many dates, runs or records it was measured on.
    pub measured_on: u64,
    pub state: State,
    /// What breached it, when it is: the late dates, the slowest, the
    /// processors quarantining most.
    pub detail: String,
}

/// `propcast slo`'s report: the window and every objective.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub targets: Targets,
    pub objectives: Vec<Objective>,
}

impl Report {
    /// The objectives that do not hold.
    pub fn breached(&self) -> impl Iterator<Item = &Objective> {
        self.objectives
            .iter()
            .filter(|o| o.state == State::Breached)
    }

    /// The report as a table for people.
    pub fn render(&self) -> String {
        let mut table = Table::new();
        table.load_preset(UTF8_FULL_CONDENSED);
        table.set_header([
            "slo",
            "phase",
            "mode",
            "objective",
            "actual",
            "on",
            "state",
            "detail",
        ]);
        for o in &self.objectives {
            table.add_row([
                o.slo.to_string(),
                o.phase.to_string(),
                o.mode.clone(),
                o.objective.clone(),
                o.actual_text(),
                o.measured_on.to_string(),
                o.state.word().to_string(),
                o.detail.clone(),
            ]);
        }
        let breached = self.breached().count();
        format!(
            "propcast slo: {} → {}\n{table}\n{}\n",
            self.from,
            self.to,
            if breached == 0 {
                "every objective with data is met".to_string()
            } else {
                format!("{breached} objective(s) BREACHED")
            }
        )
    }
}

impl Objective {
    /// What was measured, in its unit ("" when nothing was).
    pub fn actual_text(&self) -> String {
        match (self.slo, self.actual) {
            (_, None) => String::new(),
            ("phase_duration_p95", Some(a)) => format!("{a:.1} s"),
            (_, Some(a)) => format!("{:.2} %", a * 100.0),
        }
    }
}

/// The runs of `[from, to]` (every mode; [`evaluate`] picks).
pub async fn load(
    warehouse: &dyn Warehouse,
    from: NaiveDate,
    to: NaiveDate,
) -> anyhow::Result<Vec<Run>> {
    Ok(warehouse
        .query_as(&format!(
            "SELECT game_date, phase, processor, mode, status, execution_id, rows_written, \
             records_quarantined, started_at, finished_at FROM nba_processing.processor_runs \
             WHERE game_date BETWEEN {} AND {} ORDER BY game_date, phase, processor, finished_at",
            date_literal(from),
            date_literal(to)
        ))
        .await?)
}

/// The last date in run history, or an error that says what to run.
pub async fn last_date(warehouse: &dyn Warehouse) -> anyhow::Result<NaiveDate> {
    propcast_patterns::history::run_dates(warehouse)
        .await?
        .map(|(_, last)| last)
        .ok_or_else(|| {
            anyhow::anyhow!(
                "no run history yet: run `propcast backfill --landing DIR` (or `propcast run --date D`) first"
            )
        })
}

/// The report of `days` dates ending on `to` (default: the last date in
/// run history).
pub async fn report(
    warehouse: &dyn Warehouse,
    to: Option<NaiveDate>,
    days: u32,
    targets: Targets,
) -> anyhow::Result<Report> {
    let to = match to {
        Some(d) => d,
        None => last_date(warehouse).await?,
    };
    let from = to - Duration::days(i64::from(days.max(1)) - 1);
    let runs = load(warehouse, from, to).await?;
    Ok(Report {
        from,
        to,
        objectives: evaluate(&runs, &targets),
        targets,
    })
}

/// Every objective on `runs`, ordered by objective, phase and mode.
pub fn evaluate(runs: &[Run], targets: &Targets) -> Vec<Objective> {
    let mut out = Vec::new();
    out.extend(predictions_ready(runs, targets));
    out.extend(phase_durations(runs, targets));
    out.extend(quarantine_rates(runs, targets));
    out.extend(run_success(runs, targets));
    out
}

fn percent(x: f64) -> String {
    format!("{:.1} %", x * 100.0)
}

fn is_daily(mode: &str) -> bool {
    DAILY_MODES.contains(&mode)
}

/// The predictions-ready objective, one per daily mode that has runs of the
/// coordinator (the mode of the date's first success, or of its last run
/// when none succeeded).
fn predictions_ready(runs: &[Run], targets: &Targets) -> Vec<Objective> {
    // Game date → (mode, earliest successful finish).
    let mut dates: BTreeMap<NaiveDate, (String, Option<DateTime<Utc>>)> = BTreeMap::new();
    for run in runs
        .iter()
        .filter(|r| r.processor == READY_PROCESSOR && is_daily(&r.mode))
    {
        let entry = dates
            .entry(run.game_date)
            .or_insert_with(|| (run.mode.clone(), None));
        if run.status != RunStatus::Failed && run.status != RunStatus::Skipped {
            if entry.1.is_none_or(|t| run.finished_at < t) {
                *entry = (run.mode.clone(), Some(run.finished_at));
            }
        } else if entry.1.is_none() {
            entry.0 = run.mode.clone();
        }
    }
    let mut by_mode: BTreeMap<String, (u64, Vec<String>)> = BTreeMap::new();
    for (date, (mode, ready_at)) in &dates {
        let deadline = propcast_core::date::eastern_instant(*date, targets.ready_by);
        let (n, late) = by_mode.entry(mode.clone()).or_default();
        *n += 1;
        match ready_at {
            Some(t) if *t <= deadline => {}
            Some(t) => late.push(format!(
                "{date} ready {}",
                propcast_core::date::eastern_time(*t).format("%H:%M ET")
            )),
            None => late.push(format!("{date} not ready")),
        }
    }
    let objective = format!(
        "≥ {} of game dates by {} ET",
        percent(targets.ready_objective),
        targets.ready_by.format("%H:%M")
    );
    if by_mode.is_empty() {
        return vec![Objective {
            slo: "predictions_ready",
            phase: 5,
            mode: "daily".to_string(),
            objective,
            actual: None,
            measured_on: 0,
            state: State::NoData,
            detail: "no overnight, same-day or tomorrow run of the coordinator in the window \
                     (a backfill rebuilds history and serves no day)"
                .to_string(),
        }];
    }
    by_mode
        .into_iter()
        .map(|(mode, (n, late))| {
            share_objective(
                ("predictions_ready", 5, mode),
                objective.clone(),
                n,
                &late,
                targets.ready_objective,
            )
        })
        .collect()
}

/// A phase number and a mode: what most objectives are kept per.
type PhaseMode<'a> = (i64, &'a str);

/// The phase-duration objectives, one per (phase, mode).
fn phase_durations(runs: &[Run], targets: &Targets) -> Vec<Objective> {
    // (phase, mode) → (date, execution) → (first start, last finish).
    type Span = (DateTime<Utc>, DateTime<Utc>);
    let mut spans: BTreeMap<PhaseMode, BTreeMap<(NaiveDate, &str), Span>> = BTreeMap::new();
    for run in runs.iter().filter(|r| r.status != RunStatus::Skipped) {
        let span = spans
            .entry((run.phase, run.mode.as_str()))
            .or_default()
            .entry((run.game_date, run.execution_id.as_str()))
            .or_insert((run.started_at, run.finished_at));
        span.0 = span.0.min(run.started_at);
        span.1 = span.1.max(run.finished_at);
    }
    spans
        .into_iter()
        .map(|((phase, mode), spans)| {
            let mut seconds: Vec<(f64, NaiveDate)> = spans
                .iter()
                .map(|((date, _), (start, end))| {
                    ((*end - *start).num_milliseconds() as f64 / 1000.0, *date)
                })
                .collect();
            seconds.sort_by(|a, b| a.0.total_cmp(&b.0));
            let values: Vec<f64> = seconds.iter().map(|s| s.0).collect();
            let p95 = quantile(&values, 0.95);
            let target = targets.phase_p95_seconds.get(&phase).copied();
            let state = match (p95, target) {
                (Some(p), Some(t)) if p > t => State::Breached,
                (Some(_), _) => State::Met,
                (None, _) => State::NoData,
            };
            let slowest: Vec<String> = seconds
                .iter()
                .rev()
                .take(3)
                .map(|(s, d)| format!("{d} {s:.1} s"))
                .collect();
            Objective {
                slo: "phase_duration_p95",
                phase,
                mode: mode.to_string(),
                objective: match target {
                    Some(t) => format!("p95 ≤ {t:.0} s"),
                    None => "no target for this phase".to_string(),
                },
                actual: p95,
                measured_on: values.len() as u64,
                state,
                detail: if state == State::Breached {
                    format!("slowest: {}", slowest.join(", "))
                } else {
                    String::new()
                },
            }
        })
        .collect()
}

/// The quarantine-rate objectives, one per (phase, mode).
fn quarantine_rates(runs: &[Run], targets: &Targets) -> Vec<Objective> {
    // (phase, mode) → processor → (quarantined, seen).
    let mut counts: BTreeMap<PhaseMode, BTreeMap<&str, (i64, i64)>> = BTreeMap::new();
    for run in runs {
        let c = counts
            .entry((run.phase, run.mode.as_str()))
            .or_default()
            .entry(run.processor.as_str())
            .or_default();
        c.0 += run.records_quarantined;
        c.1 += run.records_quarantined + run.rows_written;
    }
    counts
        .into_iter()
        .map(|((phase, mode), processors)| {
            let quarantined: i64 = processors.values().map(|c| c.0).sum();
            let seen: i64 = processors.values().map(|c| c.1).sum();
            let rate = (seen > 0).then(|| quarantined as f64 / seen as f64);
            let state = match rate {
                Some(r) if r > targets.max_quarantine_rate => State::Breached,
                Some(_) => State::Met,
                None => State::NoData,
            };
            let mut worst: Vec<(&str, i64)> = processors
                .iter()
                .filter(|(_, c)| c.0 > 0)
                .map(|(p, c)| (*p, c.0))
                .collect();
            worst.sort_by_key(|w| std::cmp::Reverse(w.1));
            Objective {
                slo: "quarantine_rate",
                phase,
                mode: mode.to_string(),
                objective: format!("≤ {} of records", percent(targets.max_quarantine_rate)),
                actual: rate,
                measured_on: seen.max(0) as u64,
                state,
                detail: worst
                    .iter()
                    .map(|(p, n)| format!("{p}: {n} quarantined"))
                    .collect::<Vec<_>>()
                    .join(", "),
            }
        })
        .collect()
}

/// The run-success objectives, one per (phase, mode): the latest run of
/// each (date, processor).
fn run_success(runs: &[Run], targets: &Targets) -> Vec<Objective> {
    let mut latest: BTreeMap<(i64, &str, NaiveDate, &str), &Run> = BTreeMap::new();
    for run in runs {
        let key = (
            run.phase,
            run.mode.as_str(),
            run.game_date,
            run.processor.as_str(),
        );
        if latest
            .get(&key)
            .is_none_or(|r| r.finished_at <= run.finished_at)
        {
            latest.insert(key, run);
        }
    }
    let mut by: BTreeMap<PhaseMode, (u64, Vec<String>)> = BTreeMap::new();
    for ((phase, mode, date, processor), run) in latest {
        let (n, failed) = by.entry((phase, mode)).or_default();
        *n += 1;
        if run.status == RunStatus::Failed {
            failed.push(format!("{date} {processor}"));
        }
    }
    by.into_iter()
        .map(|((phase, mode), (n, failed))| {
            share_objective(
                ("run_success", phase, mode.to_string()),
                format!(
                    "≥ {} of runs not failed",
                    percent(targets.success_objective)
                ),
                n,
                &failed,
                targets.success_objective,
            )
        })
        .collect()
}

/// An objective on a share: of `n` dates or runs, those not in `bad`,
/// met when the share reaches `target`; the bad ones are its detail.
fn share_objective(
    (slo, phase, mode): (&'static str, i64, String),
    objective: String,
    n: u64,
    bad: &[String],
    target: f64,
) -> Objective {
    let share = 1.0 - bad.len() as f64 / n as f64;
    Objective {
        slo,
        phase,
        mode,
        objective,
        actual: Some(share),
        measured_on: n,
        state: if share >= target {
            State::Met
        } else {
            State::Breached
        },
        detail: shortlist(bad),
    }
}

/// The first few items and how many more.
fn shortlist(items: &[String]) -> String {
    const SHOWN: usize = 3;
    let mut text = items
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > SHOWN {
        text.push_str(&format!(" and {} more", items.len() - SHOWN));
    }
    text
}

/// The `q` quantile of sorted `values`, linearly interpolated (DuckDB's
/// `quantile_cont`).
fn quantile(values: &[f64], q: f64) -> Option<f64> {
    match values.len() {
        0 => None,
        1 => Some(values[0]),
        n => {
            let pos = q * (n - 1) as f64;
            let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
            Some(values[lo] + (values[hi] - values[lo]) * (pos - lo as f64))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 11, d).unwrap()
    }

    /// A run of `processor` on 2025-11-`d`, finishing at `finish` UTC and
    /// lasting `seconds`.
    fn run(
        d: u32,
        processor: &str,
        phase: i64,
        mode: &str,
        status: RunStatus,
        finish: (u32, u32, u32),
        seconds: i64,
    ) -> Run {
        let finished_at = Utc
            .with_ymd_and_hms(2025, 11, finish.0, finish.1, finish.2, 0)
            .unwrap();
        Run {
            game_date: day(d),
            phase,
            processor: processor.to_string(),
            mode: mode.to_string(),
            status,
            execution_id: format!("{mode}-{d}"),
            rows_written: 100,
            records_quarantined: 0,
            started_at: finished_at - Duration::seconds(seconds),
            finished_at,
        }
    }

    fn find<'a>(objectives: &'a [Objective], slo: &str, phase: i64, mode: &str) -> &'a Objective {
        objectives
            .iter()
            .find(|o| o.slo == slo && o.phase == phase && o.mode == mode)
            .unwrap_or_else(|| panic!("no {slo} for phase {phase} {mode}: {objectives:#?}"))
    }

    #[test]
    fn predictions_late_or_missing_on_two_dates_of_four_breach_99_percent() {
        use RunStatus::*;
        // 11:00 ET in November (EST, UTC−5) is 16:00 UTC.
        let runs = vec![
            // Nov 3: ready 06:20 ET.
            run(3, READY_PROCESSOR, 5, "same_day", Success, (3, 11, 20), 60),
            // Nov 4: a failure at 06:15 ET, then ready 10:59 ET.
            run(4, READY_PROCESSOR, 5, "same_day", Failed, (4, 11, 15), 60),
            run(4, READY_PROCESSOR, 5, "same_day", Success, (4, 15, 59), 60),
            // Nov 5: ready 12:30 ET, late.
            run(5, READY_PROCESSOR, 5, "same_day", Success, (5, 17, 30), 60),
            // Nov 6: only a failure: not ready.
            run(6, READY_PROCESSOR, 5, "same_day", Failed, (6, 11, 15), 60),
            // A backfill of Nov 7 at midnight never counts.
            run(7, READY_PROCESSOR, 5, "backfill", Success, (9, 5, 0), 60),
        ];
        let objectives = evaluate(&runs, &Targets::default());
        let ready = find(&objectives, "predictions_ready", 5, "same_day");
        assert_eq!(ready.measured_on, 4);
        assert_eq!(ready.actual, Some(0.5));
        assert_eq!(ready.state, State::Breached);
        assert_eq!(
            ready.detail,
            "2025-11-05 ready 12:30 ET, 2025-11-06 not ready"
        );
        assert!(
            !objectives
                .iter()
                .any(|o| o.slo == "predictions_ready" && o.mode == "backfill")
        );
        // Nov 4's failure is a failed run of Nov 4 only if it is the latest:
        // it is not, so one failure of four dates (Nov 6) is counted.
        let success = find(&objectives, "run_success", 5, "same_day");
        assert_eq!((success.measured_on, success.actual), (4, Some(0.75)));
        assert_eq!(success.detail, format!("2025-11-06 {READY_PROCESSOR}"));
        assert_eq!(success.state, State::Breached);
    }

    #[test]
    fn phase_duration_spans_its_processors_and_takes_the_p95() {
        use RunStatus::*;
        let mut runs = Vec::new();
        // Twenty dates of phase 3: two processors, the second finishing
        // 30 s after the first's 60 s; date 20 takes 700 s in all.
        for d in 1..=20 {
            runs.push(run(d, "a", 3, "overnight", Success, (d, 12, 0), 60));
            let last = if d == 20 { 640 } else { 30 };
            let mut b = run(d, "b", 3, "overnight", Success, (d, 12, 0), 10);
            b.finished_at += Duration::seconds(last);
            b.started_at += Duration::seconds(last);
            runs.push(b);
        }
        let objectives = evaluate(&runs, &Targets::default());
        let p95 = find(&objectives, "phase_duration_p95", 3, "overnight");
        assert_eq!(p95.measured_on, 20);
        // Sorted: nineteen of 90 s and one of 700 s; position 0.95 × 19 =
        // 18.05 lies between 90 and 700: 90 + 0.05 × 610 = 120.5.
        assert!((p95.actual.unwrap() - 120.5).abs() < 1e-9, "{p95:?}");
        assert_eq!(p95.state, State::Met);
        let strict = Targets {
            phase_p95_seconds: BTreeMap::from([(3, 100.0)]),
            ..Targets::default()
        };
        let p95 = find(
            &evaluate(&runs, &strict),
            "phase_duration_p95",
            3,
            "overnight",
        )
        .clone();
        assert_eq!(p95.state, State::Breached);
        assert!(
            p95.detail.starts_with("slowest: 2025-11-20 700.0 s"),
            "{}",
            p95.detail
        );
    }

    #[test]
    fn quarantine_rate_counts_records_seen_and_names_the_processor() {
        use RunStatus::*;
        let mut bad = run(1, "player_props", 2, "overnight", Partial, (2, 8, 0), 5);
        bad.rows_written = 980;
        bad.records_quarantined = 20;
        let good = run(1, "schedule", 2, "overnight", Success, (2, 8, 0), 5);
        let objectives = evaluate(&[bad, good], &Targets::default());
        let rate = find(&objectives, "quarantine_rate", 2, "overnight");
        assert_eq!(rate.measured_on, 1100);
        assert!((rate.actual.unwrap() - 20.0 / 1100.0).abs() < 1e-12);
        assert_eq!(rate.state, State::Breached);
        assert_eq!(rate.detail, "player_props: 20 quarantined");
    }
}
