//! Out-of-sample evaluation: every system's predictions over a range of
//! dates, graded on the same real outcomes and the same real lines.
//!
//! * **Outcomes**: `nba_analytics.player_game_summary` points of players who
//!   played (the grading rule). A prediction for a player without such a
//!   row is *voided*; one on a date without any box score is *ungraded*.
//! * **Lines**: only real ones — a stored prediction's `line_value` whose
//!   `line_source` is `ACTUAL_PROP`, for that player-date. The model and the
//!   baselines are graded against that same line; a player-date without one
//!   counts for MAE and bias only.
//! * **Hit rate at edge ≥ e**: among predictions with a real line and
//!   |prediction − line| ≥ e, the call is OVER above the line and UNDER
//!   below; it wins when the player scored on that side. A push (points
//!   equal to the line) is neither a win nor a bet. Every system is scored
//!   on its predicted points, whatever its own PASS rule said, so systems
//!   compare on equal terms.
//!
//! [`system_metrics`] is pure; [`load_evaluation`] reads the warehouse;
//! [`crate::versus_line`] compares every system with the line at the real
//! prices.

use crate::gbdt::{ModelError, TrainedModel};
use crate::grading::has_real_line;
use crate::recommendation::hundredths;
use crate::training::{feature_vector, played, require_table};
use crate::versus_line::BASELINE_LINE;
use chrono::NaiveDate;
use propcast_core::Table;
use propcast_core::tables::{
    MlFeatureStore, PlayerDailyCache, PlayerGameSummary, PlayerPropPrediction,
};
use propcast_platform::warehouse::date_literal;
use propcast_platform::{Warehouse, WarehouseExt};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The edges hit rate is reported at, in points.
pub const EDGES: [f64; 3] = [1.0, 2.0, 3.0];
/// The season-average baseline (`points_avg_season` of the daily cache).
pub const BASELINE_SEASON: &str = "baseline_season_avg";
/// The last-5 baseline (`points_avg_last_5` of the daily cache).
pub const BASELINE_LAST_5: &str = "baseline_last_5_avg";

/// One prediction with its outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct GradedRow {
    pub system: String,
    pub game_date: NaiveDate,
    pub player_lookup: String,
    pub predicted: f64,
    pub actual: f64,
    /// The real line; `None` when no sportsbook offered one.
    pub line: Option<f64>,
    /// The line's American Over and Under prices, when quoted.
    pub over_price: Option<i64>,
    pub under_price: Option<i64>,
    /// The player's points standard deviation over his last 10 games before
    /// the date (the daily cache): the scale of the predictive distribution.
    pub scale: Option<f64>,
    /// P(points over the line) and P(push) from the system's predictive
    /// distribution: `None` until [`crate::versus_line::raw_probabilities`]
    /// and [`crate::versus_line::recalibrate`] fill them.
    pub p_over: Option<f64>,
    pub p_push: Option<f64>,
}

/// Calls at one minimum edge.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EdgeHitRate {
    pub min_edge: f64,
    /// Decided calls (wins + losses; pushes excluded).
    pub bets: usize,
    pub wins: usize,
    pub pushes: usize,
}

impl EdgeHitRate {
    /// wins / bets; `None` without a decided call.
    pub fn hit_rate(&self) -> Option<f64> {
        (self.bets > 0).then(|| self.wins as f64 / self.bets as f64)
    }
}

/// The metrics of one system.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SystemMetrics {
    pub system: String,
    pub predictions: usize,
    /// Predictions that had a real line.
    pub with_line: usize,
    /// Mean |prediction − actual|.
    pub mae: f64,
    /// Mean (prediction − actual): negative is under-prediction.
    pub bias: f64,
    pub hit_rates: Vec<EdgeHitRate>,
}

/// How a prediction fared against its line: `None` without a line;
/// `Some(None)` for a push; `Some(Some(over))` with whether the player went
/// over. Compared in hundredths, as grading does.
pub fn outcome_vs_line(row: &GradedRow) -> Option<Option<bool>> {
    let line = row.line.filter(|l| l.is_finite())?;
    let actual = hundredths(row.actual);
    let line = hundredths(line);
    Some((actual != line).then_some(actual > line))
}

