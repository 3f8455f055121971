//! Shared by the fires-once tests on the embedded backends
//! (`tests/fires_once.rs`), on the emulators (`tests/fires_once_emulator.rs`)
//! and the throughput bench (`benches/events.rs`): event builders, the
//! trigger subscriptions, draining them, and the 1,000-event scenario.
#![allow(dead_code)] // each includer uses a part

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use propcast_orchestrator::{
    Fired, Mode, Orchestrator, Outcome, PhaseTrigger, Transition, trigger,
};
use propcast_platform::{Delivery, EventBus};
use propcast_proto::v1::{CompletionStatus, ProcessorCompletion};

pub const PHASE2: [&str; 7] = [
    "schedule",
    "scoreboard",
    "player_boxscores",
    "boxscore_traditional",
    "team_boxscores",
    "injury_report",
    "player_props",
];
pub const PHASE3: [&str; 5] = [
    "team_offense_game_summary",
    "team_defense_game_summary",
    "player_game_summary",
    "upcoming_team_game_context",
    "upcoming_player_game_context",
];
pub const PHASE4: [&str; 5] = [
    "team_defense_zone_analysis",
    "player_shot_zone_analysis",
    "player_composite_factors",
    "player_daily_cache",
    "ml_feature_store",
];
/// A past date for [`morning`], so daily events are overnight.
pub const DATE: &str = "2025-11-04";

pub fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339).unwrap().to_utc()
}

/// 10:00 ET on 2025-11-05.
pub fn morning() -> DateTime<Utc> {
    at("2025-11-05T15:00:00Z")
}

/// The test subscription on a trigger topic.
pub fn sub(t: Transition) -> String {
    format!("test-{}", t.trigger_topic())
}

/// Topics plus one test subscription per trigger topic (5 attempts:
/// Pub/Sub's minimum).
pub async fn prepare(bus: &dyn EventBus, orchestrator: &Orchestrator) {
    orchestrator.ensure_topics().await.unwrap();
    for t in Transition::ALL {
        bus.create_subscription(t.trigger_topic(), &sub(t), Duration::from_secs(600), 5)
            .await
            .unwrap();
    }
}

