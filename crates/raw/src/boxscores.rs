//! What the player and team box score tables share: both load the latest
//! stats `leaguegamelog` payload of a date (`nba-com/<kind>/<YYYY-MM-DD>/`),
//! keep one row per game and player (or team), and replace the date's
//! partition. A [`GameLogRow`] says what differs: its landing folder, its
//! columns and key, and how one row is read.

use crate::error::FileError;
use crate::json_fields::FieldError;
use crate::landing_files;
use crate::leaguegamelog::GameLog;
use crate::parsed::Parsed;
use async_trait::async_trait;
use chrono::NaiveDate;
use propcast_core::{Table, TableDef};
use propcast_patterns::{Phase, ProcessContext, ProcessError, ProcessOutput, Processor};
use propcast_platform::WarehouseExt;
use serde_json::Value;
use std::collections::HashMap;
use std::hash::Hash;
use std::marker::PhantomData;

/// A leaguegamelog row type from `row` (a [`GameLog`] row) and the payload
/// `path`: the fields given, then the traditional stat line both modes
/// share (WL, MIN, the counting stats, PLUS_MINUS) and `source_file`, read
/// in that order so the first bad field is the one reported.
macro_rules! game_log_row {
    ($ty:ident, $row:expr, $path:expr, { $($field:ident $(: $value:expr)?),* $(,)? }) => {
        $ty {
            $($field $(: $value)?,)*
            wl: $row.opt_string("WL")?.map(str::to_string),
            minutes: $row.minutes("MIN")?,
            fgm: $row.int("FGM")?,
            fga: $row.int("FGA")?,
            fg3m: $row.int("FG3M")?,
            fg3a: $row.int("FG3A")?,
            ftm: $row.int("FTM")?,
            fta: $row.int("FTA")?,
            oreb: $row.int("OREB")?,
            dreb: $row.int("DREB")?,
            reb: $row.int("REB")?,
            ast: $row.int("AST")?,
            stl: $row.int("STL")?,
            blk: $row.int("BLK")?,
            tov: $row.int("TOV")?,
            pf: $row.int("PF")?,
            pts: $row.int("PTS")?,
            plus_minus: $row.opt_int("PLUS_MINUS")?,
            source_file: $path.to_string(),
        }
    };
}
pub(crate) use game_log_row;

/// A row of a `nba_raw` table loaded from one `leaguegamelog` payload per
/// date.
pub trait GameLogRow: Table + Sized {
    /// The name of the processor loading the table.
    const PROCESSOR: &'static str;
    /// The header of the field that, with `GAME_ID`, identifies a row.
    const KEY_HEADER: &'static str;
    /// The game id and [`Self::KEY_HEADER`]'s value: unique in the table's
    /// date partition, and the order rows are written in.
    type Key: Ord + Hash;
    /// The resolved positions of the columns [`Self::parse_row`] reads.
    type Columns;

    /// The landing folder of a date's payloads.
    fn folder(date: NaiveDate) -> String;

    /// The row's key (see [`Self::Key`]).
    fn key(&self) -> Self::Key;

    /// Finds the columns the rows are read from in the payload's headers.
    fn columns(log: &GameLog, path: &str) -> Result<Self::Columns, FileError>;

    /// Reads one `rowSet` row of a payload for `date`, and whether its
    /// `MATCHUP` named the opponent first.
    fn parse_row(
        columns: &Self::Columns,
        value: &Value,
        path: &str,
        date: NaiveDate,
    ) -> Result<(Self, bool), FieldError>;
}

/// Parses one `leaguegamelog` payload for `date`. A row with a missing or
/// wrong-typed field, dated another day, or repeating an earlier row's key
/// is quarantined; the other rows are kept, sorted by key.
pub fn parse_game_log<R: GameLogRow>(
    bytes: &[u8],
    path: &str,
    date: NaiveDate,
) -> Result<Parsed<R>, FileError> {
    let log = GameLog::parse(bytes, path)?;
    let columns = R::columns(&log, path)?;
    let mut out = Parsed::default();
    let mut seen: HashMap<R::Key, usize> = HashMap::new();
    for (i, value) in log.rows().iter().enumerate() {
        match R::parse_row(&columns, value, path, date) {
            Ok((row, from_other_side)) => {
                if from_other_side {
                    out.count("matchup_from_other_side", 1);
                }
                let key = row.key();
                if let Some(first) = seen.get(&key) {
                    out.quarantine.add(
                        path,
                        log.record(i),
                        R::KEY_HEADER,
                        format!(
                            "duplicate of {} (same GAME_ID and {})",
                            log.record(*first),
                            R::KEY_HEADER
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
    out.rows.sort_by_key(R::key);
    Ok(out)
}

/// Loads the latest loadable payload of a date into `R`'s table, replacing
/// the date's partition (emptied when the date has no rows).
pub struct GameLogProcessor<R>(PhantomData<fn() -> R>);

impl<R> GameLogProcessor<R> {
    pub const fn new() -> Self {
        GameLogProcessor(PhantomData)
    }
}

impl<R> Default for GameLogProcessor<R> {
    fn default() -> Self {
        Self::new()
    }
}

impl<R: GameLogRow> std::fmt::Debug for GameLogProcessor<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("GameLogProcessor")
            .field(&R::PROCESSOR)
            .finish()
    }
}

#[async_trait]
impl<R: GameLogRow> Processor for GameLogProcessor<R> {
    fn landing_inputs(&self, date: NaiveDate) -> Vec<String> {
        vec![R::folder(date)]
    }

    fn name(&self) -> &'static str {
        R::PROCESSOR
    }

    fn phase(&self) -> Phase {
        Phase::Raw
    }

    fn outputs(&self) -> Vec<TableDef> {
        vec![R::DEF]
    }

    async fn process(&self, ctx: &ProcessContext) -> Result<ProcessOutput, ProcessError> {
        let date = ctx.game_date;
        let files = landing_files::json_files(&*ctx.landing, &R::folder(date)).await?;
        let mut output = ProcessOutput::default();
        let loaded = landing_files::latest_loadable(
            &*ctx.landing,
            &files,
            &mut output.quarantine,
            |bytes, path| parse_game_log::<R>(bytes, path, date),
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
        ctx.warehouse.replace_rows::<R>(date, &[], &rows).await?;
        output.wrote(&R::DEF, rows.len() as u64);
        tracing::debug!(processor = self.name(), game_date = %date, rows = rows.len(), "box scores loaded");
        Ok(output)
    }
}
