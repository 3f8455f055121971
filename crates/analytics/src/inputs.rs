//! What Phase 3 reads from `nba_raw`: for a range of dates (one on the
//! daily path), or a scope of one date.
//!
//! Input tables are ensured first (idempotent), so a date whose raw source
//! never landed reads as empty instead of failing on a missing table.

use crate::fixtures::int_list;
use chrono::NaiveDate;
use propcast_core::Table;
use propcast_core::tables::{PlayerBoxscore, ScheduleGame, TeamBoxscore};
use propcast_patterns::reads::read_dates_as;
use propcast_patterns::{ProcessContext, ProcessError};
use propcast_platform::WarehouseExt;
use propcast_platform::warehouse::date_literal;
use propcast_platform::warehouse::text_list;
use std::collections::BTreeMap;

/// The team box scores of each of `dates`, in game and team order.
pub(crate) async fn team_boxscores_of_dates(
    ctx: &ProcessContext,
    dates: &[NaiveDate],
) -> Result<BTreeMap<NaiveDate, Vec<TeamBoxscore>>, ProcessError> {
    read_dates_as(ctx, dates, "*", "game_id, team_abbr").await
}

/// The player box scores of each of `dates`, in game and player order.
pub(crate) async fn player_boxscores_of_dates(
    ctx: &ProcessContext,
    dates: &[NaiveDate],
) -> Result<BTreeMap<NaiveDate, Vec<PlayerBoxscore>>, ProcessError> {
    read_dates_as(ctx, dates, "*", "game_id, player_id").await
}

/// The schedule of each of `dates`, in game code order. The tip-off
/// instant is not needed here and not read (it deserialises as NULL).
pub(crate) async fn schedule_of_dates(
    ctx: &ProcessContext,
    dates: &[NaiveDate],
) -> Result<BTreeMap<NaiveDate, Vec<ScheduleGame>>, ProcessError> {
    read_dates_as(ctx, dates, SUMMARY_SCHEDULE_COLUMNS, "game_code").await
}

/// The schedule columns the summaries read (no tip-off instant).
const SUMMARY_SCHEDULE_COLUMNS: &str = "game_date, game_id, game_code, season, season_type, \
     game_status, home_team_abbr, away_team_abbr, home_team_id, away_team_id, home_score, \
     away_score, arena_name, source_file";

/// Rows of `T`'s partition D matching `filter` (an SQL condition).
async fn read_where<T: Table>(
    ctx: &ProcessContext,
    columns: &str,
    filter: &str,
    order: &str,
) -> Result<Vec<T>, ProcessError> {
    ctx.warehouse.ensure_table(&T::DEF).await?;
    let sql = format!(
        "SELECT {columns} FROM {} WHERE game_date = {} AND ({filter}) ORDER BY {order}",
        T::DEF.qualified(),
        date_literal(ctx.game_date)
    );
    Ok(ctx.warehouse.query_as::<T>(&sql).await?)
}

/// The team box scores of every game of D that concerns one of `teams`: a
/// box score of the team or naming it as opponent, or a schedule row with
/// the team on either side (a game whose only box score is the opponent's).
/// All rows of such a game are returned, so it pairs as in a full run.
pub(crate) async fn team_boxscores_of_teams(
    ctx: &ProcessContext,
    teams: &[&str],
) -> Result<Vec<TeamBoxscore>, ProcessError> {
    ctx.warehouse.ensure_table(&ScheduleGame::DEF).await?;
    let (d, list) = (date_literal(ctx.game_date), text_list(teams));
    let filter = format!(
        "game_id IN (SELECT game_id FROM {boxscores} WHERE game_date = {d} \
           AND (team_abbr IN {list} OR opponent_abbr IN {list})) \
         OR game_id IN (SELECT game_id FROM {schedule} WHERE game_date = {d} \
           AND game_id IS NOT NULL AND (home_team_abbr IN {list} OR away_team_abbr IN {list}))",
        boxscores = TeamBoxscore::DEF.qualified(),
        schedule = ScheduleGame::DEF.qualified(),
    );
    read_where(ctx, "*", &filter, "game_id, team_abbr").await
}

/// The team box scores of the games `game_ids` of D.
pub(crate) async fn team_boxscores_of_games(
    ctx: &ProcessContext,
    game_ids: &[&str],
) -> Result<Vec<TeamBoxscore>, ProcessError> {
    let filter = format!("game_id IN {}", text_list(game_ids));
    read_where(ctx, "*", &filter, "game_id, team_abbr").await
}

/// The schedule rows of D a pairing of the games `game_ids`, played by
/// `teams`, can use: the rows of those ids and every row naming one of the
/// teams (the pairing falls back to a row by teams when the id is not
/// scheduled). The order is the full schedule's, so the same row is found.
pub(crate) async fn schedule_of(
    ctx: &ProcessContext,
    game_ids: &[&str],
    teams: &[&str],
) -> Result<Vec<ScheduleGame>, ProcessError> {
    let (ids, list) = (text_list(game_ids), text_list(teams));
    let filter =
        format!("game_id IN {ids} OR home_team_abbr IN {list} OR away_team_abbr IN {list}");
    read_where(ctx, SUMMARY_SCHEDULE_COLUMNS, &filter, "game_code").await
}

/// The player box scores of D whose stored `player_lookup` is in
/// `lookups`, whose team is in `teams`, whose id is in `ids`, or whose
/// lookup is empty (derived from the name by the summary).
pub(crate) async fn player_boxscores_matching(
    ctx: &ProcessContext,
    lookups: &[&str],
    teams: &[&str],
    ids: &[i64],
) -> Result<Vec<PlayerBoxscore>, ProcessError> {
    let filter = format!(
        "player_lookup IN {} OR team_abbr IN {} OR player_id IN {} OR player_lookup = ''",
        text_list(lookups),
        text_list(teams),
        int_list(ids)
    );
    read_where(ctx, "*", &filter, "game_id, player_id").await
}
