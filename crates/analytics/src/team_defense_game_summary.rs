//! `nba_analytics.team_defense_game_summary`: the perspective flip. The
//! defending team's row is its opponent's offense seen from the other side:
//! points allowed, opponent shooting and turnovers forced come from the
//! opponent's box score; steals, blocks and defensive rebounds from the
//! defending team's own. Possessions are the game's (the same number as the
//! offense rows of the game) and DRtg = 100·points_allowed/possessions.
//!
//! Reads Phase 2 directly (`nba_raw.team_boxscores` + `nba_raw.schedule`),
//! not the offense table, so the two processors do not depend on each other.
//!
//! `data_quality` is the quality of the opponent's offense row it mirrors:
//! `both_teams`; `single_team` (the opponent's box score is the only one, so
//! the defender's steals/blocks/rebounds are NULL); `derived_from_opponent`
//! (the opponent's box score is missing: points allowed come from the
//! schedule or the defender's plus-minus, opponent shooting is NULL).

use crate::efficiency;
use crate::team_games::{TeamGame, TeamGameSummaryProcessor, TeamGameTable, one_row_per_team};
use crate::team_offense_game_summary::offense_quality;
use chrono::NaiveDate;
use propcast_core::tables::{ScheduleGame, TeamBoxscore, TeamDefenseGameSummary};
use propcast_patterns::DateSummary;

fn defense_row(
    date: NaiveDate,
    game: &TeamGame<'_>,
    index: usize,
) -> Option<TeamDefenseGameSummary> {
    let defender = &game.sides[index];
    let attacker_index = 1 - index;
    let attacker = &game.sides[attacker_index];
    let points_allowed = attacker.points?;
    let opp = attacker.boxscore;
    let own = defender.boxscore;
    Some(TeamDefenseGameSummary {
        game_date: date,
        game_id: game.game_id.clone(),
        season: game.season,
        defending_team_abbr: defender.team_abbr.clone(),
        opponent_abbr: attacker.team_abbr.clone(),
        is_home: defender.is_home,
        points_allowed,
        opp_fgm: opp.map(|b| b.fgm),
        opp_fga: opp.map(|b| b.fga),
        opp_fg3m: opp.map(|b| b.fg3m),
        opp_fg3a: opp.map(|b| b.fg3a),
        opp_ftm: opp.map(|b| b.ftm),
        opp_fta: opp.map(|b| b.fta),
        turnovers_forced: opp.map(|b| b.tov),
        steals: own.map(|b| b.stl),
        blocks: own.map(|b| b.blk),
        defensive_rebounds: own.map(|b| b.dreb),
        possessions: game.possessions,
        defensive_rating: game
            .possessions
            .and_then(|p| efficiency::rating(points_allowed, p)),
        opp_efg_pct: opp.and_then(|b| efficiency::effective_fg_pct(b.fgm, b.fg3m, b.fga)),
        opp_ts_pct: opp.and_then(|b| efficiency::true_shooting_pct(b.pts, b.fga, b.fta)),
        data_quality: offense_quality(game, attacker_index).to_string(),
    })
}

/// Computes the defense rows of `date`, sorted by defending team. A team
/// with rows in two games of one date keeps the first game (by id); the
/// other is quarantined.
pub fn summarize_team_defense(
    date: NaiveDate,
    team_rows: &[TeamBoxscore],
    schedule: &[ScheduleGame],
) -> DateSummary<TeamDefenseGameSummary> {
    one_row_per_team(
        date,
        team_rows,
        schedule,
        defense_row,
        |_, _| {},
        |row| format!("points_allowed={}", row.points_allowed),
    )
}

impl TeamGameTable for TeamDefenseGameSummary {
    const PROCESSOR: &'static str = "team_defense_game_summary";
    const TEAM_COLUMN: &'static str = "defending_team_abbr";

    fn team(&self) -> &str {
        &self.defending_team_abbr
    }

    fn game_id(&self) -> &str {
        &self.game_id
    }

    fn summarize(
        date: NaiveDate,
        team_rows: &[TeamBoxscore],
        schedule: &[ScheduleGame],
    ) -> DateSummary<Self> {
        summarize_team_defense(date, team_rows, schedule)
    }
}

/// Phase 3 processor writing `nba_analytics.team_defense_game_summary`.
pub type TeamDefenseGameSummaryProcessor = TeamGameSummaryProcessor<TeamDefenseGameSummary>;

/// The processor's value, so it is named like a unit struct.
#[allow(non_upper_case_globals)]
pub const TeamDefenseGameSummaryProcessor: TeamDefenseGameSummaryProcessor =
    TeamGameSummaryProcessor::new();