/// prediction − line in hundredths; `None` without a line.
fn edge_hundredths(row: &GradedRow) -> Option<i64> {
    let line = row.line.filter(|l| l.is_finite())?;
    Some(hundredths(row.predicted).saturating_sub(hundredths(line)))
}

/// The rows of the player-games that *every* system in `rows` predicted
/// (same date and player), so systems are compared on one sample: a system
/// that skips hard cases (too little history, too few similar games) is not
/// rewarded for it.
pub fn common_sample(rows: &[GradedRow]) -> Vec<GradedRow> {
    let mut systems: Vec<&str> = rows.iter().map(|r| r.system.as_str()).collect();
    systems.sort_unstable();
    systems.dedup();
    let mut seen: HashMap<(NaiveDate, &str), std::collections::BTreeSet<&str>> = HashMap::new();
    for r in rows {
        seen.entry((r.game_date, r.player_lookup.as_str()))
            .or_default()
            .insert(r.system.as_str());
    }
    rows.iter()
        .filter(|r| seen[&(r.game_date, r.player_lookup.as_str())].len() == systems.len())
        .cloned()
        .collect()
}

/// Metrics per system, in the order systems first appear in `rows`.
pub fn system_metrics(rows: &[GradedRow], edges: &[f64]) -> Vec<SystemMetrics> {
    let mut order: Vec<&str> = Vec::new();
    let mut by_system: HashMap<&str, Vec<&GradedRow>> = HashMap::new();
    for row in rows {
        let entry = by_system.entry(row.system.as_str()).or_default();
        if entry.is_empty() {
            order.push(row.system.as_str());
        }
        entry.push(row);
    }
    order
        .into_iter()
        .map(|system| {
            let rows = &by_system[system];
            let n = rows.len() as f64;
            let mae = rows
                .iter()
                .map(|r| (r.predicted - r.actual).abs())
                .sum::<f64>()
                / n;
            let bias = rows.iter().map(|r| r.predicted - r.actual).sum::<f64>() / n;
            let hit_rates = edges
                .iter()
                .map(|&min_edge| {
                    let threshold = hundredths(min_edge);
                    let mut hit = EdgeHitRate {
                        min_edge,
                        bets: 0,
                        wins: 0,
                        pushes: 0,
                    };
                    for row in rows {
                        let (Some(edge), Some(outcome)) =
                            (edge_hundredths(row), outcome_vs_line(row))
                        else {
                            continue;
                        };
                        if edge.saturating_abs() < threshold || edge == 0 {
                            continue;
                        }
                        match outcome {
                            None => hit.pushes += 1,
                            Some(over) => {
                                hit.bets += 1;
                                if over == (edge > 0) {
                                    hit.wins += 1;
                                }
                            }
                        }
                    }
                    hit
                })
                .collect();
            SystemMetrics {
                system: system.to_string(),
                predictions: rows.len(),
                with_line: rows.iter().filter(|r| outcome_vs_line(r).is_some()).count(),
                mae,
                bias,
                hit_rates,
            }
        })
        .collect()
}

/// Everything read and graded for one evaluation.
#[derive(Debug, Clone, Default)]
pub struct Evaluation {
    /// The graded rows of [from, to], with their probabilities.
    pub rows: Vec<GradedRow>,
    /// Graded rows of the dates before `from` (out of sample for every
    /// system: the model's start after its training window); they only fit
    /// the predictive distributions.
    pub history: Vec<GradedRow>,
    /// Predictions of players with no game row for a date that has box
    /// scores, per system.
    pub voided: HashMap<String, usize>,
    /// Predictions on dates without any box score, per system.
    pub ungraded: HashMap<String, usize>,
    /// Dates with at least one box score.
    pub dates_with_results: BTreeSet<NaiveDate>,
}

#[derive(Debug, Deserialize)]
struct Outcome {
    game_date: NaiveDate,
    player_lookup: String,
    points: i64,
}

#[derive(Debug, Deserialize)]
struct Stored {
    game_date: NaiveDate,
    player_lookup: String,
    system_id: String,
    predicted_points: f64,
    line_value: Option<f64>,
    line_source: String,
    line_over_price: Option<i64>,
    line_under_price: Option<i64>,
}

