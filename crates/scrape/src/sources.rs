//! The sources phase 1 scrapes, where each is asked, and with what: pure
//! request building, so every URL and parameter is checked by a unit test.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use propcast_core::date::Season;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use std::fmt;
use std::str::FromStr;

/// One source; its run-history processor is `scrape_<name>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Source {
    /// stats `leaguegamelog`, player rows.
    PlayerBoxscores,
    /// stats `leaguegamelog`, team rows.
    TeamBoxscores,
    /// CDN `scheduleLeagueV2`, the whole season.
    Schedule,
    /// stats `scoreboardv3` of the date.
    ScoreboardV3,
    /// stats `boxscoretraditionalv3` of every game the scoreboard lists.
    BoxscoreTraditionalV3,
    /// The NBA's official injury report (PDF).
    InjuryReport,
    /// balldontlie's injuries (needs `BDL_API_KEY`).
    BdlInjuries,
    /// The Odds API: the date's events and every event's player props
    /// (needs `ODDS_API_KEY`).
    Odds,
}

impl Source {
    pub const ALL: [Source; 8] = [
        Source::Schedule,
        Source::PlayerBoxscores,
        Source::TeamBoxscores,
        Source::ScoreboardV3,
        Source::BoxscoreTraditionalV3,
        Source::InjuryReport,
        Source::BdlInjuries,
        Source::Odds,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Source::PlayerBoxscores => "player_boxscores",
            Source::TeamBoxscores => "team_boxscores",
            Source::Schedule => "schedule",
            Source::ScoreboardV3 => "scoreboard_v3",
            Source::BoxscoreTraditionalV3 => "boxscore_traditional_v3",
            Source::InjuryReport => "injury_report",
            Source::BdlInjuries => "bdl_injuries",
            Source::Odds => "odds",
        }
    }

    /// The run-history processor name.
    pub fn processor(self) -> String {
        format!("scrape_{}", self.name())
    }

    /// The environment variable holding the source's API key, if it needs
    /// one.
    pub fn key_variable(self) -> Option<&'static str> {
        match self {
            Source::BdlInjuries => Some(BDL_KEY_VARIABLE),
            Source::Odds => Some(ODDS_KEY_VARIABLE),
            _ => None,
        }
    }
}

