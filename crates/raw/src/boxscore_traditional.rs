//! `nba_raw.boxscore_traditional` from stats `boxscoretraditionalv3`:
//! `nba-com/boxscore-traditional-v3/<YYYY-MM-DD>/game_<game_id>/<YYYYMMDD_HHMMSS>.json`,
//! for each game the latest loadable file.
//!
//! Every player of both teams' `players` lists is a row, those who did not
//! play too: `is_starter` is a non-empty `position`, `dnp_reason` a
//! non-empty `comment` (NULL when he played), minutes the `"MM:SS"` of his
//! statistics (0 when empty, as for a DNP). A team header with a missing
//! field, or a payload whose `gameId` is not its folder's, quarantines the
//! file; a player record with a missing or wrong-typed field is quarantined
//! as `boxScoreTraditional.homeTeam.players[3]` and the others are kept.

use crate::error::FileError;
use crate::json_fields::{self, FieldError, Obj};
use crate::landing_files;
use crate::layout;
use crate::parsed::Parsed;
use async_trait::async_trait;
use chrono::NaiveDate;
use propcast_core::normalize_name_for_lookup;
use propcast_core::tables::BoxscoreTraditionalPlayer;
use propcast_core::{Table, TableDef};
use propcast_patterns::{Phase, ProcessContext, ProcessError, ProcessOutput, Processor};
use propcast_platform::{LandingObject, WarehouseExt};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

const ROOT: &str = "boxScoreTraditional";

/// The game id of a payload path `.../game_<id>/<stamp>.json`.
pub fn game_folder_id(path: &str) -> Option<&str> {
    let mut segments = path.rsplit('/');
    segments.next()?;
    segments
        .next()?
        .strip_prefix("game_")
        .filter(|id| !id.is_empty())
}

/// Parses one `boxscoretraditionalv3` payload of a game on `date`. Rows are
/// sorted by (game_id, player_id); a player listed twice keeps the first
/// and quarantines the repeat.
pub fn parse_boxscore_traditional(
    bytes: &[u8],
    path: &str,
    date: NaiveDate,
) -> Result<Parsed<BoxscoreTraditionalPlayer>, FileError> {
    let root: Value =
        serde_json::from_slice(bytes).map_err(|e| FileError::from_json(path, bytes, &e))?;
    let file_err = |record: &str, error: FieldError| FileError::Field {
        path: path.to_string(),
        record: record.to_string(),
        error: Box::new(error),
        excerpt: String::new(),
    };
    let box_score = Obj::new("file", &root)
        .and_then(|o| o.object(ROOT))
        .map_err(|e| file_err("file", e))?;
    let game_id = box_score
        .non_empty("gameId")
        .map_err(|e| file_err(ROOT, e))?
        .to_string();
    if let Some(folder_id) = game_folder_id(path)
        && folder_id != game_id
    {
        return Err(FileError::Inconsistent {
            path: path.to_string(),
            record: ROOT.to_string(),
            field: "gameId".to_string(),
            reason: format!("the payload is game {game_id}, its folder game_{folder_id}"),
            excerpt: game_id,
        });
    }
    let mut out = Parsed::default();
    let mut seen: HashMap<i64, String> = HashMap::new();
    for (team_key, is_home) in [("homeTeam", true), ("awayTeam", false)] {
        let team_record = format!("{ROOT}.{team_key}");
        let team = box_score
            .object(team_key)
            .map_err(|e| file_err(&team_record, e))?;
        let team_id = team.int("teamId").map_err(|e| file_err(&team_record, e))?;
        let team_abbr = crate::scoreboard::tricode(&team).map_err(|e| file_err(&team_record, e))?;
        let players = match team.get("players") {
            Some(Value::Array(players)) => players,
            other => {
                return Err(file_err(
                    &team_record,
                    FieldError::new(
                        team.name("players"),
                        "array",
                        other.map_or(
                            "no value (field missing)".to_string(),
                            json_fields::describe,
                        ),
                    ),
                ));
            }
        };
        let side = Side {
            date,
            game_id: &game_id,
            team_id,
            team_abbr: &team_abbr,
            is_home,
            path,
        };
        for (i, player) in players.iter().enumerate() {
            let record = format!("{team_record}.players[{i}]");
            let row = player_row(player, &side);
            match row {
                Ok(row) => {
                    if let Some(first) = seen.get(&row.player_id) {
                        out.quarantine.add(
                            path,
                            &record,
                            "personId",
                            format!("duplicate of {first} (same personId)"),
                            excerpt(player),
                        );
                    } else {
                        seen.insert(row.player_id, record);
                        out.rows.push(row);
                    }
                }
                Err(e) => out
                    .quarantine
                    .add(path, &record, &e.field, e.reason(), excerpt(player)),
            }
        }
    }
    out.rows.sort_by_key(|r| r.player_id);
    Ok(out)
}

/// The player's identity fields, for an excerpt.
fn excerpt(player: &Value) -> String {
    match player {
        Value::Object(map) => {
            let keep: serde_json::Map<String, Value> = map
                .iter()
                .filter(|(k, _)| {
                    matches!(
                        k.as_str(),
                        "personId" | "firstName" | "familyName" | "position" | "comment"
                    )
                })
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            Value::Object(keep).to_string()
        }
        other => json_fields::describe(other),
    }
}

