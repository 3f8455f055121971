//! The confidence score and the OVER/UNDER/PASS rule shared by the original
//! systems (REFERENCE §4.3, `base_predictor.py`).
//!
//! Both are computed in whole hundredths so the documented thresholds hold
//! exactly: 0.5 − 0.15 + 0.10 is 0.45 and therefore PASS, where floating
//! point would give 0.44999999999999996 or 0.45000000000000007 depending on
//! the order of the sums.

use serde::Serialize;

/// Edge at or below which a call is PASS, in hundredths of a point (2.0).
pub const PASS_EDGE_HUNDREDTHS: i64 = 200;
/// Confidence at or below which a call is PASS, in hundredths (0.45).
pub const PASS_CONFIDENCE_HUNDREDTHS: i64 = 45;

/// What a prediction recommends against its line; defined with the
/// grading rule in [`propcast_core::grading`].
pub use propcast_core::grading::Recommendation;

/// The shared confidence score with its parts, all in hundredths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Confidence {
    pub base: i64,
    /// −15 when std10 > 6, −8 when > 4, 0 otherwise or when unknown.
    pub volatility: i64,
    /// +10 for ≥ 3 games in the last 7 days, +5 for 2, −10 otherwise.
    pub recent_games: i64,
    /// The sum, clamped to [20, 80].
    pub value: i64,
}

impl Confidence {
    /// 0–1.
    pub fn as_f64(self) -> f64 {
        self.value as f64 / 100.0
    }
}

/// Confidence from the last-10 standard deviation of points and the number
/// of games in the 7 days before the game. The reference multiplies by a
/// data-quality factor of 0.8 when features were mocked; nothing here is
/// ever mocked, so that factor is always 1 and left out.
pub fn confidence(points_std_last_10: Option<f64>, games_last_7_days: i64) -> Confidence {
    let base = 50;
    let volatility = match points_std_last_10 {
        Some(std) if std > 6.0 => -15,
        Some(std) if std > 4.0 => -8,
        _ => 0,
    };
    let recent_games = match games_last_7_days {
        g if g >= 3 => 10,
        2 => 5,
        _ => -10,
    };
    Confidence {
        base,
        volatility,
        recent_games,
        value: (base + volatility + recent_games).clamp(20, 80),
    }
}

/// Points rounded to hundredths, as an integer (29.0625 → 2906). NaN
/// gives 0 and out-of-range values saturate (Rust's float-to-int cast).
pub fn hundredths(points: f64) -> i64 {
    (points * 100.0).round() as i64
}

/// Points rounded to hundredths, as stored (29.0625 → 29.06).
pub fn round_points(points: f64) -> f64 {
    hundredths(points) as f64 / 100.0
}

/// |prediction − line| in points, computed in hundredths; `None` without a
/// line.
pub fn edge(predicted: f64, line: Option<f64>) -> Option<f64> {
    line.map(|l| {
        hundredths(predicted)
            .saturating_sub(hundredths(l))
            .saturating_abs() as f64
            / 100.0
    })
}

/// The shared rule: NO_LINE without a line; PASS when the edge
/// |prediction − line| ≤ 2.0 or confidence ≤ 0.45; else OVER when the
/// prediction is above the line, UNDER when below. `predicted` is compared
/// at the hundredths it is stored with.
pub fn recommend(predicted: f64, line: Option<f64>, confidence: Confidence) -> Recommendation {
    let Some(line) = line else {
        return Recommendation::NoLine;
    };
    let diff = hundredths(predicted).saturating_sub(hundredths(line));
    if diff.saturating_abs() <= PASS_EDGE_HUNDREDTHS
        || confidence.value <= PASS_CONFIDENCE_HUNDREDTHS
    {
        Recommendation::Pass
    } else if diff > 0 {
        Recommendation::Over
    } else {
        Recommendation::Under
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confidence_rule_table() {
        // (std10, games in last 7 days) → hundredths
        let cases: &[(Option<f64>, i64, i64)] = &[
            (Some(3.0), 3, 60),  // 50 + 0 + 10
            (Some(3.0), 2, 55),  // 50 + 0 + 5
            (Some(3.0), 1, 40),  // 50 + 0 − 10
            (Some(3.0), 0, 40),  // 50 + 0 − 10
            (Some(4.0), 3, 60),  // 4.0 is not > 4
            (Some(4.01), 3, 52), // 50 − 8 + 10
            (Some(6.0), 2, 47),  // 6.0 is not > 6: 50 − 8 + 5
            (Some(6.5), 3, 45),  // 50 − 15 + 10
            (Some(9.43), 1, 25), // 50 − 15 − 10
            (None, 2, 55),       // unknown volatility: no adjustment
            (Some(f64::NAN), 4, 60),
        ];
        for &(std, games, expected) in cases {
            assert_eq!(
                confidence(std, games).value,
                expected,
                "std {std:?}, games {games}"
            );
        }
    }

    #[test]
    fn confidence_stays_within_its_clamp() {
        // The parts cannot leave [25, 60] today; the clamp is the documented
        // bound and keeps holding if parts are added.
        for std in [None, Some(0.0), Some(5.0), Some(100.0)] {
            for games in 0..6 {
                let c = confidence(std, games);
                assert!((20..=80).contains(&c.value));
            }
        }
    }

    #[test]
    fn recommendation_rule() {
        let confident = confidence(Some(3.0), 3); // 0.60
        let unsure = confidence(Some(6.5), 3); // 0.45
        assert_eq!(recommend(25.0, None, confident), Recommendation::NoLine);
        // Edge exactly 2.0 is PASS.
        assert_eq!(recommend(24.5, Some(22.5), confident), Recommendation::Pass);
        assert_eq!(recommend(20.5, Some(22.5), confident), Recommendation::Pass);
        // Float noise does not push an edge of 2.0 over the threshold.
        assert_eq!(
            recommend(22.5 + 2.000_000_000_000_004, Some(22.5), confident),
            Recommendation::Pass
        );
        assert_eq!(
            recommend(24.51, Some(22.5), confident),
            Recommendation::Over
        );
        assert_eq!(
            recommend(20.49, Some(22.5), confident),
            Recommendation::Under
        );
        // Confidence 0.45 is PASS whatever the edge.
        assert_eq!(recommend(35.0, Some(22.5), unsure), Recommendation::Pass);
        assert_eq!(Recommendation::parse("UNDER"), Some(Recommendation::Under));
        assert_eq!(Recommendation::parse("HOLD"), None);
    }
}
