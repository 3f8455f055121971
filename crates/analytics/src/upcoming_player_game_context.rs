//! `nba_analytics.upcoming_player_game_context`: every player expected to
//! play on the date D, with rest, recent load, the matchup and the real
//! pre-tip points lines.
//!
//! **Universe** (the rule `player_daily_cache` documents, same set):
//! (a) every player whose most recent game this season before D
//! (`nba_analytics.player_game_summary`) was for a team that plays on D,
//! plus (b) every player with a resolved `player_points` row on D in
//! `nba_raw.player_props` (`player_id` not NULL, `minutes_before_tipoff >=
//! 0`), even with no games yet; the prop's team wins over the last game's
//! team when it plays on D (a traded player). `universe_source` says which.
//!
//! **Player history** (D's season before D, every `player_game_summary`
//! row): `days_rest` = D − last game date in calendar days,
//! `back_to_back` ⇔ `days_rest == 1`; games and minutes in [D−7, D−1];
//! games in [D−14, D−1]; `back_to_backs_last_14_days` = pairs of games on
//! consecutive days both in [D−14, D−1]; `avg_usage_rate_last_7_games` =
//! mean usage of the 7 most recent games (NULL usage ignored);
//! `minutes_avg_last_10` = mean minutes of the 10 most recent games.
//!
//! **Matchup** from the team contexts of D
//! ([`crate::upcoming_team_game_context`], computed from the same inputs):
//! team and opponent pace last 10, `pace_differential` = team − opponent,
//! opponent defensive rating last 10, opponent days rest.
//!
//! **Lines**: the rule of [`propcast_core::prop_lines`], the same one the
//! prediction worker chooses its line by. [`book_lines`] gives, per book in
//! preference order, the main line of its earliest snapshot (opening) and
//! of its latest (latest), over the player's eligible rows of D (points
//! market, snapshot strictly before tip-off, finite lines ≥ 5.0). The
//! current line is the first book's latest line, so it is the line
//! predictions are graded against; `opening_points_line` is that book's
//! opening and `line_movement` = current − opening. No eligible row:
//! `has_prop_line` false and every line field NULL — a line is never
//! invented.
//!
//! **Quality**: `high` with ≥ 10 games and both teams' pace known,
//! `medium` with 1–9 games (or ≥ 10 without team context), `low` with none.
//!
//! **Injuries** ([`crate::injuries`]): the player's status in the latest
//! `nba_raw.injury_report` report published before his game's tip-off
//! ("available" when it does not list him), its reason, source and time;
//! `teammates_out` counts his teammates listed out or doubtful in it, and
//! `star_teammates_out` those of them with ≥ 18 points a game this season
//! (or ≥ 28 minutes and ≥ 12 points). With no report before tip-off all
//! of these are NULL: unknown, never assumed healthy.

use crate::fixtures;
use crate::injuries::{is_star, report_before};
use crate::upcoming_team_game_context::{TeamInputs, mean, read_team_inputs};
use async_trait::async_trait;
use chrono::{DateTime, Duration, NaiveDate, SecondsFormat, Utc};
use propcast_core::prop_lines::{BookLine, PLAYER_POINTS_MARKET, book_lines};
use propcast_core::season_games::{PlayerGame, SeasonGames};
use propcast_core::tables::{
    InjuryReportEntry, PlayerGameSummary, PlayerProp, ScheduleGame, UpcomingPlayerGameContext,
    UpcomingTeamGameContext,
};
use propcast_core::universe::{LastTeamGame, PropPlayer, is_universe_prop, universe};
use propcast_core::{Season, Table, TableDef};
use propcast_patterns::reads::{by_date, on_date, read_dates};
use propcast_patterns::{DateSummary, RangeInputs, process_date, process_dates};
use propcast_patterns::{
    Dependency, Phase, ProcessContext, ProcessError, ProcessOutput, Processor, RangeOutput,
};
use propcast_platform::WarehouseExt;
use propcast_platform::warehouse::date_list;
use propcast_platform::warehouse::date_literal;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};

/// The most recent games the player history keeps.
pub const RECENT_GAMES: usize = 10;
/// Games averaged for usage.
pub const USAGE_GAMES: usize = 7;
/// Games for a `high` quality row.
pub const HIGH_QUALITY_GAMES: i64 = 10;

