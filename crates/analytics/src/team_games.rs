//! The games of one date as the team box scores show them: both sides of
//! every game, each side's box score when the source has it, each side's
//! final points and where they came from, and the game's possessions.
//!
//! Both team summaries and the player summary start from here, so a game's
//! possessions, scores and winner are decided once.
//!
//! Source quirks handled (numbers from the shared data):
//! * 2025-26 team box scores hold ONE team per game (147 rows for 147
//!   games). The missing side's points come from the schedule's final score
//!   when the schedule has it, else from the present side's PTS − PLUS_MINUS;
//!   both are compared when both exist.
//! * Rows with 0 PTS and 0 FGA are games still live (or garbage): they are
//!   filtered, the rest of the date proceeds.
//! * Some schedule rows name the same team on both sides (0022401229
//!   MIL/MIL, 0022400621 IND/IND, 0022500147 DET/DET, 0012400007 TOR/TOR):
//!   such a schedule row is not trusted for sides or scores.
//! * The two box score rows of a neutral-site game may both claim to be
//!   away (or home); the schedule decides when it is consistent.

use crate::{efficiency, inputs};
use async_trait::async_trait;
use chrono::NaiveDate;
use propcast_core::Table;
use propcast_core::TableDef;
use propcast_core::tables::{ScheduleGame, TeamBoxscore};
use propcast_patterns::reads::on_date;
use propcast_patterns::{
    Counters, DateSummary, Phase, ProcessContext, ProcessError, ProcessOutput, Processor,
    Quarantine, RangeInputs, RangeOutput, Scope, process_date, process_dates, stored_values,
    write_scoped,
};
use propcast_platform::warehouse::{Record, date_literal};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::marker::PhantomData;

/// Where a side's final points came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PointsSource {
    /// The side's own box score.
    Boxscore,
    /// The schedule's final score (side's box score missing).
    Schedule,
    /// The opponent's PTS − PLUS_MINUS (box score and schedule score missing).
    OpponentPlusMinus,
}

/// How much of a game the team box scores cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coverage {
    /// Both teams' box scores: Oliver possessions over both.
    BothTeams,
    /// One team's box score: single-team possession estimate.
    SingleTeam,
}

/// One team in one game.
#[derive(Debug, Clone)]
pub struct Side<'a> {
    pub team_abbr: String,
    pub is_home: bool,
    pub boxscore: Option<&'a TeamBoxscore>,
    pub points: Option<i64>,
    pub points_source: Option<PointsSource>,
}

/// One game of the date with both sides.
#[derive(Debug, Clone)]
pub struct TeamGame<'a> {
    pub game_id: String,
    pub season: i64,
    pub season_type: String,
    /// `sides[0]` always has a box score; `sides[1]` may not.
    pub sides: [Side<'a>; 2],
    pub coverage: Coverage,
    /// Game possessions (the same for both sides).
    pub possessions: Option<f64>,
    /// Nominal game length in minutes (48 + 5 per overtime).
    pub game_minutes: Option<f64>,
}

impl TeamGame<'_> {
    /// Whether `sides[index]` won: its points against the other side's.
    /// `None` when either score is unknown (or level).
    pub fn win_flag(&self, index: usize) -> Option<bool> {
        let own = self.sides.get(index)?.points?;
        let other = self.sides.get(if index == 0 { 1 } else { 0 })?.points?;
        (own != other).then_some(own > other)
    }

    /// The index of `team_abbr`'s side, if it played in this game.
    pub fn side_index(&self, team_abbr: &str) -> Option<usize> {
        self.sides.iter().position(|s| s.team_abbr == team_abbr)
    }
}

/// The paired games of a date and what happened on the way.
#[derive(Debug, Clone, Default)]
pub struct DateGames<'a> {
    /// Sorted by game id.
    pub games: Vec<TeamGame<'a>>,
    pub counters: Counters,
    pub quarantine: Quarantine,
    /// Team box score rows for the date before filtering.
    pub input_rows: usize,
}

impl<'a> DateGames<'a> {
    /// The game and side index of `team_abbr` in game `game_id`.
    pub fn find(&self, game_id: &str, team_abbr: &str) -> Option<(&TeamGame<'a>, usize)> {
        let at = self
            .games
            .binary_search_by(|g| g.game_id.as_str().cmp(game_id))
            .ok()?;
        let game = &self.games[at];
        game.side_index(team_abbr).map(|i| (game, i))
    }
}

