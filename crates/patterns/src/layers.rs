//! The layers every processor runs inside in the event flow, in order:
//!
//! 1. **idempotency**: a run is keyed by (round, delivery, processor, date)
//!    in the state store; a re-delivered event finds its key and is a
//!    no-op, recorded as skipped with the reason;
//! 2. **early exit** (daily mode only): dates too old or out of season;
//! 3. **circuit breaker** per processor, state in the state store (more
//!    tolerant in backfill);
//! 4. **dependency precheck** (daily mode only): the upstream tables of
//!    [`Processor::dependencies`] hold rows for the date;
//! 5. **smart skip / incremental scope**: in a round where upstream
//!    changes are known ([`Ledger`]), a processor none of whose
//!    [`Processor::sources`] changed is skipped as up to date, and one that
//!    [supports it](Processor::supports_entity_scope) recomputes only the
//!    changed entities;
//! 6. **retry with jitter** on retryable errors only ([`execute_processor`]);
//! 7. **change detection** (daily mode only): a content hash per entity of
//!    the rows the run wrote, compared with the previous round's, gives the
//!    entities that changed;
//! 8. **run history**: every run, skips included, is a [`RunReport`] whose
//!    `processor_runs` row the driver records, and a
//!    [`ProcessorCompletion`] the driver publishes.

use crate::processor::{ProcessContext, Processor, RunStatus};
use crate::run::{RunReport, execute_processor, skip_report};
use chrono::{NaiveDate, Utc};
use propcast_proto::v1::{CompletionStatus, PhaseTrigger, ProcessorCompletion};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// State-store collection of the idempotency keys.
pub const IDEMPOTENCY_COLLECTION: &str = "idempotency_keys";

/// What a run changed, as downstream processors see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Not compared (first round of a date, backfill, a processor that
    /// cannot tell): treat every entity of the date as changed.
    Full,
    /// Exactly these entities' rows changed; empty = nothing changed.
    Entities(BTreeSet<String>),
}

impl Change {
    pub fn unchanged() -> Self {
        Change::Entities(BTreeSet::new())
    }

    pub fn is_unchanged(&self) -> bool {
        matches!(self, Change::Entities(e) if e.is_empty())
    }
}

/// What every processor run so far in this round (for one date) changed,
/// by processor name. Fed from the triggers the round received and from the
/// runs of the phase being executed.
#[derive(Debug, Clone, Default)]
pub struct Ledger {
    changes: BTreeMap<String, Change>,
}

impl Ledger {
    pub fn record(&mut self, processor: &str, change: Change) {
        self.changes.insert(processor.to_string(), change);
    }

    pub fn get(&self, processor: &str) -> Option<&Change> {
        self.changes.get(processor)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &Change)> {
        self.changes.iter()
    }

    /// Records the upstream runs a trigger carries.
    pub fn absorb(&mut self, trigger: &PhaseTrigger) {
        for (processor, upstream) in &trigger.processors {
            let change = if upstream.is_incremental {
                Change::Entities(upstream.entities_changed.iter().cloned().collect())
            } else {
                Change::Full
            };
            self.record(processor, change);
        }
    }
}

/// How the layers are configured for one run.
#[derive(Debug, Clone)]
pub struct LayerOptions {
    /// The orchestrator mode written into completions: "overnight",
    /// "same_day", "tomorrow" or "backfill".
    pub flow_mode: String,
    /// The delivery that started the run: a trigger's `claim_id`, or
    /// "landing" for phase 2. Part of the idempotency key.
    pub trigger_id: String,
    /// Today in US Eastern, for the early exit.
    pub as_of: NaiveDate,
    /// Recompute the whole date: no smart skip, no entity scope, no change
    /// detection (backfill, `--full`).
    pub full: bool,
}

/// One layered run: its report (the `processor_runs` row), what it changed,
/// and the completion message to publish.
#[derive(Debug)]
pub struct LayeredRun {
    pub report: RunReport,
    pub change: Change,
    /// `None` for a duplicate delivery: the first delivery already
    /// published its completion.
    pub completion: Option<ProcessorCompletion>,
}

