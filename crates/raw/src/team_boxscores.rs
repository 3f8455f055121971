//! `nba_raw.team_boxscores` from stats `leaguegamelog` (PlayerOrTeam=T):
//! `nba-com/team-boxscores/<YYYY-MM-DD>/<YYYYMMDD_HHMMSS>.json`, the latest
//! file of the date.

use crate::boxscores::{GameLogProcessor, GameLogRow, game_log_row, parse_game_log};
use crate::error::FileError;
use crate::json_fields::FieldError;
use crate::leaguegamelog::season_type_of_digit;
use crate::leaguegamelog::{Columns, GameLog, Row};
use crate::parsed::Parsed;
use chrono::NaiveDate;
use propcast_core::tables::TeamBoxscore;
use serde_json::Value;

/// The landing folder of a date's team box scores.
pub fn folder(date: NaiveDate) -> String {
    format!("nba-com/team-boxscores/{date}")
}

const COLUMNS: [&str; 25] = [
    "SEASON_ID",
    "TEAM_ID",
    "TEAM_ABBREVIATION",
    "TEAM_NAME",
    "GAME_ID",
    "GAME_DATE",
    "MATCHUP",
    "WL",
    "MIN",
    "FGM",
    "FGA",
    "FG3M",
    "FG3A",
    "FTM",
    "FTA",
    "OREB",
    "DREB",
    "REB",
    "AST",
    "STL",
    "BLK",
    "TOV",
    "PF",
    "PTS",
    "PLUS_MINUS",
];

/// Parses one team-mode `leaguegamelog` payload for `date`. A row with a
/// missing or wrong-typed field, or dated another day, is quarantined; the
/// other rows are kept. Rows are sorted by (game_id, team_abbr).
pub fn parse_team_boxscores(
    bytes: &[u8],
    path: &str,
    date: NaiveDate,
) -> Result<Parsed<TeamBoxscore>, FileError> {
    parse_game_log::<TeamBoxscore>(bytes, path, date)
}

impl GameLogRow for TeamBoxscore {
    const PROCESSOR: &'static str = "team_boxscores";
    const KEY_HEADER: &'static str = "TEAM_ABBREVIATION";
    type Key = (String, String);
    type Columns = Columns<25>;

    fn folder(date: NaiveDate) -> String {
        folder(date)
    }

    fn key(&self) -> Self::Key {
        (self.game_id.clone(), self.team_abbr.clone())
    }

    fn columns(log: &GameLog, path: &str) -> Result<Self::Columns, FileError> {
        log.columns(path, COLUMNS)
    }

    fn parse_row(
        columns: &Self::Columns,
        value: &Value,
        path: &str,
        date: NaiveDate,
    ) -> Result<(Self, bool), FieldError> {
        columns
            .row(value)
            .and_then(|row| team_row(&row, path, date))
    }
}

fn team_row<const N: usize>(
    row: &Row<'_, N>,
    path: &str,
    date: NaiveDate,
) -> Result<(TeamBoxscore, bool), FieldError> {
    let game_date = row.date("GAME_DATE")?;
    if game_date != date {
        return Err(FieldError::new(
            "GAME_DATE",
            format!("the date of the folder ({date})"),
            game_date.to_string(),
        ));
    }
    let (kind, season) = row.season_id("SEASON_ID")?;
    let season_type = season_type_of_digit(kind).ok_or_else(|| {
        FieldError::new(
            "SEASON_ID",
            "season type digit 1-6",
            format!("digit {kind}"),
        )
    })?;
    let team_abbr = row.non_empty("TEAM_ABBREVIATION")?.to_string();
    let matchup = row.matchup("MATCHUP", &team_abbr)?;
    let from_other_side = matchup.from_other_side;
    let parsed = game_log_row!(TeamBoxscore, row, path, {
        game_date,
        game_id: row.game_id("GAME_ID")?,
        season,
        season_type: season_type.to_string(),
        team_id: row.int("TEAM_ID")?,
        team_abbr,
        team_name: row.non_empty("TEAM_NAME")?.to_string(),
        opponent_abbr: matchup.opponent,
        is_home: matchup.is_home,
    });
    Ok((parsed, from_other_side))
}

/// Loads a date's team box scores into `nba_raw.team_boxscores`.
pub type TeamBoxscoresProcessor = GameLogProcessor<TeamBoxscore>;

/// The processor's value, so it is named like a unit struct.
#[allow(non_upper_case_globals)]
pub const TeamBoxscoresProcessor: TeamBoxscoresProcessor = GameLogProcessor::new();