/// One of a player's games before D (columns of `player_game_summary`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PlayerPriorGame {
    pub player_id: i64,
    pub player_lookup: String,
    pub player_name: String,
    pub team_abbr: String,
    pub game_id: String,
    pub game_date: NaiveDate,
    pub minutes: f64,
    pub points: i64,
    pub usage_rate: Option<f64>,
}

impl From<&PlayerGameSummary> for PlayerPriorGame {
    fn from(g: &PlayerGameSummary) -> Self {
        PlayerPriorGame {
            player_id: g.player_id,
            player_lookup: g.player_lookup.clone(),
            player_name: g.player_name.clone(),
            team_abbr: g.team_abbr.clone(),
            game_id: g.game_id.clone(),
            game_date: g.game_date,
            minutes: g.minutes,
            points: g.points,
            usage_rate: g.usage_rate,
        }
    }
}

/// A player's season before D.
#[derive(Debug, Clone, PartialEq)]
pub struct PlayerSeason {
    /// Identity and team as of the most recent game.
    pub player_lookup: String,
    pub player_name: String,
    pub team_abbr: String,
    pub games: i64,
    /// Season means over those games (a star teammate's test).
    pub points_per_game: f64,
    pub minutes_per_game: f64,
    /// Newest first, at most [`RECENT_GAMES`], never empty.
    pub recent: Vec<PlayerPriorGame>,
}

impl PlayerSeason {
    /// The definition: each player's season before `date` from game rows of
    /// any dates (games of D's season strictly before D; others ignored).
    pub fn from_games(
        date: NaiveDate,
        games: impl IntoIterator<Item = PlayerPriorGame>,
    ) -> BTreeMap<i64, PlayerSeason> {
        PlayerSeason::before(&SeasonGames::new(games), date, |_, _| true)
    }

    /// Each player's season before `date` for the players `keep` accepts,
    /// given their id and most recent game.
    pub fn before(
        games: &SeasonGames<PlayerPriorGame>,
        date: NaiveDate,
        keep: impl Fn(i64, &PlayerPriorGame) -> bool,
    ) -> BTreeMap<i64, PlayerSeason> {
        games
            .before(date)
            .filter(|(id, season)| season.last().is_some_and(|latest| keep(*id, latest)))
            .map(|(id, season)| {
                let recent = season.iter().rev().take(RECENT_GAMES).cloned().collect();
                (id, PlayerSeason::of(season, recent))
            })
            .collect()
    }

    fn of(season: &[PlayerPriorGame], recent: Vec<PlayerPriorGame>) -> PlayerSeason {
        let latest = &recent[0];
        let games = season.len() as f64;
        PlayerSeason {
            player_lookup: latest.player_lookup.clone(),
            player_name: latest.player_name.clone(),
            team_abbr: latest.team_abbr.clone(),
            games: season.len() as i64,
            points_per_game: season.iter().map(|g| g.points as f64).sum::<f64>() / games,
            minutes_per_game: season.iter().map(|g| g.minutes).sum::<f64>() / games,
            recent,
        }
    }
}

impl PlayerGame for PlayerPriorGame {
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

/// Rest and load entering D.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PlayerLoad {
    pub days_rest: Option<i64>,
    pub games_last_7_days: i64,
    pub games_last_14_days: i64,
    pub minutes_last_7_days: f64,
    pub avg_minutes_last_7_days: Option<f64>,
    pub back_to_backs_last_14_days: i64,
    pub avg_usage_rate_last_7_games: Option<f64>,
    pub minutes_avg_last_10: Option<f64>,
}

