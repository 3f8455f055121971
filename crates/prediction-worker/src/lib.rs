//! Phase 5: predictions of player points against real sportsbook lines, and
//! their grading.
//!
//! * [`prop_line`]: which real pre-tip line a prediction is made against
//!   (book preference, main line among alternates, never an invented line).
//! * [`recommendation`]: the shared confidence score and OVER/UNDER/PASS rule.
//! * [`prediction_system`]: the [`PredictionSystem`] trait; the systems are
//!   [`moving_average`], [`zone_matchup`], [`similarity`] (over
//!   [`player_history`]), [`gbdt`] and [`ensemble`] over the others;
//!   [`fatigue`] reads the composite fatigue factor the right way round.
//! * [`circuit_breaker`]: one breaker per system, kept in the state store.
//! * [`coordinator`]: the `prediction_coordinator` processor, the selected
//!   players of the date × every system, in batches →
//!   `nba_predictions.player_prop_predictions` and
//!   `nba_predictions.prediction_worker_runs`.
//! * [`grading`]: the `prediction_grading` processor →
//!   `nba_predictions.prediction_accuracy`; [`accuracy_summary`] condenses it.
//! * [`gbdt`]: system `gbdt_v1`, gradient-boosted trees over the feature
//!   store vector; [`training`] reads its training rows and [`evaluation`]
//!   grades every system out of sample on the same real lines.

pub mod accuracy_summary;
pub mod circuit_breaker;
pub mod coordinator;
pub mod ensemble;
pub mod error;
pub mod evaluation;
pub mod fatigue;
#[cfg(test)]
mod fixtures;
pub mod gbdt;
pub mod grading;
pub mod grpc;
pub mod market;
pub mod moving_average;
pub mod player_history;
pub mod prediction_system;
pub mod prop_line;
pub mod recommendation;
pub mod similarity;
pub mod training;
pub mod versus_line;
pub mod zone_matchup;

pub use accuracy_summary::{AccuracySummary, accuracy_summary, accuracy_summary_by_system};
pub use circuit_breaker::{Breaker, BreakerConfig, BreakerState, Breakers};
pub use coordinator::{
    DateInputs, PredictionCoordinator, PredictionCounts, SystemSet, build_predictions,
    predict_batch, select_players,
};
pub use ensemble::Ensemble;
pub use error::PredictionError;
pub use gbdt::{GbdtSystem, ModelError, TrainedModel, TrainingWindow, train_model};
pub use grading::{PredictionGrading, grade_prediction, grade_predictions};
pub use moving_average::{MovingAverage, moving_average};
pub use prediction_system::{
    HistoricalGame, PlayerInputs, PredictionSystem, SkipReason, SystemError, SystemPrediction,
};
pub use prop_line::{LineChoice, LineSource, PropLine, choose_line};
pub use recommendation::{Confidence, Recommendation, confidence, recommend};
pub use similarity::SimilarityBalanced;
pub use training::{TrainingRow, load_training_rows, training_pairs};
pub use zone_matchup::ZoneMatchup;

/// The Phase 5 processors in the order a date runs them: predict, then grade.
pub fn processors() -> Vec<Box<dyn propcast_patterns::Processor>> {
    vec![
        Box::new(PredictionCoordinator::default()),
        Box::new(PredictionGrading),
    ]
}
