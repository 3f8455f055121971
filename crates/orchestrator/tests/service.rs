//! The orchestrator service on a data directory's SQLite state store and
//! bus: the `propcast-orchestrator` binary fires a date once for
//! completions published by another process (here, the test), a second
//! pass over the same events fires nothing, and SIGTERM stops it cleanly;
//! [`serve`] as a library stops when its shutdown future completes; and
//! unreadable completions are dead-lettered while the rest flows on.

mod common;

use common::{PHASE2, completion, prepare, sub, triggers};
use propcast_orchestrator::{
    COMPLETIONS_TOPIC, ORCHESTRATOR_SUBSCRIPTION, Orchestrator, ServeOptions, Transition, serve,
    trigger,
};
use propcast_platform::dead_letter;
use propcast_platform::embedded::{STATE_FILE, SqliteEventBus, SqliteStateStore};
use propcast_platform::{EventBus, StateStore};
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

/// The state store and bus of a data directory (as the binary opens
/// them), an orchestrator on them, its subscription and the test
/// subscriptions on the trigger topics.
async fn open(data: &std::path::Path) -> (Arc<dyn StateStore>, Arc<dyn EventBus>, Orchestrator) {
    let file = data.join(STATE_FILE);
    let state: Arc<dyn StateStore> = Arc::new(SqliteStateStore::open(&file).unwrap());
    let bus: Arc<dyn EventBus> = Arc::new(SqliteEventBus::open(&file).unwrap());
    let orchestrator = Orchestrator::new(state.clone(), bus.clone());
    orchestrator.ensure_subscription().await.unwrap();
    prepare(bus.as_ref(), &orchestrator).await;
    (state, bus, orchestrator)
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
    let (_, bus, _) = open(dir.path()).await;
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

/// Waits (up to 30 s) until `transition` has published `n` triggers.
async fn wait_for_triggers(bus: &dyn EventBus, transition: Transition, n: usize) -> usize {
    let mut seen = 0;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while seen < n && std::time::Instant::now() < deadline {
        seen += triggers(bus, transition, Duration::ZERO).await.len();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    seen
}

#[tokio::test]
async fn sigterm_stops_the_service_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let (_, bus, _) = open(dir.path()).await;

    let child = Command::new(env!("CARGO_BIN_EXE_propcast-orchestrator"))
        .args(["--poll-ms", "20", "--data-dir"])
        .arg(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let events: Vec<_> = PHASE2
        .iter()
        .map(|p| completion(p, 2, CompletionStatus::Success, &format!("run-{p}")))
        .collect();
    publish(bus.as_ref(), &events).await;
    let fired = wait_for_triggers(bus.as_ref(), Transition::Phase2To3, 1).await;

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(fired, 1, "the running service fired the date once");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("fired phase2_to_phase3 {}", common::DATE)),
        "{stdout}"
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("SIGTERM"),
        "the shutdown says which signal"
    );
}

/// `serve` as a library: it fires what becomes ready while it runs and
/// returns once the shutdown future completes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_runs_until_its_shutdown_future_completes() {
    let dir = tempfile::tempdir().unwrap();
    let (_, bus, orchestrator) = open(dir.path()).await;
    let orchestrator = Arc::new(orchestrator);

    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let options = ServeOptions {
        poll: Duration::from_millis(20),
        ..ServeOptions::default()
    };
    let service = tokio::spawn({
        let orchestrator = orchestrator.clone();
        async move {
            serve(&orchestrator, options, async {
                let _ = stopped.await;
            })
            .await
        }
    });
    let events: Vec<_> = PHASE2
        .iter()
        .map(|p| completion(p, 2, CompletionStatus::Success, &format!("run-{p}")))
        .collect();
    publish(bus.as_ref(), events.iter().chain(&events)).await;
    let fired = wait_for_triggers(bus.as_ref(), Transition::Phase2To3, 1).await;
    stop.send(()).unwrap();
    let report = tokio::time::timeout(Duration::from_secs(10), service)
        .await
        .expect("serve returns after its shutdown")
        .unwrap()
        .unwrap();
    assert_eq!(fired, 1);
    assert_eq!(report.fired.len(), 1, "one firing for the date");
    assert_eq!(report.fired[0].key.transition, Transition::Phase2To3);
    assert_eq!(report.handled, 2 * PHASE2.len(), "every completion, twice");
    assert!(report.dead_letters.is_empty());
    assert!(report.sweeps >= 1, "the timeouts were swept on start");
}

