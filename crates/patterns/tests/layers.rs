//! The layers of `run_layered` on the real embedded backends: an in-memory
//! DuckDB warehouse and an in-memory SQLite state store.
//!
//! `Probe` is a **test double of a processor**: it writes the rows it is
//! told to (`nba_reference.unresolved_player_names`, one entity per
//! `player_lookup`, or `nba_raw.schedule`, which has no entity column),
//! counts its calls, remembers the scope it was given, and fails on purpose
//! while its switch is on.

use async_trait::async_trait;
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use propcast_core::tables::{PlayerGameSummary, ScheduleGame, TeamBoxscore, UnresolvedPlayerName};
use propcast_core::{Table, TableDef};
use propcast_patterns::circuit_breaker::{self, Breaker, BreakerState};
use propcast_patterns::layers::{ENTITY_HASH_COLLECTION, entity_hash_id};
use propcast_patterns::{
    Change, Dependency, LayerOptions, LayeredRun, Ledger, Phase, ProcessContext, ProcessError,
    ProcessOutput, Processor, RunMode, RunStatus, Scope, run_layered,
};
use propcast_platform::embedded::{DuckDbWarehouse, LocalLandingZone, SqliteStateStore};
use propcast_platform::{StateStore, Warehouse, WarehouseExt};
use propcast_proto::v1::CompletionStatus;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

static PGS: TableDef = PlayerGameSummary::DEF;

fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

const D: &str = "2025-11-05";

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 11, 6, 8, 0, 0).unwrap()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[derive(Clone, Copy, PartialEq)]
enum Writes {
    Names,
    Schedule,
}

struct Probe {
    name: &'static str,
    phase: Phase,
    writes: Writes,
    sources: Option<&'static [&'static str]>,
    scoped: bool,
    deps: Vec<Dependency>,
    /// (entity, value) per row.
    rows: Mutex<Vec<(String, i64)>>,
    failing: AtomicBool,
    calls: AtomicUsize,
    scopes: Mutex<Vec<Scope>>,
}

impl Probe {
    fn new(name: &'static str) -> Self {
        Probe {
            name,
            phase: Phase::Analytics,
            writes: Writes::Names,
            sources: None,
            scoped: false,
            deps: Vec::new(),
            rows: Mutex::new(vec![("alice".into(), 1), ("bob".into(), 2)]),
            failing: AtomicBool::new(false),
            calls: AtomicUsize::new(0),
            scopes: Mutex::new(Vec::new()),
        }
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    fn last_scope(&self) -> Scope {
        self.scopes.lock().unwrap().last().cloned().expect("ran")
    }

    fn set_rows(&self, rows: &[(&str, i64)]) {
        *self.rows.lock().unwrap() = rows.iter().map(|(e, v)| (e.to_string(), *v)).collect();
    }
}

#[async_trait]
impl Processor for Probe {
    fn name(&self) -> &'static str {
        self.name
    }

    fn phase(&self) -> Phase {
        self.phase
    }

    fn outputs(&self) -> Vec<TableDef> {
        match self.writes {
            Writes::Names => vec![UnresolvedPlayerName::DEF],
            Writes::Schedule => vec![ScheduleGame::DEF],
        }
    }

