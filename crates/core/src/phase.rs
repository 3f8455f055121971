//! The pipeline phases (2 raw, 3 analytics, 4 precompute, 5 predictions)
//! and how they cross the wire: the contract's messages carry the phase as
//! an integer, `processor_runs.phase` stores it as one.

use std::fmt;

/// The pipeline phase a processor belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Phase {
    Raw = 2,
    Analytics = 3,
    Precompute = 4,
    Predictions = 5,
}

impl Phase {
    /// Every phase, in the order a date runs them.
    pub const ALL: [Phase; 4] = [
        Phase::Raw,
        Phase::Analytics,
        Phase::Precompute,
        Phase::Predictions,
    ];

    /// The phase's number as stored in `processor_runs.phase`.
    pub fn number(self) -> i64 {
        self as i64
    }

    /// The phase after this one (`None` after predictions).
    pub fn next(self) -> Option<Phase> {
        match self {
            Phase::Raw => Some(Phase::Analytics),
            Phase::Analytics => Some(Phase::Precompute),
            Phase::Precompute => Some(Phase::Predictions),
            Phase::Predictions => None,
        }
    }

    /// `phase2_raw` etc., for summaries.
    pub fn label(self) -> &'static str {
        match self {
            Phase::Raw => "phase2_raw",
            Phase::Analytics => "phase3_analytics",
            Phase::Precompute => "phase4_precompute",
            Phase::Predictions => "phase5_predictions",
        }
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.number())
    }
}

/// An integer that is not a phase number (2–5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{0} is not a phase (expected 2, 3, 4 or 5)")]
pub struct UnknownPhase(pub i64);

impl TryFrom<i64> for Phase {
    type Error = UnknownPhase;

    fn try_from(n: i64) -> Result<Self, Self::Error> {
        Phase::ALL
            .into_iter()
            .find(|p| p.number() == n)
            .ok_or(UnknownPhase(n))
    }
}

/// The contract's messages carry the phase as an `int32`.
impl TryFrom<i32> for Phase {
    type Error = UnknownPhase;

    fn try_from(n: i32) -> Result<Self, Self::Error> {
        Phase::try_from(i64::from(n))
    }
}

impl From<Phase> for i32 {
    fn from(phase: Phase) -> i32 {
        phase as i32
    }
}

impl From<Phase> for i64 {
    fn from(phase: Phase) -> i64 {
        phase.number()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_round_trip_and_others_are_rejected() {
        for p in Phase::ALL {
            assert_eq!(Phase::try_from(i32::from(p)), Ok(p));
            assert_eq!(Phase::try_from(p.number()), Ok(p));
        }
        assert_eq!(Phase::try_from(1i32), Err(UnknownPhase(1)));
        assert_eq!(Phase::try_from(6i64), Err(UnknownPhase(6)));
        assert_eq!(Phase::Raw.next(), Some(Phase::Analytics));
        assert_eq!(Phase::Predictions.next(), None);
    }
}
