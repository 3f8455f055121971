//! The downstream trigger message a transition publishes once per date and
//! mode. JSON on the event bus: the contract in `proto/` has no trigger
//! message yet (see the crate README).

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::document::CompletionDoc;
use crate::transition::TransitionConfig;

/// One upstream run the trigger was decided on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TriggerProcessor {
    pub status: String,
    pub execution_id: String,
    pub record_count: i64,
}

/// "Start phase N+1 for this date and mode."
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhaseTrigger {
    /// `phase3_to_phase4` etc.
    pub transition: String,
    /// The phase to start.
    pub phase: i32,
    pub game_date: String,
    pub mode: String,
    /// `all_expected`, `critical_and_share`, `timeout_tier…`, `timeout_hard_max`.
    pub reason: String,
    /// Unique per claim; a consumer may use it to drop a re-publish after a
    /// stale-claim takeover (see the crate README).
    pub claim_id: String,
    pub triggered_at: DateTime<Utc>,
    /// Correlation id of the earliest counted upstream completion.
    pub correlation_id: String,
    /// The counted upstream runs (status success/partial, or no_data of an
    /// optional processor).
    pub processors: BTreeMap<String, TriggerProcessor>,
    /// True only when every counted upstream run was incremental.
    pub is_incremental: bool,
    /// Sorted union of the counted runs' `entities_changed` when
    /// incremental; empty (= recompute the whole date) otherwise.
    pub entities_changed: Vec<String>,
}

impl PhaseTrigger {
    /// Builds the message from the claimed document.
    pub(crate) fn from_doc(
        doc: &CompletionDoc,
        config: &TransitionConfig,
        phase: i32,
        claim_id: &str,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Self {
        let counted: Vec<_> = doc
            .processors
            .iter()
            .filter(|(p, e)| config.counts(p, e.status()))
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
        Self {
            transition: doc.transition.clone(),
            phase,
            game_date: doc.game_date.clone(),
            mode: doc.mode.clone(),
            reason: reason.to_string(),
            claim_id: claim_id.to_string(),
            triggered_at: now,
            correlation_id,
            processors: counted
                .iter()
                .map(|(p, e)| {
                    (
                        p.to_string(),
                        TriggerProcessor {
                            status: e.status.clone(),
                            execution_id: e.execution_id.clone(),
                            record_count: e.record_count,
                        },
                    )
                })
                .collect(),
            is_incremental,
            entities_changed,
        }
    }

    /// The event-bus payload.
    pub fn encode(&self) -> Bytes {
        Bytes::from(serde_json::to_vec(self).expect("trigger message serialises"))
    }

    /// Parses an event-bus payload.
    pub fn decode(data: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(data)
    }
}