    fn sources(&self) -> Option<&'static [&'static str]> {
        self.sources
    }

    fn supports_entity_scope(&self) -> bool {
        self.scoped
    }

    fn dependencies(&self) -> Vec<Dependency> {
        self.deps.clone()
    }

    async fn process(&self, ctx: &ProcessContext) -> Result<ProcessOutput, ProcessError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.scopes.lock().unwrap().push(ctx.scope.clone());
        if self.failing.load(Ordering::SeqCst) {
            return Err(ProcessError::Permanent("model unavailable".into()));
        }
        let rows = self.rows.lock().unwrap().clone();
        let mut out = ProcessOutput::default();
        match self.writes {
            Writes::Names => {
                let rows: Vec<UnresolvedPlayerName> = rows
                    .iter()
                    .map(|(e, v)| UnresolvedPlayerName {
                        game_date: ctx.game_date,
                        source: "odds_api".into(),
                        player_name: e.clone(),
                        player_lookup: e.clone(),
                        candidate_teams: "BOS,WAS".into(),
                        occurrences: *v,
                        reason: "not in registry".into(),
                    })
                    .collect();
                ctx.warehouse
                    .replace_rows(ctx.game_date, &[], &rows)
                    .await?;
                out.wrote(&UnresolvedPlayerName::DEF, rows.len() as u64);
            }
            Writes::Schedule => {
                let rows: Vec<ScheduleGame> = rows
                    .iter()
                    .map(|(e, v)| ScheduleGame {
                        game_date: ctx.game_date,
                        game_id: None,
                        game_code: format!("20251105/{e}"),
                        season: 2025,
                        season_type: "Regular Season".into(),
                        game_status: *v,
                        home_team_abbr: e.to_uppercase(),
                        away_team_abbr: "WAS".into(),
                        home_team_id: 1,
                        away_team_id: 2,
                        home_score: None,
                        away_score: None,
                        tipoff_time: None,
                        arena_name: None,
                        source_file: "schedule.json".into(),
                    })
                    .collect();
                ctx.warehouse
                    .replace_rows(ctx.game_date, &[], &rows)
                    .await?;
                out.wrote(&ScheduleGame::DEF, rows.len() as u64);
            }
        }
        Ok(out)
    }
}

struct Env {
    warehouse: Arc<DuckDbWarehouse>,
    state: Arc<SqliteStateStore>,
}

impl Env {
    async fn new() -> Env {
        let warehouse = Arc::new(DuckDbWarehouse::in_memory().expect("duckdb"));
        for def in [
            UnresolvedPlayerName::DEF,
            ScheduleGame::DEF,
            TeamBoxscore::DEF,
            PlayerGameSummary::DEF,
        ] {
            warehouse.ensure_table(&def).await.expect("table");
        }
        Env {
            warehouse,
            state: Arc::new(SqliteStateStore::in_memory().expect("sqlite")),
        }
    }

    fn ctx(&self, round: &str, day: &str, mode: RunMode) -> ProcessContext {
        ProcessContext {
            warehouse: self.warehouse.clone(),
            landing: Arc::new(LocalLandingZone::in_memory()),
            state: self.state.clone(),
            game_date: date(day),
            mode,
            execution_id: round.to_string(),
            correlation_id: "corr-test".to_string(),
            now: t0(),
            scope: Scope::Full,
        }
    }

    async fn hash_doc(&self, processor: &str) -> Option<serde_json::Value> {
        self.state
            .get(ENTITY_HASH_COLLECTION, &entity_hash_id(processor, date(D)))
            .await
            .unwrap()
    }

    async fn breaker(&self, processor: &str) -> Option<Breaker> {
        self.state
            .get(
                circuit_breaker::COLLECTION,
                &circuit_breaker::document_id("processor", processor),
            )
            .await
            .unwrap()
            .map(|d| serde_json::from_value(d).unwrap())
    }
}

fn opts(as_of: &str, full: bool) -> LayerOptions {
    LayerOptions {
        flow_mode: if full { "backfill" } else { "overnight" }.to_string(),
        trigger_id: "claim-1".to_string(),
        as_of: date(as_of),
        full,
    }
}

fn daily() -> LayerOptions {
    opts("2025-11-06", false)
}

fn reason(run: &LayeredRun) -> &str {
    run.report.run.skip_reason.as_deref().unwrap_or("")
}

fn status(run: &LayeredRun) -> CompletionStatus {
    run.completion.as_ref().expect("completion").status()
}

fn up_to_date(run: &LayeredRun) -> bool {
    run.completion.as_ref().expect("completion").up_to_date
}

