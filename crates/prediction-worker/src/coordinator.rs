//! The `prediction_coordinator` processor: for date D, the selected
//! players × every system, one prediction row each, in batches with a run
//! log and per-system circuit breakers.
//!
//! **Players** are those of `nba_analytics.upcoming_player_game_context`
//! (D) that also have a `nba_precompute.player_daily_cache` row (D), kept
//! when the cache's `minutes_avg_last_10` (mean minutes of his last ≤ 10
//! games before D) is ≥ 15 **or** a real pre-tip line was chosen for him
//! from `nba_raw.player_props` ([`choose_line`]: the line graded against).
//! An empty context for D (Phase 3 not run, no games) is logged and reported
//! as `no_data`, and D's predictions are emptied, never left stale.
//!
//! **Inputs** are loaded in one query per table for the whole date: the
//! feature store vectors, composite factors, and the players' earlier games
//! ([`crate::player_history`], from `player_game_summary` and
//! `team_defense_game_summary` of this and the previous season, strictly
//! before D).
//!
//! **Batches** of [`DEFAULT_BATCH_SIZE`] players (ordered by
//! `player_lookup`): each system is asked for each player unless its
//! circuit breaker refuses ([`crate::circuit_breaker`]); then `ensemble_v1`
//! combines the player's component predictions. At the end of each batch
//! the breakers are written to the state store and one
//! `nba_predictions.prediction_worker_runs` row records the batch (run log,
//! appended by key `run_id`, `batch_index`).
//!
//! **Injuries**: a player whose context says he is listed **out** in the
//! latest injury report before tip-off is not predicted. He is recorded in
//! `nba_predictions.prediction_skips` with the report's reason, source and
//! time, so there is nothing of his to grade; if he plays anyway, grading
//! counts him as a voided skip (`skipped_out_played`), neither a win nor a
//! loss. Doubtful and questionable players are predicted (their status is
//! a feature, `injury_risk`).
//!
//! Predictions replace partition D of
//! `nba_predictions.player_prop_predictions` and the skips partition D of
//! `nba_predictions.prediction_skips` (also with no rows), and the written
//! counts are checked.

use crate::circuit_breaker::{BreakerConfig, BreakerState, Breakers, Outcome};
use crate::ensemble::{Component, Ensemble};
use crate::error::PredictionError;
use crate::moving_average::MovingAverage;
use crate::player_history::{
    PLAYER_GAME_COLUMNS, PlayerGameRow, TEAM_DEFENSE_COLUMNS, TeamDefenseRow, build_histories,
};
use crate::prediction_system::{
    HistoricalGame, PlayerInputs, PredictionSystem, SystemError, SystemPrediction,
};
use crate::prop_line::{LineChoice, LineSource, PLAYER_POINTS_MARKET, PropLine, choose_line};
use crate::similarity::SimilarityBalanced;
use crate::zone_matchup::ZoneMatchup;
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use propcast_core::features::FeatureVector;
use propcast_core::tables::{
    MlFeatureStore, PlayerCompositeFactors, PlayerDailyCache, PlayerGameSummary, PlayerProp,
    PlayerPropPrediction, PredictionSkip, PredictionWorkerRun, TeamDefenseGameSummary,
    UpcomingPlayerGameContext,
};
use propcast_core::{Table, TableDef};
use propcast_patterns::{
    Dependency, Phase, ProcessContext, ProcessError, ProcessOutput, Processor, RangeOutput,
};
use propcast_platform::WarehouseExt;
use propcast_platform::warehouse::{date_list, date_literal, string_literal};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::time::Instant;

pub const NAME: &str = "prediction_coordinator";
/// Players per batch (one `prediction_worker_runs` row each).
pub const DEFAULT_BATCH_SIZE: usize = 50;
/// Minimum `minutes_avg_last_10` of a player predicted without a line.
pub const MIN_MINUTES: f64 = 15.0;
/// `prediction_skips.reason` of a player listed out before tip-off.
pub const SKIP_INJURY_OUT: &str = "injury_out";

/// What one coordinator run produced, for `ProcessOutput.counters`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PredictionCounts {
    /// Players in both the context and the cache of the date.
    pub candidates: i64,
    /// Candidates kept (minutes or a real line).
    pub players: i64,
    /// Candidates not predicted: listed out before tip-off.
    pub skipped_out: i64,
    /// Prediction rows (players × systems that predicted).
    pub predictions: i64,
    /// Rows with a real line.
    pub with_line: i64,
    /// Rows without one (`NO_PROP_LINE`, recommendation `NO_LINE`).
    pub no_line: i64,
    /// Player × system calls that skipped (no history, too few similar
    /// games, no features, too few components).
    pub skipped: i64,
    /// Player × system calls that failed (count against the breaker).
    pub failed: i64,
    /// Player × system calls refused by an open breaker.
    pub skipped_by_breaker: i64,
    pub batches: i64,
}

