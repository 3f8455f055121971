//! Per-system circuit breakers through the coordinator, against the
//! embedded DuckDB warehouse and the embedded SQLite state store, on the
//! real inputs of 2025-11-05.
//!
//! `Flaky` is a **test double of a prediction system that fails on
//! purpose** (while its switch is on) to drive its breaker; when the switch
//! is off it answers what `moving_average` answers.

mod common;

use chrono::{DateTime, Duration, Utc};
use common::{daily_cache, date, game_summaries, instant, log_dates_through, props_on};
use propcast_core::Table;
use propcast_core::tables::{
    MlFeatureStore, PlayerCompositeFactors, PlayerDailyCache, PlayerGameSummary, PlayerProp,
    PlayerPropPrediction, PredictionWorkerRun, TeamDefenseGameSummary, UpcomingPlayerGameContext,
};
use propcast_patterns::{ProcessContext, ProcessOutput, Processor, RunMode};
use propcast_platform::embedded::{DuckDbWarehouse, LocalLandingZone, SqliteStateStore};
use propcast_platform::warehouse::date_literal;
use propcast_platform::{StateStore, Warehouse, WarehouseExt};
use propcast_prediction_worker::circuit_breaker::{COLLECTION, document_id};
use propcast_prediction_worker::{
    Breaker, BreakerState, MovingAverage, PlayerInputs, PredictionCoordinator, PredictionSystem,
    SystemError, SystemPrediction, ZoneMatchup,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

const D: &str = "2025-11-05";

/// Fails every call while `failing` is set (test double, see the module
/// doc); otherwise predicts like `moving_average`.
struct Flaky {
    failing: Arc<AtomicBool>,
}

impl PredictionSystem for Flaky {
    fn system_id(&self) -> &'static str {
        "flaky_v1"
    }

    fn predict(&self, inputs: &PlayerInputs<'_>) -> Result<SystemPrediction, SystemError> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(SystemError::Failed("model unavailable".into()));
        }
        MovingAverage.predict(inputs)
    }
}

struct Fixture {
    warehouse: Arc<DuckDbWarehouse>,
    state: Arc<SqliteStateStore>,
    failing: Arc<AtomicBool>,
    coordinator: PredictionCoordinator,
}

async fn fixture() -> Fixture {
    let wh = Arc::new(DuckDbWarehouse::in_memory().expect("duckdb"));
    for def in [
        PlayerDailyCache::DEF,
        PlayerProp::DEF,
        PlayerGameSummary::DEF,
        PlayerPropPrediction::DEF,
        UpcomingPlayerGameContext::DEF,
        MlFeatureStore::DEF,
        PlayerCompositeFactors::DEF,
        TeamDefenseGameSummary::DEF,
        PredictionWorkerRun::DEF,
    ] {
        wh.ensure_table(&def).await.expect("table");
    }
    let d = date(D);
    for day in log_dates_through(d) {
        wh.replace_rows(day, &[], &game_summaries(day))
            .await
            .expect("pgs");
    }
    wh.replace_rows(d, &[], &common::upcoming_contexts(d))
        .await
        .expect("contexts");
    wh.replace_rows(d, &[], &daily_cache(d))
        .await
        .expect("cache");
    wh.replace_rows(d, &[], &props_on(d)).await.expect("props");
    let failing = Arc::new(AtomicBool::new(true));
    let coordinator = PredictionCoordinator::new(vec![
        Box::new(MovingAverage),
        Box::new(ZoneMatchup),
        Box::new(Flaky {
            failing: failing.clone(),
        }),
    ])
    .expect("distinct systems")
    .with_ensemble()
    .expect("no system named ensemble_v1");
    Fixture {
        warehouse: wh,
        state: Arc::new(SqliteStateStore::in_memory().expect("sqlite")),
        failing,
        coordinator,
    }
}