#[tokio::test]
async fn a_duplicate_delivery_is_skipped_and_the_processor_not_called_again() {
    let env = Env::new().await;
    let p = Probe::new("names");
    let ctx = env.ctx("round-1", D, RunMode::Daily);
    let first = run_layered(&p, &ctx, &Ledger::default(), &daily()).await;
    assert_eq!(first.report.status(), RunStatus::Success);
    assert_eq!(status(&first), CompletionStatus::Success);

    let again = run_layered(&p, &ctx, &Ledger::default(), &daily()).await;
    assert_eq!(p.calls(), 1);
    assert_eq!(again.report.status(), RunStatus::Skipped);
    assert_eq!(
        reason(&again),
        format!(
            "duplicate delivery: already ran as run {} (success)",
            first.report.run_id()
        )
    );
    assert!(again.completion.is_none(), "the first delivery published");
    assert!(again.change.is_unchanged());

    // Another round is another key.
    let next = run_layered(
        &p,
        &env.ctx("round-2", D, RunMode::Daily),
        &Ledger::default(),
        &daily(),
    )
    .await;
    assert_eq!(next.report.status(), RunStatus::Success);
    assert_eq!(p.calls(), 2);
}

#[tokio::test]
async fn early_exit_only_in_daily_mode() {
    let env = Env::new().await;
    let p = Probe::new("names");
    let old = "2025-03-15";
    let late = opts("2026-12-01", false);

    let run = run_layered(
        &p,
        &env.ctx("r1", old, RunMode::Daily),
        &Ledger::default(),
        &late,
    )
    .await;
    assert_eq!(p.calls(), 0);
    assert_eq!(run.report.status(), RunStatus::Skipped);
    assert_eq!(
        reason(&run),
        "early exit: 2025-03-15 is 626 days before today (2026-12-01), over the 90-day limit \
         of daily runs; run it as a backfill or pass --as-of"
    );
    assert_eq!(status(&run), CompletionStatus::Skipped);
    assert!(!up_to_date(&run));
    assert!(run.change.is_unchanged());
    assert_eq!(
        run.completion.as_ref().unwrap().skip_reason,
        reason(&run).to_string()
    );

    let off = run_layered(
        &p,
        &env.ctx("r1", "2025-08-01", RunMode::Daily),
        &Ledger::default(),
        &opts("2025-08-02", false),
    )
    .await;
    assert_eq!(p.calls(), 0);
    assert!(
        reason(&off).starts_with("early exit: off-season"),
        "{}",
        reason(&off)
    );

    // Relaxed in backfill.
    let backfill = run_layered(
        &p,
        &env.ctx("r2", old, RunMode::Backfill),
        &Ledger::default(),
        &opts("2026-12-01", true),
    )
    .await;
    assert_eq!(backfill.report.status(), RunStatus::Success);
    let summer = run_layered(
        &p,
        &env.ctx("r2", "2025-08-01", RunMode::Backfill),
        &Ledger::default(),
        &opts("2026-12-01", true),
    )
    .await;
    assert_eq!(summer.report.status(), RunStatus::Success);
    assert_eq!(p.calls(), 2);

    // 90 days old is still in range.
    let edge = run_layered(
        &p,
        &env.ctx("r3", "2025-11-01", RunMode::Daily),
        &Ledger::default(),
        &opts("2026-01-30", false),
    )
    .await;
    assert_eq!(edge.report.status(), RunStatus::Success);
}

/// Fails `p` once per round until it has failed `n` times in `mode`.
async fn fail_rounds(env: &Env, p: &Probe, mode: RunMode, n: usize) {
    for i in 0..n {
        let run = run_layered(
            p,
            &env.ctx(&format!("{mode}-{i}"), D, mode),
            &Ledger::default(),
            &opts("2025-11-06", mode == RunMode::Backfill),
        )
        .await;
        assert_eq!(run.report.status(), RunStatus::Failed, "round {i}");
        assert_eq!(status(&run), CompletionStatus::Failed);
    }
}

