//! `nba_analytics.upcoming_team_game_context`: every team playing on the
//! date D, as known before tip-off.
//!
//! **Games of D.** `nba_raw.schedule` rows of D in any status (upcoming
//! games have status 1 and no game id: the game code is the id), see
//! [`crate::fixtures`].
//!
//! **History.** Games of D's season (from August 1st) strictly before D,
//! exhibitions (preseason, All-Star) left out:
//! * Record, streak, margin and rest from the schedule's final games
//!   (`game_status` 3). A final row that names the same team twice is
//!   repaired from `team_offense_game_summary` rows of the same game id
//!   (counted `history_games_from_team_summary`; e.g. 0022500147 on
//!   2025-11-01 is DAL @ DET in the box scores), else left out
//!   (`history_games_unusable`).
//! * `days_rest` = D − last game date in calendar days (NULL with none),
//!   `back_to_back` ⇔ `days_rest == 1`. `games_last_7_days` counts games in
//!   [D−7, D−1], `games_last_14_days` in [D−14, D−1].
//! * `wins` / `losses` over games with both final scores; `streak` = +n for
//!   n straight wins entering D, −n for losses (0 with no decided game);
//!   `last_game_margin` = own − opponent points of the latest game.
//! * `pace_last_10`, `off_rating_last_10`, `def_rating_last_10`: means over
//!   the team's 10 most recent `team_offense_game_summary` rows before D
//!   (pace, offensive rating) joined with its `team_defense_game_summary`
//!   row of the same game (defensive rating); NULL values are ignored, NULL
//!   when none. The opponent's pace and defensive rating likewise.
//! * `early_season_flag` ⇔ fewer than 5 games played this season.
//!
//! Nothing on or after D is read, so rows on or after D never change D's
//! context.

use crate::fixtures::{self, counts_in_history};
use async_trait::async_trait;
use chrono::{Duration, NaiveDate};
use propcast_core::tables::{
    ScheduleGame, TeamDefenseGameSummary, TeamOffenseGameSummary, UpcomingTeamGameContext,
};
use propcast_core::{Season, Table, TableDef};
use propcast_patterns::reads::on_date;
use propcast_patterns::{Counters, DateSummary, RangeInputs, process_date, process_dates};
use propcast_patterns::{
    Dependency, Phase, ProcessContext, ProcessError, ProcessOutput, Processor, RangeOutput,
};
use propcast_platform::WarehouseExt;
use propcast_platform::warehouse::date_literal;
use propcast_platform::warehouse::text_list;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Games the rating means run over.
pub const RATING_GAMES: usize = 10;
/// Fewer games played than this flags the early season.
pub const EARLY_SEASON_GAMES: i64 = 5;

/// A team's game with its ratings: a `team_offense_game_summary` row and
/// the defensive rating of the same team and game.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TeamRatingGame {
    pub game_date: NaiveDate,
    pub game_id: String,
    pub season_type: String,
    pub team_abbr: String,
    pub opponent_abbr: String,
    pub points: i64,
    pub opponent_points: Option<i64>,
    pub pace: Option<f64>,
    pub offensive_rating: Option<f64>,
    pub defensive_rating: Option<f64>,
}

impl TeamRatingGame {
    /// Joins offense rows with the defense row of the same date, game and
    /// team (the definition [`ratings_sql`] is tested against).
    pub fn join(
        offense: &[TeamOffenseGameSummary],
        defense: &[TeamDefenseGameSummary],
    ) -> Vec<TeamRatingGame> {
        let by_key: HashMap<(NaiveDate, &str, &str), Option<f64>> = defense
            .iter()
            .map(|d| {
                (
                    (
                        d.game_date,
                        d.game_id.as_str(),
                        d.defending_team_abbr.as_str(),
                    ),
                    d.defensive_rating,
                )
            })
            .collect();
        offense
            .iter()
            .map(|o| TeamRatingGame {
                game_date: o.game_date,
                game_id: o.game_id.clone(),
                season_type: o.season_type.clone(),
                team_abbr: o.team_abbr.clone(),
                opponent_abbr: o.opponent_abbr.clone(),
                points: o.points,
                opponent_points: o.opponent_points,
                pace: o.pace,
                offensive_rating: o.offensive_rating,
                defensive_rating: by_key
                    .get(&(o.game_date, o.game_id.as_str(), o.team_abbr.as_str()))
                    .copied()
                    .flatten(),
            })
            .collect()
    }
}

