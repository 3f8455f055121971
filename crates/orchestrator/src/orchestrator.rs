//! Completion events in, one downstream trigger per (transition, date, mode)
//! out. See the crate README for the protocol.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use propcast_core::date::{eastern_date, parse_game_date};
use propcast_core::{Phase, UnknownPhase};
use propcast_platform::{
    DeadLetterError, EventBus, EventBusError, StateError, StateStore, TxDecision,
};
use propcast_proto::v1::{CompletionStatus, ProcessorCompletion};
use tracing::Instrument;

use crate::clock::{Clock, SystemClock};
use crate::document::{CompletionDoc, ProcessorEntry};
use crate::mode::{Mode, UnknownMode};
use crate::transition::{Transition, TransitionConfig, TriggerReason};
use crate::trigger::{self, PhaseTrigger};

/// How long a claim may stay pending before another caller may take it
/// over (the claimer is presumed crashed between claim and mark).
pub const DEFAULT_CLAIM_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// Attempts of the mark transaction after a successful publish.
const MARK_ATTEMPTS: u32 = 3;

/// Why a completion event can never be recorded: each names the field at
/// fault (see [`BadCompletion::field`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadCompletion {
    #[error("not a ProcessorCompletion: {0}")]
    Undecodable(String),
    #[error("phase: {0}")]
    Phase(#[from] UnknownPhase),
    #[error("processor: empty")]
    EmptyProcessor,
    #[error("{processor}: execution_id: empty")]
    EmptyExecutionId { processor: String },
    #[error("{processor}: game_date: {message}")]
    GameDate { processor: String, message: String },
    #[error("{processor}: mode: {source}")]
    Mode {
        processor: String,
        source: UnknownMode,
    },
    #[error("{processor}: status: {value} is not a completion status")]
    Status { processor: String, value: i32 },
}

impl BadCompletion {
    /// The field of `ProcessorCompletion` at fault (`"payload"` when the
    /// bytes are not the message at all).
    pub fn field(&self) -> &'static str {
        match self {
            BadCompletion::Undecodable(_) => "payload",
            BadCompletion::Phase(_) => "phase",
            BadCompletion::EmptyProcessor => "processor",
            BadCompletion::EmptyExecutionId { .. } => "execution_id",
            BadCompletion::GameDate { .. } => "game_date",
            BadCompletion::Mode { .. } => "mode",
            BadCompletion::Status { .. } => "status",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OrchestratorError {
    /// The event cannot be processed, now or ever (ack it, dead-letter it).
    #[error("bad completion event: {0}")]
    BadEvent(#[from] BadCompletion),
    #[error("state document {collection}/{id} is not a completion document: {message}")]
    Corrupt {
        collection: String,
        id: String,
        message: String,
    },
    #[error(transparent)]
    State(#[from] StateError),
    /// The downstream publish failed. The claim was released (`released`),
    /// or, when releasing failed too, goes stale after the claim timeout;
    /// either way a retry of the event may fire.
    #[error(
        "publishing the {transition} trigger for {doc_id} failed (claim released: {released}): {source}"
    )]
    Publish {
        transition: Transition,
        doc_id: String,
        released: bool,
        source: EventBusError,
    },
    #[error(transparent)]
    Bus(#[from] EventBusError),
    /// Recording an unreadable message as a dead letter failed.
    #[error(transparent)]
    DeadLetter(#[from] DeadLetterError),
}

impl OrchestratorError {
    /// Whether redelivering the same event (or retrying the call) may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            OrchestratorError::BadEvent(_) | OrchestratorError::Corrupt { .. } => false,
            OrchestratorError::State(e) => e.is_retryable(),
            OrchestratorError::Publish { .. } => true,
            OrchestratorError::Bus(e) => e.is_retryable(),
            OrchestratorError::DeadLetter(e) => e.is_retryable(),
        }
    }
}

/// The state document a decision was made on: one per transition, date,
/// mode and round.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct DocKey {
    pub transition: Transition,
    pub game_date: String,
    pub mode: Mode,
    /// `ProcessorCompletion.round_id`; empty is a round of its own.
    pub round_id: String,
}

impl DocKey {
    pub fn collection(&self) -> &'static str {
        self.transition.collection()
    }
    /// `{game_date}_{mode}`, or `{game_date}_{mode}_{round_id}`.
    pub fn id(&self) -> String {
        CompletionDoc::id(&self.game_date, self.mode, &self.round_id)
    }
}