/// The distinct game ids of `rows` and the teams they name (own and
/// opponent) with `extra`: what [`pair_team_games`] needs of the schedule
/// to pair exactly these games (see `inputs::schedule_of`).
pub(crate) fn games_and_teams<'a>(
    rows: &'a [TeamBoxscore],
    extra: &[&'a str],
) -> (Vec<&'a str>, Vec<&'a str>) {
    let ids: std::collections::BTreeSet<&str> = rows.iter().map(|r| r.game_id.as_str()).collect();
    let teams: std::collections::BTreeSet<&str> = rows
        .iter()
        .flat_map(|r| [r.team_abbr.as_str(), r.opponent_abbr.as_str()])
        .chain(extra.iter().copied())
        .filter(|t| !t.is_empty())
        .collect();
    (ids.into_iter().collect(), teams.into_iter().collect())
}

/// A table of one row per team per game played on the date, summarised
/// from the date's paired games: the team offense and defense summaries.
/// [`TeamGameSummaryProcessor`] writes it.
pub trait TeamGameTable: Table {
    /// The name of the processor writing the table.
    const PROCESSOR: &'static str;
    /// The column naming the team a row is about (the entity of a scoped
    /// run).
    const TEAM_COLUMN: &'static str;

    /// The team a row is about (the value of [`Self::TEAM_COLUMN`]).
    fn team(&self) -> &str;

    /// The game a row is about.
    fn game_id(&self) -> &str;

    /// The rows of `date`, sorted by team, from the date's team box scores
    /// and schedule.
    fn summarize(
        date: NaiveDate,
        team_rows: &[TeamBoxscore],
        schedule: &[ScheduleGame],
    ) -> DateSummary<Self>;
}

/// The rows of `date`, one per team, sorted by team: `row_of(date, game,
/// side)` for both sides of every paired game. A team with rows in two
/// games of one date keeps the first game (by id); the other is
/// quarantined, with `detail` of the dropped row. `on_row` counts what a
/// kept or dropped row says (before the duplicate check, as each summary
/// always did).
pub fn one_row_per_team<T: TeamGameTable>(
    date: NaiveDate,
    team_rows: &[TeamBoxscore],
    schedule: &[ScheduleGame],
    row_of: fn(NaiveDate, &TeamGame<'_>, usize) -> Option<T>,
    on_row: fn(&T, &mut Counters),
    detail: fn(&T) -> String,
) -> DateSummary<T> {
    let games = pair_team_games(date, team_rows, schedule);
    let mut by_team: BTreeMap<String, T> = BTreeMap::new();
    let mut summary = DateSummary {
        input_rows: games.input_rows,
        counters: games.counters.clone(),
        quarantine: games.quarantine.clone(),
        ..DateSummary::default()
    };
    for game in &games.games {
        for index in 0..2 {
            let Some(row) = row_of(date, game, index) else {
                continue;
            };
            on_row(&row, &mut summary.counters);
            if by_team.contains_key(row.team()) {
                let source = game.sides[0]
                    .boxscore
                    .map(|b| b.source_file.as_str())
                    .unwrap_or_default();
                summary.quarantine.add(
                    source,
                    format!("game_id={} team={}", row.game_id(), row.team()),
                    "team_abbr",
                    "team already has a game on this date",
                    detail(&row),
                );
                continue;
            }
            by_team.insert(row.team().to_string(), row);
        }
    }
    summary.rows = by_team.into_values().collect();
    summary
}

/// The Phase 3 processor writing the [`TeamGameTable`] `T` (see
/// `TeamOffenseGameSummaryProcessor`, `TeamDefenseGameSummaryProcessor`).
pub struct TeamGameSummaryProcessor<T>(PhantomData<fn() -> T>);

impl<T> TeamGameSummaryProcessor<T> {
    pub const fn new() -> Self {
        TeamGameSummaryProcessor(PhantomData)
    }
}

impl<T> Default for TeamGameSummaryProcessor<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Clone for TeamGameSummaryProcessor<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for TeamGameSummaryProcessor<T> {}

impl<T: TeamGameTable> std::fmt::Debug for TeamGameSummaryProcessor<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("TeamGameSummaryProcessor")
            .field(&T::PROCESSOR)
            .finish()
    }
}