pub const ODDS_KEY_VARIABLE: &str = "ODDS_API_KEY";
pub const BDL_KEY_VARIABLE: &str = "BDL_API_KEY";

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A source name that is not one of [`Source::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown source {0:?}, expected one of: schedule, player_boxscores, team_boxscores, scoreboard_v3, boxscore_traditional_v3, injury_report, bdl_injuries, odds"
)]
pub struct UnknownSource(pub String);

impl FromStr for Source {
    type Err = UnknownSource;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        Source::ALL
            .into_iter()
            .find(|src| src.name() == s || src.processor() == s)
            .ok_or_else(|| UnknownSource(s.to_string()))
    }
}

/// The base URL of each host, overridable (a replay server in tests, a
/// proxy in production).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    pub stats: String,
    pub cdn: String,
    pub odds: String,
    pub injury: String,
    pub bdl: String,
}

impl Default for Endpoints {
    fn default() -> Self {
        Endpoints {
            stats: "https://stats.nba.com/stats".into(),
            cdn: "https://cdn.nba.com".into(),
            odds: "https://api.the-odds-api.com".into(),
            injury: "https://ak-static.cms.nba.com".into(),
            bdl: "https://api.balldontlie.io".into(),
        }
    }
}

fn join(base: &str, path: &str) -> String {
    format!(
        "{}/{}",
        base.trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}

/// A GET to make: URL and query parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub url: String,
    pub query: Vec<(&'static str, String)>,
}

/// The `SeasonType` of a `leaguegamelog` request: the endpoint answers
/// only the rows of the type asked, so a playoff date asked as regular
/// season comes back empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SeasonType {
    #[default]
    Regular,
    PlayIn,
    Playoffs,
    PreSeason,
}

impl SeasonType {
    /// The value the stats API takes.
    pub fn as_param(self) -> &'static str {
        match self {
            SeasonType::Regular => "Regular Season",
            SeasonType::PlayIn => "PlayIn",
            SeasonType::Playoffs => "Playoffs",
            SeasonType::PreSeason => "Pre Season",
        }
    }
}

/// A season type that is not one of [`SeasonType`]'s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown season type {0:?}, expected regular, playin, playoffs or preseason")]
pub struct UnknownSeasonType(pub String);

impl FromStr for SeasonType {
    type Err = UnknownSeasonType;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let key: String = s
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_lowercase())
            .collect();
        match key.as_str() {
            "regular" | "regularseason" => Ok(SeasonType::Regular),
            "playin" => Ok(SeasonType::PlayIn),
            "playoffs" => Ok(SeasonType::Playoffs),
            "preseason" => Ok(SeasonType::PreSeason),
            _ => Err(UnknownSeasonType(s.to_string())),
        }
    }
}

/// `leaguegamelog` player (`P`) or team (`T`) rows of one date.
pub fn league_game_log(
    ep: &Endpoints,
    date: NaiveDate,
    player_or_team: char,
    season_type: SeasonType,
) -> Request {
    let us = date.format("%m/%d/%Y").to_string();
    Request {
        url: join(&ep.stats, "leaguegamelog"),
        query: vec![
            ("Counter", "1000".into()),
            ("DateFrom", us.clone()),
            ("DateTo", us),
            ("Direction", "DESC".into()),
            ("LeagueID", "00".into()),
            ("PlayerOrTeam", player_or_team.to_string()),
            ("Season", Season::of(date).to_string()),
            ("SeasonType", season_type.as_param().into()),
            ("Sorter", "DATE".into()),
        ],
    }
}

pub fn scoreboard_v3(ep: &Endpoints, date: NaiveDate) -> Request {
    Request {
        url: join(&ep.stats, "scoreboardv3"),
        query: vec![("GameDate", date.to_string()), ("LeagueID", "00".into())],
    }
}

pub fn boxscore_traditional_v3(ep: &Endpoints, game_id: &str) -> Request {
    Request {
        url: join(&ep.stats, "boxscoretraditionalv3"),
        query: vec![
            ("EndPeriod", "0".into()),
            ("EndRange", "0".into()),
            ("GameID", game_id.to_string()),
            ("RangeType", "0".into()),
            ("StartPeriod", "0".into()),
            ("StartRange", "0".into()),
        ],
    }
}

pub fn schedule(ep: &Endpoints) -> Request {
    Request {
        url: join(&ep.cdn, "static/json/staticData/scheduleLeagueV2.json"),
        query: vec![],
    }
}

/// The official report of `date` published at `hour24` ET.
pub fn injury_report(ep: &Endpoints, date: NaiveDate, hour24: u32) -> Request {
    Request {
        url: join(
            &ep.injury,
            &format!(
                "referee/injury/Injury-Report_{date}_{}.pdf",
                propcast_raw::layout::report_hour_label(hour24)
            ),
        ),
        query: vec![],
    }
}

/// One page of balldontlie's injuries (`cursor` from the previous page's
/// `meta.next_cursor`).
pub fn bdl_injuries(ep: &Endpoints, cursor: Option<&str>) -> Request {
    let mut query = vec![("per_page", "100".to_string())];
    if let Some(c) = cursor {
        query.push(("cursor", c.to_string()));
    }
    Request {
        url: join(&ep.bdl, "v1/player_injuries"),
        query,
    }
}

/// The player markets asked for every event, in one request.
pub const PLAYER_MARKETS: [&str; 7] = [
    "player_points",
    "player_rebounds",
    "player_assists",
    "player_threes",
    "player_points_rebounds_assists",
    "player_blocks",
    "player_steals",
];

const SPORT: &str = "basketball_nba";

/// The Odds API's free endpoint (`/v4/sports` costs no quota): asked
/// first to read the quota before spending any.
pub fn odds_quota_probe(ep: &Endpoints, key: &str) -> Request {
    Request {
        url: join(&ep.odds, "v4/sports"),
        query: vec![("apiKey", key.to_string())],
    }
}

/// The events list, current or as of `at` (historical).
pub fn odds_events(ep: &Endpoints, key: &str, historical: Option<DateTime<Utc>>) -> Request {
    let mut query = vec![("apiKey", key.to_string())];
    let url = match historical {
        Some(at) => {
            query.push(("date", odds_time(at)));
            join(&ep.odds, &format!("v4/historical/sports/{SPORT}/events"))
        }
        None => join(&ep.odds, &format!("v4/sports/{SPORT}/events")),
    };
    Request { url, query }
}

/// One event's player props, current or as of `at` (historical).
pub fn event_odds(
    ep: &Endpoints,
    key: &str,
    event_id: &str,
    historical: Option<DateTime<Utc>>,
) -> Request {
    let mut query = vec![
        ("apiKey", key.to_string()),
        ("regions", "us".into()),
        ("markets", PLAYER_MARKETS.join(",")),
        ("oddsFormat", "american".into()),
    ];
    let url = match historical {
        Some(at) => {
            query.push(("date", odds_time(at)));
            join(
                &ep.odds,
                &format!("v4/historical/sports/{SPORT}/events/{event_id}/odds"),
            )
        }
        None => join(
            &ep.odds,
            &format!("v4/sports/{SPORT}/events/{event_id}/odds"),
        ),
    };
    Request { url, query }
}

/// The Odds API's time format: `2025-11-01T17:00:00Z`.
pub fn odds_time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// What stats.nba.com wants to see before it answers: a browser's headers
/// and its own origin markers; without them it hangs or refuses.
pub fn stats_headers() -> HeaderMap {
    let mut h = HeaderMap::new();
    let pairs = [
        (
            "user-agent",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
        ),
        ("accept", "application/json, text/plain, */*"),
        ("accept-language", "en-US,en;q=0.9"),
        ("referer", "https://www.nba.com/"),
        ("origin", "https://www.nba.com"),
        ("x-nba-stats-origin", "stats"),
        ("x-nba-stats-token", "true"),
    ];
    for (name, value) in pairs {
        h.insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
    h
}

/// A browser user agent for the CDN and the injury-report host.
pub fn browser_headers() -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(
        HeaderName::from_static("user-agent"),
        HeaderValue::from_static(
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
        ),
    );
    h
}

/// balldontlie's authentication: the key itself in `Authorization`.
pub fn bdl_headers(key: &str) -> Result<HeaderMap, String> {
    let mut h = HeaderMap::new();
    let value = HeaderValue::from_str(key.trim()).map_err(|_| {
        format!(
            "{BDL_KEY_VARIABLE} holds characters that cannot go in an HTTP header: check its value"
        )
    })?;
    h.insert(reqwest::header::AUTHORIZATION, value);
    Ok(h)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn d() -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 11, 1).unwrap()
    }

    fn q(r: &Request, name: &str) -> String {
        r.query
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no {name} in {r:?}"))
    }

    #[test]
    fn stats_requests_carry_the_parameters_the_api_needs() {
        let ep = Endpoints::default();
        let r = league_game_log(&ep, d(), 'P', SeasonType::Regular);
        assert_eq!(r.url, "https://stats.nba.com/stats/leaguegamelog");
        assert_eq!(q(&r, "DateFrom"), "11/01/2025");
        assert_eq!(q(&r, "DateTo"), "11/01/2025");
        assert_eq!(q(&r, "Season"), "2025-26");
        assert_eq!(q(&r, "SeasonType"), "Regular Season");
        assert_eq!(q(&r, "PlayerOrTeam"), "P");
        assert_eq!(q(&r, "Counter"), "1000");
        assert_eq!(
            q(
                &league_game_log(&ep, d(), 'T', SeasonType::Regular),
                "PlayerOrTeam"
            ),
            "T"
        );
        // January belongs to the season that started the August before.
        let jan = NaiveDate::from_ymd_opt(2025, 1, 15).unwrap();
        assert_eq!(
            q(
                &league_game_log(&ep, jan, 'P', SeasonType::Regular),
                "Season"
            ),
            "2024-25"
        );
        let playoffs = league_game_log(&ep, d(), 'P', "Playoffs".parse().unwrap());
        assert_eq!(q(&playoffs, "SeasonType"), "Playoffs");
        assert_eq!("play-in".parse(), Ok(SeasonType::PlayIn));
        assert_eq!("Regular Season".parse(), Ok(SeasonType::Regular));
        assert_eq!(SeasonType::PreSeason.as_param(), "Pre Season");
        assert!("summer".parse::<SeasonType>().is_err());
        let s = scoreboard_v3(&ep, d());
        assert_eq!(s.url, "https://stats.nba.com/stats/scoreboardv3");
        assert_eq!(q(&s, "GameDate"), "2025-11-01");
        let b = boxscore_traditional_v3(&ep, "0022500165");
        assert_eq!(q(&b, "GameID"), "0022500165");
        assert_eq!(q(&b, "EndPeriod"), "0");
        let h = stats_headers();
        assert_eq!(h["x-nba-stats-token"], "true");
        assert_eq!(h["referer"], "https://www.nba.com/");
    }

    #[test]
    fn other_hosts_and_overrides() {
        let ep = Endpoints {
            cdn: "http://127.0.0.1:9/".into(),
            injury: "http://127.0.0.1:9".into(),
            ..Endpoints::default()
        };
        assert_eq!(
            schedule(&ep).url,
            "http://127.0.0.1:9/static/json/staticData/scheduleLeagueV2.json"
        );
        assert_eq!(
            injury_report(&ep, d(), 17).url,
            "http://127.0.0.1:9/referee/injury/Injury-Report_2025-11-01_05PM.pdf"
        );
        let b = bdl_injuries(&Endpoints::default(), Some("4082934"));
        assert_eq!(b.url, "https://api.balldontlie.io/v1/player_injuries");
        assert_eq!(q(&b, "cursor"), "4082934");
        assert_eq!(q(&b, "per_page"), "100");
        assert!(bdl_headers("bad\nkey").is_err());
    }

    #[test]
    fn odds_requests_current_and_historical() {
        let ep = Endpoints::default();
        let at = Utc.with_ymd_and_hms(2025, 11, 1, 17, 0, 0).unwrap();
        let e = odds_events(&ep, "k", None);
        assert_eq!(
            e.url,
            "https://api.the-odds-api.com/v4/sports/basketball_nba/events"
        );
        let e = odds_events(&ep, "k", Some(at));
        assert_eq!(
            e.url,
            "https://api.the-odds-api.com/v4/historical/sports/basketball_nba/events"
        );
        assert_eq!(q(&e, "date"), "2025-11-01T17:00:00Z");
        let o = event_odds(&ep, "k", "abc", Some(at));
        assert_eq!(
            o.url,
            "https://api.the-odds-api.com/v4/historical/sports/basketball_nba/events/abc/odds"
        );
        assert_eq!(q(&o, "markets").split(',').count(), 7);
        assert_eq!(q(&o, "oddsFormat"), "american");
        assert_eq!(q(&o, "regions"), "us");
        assert_eq!(
            event_odds(&ep, "k", "abc", None).url,
            "https://api.the-odds-api.com/v4/sports/basketball_nba/events/abc/odds"
        );
    }

    #[test]
    fn source_names_round_trip() {
        for s in Source::ALL {
            assert_eq!(s.name().parse::<Source>(), Ok(s));
            assert_eq!(s.processor().parse::<Source>(), Ok(s));
        }
        assert!("boxscores".parse::<Source>().is_err());
        assert_eq!(Source::Odds.key_variable(), Some("ODDS_API_KEY"));
        assert_eq!(Source::Schedule.key_variable(), None);
    }
}
