//! `nba_precompute.ml_feature_store`: one versioned feature vector
//! ([`propcast_core::features`], `v1_37features`) for each player of
//! `nba_analytics.upcoming_player_game_context` on date D (REFERENCE §3.5).
//!
//! Every feature carries its [`FeatureSource`] and a `defaulted` flag. A
//! nullable feature without a value is NULL with source `missing` (the shot
//! zones, which exist only for 2022-24; the prop lines, which exist only from
//! 2025-26; `days_rest` before a first game; usage without team totals). A
//! non-nullable feature without a value takes its documented default with
//! source `default` and `defaulted = true`. Nothing is invented: a prop line
//! is never filled with an average.
//!
//! | # | feature | source, in order of preference |
//! |---|---|---|
//! | 0–3 | points avg L5 / L10 / season, points std L10 (sample) | daily cache (phase4) → recent games (phase3) |
//! | 4 | games_in_last_7_days | daily cache → player context (phase3) |
//! | 5–8 | fatigue, mismatch, pace, usage spike | composite factors (phase4); a factor that fell back to 0 for missing inputs (see [`crate::player_composite_factors::factor_defaulted`]) is `default` |
//! | 9 | rest_advantage = clamp(days_rest − opponent_days_rest, ±2) | calculated from the context |
//! | 10 | injury_risk: available 0, probable 1, questionable 2, doubtful or out 3 | the context's `injury_status`, from the latest injury report before tip-off (phase3); no report → the default 0, defaulted |
//! | 11 | recent_trend: mean(last 2) − mean(games 3–5): ≥ 5 → 2, ≥ 2 → 1, ≤ −5 → −2, ≤ −2 → −1, else 0 (needs 5 games) | calculated |
//! | 12 | minutes_change: (L10 min − season min) / season min: ≥ 20 % → 2, ≥ 10 % → 1, ≤ −20 % → −2, ≤ −10 % → −1, else 0 | calculated |
//! | 13 | opponent_def_rating | opponent's zone analysis `defensive_rating` (phase4) → context `opponent_def_rating_last_10` → team context (phase3) |
//! | 14 | opponent_pace | context `opponent_pace_last_10` → team context (phase3) |
//! | 15–17 | home_away (1 = home), back_to_back, playoff_game (season_type `playoffs`) | context (phase3) |
//! | 18–20 | pct_paint / pct_mid_range / pct_three = rate / 100 | player shot-zone analysis (phase4), else NULL |
//! | 21 | pct_free_throw = ΣFTM / ΣPTS over the last 10 games, clamped to [0, 0.5] | calculated |
//! | 22 | team_pace | context `team_pace_last_10` → team context `pace_last_10` (phase3) |
//! | 23 | team_off_rating | team context `off_rating_last_10` (phase3) |
//! | 24 | team_win_pct = wins / decided games this season (≥ 5 games) | calculated from team_offense_game_summary |
//! | 25–27 | vegas_points_line / opening / line_move | the context's real pre-tip lines (vegas), else NULL |
//! | 28 | has_vegas_line | calculated: 1 with a current line, else 0 |
//! | 29 | avg_points_vs_opponent over this and last season | head-to-head (opponent_history); without a game, the documented fallback: the season average (default, defaulted), else 10 |
//! | 30 | games_vs_opponent | head-to-head count (0 is a fact, not a default) |
//! | 31 | minutes_avg_last_10 | daily cache → recent games (phase3) |
//! | 32 | ppm_avg_last_10 = ΣPTS / ΣMIN over the last 10 games | calculated |
//! | 33 | days_rest | context (phase3), else NULL |
//! | 34 | pts_slope_10g: OLS slope of points on game number over the last ≤ 10 games, oldest first (≥ 3 games) | calculated |
//! | 35 | pts_vs_season_zscore = clamp((L5 avg − season avg) / sample std L10, ±3) | calculated |
//! | 36 | usage_rate_last_5: mean of the non-NULL usage rates of the last 5 games | calculated, else NULL |
//!
//! All game history is strictly before D ([`crate::recent_games`]).
//!
//! **Quality.** `feature_quality_score` = mean of the 37 source weights
//! ([`FeatureSource::quality_weight`]), capped at 69 when ≥ 1 required
//! (non-optional) feature is defaulted and at 49 when ≥ 5, rounded to 0.01;
//! `quality_tier` from [`quality_tier`]. `data_source` is `phase4` when
//! ≥ 90 % of the features come from Phase 4, `phase4_partial` at ≥ 50 %,
//! `phase3` when ≥ 50 % come from Phase 3, else `mixed`.
//!
//! **Speed.** Nine reads per date (the six input partitions, recent games,
//! head-to-head totals, team records), none per player.

