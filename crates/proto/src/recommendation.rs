//! Upper-case recommendation names as stored in `player_prop_predictions`.

use std::fmt;
use std::str::FromStr;

use crate::UnknownVariant;
use crate::v1::Recommendation;

impl Recommendation {
    /// "OVER", "UNDER", "PASS", "NO_LINE" ("UNSPECIFIED" for the unset zero value).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unspecified => "UNSPECIFIED",
            Self::Over => "OVER",
            Self::Under => "UNDER",
            Self::Pass => "PASS",
            Self::NoLine => "NO_LINE",
        }
    }
}

impl fmt::Display for Recommendation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Recommendation {
    type Err = UnknownVariant;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "OVER" => Ok(Self::Over),
            "UNDER" => Ok(Self::Under),
            "PASS" => Ok(Self::Pass),
            "NO_LINE" => Ok(Self::NoLine),
            _ => Err(UnknownVariant {
                kind: "recommendation",
                value: s.to_owned(),
                expected: "OVER, UNDER, PASS, NO_LINE",
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recommendation_names_round_trip() {
        for rec in [
            Recommendation::Over,
            Recommendation::Under,
            Recommendation::Pass,
            Recommendation::NoLine,
        ] {
            assert_eq!(rec.as_str().parse::<Recommendation>(), Ok(rec));
        }
        assert!("UNSPECIFIED".parse::<Recommendation>().is_err());
        assert!("over".parse::<Recommendation>().is_err());
    }
}
