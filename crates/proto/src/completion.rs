//! Helpers on the completion event: byte encoding for the event bus and the
//! lowercase status names used in tables, state documents and logs.

use std::fmt;
use std::str::FromStr;

use bytes::{Buf, Bytes};
use prost::Message;

use crate::v1::{CompletionStatus, ProcessorCompletion};

impl ProcessorCompletion {
    /// Encodes the message as an event-bus payload.
    pub fn encode_to_bytes(&self) -> Bytes {
        Bytes::from(self.encode_to_vec())
    }

    /// Decodes an event-bus payload.
    pub fn decode_from(buf: impl Buf) -> Result<Self, prost::DecodeError> {
        Self::decode(buf)
    }
}

/// A string that names no variant of a contract enum.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} {value:?}, expected one of: {expected}")]
pub struct UnknownVariant {
    /// The enum being parsed, e.g. "completion status".
    pub kind: &'static str,
    /// The rejected input.
    pub value: String,
    /// The accepted names, comma separated.
    pub expected: &'static str,
}

impl CompletionStatus {
    /// Lowercase name: "success", "partial", "no_data", "skipped", "failed"
    /// ("unspecified" for the unset zero value).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unspecified => "unspecified",
            Self::Success => "success",
            Self::Partial => "partial",
            Self::NoData => "no_data",
            Self::Skipped => "skipped",
            Self::Failed => "failed",
        }
    }
}

impl fmt::Display for CompletionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CompletionStatus {
    type Err = UnknownVariant;

    /// Parses the lowercase name; "unspecified" is rejected because no
    /// producer may send it.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "success" => Ok(Self::Success),
            "partial" => Ok(Self::Partial),
            "no_data" => Ok(Self::NoData),
            "skipped" => Ok(Self::Skipped),
            "failed" => Ok(Self::Failed),
            _ => Err(UnknownVariant {
                kind: "completion status",
                value: s.to_owned(),
                expected: "success, partial, no_data, skipped, failed",
            }),
        }
    }
}

impl TryFrom<&str> for CompletionStatus {
    type Error = UnknownVariant;

    fn try_from(s: &str) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<CompletionStatus> for &'static str {
    fn from(status: CompletionStatus) -> Self {
        status.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [CompletionStatus; 5] = [
        CompletionStatus::Success,
        CompletionStatus::Partial,
        CompletionStatus::NoData,
        CompletionStatus::Skipped,
        CompletionStatus::Failed,
    ];

    #[test]
    fn status_names_round_trip() {
        let names: Vec<&str> = ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(
            names,
            ["success", "partial", "no_data", "skipped", "failed"]
        );
        for status in ALL {
            assert_eq!(status.as_str().parse::<CompletionStatus>(), Ok(status));
            assert_eq!(CompletionStatus::try_from(status.as_str()), Ok(status));
            assert_eq!(status.to_string(), status.as_str());
        }
    }

    #[test]
    fn unknown_status_names_are_rejected() {
        for bad in ["unspecified", "SUCCESS", "Success", "no-data", ""] {
            let err = bad.parse::<CompletionStatus>().unwrap_err();
            assert_eq!(err.value, bad);
            assert!(err.to_string().contains("completion status"), "{err}");
        }
    }

    #[test]
    fn unset_status_is_unspecified_not_success() {
        let decoded = ProcessorCompletion::decode_from(Bytes::new()).unwrap();
        assert_eq!(decoded.status(), CompletionStatus::Unspecified);
    }
}
