//! Invariant 4 "fires once" on the real embedded backends: the SQLite state
//! store and the SQLite event bus, in a temporary directory.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use common::{DATE, PHASE3, PHASE4, at, completion, fired, morning};
use propcast_orchestrator::{
    CompletionDoc, ManualClock, Mode, Orchestrator, OrchestratorError, Outcome, PhaseTrigger,
    TimeoutTier, Transition, TriggerReason, TriggerState,
};
use propcast_platform::embedded::{SqliteEventBus, SqliteStateStore};
use propcast_platform::{Delivery, EventBus, EventBusError, StateStore, TxDecision};
use propcast_proto::v1::{CompletionStatus, ProcessorCompletion};

struct Backends {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
    state: Arc<SqliteStateStore>,
    bus: Arc<SqliteEventBus>,
}

impl Backends {
    fn open() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.sqlite");
        Self {
            state: Arc::new(SqliteStateStore::open(&path).unwrap()),
            bus: Arc::new(SqliteEventBus::open(&path).unwrap()),
            path,
            _dir: dir,
        }
    }

    /// Another pair of handles on the same file, as a second process would.
    fn second_handles(&self) -> (Arc<SqliteStateStore>, Arc<SqliteEventBus>) {
        (
            Arc::new(SqliteStateStore::open(&self.path).unwrap()),
            Arc::new(SqliteEventBus::open(&self.path).unwrap()),
        )
    }

    /// Topics plus one test subscription per trigger topic.
    async fn prepare(&self, orchestrator: &Orchestrator) {
        common::prepare(self.bus.as_ref(), orchestrator).await;
    }

    /// Every trigger message published for `transition` so far (acked).
    async fn triggers(&self, transition: Transition) -> Vec<(Delivery, PhaseTrigger)> {
        common::triggers(self.bus.as_ref(), transition, Duration::ZERO).await
    }

    async fn raw_doc(&self, transition: Transition, mode: Mode) -> serde_json::Value {
        self.state
            .get(transition.collection(), &CompletionDoc::id(DATE, mode, ""))
            .await
            .unwrap()
            .expect("document exists")
    }
}

