//! `nba_raw.scoreboard` from stats `scoreboardv3`:
//! `nba-com/scoreboard-v3/<YYYY-MM-DD>/<YYYYMMDD_HHMMSS>.json`, the latest
//! loadable file of the date.
//!
//! One row per game: status, tip-off (`gameTimeUTC`), both teams and, once
//! the game has started (`gameStatus` 2 or 3), the scores. A payload whose
//! `scoreboard.gameDate` is not the folder's date is quarantined whole; a
//! game with a missing or wrong-typed field is quarantined as
//! `scoreboard.games[i]` and the other games are kept.

use crate::error::FileError;
use crate::json_fields::{FieldError, Obj};
use crate::landing_files;
use crate::layout;
use crate::parsed::Parsed;
use async_trait::async_trait;
use chrono::NaiveDate;
use propcast_core::tables::ScoreboardGame;
use propcast_core::{Table, TableDef};
use propcast_patterns::{Phase, ProcessContext, ProcessError, ProcessOutput, Processor};
use propcast_platform::WarehouseExt;
use serde_json::Value;
use std::collections::HashMap;

/// Parses one `scoreboardv3` payload for `date`. Rows are sorted by game id;
/// a game id seen twice keeps the first and quarantines the repeat.
pub fn parse_scoreboard(
    bytes: &[u8],
    path: &str,
    date: NaiveDate,
) -> Result<Parsed<ScoreboardGame>, FileError> {
    let root: Value =
        serde_json::from_slice(bytes).map_err(|e| FileError::from_json(path, bytes, &e))?;
    let file_err = |error: FieldError| FileError::Field {
        path: path.to_string(),
        record: "scoreboard".to_string(),
        error: Box::new(error),
        excerpt: String::new(),
    };
    let board = Obj::new("file", &root)
        .and_then(|o| o.object("scoreboard"))
        .map_err(file_err)?;
    let board_date = board.date("gameDate").map_err(file_err)?;
    if board_date != date {
        return Err(FileError::Inconsistent {
            path: path.to_string(),
            record: "scoreboard".to_string(),
            field: "gameDate".to_string(),
            reason: format!("the payload is of {board_date}, the folder of {date}"),
            excerpt: board_date.to_string(),
        });
    }
    let games = match board.get("games") {
        Some(Value::Array(games)) => games,
        other => {
            return Err(file_err(FieldError::new(
                "scoreboard.games",
                "array",
                other.map_or("no value (field missing)".to_string(), |v| {
                    crate::json_fields::describe(v)
                }),
            )));
        }
    };
    let mut out = Parsed::default();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (i, game) in games.iter().enumerate() {
        let record = format!("scoreboard.games[{i}]");
        match game_row(game, path, date) {
            Ok(row) => {
                if let Some(first) = seen.get(&row.game_id) {
                    out.quarantine.add(
                        path,
                        &record,
                        "gameId",
                        format!("duplicate of scoreboard.games[{first}] (same gameId)"),
                        row.game_id.clone(),
                    );
                } else {
                    seen.insert(row.game_id.clone(), i);
                    out.rows.push(row);
                }
            }
            Err(e) => out
                .quarantine
                .add(path, &record, &e.field, e.reason(), excerpt(game)),
        }
    }
    out.rows.sort_by(|a, b| a.game_id.cmp(&b.game_id));
    Ok(out)
}

/// The game header (without leaders and odds), for an excerpt.
fn excerpt(game: &Value) -> String {
    match game {
        Value::Object(map) => {
            let keep: serde_json::Map<String, Value> = map
                .iter()
                .filter(|(k, _)| {
                    matches!(
                        k.as_str(),
                        "gameId" | "gameCode" | "gameStatus" | "gameStatusText" | "gameTimeUTC"
                    )
                })
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            Value::Object(keep).to_string()
        }
        other => crate::json_fields::describe(other),
    }
}

fn game_row(game: &Value, path: &str, date: NaiveDate) -> Result<ScoreboardGame, FieldError> {
    let g = Obj::new("game", game)?;
    let game_status = g.int("gameStatus")?;
    if !(1..=3).contains(&game_status) {
        return Err(FieldError::new(
            "gameStatus",
            "1, 2 or 3",
            format!("integer {game_status}"),
        ));
    }
    let tipoff_time = match g.opt_string("gameTimeUTC")? {
        Some(_) => Some(g.instant("gameTimeUTC")?),
        None => None,
    };
    let home = g.object("homeTeam")?;
    let away = g.object("awayTeam")?;
    let started = game_status >= 2;
    let score = |team: &Obj<'_>| -> Result<Option<i64>, FieldError> {
        if started {
            team.int("score").map(Some)
        } else {
            Ok(None)
        }
    };
    Ok(ScoreboardGame {
        game_date: date,
        game_id: g.non_empty("gameId")?.to_string(),
        game_code: g.non_empty("gameCode")?.to_string(),
        game_status,
        game_status_text: g.string("gameStatusText")?.trim().to_string(),
        tipoff_time,
        home_team_id: home.int("teamId")?,
        home_team_abbr: tricode(&home)?,
        away_team_id: away.int("teamId")?,
        away_team_abbr: tricode(&away)?,
        home_score: score(&home)?,
        away_score: score(&away)?,
        source_file: path.to_string(),
    })
}

/// A team's `teamTricode`, which must be one of the 30.
pub(crate) fn tricode(team: &Obj<'_>) -> Result<String, FieldError> {
    let code = team.non_empty("teamTricode")?;
    if crate::teams::is_tricode(code) {
        Ok(code.to_string())
    } else {
        Err(FieldError::new(
            team.name("teamTricode"),
            "an NBA team tricode",
            format!("string {code:?}"),
        ))
    }
}

/// Loads the latest loadable `scoreboardv3` payload of a date into
/// `nba_raw.scoreboard`, replacing the date's partition.
#[derive(Debug, Default, Clone, Copy)]
pub struct ScoreboardProcessor;

#[async_trait]
impl Processor for ScoreboardProcessor {
    fn landing_inputs(&self, date: NaiveDate) -> Vec<String> {
        vec![layout::scoreboard_v3_folder(date)]
    }

    fn name(&self) -> &'static str {
        "scoreboard"
    }

    fn phase(&self) -> Phase {
        Phase::Raw
    }

    fn outputs(&self) -> Vec<TableDef> {
        vec![ScoreboardGame::DEF]
    }

    async fn process(&self, ctx: &ProcessContext) -> Result<ProcessOutput, ProcessError> {
        let date = ctx.game_date;
        let files =
            landing_files::json_files(&*ctx.landing, &layout::scoreboard_v3_folder(date)).await?;
        let mut output = ProcessOutput::default();
        let loaded = landing_files::latest_loadable(
            &*ctx.landing,
            &files,
            &mut output.quarantine,
            |bytes, path| parse_scoreboard(bytes, path, date),
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
            .replace_rows::<ScoreboardGame>(date, &[], &rows)
            .await?;
        output.wrote(&ScoreboardGame::DEF, rows.len() as u64);
        tracing::debug!(processor = self.name(), game_date = %date, rows = rows.len(), "scoreboard loaded");
        Ok(output)
    }
}
