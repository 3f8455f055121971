//! The layers every processor runs inside in the event flow, in order, one
//! function each:
//!
//! 1. **idempotency** ([`run_layered`]): a run is keyed by (round, delivery,
//!    processor, date) in the state store (collection
//!    [`IDEMPOTENCY_COLLECTION`]); a re-delivered event finds its key and is
//!    a no-op, recorded as skipped with the reason and publishing nothing.
//!    Every outcome but a failure stores the key, skips included;
//! 2. **early exit** (`exit_early`, daily mode only): dates more than
//!    [`DAILY_MAX_AGE_DAYS`] days before [`LayerOptions::as_of`], and
//!    off-season dates (July to September), are skipped;
//! 3. **circuit breaker** (`check_breaker`) per processor, state in the
//!    state store ([`crate::circuit_breaker`], documents
//!    `processor.<name>`): 5 consecutive failures open it for 30 minutes in
//!    daily mode, 20 in backfill ([`breaker_config`]); while open the
//!    processor is skipped;
//! 4. **dependency precheck** (`precheck_dependencies`, daily mode only):
//!    the upstream tables of [`Processor::dependencies`] hold at least their
//!    minimum of rows for the date, or the processor is skipped;
//! 5. **smart skip / incremental scope** (`plan_scope`; not for full runs
//!    nor phase 2): in a round where upstream changes are known
//!    ([`Ledger`]), a processor none of whose [`Processor::sources`] changed
//!    is skipped as up to date, and one that
//!    [supports it](Processor::supports_entity_scope) recomputes only the
//!    changed entities and what the processor says depends on them
//!    ([`Processor::expand_scope`]; the whole date when that fails) as
//!    [`Scope::Entities`]. A processor with no completed run of the date on
//!    record (no stored hashes: never ran, last run failed, or last run was
//!    full) always recomputes the whole date. A daily phase 2 run whose
//!    landing files are those of the last completed round is skipped as up
//!    to date at the source;
//! 6. **execute with retry** (`execute_with_retry`): retry with jitter on
//!    retryable errors only ([`execute_processor`]);
//! 7. **breaker record** (`record_breaker`): the run's success or failure
//!    into the breaker of layer 3;
//! 8. **change detection** (`detect_change`, not for full runs): a content
//!    hash per entity ([`TableDef::entity_column`]) of the rows of the date
//!    in the processor's output tables, run history aside
//!    ([`TableDef::is_run_history`]), compared with the previous round's
//!    (collection [`ENTITY_HASH_COLLECTION`]), gives the entities that
//!    changed ([`Change`]). A full run, or a failed one, deletes the stored
//!    hashes instead, so a later round never compares against hashes older
//!    than the table;
//! 9. **run history**: every run, skips included, is a [`RunReport`] whose
//!    `processor_runs` row the driver records, and a
//!    [`ProcessorCompletion`] the driver publishes ([`completion`]).
//!
//! Layers 2 to 5 skip a run with [`skip_report`]: status `skipped`, the
//! reason in `skip_reason`, nothing changed. Only a smart skip is
//! `up_to_date`.

use crate::circuit_breaker::{Breaker, BreakerConfig, Breakers, Outcome};
use crate::processor::{Phase, ProcessContext, Processor, RunMode, RunStatus, Scope};
use crate::run::{RunReport, execute_processor, execute_range, skip_report};
use chrono::{Datelike, NaiveDate, SecondsFormat, Utc};
use propcast_core::TableDef;
use propcast_platform::WarehouseError;
use propcast_platform::warehouse::date_literal;
use propcast_proto::v1::{CompletionStatus, PhaseTrigger, ProcessorCompletion};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::ops::ControlFlow;

/// State-store collection of the idempotency keys.
pub const IDEMPOTENCY_COLLECTION: &str = "idempotency_keys";
/// State-store collection of the per-entity content hashes, one document
/// per processor and date ([`entity_hash_id`]): output table → entity →
/// hash.
pub const ENTITY_HASH_COLLECTION: &str = "entity_hashes";
/// Namespace of the processors' breakers in
/// [`crate::circuit_breaker::COLLECTION`]: documents `processor.<name>`.
pub const BREAKER_NAMESPACE: &str = "processor";
/// A daily run of a date older than this many days exits early.
pub const DAILY_MAX_AGE_DAYS: i64 = 90;
/// The one entity of a table without an entity column (and of rows whose
/// entity is NULL): a change to it is a change to the whole date.
pub const WHOLE_DATE: &str = "*";

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

    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
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