#[cfg(test)]
mod tests {
    use super::*;
    use crate::real_data::{date, real};
    use crate::summarize_team_offense;

    fn defense_on(d: NaiveDate) -> DateSummary<TeamDefenseGameSummary> {
        let r = real();
        summarize_team_defense(d, r.teams.on(d), r.schedule.on(d))
    }

    fn row<'a>(
        s: &'a DateSummary<TeamDefenseGameSummary>,
        team: &str,
    ) -> &'a TeamDefenseGameSummary {
        s.rows
            .iter()
            .find(|r| r.defending_team_abbr == team)
            .expect(team)
    }

    #[test]
    fn gsw_defense_2025_03_15_by_hand() {
        // NYK's offense that night (team_game_logs): PTS 94, FGM 37, FGA 86,
        // FG3M 9, FTA 13, TOV 13. GSW's own: STL 7, BLK 5, DREB 35.
        let s = defense_on(date("2025-03-15"));
        let g = row(&s, "GSW");
        assert_eq!((g.opponent_abbr.as_str(), g.is_home), ("NYK", true));
        assert_eq!(g.points_allowed, 94);
        assert_eq!(
            (g.opp_fgm, g.opp_fga, g.opp_fg3m, g.opp_fta),
            (Some(37), Some(86), Some(9), Some(13))
        );
        assert_eq!(g.turnovers_forced, Some(13));
        assert_eq!(
            (g.steals, g.blocks, g.defensive_rebounds),
            (Some(7), Some(5), Some(35))
        );
        let possessions = g.possessions.unwrap();
        assert!((possessions - 89.584_886_775).abs() < 1e-6);
        assert!((g.defensive_rating.unwrap() - 100.0 * 94.0 / possessions).abs() < 1e-9);
        assert!((g.opp_efg_pct.unwrap() - (37.0 + 4.5) / 86.0).abs() < 1e-12);
        assert!((g.opp_ts_pct.unwrap() - 94.0 / (2.0 * (86.0 + 0.44 * 13.0))).abs() < 1e-12);
        assert_eq!(g.data_quality, "both_teams");
    }

    #[test]
    fn single_team_game_bkn_at_nyk_2025_11_09_flips() {
        // Only BKN's box score: PTS 98 (+/- -36), FGA 82, TOV 19, STL 5,
        // BLK 8, DREB 23.
        let s = defense_on(date("2025-11-09"));
        let n = row(&s, "NYK");
        assert_eq!(
            (n.points_allowed, n.opp_fga, n.turnovers_forced),
            (98, Some(82), Some(19))
        );
        assert_eq!(
            (n.steals, n.blocks, n.defensive_rebounds),
            (None, None, None)
        );
        assert_eq!(n.data_quality, "single_team");
        let b = row(&s, "BKN");
        assert_eq!(
            (b.points_allowed, b.opp_fga, b.turnovers_forced),
            (134, None, None)
        );
        assert_eq!(
            (b.steals, b.blocks, b.defensive_rebounds),
            (Some(5), Some(8), Some(23))
        );
        assert_eq!(b.data_quality, "derived_from_opponent");
        assert_eq!(b.possessions, n.possessions);
    }

    #[test]
    fn every_defense_row_is_the_opponents_offense_row() {
        let r = real();
        let mut compared = 0;
        for d in r.teams.dates() {
            let defense = defense_on(d);
            let offense = summarize_team_offense(d, r.teams.on(d), r.schedule.on(d));
            assert_eq!(defense.rows.len(), offense.rows.len(), "{d}");
            for def in &defense.rows {
                let off = offense
                    .rows
                    .iter()
                    .find(|o| o.team_abbr == def.opponent_abbr)
                    .unwrap_or_else(|| panic!("{d} {}", def.opponent_abbr));
                assert_eq!(off.opponent_abbr, def.defending_team_abbr);
                assert_eq!(def.points_allowed, off.points);
                assert_eq!(def.opp_fga, off.fga);
                assert_eq!(def.opp_fg3m, off.fg3m);
                assert_eq!(def.turnovers_forced, off.tov);
                assert_eq!(def.possessions, off.possessions);
                assert_eq!(def.defensive_rating, off.offensive_rating);
                assert_eq!(def.opp_efg_pct, off.efg_pct);
                assert_eq!(def.opp_ts_pct, off.ts_pct);
                assert_eq!(def.data_quality, off.data_quality);
                assert_eq!(def.is_home, !off.is_home);
                compared += 1;
            }
        }
        // 2,798 rows in 2024-25 (4 All-Star rows quarantined) + 294 in 2025-26.
        assert_eq!(compared, 2_798 + 294);
    }
}
