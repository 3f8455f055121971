//! `nba_precompute.player_composite_factors` (`v1_4factors`, REFERENCE §3.3):
//! four adjustments for each player of `nba_analytics.upcoming_player_game_context`
//! on date D, each a documented formula with its clamp, from what is known
//! before tip-off.
//!
//! **Fatigue** (`fatigue_score`, integer 0–100, **high = rested**). Start
//! at 100; back-to-back (the context's `back_to_back`, i.e. `days_rest == 1`)
//! −15, else `days_rest` ≥ 3 +5; `games_last_7_days` ≥ 4 −10;
//! `minutes_last_7_days` > 240 −10; mean minutes per game over the last 7
//! days > 35 −8; back-to-backs in the last 14 days ≥ 2 −12, = 1 −5; age ≥ 35
//! −10, ≥ 30 −5; clamped to [0, 100]. A NULL input takes the reference
//! default (days_rest 1, games 3, minutes 200, mpg 30) and is listed in
//! `missing_data_fields`. There is no birth date in our sources, so the age
//! is always the default 25 (no penalty) and `player_age` is always listed.
//! `fatigue_adjustment = (fatigue_score − 100) / 20` ∈ [−5, 0] is what the
//! total uses. A CRITICAL range check ([`check_ranges`]) refuses to write a
//! score outside 0–100 (the reference once stored the adjustment instead).
//!
//! **Shot-zone mismatch** ∈ [−10, 10]. The player's `primary_scoring_zone`
//! (player_shot_zone_analysis of D, only a `complete` 10-game sample) picks
//! his rate there and the opponent's `<zone>_defense_vs_league_avg`
//! (team_defense_zone_analysis of D): paint ↔ paint, mid_range ↔ mid_range,
//! perimeter ↔ three; a `balanced` player scores 0. The defense difference
//! is a 0–1 FG% difference, used here **in percentage points**
//! (`d = 100 · vs_league`, so 0.05 = 5 pp weaker than the league); the
//! player's rate is in percent (0–100). `w = min(rate / 50, 1)`, `s = d·w`,
//! `s · 1.2` when `|s| > 5`, clamped. 0 with `primary_scoring_zone` or
//! `opponent_zone_defense` listed when either side is missing (no zone data
//! exists for 2024-25 and 2025-26).
//!
//! **Pace** ∈ [−3, 3] = `pace_differential / 2` (team pace last 10 − the
//! opponent's), from the player context, else from the team context
//! (`pace_last_10 − opponent_pace_last_10`); 0 and listed when neither has it.
//!
//! **Usage spike** ∈ [−3, 3] = `0.3 · (projected − baseline)`. We have no
//! usage projection source: the projection is the mean usage rate of the
//! player's last 3 games before D (`player_game_summary`), the baseline the
//! context's `avg_usage_rate_last_7_games`; the score is a short-term usage
//! trend. 0 when either is NULL or the baseline is 0 (listed). A positive
//! spike is multiplied by ×1.15 with one star teammate out and ×1.30 with
//! two or more (the reference's rule), counted by the context from the
//! latest injury report before tip-off (`star_teammates_out`). Without a
//! report the count is unknown: the multiplier is 1.0 and
//! `star_teammates_out` is listed missing.
//!
//! `total_composite_adjustment` = fatigue_adjustment + mismatch + pace +
//! usage (the reference's deferred factors are 0 and omitted).
//! `data_completeness_pct` = 100 · present / [`INPUT_FIELDS`];
//! `has_warnings` = a factor other than the always-missing age and star
//! count fell back to a default (see [`warning_fields`]).

use crate::recent_games::{self, PlayerHistory, RecentGameRow};
use async_trait::async_trait;
use chrono::NaiveDate;
use propcast_core::tables::{
    PlayerCompositeFactors, PlayerGameSummary, PlayerShotZoneAnalysis, TeamDefenseZoneAnalysis,
    UpcomingPlayerGameContext, UpcomingTeamGameContext,
};
use propcast_core::{Table, TableDef};
use propcast_patterns::reads::{by_date, read_date, read_dates};
use propcast_patterns::{Counters, DateSummary};
use propcast_patterns::{
    Dependency, Phase, ProcessContext, ProcessError, ProcessOutput, Processor, RangeOutput,
};
use propcast_platform::WarehouseExt;
use serde_json::json;
use std::collections::BTreeMap;

