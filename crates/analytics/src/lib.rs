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
//! and checks the row count the warehouse reports (the shared
//! `propcast_patterns::partition`: `DateSummary`, `write_partition`, and
//! `write_scoped` for entity scope). The computation is in
//! pure functions (`summarize_*`, `build_*`) over the input rows; the
//! processors only read and write.
//!
//! Each processor declares the Phase 2 processors whose rows *of the date*
//! it reads ([`Processor::sources`]; the summaries of earlier dates the
//! contexts read do not count). The three summaries support entity scope:
//! given `Scope::Entities`, they read only the rows that decide the
//! in-scope rows (a team's whole game, a player's collision group) and
//! replace exactly those rows, one key at a time.
//!
//! The two team summaries share one processor,
//! [`team_games::TeamGameSummaryProcessor`], over the
//! [`team_games::TeamGameTable`] each summary table implements.

pub mod efficiency;
pub mod fixtures;
pub mod injuries;
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
pub use team_offense_game_summary::{TeamOffenseGameSummaryProcessor, summarize_team_offense};
pub use upcoming_player_game_context::{
    UpcomingPlayerGameContextProcessor, build_upcoming_player_context,
};
pub use upcoming_team_game_context::{
    UpcomingTeamGameContextProcessor, build_upcoming_team_context,
};

use propcast_patterns::Processor;

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