/// One final game in a team's history.
#[derive(Debug, Clone, PartialEq)]
struct PastGame {
    game_date: NaiveDate,
    game_id: String,
    points: Option<i64>,
    opponent_points: Option<i64>,
}

impl PastGame {
    fn margin(&self) -> Option<i64> {
        Some(self.points? - self.opponent_points?)
    }
}

/// What a team's history says entering D.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TeamForm {
    pub days_rest: Option<i64>,
    pub games_last_7_days: i64,
    pub games_last_14_days: i64,
    pub games_played_season: i64,
    pub wins: i64,
    pub losses: i64,
    pub streak: i64,
    pub last_game_margin: Option<i64>,
    pub pace_last_10: Option<f64>,
    pub off_rating_last_10: Option<f64>,
    pub def_rating_last_10: Option<f64>,
}

/// The half-open range of dates whose games inform D: D's season start to D.
pub fn history_window(date: NaiveDate) -> (NaiveDate, NaiveDate) {
    (Season::of(date).first_day(), date)
}

fn in_window(date: NaiveDate, d: NaiveDate) -> bool {
    let (first, end) = history_window(date);
    d >= first && d < end
}

/// Mean of the values present; `None` with none.
pub(crate) fn mean(values: impl Iterator<Item = Option<f64>>) -> Option<f64> {
    let (sum, n) = values
        .flatten()
        .fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| sum / n as f64)
}

/// The form entering `date` of every team in `teams`, from final schedule
/// rows and rating rows of any dates (only D's season before D is used).
pub fn team_forms(
    date: NaiveDate,
    teams: &BTreeSet<String>,
    history: &[ScheduleGame],
    ratings: &[TeamRatingGame],
    counters: &mut Counters,
) -> BTreeMap<String, TeamForm> {
    if teams.is_empty() {
        // No team plays: nothing is looked for, nothing counted.
        return BTreeMap::new();
    }
    let ratings: Vec<&TeamRatingGame> = ratings
        .iter()
        .filter(|r| in_window(date, r.game_date) && counts_in_history(&r.season_type))
        .collect();
    let mut games: BTreeMap<&str, Vec<PastGame>> = BTreeMap::new();
    let mut seen: BTreeSet<(NaiveDate, &str, &str)> = BTreeSet::new();
    for g in history {
        if g.game_status != 3
            || !in_window(date, g.game_date)
            || !counts_in_history(&g.season_type)
            || !seen.insert((g.game_date, &g.home_team_abbr, &g.away_team_abbr))
        {
            continue;
        }
        let game_id = g.game_id.clone().unwrap_or_else(|| g.game_code.clone());
        if fixtures::consistent(g) {
            for (team, points, opponent_points) in [
                (&g.home_team_abbr, g.home_score, g.away_score),
                (&g.away_team_abbr, g.away_score, g.home_score),
            ] {
                if teams.contains(team) {
                    games.entry(team).or_default().push(PastGame {
                        game_date: g.game_date,
                        game_id: game_id.clone(),
                        points,
                        opponent_points,
                    });
                }
            }
            continue;
        }
        // Only the sides of teams playing on D are looked for, so reading
        // every rating row or just those of D's teams counts the same.
        let repaired: Vec<&&TeamRatingGame> = ratings
            .iter()
            .filter(|r| g.game_id.as_deref() == Some(r.game_id.as_str()))
            .filter(|r| teams.contains(&r.team_abbr))
            .collect();
        if repaired.is_empty() {
            counters.bump("history_games_unusable");
            tracing::debug!(game_date = %g.game_date, game_code = %g.game_code, "final schedule row names the same team twice and no team summary of a team playing today names its sides");
        }
        for r in repaired {
            counters.bump("history_games_from_team_summary");
            games.entry(&r.team_abbr).or_default().push(PastGame {
                game_date: r.game_date,
                game_id: r.game_id.clone(),
                points: Some(r.points),
                opponent_points: r.opponent_points,
            });
        }
    }

    let mut by_team: BTreeMap<&str, Vec<&TeamRatingGame>> = BTreeMap::new();
    for r in ratings {
        by_team.entry(&r.team_abbr).or_default().push(r);
    }
    teams
        .iter()
        .map(|team| {
            let mut past = games.remove(team.as_str()).unwrap_or_default();
            past.sort_by(|a, b| (b.game_date, &b.game_id).cmp(&(a.game_date, &a.game_id)));
            let mut recent = by_team.remove(team.as_str()).unwrap_or_default();
            recent.sort_by(|a, b| (b.game_date, &b.game_id).cmp(&(a.game_date, &a.game_id)));
            recent.truncate(RATING_GAMES);
            (team.clone(), form_of(date, &past, &recent))
        })
        .collect()
}