fn orchestrator(
    state: Arc<dyn StateStore>,
    bus: Arc<dyn EventBus>,
    clock: Arc<ManualClock>,
) -> Orchestrator {
    Orchestrator::new(state, bus).with_clock(clock)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_duplicated_events_fire_exactly_once() {
    let b = Backends::open();
    let clock = Arc::new(ManualClock::new(morning()));
    let first = Arc::new(orchestrator(b.state.clone(), b.bus.clone(), clock.clone()));
    let (state2, bus2) = b.second_handles();
    let second = Arc::new(orchestrator(state2, bus2, clock.clone()));
    b.prepare(&first).await;
    common::a_thousand_concurrent_duplicated_events_fire_exactly_once(
        first,
        second,
        b.bus.as_ref(),
        "",
        Duration::ZERO,
    )
    .await;
    // The empty round keeps the id of a date and mode.
    let ids: Vec<String> = b
        .state
        .list(Transition::Phase3To4.collection(), "")
        .await
        .unwrap()
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(ids, ["2025-11-04_overnight"]);
}

/// A test double of the event bus (a real SQLite bus underneath) whose
/// first `fail` publishes fail with a transient error: the only way to make
/// a real bus fail on cue.
struct FailFirstPublishes {
    inner: Arc<SqliteEventBus>,
    remaining: AtomicU32,
}

#[async_trait]
impl EventBus for FailFirstPublishes {
    async fn create_topic(&self, topic: &str) -> Result<(), EventBusError> {
        self.inner.create_topic(topic).await
    }
    async fn create_subscription(
        &self,
        topic: &str,
        subscription: &str,
        ack_deadline: Duration,
        max_attempts: u32,
    ) -> Result<(), EventBusError> {
        self.inner
            .create_subscription(topic, subscription, ack_deadline, max_attempts)
            .await
    }
    async fn publish(
        &self,
        topic: &str,
        data: Bytes,
        attributes: BTreeMap<String, String>,
    ) -> Result<String, EventBusError> {
        let failed = self
            .remaining
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if failed {
            return Err(EventBusError::Transient("injected publish failure".into()));
        }
        self.inner.publish(topic, data, attributes).await
    }
    async fn pull(&self, subscription: &str, max: usize) -> Result<Vec<Delivery>, EventBusError> {
        self.inner.pull(subscription, max).await
    }
    async fn ack(&self, subscription: &str, ack_ids: &[String]) -> Result<(), EventBusError> {
        self.inner.ack(subscription, ack_ids).await
    }
    async fn nack(&self, subscription: &str, ack_ids: &[String]) -> Result<(), EventBusError> {
        self.inner.nack(subscription, ack_ids).await
    }
    async fn dead_letters(&self, subscription: &str) -> Result<Vec<Delivery>, EventBusError> {
        self.inner.dead_letters(subscription).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_publish_marks_nothing_and_the_next_event_fires_once() {
    let b = Backends::open();
    let clock = Arc::new(ManualClock::new(morning()));
    let bus = Arc::new(FailFirstPublishes {
        inner: b.bus.clone(),
        remaining: AtomicU32::new(1),
    });
    let o = orchestrator(b.state.clone(), bus, clock);
    b.prepare(&o).await;

    // Optional ones first: 3 of 5 but no critical yet.
    for p in &PHASE3[..2] {
        let out = o
            .on_completion(&completion(
                p,
                3,
                CompletionStatus::Success,
                &format!("{p}-1"),
            ))
            .await
            .unwrap();
        assert!(matches!(
            out,
            Outcome::Pending {
                state: TriggerState::Waiting,
                ..
            }
        ));
    }
    let pgs = completion("player_game_summary", 3, CompletionStatus::Success, "pgs-1");
    assert!(matches!(
        o.on_completion(&pgs).await.unwrap(),
        Outcome::Pending {
            state: TriggerState::Waiting,
            completed_count: 3,
            ..
        }
    ));
    // The last critical makes the date ready (2 critical + 2 optional of 5);
    // its publish fails.
    let upgc = completion(
        "upcoming_player_game_context",
        3,
        CompletionStatus::Success,
        "upgc-1",
    );
    let err = o.on_completion(&upgc).await.unwrap_err();
    assert!(
        matches!(err, OrchestratorError::Publish { released: true, .. }),
        "{err}"
    );
    assert!(err.is_retryable());
    let doc = o
        .document(Transition::Phase3To4, DATE, Mode::Overnight, "")
        .await
        .unwrap()
        .unwrap();
    assert!(!doc.triggered, "_triggered only after a successful publish");
    assert!(!doc.trigger_pending, "the claim was released");
    assert!(doc.trigger_claim_id.is_none());
    assert!(
        doc.last_publish_error
            .as_deref()
            .unwrap()
            .contains("injected")
    );
    assert_eq!(doc.completed_count, 4);
    assert!(b.triggers(Transition::Phase3To4).await.is_empty());

    // The redelivered event (a duplicate: nothing new to record) fires.
    let out = o.on_completion(&upgc).await.unwrap();
    let Outcome::Fired(f) = out else {
        panic!("expected the retry to fire, got {out:?}")
    };
    assert_eq!(f.reason, TriggerReason::CriticalAndShare);
    // Every further event, new or old, leaves it at one message.
    let late = completion(
        "upcoming_team_game_context",
        3,
        CompletionStatus::Success,
        "utgc-1",
    );
    for event in [&late, &upgc, &pgs] {
        assert!(matches!(
            o.on_completion(event).await.unwrap(),
            Outcome::Pending {
                state: TriggerState::Triggered,
                ..
            }
        ));
    }
    let messages = b.triggers(Transition::Phase3To4).await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].0.message_id, f.message_id);
    let doc = o
        .document(Transition::Phase3To4, DATE, Mode::Overnight, "")
        .await
        .unwrap()
        .unwrap();
    assert!(doc.triggered);
    assert!(doc.last_publish_error.is_none());
    assert_eq!(doc.completed_count, 5, "the late run is still recorded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redelivering_every_event_after_the_trigger_changes_nothing() {
    let b = Backends::open();
    let clock = Arc::new(ManualClock::new(morning()));
    let o = orchestrator(b.state.clone(), b.bus.clone(), clock.clone());
    b.prepare(&o).await;

    // Incremental phase-2 runs; the schedule (the one critical processor)
    // last, so the date fires on it with all seven expected done (the
    // scoreboard, per-game box scores and injury report changed nothing).
    let runs = [
        ("player_props", vec!["lebronjames", "stephencurry"]),
        ("player_boxscores", vec!["stephencurry", "nikolajokic"]),
        ("team_boxscores", vec!["DEN"]),
        ("scoreboard", vec![]),
        ("boxscore_traditional", vec![]),
        ("injury_report", vec![]),
        ("schedule", vec![]),
    ];
    let events: Vec<ProcessorCompletion> = runs
        .iter()
        .map(|(p, entities)| {
            let mut c = completion(p, 2, CompletionStatus::Success, &format!("{p}-exec"));
            c.is_incremental = true;
            c.entities_changed = entities.iter().map(|s| s.to_string()).collect();
            c
        })
        .collect();
    let mut outcomes = Vec::new();
    for e in &events {
        clock.advance(chrono::Duration::seconds(30));
        outcomes.push(o.on_completion(e).await.unwrap());
    }
    let f = fired(&outcomes);
    assert_eq!(f.len(), 1);
    assert!(
        matches!(outcomes[6], Outcome::Fired(_)),
        "the last event fires"
    );
    assert_eq!(f[0].reason, TriggerReason::AllExpected);
    let msg = &f[0].message;
    assert!(msg.is_incremental);
    assert_eq!(
        msg.entities_changed,
        ["DEN", "lebronjames", "nikolajokic", "stephencurry"],
        "sorted union of the runs' entities"
    );
    assert_eq!(msg.processors.len(), 7);
    assert_eq!(msg.processors["schedule"].execution_id, "schedule-exec");
    assert_eq!(msg.correlation_id, "corr-1");

    let before = b.raw_doc(Transition::Phase2To3, Mode::Overnight).await;
    clock.advance(chrono::Duration::hours(1));
    for e in events.iter().rev() {
        let out = o.on_completion(e).await.unwrap();
        assert!(
            matches!(
                out,
                Outcome::Pending {
                    new: false,
                    state: TriggerState::Triggered,
                    ..
                }
            ),
            "{out:?}"
        );
    }
    let after = b.raw_doc(Transition::Phase2To3, Mode::Overnight).await;
    assert_eq!(before, after, "state unchanged, not even _last_update");
    assert_eq!(b.triggers(Transition::Phase2To3).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_run_among_incremental_ones_asks_for_the_whole_date() {
    let b = Backends::open();
    let clock = Arc::new(ManualClock::new(morning()));
    let o = orchestrator(b.state.clone(), b.bus.clone(), clock);
    b.prepare(&o).await;
    let mut last = None;
    for (i, p) in PHASE3.iter().enumerate() {
        let mut c = completion(p, 3, CompletionStatus::Success, &format!("{p}-x"));
        c.is_incremental = i != 0;
        c.entities_changed = if i == 0 {
            vec![]
        } else {
            vec![format!("player{i}")]
        };
        last = Some(o.on_completion(&c).await.unwrap());
    }
    let Some(Outcome::Fired(f)) = last else {
        panic!("the fifth event fires: {last:?}")
    };
    assert!(!f.message.is_incremental);
    assert!(f.message.entities_changed.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_claim_is_taken_over_and_a_live_one_is_not() {
    let b = Backends::open();
    let clock = Arc::new(ManualClock::new(morning()));
    let o = orchestrator(b.state.clone(), b.bus.clone(), clock.clone())
        .with_claim_timeout(Duration::from_secs(300));
    b.prepare(&o).await;
    for p in &PHASE3[..4] {
        o.on_completion(&completion(p, 3, CompletionStatus::Success, p))
            .await
            .unwrap();
    }
    // Simulate a claimer that crashed after claiming (before publishing).
    b.state
        .transaction(
            Transition::Phase3To4.collection(),
            &CompletionDoc::id(DATE, Mode::Overnight, ""),
            &mut |current| {
                let mut doc: CompletionDoc =
                    serde_json::from_value(current.unwrap().clone()).unwrap();
                doc.trigger_pending = true;
                doc.trigger_claim_id = Some("crashed-claimer".into());
                doc.trigger_pending_at = Some(morning());
                TxDecision::Put(serde_json::to_value(doc).unwrap())
            },
        )
        .await
        .unwrap();
    let last = completion(
        "upcoming_player_game_context",
        3,
        CompletionStatus::Success,
        "u",
    );
    clock.advance(chrono::Duration::seconds(299));
    assert!(matches!(
        o.on_completion(&last).await.unwrap(),
        Outcome::Pending {
            state: TriggerState::ClaimedElsewhere,
            new: true,
            ..
        }
    ));
    assert!(b.triggers(Transition::Phase3To4).await.is_empty());
    clock.advance(chrono::Duration::seconds(1));
    let out = o.on_completion(&last).await.unwrap();
    let Outcome::Fired(f) = out else {
        panic!("the stale claim is taken over: {out:?}")
    };
    assert_ne!(f.message.claim_id, "crashed-claimer");
    assert_eq!(b.triggers(Transition::Phase3To4).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_timeouts_fires_phase5_when_its_tier_is_reached() {
    let b = Backends::open();
    let t0 = morning();
    let clock = Arc::new(ManualClock::new(t0));
    let o = orchestrator(b.state.clone(), b.bus.clone(), clock.clone());
    b.prepare(&o).await;
    // Four of five, the critical ml_feature_store missing.
    for p in &PHASE4[..4] {
        let out = o
            .on_completion(&completion(p, 4, CompletionStatus::Success, p))
            .await
            .unwrap();
        assert!(
            matches!(
                out,
                Outcome::Pending {
                    state: TriggerState::Waiting,
                    ..
                }
            ),
            "{out:?}"
        );
    }
    let sweep = o
        .check_timeouts(t0 + chrono::Duration::seconds(3599))
        .await
        .unwrap();
    assert!(sweep.fired.is_empty() && sweep.failed.is_empty());
    assert!(b.triggers(Transition::Phase4To5).await.is_empty());

    let sweep = o
        .check_timeouts(t0 + chrono::Duration::hours(1))
        .await
        .unwrap();
    assert!(sweep.failed.is_empty(), "{:?}", sweep.failed);
    assert_eq!(sweep.fired.len(), 1);
    assert!(matches!(
        sweep.fired[0].reason,
        TriggerReason::Timeout(TimeoutTier::Tier { min_done: 4, .. })
    ));
    let messages = b.triggers(Transition::Phase4To5).await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].1.phase, 5);
    assert!(messages[0].1.reason.starts_with("timeout_tier"));

    // Later sweeps and the late completion fire nothing more.
    let sweep = o
        .check_timeouts(t0 + chrono::Duration::hours(5))
        .await
        .unwrap();
    assert!(sweep.fired.is_empty());
    clock.set(t0 + chrono::Duration::hours(2));
    assert!(matches!(
        o.on_completion(&completion(
            "ml_feature_store",
            4,
            CompletionStatus::Success,
            "m"
        ))
        .await
        .unwrap(),
        Outcome::Pending {
            state: TriggerState::Triggered,
            ..
        }
    ));
    assert!(b.triggers(Transition::Phase4To5).await.is_empty());
    let doc = o
        .document(Transition::Phase4To5, DATE, Mode::Overnight, "")
        .await
        .unwrap()
        .unwrap();
    assert!(doc.triggered);
    assert_eq!(doc.first_completion_at, Some(t0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mode_follows_the_eastern_date_of_the_injected_clock() {
    let b = Backends::open();
    // 22:30 ET on 2025-11-05, already 2025-11-06 in UTC.
    let clock = Arc::new(ManualClock::new(at("2025-11-06T03:30:00Z")));
    let o = orchestrator(b.state.clone(), b.bus.clone(), clock);
    b.prepare(&o).await;
    let mode_of = |out: Outcome| match out {
        Outcome::Pending { key, .. } => key.mode,
        Outcome::Fired(f) => f.key.mode,
        other => panic!("{other:?}"),
    };
    let mut c = completion(
        "upcoming_team_game_context",
        3,
        CompletionStatus::Success,
        "a",
    );
    c.game_date = "2025-11-05".into();
    assert_eq!(mode_of(o.on_completion(&c).await.unwrap()), Mode::SameDay);
    c.game_date = "2025-11-04".into();
    assert_eq!(mode_of(o.on_completion(&c).await.unwrap()), Mode::Overnight);
    c.game_date = "2025-11-06".into();
    assert_eq!(mode_of(o.on_completion(&c).await.unwrap()), Mode::Tomorrow);
    c.mode = "backfill".into();
    assert_eq!(mode_of(o.on_completion(&c).await.unwrap()), Mode::Backfill);
    // Each (date, mode) has its own document.
    let ids: Vec<String> = b
        .state
        .list(Transition::Phase3To4.collection(), "")
        .await
        .unwrap()
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(
        ids,
        [
            "2025-11-04_overnight",
            "2025-11-05_same_day",
            "2025-11-06_backfill",
            "2025-11-06_tomorrow"
        ]
    );

    // Not ours: phase 5, an untracked processor. Broken: no execution id.
    let mut p5 = c.clone();
    p5.phase = 5;
    assert!(matches!(
        o.on_completion(&p5).await.unwrap(),
        Outcome::Ignored { .. }
    ));
    let mut other = c.clone();
    other.processor = "injury_report".into();
    assert!(matches!(
        o.on_completion(&other).await.unwrap(),
        Outcome::Ignored { .. }
    ));
    let mut broken = c.clone();
    broken.execution_id.clear();
    let err = o.on_completion(&broken).await.unwrap_err();
    assert!(matches!(err, OrchestratorError::BadEvent(_)) && !err.is_retryable());
    let mut bad_mode = c;
    bad_mode.mode = "nightly".into();
    assert!(matches!(
        o.on_completion(&bad_mode).await,
        Err(OrchestratorError::BadEvent(_))
    ));
}

/// One firing per (date, mode, round): a later invocation of the same date
/// (a new `round_id`) is a document of its own and fires again, once; its
/// duplicates and those of the earlier round change nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_round_of_a_date_fires_exactly_once() {
    let b = Backends::open();
    let clock = Arc::new(ManualClock::new(morning()));
    let o = orchestrator(b.state.clone(), b.bus.clone(), clock.clone());
    b.prepare(&o).await;
    let round = |round_id: &str| -> Vec<ProcessorCompletion> {
        PHASE3
            .iter()
            .map(|p| {
                let mut c = completion(p, 3, CompletionStatus::Success, &format!("{p}-{round_id}"));
                c.round_id = round_id.to_string();
                c
            })
            .collect()
    };
    let (first, second) = (round("daily-1"), round("rerun-2"));
    let mut outcomes = Vec::new();
    for e in &first {
        outcomes.push(o.on_completion(e).await.unwrap());
    }
    let f1 = fired(&outcomes);
    assert_eq!(f1.len(), 1);
    assert_eq!(f1[0].key.round_id, "daily-1");
    assert_eq!(f1[0].message.round_id, "daily-1");
    let (f1_id, f1_claim) = (f1[0].message_id.clone(), f1[0].message.claim_id.clone());

    clock.advance(chrono::Duration::minutes(30));
    // The first round's events again (all duplicates), interleaved with the
    // second round's: only the second round's last event fires.
    let mut outcomes = Vec::new();
    for (old, new) in first.iter().zip(&second) {
        let out = o.on_completion(old).await.unwrap();
        assert!(
            matches!(
                out,
                Outcome::Pending {
                    new: false,
                    state: TriggerState::Triggered,
                    ..
                }
            ),
            "{out:?}"
        );
        outcomes.push(o.on_completion(new).await.unwrap());
    }
    for e in &second {
        outcomes.push(o.on_completion(e).await.unwrap());
    }
    let f2 = fired(&outcomes);
    assert_eq!(f2.len(), 1, "the second round fires once");
    assert!(matches!(outcomes[4], Outcome::Fired(_)));
    assert_eq!(f2[0].message.round_id, "rerun-2");
    assert_ne!(f2[0].message.claim_id, f1_claim);

    let messages = b.triggers(Transition::Phase3To4).await;
    let rounds: Vec<(&str, &str, &str)> = messages
        .iter()
        .map(|(d, m)| {
            (
                m.round_id.as_str(),
                d.attributes["round_id"].as_str(),
                d.message_id.as_str(),
            )
        })
        .collect();
    assert_eq!(
        rounds,
        [
            ("daily-1", "daily-1", f1_id.as_str()),
            ("rerun-2", "rerun-2", f2[0].message_id.as_str())
        ]
    );
    // Two documents, each with its round, each triggered once.
    let ids: Vec<String> = b
        .state
        .list(Transition::Phase3To4.collection(), "")
        .await
        .unwrap()
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(
        ids,
        [
            "2025-11-04_overnight_daily-1",
            "2025-11-04_overnight_rerun-2"
        ]
    );
    for (round_id, message_id) in [("daily-1", &f1_id), ("rerun-2", &f2[0].message_id)] {
        let doc = o
            .document(Transition::Phase3To4, DATE, Mode::Overnight, round_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(doc.round_id, round_id);
        assert!(doc.triggered);
        assert_eq!(doc.trigger_message_id.as_ref(), Some(message_id));
        assert_eq!(doc.completed_count, 5);
        for p in PHASE3 {
            assert_eq!(doc.processors[p].execution_ids, [format!("{p}-{round_id}")]);
        }
        let raw = b
            .state
            .get(
                Transition::Phase3To4.collection(),
                &CompletionDoc::id(DATE, Mode::Overnight, round_id),
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(raw["_round_id"], round_id);
    }
    assert!(
        o.document(Transition::Phase3To4, DATE, Mode::Overnight, "")
            .await
            .unwrap()
            .is_none(),
        "the empty round is a round of its own and saw nothing"
    );
}

/// A smart-skipped run (SKIPPED, `up_to_date`) is done, for a critical
/// processor too; a skip without it is not; both are stored with their
/// reason, and a later failed retry does not undo the up-to-date run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_up_to_date_skip_counts_as_done_and_another_skip_does_not() {
    let b = Backends::open();
    let clock = Arc::new(ManualClock::new(morning()));
    let o = orchestrator(b.state.clone(), b.bus.clone(), clock);
    b.prepare(&o).await;
    let skip = |p: &str, exec: &str, up_to_date: bool, why: &str| {
        let mut c = completion(p, 3, CompletionStatus::Skipped, exec);
        c.up_to_date = up_to_date;
        c.skip_reason = why.to_string();
        c.record_count = 0;
        c
    };
    // Three optional ones: two successes and an up-to-date skip.
    for p in &PHASE3[..2] {
        o.on_completion(&completion(p, 3, CompletionStatus::Success, p))
            .await
            .unwrap();
    }
    let out = o
        .on_completion(&skip(PHASE3[3], "utgc-skip", true, "inputs unchanged"))
        .await
        .unwrap();
    assert!(
        matches!(
            out,
            Outcome::Pending {
                new: true,
                completed_count: 3,
                state: TriggerState::Waiting,
                ..
            }
        ),
        "{out:?}"
    );
    // A critical one skipped because its circuit is open: not done.
    let out = o
        .on_completion(&skip(
            "player_game_summary",
            "pgs-open",
            false,
            "circuit open",
        ))
        .await
        .unwrap();
    assert!(
        matches!(
            out,
            Outcome::Pending {
                completed_count: 3,
                state: TriggerState::Waiting,
                ..
            }
        ),
        "{out:?}"
    );
    // The stray flag on a failed run changes nothing either.
    let mut failed = completion(
        "upcoming_player_game_context",
        3,
        CompletionStatus::Failed,
        "upgc-failed",
    );
    failed.up_to_date = true;
    assert!(matches!(
        o.on_completion(&failed).await.unwrap(),
        Outcome::Pending {
            completed_count: 3,
            ..
        }
    ));
    let doc = o
        .document(Transition::Phase3To4, DATE, Mode::Overnight, "")
        .await
        .unwrap()
        .unwrap();
    let pgs = &doc.processors["player_game_summary"];
    assert_eq!(
        (
            pgs.status.as_str(),
            pgs.up_to_date,
            pgs.skip_reason.as_str()
        ),
        ("skipped", false, "circuit open")
    );
    let upgc = &doc.processors["upcoming_player_game_context"];
    assert_eq!(
        (upgc.status.as_str(), upgc.up_to_date),
        ("failed", false),
        "up_to_date is only recorded on a skip"
    );

    // Both up to date, the critical player context last: the date fires
    // on it, all five done.
    o.on_completion(&skip(
        "player_game_summary",
        "pgs-skip",
        true,
        "inputs unchanged",
    ))
    .await
    .unwrap();
    let out = o
        .on_completion(&skip(
            "upcoming_player_game_context",
            "upgc-skip",
            true,
            "inputs unchanged",
        ))
        .await
        .unwrap();
    let Outcome::Fired(f) = out else {
        panic!("an up-to-date critical processor is done: {out:?}")
    };
    assert_eq!(f.reason, TriggerReason::AllExpected);
    let msg = &f.message;
    assert_eq!(msg.processors.len(), 5);
    let p = &msg.processors["player_game_summary"];
    assert_eq!(
        (
            p.status.as_str(),
            p.up_to_date,
            p.execution_id.as_str(),
            p.record_count
        ),
        ("skipped", true, "pgs-skip", 0)
    );
    assert!(!msg.processors["team_offense_game_summary"].up_to_date);

    // A failed retry after the up-to-date run does not undo it.
    o.on_completion(&completion(
        "player_game_summary",
        3,
        CompletionStatus::Failed,
        "pgs-retry",
    ))
    .await
    .unwrap();
    let raw = b.raw_doc(Transition::Phase3To4, Mode::Overnight).await;
    let entry = &raw["player_game_summary"];
    assert_eq!(entry["status"], "skipped");
    assert_eq!(entry["up_to_date"], true);
    assert_eq!(entry["skip_reason"], "inputs unchanged");
    assert_eq!(entry["execution_id"], "pgs-skip");
    assert_eq!(
        entry["execution_ids"],
        serde_json::json!(["pgs-open", "pgs-skip", "pgs-retry"])
    );
    assert_eq!(raw["_completed_count"], 5);
    assert_eq!(raw["_triggered"], true);
    assert_eq!(b.triggers(Transition::Phase3To4).await.len(), 1);
}
