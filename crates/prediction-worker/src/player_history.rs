//! The players' earlier games with the situation each was played in, for
//! the similarity system ([`HistoricalGame`]), built from
//! `nba_analytics.player_game_summary` and `team_defense_game_summary`
//! rows strictly before the prediction date.
//!
//! Per played game (DNP rows and 0-minute rows are not games played):
//! * `days_rest`: calendar days since the player's previous game of the
//!   same season (`None` for his first);
//! * `form_delta`: mean points of his previous ≤ 5 games of the season
//!   minus the mean of all his previous games of the season (`None` for
//!   his first);
//! * `opponent_def_rating`: the mean `defensive_rating` of the opponent's
//!   last ≤ 10 games of the season before that game's date (the same
//!   window as `upcoming_player_game_context.opponent_def_rating_last_10`);
//!   `None` when it had none.

use crate::prediction_system::HistoricalGame;
use chrono::NaiveDate;
use serde::Deserialize;
use std::collections::HashMap;

/// Opponent games averaged for the defensive rating.
pub const DEF_RATING_WINDOW: usize = 10;
/// Previous games averaged for the form.
pub const FORM_WINDOW: usize = 5;

/// The `player_game_summary` columns the history needs.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PlayerGameRow {
    pub game_date: NaiveDate,
    pub season: i64,
    pub player_lookup: String,
    pub points: i64,
    pub minutes: f64,
    pub is_home: bool,
    pub opponent_abbr: String,
    pub is_dnp: bool,
}

/// The `team_defense_game_summary` columns the history needs.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TeamDefenseRow {
    pub game_date: NaiveDate,
    pub season: i64,
    pub defending_team_abbr: String,
    pub defensive_rating: Option<f64>,
}

/// SQL columns of [`PlayerGameRow`] and [`TeamDefenseRow`].
pub const PLAYER_GAME_COLUMNS: &str =
    "game_date, season, player_lookup, points, minutes, is_home, opponent_abbr, is_dnp";
pub const TEAM_DEFENSE_COLUMNS: &str = "game_date, season, defending_team_abbr, defensive_rating";

fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

/// Each player's games strictly before `before`, newest first.
pub fn build_histories<'a>(
    games: impl IntoIterator<Item = &'a PlayerGameRow>,
    defense: impl IntoIterator<Item = &'a TeamDefenseRow>,
    before: NaiveDate,
) -> HashMap<String, Vec<HistoricalGame>> {
    // (team, season) → [(date, rating)] ascending by date.
    let mut ratings: HashMap<(&str, i64), Vec<(NaiveDate, f64)>> = HashMap::new();
    for d in defense.into_iter().filter(|d| d.game_date < before) {
        if let Some(r) = d.defensive_rating.filter(|r| r.is_finite()) {
            ratings
                .entry((d.defending_team_abbr.as_str(), d.season))
                .or_default()
                .push((d.game_date, r));
        }
    }
    for list in ratings.values_mut() {
        list.sort_by_key(|(date, _)| *date);
    }
    let rating_before = |team: &str, season: i64, date: NaiveDate| -> Option<f64> {
        let list = ratings.get(&(team, season))?;
        let end = list.partition_point(|(d, _)| *d < date);
        let window: Vec<f64> = list[end.saturating_sub(DEF_RATING_WINDOW)..end]
            .iter()
            .map(|(_, r)| *r)
            .collect();
        mean(&window)
    };

    let mut by_player: HashMap<&str, Vec<&PlayerGameRow>> = HashMap::new();
    for g in games
        .into_iter()
        .filter(|g| g.game_date < before && !g.is_dnp && g.minutes > 0.0)
    {
        by_player
            .entry(g.player_lookup.as_str())
            .or_default()
            .push(g);
    }
    let mut out = HashMap::with_capacity(by_player.len());
    for (player, mut rows) in by_player {
        rows.sort_by_key(|g| (g.season, g.game_date));
        let mut history = Vec::with_capacity(rows.len());
        let mut season_points: Vec<f64> = Vec::new();
        let mut previous: Option<&PlayerGameRow> = None;
        for g in rows {
            if previous.is_some_and(|p| p.season != g.season) {
                season_points.clear();
                previous = None;
            }
            let form_delta = match (
                mean(&season_points[season_points.len().saturating_sub(FORM_WINDOW)..]),
                mean(&season_points),
            ) {
                (Some(l5), Some(season)) => Some(l5 - season),
                _ => None,
            };
            history.push(HistoricalGame {
                game_date: g.game_date,
                points: g.points,
                minutes: g.minutes,
                is_home: g.is_home,
                opponent_abbr: g.opponent_abbr.clone(),
                days_rest: previous.map(|p| (g.game_date - p.game_date).num_days()),
                opponent_def_rating: rating_before(&g.opponent_abbr, g.season, g.game_date),
                form_delta,
            });
            season_points.push(g.points as f64);
            previous = Some(g);
        }
        history.reverse();
        out.insert(player.to_string(), history);
    }
    out
}