/// `past` and `recent` newest first.
fn form_of(date: NaiveDate, past: &[PastGame], recent: &[&TeamRatingGame]) -> TeamForm {
    let since = |days: i64| {
        past.iter()
            .filter(|g| g.game_date >= date - Duration::days(days))
            .count() as i64
    };
    let decided: Vec<bool> = past
        .iter()
        .filter_map(|g| g.margin())
        .filter(|m| *m != 0)
        .map(|m| m > 0)
        .collect();
    let streak = match decided.first() {
        None => 0,
        Some(&won) => {
            let n = decided.iter().take_while(|w| **w == won).count() as i64;
            if won { n } else { -n }
        }
    };
    TeamForm {
        days_rest: past.first().map(|g| (date - g.game_date).num_days()),
        games_last_7_days: since(7),
        games_last_14_days: since(14),
        games_played_season: past.len() as i64,
        wins: decided.iter().filter(|w| **w).count() as i64,
        losses: decided.iter().filter(|w| !**w).count() as i64,
        streak,
        last_game_margin: past.first().and_then(PastGame::margin),
        pace_last_10: mean(recent.iter().map(|r| r.pace)),
        off_rating_last_10: mean(recent.iter().map(|r| r.offensive_rating)),
        def_rating_last_10: mean(recent.iter().map(|r| r.defensive_rating)),
    }
}

/// Computes the context rows of `date`, sorted by team.
///
/// `schedule` holds the date's games (other dates are ignored); `history`
/// and `ratings` any rows before it (see [`team_forms`]).
pub fn build_upcoming_team_context(
    date: NaiveDate,
    schedule: &[ScheduleGame],
    history: &[ScheduleGame],
    ratings: &[TeamRatingGame],
) -> DateSummary<UpcomingTeamGameContext> {
    let mut summary = DateSummary::<UpcomingTeamGameContext> {
        input_rows: schedule.iter().filter(|g| g.game_date == date).count(),
        ..DateSummary::default()
    };
    let teams = fixtures::fixtures(date, schedule, &mut summary.counters);
    let names: BTreeSet<String> = teams.keys().cloned().collect();
    let forms = team_forms(date, &names, history, ratings, &mut summary.counters);
    let none = TeamForm::default();
    for (team, fixture) in &teams {
        let form = forms.get(team).unwrap_or(&none);
        let opponent = forms.get(fixture.opponent()).unwrap_or(&none);
        summary.rows.push(UpcomingTeamGameContext {
            game_date: date,
            game_id: fixture.game_id(),
            season: fixture.game.season,
            season_type: fixture.game.season_type.clone(),
            team_abbr: team.clone(),
            opponent_abbr: fixture.opponent().to_string(),
            is_home: fixture.is_home,
            tipoff_time: fixture.game.tipoff_time,
            days_rest: form.days_rest,
            back_to_back: form.days_rest == Some(1),
            games_last_7_days: form.games_last_7_days,
            games_last_14_days: form.games_last_14_days,
            games_played_season: form.games_played_season,
            wins: form.wins,
            losses: form.losses,
            streak: form.streak,
            last_game_margin: form.last_game_margin,
            pace_last_10: form.pace_last_10,
            off_rating_last_10: form.off_rating_last_10,
            def_rating_last_10: form.def_rating_last_10,
            opponent_pace_last_10: opponent.pace_last_10,
            opponent_def_rating_last_10: opponent.def_rating_last_10,
            early_season_flag: form.games_played_season < EARLY_SEASON_GAMES,
        });
    }
    summary
}

