//! Completion events per second through an [`Orchestrator`], each event
//! published on the event bus and consumed by `on_payload`, as a service
//! would run it:
//!
//! * **backfill**: the 14 tracked processors (4 of phase 2, 5 of 3, 5 of 4)
//!   × 200 dates in mode `backfill`, one round: 2,800 events, 600 triggers;
//! * **storm**: 1,000 events on one date and document (200 distinct runs
//!   of the 5 phase-3 processors, each delivered 5 times), 1 trigger.
//!
//! On the embedded SQLite state store and SQLite bus always; on the
//! Firestore and Pub/Sub emulators too when built with `--features gcp` and
//! `FIRESTORE_EMULATOR_HOST` / `PUBSUB_EMULATOR_HOST` are set.
//!
//! ```sh
//! cargo bench -p propcast-orchestrator --bench events
//! eval "$(scripts/emulators.sh start)"
//! cargo bench -p propcast-orchestrator --features gcp --bench events
//! scripts/emulators.sh stop
//! ```
//!
//! `PROPCAST_BENCH_DATES` overrides the 200 dates. The trigger counts are
//! checked: a run that fired a transition twice (or not at all) panics.

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use propcast_orchestrator::{ManualClock, Orchestrator, Outcome, Transition};
use propcast_platform::EventBus;
use propcast_platform::StateStore;
use propcast_platform::embedded::{SqliteEventBus, SqliteStateStore};
use propcast_proto::v1::{CompletionStatus, ProcessorCompletion};

const COMPLETIONS_TOPIC: &str = "bench-completions";
const COMPLETIONS_SUB: &str = "bench-completions-orchestrator";
/// Concurrent consumers (pull → on_payload → ack loops).
const CONSUMERS: usize = 8;
/// Messages per pull.
const BATCH: usize = 50;

struct Row {
    backend: &'static str,
    scenario: &'static str,
    events: usize,
    publish: Duration,
    consume: Duration,
    triggers: usize,
}

impl Row {
    fn total(&self) -> Duration {
        self.publish + self.consume
    }
}

fn rate(events: usize, d: Duration) -> f64 {
    events as f64 / d.as_secs_f64().max(1e-9)
}

/// One round of a backfill: every tracked processor for each date.
fn backfill_events(dates: usize, round_id: &str) -> Vec<ProcessorCompletion> {
    let start = NaiveDate::from_ymd_opt(2024, 10, 22).unwrap();
    let mut events = Vec::new();
    for d in 0..dates {
        let date = (start + chrono::Duration::days(d as i64)).to_string();
        for (phase, procs) in [
            (2, &common::PHASE2[..]),
            (3, &common::PHASE3[..]),
            (4, &common::PHASE4[..]),
        ] {
            for p in procs {
                let mut c = common::completion_on(
                    &date,
                    p,
                    phase,
                    CompletionStatus::Success,
                    &format!("{p}-{date}-{round_id}"),
                );
                c.mode = "backfill".into();
                c.round_id = round_id.to_string();
                events.push(c);
            }
        }
    }
    events
}

/// Publishes `events` on the completions topic, then consumes them with
/// [`CONSUMERS`] pull loops calling `on_payload` until every one was
/// handled; returns (publish time, consume time).
async fn run(
    orchestrator: Arc<Orchestrator>,
    bus: Arc<dyn EventBus>,
    events: &[ProcessorCompletion],
) -> (Duration, Duration) {
    let started = Instant::now();
    let publishes: Vec<_> = events
        .chunks(events.len().div_ceil(CONSUMERS).max(1))
        .map(|chunk| {
            let bus = bus.clone();
            let payloads: Vec<_> = chunk.iter().map(|e| e.encode_to_bytes()).collect();
            tokio::spawn(async move {
                for p in payloads {
                    bus.publish(COMPLETIONS_TOPIC, p, Default::default())
                        .await
                        .expect("publish a completion");
                }
            })
        })
        .collect();
    for p in publishes {
        p.await.unwrap();
    }
    let publish = started.elapsed();

    let started = Instant::now();
    let handled = Arc::new(AtomicUsize::new(0));
    let total = events.len();
    let consumers: Vec<_> = (0..CONSUMERS)
        .map(|_| {
            let (o, bus, handled) = (orchestrator.clone(), bus.clone(), handled.clone());
            tokio::spawn(async move {
                while handled.load(Ordering::SeqCst) < total {
                    let batch = bus.pull(COMPLETIONS_SUB, BATCH).await.expect("pull");
                    if batch.is_empty() {
                        tokio::time::sleep(Duration::from_millis(5)).await;
                        continue;
                    }
                    let mut done = Vec::with_capacity(batch.len());
                    for d in batch {
                        match o.on_payload(&d.data).await {
                            Ok(Outcome::Ignored { reason }) => panic!("ignored: {reason}"),
                            Ok(_) => done.push(d.ack_id),
                            Err(e) if e.is_retryable() => {
                                bus.nack(COMPLETIONS_SUB, &[d.ack_id]).await.expect("nack");
                            }
                            Err(e) => panic!("event failed: {e}"),
                        }
                    }
                    let n = done.len();
                    bus.ack(COMPLETIONS_SUB, &done).await.expect("ack");
                    handled.fetch_add(n, Ordering::SeqCst);
                }
            })
        })
        .collect();
    for c in consumers {
        c.await.unwrap();
    }
    (publish, started.elapsed())
}