impl PredictionCounts {
    fn add(&mut self, o: &PredictionCounts) {
        self.predictions += o.predictions;
        self.with_line += o.with_line;
        self.no_line += o.no_line;
        self.skipped += o.skipped;
        self.failed += o.failed;
        self.skipped_by_breaker += o.skipped_by_breaker;
    }
}

/// Every input of a date, loaded in a few queries (or built by a test).
#[derive(Debug, Clone, Default)]
pub struct DateInputs {
    pub game_date: NaiveDate,
    pub contexts: Vec<UpcomingPlayerGameContext>,
    pub cache: Vec<PlayerDailyCache>,
    /// `player_points` rows of the date (other markets are ignored).
    pub props: Vec<PlayerProp>,
    /// By `player_lookup`.
    pub features: HashMap<String, FeatureVector>,
    pub factors: HashMap<String, PlayerCompositeFactors>,
    /// Earlier games, newest first.
    pub histories: HashMap<String, Vec<HistoricalGame>>,
}

impl DateInputs {
    /// A date with no inputs (no upcoming player context).
    pub fn empty(game_date: NaiveDate) -> Self {
        DateInputs {
            game_date,
            ..DateInputs::default()
        }
    }
}

/// A player chosen for prediction, with his line.
#[derive(Debug, Clone)]
pub struct SelectedPlayer<'a> {
    pub context: &'a UpcomingPlayerGameContext,
    pub cache: &'a PlayerDailyCache,
    pub choice: LineChoice,
    /// "minutes", "line" or "minutes_and_line".
    pub selected_by: &'static str,
}

impl SelectedPlayer<'_> {
    pub fn line(&self) -> Option<&PropLine> {
        self.choice.chosen.as_ref()
    }
}

/// Whether the context lists the player out before tip-off.
pub fn is_listed_out(context: &UpcomingPlayerGameContext) -> bool {
    context
        .injury_status
        .as_deref()
        .and_then(|s| s.parse::<propcast_core::injury::InjuryStatus>().ok())
        == Some(propcast_core::injury::InjuryStatus::Out)
}

/// The players of the date (context ∩ cache), kept when
/// `minutes_avg_last_10 ≥ min_minutes` or a real line was chosen, and not
/// listed out ([`is_listed_out`]); sorted by `player_lookup`. Returns them
/// and the number of candidates (the players listed out included).
pub fn select_players(inputs: &DateInputs, min_minutes: f64) -> (Vec<SelectedPlayer<'_>>, usize) {
    let d = inputs.game_date;
    let mut props_by_player: HashMap<i64, Vec<&PlayerProp>> = HashMap::new();
    for prop in &inputs.props {
        if let Some(id) = prop.player_id
            && prop.market == PLAYER_POINTS_MARKET
            && prop.game_date == d
        {
            props_by_player.entry(id).or_default().push(prop);
        }
    }
    let candidates = candidates(inputs);
    let mut selected = Vec::new();
    for &(context, cache) in &candidates {
        if is_listed_out(context) {
            continue;
        }
        let props = props_by_player
            .get(&cache.player_id)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let choice = choose_line(props.iter().copied(), cache.player_id, d);
        let minutes = cache
            .minutes_avg_last_10
            .is_some_and(|m| m.is_finite() && m >= min_minutes);
        let selected_by = match (minutes, choice.chosen.is_some()) {
            (true, true) => "minutes_and_line",
            (true, false) => "minutes",
            (false, true) => "line",
            (false, false) => continue,
        };
        selected.push(SelectedPlayer {
            context,
            cache,
            choice,
            selected_by,
        });
    }
    (selected, candidates.len())
}

/// The candidates of the date: each player of the context (once, by
/// `player_lookup`) with his daily-cache row, sorted by `player_lookup`.
fn candidates(inputs: &DateInputs) -> Vec<(&UpcomingPlayerGameContext, &PlayerDailyCache)> {
    let d = inputs.game_date;
    let cache: HashMap<&str, &PlayerDailyCache> = inputs
        .cache
        .iter()
        .filter(|c| c.game_date == d)
        .map(|c| (c.player_lookup.as_str(), c))
        .collect();
    let mut contexts: Vec<&UpcomingPlayerGameContext> = inputs
        .contexts
        .iter()
        .filter(|c| c.game_date == d)
        .collect();
    contexts.sort_by(|a, b| a.player_lookup.cmp(&b.player_lookup));
    contexts.dedup_by(|a, b| a.player_lookup == b.player_lookup);
    contexts
        .into_iter()
        .filter_map(|c| Some((c, *cache.get(c.player_lookup.as_str())?)))
        .collect()
}

/// Line-choice diagnostics added to every row's metadata as `line_choice`.
#[derive(Debug, Serialize)]
struct LineChoiceSummary<'a> {
    rows_for_player: usize,
    excluded_in_game: usize,
    excluded_below_minimum: usize,
    books_available: &'a [String],
}

