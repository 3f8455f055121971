//! System 3, `similarity_balanced_v1` (REFERENCE §4.3.3): the player's
//! earlier games played in a situation like today's.
//!
//! A situation is (opponent tier, rest bucket, venue, form):
//!
//! * **opponent tier** from the opponent's defensive rating over its games
//!   before the game: < 110 elite, < 115 average, else weak. Same tier 40,
//!   adjacent (elite–average, average–weak) 20.
//! * **rest bucket** from calendar days since the previous game —
//!   1 = back-to-back, 2, 3, 4+. Same 30, adjacent 15. The reference
//!   bucketed `days_rest == 0` as back-to-back while its context defined
//!   back-to-back as `days_rest == 1`; here there is one meaning
//!   (`days_rest == 1`, as in `upcoming_player_game_context.back_to_back`)
//!   and the reference's buckets 0/1/2/3+ map onto 1/2/3/4+.
//! * **venue**: same 15.
//! * **form** = L5 − season points average entering the game: ≥ 3 hot,
//!   ≤ −3 cold, else neutral. Same 15, different 5.
//!
//! A part whose input is unknown on either side (no previous game this
//! season, no opponent rating) scores 0. Similarity is 0–100.
//!
//! Games with similarity ≥ 70 are kept, the 20 most similar (ties: newest
//! first); fewer than 5 → skipped ([`SkipReason::TooFewSimilarGames`]; the
//! reference returned a PASS with a NULL prediction, which the table cannot
//! hold and which would be no prediction at all).
//!
//! prediction = Σ sim·points / Σ sim, plus 0.015·(fatigue_score − 70)
//! (high = rested, so a rested player gains: this one already reads the
//! factor the right way round), plus 0.4·shot_zone_mismatch,
//! 0.8·pace_score and 0.8·usage_spike, plus home 0.8 / away −0.5; the
//! factor terms are omitted (and listed) without a factors row.
//! Clamped to [0, 60], rounded to hundredths.
//!
//! Confidence (0–100) = 35 + sample size (≥ 15 +12, ≥ 10 +9, ≥ 7 +6,
//! ≥ 5 −10) + mean similarity (≥ 85 +12, ≥ 75 +9, ≥ 70 +6) + spread of the
//! kept games' points (sample std: < 4 +10, < 6 +6, < 8 +2, else −5); the
//! table stores it divided by 100.
//! Rule: NO_LINE without a line; PASS when confidence < 65; OVER when
//! prediction − line ≥ 2, UNDER when ≤ −2, else PASS.

use crate::prediction_system::{
    HistoricalGame, PlayerInputs, PredictionSystem, SkipReason, SystemError, SystemPrediction,
};
use crate::recommendation::{Recommendation, edge, hundredths, round_points};
use serde::Serialize;
use serde_json::json;

pub const SYSTEM_ID: &str = "similarity_balanced_v1";
pub const MIN_SIMILARITY: i64 = 70;
pub const MAX_GAMES: usize = 20;
pub const MIN_GAMES: usize = 5;
/// Confidence (0–100) below which the call is PASS.
pub const PASS_BELOW_CONFIDENCE: i64 = 65;
/// |prediction − line| in hundredths needed for a call (2.0).
pub const CALL_EDGE_HUNDREDTHS: i64 = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OpponentTier {
    Elite,
    Average,
    Weak,
}

impl OpponentTier {
    pub fn of(def_rating: f64) -> Self {
        if def_rating < 110.0 {
            OpponentTier::Elite
        } else if def_rating < 115.0 {
            OpponentTier::Average
        } else {
            OpponentTier::Weak
        }
    }

