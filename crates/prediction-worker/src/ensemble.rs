//! System 5, `ensemble_v1` (REFERENCE §4.3.5): a confidence-weighted
//! combination of the other systems' predictions for the same player.
//!
//! Components are every other system the coordinator ran for the player
//! that predicted (`moving_average`, `zone_matchup_v1`,
//! `similarity_balanced_v1` and, when configured, `gbdt_v1` in the place
//! of the reference's xgboost): skipped, failed and breaker-refused systems
//! are not components. With c = component confidence × 100 (every system
//! stores 0–1 here, so all are scaled, where the reference scaled only its
//! first two):
//!
//! * at least 2 components, else skipped ([`SkipReason::TooFewComponents`]);
//! * prediction = Σ p·c / Σ c (the plain mean when every c is 0);
//! * confidence = mean(c) + agreement on the population standard deviation
//!   of the component predictions (< 2 +10, < 3 +5, < 6 −5, else −10)
//!   + 5 when 4 components predicted; clamped to [20, 95]; stored ÷ 100;
//! * rule: NO_LINE without a line; PASS when confidence < 65 or the edge
//!   |prediction − line| < 1.5; else the majority of the components'
//!   OVER/UNDER calls, and on a tie the side of the line the prediction is
//!   on.

use crate::prediction_system::{SkipReason, SystemError, SystemPrediction};
use crate::prop_line::PropLine;
use crate::recommendation::{Recommendation, edge, hundredths, round_points};
use serde_json::json;

pub const SYSTEM_ID: &str = "ensemble_v1";
pub const MIN_COMPONENTS: usize = 2;
/// Confidence (0–100) below which the call is PASS.
pub const PASS_BELOW_CONFIDENCE: f64 = 65.0;
/// Edge below which the call is PASS, in hundredths (1.5).
pub const MIN_EDGE_HUNDREDTHS: i64 = 150;

/// One component's output.
#[derive(Debug, Clone, Copy)]
pub struct Component<'a> {
    pub system_id: &'a str,
    pub prediction: &'a SystemPrediction,
}

/// The `ensemble_v1` system, run by the coordinator after the others.
#[derive(Debug, Clone, Copy, Default)]
pub struct Ensemble;

impl Ensemble {
    pub fn system_id(&self) -> &'static str {
        SYSTEM_ID
    }

    /// Combines the components of one player.
    pub fn combine(
        &self,
        components: &[Component<'_>],
        line: Option<&PropLine>,
    ) -> Result<SystemPrediction, SystemError> {
        Ok(ensemble(components, line.map(|l| l.line))?)
    }
}

/// The agreement part of the confidence from the spread of predictions.
pub fn agreement(std: f64) -> f64 {
    if std < 2.0 {
        10.0
    } else if std < 3.0 {
        5.0
    } else if std < 6.0 {
        -5.0
    } else {
        -10.0
    }
}