impl<'a> From<&'a LineChoice> for LineChoiceSummary<'a> {
    fn from(c: &'a LineChoice) -> Self {
        LineChoiceSummary {
            rows_for_player: c.rows_for_player,
            excluded_in_game: c.excluded_in_game,
            excluded_below_minimum: c.excluded_below_minimum,
            books_available: &c.books_available,
        }
    }
}

/// One system's calls in one batch.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SystemStats {
    /// Calls made (not refused by the breaker).
    pub attempted: i64,
    pub ok: i64,
    pub failed: i64,
    /// Normal skips ([`SystemError::Skip`]).
    pub skipped: i64,
    pub skipped_by_breaker: i64,
    /// Time spent in the system's calls.
    pub ms: f64,
    /// The breaker's state after the batch ("CLOSED", "OPEN", "HALF_OPEN").
    pub breaker_state: String,
}

/// What one batch produced (serialised whole when a gRPC worker computed
/// it, so the coordinator writes the same rows).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct BatchOutcome {
    pub rows: Vec<PlayerPropPrediction>,
    /// By system id, in run order.
    pub systems: BTreeMap<String, SystemStats>,
    pub counts: PredictionCounts,
}

/// The systems a coordinator runs.
pub struct SystemSet<'a> {
    pub systems: &'a [Box<dyn PredictionSystem>],
    pub ensemble: Option<&'a Ensemble>,
}

fn prediction_row(
    player: &SelectedPlayer<'_>,
    system_id: &str,
    prediction: SystemPrediction,
    execution_id: &str,
    created_at: DateTime<Utc>,
) -> PlayerPropPrediction {
    let line = player.line();
    let cache = player.cache;
    let mut metadata = prediction.metadata;
    if let serde_json::Value::Object(map) = &mut metadata {
        map.insert(
            "line_choice".to_string(),
            serde_json::to_value(LineChoiceSummary::from(&player.choice))
                .unwrap_or(serde_json::Value::Null),
        );
        map.insert("selected_by".to_string(), player.selected_by.into());
    }
    PlayerPropPrediction {
        game_date: cache.game_date,
        game_id: cache.game_id.clone(),
        player_lookup: cache.player_lookup.clone(),
        player_id: cache.player_id,
        team_abbr: cache.team_abbr.clone(),
        opponent_abbr: cache.opponent_abbr.clone(),
        system_id: system_id.to_string(),
        predicted_points: prediction.predicted_points,
        confidence: prediction.confidence,
        line_value: line.map(|l| l.line),
        line_source: if line.is_some() {
            LineSource::ActualProp
        } else {
            LineSource::NoPropLine
        }
        .as_str()
        .to_string(),
        sportsbook: line.map(|l| l.bookmaker.clone()),
        line_snapshot_time: line.map(|l| l.snapshot_time),
        line_minutes_before_tipoff: line.map(|l| l.minutes_before_tipoff),
        line_over_price: line.and_then(|l| l.over_price),
        line_under_price: line.and_then(|l| l.under_price),
        recommendation: prediction.recommendation.as_str().to_string(),
        metadata: metadata.to_string(),
        execution_id: execution_id.to_string(),
        created_at,
    }
}

/// Handles one call's result: the row, the counts, the breaker.
#[allow(clippy::too_many_arguments)]
fn settle(
    result: Result<SystemPrediction, SystemError>,
    system_id: &str,
    player: &SelectedPlayer<'_>,
    breakers: &mut Breakers,
    now: DateTime<Utc>,
    stats: &mut SystemStats,
    out: &mut BatchOutcome,
    execution_id: &str,
) -> Option<SystemPrediction> {
    match result {
        Ok(p) => {
            breakers.record(system_id, Outcome::Success, now);
            stats.ok += 1;
            out.counts.predictions += 1;
            if player.line().is_some() {
                out.counts.with_line += 1;
            } else {
                out.counts.no_line += 1;
            }
            out.rows.push(prediction_row(
                player,
                system_id,
                p.clone(),
                execution_id,
                now,
            ));
            Some(p)
        }
        Err(SystemError::Skip(_)) => {
            stats.skipped += 1;
            out.counts.skipped += 1;
            None
        }
        Err(SystemError::Failed(e)) => {
            tracing::warn!(system = system_id, player = %player.cache.player_lookup, error = %e, "prediction system failed");
            breakers.record(system_id, Outcome::Failure(e), now);
            stats.failed += 1;
            out.counts.failed += 1;
            None
        }
    }
}

