//! `nba_precompute.player_daily_cache`: for each player expected to play on
//! the cache date D, points and minutes form from games strictly before D.
//!
//! **Universe.** (a) Every player whose most recent game this season before
//! D was for a team that plays on D per `nba_raw.schedule` (any game status),
//! plus (b) every player with a resolved `player_points` line on D
//! (`nba_raw.player_props`, `player_id` not NULL, snapshot taken before
//! tip-off), even with no games yet; the prop's team wins over the last
//! game's team when it plays on D (a traded player). A traded player with no
//! prop whose old team also plays on D is cached with the old team: nothing
//! before tip-off says otherwise (Luka Dončić on 2025-02-10: last game for
//! DAL, first game for LAL that night).
//!
//! **Point in time.** Only games of D's season with `game_date < D` are read;
//! rows on or after D never change D's cache.
//!
//! **Fields.** Averages over the last 5 / last 10 / all season games, over
//! the games available when fewer (NULL with none). `points_std_last_10` is
//! the *sample* standard deviation (n − 1) of up to 10 games, NULL with fewer
//! than 2: with 3–10 games the sample estimate is the less biased spread of a
//! scoring distribution. `games_last_7_days` counts games in [D−7, D−1].
//! `days_rest` = D − last game date in calendar days, so **1 means a
//! back-to-back** (the one semantics of the project). `calculation_quality`
//! is `complete` with ≥ 10 games, `partial` with 1–9 (the number is in
//! `games_played_season`), `none` with 0. `game_id` is the schedule's game
//! id, or its game code while the id is not known (upcoming games).
//!
//! **Speed.** Three reads per range of dates (one date on the daily path):
//! the dates' schedule rows, their resolved points lines, and every player
//! game of the range's seasons before its last date ([`games_sql`]). Each
//! date's seasons are cut from those games in memory by the one rule of
//! [`propcast_core::season_games`] ([`SeasonToDate::before`]), so a date
//! computed in a range gets exactly the rows it gets alone. What a full
//! backfill of the cache costs: docs/BENCHMARKS.md.

use async_trait::async_trait;
use chrono::{Duration, NaiveDate};
use propcast_core::season_games::{PlayerGame, SeasonGames};
use propcast_core::tables::{PlayerDailyCache, PlayerGameSummary, PlayerProp, ScheduleGame};
pub use propcast_core::universe::PropPlayer;
use propcast_core::universe::{LastTeamGame, fixtures, universe};
use propcast_core::{Season, Table, TableDef};
use propcast_patterns::reads::{by_date, on_date, read_dates_as};
use propcast_patterns::{DateSummary, RangeInputs, process_date, process_dates};
use propcast_patterns::{
    Dependency, Phase, ProcessContext, ProcessError, ProcessOutput, Processor, RangeOutput,
};
use propcast_platform::WarehouseExt;
use propcast_platform::warehouse::{date_list, date_literal};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};

/// Games in the longest window the cache averages over.
pub const RECENT_GAMES: usize = 10;
/// Games needed for a `complete` cache row.
pub const COMPLETE_GAMES: i64 = 10;

/// One of a player's games before the cache date (columns of
/// `nba_analytics.player_game_summary`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PriorGame {
    pub player_id: i64,
    pub player_lookup: String,
    pub player_name: String,
    pub team_abbr: String,
    pub game_id: String,
    pub game_date: NaiveDate,
    pub points: i64,
    pub minutes: f64,
}

impl From<&PlayerGameSummary> for PriorGame {
    fn from(g: &PlayerGameSummary) -> Self {
        PriorGame {
            player_id: g.player_id,
            player_lookup: g.player_lookup.clone(),
            player_name: g.player_name.clone(),
            team_abbr: g.team_abbr.clone(),
            game_id: g.game_id.clone(),
            game_date: g.game_date,
            points: g.points,
            minutes: g.minutes,
        }
    }
}

