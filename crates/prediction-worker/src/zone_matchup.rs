//! System 2, `zone_matchup_v1` (REFERENCE §4.3.2).
//!
//! base = the player's season points average (daily cache). Then:
//!
//! * **zones**: for each zone z (paint ×1.2, mid-range ×1.0, three ×1.1,
//!   free throws ×0.8)
//!   `score_z = clamp(0.3 · (opponent_def_rating − 110) · mult_z, −3, 3)`,
//!   weighted by the player's share of that zone:
//!   `w = 1.0` when share ≥ 0.40, `0.7` when ≥ 0.20, else `0.4`. The
//!   reference does not say how the weighted zones are combined; here the
//!   zone adjustment is the weighted **mean** `Σ w_z·score_z / Σ w_z`, so it
//!   keeps the per-zone bound of ±3 points.
//!   Shares are the feature store's `pct_paint`, `pct_mid_range`,
//!   `pct_three` (FGA shares, 0–1) and `pct_free_throw` (share of points
//!   from free throws; left out when it is the default). The opponent's
//!   defensive rating is the context's `opponent_def_rating_last_10`, else
//!   the feature store's `opponent_def_rating` when not defaulted.
//!   **Zone shares exist only for 2022-23 and 2023-24**: without the three
//!   FGA shares (NULL in the feature store, or no feature row) the zone
//!   adjustment is 0 and the metadata says `zones_missing: true`; without an
//!   opponent rating it is 0 with `opponent_def_rating_missing: true`.
//!   Nothing is invented.
//! * + 0.4·pace_score (composite factors);
//! * venue: home +0.8, away −0.8;
//! * fatigue: −1.5 when tiredness = 100 − fatigue_score is above 70, −0.8
//!   when above 50 (the reference applied these to the score, penalising rested
//!   players; see [`crate::fatigue`]).
//!
//! Clamped to [0, 60], rounded to hundredths. Confidence and the
//! OVER/UNDER/PASS rule are the shared ones ([`crate::recommendation`]).

use crate::fatigue::{fatigue_penalty, tiredness};
use crate::prediction_system::{
    PlayerInputs, PredictionSystem, SkipReason, SystemError, SystemPrediction,
};
use crate::recommendation::{confidence, edge, recommend, round_points};
use serde_json::json;

pub const SYSTEM_ID: &str = "zone_matchup_v1";

/// Defensive rating of a league-average defense in the reference formula.
pub const NEUTRAL_DEF_RATING: f64 = 110.0;
pub const ZONE_FACTOR: f64 = 0.3;
pub const ZONE_SCORE_LIMIT: f64 = 3.0;
pub const PACE_WEIGHT: f64 = 0.4;
pub const HOME_ADJUSTMENT: f64 = 0.8;
pub const FATIGUE_HEAVY: f64 = -1.5;
pub const FATIGUE_LIGHT: f64 = -0.8;

/// (zone, multiplier, feature holding the player's share).
pub const ZONES: [(&str, f64, &str); 4] = [
    ("paint", 1.2, "pct_paint"),
    ("mid_range", 1.0, "pct_mid_range"),
    ("three", 1.1, "pct_three"),
    ("free_throw", 0.8, "pct_free_throw"),
];

/// The weight of a zone from the player's share of it (0–1).
pub fn share_weight(share: f64) -> f64 {
    if share >= 0.40 {
        1.0
    } else if share >= 0.20 {
        0.7
    } else {
        0.4
    }
}

/// One zone's score against an opponent's defensive rating.
pub fn zone_score(opponent_def_rating: f64, multiplier: f64) -> f64 {
    (ZONE_FACTOR * (opponent_def_rating - NEUTRAL_DEF_RATING) * multiplier)
        .clamp(-ZONE_SCORE_LIMIT, ZONE_SCORE_LIMIT)
}

/// What the system reads, pulled out of [`PlayerInputs`] so the formula is
/// testable on plain numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct ZoneInputs {
    pub games_played_season: i64,
    pub points_avg_season: Option<f64>,
    pub points_std_last_10: Option<f64>,
    pub games_last_7_days: i64,
    pub is_home: bool,
    /// Shares in [`ZONES`] order; `None` = unknown.
    pub shares: [Option<f64>; 4],
    pub opponent_def_rating: Option<f64>,
    pub pace_score: Option<f64>,
    pub fatigue_score: Option<i64>,
    pub line: Option<f64>,
}

