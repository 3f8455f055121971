//! Injury statuses: one vocabulary for the reports that publish them
//! (`nba_raw.injury_report`), the context that carries them to tip-off,
//! and the features and decisions that read them.

use std::fmt;
use std::str::FromStr;

/// A player's listed availability for a game.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum InjuryStatus {
    Available,
    Probable,
    Questionable,
    Doubtful,
    Out,
}

impl InjuryStatus {
    pub const ALL: [InjuryStatus; 5] = [
        InjuryStatus::Available,
        InjuryStatus::Probable,
        InjuryStatus::Questionable,
        InjuryStatus::Doubtful,
        InjuryStatus::Out,
    ];

    /// As stored: "available", "probable", "questionable", "doubtful", "out".
    pub fn as_str(self) -> &'static str {
        match self {
            InjuryStatus::Available => "available",
            InjuryStatus::Probable => "probable",
            InjuryStatus::Questionable => "questionable",
            InjuryStatus::Doubtful => "doubtful",
            InjuryStatus::Out => "out",
        }
    }

    /// The feature store's `injury_risk` (the reference system's scale):
    /// available 0, probable 1, questionable 2, doubtful or out 3.
    pub fn risk(self) -> f64 {
        match self {
            InjuryStatus::Available => 0.0,
            InjuryStatus::Probable => 1.0,
            InjuryStatus::Questionable => 2.0,
            InjuryStatus::Doubtful | InjuryStatus::Out => 3.0,
        }
    }

    /// Whether the player counts as missing the game for his teammates'
    /// usage (out or doubtful, the reference system's rule).
    pub fn is_missing(self) -> bool {
        matches!(self, InjuryStatus::Out | InjuryStatus::Doubtful)
    }
}

impl fmt::Display for InjuryStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A status no report vocabulary maps.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an injury status (out, doubtful, questionable, probable, available)")]
pub struct UnknownInjuryStatus(pub String);

impl FromStr for InjuryStatus {
    type Err = UnknownInjuryStatus;

    /// The stored names, case-insensitively.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        InjuryStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == lower)
            .ok_or_else(|| UnknownInjuryStatus(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_and_rank_by_risk() {
        for status in InjuryStatus::ALL {
            assert_eq!(status.as_str().parse::<InjuryStatus>(), Ok(status));
        }
        assert_eq!("Out".parse::<InjuryStatus>(), Ok(InjuryStatus::Out));
        assert!("Day-To-Day".parse::<InjuryStatus>().is_err());
        assert_eq!(InjuryStatus::Questionable.risk(), 2.0);
        assert!(InjuryStatus::Doubtful.is_missing() && !InjuryStatus::Questionable.is_missing());
    }
}
