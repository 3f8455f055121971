//! The game history the composite factors and the feature store compute
//! from: for each player of `nba_analytics.upcoming_player_game_context` on
//! date D, his most recent games of D's season **strictly before D** (newest
//! first, at most [`RECENT_GAMES`]) with season totals, his games against
//! D's opponent over this and the previous season before D, and each team's
//! win record this season before D.
//!
//! Games flagged `is_dnp` are left out: a game he did not play says nothing
//! about his scoring or load. One query per kind per date, each joined to
//! the date's universe in SQL (no per-player queries): [`recent_games_sql`],
//! [`opponent_history_sql`], [`team_records_sql`]. The `from_*` reductions
//! over plain game rows are the definitions the queries are tested against.

use chrono::NaiveDate;
use propcast_core::tables::{PlayerGameSummary, TeamOffenseGameSummary, UpcomingPlayerGameContext};
use propcast_core::{Season, Table};
use propcast_platform::warehouse::date_literal;
use serde::Deserialize;
use std::collections::BTreeMap;

/// Games kept per player, newest first.
pub const RECENT_GAMES: usize = 10;

/// One of a player's recent games before D, with his season totals before D
/// (repeated on each row of the player).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RecentGameRow {
    pub player_id: i64,
    pub game_date: NaiveDate,
    pub opponent_abbr: String,
    pub points: i64,
    pub minutes: f64,
    pub ftm: i64,
    pub usage_rate: Option<f64>,
    /// 1 = the most recent game.
    pub recency: i64,
    pub season_games: i64,
    pub season_points: i64,
    pub season_minutes: f64,
}

/// A player's season before D.
#[derive(Debug, Clone, PartialEq)]
pub struct PlayerHistory {
    /// Newest first, at most [`RECENT_GAMES`].
    pub recent: Vec<RecentGameRow>,
    pub season_games: i64,
    pub season_points: i64,
    pub season_minutes: f64,
}

impl PlayerHistory {
    /// The first `n` recent games (newest first).
    pub fn last(&self, n: usize) -> &[RecentGameRow] {
        &self.recent[..n.min(self.recent.len())]
    }

    pub fn season_points_avg(&self) -> Option<f64> {
        (self.season_games > 0).then(|| self.season_points as f64 / self.season_games as f64)
    }

    pub fn season_minutes_avg(&self) -> Option<f64> {
        (self.season_games > 0).then(|| self.season_minutes / self.season_games as f64)
    }