/// Where a recorded date stands after a call that did not fire it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TriggerState {
    /// Not ready yet.
    Waiting,
    /// Ready, but another caller holds a live claim and is publishing.
    ClaimedElsewhere,
    /// Already fired (published and marked) earlier.
    Triggered,
}

/// A trigger this call published and marked.
#[derive(Debug, Clone, PartialEq)]
pub struct Fired {
    pub key: DocKey,
    pub reason: TriggerReason,
    pub message_id: String,
    pub message: PhaseTrigger,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Not an event any transition tracks (phase 5, an unknown processor).
    Ignored { reason: String },
    /// Recorded (`new`) or a duplicate that changed nothing (`!new`); the
    /// transition did not fire in this call.
    Pending {
        key: DocKey,
        new: bool,
        completed_count: usize,
        state: TriggerState,
    },
    /// This call fired the transition.
    Fired(Box<Fired>),
}

/// Result of a timeout sweep.
#[derive(Debug, Default)]
pub struct TimeoutSweep {
    pub fired: Vec<Fired>,
    /// Documents whose claim or publish failed (retried by the next sweep).
    pub failed: Vec<(String, OrchestratorError)>,
}

/// The three phase transitions over one state store and event bus. Cheap to
/// share (`Arc`); any number of instances, in any number of processes, may
/// run against the same backends.
pub struct Orchestrator {
    state: Arc<dyn StateStore>,
    bus: Arc<dyn EventBus>,
    clock: Arc<dyn Clock>,
    configs: BTreeMap<(Transition, Mode), TransitionConfig>,
    claim_timeout: Duration,
}

impl std::fmt::Debug for Orchestrator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Orchestrator")
            .field("configs", &self.configs)
            .field("claim_timeout", &self.claim_timeout)
            .finish_non_exhaustive()
    }
}

/// What the record-and-claim transaction decided (last invocation wins).
enum Step {
    Corrupt(String),
    Done {
        doc: Box<CompletionDoc>,
        new: bool,
        claimed: Option<TriggerReason>,
        state: TriggerState,
    },
}

impl Orchestrator {
    /// Built-in processor sets, system clock, 5-minute claim timeout.
    pub fn new(state: Arc<dyn StateStore>, bus: Arc<dyn EventBus>) -> Self {
        let configs = Transition::ALL
            .into_iter()
            .flat_map(|t| {
                Mode::ALL
                    .into_iter()
                    .map(move |m| ((t, m), t.default_config(m)))
            })
            .collect();
        Self {
            state,
            bus,
            clock: Arc::new(SystemClock),
            configs,
            claim_timeout: DEFAULT_CLAIM_TIMEOUT,
        }
    }

    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    pub fn with_claim_timeout(mut self, timeout: Duration) -> Self {
        self.claim_timeout = timeout;
        self
    }

    /// Replaces the processor sets of one transition and mode.
    pub fn with_config(
        mut self,
        transition: Transition,
        mode: Mode,
        config: TransitionConfig,
    ) -> Self {
        self.configs.insert((transition, mode), config);
        self
    }

    /// The state store the completion documents (and dead letters) live in.
    pub fn state(&self) -> &Arc<dyn StateStore> {
        &self.state
    }

    /// The event bus the triggers are published on.
    pub fn bus(&self) -> &Arc<dyn EventBus> {
        &self.bus
    }

    pub fn config(&self, transition: Transition, mode: Mode) -> &TransitionConfig {
        &self.configs[&(transition, mode)]
    }

    /// Creates the three trigger topics (idempotent).
    pub async fn ensure_topics(&self) -> Result<(), OrchestratorError> {
        for t in Transition::ALL {
            self.bus.create_topic(t.trigger_topic()).await?;
        }
        Ok(())
    }

