//! `nba_raw.team_boxscores` from stats `leaguegamelog` (PlayerOrTeam=T):
//! `nba-com/team-boxscores/<YYYY-MM-DD>/<YYYYMMDD_HHMMSS>.json`, the latest
//! file of the date.

use crate::error::FileError;
use crate::json_fields::FieldError;
use crate::landing_files;
use crate::leaguegamelog::season_type_of_digit;
use crate::leaguegamelog::{GameLog, Row};
use crate::parsed::Parsed;
use async_trait::async_trait;
use chrono::NaiveDate;
use propcast_core::tables::TeamBoxscore;
use propcast_core::{Table, TableDef};
use propcast_patterns::{Phase, ProcessContext, ProcessError, ProcessOutput, Processor};
use propcast_platform::WarehouseExt;
use std::collections::HashMap;

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
    let log = GameLog::parse(bytes, path)?;
    let columns = log.columns(path, COLUMNS)?;
    let mut out = Parsed::default();
    let mut seen: HashMap<(String, String), usize> = HashMap::new();
    for (i, value) in log.rows().iter().enumerate() {
        let parsed = columns
            .row(value)
            .and_then(|row| team_row(&row, path, date));
        match parsed {
            Ok((row, from_other_side)) => {
                if from_other_side {
                    out.count("matchup_from_other_side", 1);
                }
                let key = (row.game_id.clone(), row.team_abbr.clone());
                if let Some(first) = seen.get(&key) {
                    out.quarantine.add(
                        path,
                        log.record(i),
                        "TEAM_ABBREVIATION",
                        format!(
                            "duplicate of {} (same GAME_ID and TEAM_ABBREVIATION)",
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
            .then_with(|| a.team_abbr.cmp(&b.team_abbr))
    });
    Ok(out)
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
    let parsed = TeamBoxscore {
        game_date,
        game_id: row.game_id("GAME_ID")?,
        season,
        season_type: season_type.to_string(),
        team_id: row.int("TEAM_ID")?,
        team_abbr,
        team_name: row.non_empty("TEAM_NAME")?.to_string(),
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

/// Loads a date's team box scores into `nba_raw.team_boxscores`.
#[derive(Debug, Default)]
pub struct TeamBoxscoresProcessor;

#[async_trait]
impl Processor for TeamBoxscoresProcessor {
    fn landing_inputs(&self, date: NaiveDate) -> Vec<String> {
        vec![folder(date)]
    }

    fn name(&self) -> &'static str {
        "team_boxscores"
    }

    fn phase(&self) -> Phase {
        Phase::Raw
    }

    fn outputs(&self) -> Vec<TableDef> {
        vec![TeamBoxscore::DEF]
    }

    async fn process(&self, ctx: &ProcessContext) -> Result<ProcessOutput, ProcessError> {
        let date = ctx.game_date;
        let files = landing_files::json_files(&*ctx.landing, &folder(date)).await?;
        let mut output = ProcessOutput::default();
        let loaded = landing_files::latest_loadable(
            &*ctx.landing,
            &files,
            &mut output.quarantine,
            |bytes, path| parse_team_boxscores(bytes, path, date),
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
            .replace_rows::<TeamBoxscore>(date, &[], &rows)
            .await?;
        output.wrote(&TeamBoxscore::DEF, rows.len() as u64);
        tracing::debug!(processor = self.name(), game_date = %date, rows = rows.len(), "team box scores loaded");
        Ok(output)
    }
}