/// Runs the systems over one batch of players (pure apart from the
/// in-memory breakers it updates). `now` is the breakers' clock and the
/// rows' `created_at`.
pub fn predict_batch(
    players: &[SelectedPlayer<'_>],
    inputs: &DateInputs,
    systems: &SystemSet<'_>,
    breakers: &mut Breakers,
    now: DateTime<Utc>,
    execution_id: &str,
) -> BatchOutcome {
    let mut out = BatchOutcome::default();
    let mut stats: Vec<(&str, SystemStats)> = systems
        .systems
        .iter()
        .map(|s| (s.system_id(), SystemStats::default()))
        .collect();
    let mut ensemble_stats = SystemStats::default();
    let no_history: &[HistoricalGame] = &[];
    for player in players {
        let lookup = player.cache.player_lookup.as_str();
        let player_inputs = PlayerInputs {
            cache: player.cache,
            line: player.line(),
            features: inputs.features.get(lookup),
            factors: inputs.factors.get(lookup),
            context: Some(player.context),
            history: inputs
                .histories
                .get(lookup)
                .map(Vec::as_slice)
                .unwrap_or(no_history),
        };
        let mut components: Vec<(&str, SystemPrediction)> = Vec::new();
        for (system, (id, st)) in systems.systems.iter().zip(stats.iter_mut()) {
            if !breakers.allows(id, now) {
                st.skipped_by_breaker += 1;
                out.counts.skipped_by_breaker += 1;
                continue;
            }
            st.attempted += 1;
            let started = Instant::now();
            let result = system.predict(&player_inputs);
            st.ms += started.elapsed().as_secs_f64() * 1000.0;
            if let Some(p) = settle(
                result,
                id,
                player,
                breakers,
                now,
                st,
                &mut out,
                execution_id,
            ) {
                components.push((id, p));
            }
        }
        if let Some(ensemble) = systems.ensemble {
            let id = ensemble.system_id();
            if breakers.allows(id, now) {
                ensemble_stats.attempted += 1;
                let started = Instant::now();
                let parts: Vec<Component<'_>> = components
                    .iter()
                    .map(|(system_id, prediction)| Component {
                        system_id,
                        prediction,
                    })
                    .collect();
                let result = ensemble.combine(&parts, player.line());
                ensemble_stats.ms += started.elapsed().as_secs_f64() * 1000.0;
                settle(
                    result,
                    id,
                    player,
                    breakers,
                    now,
                    &mut ensemble_stats,
                    &mut out,
                    execution_id,
                );
            } else {
                ensemble_stats.skipped_by_breaker += 1;
                out.counts.skipped_by_breaker += 1;
            }
        }
    }
    if let Some(ensemble) = systems.ensemble {
        stats.push((ensemble.system_id(), ensemble_stats));
    }
    for (id, mut st) in stats {
        st.breaker_state = breakers.state_of(id).as_str().to_string();
        out.systems.insert(id.to_string(), st);
    }
    out.rows
        .sort_by(|a, b| (&a.player_lookup, &a.system_id).cmp(&(&b.player_lookup, &b.system_id)));
    out
}

/// Every selected player of the date through `systems`, breakers starting
/// CLOSED and kept in memory only (pure). Rows sorted by player, then
/// system, with `execution_id` and `created_at` as given.
pub fn build_predictions(
    inputs: &DateInputs,
    systems: &SystemSet<'_>,
    execution_id: &str,
    created_at: DateTime<Utc>,
) -> (Vec<PlayerPropPrediction>, PredictionCounts) {
    let (players, candidates) = select_players(inputs, MIN_MINUTES);
    let mut breakers = Breakers::in_memory(BreakerConfig::default());
    let out = predict_batch(
        &players,
        inputs,
        systems,
        &mut breakers,
        created_at,
        execution_id,
    );
    let mut counts = out.counts;
    counts.candidates = candidates as i64;
    counts.players = players.len() as i64;
    counts.batches = i64::from(!players.is_empty());
    (out.rows, counts)
}

fn ids_where(out: &BatchOutcome, keep: impl Fn(&SystemStats) -> bool) -> String {
    out.systems
        .iter()
        .filter(|(_, s)| keep(s))
        .map(|(id, _)| id.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// The run-log row of one batch. `systems_succeeded`: attempted with no
/// failure; `systems_failed`: at least one failure;
/// `systems_skipped_by_breaker`: at least one call refused.
#[allow(clippy::too_many_arguments)]
pub fn worker_run_row(
    run_id: &str,
    game_date: NaiveDate,
    batch_index: usize,
    players: usize,
    out: &BatchOutcome,
    duration_ms: i64,
    execution_id: &str,
    started_at: DateTime<Utc>,
) -> PredictionWorkerRun {
    PredictionWorkerRun {
        run_id: run_id.to_string(),
        game_date,
        batch_index: batch_index as i64,
        players: players as i64,
        systems_attempted: ids_where(out, |s| s.attempted > 0),
        systems_succeeded: ids_where(out, |s| s.attempted > 0 && s.failed == 0),
        systems_failed: ids_where(out, |s| s.failed > 0),
        systems_skipped_by_breaker: ids_where(out, |s| s.skipped_by_breaker > 0),
        predictions_written: out.rows.len() as i64,
        system_timings: serde_json::to_string(&out.systems).unwrap_or_else(|_| "{}".into()),
        duration_ms,
        execution_id: execution_id.to_string(),
        started_at,
        finished_at: started_at + chrono::Duration::milliseconds(duration_ms),
    }
}

/// The `prediction_coordinator` processor (phase 5).
pub struct PredictionCoordinator {
    systems: Vec<Box<dyn PredictionSystem>>,
    ensemble: Option<Ensemble>,
    breaker: BreakerConfig,
    batch_size: usize,
    min_minutes: f64,
    /// Remote workers over gRPC; `None`: the systems run in process.
    workers: Option<crate::grpc::WorkerPool>,
}

#[derive(Debug, thiserror::Error)]
#[error("prediction system {0} is listed twice")]
pub struct DuplicateSystem(pub String);

impl PredictionCoordinator {
    /// A coordinator running `systems`, each at most once, without the
    /// ensemble.
    pub fn new(systems: Vec<Box<dyn PredictionSystem>>) -> Result<Self, DuplicateSystem> {
        let mut seen = BTreeSet::new();
        for system in &systems {
            if !seen.insert(system.system_id()) {
                return Err(DuplicateSystem(system.system_id().to_string()));
            }
        }
        Ok(PredictionCoordinator {
            systems,
            ensemble: None,
            breaker: BreakerConfig::default(),
            batch_size: DEFAULT_BATCH_SIZE,
            min_minutes: MIN_MINUTES,
            workers: None,
        })
    }

    /// The five systems: `moving_average`, `zone_matchup_v1`,
    /// `similarity_balanced_v1`, then `gbdt` when given (the CLI loads the
    /// trained `gbdt_v1` model), and `ensemble_v1` over them.
    pub fn standard(gbdt: Option<Box<dyn PredictionSystem>>) -> Result<Self, DuplicateSystem> {
        let mut systems: Vec<Box<dyn PredictionSystem>> = vec![
            Box::new(MovingAverage),
            Box::new(ZoneMatchup),
            Box::new(SimilarityBalanced),
        ];
        systems.extend(gbdt);
        Self::new(systems)?.with_ensemble()
    }

    /// [`Self::standard`] without a model: the three rule systems and the
    /// ensemble.
    pub fn with_default_systems() -> Self {
        PredictionCoordinator {
            systems: vec![
                Box::new(MovingAverage),
                Box::new(ZoneMatchup),
                Box::new(SimilarityBalanced),
            ],
            ensemble: Some(Ensemble),
            breaker: BreakerConfig::default(),
            batch_size: DEFAULT_BATCH_SIZE,
            min_minutes: MIN_MINUTES,
            workers: None,
        }
    }

    /// Adds `ensemble_v1` after the other systems.
    pub fn with_ensemble(mut self) -> Result<Self, DuplicateSystem> {
        if self
            .systems
            .iter()
            .any(|s| s.system_id() == Ensemble.system_id())
        {
            return Err(DuplicateSystem(Ensemble.system_id().to_string()));
        }
        self.ensemble = Some(Ensemble);
        Ok(self)
    }

    /// Players per batch (at least 1).
    pub fn with_batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size.max(1);
        self
    }

    pub fn with_breaker_config(mut self, config: BreakerConfig) -> Self {
        self.breaker = config;
        self
    }

    /// Every system id, the ensemble last.
    pub fn system_ids(&self) -> Vec<&'static str> {
        let mut ids: Vec<&'static str> = self.systems.iter().map(|s| s.system_id()).collect();
        if let Some(e) = &self.ensemble {
            ids.push(e.system_id());
        }
        ids
    }

    /// Sends the batches to `workers` over gRPC instead of running the
    /// systems in process (the rows are the same).
    pub fn with_workers(mut self, workers: crate::grpc::WorkerPool) -> Self {
        self.workers = Some(workers);
        self
    }

    /// The least recent minutes that select a player without a line.
    pub fn min_minutes(&self) -> f64 {
        self.min_minutes
    }

    pub fn system_set(&self) -> SystemSet<'_> {
        SystemSet {
            systems: &self.systems,
            ensemble: self.ensemble.as_ref(),
        }
    }

    /// Loads every input of `date` in one query per table.
    pub async fn load_inputs(
        &self,
        ctx: &ProcessContext,
        date: NaiveDate,
    ) -> Result<DateInputs, ProcessError> {
        load_date_inputs(ctx.warehouse.as_ref(), date).await
    }
}