    /// The state document of a date, mode and round (`""` for the empty
    /// round), as stored.
    pub async fn document(
        &self,
        transition: Transition,
        game_date: &str,
        mode: Mode,
        round_id: &str,
    ) -> Result<Option<CompletionDoc>, OrchestratorError> {
        let id = CompletionDoc::id(game_date, mode, round_id);
        let Some(value) = self.state.get(transition.collection(), &id).await? else {
            return Ok(None);
        };
        parse_doc(transition.collection(), &id, &value).map(Some)
    }

    /// Decodes an event-bus payload and handles it (see [`Self::on_completion`]).
    pub async fn on_payload(&self, data: &[u8]) -> Result<Outcome, OrchestratorError> {
        let event = ProcessorCompletion::decode_from(data)
            .map_err(|e| BadCompletion::Undecodable(e.to_string()))?;
        self.on_completion(&event).await
    }

    /// Records one completion event and fires the transition when this event
    /// makes the date ready. One document, and one firing, per transition,
    /// date, mode and `round_id`: a later invocation of the same date is a
    /// new round. At-least-once delivery is fine: a re-delivered event (same
    /// processor + execution id) changes nothing, but may still fire a ready
    /// date whose earlier publish failed.
    ///
    /// Protocol: (1) one transaction records the run and, when the date is
    /// ready, not triggered and not claimed by a live claim, claims it;
    /// (2) the claimer publishes the trigger; (3) a second transaction marks
    /// `_triggered` — or, when the publish failed, releases the claim.
    ///
    /// Each call is one decision span
    /// ([`propcast_telemetry::ORCHESTRATOR_DECISION`]) with the event's
    /// processor, phase, date, correlation id and round, and the decision
    /// taken ([`Outcome::decision`]); a trigger it fires is published under
    /// it, so the phase it starts continues the trace.
    pub async fn on_completion(
        &self,
        event: &ProcessorCompletion,
    ) -> Result<Outcome, OrchestratorError> {
        let span = tracing::info_span!(
            target: propcast_telemetry::TARGET,
            propcast_telemetry::ORCHESTRATOR_DECISION,
            processor = %event.processor,
            phase = event.phase,
            game_date = %event.game_date,
            correlation_id = %event.correlation_id,
            round_id = %event.round_id,
            transition = tracing::field::Empty,
            mode = tracing::field::Empty,
            decision = tracing::field::Empty,
        );
        let outcome = self.decide(event).instrument(span.clone()).await;
        if !span.is_disabled() {
            let decision = match &outcome {
                Ok(outcome) => outcome.decision(),
                Err(OrchestratorError::BadEvent(_)) => "bad_event",
                Err(_) => "error",
            };
            span.record("decision", decision);
            if let Ok(Outcome::Fired(fired)) = &outcome {
                record_key(&span, &fired.key);
            } else if let Ok(Outcome::Pending { key, .. }) = &outcome {
                record_key(&span, key);
            }
        }
        outcome
    }