/// Document id of a processor's entity hashes for a date:
/// `{processor}:{date}`.
pub fn entity_hash_id(processor: &str, date: NaiveDate) -> String {
    format!("{processor}:{date}")
}

/// The processor breaker's thresholds in `mode`: the reference's 5
/// failures, 30 minutes, 2 successes in daily mode; 20 failures in backfill,
/// where one bad date must not stop a long range.
pub fn breaker_config(mode: RunMode) -> BreakerConfig {
    match mode {
        RunMode::Daily => BreakerConfig::default(),
        RunMode::Backfill => {
            BreakerConfig::new(20, 2, chrono::Duration::minutes(30)).expect("valid breaker config")
        }
    }
}

/// Why a daily run of `date` exits early on `as_of`, if it does.
pub fn early_exit(date: NaiveDate, as_of: NaiveDate) -> Option<String> {
    let age = (as_of - date).num_days();
    if age > DAILY_MAX_AGE_DAYS {
        return Some(format!(
            "early exit: {date} is {age} days before today ({as_of}), over the \
             {DAILY_MAX_AGE_DAYS}-day limit of daily runs; run it as a backfill or pass --as-of"
        ));
    }
    if matches!(date.month(), 7..=9) {
        return Some(format!(
            "early exit: off-season ({date} is in {}; the season runs October to June)",
            date.format("%B")
        ));
    }
    None
}

/// Per output table (`dataset.table`), per entity, the content hash of the
/// entity's rows for one date.
pub type EntityHashes = BTreeMap<String, BTreeMap<String, String>>;

/// How the run is to be scoped, or why it is not needed.
enum Plan {
    Run(Scope),
    UpToDate(String),
}

/// Smart skip / incremental scope from the ledger alone (layer 5).
fn plan(processor: &dyn Processor, ledger: &Ledger, opts: &LayerOptions, on_record: bool) -> Plan {
    if opts.full || processor.phase() == Phase::Raw || ledger.is_empty() || !on_record {
        return Plan::Run(Scope::Full);
    }
    let relevant: Vec<(String, Option<&Change>)> = match processor.sources() {
        Some(sources) => sources
            .iter()
            .map(|s| (s.to_string(), ledger.get(s)))
            .collect(),
        None => ledger.iter().map(|(p, c)| (p.clone(), Some(c))).collect(),
    };
    let mut entities = BTreeSet::new();
    for (_, change) in &relevant {
        match change {
            None | Some(Change::Full) => return Plan::Run(Scope::Full),
            Some(Change::Entities(e)) => entities.extend(e.iter().cloned()),
        }
    }
    if entities.is_empty() {
        let names: Vec<&str> = relevant.iter().map(|(p, _)| p.as_str()).collect();
        return Plan::UpToDate(format!(
            "up to date: none of its sources ({}) changed in this round",
            names.join(", ")
        ));
    }
    if processor.supports_entity_scope() {
        Plan::Run(Scope::Entities(entities))
    } else {
        Plan::Run(Scope::Full)
    }
}

/// What the inner layers decided.
struct Decided {
    report: RunReport,
    change: Change,
    up_to_date: bool,
}

impl Decided {
    fn skipped(processor: &dyn Processor, ctx: &ProcessContext, reason: &str) -> Self {
        Decided {
            report: skip_report(processor, ctx, reason),
            change: Change::unchanged(),
            up_to_date: false,
        }
    }

    /// A smart skip: skipped, and up to date.
    fn up_to_date(processor: &dyn Processor, ctx: &ProcessContext, reason: &str) -> Self {
        Decided {
            up_to_date: true,
            ..Decided::skipped(processor, ctx, reason)
        }
    }
}

