//! How a processor run ended, as `processor_runs.status` stores it.

use std::fmt;
use std::str::FromStr;

use crate::catalog::{ColumnKind, ColumnType};

/// How a run ended. Stored (and serialised) as the lowercase strings
/// `success`, `partial`, `no_data`, `skipped`, `failed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Everything processed.
    Success,
    /// Processed, but some records were quarantined.
    Partial,
    /// Nothing to do for this date (no payloads, no games).
    NoData,
    Skipped,
    Failed,
}

impl RunStatus {
    pub const ALL: [RunStatus; 5] = [
        RunStatus::Success,
        RunStatus::Partial,
        RunStatus::NoData,
        RunStatus::Skipped,
        RunStatus::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Success => "success",
            RunStatus::Partial => "partial",
            RunStatus::NoData => "no_data",
            RunStatus::Skipped => "skipped",
            RunStatus::Failed => "failed",
        }
    }
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A status name that is not one of [`RunStatus`]'s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown run status {0:?}, expected one of: success, partial, no_data, skipped, failed")]
pub struct UnknownRunStatus(pub String);

impl FromStr for RunStatus {
    type Err = UnknownRunStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RunStatus::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownRunStatus(s.to_owned()))
    }
}

/// A TEXT column holding the lowercase names.
impl ColumnKind for RunStatus {
    const TYPE: ColumnType = ColumnType::Text;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_as_the_stored_strings() {
        for s in RunStatus::ALL {
            assert_eq!(
                serde_json::to_value(s).unwrap(),
                serde_json::Value::String(s.as_str().to_string())
            );
            assert_eq!(
                serde_json::from_value::<RunStatus>(serde_json::json!(s.as_str())).unwrap(),
                s
            );
            assert_eq!(s.as_str().parse::<RunStatus>(), Ok(s));
        }
        assert!("ok".parse::<RunStatus>().is_err());
    }
}
