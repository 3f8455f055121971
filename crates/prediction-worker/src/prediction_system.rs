//! What a prediction system is: a pure function from one player's inputs for
//! a date to a prediction, or a reason it made none.
//!
//! The coordinator runs a list of systems over every player; adding a
//! system is adding a value to that list. Inputs grow as Phase 4 tables are
//! built (composite factors, feature store): [`PlayerInputs`] carries them,
//! and a system that lacks an input says so in its metadata instead of
//! inventing a value.

use crate::prop_line::PropLine;
use crate::recommendation::Recommendation;
use propcast_core::tables::PlayerDailyCache;

/// Everything a system may use for one player on one date. Every field is
/// known before tip-off of that date's game.
#[derive(Debug, Clone, Copy)]
pub struct PlayerInputs<'a> {
    pub cache: &'a PlayerDailyCache,
    /// The real pre-tip line, when a sportsbook offered one.
    pub line: Option<&'a PropLine>,
}

/// One system's prediction for one player.
#[derive(Debug, Clone, PartialEq)]
pub struct SystemPrediction {
    /// Points, rounded to hundredths.
    pub predicted_points: f64,
    /// 0–1.
    pub confidence: f64,
    pub recommendation: Recommendation,
    /// Inputs, applied and omitted adjustments, line details.
    pub metadata: serde_json::Value,
}

/// Why a system made no prediction for a player.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    /// No game this season before the date, or no points average at all.
    NoHistory,
}

impl SkipReason {
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::NoHistory => "no_history",
        }
    }
}

/// A prediction system (REFERENCE §4.3).
pub trait PredictionSystem: Send + Sync {
    /// Stable id stored in `system_id` ("moving_average").
    fn system_id(&self) -> &'static str;

    /// Predicts one player. Must be pure: the same inputs give the same
    /// output.
    fn predict(&self, inputs: &PlayerInputs<'_>) -> Result<SystemPrediction, SkipReason>;
}