/// One of the most recent games, as far as the cache needs it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RecentGame {
    pub points: i64,
    pub minutes: f64,
}

/// A player's season before the cache date D: identity as of the most
/// recent game, totals over every game, and the most recent games.
#[derive(Debug, Clone, PartialEq)]
pub struct SeasonToDate {
    pub player_lookup: String,
    pub player_name: String,
    /// The team of the most recent game.
    pub team_abbr: String,
    pub games: i64,
    pub points: i64,
    pub minutes: f64,
    pub last_game_date: NaiveDate,
    /// Games in [D−7, D−1].
    pub games_last_7_days: i64,
    /// Newest first, at most [`RECENT_GAMES`], never empty.
    pub recent: Vec<RecentGame>,
}

/// The first date of `date`'s season and `date` itself: the half-open range
/// of games that may inform the cache of `date`.
pub fn history_window(date: NaiveDate) -> (NaiveDate, NaiveDate) {
    (Season::of(date).first_day(), date)
}

/// The first day of the 7-day window before `date`.
fn week_start(date: NaiveDate) -> NaiveDate {
    date - Duration::days(7)
}

impl PlayerGame for PriorGame {
    fn player_id(&self) -> i64 {
        self.player_id
    }
    fn game_date(&self) -> NaiveDate {
        self.game_date
    }
    fn game_id(&self) -> &str {
        &self.game_id
    }
}

impl SeasonToDate {
    /// The definition: reduces game rows of any dates to each player's
    /// season before `date` (games of `date`'s season strictly before
    /// `date`; all others ignored).
    pub fn from_games(
        date: NaiveDate,
        games: impl IntoIterator<Item = PriorGame>,
    ) -> BTreeMap<i64, SeasonToDate> {
        SeasonToDate::before(&SeasonGames::new(games), date, |_, _| true)
    }

    /// Each player's season before `date` for the players `keep` accepts,
    /// given their id and most recent game.
    pub fn before(
        games: &SeasonGames<PriorGame>,
        date: NaiveDate,
        keep: impl Fn(i64, &PriorGame) -> bool,
    ) -> BTreeMap<i64, SeasonToDate> {
        games
            .before(date)
            .filter_map(|(id, season)| {
                let latest = season.last().filter(|latest| keep(id, latest))?;
                let to_date = SeasonToDate {
                    player_lookup: latest.player_lookup.clone(),
                    player_name: latest.player_name.clone(),
                    team_abbr: latest.team_abbr.clone(),
                    games: season.len() as i64,
                    points: season.iter().map(|g| g.points).sum(),
                    minutes: season.iter().map(|g| g.minutes).sum(),
                    last_game_date: latest.game_date,
                    games_last_7_days: season
                        .iter()
                        .filter(|g| g.game_date >= week_start(date))
                        .count() as i64,
                    recent: season
                        .iter()
                        .rev()
                        .take(RECENT_GAMES)
                        .map(|g| RecentGame {
                            points: g.points,
                            minutes: g.minutes,
                        })
                        .collect(),
                };
                Some((id, to_date))
            })
            .collect()
    }
}

impl LastTeamGame for SeasonToDate {
    fn team_abbr(&self) -> &str {
        &self.team_abbr
    }

    fn player_lookup(&self) -> &str {
        &self.player_lookup
    }

    fn player_name(&self) -> &str {
        &self.player_name
    }
}

fn mean(values: impl Iterator<Item = f64> + Clone) -> Option<f64> {
    let n = values.clone().count();
    (n > 0).then(|| values.sum::<f64>() / n as f64)
}

/// Sample standard deviation (n − 1); `None` with fewer than 2 values.
pub fn sample_std(values: &[f64]) -> Option<f64> {
    if values.len() < 2 {
        return None;
    }
    let n = values.len() as f64;
    let m = values.iter().sum::<f64>() / n;
    let ss: f64 = values.iter().map(|v| (v - m) * (v - m)).sum();
    Some((ss / (n - 1.0)).sqrt())
}