use crate::player_composite_factors::{PlayerDay, factor_defaulted};
use crate::recent_games::{self, OpponentHistoryRow, PlayerHistory, TeamRecordRow};
use async_trait::async_trait;
use chrono::NaiveDate;
use propcast_core::features::{
    FEATURE_COUNT, FEATURE_VERSION, FEATURES, FeatureSource, quality_tier,
};
use propcast_core::tables::{
    MlFeatureStore, PlayerCompositeFactors, PlayerDailyCache, PlayerGameSummary,
    PlayerShotZoneAnalysis, TeamDefenseZoneAnalysis, TeamOffenseGameSummary,
    UpcomingPlayerGameContext, UpcomingTeamGameContext,
};
use propcast_core::{Table, TableDef};
use propcast_patterns::reads::{by_date, read_date, read_dates};
use propcast_patterns::{Counters, DateSummary};
use propcast_patterns::{
    Dependency, Phase, ProcessContext, ProcessError, ProcessOutput, Processor, RangeOutput,
};
use propcast_platform::WarehouseExt;
use std::collections::BTreeMap;

use FeatureSource::{Calculated, OpponentHistory, Phase3, Phase4, Vegas};

/// Games needed for a team win percentage.
pub const WIN_PCT_MIN_GAMES: i64 = 5;
/// Games needed for recent_trend.
pub const TREND_MIN_GAMES: usize = 5;
/// Games needed for pts_slope_10g.
pub const SLOPE_MIN_GAMES: usize = 3;

/// What the builder reads for a date, keyed for lookup.
#[derive(Debug, Clone)]
pub struct FeatureInputs<'a> {
    pub players: &'a [UpcomingPlayerGameContext],
    /// By team_abbr.
    pub teams: BTreeMap<&'a str, &'a UpcomingTeamGameContext>,
    /// By player_lookup (the composite rows are keyed like the context).
    pub composites: BTreeMap<&'a str, &'a PlayerCompositeFactors>,
    /// By player_id.
    pub caches: BTreeMap<i64, &'a PlayerDailyCache>,
    /// By player_id.
    pub zones: BTreeMap<i64, &'a PlayerShotZoneAnalysis>,
    /// By team_abbr.
    pub defenses: BTreeMap<&'a str, &'a TeamDefenseZoneAnalysis>,
    /// By player_id.
    pub history: &'a BTreeMap<i64, PlayerHistory>,
    /// By player_id.
    pub opponent_history: BTreeMap<i64, &'a OpponentHistoryRow>,
    /// By team_abbr.
    pub team_records: BTreeMap<&'a str, &'a TeamRecordRow>,
}

impl<'a> FeatureInputs<'a> {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        players: &'a [UpcomingPlayerGameContext],
        teams: &'a [UpcomingTeamGameContext],
        composites: &'a [PlayerCompositeFactors],
        caches: &'a [PlayerDailyCache],
        zones: &'a [PlayerShotZoneAnalysis],
        defenses: &'a [TeamDefenseZoneAnalysis],
        history: &'a BTreeMap<i64, PlayerHistory>,
        opponent_history: &'a [OpponentHistoryRow],
        team_records: &'a [TeamRecordRow],
    ) -> Self {
        FeatureInputs {
            players,
            teams: teams.iter().map(|t| (t.team_abbr.as_str(), t)).collect(),
            composites: composites
                .iter()
                .map(|c| (c.player_lookup.as_str(), c))
                .collect(),
            caches: caches.iter().map(|c| (c.player_id, c)).collect(),
            zones: zones.iter().map(|z| (z.player_id, z)).collect(),
            defenses: defenses.iter().map(|d| (d.team_abbr.as_str(), d)).collect(),
            history,
            opponent_history: opponent_history.iter().map(|o| (o.player_id, o)).collect(),
            team_records: team_records
                .iter()
                .map(|t| (t.team_abbr.as_str(), t))
                .collect(),
        }
    }
}

