//! The `propcast-orchestrator` binary on a data directory's SQLite state
//! store and bus: completions published by another process (here, the
//! test) fire the transition once, and a second pass over the same events
//! fires nothing.

mod common;

use common::{PHASE2, completion, prepare, sub, triggers};
use propcast_orchestrator::{COMPLETIONS_TOPIC, Orchestrator, Transition, trigger};
use propcast_platform::EventBus;
use propcast_platform::StateStore;
use propcast_platform::embedded::{STATE_FILE, SqliteEventBus, SqliteStateStore};
use propcast_proto::v1::{CompletionStatus, ProcessorCompletion};
use std::collections::BTreeMap;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

fn serve_once(data: &std::path::Path) {
    let out = Command::new(env!("CARGO_BIN_EXE_propcast-orchestrator"))
        .args(["--once", "--data-dir"])
        .arg(data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

async fn publish<'a>(
    bus: &dyn EventBus,
    events: impl IntoIterator<Item = &'a ProcessorCompletion>,
) {
    for event in events {
        bus.publish(
            COMPLETIONS_TOPIC,
            prost::Message::encode_to_vec(event).into(),
            BTreeMap::new(),
        )
        .await
        .unwrap();
    }
}

#[tokio::test]
async fn the_binary_fires_a_ready_date_once() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(STATE_FILE);
    let state: Arc<dyn StateStore> = Arc::new(SqliteStateStore::open(&file).unwrap());
    let bus: Arc<dyn EventBus> = Arc::new(SqliteEventBus::open(&file).unwrap());
    let orchestrator = Orchestrator::new(state, bus.clone());
    orchestrator.ensure_subscription().await.unwrap();
    prepare(bus.as_ref(), &orchestrator).await;
    let events: Vec<_> = PHASE2
        .iter()
        .map(|p| completion(p, 2, CompletionStatus::Success, &format!("run-{p}")))
        .collect();
    // Every completion twice.
    publish(bus.as_ref(), events.iter().chain(&events)).await;

    serve_once(dir.path());
    let fired = triggers(bus.as_ref(), Transition::Phase2To3, Duration::ZERO).await;
    assert_eq!(fired.len(), 1, "one trigger for the date");
    let (_, message) = &fired[0];
    assert_eq!(message.phase, 3);
    assert_eq!(message.game_date, common::DATE);
    // Overnight 2→3 fires once its three critical processors are done.
    for critical in ["schedule", "player_boxscores", "team_boxscores"] {
        assert!(message.processors.contains_key(critical), "{critical}");
    }
    assert!(trigger::triggered_at(message).is_some());

    // The same events again, in a later pass: recorded as duplicates.
    publish(bus.as_ref(), &events).await;
    serve_once(dir.path());
    assert!(
        triggers(bus.as_ref(), Transition::Phase2To3, Duration::ZERO)
            .await
            .is_empty()
    );
    assert!(
        bus.pull(propcast_orchestrator::ORCHESTRATOR_SUBSCRIPTION, 10)
            .await
            .unwrap()
            .is_empty(),
        "every completion was acked"
    );
    let _ = sub(Transition::Phase2To3);
}
