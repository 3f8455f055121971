//! What a graded prediction counts as (`nba_predictions.prediction_accuracy`),
//! one rule for the grading processor's summaries and the backfill report.
//!
//! Every row lands in exactly one [`Bucket`], so
//! `graded + pass + no_line + ungradable + voided == predictions`:
//! * `voided`: the player did not play (whatever the call);
//! * `graded`: an OVER/UNDER call on a real line (it has an outcome: a push
//!   or a `prediction_correct`), pushes included; `decided` = graded −
//!   pushes, the denominator of the hit rate (DESIGN invariant 5: PASS and
//!   pushes are not losses);
//! * `pass`, `no_line`: PASS and NO_LINE rows of players who played;
//! * `ungradable`: anything else (an OVER/UNDER without a real line, an
//!   unknown recommendation). The coordinator never writes such rows, so
//!   this is 0 unless the table was written by something else.
//!
//! MAE and bias are means over the rows of players who played that have
//! both errors, whatever the recommendation.

use crate::tables::PredictionAccuracy;
use serde::Serialize;
use std::collections::BTreeMap;

/// What a prediction recommends against its line (`recommendation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Recommendation {
    Over,
    Under,
    Pass,
    /// There was no real line to call against.
    NoLine,
}

impl Recommendation {
    pub fn as_str(self) -> &'static str {
        match self {
            Recommendation::Over => "OVER",
            Recommendation::Under => "UNDER",
            Recommendation::Pass => "PASS",
            Recommendation::NoLine => "NO_LINE",
        }
    }

    /// Parses the stored column value; `None` for anything else.
    pub fn parse(text: &str) -> Option<Recommendation> {
        match text {
            "OVER" => Some(Recommendation::Over),
            "UNDER" => Some(Recommendation::Under),
            "PASS" => Some(Recommendation::Pass),
            "NO_LINE" => Some(Recommendation::NoLine),
            _ => None,
        }
    }
}

/// The columns of a `prediction_accuracy` row that decide its bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome<'a> {
    pub is_voided: bool,
    pub recommendation: &'a str,
    pub is_push: bool,
    pub prediction_correct: Option<bool>,
}

impl<'a> From<&'a PredictionAccuracy> for Outcome<'a> {
    fn from(row: &'a PredictionAccuracy) -> Self {
        Outcome {
            is_voided: row.is_voided,
            recommendation: &row.recommendation,
            is_push: row.is_push,
            prediction_correct: row.prediction_correct,
        }
    }
}

/// Where a graded row counts (see module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    Voided,
    /// An OVER/UNDER call on a real line; `correct` is false for a push.
    Graded {
        push: bool,
        correct: bool,
    },
    Pass,
    NoLine,
    Ungradable,
}

impl Outcome<'_> {
    /// The one bucket of this row.
    pub fn bucket(&self) -> Bucket {
        if self.is_voided {
            return Bucket::Voided;
        }
        match Recommendation::parse(self.recommendation) {
            Some(Recommendation::Pass) => Bucket::Pass,
            Some(Recommendation::NoLine) => Bucket::NoLine,
            Some(Recommendation::Over | Recommendation::Under)
                if self.is_push || self.prediction_correct.is_some() =>
            {
                Bucket::Graded {
                    push: self.is_push,
                    correct: self.prediction_correct == Some(true),
                }
            }
            _ => Bucket::Ungradable,
        }
    }
}

/// Totals of graded rows (any mix of systems and dates).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AccuracySummary {
    pub predictions: u64,
    /// OVER/UNDER calls on a real line by players who played, pushes included.
    pub graded: u64,
    pub correct: u64,
    pub pushes: u64,
    pub voided: u64,
    pub pass: u64,
    pub no_line: u64,
    pub ungradable: u64,
    /// Mean absolute error over rows of players who played (every
    /// recommendation); `None` without such rows.
    pub mae: Option<f64>,
    /// correct / (graded − pushes); `None` when nothing was decided.
    pub hit_rate: Option<f64>,
    /// Mean signed error (predicted − actual) over the same rows as `mae`.
    pub bias: Option<f64>,
}

impl AccuracySummary {
    /// Graded calls that did not push: the hit rate's denominator.
    pub fn decided(&self) -> u64 {
        self.graded - self.pushes
    }
}

/// Sums of the errors of some rows: how many rows have both errors, and
/// the sums of their absolute and signed errors.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ErrorSums {
    pub rows: u64,
    pub absolute: f64,
    pub signed: f64,
}

/// Adds rows up bucket by bucket into an [`AccuracySummary`]; rows may come
/// one by one or as groups of rows with the same outcome.
#[derive(Debug, Clone, Default)]
pub struct AccuracyTally {
    summary: AccuracySummary,
    errors: ErrorSums,
}

impl AccuracyTally {
    /// Adds `rows` rows of one outcome whose errors add up to `errors`
    /// (errors of voided rows are not counted).
    pub fn add(&mut self, outcome: Outcome<'_>, rows: u64, errors: ErrorSums) {
        let s = &mut self.summary;
        s.predictions += rows;
        match outcome.bucket() {
            Bucket::Voided => {
                s.voided += rows;
                return;
            }
            Bucket::Pass => s.pass += rows,
            Bucket::NoLine => s.no_line += rows,
            Bucket::Graded { push, correct } => {
                s.graded += rows;
                if push {
                    s.pushes += rows;
                }
                if correct {
                    s.correct += rows;
                }
            }
            Bucket::Ungradable => s.ungradable += rows,
        }
        self.errors.rows += errors.rows;
        self.errors.absolute += errors.absolute;
        self.errors.signed += errors.signed;
    }

