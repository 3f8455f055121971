//! `nba_analytics.team_offense_game_summary`: one row per team per game
//! played on the date, from `nba_raw.team_boxscores` and `nba_raw.schedule`.
//!
//! * Both box scores present: Oliver possessions averaged over both teams,
//!   data_quality `both_teams`.
//! * Only this team's box score (2025-26 source): possessions from this team
//!   alone (FGA + 0.44·FTA − ORB + TOV), data_quality `single_team`.
//! * Only the opponent's box score: a row for this team anyway, with its
//!   points from the schedule's final score or else the opponent's
//!   PTS − PLUS_MINUS (counters say which), the game's possessions and pace,
//!   the offensive rating from those points, every box score stat NULL;
//!   data_quality `derived_from_opponent`.
//!
//! Possessions and pace are properties of the game: both rows of a game carry
//! the same values. Live or empty rows (0 PTS and 0 FGA) are filtered and
//! counted; games of every season type present are included.

use crate::efficiency;
use crate::team_games::{
    Coverage, TeamGame, TeamGameSummaryProcessor, TeamGameTable, one_row_per_team,
};
use chrono::NaiveDate;
use propcast_core::tables::{ScheduleGame, TeamBoxscore, TeamOffenseGameSummary};
use propcast_patterns::DateSummary;