pub const CALCULATION_VERSION: &str = "v1_4factors";

/// Games whose usage makes the projection.
pub const PROJECTION_GAMES: usize = 3;

/// The age used for every player: no source has birth dates.
pub const DEFAULT_AGE: i64 = 25;

/// Input fields whose presence `data_completeness_pct` measures.
pub const INPUT_FIELDS: [&str; 9] = [
    "days_rest",
    "avg_minutes_last_7_days",
    "player_age",
    "primary_scoring_zone",
    "opponent_zone_defense",
    "pace_differential",
    "projected_usage_rate",
    "avg_usage_rate_last_7_games",
    "star_teammates_out",
];

/// Missing fields that make a factor fall back to 0 (mismatch, pace, usage)
/// or to the reference's rest default (fatigue); the feature store marks the
/// factor defaulted when one of its fields is listed ([`factor_defaulted`]).
pub fn warning_fields() -> [&'static str; 6] {
    [
        "days_rest",
        "primary_scoring_zone",
        "opponent_zone_defense",
        "pace_differential",
        "projected_usage_rate",
        "avg_usage_rate_last_7_games",
    ]
}

/// Whether a stored row's `factor` ("shot_zone_mismatch_score", "pace_score",
/// "usage_spike_score") is a fallback 0 for missing inputs rather than a
/// computed value. Fatigue is always computed (per-input defaults only).
pub fn factor_defaulted(row: &PlayerCompositeFactors, factor: &str) -> bool {
    let fields: &[&str] = match factor {
        "shot_zone_mismatch_score" => &["primary_scoring_zone", "opponent_zone_defense"],
        "pace_score" => &["pace_differential"],
        "usage_spike_score" => &["projected_usage_rate", "avg_usage_rate_last_7_games"],
        _ => &[],
    };
    row.missing_data_fields
        .split(',')
        .any(|f| fields.contains(&f))
}

// ---------------------------------------------------------------- fatigue

/// The fatigue inputs of one player-game; `None` = NULL in the context.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FatigueInputs {
    pub back_to_back: bool,
    pub days_rest: Option<i64>,
    pub games_last_7_days: Option<i64>,
    pub minutes_last_7_days: Option<f64>,
    pub avg_minutes_last_7_days: Option<f64>,
    pub back_to_backs_last_14_days: i64,
    pub age: Option<i64>,
}

impl FatigueInputs {
    pub fn of(c: &UpcomingPlayerGameContext) -> Self {
        FatigueInputs {
            back_to_back: c.back_to_back,
            days_rest: c.days_rest,
            games_last_7_days: Some(c.games_last_7_days),
            minutes_last_7_days: Some(c.minutes_last_7_days),
            avg_minutes_last_7_days: c.avg_minutes_last_7_days,
            back_to_backs_last_14_days: c.back_to_backs_last_14_days,
            age: None,
        }
    }
}

/// The fatigue score (0–100, high = rested), REFERENCE §3.3.
pub fn fatigue_score(i: &FatigueInputs) -> i64 {
    let days_rest = i.days_rest.unwrap_or(1);
    let games = i.games_last_7_days.unwrap_or(3);
    let minutes = i.minutes_last_7_days.unwrap_or(200.0);
    let mpg = i.avg_minutes_last_7_days.unwrap_or(30.0);
    let age = i.age.unwrap_or(DEFAULT_AGE);
    let mut score: i64 = 100;
    if i.back_to_back {
        score -= 15;
    } else if days_rest >= 3 {
        score += 5;
    }
    if games >= 4 {
        score -= 10;
    }
    if minutes > 240.0 {
        score -= 10;
    }
    if mpg > 35.0 {
        score -= 8;
    }
    match i.back_to_backs_last_14_days {
        n if n >= 2 => score -= 12,
        1 => score -= 5,
        _ => {}
    }
    if age >= 35 {
        score -= 10;
    } else if age >= 30 {
        score -= 5;
    }
    score.clamp(0, 100)
}