/// The game and team a player record belongs to.
struct Side<'a> {
    date: NaiveDate,
    game_id: &'a str,
    team_id: i64,
    team_abbr: &'a str,
    is_home: bool,
    path: &'a str,
}

/// One player record of `side`'s `players`.
fn player_row(player: &Value, side: &Side<'_>) -> Result<BoxscoreTraditionalPlayer, FieldError> {
    let p = Obj::new("player", player)?;
    let player_id = p.int("personId")?;
    let first = p.string("firstName")?.trim();
    let family = p.string("familyName")?.trim();
    let player_name = [first, family]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let player_lookup = normalize_name_for_lookup(&player_name);
    if player_lookup.is_empty() {
        return Err(FieldError::new(
            p.name("familyName"),
            "a player name",
            format!("string {player_name:?}"),
        ));
    }
    let position = p.string("position")?.trim().to_string();
    let dnp_reason = p.string("comment")?.trim().to_string();
    let stats = p.object("statistics")?;
    let minutes = match stats.string("minutes")?.trim() {
        "" => 0.0,
        text => json_fields::minutes(&stats.name("minutes"), &Value::String(text.to_string()))?,
    };
    Ok(BoxscoreTraditionalPlayer {
        game_date: side.date,
        game_id: side.game_id.to_string(),
        player_id,
        player_name,
        player_lookup,
        team_id: side.team_id,
        team_abbr: side.team_abbr.to_string(),
        is_home: side.is_home,
        is_starter: !position.is_empty(),
        position,
        dnp_reason: (!dnp_reason.is_empty()).then_some(dnp_reason),
        minutes,
        points: stats.int("points")?,
        rebounds: stats.int("reboundsTotal")?,
        assists: stats.int("assists")?,
        source_file: side.path.to_string(),
    })
}

/// The files of a date grouped by game folder (files outside a `game_<id>`
/// folder are their own group and fail the game id check only if the
/// payload disagrees).
fn by_game(files: Vec<LandingObject>) -> BTreeMap<String, Vec<LandingObject>> {
    let mut games: BTreeMap<String, Vec<LandingObject>> = BTreeMap::new();
    for file in files {
        let folder = file
            .path
            .rsplit_once('/')
            .map_or(String::new(), |(dir, _)| dir.to_string());
        games.entry(folder).or_default().push(file);
    }
    games
}

/// Loads, for each game folder of a date, the latest loadable
/// `boxscoretraditionalv3` payload into `nba_raw.boxscore_traditional`,
/// replacing the date's partition.
#[derive(Debug, Default, Clone, Copy)]
pub struct BoxscoreTraditionalProcessor;

#[async_trait]
impl Processor for BoxscoreTraditionalProcessor {
    fn landing_inputs(&self, date: NaiveDate) -> Vec<String> {
        vec![layout::boxscore_traditional_v3_folder(date)]
    }

    fn name(&self) -> &'static str {
        "boxscore_traditional"
    }

    fn phase(&self) -> Phase {
        Phase::Raw
    }

    fn outputs(&self) -> Vec<TableDef> {
        vec![BoxscoreTraditionalPlayer::DEF]
    }

    async fn process(&self, ctx: &ProcessContext) -> Result<ProcessOutput, ProcessError> {
        let date = ctx.game_date;
        let files =
            landing_files::json_files(&*ctx.landing, &layout::boxscore_traditional_v3_folder(date))
                .await?;
        let no_files = files.is_empty();
        let mut output = ProcessOutput::default();
        let mut rows: Vec<BoxscoreTraditionalPlayer> = Vec::new();
        for (_, game_files) in by_game(files) {
            let loaded = landing_files::latest_loadable(
                &*ctx.landing,
                &game_files,
                &mut output.quarantine,
                |bytes, path| parse_boxscore_traditional(bytes, path, date),
            )
            .await?;
            if let Some((_, parsed)) = loaded {
                output.quarantine.extend(parsed.quarantine);
                rows.extend(parsed.rows);
            }
        }
        // Two folders holding the same game (a misfiled payload) would
        // repeat keys: keep the first by (game, player, file).
        rows.sort_by(|a, b| {
            (&a.game_id, a.player_id, &a.source_file).cmp(&(
                &b.game_id,
                b.player_id,
                &b.source_file,
            ))
        });
        let mut unique: Vec<BoxscoreTraditionalPlayer> = Vec::with_capacity(rows.len());
        for row in rows {
            match unique.last() {
                Some(kept) if kept.game_id == row.game_id && kept.player_id == row.player_id => {
                    output.quarantine.add(
                        &row.source_file,
                        format!("game {} player {}", row.game_id, row.player_id),
                        "gameId",
                        format!("the same game and player are also in {}", kept.source_file),
                        row.player_name.clone(),
                    )
                }
                _ => unique.push(row),
            }
        }
        output.no_data = no_files || (unique.is_empty() && output.quarantine.is_empty());
        ctx.warehouse
            .replace_rows::<BoxscoreTraditionalPlayer>(date, &[], &unique)
            .await?;
        output.wrote(&BoxscoreTraditionalPlayer::DEF, unique.len() as u64);
        tracing::debug!(processor = self.name(), game_date = %date, rows = unique.len(), "traditional box scores loaded");
        Ok(output)
    }
}