/// The `data_quality` of the offense row of `sides[index]`.
pub(crate) fn offense_quality(game: &TeamGame<'_>, index: usize) -> &'static str {
    match (game.coverage, game.sides[index].boxscore.is_some()) {
        (Coverage::BothTeams, _) => "both_teams",
        (Coverage::SingleTeam, true) => "single_team",
        (Coverage::SingleTeam, false) => "derived_from_opponent",
    }
}

fn offense_row(
    date: NaiveDate,
    game: &TeamGame<'_>,
    index: usize,
) -> Option<TeamOffenseGameSummary> {
    let side = &game.sides[index];
    let other = &game.sides[1 - index];
    let points = side.points?;
    let b = side.boxscore;
    Some(TeamOffenseGameSummary {
        game_date: date,
        game_id: game.game_id.clone(),
        season: game.season,
        season_type: game.season_type.clone(),
        team_abbr: side.team_abbr.clone(),
        opponent_abbr: other.team_abbr.clone(),
        is_home: side.is_home,
        points,
        opponent_points: other.points,
        win_flag: game.win_flag(index),
        minutes: b.map(|b| b.minutes),
        fgm: b.map(|b| b.fgm),
        fga: b.map(|b| b.fga),
        fg3m: b.map(|b| b.fg3m),
        fg3a: b.map(|b| b.fg3a),
        ftm: b.map(|b| b.ftm),
        fta: b.map(|b| b.fta),
        oreb: b.map(|b| b.oreb),
        dreb: b.map(|b| b.dreb),
        ast: b.map(|b| b.ast),
        tov: b.map(|b| b.tov),
        possessions: game.possessions,
        pace: game
            .possessions
            .zip(game.game_minutes)
            .and_then(|(p, m)| efficiency::pace(p, m)),
        offensive_rating: game.possessions.and_then(|p| efficiency::rating(points, p)),
        efg_pct: b.and_then(|b| efficiency::effective_fg_pct(b.fgm, b.fg3m, b.fga)),
        ts_pct: b.and_then(|b| efficiency::true_shooting_pct(b.pts, b.fga, b.fta)),
        data_quality: offense_quality(game, index).to_string(),
    })
}

/// Computes the offense rows of `date`, sorted by team. A team with rows in
/// two games of one date keeps the first game (by id); the other is
/// quarantined.
pub fn summarize_team_offense(
    date: NaiveDate,
    team_rows: &[TeamBoxscore],
    schedule: &[ScheduleGame],
) -> DateSummary<TeamOffenseGameSummary> {
    one_row_per_team(
        date,
        team_rows,
        schedule,
        offense_row,
        |row, counters| {
            if row.data_quality == "derived_from_opponent" {
                counters.bump("derived_from_opponent_rows");
            }
        },
        |row| format!("points={}", row.points),
    )
}

impl TeamGameTable for TeamOffenseGameSummary {
    const PROCESSOR: &'static str = "team_offense_game_summary";
    const TEAM_COLUMN: &'static str = "team_abbr";

    fn team(&self) -> &str {
        &self.team_abbr
    }

    fn game_id(&self) -> &str {
        &self.game_id
    }

    fn summarize(
        date: NaiveDate,
        team_rows: &[TeamBoxscore],
        schedule: &[ScheduleGame],
    ) -> DateSummary<Self> {
        summarize_team_offense(date, team_rows, schedule)
    }
}

/// Phase 3 processor writing `nba_analytics.team_offense_game_summary`.
pub type TeamOffenseGameSummaryProcessor = TeamGameSummaryProcessor<TeamOffenseGameSummary>;

/// The processor's value, so it is named like a unit struct.
#[allow(non_upper_case_globals)]
pub const TeamOffenseGameSummaryProcessor: TeamOffenseGameSummaryProcessor =
    TeamGameSummaryProcessor::new();

#[cfg(test)]
mod tests {
    use super::*;
    use crate::real_data::{date, real, real_cdn_scores_2024_25};

    fn offense_on(d: NaiveDate) -> DateSummary<TeamOffenseGameSummary> {
        let r = real();
        summarize_team_offense(d, r.teams.on(d), r.schedule.on(d))
    }

    fn row<'a>(
        s: &'a DateSummary<TeamOffenseGameSummary>,
        team: &str,
    ) -> &'a TeamOffenseGameSummary {
        s.rows.iter().find(|r| r.team_abbr == team).expect(team)
    }

    fn close(a: Option<f64>, b: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() < 1e-9)
    }

    #[test]
    fn gsw_nyk_2025_03_15_possessions_pace_and_ratings_by_hand() {
        // team_game_logs_2014_15_to_2024_25.csv.gz, game 0022400974 (NYK @ GSW):
        //   GSW MIN 239 PTS 97 FGM 33 FGA 83 FG3M 13 FTA 22 OREB 10 DREB 35 TOV 9
        //   NYK MIN 240 PTS 94 FGM 37 FGA 86 FG3M  9 FTA 13 OREB 13 DREB 36 TOV 13
        let gsw: f64 = 83.0 + 0.4 * 22.0 - 1.07 * (10.0 / (10.0 + 36.0)) * (83.0 - 33.0) + 9.0;
        let nyk = 86.0 + 0.4 * 13.0 - 1.07 * (13.0 / (13.0 + 35.0)) * (86.0 - 37.0) + 13.0;
        let possessions = 0.5 * (gsw + nyk);
        assert!((possessions - 89.584_886_775).abs() < 1e-6, "{possessions}");

        let s = offense_on(date("2025-03-15"));
        assert_eq!(s.rows.len(), 16, "8 games on 2025-03-15");
        let g = row(&s, "GSW");
        assert_eq!(g.game_id, "0022400974");
        assert_eq!((g.opponent_abbr.as_str(), g.is_home), ("NYK", true));
        assert_eq!(
            (g.points, g.opponent_points, g.win_flag),
            (97, Some(94), Some(true))
        );
        assert!(close(g.possessions, possessions));
        // GSW's 239 team minutes are a regulation game: pace = possessions.
        assert!(close(g.pace, possessions));
        assert!(close(g.offensive_rating, 100.0 * 97.0 / possessions));
        assert!((g.offensive_rating.unwrap() - 108.277).abs() < 1e-3);
        assert!(close(g.efg_pct, (33.0 + 0.5 * 13.0) / 83.0));
        assert!(close(g.ts_pct, 97.0 / (2.0 * (83.0 + 0.44 * 22.0))));
        assert_eq!(g.data_quality, "both_teams");

        let n = row(&s, "NYK");
        assert!(
            close(n.possessions, possessions),
            "one possession count per game"
        );
        assert!((n.offensive_rating.unwrap() - 104.928).abs() < 1e-3);
        assert_eq!(
            (n.is_home, n.win_flag, n.tov),
            (false, Some(false), Some(13))
        );
    }

    #[test]
    fn overtime_pace_is_per_48_minutes() {
        // 0022401198 LAC @ GSW on 2025-04-13, one overtime: both MIN 265.
        //   LAC FGA 86 FGM 48 FTA 18 OREB 9 DREB 33 TOV 16
        //   GSW FGA 79 FGM 43 FTA 23 OREB 3 DREB 22 TOV 15
        let lac = 86.0 + 0.4 * 18.0 - 1.07 * (9.0 / (9.0 + 22.0)) * (86.0 - 48.0) + 16.0;
        let gsw = 79.0 + 0.4 * 23.0 - 1.07 * (3.0 / (3.0 + 33.0)) * (79.0 - 43.0) + 15.0;
        let possessions = 0.5 * (lac + gsw);
        let s = offense_on(date("2025-04-13"));
        let l = row(&s, "LAC");
        assert!(close(l.possessions, possessions));
        assert!(close(l.pace, possessions * 48.0 / 53.0));
        assert_eq!(l.minutes, Some(265.0));
    }

    #[test]
    fn every_2024_25_team_score_equals_the_real_nba_schedule() {
        // Oracle: the real 2024-25 CDN schedule of the original system, not
        // the files the box scores came from.
        let cdn = real_cdn_scores_2024_25();
        let r = real();
        let (mut rows, mut checked, mut not_in_cdn) = (0, 0, 0);
        let mut quarantined = Vec::new();
        for d in r.teams.dates().filter(|d| *d < date("2025-08-01")) {
            let s = offense_on(d);
            // All-Star weekend mini-tournaments (Rising Stars on 2025-02-14,
            // the All-Star Game on 2025-02-16): a team plays a semi-final and
            // the final on one date; the key (date, team) holds one game, so
            // each final's two rows are quarantined.
            for e in s.quarantine.entries() {
                assert!(e.record.starts_with("game_id=003"), "{d}: {e:?}");
                quarantined.push(e.record.clone());
            }
            for row in &s.rows {
                rows += 1;
                assert_eq!(row.data_quality, "both_teams", "{d} {}", row.team_abbr);
                let Some(sides) = cdn.get(&row.game_id) else {
                    not_in_cdn += 1;
                    continue;
                };
                let score = sides.iter().find(|(t, _)| *t == row.team_abbr);
                let (_, points) =
                    score.unwrap_or_else(|| panic!("{} {}", row.game_id, row.team_abbr));
                assert_eq!(row.points, *points, "{} {}", row.game_id, row.team_abbr);
                assert_eq!(
                    row.win_flag,
                    Some(row.points > row.opponent_points.unwrap())
                );
                checked += 1;
            }
        }
        assert_eq!(
            quarantined,
            [
                "game_id=0032400006 team=TMC",
                "game_id=0032400006 team=TMG",
                "game_id=0032400031 team=CHK",
                "game_id=0032400031 team=SHQ"
            ]
        );
        // 1,401 games = 2,802 team rows, less the 4 quarantined; one kept
        // All-Star weekend game is not in the CDN schedule.
        assert_eq!(rows, 2_798);
        assert_eq!(not_in_cdn, 2);
        assert_eq!(checked, 2_796);
    }

    #[test]
    fn single_team_game_bkn_at_nyk_2025_11_09_by_hand() {
        // team_game_logs_2025_26: only BKN's row: PTS 98, PLUS_MINUS -36,
        // FGA 82, FTA 24, OREB 15, TOV 19. NYK scored 98 + 36 = 134.
        let s = offense_on(date("2025-11-09"));
        let b = row(&s, "BKN");
        assert_eq!(b.data_quality, "single_team");
        let possessions = 82.0 + 0.44 * 24.0 - 15.0 + 19.0;
        assert!(close(b.possessions, possessions));
        assert_eq!(
            (b.points, b.opponent_points, b.win_flag),
            (98, Some(134), Some(false))
        );
        let n = row(&s, "NYK");
        assert_eq!(n.data_quality, "derived_from_opponent");
        assert_eq!(
            (n.points, n.opponent_points, n.win_flag),
            (134, Some(98), Some(true))
        );
        assert!(n.is_home && !b.is_home);
        assert_eq!(
            (n.fga, n.tov, n.minutes, n.efg_pct),
            (None, None, None, None)
        );
        assert!(close(n.possessions, possessions), "the game's possessions");
        assert!(close(n.offensive_rating, 100.0 * 134.0 / possessions));
    }

    #[test]
    fn every_2025_26_game_gets_two_reconciled_rows() {
        let r = real();
        let (mut games, mut rows) = (0, 0);
        for d in r.teams.dates().filter(|d| *d >= date("2025-08-01")) {
            let s = offense_on(d);
            let sched = r.schedule.on(d);
            games += r.teams.on(d).len();
            rows += s.rows.len();
            assert_eq!(s.counters.get("derived_points_disagree"), 0, "{d}");
            for t in &s.rows {
                let opp = row(&s, &t.opponent_abbr);
                assert_eq!(opp.opponent_abbr, t.team_abbr);
                assert_eq!(t.opponent_points, Some(opp.points));
                assert_ne!(t.win_flag, opp.win_flag);
                assert_eq!(t.possessions, opp.possessions);
                assert_ne!(t.is_home, opp.is_home, "{d} {}", t.game_id);
                // Team points equal the schedule's final score.
                let g = sched
                    .iter()
                    .find(|g| g.game_id.as_deref() == Some(t.game_id.as_str()))
                    .unwrap();
                if g.home_team_abbr != g.away_team_abbr {
                    let expected = if t.is_home {
                        g.home_score
                    } else {
                        g.away_score
                    };
                    assert_eq!(Some(t.points), expected, "{d} {}", t.team_abbr);
                }
            }
        }
        assert_eq!(games, 147, "one box score row per game");
        assert_eq!(rows, 294);
    }

    #[test]
    fn live_rows_are_filtered_and_the_game_falls_back_to_one_side() {
        let d = date("2025-03-15");
        let r = real();
        let mut rows = r.teams.on(d).to_vec();
        let gsw = rows.iter_mut().find(|t| t.team_abbr == "GSW").unwrap();
        (gsw.pts, gsw.fga) = (0, 0);
        let s = summarize_team_offense(d, &rows, r.schedule.on(d));
        assert_eq!(s.counters.get("filtered_live_rows"), 1);
        assert_eq!(s.rows.len(), 16, "the batch is not rejected");
        let g = row(&s, "GSW");
        // The schedule's final score is preferred over NYK's plus-minus.
        assert_eq!(
            (g.points, g.data_quality.as_str()),
            (97, "derived_from_opponent")
        );
        assert_eq!(s.counters.get("derived_points_from_schedule"), 1);
        assert_eq!(row(&s, "NYK").data_quality, "single_team");

        // Without a schedule: NYK's 94 points minus its -3 plus-minus.
        let s = summarize_team_offense(d, &rows, &[]);
        assert_eq!(row(&s, "GSW").points, 97);
        assert_eq!(s.counters.get("derived_points_from_plus_minus"), 1);
    }
}