/// Every input of `date`, in one query per table (the coordinator's and a
/// gRPC worker's): [`load_range_inputs`] of the one date.
pub async fn load_date_inputs(
    wh: &dyn propcast_platform::Warehouse,
    date: NaiveDate,
) -> Result<DateInputs, ProcessError> {
    let mut inputs = load_range_inputs(wh, &[date]).await?;
    Ok(inputs
        .remove(&date)
        .unwrap_or_else(|| DateInputs::empty(date)))
}

/// Every input of each date of `dates`, in one query per table for all of
/// them. Each date's inputs are exactly what a read of that date alone
/// returns: its own rows of the same-date tables, and of the earlier games
/// only those strictly before it, of its own players, from its previous
/// season on (the range read is the union, cut per date here).
pub async fn load_range_inputs(
    wh: &dyn propcast_platform::Warehouse,
    dates: &[NaiveDate],
) -> Result<BTreeMap<NaiveDate, DateInputs>, ProcessError> {
    let mut out: BTreeMap<NaiveDate, DateInputs> = BTreeMap::new();
    let Some(last) = dates.iter().max().copied() else {
        return Ok(out);
    };
    let listed = date_list(dates);
    let on_dates = |def: &TableDef| {
        format!(
            "SELECT * FROM {} WHERE game_date IN {listed}",
            def.qualified()
        )
    };
    let contexts: Vec<UpcomingPlayerGameContext> = wh
        .query_as(&on_dates(&UpcomingPlayerGameContext::DEF))
        .await?;
    for c in contexts {
        out.entry(c.game_date)
            .or_insert_with(|| DateInputs::empty(c.game_date))
            .contexts
            .push(c);
    }
    if out.is_empty() {
        return Ok(out);
    }
    let with_context = date_list(out.keys());
    let cache: Vec<PlayerDailyCache> = wh.query_as(&on_dates(&PlayerDailyCache::DEF)).await?;
    for row in cache {
        if let Some(day) = out.get_mut(&row.game_date) {
            day.cache.push(row);
        }
    }
    let props: Vec<PlayerProp> = wh
        .query_as(&format!(
            "SELECT * FROM {} WHERE game_date IN {with_context} AND market = {}",
            PlayerProp::DEF.qualified(),
            string_literal(PLAYER_POINTS_MARKET)
        ))
        .await?;
    for row in props {
        if let Some(day) = out.get_mut(&row.game_date) {
            day.props.push(row);
        }
    }
    let feature_rows: Vec<MlFeatureStore> = wh.query_as(&on_dates(&MlFeatureStore::DEF)).await?;
    for row in &feature_rows {
        let Some(day) = out.get_mut(&row.game_date) else {
            continue;
        };
        match FeatureVector::from_row(row) {
            Ok(v) => {
                day.features.insert(row.player_lookup.clone(), v);
            }
            Err(e) => {
                tracing::warn!(game_date = %row.game_date, player = %row.player_lookup, error = %e, "feature vector unreadable, player predicted without it")
            }
        }
    }
    let factors: Vec<PlayerCompositeFactors> =
        wh.query_as(&on_dates(&PlayerCompositeFactors::DEF)).await?;
    for f in factors {
        if let Some(day) = out.get_mut(&f.game_date) {
            day.factors.insert(f.player_lookup.clone(), f);
        }
    }
    // The earliest season any date reads: each date reads from the season
    // before its context's earliest.
    let first_season =
        |day: &DateInputs| day.contexts.iter().map(|c| c.season).min().unwrap_or(0) - 1;
    let earliest = out.values().map(first_season).min().unwrap_or(0);
    let games: Vec<PlayerGameRow> = wh
        .query_as(&format!(
            "SELECT {PLAYER_GAME_COLUMNS} FROM {} WHERE game_date < {last} AND season >= {earliest} \
             AND player_lookup IN (SELECT player_lookup FROM {} WHERE game_date IN {with_context})",
            PlayerGameSummary::DEF.qualified(),
            UpcomingPlayerGameContext::DEF.qualified(),
            last = date_literal(last),
        ))
        .await?;
    let defense: Vec<TeamDefenseRow> = wh
        .query_as(&format!(
            "SELECT {TEAM_DEFENSE_COLUMNS} FROM {} WHERE game_date < {} AND season >= {earliest}",
            TeamDefenseGameSummary::DEF.qualified(),
            date_literal(last),
        ))
        .await?;
    for (date, day) in out.iter_mut() {
        let season = first_season(day);
        let players: HashSet<&str> = day
            .contexts
            .iter()
            .map(|c| c.player_lookup.as_str())
            .collect();
        let own_games = games
            .iter()
            .filter(|g| g.season >= season && players.contains(g.player_lookup.as_str()));
        let own_defense = defense.iter().filter(|d| d.season >= season);
        // build_histories keeps only rows strictly before the date.
        day.histories = build_histories(own_games, own_defense, *date);
    }
    Ok(out)
}