#[async_trait]
impl<T: TeamGameTable> Processor for TeamGameSummaryProcessor<T> {
    fn name(&self) -> &'static str {
        T::PROCESSOR
    }

    fn phase(&self) -> Phase {
        Phase::Analytics
    }

    fn outputs(&self) -> Vec<TableDef> {
        vec![T::DEF]
    }

    /// Reads `nba_raw.team_boxscores` and `nba_raw.schedule` of D only (no
    /// player box scores, so a player entity implies nothing here).
    fn sources(&self) -> Option<&'static [&'static str]> {
        Some(&["team_boxscores", "schedule"])
    }

    /// By team abbreviation (the table's [`TeamGameTable::TEAM_COLUMN`]). A
    /// team's row is computed from every row of its game (both sides:
    /// possessions and the opponent's numbers), so the scoped run reads
    /// exactly the games of the teams in scope.
    fn supports_entity_scope(&self) -> bool {
        true
    }

    /// A named team brings its opponent: their rows share the game's
    /// possessions, and each holds the other's numbers.
    async fn expand_scope(
        &self,
        ctx: &ProcessContext,
        entities: BTreeSet<String>,
    ) -> Result<BTreeSet<String>, ProcessError> {
        with_opponents(ctx, entities).await
    }

    async fn process(&self, ctx: &ProcessContext) -> Result<ProcessOutput, ProcessError> {
        let Scope::Entities(entities) = &ctx.scope else {
            return process_date::<TeamGameInputs<T>>(ctx, self.name()).await;
        };
        let teams: Vec<&str> = entities.iter().map(String::as_str).collect();
        let team_rows = inputs::team_boxscores_of_teams(ctx, &teams).await?;
        let (ids, named) = games_and_teams(&team_rows, &teams);
        let schedule = inputs::schedule_of(ctx, &ids, &named).await?;
        let mut summary = T::summarize(ctx.game_date, &team_rows, &schedule);
        summary.rows.retain(|r| entities.contains(r.team()));
        let stale = stored_values(ctx, &T::DEF, T::TEAM_COLUMN, &teams).await?;
        write_scoped(ctx, self.name(), T::TEAM_COLUMN, T::team, stale, summary).await
    }

    /// The range's team box scores and schedule read once, each date
    /// summarised as by date, one write.
    async fn process_range(
        &self,
        ctx: &ProcessContext,
        dates: &[NaiveDate],
    ) -> Result<RangeOutput, ProcessError> {
        process_dates::<TeamGameInputs<T>>(ctx, self.name(), dates).await
    }
}

/// What a team game summary of a range of dates is computed from: each
/// date's team box scores and schedule.
struct TeamGameInputs<T> {
    team_rows: BTreeMap<NaiveDate, Vec<TeamBoxscore>>,
    schedule: BTreeMap<NaiveDate, Vec<ScheduleGame>>,
    table: PhantomData<fn() -> T>,
}

#[async_trait]
impl<T: TeamGameTable> RangeInputs for TeamGameInputs<T> {
    type Row = T;

    async fn read(ctx: &ProcessContext, dates: &[NaiveDate]) -> Result<Self, ProcessError> {
        Ok(TeamGameInputs {
            team_rows: inputs::team_boxscores_of_dates(ctx, dates).await?,
            schedule: inputs::schedule_of_dates(ctx, dates).await?,
            table: PhantomData,
        })
    }

    fn build(&self, date: NaiveDate) -> DateSummary<T> {
        T::summarize(
            date,
            on_date(&self.team_rows, date),
            on_date(&self.schedule, date),
        )
    }
}

/// A schedule row that can be trusted for sides and scores.
fn consistent(game: &ScheduleGame) -> bool {
    !game.home_team_abbr.is_empty()
        && !game.away_team_abbr.is_empty()
        && game.home_team_abbr != game.away_team_abbr
}

/// Whether a schedule row is the game of exactly these two teams.
fn has_teams(game: &ScheduleGame, a: &str, b: &str) -> bool {
    (game.home_team_abbr == a && game.away_team_abbr == b)
        || (game.home_team_abbr == b && game.away_team_abbr == a)
}

/// The schedule's final score for `team_abbr`, if the game is final and the
/// schedule row is consistent.
fn schedule_points(game: &ScheduleGame, team_abbr: &str) -> Option<i64> {
    if !consistent(game) || game.game_status != 3 {
        return None;
    }
    if game.home_team_abbr == team_abbr {
        game.home_score
    } else if game.away_team_abbr == team_abbr {
        game.away_score
    } else {
        None
    }
}

/// Whether a row is a live or garbage row (0 points and 0 field goal attempts).
pub fn is_live_or_empty(row: &TeamBoxscore) -> bool {
    row.pts == 0 && row.fga == 0
}

fn record_of(row: &TeamBoxscore) -> String {
    format!("game_id={} team={}", row.game_id, row.team_abbr)
}