#[tokio::test]
async fn the_breaker_opens_after_five_daily_failures_and_an_open_breaker_skips() {
    let env = Env::new().await;
    let p = Probe::new("flaky");
    p.failing.store(true, Ordering::SeqCst);
    fail_rounds(&env, &p, RunMode::Daily, 4).await;
    assert_eq!(
        env.breaker("flaky").await.unwrap().state,
        BreakerState::Closed
    );
    fail_rounds(&env, &p, RunMode::Daily, 1).await;
    let b = env
        .breaker("flaky")
        .await
        .expect("stored as processor.flaky");
    assert_eq!(b.state, BreakerState::Open);
    assert_eq!(b.failure_count, 5);
    assert_eq!(b.id, "flaky");

    p.failing.store(false, Ordering::SeqCst);
    let refused = run_layered(
        &p,
        &env.ctx("after", D, RunMode::Daily),
        &Ledger::default(),
        &daily(),
    )
    .await;
    assert_eq!(p.calls(), 5, "an open breaker does not call the processor");
    assert_eq!(refused.report.status(), RunStatus::Skipped);
    assert!(
        reason(&refused).starts_with("circuit open since 2025-11-06T08:00:00Z after 5 failures"),
        "{}",
        reason(&refused)
    );
    assert_eq!(status(&refused), CompletionStatus::Skipped);
    assert!(!up_to_date(&refused));

    // 30 minutes later a trial run is let through; two successes close it.
    let mut later = env.ctx("later", D, RunMode::Daily);
    later.now = t0() + Duration::minutes(31);
    let trial = run_layered(&p, &later, &Ledger::default(), &daily()).await;
    assert_eq!(trial.report.status(), RunStatus::Success);
    assert_eq!(
        env.breaker("flaky").await.unwrap().state,
        BreakerState::HalfOpen
    );
    later.execution_id = "later-2".into();
    run_layered(&p, &later, &Ledger::default(), &daily()).await;
    assert_eq!(
        env.breaker("flaky").await.unwrap().state,
        BreakerState::Closed
    );
}

#[tokio::test]
async fn the_breaker_is_more_tolerant_in_backfill() {
    let env = Env::new().await;
    let p = Probe::new("flaky");
    p.failing.store(true, Ordering::SeqCst);
    fail_rounds(&env, &p, RunMode::Backfill, 19).await;
    assert_eq!(
        env.breaker("flaky").await.unwrap().state,
        BreakerState::Closed
    );
    assert_eq!(p.calls(), 19);
    fail_rounds(&env, &p, RunMode::Backfill, 1).await;
    assert_eq!(
        env.breaker("flaky").await.unwrap().state,
        BreakerState::Open
    );
    let refused = run_layered(
        &p,
        &env.ctx("after", D, RunMode::Backfill),
        &Ledger::default(),
        &opts("2025-11-06", true),
    )
    .await;
    assert_eq!(p.calls(), 20);
    assert!(
        reason(&refused).starts_with("circuit open since 2025-11-06T08:00:00Z after 20 failures"),
        "{}",
        reason(&refused)
    );
}

#[tokio::test]
async fn a_success_writes_no_breaker_document() {
    let env = Env::new().await;
    let p = Probe::new("steady");
    for round in ["a", "b"] {
        run_layered(
            &p,
            &env.ctx(round, D, RunMode::Daily),
            &Ledger::default(),
            &daily(),
        )
        .await;
    }
    assert!(env.breaker("steady").await.is_none());
}