/// A layer's verdict: go on to the next layer with `T`, or stop the run
/// with this decision (a skip).
type Verdict<T = ()> = ControlFlow<Decided, T>;

/// Runs `processor` for `ctx.game_date` inside the layers (see the module
/// docs). Never fails: a failure is a `Failed` report and a FAILED
/// completion; a state store or warehouse error inside a layer is logged
/// and the layer lets the run through (or, for change detection, reports
/// [`Change::Full`]).
pub async fn run_layered(
    processor: &dyn Processor,
    ctx: &ProcessContext,
    ledger: &Ledger,
    opts: &LayerOptions,
) -> LayeredRun {
    if let Some(duplicate) = duplicate_delivery(processor, ctx, opts).await {
        return duplicate;
    }
    let (ControlFlow::Continue(decided) | ControlFlow::Break(decided)) =
        inner_layers(processor, ctx, ledger, opts).await;
    finish(processor, ctx, opts, decided).await
}

/// One date of a range run: its context and its layer options (the
/// trigger that started it).
#[derive(Clone)]
pub struct RangeDate {
    pub ctx: ProcessContext,
    pub opts: LayerOptions,
}

/// Runs `processor` for every date of `days` (ascending) inside the layers,
/// with its range form ([`Processor::process_range`]) — the backfill path.
/// Per date, exactly what [`run_layered`] does in a full run: a duplicate
/// delivery is a recorded no-op, the early exit and the breaker may skip
/// it, the idempotency key is stored, the hashes of an earlier round are
/// forgotten, and it gets its report and completion. The breaker is loaded
/// once and recorded once for the range. When the range fails, its dates
/// are re-run one by one through [`run_layered`], so a failure lands on its
/// own date and the others go on. Only full runs have a range form: a
/// scoped or incremental run goes through [`run_layered`].
pub async fn run_layered_range(
    processor: &dyn Processor,
    days: &[RangeDate],
) -> Vec<(NaiveDate, LayeredRun)> {
    let mut done: BTreeMap<NaiveDate, LayeredRun> = BTreeMap::new();
    let mut todo: Vec<&RangeDate> = Vec::new();
    for day in days {
        debug_assert!(day.opts.full, "a range run recomputes whole dates");
        if let Some(duplicate) = duplicate_delivery(processor, &day.ctx, &day.opts).await {
            done.insert(day.ctx.game_date, duplicate);
        } else if let ControlFlow::Break(decided) = exit_early(processor, &day.ctx, &day.opts) {
            done.insert(
                day.ctx.game_date,
                finish(processor, &day.ctx, &day.opts, decided).await,
            );
        } else {
            todo.push(day);
        }
    }
    if let Some(first) = todo.first() {
        match check_breaker(processor, &first.ctx).await {
            ControlFlow::Break(decided) => {
                let reason = decided.report.run.skip_reason.clone().unwrap_or_default();
                for day in todo {
                    let decided = Decided::skipped(processor, &day.ctx, &reason);
                    done.insert(
                        day.ctx.game_date,
                        finish(processor, &day.ctx, &day.opts, decided).await,
                    );
                }
            }
            ControlFlow::Continue(breakers) => {
                let contexts: Vec<ProcessContext> = todo.iter().map(|d| d.ctx.clone()).collect();
                match execute_range(processor, &contexts).await {
                    Ok(reports) => {
                        if let Some(last) = reports.last() {
                            record_breaker(processor, &first.ctx, breakers, last).await;
                        }
                        for (day, report) in todo.into_iter().zip(reports) {
                            forget_round(processor, &day.ctx).await;
                            let decided = Decided {
                                report,
                                change: Change::Full,
                                up_to_date: false,
                            };
                            done.insert(
                                day.ctx.game_date,
                                finish(processor, &day.ctx, &day.opts, decided).await,
                            );
                        }
                    }
                    Err(e) => {
                        tracing::warn!(
                            processor = processor.name(),
                            from = %first.ctx.game_date,
                            dates = todo.len(),
                            error = %e,
                            "the range run failed; running its dates one by one"
                        );
                        for day in todo {
                            let run =
                                run_layered(processor, &day.ctx, &Ledger::default(), &day.opts)
                                    .await;
                            done.insert(day.ctx.game_date, run);
                        }
                    }
                }
            }
        }
    }
    done.into_iter().collect()
}