impl ZoneInputs {
    pub fn from_inputs(inputs: &PlayerInputs<'_>) -> Self {
        let feature = |name: &str| -> Option<f64> {
            let f = inputs.features?;
            let i = propcast_core::features::feature_index(name)?;
            if f.defaulted.get(i).copied().unwrap_or(true) {
                return None;
            }
            f.values.get(i).copied().flatten().filter(|v| v.is_finite())
        };
        let shares = ZONES.map(|(_, _, name)| feature(name));
        let opponent_def_rating = inputs
            .context
            .and_then(|c| c.opponent_def_rating_last_10)
            .filter(|v| v.is_finite())
            .or_else(|| feature("opponent_def_rating"));
        ZoneInputs {
            games_played_season: inputs.cache.games_played_season,
            points_avg_season: inputs.cache.points_avg_season,
            points_std_last_10: inputs.cache.points_std_last_10,
            games_last_7_days: inputs.cache.games_last_7_days,
            is_home: inputs.cache.is_home,
            shares,
            opponent_def_rating,
            pace_score: inputs.factors.map(|f| f.pace_score),
            fatigue_score: inputs.factors.map(|f| f.fatigue_score),
            line: inputs.line.map(|l| l.line),
        }
    }
}

/// The `zone_matchup_v1` system.
#[derive(Debug, Clone, Copy, Default)]
pub struct ZoneMatchup;

impl PredictionSystem for ZoneMatchup {
    fn system_id(&self) -> &'static str {
        SYSTEM_ID
    }

    fn predict(&self, inputs: &PlayerInputs<'_>) -> Result<SystemPrediction, SystemError> {
        let mut p = zone_matchup(&ZoneInputs::from_inputs(inputs))?;
        if let (Some(line), serde_json::Value::Object(m)) = (inputs.line, &mut p.metadata) {
            m.insert(
                "line".into(),
                serde_json::to_value(line).unwrap_or(serde_json::Value::Null),
            );
        }
        Ok(p)
    }
}

/// The zone adjustment: weighted mean of the zone scores, with the
/// per-zone detail; `None` with the reason when it cannot be computed.
fn zone_adjustment(inputs: &ZoneInputs) -> Result<(f64, Vec<serde_json::Value>), &'static str> {
    if inputs.shares[..3].iter().any(Option::is_none) {
        return Err("zones_missing");
    }
    let Some(drtg) = inputs.opponent_def_rating else {
        return Err("opponent_def_rating_missing");
    };
    let mut weighted = 0.0;
    let mut weights = 0.0;
    let mut detail = Vec::new();
    for ((zone, mult, _), share) in ZONES.iter().zip(inputs.shares) {
        let Some(share) = share else { continue };
        let score = zone_score(drtg, *mult);
        let w = share_weight(share);
        weighted += w * score;
        weights += w;
        detail.push(json!({"zone": zone, "share": share, "weight": w, "score": score}));
    }
    Ok((weighted / weights, detail))
}

