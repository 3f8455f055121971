//! Summaries of graded predictions (`nba_predictions.prediction_accuracy`).
//!
//! Every row lands in exactly one bucket, so
//! `graded + pass + no_line + ungradable + voided == predictions`:
//! * `voided`: the player did not play (whatever the call);
//! * `graded`: an OVER/UNDER call on a real line, pushes included;
//! * `pass`, `no_line`: PASS and NO_LINE rows of players who played;
//! * `ungradable`: anything else (an OVER/UNDER without a real line, an
//!   unknown recommendation). The coordinator never writes such rows, so
//!   this is 0 unless the table was written by something else.

use crate::recommendation::Recommendation;
use propcast_core::tables::PredictionAccuracy;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AccuracySummary {
    pub predictions: u64,
    /// OVER/UNDER calls on a real line by players who played, pushes included.
    pub graded: u64,
    pub correct: u64,
    pub pushes: u64,
    pub voided: u64,
    pub pass: u64,
    pub no_line: u64,
    pub ungradable: u64,
    /// Mean absolute error over rows of players who played (every
    /// recommendation); `None` without such rows.
    pub mae: Option<f64>,
    /// correct / (graded − pushes); `None` when nothing was decided.
    pub hit_rate: Option<f64>,
    /// Mean signed error (predicted − actual) over the same rows as `mae`.
    pub bias: Option<f64>,
}

/// Summarises graded rows (any mix of systems and dates).
pub fn accuracy_summary(rows: &[PredictionAccuracy]) -> AccuracySummary {
    let mut s = AccuracySummary {
        predictions: rows.len() as u64,
        ..AccuracySummary::default()
    };
    let mut abs_sum = 0.0;
    let mut signed_sum = 0.0;
    let mut with_actual = 0u64;
    for row in rows {
        if row.is_voided {
            s.voided += 1;
            continue;
        }
        if let (Some(abs), Some(signed)) = (row.absolute_error, row.signed_error) {
            abs_sum += abs;
            signed_sum += signed;
            with_actual += 1;
        }
        match Recommendation::parse(&row.recommendation) {
            Some(Recommendation::Pass) => s.pass += 1,
            Some(Recommendation::NoLine) => s.no_line += 1,
            Some(Recommendation::Over | Recommendation::Under)
                if row.is_push || row.prediction_correct.is_some() =>
            {
                s.graded += 1;
                if row.is_push {
                    s.pushes += 1;
                }
                if row.prediction_correct == Some(true) {
                    s.correct += 1;
                }
            }
            _ => s.ungradable += 1,
        }
    }
    if with_actual > 0 {
        s.mae = Some(abs_sum / with_actual as f64);
        s.bias = Some(signed_sum / with_actual as f64);
    }
    let decided = s.graded - s.pushes;
    if decided > 0 {
        s.hit_rate = Some(s.correct as f64 / decided as f64);
    }
    s
}

/// One summary per `system_id`.
pub fn accuracy_summary_by_system(
    rows: &[PredictionAccuracy],
) -> BTreeMap<String, AccuracySummary> {
    let mut by_system: BTreeMap<String, Vec<PredictionAccuracy>> = BTreeMap::new();
    for row in rows {
        by_system
            .entry(row.system_id.clone())
            .or_default()
            .push(row.clone());
    }
    by_system
        .into_iter()
        .map(|(system, rows)| (system, accuracy_summary(&rows)))
        .collect()
}
