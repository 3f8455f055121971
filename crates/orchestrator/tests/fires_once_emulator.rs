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
use std::time::Duration;

use propcast_orchestrator::{CompletionDoc, ManualClock, Mode, Orchestrator, Transition};
use propcast_platform::StateStore;
use propcast_platform::gcp::emulators::{emulator_host, fresh_id};
use propcast_platform::gcp::{FirestoreStateStore, PubSubEventBus};

/// How long the trigger subscription must stay empty before "exactly one
/// message" is believed: Pub/Sub delivers over a stream.
const QUIET: Duration = Duration::from_secs(5);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_concurrent_duplicated_events_fire_exactly_once_on_the_emulators() {
    if emulator_host("FIRESTORE_EMULATOR_HOST").is_none()
        || emulator_host("PUBSUB_EMULATOR_HOST").is_none()
    {
        return;
    }
    let (firestore_project, pubsub_project) =
        (fresh_id("propcast-orch"), fresh_id("propcast-orch"));
    let round_id = fresh_id("round");
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