#[tokio::test]
async fn the_precheck_skips_a_daily_run_on_an_empty_upstream_partition() {
    let env = Env::new().await;
    let mut p = Probe::new("needs_pgs");
    p.deps = vec![Dependency {
        table: &PGS,
        min_rows: 1,
    }];
    let run = run_layered(
        &p,
        &env.ctx("r1", D, RunMode::Daily),
        &Ledger::default(),
        &daily(),
    )
    .await;
    assert_eq!(p.calls(), 0);
    assert_eq!(run.report.status(), RunStatus::Skipped);
    assert_eq!(
        reason(&run),
        "dependency precheck: nba_analytics.player_game_summary has 0 rows for 2025-11-05 \
         (needs at least 1)"
    );
    assert_eq!(status(&run), CompletionStatus::Skipped);
    assert!(!up_to_date(&run));

    // Not in backfill.
    let backfill = run_layered(
        &p,
        &env.ctx("r2", D, RunMode::Backfill),
        &Ledger::default(),
        &opts("2025-11-06", true),
    )
    .await;
    assert_eq!(backfill.report.status(), RunStatus::Success);
    assert_eq!(p.calls(), 1);
}

fn ledger(entries: &[(&str, Change)]) -> Ledger {
    let mut l = Ledger::default();
    for (p, c) in entries {
        l.record(p, c.clone());
    }
    l
}

#[tokio::test]
async fn smart_skip_and_incremental_scope() {
    let env = Env::new().await;
    let mut p = Probe::new("summary");
    p.sources = Some(&["a", "b"]);
    p.scoped = true;

    // Unchanged sources, but no completed run of the date on record yet:
    // the whole date.
    let unchanged = ledger(&[("a", Change::unchanged()), ("b", Change::unchanged())]);
    let first = run_layered(&p, &env.ctx("r1", D, RunMode::Daily), &unchanged, &daily()).await;
    assert_eq!(first.report.status(), RunStatus::Success);
    assert_eq!(p.last_scope(), Scope::Full);

    // Sources unchanged: up to date.
    let skip = run_layered(&p, &env.ctx("r2", D, RunMode::Daily), &unchanged, &daily()).await;
    assert_eq!(p.calls(), 1);
    assert_eq!(skip.report.status(), RunStatus::Skipped);
    assert_eq!(
        reason(&skip),
        "up to date: none of its sources (a, b) changed in this round"
    );
    assert_eq!(status(&skip), CompletionStatus::Skipped);
    assert!(up_to_date(&skip));
    assert!(skip.change.is_unchanged());
    assert!(skip.completion.as_ref().unwrap().is_incremental);

    // Changes of processors it does not read do not count.
    let other = ledger(&[
        ("a", Change::unchanged()),
        ("b", Change::unchanged()),
        ("c", Change::Full),
    ]);
    let skip = run_layered(&p, &env.ctx("r3", D, RunMode::Daily), &other, &daily()).await;
    assert!(up_to_date(&skip));
    assert_eq!(p.calls(), 1);

    // Changed entities: only those.
    let some = ledger(&[
        ("a", Change::Entities(set(&["bob"]))),
        ("b", Change::Entities(set(&["BOS"]))),
    ]);
    let scoped = run_layered(&p, &env.ctx("r4", D, RunMode::Daily), &some, &daily()).await;
    assert_eq!(scoped.report.status(), RunStatus::Success);
    assert_eq!(p.last_scope(), Scope::Entities(set(&["BOS", "bob"])));
    assert_eq!(scoped.report.run.entities_in_scope, Some(2));

    // A Full source: the whole date.
    let full = ledger(&[("a", Change::Full), ("b", Change::Entities(set(&["bob"])))]);
    let run = run_layered(&p, &env.ctx("r5", D, RunMode::Daily), &full, &daily()).await;
    assert_eq!(run.report.status(), RunStatus::Success);
    assert_eq!(p.last_scope(), Scope::Full);
    assert_eq!(run.report.run.entities_in_scope, None);

    // A source missing from the ledger: the whole date.
    let missing = ledger(&[("a", Change::Entities(set(&["bob"])))]);
    run_layered(&p, &env.ctx("r6", D, RunMode::Daily), &missing, &daily()).await;
    assert_eq!(p.last_scope(), Scope::Full);

    // An empty ledger (a round with no known upstream changes): the whole date.
    run_layered(
        &p,
        &env.ctx("r7", D, RunMode::Daily),
        &Ledger::default(),
        &daily(),
    )
    .await;
    assert_eq!(p.last_scope(), Scope::Full);

    // A full run never smart-skips.
    let backfill = run_layered(
        &p,
        &env.ctx("r8", D, RunMode::Backfill),
        &unchanged,
        &opts("2025-11-06", true),
    )
    .await;
    assert_eq!(backfill.report.status(), RunStatus::Success);
    assert_eq!(p.last_scope(), Scope::Full);
    assert_eq!(p.calls(), 6);
}

