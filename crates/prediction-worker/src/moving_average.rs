//! System 1, `moving_average` (REFERENCE §4.3.1).
//!
//! base = 0.5·L5 + 0.3·L10 + 0.2·season points averages from the daily
//! cache. When an average is NULL (too few games for it) the weights of the
//! averages present are renormalised to sum to 1, and the metadata says
//! which were missing. Then the adjustments:
//!
//! * back-to-back (`days_rest == 1`, the project's one meaning): −1.5;
//! * venue: home +0.5, away −0.5;
//! * from the player's `player_composite_factors` row of the date:
//!   * fatigue: −2.5 when tiredness = 100 − fatigue_score is above 70,
//!     −1.0 when above 50 (see [`crate::fatigue`]: **the reference applied these
//!     thresholds to the score itself**, penalising the most rested
//!     players, because it read a high score as tired while the factor
//!     defines high as rested — fixed here, not copied);
//!   * + 0.3·shot_zone_mismatch_score, + 0.3·pace_score,
//!     + 0.4·usage_spike_score.
//!
//! Without a factors row the four factor adjustments are left out and
//! listed in `omitted_adjustments` with the reason; no stand-in value is
//! used. The result is clamped to [0, 60] and rounded to hundredths.

use crate::fatigue::{fatigue_penalty, tiredness};
use crate::prediction_system::{
    PlayerInputs, PredictionSystem, SkipReason, SystemError, SystemPrediction,
};
use crate::prop_line::PropLine;
use crate::recommendation::{Confidence, confidence, hundredths, recommend};
use propcast_core::tables::{PlayerCompositeFactors, PlayerDailyCache};
use serde::Serialize;

pub const SYSTEM_ID: &str = "moving_average";

/// Added when the player played the day before (`days_rest == 1`).
pub const BACK_TO_BACK_ADJUSTMENT: f64 = -1.5;
/// Added at home; its negative away.
pub const HOME_ADJUSTMENT: f64 = 0.5;
pub const MIN_POINTS: f64 = 0.0;
pub const MAX_POINTS: f64 = 60.0;

/// Fatigue penalties: tiredness (100 − score) > 70, and > 50.
pub const FATIGUE_HEAVY: f64 = -2.5;
pub const FATIGUE_LIGHT: f64 = -1.0;
/// Weights of the other three composite factors.
pub const MISMATCH_WEIGHT: f64 = 0.3;
pub const PACE_WEIGHT: f64 = 0.3;
pub const USAGE_SPIKE_WEIGHT: f64 = 0.4;

/// The factor adjustments left out when the player has no
/// `player_composite_factors` row for the date, with why.
pub const OMITTED_WITHOUT_FACTORS: &[&str] = &[
    "fatigue: no player_composite_factors row",
    "shot_zone_mismatch: no player_composite_factors row",
    "pace: no player_composite_factors row",
    "usage_spike: no player_composite_factors row",
];

/// The `moving_average` system.
#[derive(Debug, Clone, Copy, Default)]
pub struct MovingAverage;

impl PredictionSystem for MovingAverage {
    fn system_id(&self) -> &'static str {
        SYSTEM_ID
    }

    fn predict(&self, inputs: &PlayerInputs<'_>) -> Result<SystemPrediction, SystemError> {
        Ok(moving_average(inputs.cache, inputs.factors, inputs.line)?)
    }
}

#[derive(Debug, Serialize)]
struct Inputs {
    points_avg_last_5: Option<f64>,
    points_avg_last_10: Option<f64>,
    points_avg_season: Option<f64>,
    points_std_last_10: Option<f64>,
    games_played_season: i64,
    games_last_7_days: i64,
    days_rest: Option<i64>,
    is_home: bool,
}

#[derive(Debug, Serialize)]
struct BaseComponent {
    input: &'static str,
    /// Weight in the reference formula (tenths: 5, 3, 2).
    weight: f64,
    value: f64,
}

#[derive(Debug, Serialize)]
struct Base {
    value: f64,
    components: Vec<BaseComponent>,
    /// Averages the cache did not have (NULL), left out of the base.
    missing: Vec<&'static str>,
    /// True when weights were rescaled to sum to 1 over the averages present.
    weights_renormalized: bool,
}

#[derive(Debug, Serialize)]
struct Adjustment {
    name: &'static str,
    value: f64,
    reason: String,
}