impl PlayerLoad {
    /// From the most recent games, newest first (games in 14 days are at
    /// most 8, so the last 10 games hold every one of them).
    pub fn of(date: NaiveDate, recent: &[PlayerPriorGame]) -> PlayerLoad {
        let within = |days: i64| {
            recent
                .iter()
                .filter(move |g| g.game_date >= date - Duration::days(days) && g.game_date < date)
        };
        let week: Vec<&PlayerPriorGame> = within(7).collect();
        let fortnight: BTreeSet<NaiveDate> = within(14).map(|g| g.game_date).collect();
        let minutes_last_7_days: f64 = week.iter().map(|g| g.minutes).sum();
        PlayerLoad {
            days_rest: recent.first().map(|g| (date - g.game_date).num_days()),
            games_last_7_days: week.len() as i64,
            games_last_14_days: within(14).count() as i64,
            minutes_last_7_days,
            avg_minutes_last_7_days: (!week.is_empty())
                .then(|| minutes_last_7_days / week.len() as f64),
            back_to_backs_last_14_days: fortnight
                .iter()
                .filter(|d| fortnight.contains(&(**d + Duration::days(1))))
                .count() as i64,
            avg_usage_rate_last_7_games: mean(
                recent.iter().take(USAGE_GAMES).map(|g| g.usage_rate),
            ),
            minutes_avg_last_10: mean(recent.iter().take(RECENT_GAMES).map(|g| Some(g.minutes))),
        }
    }
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// `lines_by_book`: a JSON object in book preference order, per book
/// `{"opening", "latest", "movement", "opening_time", "latest_time"}`
/// (`movement` = latest − opening; times RFC 3339 UTC). `{}` with none.
pub fn lines_by_book_json(lines: &[BookLine]) -> String {
    let mut map = serde_json::Map::new();
    for l in lines {
        map.insert(
            l.bookmaker.clone(),
            serde_json::json!({
                "opening": l.opening,
                "latest": l.latest,
                "movement": l.latest - l.opening,
                "opening_time": rfc3339(l.opening_time),
                "latest_time": rfc3339(l.latest_time),
            }),
        );
    }
    serde_json::Value::Object(map).to_string()
}

impl LastTeamGame for PlayerSeason {
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

/// Computes the context rows of `date`, sorted by `player_lookup`.
///
/// `schedule` holds the date's games; `props` the date's resolved pre-tip
/// `player_points` rows (`player_id` not NULL, `minutes_before_tipoff >=
/// 0`; other rows are ignored); `seasons` each candidate player's season
/// before D (others ignored); `teams` the team contexts of D; `injuries`
/// every injury report row of D (those published after a game's tip-off
/// are ignored for it).
pub fn build_upcoming_player_context(
    date: NaiveDate,
    schedule: &[ScheduleGame],
    props: &[PlayerProp],
    seasons: &BTreeMap<i64, PlayerSeason>,
    teams: &[UpcomingTeamGameContext],
    injuries: &[InjuryReportEntry],
) -> DateSummary<UpcomingPlayerGameContext> {
    let mut summary = DateSummary::<UpcomingPlayerGameContext> {
        input_rows: schedule.iter().filter(|g| g.game_date == date).count(),
        ..DateSummary::default()
    };
    let fixtures = fixtures::counted_fixtures(date, schedule, &mut summary.counters);
    let contexts: BTreeMap<&str, &UpcomingTeamGameContext> =
        teams.iter().map(|t| (t.team_abbr.as_str(), t)).collect();
    let props: Vec<&PlayerProp> = props.iter().filter(|p| is_universe_prop(p, date)).collect();
    let universe = universe(
        &fixtures,
        seasons,
        props.iter().filter_map(|p| PropPlayer::of(p)),
    );
    let counters = &mut summary.counters;
    for (name, n) in universe.counts() {
        counters.add(name, n);
    }
    universe.warn_anomalies(date);

    let mut props_by_player: BTreeMap<i64, Vec<&PlayerProp>> = BTreeMap::new();
    for p in &props {
        if let Some(id) = p.player_id {
            props_by_player.entry(id).or_default().push(p);
        }
    }

    let mut reports = BTreeMap::new();
    for member in universe.members {
        let (player_id, fixture) = (member.player_id, member.fixture);
        let recent: &[PlayerPriorGame] = member.season.map_or(&[], |s| &s.recent);
        let games = member.season.map_or(0, |s| s.games);
        let load = PlayerLoad::of(date, recent);
        let team = contexts.get(member.team_abbr.as_str());
        let opponent = contexts.get(fixture.opponent());
        let team_pace = team.and_then(|t| t.pace_last_10);
        let opponent_pace = opponent.and_then(|t| t.pace_last_10);
        let lines = book_lines(
            props_by_player
                .get(&player_id)
                .into_iter()
                .flatten()
                .copied(),
        );
        let current = lines.first();
        if current.is_some() {
            summary.counters.bump("players_with_line");
        }
        // One report per tip-off time, found once for all its players.
        let report = reports
            .entry(fixture.game.tipoff_time)
            .or_insert_with(|| report_before(injuries, date, fixture.game.tipoff_time))
            .clone();
        let injury = report
            .as_ref()
            .map(|r| r.player(player_id, &member.player_lookup, &member.team_abbr));
        let teammates_out = report
            .as_ref()
            .map(|r| r.teammates_out(player_id, &member.player_lookup, &member.team_abbr));
        if injury.is_some() {
            summary.counters.bump("players_with_injury_report");
        }
        let star = |e: &InjuryReportEntry| {
            let season = match e.player_id {
                Some(id) => seasons.get(&id),
                None => seasons
                    .values()
                    .find(|s| s.player_lookup == e.player_lookup && s.team_abbr == e.team_abbr),
            };
            season.is_some_and(|s| is_star(s.points_per_game, s.minutes_per_game))
        };
        let quality = match games {
            0 => "low",
            g if g >= HIGH_QUALITY_GAMES && team_pace.is_some() && opponent_pace.is_some() => {
                "high"
            }
            _ => "medium",
        };
        summary.rows.push(UpcomingPlayerGameContext {
            game_date: date,
            game_id: fixture.game_id(),
            season: fixture.game.season,
            season_type: fixture.game.season_type.clone(),
            player_id,
            player_lookup: member.player_lookup,
            player_name: member.player_name,
            team_abbr: member.team_abbr.clone(),
            opponent_abbr: fixture.opponent().to_string(),
            is_home: fixture.is_home,
            tipoff_time: fixture.game.tipoff_time,
            universe_source: member.source.as_str().to_string(),
            games_played_season: games,
            days_rest: load.days_rest,
            back_to_back: load.days_rest == Some(1),
            games_last_7_days: load.games_last_7_days,
            games_last_14_days: load.games_last_14_days,
            minutes_last_7_days: load.minutes_last_7_days,
            avg_minutes_last_7_days: load.avg_minutes_last_7_days,
            back_to_backs_last_14_days: load.back_to_backs_last_14_days,
            avg_usage_rate_last_7_games: load.avg_usage_rate_last_7_games,
            minutes_avg_last_10: load.minutes_avg_last_10,
            opponent_days_rest: opponent.and_then(|t| t.days_rest),
            team_pace_last_10: team_pace,
            opponent_pace_last_10: opponent_pace,
            pace_differential: team_pace.zip(opponent_pace).map(|(t, o)| t - o),
            opponent_def_rating_last_10: opponent.and_then(|t| t.def_rating_last_10),
            has_prop_line: current.is_some(),
            current_points_line: current.map(|l| l.latest),
            current_line_book: current.map(|l| l.bookmaker.clone()),
            current_line_snapshot_time: current.map(|l| l.latest_time),
            opening_points_line: current.map(|l| l.opening),
            opening_line_snapshot_time: current.map(|l| l.opening_time),
            line_movement: current.map(|l| l.latest - l.opening),
            books_with_line: lines.len() as i64,
            lines_by_book: lines_by_book_json(&lines),
            data_quality_tier: quality.to_string(),
            injury_status: injury.as_ref().map(|i| i.status.as_str().to_string()),
            injury_reason: injury.and_then(|i| i.reason),
            injury_source: report.as_ref().map(|r| r.source.to_string()),
            injury_report_time: report.as_ref().map(|r| r.report_time),
            teammates_out: teammates_out.as_ref().map(|t| t.len() as i64),
            star_teammates_out: teammates_out
                .as_ref()
                .map(|t| t.iter().filter(|e| star(e)).count() as i64),
        });
    }
    summary
        .rows
        .sort_by(|a, b| a.player_lookup.cmp(&b.player_lookup));
    summary
}

/// Every player's games of `[first, end)`: the player history of each date
/// of a range is cut from them ([`PlayerSeason::before`]).
pub fn games_sql(first: NaiveDate, end: NaiveDate) -> String {
    format!(
        "SELECT player_id, player_lookup, player_name, team_abbr, game_id, game_date, minutes, points, usage_rate \
         FROM {table} WHERE game_date >= {first} AND game_date < {end} \
         ORDER BY player_id, game_date, game_id",
        table = PlayerGameSummary::DEF.qualified(),
        first = date_literal(first),
        end = date_literal(end),
    )
}

/// The resolved `player_points` rows of each of `dates` snapshotted before
/// tip-off, by date.
async fn read_props(
    ctx: &ProcessContext,
    dates: &[NaiveDate],
) -> Result<BTreeMap<NaiveDate, Vec<PlayerProp>>, ProcessError> {
    ctx.warehouse.ensure_table(&PlayerProp::DEF).await?;
    let sql = format!(
        "SELECT * FROM {} WHERE game_date IN {} AND market = '{PLAYER_POINTS_MARKET}' \
         AND player_id IS NOT NULL AND minutes_before_tipoff >= 0 \
         ORDER BY game_date, player_id, bookmaker, snapshot_time, event_id, line",
        PlayerProp::DEF.qualified(),
        date_list(dates)
    );
    by_date(
        ctx.warehouse.query_rows(&sql).await?,
        "game_date",
        "player points lines",
    )
}

/// Everything the contexts of a range of dates are computed from, read once
/// (one date on the daily path): the team inputs, each date's props, and
/// the player games of the range's seasons before its last date.
pub(crate) struct ContextInputs {
    teams: TeamInputs,
    props: BTreeMap<NaiveDate, Vec<PlayerProp>>,
    injuries: BTreeMap<NaiveDate, Vec<InjuryReportEntry>>,
    games: SeasonGames<PlayerPriorGame>,
}

#[async_trait]
impl RangeInputs for ContextInputs {
    type Row = UpcomingPlayerGameContext;