#[derive(Debug, Deserialize)]
struct Baseline {
    game_date: NaiveDate,
    player_lookup: String,
    points_avg_season: Option<f64>,
    points_avg_last_5: Option<f64>,
    points_std_last_10: Option<f64>,
}

/// Predictions made outside the warehouse (the walk-forward `market_v1`),
/// graded like the stored ones: (date, player_lookup, predicted points).
#[derive(Debug, Clone, Default)]
pub struct ExtraSystem {
    pub system: String,
    pub predictions: Vec<(NaiveDate, String, f64)>,
}

/// The real line of a player-date with its prices.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Line {
    value: f64,
    over_price: Option<i64>,
    under_price: Option<i64>,
}

/// Reads outcomes, stored predictions and lines (with their prices),
/// feature vectors and the daily cache, predicts every vector after the
/// model's training window with `model` (labelled `model_label`), adds the
/// line itself as [`BASELINE_LINE`], adds the `extra` systems' predictions,
/// and grades all of it on the same
/// outcomes and lines. The rows of [from, to] are the evaluation; the rows
/// of earlier dates are its history, which only fits each system's
/// predictive distribution walk-forward. Systems come in this order: stored
/// systems by id, the model, the extra systems, the season-average, last-5
/// and line baselines.
pub async fn load_evaluation<W: Warehouse + ?Sized>(
    warehouse: &W,
    model: &TrainedModel,
    model_label: &str,
    extra: &[ExtraSystem],
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Evaluation, ModelError> {
    require_table(warehouse, &MlFeatureStore::DEF).await?;
    load(warehouse, Some((model, model_label)), extra, from, to).await
}

/// [`load_evaluation`] of the stored systems alone (no model, no extra
/// system): what was served, graded by the same rules, beside the season,
/// last-5 and line baselines. Cheap enough for a page (the dashboard's
/// accuracy over time).
pub async fn load_stored_evaluation<W: Warehouse + ?Sized>(
    warehouse: &W,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Evaluation, ModelError> {
    load(warehouse, None, &[], from, to).await
}

async fn load<W: Warehouse + ?Sized>(
    warehouse: &W,
    model: Option<(&TrainedModel, &str)>,
    extra: &[ExtraSystem],
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Evaluation, ModelError> {
    for def in [
        &PlayerGameSummary::DEF,
        &PlayerPropPrediction::DEF,
        &PlayerDailyCache::DEF,
    ] {
        require_table(warehouse, def).await?;
    }
    let range = format!("game_date <= {}", date_literal(to));
    let outcomes: Vec<Outcome> = warehouse
        .query_as(&format!(
            "SELECT game_date, player_lookup, points FROM nba_analytics.player_game_summary s \
             WHERE s.{range} AND {} ORDER BY game_date, player_lookup",
            played("s")
        ))
        .await?;
    let dates_with_results: BTreeSet<NaiveDate> = warehouse
        .query_as::<DateOnly>(&format!(
            "SELECT DISTINCT game_date FROM nba_analytics.player_game_summary WHERE {range}"
        ))
        .await?
        .into_iter()
        .map(|d| d.game_date)
        .collect();
    let actual: HashMap<(NaiveDate, String), f64> = outcomes
        .into_iter()
        .map(|o| ((o.game_date, o.player_lookup), o.points as f64))
        .collect();

    let stored: Vec<Stored> = warehouse
        .query_as(&format!(
            "SELECT game_date, player_lookup, system_id, predicted_points, line_value, line_source, \
             line_over_price, line_under_price \
             FROM nba_predictions.player_prop_predictions WHERE {range} \
             ORDER BY system_id, game_date, player_lookup"
        ))
        .await?;
    // One real line per player-date: every system of a date is made against
    // the same chosen line; the lowest is kept should two ever differ.
    let mut lines: BTreeMap<(NaiveDate, String), Line> = BTreeMap::new();
    for s in &stored {
        if let Some(value) = s
            .line_value
            .filter(|&l| has_real_line(&s.line_source, Some(l)))
        {
            let line = Line {
                value,
                over_price: s.line_over_price,
                under_price: s.line_under_price,
            };
            lines
                .entry((s.game_date, s.player_lookup.clone()))
                .and_modify(|l| {
                    if value < l.value {
                        *l = line
                    }
                })
                .or_insert(line);
        }
    }
    let baselines: Vec<Baseline> = warehouse
        .query_as(&format!(
            "SELECT game_date, player_lookup, points_avg_season, points_avg_last_5, points_std_last_10 \
             FROM nba_precompute.player_daily_cache WHERE {range} ORDER BY game_date, player_lookup"
        ))
        .await?;
    let scales: HashMap<(NaiveDate, &str), f64> = baselines
        .iter()
        .filter_map(|b| {
            let std = b.points_std_last_10.filter(|v| v.is_finite())?;
            Some(((b.game_date, b.player_lookup.as_str()), std))
        })
        .collect();

    let mut evaluation = Evaluation {
        dates_with_results: dates_with_results.range(from..=to).copied().collect(),
        ..Evaluation::default()
    };
    let push = |evaluation: &mut Evaluation,
                system: &str,
                game_date: NaiveDate,
                player_lookup: &str,
                predicted: f64| {
        let key = (game_date, player_lookup.to_string());
        let in_window = game_date >= from;
        match actual.get(&key) {
            Some(&points) => {
                let line = lines.get(&key);
                let row = GradedRow {
                    system: system.to_string(),
                    game_date,
                    player_lookup: player_lookup.to_string(),
                    predicted,
                    actual: points,
                    line: line.map(|l| l.value),
                    over_price: line.and_then(|l| l.over_price),
                    under_price: line.and_then(|l| l.under_price),
                    scale: scales.get(&(game_date, player_lookup)).copied(),
                    p_over: None,
                    p_push: None,
                };
                if in_window {
                    evaluation.rows.push(row)
                } else {
                    evaluation.history.push(row)
                }
            }
            None if !in_window => {}
            None if dates_with_results.contains(&game_date) => {
                *evaluation.voided.entry(system.to_string()).or_default() += 1
            }
            None => *evaluation.ungraded.entry(system.to_string()).or_default() += 1,
        }
    };

    for s in &stored {
        push(
            &mut evaluation,
            &s.system_id,
            s.game_date,
            &s.player_lookup,
            s.predicted_points,
        );
    }

    // The model only on dates after its training rows: out of sample.
    if let Some((model, model_label)) = model {
        let vectors: Vec<MlFeatureStore> = warehouse
            .query_as(&format!(
                "SELECT * FROM nba_precompute.ml_feature_store WHERE {range} AND game_date > {} \
                 ORDER BY game_date, player_lookup",
                date_literal(model.metadata().window.to)
            ))
            .await?;
        for row in &vectors {
            let predicted = model.predict_points(&feature_vector(row)?)?;
            push(
                &mut evaluation,
                model_label,
                row.game_date,
                &row.player_lookup,
                predicted,
            );
        }
    }

    for system in extra {
        for (game_date, player_lookup, predicted) in &system.predictions {
            push(
                &mut evaluation,
                &system.system,
                *game_date,
                player_lookup,
                *predicted,
            );
        }
    }

    for (system, pick) in [
        (
            BASELINE_SEASON,
            (|b: &Baseline| b.points_avg_season) as fn(&Baseline) -> Option<f64>,
        ),
        (BASELINE_LAST_5, |b: &Baseline| b.points_avg_last_5),
    ] {
        for b in &baselines {
            if let Some(value) = pick(b).filter(|v| v.is_finite()) {
                push(
                    &mut evaluation,
                    system,
                    b.game_date,
                    &b.player_lookup,
                    (value * 100.0).round() / 100.0,
                );
            }
        }
    }
    for ((game_date, player_lookup), line) in &lines {
        push(
            &mut evaluation,
            BASELINE_LINE,
            *game_date,
            player_lookup,
            line.value,
        );
    }
    Ok(evaluation)
}

#[derive(Debug, Deserialize)]
struct DateOnly {
    game_date: NaiveDate,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_common_sample_keeps_only_player_games_every_system_predicted() {
        let d = NaiveDate::from_ymd_opt(2025, 11, 5).unwrap();
        let at = |system: &str, player: &str| GradedRow {
            system: system.into(),
            game_date: d,
            player_lookup: player.into(),
            predicted: 20.0,
            actual: 18.0,
            line: Some(19.5),
            over_price: None,
            under_price: None,
            scale: None,
            p_over: None,
            p_push: None,
        };
        let rows = vec![
            at("a", "p1"),
            at("b", "p1"),
            at("a", "p2"), // b skipped p2
            at("b", "p3"), // a skipped p3
        ];
        let common = common_sample(&rows);
        assert_eq!(common.len(), 2);
        assert!(common.iter().all(|r| r.player_lookup == "p1"));
        let other_day = GradedRow {
            game_date: d.succ_opt().unwrap(),
            ..at("a", "p1")
        };
        // p1 on another day was predicted by a only.
        assert_eq!(
            common_sample(&[rows[0].clone(), rows[1].clone(), other_day]).len(),
            2
        );
    }

    fn row(system: &str, predicted: f64, actual: f64, line: Option<f64>) -> GradedRow {
        GradedRow {
            system: system.into(),
            game_date: NaiveDate::from_ymd_opt(2025, 11, 1).unwrap(),
            player_lookup: "p".into(),
            predicted,
            actual,
            line,
            over_price: None,
            under_price: None,
            scale: None,
            p_over: None,
            p_push: None,
        }
    }

    #[test]
    fn metrics_by_hand() {
        let rows = vec![
            row("a", 25.0, 30.0, Some(22.5)), // edge +2.5 OVER, 30 > 22.5: win; error −5
            row("a", 20.0, 18.0, Some(21.5)), // edge −1.5 UNDER, 18 < 21.5: win; +2
            row("b", 10.0, 12.0, Some(11.5)), // other system: edge −1.5 UNDER, loss
            row("a", 24.0, 20.0, Some(20.0)), // edge +4.0, scored the line: push; +4
            row("a", 18.0, 25.0, Some(21.0)), // edge −3.0 UNDER, 25 > 21: loss; −7
            row("a", 30.0, 31.0, None),       // no line: MAE only; −1
            row("a", 22.5, 10.0, Some(22.0)), // edge +0.5: no bet at 1; +12.5
        ];
        let metrics = system_metrics(&rows, &EDGES);
        assert_eq!(
            metrics
                .iter()
                .map(|m| m.system.as_str())
                .collect::<Vec<_>>(),
            ["a", "b"]
        );
        let a = &metrics[0];
        assert_eq!((a.predictions, a.with_line), (6, 5));
        // MAE (5 + 2 + 4 + 7 + 1 + 12.5) / 6 = 5.25; bias 5.5 / 6.
        assert!((a.mae - 5.25).abs() < 1e-12, "{}", a.mae);
        assert!((a.bias - 5.5 / 6.0).abs() < 1e-12, "{}", a.bias);
        let at = |m: &SystemMetrics, i: usize| {
            let h = m.hit_rates[i];
            (h.min_edge, h.bets, h.wins, h.pushes)
        };
        // ≥ 1: win, win, push, loss → 2 of 3 decided, 1 push.
        assert_eq!(at(a, 0), (1.0, 3, 2, 1));
        assert_eq!(a.hit_rates[0].hit_rate(), Some(2.0 / 3.0));
        // ≥ 2: the 2.5 win, the 4.0 push, the 3.0 loss.
        assert_eq!(at(a, 1), (2.0, 2, 1, 1));
        // ≥ 3: an edge of exactly 3.0 counts; the push still does not.
        assert_eq!(at(a, 2), (3.0, 1, 0, 1));
        let b = &metrics[1];
        assert_eq!((b.predictions, b.mae, b.bias), (1, 2.0, -2.0));
        assert_eq!(at(b, 0), (1.0, 1, 0, 0));
        assert_eq!(b.hit_rates[0].hit_rate(), Some(0.0));
        assert_eq!(at(b, 1), (2.0, 0, 0, 0));
        assert_eq!(b.hit_rates[1].hit_rate(), None);
    }
}