    /// [`Self::on_completion`] inside its span.
    async fn decide(&self, event: &ProcessorCompletion) -> Result<Outcome, OrchestratorError> {
        let phase = Phase::try_from(event.phase).map_err(BadCompletion::Phase)?;
        let Some(transition) = Transition::from_upstream_phase(phase) else {
            return Ok(Outcome::Ignored {
                reason: format!("phase {phase} has no outgoing transition"),
            });
        };
        if event.processor.trim().is_empty() {
            return Err(BadCompletion::EmptyProcessor.into());
        }
        let processor = || event.processor.clone();
        if event.execution_id.trim().is_empty() {
            return Err(BadCompletion::EmptyExecutionId {
                processor: processor(),
            }
            .into());
        }
        let game_date = parse_game_date(&event.game_date).map_err(|e| BadCompletion::GameDate {
            processor: processor(),
            message: e.to_string(),
        })?;
        let now = self.clock.now();
        let mode = Mode::resolve(&event.mode, game_date, eastern_date(now)).map_err(|source| {
            BadCompletion::Mode {
                processor: processor(),
                source,
            }
        })?;
        match CompletionStatus::try_from(event.status) {
            Ok(CompletionStatus::Unspecified) | Err(_) => {
                return Err(BadCompletion::Status {
                    processor: processor(),
                    value: event.status,
                }
                .into());
            }
            Ok(_) => {}
        }
        let config = self.config(transition, mode);
        if !config.tracks(&event.processor) {
            return Ok(Outcome::Ignored {
                reason: format!("{transition} {mode} does not track {}", event.processor),
            });
        }
        let key = DocKey {
            transition,
            game_date: game_date.to_string(),
            mode,
            round_id: event.round_id.clone(),
        };
        let (collection, id) = (key.collection(), key.id());

        // Fast path, no transaction: a re-delivered run of a date that has
        // already fired changes nothing, so a plain read settles it. This
        // keeps a storm of duplicates off the document's write path
        // (Firestore serialises transactions on one document).
        if let Some(value) = self.state.get(collection, &id).await?
            && let Ok(doc) = serde_json::from_value::<CompletionDoc>(value)
            && doc.triggered
            && doc
                .processors
                .get(&event.processor)
                .is_some_and(|e| e.execution_ids.contains(&event.execution_id))
        {
            return Ok(Outcome::Pending {
                key,
                new: false,
                completed_count: doc.completed_count,
                state: TriggerState::Triggered,
            });
        }

        let claim_id = uuid::Uuid::new_v4().to_string();
        let claim_timeout = self.claim_timeout;

        let mut step = None;
        self.state
            .transaction(collection, &id, &mut |current| {
                let mut doc =
                    match current.map(|v| serde_json::from_value::<CompletionDoc>(v.clone())) {
                        Some(Ok(doc)) => doc,
                        Some(Err(e)) => {
                            step = Some(Step::Corrupt(e.to_string()));
                            return TxDecision::Keep;
                        }
                        None => CompletionDoc {
                            transition: transition.as_str().to_string(),
                            game_date: key.game_date.clone(),
                            mode: mode.as_str().to_string(),
                            round_id: key.round_id.clone(),
                            ..Default::default()
                        },
                    };
                let new = record(&mut doc, config, event, now);
                let (claimed, state) = try_claim(&mut doc, config, now, &claim_id, claim_timeout);
                let decision = if new || claimed.is_some() {
                    doc.last_update = Some(now);
                    TxDecision::Put(serde_json::to_value(&doc).expect("document serialises"))
                } else {
                    TxDecision::Keep
                };
                step = Some(Step::Done {
                    doc: Box::new(doc),
                    new,
                    claimed,
                    state,
                });
                decision
            })
            .await?;

        match step.expect("the transaction ran its function") {
            Step::Corrupt(message) => Err(OrchestratorError::Corrupt {
                collection: collection.to_string(),
                id,
                message,
            }),
            Step::Done {
                doc,
                new,
                claimed: Some(reason),
                ..
            } => {
                tracing::info!(
                    transition = %transition, game_date = %key.game_date, mode = %mode,
                    round_id = %key.round_id, processor = %event.processor, new, reason = %reason, claim_id = %claim_id,
                    "claimed phase trigger"
                );
                self.publish_and_mark(key, &doc, reason, &claim_id, now)
                    .await
                    .map(|f| Outcome::Fired(Box::new(f)))
            }
            Step::Done {
                doc, new, state, ..
            } => {
                tracing::debug!(
                    transition = %transition, game_date = %key.game_date, mode = %mode,
                    processor = %event.processor, execution_id = %event.execution_id,
                    new, completed_count = doc.completed_count, state = ?state,
                    "recorded completion"
                );
                Ok(Outcome::Pending {
                    key,
                    new,
                    completed_count: doc.completed_count,
                    state,
                })
            }
        }
    }