/// A vector being filled in [`FEATURES`] order.
#[derive(Debug, Clone, Default)]
pub struct VectorBuilder {
    pub values: Vec<Option<f64>>,
    pub sources: Vec<FeatureSource>,
    pub defaulted: Vec<bool>,
}

impl VectorBuilder {
    /// Sets the next feature, which must be `name`: the value and its
    /// source, or — when `None` or not finite — NULL (`missing`) for a
    /// nullable feature, else its documented default (`default`, defaulted).
    pub fn push(&mut self, name: &str, value: Option<(f64, FeatureSource)>) {
        let def = &FEATURES[self.values.len()];
        assert_eq!(def.name, name, "feature order");
        match value.filter(|(v, _)| v.is_finite()) {
            Some((v, source)) => self.set(Some(v), source, source == FeatureSource::Default),
            None if def.nullable => self.set(None, FeatureSource::Missing, false),
            None => self.set(Some(def.default), FeatureSource::Default, true),
        }
    }

    /// Sets the next feature to a documented fallback other than the
    /// constant default (e.g. the season average), marked defaulted.
    pub fn push_fallback(&mut self, name: &str, value: Option<f64>) {
        self.push(name, value.map(|v| (v, FeatureSource::Default)));
    }

    fn set(&mut self, v: Option<f64>, source: FeatureSource, defaulted: bool) {
        self.values.push(v);
        self.sources.push(source);
        self.defaulted.push(defaulted);
    }
}

/// The first present value of a chain of sources.
fn first(
    options: impl IntoIterator<Item = Option<(f64, FeatureSource)>>,
) -> Option<(f64, FeatureSource)> {
    options.into_iter().flatten().next()
}

fn tag(v: Option<f64>, source: FeatureSource) -> Option<(f64, FeatureSource)> {
    v.map(|v| (v, source))
}

fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

/// ±2 / ±1 / 0 buckets of a change at `big` and `small` thresholds.
fn bucket(x: f64, big: f64, small: f64) -> f64 {
    if x >= big {
        2.0
    } else if x >= small {
        1.0
    } else if x <= -big {
        -2.0
    } else if x <= -small {
        -1.0
    } else {
        0.0
    }
}

/// recent_trend from points newest first (needs [`TREND_MIN_GAMES`]).
pub fn recent_trend(points_newest_first: &[f64]) -> Option<f64> {
    if points_newest_first.len() < TREND_MIN_GAMES {
        return None;
    }
    let last2 = mean(&points_newest_first[..2])?;
    let prior3 = mean(&points_newest_first[2..5])?;
    Some(bucket(last2 - prior3, 5.0, 2.0))
}

/// minutes_change bucket of (recent − season) / season.
pub fn minutes_change(recent_avg: f64, season_avg: f64) -> Option<f64> {
    (season_avg > 0.0).then(|| bucket((recent_avg - season_avg) / season_avg, 0.2, 0.1))
}

/// ΣFTM / ΣPTS clamped to [0, 0.5]; `None` without points.
pub fn pct_free_throw(ftm: i64, points: i64) -> Option<f64> {
    (points > 0).then(|| (ftm as f64 / points as f64).clamp(0.0, 0.5))
}

/// OLS slope of `y` on x = 0, 1, …, n − 1 (`y` oldest first); `None` with
/// fewer than [`SLOPE_MIN_GAMES`] values.
pub fn ols_slope(y: &[f64]) -> Option<f64> {
    if y.len() < SLOPE_MIN_GAMES {
        return None;
    }
    let n = y.len() as f64;
    let mx = (n - 1.0) / 2.0;
    let my = y.iter().sum::<f64>() / n;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (i, v) in y.iter().enumerate() {
        let dx = i as f64 - mx;
        sxy += dx * (v - my);
        sxx += dx * dx;
    }
    Some(sxy / sxx)
}

/// clamp((L5 − season) / std10, ±3); `None` without a positive spread.
pub fn points_zscore(last5: f64, season: f64, std10: f64) -> Option<f64> {
    (std10 > 0.0).then(|| ((last5 - season) / std10).clamp(-3.0, 3.0))
}

