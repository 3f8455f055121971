//! Game dates and seasons.
//!
//! A game date is the calendar date in US Eastern time on which a game tips
//! off; it is the partition key of every table.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::America::New_York;
use std::fmt;
use std::str::FromStr;

/// A calendar date in US Eastern time (`America/New_York`).
pub type GameDate = NaiveDate;

/// The ET game date of an instant (for example a tip-off time in UTC).
pub fn eastern_date(instant: DateTime<Utc>) -> GameDate {
    instant.with_timezone(&New_York).date_naive()
}

/// The ET wall-clock time of an instant.
pub fn eastern_time(instant: DateTime<Utc>) -> chrono::NaiveTime {
    instant.with_timezone(&New_York).time()
}

/// The instant a US Eastern wall-clock time is reached on `date` (the
/// later one when the clock repeats it, the first after a skipped hour).
pub fn eastern_instant(date: GameDate, time: chrono::NaiveTime) -> DateTime<Utc> {
    use chrono::TimeZone;
    let local = date.and_time(time);
    match New_York.from_local_datetime(&local) {
        chrono::LocalResult::Single(t) => t.with_timezone(&Utc),
        chrono::LocalResult::Ambiguous(_, later) => later.with_timezone(&Utc),
        chrono::LocalResult::None => New_York
            .from_local_datetime(&(local + chrono::Duration::hours(1)))
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|| local.and_utc()),
    }
}

/// Today's date in US Eastern time.
pub fn today_eastern() -> GameDate {
    eastern_date(Utc::now())
}

/// Parses `YYYY-MM-DD`, naming the offending text on failure.
pub fn parse_game_date(text: &str) -> Result<GameDate, DateError> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| DateError {
        text: text.to_string(),
    })
}

/// A date that did not parse.
#[derive(Debug, Clone, thiserror::Error)]
#[error("invalid date {text:?}: expected YYYY-MM-DD")]
pub struct DateError {
    pub text: String,
}

/// An NBA season, named by the year it starts (2024 = "2024-25").
///
/// A season runs from its preseason in early October to the Finals in June;
/// dates from August on belong to the season starting that year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Season(pub i32);

impl Season {
    /// The season a game date belongs to.
    pub fn of(date: GameDate) -> Season {
        if date.month() >= 8 {
            Season(date.year())
        } else {
            Season(date.year() - 1)
        }
    }

    /// The start year (2024 for "2024-25").
    pub fn start_year(self) -> i32 {
        self.0
    }

    /// The first date that belongs to this season (August 1st).
    pub fn first_day(self) -> GameDate {
        NaiveDate::from_ymd_opt(self.0, 8, 1).expect("valid date")
    }
}

impl fmt::Display for Season {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{:02}", self.0, (self.0 + 1) % 100)
    }
}

impl FromStr for Season {
    type Err = String;
    /// Accepts "2024-25" or "2024".
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let start = s.split('-').next().unwrap_or_default();
        start
            .parse::<i32>()
            .map(Season)
            .map_err(|_| format!("invalid season {s:?}: expected e.g. 2024-25"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn season_boundaries() {
        let d = |s: &str| parse_game_date(s).unwrap();
        assert_eq!(Season::of(d("2024-10-22")), Season(2024));
        assert_eq!(Season::of(d("2025-04-13")), Season(2024));
        assert_eq!(Season::of(d("2025-06-22")), Season(2024));
        assert_eq!(Season::of(d("2025-10-21")), Season(2025));
        assert_eq!(Season(2024).to_string(), "2024-25");
        assert_eq!(Season(1999).to_string(), "1999-00");
        assert_eq!("2025-26".parse::<Season>().unwrap(), Season(2025));
    }

    #[test]
    fn eastern_date_of_late_utc_tipoff() {
        // 00:30 UTC on March 16th is 20:30 EDT on March 15th.
        let t = DateTime::parse_from_rfc3339("2025-03-16T00:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(eastern_date(t), parse_game_date("2025-03-15").unwrap());
    }

    #[test]
    fn bad_date_names_text() {
        let err = parse_game_date("2025-13-01").unwrap_err();
        assert!(err.to_string().contains("2025-13-01"));
    }
}
