//! The state document of one (transition, game date, mode, round).
//!
//! Collection [`Transition::collection`](crate::Transition::collection), id
//! `{game_date}_{mode}` when the round id is empty and
//! `{game_date}_{mode}_{round_id}` otherwise (e.g.
//! `phase3_completion/2025-11-04_overnight` or
//! `phase3_completion/2025-11-04_backfill_bf-2025-11-20`). One top-level
//! field per processor, named by the processor, plus meta fields prefixed
//! with `_` (REFERENCE §5.2):
//!
//! ```json
//! {
//!   "player_game_summary": {"status": "success", "completed_at": "…",
//!     "correlation_id": "…", "execution_id": "…", "record_count": 241,
//!     "entities_changed": [], "is_incremental": false,
//!     "up_to_date": false, "skip_reason": "", "execution_ids": ["…"]},
//!   "_transition": "phase3_to_phase4", "_game_date": "2025-11-04", "_mode": "overnight",
//!   "_round_id": "",
//!   "_completed_count": 5, "_first_completion_at": "…", "_last_update": "…",
//!   "_trigger_pending": false, "_trigger_claim_id": null, "_trigger_pending_at": null,
//!   "_trigger_reason": "all_expected", "_triggered": true, "_triggered_at": "…",
//!   "_trigger_message_id": "…", "_last_publish_error": null
//! }
//! ```

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use propcast_proto::v1::CompletionStatus;
use serde::{Deserialize, Serialize};

/// The latest counted run of one processor for the date.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProcessorEntry {
    /// Lowercase completion status (`success`, `partial`, `no_data`, …).
    pub status: String,
    /// When the orchestrator recorded it (its clock).
    pub completed_at: DateTime<Utc>,
    pub correlation_id: String,
    pub execution_id: String,
    pub record_count: i64,
    /// Empty for a full run.
    pub entities_changed: Vec<String>,
    pub is_incremental: bool,
    /// A skipped run whose outputs are current (smart skip): counts as done
    /// like a success (see `TransitionConfig::counts_run`).
    #[serde(default)]
    pub up_to_date: bool,
    /// Why a skipped run was skipped; empty otherwise.
    #[serde(default)]
    pub skip_reason: String,
    /// Every execution id seen for this processor and date (the dedup set:
    /// a re-delivered older run must not overwrite a newer one). Bounded by
    /// the number of runs of one processor for one date.
    pub execution_ids: Vec<String>,
}

impl ProcessorEntry {
    /// The status as the contract enum (unknown names read as unspecified,
    /// which never counts).
    pub fn status(&self) -> CompletionStatus {
        self.status.parse().unwrap_or(CompletionStatus::Unspecified)
    }

    /// The status the trigger rule sees: an up-to-date skip reads as
    /// [`CompletionStatus::Success`], everything else as stored.
    pub fn effective_status(&self) -> CompletionStatus {
        effective_status(self.status(), self.up_to_date)
    }
}

/// The status the trigger rule sees for a run: SKIPPED with `up_to_date`
/// (smart skip: the outputs are current) is done exactly like SUCCESS; any
/// other status, including any other skip, is itself.
pub fn effective_status(status: CompletionStatus, up_to_date: bool) -> CompletionStatus {
    if status == CompletionStatus::Skipped && up_to_date {
        CompletionStatus::Success
    } else {
        status
    }
}

/// One (transition, game date, mode) document.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CompletionDoc {
    #[serde(rename = "_transition")]
    pub transition: String,
    #[serde(rename = "_game_date")]
    pub game_date: String,
    #[serde(rename = "_mode")]
    pub mode: String,
    /// The round (invocation) the runs belong to; empty is a round of its
    /// own. Documents written before rounds existed read as "".
    #[serde(rename = "_round_id", default)]
    pub round_id: String,
    /// Tracked processors that count as done (see `TransitionConfig::counts`).
    #[serde(rename = "_completed_count")]
    pub completed_count: usize,
    /// First completion recorded for this document (any status): the start
    /// of the 4→5 tiered timeouts.
    #[serde(rename = "_first_completion_at")]
    pub first_completion_at: Option<DateTime<Utc>>,
    #[serde(rename = "_last_update")]
    pub last_update: Option<DateTime<Utc>>,
    /// True while a claimer is publishing the downstream trigger.
    #[serde(rename = "_trigger_pending")]
    pub trigger_pending: bool,
    /// The claim id of that claimer (also sent in the trigger message).
    #[serde(rename = "_trigger_claim_id")]
    pub trigger_claim_id: Option<String>,
    #[serde(rename = "_trigger_pending_at")]
    pub trigger_pending_at: Option<DateTime<Utc>>,
    #[serde(rename = "_trigger_reason")]
    pub trigger_reason: Option<String>,
    /// Set only after the downstream publish succeeded.
    #[serde(rename = "_triggered")]
    pub triggered: bool,
    #[serde(rename = "_triggered_at")]
    pub triggered_at: Option<DateTime<Utc>>,
    #[serde(rename = "_trigger_message_id")]
    pub trigger_message_id: Option<String>,
    #[serde(rename = "_last_publish_error")]
    pub last_publish_error: Option<String>,
    /// Processor name → its entry (top-level fields of the document).
    #[serde(flatten)]
    pub processors: BTreeMap<String, ProcessorEntry>,
}