/// Quality of a filled vector: (score, defaulted required count).
pub fn quality(v: &VectorBuilder) -> (f64, i64) {
    let mean =
        v.sources.iter().map(|s| s.quality_weight()).sum::<f64>() / v.sources.len().max(1) as f64;
    let defaulted_required = FEATURES
        .iter()
        .zip(&v.defaulted)
        .filter(|(f, d)| **d && !f.optional)
        .count() as i64;
    let cap = match defaulted_required {
        0 => 100.0,
        1..=4 => 69.0,
        _ => 49.0,
    };
    ((mean.min(cap) * 100.0).round() / 100.0, defaulted_required)
}

/// `phase4` / `phase4_partial` / `phase3` / `mixed` by source shares.
pub fn data_source(sources: &[FeatureSource]) -> &'static str {
    let n = sources.len().max(1) as f64;
    let share = |s: FeatureSource| sources.iter().filter(|x| **x == s).count() as f64 / n;
    if share(Phase4) >= 0.9 {
        "phase4"
    } else if share(Phase4) >= 0.5 {
        "phase4_partial"
    } else if share(Phase3) >= 0.5 {
        "phase3"
    } else {
        "mixed"
    }
}

/// The feature vector of one player-game.
pub fn feature_vector(c: &UpcomingPlayerGameContext, inputs: &FeatureInputs<'_>) -> VectorBuilder {
    let cache = inputs.caches.get(&c.player_id).copied();
    let pcf = inputs.composites.get(c.player_lookup.as_str()).copied();
    let team = inputs.teams.get(c.team_abbr.as_str()).copied();
    let zone = inputs.zones.get(&c.player_id).copied();
    let defense = inputs.defenses.get(c.opponent_abbr.as_str()).copied();
    let history = inputs.history.get(&c.player_id);
    let h2h = inputs.opponent_history.get(&c.player_id).copied();

    let points = |n: usize| -> Vec<f64> {
        history.map_or_else(Vec::new, |h| {
            h.last(n).iter().map(|g| g.points as f64).collect()
        })
    };
    let minutes10: Vec<f64> =
        history.map_or_else(Vec::new, |h| h.last(10).iter().map(|g| g.minutes).collect());
    let season_avg = history.and_then(|h| h.season_points_avg());
    let std10 = crate::player_daily_cache::sample_std(&points(10));

    let mut v = VectorBuilder::default();
    v.push(
        "points_avg_last_5",
        first([
            tag(cache.and_then(|p| p.points_avg_last_5), Phase4),
            tag(mean(&points(5)), Phase3),
        ]),
    );
    v.push(
        "points_avg_last_10",
        first([
            tag(cache.and_then(|p| p.points_avg_last_10), Phase4),
            tag(mean(&points(10)), Phase3),
        ]),
    );
    v.push(
        "points_avg_season",
        first([
            tag(cache.and_then(|p| p.points_avg_season), Phase4),
            tag(season_avg, Phase3),
        ]),
    );
    v.push(
        "points_std_last_10",
        first([
            tag(cache.and_then(|p| p.points_std_last_10), Phase4),
            tag(std10, Phase3),
        ]),
    );
    v.push(
        "games_in_last_7_days",
        first([
            tag(cache.map(|p| p.games_last_7_days as f64), Phase4),
            Some((c.games_last_7_days as f64, Phase3)),
        ]),
    );
    v.push(
        "fatigue_score",
        pcf.map(|p| (p.fatigue_score as f64, Phase4)),
    );
    for (name, value) in [
        (
            "shot_zone_mismatch_score",
            pcf.map(|p| p.shot_zone_mismatch_score),
        ),
        ("pace_score", pcf.map(|p| p.pace_score)),
        ("usage_spike_score", pcf.map(|p| p.usage_spike_score)),
    ] {
        let computed = pcf.is_some_and(|p| !factor_defaulted(p, name));
        v.push(name, value.filter(|_| computed).map(|x| (x, Phase4)));
    }
    v.push(
        "rest_advantage",
        tag(
            c.days_rest
                .zip(c.opponent_days_rest)
                .map(|(a, b)| ((a - b) as f64).clamp(-2.0, 2.0)),
            Calculated,
        ),
    );
    v.push(
        "injury_risk",
        tag(
            c.injury_status
                .as_deref()
                .and_then(|s| s.parse::<propcast_core::injury::InjuryStatus>().ok())
                .map(propcast_core::injury::InjuryStatus::risk),
            Phase3,
        ),
    );
    v.push("recent_trend", tag(recent_trend(&points(5)), Calculated));
    v.push(
        "minutes_change",
        tag(
            mean(&minutes10)
                .zip(history.and_then(|h| h.season_minutes_avg()))
                .and_then(|(r, s)| minutes_change(r, s)),
            Calculated,
        ),
    );
    v.push(
        "opponent_def_rating",
        first([
            tag(defense.and_then(|d| d.defensive_rating), Phase4),
            tag(c.opponent_def_rating_last_10, Phase3),
            tag(team.and_then(|t| t.opponent_def_rating_last_10), Phase3),
        ]),
    );
    v.push(
        "opponent_pace",
        first([
            tag(c.opponent_pace_last_10, Phase3),
            tag(team.and_then(|t| t.opponent_pace_last_10), Phase3),
        ]),
    );
    v.push("home_away", Some((f64::from(u8::from(c.is_home)), Phase3)));
    v.push(
        "back_to_back",
        Some((f64::from(u8::from(c.back_to_back)), Phase3)),
    );
    v.push(
        "playoff_game",
        Some((
            f64::from(u8::from(c.season_type.eq_ignore_ascii_case("playoffs"))),
            Phase3,
        )),
    );
    v.push(
        "pct_paint",
        tag(zone.and_then(|z| z.paint_rate).map(|r| r / 100.0), Phase4),
    );
    v.push(
        "pct_mid_range",
        tag(
            zone.and_then(|z| z.mid_range_rate).map(|r| r / 100.0),
            Phase4,
        ),
    );
    v.push(
        "pct_three",
        tag(zone.and_then(|z| z.three_rate).map(|r| r / 100.0), Phase4),
    );
    v.push(
        "pct_free_throw",
        tag(
            history.and_then(|h| {
                let last = h.last(10);
                pct_free_throw(
                    last.iter().map(|g| g.ftm).sum(),
                    last.iter().map(|g| g.points).sum(),
                )
            }),
            Calculated,
        ),
    );
    v.push(
        "team_pace",
        first([
            tag(c.team_pace_last_10, Phase3),
            tag(team.and_then(|t| t.pace_last_10), Phase3),
        ]),
    );
    v.push(
        "team_off_rating",
        tag(team.and_then(|t| t.off_rating_last_10), Phase3),
    );
    v.push(
        "team_win_pct",
        tag(
            inputs
                .team_records
                .get(c.team_abbr.as_str())
                .filter(|r| r.games >= WIN_PCT_MIN_GAMES)
                .map(|r| r.wins as f64 / r.games as f64),
            Calculated,
        ),
    );
    let movement = c.line_movement.or_else(|| {
        c.current_points_line
            .zip(c.opening_points_line)
            .map(|(a, b)| a - b)
    });
    v.push("vegas_points_line", tag(c.current_points_line, Vegas));
    v.push("vegas_opening_line", tag(c.opening_points_line, Vegas));
    v.push(
        "vegas_line_move",
        tag(movement.filter(|_| c.current_points_line.is_some()), Vegas),
    );
    v.push(
        "has_vegas_line",
        Some((
            f64::from(u8::from(c.current_points_line.is_some())),
            Calculated,
        )),
    );
    match h2h.and_then(|o| o.points_avg()) {
        Some(avg) => v.push("avg_points_vs_opponent", Some((avg, OpponentHistory))),
        None => v.push_fallback(
            "avg_points_vs_opponent",
            cache.and_then(|p| p.points_avg_season).or(season_avg),
        ),
    }
    v.push(
        "games_vs_opponent",
        Some((h2h.map_or(0, |o| o.games) as f64, OpponentHistory)),
    );
    v.push(
        "minutes_avg_last_10",
        first([
            tag(cache.and_then(|p| p.minutes_avg_last_10), Phase4),
            tag(mean(&minutes10), Phase3),
        ]),
    );
    v.push(
        "ppm_avg_last_10",
        tag(
            history.and_then(|h| {
                let last = h.last(10);
                let min: f64 = last.iter().map(|g| g.minutes).sum();
                (min > 0.0).then(|| last.iter().map(|g| g.points).sum::<i64>() as f64 / min)
            }),
            Calculated,
        ),
    );
    v.push("days_rest", tag(c.days_rest.map(|d| d as f64), Phase3));
    let mut chronological = points(10);
    chronological.reverse();
    v.push("pts_slope_10g", tag(ols_slope(&chronological), Calculated));
    v.push(
        "pts_vs_season_zscore",
        tag(
            mean(&points(5))
                .zip(season_avg)
                .zip(std10)
                .and_then(|((l5, s), sd)| points_zscore(l5, s, sd)),
            Calculated,
        ),
    );
    v.push(
        "usage_rate_last_5",
        tag(history.and_then(|h| h.usage_avg_last(5)), Calculated),
    );
    assert_eq!(v.values.len(), FEATURE_COUNT);
    v
}

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("plain values serialise")
}

