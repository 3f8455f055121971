//! `nba_raw.schedule` from the CDN `scheduleLeagueV2` payload:
//! `nba-com/schedule-cdn/<season e.g. 2024-25>/<YYYYMMDD_HHMMSS>.json`.
//!
//! One file holds the whole season and every date reads it, so the parsed
//! file is cached in the processor (keyed by path and size).
//!
//! Field choices:
//! * game date = the date part of `gameDateEst` (the ET calendar date), else
//!   the `gameDates[].gameDate` group it sits in, else the ET date of
//!   `gameDateTimeUTC`;
//! * `tipoff_time` = `gameDateTimeUTC` exactly as the payload says. Games the
//!   source has no time for carry 00:00 ET there (e.g. 04:00Z); that is kept
//!   as is, not guessed or nulled. NULL only when the field is empty;
//! * scores only when `gameStatus` is 3 (final);
//! * season type from the game id's type digit (`001` preseason, `002`
//!   regular, `003` All-Star, `004` playoffs, `005` play-in, `006` NBA Cup
//!   final); upcoming games have no id (`""`), so their type comes from
//!   `gameLabel` (Cup group and knockout games are regular season).

use crate::error::FileError;
use crate::json_fields::{self, FieldError, Obj};
use crate::landing_files;
use crate::leaguegamelog::season_type_of_digit;
use crate::parsed::Parsed;
use async_trait::async_trait;
use chrono::NaiveDate;
use propcast_core::date::eastern_date;
use propcast_core::tables::ScheduleGame;
use propcast_core::{Season, Table, TableDef};
use propcast_patterns::{
    Phase, ProcessContext, ProcessError, ProcessOutput, Processor, Quarantine,
};
use propcast_platform::WarehouseExt;
use serde::Deserialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

/// The landing folder of a season's schedule snapshots.
pub fn folder(season: Season) -> String {
    format!("nba-com/schedule-cdn/{season}")
}

#[derive(Deserialize)]
struct ScheduleFile {
    #[serde(rename = "leagueSchedule")]
    league_schedule: LeagueSchedule,
}

#[derive(Deserialize)]
struct LeagueSchedule {
    #[serde(rename = "seasonYear", default)]
    season_year: Value,
    #[serde(rename = "gameDates")]
    game_dates: Vec<GameDateGroup>,
}

#[derive(Deserialize)]
struct GameDateGroup {
    #[serde(rename = "gameDate", default)]
    game_date: Value,
    games: Vec<Value>,
}

/// A parsed season file: games grouped by ET game date, with the records
/// quarantined on each date.
#[derive(Debug, Clone, Default)]
pub struct ParsedSchedule {
    pub source_file: String,
    by_date: BTreeMap<NaiveDate, Parsed<ScheduleGame>>,
    /// Records whose date could not be determined: reported on every date.
    undated: Quarantine,
}

impl ParsedSchedule {
    /// The games of `date` (sorted by home, away) and the records set aside
    /// for that date.
    pub fn for_date(&self, date: NaiveDate) -> Parsed<ScheduleGame> {
        let mut parsed = self.by_date.get(&date).cloned().unwrap_or_default();
        parsed.quarantine.extend(self.undated.clone());
        parsed
    }

    /// Every game date in the file.
    pub fn dates(&self) -> impl Iterator<Item = NaiveDate> + '_ {
        self.by_date.keys().copied()
    }

    /// Every game of the file, by date.
    pub fn games(&self) -> impl Iterator<Item = &ScheduleGame> + '_ {
        self.by_date.values().flat_map(|p| p.rows.iter())
    }
}

