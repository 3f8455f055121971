//! Test support for the composite factors and the feature store: the Phase 3
//! inputs they read, rebuilt here from the real game logs and the final
//! schedule ([`propcast_test_support::player_games`]) the way REFERENCE §2.4 defines them —
//! a stand-in while the analytics processors of those tables are built
//! elsewhere. Only facts of games strictly before the date are used; no
//! pace, rating, usage or line is filled in (NULL), the tests set the ones
//! they hand-work.

#![allow(dead_code)]

use chrono::{Duration, NaiveDate};
use propcast_core::Season;
use propcast_core::tables::{PlayerGameSummary, TeamOffenseGameSummary, UpcomingPlayerGameContext};
use propcast_test_support::player_games::{RealData, real};
use std::collections::{BTreeMap, BTreeSet};

fn season_games(r: &RealData, d: NaiveDate) -> BTreeMap<i64, Vec<&PlayerGameSummary>> {
    let first = Season::of(d).first_day();
    let mut out: BTreeMap<i64, Vec<&PlayerGameSummary>> = BTreeMap::new();
    for g in &r.games {
        if g.game_date >= first && g.game_date < d {
            out.entry(g.player_id).or_default().push(g);
        }
    }
    for gs in out.values_mut() {
        gs.sort_by_key(|g| g.game_date);
    }
    out
}

/// The team's last game date of the season before `d` (final schedule).
pub fn team_last_game(d: NaiveDate, team: &str) -> Option<NaiveDate> {
    let first = Season::of(d).first_day();
    real()
        .schedule
        .iter()
        .filter(|g| g.game_date >= first && g.game_date < d)
        .filter(|g| g.home_team_abbr == team || g.away_team_abbr == team)
        .map(|g| g.game_date)
        .max()
}

/// Upcoming player contexts of `d`: every tracked player whose latest game
/// this season before `d` was for a team that plays on `d`.
pub fn player_contexts(d: NaiveDate) -> Vec<UpcomingPlayerGameContext> {
    let r = real();
    let schedule = r.schedule_on(d);
    let mut out = Vec::new();
    for (&player_id, games) in &season_games(r, d) {
        let last = *games.last().expect("non-empty");
        let Some(game) = schedule
            .iter()
            .find(|g| g.home_team_abbr == last.team_abbr || g.away_team_abbr == last.team_abbr)
        else {
            continue;
        };
        let is_home = game.home_team_abbr == last.team_abbr;
        let opponent = if is_home {
            &game.away_team_abbr
        } else {
            &game.home_team_abbr
        };
        let window = |days: i64| -> Vec<&PlayerGameSummary> {
            games
                .iter()
                .copied()
                .filter(|g| g.game_date >= d - Duration::days(days))
                .collect()
        };
        let (l7, l14) = (window(7), window(14));
        let minutes_7: f64 = l7.iter().map(|g| g.minutes).sum();
        let dates14: BTreeSet<NaiveDate> = l14.iter().map(|g| g.game_date).collect();
        let b2b14 = dates14
            .iter()
            .zip(dates14.iter().skip(1))
            .filter(|(a, b)| (**b - **a).num_days() == 1)
            .count() as i64;
        let last10: Vec<f64> = games.iter().rev().take(10).map(|g| g.minutes).collect();
        let days_rest = (d - last.game_date).num_days();
        out.push(UpcomingPlayerGameContext {
            game_date: d,
            game_id: game
                .game_id
                .clone()
                .unwrap_or_else(|| game.game_code.clone()),
            season: game.season,
            season_type: game.season_type.clone(),
            player_id,
            player_lookup: last.player_lookup.clone(),
            player_name: last.player_name.clone(),
            team_abbr: last.team_abbr.clone(),
            opponent_abbr: opponent.clone(),
            is_home,
            tipoff_time: None,
            universe_source: "last_team_game".into(),
            games_played_season: games.len() as i64,
            days_rest: Some(days_rest),
            back_to_back: days_rest == 1,
            games_last_7_days: l7.len() as i64,
            games_last_14_days: l14.len() as i64,
            minutes_last_7_days: minutes_7,
            avg_minutes_last_7_days: (!l7.is_empty()).then(|| minutes_7 / l7.len() as f64),
            back_to_backs_last_14_days: b2b14,
            avg_usage_rate_last_7_games: None,
            minutes_avg_last_10: Some(last10.iter().sum::<f64>() / last10.len() as f64),
            opponent_days_rest: team_last_game(d, opponent).map(|o| (d - o).num_days()),
            team_pace_last_10: None,
            opponent_pace_last_10: None,
            pace_differential: None,
            opponent_def_rating_last_10: None,
            has_prop_line: false,
            current_points_line: None,
            current_line_book: None,
            current_line_snapshot_time: None,
            opening_points_line: None,
            opening_line_snapshot_time: None,
            line_movement: None,
            books_with_line: 0,
            lines_by_book: "{}".into(),
            data_quality_tier: if games.len() >= 10 { "high" } else { "medium" }.into(),
            injury_status: None,
            injury_reason: None,
            injury_source: None,
            injury_report_time: None,
            teammates_out: None,
            star_teammates_out: None,
        });
    }
    out.sort_by(|a, b| a.player_lookup.cmp(&b.player_lookup));
    out
}

/// Team offense rows of the final schedule on `d` (scores and results only).
pub fn team_offense_on(d: NaiveDate) -> Vec<TeamOffenseGameSummary> {
    let mut out = Vec::new();
    for g in real().schedule_on(d) {
        let (Some(h), Some(a)) = (g.home_score, g.away_score) else {
            continue;
        };
        for (team, opp, is_home, pts, opp_pts) in [
            (&g.home_team_abbr, &g.away_team_abbr, true, h, a),
            (&g.away_team_abbr, &g.home_team_abbr, false, a, h),
        ] {
            out.push(TeamOffenseGameSummary {
                game_date: d,
                game_id: g.game_id.clone().unwrap_or_default(),
                season: g.season,
                season_type: g.season_type.clone(),
                team_abbr: team.clone(),
                opponent_abbr: opp.clone(),
                is_home,
                points: pts,
                opponent_points: Some(opp_pts),
                win_flag: Some(pts > opp_pts),
                minutes: None,
                fgm: None,
                fga: None,
                fg3m: None,
                fg3a: None,
                ftm: None,
                fta: None,
                oreb: None,
                dreb: None,
                ast: None,
                tov: None,
                possessions: None,
                pace: None,
                offensive_rating: None,
                efg_pct: None,
                ts_pct: None,
                data_quality: "both_teams".into(),
            });
        }
    }
    out
}

pub fn context<'a>(
    rows: &'a [UpcomingPlayerGameContext],
    lookup: &str,
) -> &'a UpcomingPlayerGameContext {
    rows.iter()
        .find(|c| c.player_lookup == lookup)
        .unwrap_or_else(|| panic!("{lookup}"))
}