    fn rank(self) -> i64 {
        self as i64
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Form {
    Hot,
    Neutral,
    Cold,
}

impl Form {
    pub fn of(delta: f64) -> Self {
        if delta >= 3.0 {
            Form::Hot
        } else if delta <= -3.0 {
            Form::Cold
        } else {
            Form::Neutral
        }
    }
}

/// 1 (back-to-back), 2, 3 or 4 (4+ days); `None` without a previous game
/// (or a same-day value, which is not a rest).
pub fn rest_bucket(days_rest: Option<i64>) -> Option<i64> {
    match days_rest? {
        d if d >= 4 => Some(4),
        d if d >= 1 => Some(d),
        _ => None,
    }
}

/// The situation of a game, as known before it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Situation {
    pub tier: Option<OpponentTier>,
    pub rest: Option<i64>,
    pub is_home: bool,
    pub form: Option<Form>,
}

impl Situation {
    pub fn new(
        opponent_def_rating: Option<f64>,
        days_rest: Option<i64>,
        is_home: bool,
        form_delta: Option<f64>,
    ) -> Self {
        Situation {
            tier: opponent_def_rating
                .filter(|v| v.is_finite())
                .map(OpponentTier::of),
            rest: rest_bucket(days_rest),
            is_home,
            form: form_delta.filter(|v| v.is_finite()).map(Form::of),
        }
    }

    pub fn of_game(game: &HistoricalGame) -> Self {
        Situation::new(
            game.opponent_def_rating,
            game.days_rest,
            game.is_home,
            game.form_delta,
        )
    }
}

/// Similarity (0–100) of a past situation to today's.
pub fn similarity(today: &Situation, past: &Situation) -> i64 {
    let tier = match (today.tier, past.tier) {
        (Some(a), Some(b)) if a == b => 40,
        (Some(a), Some(b)) if (a.rank() - b.rank()).abs() == 1 => 20,
        _ => 0,
    };
    let rest = match (today.rest, past.rest) {
        (Some(a), Some(b)) if a == b => 30,
        (Some(a), Some(b)) if (a - b).abs() == 1 => 15,
        _ => 0,
    };
    let venue = if today.is_home == past.is_home { 15 } else { 0 };
    let form = match (today.form, past.form) {
        (Some(a), Some(b)) if a == b => 15,
        (Some(_), Some(_)) => 5,
        _ => 0,
    };
    tier + rest + venue + form
}

/// What the system reads besides the history.
#[derive(Debug, Clone, PartialEq)]
pub struct SimilarityInputs {
    pub today: Situation,
    pub fatigue_score: Option<i64>,
    pub shot_zone_mismatch_score: Option<f64>,
    pub pace_score: Option<f64>,
    pub usage_spike_score: Option<f64>,
    pub line: Option<f64>,
}

impl SimilarityInputs {
    pub fn from_inputs(inputs: &PlayerInputs<'_>) -> Self {
        let c = inputs.cache;
        let rating = inputs
            .context
            .and_then(|x| x.opponent_def_rating_last_10)
            .or_else(|| {
                let f = inputs.features?;
                let i = propcast_core::features::feature_index("opponent_def_rating")?;
                if f.defaulted.get(i).copied().unwrap_or(true) {
                    None
                } else {
                    f.values.get(i).copied().flatten()
                }
            });
        let form = match (c.points_avg_last_5, c.points_avg_season) {
            (Some(l5), Some(season)) => Some(l5 - season),
            _ => None,
        };
        SimilarityInputs {
            today: Situation::new(rating, c.days_rest, c.is_home, form),
            fatigue_score: inputs.factors.map(|f| f.fatigue_score),
            shot_zone_mismatch_score: inputs.factors.map(|f| f.shot_zone_mismatch_score),
            pace_score: inputs.factors.map(|f| f.pace_score),
            usage_spike_score: inputs.factors.map(|f| f.usage_spike_score),
            line: inputs.line.map(|l| l.line),
        }
    }
}

/// The `similarity_balanced_v1` system.
#[derive(Debug, Clone, Copy, Default)]
pub struct SimilarityBalanced;

impl PredictionSystem for SimilarityBalanced {
    fn system_id(&self) -> &'static str {
        SYSTEM_ID
    }

    fn predict(&self, inputs: &PlayerInputs<'_>) -> Result<SystemPrediction, SystemError> {
        Ok(similarity_balanced(
            &SimilarityInputs::from_inputs(inputs),
            inputs.history,
        )?)
    }
}