/// Predicts one player (pure).
pub fn zone_matchup(inputs: &ZoneInputs) -> Result<SystemPrediction, SkipReason> {
    if inputs.games_played_season < 1 {
        return Err(SkipReason::NoHistory);
    }
    let Some(base) = inputs.points_avg_season.filter(|v| v.is_finite()) else {
        return Err(SkipReason::NoHistory);
    };
    let mut omitted: Vec<String> = Vec::new();
    let (zones, zone_detail) = match zone_adjustment(inputs) {
        Ok((value, detail)) => (value, detail),
        Err(reason) => {
            omitted.push(format!("zones: {reason}"));
            (0.0, Vec::new())
        }
    };
    let pace = match inputs.pace_score {
        Some(p) => PACE_WEIGHT * p,
        None => {
            omitted.push("pace: no player_composite_factors row".into());
            0.0
        }
    };
    let fatigue = match inputs.fatigue_score {
        Some(score) => fatigue_penalty(score, FATIGUE_HEAVY, FATIGUE_LIGHT),
        None => {
            omitted.push("fatigue: no player_composite_factors row".into());
            0.0
        }
    };
    let venue = if inputs.is_home {
        HOME_ADJUSTMENT
    } else {
        -HOME_ADJUSTMENT
    };
    let unclamped = base + zones + pace + venue + fatigue;
    let predicted_points = round_points(unclamped.clamp(0.0, 60.0));
    let conf = confidence(inputs.points_std_last_10, inputs.games_last_7_days);
    let recommendation = recommend(predicted_points, inputs.line, conf);
    let metadata = json!({
        "system_id": SYSTEM_ID,
        "base": {"input": "points_avg_season", "value": base},
        "zones_missing": inputs.shares[..3].iter().any(Option::is_none),
        "opponent_def_rating_missing": inputs.opponent_def_rating.is_none(),
        "opponent_def_rating": inputs.opponent_def_rating,
        "zone_adjustment": zones,
        "zones": zone_detail,
        "applied_adjustments": {
            "pace": pace,
            "home_away": venue,
            "fatigue": fatigue,
        },
        "fatigue_score": inputs.fatigue_score,
        "tiredness": inputs.fatigue_score.map(tiredness),
        "omitted_adjustments": omitted,
        "unclamped_points": unclamped,
        "confidence": conf,
        "edge": edge(predicted_points, inputs.line),
    });
    Ok(SystemPrediction {
        predicted_points,
        confidence: conf.as_f64(),
        recommendation,
        metadata,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recommendation::Recommendation;

    /// SGA before OKC @ POR, 2025-11-05 (see `fixtures`): season average
    /// 33.125, std10 9.433, 3 games in the last 7 days, away, fatigue 80,
    /// pace_score 1.5 (illustrative). 2025-26 has no shot zones.
    fn sga() -> ZoneInputs {
        ZoneInputs {
            games_played_season: 8,
            points_avg_season: Some(33.125),
            points_std_last_10: Some(9.433),
            games_last_7_days: 3,
            is_home: false,
            shares: [None, None, None, Some(0.2075)],
            opponent_def_rating: Some(115.0),
            pace_score: Some(1.5),
            fatigue_score: Some(80),
            line: Some(31.5),
        }
    }

    #[test]
    fn without_zone_shares_the_zone_adjustment_is_zero_and_flagged() {
        let p = zone_matchup(&sga()).unwrap();
        // 33.125 + 0 (zones missing) + 0.4·1.5 − 0.8 (away) + 0 (fatigue 80
        // = tiredness 20) = 32.925 (32.925000000000004 in f64) → 32.93.
        assert_eq!(p.predicted_points, 32.93);
        assert_eq!(p.metadata["zones_missing"], true);
        assert_eq!(p.metadata["zone_adjustment"], 0.0);
        assert_eq!(p.metadata["omitted_adjustments"][0], "zones: zones_missing");
        // Shared confidence: 0.5 − 0.15 + 0.10 = 0.45 → PASS.
        assert_eq!(p.confidence, 0.45);
        assert_eq!(p.recommendation, Recommendation::Pass);
    }

    #[test]
    fn hand_worked_zones_against_a_weak_defense() {
        // A 2023-24-style profile: 45 % of FGA in the paint, 15 % mid-range,
        // 40 % threes, 20.75 % of points from free throws (SGA's 2025-26
        // 55 FTM / 265 PTS before 11-05), opponent rating 115, at home, std
        // 3.0 (confidence 0.60).
        let mut z = sga();
        z.shares = [Some(0.45), Some(0.15), Some(0.40), Some(55.0 / 265.0)];
        z.is_home = true;
        z.points_std_last_10 = Some(3.0);
        // scores: 0.3·5 = 1.5 × (1.2, 1.0, 1.1, 0.8) = 1.8, 1.5, 1.65, 1.2
        // weights: 1.0 (≥ .40), 0.4 (< .20), 1.0 (≥ .40), 0.7 (≥ .20)
        // mean = (1.8 + 0.6 + 1.65 + 0.84) / 3.1 = 4.89 / 3.1 = 1.577419…
        // total = 33.125 + 1.577419 + 0.6 + 0.8 = 36.102419 → 36.10
        let p = zone_matchup(&z).unwrap();
        assert_eq!(p.predicted_points, 36.1);
        let adj = p.metadata["zone_adjustment"].as_f64().unwrap();
        assert!((adj - 4.89 / 3.1).abs() < 1e-9, "{adj}");
        assert_eq!(p.confidence, 0.6);
        // Edge 36.10 − 31.5 = 4.6 > 2 → OVER.
        assert_eq!(p.recommendation, Recommendation::Over);

        // A strong defense (rating 100): 0.3·(−10) = −3 × (1.2, 1.0, 1.1,
        // 0.8) = −3.6, −3, −3.3, −2.4 → clamped −3, −3, −3, −2.4;
        // mean = (−3 − 1.2 − 3 − 1.68) / 3.1 = −8.88 / 3.1 = −2.864516…;
        // tired (score 25): −1.5 →
        // 33.125 − 2.864516 + 0.6 + 0.8 − 1.5 = 30.160484 → 30.16.
        z.opponent_def_rating = Some(100.0);
        z.fatigue_score = Some(25);
        let p = zone_matchup(&z).unwrap();
        let adj = p.metadata["zone_adjustment"].as_f64().unwrap();
        assert!((adj + 8.88 / 3.1).abs() < 1e-9, "{adj}");
        assert_eq!(p.predicted_points, 30.16);
        assert_eq!(p.metadata["applied_adjustments"]["fatigue"], -1.5);
    }

    #[test]
    fn share_weights_and_zone_scores_follow_the_thresholds() {
        assert_eq!(share_weight(0.40), 1.0);
        assert_eq!(share_weight(0.3999), 0.7);
        assert_eq!(share_weight(0.20), 0.7);
        assert_eq!(share_weight(0.19), 0.4);
        assert_eq!(zone_score(110.0, 1.2), 0.0);
        assert_eq!(zone_score(130.0, 1.0), 3.0);
        assert!((zone_score(112.0, 1.1) - 0.66).abs() < 1e-12);
    }

    #[test]
    fn no_season_average_is_skipped() {
        let mut z = sga();
        z.points_avg_season = None;
        assert_eq!(zone_matchup(&z), Err(SkipReason::NoHistory));
        let mut z = sga();
        z.games_played_season = 0;
        assert_eq!(zone_matchup(&z), Err(SkipReason::NoHistory));
    }
}
