//! The games of one date before they are played, as the schedule lists
//! them: which teams play, against whom, home or away, and under which game
//! id. Shared by the two upcoming contexts.
//!
//! Upcoming games (`game_status` 1) have no NBA game id yet: the game code
//! ("20251110/LALCHA") stands in, exactly like `player_daily_cache` keys
//! them. A schedule row naming the same team on both sides (four known rows:
//! 0012400007 TOR/TOR, 0022401229 MIL/MIL, 0022400621 IND/IND, 0022500147
//! DET/DET) cannot say who plays whom: it is skipped and counted as
//! `schedule_rows_inconsistent`.

use chrono::NaiveDate;
use propcast_core::Table;
use propcast_core::tables::ScheduleGame;
use propcast_patterns::Counters;
use propcast_patterns::{ProcessContext, ProcessError};
use propcast_platform::WarehouseExt;
use propcast_platform::warehouse::date_literal;
use std::collections::BTreeMap;

/// Season types that are not competitive games: they count for nothing in
/// a team's or player's history (record, streak, rest, ratings).
pub const EXHIBITION_SEASON_TYPES: &[&str] = &["Preseason", "All-Star"];

/// Whether a game of `season_type` counts in history.
pub fn counts_in_history(season_type: &str) -> bool {
    !EXHIBITION_SEASON_TYPES.contains(&season_type)
}

/// A schedule row whose two sides are named and different.
pub fn consistent(game: &ScheduleGame) -> bool {
    !game.home_team_abbr.is_empty()
        && !game.away_team_abbr.is_empty()
        && game.home_team_abbr != game.away_team_abbr
}

/// One team's game on the date.
#[derive(Debug, Clone, Copy)]
pub struct Fixture<'a> {
    pub game: &'a ScheduleGame,
    pub is_home: bool,
}

impl Fixture<'_> {
    pub fn team(&self) -> &str {
        if self.is_home {
            &self.game.home_team_abbr
        } else {
            &self.game.away_team_abbr
        }
    }

    pub fn opponent(&self) -> &str {
        if self.is_home {
            &self.game.away_team_abbr
        } else {
            &self.game.home_team_abbr
        }
    }

    /// The schedule's game id, or the game code while the id is not known.
    pub fn game_id(&self) -> String {
        match self.game.game_id.as_deref() {
            Some(id) if !id.is_empty() => id.to_string(),
            _ => self.game.game_code.clone(),
        }
    }
}

/// The teams playing on `date`, each with its game (any game status). A
/// schedule row naming the same team twice is skipped
/// (`schedule_rows_inconsistent`); a team listed in two games keeps the
/// first by game code (`teams_with_two_games`).
pub fn fixtures<'a>(
    date: NaiveDate,
    schedule: &'a [ScheduleGame],
    counters: &mut Counters,
) -> BTreeMap<String, Fixture<'a>> {
    let mut games: Vec<&ScheduleGame> = schedule.iter().filter(|g| g.game_date == date).collect();
    games.sort_by(|a, b| a.game_code.cmp(&b.game_code));
    let mut out = BTreeMap::new();
    for game in games {
        if !consistent(game) {
            counters.bump("schedule_rows_inconsistent");
            tracing::warn!(game_date = %date, game_code = %game.game_code, home = %game.home_team_abbr, away = %game.away_team_abbr, "schedule row names the same team twice; skipped");
            continue;
        }
        for is_home in [true, false] {
            let fixture = Fixture { game, is_home };
            let team = fixture.team().to_string();
            if out.contains_key(&team) {
                counters.bump("teams_with_two_games");
                continue;
            }
            out.insert(team, fixture);
        }
    }
    out
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

/// The schedule rows of the context's date (any status), with tip-off times.
pub(crate) async fn read_schedule_of_date(
    ctx: &ProcessContext,
) -> Result<Vec<ScheduleGame>, ProcessError> {
    ctx.warehouse.ensure_table(&ScheduleGame::DEF).await?;
    let sql = format!(
        "SELECT {SCHEDULE_COLUMNS} FROM {} WHERE game_date = {} ORDER BY game_code",
        ScheduleGame::DEF.qualified(),
        date_literal(ctx.game_date)
    );
    Ok(ctx.warehouse.query_as(&sql).await?)
}