/// Every kind of completion the orchestrator can never record is acked
/// into a dead letter whose reason names the field, and the good
/// completions around them still fire the date.
#[tokio::test]
async fn unreadable_completions_are_dead_lettered_and_the_date_still_fires() {
    let dir = tempfile::tempdir().unwrap();
    let (state, bus, orchestrator) = open(dir.path()).await;

    let good = |p: &str| completion(p, 2, CompletionStatus::Success, &format!("run-{p}"));
    let mut bad: Vec<(&str, Vec<u8>)> = vec![("not a ProcessorCompletion", vec![0xff, 0xff, 0xff])];
    let mut push = |field: &'static str, f: &dyn Fn(&mut ProcessorCompletion)| {
        let mut c = good("schedule");
        c.execution_id = format!("bad-{field}");
        f(&mut c);
        bad.push((field, prost::Message::encode_to_vec(&c)));
    };
    push("game_date", &|c| c.game_date = "2025-13-45".into());
    push("mode", &|c| c.mode = "nightly".into());
    push("phase", &|c| c.phase = 9);
    push("status", &|c| c.status = 42);
    push("status", &|c| c.set_status(CompletionStatus::Unspecified));
    push("processor", &|c| c.processor = " ".into());
    push("execution_id", &|c| c.execution_id.clear());

    // Bad messages first, between and after the good ones.
    let (first, rest) = bad.split_at(3);
    for (_, data) in first {
        bus.publish(COMPLETIONS_TOPIC, data.clone().into(), BTreeMap::new())
            .await
            .unwrap();
    }
    publish(
        bus.as_ref(),
        &PHASE2[..2].iter().map(|p| good(p)).collect::<Vec<_>>(),
    )
    .await;
    for (_, data) in rest {
        bus.publish(COMPLETIONS_TOPIC, data.clone().into(), BTreeMap::new())
            .await
            .unwrap();
    }
    publish(
        bus.as_ref(),
        &PHASE2[2..].iter().map(|p| good(p)).collect::<Vec<_>>(),
    )
    .await;

    let drained = orchestrator.drain().await.unwrap();
    assert_eq!(drained.handled, bad.len() + PHASE2.len());
    assert_eq!(drained.fired.len(), 1, "the good completions fire the date");
    assert_eq!(drained.dead_letters.len(), bad.len());
    let stored = dead_letter::list(state.as_ref(), ORCHESTRATOR_SUBSCRIPTION)
        .await
        .unwrap();
    assert_eq!(stored.len(), bad.len(), "one dead letter per bad message");
    for ((field, data), letter) in bad.iter().zip(&drained.dead_letters) {
        assert!(
            letter.reason.contains(field),
            "{field}: reason {:?}",
            letter.reason
        );
        assert_eq!(&letter.payload().unwrap(), data, "kept as delivered");
        assert_eq!(letter.attempt, 1);
        assert!(stored.contains(letter), "{} stored", letter.id());
    }
    assert!(
        bus.pull(ORCHESTRATOR_SUBSCRIPTION, 10)
            .await
            .unwrap()
            .is_empty(),
        "every message was acked"
    );
    assert_eq!(
        triggers(bus.as_ref(), Transition::Phase2To3, Duration::ZERO)
            .await
            .len(),
        1
    );
}