#[tokio::test]
async fn a_processor_without_entity_scope_recomputes_the_whole_date() {
    let env = Env::new().await;
    let mut p = Probe::new("summary");
    p.sources = Some(&["a"]);
    run_layered(
        &p,
        &env.ctx("r1", D, RunMode::Daily),
        &Ledger::default(),
        &daily(),
    )
    .await;
    let some = ledger(&[("a", Change::Entities(set(&["bob"])))]);
    let run = run_layered(&p, &env.ctx("r2", D, RunMode::Daily), &some, &daily()).await;
    assert_eq!(run.report.status(), RunStatus::Success);
    assert_eq!(p.last_scope(), Scope::Full);
    assert_eq!(run.report.run.entities_in_scope, None);

    // Undeclared sources: every ledger entry counts.
    let mut q = Probe::new("undeclared");
    q.scoped = true;
    run_layered(
        &q,
        &env.ctx("r1", D, RunMode::Daily),
        &Ledger::default(),
        &daily(),
    )
    .await;
    let quiet = ledger(&[("x", Change::unchanged())]);
    let skip = run_layered(&q, &env.ctx("r2", D, RunMode::Daily), &quiet, &daily()).await;
    assert_eq!(
        reason(&skip),
        "up to date: none of its sources (x) changed in this round"
    );
    let loud = ledger(&[("x", Change::unchanged()), ("y", Change::Full)]);
    run_layered(&q, &env.ctx("r3", D, RunMode::Daily), &loud, &daily()).await;
    assert_eq!(q.calls(), 2);
    assert_eq!(q.last_scope(), Scope::Full);
}

#[tokio::test]
async fn phase_two_is_never_smart_skipped() {
    let env = Env::new().await;
    let mut p = Probe::new("raw");
    p.phase = Phase::Raw;
    p.scoped = true;
    let unchanged = ledger(&[("a", Change::unchanged())]);
    for round in ["r1", "r2"] {
        let run = run_layered(&p, &env.ctx(round, D, RunMode::Daily), &unchanged, &daily()).await;
        assert_eq!(run.report.status(), RunStatus::Success);
        assert_eq!(p.last_scope(), Scope::Full);
    }
}