/// The duplicate-delivery skip of [`run_layered`] (layer 1), if the key of
/// this delivery is stored.
async fn duplicate_delivery(
    processor: &dyn Processor,
    ctx: &ProcessContext,
    opts: &LayerOptions,
) -> Option<LayeredRun> {
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
            Some(LayeredRun {
                report: skip_report(processor, ctx, &reason),
                change: Change::unchanged(),
                completion: None,
            })
        }
        Ok(None) => None,
        Err(e) => {
            tracing::warn!(processor = processor.name(), error = %e, "idempotency key unreadable; running");
            None
        }
    }
}

/// The end of [`run_layered`] (and of each date of
/// [`run_layered_range`]) for a decided run: its idempotency key stored
/// (unless it failed) and its completion.
async fn finish(
    processor: &dyn Processor,
    ctx: &ProcessContext,
    opts: &LayerOptions,
    decided: Decided,
) -> LayeredRun {
    let Decided {
        report,
        change,
        up_to_date,
    } = decided;
    store_idempotency_key(processor, ctx, opts, &report).await;
    let completion = completion(processor, ctx, opts, &report, &change, up_to_date);
    LayeredRun {
        report,
        change,
        completion: Some(completion),
    }
}

/// What change detection does after a full run: the previous round's
/// hashes (and a phase 2 landing fingerprint) are forgotten, so the next
/// incremental round compares against nothing and recomputes the date.
async fn forget_round(processor: &dyn Processor, ctx: &ProcessContext) {
    let hash_id = entity_hash_id(processor.name(), ctx.game_date);
    forget_hashes(ctx, &hash_id).await;
    if processor.phase() == Phase::Raw {
        forget_fingerprint(ctx, &hash_id).await;
    }
}

async fn store_idempotency_key(
    processor: &dyn Processor,
    ctx: &ProcessContext,
    opts: &LayerOptions,
    report: &RunReport,
) {
    if report.status() == RunStatus::Failed {
        return;
    }
    let key = idempotency_id(ctx, opts, processor.name());
    let value = serde_json::to_value(IdempotencyKey {
        run_id: report.run_id().to_string(),
        status: report.status().as_str().to_string(),
        completed_at: Utc::now(),
    })
    .expect("key serialises");
    if let Err(e) = ctx.state.put(IDEMPOTENCY_COLLECTION, &key, &value).await {
        tracing::warn!(processor = processor.name(), error = %e, "could not store the idempotency key");
    }
}

/// Layers 2 to 8, one function each, in order; a skip stops the run where
/// it is decided.
async fn inner_layers(
    processor: &dyn Processor,
    ctx: &ProcessContext,
    ledger: &Ledger,
    opts: &LayerOptions,
) -> Verdict<Decided> {
    exit_early(processor, ctx, opts)?;
    let breakers = check_breaker(processor, ctx).await?;
    precheck_dependencies(processor, ctx).await?;
    let (scope, baseline) = plan_scope(processor, ctx, ledger, opts).await?;
    let mut report = execute_with_retry(processor, ctx, scope).await;
    record_breaker(processor, ctx, breakers, &report).await;
    let change = detect_change(processor, ctx, opts, baseline, &report).await;
    if let Change::Entities(e) = &change {
        report.run.entities_changed = Some(e.len() as i64);
    }
    ControlFlow::Continue(Decided {
        report,
        change,
        up_to_date: false,
    })
}

/// Layer 2, early exit: a daily run of a date [`early_exit`] refuses is
/// skipped.
fn exit_early(processor: &dyn Processor, ctx: &ProcessContext, opts: &LayerOptions) -> Verdict {
    if ctx.mode == RunMode::Daily
        && let Some(reason) = early_exit(ctx.game_date, opts.as_of)
    {
        return ControlFlow::Break(Decided::skipped(processor, ctx, &reason));
    }
    ControlFlow::Continue(())
}