fn sample_std(values: &[f64]) -> f64 {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
}

/// Confidence (0–100) from the kept games: count, mean similarity, spread.
pub fn similarity_confidence(count: usize, mean_similarity: f64, points_std: f64) -> i64 {
    let size = match count {
        n if n >= 15 => 12,
        n if n >= 10 => 9,
        n if n >= 7 => 6,
        _ => -10,
    };
    let closeness = if mean_similarity >= 85.0 {
        12
    } else if mean_similarity >= 75.0 {
        9
    } else if mean_similarity >= 70.0 {
        6
    } else {
        3
    };
    let spread = if points_std < 4.0 {
        10
    } else if points_std < 6.0 {
        6
    } else if points_std < 8.0 {
        2
    } else {
        -5
    };
    35 + size + closeness + spread
}

/// Predicts one player from his history (pure). `history` holds games
/// strictly before the date.
pub fn similarity_balanced(
    inputs: &SimilarityInputs,
    history: &[HistoricalGame],
) -> Result<SystemPrediction, SkipReason> {
    if history.is_empty() {
        return Err(SkipReason::NoHistory);
    }
    let mut scored: Vec<(i64, &HistoricalGame)> = history
        .iter()
        .map(|g| (similarity(&inputs.today, &Situation::of_game(g)), g))
        .filter(|(s, _)| *s >= MIN_SIMILARITY)
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.game_date.cmp(&a.1.game_date)));
    scored.truncate(MAX_GAMES);
    if scored.len() < MIN_GAMES {
        return Err(SkipReason::TooFewSimilarGames);
    }
    let weight: i64 = scored.iter().map(|(s, _)| s).sum();
    let baseline = scored
        .iter()
        .map(|(s, g)| *s as f64 * g.points as f64)
        .sum::<f64>()
        / weight as f64;
    let points: Vec<f64> = scored.iter().map(|(_, g)| g.points as f64).collect();
    let mean_similarity = weight as f64 / scored.len() as f64;
    let points_std = sample_std(&points);

    let mut applied = serde_json::Map::new();
    let mut omitted = Vec::new();
    let mut add = |name: &str, value: Option<f64>| match value {
        Some(v) if v.is_finite() => {
            applied.insert(name.into(), json!(v));
            v
        }
        _ => {
            omitted.push(format!("{name}: no player_composite_factors row"));
            0.0
        }
    };
    let fatigue = add(
        "fatigue",
        inputs.fatigue_score.map(|s| 0.015 * (s as f64 - 70.0)),
    );
    let mismatch = add(
        "shot_zone_mismatch",
        inputs.shot_zone_mismatch_score.map(|s| 0.4 * s),
    );
    let pace = add("pace", inputs.pace_score.map(|s| 0.8 * s));
    let usage = add("usage_spike", inputs.usage_spike_score.map(|s| 0.8 * s));
    let venue = if inputs.today.is_home { 0.8 } else { -0.5 };
    applied.insert("home_away".into(), json!(venue));
    let unclamped = baseline + fatigue + mismatch + pace + usage + venue;
    let predicted_points = round_points(unclamped.clamp(0.0, 60.0));

    let confidence = similarity_confidence(scored.len(), mean_similarity, points_std);
    let recommendation = match inputs.line {
        None => Recommendation::NoLine,
        Some(_) if confidence < PASS_BELOW_CONFIDENCE => Recommendation::Pass,
        Some(line) => {
            let diff = hundredths(predicted_points).saturating_sub(hundredths(line));
            if diff >= CALL_EDGE_HUNDREDTHS {
                Recommendation::Over
            } else if diff <= -CALL_EDGE_HUNDREDTHS {
                Recommendation::Under
            } else {
                Recommendation::Pass
            }
        }
    };
    let games: Vec<serde_json::Value> = scored
        .iter()
        .map(|(s, g)| json!({"game_date": g.game_date, "points": g.points, "similarity": s}))
        .collect();
    let metadata = json!({
        "system_id": SYSTEM_ID,
        "today": inputs.today,
        "history_games": history.len(),
        "similar_games": games,
        "baseline": baseline,
        "mean_similarity": mean_similarity,
        "points_std": points_std,
        "applied_adjustments": applied,
        "omitted_adjustments": omitted,
        "unclamped_points": unclamped,
        "confidence_0_100": confidence,
        "edge": edge(predicted_points, inputs.line),
        "line": inputs.line,
    });
    Ok(SystemPrediction {
        predicted_points,
        confidence: confidence as f64 / 100.0,
        recommendation,
        metadata,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn day(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, m, d).unwrap_or_default()
    }

    /// SGA's eight 2025-26 games before 2025-11-05 (player game logs):
    /// (date, points, home, days_rest, form = L5 − season entering it).
    /// Opponent ratings are **illustrative**: 112 (average tier) for every
    /// opponent except HOU on opening night, which had played no game
    /// (unknown). Newest first, as the coordinator hands them over.
    pub(crate) fn sga_history() -> Vec<HistoricalGame> {
        type Row = (NaiveDate, i64, bool, Option<i64>, Option<f64>, &'static str);
        let rows: [Row; 8] = [
            (
                day(11, 4),
                30,
                false,
                Some(2),
                Some(29.0 - 235.0 / 7.0),
                "LAC",
            ),
            (
                day(11, 2),
                30,
                true,
                Some(3),
                Some(34.0 - 205.0 / 6.0),
                "NOP",
            ),
            (day(10, 30), 31, true, Some(2), Some(0.0), "WAS"),
            (day(10, 28), 31, true, Some(1), Some(0.0), "SAC"),
            (day(10, 27), 23, false, Some(2), Some(0.0), "DAL"),
            (day(10, 25), 30, false, Some(2), Some(0.0), "ATL"),
            (day(10, 23), 55, false, Some(2), Some(0.0), "IND"),
            (day(10, 21), 35, true, None, None, "HOU"),
        ];
        rows.iter()
            .map(|(date, points, home, rest, form, opp)| HistoricalGame {
                game_date: *date,
                points: *points,
                minutes: 30.0,
                is_home: *home,
                opponent_abbr: opp.to_string(),
                days_rest: *rest,
                opponent_def_rating: (*opp != "HOU").then_some(112.0),
                form_delta: *form,
            })
            .collect()
    }

    /// Today: @ POR after a back-to-back (days_rest 1), form 29 − 33.125 =
    /// −4.125 (cold), opponent average (112, illustrative); factors of
    /// `fixtures::sga_factors_2025_11_05` (fatigue 80, pace 1.5).
    fn sga_today() -> SimilarityInputs {
        SimilarityInputs {
            today: Situation::new(Some(112.0), Some(1), false, Some(29.0 - 33.125)),
            fatigue_score: Some(80),
            shot_zone_mismatch_score: Some(0.0),
            pace_score: Some(1.5),
            usage_spike_score: Some(0.0),
            line: Some(31.5),
        }
    }

    #[test]
    fn hand_worked_sga_2025_11_05() {
        // Similarities (tier 40/20, rest 30/15, venue 15, form 15/5):
        // 11-04 @LAC: 40 + 15 (rest 2 vs 1) + 15 + 15 (cold) = 85
        // 11-02 NOP: 40 + 0 (rest 3 vs 1) + 0 + 5 = 45 ✗
        // 10-30 WAS: 40 + 15 + 0 + 5 = 60 ✗
        // 10-28 SAC: 40 + 30 + 0 + 5 = 75
        // 10-27 @DAL, 10-25 @ATL, 10-23 @IND: 40 + 15 + 15 + 5 = 75
        // 10-21 HOU: 0 + 0 + 0 + 0 = 0 ✗ (nothing known but venue, home)
        let today = sga_today().today;
        let sims: Vec<i64> = sga_history()
            .iter()
            .map(|g| similarity(&today, &Situation::of_game(g)))
            .collect();
        assert_eq!(sims, vec![85, 45, 60, 75, 75, 75, 75, 0]);

        let p = similarity_balanced(&sga_today(), &sga_history()).unwrap();
        // baseline = (85·30 + 75·(31 + 23 + 30 + 55)) / 385 = 12975 / 385
        // = 33.7013; + 0.015·(80 − 70) + 0.8·1.5 − 0.5 (away) = 34.5513
        // → 34.55.
        assert_eq!(p.predicted_points, 34.55);
        assert_eq!(
            p.metadata["similar_games"].as_array().map(Vec::len),
            Some(5)
        );
        assert_eq!(p.metadata["similar_games"][0]["similarity"], 85);
        // Confidence: 35 − 10 (5 games) + 9 (mean 77) − 5 (std of 30, 31,
        // 23, 30, 55 = 12.28) = 29 → 0.29 < 0.65 → PASS.
        assert_eq!(p.confidence, 0.29);
        assert_eq!(p.recommendation, Recommendation::Pass);
    }

    #[test]
    fn too_few_similar_games_is_a_skip() {
        // At home today: the three early away games drop to 60; only 11-04
        // (70), 10-30 (75) and SAC 10-28 (90) stay ≥ 70: 3 < 5.
        let mut inputs = sga_today();
        inputs.today.is_home = true;
        assert_eq!(
            similarity_balanced(&inputs, &sga_history()).map(|p| p.predicted_points),
            Err(SkipReason::TooFewSimilarGames)
        );
        assert_eq!(
            similarity_balanced(&inputs, &[]).map(|p| p.predicted_points),
            Err(SkipReason::NoHistory)
        );
    }

    #[test]
    fn buckets_tiers_and_the_call_rule() {
        assert_eq!(rest_bucket(Some(1)), Some(1));
        assert_eq!(rest_bucket(Some(3)), Some(3));
        assert_eq!(rest_bucket(Some(9)), Some(4));
        assert_eq!(rest_bucket(Some(0)), None);
        assert_eq!(rest_bucket(None), None);
        assert_eq!(OpponentTier::of(109.9), OpponentTier::Elite);
        assert_eq!(OpponentTier::of(110.0), OpponentTier::Average);
        assert_eq!(OpponentTier::of(115.0), OpponentTier::Weak);
        assert_eq!(Form::of(3.0), Form::Hot);
        assert_eq!(Form::of(-2.99), Form::Neutral);
        assert_eq!(similarity_confidence(15, 85.0, 3.9), 35 + 12 + 12 + 10);
        assert_eq!(similarity_confidence(10, 75.0, 5.9), 35 + 9 + 9 + 6);
        assert_eq!(similarity_confidence(7, 70.0, 7.9), 35 + 6 + 6 + 2);

        // Twenty identical steady games (all 85 similar): confidence
        // 35 + 12 + 12 + 10 = 69 ≥ 65, so the call follows the ±2 edge.
        let game = sga_history()[0].clone();
        let steady: Vec<HistoricalGame> = (0..20)
            .map(|i| HistoricalGame {
                game_date: day(10, 1) + chrono::Duration::days(i),
                points: 30 + (i % 2),
                ..game.clone()
            })
            .collect();
        let mut inputs = sga_today();
        inputs.fatigue_score = Some(70);
        inputs.pace_score = Some(0.0);
        // baseline 30.5, away −0.5 → 30.0.
        inputs.line = Some(28.0);
        let p = similarity_balanced(&inputs, &steady).unwrap();
        assert_eq!((p.predicted_points, p.confidence), (30.0, 0.69));
        assert_eq!(p.recommendation, Recommendation::Over); // 30 − 28 = 2 ≥ 2
        inputs.line = Some(28.5);
        let p = similarity_balanced(&inputs, &steady).unwrap();
        assert_eq!(p.recommendation, Recommendation::Pass);
        inputs.line = Some(32.0);
        let p = similarity_balanced(&inputs, &steady).unwrap();
        assert_eq!(p.recommendation, Recommendation::Under);
    }
}