/// Parses a whole `scheduleLeagueV2` season file. A game with a missing or
/// wrong-typed field is quarantined on its date; the other games are kept.
pub fn parse_schedule(bytes: &[u8], path: &str) -> Result<ParsedSchedule, FileError> {
    let file: ScheduleFile =
        serde_json::from_slice(bytes).map_err(|e| FileError::from_json(path, bytes, &e))?;
    let season = file
        .league_schedule
        .season_year
        .as_str()
        .and_then(|s| s.parse::<Season>().ok());
    let mut out = ParsedSchedule {
        source_file: path.to_string(),
        ..ParsedSchedule::default()
    };
    // (date, home, away) → record of the first game with that key.
    let mut seen: HashMap<(NaiveDate, String, String), String> = HashMap::new();
    for (g, group) in file.league_schedule.game_dates.iter().enumerate() {
        let group_date = group
            .game_date
            .as_str()
            .and_then(|s| NaiveDate::parse_from_str(s.get(..10)?, "%m/%d/%Y").ok());
        for (i, game) in group.games.iter().enumerate() {
            let record = format!("leagueSchedule.gameDates[{g}].games[{i}]");
            let date = game_date(game, group_date);
            let Some(date) = date else {
                out.undated.add(
                    path,
                    &record,
                    "gameDateEst",
                    "no game date: gameDateEst, the gameDates group and gameDateTimeUTC are all missing or invalid",
                    game.to_string(),
                );
                continue;
            };
            let slot = out.by_date.entry(date).or_default();
            match schedule_game(game, date, season, path) {
                Ok(row) => {
                    let key = (date, row.home_team_abbr.clone(), row.away_team_abbr.clone());
                    if let Some(first) = seen.get(&key) {
                        slot.quarantine.add(
                            path,
                            &record,
                            "gameCode",
                            format!("duplicate of {first} (same date, home and away team)"),
                            game.to_string(),
                        );
                    } else {
                        seen.insert(key, record);
                        slot.rows.push(row);
                    }
                }
                Err(e) => {
                    slot.quarantine
                        .add(path, &record, &e.field, e.reason(), game.to_string())
                }
            }
        }
    }
    for parsed in out.by_date.values_mut() {
        parsed.rows.sort_by(|a, b| {
            a.home_team_abbr
                .cmp(&b.home_team_abbr)
                .then_with(|| a.away_team_abbr.cmp(&b.away_team_abbr))
        });
    }
    Ok(out)
}

/// The games of one date from a season file.
pub fn parse_schedule_for_date(
    bytes: &[u8],
    path: &str,
    date: NaiveDate,
) -> Result<Parsed<ScheduleGame>, FileError> {
    parse_schedule(bytes, path).map(|s| s.for_date(date))
}

fn game_date(game: &Value, group_date: Option<NaiveDate>) -> Option<NaiveDate> {
    let est = game
        .get("gameDateEst")
        .and_then(|v| json_fields::date("gameDateEst", v).ok());
    est.or(group_date).or_else(|| {
        game.get("gameDateTimeUTC")
            .and_then(|v| json_fields::instant("gameDateTimeUTC", v).ok())
            .map(eastern_date)
    })
}

fn schedule_game(
    game: &Value,
    date: NaiveDate,
    season: Option<Season>,
    path: &str,
) -> Result<ScheduleGame, FieldError> {
    let g = Obj::new("game", game)?;
    let game_id = g.opt_string("gameId")?.map(str::to_string);
    let season_type = match &game_id {
        Some(id) => season_type_of_game_id(id).ok_or_else(|| {
            FieldError::new("gameId", "game id like \"0022400975\"", format!("{id:?}"))
        })?,
        None => season_type_of_label(g.opt_string("gameLabel")?.unwrap_or("")),
    };
    let game_status = g.int("gameStatus")?;
    let home = g.object("homeTeam")?;
    let away = g.object("awayTeam")?;
    let (home_score, away_score) = if game_status == 3 {
        (Some(home.int("score")?), Some(away.int("score")?))
    } else {
        (None, None)
    };
    let tipoff_time = match g.opt_string("gameDateTimeUTC")? {
        Some(_) => Some(g.instant("gameDateTimeUTC")?),
        None => None,
    };
    Ok(ScheduleGame {
        game_date: date,
        game_id,
        game_code: g.non_empty("gameCode")?.to_string(),
        season: season
            .unwrap_or_else(|| Season::of(date))
            .start_year()
            .into(),
        season_type: season_type.to_string(),
        game_status,
        home_team_abbr: home.non_empty("teamTricode")?.to_string(),
        away_team_abbr: away.non_empty("teamTricode")?.to_string(),
        home_team_id: home.int("teamId")?,
        away_team_id: away.int("teamId")?,
        home_score,
        away_score,
        tipoff_time,
        arena_name: g.opt_string("arenaName")?.map(str::to_string),
        source_file: path.to_string(),
    })
}