fn quality(games: i64) -> &'static str {
    match games {
        0 => "none",
        g if g >= COMPLETE_GAMES => "complete",
        _ => "partial",
    }
}

/// Computes the cache rows of `date`, sorted by `player_lookup`.
///
/// `seasons` holds each candidate player's season before `date` (players
/// outside the universe are ignored); `props` the players with a resolved
/// points line on `date`.
pub fn build_player_daily_cache(
    date: NaiveDate,
    schedule: &[ScheduleGame],
    props: &[PropPlayer],
    seasons: &BTreeMap<i64, SeasonToDate>,
) -> DateSummary<PlayerDailyCache> {
    let mut summary = DateSummary::<PlayerDailyCache>::default();
    let fixtures = fixtures(date, schedule);
    summary.input_rows = fixtures.by_team.len();
    let counters = &mut summary.counters;
    counters.add(
        "schedule_rows_inconsistent",
        fixtures.inconsistent.len() as i64,
    );
    counters.add("teams_with_two_games", fixtures.teams_with_two_games as i64);
    let universe = universe(&fixtures, seasons, props.iter().cloned());
    for (name, n) in universe.counts() {
        counters.add(name, n);
    }
    universe.warn_anomalies(date);

    for member in universe.members {
        let fixture = member.fixture;
        let (games, points, minutes, recent): (i64, i64, f64, &[RecentGame]) = match member.season {
            Some(s) => (s.games, s.points, s.minutes, &s.recent),
            None => (0, 0, 0.0, &[]),
        };
        let last = |n: usize| recent.iter().take(n);
        let last10_points: Vec<f64> = last(10).map(|g| g.points as f64).collect();
        let last_game_date = member.season.map(|s| s.last_game_date);
        summary.rows.push(PlayerDailyCache {
            game_date: date,
            player_lookup: member.player_lookup,
            player_id: member.player_id,
            player_name: member.player_name,
            team_abbr: member.team_abbr.clone(),
            opponent_abbr: fixture.opponent().to_string(),
            is_home: fixture.is_home,
            game_id: fixture.game_id(),
            season: i64::from(Season::of(date).start_year()),
            games_played_season: games,
            points_avg_last_5: mean(last(5).map(|g| g.points as f64)),
            points_avg_last_10: mean(last(10).map(|g| g.points as f64)),
            points_avg_season: (games > 0).then(|| points as f64 / games as f64),
            points_std_last_10: sample_std(&last10_points),
            minutes_avg_last_5: mean(last(5).map(|g| g.minutes)),
            minutes_avg_last_10: mean(last(10).map(|g| g.minutes)),
            minutes_avg_season: (games > 0).then(|| minutes / games as f64),
            games_last_7_days: member.season.map_or(0, |s| s.games_last_7_days),
            days_rest: last_game_date.map(|d| (date - d).num_days()),
            last_game_date,
            calculation_quality: quality(games).to_string(),
        });
    }
    summary
        .rows
        .sort_by(|a, b| a.player_lookup.cmp(&b.player_lookup));
    summary
}

/// Every player's games of `[first, end)`: the seasons of each date of a
/// range are cut from them ([`SeasonToDate::before`]).
pub fn games_sql(first: NaiveDate, end: NaiveDate) -> String {
    format!(
        "SELECT player_id, player_lookup, player_name, team_abbr, game_id, game_date, points, minutes \
         FROM {table} WHERE game_date >= {first} AND game_date < {end} \
         ORDER BY player_id, game_date, game_id",
        table = PlayerGameSummary::DEF.qualified(),
        first = date_literal(first),
        end = date_literal(end),
    )
}

/// Phase 4 processor writing `nba_precompute.player_daily_cache`.
#[derive(Debug, Clone, Copy, Default)]
pub struct PlayerDailyCacheProcessor;

