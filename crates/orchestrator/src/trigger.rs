//! The downstream trigger message a transition publishes once per date,
//! mode and round: the contract's [`PhaseTrigger`] (`proto/propcast/v1/
//! events.proto`), protobuf-encoded on the event bus.

use std::collections::BTreeSet;

use bytes::Bytes;
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use propcast_core::{Phase, UnknownPhase};
pub use propcast_proto::v1::{PhaseTrigger, TriggerUpstream};
use prost::Message;

use crate::document::CompletionDoc;
use crate::mode::{Mode, UnknownMode};
use crate::transition::{Transition, TransitionConfig};

/// A payload that is not a [`PhaseTrigger`].
pub type DecodeError = prost::DecodeError;

/// Builds the message from the claimed document: every counted upstream run
/// (as the trigger rule counts it: success/partial, no_data of an optional
/// processor, an up-to-date skip) in `processors`; `is_incremental` only
/// when every counted run was incremental, `entities_changed` then the
/// sorted union of their entities, else empty (= the whole date).
pub(crate) fn from_doc(
    doc: &CompletionDoc,
    config: &TransitionConfig,
    phase: Phase,
    claim_id: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> PhaseTrigger {
    let counted: Vec<_> = doc
        .processors
        .iter()
        .filter(|(p, e)| config.counts(p, e.effective_status()))
        .collect();
    let is_incremental = !counted.is_empty() && counted.iter().all(|(_, e)| e.is_incremental);
    let entities_changed = if is_incremental {
        counted
            .iter()
            .flat_map(|(_, e)| e.entities_changed.iter().cloned())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    } else {
        Vec::new()
    };
    let correlation_id = counted
        .iter()
        .min_by_key(|(p, e)| (e.completed_at, p.as_str()))
        .map(|(_, e)| e.correlation_id.clone())
        .unwrap_or_default();
    PhaseTrigger {
        transition: doc.transition.clone(),
        phase: phase.into(),
        game_date: doc.game_date.clone(),
        mode: doc.mode.clone(),
        round_id: doc.round_id.clone(),
        reason: reason.to_string(),
        claim_id: claim_id.to_string(),
        triggered_at: now.to_rfc3339_opts(SecondsFormat::Micros, true),
        correlation_id,
        processors: counted
            .iter()
            .map(|(p, e)| {
                (
                    p.to_string(),
                    TriggerUpstream {
                        status: e.status.clone(),
                        execution_id: e.execution_id.clone(),
                        record_count: e.record_count,
                        is_incremental: e.is_incremental,
                        entities_changed: e.entities_changed.clone(),
                        up_to_date: e.up_to_date,
                    },
                )
            })
            .collect(),
        is_incremental,
        entities_changed,
    }
}

/// The event-bus payload (protobuf).
pub fn encode(trigger: &PhaseTrigger) -> Bytes {
    Bytes::from(trigger.encode_to_vec())
}

/// Parses an event-bus payload.
pub fn decode(data: &[u8]) -> Result<PhaseTrigger, DecodeError> {
    PhaseTrigger::decode(data)
}

/// A [`PhaseTrigger`] read at the edge: the fields a phase runner acts on,
/// typed and checked against the topic it came on.
#[derive(Debug, Clone, PartialEq)]
pub struct Trigger {
    /// The transition of the topic the message came on.
    pub transition: Transition,
    /// The phase to run: the transition's downstream phase.
    pub phase: Phase,
    pub game_date: NaiveDate,
    pub mode: Mode,
    /// Non-empty.
    pub round_id: String,
    /// Non-empty.
    pub claim_id: String,
    /// The message as received (upstream runs, entities, correlation id).
    pub message: PhaseTrigger,
}

/// Why a trigger can never be acted on: each names the field at fault
/// (see [`BadTrigger::field`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadTrigger {
    #[error("not a PhaseTrigger: {0}")]
    Undecodable(String),
    #[error("game_date: {value:?} is not a YYYY-MM-DD date")]
    GameDate { value: String },
    #[error("mode: {0}")]
    Mode(#[from] UnknownMode),
    #[error("phase: {0}")]
    Phase(#[from] UnknownPhase),
    #[error("phase: {phase} on {topic}, which triggers phase {expected}")]
    WrongPhase {
        phase: Phase,
        topic: &'static str,
        expected: Phase,
    },
    #[error("round_id: empty")]
    EmptyRound,
    #[error("claim_id: empty")]
    EmptyClaim,
}

impl BadTrigger {
    /// The field of `PhaseTrigger` at fault (`"payload"` when the bytes are
    /// not the message at all).
    pub fn field(&self) -> &'static str {
        match self {
            BadTrigger::Undecodable(_) => "payload",
            BadTrigger::GameDate { .. } => "game_date",
            BadTrigger::Mode(_) => "mode",
            BadTrigger::Phase(_) | BadTrigger::WrongPhase { .. } => "phase",
            BadTrigger::EmptyRound => "round_id",
            BadTrigger::EmptyClaim => "claim_id",
        }
    }
}

impl Trigger {
    /// Reads a payload delivered on `transition`'s trigger topic.
    pub fn read(transition: Transition, data: &[u8]) -> Result<Trigger, BadTrigger> {
        let message = decode(data).map_err(|e| BadTrigger::Undecodable(e.to_string()))?;
        let phase = Phase::try_from(message.phase)?;
        let expected = transition.downstream_phase();
        if phase != expected {
            return Err(BadTrigger::WrongPhase {
                phase,
                topic: transition.trigger_topic(),
                expected,
            });
        }
        let game_date =
            NaiveDate::parse_from_str(&message.game_date, "%Y-%m-%d").map_err(|_| {
                BadTrigger::GameDate {
                    value: message.game_date.clone(),
                }
            })?;
        let mode: Mode = message.mode.parse()?;
        if message.round_id.trim().is_empty() {
            return Err(BadTrigger::EmptyRound);
        }
        if message.claim_id.trim().is_empty() {
            return Err(BadTrigger::EmptyClaim);
        }
        Ok(Trigger {
            transition,
            phase,
            game_date,
            mode,
            round_id: message.round_id.clone(),
            claim_id: message.claim_id.clone(),
            message,
        })
    }
}

/// `triggered_at` as an instant (`None` when it is not RFC 3339).
pub fn triggered_at(trigger: &PhaseTrigger) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(&trigger.triggered_at)
        .ok()
        .map(|t| t.to_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::ProcessorEntry;

    fn entry(status: &str, exec: &str, incremental: bool, entities: &[&str]) -> ProcessorEntry {
        ProcessorEntry {
            status: status.into(),
            completed_at: DateTime::parse_from_rfc3339("2025-11-05T11:00:00Z")
                .unwrap()
                .to_utc(),
            correlation_id: format!("corr-{exec}"),
            execution_id: exec.into(),
            record_count: 7,
            entities_changed: entities.iter().map(|s| s.to_string()).collect(),
            is_incremental: incremental,
            up_to_date: false,
            skip_reason: String::new(),
            execution_ids: vec![exec.into()],
        }
    }

    #[test]
    fn counted_runs_only_round_trip_through_protobuf() {
        let config = Transition::Phase3To4.default_config(Mode::Overnight);
        let mut doc = CompletionDoc {
            transition: "phase3_to_phase4".into(),
            game_date: "2025-11-04".into(),
            mode: "overnight".into(),
            round_id: "round-9".into(),
            ..Default::default()
        };
        doc.processors.insert(
            "player_game_summary".into(),
            entry("success", "pgs", true, &["b", "a"]),
        );
        let mut skip = entry("skipped", "uptodate", true, &[]);
        skip.up_to_date = true;
        skip.skip_reason = "inputs unchanged".into();
        doc.processors
            .insert("upcoming_player_game_context".into(), skip);
        // A skip that is not up to date, and a failure: not counted.
        doc.processors.insert(
            "team_offense_game_summary".into(),
            entry("skipped", "circuit", true, &["z"]),
        );
        doc.processors.insert(
            "team_defense_game_summary".into(),
            entry("failed", "f", true, &["y"]),
        );
        let now = DateTime::parse_from_rfc3339("2025-11-05T12:00:00.5Z")
            .unwrap()
            .to_utc();
        let t = from_doc(
            &doc,
            &config,
            Phase::Precompute,
            "claim-1",
            "critical_and_share",
            now,
        );
        assert_eq!(t.round_id, "round-9");
        assert_eq!(t.phase, 4);
        assert_eq!(t.triggered_at, "2025-11-05T12:00:00.500000Z");
        assert_eq!(triggered_at(&t), Some(now));
        let mut names: Vec<_> = t.processors.keys().cloned().collect();
        names.sort();
        assert_eq!(
            names,
            ["player_game_summary", "upcoming_player_game_context"]
        );
        let up = &t.processors["upcoming_player_game_context"];
        assert_eq!(
            (up.status.as_str(), up.up_to_date, up.execution_id.as_str()),
            ("skipped", true, "uptodate")
        );
        let pgs = &t.processors["player_game_summary"];
        assert_eq!(pgs.entities_changed, ["b", "a"]);
        assert!(pgs.is_incremental && !pgs.up_to_date);
        assert!(t.is_incremental);
        assert_eq!(t.entities_changed, ["a", "b"]);
        assert_eq!(t.correlation_id, "corr-pgs");

        let bytes = encode(&t);
        assert_eq!(decode(&bytes).unwrap(), t);
        // Field 1 announces 5 bytes, 1 follows.
        assert!(decode(&[0x0a, 0x05, b'a']).is_err());
    }
}