impl Fixture {
    async fn run(&self, run: &str, now: DateTime<Utc>) -> ProcessOutput {
        let ctx = ProcessContext {
            warehouse: self.warehouse.clone(),
            landing: Arc::new(LocalLandingZone::in_memory()),
            state: self.state.clone(),
            game_date: date(D),
            mode: RunMode::Daily,
            execution_id: run.to_string(),
            correlation_id: format!("corr-{run}"),
            now,
            scope: Default::default(),
        };
        self.coordinator.process(&ctx).await.expect("coordinator")
    }

    async fn breaker(&self) -> Breaker {
        let doc = self
            .state
            .get(COLLECTION, &document_id("flaky_v1"))
            .await
            .expect("state")
            .expect("breaker stored");
        serde_json::from_value(doc).expect("breaker document")
    }

    async fn rows_of(&self, system: &str) -> usize {
        let rows: Vec<PlayerPropPrediction> = self
            .warehouse
            .query_as(&format!(
                "SELECT * FROM {} WHERE game_date = {} AND system_id = '{system}'",
                PlayerPropPrediction::DEF.qualified(),
                date_literal(date(D))
            ))
            .await
            .expect("predictions");
        rows.len()
    }

    async fn runs_of(&self, execution_id: &str) -> Vec<PredictionWorkerRun> {
        self.warehouse
            .query_as(&format!(
                "SELECT * FROM {} WHERE execution_id = '{execution_id}' ORDER BY batch_index",
                PredictionWorkerRun::DEF.qualified()
            ))
            .await
            .expect("worker runs")
    }
}

fn timings(run: &PredictionWorkerRun) -> serde_json::Value {
    serde_json::from_str(&run.system_timings).expect("timings json")
}

fn t0() -> DateTime<Utc> {
    instant("2025-11-05T16:00:00Z")
}