/// Both scenarios on one pair of backends (fresh: nothing recorded yet).
async fn scenarios(
    backend: &'static str,
    state: Arc<dyn StateStore>,
    bus: Arc<dyn EventBus>,
    dates: usize,
    quiet: Duration,
) -> Vec<Row> {
    let clock = Arc::new(ManualClock::new(common::morning()));
    let o = Arc::new(Orchestrator::new(state, bus.clone()).with_clock(clock));
    common::prepare(bus.as_ref(), &o).await;
    bus.create_topic(COMPLETIONS_TOPIC).await.unwrap();
    bus.create_subscription(
        COMPLETIONS_TOPIC,
        COMPLETIONS_SUB,
        Duration::from_secs(600),
        5,
    )
    .await
    .unwrap();
    let round = format!("bench-{}", uuid::Uuid::new_v4());
    let mut rows = Vec::new();

    let events = backfill_events(dates, &round);
    let (publish, consume) = run(o.clone(), bus.clone(), &events).await;
    let mut triggers = 0;
    for t in Transition::ALL {
        let n = common::triggers(bus.as_ref(), t, quiet).await.len();
        assert_eq!(n, dates, "{backend}: {t} fired once per date");
        triggers += n;
    }
    rows.push(Row {
        backend,
        scenario: "backfill",
        events: events.len(),
        publish,
        consume,
        triggers,
    });

    let events = common::thousand_duplicated_events(&round);
    let (publish, consume) = run(o, bus.clone(), &events).await;
    let n = common::triggers(bus.as_ref(), Transition::Phase3To4, quiet)
        .await
        .len();
    assert_eq!(n, 1, "{backend}: the storm fired once");
    rows.push(Row {
        backend,
        scenario: "storm (1 doc)",
        events: events.len(),
        publish,
        consume,
        triggers: n,
    });
    rows
}

#[cfg(feature = "gcp")]
async fn emulator_rows(dates: usize) -> Vec<Row> {
    use propcast_platform::gcp::{FirestoreStateStore, PubSubEventBus};
    let set = |v: &str| std::env::var(v).is_ok_and(|h| !h.is_empty());
    if !(set("FIRESTORE_EMULATOR_HOST") && set("PUBSUB_EMULATOR_HOST")) {
        eprintln!("emulators: skipped (FIRESTORE_EMULATOR_HOST / PUBSUB_EMULATOR_HOST not set)");
        return Vec::new();
    }
    let project = format!("propcast-bench-{}", uuid::Uuid::new_v4().simple());
    let state = FirestoreStateStore::connect(&project)
        .await
        .expect("connect to the Firestore emulator");
    let bus = PubSubEventBus::connect(&project)
        .await
        .expect("connect to the Pub/Sub emulator");
    scenarios(
        "firestore+pubsub emulators",
        Arc::new(state),
        Arc::new(bus),
        dates,
        Duration::from_secs(3),
    )
    .await
}

#[cfg(not(feature = "gcp"))]
async fn emulator_rows(_dates: usize) -> Vec<Row> {
    eprintln!("emulators: skipped (build with --features gcp)");
    Vec::new()
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing
    // of the sort: then run a small smoke version.
    let smoke = !std::env::args().any(|a| a == "--bench");
    let dates: usize = std::env::var("PROPCAST_BENCH_DATES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if smoke { 5 } else { 200 });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let rows = runtime.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.sqlite");
        let mut rows = scenarios(
            "sqlite (embedded)",
            Arc::new(SqliteStateStore::open(&path).unwrap()),
            Arc::new(SqliteEventBus::open(&path).unwrap()),
            dates,
            Duration::ZERO,
        )
        .await;
        if !smoke {
            rows.extend(emulator_rows(dates).await);
        }
        rows
    });

    println!(
        "{:<28} {:<14} {:>7} {:>10} {:>10} {:>12} {:>14} {:>9}",
        "backend",
        "scenario",
        "events",
        "publish s",
        "consume s",
        "consumed/s",
        "end-to-end/s",
        "triggers"
    );
    for r in &rows {
        println!(
            "{:<28} {:<14} {:>7} {:>10.2} {:>10.2} {:>12.0} {:>14.0} {:>9}",
            r.backend,
            r.scenario,
            r.events,
            r.publish.as_secs_f64(),
            r.consume.as_secs_f64(),
            rate(r.events, r.consume),
            rate(r.events, r.total()),
            r.triggers
        );
    }
}
