//! The summary of a backfill or daily run: what a person reads at the end,
//! and the JSON a script reads.

use chrono::NaiveDate;
use comfy_table::{Cell, CellAlignment, Table, presets::UTF8_FULL_CONDENSED};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// A processor run that failed.
#[derive(Debug, Clone, Serialize)]
pub struct FailedRun {
    pub date: NaiveDate,
    pub processor: String,
    pub error: String,
}

/// A bus message the run acknowledged without handling it (not readable:
/// not the expected protobuf, a field out of range), kept in the state
/// store's `dead_letters` collection.
#[derive(Debug, Clone, Serialize)]
pub struct DeadLettered {
    pub subscription: String,
    pub message_id: String,
    pub reason: String,
}

impl From<&propcast_platform::DeadLetter> for DeadLettered {
    fn from(letter: &propcast_platform::DeadLetter) -> Self {
        DeadLettered {
            subscription: letter.subscription.clone(),
            message_id: letter.message_id.clone(),
            reason: letter.reason.clone(),
        }
    }
}

/// Prediction and grading totals over the run's dates.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Accuracy {
    /// Every prediction written.
    pub predictions: u64,
    /// OVER/UNDER calls on a real line for players who played (pushes included).
    pub graded: u64,
    pub correct: u64,
    pub pushes: u64,
    pub pass: u64,
    pub no_line: u64,
    pub voided: u64,
    /// Predictions not graded: no box scores for the player's team that day
    /// (game not played yet, or not covered by the player source).
    pub ungraded: u64,
    /// Mean absolute error over every non-voided prediction with an outcome.
    pub mae: Option<f64>,
    /// Mean signed error (prediction − actual).
    pub bias: Option<f64>,
    /// correct / (graded − pushes).
    pub hit_rate: Option<f64>,
}

/// One system's graded totals over the run's dates.
#[derive(Debug, Clone, Serialize)]
pub struct SystemAccuracy {
    pub system_id: String,
    /// Rows in prediction_accuracy (every prediction of a player whose
    /// team's box scores exist that day).
    pub graded_rows: u64,
    /// OVER/UNDER calls on a real line that did not push, players who played.
    pub decided: u64,
    pub correct: u64,
    pub mae: Option<f64>,
    pub bias: Option<f64>,
    pub hit_rate: Option<f64>,
    /// Graded rows of players who played with a real line.
    pub with_line: u64,
    /// The system's MAE on those rows, and the line's own MAE on them.
    pub mae_with_line: Option<f64>,
    pub line_mae: Option<f64>,
}

/// A date whose validation failed, with the failed checks.
#[derive(Debug, Clone, Serialize)]
pub struct InvalidDate {
    pub date: NaiveDate,
    pub failed: Vec<String>,
}

/// The `gbdt_v1` model a run predicted with.
#[derive(Debug, Clone, Serialize)]
pub struct ModelNote {
    pub window: String,
    pub training_rows: usize,
    pub in_sample_mae: f64,
    pub booster_sha256: String,
    /// Set when this run trained the model and saved it there.
    pub saved_to: Option<String>,
}