    /// Fires every date whose timeout tier is reached at `now` (transitions
    /// with tiered timeouts only: 4→5 by default), with the same
    /// claim → publish → mark protocol. Call it periodically (e.g. every few
    /// minutes) with the current time.
    pub async fn check_timeouts(
        &self,
        now: DateTime<Utc>,
    ) -> Result<TimeoutSweep, OrchestratorError> {
        let mut sweep = TimeoutSweep::default();
        for transition in Transition::ALL {
            if !Mode::ALL
                .iter()
                .any(|m| self.config(transition, *m).timeouts().is_some())
            {
                continue;
            }
            let collection = transition.collection();
            for (id, value) in self.state.list(collection, "").await? {
                let doc = match parse_doc(collection, &id, &value) {
                    Ok(doc) => doc,
                    Err(e) => {
                        sweep.failed.push((id, e));
                        continue;
                    }
                };
                let Ok(mode) = doc.mode.parse::<Mode>() else {
                    continue;
                };
                let config = self.config(transition, mode);
                if config.timeouts().is_none()
                    || doc.triggered
                    || doc.claim_is_live(now, self.claim_timeout)
                    || config
                        .evaluate_at(&doc.effective_statuses(), doc.first_completion_at, now)
                        .is_none()
                {
                    continue;
                }
                let key = DocKey {
                    transition,
                    game_date: doc.game_date.clone(),
                    mode,
                    round_id: doc.round_id.clone(),
                };
                match self.claim_existing(&key, config, now).await {
                    Ok(Some((doc, reason, claim_id))) => {
                        let span = tracing::info_span!(
                            target: propcast_telemetry::TARGET,
                            propcast_telemetry::ORCHESTRATOR_DECISION,
                            game_date = %key.game_date,
                            correlation_id = doc
                                .processors
                                .values()
                                .map(|e| e.correlation_id.as_str())
                                .next()
                                .unwrap_or(""),
                            round_id = %key.round_id,
                            transition = key.transition.as_str(),
                            mode = key.mode.as_str(),
                            decision = "fire_by_timeout",
                        );
                        match self
                            .publish_and_mark(key, &doc, reason, &claim_id, now)
                            .instrument(span)
                            .await
                        {
                            Ok(fired) => sweep.fired.push(fired),
                            Err(e) => sweep.failed.push((id, e)),
                        }
                    }
                    Ok(None) => {}
                    Err(e) => sweep.failed.push((id, e)),
                }
            }
        }
        Ok(sweep)
    }

    /// Claims an existing document when it is (still) ready at `now`.
    async fn claim_existing(
        &self,
        key: &DocKey,
        config: &TransitionConfig,
        now: DateTime<Utc>,
    ) -> Result<Option<(CompletionDoc, TriggerReason, String)>, OrchestratorError> {
        let claim_id = uuid::Uuid::new_v4().to_string();
        let claim_timeout = self.claim_timeout;
        let mut step = None;
        self.state
            .transaction(key.collection(), &key.id(), &mut |current| {
                let Some(value) = current else {
                    step = None;
                    return TxDecision::Keep;
                };
                let mut doc = match serde_json::from_value::<CompletionDoc>(value.clone()) {
                    Ok(doc) => doc,
                    Err(e) => {
                        step = Some(Step::Corrupt(e.to_string()));
                        return TxDecision::Keep;
                    }
                };
                let (claimed, state) = try_claim(&mut doc, config, now, &claim_id, claim_timeout);
                let decision = if claimed.is_some() {
                    doc.last_update = Some(now);
                    TxDecision::Put(serde_json::to_value(&doc).expect("document serialises"))
                } else {
                    TxDecision::Keep
                };
                step = Some(Step::Done {
                    doc: Box::new(doc),
                    new: false,
                    claimed,
                    state,
                });
                decision
            })
            .await?;
        match step {
            None => Ok(None),
            Some(Step::Corrupt(message)) => Err(OrchestratorError::Corrupt {
                collection: key.collection().to_string(),
                id: key.id(),
                message,
            }),
            Some(Step::Done { doc, claimed, .. }) => {
                Ok(claimed.map(|reason| (*doc, reason, claim_id)))
            }
        }
    }

