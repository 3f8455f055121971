//! Summaries of graded predictions (`nba_predictions.prediction_accuracy`).
//!
//! The rule (every row in exactly one bucket: voided, graded, pass, no_line,
//! ungradable; the hit rate over graded calls that did not push) is
//! [`propcast_core::grading`], shared with the backfill report; it is
//! re-exported here.

pub use propcast_core::grading::{AccuracySummary, accuracy_summary, accuracy_summary_by_system};