/// The half-open window of dates whose games inform some date of `dates`:
/// the first date's season start to the last date. Each date keeps only its
/// own season before it ([`history_window`]), so a wider window changes
/// nothing.
fn range_window(dates: &[NaiveDate]) -> Option<(NaiveDate, NaiveDate)> {
    let first = dates.iter().map(|d| history_window(*d).0).min()?;
    let end = dates.iter().max()?;
    Some((first, *end))
}

/// Every final competitive schedule row of `[first, end)`, whichever teams
/// it names; [`team_forms`] keeps those of D's season before D that concern
/// D's teams.
pub fn history_sql(first: NaiveDate, end: NaiveDate) -> String {
    format!(
        "SELECT {cols} FROM {table} WHERE game_date >= {first} AND game_date < {end} \
         AND game_status = 3 AND season_type NOT IN {exhibitions} \
         ORDER BY game_date, game_code",
        cols = fixtures::SCHEDULE_COLUMNS,
        table = ScheduleGame::DEF.qualified(),
        first = date_literal(first),
        end = date_literal(end),
        exhibitions = text_list(fixtures::EXHIBITION_SEASON_TYPES),
    )
}

/// Every team's competitive games of `[first, end)` with their ratings;
/// [`team_forms`] keeps each of D's teams' 10 most recent of D's season
/// before D, and the rows that repair a schedule row naming one team twice.
pub fn ratings_sql(first: NaiveDate, end: NaiveDate) -> String {
    format!(
        "SELECT o.game_date, o.game_id, o.season_type, o.team_abbr, o.opponent_abbr, o.points, \
           o.opponent_points, o.pace, o.offensive_rating, d.defensive_rating \
         FROM {offense} AS o LEFT JOIN {defense} AS d \
           ON d.game_date = o.game_date AND d.game_id = o.game_id AND d.defending_team_abbr = o.team_abbr \
         WHERE o.game_date >= {first} AND o.game_date < {end} \
           AND o.season_type NOT IN {exhibitions} \
         ORDER BY o.team_abbr, o.game_date, o.game_id",
        offense = TeamOffenseGameSummary::DEF.qualified(),
        defense = TeamDefenseGameSummary::DEF.qualified(),
        first = date_literal(first),
        end = date_literal(end),
        exhibitions = text_list(fixtures::EXHIBITION_SEASON_TYPES),
    )
}

/// What both upcoming contexts read for the team side of a range of dates
/// (one date on the daily path): each date's schedule rows, and the final
/// games and rating rows of the range's seasons before its last date. Each
/// date's build keeps only its own season before it, so every date sees
/// exactly what a read of that date alone would give it.
pub(crate) struct TeamInputs {
    pub schedule: BTreeMap<NaiveDate, Vec<ScheduleGame>>,
    pub history: Vec<ScheduleGame>,
    pub ratings: Vec<TeamRatingGame>,
}

impl TeamInputs {
    /// The schedule rows of `date` (none when it has no games).
    pub fn schedule_of(&self, date: NaiveDate) -> &[ScheduleGame] {
        on_date(&self.schedule, date)
    }
}

#[async_trait]
impl RangeInputs for TeamInputs {
    type Row = UpcomingTeamGameContext;

    async fn read(ctx: &ProcessContext, dates: &[NaiveDate]) -> Result<Self, ProcessError> {
        read_team_inputs(ctx, dates).await
    }

    /// The team contexts of `date`.
    fn build(&self, date: NaiveDate) -> DateSummary<UpcomingTeamGameContext> {
        build_upcoming_team_context(date, self.schedule_of(date), &self.history, &self.ratings)
    }
}

pub(crate) async fn read_team_inputs(
    ctx: &ProcessContext,
    dates: &[NaiveDate],
) -> Result<TeamInputs, ProcessError> {
    let schedule = fixtures::read_schedule_of_dates(ctx, dates).await?;
    let any_fixture = schedule.values().flatten().any(fixtures::consistent);
    let (history, ratings) = match range_window(dates) {
        Some((first, end)) if any_fixture => {
            for def in [TeamOffenseGameSummary::DEF, TeamDefenseGameSummary::DEF] {
                ctx.warehouse.ensure_table(&def).await?;
            }
            (
                ctx.warehouse.query_as(&history_sql(first, end)).await?,
                ctx.warehouse.query_as(&ratings_sql(first, end)).await?,
            )
        }
        _ => (Vec::new(), Vec::new()),
    };
    Ok(TeamInputs {
        schedule,
        history,
        ratings,
    })
}