/// Combines component predictions (pure).
pub fn ensemble(
    components: &[Component<'_>],
    line: Option<f64>,
) -> Result<SystemPrediction, SkipReason> {
    let valid: Vec<&Component<'_>> = components
        .iter()
        .filter(|c| {
            c.prediction.predicted_points.is_finite() && c.prediction.confidence.is_finite()
        })
        .collect();
    if valid.len() < MIN_COMPONENTS {
        return Err(SkipReason::TooFewComponents);
    }
    let n = valid.len() as f64;
    let c: Vec<f64> = valid
        .iter()
        .map(|v| (v.prediction.confidence * 100.0).max(0.0))
        .collect();
    let p: Vec<f64> = valid
        .iter()
        .map(|v| v.prediction.predicted_points)
        .collect();
    let weight: f64 = c.iter().sum();
    let combined = if weight > 0.0 {
        p.iter().zip(&c).map(|(p, c)| p * c).sum::<f64>() / weight
    } else {
        p.iter().sum::<f64>() / n
    };
    let mean_p = p.iter().sum::<f64>() / n;
    let std = (p.iter().map(|x| (x - mean_p).powi(2)).sum::<f64>() / n).sqrt();
    let mean_c = weight / n;
    let all_four = if valid.len() >= 4 { 5.0 } else { 0.0 };
    let confidence = (mean_c + agreement(std) + all_four).clamp(20.0, 95.0);
    let predicted_points = round_points(combined.clamp(0.0, 60.0));

    let overs = valid
        .iter()
        .filter(|v| v.prediction.recommendation == Recommendation::Over)
        .count();
    let unders = valid
        .iter()
        .filter(|v| v.prediction.recommendation == Recommendation::Under)
        .count();
    let recommendation = match line {
        None => Recommendation::NoLine,
        Some(line) => {
            let diff = hundredths(predicted_points).saturating_sub(hundredths(line));
            if confidence < PASS_BELOW_CONFIDENCE || diff.saturating_abs() < MIN_EDGE_HUNDREDTHS {
                Recommendation::Pass
            } else if overs > unders {
                Recommendation::Over
            } else if unders > overs {
                Recommendation::Under
            } else if diff > 0 {
                Recommendation::Over
            } else {
                Recommendation::Under
            }
        }
    };
    let parts: Vec<serde_json::Value> = valid
        .iter()
        .zip(&c)
        .map(|(v, c)| {
            json!({
                "system_id": v.system_id,
                "predicted_points": v.prediction.predicted_points,
                "confidence_0_100": c,
                "recommendation": v.prediction.recommendation.as_str(),
            })
        })
        .collect();
    let metadata = json!({
        "system_id": SYSTEM_ID,
        "components": parts,
        "weighted_points": combined,
        "prediction_std": std,
        "mean_confidence_0_100": mean_c,
        "agreement": agreement(std),
        "all_four_bonus": all_four,
        "confidence_0_100": confidence,
        "votes": {"over": overs, "under": unders},
        "edge": edge(predicted_points, line),
        "line": line,
    });
    Ok(SystemPrediction {
        predicted_points,
        confidence: confidence / 100.0,
        recommendation,
        metadata,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prediction(points: f64, confidence: f64, rec: Recommendation) -> SystemPrediction {
        SystemPrediction {
            predicted_points: points,
            confidence,
            recommendation: rec,
            metadata: serde_json::Value::Null,
        }
    }

    #[test]
    fn hand_worked_three_components_for_sga_2025_11_05() {
        // The three rule systems' outputs for SGA @ POR (unit tests of
        // moving_average, zone_matchup and similarity): 29.51 (0.45,
        // PASS), 32.93 (0.45, PASS), 34.55 (0.29, PASS); line 31.5.
        let ma = prediction(29.51, 0.45, Recommendation::Pass);
        let zm = prediction(32.93, 0.45, Recommendation::Pass);
        let sim = prediction(34.55, 0.29, Recommendation::Pass);
        let components = [
            Component {
                system_id: "moving_average",
                prediction: &ma,
            },
            Component {
                system_id: "zone_matchup_v1",
                prediction: &zm,
            },
            Component {
                system_id: "similarity_balanced_v1",
                prediction: &sim,
            },
        ];
        let p = ensemble(&components, Some(31.5)).unwrap();
        // Σc = 45 + 45 + 29 = 119; Σp·c = 1327.95 + 1481.85 + 1001.95
        // = 3811.75; 3811.75 / 119 = 32.0315… → 32.03.
        assert_eq!(p.predicted_points, 32.03);
        // mean p = 96.99 / 3 = 32.33; deviations −2.82, 0.6, 2.22;
        // population std = √((7.9524 + 0.36 + 4.9284) / 3) = √4.4136 = 2.1009
        // → agreement +5; mean c = 39.667; confidence 44.667 → 0.44667.
        assert!((p.confidence - (119.0 / 3.0 + 5.0) / 100.0).abs() < 1e-12);
        assert_eq!(p.metadata["agreement"], 5.0);
        // Confidence < 65 → PASS.
        assert_eq!(p.recommendation, Recommendation::Pass);

        // Fewer than two components: skipped.
        assert_eq!(
            ensemble(&components[..1], Some(31.5)).map(|p| p.predicted_points),
            Err(SkipReason::TooFewComponents)
        );
    }

    #[test]
    fn confident_agreeing_components_call_the_majority() {
        let a = prediction(26.0, 0.80, Recommendation::Over);
        let b = prediction(25.0, 0.80, Recommendation::Over);
        let c = prediction(24.5, 0.60, Recommendation::Pass);
        let d = prediction(25.5, 0.70, Recommendation::Under);
        let components = [
            Component {
                system_id: "a",
                prediction: &a,
            },
            Component {
                system_id: "b",
                prediction: &b,
            },
            Component {
                system_id: "c",
                prediction: &c,
            },
            Component {
                system_id: "d",
                prediction: &d,
            },
        ];
        // Σc = 290; Σp·c = 2080 + 2000 + 1470 + 1785 = 7335 → 25.2931 → 25.29.
        // std of (26, 25, 24.5, 25.5) around 25.25: √(0.5625 + 0.0625 +
        // 0.5625 + 0.0625)/4 = √0.3125 = 0.559 → +10; 4 components +5;
        // confidence = 72.5 + 15 = 87.5.
        let p = ensemble(&components, Some(23.5)).unwrap();
        assert_eq!(p.predicted_points, 25.29);
        assert_eq!(p.confidence, 0.875);
        // Edge 1.79 ≥ 1.5, confidence ≥ 65: majority 2 OVER vs 1 UNDER.
        assert_eq!(p.recommendation, Recommendation::Over);
        // Edge below 1.5 → PASS.
        let p = ensemble(&components, Some(24.0)).unwrap();
        assert_eq!(p.recommendation, Recommendation::Pass);
        // Confidence is clamped to 95.
        let hi = prediction(25.0, 1.0, Recommendation::Under);
        let all = [
            Component {
                system_id: "a",
                prediction: &hi,
            },
            Component {
                system_id: "b",
                prediction: &hi,
            },
            Component {
                system_id: "c",
                prediction: &hi,
            },
            Component {
                system_id: "d",
                prediction: &hi,
            },
        ];
        let p = ensemble(&all, Some(30.0)).unwrap();
        assert_eq!(p.confidence, 0.95);
        assert_eq!(p.recommendation, Recommendation::Under);
    }
}