#[tokio::test]
async fn five_failures_open_the_breaker_the_others_predict_and_it_closes_after_two_successes() {
    let f = fixture().await;
    // Selected players without a game this season (a debut with a line):
    // every system skips them (no history), so no row and no breaker effect.
    let inputs = common::date_inputs(date(D));
    let (selected, _) = propcast_prediction_worker::select_players(&inputs, 15.0);
    let debuts = selected
        .iter()
        .filter(|p| p.cache.games_played_season < 1)
        .count() as i64;
    let debuts_in_batch_0 = selected[..50]
        .iter()
        .filter(|p| p.cache.games_played_season < 1)
        .count() as i64;

    // Run 1: the flaky system fails for the first 5 players (batch 0) and
    // its breaker opens; every other player of the run is refused.
    let out = f.run("run-1", t0()).await;
    let players = out.counters["players"];
    assert!(players > 100, "{players} players selected");
    assert_eq!(out.counters["failed"], 5);
    assert_eq!(out.counters["skipped_by_breaker"], players - 5);
    let b = f.breaker().await;
    assert_eq!(b.state, BreakerState::Open);
    assert_eq!((b.failure_count, b.opened_at), (5, Some(t0())));
    assert_eq!(b.last_error.as_deref(), Some("model unavailable"));
    assert_eq!(b.failure_history.len(), 5);
    // The other systems were not held back: one row per player each, and
    // the ensemble combined the two that predicted.
    assert_eq!(f.rows_of("flaky_v1").await, 0);
    assert_eq!(selected.len() as i64, players);
    assert_eq!(f.rows_of("moving_average").await as i64, players - debuts);
    assert_eq!(f.rows_of("zone_matchup_v1").await as i64, players - debuts);
    assert_eq!(f.rows_of("ensemble_v1").await as i64, players - debuts);

    // The run log: one row per batch of 50.
    let runs = f.runs_of("run-1").await;
    assert_eq!(runs.len() as i64, (players + 49) / 50);
    assert_eq!(runs.iter().map(|r| r.players).sum::<i64>(), players);
    let first = &runs[0];
    assert_eq!(first.players, 50);
    assert_eq!(
        first.systems_attempted,
        "ensemble_v1,flaky_v1,moving_average,zone_matchup_v1"
    );
    assert_eq!(first.systems_failed, "flaky_v1");
    assert_eq!(first.systems_skipped_by_breaker, "flaky_v1");
    assert_eq!(
        first.systems_succeeded,
        "ensemble_v1,moving_average,zone_matchup_v1"
    );
    // 50 players × (moving_average, zone_matchup, ensemble), debuts aside.
    assert_eq!(first.predictions_written, 3 * (50 - debuts_in_batch_0));
    let t = timings(first);
    assert_eq!(t["flaky_v1"]["attempted"], 5);
    assert_eq!(t["flaky_v1"]["failed"], 5);
    assert_eq!(t["flaky_v1"]["skipped_by_breaker"], 45);
    assert_eq!(t["flaky_v1"]["breaker_state"], "OPEN");
    assert_eq!(t["moving_average"]["ok"], 50 - debuts_in_batch_0);
    assert_eq!(t["moving_average"]["skipped"], debuts_in_batch_0);
    for later in &runs[1..] {
        assert!(!later.systems_attempted.contains("flaky_v1"));
        assert_eq!(later.systems_skipped_by_breaker, "flaky_v1");
        assert_eq!(later.systems_failed, "");
    }

    // Run 2, 10 minutes later, the system healthy again: the breaker is
    // still open, nothing is asked of it.
    f.failing.store(false, Ordering::SeqCst);
    let out = f.run("run-2", t0() + Duration::minutes(10)).await;
    assert_eq!(out.counters["skipped_by_breaker"], players);
    assert_eq!(out.counters["failed"], 0);
    assert_eq!(f.rows_of("flaky_v1").await, 0);
    assert_eq!(f.breaker().await.state, BreakerState::Open);

    // Run 3, 31 minutes after opening: HALF_OPEN, the first two successes
    // close it, and the system predicts for every player.
    let out = f.run("run-3", t0() + Duration::minutes(31)).await;
    assert_eq!(out.counters["skipped_by_breaker"], 0);
    assert_eq!(f.rows_of("flaky_v1").await as i64, players - debuts);
    let b = f.breaker().await;
    assert_eq!(b.state, BreakerState::Closed);
    assert_eq!((b.failure_count, b.success_count), (0, 0));
    assert_eq!(b.half_opened_at, Some(t0() + Duration::minutes(31)));
    let runs = f.runs_of("run-3").await;
    let t = timings(&runs[0]);
    assert_eq!(t["flaky_v1"]["ok"], 50 - debuts_in_batch_0);
    assert_eq!(t["flaky_v1"]["breaker_state"], "CLOSED");
    assert!(runs[0].systems_succeeded.contains("flaky_v1"));
    // With three components now, the ensemble still predicts for all.
    assert_eq!(f.rows_of("ensemble_v1").await as i64, players - debuts);
    // The run log of all three runs is kept (appended per run).
    let all: Vec<PredictionWorkerRun> = f
        .warehouse
        .query_as(&format!(
            "SELECT * FROM {}",
            PredictionWorkerRun::DEF.qualified()
        ))
        .await
        .expect("runs");
    assert_eq!(all.len(), 3 * runs.len());
}

#[tokio::test]
async fn a_date_without_upcoming_context_is_no_data() {
    let f = fixture().await;
    f.run("run-1", t0()).await;
    assert!(f.rows_of("moving_average").await > 0);
    f.warehouse
        .replace_rows::<UpcomingPlayerGameContext>(date(D), &[], &[])
        .await
        .expect("clear contexts");
    let out = f.run("run-2", t0()).await;
    assert!(out.no_data);
    assert_eq!(out.counters["predictions"], 0);
    // Emptied, not left stale; no batch, no run-log row.
    assert_eq!(f.rows_of("moving_average").await, 0);
    assert!(f.runs_of("run-2").await.is_empty());
}
