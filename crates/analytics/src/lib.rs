//! Phase 3 analytics: per-game summaries computed from the raw box scores.
//!
//! Five processors, run in this order for one game date (see
//! [`processors`]):
//!
//! | processor | reads | writes |
//! |---|---|---|
//! | `team_offense_game_summary` | `nba_raw.team_boxscores`, `nba_raw.schedule` | `nba_analytics.team_offense_game_summary` |
//! | `team_defense_game_summary` | `nba_raw.team_boxscores`, `nba_raw.schedule` | `nba_analytics.team_defense_game_summary` |
//! | `player_game_summary` | `nba_raw.player_boxscores`, `nba_raw.team_boxscores`, `nba_raw.schedule` | `nba_analytics.player_game_summary` |
//! | `upcoming_team_game_context` | `nba_raw.schedule`, `nba_analytics.team_offense_game_summary`, `nba_analytics.team_defense_game_summary` (before the date) | `nba_analytics.upcoming_team_game_context` |
//! | `upcoming_player_game_context` | the same, `nba_analytics.player_game_summary` (before the date), `nba_raw.player_props` | `nba_analytics.upcoming_player_game_context` |
//!
//! The three summaries read Phase 2 tables directly (none depends on
//! another's output, so they may also run in parallel). The two upcoming
//! contexts read the summaries of dates strictly before the date, so they
//! run after them (in a backfill, the earlier dates' summaries must exist);
//! the player context computes the team contexts itself from the same
//! inputs instead of reading the team table. Each replaces the date's
//! partition of its table (also when empty, so a rerun clears stale rows)
//! and checks the row count the warehouse reports. The computation is in
//! pure functions (`summarize_*`, `build_*`) over the input rows; the
//! processors only read and write.
//!
//! Each processor declares the Phase 2 processors whose rows *of the date*
//! it reads ([`Processor::sources`]; the summaries of earlier dates the
//! contexts read do not count). The three summaries support entity scope:
//! given `Scope::Entities`, they read only the rows that decide the
//! in-scope rows (a team's whole game, a player's collision group) and
//! replace exactly those rows, one key at a time.

pub mod efficiency;
pub mod fixtures;
mod inputs;
pub mod player_game_summary;
#[cfg(test)]
use propcast_test_support::box_scores as real_data;
pub mod team_defense_game_summary;
pub mod team_games;
pub mod team_offense_game_summary;
pub mod upcoming_player_game_context;
pub mod upcoming_team_game_context;

pub use player_game_summary::{PlayerGameSummaryProcessor, summarize_player_games};
pub use team_defense_game_summary::{TeamDefenseGameSummaryProcessor, summarize_team_defense};
pub use team_games::Counters;
pub use team_offense_game_summary::{TeamOffenseGameSummaryProcessor, summarize_team_offense};
pub use upcoming_player_game_context::{
    UpcomingPlayerGameContextProcessor, build_upcoming_player_context,
};
pub use upcoming_team_game_context::{
    UpcomingTeamGameContextProcessor, build_upcoming_team_context,
};

use propcast_core::Table;
use propcast_patterns::{ProcessContext, ProcessError, ProcessOutput, Processor, Quarantine};
use propcast_platform::WarehouseExt;

/// The Phase 3 processors in the order they run for a date.
pub fn processors() -> Vec<Box<dyn Processor>> {
    vec![
        Box::new(TeamOffenseGameSummaryProcessor),
        Box::new(TeamDefenseGameSummaryProcessor),
        Box::new(PlayerGameSummaryProcessor),
        Box::new(UpcomingTeamGameContextProcessor),
        Box::new(UpcomingPlayerGameContextProcessor),
    ]
}

/// The output of one summary for one date.
#[derive(Debug, Clone)]
pub struct DateSummary<T> {
    /// Sorted by the table's key.
    pub rows: Vec<T>,
    /// Filtered, derived and unreconciled counts (see each module).
    pub counters: Counters,
    /// Input records set aside; the rest of the date proceeded.
    pub quarantine: Quarantine,
    /// Input rows read for the date (0 means there was nothing to do).
    pub input_rows: usize,
}

impl<T> Default for DateSummary<T> {
    fn default() -> Self {
        DateSummary {
            rows: Vec::new(),
            counters: Counters::default(),
            quarantine: Quarantine::default(),
            input_rows: 0,
        }
    }
}

