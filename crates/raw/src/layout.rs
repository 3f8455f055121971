//! The landing zone's layout: where each source's payload lands, one home
//! for the scrapers that write it and the processors that read it.
//!
//! Paths follow the original system's `gcs_path_builder.py` and the
//! shared landing zone (`../shared/data/landing/README.md`):
//! `<source>/<kind>/<date or season>/[<sub>/]<stamp>.<ext>`, where the
//! stamp is the fetch time in UTC, `YYYYMMDD_HHMMSS`. A file name sorts by
//! time, so "the latest snapshot" is the greatest name. A landed path is
//! never written twice ([`LandingZone::put_new`]).
//!
//! | source | path |
//! |---|---|
//! | stats `leaguegamelog` P | `nba-com/player-boxscores/<date>/<stamp>.json` |
//! | stats `leaguegamelog` T | `nba-com/team-boxscores/<date>/<stamp>.json` |
//! | CDN `scheduleLeagueV2` | `nba-com/schedule-cdn/<season>/<stamp>.json` |
//! | stats `scoreboardv3` | `nba-com/scoreboard-v3/<date>/<stamp>.json` |
//! | stats `boxscoretraditionalv3` | `nba-com/boxscore-traditional-v3/<date>/game_<game_id>/<stamp>.json` |
//! | NBA official injury report (PDF) | `nba-com/injury-report/<date>/<HH><AM\|PM>/<stamp>.pdf` |
//! | balldontlie injuries | `ball-dont-lie/injuries/<date>/<stamp>.json` |
//! | Odds API events (current) | `odds-api/events/<date>/<stamp>.json` |
//! | Odds API events (historical) | `odds-api/events-history/<date>/<stamp>.json` |
//! | Odds API event odds (current) | `odds-api/player-props/<date>/<event_id>-<AWAY><HOME>/<stamp>-snap-<HHMM>.json` |
//! | Odds API event odds (historical) | `odds-api/player-props-history/<date>/<event_id>-<AWAY><HOME>/<stamp>-snap-<HHMM>.json` |
//!
//! A payload that fails its shape check is not landed: it goes to
//! [`rejected`] `rejected/<path>`, with the reason beside it in
//! [`rejected_reason`] `rejected/<path>.reason.txt`. No processor reads
//! under `rejected/`.
//!
//! [`LandingZone::put_new`]: propcast_platform::LandingZone::put_new

use chrono::{DateTime, NaiveDate, Timelike, Utc};
use propcast_core::date::Season;

/// The top folder of rejected payloads.
pub const REJECTED_PREFIX: &str = "rejected";

/// A fetch time as a file stamp: `20251105_170000`.
pub fn stamp(at: DateTime<Utc>) -> String {
    at.format("%Y%m%d_%H%M%S").to_string()
}

/// Reads a file stamp back (the first 15 characters of a file name).
pub fn parse_stamp(file_name: &str) -> Option<DateTime<Utc>> {
    let head = file_name.get(..15)?;
    chrono::NaiveDateTime::parse_from_str(head, "%Y%m%d_%H%M%S")
        .ok()
        .map(|t| t.and_utc())
}

pub fn player_boxscores(date: NaiveDate, at: DateTime<Utc>) -> String {
    format!(
        "{}/{}.json",
        crate::player_boxscores::folder(date),
        stamp(at)
    )
}

pub fn team_boxscores(date: NaiveDate, at: DateTime<Utc>) -> String {
    format!("{}/{}.json", crate::team_boxscores::folder(date), stamp(at))
}

pub fn schedule(season: Season, at: DateTime<Utc>) -> String {
    format!("{}/{}.json", crate::schedule::folder(season), stamp(at))
}

/// The folder of a date's `scoreboardv3` snapshots.
pub fn scoreboard_v3_folder(date: NaiveDate) -> String {
    format!("nba-com/scoreboard-v3/{date}")
}

pub fn scoreboard_v3(date: NaiveDate, at: DateTime<Utc>) -> String {
    format!("{}/{}.json", scoreboard_v3_folder(date), stamp(at))
}

/// The folder of a date's `boxscoretraditionalv3` payloads (one sub-folder
/// per game).
pub fn boxscore_traditional_v3_folder(date: NaiveDate) -> String {
    format!("nba-com/boxscore-traditional-v3/{date}")
}

pub fn boxscore_traditional_v3(date: NaiveDate, game_id: &str, at: DateTime<Utc>) -> String {
    format!(
        "{}/game_{game_id}/{}.json",
        boxscore_traditional_v3_folder(date),
        stamp(at)
    )
}

/// The folder of a date's official injury reports (one sub-folder per
/// report hour).
pub fn injury_report_folder(date: NaiveDate) -> String {
    format!("nba-com/injury-report/{date}")
}