impl CompletionDoc {
    /// The document id of a date, mode and round: `{game_date}_{mode}` for
    /// the empty round, `{game_date}_{mode}_{round_id}` otherwise.
    pub fn id(game_date: &str, mode: crate::Mode, round_id: &str) -> String {
        if round_id.is_empty() {
            format!("{game_date}_{mode}")
        } else {
            format!("{game_date}_{mode}_{round_id}")
        }
    }

    /// Processor → status, as stored.
    pub fn statuses(&self) -> BTreeMap<String, CompletionStatus> {
        self.processors
            .iter()
            .map(|(p, e)| (p.clone(), e.status()))
            .collect()
    }

    /// Processor → the status the trigger rule sees
    /// ([`ProcessorEntry::effective_status`]: an up-to-date skip is a
    /// success).
    pub fn effective_statuses(&self) -> BTreeMap<String, CompletionStatus> {
        self.processors
            .iter()
            .map(|(p, e)| (p.clone(), e.effective_status()))
            .collect()
    }

    /// Whether a claim is held and not yet stale at `now`.
    pub fn claim_is_live(&self, now: DateTime<Utc>, claim_timeout: std::time::Duration) -> bool {
        if !self.trigger_pending {
            return false;
        }
        match self.trigger_pending_at {
            Some(at) => (now - at).to_std().unwrap_or(std::time::Duration::ZERO) < claim_timeout,
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn processor_fields_sit_beside_meta_fields_and_round_trip() {
        let mut doc = CompletionDoc {
            transition: "phase3_to_phase4".into(),
            game_date: "2025-11-04".into(),
            mode: "overnight".into(),
            completed_count: 1,
            ..Default::default()
        };
        doc.processors.insert(
            "player_game_summary".into(),
            ProcessorEntry {
                status: "partial".into(),
                completed_at: DateTime::parse_from_rfc3339("2025-11-05T11:00:00Z")
                    .unwrap()
                    .to_utc(),
                correlation_id: "c".into(),
                execution_id: "e".into(),
                record_count: 241,
                entities_changed: vec![],
                is_incremental: false,
                up_to_date: false,
                skip_reason: String::new(),
                execution_ids: vec!["e".into()],
            },
        );
        doc.processors.insert(
            "team_offense_game_summary".into(),
            ProcessorEntry {
                status: "skipped".into(),
                completed_at: DateTime::parse_from_rfc3339("2025-11-05T11:01:00Z")
                    .unwrap()
                    .to_utc(),
                correlation_id: "c".into(),
                execution_id: "s".into(),
                record_count: 0,
                entities_changed: vec![],
                is_incremental: false,
                up_to_date: true,
                skip_reason: "inputs unchanged".into(),
                execution_ids: vec!["s".into()],
            },
        );
        doc.round_id = "r1".into();
        let json = serde_json::to_value(&doc).unwrap();
        assert_eq!(json["player_game_summary"]["record_count"], 241);
        assert_eq!(json["_completed_count"], 1);
        assert_eq!(json["_triggered"], false);
        assert_eq!(json["_round_id"], "r1");
        assert_eq!(json["team_offense_game_summary"]["up_to_date"], true);
        assert_eq!(
            json["team_offense_game_summary"]["skip_reason"],
            "inputs unchanged"
        );
        let back: CompletionDoc = serde_json::from_value(json).unwrap();
        assert_eq!(back, doc);
        assert_eq!(
            back.statuses()["player_game_summary"],
            CompletionStatus::Partial
        );
        assert_eq!(
            back.statuses()["team_offense_game_summary"],
            CompletionStatus::Skipped
        );
        assert_eq!(
            back.effective_statuses()["team_offense_game_summary"],
            CompletionStatus::Success
        );
    }

    #[test]
    fn ids_name_the_round_when_there_is_one() {
        use crate::Mode;
        assert_eq!(
            CompletionDoc::id("2025-11-04", Mode::Overnight, ""),
            "2025-11-04_overnight"
        );
        assert_eq!(
            CompletionDoc::id("2025-11-04", Mode::Backfill, "bf-7"),
            "2025-11-04_backfill_bf-7"
        );
    }

    #[test]
    fn documents_written_before_rounds_read_as_the_empty_round() {
        let old = serde_json::json!({
            "_transition": "phase3_to_phase4", "_game_date": "2025-11-04",
            "_mode": "overnight", "_completed_count": 1,
            "_first_completion_at": null, "_last_update": null,
            "_trigger_pending": false, "_trigger_claim_id": null,
            "_trigger_pending_at": null, "_trigger_reason": null,
            "_triggered": false, "_triggered_at": null,
            "_trigger_message_id": null, "_last_publish_error": null,
            "player_game_summary": {"status": "success",
                "completed_at": "2025-11-05T11:00:00Z", "correlation_id": "c",
                "execution_id": "e", "record_count": 3, "entities_changed": [],
                "is_incremental": false, "execution_ids": ["e"]}
        });
        let doc: CompletionDoc = serde_json::from_value(old).unwrap();
        assert_eq!(doc.round_id, "");
        assert!(!doc.processors["player_game_summary"].up_to_date);
    }

    #[test]
    fn only_an_up_to_date_skip_reads_as_success() {
        use CompletionStatus::*;
        assert_eq!(effective_status(Skipped, true), Success);
        assert_eq!(effective_status(Skipped, false), Skipped);
        for s in [Success, Partial, NoData, Failed, Unspecified] {
            assert_eq!(effective_status(s, true), s, "{s}");
            assert_eq!(effective_status(s, false), s, "{s}");
        }
    }
}