/// (score − 100) / 20: 0 for a fully rested player, −5 at score 0.
pub fn fatigue_adjustment(score: i64) -> f64 {
    (score - 100) as f64 / 20.0
}

// --------------------------------------------------------------- mismatch

/// The side of the mismatch a player brings: his primary zone and his rate
/// there (percent of FGA).
#[derive(Debug, Clone, PartialEq)]
pub struct PlayerZone {
    pub primary_zone: String,
    /// `None` for `balanced` (no zone to match).
    pub rate: Option<f64>,
}

impl PlayerZone {
    /// From a `complete` shot-zone analysis; `None` otherwise.
    pub fn of(a: &PlayerShotZoneAnalysis) -> Option<Self> {
        if a.sample_quality != "complete" {
            return None;
        }
        let rate = match a.primary_scoring_zone.as_str() {
            "paint" => a.paint_rate,
            "mid_range" => a.mid_range_rate,
            "perimeter" => a.three_rate,
            "balanced" => {
                return Some(PlayerZone {
                    primary_zone: "balanced".into(),
                    rate: None,
                });
            }
            _ => return None,
        };
        Some(PlayerZone {
            primary_zone: a.primary_scoring_zone.clone(),
            rate: Some(rate?),
        })
    }
}

/// The opponent's FG% allowed vs the league (0–1) in `zone`
/// ("perimeter" ↔ three).
pub fn opponent_zone_defense(d: &TeamDefenseZoneAnalysis, zone: &str) -> Option<f64> {
    match zone {
        "paint" => d.paint_defense_vs_league_avg,
        "mid_range" => d.mid_range_defense_vs_league_avg,
        "perimeter" | "three" => d.three_defense_vs_league_avg,
        _ => None,
    }
}

/// `s = 100·vs_league · min(rate/50, 1)`, ×1.2 when |s| > 5, clamped to
/// [−10, 10].
pub fn mismatch_score(player_rate: f64, vs_league: f64) -> f64 {
    let d = 100.0 * vs_league;
    let w = (player_rate / 50.0).min(1.0);
    let mut s = d * w;
    if s.abs() > 5.0 {
        s *= 1.2;
    }
    s.clamp(-10.0, 10.0)
}

// ------------------------------------------------------------ pace, usage

/// pace_differential / 2, clamped to [−3, 3].
pub fn pace_score(pace_differential: f64) -> f64 {
    (pace_differential / 2.0).clamp(-3.0, 3.0)
}

/// The usage multiplier of star teammates out: ×1.15 for one, ×1.30 for
/// two or more, 1.0 for none or unknown.
pub fn star_multiplier(star_teammates_out: Option<i64>) -> f64 {
    match star_teammates_out {
        Some(1) => 1.15,
        Some(n) if n >= 2 => 1.30,
        _ => 1.0,
    }
}

/// 0.3 · (projected − baseline), × `multiplier` when positive, clamped to
/// [−3, 3]; 0 when the baseline is 0.
pub fn usage_spike_score(projected: f64, baseline: f64, multiplier: f64) -> f64 {
    if baseline == 0.0 {
        return 0.0;
    }
    let spike = 0.3 * (projected - baseline);
    let spike = if spike > 0.0 {
        spike * multiplier
    } else {
        spike
    };
    spike.clamp(-3.0, 3.0)
}

// ---------------------------------------------------------------- builder

/// What the builder reads for a date, keyed for lookup.
#[derive(Debug, Clone)]
pub struct CompositeInputs<'a> {
    pub players: &'a [UpcomingPlayerGameContext],
    /// By team_abbr.
    pub teams: BTreeMap<&'a str, &'a UpcomingTeamGameContext>,
    /// By player_id.
    pub zones: BTreeMap<i64, &'a PlayerShotZoneAnalysis>,
    /// By team_abbr.
    pub defenses: BTreeMap<&'a str, &'a TeamDefenseZoneAnalysis>,
    /// By player_id: recent games before the date.
    pub history: &'a BTreeMap<i64, PlayerHistory>,
}