/// Computes the feature vectors of every context player of `date`, sorted
/// by `player_lookup`.
pub fn build_ml_feature_store(
    date: NaiveDate,
    inputs: &FeatureInputs<'_>,
) -> DateSummary<MlFeatureStore> {
    let mut summary = DateSummary::<MlFeatureStore> {
        input_rows: inputs.players.len(),
        ..DateSummary::default()
    };
    let mut counters = Counters::default();
    for c in inputs.players.iter().filter(|c| c.game_date == date) {
        let v = feature_vector(c, inputs);
        let (score, defaulted_required) = quality(&v);
        let tier = quality_tier(score);
        counters.bump(&format!("tier_{tier}"));
        counters.add("defaulted_required_features", defaulted_required);
        let sources: Vec<&str> = v.sources.iter().map(|s| s.as_str()).collect();
        summary.rows.push(MlFeatureStore {
            game_date: date,
            player_lookup: c.player_lookup.clone(),
            player_id: c.player_id,
            game_id: c.game_id.clone(),
            team_abbr: c.team_abbr.clone(),
            opponent_abbr: c.opponent_abbr.clone(),
            feature_version: FEATURE_VERSION.to_string(),
            feature_count: FEATURE_COUNT as i64,
            features: json(&v.values),
            feature_sources: json(&sources),
            feature_defaulted: json(&v.defaulted),
            feature_quality_score: score,
            quality_tier: tier.to_string(),
            defaulted_required_count: defaulted_required,
            data_source: data_source(&v.sources).to_string(),
        });
    }
    summary.counters = counters;
    summary
        .rows
        .sort_by(|a, b| a.player_lookup.cmp(&b.player_lookup));
    summary
}