impl ModelNote {
    pub fn from_model(
        model: &propcast_prediction_worker::TrainedModel,
        saved_to: Option<&std::path::Path>,
    ) -> Self {
        let meta = model.metadata();
        ModelNote {
            window: meta.window.to_string(),
            training_rows: meta.training_rows,
            in_sample_mae: meta.in_sample_mae,
            booster_sha256: meta.booster_sha256.clone(),
            saved_to: saved_to.map(|p| p.display().to_string()),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub command: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Dates on which the pipeline found games or payloads and ran every phase.
    pub dates_processed: u64,
    /// Dates with nothing to do (no games, no payloads): phases 3–5 skipped.
    pub dates_without_games: u64,
    /// Rows written per table (`dataset.table`).
    pub rows: BTreeMap<String, u64>,
    /// Records set aside in `nba_processing.quarantine`.
    pub quarantined: u64,
    pub quarantined_by_processor: BTreeMap<String, u64>,
    /// Sportsbook names that could not be matched to an NBA player (per date).
    pub unresolved_names: i64,
    pub failed_runs: Vec<FailedRun>,
    /// Bus messages dead-lettered while the run pumped the bus, with why.
    pub dead_letters: Vec<DeadLettered>,
    pub predictions: u64,
    pub graded: u64,
    pub mae: Option<f64>,
    pub hit_rate: Option<f64>,
    pub accuracy: Accuracy,
    /// The same, per prediction system.
    pub by_system: Vec<SystemAccuracy>,
    /// The gbdt_v1 model used (None: gbdt_v1 did not run — no model).
    pub model: Option<ModelNote>,
    /// Set when the run resumed from a checkpoint: the dates up to it were
    /// done by an earlier, interrupted run.
    pub resumed_after: Option<NaiveDate>,
    /// Dates that failed validation (`nba_processing.validation_results`).
    pub invalid_dates: Vec<InvalidDate>,
    /// Set when `--on-invalid stop` stopped the run at that date.
    pub stopped_at: Option<NaiveDate>,
    /// Wall time per phase (`phase2_raw` …) and `total`, in seconds.
    pub seconds: BTreeMap<String, f64>,
    pub data_dir: String,
}

impl Summary {
    /// The summary a person reads.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "propcast {}: {} → {}  ({} dates processed, {} without games)",
            self.command, self.from, self.to, self.dates_processed, self.dates_without_games
        );

        if let Some(after) = self.resumed_after {
            let _ = writeln!(
                out,
                "resumed after {after}: the dates up to it were done by an interrupted run (rows below are this run's)"
            );
        }

        let mut tables = Table::new();
        tables.load_preset(UTF8_FULL_CONDENSED);
        tables.set_header(vec!["table", "rows written"]);
        for (table, rows) in &self.rows {
            tables.add_row(vec![
                Cell::new(table),
                Cell::new(group_thousands(*rows)).set_alignment(CellAlignment::Right),
            ]);
        }
        let _ = writeln!(out, "{tables}");

        let mut phases = Table::new();
        phases.load_preset(UTF8_FULL_CONDENSED);
        phases.set_header(vec!["phase", "seconds"]);
        for (phase, secs) in &self.seconds {
            phases.add_row(vec![
                Cell::new(phase),
                Cell::new(format!("{secs:.2}")).set_alignment(CellAlignment::Right),
            ]);
        }
        let _ = writeln!(out, "{phases}");

        let a = &self.accuracy;
        let _ = writeln!(
            out,
            "predictions: {}  graded (OVER/UNDER on a real line): {}  PASS: {}  NO_LINE: {}  voided (did not play): {}  ungraded (no box scores that day): {}",
            group_thousands(a.predictions),
            group_thousands(a.graded),
            group_thousands(a.pass),
            group_thousands(a.no_line),
            group_thousands(a.voided),
            group_thousands(a.ungraded)
        );
        let _ = writeln!(
            out,
            "MAE: {}  bias: {}  hit rate: {}",
            fmt_opt(a.mae, " pts"),
            fmt_opt(a.bias, " pts"),
            match a.hit_rate {
                Some(h) => format!(
                    "{:.1}% ({} of {} decided calls, {} pushes)",
                    h * 100.0,
                    a.correct,
                    a.graded - a.pushes,
                    a.pushes
                ),
                None => "n/a (no OVER/UNDER call on a real line)".to_string(),
            }
        );
        if !self.by_system.is_empty() {
            let mut systems = Table::new();
            systems.load_preset(UTF8_FULL_CONDENSED);
            systems.set_header(vec![
                "system",
                "graded rows",
                "MAE",
                "bias",
                "rows with line",
                "MAE there",
                "line MAE there",
                "decided calls",
                "hit rate",
            ]);
            for s in &self.by_system {
                systems.add_row(vec![
                    Cell::new(&s.system_id),
                    Cell::new(group_thousands(s.graded_rows)).set_alignment(CellAlignment::Right),
                    Cell::new(fmt_opt(s.mae, "")).set_alignment(CellAlignment::Right),
                    Cell::new(fmt_opt(s.bias, "")).set_alignment(CellAlignment::Right),
                    Cell::new(group_thousands(s.with_line)).set_alignment(CellAlignment::Right),
                    Cell::new(fmt_opt(s.mae_with_line, "")).set_alignment(CellAlignment::Right),
                    Cell::new(fmt_opt(s.line_mae, "")).set_alignment(CellAlignment::Right),
                    Cell::new(group_thousands(s.decided)).set_alignment(CellAlignment::Right),
                    Cell::new(
                        s.hit_rate
                            .map(|h| format!("{:.1}%", h * 100.0))
                            .unwrap_or_else(|| "n/a".into()),
                    )
                    .set_alignment(CellAlignment::Right),
                ]);
            }
            let _ = writeln!(out, "{systems}");
            let _ = writeln!(
                out,
                "line MAE there: the sportsbook line's own MAE on the same rows, the number a system must beat (`propcast evaluate` has intervals, prices and ROI)"
            );
        }
        match &self.model {
            Some(m) => {
                let _ = writeln!(
                    out,
                    "gbdt_v1 model: trained on {} ({} rows, in-sample MAE {:.2}), sha256 {}{}",
                    m.window,
                    group_thousands(m.training_rows as u64),
                    m.in_sample_mae,
                    &m.booster_sha256[..m.booster_sha256.len().min(12)],
                    m.saved_to
                        .as_ref()
                        .map(|p| format!(", saved to {p}"))
                        .unwrap_or_default()
                );
            }
            None => {
                let _ = writeln!(
                    out,
                    "gbdt_v1: not run (no trained model; use --train-through DATE, or `propcast train` then --model)"
                );
            }
        }
        if self.quarantined > 0 {
            let by: Vec<String> = self
                .quarantined_by_processor
                .iter()
                .map(|(p, n)| format!("{p} {n}"))
                .collect();
            let _ = writeln!(
                out,
                "quarantined records: {} ({}) — see: propcast query \"SELECT * FROM nba_processing.quarantine\"",
                self.quarantined,
                by.join(", ")
            );
        } else {
            let _ = writeln!(out, "quarantined records: 0");
        }
        if self.unresolved_names > 0 {
            let _ = writeln!(
                out,
                "unresolved sportsbook names: {} — see: propcast query \"SELECT * FROM nba_reference.unresolved_player_names\"",
                self.unresolved_names
            );
        }
        if self.invalid_dates.is_empty() {
            let _ = writeln!(
                out,
                "validation: every date passed (execution, dependency order, volume, quality)"
            );
        } else {
            let _ = writeln!(
                out,
                "validation FAILED on {} date(s) — see: propcast validate --date D",
                self.invalid_dates.len()
            );
            for d in self.invalid_dates.iter().take(10) {
                let _ = writeln!(out, "  {}: {}", d.date, d.failed.join("; "));
            }
        }
        if let Some(date) = self.stopped_at {
            let _ = writeln!(
                out,
                "STOPPED at {date} (--on-invalid stop): fix the input and rerun the same command; it resumes at {date}"
            );
        }
        if !self.failed_runs.is_empty() {
            let _ = writeln!(out, "FAILED processor runs: {}", self.failed_runs.len());
            for f in self.failed_runs.iter().take(10) {
                let _ = writeln!(out, "  {} {}: {}", f.date, f.processor, f.error);
            }
        }
        if !self.dead_letters.is_empty() {
            let _ = writeln!(
                out,
                "DEAD-LETTERED messages: {} (kept in the state store's dead_letters collection; see docs/OPERATIONS.md)",
                self.dead_letters.len()
            );
            for d in self.dead_letters.iter().take(10) {
                let _ = writeln!(out, "  {} {}: {}", d.subscription, d.message_id, d.reason);
            }
        }
        let _ = writeln!(
            out,
            "total: {:.2} s   data: {}",
            self.seconds.get("total").copied().unwrap_or_default(),
            self.data_dir
        );
        out
    }
}

fn fmt_opt(v: Option<f64>, unit: &str) -> String {
    v.map(|x| format!("{x:.2}{unit}"))
        .unwrap_or_else(|| "n/a".into())
}

/// 24547 → "24,547".
pub fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands() {
        assert_eq!(super::group_thousands(0), "0");
        assert_eq!(super::group_thousands(999), "999");
        assert_eq!(super::group_thousands(24547), "24,547");
        assert_eq!(super::group_thousands(1234567), "1,234,567");
    }
}