/// Layer 3, circuit breaker: loads the processor's breaker and skips the
/// run while it is open. Hands on the breakers for [`record_breaker`];
/// `None` when they could not be read (the run goes ahead).
async fn check_breaker(
    processor: &dyn Processor,
    ctx: &ProcessContext,
) -> Verdict<Option<Breakers>> {
    let name = processor.name();
    let config = breaker_config(ctx.mode);
    let mut breakers =
        match Breakers::load(ctx.state.as_ref(), BREAKER_NAMESPACE, &[name], config).await {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!(processor = name, error = %e, "circuit breaker unreadable; running");
                return ControlFlow::Continue(None);
            }
        };
    if breakers.allows(name, ctx.now) {
        return ControlFlow::Continue(Some(breakers));
    }
    let reason = match breakers.get(name) {
        Some(state) => open_reason(state, breakers.config()),
        None => "circuit open".to_string(),
    };
    ControlFlow::Break(Decided::skipped(processor, ctx, &reason))
}

/// Why an open breaker refuses a run: since when, after how many failures,
/// the last error, and when a trial run is allowed.
fn open_reason(state: &Breaker, config: &BreakerConfig) -> String {
    let since = state
        .opened_at
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
        .unwrap_or_else(|| "an unknown time".to_string());
    let trial = state
        .opened_at
        .map(|t| {
            format!(
                "; a trial run is allowed from {}",
                (t + config.open_for()).to_rfc3339_opts(SecondsFormat::Secs, true)
            )
        })
        .unwrap_or_default();
    let last = state
        .last_error
        .as_deref()
        .map(|e| format!(" (last error: {e})"))
        .unwrap_or_default();
    format!(
        "circuit open since {since} after {} failures{last}{trial}",
        state.failure_count
    )
}

/// Layer 4, dependency precheck: a daily run whose upstream tables lack
/// rows for the date ([`missing_dependency`]) is skipped.
async fn precheck_dependencies(processor: &dyn Processor, ctx: &ProcessContext) -> Verdict {
    if ctx.mode == RunMode::Daily
        && let Some(reason) = missing_dependency(processor, ctx).await
    {
        return ControlFlow::Break(Decided::skipped(processor, ctx, &reason));
    }
    ControlFlow::Continue(())
}

/// What change detection (layer 8) compares a run with: the hashes and
/// landing fingerprint of the previous round, under `hash_id`.
struct Baseline {
    hash_id: String,
    previous: Option<EntityHashes>,
    fingerprint: Option<LandingFingerprint>,
}

/// Layer 5, smart skip / incremental scope: skips a run whose inputs did
/// not change (at the source for phase 2, [`skip_unchanged_landing`]; by the
/// ledger otherwise, [`plan`]), or decides its scope, expanded by the
/// processor ([`expand_scope`]).
async fn plan_scope(
    processor: &dyn Processor,
    ctx: &ProcessContext,
    ledger: &Ledger,
    opts: &LayerOptions,
) -> Verdict<(Scope, Baseline)> {
    let hash_id = entity_hash_id(processor.name(), ctx.game_date);
    let previous = if opts.full {
        None
    } else {
        load_hashes(ctx, &hash_id).await
    };
    let fingerprint =
        skip_unchanged_landing(processor, ctx, opts, &hash_id, previous.is_some()).await?;
    let scope = match plan(processor, ledger, opts, previous.is_some()) {
        Plan::Run(Scope::Entities(entities)) => expand_scope(processor, ctx, entities).await,
        Plan::Run(Scope::Full) => Scope::Full,
        Plan::UpToDate(reason) => {
            return ControlFlow::Break(Decided::up_to_date(processor, ctx, &reason));
        }
    };
    let baseline = Baseline {
        hash_id,
        previous,
        fingerprint,
    };
    ControlFlow::Continue((scope, baseline))
}

