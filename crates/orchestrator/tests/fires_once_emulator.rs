//! Invariant 4 "fires once" on the cloud backends, on Google's official
//! emulators: the 1,000 concurrent, duplicated completion events of
//! `tests/fires_once.rs` against the Firestore state store
//! (`FIRESTORE_EMULATOR_HOST`) and the Pub/Sub event bus
//! (`PUBSUB_EMULATOR_HOST`), two orchestrators on their own clients.
//!
//! ```sh
//! eval "$(scripts/emulators.sh start)"
//! PROPCAST_REQUIRE_EMULATORS=1 cargo test -p propcast-orchestrator --features gcp --test fires_once_emulator
//! scripts/emulators.sh stop
//! ```
//!
//! Without the variables the test prints "skipped: emulators not running"
//! and passes, unless `PROPCAST_REQUIRE_EMULATORS=1`, when it fails. Each run
//! uses fresh project ids and a fresh round id, so reruns against a running
//! emulator start from nothing.
#![cfg(feature = "gcp")]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use propcast_orchestrator::{CompletionDoc, ManualClock, Mode, Orchestrator, Transition};
use propcast_platform::StateStore;
use propcast_platform::gcp::{FirestoreStateStore, PubSubEventBus};

/// How long the trigger subscription must stay empty before "exactly one
/// message" is believed: Pub/Sub delivers over a stream.
const QUIET: Duration = Duration::from_secs(5);

/// The emulator address in `var`, or `None` (test skipped) when it is not
/// set; panics when it is not set and `PROPCAST_REQUIRE_EMULATORS=1`.
fn emulator(var: &str) -> Option<String> {
    if let Ok(host) = std::env::var(var)
        && !host.is_empty()
    {
        return Some(host);
    }
    if std::env::var("PROPCAST_REQUIRE_EMULATORS").as_deref() == Ok("1") {
        panic!(
            "{var} is not set and PROPCAST_REQUIRE_EMULATORS=1: start the emulators with \
             `eval \"$(scripts/emulators.sh start)\"` before the tests"
        );
    }
    eprintln!("skipped: emulators not running (start them with scripts/emulators.sh start)");
    None
}

/// An id no other test (or earlier run) used.
fn fresh(prefix: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_nanos();
    format!(
        "{prefix}-{}-{}-{nanos}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_concurrent_duplicated_events_fire_exactly_once_on_the_emulators() {
    if emulator("FIRESTORE_EMULATOR_HOST").is_none() || emulator("PUBSUB_EMULATOR_HOST").is_none() {
        return;
    }
    let (firestore_project, pubsub_project) = (fresh("propcast-orch"), fresh("propcast-orch"));
    let round_id = fresh("round");
    let connect = || async {
        let state = FirestoreStateStore::connect(&firestore_project)
            .await
            .expect("connect to the Firestore emulator");
        let bus = PubSubEventBus::connect(&pubsub_project)
            .await
            .expect("connect to the Pub/Sub emulator");
        (Arc::new(state), Arc::new(bus))
    };
    // Two orchestrators, each on its own Firestore and Pub/Sub clients, as
    // two service instances would be.
    let (state1, bus1) = connect().await;
    let (state2, bus2) = connect().await;
    let clock = Arc::new(ManualClock::new(common::morning()));
    let first = Arc::new(Orchestrator::new(state1.clone(), bus1.clone()).with_clock(clock.clone()));
    let second = Arc::new(Orchestrator::new(state2, bus2).with_clock(clock));
    common::prepare(bus1.as_ref(), &first).await;

    let started = std::time::Instant::now();
    common::a_thousand_concurrent_duplicated_events_fire_exactly_once(
        first,
        second,
        bus1.as_ref(),
        &round_id,
        QUIET,
    )
    .await;
    eprintln!(
        "1,000 events on the emulators: fired once in {:.1} s (incl. {} s quiet wait)",
        started.elapsed().as_secs_f64(),
        QUIET.as_secs()
    );

    // The document is where the round says it is, and alone.
    let ids: Vec<String> = state1
        .list(Transition::Phase3To4.collection(), "")
        .await
        .unwrap()
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(
        ids,
        [CompletionDoc::id(common::DATE, Mode::Overnight, &round_id)]
    );
    // Nothing else was triggered.
    for t in [Transition::Phase2To3, Transition::Phase4To5] {
        assert!(
            common::triggers(bus1.as_ref(), t, Duration::ZERO)
                .await
                .is_empty()
        );
    }
}
