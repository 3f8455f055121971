//! Phase 5: predictions of player points against real sportsbook lines, and
//! their grading.
//!
//! * [`prop_line`]: which real pre-tip line a prediction is made against
//!   (book preference, main line among alternates, never an invented line).
//! * [`recommendation`]: the shared confidence score and OVER/UNDER/PASS rule.
//! * [`prediction_system`]: the [`PredictionSystem`] trait; [`moving_average`]
//!   is system 1.
//! * [`coordinator`]: the `prediction_coordinator` processor, every cached
//!   player × every system → `nba_predictions.player_prop_predictions`.
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
pub mod moving_average;
pub mod player_history;
pub mod prediction_system;
pub mod prop_line;
pub mod recommendation;
pub mod similarity;
pub mod training;
pub mod zone_matchup;

pub use accuracy_summary::{AccuracySummary, accuracy_summary, accuracy_summary_by_system};
pub use coordinator::{PredictionCoordinator, PredictionCounts, build_predictions};
pub use error::PredictionError;
pub use gbdt::{GbdtSystem, ModelError, TrainedModel, TrainingWindow, train_model};
pub use grading::{PredictionGrading, grade_prediction, grade_predictions};
pub use moving_average::{MovingAverage, moving_average};
pub use prediction_system::{
    HistoricalGame, PlayerInputs, PredictionSystem, SkipReason, SystemError, SystemPrediction,
};
pub use prop_line::{LineChoice, LineSource, PropLine, choose_line};
pub use recommendation::{Confidence, Recommendation, confidence, recommend};
pub use training::{TrainingRow, load_training_rows, training_pairs};

/// The Phase 5 processors in the order a date runs them: predict, then grade.
pub fn processors() -> Vec<Box<dyn propcast_patterns::Processor>> {
    vec![
        Box::new(PredictionCoordinator::default()),
        Box::new(PredictionGrading),
    ]
}