#[tokio::test]
async fn change_detection_reports_exactly_the_changed_entities() {
    let env = Env::new().await;
    let p = Probe::new("names");
    let round = |r: &str| env.ctx(r, D, RunMode::Daily);

    // First round: nothing to compare with.
    let first = run_layered(&p, &round("r1"), &Ledger::default(), &daily()).await;
    assert_eq!(first.change, Change::Full);
    let c = first.completion.as_ref().unwrap();
    assert!(!c.is_incremental);
    assert!(c.entities_changed.is_empty());
    assert_eq!(first.report.run.entities_changed, None);
    assert!(env.hash_doc("names").await.is_some());

    // Same rows: nothing changed.
    let same = run_layered(&p, &round("r2"), &Ledger::default(), &daily()).await;
    assert_eq!(same.change, Change::unchanged());
    assert_eq!(same.report.run.entities_changed, Some(0));
    assert!(same.completion.as_ref().unwrap().is_incremental);

    // One row changed: exactly that entity.
    p.set_rows(&[("alice", 1), ("bob", 3)]);
    let one = run_layered(&p, &round("r3"), &Ledger::default(), &daily()).await;
    assert_eq!(one.change, Change::Entities(set(&["bob"])));
    assert_eq!(one.report.run.entities_changed, Some(1));
    let c = one.completion.as_ref().unwrap();
    assert!(c.is_incremental);
    assert_eq!(c.entities_changed, vec!["bob".to_string()]);

    // Added and removed entities count as changed.
    p.set_rows(&[("bob", 3), ("carol", 4)]);
    let moved = run_layered(&p, &round("r4"), &Ledger::default(), &daily()).await;
    assert_eq!(moved.change, Change::Entities(set(&["alice", "carol"])));

    // A failed run reports Full and forgets the hashes: the next round
    // compares against nothing.
    p.failing.store(true, Ordering::SeqCst);
    let failed = run_layered(&p, &round("r5"), &Ledger::default(), &daily()).await;
    assert_eq!(failed.report.status(), RunStatus::Failed);
    assert_eq!(failed.change, Change::Full);
    assert!(env.hash_doc("names").await.is_none());
    p.failing.store(false, Ordering::SeqCst);
    let after = run_layered(&p, &round("r6"), &Ledger::default(), &daily()).await;
    assert_eq!(after.change, Change::Full);
}

#[tokio::test]
async fn a_table_without_entity_column_changes_as_a_whole() {
    let env = Env::new().await;
    let mut p = Probe::new("schedule");
    p.writes = Writes::Schedule;
    p.phase = Phase::Raw;
    let round = |r: &str| env.ctx(r, D, RunMode::Daily);
    let first = run_layered(&p, &round("r1"), &Ledger::default(), &daily()).await;
    assert_eq!(first.change, Change::Full);
    let same = run_layered(&p, &round("r2"), &Ledger::default(), &daily()).await;
    assert_eq!(same.change, Change::unchanged());
    p.set_rows(&[("alice", 3), ("bob", 2)]);
    let changed = run_layered(&p, &round("r3"), &Ledger::default(), &daily()).await;
    assert_eq!(changed.change, Change::Full);
    let doc = env.hash_doc("schedule").await.unwrap();
    assert!(doc["nba_raw.schedule"]["*"].is_string(), "{doc}");
}

#[tokio::test]
async fn a_full_run_deletes_the_hash_doc_and_a_skip_leaves_it() {
    let env = Env::new().await;
    let mut p = Probe::new("names");
    p.sources = Some(&["a"]);
    run_layered(
        &p,
        &env.ctx("r1", D, RunMode::Daily),
        &Ledger::default(),
        &daily(),
    )
    .await;
    let stored = env.hash_doc("names").await.expect("stored");
    assert_eq!(
        stored["nba_reference.unresolved_player_names"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect::<Vec<_>>(),
        vec!["alice", "bob"]
    );

    // A smart skip leaves it alone.
    let quiet = ledger(&[("a", Change::unchanged())]);
    let skip = run_layered(&p, &env.ctx("r2", D, RunMode::Daily), &quiet, &daily()).await;
    assert!(up_to_date(&skip));
    assert_eq!(env.hash_doc("names").await, Some(stored));

    // A backfill writes other rows and deletes the doc.
    p.set_rows(&[("alice", 9), ("bob", 2)]);
    let backfill = run_layered(
        &p,
        &env.ctx("bf", D, RunMode::Backfill),
        &Ledger::default(),
        &opts("2025-11-06", true),
    )
    .await;
    assert_eq!(backfill.report.status(), RunStatus::Success);
    assert_eq!(backfill.change, Change::Full);
    assert!(env.hash_doc("names").await.is_none());

    // The next daily round compares against nothing, not against hashes
    // older than what the backfill wrote; and with nothing on record it
    // recomputes instead of smart-skipping.
    let next = run_layered(&p, &env.ctx("r3", D, RunMode::Daily), &quiet, &daily()).await;
    assert_eq!(next.report.status(), RunStatus::Success);
    assert_eq!(next.change, Change::Full);
    assert!(env.hash_doc("names").await.is_some());
}

/// A probe whose scope expansion adds `adds` to the entities it is asked
/// about, or fails while `fails` is on.
struct Expanding {
    probe: Probe,
    adds: &'static [&'static str],
    fails: AtomicBool,
    asked: Mutex<Vec<BTreeSet<String>>>,
}

