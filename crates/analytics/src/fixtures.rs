//! The games of one date before they are played, as the schedule lists
//! them: which teams play, against whom, home or away, and under which game
//! id. Shared by the two upcoming contexts.
//!
//! The rule (which rows are consistent, game code for a game id not yet
//! known, the first game of a team listed twice) is
//! [`propcast_core::universe`], shared with `player_daily_cache`; here the
//! skipped rows are counted (`schedule_rows_inconsistent`) and logged.

use chrono::NaiveDate;
use propcast_core::tables::ScheduleGame;
use propcast_core::universe;
use propcast_patterns::Counters;
use propcast_patterns::reads::read_dates_as;
use propcast_patterns::{ProcessContext, ProcessError};
use std::collections::BTreeMap;

/// Season types that are not competitive games: they count for nothing in
/// a team's or player's history (record, streak, rest, ratings).
pub const EXHIBITION_SEASON_TYPES: &[&str] = &["Preseason", "All-Star"];

/// Whether a game of `season_type` counts in history.
pub fn counts_in_history(season_type: &str) -> bool {
    !EXHIBITION_SEASON_TYPES.contains(&season_type)
}

pub use propcast_core::universe::{Fixture, Fixtures, is_consistent as consistent};

/// The fixtures of `date` by the rule of [`propcast_core::universe::fixtures`]
/// (any game status). An inconsistent schedule row is skipped
/// (`schedule_rows_inconsistent`); a team listed in two games keeps the
/// first by game code (`teams_with_two_games`).
pub fn counted_fixtures<'a>(
    date: NaiveDate,
    schedule: &'a [ScheduleGame],
    counters: &mut Counters,
) -> Fixtures<'a> {
    let fixtures = universe::fixtures(date, schedule);
    for game in &fixtures.inconsistent {
        counters.bump("schedule_rows_inconsistent");
        tracing::warn!(game_date = %date, game_code = %game.game_code, home = %game.home_team_abbr, away = %game.away_team_abbr, "schedule row does not name two different teams; skipped");
    }
    counters.add("teams_with_two_games", fixtures.teams_with_two_games as i64);
    fixtures
}

/// The teams playing on `date`, each with its game ([`counted_fixtures`]).
pub fn fixtures<'a>(
    date: NaiveDate,
    schedule: &'a [ScheduleGame],
    counters: &mut Counters,
) -> BTreeMap<String, Fixture<'a>> {
    counted_fixtures(date, schedule, counters)
        .by_team
        .into_iter()
        .map(|(team, fixture)| (team.to_string(), fixture))
        .collect()
}

/// `(...)` of integers for `IN`, `(NULL)` when empty.
pub fn int_list(values: &[i64]) -> String {
    if values.is_empty() {
        "(NULL)".to_string()
    } else {
        let items: Vec<String> = values.iter().map(i64::to_string).collect();
        format!("({})", items.join(", "))
    }
}

pub(crate) const SCHEDULE_COLUMNS: &str = "game_date, game_id, game_code, season, season_type, \
     game_status, home_team_abbr, away_team_abbr, home_team_id, away_team_id, home_score, \
     away_score, tipoff_time, arena_name, source_file";

/// The schedule rows of each of `dates` (any status), with tip-off times,
/// by date in game code order.
pub(crate) async fn read_schedule_of_dates(
    ctx: &ProcessContext,
    dates: &[NaiveDate],
) -> Result<BTreeMap<NaiveDate, Vec<ScheduleGame>>, ProcessError> {
    read_dates_as(ctx, dates, SCHEDULE_COLUMNS, "game_code").await
}