impl<'a> CompositeInputs<'a> {
    pub fn new(
        players: &'a [UpcomingPlayerGameContext],
        teams: &'a [UpcomingTeamGameContext],
        zones: &'a [PlayerShotZoneAnalysis],
        defenses: &'a [TeamDefenseZoneAnalysis],
        history: &'a BTreeMap<i64, PlayerHistory>,
    ) -> Self {
        CompositeInputs {
            players,
            teams: teams.iter().map(|t| (t.team_abbr.as_str(), t)).collect(),
            zones: zones.iter().map(|z| (z.player_id, z)).collect(),
            defenses: defenses.iter().map(|d| (d.team_abbr.as_str(), d)).collect(),
            history,
        }
    }
}

fn round(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

/// The composite factors of one player-game.
pub fn composite_factors(
    date: NaiveDate,
    c: &UpcomingPlayerGameContext,
    inputs: &CompositeInputs<'_>,
    counters: &mut Counters,
) -> PlayerCompositeFactors {
    let mut missing: Vec<&'static str> = Vec::new();

    // Fatigue.
    let f = FatigueInputs::of(c);
    if f.days_rest.is_none() {
        missing.push("days_rest");
    }
    if f.avg_minutes_last_7_days.is_none() {
        missing.push("avg_minutes_last_7_days");
    }
    missing.push("player_age");
    let fatigue = fatigue_score(&f);
    let fatigue_adj = fatigue_adjustment(fatigue);

    // Mismatch.
    let player_zone = inputs
        .zones
        .get(&c.player_id)
        .and_then(|z| PlayerZone::of(z));
    let defense = inputs.defenses.get(c.opponent_abbr.as_str());
    let vs_league = match (&player_zone, defense) {
        (Some(z), Some(d)) if z.rate.is_some() => opponent_zone_defense(d, &z.primary_zone),
        _ => None,
    };
    if player_zone.is_none() {
        missing.push("primary_scoring_zone");
    }
    let balanced = player_zone.as_ref().is_some_and(|z| z.rate.is_none());
    let defense_missing = match (defense, &player_zone) {
        _ if balanced => false,
        (None, _) => true,
        (Some(_), Some(_)) => vs_league.is_none(),
        (Some(_), None) => false,
    };
    if defense_missing {
        missing.push("opponent_zone_defense");
    }
    let mismatch = match (&player_zone, vs_league) {
        (Some(PlayerZone { rate: Some(r), .. }), Some(v)) => mismatch_score(*r, v),
        _ => 0.0,
    };

    // Pace.
    let team = inputs.teams.get(c.team_abbr.as_str());
    let (pace_differential, pace_source) = match c.pace_differential {
        Some(p) => (Some(p), "upcoming_player_game_context"),
        None => match team.and_then(|t| Some(t.pace_last_10? - t.opponent_pace_last_10?)) {
            Some(p) => (Some(p), "upcoming_team_game_context"),
            None => (None, "missing"),
        },
    };
    if pace_differential.is_none() {
        missing.push("pace_differential");
    }
    let pace = pace_differential.map_or(0.0, pace_score);

    // Usage.
    let history = inputs.history.get(&c.player_id);
    let projected = history.and_then(|h| h.usage_avg_last(PROJECTION_GAMES));
    let baseline = c.avg_usage_rate_last_7_games;
    if projected.is_none() {
        missing.push("projected_usage_rate");
    }
    if baseline.is_none() {
        missing.push("avg_usage_rate_last_7_games");
    }
    if c.star_teammates_out.is_none() {
        missing.push("star_teammates_out");
    }
    let multiplier = star_multiplier(c.star_teammates_out);
    let usage = match (projected, baseline) {
        (Some(p), Some(b)) => usage_spike_score(p, b, multiplier),
        _ => 0.0,
    };

    let present = INPUT_FIELDS.len() - missing.len();
    let has_warnings = missing.iter().any(|m| warning_fields().contains(m));
    if has_warnings {
        counters.bump("rows_with_warnings");
    }
    for m in &missing {
        counters.bump(&format!("missing_{m}"));
    }
    let recent_usage: Vec<Option<f64>> = history
        .map(|h| {
            h.last(PROJECTION_GAMES)
                .iter()
                .map(|g: &RecentGameRow| g.usage_rate)
                .collect()
        })
        .unwrap_or_default();
    let context = json!({
        "fatigue": {
            "back_to_back": f.back_to_back,
            "days_rest": f.days_rest,
            "games_last_7_days": f.games_last_7_days,
            "minutes_last_7_days": f.minutes_last_7_days,
            "avg_minutes_last_7_days": f.avg_minutes_last_7_days,
            "back_to_backs_last_14_days": f.back_to_backs_last_14_days,
            "age": DEFAULT_AGE,
            "age_defaulted": true,
            "score": fatigue,
            "adjustment": fatigue_adj,
        },
        "shot_zone_mismatch": {
            "primary_zone": player_zone.as_ref().map(|z| z.primary_zone.clone()),
            "player_zone_rate": player_zone.as_ref().and_then(|z| z.rate),
            "opponent": c.opponent_abbr,
            "opponent_vs_league_avg": vs_league,
            "unit": "percentage_points",
            "score": mismatch,
        },
        "pace": {
            "pace_differential": pace_differential,
            "source": pace_source,
            "score": pace,
        },
        "usage_spike": {
            "projected_usage_rate": projected,
            "projection": "mean usage_rate of the last 3 games before the date",
            "recent_usage_rates": recent_usage,
            "avg_usage_rate_last_7_games": baseline,
            "star_teammates_out": c.star_teammates_out,
            "star_multiplier": multiplier,
            "score": usage,
        },
    });
    PlayerCompositeFactors {
        game_date: date,
        player_lookup: c.player_lookup.clone(),
        player_id: c.player_id,
        game_id: c.game_id.clone(),
        team_abbr: c.team_abbr.clone(),
        opponent_abbr: c.opponent_abbr.clone(),
        fatigue_score: fatigue,
        fatigue_adjustment: fatigue_adj,
        shot_zone_mismatch_score: mismatch,
        pace_score: pace,
        usage_spike_score: usage,
        total_composite_adjustment: fatigue_adj + mismatch + pace + usage,
        factor_context: context.to_string(),
        data_completeness_pct: round(100.0 * present as f64 / INPUT_FIELDS.len() as f64, 2),
        missing_data_fields: missing.join(","),
        has_warnings,
        calculation_version: CALCULATION_VERSION.to_string(),
    }
}

/// Computes the composite factors of every context player of `date`,
/// sorted by `player_lookup`.
pub fn build_player_composite_factors(
    date: NaiveDate,
    inputs: &CompositeInputs<'_>,
) -> DateSummary<PlayerCompositeFactors> {
    let mut summary = DateSummary::<PlayerCompositeFactors> {
        input_rows: inputs.players.len(),
        ..DateSummary::default()
    };
    for c in inputs.players.iter().filter(|c| c.game_date == date) {
        let row = composite_factors(date, c, inputs, &mut summary.counters);
        summary.rows.push(row);
    }
    summary
        .rows
        .sort_by(|a, b| a.player_lookup.cmp(&b.player_lookup));
    summary
}

/// A composite-factor row failed the CRITICAL pre-write range check.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CompositeFactorError {
    #[error(
        "fatigue_score {score} of {player_lookup} on {game_date} is outside 0-100 (an adjustment stored as a score?)"
    )]
    FatigueOutOfRange {
        game_date: NaiveDate,
        player_lookup: String,
        score: i64,
    },
    #[error("{field} {value} of {player_lookup} on {game_date} is outside [{min}, {max}]")]
    FactorOutOfRange {
        game_date: NaiveDate,
        player_lookup: String,
        field: &'static str,
        value: f64,
        min: f64,
        max: f64,
    },
}