#[derive(Debug, Serialize)]
struct Metadata<'a> {
    system_id: &'static str,
    inputs: Inputs,
    base: Base,
    applied_adjustments: Vec<Adjustment>,
    omitted_adjustments: &'static [&'static str],
    /// Whether the composite factors of the date were used.
    factors_used: bool,
    /// base + adjustments, before the [0, 60] clamp.
    unclamped_points: f64,
    clamped: bool,
    confidence: Confidence,
    /// |prediction − line| in points; NULL without a line.
    edge: Option<f64>,
    line: Option<&'a PropLine>,
}

/// Predicts one player from the daily cache, his composite factors of the
/// date (when built) and the optional real line. Skips players with no game
/// this season before the date, or whose cache row has no points average at
/// all.
pub fn moving_average(
    cache: &PlayerDailyCache,
    factors: Option<&PlayerCompositeFactors>,
    line: Option<&PropLine>,
) -> Result<SystemPrediction, SkipReason> {
    if cache.games_played_season < 1 {
        return Err(SkipReason::NoHistory);
    }
    let candidates: [(&'static str, i64, Option<f64>); 3] = [
        ("points_avg_last_5", 5, cache.points_avg_last_5),
        ("points_avg_last_10", 3, cache.points_avg_last_10),
        ("points_avg_season", 2, cache.points_avg_season),
    ];
    let mut components = Vec::new();
    let mut missing = Vec::new();
    let mut weighted_sum = 0.0;
    let mut weight_tenths = 0;
    for (input, weight, value) in candidates {
        match value.filter(|v| v.is_finite()) {
            Some(value) => {
                weighted_sum += weight as f64 * value;
                weight_tenths += weight;
                components.push(BaseComponent {
                    input,
                    weight: weight as f64 / 10.0,
                    value,
                });
            }
            None => missing.push(input),
        }
    }
    if weight_tenths == 0 {
        return Err(SkipReason::NoHistory);
    }
    let base = weighted_sum / weight_tenths as f64;

    let back_to_back = if cache.days_rest == Some(1) {
        BACK_TO_BACK_ADJUSTMENT
    } else {
        0.0
    };
    let venue = if cache.is_home {
        HOME_ADJUSTMENT
    } else {
        -HOME_ADJUSTMENT
    };
    let mut applied_adjustments = vec![
        Adjustment {
            name: "back_to_back",
            value: back_to_back,
            reason: match cache.days_rest {
                Some(1) => "days_rest = 1".to_string(),
                Some(days) => format!("days_rest = {days}: not a back-to-back"),
                None => "no previous game: not a back-to-back".to_string(),
            },
        },
        Adjustment {
            name: "home_away",
            value: venue,
            reason: if cache.is_home { "home" } else { "away" }.to_string(),
        },
    ];

    if let Some(f) = factors {
        applied_adjustments.extend([
            Adjustment {
                name: "fatigue",
                value: fatigue_penalty(f.fatigue_score, FATIGUE_HEAVY, FATIGUE_LIGHT),
                reason: format!(
                    "fatigue_score {} (high = rested): tiredness {}",
                    f.fatigue_score,
                    tiredness(f.fatigue_score)
                ),
            },
            Adjustment {
                name: "shot_zone_mismatch",
                value: MISMATCH_WEIGHT * f.shot_zone_mismatch_score,
                reason: format!("0.3 × {}", f.shot_zone_mismatch_score),
            },
            Adjustment {
                name: "pace",
                value: PACE_WEIGHT * f.pace_score,
                reason: format!("0.3 × {}", f.pace_score),
            },
            Adjustment {
                name: "usage_spike",
                value: USAGE_SPIKE_WEIGHT * f.usage_spike_score,
                reason: format!("0.4 × {}", f.usage_spike_score),
            },
        ]);
    }
    let unclamped = base
        + applied_adjustments
            .iter()
            .map(|a| a.value)
            .filter(|v| v.is_finite())
            .sum::<f64>();
    let clamped = unclamped.clamp(MIN_POINTS, MAX_POINTS);
    let predicted_points = hundredths(clamped) as f64 / 100.0;
    let confidence = confidence(cache.points_std_last_10, cache.games_last_7_days);
    let line_value = line.map(|l| l.line);
    let recommendation = recommend(predicted_points, line_value, confidence);
    let edge = line_value.map(|l| {
        hundredths(predicted_points)
            .saturating_sub(hundredths(l))
            .saturating_abs() as f64
            / 100.0
    });

    let metadata = Metadata {
        system_id: SYSTEM_ID,
        inputs: Inputs {
            points_avg_last_5: cache.points_avg_last_5,
            points_avg_last_10: cache.points_avg_last_10,
            points_avg_season: cache.points_avg_season,
            points_std_last_10: cache.points_std_last_10,
            games_played_season: cache.games_played_season,
            games_last_7_days: cache.games_last_7_days,
            days_rest: cache.days_rest,
            is_home: cache.is_home,
        },
        base: Base {
            value: base,
            components,
            weights_renormalized: !missing.is_empty(),
            missing,
        },
        applied_adjustments,
        omitted_adjustments: if factors.is_some() {
            &[]
        } else {
            OMITTED_WITHOUT_FACTORS
        },
        factors_used: factors.is_some(),
        unclamped_points: unclamped,
        clamped: unclamped != clamped,
        confidence,
        edge,
        line,
    };
    // Serialising these plain structs cannot fail; a non-finite float (not
    // producible from finite inputs) becomes JSON null.
    let metadata = serde_json::to_value(&metadata).unwrap_or(serde_json::Value::Null);

    Ok(SystemPrediction {
        predicted_points,
        confidence: confidence.as_f64(),
        recommendation,
        metadata,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{dk_line, sga_2025_11_05, sga_factors_2025_11_05};
    use crate::recommendation::Recommendation;

    #[test]
    fn hand_worked_sga_2025_11_05() {
        let line = dk_line(31.5);
        let p = moving_average(&sga_2025_11_05(), None, Some(&line)).unwrap();
        // base = 0.5·29 + 0.3·33.125 + 0.2·33.125 = 14.5 + 9.9375 + 6.625
        //      = 31.0625; back-to-back −1.5, away −0.5 → 29.0625 → 29.06.
        assert_eq!(p.predicted_points, 29.06);
        // 0.5 − 0.15 (std 9.43 > 6) + 0.10 (3 games in 7 days) = 0.45.
        assert_eq!(p.confidence, 0.45);
        // Edge 2.44 > 2.0, but confidence 0.45 ≤ 0.45 → PASS.
        assert_eq!(p.recommendation, Recommendation::Pass);

        let m = &p.metadata;
        assert_eq!(m["system_id"], "moving_average");
        assert_eq!(m["base"]["value"], 31.0625);
        assert_eq!(m["base"]["weights_renormalized"], false);
        assert_eq!(m["unclamped_points"], 29.0625);
        assert_eq!(m["applied_adjustments"][0]["name"], "back_to_back");
        assert_eq!(m["applied_adjustments"][0]["value"], -1.5);
        assert_eq!(m["applied_adjustments"][1]["name"], "home_away");
        assert_eq!(m["applied_adjustments"][1]["value"], -0.5);
        assert_eq!(m["omitted_adjustments"].as_array().map(Vec::len), Some(4));
        assert_eq!(
            m["omitted_adjustments"][0],
            "fatigue: no player_composite_factors row"
        );
        assert_eq!(m["inputs"]["days_rest"], 1);
        assert_eq!(m["inputs"]["is_home"], false);
        assert_eq!(m["edge"], 2.44);
        assert_eq!(m["line"]["bookmaker"], "draftkings");
        assert_eq!(m["line"]["line"], 31.5);
        assert_eq!(m["confidence"]["volatility"], -15);
        assert_eq!(m["confidence"]["recent_games"], 10);
    }

    #[test]
    fn composite_factors_are_applied_with_fatigue_read_as_rested() {
        let factors = sga_factors_2025_11_05();
        let line = dk_line(31.5);
        let p = moving_average(&sga_2025_11_05(), Some(&factors), Some(&line)).unwrap();
        // 31.0625 − 1.5 (B2B) − 0.5 (away) + 0 (fatigue 80 = tiredness 20)
        // + 0.3·0 + 0.3·1.5 + 0.4·0 = 29.5125 → 29.51. The reference rule
        // (score > 70 → −2.5) would have taken 2.5 more off a rested player.
        assert_eq!(p.predicted_points, 29.51);
        let m = &p.metadata;
        assert_eq!(m["factors_used"], true);
        assert_eq!(m["omitted_adjustments"].as_array().map(Vec::len), Some(0));
        assert_eq!(m["applied_adjustments"][2]["name"], "fatigue");
        assert_eq!(m["applied_adjustments"][2]["value"], 0.0);
        assert_eq!(m["applied_adjustments"][4]["name"], "pace");
        let pace = m["applied_adjustments"][4]["value"].as_f64().unwrap();
        assert!((pace - 0.45).abs() < 1e-12, "{pace}");

        // Truly tired (score 25, tiredness 75 > 70): −2.5 → 27.0125 → 27.01.
        let mut tired = factors.clone();
        tired.fatigue_score = 25;
        let p = moving_average(&sga_2025_11_05(), Some(&tired), Some(&line)).unwrap();
        assert_eq!(p.predicted_points, 27.01);
        // Score 45 (tiredness 55 > 50): −1.0 → 28.5125 → 28.51.
        tired.fatigue_score = 45;
        let p = moving_average(&sga_2025_11_05(), Some(&tired), Some(&line)).unwrap();
        assert_eq!(p.predicted_points, 28.51);
    }

    #[test]
    fn same_player_rested_at_home_with_a_steadier_record() {
        // The same averages with 2 days of rest at home and std 3.0:
        // 31.0625 + 0.5 = 31.5625 → 31.56; confidence 0.5 + 0.10 = 0.60.
        let mut cache = sga_2025_11_05();
        cache.days_rest = Some(2);
        cache.is_home = true;
        cache.points_std_last_10 = Some(3.0);
        let p = moving_average(&cache, None, Some(&dk_line(28.5))).unwrap();
        assert_eq!((p.predicted_points, p.confidence), (31.56, 0.6));
        // Edge 3.06 → OVER; against 34.5 (edge 2.94) → UNDER; 33.5 → PASS.
        assert_eq!(p.recommendation, Recommendation::Over);
        let under = moving_average(&cache, None, Some(&dk_line(34.5))).unwrap();
        assert_eq!(under.recommendation, Recommendation::Under);
        let pass = moving_average(&cache, None, Some(&dk_line(33.5))).unwrap();
        assert_eq!(pass.recommendation, Recommendation::Pass);
        // No line: NO_LINE, same prediction.
        let none = moving_average(&cache, None, None).unwrap();
        assert_eq!(none.recommendation, Recommendation::NoLine);
        assert_eq!(none.predicted_points, 31.56);
        assert_eq!(none.metadata["line"], serde_json::Value::Null);
        assert_eq!(none.metadata["edge"], serde_json::Value::Null);
    }

    #[test]
    fn missing_averages_are_renormalised_and_reported() {
        // One game played (SGA's 35 of 2025-10-21), a cache that keeps only
        // the season average: base = 35, B2B not (2 days), away → 34.5.
        let mut cache = sga_2025_11_05();
        cache.games_played_season = 1;
        cache.points_avg_last_5 = None;
        cache.points_avg_last_10 = None;
        cache.points_avg_season = Some(35.0);
        cache.points_std_last_10 = None;
        cache.games_last_7_days = 1;
        cache.days_rest = Some(2);
        let p = moving_average(&cache, None, None).unwrap();
        assert_eq!(p.predicted_points, 34.5);
        // 0.5 − 0.10 (1 game in 7 days), std unknown → no volatility part.
        assert_eq!(p.confidence, 0.4);
        let base = &p.metadata["base"];
        assert_eq!(base["weights_renormalized"], true);
        assert_eq!(base["missing"][0], "points_avg_last_5");
        assert_eq!(base["missing"][1], "points_avg_last_10");
        assert_eq!(base["components"].as_array().map(Vec::len), Some(1));

        // L5 missing only: (0.3·33.125 + 0.2·29) / 0.5 = (9.9375 + 5.8) / 0.5
        // = 31.475; −0.5 away → 30.975 → 30.98 (2 days rest).
        let mut cache = sga_2025_11_05();
        cache.points_avg_last_5 = None;
        cache.points_avg_season = Some(29.0);
        cache.days_rest = Some(2);
        let p = moving_average(&cache, None, None).unwrap();
        assert_eq!(p.predicted_points, 30.98);
    }

    #[test]
    fn no_history_is_skipped_not_guessed() {
        let mut cache = sga_2025_11_05();
        cache.games_played_season = 0;
        assert_eq!(
            moving_average(&cache, None, None),
            Err(SkipReason::NoHistory)
        );
        let mut cache = sga_2025_11_05();
        cache.points_avg_last_5 = None;
        cache.points_avg_last_10 = None;
        cache.points_avg_season = None;
        assert_eq!(
            moving_average(&cache, None, None),
            Err(SkipReason::NoHistory)
        );
    }

    #[test]
    fn predictions_are_clamped_to_0_60() {
        let mut cache = sga_2025_11_05();
        cache.points_avg_last_5 = Some(70.0);
        cache.points_avg_last_10 = Some(70.0);
        cache.points_avg_season = Some(70.0);
        let p = moving_average(&cache, None, None).unwrap();
        assert_eq!(p.predicted_points, 60.0);
        assert_eq!(p.metadata["clamped"], true);
        cache.points_avg_last_5 = Some(0.0);
        cache.points_avg_last_10 = Some(0.0);
        cache.points_avg_season = Some(0.0);
        let p = moving_average(&cache, None, None).unwrap();
        assert_eq!(p.predicted_points, 0.0);
    }
}
