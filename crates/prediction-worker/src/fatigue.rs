//! Reading the composite fatigue factor the right way round.
//!
//! `player_composite_factors.fatigue_score` is 0–100 with **high = rested**
//! (REFERENCE §3.3: it starts at 100 and loses points for back-to-backs,
//! heavy minutes and age). The reference `moving_average` and
//! `zone_matchup_v1` systems applied their penalty when the *score* was
//! above 70 / 50, i.e. they penalised the most rested players. Here the
//! same thresholds are applied to the tiredness, `100 − fatigue_score`:
//!
//! * tiredness > 70 (score < 30) → the heavy penalty,
//! * tiredness > 50 (score < 50) → the light penalty,
//! * otherwise 0.
//!
//! A fully rested player (score 100, tiredness 0) is never penalised.

/// `100 − fatigue_score`, the score first clamped to its documented 0–100.
pub fn tiredness(fatigue_score: i64) -> i64 {
    100 - fatigue_score.clamp(0, 100)
}

/// The penalty (≤ 0) for a fatigue score: `heavy` when tiredness > 70,
/// `light` when > 50, else 0.
pub fn fatigue_penalty(fatigue_score: i64, heavy: f64, light: f64) -> f64 {
    match tiredness(fatigue_score) {
        t if t > 70 => heavy,
        t if t > 50 => light,
        _ => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn high_score_is_rested_and_not_penalised() {
        // (score, penalty with the moving_average values −2.5 / −1.0)
        let cases = [
            (100, 0.0),
            (85, 0.0),
            (50, 0.0),  // tiredness 50 is not > 50
            (49, -1.0), // tiredness 51
            (30, -1.0), // tiredness 70 is not > 70
            (29, -2.5), // tiredness 71
            (0, -2.5),
            (-5, -2.5), // out of range: clamped to 0 first
            (130, 0.0),
        ];
        for (score, expected) in cases {
            assert_eq!(fatigue_penalty(score, -2.5, -1.0), expected, "{score}");
        }
        assert_eq!(tiredness(75), 25);
    }
}