/// Phase 3 processor writing `nba_analytics.upcoming_team_game_context`.
#[derive(Debug, Clone, Copy, Default)]
pub struct UpcomingTeamGameContextProcessor;

#[async_trait]
impl Processor for UpcomingTeamGameContextProcessor {
    fn name(&self) -> &'static str {
        "upcoming_team_game_context"
    }

    fn phase(&self) -> Phase {
        Phase::Analytics
    }

    fn outputs(&self) -> Vec<TableDef> {
        vec![UpcomingTeamGameContext::DEF]
    }

    /// Reads `nba_raw.schedule` of D (the fixtures). The team summaries and
    /// the schedule history it also reads are of dates before D only.
    fn sources(&self) -> Option<&'static [&'static str]> {
        Some(&["schedule"])
    }

    /// Without a schedule row for D there is no fixture and so no row.
    fn dependencies(&self) -> Vec<Dependency> {
        vec![Dependency {
            table: &ScheduleGame::DEF,
            min_rows: 1,
        }]
    }

    async fn process(&self, ctx: &ProcessContext) -> Result<ProcessOutput, ProcessError> {
        process_date::<TeamInputs>(ctx, self.name()).await
    }

    /// The team inputs of the range read once ([`read_team_inputs`]), each
    /// date built as by date, one write.
    async fn process_range(
        &self,
        ctx: &ProcessContext,
        dates: &[NaiveDate],
    ) -> Result<RangeOutput, ProcessError> {
        process_dates::<TeamInputs>(ctx, self.name(), dates).await
    }
}

/// Real inputs shared by the unit tests of both contexts.
#[cfg(test)]
pub(crate) mod testing {
    use super::TeamRatingGame;
    use crate::real_data::{date, real};
    use crate::{summarize_player_games, summarize_team_defense, summarize_team_offense};
    use chrono::NaiveDate;
    use propcast_core::tables::{PlayerGameSummary, ScheduleGame};
    use std::sync::OnceLock;

    /// The 2025-26 dates with box scores (2025-10-21 .. 2025-11-09).
    fn dates_2025_26() -> Vec<NaiveDate> {
        real()
            .teams
            .dates()
            .filter(|d| *d >= date("2025-08-01"))
            .collect()
    }