/// The season type from the type digit of a game id ("0042400101" → Playoffs).
pub fn season_type_of_game_id(game_id: &str) -> Option<&'static str> {
    let bytes = game_id.as_bytes();
    if bytes.len() != 10 || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    season_type_of_digit(bytes[2] - b'0')
}

/// The season type of a game without an id, from its label.
pub fn season_type_of_label(label: &str) -> &'static str {
    let l = label.to_ascii_lowercase();
    if l.contains("preseason") {
        "Preseason"
    } else if l.contains("play-in") {
        "Play-In"
    } else if l.contains("all-star") || l.contains("rising stars") {
        "All-Star"
    } else if l.contains("cup") {
        "Regular Season"
    } else if l.contains("round") || l.contains("semifinals") || l.contains("finals") {
        "Playoffs"
    } else {
        "Regular Season"
    }
}

type CachedSchedule = Arc<Result<ParsedSchedule, FileError>>;

/// Loads the schedule games of a date into `nba_raw.schedule`.
#[derive(Default)]
pub struct ScheduleProcessor {
    /// Parsed season files by (path, size); a backfill reads the same file
    /// for every date.
    cache: Mutex<HashMap<(String, u64), CachedSchedule>>,
}

impl ScheduleProcessor {
    pub fn new() -> Self {
        Self::default()
    }

    async fn load(
        &self,
        ctx: &ProcessContext,
        path: &str,
        size: u64,
    ) -> Result<CachedSchedule, ProcessError> {
        let key = (path.to_string(), size);
        if let Some(hit) = self.cached(&key) {
            return Ok(hit);
        }
        let bytes = ctx.landing.get(path).await?;
        let parsed = Arc::new(parse_schedule(&bytes, path));
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        // A few seasons at most; drop everything rather than grow without bound.
        if cache.len() >= 4 {
            cache.clear();
        }
        cache.insert(key, parsed.clone());
        Ok(parsed)
    }

    fn cached(&self, key: &(String, u64)) -> Option<CachedSchedule> {
        let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        cache.get(key).cloned()
    }
}

impl std::fmt::Debug for ScheduleProcessor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScheduleProcessor").finish_non_exhaustive()
    }
}

#[async_trait]
impl Processor for ScheduleProcessor {
    fn landing_inputs(&self, date: NaiveDate) -> Vec<String> {
        vec![folder(Season::of(date))]
    }

    fn name(&self) -> &'static str {
        "schedule"
    }

    fn phase(&self) -> Phase {
        Phase::Raw
    }

    fn outputs(&self) -> Vec<TableDef> {
        vec![ScheduleGame::DEF]
    }

    async fn process(&self, ctx: &ProcessContext) -> Result<ProcessOutput, ProcessError> {
        let date = ctx.game_date;
        let files = landing_files::json_files(&*ctx.landing, &folder(Season::of(date))).await?;
        let mut output = ProcessOutput::default();
        let mut newest_first: Vec<_> = files.iter().collect();
        newest_first.sort_by(|a, b| {
            landing_files::file_name(&b.path)
                .cmp(landing_files::file_name(&a.path))
                .then_with(|| b.path.cmp(&a.path))
        });
        let mut rows = Vec::new();
        for file in newest_first {
            let parsed = self.load(ctx, &file.path, file.size).await?;
            match parsed.as_ref() {
                Ok(schedule) => {
                    let day = schedule.for_date(date);
                    output.quarantine.extend(day.quarantine);
                    rows = day.rows;
                    break;
                }
                Err(e) => e.quarantine_into(&mut output.quarantine),
            }
        }
        output.no_data = rows.is_empty() && output.quarantine.is_empty();
        ctx.warehouse
            .replace_rows::<ScheduleGame>(date, &[], &rows)
            .await?;
        output.wrote(&ScheduleGame::DEF, rows.len() as u64);
        tracing::debug!(processor = self.name(), game_date = %date, rows = rows.len(), "schedule loaded");
        Ok(output)
    }
}