impl Default for PredictionCoordinator {
    fn default() -> Self {
        Self::with_default_systems()
    }
}

#[async_trait]
impl Processor for PredictionCoordinator {
    fn name(&self) -> &'static str {
        NAME
    }

    fn phase(&self) -> Phase {
        Phase::Predictions
    }

    fn outputs(&self) -> Vec<TableDef> {
        vec![
            PlayerPropPrediction::DEF,
            PredictionSkip::DEF,
            PredictionWorkerRun::DEF,
        ]
    }

    /// Reads of D: `upcoming_player_game_context`, `player_daily_cache`,
    /// `ml_feature_store`, `player_composite_factors` and the `player_points`
    /// rows of `nba_raw.player_props`; `player_game_summary` and
    /// `team_defense_game_summary` only before D.
    fn sources(&self) -> Option<&'static [&'static str]> {
        Some(&[
            "player_props",
            "upcoming_player_game_context",
            "player_composite_factors",
            "player_daily_cache",
            "ml_feature_store",
        ])
    }

    /// Every candidate is a player of the date's upcoming player context.
    fn dependencies(&self) -> Vec<Dependency> {
        vec![Dependency {
            table: &UpcomingPlayerGameContext::DEF,
            min_rows: 1,
        }]
    }

    async fn process(&self, ctx: &ProcessContext) -> Result<ProcessOutput, ProcessError> {
        let date = ctx.game_date;
        let inputs = self.load_inputs(ctx, date).await?;
        let (rows, skips, runs, mut output) = self.predict_date(ctx, inputs).await?;
        let stats = ctx.warehouse.replace_rows(date, &[], &rows).await?;
        check_count(
            &PlayerPropPrediction::DEF,
            date,
            rows.len(),
            stats.rows_written,
        )?;
        output.wrote(&PlayerPropPrediction::DEF, stats.rows_written);
        let stats = ctx.warehouse.replace_rows(date, &[], &skips).await?;
        check_count(&PredictionSkip::DEF, date, skips.len(), stats.rows_written)?;
        output.wrote(&PredictionSkip::DEF, stats.rows_written);
        if !runs.is_empty() {
            let stats = ctx.warehouse.merge_rows(&runs).await?;
            check_count(
                &PredictionWorkerRun::DEF,
                date,
                runs.len(),
                stats.rows_written,
            )?;
            output.wrote(&PredictionWorkerRun::DEF, stats.rows_written);
        }
        Ok(output)
    }

    /// Reads every date's inputs at once ([`load_range_inputs`]), predicts
    /// the dates in order as [`Processor::process`] does (the breakers carry
    /// from one date to the next, through the state store, as date by
    /// date), and writes the predictions of the range in one replace and
    /// its batch log in one merge.
    async fn process_range(
        &self,
        ctx: &ProcessContext,
        dates: &[NaiveDate],
    ) -> Result<RangeOutput, ProcessError> {
        let mut inputs = load_range_inputs(ctx.warehouse.as_ref(), dates).await?;
        let mut all_rows = Vec::new();
        let mut all_skips = Vec::new();
        let mut all_runs = Vec::new();
        let mut outputs = RangeOutput::new();
        for &date in dates {
            let day = inputs
                .remove(&date)
                .unwrap_or_else(|| DateInputs::empty(date));
            let (mut rows, mut skips, mut runs, mut output) =
                self.predict_date(&ctx.on(date), day).await?;
            output.wrote(&PlayerPropPrediction::DEF, rows.len() as u64);
            output.wrote(&PredictionSkip::DEF, skips.len() as u64);
            if !runs.is_empty() {
                output.wrote(&PredictionWorkerRun::DEF, runs.len() as u64);
            }
            all_rows.append(&mut rows);
            all_skips.append(&mut skips);
            all_runs.append(&mut runs);
            outputs.insert(date, output);
        }
        let stats = ctx.warehouse.replace_date_rows(dates, &all_rows).await?;
        check_count(
            &PlayerPropPrediction::DEF,
            ctx.game_date,
            all_rows.len(),
            stats.rows_written,
        )?;
        let stats = ctx.warehouse.replace_date_rows(dates, &all_skips).await?;
        check_count(
            &PredictionSkip::DEF,
            ctx.game_date,
            all_skips.len(),
            stats.rows_written,
        )?;
        if !all_runs.is_empty() {
            let stats = ctx.warehouse.merge_rows(&all_runs).await?;
            check_count(
                &PredictionWorkerRun::DEF,
                ctx.game_date,
                all_runs.len(),
                stats.rows_written,
            )?;
        }
        Ok(outputs)
    }
}

