//! `nba_raw.player_boxscores` from stats `leaguegamelog` (PlayerOrTeam=P):
//! `nba-com/player-boxscores/<YYYY-MM-DD>/<YYYYMMDD_HHMMSS>.json`, the
//! latest file of the date.

use crate::error::FileError;
use crate::json_fields::FieldError;
use crate::landing_files;
use crate::leaguegamelog::{GameLog, Row};
use crate::parsed::Parsed;
use async_trait::async_trait;
use chrono::NaiveDate;
use propcast_core::normalize_name_for_lookup;
use propcast_core::tables::PlayerBoxscore;
use propcast_core::{Table, TableDef};
use propcast_patterns::{Phase, ProcessContext, ProcessError, ProcessOutput, Processor};
use propcast_platform::WarehouseExt;
use std::collections::HashMap;

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
    let log = GameLog::parse(bytes, path)?;
    let columns = log.columns(path, COLUMNS)?;
    let mut out = Parsed::default();
    let mut seen: HashMap<(String, i64), usize> = HashMap::new();
    for (i, value) in log.rows().iter().enumerate() {
        let parsed = columns
            .row(value)
            .and_then(|row| player_row(&row, path, date));
        match parsed {
            Ok((row, from_other_side)) => {
                if from_other_side {
                    out.count("matchup_from_other_side", 1);
                }
                let key = (row.game_id.clone(), row.player_id);
                if let Some(first) = seen.get(&key) {
                    out.quarantine.add(
                        path,
                        log.record(i),
                        "PLAYER_ID",
                        format!(
                            "duplicate of {} (same GAME_ID and PLAYER_ID)",
                            log.record(*first)
                        ),
                        value.to_string(),
                    );
                } else {
                    seen.insert(key, i);
                    out.rows.push(row);
                }
            }
            Err(e) => {
                out.quarantine
                    .add(path, log.record(i), &e.field, e.reason(), value.to_string())
            }
        }
    }
    out.rows.sort_by(|a, b| {
        a.game_id
            .cmp(&b.game_id)
            .then(a.player_id.cmp(&b.player_id))
    });
    Ok(out)
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
    let parsed = PlayerBoxscore {
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
        wl: row.opt_string("WL")?.map(str::to_string),
        minutes: row.minutes("MIN")?,
        fgm: row.int("FGM")?,
        fga: row.int("FGA")?,
        fg3m: row.int("FG3M")?,
        fg3a: row.int("FG3A")?,
        ftm: row.int("FTM")?,
        fta: row.int("FTA")?,
        oreb: row.int("OREB")?,
        dreb: row.int("DREB")?,
        reb: row.int("REB")?,
        ast: row.int("AST")?,
        stl: row.int("STL")?,
        blk: row.int("BLK")?,
        tov: row.int("TOV")?,
        pf: row.int("PF")?,
        pts: row.int("PTS")?,
        plus_minus: row.opt_int("PLUS_MINUS")?,
        source_file: path.to_string(),
    };
    Ok((parsed, from_other_side))
}

/// Loads a date's player box scores into `nba_raw.player_boxscores`.
#[derive(Debug, Default)]
pub struct PlayerBoxscoresProcessor;

#[async_trait]
impl Processor for PlayerBoxscoresProcessor {
    fn landing_inputs(&self, date: NaiveDate) -> Vec<String> {
        vec![folder(date)]
    }

    fn name(&self) -> &'static str {
        "player_boxscores"
    }

    fn phase(&self) -> Phase {
        Phase::Raw
    }

    fn outputs(&self) -> Vec<TableDef> {
        vec![PlayerBoxscore::DEF]
    }

    async fn process(&self, ctx: &ProcessContext) -> Result<ProcessOutput, ProcessError> {
        let date = ctx.game_date;
        let files = landing_files::json_files(&*ctx.landing, &folder(date)).await?;
        let mut output = ProcessOutput::default();
        let loaded = landing_files::latest_loadable(
            &*ctx.landing,
            &files,
            &mut output.quarantine,
            |bytes, path| parse_player_boxscores(bytes, path, date),
        )
        .await?;
        let rows = match loaded {
            Some((_, parsed)) => {
                output.quarantine.extend(parsed.quarantine);
                parsed.rows
            }
            None => Vec::new(),
        };
        output.no_data = files.is_empty() || (rows.is_empty() && output.quarantine.is_empty());
        ctx.warehouse
            .replace_rows::<PlayerBoxscore>(date, &[], &rows)
            .await?;
        output.wrote(&PlayerBoxscore::DEF, rows.len() as u64);
        tracing::debug!(processor = self.name(), game_date = %date, rows = rows.len(), "player box scores loaded");
        Ok(output)
    }
}