/// Replaces the date's partition of `T`'s table with the summary's rows and
/// verifies the warehouse wrote exactly that many.
async fn write_partition<T: Table>(
    ctx: &ProcessContext,
    processor: &'static str,
    summary: DateSummary<T>,
) -> Result<ProcessOutput, ProcessError> {
    let stats = ctx
        .warehouse
        .replace_rows::<T>(ctx.game_date, &[], &summary.rows)
        .await?;
    let expected = summary.rows.len() as u64;
    if stats.rows_written != expected {
        return Err(ProcessError::Permanent(format!(
            "{}: wrote {} rows for {} but computed {expected}",
            T::DEF.qualified(),
            stats.rows_written,
            ctx.game_date
        )));
    }
    tracing::info!(
        processor,
        game_date = %ctx.game_date,
        rows = expected,
        replaced = stats.rows_deleted,
        quarantined = summary.quarantine.len(),
        "partition replaced"
    );
    let mut output = ProcessOutput {
        quarantine: summary.quarantine,
        no_data: summary.input_rows == 0,
        counters: summary.counters.0,
        ..ProcessOutput::default()
    };
    output.wrote(&T::DEF, stats.rows_written);
    Ok(output)
}

/// Replaces, in the date's partition of `T`'s table, exactly the rows whose
/// `column` holds one of `stale` or one of the summary rows' values (each
/// value in its own replace, so rows of other values stay untouched) with
/// the summary's rows, and verifies the warehouse wrote exactly those.
/// `stale` names the in-scope rows already stored, so a row no longer
/// computed is deleted. The scoped counterpart of [`write_partition`].
async fn write_scoped<T: Table>(
    ctx: &ProcessContext,
    processor: &'static str,
    column: &'static str,
    value_of: fn(&T) -> &str,
    stale: std::collections::BTreeSet<String>,
    summary: DateSummary<T>,
) -> Result<ProcessOutput, ProcessError> {
    let mut by_value: std::collections::BTreeMap<String, Vec<&T>> =
        stale.into_iter().map(|v| (v, Vec::new())).collect();
    for row in &summary.rows {
        by_value
            .entry(value_of(row).to_string())
            .or_default()
            .push(row);
    }
    let (mut written, mut deleted) = (0, 0);
    for (value, rows) in &by_value {
        let records = rows
            .iter()
            .map(|row| match serde_json::to_value(row) {
                Ok(serde_json::Value::Object(map)) => Ok(map),
                other => Err(ProcessError::Permanent(format!(
                    "a row of {} did not serialise to an object: {other:?}",
                    T::DEF.qualified()
                ))),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let stats = ctx
            .warehouse
            .replace_partition(&T::DEF, ctx.game_date, &[(column, value)], records)
            .await?;
        written += stats.rows_written;
        deleted += stats.rows_deleted;
    }
    let expected = summary.rows.len() as u64;
    if written != expected {
        return Err(ProcessError::Permanent(format!(
            "{}: wrote {written} rows for {} in scope but computed {expected}",
            T::DEF.qualified(),
            ctx.game_date
        )));
    }
    tracing::info!(
        processor,
        game_date = %ctx.game_date,
        entities = by_value.len(),
        rows = expected,
        replaced = deleted,
        quarantined = summary.quarantine.len(),
        "rows in scope replaced"
    );
    let mut output = ProcessOutput {
        quarantine: summary.quarantine,
        no_data: summary.input_rows == 0,
        counters: summary.counters.0,
        ..ProcessOutput::default()
    };
    output.wrote(&T::DEF, written);
    Ok(output)
}

/// The values of `column` stored in the date's partition of `def` among
/// `values` (the in-scope rows a scoped write must replace).
async fn stored_values(
    ctx: &ProcessContext,
    def: &propcast_core::TableDef,
    column: &str,
    values: &[&str],
) -> Result<std::collections::BTreeSet<String>, ProcessError> {
    #[derive(serde::Deserialize)]
    struct Value {
        value: String,
    }
    ctx.warehouse.ensure_table(def).await?;
    let sql = format!(
        "SELECT DISTINCT {column} AS value FROM {} WHERE game_date = {} AND {column} IN {}",
        def.qualified(),
        propcast_platform::warehouse::date_literal(ctx.game_date),
        fixtures::text_list(values)
    );
    let rows: Vec<Value> = ctx.warehouse.query_as(&sql).await?;
    Ok(rows.into_iter().map(|v| v.value).collect())
}
