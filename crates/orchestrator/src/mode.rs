//! Processing modes of a phase transition and how a date picks one.

use std::fmt;
use std::str::FromStr;

use propcast_core::GameDate;

/// The mode a (transition, game date) is orchestrated in. Each mode has its
/// own state document, so an overnight run and a same-day run of the same
/// date fire independently, each once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Mode {
    /// A past date: yesterday's results feed today's predictions.
    Overnight,
    /// Today's date, before its games.
    SameDay,
    /// A future date (usually tomorrow).
    Tomorrow,
    /// Historical reprocessing; never derived from the date, always explicit.
    Backfill,
}

impl Mode {
    /// All modes, in declaration order.
    pub const ALL: [Mode; 4] = [
        Mode::Overnight,
        Mode::SameDay,
        Mode::Tomorrow,
        Mode::Backfill,
    ];

    /// The daily mode of `game_date` when today (US Eastern) is `today`:
    /// past → overnight, today → same_day, future → tomorrow.
    pub fn for_date(game_date: GameDate, today: GameDate) -> Mode {
        match game_date.cmp(&today) {
            std::cmp::Ordering::Less => Mode::Overnight,
            std::cmp::Ordering::Equal => Mode::SameDay,
            std::cmp::Ordering::Greater => Mode::Tomorrow,
        }
    }

    /// The mode of a completion event: an explicit mode name in the event
    /// (`overnight`, `same_day`, `tomorrow`, `backfill`) wins, because the
    /// producer decided it when its run started (a same-day run finishing
    /// after midnight stays same_day); `daily` or an empty field falls back
    /// to [`Mode::for_date`]. Any other name is an error.
    pub fn resolve(
        event_mode: &str,
        game_date: GameDate,
        today: GameDate,
    ) -> Result<Mode, UnknownMode> {
        match event_mode.trim() {
            "" | "daily" => Ok(Mode::for_date(game_date, today)),
            other => other.parse(),
        }
    }

    /// Lowercase name used in documents, messages and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Overnight => "overnight",
            Mode::SameDay => "same_day",
            Mode::Tomorrow => "tomorrow",
            Mode::Backfill => "backfill",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A mode name that is not one of ours.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown mode {0:?}, expected one of: overnight, same_day, tomorrow, backfill, daily")]
pub struct UnknownMode(pub String);

impl FromStr for Mode {
    type Err = UnknownMode;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Mode::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| UnknownMode(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> GameDate {
        propcast_core::date::parse_game_date(s).unwrap()
    }

    #[test]
    fn past_today_future_pick_overnight_same_day_tomorrow() {
        let today = d("2025-11-05");
        assert_eq!(Mode::for_date(d("2025-11-04"), today), Mode::Overnight);
        assert_eq!(Mode::for_date(d("2024-10-22"), today), Mode::Overnight);
        assert_eq!(Mode::for_date(d("2025-11-05"), today), Mode::SameDay);
        assert_eq!(Mode::for_date(d("2025-11-06"), today), Mode::Tomorrow);
    }

    #[test]
    fn explicit_mode_wins_and_daily_derives() {
        let today = d("2025-11-05");
        let date = d("2025-11-04");
        assert_eq!(Mode::resolve("backfill", date, today), Ok(Mode::Backfill));
        assert_eq!(Mode::resolve("same_day", date, today), Ok(Mode::SameDay));
        assert_eq!(Mode::resolve("daily", date, today), Ok(Mode::Overnight));
        assert_eq!(
            Mode::resolve("", d("2025-11-06"), today),
            Ok(Mode::Tomorrow)
        );
        assert_eq!(
            Mode::resolve("nightly", date, today),
            Err(UnknownMode("nightly".into()))
        );
    }

    #[test]
    fn names_round_trip() {
        for m in Mode::ALL {
            assert_eq!(m.as_str().parse::<Mode>(), Ok(m));
        }
    }
}