/// Everything the caches of a range of dates are computed from, read once
/// (one date on the daily path): each date's schedule rows and players
/// with a resolved points line taken before tip-off, and the player games
/// of the range's seasons before its last date.
struct CacheInputs {
    schedule: BTreeMap<NaiveDate, Vec<ScheduleGame>>,
    props: BTreeMap<NaiveDate, Vec<PropPlayer>>,
    games: SeasonGames<PriorGame>,
}

#[async_trait]
impl RangeInputs for CacheInputs {
    type Row = PlayerDailyCache;

    async fn read(ctx: &ProcessContext, dates: &[NaiveDate]) -> Result<Self, ProcessError> {
        let schedule: BTreeMap<NaiveDate, Vec<ScheduleGame>> = read_dates_as(
            ctx,
            dates,
            "game_date, game_id, game_code, season, season_type, game_status, home_team_abbr, \
             away_team_abbr, home_team_id, away_team_id, home_score, away_score, arena_name, \
             source_file",
            "game_code",
        )
        .await?;
        ctx.warehouse.ensure_table(&PlayerProp::DEF).await?;
        let sql = format!(
            "SELECT DISTINCT game_date, player_id, team_abbr, player_lookup, player_name FROM {} \
             WHERE game_date IN {} AND market = 'player_points' AND player_id IS NOT NULL \
             AND minutes_before_tipoff >= 0 \
             ORDER BY game_date, player_id, team_abbr, player_lookup, player_name",
            PlayerProp::DEF.qualified(),
            date_list(dates)
        );
        let props: BTreeMap<NaiveDate, Vec<PropPlayer>> = by_date(
            ctx.warehouse.query_rows(&sql).await?,
            "game_date",
            "prop players",
        )?;
        let first = dates.iter().map(|d| history_window(*d).0).min();
        let games = match (first, dates.iter().max()) {
            (Some(first), Some(end)) if !schedule.is_empty() || !props.is_empty() => {
                ctx.warehouse.ensure_table(&PlayerGameSummary::DEF).await?;
                let rows: Vec<PriorGame> = ctx.warehouse.query_as(&games_sql(first, *end)).await?;
                SeasonGames::new(rows)
            }
            _ => SeasonGames::default(),
        };
        Ok(CacheInputs {
            schedule,
            props,
            games,
        })
    }

    /// The cache of `date`: the seasons of the players whose latest game
    /// was for a team on D's schedule or who have a line on D (the others
    /// are not in the universe).
    fn build(&self, date: NaiveDate) -> DateSummary<PlayerDailyCache> {
        let schedule = on_date(&self.schedule, date);
        let props = on_date(&self.props, date);
        let teams: BTreeSet<&str> = schedule
            .iter()
            .flat_map(|g| [g.home_team_abbr.as_str(), g.away_team_abbr.as_str()])
            .filter(|t| !t.is_empty())
            .collect();
        let prop_ids: BTreeSet<i64> = props.iter().map(|p| p.player_id).collect();
        let seasons = SeasonToDate::before(&self.games, date, |id, latest| {
            teams.contains(latest.team_abbr.as_str()) || prop_ids.contains(&id)
        });
        build_player_daily_cache(date, schedule, props, &seasons)
    }
}