    /// Offense rows joined with defense rows, every 2025-26 date, as the
    /// Phase 3 summaries compute them from the real box scores.
    pub fn ratings_2025_26() -> &'static [TeamRatingGame] {
        static ONCE: OnceLock<Vec<TeamRatingGame>> = OnceLock::new();
        ONCE.get_or_init(|| {
            let r = real();
            let mut out = Vec::new();
            for d in dates_2025_26() {
                let (teams, schedule) = (r.teams.on(d), r.schedule.on(d));
                out.extend(TeamRatingGame::join(
                    &summarize_team_offense(d, teams, schedule).rows,
                    &summarize_team_defense(d, teams, schedule).rows,
                ));
            }
            out
        })
    }

    /// Player game summaries of every 2025-26 date.
    pub fn player_games_2025_26() -> &'static [PlayerGameSummary] {
        static ONCE: OnceLock<Vec<PlayerGameSummary>> = OnceLock::new();
        ONCE.get_or_init(|| {
            let r = real();
            dates_2025_26()
                .into_iter()
                .flat_map(|d| {
                    summarize_player_games(d, r.players.on(d), r.teams.on(d), r.schedule.on(d)).rows
                })
                .collect()
        })
    }

    /// The final games of the games file (both seasons).
    pub fn final_schedule() -> &'static [ScheduleGame] {
        &real().schedule.all
    }

    /// The schedule rows of `d`: the games file for played dates, the
    /// landing zone's CDN schedule (upcoming, no game ids) after 2025-11-09.
    pub fn schedule_on(d: NaiveDate) -> Vec<ScheduleGame> {
        if d > date("2025-11-09") {
            crate::real_data::landing_schedule_2025_26()
                .iter()
                .filter(|g| g.game_date == d)
                .cloned()
                .collect()
        } else {
            real().schedule.on(d).to_vec()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{final_schedule, ratings_2025_26, schedule_on};
    use super::*;
    use crate::real_data::date;

    fn contexts(d: NaiveDate) -> DateSummary<UpcomingTeamGameContext> {
        build_upcoming_team_context(d, &schedule_on(d), final_schedule(), ratings_2025_26())
    }

    fn row<'a>(
        s: &'a DateSummary<UpcomingTeamGameContext>,
        team: &str,
    ) -> &'a UpcomingTeamGameContext {
        s.rows.iter().find(|r| r.team_abbr == team).expect(team)
    }

    #[test]
    fn upcoming_2025_11_10_from_history_before_it_by_hand() {
        // Landing CDN schedule: 9 upcoming games on 2025-11-10 (status 1,
        // no game id), 18 teams.
        let d = date("2025-11-10");
        let s = contexts(d);
        assert_eq!(s.rows.len(), 18);
        assert_eq!(s.input_rows, 9);
        // games_2014_15_to_2025_26_before_2025-11-10.csv, DET 2025-26:
        //   10-22 @CHI L 111-115 | 10-24 @HOU W 115-111 | 10-26 BOS W 119-113
        //   10-27 CLE L 95-116 | 10-29 ORL W 135-116 | 11-01 DAL W 122-110
        //   11-03 @MEM W 114-106 | 11-05 UTA W 114-103 | 11-07 @BKN W 125-107
        //   11-09 @PHI W 111-108
        // → 8-2, six straight wins, last margin +3, 1 day of rest;
        // [11-03, 11-09] holds 4 games, [10-27, 11-09] 7. The 11-01 row
        // 0022500147 says DET vs DET; the box score says DAL @ DET, DET 122
        // (+12): repaired from the team summary for both DET and DAL.
        let det = row(&s, "DET");
        assert_eq!(
            (
                det.game_id.as_str(),
                det.opponent_abbr.as_str(),
                det.is_home
            ),
            ("20251110/WASDET", "WAS", true)
        );
        assert_eq!(
            det.tipoff_time.map(|t| t.to_rfc3339()),
            Some("2025-11-11T00:00:00+00:00".into())
        );
        assert_eq!(
            (det.season, det.season_type.as_str()),
            (2025, "Regular Season")
        );
        assert_eq!((det.days_rest, det.back_to_back), (Some(1), true));
        assert_eq!((det.games_last_7_days, det.games_last_14_days), (4, 7));
        assert_eq!((det.games_played_season, det.wins, det.losses), (10, 8, 2));
        assert_eq!((det.streak, det.last_game_margin), (6, Some(3)));
        assert!(!det.early_season_flag);
        // DAL: 10-22 SAS L | 10-24 WAS L | 10-26 TOR W | 10-27 OKC L
        //   10-29 IND W | 11-01 @DET L 110-122 (repaired) | 11-03 @HOU L
        //   11-05 NOP L | 11-07 @MEM L | 11-08 @WAS W 111-105
        // → 3-7, entering on one win (+6), 2 days of rest.
        let dal = row(&s, "DAL");
        assert_eq!((dal.games_played_season, dal.wins, dal.losses), (10, 3, 7));
        assert_eq!(
            (dal.streak, dal.last_game_margin, dal.days_rest),
            (1, Some(6), Some(2))
        );
        assert!(!dal.back_to_back);
        assert_eq!(s.counters.get("history_games_from_team_summary"), 2);
        // WAS: 1-9, eight straight losses, last lost by 6.
        let was = row(&s, "WAS");
        assert_eq!(
            (was.wins, was.losses, was.streak, was.last_game_margin),
            (1, 9, -8, Some(-6))
        );
        // MIN played 11-09 at SAC (144-117): back to back.
        let min = row(&s, "MIN");
        assert_eq!(
            (min.days_rest, min.back_to_back, min.last_game_margin),
            (Some(1), true, Some(27))
        );
        // Each side sees the other's pace and defensive rating.
        assert_eq!(det.opponent_pace_last_10, was.pace_last_10);
        assert_eq!(det.opponent_def_rating_last_10, was.def_rating_last_10);
        assert!(s.rows.windows(2).all(|w| w[0].team_abbr < w[1].team_abbr));
    }

    #[test]
    fn ratings_are_means_of_the_last_ten_games_before_the_date() {
        let d = date("2025-11-10");
        let s = contexts(d);
        for team in ["DET", "UTA", "LAC"] {
            let mut games: Vec<&TeamRatingGame> = ratings_2025_26()
                .iter()
                .filter(|r| r.team_abbr == team && r.game_date < d)
                .collect();
            games.sort_by_key(|r| std::cmp::Reverse(r.game_date));
            games.truncate(10);
            let n = games.len();
            assert!((9..=10).contains(&n));
            let c = row(&s, team);
            let paces: Vec<f64> = games.iter().filter_map(|g| g.pace).collect();
            let want = paces.iter().sum::<f64>() / paces.len() as f64;
            assert!((c.pace_last_10.unwrap() - want).abs() < 1e-9, "{team}");
            let drtg: Vec<f64> = games.iter().filter_map(|g| g.defensive_rating).collect();
            let want = drtg.iter().sum::<f64>() / drtg.len() as f64;
            assert!(
                (c.def_rating_last_10.unwrap() - want).abs() < 1e-9,
                "{team}"
            );
            assert!((80.0..130.0).contains(&c.pace_last_10.unwrap()));
        }
    }

    #[test]
    fn opening_night_has_no_history_and_is_early_season() {
        // 2025-10-21: HOU @ OKC, GSW @ LAL; nothing of 2025-26 before it and
        // 2024-25 games do not count.
        let s = contexts(date("2025-10-21"));
        assert_eq!(s.rows.len(), 4);
        for c in &s.rows {
            assert_eq!((c.days_rest, c.games_played_season, c.streak), (None, 0, 0));
            assert_eq!((c.pace_last_10, c.last_game_margin), (None, None));
            assert!(c.early_season_flag && !c.back_to_back);
        }
    }

    #[test]
    fn a_schedule_row_naming_one_team_twice_is_skipped_and_counted() {
        // 2025-11-01: 0022500147 is listed DET vs DET; 6 games that day.
        let s = contexts(date("2025-11-01"));
        assert_eq!(s.counters.get("schedule_rows_inconsistent"), 1);
        assert_eq!(s.rows.len(), 10);
        assert!(s.rows.iter().all(|r| r.team_abbr != "DET"));
    }

    #[test]
    fn nothing_on_or_after_the_date_changes_the_context() {
        for d in [
            "2025-10-24",
            "2025-11-01",
            "2025-11-05",
            "2025-11-09",
            "2025-11-10",
        ]
        .map(date)
        {
            let reference = contexts(d).rows;
            let mut history: Vec<ScheduleGame> = final_schedule().to_vec();
            history.retain(|g| g.game_date < d);
            let mut ratings: Vec<TeamRatingGame> = ratings_2025_26().to_vec();
            ratings.retain(|r| r.game_date < d);
            let before = build_upcoming_team_context(d, &schedule_on(d), &history, &ratings);
            assert_eq!(before.rows, reference, "{d}");
            // Everything on or after D rewritten: scores, paces, ratings.
            let mut history: Vec<ScheduleGame> = final_schedule().to_vec();
            for g in history.iter_mut().filter(|g| g.game_date >= d) {
                (g.home_score, g.away_score) = (Some(200), Some(0));
            }
            let mut ratings: Vec<TeamRatingGame> = ratings_2025_26().to_vec();
            for r in ratings.iter_mut().filter(|r| r.game_date >= d) {
                (r.pace, r.defensive_rating) = (Some(500.0), Some(500.0));
            }
            let changed = build_upcoming_team_context(d, &schedule_on(d), &history, &ratings);
            assert_eq!(changed.rows, reference, "{d}");
        }
    }

    #[test]
    fn a_range_reads_its_first_dates_season_to_its_last_date_only() {
        let dates = [date("2025-04-10"), date("2025-10-22"), date("2025-11-10")];
        let (first, end) = range_window(&dates).unwrap();
        assert_eq!((first, end), (date("2024-08-01"), date("2025-11-10")));
        assert_eq!(range_window(&dates[2..]).unwrap().0, date("2025-08-01"));
        assert_eq!(range_window(&[]), None);
        for sql in [history_sql(first, end), ratings_sql(first, end)] {
            assert!(sql.contains("game_date >= DATE '2024-08-01' AND"), "{sql}");
            assert!(sql.contains("game_date < DATE '2025-11-10'"), "{sql}");
            assert!(sql.contains("NOT IN ('Preseason', 'All-Star')"), "{sql}");
        }
    }
}