/// Smart skip at the source (layer 5, phase 2 runs that are not full): the
/// run's landing fingerprint, or an up-to-date skip when a completed round
/// is `on_record` and read the same files.
async fn skip_unchanged_landing(
    processor: &dyn Processor,
    ctx: &ProcessContext,
    opts: &LayerOptions,
    hash_id: &str,
    on_record: bool,
) -> Verdict<Option<LandingFingerprint>> {
    if opts.full || processor.phase() != Phase::Raw {
        return ControlFlow::Continue(None);
    }
    let Some(fp) = landing_fingerprint(processor, ctx).await else {
        return ControlFlow::Continue(None);
    };
    if on_record && stored_fingerprint(ctx, hash_id).await.as_ref() == Some(&fp) {
        let reason = format!(
            "up to date: its {} landing file(s) are unchanged since the last round",
            fp.files
        );
        return ControlFlow::Break(Decided::up_to_date(processor, ctx, &reason));
    }
    ControlFlow::Continue(Some(fp))
}

/// The scope of a run over `entities` as the processor expands it
/// ([`Processor::expand_scope`]); the whole date when it cannot.
async fn expand_scope(
    processor: &dyn Processor,
    ctx: &ProcessContext,
    entities: BTreeSet<String>,
) -> Scope {
    match processor.expand_scope(ctx, entities).await {
        Ok(expanded) => Scope::Entities(expanded),
        Err(e) => {
            tracing::warn!(processor = processor.name(), error = %e, "could not expand the entity scope; recomputing the whole date");
            Scope::Full
        }
    }
}

/// Layer 6, execute with retry: the run within `scope` (retry with jitter
/// inside [`execute_processor`]); a scoped run's report counts the
/// entities in scope.
async fn execute_with_retry(
    processor: &dyn Processor,
    ctx: &ProcessContext,
    scope: Scope,
) -> RunReport {
    let mut run_ctx = ctx.clone();
    run_ctx.scope = scope;
    let mut report = execute_processor(processor, &run_ctx).await;
    if let Scope::Entities(e) = &run_ctx.scope {
        report.run.entities_in_scope = Some(e.len() as i64);
    }
    report
}

/// Layer 7, breaker record: the run's outcome into the breakers
/// [`check_breaker`] loaded (nothing when they could not be read).
async fn record_breaker(
    processor: &dyn Processor,
    ctx: &ProcessContext,
    breakers: Option<Breakers>,
    report: &RunReport,
) {
    let Some(mut breakers) = breakers else {
        return;
    };
    let name = processor.name();
    let outcome = match (report.status(), report.error()) {
        (RunStatus::Failed, error) => Outcome::Failure(error.unwrap_or("failed").to_string()),
        _ => Outcome::Success,
    };
    breakers.record(name, outcome, ctx.now);
    if let Err(e) = breakers.flush(ctx.state.as_ref()).await {
        tracing::warn!(processor = name, error = %e, "could not store the circuit breaker");
    }
}

/// Layer 8, change detection: the entities whose rows the run changed
/// against the `baseline`, storing this round's hashes (and landing
/// fingerprint) for the next; a full or failed run forgets them and is a
/// [`Change::Full`].
async fn detect_change(
    processor: &dyn Processor,
    ctx: &ProcessContext,
    opts: &LayerOptions,
    baseline: Baseline,
    report: &RunReport,
) -> Change {
    let Baseline {
        hash_id,
        previous,
        fingerprint,
    } = baseline;
    if opts.full || report.status() == RunStatus::Failed {
        forget_hashes(ctx, &hash_id).await;
        if processor.phase() == Phase::Raw {
            forget_fingerprint(ctx, &hash_id).await;
        }
        return Change::Full;
    }
    match hash_outputs(processor, ctx).await {
        Ok(hashes) => {
            let change = match &previous {
                None => Change::Full,
                Some(prev) => diff(prev, &hashes),
            };
            if previous.as_ref() != Some(&hashes) {
                store_hashes(ctx, &hash_id, &hashes).await;
            }
            if let Some(fp) = &fingerprint {
                store_fingerprint(ctx, &hash_id, fp).await;
            }
            change
        }
        Err(e) => {
            tracing::warn!(processor = processor.name(), error = %e, "change detection failed; reporting a full change");
            forget_hashes(ctx, &hash_id).await;
            Change::Full
        }
    }
}

/// State-store collection of the landing-file fingerprints of phase 2
/// runs, one document per processor and date (ids as in
/// [`ENTITY_HASH_COLLECTION`]).
pub const LANDING_FINGERPRINT_COLLECTION: &str = "landing_fingerprints";