#[async_trait]
impl Processor for Expanding {
    fn name(&self) -> &'static str {
        self.probe.name()
    }

    fn phase(&self) -> Phase {
        self.probe.phase()
    }

    fn outputs(&self) -> Vec<TableDef> {
        self.probe.outputs()
    }

    fn sources(&self) -> Option<&'static [&'static str]> {
        self.probe.sources()
    }

    fn supports_entity_scope(&self) -> bool {
        self.probe.supports_entity_scope()
    }

    async fn expand_scope(
        &self,
        _ctx: &ProcessContext,
        mut entities: BTreeSet<String>,
    ) -> Result<BTreeSet<String>, ProcessError> {
        self.asked.lock().unwrap().push(entities.clone());
        if self.fails.load(Ordering::SeqCst) {
            return Err(ProcessError::Permanent("games unreadable".into()));
        }
        entities.extend(self.adds.iter().map(|s| s.to_string()));
        Ok(entities)
    }

    async fn process(&self, ctx: &ProcessContext) -> Result<ProcessOutput, ProcessError> {
        self.probe.process(ctx).await
    }
}

#[tokio::test]
async fn a_scoped_run_covers_what_the_processor_expands_its_entities_to() {
    let env = Env::new().await;
    let mut probe = Probe::new("summary");
    probe.sources = Some(&["a"]);
    probe.scoped = true;
    let p = Expanding {
        probe,
        adds: &["WAS"],
        fails: AtomicBool::new(false),
        asked: Mutex::new(Vec::new()),
    };
    let first = run_layered(
        &p,
        &env.ctx("r1", D, RunMode::Daily),
        &Ledger::default(),
        &daily(),
    )
    .await;
    assert_eq!(first.report.status(), RunStatus::Success);
    assert!(
        p.asked.lock().unwrap().is_empty(),
        "a full run is not expanded"
    );

    let some = ledger(&[("a", Change::Entities(set(&["BOS", "bob"])))]);
    let run = run_layered(&p, &env.ctx("r2", D, RunMode::Daily), &some, &daily()).await;
    assert_eq!(run.report.status(), RunStatus::Success);
    assert_eq!(*p.asked.lock().unwrap(), vec![set(&["BOS", "bob"])]);
    assert_eq!(
        p.probe.last_scope(),
        Scope::Entities(set(&["BOS", "WAS", "bob"]))
    );
    assert_eq!(run.report.run.entities_in_scope, Some(3));

    // An expansion that fails: the whole date.
    p.fails.store(true, Ordering::SeqCst);
    let run = run_layered(&p, &env.ctx("r3", D, RunMode::Daily), &some, &daily()).await;
    assert_eq!(run.report.status(), RunStatus::Success);
    assert_eq!(p.asked.lock().unwrap().len(), 2);
    assert_eq!(p.probe.last_scope(), Scope::Full);
    assert_eq!(run.report.run.entities_in_scope, None);
    assert_eq!(p.probe.calls(), 3);
}

#[tokio::test]
async fn the_default_scope_expansion_adds_nothing() {
    let env = Env::new().await;
    let p = Probe::new("plain");
    let ctx = env.ctx("r1", D, RunMode::Daily);
    let entities = set(&["BOS", "bob"]);
    assert_eq!(
        p.expand_scope(&ctx, entities.clone()).await.unwrap(),
        entities
    );
}