    async fn read(ctx: &ProcessContext, dates: &[NaiveDate]) -> Result<Self, ProcessError> {
        let teams = read_team_inputs(ctx, dates).await?;
        let props = read_props(ctx, dates).await?;
        let injuries = read_dates::<InjuryReportEntry>(ctx, dates).await?;
        let first = dates.iter().map(|d| Season::of(*d).first_day()).min();
        let games = match (first, dates.iter().max()) {
            (Some(first), Some(end)) => {
                ctx.warehouse.ensure_table(&PlayerGameSummary::DEF).await?;
                let rows: Vec<PlayerPriorGame> =
                    ctx.warehouse.query_as(&games_sql(first, *end)).await?;
                SeasonGames::new(rows)
            }
            _ => SeasonGames::default(),
        };
        Ok(ContextInputs {
            teams,
            props,
            injuries,
            games,
        })
    }

    /// The contexts of `date`: the seasons of the players whose latest game
    /// was for a team playing on D or who have a line on D (the others are
    /// not in the universe).
    fn build(&self, date: NaiveDate) -> DateSummary<UpcomingPlayerGameContext> {
        let schedule = self.teams.schedule_of(date);
        let team_rows = self.teams.build(date).rows;
        let props = on_date(&self.props, date);
        let teams: BTreeSet<&str> = team_rows.iter().map(|t| t.team_abbr.as_str()).collect();
        let prop_ids: BTreeSet<i64> = props.iter().filter_map(|p| p.player_id).collect();
        let seasons = PlayerSeason::before(&self.games, date, |id, latest| {
            teams.contains(latest.team_abbr.as_str()) || prop_ids.contains(&id)
        });
        build_upcoming_player_context(
            date,
            schedule,
            props,
            &seasons,
            &team_rows,
            on_date(&self.injuries, date),
        )
    }
}

/// Phase 3 processor writing `nba_analytics.upcoming_player_game_context`.
#[derive(Debug, Clone, Copy, Default)]
pub struct UpcomingPlayerGameContextProcessor;

#[async_trait]
impl Processor for UpcomingPlayerGameContextProcessor {
    fn name(&self) -> &'static str {
        "upcoming_player_game_context"
    }

