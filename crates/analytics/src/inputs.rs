//! What Phase 3 reads from `nba_raw` for one date.
//!
//! Input tables are ensured first (idempotent), so a date whose raw source
//! never landed reads as empty instead of failing on a missing table.

use propcast_core::Table;
use propcast_core::tables::{PlayerBoxscore, ScheduleGame, TeamBoxscore};
use propcast_patterns::{ProcessContext, ProcessError};
use propcast_platform::WarehouseExt;
use propcast_platform::warehouse::date_literal;

async fn read<T: Table>(
    ctx: &ProcessContext,
    columns: &str,
    order: &str,
) -> Result<Vec<T>, ProcessError> {
    ctx.warehouse.ensure_table(&T::DEF).await?;
    let sql = format!(
        "SELECT {columns} FROM {} WHERE game_date = {} ORDER BY {order}",
        T::DEF.qualified(),
        date_literal(ctx.game_date)
    );
    Ok(ctx.warehouse.query_as::<T>(&sql).await?)
}

pub(crate) async fn team_boxscores(
    ctx: &ProcessContext,
) -> Result<Vec<TeamBoxscore>, ProcessError> {
    read(ctx, "*", "game_id, team_abbr").await
}

pub(crate) async fn player_boxscores(
    ctx: &ProcessContext,
) -> Result<Vec<PlayerBoxscore>, ProcessError> {
    read(ctx, "*", "game_id, player_id").await
}

/// The date's schedule. The tip-off instant is not needed here and not read
/// (it deserialises as NULL).
pub(crate) async fn schedule(ctx: &ProcessContext) -> Result<Vec<ScheduleGame>, ProcessError> {
    read(
        ctx,
        "game_date, game_id, game_code, season, season_type, game_status, home_team_abbr, \
         away_team_abbr, home_team_id, away_team_id, home_score, away_score, arena_name, source_file",
        "game_code",
    )
    .await
}