impl From<CompositeFactorError> for ProcessError {
    fn from(e: CompositeFactorError) -> Self {
        ProcessError::Permanent(e.to_string())
    }
}

/// The CRITICAL pre-write check: fatigue 0–100 and every factor within its
/// clamp. Any violation blocks the whole date's write.
pub fn check_ranges(rows: &[PlayerCompositeFactors]) -> Result<(), CompositeFactorError> {
    for r in rows {
        if !(0..=100).contains(&r.fatigue_score) {
            return Err(CompositeFactorError::FatigueOutOfRange {
                game_date: r.game_date,
                player_lookup: r.player_lookup.clone(),
                score: r.fatigue_score,
            });
        }
        for (field, value, bound) in [
            ("fatigue_adjustment", r.fatigue_adjustment, 5.0),
            ("shot_zone_mismatch_score", r.shot_zone_mismatch_score, 10.0),
            ("pace_score", r.pace_score, 3.0),
            ("usage_spike_score", r.usage_spike_score, 3.0),
        ] {
            let (min, max) = if field == "fatigue_adjustment" {
                (-bound, 0.0)
            } else {
                (-bound, bound)
            };
            if !(min..=max).contains(&value) {
                return Err(CompositeFactorError::FactorOutOfRange {
                    game_date: r.game_date,
                    player_lookup: r.player_lookup.clone(),
                    field,
                    value,
                    min,
                    max,
                });
            }
        }
    }
    Ok(())
}