impl PredictionCoordinator {
    /// One date's predictions, skips and batch log from its inputs, with
    /// the output's counters (the rows are not written here).
    async fn predict_date(
        &self,
        ctx: &ProcessContext,
        inputs: DateInputs,
    ) -> Result<
        (
            Vec<PlayerPropPrediction>,
            Vec<PredictionSkip>,
            Vec<PredictionWorkerRun>,
            ProcessOutput,
        ),
        ProcessError,
    > {
        let date = ctx.game_date;
        let mut output = ProcessOutput::default();
        if inputs.contexts.is_empty() {
            tracing::warn!(
                processor = NAME,
                game_date = %date,
                correlation_id = %ctx.correlation_id,
                "no upcoming player context for the date: no predictions"
            );
        }
        let (players, candidates) = select_players(&inputs, self.min_minutes);
        let skips = skip_rows(&inputs, &ctx.execution_id, ctx.now);
        let ids = self.system_ids();
        let mut breakers = Breakers::load(ctx.state.as_ref(), &ids, self.breaker).await?;
        let run_id = format!(
            "{}/{}/{}",
            ctx.execution_id,
            date,
            ctx.now.format("%Y%m%dT%H%M%S%.6fZ")
        );
        let systems = self.system_set();
        let mut rows = Vec::new();
        let mut runs = Vec::new();
        let mut counts = PredictionCounts {
            candidates: candidates as i64,
            players: players.len() as i64,
            skipped_out: skips.len() as i64,
            ..PredictionCounts::default()
        };
        let batches: Vec<&[SelectedPlayer<'_>]> = players.chunks(self.batch_size).collect();
        let outcomes: Vec<(BatchOutcome, i64)> = match &self.workers {
            Some(pool) => {
                let requests = batches
                    .iter()
                    .enumerate()
                    .map(|(index, batch)| {
                        crate::grpc::batch_request(
                            date,
                            index,
                            batch,
                            &ctx.execution_id,
                            &ctx.correlation_id,
                            ctx.now,
                        )
                    })
                    .collect();
                let answered = pool.predict(requests).await?;
                // The workers updated the breakers; read them back.
                breakers = Breakers::load(ctx.state.as_ref(), &ids, self.breaker).await?;
                answered
            }
            None => {
                let mut answered = Vec::with_capacity(batches.len());
                for batch in &batches {
                    let started = Instant::now();
                    let out = predict_batch(
                        batch,
                        &inputs,
                        &systems,
                        &mut breakers,
                        ctx.now,
                        &ctx.execution_id,
                    );
                    breakers.flush(ctx.state.as_ref()).await?;
                    answered.push((out, started.elapsed().as_millis() as i64));
                }
                answered
            }
        };
        for (index, ((out, duration_ms), batch)) in outcomes.into_iter().zip(&batches).enumerate() {
            counts.add(&out.counts);
            counts.batches += 1;
            runs.push(worker_run_row(
                &run_id,
                date,
                index,
                batch.len(),
                &out,
                duration_ms,
                &ctx.execution_id,
                ctx.now,
            ));
            rows.extend(out.rows);
        }
        rows.sort_by(|a, b| {
            (&a.player_lookup, &a.system_id).cmp(&(&b.player_lookup, &b.system_id))
        });

        let open: Vec<&str> = ids
            .iter()
            .copied()
            .filter(|id| breakers.state_of(id) != BreakerState::Closed)
            .collect();
        tracing::info!(
            processor = NAME,
            game_date = %date,
            correlation_id = %ctx.correlation_id,
            candidates = counts.candidates,
            players = counts.players,
            skipped_out = counts.skipped_out,
            predictions = counts.predictions,
            with_line = counts.with_line,
            no_line = counts.no_line,
            skipped = counts.skipped,
            failed = counts.failed,
            skipped_by_breaker = counts.skipped_by_breaker,
            batches = counts.batches,
            breakers_not_closed = %open.join(","),
            "predictions written"
        );
        output.no_data = players.is_empty();
        for (name, value) in [
            ("candidates", counts.candidates),
            ("players", counts.players),
            ("skipped_out", counts.skipped_out),
            ("predictions", counts.predictions),
            ("with_line", counts.with_line),
            ("no_line", counts.no_line),
            ("skipped", counts.skipped),
            ("failed", counts.failed),
            ("skipped_by_breaker", counts.skipped_by_breaker),
            ("batches", counts.batches),
        ] {
            output.counters.insert(name.into(), value);
        }
        Ok((rows, skips, runs, output))
    }
}

/// The skip rows of the date: every candidate (context ∩ cache) listed out
/// before tip-off, sorted by `player_lookup`.
pub fn skip_rows(
    inputs: &DateInputs,
    execution_id: &str,
    created_at: DateTime<Utc>,
) -> Vec<PredictionSkip> {
    candidates(inputs)
        .into_iter()
        .map(|(c, _)| c)
        .filter(|c| is_listed_out(c))
        .map(|c| PredictionSkip {
            game_date: inputs.game_date,
            game_id: c.game_id.clone(),
            player_lookup: c.player_lookup.clone(),
            player_id: c.player_id,
            team_abbr: c.team_abbr.clone(),
            reason: SKIP_INJURY_OUT.to_string(),
            injury_reason: c.injury_reason.clone(),
            injury_source: c.injury_source.clone(),
            injury_report_time: c.injury_report_time,
            execution_id: execution_id.to_string(),
            created_at,
        })
        .collect()
}

fn check_count(
    def: &TableDef,
    game_date: NaiveDate,
    expected: usize,
    written: u64,
) -> Result<(), PredictionError> {
    if written != expected as u64 {
        return Err(PredictionError::WriteCountMismatch {
            table: def.qualified(),
            game_date,
            expected: expected as u64,
            written,
        });
    }
    Ok(())
}