/// Pairs the team box scores of `date` into games, using the schedule of
/// the same date to name missing sides, decide home/away for neutral-site
/// games and cross-check scores.
pub fn pair_team_games<'a>(
    date: NaiveDate,
    rows: &'a [TeamBoxscore],
    schedule: &[ScheduleGame],
) -> DateGames<'a> {
    let mut out = DateGames {
        input_rows: rows.len(),
        ..DateGames::default()
    };
    let by_id: HashMap<&str, &ScheduleGame> = schedule
        .iter()
        .filter(|g| g.game_date == date)
        .filter_map(|g| g.game_id.as_deref().map(|id| (id, g)))
        .collect();

    let mut grouped: BTreeMap<&str, Vec<&'a TeamBoxscore>> = BTreeMap::new();
    for row in rows {
        if row.game_date != date {
            out.counters.bump("rows_outside_date");
            continue;
        }
        if is_live_or_empty(row) {
            tracing::debug!(game_id = %row.game_id, team = %row.team_abbr, "filtered live or empty team row");
            out.counters.bump("filtered_live_rows");
            continue;
        }
        grouped.entry(row.game_id.as_str()).or_default().push(row);
    }

    for (game_id, mut game_rows) in grouped {
        game_rows.sort_by(|a, b| a.team_abbr.cmp(&b.team_abbr));
        let mut distinct: Vec<&TeamBoxscore> = Vec::with_capacity(2);
        for row in game_rows {
            if distinct.iter().any(|r| r.team_abbr == row.team_abbr) {
                out.quarantine.add(
                    &row.source_file,
                    record_of(row),
                    "team_abbr",
                    "duplicate team box score for the same game",
                    format!("pts={} fga={}", row.pts, row.fga),
                );
                continue;
            }
            distinct.push(row);
        }
        let sched = by_id.get(game_id).copied().or_else(|| {
            schedule.iter().find(|g| {
                g.game_date == date
                    && consistent(g)
                    && distinct
                        .iter()
                        .all(|r| r.team_abbr == g.home_team_abbr || r.team_abbr == g.away_team_abbr)
            })
        });
        if let Some(s) = sched
            && !consistent(s)
        {
            out.counters.bump("schedule_rows_inconsistent");
            tracing::warn!(game_id, home = %s.home_team_abbr, away = %s.away_team_abbr, "schedule row names the same team twice; not used for sides or scores");
        }
        let trusted = sched.filter(|s| consistent(s));
        let game = match distinct.as_slice() {
            [a, b] => Some(pair_both(a, b, trusted, &mut out.counters)),
            [p] => pair_single(p, trusted, &mut out),
            more => {
                for row in more {
                    out.quarantine.add(
                        &row.source_file,
                        record_of(row),
                        "game_id",
                        format!("{} teams have box scores for one game", more.len()),
                        format!("pts={} fga={}", row.pts, row.fga),
                    );
                }
                None
            }
        };
        out.games.extend(game);
    }
    out
}

/// Checks a box score's points against the schedule's final score.
fn cross_check(row: &TeamBoxscore, sched: Option<&ScheduleGame>, counters: &mut Counters) {
    if let Some(expected) = sched.and_then(|s| schedule_points(s, &row.team_abbr)) {
        if expected == row.pts {
            counters.bump("scores_match_schedule");
        } else {
            counters.bump("scores_differ_from_schedule");
            tracing::warn!(game_id = %row.game_id, team = %row.team_abbr, boxscore = row.pts, schedule = expected, "box score points differ from the schedule's final score");
        }
    }
}

fn pair_both<'a>(
    a: &'a TeamBoxscore,
    b: &'a TeamBoxscore,
    sched: Option<&ScheduleGame>,
    counters: &mut Counters,
) -> TeamGame<'a> {
    cross_check(a, sched, counters);
    cross_check(b, sched, counters);
    let (a_home, b_home) = if a.is_home != b.is_home {
        (a.is_home, b.is_home)
    } else if let Some(s) = sched.filter(|s| has_teams(s, &a.team_abbr, &b.team_abbr)) {
        counters.bump("home_away_from_schedule");
        (
            s.home_team_abbr == a.team_abbr,
            s.home_team_abbr == b.team_abbr,
        )
    } else {
        counters.bump("home_away_ambiguous");
        (a.is_home, b.is_home)
    };
    let side = |row: &'a TeamBoxscore, is_home: bool| Side {
        team_abbr: row.team_abbr.clone(),
        is_home,
        boxscore: Some(row),
        points: Some(row.pts),
        points_source: Some(PointsSource::Boxscore),
    };
    let length = efficiency::game_minutes(a.minutes)
        .into_iter()
        .chain(efficiency::game_minutes(b.minutes))
        .reduce(f64::max);
    TeamGame {
        game_id: a.game_id.clone(),
        season: a.season,
        season_type: a.season_type.clone(),
        sides: [side(a, a_home), side(b, b_home)],
        coverage: Coverage::BothTeams,
        possessions: Some(efficiency::oliver_possessions(a, b)),
        game_minutes: length,
    }
}