/// The content of every file a phase 2 run reads for its date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LandingFingerprint {
    /// sha256 over each file's path and content, in path order.
    pub sha256: String,
    pub files: usize,
}

/// Fingerprints the files under [`Processor::landing_inputs`]; `None` when
/// the processor declares none or a file cannot be read (then it runs).
async fn landing_fingerprint(
    processor: &dyn Processor,
    ctx: &ProcessContext,
) -> Option<LandingFingerprint> {
    let folders = processor.landing_inputs(ctx.game_date);
    if folders.is_empty() {
        return None;
    }
    let mut hasher = Sha256::new();
    let mut files = 0;
    for folder in folders {
        let mut objects = match ctx.landing.list(&folder).await {
            Ok(objects) => objects,
            Err(propcast_platform::LandingError::NotFound { .. }) => Vec::new(),
            Err(_) => return None,
        };
        objects.sort_by(|a, b| a.path.cmp(&b.path));
        for object in objects {
            let bytes = ctx.landing.get(&object.path).await.ok()?;
            hasher.update(object.path.as_bytes());
            hasher.update(b"\x1f");
            hasher.update(Sha256::digest(&bytes));
            files += 1;
        }
    }
    Some(LandingFingerprint {
        sha256: hex::encode(hasher.finalize()),
        files,
    })
}

async fn stored_fingerprint(ctx: &ProcessContext, id: &str) -> Option<LandingFingerprint> {
    let value = ctx
        .state
        .get(LANDING_FINGERPRINT_COLLECTION, id)
        .await
        .ok()??;
    serde_json::from_value(value).ok()
}

async fn store_fingerprint(ctx: &ProcessContext, id: &str, fp: &LandingFingerprint) {
    let value = serde_json::to_value(fp).expect("fingerprint serialises");
    if let Err(e) = ctx
        .state
        .put(LANDING_FINGERPRINT_COLLECTION, id, &value)
        .await
    {
        tracing::warn!(id, error = %e, "could not store the landing fingerprint");
    }
}

async fn forget_fingerprint(ctx: &ProcessContext, id: &str) {
    if let Err(e) = ctx.state.delete(LANDING_FINGERPRINT_COLLECTION, id).await {
        tracing::warn!(id, error = %e, "could not drop the landing fingerprint");
    }
}

/// Why the run cannot start, if an upstream table lacks rows (layer 4).
async fn missing_dependency(processor: &dyn Processor, ctx: &ProcessContext) -> Option<String> {
    for dep in processor.dependencies() {
        let table = dep.table.qualified();
        let sql = format!(
            "SELECT COUNT(*) AS n FROM {table} WHERE {} = {}",
            dep.table.partition,
            date_literal(ctx.game_date)
        );
        let rows = match ctx.warehouse.query(&sql).await {
            Ok(rows) => rows,
            Err(e) => {
                return Some(format!(
                    "dependency precheck: {table} could not be read for {}: {e}",
                    ctx.game_date
                ));
            }
        };
        let n = rows
            .first()
            .and_then(|r| r.get("n"))
            .and_then(|v| v.as_u64().or_else(|| v.as_str()?.parse().ok()))
            .unwrap_or(0);
        if n < dep.min_rows {
            return Some(format!(
                "dependency precheck: {table} has {n} rows for {} (needs at least {})",
                ctx.game_date, dep.min_rows
            ));
        }
    }
    None
}