    /// Publishes the trigger of a claimed document, then marks it triggered;
    /// releases the claim when the publish fails.
    async fn publish_and_mark(
        &self,
        key: DocKey,
        doc: &CompletionDoc,
        reason: TriggerReason,
        claim_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Fired, OrchestratorError> {
        let config = self.config(key.transition, key.mode);
        let message = trigger::from_doc(
            doc,
            config,
            key.transition.downstream_phase(),
            claim_id,
            &reason.to_string(),
            now,
        );
        let attributes = BTreeMap::from([
            (
                "transition".to_string(),
                key.transition.as_str().to_string(),
            ),
            ("game_date".to_string(), key.game_date.clone()),
            ("mode".to_string(), key.mode.as_str().to_string()),
            ("round_id".to_string(), key.round_id.clone()),
            ("claim_id".to_string(), claim_id.to_string()),
            (
                propcast_platform::CORRELATION_ATTRIBUTE.to_string(),
                message.correlation_id.clone(),
            ),
        ]);
        let (collection, id) = (key.collection(), key.id());
        let published = self
            .bus
            .publish(
                key.transition.trigger_topic(),
                trigger::encode(&message),
                attributes,
            )
            .await;
        let message_id = match published {
            Ok(message_id) => message_id,
            Err(source) => {
                let error_text = source.to_string();
                let released = self
                    .state
                    .transaction(collection, &id, &mut |current| {
                        let Some(Ok(mut doc)) =
                            current.map(|v| serde_json::from_value::<CompletionDoc>(v.clone()))
                        else {
                            return TxDecision::Keep;
                        };
                        if doc.triggered || doc.trigger_claim_id.as_deref() != Some(claim_id) {
                            return TxDecision::Keep;
                        }
                        doc.trigger_pending = false;
                        doc.trigger_claim_id = None;
                        doc.trigger_pending_at = None;
                        doc.trigger_reason = None;
                        doc.last_publish_error = Some(error_text.clone());
                        doc.last_update = Some(now);
                        TxDecision::Put(serde_json::to_value(&doc).expect("document serialises"))
                    })
                    .await;
                if let Err(e) = &released {
                    tracing::error!(collection, id = %id, error = %e, "cannot release trigger claim; it goes stale");
                }
                tracing::warn!(
                    transition = %key.transition, game_date = %key.game_date, mode = %key.mode,
                    error = %source, "trigger publish failed, claim released"
                );
                return Err(OrchestratorError::Publish {
                    transition: key.transition,
                    doc_id: id,
                    released: released.is_ok(),
                    source,
                });
            }
        };

        let mut attempt = 1;
        loop {
            let mut already = false;
            let marked = self
                .state
                .transaction(collection, &id, &mut |current| {
                    let mut doc =
                        match current.map(|v| serde_json::from_value::<CompletionDoc>(v.clone())) {
                            Some(Ok(doc)) => doc,
                            _ => return TxDecision::Keep,
                        };
                    already = doc.triggered;
                    if already {
                        return TxDecision::Keep;
                    }
                    doc.triggered = true;
                    doc.triggered_at = Some(now);
                    doc.trigger_message_id = Some(message_id.clone());
                    doc.trigger_reason = Some(reason.to_string());
                    doc.trigger_pending = false;
                    doc.trigger_claim_id = None;
                    doc.trigger_pending_at = None;
                    doc.last_publish_error = None;
                    doc.last_update = Some(now);
                    TxDecision::Put(serde_json::to_value(&doc).expect("document serialises"))
                })
                .await;
            match marked {
                Ok(_) => {
                    if already {
                        // Only after a stale-claim takeover raced a slow claimer.
                        tracing::warn!(
                            transition = %key.transition, game_date = %key.game_date, mode = %key.mode,
                            "trigger was already marked by another claimer; this publish is a duplicate"
                        );
                    } else {
                        tracing::info!(
                            transition = %key.transition, game_date = %key.game_date, mode = %key.mode,
                            reason = %reason, message_id = %message_id, "phase transition fired"
                        );
                    }
                    return Ok(Fired {
                        key,
                        reason,
                        message_id,
                        message,
                    });
                }
                Err(e) if e.is_retryable() && attempt < MARK_ATTEMPTS => {
                    tracing::warn!(attempt, error = %e, "marking trigger failed, retrying");
                    attempt += 1;
                }
                Err(e) => {
                    tracing::error!(
                        collection, id = %id, error = %e,
                        "trigger published but not marked; the claim goes stale and may be re-published"
                    );
                    return Err(e.into());
                }
            }
        }
    }
}

/// The transition and mode of a decision, once known.
fn record_key(span: &tracing::Span, key: &DocKey) {
    span.record("transition", key.transition.as_str());
    span.record("mode", key.mode.as_str());
}

impl Outcome {
    /// The decision in one word, as its span records it: `fire`,
    /// `not_yet`, `already_fired`, `claimed_elsewhere` or `ignored`.
    pub fn decision(&self) -> &'static str {
        match self {
            Outcome::Fired(_) => "fire",
            Outcome::Ignored { .. } => "ignored",
            Outcome::Pending { state, .. } => match state {
                TriggerState::Waiting => "not_yet",
                TriggerState::ClaimedElsewhere => "claimed_elsewhere",
                TriggerState::Triggered => "already_fired",
            },
        }
    }
}