    /// Mean usage rate over the non-NULL values of the last `n` games.
    pub fn usage_avg_last(&self, n: usize) -> Option<f64> {
        let values: Vec<f64> = self.last(n).iter().filter_map(|g| g.usage_rate).collect();
        (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
    }
}

/// Groups the rows of [`recent_games_sql`] by player.
pub fn group_recent(rows: Vec<RecentGameRow>) -> BTreeMap<i64, PlayerHistory> {
    let mut out: BTreeMap<i64, PlayerHistory> = BTreeMap::new();
    for row in rows {
        let h = out.entry(row.player_id).or_insert_with(|| PlayerHistory {
            recent: Vec::new(),
            season_games: row.season_games,
            season_points: row.season_points,
            season_minutes: row.season_minutes,
        });
        h.recent.push(row);
    }
    for h in out.values_mut() {
        h.recent.sort_by_key(|g| g.recency);
        h.recent.truncate(RECENT_GAMES);
    }
    out
}

/// The definition of [`recent_games_sql`] over plain game rows: each of
/// `player_ids`' played games of `date`'s season before `date`.
pub fn history_from_games(
    date: NaiveDate,
    player_ids: &[i64],
    games: &[PlayerGameSummary],
) -> BTreeMap<i64, PlayerHistory> {
    let first = Season::of(date).first_day();
    let mut by_player: BTreeMap<i64, Vec<&PlayerGameSummary>> = BTreeMap::new();
    for g in games {
        if g.game_date >= first
            && g.game_date < date
            && !g.is_dnp
            && player_ids.contains(&g.player_id)
        {
            by_player.entry(g.player_id).or_default().push(g);
        }
    }
    let mut rows = Vec::new();
    for (id, mut gs) in by_player {
        gs.sort_by_key(|g| std::cmp::Reverse(g.game_date));
        let (n, pts, min) = (
            gs.len() as i64,
            gs.iter().map(|g| g.points).sum::<i64>(),
            gs.iter().map(|g| g.minutes).sum::<f64>(),
        );
        for (k, g) in gs.iter().take(RECENT_GAMES).enumerate() {
            rows.push(RecentGameRow {
                player_id: id,
                game_date: g.game_date,
                opponent_abbr: g.opponent_abbr.clone(),
                points: g.points,
                minutes: g.minutes,
                ftm: g.ftm,
                usage_rate: g.usage_rate,
                recency: k as i64 + 1,
                season_games: n,
                season_points: pts,
                season_minutes: min,
            });
        }
    }
    group_recent(rows)
}

/// The universe of `date` as a sub-query of player ids.
fn universe_ids(date: NaiveDate) -> String {
    format!(
        "SELECT player_id FROM {} WHERE game_date = {}",
        UpcomingPlayerGameContext::DEF.qualified(),
        date_literal(date)
    )
}

/// The recent games of every universe player of `date`: one window over the
/// season's played games before `date`, rows with recency ≤ 10 kept.
/// `player_game_summary` holds one game per player and date, so the order
/// needs no tie-break. Portable SQL (DuckDB, BigQuery).
pub fn recent_games_sql(date: NaiveDate) -> String {
    let first = Season::of(date).first_day();
    format!(
        "SELECT player_id, game_date, opponent_abbr, points, minutes, ftm, usage_rate, recency, \
           season_games, season_points, season_minutes \
         FROM (\
           SELECT player_id, game_date, opponent_abbr, points, minutes, ftm, usage_rate, \
             ROW_NUMBER() OVER (PARTITION BY player_id ORDER BY game_date DESC) AS recency, \
             COUNT(*) OVER (PARTITION BY player_id) AS season_games, \
             CAST(SUM(points) OVER (PARTITION BY player_id) AS BIGINT) AS season_points, \
             SUM(minutes) OVER (PARTITION BY player_id) AS season_minutes \
           FROM {table} \
           WHERE game_date >= {first} AND game_date < {end} AND NOT is_dnp \
             AND player_id IN ({universe})\
         ) AS g WHERE recency <= {n} ORDER BY player_id, recency",
        table = PlayerGameSummary::DEF.qualified(),
        first = date_literal(first),
        end = date_literal(date),
        universe = universe_ids(date),
        n = RECENT_GAMES,
    )
}

/// A portable SQL table of one row per date of `dates`: `day` and the first
/// day of its window, `first_day` (`first` of the date). Without dates, one
/// row that no game date can match.
fn days_table(dates: &[NaiveDate], first: impl Fn(NaiveDate) -> NaiveDate) -> String {
    if dates.is_empty() {
        return "SELECT DATE '1900-01-01' AS day, DATE '1900-01-01' AS first_day".to_string();
    }
    dates
        .iter()
        .map(|d| {
            format!(
                "SELECT {} AS day, {} AS first_day",
                date_literal(*d),
                date_literal(first(*d))
            )
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ")
}

/// [`recent_games_sql`] for every date of `dates` in one query: the same
/// rows per date, each with its date as `day`, ordered by day, player and
/// recency. Each date keeps its own window (its season's first day, its
/// universe, games strictly before it).
pub fn recent_games_range_sql(dates: &[NaiveDate]) -> String {
    let days = days_table(dates, |d| Season::of(d).first_day());
    format!(
        "WITH days AS ({days}), \
         universe AS (\
           SELECT DISTINCT d.day AS day, d.first_day AS first_day, u.player_id AS player_id \
           FROM {ctx} AS u JOIN days AS d ON u.game_date = d.day\
         ) \
         SELECT day, player_id, game_date, opponent_abbr, points, minutes, ftm, usage_rate, recency, \
           season_games, season_points, season_minutes \
         FROM (\
           SELECT u.day AS day, p.player_id AS player_id, p.game_date AS game_date, \
             p.opponent_abbr AS opponent_abbr, p.points AS points, p.minutes AS minutes, p.ftm AS ftm, \
             p.usage_rate AS usage_rate, \
             ROW_NUMBER() OVER (PARTITION BY u.day, p.player_id ORDER BY p.game_date DESC) AS recency, \
             COUNT(*) OVER (PARTITION BY u.day, p.player_id) AS season_games, \
             CAST(SUM(p.points) OVER (PARTITION BY u.day, p.player_id) AS BIGINT) AS season_points, \
             SUM(p.minutes) OVER (PARTITION BY u.day, p.player_id) AS season_minutes \
           FROM {table} AS p JOIN universe AS u ON p.player_id = u.player_id \
           WHERE p.game_date >= u.first_day AND p.game_date < u.day AND NOT p.is_dnp\
         ) AS g WHERE recency <= {n} ORDER BY day, player_id, recency",
        ctx = UpcomingPlayerGameContext::DEF.qualified(),
        table = PlayerGameSummary::DEF.qualified(),
        n = RECENT_GAMES,
    )
}

/// A player's played games against his opponent of D over this and the
/// previous season before D.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct OpponentHistoryRow {
    pub player_id: i64,
    pub games: i64,
    pub points: i64,
}

impl OpponentHistoryRow {
    pub fn points_avg(&self) -> Option<f64> {
        (self.games > 0).then(|| self.points as f64 / self.games as f64)
    }
}

/// The first day of the season before `date`'s.
pub fn previous_season_start(date: NaiveDate) -> NaiveDate {
    Season(Season::of(date).start_year() - 1).first_day()
}

/// The definition of [`opponent_history_sql`] for one player.
pub fn opponent_history_from_games(
    date: NaiveDate,
    player_id: i64,
    opponent: &str,
    games: &[PlayerGameSummary],
) -> OpponentHistoryRow {
    let first = previous_season_start(date);
    let (mut n, mut pts) = (0, 0);
    for g in games {
        if g.player_id == player_id
            && g.opponent_abbr == opponent
            && g.game_date >= first
            && g.game_date < date
            && !g.is_dnp
        {
            n += 1;
            pts += g.points;
        }
    }
    OpponentHistoryRow {
        player_id,
        games: n,
        points: pts,
    }
}

/// Head-to-head totals of every universe player of `date` against his
/// opponent of `date` (the context row's `opponent_abbr`), this and last
/// season before `date`. Players without such a game have no row.
pub fn opponent_history_sql(date: NaiveDate) -> String {
    format!(
        "SELECT u.player_id AS player_id, COUNT(*) AS games, CAST(SUM(p.points) AS BIGINT) AS points \
         FROM {games} AS p JOIN {ctx} AS u \
           ON p.player_id = u.player_id AND p.opponent_abbr = u.opponent_abbr \
         WHERE u.game_date = {d} AND p.game_date >= {first} AND p.game_date < {d} AND NOT p.is_dnp \
         GROUP BY u.player_id ORDER BY u.player_id",
        games = PlayerGameSummary::DEF.qualified(),
        ctx = UpcomingPlayerGameContext::DEF.qualified(),
        d = date_literal(date),
        first = date_literal(previous_season_start(date)),
    )
}

/// [`opponent_history_sql`] for every date of `dates` in one query: the
/// same rows per date, each with its date as `day`, ordered by day and
/// player.
pub fn opponent_history_range_sql(dates: &[NaiveDate]) -> String {
    format!(
        "WITH days AS ({days}) \
         SELECT u.game_date AS day, u.player_id AS player_id, COUNT(*) AS games, \
           CAST(SUM(p.points) AS BIGINT) AS points \
         FROM {games} AS p JOIN {ctx} AS u \
           ON p.player_id = u.player_id AND p.opponent_abbr = u.opponent_abbr \
         JOIN days AS d ON u.game_date = d.day \
         WHERE p.game_date >= d.first_day AND p.game_date < d.day AND NOT p.is_dnp \
         GROUP BY u.game_date, u.player_id ORDER BY day, player_id",
        days = days_table(dates, previous_season_start),
        games = PlayerGameSummary::DEF.qualified(),
        ctx = UpcomingPlayerGameContext::DEF.qualified(),
    )
}

/// A team's decided games this season before D.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TeamRecordRow {
    pub team_abbr: String,
    pub games: i64,
    pub wins: i64,
}

/// Win records of every team this season before `date`, over the team
/// games with a known result.
pub fn team_records_sql(date: NaiveDate) -> String {
    format!(
        "SELECT team_abbr, COUNT(*) AS games, COUNT(CASE WHEN win_flag THEN 1 END) AS wins \
         FROM {} WHERE game_date >= {} AND game_date < {} AND win_flag IS NOT NULL \
         GROUP BY team_abbr ORDER BY team_abbr",
        TeamOffenseGameSummary::DEF.qualified(),
        date_literal(Season::of(date).first_day()),
        date_literal(date),
    )
}

/// [`team_records_sql`] for every date of `dates` in one query: the same
/// rows per date, each with its date as `day`, ordered by day and team.
pub fn team_records_range_sql(dates: &[NaiveDate]) -> String {
    format!(
        "WITH days AS ({days}) \
         SELECT d.day AS day, t.team_abbr AS team_abbr, COUNT(*) AS games, \
           COUNT(CASE WHEN t.win_flag THEN 1 END) AS wins \
         FROM {table} AS t JOIN days AS d ON t.game_date >= d.first_day AND t.game_date < d.day \
         WHERE t.win_flag IS NOT NULL \
         GROUP BY d.day, t.team_abbr ORDER BY day, team_abbr",
        days = days_table(dates, |d| Season::of(d).first_day()),
        table = TeamOffenseGameSummary::DEF.qualified(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_read_only_games_before_the_date() {
        let d = NaiveDate::from_ymd_opt(2025, 11, 4).unwrap();
        let sql = recent_games_sql(d);
        assert!(sql.contains("game_date >= DATE '2025-08-01' AND game_date < DATE '2025-11-04'"));
        assert!(sql.contains("WHERE game_date = DATE '2025-11-04'"));
        let sql = opponent_history_sql(d);
        assert!(
            sql.contains("p.game_date >= DATE '2024-08-01' AND p.game_date < DATE '2025-11-04'")
        );
        assert!(team_records_sql(d).contains("game_date < DATE '2025-11-04'"));
    }

    #[test]
    fn range_queries_keep_each_dates_own_window() {
        // A range across a season boundary: each date its own season start.
        let june = NaiveDate::from_ymd_opt(2025, 6, 1).unwrap();
        let nov = NaiveDate::from_ymd_opt(2025, 11, 4).unwrap();
        let sql = recent_games_range_sql(&[june, nov]);
        assert!(sql.contains("SELECT DATE '2025-06-01' AS day, DATE '2024-08-01' AS first_day"));
        assert!(sql.contains("SELECT DATE '2025-11-04' AS day, DATE '2025-08-01' AS first_day"));
        assert!(sql.contains("p.game_date >= u.first_day AND p.game_date < u.day"));
        let sql = opponent_history_range_sql(&[nov]);
        assert!(sql.contains("SELECT DATE '2025-11-04' AS day, DATE '2024-08-01' AS first_day"));
        assert!(sql.contains("p.game_date >= d.first_day AND p.game_date < d.day"));
        let sql = team_records_range_sql(&[june]);
        assert!(sql.contains("SELECT DATE '2025-06-01' AS day, DATE '2024-08-01' AS first_day"));
        assert!(sql.contains("t.game_date >= d.first_day AND t.game_date < d.day"));
    }
}