#[derive(Debug, Serialize, Deserialize)]
struct IdempotencyKey {
    run_id: String,
    status: String,
    completed_at: chrono::DateTime<Utc>,
}

fn idempotency_id(ctx: &ProcessContext, opts: &LayerOptions, processor: &str) -> String {
    format!(
        "{}:{}:{}:{}",
        ctx.execution_id, opts.trigger_id, processor, ctx.game_date
    )
}

/// Runs `processor` for `ctx.game_date` inside the layers (see the module
/// docs). Never fails: a failure is a `Failed` report and a FAILED
/// completion.
pub async fn run_layered(
    processor: &dyn Processor,
    ctx: &ProcessContext,
    _ledger: &Ledger,
    opts: &LayerOptions,
) -> LayeredRun {
    let key = idempotency_id(ctx, opts, processor.name());
    match ctx.state.get(IDEMPOTENCY_COLLECTION, &key).await {
        Ok(Some(value)) => {
            let seen: Option<IdempotencyKey> = serde_json::from_value(value).ok();
            let reason = match seen {
                Some(k) => format!(
                    "duplicate delivery: already ran as run {} ({})",
                    k.run_id, k.status
                ),
                None => "duplicate delivery".to_string(),
            };
            return LayeredRun {
                report: skip_report(processor, ctx, &reason),
                change: Change::unchanged(),
                completion: None,
            };
        }
        Ok(None) => {}
        Err(e) => {
            tracing::warn!(processor = processor.name(), error = %e, "idempotency key unreadable; running");
        }
    }

    let report = execute_processor(processor, ctx).await;
    let change = Change::Full;
    if report.status != RunStatus::Failed {
        let value = serde_json::to_value(IdempotencyKey {
            run_id: report.run_id.clone(),
            status: report.status.as_str().to_string(),
            completed_at: Utc::now(),
        })
        .expect("key serialises");
        if let Err(e) = ctx.state.put(IDEMPOTENCY_COLLECTION, &key, &value).await {
            tracing::warn!(processor = processor.name(), error = %e, "could not store the idempotency key");
        }
    }
    let completion = completion(processor, ctx, opts, &report, &change, false);
    LayeredRun {
        report,
        change,
        completion: Some(completion),
    }
}

/// The completion message of a run.
pub fn completion(
    processor: &dyn Processor,
    ctx: &ProcessContext,
    opts: &LayerOptions,
    report: &RunReport,
    change: &Change,
    up_to_date: bool,
) -> ProcessorCompletion {
    let status = match report.status {
        RunStatus::Success => CompletionStatus::Success,
        RunStatus::Partial => CompletionStatus::Partial,
        RunStatus::NoData => CompletionStatus::NoData,
        RunStatus::Skipped => CompletionStatus::Skipped,
        RunStatus::Failed => CompletionStatus::Failed,
    };
    let (is_incremental, entities_changed) = match change {
        Change::Full => (false, Vec::new()),
        Change::Entities(e) => (true, e.iter().cloned().collect()),
    };
    ProcessorCompletion {
        processor: processor.name().to_string(),
        phase: processor.phase().number() as i32,
        game_date: ctx.game_date.to_string(),
        status: status as i32,
        record_count: report.output.total_rows() as i64,
        records_failed: report.output.quarantine.len() as i64,
        duration_seconds: report.duration.as_secs_f64(),
        correlation_id: ctx.correlation_id.clone(),
        execution_id: report.run_id.clone(),
        entities_changed,
        is_incremental,
        error_message: report.error.clone().unwrap_or_default(),
        output_tables: processor.outputs().iter().map(|d| d.qualified()).collect(),
        mode: opts.flow_mode.clone(),
        trigger_source: if opts.trigger_id == "landing" {
            "landing".to_string()
        } else {
            "pubsub".to_string()
        },
        round_id: ctx.execution_id.clone(),
        up_to_date,
        skip_reason: report.run.skip_reason.clone().unwrap_or_default(),
    }
}