fn parse_doc(
    collection: &str,
    id: &str,
    value: &serde_json::Value,
) -> Result<CompletionDoc, OrchestratorError> {
    serde_json::from_value(value.clone()).map_err(|e| OrchestratorError::Corrupt {
        collection: collection.to_string(),
        id: id.to_string(),
        message: e.to_string(),
    })
}

/// Records `event` in `doc`; false when its execution was already seen.
/// A counted entry is never replaced by a run that does not count (a
/// failed retry does not undo the output a successful run wrote).
fn record(
    doc: &mut CompletionDoc,
    config: &TransitionConfig,
    event: &ProcessorCompletion,
    now: DateTime<Utc>,
) -> bool {
    let status = event.status();
    // Only a skip carries these; a producer's stray flag on another status
    // is not recorded (and would not count anyway).
    let skipped = status == CompletionStatus::Skipped;
    let up_to_date = skipped && event.up_to_date;
    let fresh = ProcessorEntry {
        status: status.as_str().to_string(),
        completed_at: now,
        correlation_id: event.correlation_id.clone(),
        execution_id: event.execution_id.clone(),
        record_count: event.record_count,
        entities_changed: event.entities_changed.clone(),
        is_incremental: event.is_incremental,
        up_to_date,
        skip_reason: if skipped {
            event.skip_reason.clone()
        } else {
            String::new()
        },
        execution_ids: vec![event.execution_id.clone()],
    };
    match doc.processors.get_mut(&event.processor) {
        Some(entry) if entry.execution_ids.contains(&event.execution_id) => return false,
        Some(entry) => {
            let mut seen = std::mem::take(&mut entry.execution_ids);
            seen.push(event.execution_id.clone());
            let keep_old = config.counts(&event.processor, entry.effective_status())
                && !config.counts_run(&event.processor, status, up_to_date);
            if !keep_old {
                *entry = fresh;
            }
            entry.execution_ids = seen;
        }
        None => {
            doc.processors.insert(event.processor.clone(), fresh);
        }
    }
    doc.first_completion_at.get_or_insert(now);
    doc.completed_count = config.done_count(&doc.effective_statuses());
    true
}

/// Claims `doc` for `claim_id` when it is ready, not triggered and holds no
/// live claim (a stale one is taken over).
fn try_claim(
    doc: &mut CompletionDoc,
    config: &TransitionConfig,
    now: DateTime<Utc>,
    claim_id: &str,
    claim_timeout: Duration,
) -> (Option<TriggerReason>, TriggerState) {
    if doc.triggered {
        return (None, TriggerState::Triggered);
    }
    let reason = config.evaluate_at(&doc.effective_statuses(), doc.first_completion_at, now);
    let Some(reason) = reason else {
        return (None, TriggerState::Waiting);
    };
    if doc.claim_is_live(now, claim_timeout) {
        return (None, TriggerState::ClaimedElsewhere);
    }
    if doc.trigger_pending {
        tracing::warn!(
            game_date = %doc.game_date, mode = %doc.mode,
            stale_claim = ?doc.trigger_claim_id, "taking over a stale trigger claim"
        );
    }
    doc.trigger_pending = true;
    doc.trigger_claim_id = Some(claim_id.to_string());
    doc.trigger_pending_at = Some(now);
    doc.trigger_reason = Some(reason.to_string());
    (Some(reason), TriggerState::Waiting)
}