/// The official report of `date` published at `hour24` ET (0–23), as the
/// NBA names it: `05PM`.
pub fn injury_report(date: NaiveDate, hour24: u32, at: DateTime<Utc>) -> String {
    format!(
        "{}/{}/{}.pdf",
        injury_report_folder(date),
        report_hour_label(hour24),
        stamp(at)
    )
}

/// `17` → `05PM`, `0` → `12AM`, `12` → `12PM`.
pub fn report_hour_label(hour24: u32) -> String {
    let period = if hour24 < 12 { "AM" } else { "PM" };
    let hour12 = match hour24 % 12 {
        0 => 12,
        h => h,
    };
    format!("{hour12:02}{period}")
}

/// `05PM` → `17`; `None` for anything else.
pub fn parse_report_hour(label: &str) -> Option<u32> {
    let (hour, period) = label.split_at_checked(2)?;
    let hour: u32 = hour.parse().ok().filter(|h| (1..=12).contains(h))?;
    match period {
        "AM" => Some(hour % 12),
        "PM" => Some(hour % 12 + 12),
        _ => None,
    }
}

pub fn bdl_injuries_folder(date: NaiveDate) -> String {
    format!("ball-dont-lie/injuries/{date}")
}

pub fn bdl_injuries(date: NaiveDate, at: DateTime<Utc>) -> String {
    format!("{}/{}.json", bdl_injuries_folder(date), stamp(at))
}

/// Current (`historical == false`) or historical Odds API events of a game
/// date (ET).
pub fn odds_events(date: NaiveDate, historical: bool, at: DateTime<Utc>) -> String {
    let kind = if historical {
        "events-history"
    } else {
        "events"
    };
    format!("odds-api/{kind}/{date}/{}.json", stamp(at))
}

/// The folder of a game date's player-prop snapshots, current or
/// historical.
pub fn player_props_folder(date: NaiveDate, historical: bool) -> String {
    if historical {
        crate::player_props::folder(date)
    } else {
        format!("odds-api/player-props/{date}")
    }
}

/// One event's odds snapshot: `<event_id>-<AWAY><HOME>/<stamp>-snap-<HHMM>`,
/// where `snapshot` is the time the odds are as of (the request time for
/// current odds, the API's `timestamp` for historical ones).
pub fn player_props(
    date: NaiveDate,
    historical: bool,
    event_id: &str,
    away: &str,
    home: &str,
    snapshot: DateTime<Utc>,
) -> String {
    format!(
        "{}/{event_id}-{away}{home}/{}-snap-{:02}{:02}.json",
        player_props_folder(date, historical),
        stamp(snapshot),
        snapshot.hour(),
        snapshot.minute()
    )
}

/// Where a rejected payload of `path` goes.
pub fn rejected(path: &str) -> String {
    format!("{REJECTED_PREFIX}/{}", path.trim_start_matches('/'))
}

/// Where the reason a payload of `path` was rejected goes.
pub fn rejected_reason(path: &str) -> String {
    format!("{}.reason.txt", rejected(path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 11, 1, 17, 0, 0).unwrap()
    }

    #[test]
    fn paths_match_the_shared_landing_zone() {
        let d = NaiveDate::from_ymd_opt(2025, 11, 1).unwrap();
        // A real file of ../shared/data/landing.
        assert_eq!(
            player_props(
                d,
                true,
                "1eb306bc928cde16b480fbf6493b53a6",
                "SAC",
                "MIL",
                at()
            ),
            "odds-api/player-props-history/2025-11-01/1eb306bc928cde16b480fbf6493b53a6-SACMIL/20251101_170000-snap-1700.json"
        );
        assert_eq!(
            odds_events(d, true, at()),
            "odds-api/events-history/2025-11-01/20251101_170000.json"
        );
        assert_eq!(
            player_boxscores(d, at()),
            "nba-com/player-boxscores/2025-11-01/20251101_170000.json"
        );
        assert_eq!(
            schedule(Season(2025), at()),
            "nba-com/schedule-cdn/2025-26/20251101_170000.json"
        );
        assert_eq!(parse_stamp("20251101_170000-snap-1700.json"), Some(at()));
        assert_eq!(
            rejected_reason("nba-com/scoreboard-v3/2025-11-01/20251101_170000.json"),
            "rejected/nba-com/scoreboard-v3/2025-11-01/20251101_170000.json.reason.txt"
        );
    }

    #[test]
    fn report_hours_round_trip() {
        for h in 0..24 {
            assert_eq!(parse_report_hour(&report_hour_label(h)), Some(h));
        }
        assert_eq!(report_hour_label(17), "05PM");
        assert_eq!(report_hour_label(0), "12AM");
        assert_eq!(parse_report_hour("13PM"), None);
    }
}