/// The blocking pre-write check: every vector has the version's length and
/// a fatigue score within 0–100.
pub fn check_rows(rows: &[MlFeatureStore]) -> Result<(), ProcessError> {
    let fatigue = propcast_core::features::feature_index("fatigue_score").expect("fatigue");
    for r in rows {
        let v = propcast_core::features::FeatureVector::from_row(r)
            .map_err(|e| ProcessError::Permanent(format!("{}: {e}", r.player_lookup)))?;
        if let Some(f) = v.values[fatigue].filter(|f| !(0.0..=100.0).contains(f)) {
            return Err(ProcessError::Permanent(format!(
                "fatigue_score {f} of {} on {} is outside 0-100",
                r.player_lookup, r.game_date
            )));
        }
    }
    Ok(())
}

/// Phase 4 processor writing `nba_precompute.ml_feature_store`; runs after
/// the composite factors and the daily cache of the same date.
#[derive(Debug, Clone, Copy, Default)]
pub struct MlFeatureStoreProcessor;

#[async_trait]
impl Processor for MlFeatureStoreProcessor {
    fn name(&self) -> &'static str {
        "ml_feature_store"
    }

    fn phase(&self) -> Phase {
        Phase::Precompute
    }

    fn outputs(&self) -> Vec<TableDef> {
        vec![MlFeatureStore::DEF]
    }

    /// Reads of D: `upcoming_player_game_context`,
    /// `upcoming_team_game_context`, `player_composite_factors`,
    /// `player_daily_cache`, `player_shot_zone_analysis`,
    /// `team_defense_zone_analysis`; `player_game_summary` and
    /// `team_offense_game_summary` only before D.
    fn sources(&self) -> Option<&'static [&'static str]> {
        Some(&[
            "upcoming_player_game_context",
            "upcoming_team_game_context",
            "team_defense_zone_analysis",
            "player_shot_zone_analysis",
            "player_composite_factors",
            "player_daily_cache",
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
        let mut windows = Windows::default();
        if !day.players.is_empty() {
            ctx.warehouse.ensure_table(&PlayerGameSummary::DEF).await?;
            ctx.warehouse
                .ensure_table(&TeamOffenseGameSummary::DEF)
                .await?;
            windows = Windows {
                composites: read_date(ctx).await?,
                caches: read_date(ctx).await?,
                h2h: ctx
                    .warehouse
                    .query_as(&recent_games::opponent_history_sql(ctx.game_date))
                    .await?,
                records: ctx
                    .warehouse
                    .query_as(&recent_games::team_records_sql(ctx.game_date))
                    .await?,
            };
        }
        let summary = self.compute(ctx, day, windows)?;
        propcast_patterns::write_partition(ctx, self.name(), summary).await
    }

    /// Every input of every date read once for the range
    /// ([`PlayerDay::read_range`], [`read_dates`], the head-to-head and
    /// team-record windows of all the dates in one query each); one write.
    async fn process_range(
        &self,
        ctx: &ProcessContext,
        dates: &[NaiveDate],
    ) -> Result<RangeOutput, ProcessError> {
        let mut composites = read_dates::<PlayerCompositeFactors>(ctx, dates).await?;
        let mut caches = read_dates::<PlayerDailyCache>(ctx, dates).await?;
        ctx.warehouse.ensure_table(&PlayerGameSummary::DEF).await?;
        ctx.warehouse
            .ensure_table(&TeamOffenseGameSummary::DEF)
            .await?;
        let mut h2h: BTreeMap<NaiveDate, Vec<OpponentHistoryRow>> = by_date(
            ctx.warehouse
                .query_rows(&recent_games::opponent_history_range_sql(dates))
                .await?,
            "day",
            "head-to-head",
        )?;
        let mut records: BTreeMap<NaiveDate, Vec<TeamRecordRow>> = by_date(
            ctx.warehouse
                .query_rows(&recent_games::team_records_range_sql(dates))
                .await?,
            "day",
            "team records",
        )?;
        let mut summaries = BTreeMap::new();
        for (date, day) in PlayerDay::read_range(ctx, dates).await? {
            // As by date: a date without players reads nothing else.
            let windows = if day.players.is_empty() {
                Windows::default()
            } else {
                Windows {
                    composites: composites.remove(&date).unwrap_or_default(),
                    caches: caches.remove(&date).unwrap_or_default(),
                    h2h: h2h.remove(&date).unwrap_or_default(),
                    records: records.remove(&date).unwrap_or_default(),
                }
            };
            summaries.insert(date, self.compute(&ctx.on(date), day, windows)?);
        }
        propcast_patterns::write_range(ctx, self.name(), dates, summaries).await
    }
}

/// What the feature store reads for a date besides its [`PlayerDay`]:
/// the date's composite factors and daily cache, its players' head-to-head
/// totals and the teams' records (all empty for a date without players).
#[derive(Default)]
struct Windows {
    composites: Vec<PlayerCompositeFactors>,
    caches: Vec<PlayerDailyCache>,
    h2h: Vec<OpponentHistoryRow>,
    records: Vec<TeamRecordRow>,
}

impl MlFeatureStoreProcessor {
    /// One date's rows from its inputs.
    fn compute(
        &self,
        ctx: &ProcessContext,
        day: PlayerDay,
        windows: Windows,
    ) -> Result<DateSummary<MlFeatureStore>, ProcessError> {
        let PlayerDay {
            players,
            teams,
            zones,
            defenses,
            history,
        } = day;
        let Windows {
            composites,
            caches,
            h2h,
            records,
        } = windows;
        if composites.len() != players.len() {
            tracing::warn!(processor = self.name(), game_date = %ctx.game_date, players = players.len(), composites = composites.len(), "composite factors do not cover every context player");
        }
        let inputs = FeatureInputs::new(
            &players,
            &teams,
            &composites,
            &caches,
            &zones,
            &defenses,
            &history,
            &h2h,
            &records,
        );
        let mut summary = build_ml_feature_store(ctx.game_date, &inputs);
        summary.counters.add(
            "players_without_composite_factors",
            players
                .iter()
                .filter(|p| !inputs.composites.contains_key(p.player_lookup.as_str()))
                .count() as i64,
        );
        check_rows(&summary.rows)?;
        Ok(summary)
    }
}