/// Every trigger message published for `transition` so far, acked. Pulls
/// until the subscription stayed empty for `quiet` (zero: the first empty
/// pull ends it, right for the SQLite bus; Pub/Sub delivers over a stream,
/// so an empty pull there only means "nothing yet").
pub async fn triggers(
    bus: &dyn EventBus,
    transition: Transition,
    quiet: Duration,
) -> Vec<(Delivery, PhaseTrigger)> {
    let mut all = Vec::new();
    let mut last = Instant::now();
    loop {
        let batch = bus.pull(&sub(transition), 100).await.unwrap();
        if batch.is_empty() {
            if last.elapsed() >= quiet {
                return all;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        }
        last = Instant::now();
        let ids: Vec<String> = batch.iter().map(|d| d.ack_id.clone()).collect();
        bus.ack(&sub(transition), &ids).await.unwrap();
        for d in batch {
            let msg = trigger::decode(&d.data).expect("a PhaseTrigger");
            all.push((d, msg));
        }
    }
}

/// A completion of `processor` for `game_date`, mode `daily`, empty round.
pub fn completion_on(
    game_date: &str,
    processor: &str,
    phase: i32,
    status: CompletionStatus,
    execution_id: &str,
) -> ProcessorCompletion {
    let mut c = ProcessorCompletion {
        processor: processor.to_string(),
        phase,
        game_date: game_date.to_string(),
        record_count: 100,
        correlation_id: "corr-1".to_string(),
        execution_id: execution_id.to_string(),
        mode: "daily".to_string(),
        ..Default::default()
    };
    c.set_status(status);
    c
}

/// [`completion_on`] for [`DATE`].
pub fn completion(
    processor: &str,
    phase: i32,
    status: CompletionStatus,
    execution_id: &str,
) -> ProcessorCompletion {
    completion_on(DATE, processor, phase, status, execution_id)
}

pub fn fired(outcomes: &[Outcome]) -> Vec<&Fired> {
    outcomes
        .iter()
        .filter_map(|o| match o {
            Outcome::Fired(f) => Some(f.as_ref()),
            _ => None,
        })
        .collect()
}

/// 5 phase-3 processors × 40 runs (failed, skipped, no_data, partial,
/// success, …) = 200 distinct executions of [`DATE`] in `round_id`, each
/// delivered 5 times = 1,000 events, in random order.
pub fn thousand_duplicated_events(round_id: &str) -> Vec<ProcessorCompletion> {
    let statuses = [
        CompletionStatus::Failed,
        CompletionStatus::Skipped,
        CompletionStatus::NoData,
        CompletionStatus::Partial,
        CompletionStatus::Success,
    ];
    let mut events = Vec::new();
    for p in PHASE3 {
        for run in 0..40 {
            let mut c = completion(p, 3, statuses[run % 5], &format!("{p}-run-{run}"));
            c.round_id = round_id.to_string();
            for _ in 0..5 {
                events.push(c.clone());
            }
        }
    }
    assert_eq!(events.len(), 1000);
    // Random order: sort by a fresh random UUID.
    let mut keyed: Vec<_> = events
        .into_iter()
        .map(|e| (uuid::Uuid::new_v4(), e))
        .collect();
    keyed.sort_by_key(|(k, _)| *k);
    keyed.into_iter().map(|(_, e)| e).collect()
}

/// Invariant 4 under load: the 1,000 events of
/// [`thousand_duplicated_events`] handled all at once, alternately by two
/// orchestrators on their own handles of the same backends, fire exactly
/// once: one `Fired`, one trigger message on `bus` (read with `quiet`, see
/// [`triggers`]), and a document that recorded all 200 runs and is marked
/// triggered. The clock of both must be [`morning`] (events are overnight).
pub async fn a_thousand_concurrent_duplicated_events_fire_exactly_once(
    first: Arc<Orchestrator>,
    second: Arc<Orchestrator>,
    bus: &dyn EventBus,
    round_id: &str,
    quiet: Duration,
) {
    let tasks: Vec<_> = thousand_duplicated_events(round_id)
        .into_iter()
        .enumerate()
        .map(|(i, event)| {
            let o = if i % 2 == 0 {
                first.clone()
            } else {
                second.clone()
            };
            tokio::spawn(async move { o.on_completion(&event).await })
        })
        .collect();
    let mut outcomes = Vec::new();
    for t in tasks {
        outcomes.push(t.await.unwrap().expect("every event is handled"));
    }

    let fired = fired(&outcomes);
    assert_eq!(fired.len(), 1, "exactly one caller fired");
    let messages = triggers(bus, Transition::Phase3To4, quiet).await;
    assert_eq!(messages.len(), 1, "exactly one trigger message on the bus");
    let (delivery, msg) = &messages[0];
    assert_eq!(delivery.message_id, fired[0].message_id);
    assert_eq!(msg, &fired[0].message);
    assert_eq!(
        (
            msg.phase,
            msg.game_date.as_str(),
            msg.mode.as_str(),
            msg.round_id.as_str()
        ),
        (4, DATE, "overnight", round_id)
    );
    assert_eq!(delivery.attributes["claim_id"], msg.claim_id);
    assert_eq!(delivery.attributes["round_id"], round_id);
    assert_eq!(fired[0].key.round_id, round_id);

    let doc = first
        .document(Transition::Phase3To4, DATE, Mode::Overnight, round_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(doc.round_id, round_id);
    assert!(doc.triggered);
    assert!(!doc.trigger_pending);
    assert_eq!(
        doc.trigger_message_id.as_deref(),
        Some(fired[0].message_id.as_str())
    );
    // No lost update: all 200 distinct runs were recorded, 40 per processor,
    // and every processor ended counted (each had success/partial runs).
    for p in PHASE3 {
        let mut ids = doc.processors[p].execution_ids.clone();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 40, "{p}");
    }
    assert_eq!(doc.completed_count, 5);
    let new_records = outcomes
        .iter()
        .filter(|o| matches!(o, Outcome::Pending { new: true, .. }))
        .count();
    // 200 distinct runs: each recorded once (the firing call may be one of them).
    assert!((199..=200).contains(&new_records), "{new_records}");
}