#[async_trait]
impl Processor for PlayerDailyCacheProcessor {
    fn name(&self) -> &'static str {
        "player_daily_cache"
    }

    fn phase(&self) -> Phase {
        Phase::Precompute
    }

    fn outputs(&self) -> Vec<TableDef> {
        vec![PlayerDailyCache::DEF]
    }

    /// Reads `nba_raw.schedule` and `nba_raw.player_props` of D;
    /// `player_game_summary` only before D. It does not read the upcoming
    /// contexts.
    fn sources(&self) -> Option<&'static [&'static str]> {
        Some(&["schedule", "player_props"])
    }

    /// Every row is a player of a team with a fixture of D in the schedule.
    fn dependencies(&self) -> Vec<Dependency> {
        vec![Dependency {
            table: &ScheduleGame::DEF,
            min_rows: 1,
        }]
    }

    async fn process(&self, ctx: &ProcessContext) -> Result<ProcessOutput, ProcessError> {
        process_date::<CacheInputs>(ctx, self.name()).await
    }

    /// Every input of the range read once ([`CacheInputs`]), each date
    /// built as by date, one write.
    async fn process_range(
        &self,
        ctx: &ProcessContext,
        dates: &[NaiveDate],
    ) -> Result<RangeOutput, ProcessError> {
        process_dates::<CacheInputs>(ctx, self.name(), dates).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::real_data::{date, real};

    fn cache_from(
        d: NaiveDate,
        games: impl IntoIterator<Item = PriorGame>,
        props: &[PropPlayer],
    ) -> DateSummary<PlayerDailyCache> {
        let seasons = SeasonToDate::from_games(d, games);
        build_player_daily_cache(d, &real().schedule_on(d), props, &seasons)
    }

    fn cache_on(d: NaiveDate, props: &[PropPlayer]) -> DateSummary<PlayerDailyCache> {
        cache_from(d, real().games.iter().map(PriorGame::from), props)
    }

    fn prop_players(d: NaiveDate) -> Vec<PropPlayer> {
        real()
            .props_on(d)
            .iter()
            .filter_map(PropPlayer::of)
            .collect()
    }

    fn row<'a>(s: &'a DateSummary<PlayerDailyCache>, lookup: &str) -> &'a PlayerDailyCache {
        s.rows
            .iter()
            .find(|r| r.player_lookup == lookup)
            .expect(lookup)
    }

    fn close(a: Option<f64>, b: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() < 1e-9)
    }

    #[test]
    fn stephen_curry_before_2025_03_15_by_hand() {
        // player_game_logs_2024_25, Curry's last 10 games before 2025-03-15,
        // newest first (points, minutes):
        //   03-13 SAC 11 30 | 03-10 POR 24 34 | 03-08 DET 32 33 | 03-06 @BKN 40 36
        //   03-04 @NYK 28 33 | 03-03 @CHA 21 30 | 03-01 @PHI 29 36 | 02-27 @ORL 56 34
        //   02-25 CHA 15 24 | 02-23 DAL 30 29
        // and 57 games, 1,384 points, 1,829 minutes this season before the date.
        let s = cache_on(date("2025-03-15"), &[]);
        let c = row(&s, "stephencurry");
        assert_eq!((c.player_id, c.team_abbr.as_str()), (201939, "GSW"));
        assert_eq!((c.opponent_abbr.as_str(), c.is_home), ("NYK", true));
        assert_eq!((c.game_id.as_str(), c.season), ("0022400974", 2024));
        assert_eq!(c.games_played_season, 57);
        assert!(close(
            c.points_avg_last_5,
            (11.0 + 24.0 + 32.0 + 40.0 + 28.0) / 5.0
        ));
        assert!(close(c.points_avg_last_5, 27.0));
        assert!(close(c.points_avg_last_10, 28.6));
        assert!(close(c.points_avg_season, 1384.0 / 57.0));
        let last10 = [11.0, 24.0, 32.0, 40.0, 28.0, 21.0, 29.0, 56.0, 15.0, 30.0];
        let m = 28.6;
        let var: f64 = last10.iter().map(|x: &f64| (x - m) * (x - m)).sum::<f64>() / 9.0;
        assert!(
            (var.sqrt() - 12.773_235_9).abs() < 1e-6,
            "sample, not population (12.1178)"
        );
        assert!(close(c.points_std_last_10, var.sqrt()));
        assert!(close(c.minutes_avg_last_5, 33.2));
        assert!(close(c.minutes_avg_last_10, 31.9));
        assert!(close(c.minutes_avg_season, 1829.0 / 57.0));
        // [03-08, 03-14]: 03-08, 03-10, 03-13.
        assert_eq!(c.games_last_7_days, 3);
        assert_eq!(
            (c.days_rest, c.last_game_date),
            (Some(2), Some(date("2025-03-13")))
        );
        assert_eq!(c.calculation_quality, "complete");
    }

    #[test]
    fn back_to_back_is_one_day_of_rest() {
        // Curry played 03-03 @CHA and 03-04 @NYK.
        let s = cache_on(date("2025-03-04"), &[]);
        let c = row(&s, "stephencurry");
        assert_eq!(
            (c.days_rest, c.last_game_date),
            (Some(1), Some(date("2025-03-03")))
        );
        assert_eq!(c.opponent_abbr, "NYK");
    }

    #[test]
    fn nothing_on_or_after_the_date_changes_the_cache() {
        let r = real();
        let dates: Vec<NaiveDate> = r
            .schedule
            .iter()
            .map(|g| g.game_date)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .step_by(15)
            .collect();
        assert!(dates.len() > 10);
        for d in dates {
            let all: Vec<PriorGame> = r.games.iter().map(PriorGame::from).collect();
            let before: Vec<PriorGame> = all.iter().filter(|g| g.game_date < d).cloned().collect();
            let mut changed = all.clone();
            for g in changed.iter_mut().filter(|g| g.game_date >= d) {
                g.points += 50;
                g.minutes = 48.0;
                g.team_abbr = "XXX".to_string();
            }
            let reference = cache_from(d, before, &[]);
            assert_eq!(cache_on(d, &[]).rows, reference.rows, "{d}");
            assert_eq!(cache_from(d, changed, &[]).rows, reference.rows, "{d}");
        }
    }

    #[test]
    fn universe_is_every_player_whose_last_team_plays_today() {
        let d = date("2025-03-15");
        let r = real();
        let schedule = r.schedule_on(d);
        let playing: BTreeSet<&str> = schedule
            .iter()
            .flat_map(|g| [g.home_team_abbr.as_str(), g.away_team_abbr.as_str()])
            .collect();
        assert_eq!(playing.len(), 16);
        // Brute force: each player's latest game before d.
        let mut expected = BTreeSet::new();
        for g in r
            .games
            .iter()
            .filter(|g| g.game_date < d && g.game_date >= date("2024-08-01"))
        {
            let newer = r.games.iter().any(|h| {
                h.player_id == g.player_id && h.game_date < d && h.game_date > g.game_date
            });
            if !newer && playing.contains(g.team_abbr.as_str()) {
                expected.insert(g.player_id);
            }
        }
        let s = cache_on(d, &[]);
        let got: BTreeSet<i64> = s.rows.iter().map(|c| c.player_id).collect();
        assert_eq!(got, expected);
        assert!(
            s.rows
                .iter()
                .all(|c| playing.contains(c.team_abbr.as_str()))
        );
        assert!(
            s.rows
                .windows(2)
                .all(|w| w[0].player_lookup < w[1].player_lookup)
        );
        assert_eq!(
            s.counters.get("universe_from_schedule"),
            expected.len() as i64
        );
    }

    #[test]
    fn a_points_line_moves_a_traded_player_to_his_new_team() {
        // Luka Doncic's last game before 2025-02-10 was for DAL (2024-12-25);
        // that night DAL hosted SAC and he debuted for LAL against UTA.
        let d = date("2025-02-10");
        let s = cache_on(d, &[]);
        let luka = row(&s, "lukadoncic");
        assert_eq!(
            (luka.team_abbr.as_str(), luka.opponent_abbr.as_str()),
            ("DAL", "SAC")
        );
        assert_eq!((luka.days_rest, luka.games_last_7_days), (Some(47), 0));

        let prop = PropPlayer {
            player_id: 1629029,
            team_abbr: Some("LAL".to_string()),
            player_lookup: "lukadoncic".to_string(),
            player_name: "Luka Doncic".to_string(),
        };
        let s = cache_on(d, &[prop]);
        let luka = row(&s, "lukadoncic");
        assert_eq!(
            (luka.team_abbr.as_str(), luka.opponent_abbr.as_str()),
            ("LAL", "UTA")
        );
        assert!(luka.is_home);
        assert_eq!(luka.game_id, "0022400768");
        assert_eq!(s.counters.get("prop_team_overrides_last_team"), 1);
    }

    #[test]
    fn opening_night_cache_holds_only_players_with_lines() {
        // 2025-10-21: HOU @ OKC and GSW @ LAL. No 2025-26 game before it, and
        // 2024-25 games do not count.
        let d = date("2025-10-21");
        let props = prop_players(d);
        assert!(
            props
                .iter()
                .any(|p| p.player_lookup == "shaigilgeousalexander")
        );
        let players: BTreeSet<i64> = props.iter().map(|p| p.player_id).collect();
        let s = cache_on(d, &props);
        assert_eq!(s.counters.get("universe_from_schedule"), 0);
        assert_eq!(s.rows.len(), players.len());
        assert_eq!(
            s.counters.get("universe_from_props_only"),
            players.len() as i64
        );
        for c in &s.rows {
            assert_eq!(c.games_played_season, 0);
            assert_eq!(c.calculation_quality, "none");
            assert_eq!(
                (c.points_avg_last_5, c.points_std_last_10, c.days_rest),
                (None, None, None)
            );
            assert_eq!(c.games_last_7_days, 0);
            assert_eq!(c.season, 2025);
        }
        let sga = row(&s, "shaigilgeousalexander");
        assert_eq!(
            (
                sga.team_abbr.as_str(),
                sga.opponent_abbr.as_str(),
                sga.is_home
            ),
            ("OKC", "HOU", true)
        );
        // Without lines there is nobody to cache.
        assert!(cache_on(d, &[]).rows.is_empty());
    }

    #[test]
    fn second_night_of_2025_26_is_partial_from_one_game() {
        // SGA scored 35 in 2025-10-21 (OKC 125-124 HOU, 2OT); OKC's next game
        // was 2025-10-23 @ IND.
        let d = date("2025-10-23");
        let s = cache_on(d, &[]);
        let sga = row(&s, "shaigilgeousalexander");
        assert_eq!(sga.games_played_season, 1);
        assert_eq!(sga.calculation_quality, "partial");
        assert_eq!(sga.points_avg_season, Some(35.0));
        assert_eq!(sga.minutes_avg_season, Some(47.0));
        assert_eq!(sga.points_avg_last_5, sga.points_avg_season);
        assert_eq!(sga.points_avg_last_10, sga.points_avg_season);
        assert_eq!(sga.points_std_last_10, None);
        assert_eq!((sga.days_rest, sga.games_last_7_days), (Some(2), 1));
    }

    #[test]
    fn upcoming_games_are_keyed_by_game_code() {
        let d = date("2025-03-15");
        let r = real();
        let mut schedule = r.schedule_on(d);
        for g in &mut schedule {
            (g.game_id, g.game_status, g.home_score, g.away_score) = (None, 1, None, None);
        }
        let seasons = SeasonToDate::from_games(d, r.games.iter().map(PriorGame::from));
        let s = build_player_daily_cache(d, &schedule, &[], &seasons);
        assert_eq!(row(&s, "stephencurry").game_id, "20250315/NYKGSW");
        assert_eq!(
            s.rows.len(),
            cache_on(d, &[]).rows.len(),
            "any game status counts"
        );
    }

    #[test]
    fn games_query_reads_only_the_window_before_the_last_date() {
        let sql = games_sql(date("2024-08-01"), date("2025-03-15"));
        assert!(sql.contains("game_date >= DATE '2024-08-01' AND game_date < DATE '2025-03-15'"));
    }
}
