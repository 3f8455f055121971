//! Errors of the prediction processors.

use propcast_patterns::ProcessError;

#[derive(Debug, thiserror::Error)]
pub enum PredictionError {
    /// A write reported a different row count than was handed to it
    /// (REFERENCE §9 lesson 6: check row counts after every write).
    #[error("{table}: wrote {written} rows for {game_date}, expected {expected}")]
    WriteCountMismatch {
        table: String,
        game_date: chrono::NaiveDate,
        expected: u64,
        written: u64,
    },
}

impl From<PredictionError> for ProcessError {
    fn from(e: PredictionError) -> Self {
        match e {
            PredictionError::WriteCountMismatch { .. } => ProcessError::Permanent(e.to_string()),
        }
    }
}