/// The content hash of every entity of the date in the processor's output
/// tables but run history ([`TableDef::is_run_history`]): an entity is the
/// value of the table's [`TableDef::entity_column`] ([`WHOLE_DATE`] without
/// one); all columns but run metadata, rows in a canonical order, first 16
/// hex digits of SHA-256 (the reference's `data_hash`).
pub async fn hash_outputs(
    processor: &dyn Processor,
    ctx: &ProcessContext,
) -> Result<EntityHashes, WarehouseError> {
    let mut hashes = EntityHashes::new();
    for def in processor.outputs().iter().filter(|d| !d.is_run_history()) {
        let columns: Vec<&str> = def
            .columns
            .iter()
            .map(|c| c.name)
            .filter(|c| !TableDef::is_run_metadata(c))
            .collect();
        let entity = def.entity_column();
        let list = columns.join(", ");
        let rows = ctx
            .warehouse
            .query(&format!(
                "SELECT {list} FROM {} WHERE {} = {} ORDER BY {list}",
                def.qualified(),
                def.partition,
                date_literal(ctx.game_date)
            ))
            .await?;
        let mut hashers: BTreeMap<String, Sha256> = BTreeMap::new();
        for row in &rows {
            let key = entity
                .and_then(|c| row.get(c))
                .and_then(|v| match v {
                    serde_json::Value::Null => None,
                    serde_json::Value::String(s) => Some(s.clone()),
                    other => Some(other.to_string()),
                })
                .unwrap_or_else(|| WHOLE_DATE.to_string());
            let hasher = hashers.entry(key).or_default();
            for column in &columns {
                let value = row.get(*column).unwrap_or(&serde_json::Value::Null);
                hasher.update(column.as_bytes());
                hasher.update(b"=");
                hasher.update(value.to_string().as_bytes());
                hasher.update(b"\x1f");
            }
            hasher.update(b"\x1e");
        }
        let table = hashers
            .into_iter()
            .map(|(entity, hasher)| {
                let mut hex = hex::encode(hasher.finalize());
                hex.truncate(16);
                (entity, hex)
            })
            .collect();
        hashes.insert(def.qualified(), table);
    }
    Ok(hashes)
}

/// The entities added, removed or changed between two rounds' hashes;
/// [`Change::Full`] when the whole-date entity is among them.
pub fn diff(previous: &EntityHashes, current: &EntityHashes) -> Change {
    let empty = BTreeMap::new();
    let mut changed = BTreeSet::new();
    let tables: BTreeSet<&String> = previous.keys().chain(current.keys()).collect();
    for table in tables {
        let before = previous.get(table).unwrap_or(&empty);
        let after = current.get(table).unwrap_or(&empty);
        for entity in before.keys().chain(after.keys()) {
            if before.get(entity) != after.get(entity) {
                changed.insert(entity.clone());
            }
        }
    }
    if changed.contains(WHOLE_DATE) {
        Change::Full
    } else {
        Change::Entities(changed)
    }
}

async fn load_hashes(ctx: &ProcessContext, id: &str) -> Option<EntityHashes> {
    match ctx.state.get(ENTITY_HASH_COLLECTION, id).await {
        Ok(Some(doc)) => match serde_json::from_value(doc) {
            Ok(h) => Some(h),
            Err(e) => {
                tracing::warn!(doc = id, error = %e, "stored entity hashes unreadable; comparing nothing");
                None
            }
        },
        Ok(None) => None,
        Err(e) => {
            tracing::warn!(doc = id, error = %e, "entity hashes unreadable; comparing nothing");
            None
        }
    }
}

async fn store_hashes(ctx: &ProcessContext, id: &str, hashes: &EntityHashes) {
    let value = serde_json::to_value(hashes).expect("hashes serialise");
    if let Err(e) = ctx.state.put(ENTITY_HASH_COLLECTION, id, &value).await {
        tracing::warn!(doc = id, error = %e, "could not store the entity hashes");
        forget_hashes(ctx, id).await;
    }
}

async fn forget_hashes(ctx: &ProcessContext, id: &str) {
    if let Err(e) = ctx.state.delete(ENTITY_HASH_COLLECTION, id).await {
        tracing::warn!(doc = id, error = %e, "could not delete the entity hashes");
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
    let status = match report.status() {
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
        phase: processor.phase().into(),
        game_date: ctx.game_date.to_string(),
        status: status as i32,
        record_count: report.output.total_rows() as i64,
        records_failed: report.output.quarantine.len() as i64,
        duration_seconds: report.duration().as_secs_f64(),
        correlation_id: ctx.correlation_id.clone(),
        execution_id: report.run_id().to_string(),
        entities_changed,
        is_incremental,
        error_message: report.error().unwrap_or_default().to_string(),
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