    /// Adds everything `other` holds.
    pub fn merge(&mut self, other: &AccuracyTally) {
        let (s, o) = (&mut self.summary, &other.summary);
        s.predictions += o.predictions;
        s.graded += o.graded;
        s.correct += o.correct;
        s.pushes += o.pushes;
        s.voided += o.voided;
        s.pass += o.pass;
        s.no_line += o.no_line;
        s.ungradable += o.ungradable;
        self.errors.rows += other.errors.rows;
        self.errors.absolute += other.errors.absolute;
        self.errors.signed += other.errors.signed;
    }

    /// Adds one row.
    pub fn add_row(&mut self, row: &PredictionAccuracy) {
        let errors = match (row.absolute_error, row.signed_error) {
            (Some(absolute), Some(signed)) => ErrorSums {
                rows: 1,
                absolute,
                signed,
            },
            _ => ErrorSums::default(),
        };
        self.add(Outcome::from(row), 1, errors);
    }

    /// The summary with its means and hit rate.
    pub fn summary(&self) -> AccuracySummary {
        let mut s = self.summary.clone();
        let e = self.errors;
        if e.rows > 0 {
            s.mae = Some(e.absolute / e.rows as f64);
            s.bias = Some(e.signed / e.rows as f64);
        }
        if s.decided() > 0 {
            s.hit_rate = Some(s.correct as f64 / s.decided() as f64);
        }
        s
    }
}

/// Summarises graded rows (any mix of systems and dates).
pub fn accuracy_summary(rows: &[PredictionAccuracy]) -> AccuracySummary {
    let mut tally = AccuracyTally::default();
    for row in rows {
        tally.add_row(row);
    }
    tally.summary()
}

/// One summary per `system_id`.
pub fn accuracy_summary_by_system(
    rows: &[PredictionAccuracy],
) -> BTreeMap<String, AccuracySummary> {
    let mut by_system: BTreeMap<&str, AccuracyTally> = BTreeMap::new();
    for row in rows {
        by_system.entry(&row.system_id).or_default().add_row(row);
    }
    by_system
        .into_iter()
        .map(|(system, tally)| (system.to_string(), tally.summary()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(
        is_voided: bool,
        recommendation: &str,
        is_push: bool,
        prediction_correct: Option<bool>,
    ) -> Outcome<'_> {
        Outcome {
            is_voided,
            recommendation,
            is_push,
            prediction_correct,
        }
    }

    #[test]
    fn buckets() {
        // A voided OVER is voided, not graded, even with an outcome.
        assert_eq!(
            outcome(true, "OVER", false, Some(true)).bucket(),
            Bucket::Voided
        );
        assert_eq!(outcome(true, "PASS", false, None).bucket(), Bucket::Voided);
        assert_eq!(
            outcome(false, "UNDER", false, Some(false)).bucket(),
            Bucket::Graded {
                push: false,
                correct: false
            }
        );
        assert_eq!(
            outcome(false, "OVER", true, None).bucket(),
            Bucket::Graded {
                push: true,
                correct: false
            }
        );
        assert_eq!(outcome(false, "PASS", false, None).bucket(), Bucket::Pass);
        assert_eq!(
            outcome(false, "NO_LINE", false, None).bucket(),
            Bucket::NoLine
        );
        // An OVER without an outcome had no real line.
        assert_eq!(
            outcome(false, "OVER", false, None).bucket(),
            Bucket::Ungradable
        );
        assert_eq!(
            outcome(false, "HOLD", false, Some(true)).bucket(),
            Bucket::Ungradable
        );
    }

    #[test]
    fn a_push_is_graded_but_not_decided() {
        let mut t = AccuracyTally::default();
        let errors = |rows: u64, absolute: f64, signed: f64| ErrorSums {
            rows,
            absolute,
            signed,
        };
        t.add(
            outcome(false, "OVER", false, Some(true)),
            3,
            errors(3, 6.0, 6.0),
        );
        t.add(
            outcome(false, "UNDER", false, Some(false)),
            1,
            errors(1, 4.0, -4.0),
        );
        t.add(outcome(false, "OVER", true, None), 2, errors(2, 0.5, 0.5));
        t.add(outcome(false, "PASS", false, None), 2, errors(2, 1.5, -1.5));
        t.add(outcome(true, "OVER", false, None), 5, ErrorSums::default());
        let s = t.summary();
        assert_eq!((s.predictions, s.graded, s.pushes), (13, 6, 2));
        assert_eq!((s.correct, s.decided(), s.voided, s.pass), (3, 4, 5, 2));
        assert_eq!(s.hit_rate, Some(0.75));
        // (6 + 4 + 0.5 + 1.5) / 8 and (6 − 4 + 0.5 − 1.5) / 8.
        assert_eq!((s.mae, s.bias), (Some(1.5), Some(0.125)));
        assert_eq!(
            s.graded + s.pass + s.no_line + s.ungradable + s.voided,
            s.predictions
        );
        // Only pushes: nothing decided, no hit rate.
        let mut t = AccuracyTally::default();
        t.add(outcome(false, "UNDER", true, None), 1, ErrorSums::default());
        assert_eq!((t.summary().graded, t.summary().hit_rate), (1, None));
    }
}