    fn phase(&self) -> Phase {
        Phase::Analytics
    }

    fn outputs(&self) -> Vec<TableDef> {
        vec![UpcomingPlayerGameContext::DEF]
    }

    /// Reads `nba_raw.schedule`, `nba_raw.player_props` and
    /// `nba_raw.injury_report` of D. The team
    /// side is computed from the same schedule and from team summaries of
    /// dates before D, the player history from `player_game_summary` before
    /// D only, so neither summary of D is an input.
    fn sources(&self) -> Option<&'static [&'static str]> {
        Some(&["schedule", "player_props", "injury_report"])
    }

    /// Every row is a player of a team with a fixture of D in the schedule.
    fn dependencies(&self) -> Vec<Dependency> {
        vec![Dependency {
            table: &ScheduleGame::DEF,
            min_rows: 1,
        }]
    }

    async fn process(&self, ctx: &ProcessContext) -> Result<ProcessOutput, ProcessError> {
        process_date::<ContextInputs>(ctx, self.name()).await
    }

    /// Every input of the range read once ([`ContextInputs`]), each date
    /// built as by date, one write.
    async fn process_range(
        &self,
        ctx: &ProcessContext,
        dates: &[NaiveDate],
    ) -> Result<RangeOutput, ProcessError> {
        process_dates::<ContextInputs>(ctx, self.name(), dates).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::real_data::{date, points_props_2025_26};
    use crate::upcoming_team_game_context::build_upcoming_team_context;
    use crate::upcoming_team_game_context::testing::{
        final_schedule, player_games_2025_26, ratings_2025_26, schedule_on,
    };
    use propcast_core::prop_lines::MIN_LINE;

    fn contexts_from(
        d: NaiveDate,
        games: impl IntoIterator<Item = PlayerPriorGame>,
        props: &[PlayerProp],
    ) -> DateSummary<UpcomingPlayerGameContext> {
        let schedule = schedule_on(d);
        let teams =
            build_upcoming_team_context(d, &schedule, final_schedule(), ratings_2025_26()).rows;
        let seasons = PlayerSeason::from_games(d, games);
        build_upcoming_player_context(d, &schedule, props, &seasons, &teams, &[])
    }

    fn contexts(d: NaiveDate) -> DateSummary<UpcomingPlayerGameContext> {
        contexts_from(
            d,
            player_games_2025_26().iter().map(PlayerPriorGame::from),
            points_props_2025_26().on(d),
        )
    }

    fn row<'a>(
        s: &'a DateSummary<UpcomingPlayerGameContext>,
        lookup: &str,
    ) -> &'a UpcomingPlayerGameContext {
        s.rows
            .iter()
            .find(|r| r.player_lookup == lookup)
            .expect(lookup)
    }

    #[test]
    fn cade_cunningham_upcoming_2025_11_10_by_hand() {
        // player_game_logs_2025_26: Cade's games (minutes), newest first:
        //   11-09 41 | 11-07 33 | 11-05 37 | 11-03 39 | 11-01 37 | 10-29 36
        //   10-27 29 | 10-26 38 | 10-24 39 | 10-22 34
        // D = 2025-11-10 (upcoming WAS @ DET, no props that day):
        //   days_rest 1 → back to back; [11-03, 11-09]: 4 games, 150 min;
        //   [10-27, 11-09]: 7 games, no consecutive days (10-26/10-27 is
        //   outside); last 10 minutes mean 363 / 10 = 36.3.
        let s = contexts(date("2025-11-10"));
        let c = row(&s, "cadecunningham");
        assert_eq!(
            (c.team_abbr.as_str(), c.opponent_abbr.as_str(), c.is_home),
            ("DET", "WAS", true)
        );
        assert_eq!(c.game_id, "20251110/WASDET");
        assert_eq!(c.universe_source, "last_team_game");
        assert_eq!(c.games_played_season, 10);
        assert_eq!((c.days_rest, c.back_to_back), (Some(1), true));
        assert_eq!((c.games_last_7_days, c.minutes_last_7_days), (4, 150.0));
        assert_eq!(c.avg_minutes_last_7_days, Some(37.5));
        assert_eq!((c.games_last_14_days, c.back_to_backs_last_14_days), (7, 0));
        assert!((c.minutes_avg_last_10.unwrap() - 36.3).abs() < 1e-9);
        // WAS last played 11-08 (vs DAL).
        assert_eq!(c.opponent_days_rest, Some(2));
        let (tp, op) = (
            c.team_pace_last_10.unwrap(),
            c.opponent_pace_last_10.unwrap(),
        );
        assert!((c.pace_differential.unwrap() - (tp - op)).abs() < 1e-12);
        assert!(c.opponent_def_rating_last_10.is_some());
        assert_eq!(c.data_quality_tier, "high");
        // No line on 2025-11-10: nothing invented.
        assert!(!c.has_prop_line);
        assert_eq!(
            (
                c.current_points_line,
                c.opening_points_line,
                c.line_movement
            ),
            (None, None, None)
        );
        assert_eq!(
            (c.current_line_book.as_deref(), c.books_with_line),
            (None, 0)
        );
        assert_eq!(c.lines_by_book, "{}");
        // Every player of the 18 teams, none from props.
        assert_eq!(s.counters.get("universe_from_props_only"), 0);
        assert!(s.rows.iter().all(|r| r.universe_source == "last_team_game"));
    }

    #[test]
    fn cade_cunningham_lines_2025_11_09_from_the_props_csv() {
        // props_odds_api_2025_26: Cade Cunningham, player_points, game
        // 2025-11-10T00:30Z (DET @ PHI), one snapshot 2025-11-09 17:00 UTC
        // (pre-tip): draftkings, fanduel, betmgm, williamhill_us, fanatics,
        // betonlineag 28.5; betrivers ladder 26.5..30.5 (28.5 at −113/−118
        // is the closest pair); bovada ladder 23.5..32.5 where 27.5
        // (−125/−105) and 28.5 (−105/−125) are equally close → the lower.
        let s = contexts(date("2025-11-09"));
        let c = row(&s, "cadecunningham");
        assert!(c.has_prop_line);
        assert_eq!(c.universe_source, "both");
        assert_eq!(
            (c.current_points_line, c.current_line_book.as_deref()),
            (Some(28.5), Some("draftkings"))
        );
        let snap = "2025-11-09T17:00:00+00:00".to_string();
        assert_eq!(
            c.current_line_snapshot_time.map(|t| t.to_rfc3339()),
            Some(snap.clone())
        );
        assert_eq!(
            c.opening_line_snapshot_time.map(|t| t.to_rfc3339()),
            Some(snap)
        );
        assert_eq!(
            (c.opening_points_line, c.line_movement),
            (Some(28.5), Some(0.0))
        );
        assert_eq!(c.books_with_line, 8);
        let books: serde_json::Value = serde_json::from_str(&c.lines_by_book).unwrap();
        let keys: Vec<&str> = books
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "draftkings",
                "fanduel",
                "betmgm",
                "williamhill_us",
                "fanatics",
                "betrivers",
                "bovada",
                "betonlineag"
            ]
        );
        assert_eq!(books["betrivers"]["latest"], 28.5);
        assert_eq!(books["bovada"]["latest"], 27.5);
        assert_eq!(books["draftkings"]["opening_time"], "2025-11-09T17:00:00Z");
        assert_eq!(books["draftkings"]["movement"], 0.0);
        // Before 11-09: 9 games; 10-26 and 10-27 are one back-to-back pair
        // inside [10-26, 11-08]; last game 11-07 → 2 days of rest.
        assert_eq!(
            (c.games_played_season, c.back_to_backs_last_14_days),
            (9, 1)
        );
        assert_eq!((c.days_rest, c.back_to_back), (Some(2), false));
        assert_eq!(c.data_quality_tier, "medium");
    }

    #[test]
    fn universe_is_last_team_players_plus_resolved_prop_players() {
        let d = date("2025-11-09");
        let schedule = schedule_on(d);
        let playing: BTreeSet<&str> = schedule
            .iter()
            .flat_map(|g| [g.home_team_abbr.as_str(), g.away_team_abbr.as_str()])
            .collect();
        assert_eq!(playing.len(), 14);
        // Brute force: each player's latest game before d.
        let games = player_games_2025_26();
        let mut expected = BTreeSet::new();
        for g in games.iter().filter(|g| g.game_date < d) {
            let newer = games.iter().any(|h| {
                h.player_id == g.player_id && h.game_date < d && h.game_date > g.game_date
            });
            if !newer && playing.contains(g.team_abbr.as_str()) {
                expected.insert(g.player_id);
            }
        }
        let from_games = expected.len();
        for p in points_props_2025_26().on(d) {
            if let (Some(id), Some(team)) = (p.player_id, p.team_abbr.as_deref())
                && p.minutes_before_tipoff >= 0
                && playing.contains(team)
            {
                expected.insert(id);
            }
        }
        let s = contexts(d);
        let got: BTreeSet<i64> = s.rows.iter().map(|r| r.player_id).collect();
        assert_eq!(got, expected);
        // Lines resolve only to tracked players with games, so on 11-09
        // nobody is in by a line alone (opening night below is the case).
        assert_eq!(expected.len(), from_games);
        assert_eq!(s.counters.get("universe_from_schedule"), from_games as i64);
        // Every row with a line has a real one at ≥ 5.0 from a listed book.
        for r in s.rows.iter().filter(|r| r.has_prop_line) {
            assert!(r.current_points_line.unwrap() >= MIN_LINE);
            assert!(r.books_with_line >= 1);
        }
        // 103 sportsbook names have a points line ≥ 5.0 on 11-09 in the CSV;
        // 87 of them resolve to a tracked player, and each of those has it.
        let resolved: BTreeSet<i64> = points_props_2025_26()
            .on(d)
            .iter()
            .filter(|p| p.line >= MIN_LINE)
            .filter_map(|p| p.player_id)
            .collect();
        assert_eq!(resolved.len(), 87);
        let with_line: BTreeSet<i64> = s
            .rows
            .iter()
            .filter(|r| r.has_prop_line)
            .map(|r| r.player_id)
            .collect();
        assert_eq!(with_line, resolved);
    }

    #[test]
    fn opening_night_holds_only_players_with_lines() {
        // 2025-10-21: HOU @ OKC and GSW @ LAL; no 2025-26 game before it.
        let d = date("2025-10-21");
        let ids: BTreeSet<i64> = points_props_2025_26()
            .on(d)
            .iter()
            .filter_map(|p| p.player_id)
            .collect();
        assert!(!ids.is_empty());
        let s = contexts(d);
        assert_eq!(s.rows.len(), ids.len());
        assert_eq!(s.counters.get("universe_from_props_only"), ids.len() as i64);
        for r in &s.rows {
            assert_eq!(
                (r.universe_source.as_str(), r.data_quality_tier.as_str()),
                ("prop_line", "low")
            );
            assert_eq!(
                (r.games_played_season, r.days_rest, r.minutes_avg_last_10),
                (0, None, None)
            );
            assert_eq!((r.team_pace_last_10, r.opponent_days_rest), (None, None));
        }
        let sga = row(&s, "shaigilgeousalexander");
        assert_eq!(
            (sga.team_abbr.as_str(), sga.opponent_abbr.as_str()),
            ("OKC", "HOU")
        );
        assert!(sga.has_prop_line);
    }

    #[test]
    fn line_movement_is_the_chosen_books_latest_minus_its_opening() {
        // Cade's real DraftKings row of 2025-11-09 (28.5 at 17:00 UTC), and
        // constructed rows for the rule: the same book 3 h later at 29.5,
        // a snapshot after tip-off at 40.5 (ignored), and a 4.5 line at
        // FanDuel (below 5.0, ignored).
        let d = date("2025-11-09");
        let real: Vec<PlayerProp> = points_props_2025_26()
            .on(d)
            .iter()
            .filter(|p| p.player_lookup == "cadecunningham")
            .cloned()
            .collect();
        let dk = real
            .iter()
            .find(|p| p.bookmaker == "draftkings")
            .unwrap()
            .clone();
        let mut later = dk.clone();
        later.snapshot_time += Duration::hours(3);
        later.minutes_before_tipoff -= 180;
        later.line = 29.5;
        let mut live = dk.clone();
        live.snapshot_time = dk.commence_time + Duration::minutes(10);
        live.minutes_before_tipoff = -10;
        live.line = 40.5;
        let lines = book_lines(&[dk.clone(), later.clone(), live]);
        assert_eq!(lines.len(), 1);
        let l = &lines[0];
        assert_eq!((l.opening, l.latest), (28.5, 29.5));
        assert_eq!(
            (l.opening_time, l.latest_time),
            (dk.snapshot_time, later.snapshot_time)
        );
        let mut low = dk.clone();
        low.bookmaker = "fanduel".into();
        low.line = 4.5;
        assert_eq!(book_lines(&[low.clone()]), vec![]);
        // A lower-ranked book with a later snapshot does not win.
        let mut fd = later.clone();
        fd.bookmaker = "fanduel".into();
        fd.line = 31.5;
        let lines = book_lines(&[fd, dk.clone(), low]);
        assert_eq!(lines[0].bookmaker, "draftkings");
        assert_eq!(lines[1].latest, 31.5);
    }

    #[test]
    fn nothing_on_or_after_the_date_changes_the_players() {
        for d in [
            "2025-10-23",
            "2025-11-01",
            "2025-11-05",
            "2025-11-09",
            "2025-11-10",
        ]
        .map(date)
        {
            let props = points_props_2025_26().on(d);
            let all: Vec<PlayerPriorGame> = player_games_2025_26()
                .iter()
                .map(PlayerPriorGame::from)
                .collect();
            let reference = contexts_from(d, all.clone(), props).rows;
            let before: Vec<PlayerPriorGame> =
                all.iter().filter(|g| g.game_date < d).cloned().collect();
            assert_eq!(contexts_from(d, before, props).rows, reference, "{d}");
            let mut changed = all;
            for g in changed.iter_mut().filter(|g| g.game_date >= d) {
                (g.minutes, g.usage_rate, g.team_abbr) = (48.0, Some(99.0), "XXX".into());
            }
            assert_eq!(contexts_from(d, changed, props).rows, reference, "{d}");
        }
    }

    #[test]
    fn games_query_reads_only_the_window_before_the_last_date() {
        let sql = games_sql(date("2025-08-01"), date("2025-11-10"));
        assert!(sql.contains("game_date >= DATE '2025-08-01' AND game_date < DATE '2025-11-10'"));
    }
}