fn pair_single<'a>(
    p: &'a TeamBoxscore,
    sched: Option<&ScheduleGame>,
    out: &mut DateGames<'a>,
) -> Option<TeamGame<'a>> {
    cross_check(p, sched, &mut out.counters);
    let from_schedule = sched.and_then(|s| {
        if s.home_team_abbr == p.team_abbr {
            Some(s.away_team_abbr.clone())
        } else if s.away_team_abbr == p.team_abbr {
            Some(s.home_team_abbr.clone())
        } else {
            None
        }
    });
    let opponent = if !p.opponent_abbr.is_empty() && p.opponent_abbr != p.team_abbr {
        if let Some(s) = &from_schedule
            && *s != p.opponent_abbr
        {
            out.counters.bump("opponent_differs_from_schedule");
        }
        p.opponent_abbr.clone()
    } else if let Some(s) = from_schedule {
        s
    } else {
        out.quarantine.add(
            &p.source_file,
            record_of(p),
            "opponent_abbr",
            "opponent box score missing and the opponent cannot be named from the row or the schedule",
            format!("opponent_abbr={:?}", p.opponent_abbr),
        );
        return None;
    };

    // The missing side's points: schedule first, plus-minus second.
    let by_schedule = sched.and_then(|s| schedule_points(s, &opponent));
    let by_plus_minus = p.plus_minus.map(|pm| p.pts - pm);
    if let (Some(s), Some(pm)) = (by_schedule, by_plus_minus)
        && s != pm
    {
        out.counters.bump("derived_points_disagree");
        tracing::warn!(game_id = %p.game_id, team = %opponent, schedule = s, plus_minus = pm, "opponent points from the schedule and from plus-minus disagree; using the schedule");
    }
    let (points, source) = match (by_schedule, by_plus_minus) {
        (Some(s), _) => {
            out.counters.bump("derived_points_from_schedule");
            (Some(s), Some(PointsSource::Schedule))
        }
        (None, Some(pm)) => {
            out.counters.bump("derived_points_from_plus_minus");
            (Some(pm), Some(PointsSource::OpponentPlusMinus))
        }
        (None, None) => {
            out.counters.bump("derived_points_unknown");
            (None, None)
        }
    };
    let present_home = match sched.filter(|s| has_teams(s, &p.team_abbr, &opponent)) {
        Some(s) => s.home_team_abbr == p.team_abbr,
        None => p.is_home,
    };
    out.counters.bump("single_team_games");
    Some(TeamGame {
        game_id: p.game_id.clone(),
        season: p.season,
        season_type: p.season_type.clone(),
        sides: [
            Side {
                team_abbr: p.team_abbr.clone(),
                is_home: present_home,
                boxscore: Some(p),
                points: Some(p.pts),
                points_source: Some(PointsSource::Boxscore),
            },
            Side {
                team_abbr: opponent,
                is_home: !present_home,
                boxscore: None,
                points,
                points_source: source,
            },
        ],
        coverage: Coverage::SingleTeam,
        possessions: Some(efficiency::single_team_possessions(p)),
        game_minutes: efficiency::game_minutes(p.minutes),
    })
}

/// `entities` plus the opponent of every team among them on D (the rule:
/// [`propcast_core::opponents`]), from the date's schedule (home, away) and
/// team box scores (team, opponent): the scope expansion of the three
/// summaries, whose rows depend on both sides of a game.
pub(crate) async fn with_opponents(
    ctx: &ProcessContext,
    entities: BTreeSet<String>,
) -> Result<BTreeSet<String>, ProcessError> {
    let d = date_literal(ctx.game_date);
    let rows = ctx
        .warehouse
        .query(&format!(
            "SELECT home_team_abbr AS a, away_team_abbr AS b FROM {} WHERE game_date = {d} \
             UNION DISTINCT SELECT team_abbr AS a, opponent_abbr AS b FROM {} WHERE game_date = {d}",
            ScheduleGame::DEF.qualified(),
            TeamBoxscore::DEF.qualified(),
        ))
        .await?;
    fn side<'r>(row: &'r Record, k: &str) -> &'r str {
        row.get(k).and_then(|v| v.as_str()).unwrap_or_default()
    }
    let games: Vec<(&str, &str)> = rows.iter().map(|r| (side(r, "a"), side(r, "b"))).collect();
    Ok(propcast_core::opponents::with_opponents(entities, games))
}