// -------------------------------------------------------------- processor

/// [`read_recent_games`] of every date of `dates` in one query
/// ([`recent_games::recent_games_range_sql`]).
pub(crate) async fn read_recent_games_range(
    ctx: &ProcessContext,
    dates: &[NaiveDate],
) -> Result<BTreeMap<NaiveDate, BTreeMap<i64, PlayerHistory>>, ProcessError> {
    ctx.warehouse.ensure_table(&PlayerGameSummary::DEF).await?;
    ctx.warehouse
        .ensure_table(&UpcomingPlayerGameContext::DEF)
        .await?;
    let rows = ctx
        .warehouse
        .query_rows(&recent_games::recent_games_range_sql(dates))
        .await?;
    let grouped: BTreeMap<NaiveDate, Vec<RecentGameRow>> = by_date(rows, "day", "recent games")?;
    Ok(grouped
        .into_iter()
        .map(|(day, rows)| (day, recent_games::group_recent(rows)))
        .collect())
}

/// The recent games of the date's universe (one query).
pub(crate) async fn read_recent_games(
    ctx: &ProcessContext,
) -> Result<BTreeMap<i64, PlayerHistory>, ProcessError> {
    ctx.warehouse.ensure_table(&PlayerGameSummary::DEF).await?;
    let rows: Vec<RecentGameRow> = ctx
        .warehouse
        .query_as(&recent_games::recent_games_sql(ctx.game_date))
        .await?;
    Ok(recent_games::group_recent(rows))
}

/// A date's context players and what both phase 4 player processors read
/// with them: the teams' context, the players' shot zones, the opponents'
/// zone defense and the players' recent games. A date without players reads
/// nothing else.
#[derive(Debug, Default)]
pub(crate) struct PlayerDay {
    pub players: Vec<UpcomingPlayerGameContext>,
    pub teams: Vec<UpcomingTeamGameContext>,
    pub zones: Vec<PlayerShotZoneAnalysis>,
    pub defenses: Vec<TeamDefenseZoneAnalysis>,
    pub history: BTreeMap<i64, PlayerHistory>,
}

impl PlayerDay {
    /// The inputs of `ctx.game_date`.
    pub(crate) async fn read(ctx: &ProcessContext) -> Result<Self, ProcessError> {
        let players: Vec<UpcomingPlayerGameContext> = read_date(ctx).await?;
        if players.is_empty() {
            return Ok(PlayerDay::default());
        }
        Ok(PlayerDay {
            players,
            teams: read_date(ctx).await?,
            zones: read_date(ctx).await?,
            defenses: read_date(ctx).await?,
            history: read_recent_games(ctx).await?,
        })
    }

