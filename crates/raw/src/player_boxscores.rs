//! `nba_raw.player_boxscores` from stats `leaguegamelog` (PlayerOrTeam=P):
//! `nba-com/player-boxscores/<YYYY-MM-DD>/<YYYYMMDD_HHMMSS>.json`, the
//! latest file of the date.

use crate::boxscores::{GameLogProcessor, GameLogRow, game_log_row, parse_game_log};
use crate::error::FileError;
use crate::json_fields::FieldError;
use crate::leaguegamelog::{Columns, GameLog, Row};
use crate::parsed::Parsed;
use chrono::NaiveDate;
use propcast_core::normalize_name_for_lookup;
use propcast_core::tables::PlayerBoxscore;
use serde_json::Value;

/// The landing folder of a date's player box scores.
pub fn folder(date: NaiveDate) -> String {
    format!("nba-com/player-boxscores/{date}")
}

const COLUMNS: [&str; 26] = [
    "SEASON_ID",
    "PLAYER_ID",
    "PLAYER_NAME",
    "TEAM_ID",
    "TEAM_ABBREVIATION",
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

/// Parses one player-mode `leaguegamelog` payload for `date`. A row with a
/// missing or wrong-typed field, or dated another day, is quarantined; the
/// other rows are kept. Rows are sorted by (game_id, player_id).
pub fn parse_player_boxscores(
    bytes: &[u8],
    path: &str,
    date: NaiveDate,
) -> Result<Parsed<PlayerBoxscore>, FileError> {
    parse_game_log::<PlayerBoxscore>(bytes, path, date)
}

impl GameLogRow for PlayerBoxscore {
    const PROCESSOR: &'static str = "player_boxscores";
    const KEY_HEADER: &'static str = "PLAYER_ID";
    type Key = (String, i64);
    type Columns = Columns<26>;

    fn folder(date: NaiveDate) -> String {
        folder(date)
    }

    fn key(&self) -> Self::Key {
        (self.game_id.clone(), self.player_id)
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
            .and_then(|row| player_row(&row, path, date))
    }
}

fn player_row<const N: usize>(
    row: &Row<'_, N>,
    path: &str,
    date: NaiveDate,
) -> Result<(PlayerBoxscore, bool), FieldError> {
    let game_date = row.date("GAME_DATE")?;
    if game_date != date {
        return Err(FieldError::new(
            "GAME_DATE",
            format!("the date of the folder ({date})"),
            game_date.to_string(),
        ));
    }
    let (_, season) = row.season_id("SEASON_ID")?;
    let team_abbr = row.non_empty("TEAM_ABBREVIATION")?.to_string();
    let matchup = row.matchup("MATCHUP", &team_abbr)?;
    let from_other_side = matchup.from_other_side;
    let player_name = row.non_empty("PLAYER_NAME")?.to_string();
    let parsed = game_log_row!(PlayerBoxscore, row, path, {
        game_date,
        game_id: row.game_id("GAME_ID")?,
        season,
        player_id: row.int("PLAYER_ID")?,
        player_lookup: normalize_name_for_lookup(&player_name),
        player_name,
        team_id: row.int("TEAM_ID")?,
        team_abbr,
        opponent_abbr: matchup.opponent,
        is_home: matchup.is_home,
    });
    Ok((parsed, from_other_side))
}

/// Loads a date's player box scores into `nba_raw.player_boxscores`.
pub type PlayerBoxscoresProcessor = GameLogProcessor<PlayerBoxscore>;

/// The processor's value, so it is named like a unit struct.
#[allow(non_upper_case_globals)]
pub const PlayerBoxscoresProcessor: PlayerBoxscoresProcessor = GameLogProcessor::new();
