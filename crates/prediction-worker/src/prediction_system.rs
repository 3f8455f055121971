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
use propcast_core::features::FeatureVector;
use propcast_core::tables::{PlayerCompositeFactors, PlayerDailyCache, UpcomingPlayerGameContext};

/// Everything a system may use for one player on one date. Every field is
/// known before tip-off of that date's game.
#[derive(Debug, Clone, Copy)]
pub struct PlayerInputs<'a> {
    pub cache: &'a PlayerDailyCache,
    /// The real pre-tip line, when a sportsbook offered one.
    pub line: Option<&'a PropLine>,
    /// The player's `ml_feature_store` vector for the date, when built.
    pub features: Option<&'a FeatureVector>,
    /// The player's `player_composite_factors` row for the date, when built.
    pub factors: Option<&'a PlayerCompositeFactors>,
    /// The player's `upcoming_player_game_context` row for the date.
    pub context: Option<&'a UpcomingPlayerGameContext>,
    /// The player's earlier games (strictly before the date), newest first,
    /// for systems that compare against history (similarity).
    pub history: &'a [HistoricalGame],
}

/// One of a player's games before the prediction date, with the context it
/// was played in (as known before that game).
#[derive(Debug, Clone, PartialEq)]
pub struct HistoricalGame {
    pub game_date: chrono::NaiveDate,
    pub points: i64,
    pub minutes: f64,
    pub is_home: bool,
    pub opponent_abbr: String,
    /// Calendar days since the game before it (1 = back-to-back).
    pub days_rest: Option<i64>,
    /// The opponent's defensive rating over its games before that game.
    pub opponent_def_rating: Option<f64>,
    /// The player's last-5 minus season points average entering that game.
    pub form_delta: Option<f64>,
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

/// Why a system made no prediction for a player (a normal outcome, not a
/// failure: it does not count against the system's circuit breaker).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    /// No game this season before the date, or no points average at all.
    NoHistory,
    /// The system needs the feature store vector and there is none.
    NoFeatures,
    /// Too few comparable historical games (similarity).
    TooFewSimilarGames,
    /// Too few component systems predicted (ensemble).
    TooFewComponents,
}

impl SkipReason {
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::NoHistory => "no_history",
            SkipReason::NoFeatures => "no_features",
            SkipReason::TooFewSimilarGames => "too_few_similar_games",
            SkipReason::TooFewComponents => "too_few_components",
        }
    }
}

/// Why a system's call gave no prediction.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SystemError {
    /// A normal outcome: nothing to predict from.
    #[error("skipped: {}", .0.as_str())]
    Skip(SkipReason),
    /// The system itself failed (model error, bad input); counts against
    /// its circuit breaker.
    #[error("failed: {0}")]
    Failed(String),
}

impl From<SkipReason> for SystemError {
    fn from(reason: SkipReason) -> Self {
        SystemError::Skip(reason)
    }
}

/// A prediction system (REFERENCE §4.3).
pub trait PredictionSystem: Send + Sync {
    /// Stable id stored in `system_id` ("moving_average").
    fn system_id(&self) -> &'static str;

    /// Predicts one player. Must be pure: the same inputs give the same
    /// output.
    fn predict(&self, inputs: &PlayerInputs<'_>) -> Result<SystemPrediction, SystemError>;
}