    /// The inputs of every date of `dates`, one query per table for all of
    /// them; each date's exactly what [`PlayerDay::read`] gives it.
    pub(crate) async fn read_range(
        ctx: &ProcessContext,
        dates: &[NaiveDate],
    ) -> Result<BTreeMap<NaiveDate, Self>, ProcessError> {
        let mut players = read_dates::<UpcomingPlayerGameContext>(ctx, dates).await?;
        let mut teams = read_dates::<UpcomingTeamGameContext>(ctx, dates).await?;
        let mut zones = read_dates::<PlayerShotZoneAnalysis>(ctx, dates).await?;
        let mut defenses = read_dates::<TeamDefenseZoneAnalysis>(ctx, dates).await?;
        let mut history = read_recent_games_range(ctx, dates).await?;
        Ok(dates
            .iter()
            .map(|date| {
                let players = players.remove(date).unwrap_or_default();
                let day = if players.is_empty() {
                    PlayerDay::default()
                } else {
                    PlayerDay {
                        players,
                        teams: teams.remove(date).unwrap_or_default(),
                        zones: zones.remove(date).unwrap_or_default(),
                        defenses: defenses.remove(date).unwrap_or_default(),
                        history: history.remove(date).unwrap_or_default(),
                    }
                };
                (*date, day)
            })
            .collect())
    }

    fn composite_inputs(&self) -> CompositeInputs<'_> {
        CompositeInputs::new(
            &self.players,
            &self.teams,
            &self.zones,
            &self.defenses,
            &self.history,
        )
    }
}

/// Phase 4 processor writing `nba_precompute.player_composite_factors`.
#[derive(Debug, Clone, Copy, Default)]
pub struct PlayerCompositeFactorsProcessor;

#[async_trait]
impl Processor for PlayerCompositeFactorsProcessor {
    fn name(&self) -> &'static str {
        "player_composite_factors"
    }

    fn phase(&self) -> Phase {
        Phase::Precompute
    }

    fn outputs(&self) -> Vec<TableDef> {
        vec![PlayerCompositeFactors::DEF]
    }

    /// Reads `upcoming_player_game_context` and `upcoming_team_game_context`
    /// of D, `player_shot_zone_analysis` and `team_defense_zone_analysis` of
    /// D; `player_game_summary` only before D (the recent games of the
    /// context's players).
    fn sources(&self) -> Option<&'static [&'static str]> {
        Some(&[
            "upcoming_player_game_context",
            "upcoming_team_game_context",
            "player_shot_zone_analysis",
            "team_defense_zone_analysis",
        ])
    }

    /// Every row is a player of the date's upcoming player context.
    fn dependencies(&self) -> Vec<Dependency> {
        vec![Dependency {
            table: &UpcomingPlayerGameContext::DEF,
            min_rows: 1,
        }]
    }

    async fn process(&self, ctx: &ProcessContext) -> Result<ProcessOutput, ProcessError> {
        let day = PlayerDay::read(ctx).await?;
        let summary = self.compute(ctx.game_date, &day.composite_inputs())?;
        propcast_patterns::write_partition(ctx, self.name(), summary).await
    }

    /// Every input of the range read once ([`PlayerDay::read_range`]), each
    /// date computed as by date, one write.
    async fn process_range(
        &self,
        ctx: &ProcessContext,
        dates: &[NaiveDate],
    ) -> Result<RangeOutput, ProcessError> {
        let mut summaries = BTreeMap::new();
        for (date, day) in PlayerDay::read_range(ctx, dates).await? {
            summaries.insert(date, self.compute(date, &day.composite_inputs())?);
        }
        propcast_patterns::write_range(ctx, self.name(), dates, summaries).await
    }
}

impl PlayerCompositeFactorsProcessor {
    /// One date's rows, range-checked before anything is written.
    fn compute(
        &self,
        date: NaiveDate,
        inputs: &CompositeInputs<'_>,
    ) -> Result<DateSummary<PlayerCompositeFactors>, ProcessError> {
        let summary = build_player_composite_factors(date, inputs);
        check_ranges(&summary.rows).inspect_err(|e| {
            tracing::error!(processor = self.name(), game_date = %date, error = %e, "composite factor range check failed; nothing written");
        })?;
        Ok(summary)
    }
}
