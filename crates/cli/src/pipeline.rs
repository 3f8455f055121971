//! The pipeline as users run it: an in-process event flow on the embedded
//! (or any) state store and event bus.
//!
//! For one date the phase 2 processors run first, as a landing-zone
//! notification would start them. Every processor run, inside the layers of
//! [`propcast_patterns::layers`], publishes its [`ProcessorCompletion`] on
//! [`COMPLETIONS_TOPIC`]; the [`Orchestrator`] consumes them and, in
//! state-store transactions, fires each transition (2→3, 3→4, 4→5) exactly
//! once per date, mode and round by publishing a [`PhaseTrigger`]; the
//! phase runners consume the triggers and run the next phase's processors,
//! which publish their completions in turn. [`Pipeline::run_date`] pumps
//! the bus until it is empty, so a date's chain has finished when it
//! returns. Anything left on the bus by an interrupted invocation is
//! consumed too (at-least-once; the idempotency layer turns duplicates into
//! recorded no-ops). A message no redelivery could make readable (not the
//! expected protobuf, a field out of range or a trigger on the wrong topic)
//! is acknowledged into a [`DeadLetter`] with the reason, and the rest
//! flows on.
//!
//! [`ProcessorCompletion`]: propcast_proto::v1::ProcessorCompletion

use anyhow::Context;
use bytes::Bytes;
use chrono::{NaiveDate, Utc};
use propcast_core::date::today_eastern;
use propcast_core::tables::ALL_TABLES;
use propcast_orchestrator::{Fired, Mode, Orchestrator, Transition, Trigger};
use propcast_patterns::{
    Coverage, LayerOptions, LayeredRun, Ledger, Phase, ProcessContext, Processor, RangeDate,
    RunMode, RunReport, RunStatus, range_span, record_date_runs, record_runs, record_status,
    run_layered, run_layered_range, run_span, skip_report,
};
use propcast_platform::{CORRELATION_ATTRIBUTE, DeadLetter, dead_letter};
use propcast_prediction_worker::grpc::WorkerPool;
use propcast_prediction_worker::{
    GbdtSystem, PredictionCoordinator, PredictionGrading, PredictionSystem, TrainedModel,
};
use prost::Message;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tracing::Instrument;

pub use propcast_orchestrator::COMPLETIONS_TOPIC;
use propcast_orchestrator::service::MAX_ATTEMPTS;
/// The backends a pipeline runs on, assembled in `propcast-platform`.
pub use propcast_platform::Backends;

/// The phase runner's subscription to a transition's trigger topic.
pub fn runner_subscription(transition: Transition) -> String {
    format!("{}-runner", transition.trigger_topic())
}

/// A message the flow put on the bus, kept so it can be inspected or
/// re-delivered.
#[derive(Debug, Clone)]
pub struct Published {
    pub topic: String,
    pub data: Bytes,
    pub attributes: BTreeMap<String, String>,
}

/// What happened to one date in one invocation.
#[derive(Debug)]
pub struct DateOutcome {
    pub date: NaiveDate,
    /// The round (invocation id) the date ran in.
    pub round: String,
    /// Every processor's report, in the order they ran; a phase that was
    /// not triggered has skip reports saying why.
    pub reports: Vec<RunReport>,
    /// Set when phases 3–5 did not run because 2→3 did not fire (no games,
    /// no payloads), with the reason.
    pub early_exit: Option<String>,
    /// The transitions this date fired.
    pub fired: Vec<Fired>,
    /// Every completion and trigger the date's chain published.
    pub published: Vec<Published>,
    /// Reports of other dates' runs found on the bus (left by an
    /// interrupted invocation) and run while pumping.
    pub other_dates: Vec<RunReport>,
    /// Messages found unreadable while pumping, acknowledged and kept in
    /// the state store with the reason.
    pub dead_letters: Vec<DeadLetter>,
}

impl DateOutcome {
    pub fn failed(&self) -> Vec<&RunReport> {
        self.reports
            .iter()
            .filter(|r| r.status() == RunStatus::Failed)
            .collect()
    }
}

/// How a date is run.
#[derive(Debug, Clone)]
pub struct DateRun {
    pub mode: RunMode,
    /// Recompute everything: no smart skip, no entity scope, no change
    /// detection. Always true in backfill.
    pub full: bool,
}

impl DateRun {
    pub fn backfill() -> Self {
        DateRun {
            mode: RunMode::Backfill,
            full: true,
        }
    }
    pub fn daily() -> Self {
        DateRun {
            mode: RunMode::Daily,
            full: false,
        }
    }
}

/// Every processor of every phase, in the order a date is processed. The
/// prediction coordinator runs the rule systems and the ensemble, plus
/// `gbdt_v1` when a trained model is given.
pub fn standard_processors(gbdt: Option<Arc<TrainedModel>>) -> Vec<Box<dyn Processor>> {
    standard_processors_on(gbdt, None)
}

/// [`standard_processors`], the coordinator sending its batches to
/// `workers` over gRPC when given.
pub fn standard_processors_on(
    gbdt: Option<Arc<TrainedModel>>,
    workers: Option<&WorkerPool>,
) -> Vec<Box<dyn Processor>> {
    let mut all = propcast_raw::processors();
    all.extend(propcast_analytics::processors());
    all.extend(propcast_precompute::processors());
    let gbdt = gbdt.map(|m| Box::new(GbdtSystem::new(m)) as Box<dyn PredictionSystem>);
    let coordinator =
        PredictionCoordinator::standard(gbdt).expect("the standard systems are distinct");
    all.push(Box::new(match workers {
        Some(pool) => coordinator.with_workers(pool.clone()),
        None => coordinator,
    }));
    all.push(Box::new(PredictionGrading));
    all
}

type Processors = Arc<Vec<Box<dyn Processor>>>;

pub struct Pipeline {
    backends: Backends,
    orchestrator: Orchestrator,
    /// "Today" in US Eastern for modes and the early exit; `None` = the
    /// real today.
    as_of: Option<NaiveDate>,
    /// Every processor, the coordinator without `gbdt_v1`.
    plain: Processors,
    /// The trained model and the processors whose coordinator runs it; set
    /// or swapped whole when a model is trained mid-backfill.
    with_model: Mutex<Option<(Arc<TrainedModel>, Processors)>>,
    /// The coordinator's gRPC workers (`propcast serve coordinator
    /// --workers`); `None`: in process.
    workers: Option<WorkerPool>,
}

/// How long the pump waits for a published message to be delivered
/// without any other progress before it gives up.
pub const DELIVERY_WAIT: std::time::Duration = std::time::Duration::from_secs(120);

/// What a service's share of a date did: its run reports and the
/// completions it published.
#[derive(Debug)]
pub struct ServedPhase {
    pub reports: Vec<RunReport>,
    pub published: Vec<Published>,
}

/// The state of one invocation while it pumps the bus: one date
/// ([`Pipeline::run_date`]) or a range of them ([`Pipeline::run_range`]).
struct Pump {
    /// The dates this invocation runs in its round.
    dates: BTreeSet<NaiveDate>,
    round: String,
    full: bool,
    as_of: NaiveDate,
    /// Run each phase of the round's dates as one range
    /// ([`run_layered_range`]) instead of date by date.
    range: bool,
    /// Every report of the round's dates, per date, in the order they ran.
    reports: BTreeMap<NaiveDate, Vec<RunReport>>,
    other_dates: Vec<RunReport>,
    fired: Vec<Fired>,
    /// What was published, with the date it is about.
    published: Vec<(NaiveDate, Published)>,
    /// Upstream changes per (date, round).
    ledgers: BTreeMap<(NaiveDate, String), Ledger>,
    /// (date, phase) whose trigger this round received.
    phases_run: BTreeSet<(NaiveDate, Phase)>,
    dead_letters: Vec<DeadLetter>,
    /// Messages this pump published (or re-published) and must see
    /// delivered before the date's chain is known to be finished.
    expected: usize,
    /// Messages delivered to it so far (acknowledged, dead-lettered or
    /// nacked).
    delivered: usize,
}

impl Pump {
    fn new(date: NaiveDate, round: &str, full: bool, as_of: NaiveDate) -> Self {
        Self::over(&[date], round, full, as_of, false)
    }

    fn over(dates: &[NaiveDate], round: &str, full: bool, as_of: NaiveDate, range: bool) -> Self {
        Pump {
            dates: dates.iter().copied().collect(),
            round: round.to_string(),
            full,
            as_of,
            range,
            reports: BTreeMap::new(),
            other_dates: Vec::new(),
            fired: Vec::new(),
            published: Vec::new(),
            ledgers: BTreeMap::new(),
            phases_run: BTreeSet::new(),
            dead_letters: Vec::new(),
            expected: 0,
            delivered: 0,
        }
    }

    /// Whether a run of `date` in `round` belongs to this invocation.
    fn current(&self, date: NaiveDate, round: &str) -> bool {
        round == self.round && self.dates.contains(&date)
    }

    fn push_report(&mut self, report: RunReport) {
        let date = report.run.game_date;
        if self.current(date, &report.run.round_id) {
            self.reports.entry(date).or_default().push(report);
        } else {
            self.other_dates.push(report);
        }
    }
}

impl Pipeline {
    /// The standard pipeline without the `gbdt_v1` system.
    pub fn new(backends: Backends) -> Self {
        Self::with_model(backends, None)
    }

    /// The standard pipeline, predicting with `model` too when given — on
    /// the dates after its training window only, so a model never predicts
    /// a game it was trained on.
    pub fn with_model(backends: Backends, model: Option<Arc<TrainedModel>>) -> Self {
        let orchestrator = Orchestrator::new(backends.state.clone(), backends.bus.clone());
        let pipeline = Pipeline {
            backends,
            orchestrator,
            as_of: None,
            plain: Arc::new(standard_processors(None)),
            with_model: Mutex::new(None),
            workers: None,
        };
        if let Some(model) = model {
            pipeline.set_model(model);
        }
        pipeline
    }

    /// Runs as if today (US Eastern) were `as_of`: the daily mode of a date
    /// (overnight, same_day, tomorrow) and the early exit are decided
    /// against it.
    pub fn as_of(mut self, as_of: Option<NaiveDate>) -> Self {
        self.as_of = as_of;
        self
    }

    /// The coordinator sends its batches to `workers` over gRPC.
    pub fn with_workers(mut self, workers: WorkerPool) -> Self {
        self.plain = Arc::new(standard_processors_on(None, Some(&workers)));
        self.workers = Some(workers);
        if let Some(model) = self.model() {
            self.set_model(model);
        }
        self
    }

    /// From the next date on, predict with `model` as `gbdt_v1` as well.
    pub fn set_model(&self, model: Arc<TrainedModel>) {
        let processors = Arc::new(standard_processors_on(
            Some(model.clone()),
            self.workers.as_ref(),
        ));
        *lock(&self.with_model) = Some((model, processors));
    }

    /// The trained model the coordinator runs, if any.
    pub fn model(&self) -> Option<Arc<TrainedModel>> {
        lock(&self.with_model).as_ref().map(|(m, _)| m.clone())
    }

    /// The processors `date` runs: with `gbdt_v1` when a model trained on
    /// dates before `date` is set.
    pub fn processors_for(&self, date: NaiveDate) -> Processors {
        match &*lock(&self.with_model) {
            Some((model, processors)) if date > model.metadata().window.to => processors.clone(),
            _ => self.plain.clone(),
        }
    }

    pub fn backends(&self) -> &Backends {
        &self.backends
    }

    pub fn orchestrator(&self) -> &Orchestrator {
        &self.orchestrator
    }

    pub fn processors(&self) -> Processors {
        self.plain.clone()
    }

    /// Creates every table of the catalog that does not exist yet, and the
    /// flow's topics and subscriptions.
    pub async fn prepare(&self) -> anyhow::Result<()> {
        self.ensure_tables().await?;
        let bus = &self.backends.bus;
        self.orchestrator
            .ensure_subscription()
            .await
            .context("creating the completion and trigger topics")?;
        // A 60 s ack deadline, not the length of the longest phase: the
        // subscriber extends the lease of a trigger while its phase runs,
        // and a delivery lost on the way (seen on the Pub/Sub emulator when
        // a process restarts its streaming pull) comes back within a minute
        // instead of ten, well inside the pump's DELIVERY_WAIT.
        for transition in Transition::ALL {
            bus.create_subscription(
                transition.trigger_topic(),
                &runner_subscription(transition),
                Duration::from_secs(60),
                MAX_ATTEMPTS,
            )
            .await?;
        }
        Ok(())
    }

    /// Creates every table of the catalog that does not exist yet.
    pub async fn ensure_tables(&self) -> anyhow::Result<()> {
        for def in ALL_TABLES {
            self.backends
                .warehouse
                .ensure_table(def)
                .await
                .with_context(|| format!("creating {}", def.qualified()))?;
        }
        Ok(())
    }

    /// The orchestrator mode of a date run in `mode`.
    pub fn flow_mode(&self, date: NaiveDate, mode: RunMode) -> Mode {
        match mode {
            RunMode::Backfill => Mode::Backfill,
            RunMode::Daily => Mode::for_date(date, self.today()),
        }
    }

    fn today(&self) -> NaiveDate {
        self.as_of.unwrap_or_else(today_eastern)
    }

    /// Runs `date` through the event flow in a new round: phase 2 now, the
    /// later phases as their transitions fire. Backfill recomputes
    /// everything; a daily run is incremental against the previous round.
    pub async fn run_date(
        &self,
        date: NaiveDate,
        mode: RunMode,
        execution_id: &str,
    ) -> anyhow::Result<DateOutcome> {
        let run = match mode {
            RunMode::Backfill => DateRun::backfill(),
            RunMode::Daily => DateRun::daily(),
        };
        self.run_date_with(date, &run, execution_id).await
    }

    /// [`Self::run_date`] with explicit options. `round` identifies the
    /// invocation; every date of one backfill shares it.
    pub async fn run_date_with(
        &self,
        date: NaiveDate,
        run: &DateRun,
        round: &str,
    ) -> anyhow::Result<DateOutcome> {
        let mut pump = Pump::new(
            date,
            round,
            run.full || run.mode == RunMode::Backfill,
            self.today(),
        );
        let ctx = self.context(date, run.mode, round, format!("{round}/{date}"));
        self.run_raw(&ctx, self.flow_mode(date, run.mode), &mut pump)
            .instrument(landing_span(date, date, 1, &ctx.correlation_id, round))
            .await?;
        self.pump(&mut pump).await?;
        let mut outcomes = self.finish(pump, run.mode).await?;
        Ok(outcomes.remove(0))
    }

    /// Runs every date of `dates` (ascending, distinct) through the event
    /// flow in one round of full recomputation — the backfill's range path.
    /// Each phase runs as one range over the dates its transition fired for
    /// ([`run_layered_range`], each processor's
    /// [`Processor::process_range`]); the orchestrator still sees every
    /// date's completions and fires every date's transitions once, and each
    /// date gets its reports, run history and outcome as
    /// [`Self::run_date_with`] gives it. The tables end the same as running
    /// the dates one by one in order. Every date must run the same
    /// processors ([`Self::processors_for`]): a backfill splits its ranges
    /// where a model starts to predict.
    pub async fn run_range(
        &self,
        dates: &[NaiveDate],
        mode: RunMode,
        round: &str,
    ) -> anyhow::Result<Vec<DateOutcome>> {
        let Some(&first) = dates.first() else {
            return Ok(Vec::new());
        };
        let processors = self.processors_for(first);
        if let Some(other) = dates
            .iter()
            .find(|d| !Arc::ptr_eq(&self.processors_for(**d), &processors))
        {
            anyhow::bail!(
                "a range runs one set of processors: {first} and {other} differ (a model predicts one and not the other); split the range where the model starts"
            );
        }
        let mut pump = Pump::over(dates, round, true, self.today(), true);
        let days: Vec<RangeDate> = dates
            .iter()
            .map(|&date| RangeDate {
                ctx: self.context(date, mode, round, format!("{round}/{date}")),
                opts: self.landing_options(date, mode, &pump),
            })
            .collect();
        let last = dates[dates.len() - 1];
        let landing = landing_span(first, last, dates.len(), &days[0].ctx.correlation_id, round);
        for processor in processors.iter().filter(|p| p.phase() == Phase::Raw) {
            self.run_range_one(processor.as_ref(), &days, &mut pump)
                .instrument(landing.clone())
                .await?;
        }
        drop(landing);
        self.pump(&mut pump).await?;
        self.finish(pump, mode).await
    }

    /// The end of a date's (or a range's) run: a phase whose transition did
    /// not fire gets skip reports saying what it waited for, each date's
    /// reports are ordered by phase, and run history is recorded — every
    /// date of the pump in one write.
    async fn finish(&self, mut pump: Pump, mode: RunMode) -> anyhow::Result<Vec<DateOutcome>> {
        let round = pump.round.clone();
        let mut outcomes = Vec::with_capacity(pump.dates.len());
        for &date in &pump.dates {
            let flow_mode = self.flow_mode(date, mode);
            let processors = self.processors_for(date);
            let ctx = self.context(date, mode, &round, format!("{round}/{date}"));
            let mut reports = pump.reports.remove(&date).unwrap_or_default();
            // Phases whose transition did not fire are recorded as skipped,
            // with what the transition was waiting for.
            let mut early_exit = None;
            for transition in Transition::ALL {
                let phase = transition.downstream_phase();
                if pump.phases_run.contains(&(date, phase)) {
                    continue;
                }
                let reason = self
                    .not_fired_reason(transition, date, flow_mode, &round)
                    .await?;
                if transition == Transition::Phase2To3 {
                    early_exit = Some(reason.clone());
                }
                for processor in processors.iter().filter(|p| p.phase() == phase) {
                    reports.push(skip_report(processor.as_ref(), &ctx, &reason));
                }
            }
            // A layer's early exit (too old, off-season) skipped phase 2
            // itself: say that rather than what the transition waited for.
            let raw_exit = reports
                .iter()
                .filter(|r| r.phase() == Some(Phase::Raw))
                .map(|r| r.run.skip_reason.as_deref().unwrap_or_default())
                .find(|reason| reason.starts_with("early exit"));
            if let Some(reason) = raw_exit {
                early_exit = Some(reason.to_string());
            }
            reports.sort_by_key(|r| r.run.phase);
            let day = date.to_string();
            // What is about none of the pump's dates goes with the first.
            let first = outcomes.is_empty();
            let other = |d: &NaiveDate| first && !pump.dates.contains(d);
            outcomes.push(DateOutcome {
                date,
                round: round.clone(),
                reports,
                early_exit,
                fired: pump
                    .fired
                    .iter()
                    .filter(|f| {
                        f.key.game_date == day
                            || NaiveDate::parse_from_str(&f.key.game_date, "%Y-%m-%d")
                                .is_ok_and(|d| other(&d))
                    })
                    .cloned()
                    .collect(),
                published: pump
                    .published
                    .iter()
                    .filter(|(d, _)| *d == date || other(d))
                    .map(|(_, p)| p.clone())
                    .collect(),
                other_dates: Vec::new(),
                dead_letters: Vec::new(),
            });
        }
        let warehouse = self.backends.warehouse.as_ref();
        let days: Vec<(NaiveDate, &[RunReport], Coverage)> = outcomes
            .iter()
            .map(|o| {
                let processors = self.processors_for(o.date).len();
                (
                    o.date,
                    o.reports.as_slice(),
                    Coverage::WholeDate { processors },
                )
            })
            .collect();
        record_date_runs(warehouse, &days).await.with_context(|| {
            format!(
                "recording run history for {}",
                pump.dates
                    .iter()
                    .map(|d| d.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?;
        for report in &pump.other_dates {
            let date = report.run.game_date;
            record_runs(
                warehouse,
                date,
                std::slice::from_ref(report),
                Coverage::Some,
            )
            .await?;
        }
        // What was not about the invocation's own dates goes with the first.
        if let Some(first) = outcomes.first_mut() {
            first.other_dates = pump.other_dates;
            first.dead_letters = pump.dead_letters;
        }
        Ok(outcomes)
    }

    /// The layer options of a landing notification's phase 2 run.
    fn landing_options(&self, date: NaiveDate, mode: RunMode, pump: &Pump) -> LayerOptions {
        LayerOptions {
            flow_mode: self.flow_mode(date, mode).as_str().to_string(),
            trigger_id: "landing".to_string(),
            as_of: pump.as_of,
            full: pump.full,
        }
    }

    /// Runs phase 2 for one date, as a landing-zone notification starts
    /// it; each completion is published.
    async fn run_raw(
        &self,
        ctx: &ProcessContext,
        flow_mode: Mode,
        pump: &mut Pump,
    ) -> anyhow::Result<()> {
        let opts = LayerOptions {
            flow_mode: flow_mode.as_str().to_string(),
            trigger_id: "landing".to_string(),
            as_of: pump.as_of,
            full: pump.full,
        };
        let processors = self.processors_for(ctx.game_date);
        for processor in processors.iter().filter(|p| p.phase() == Phase::Raw) {
            self.run_one(processor.as_ref(), ctx, &opts, pump).await?;
        }
        Ok(())
    }

    /// The raw service's work for one landing notification: phase 2 of
    /// `date` in round `round`, its completions published for the
    /// orchestrator, its run history recorded. Nothing is pumped: the
    /// other phases are other services.
    pub async fn serve_landing(
        &self,
        date: NaiveDate,
        mode: Mode,
        round: &str,
        correlation_id: &str,
    ) -> anyhow::Result<ServedPhase> {
        let run_mode = run_mode_of(mode);
        let mut pump = Pump::new(date, round, run_mode == RunMode::Backfill, self.today());
        let ctx = self.context(date, run_mode, round, correlation_id.to_string());
        self.run_raw(&ctx, mode, &mut pump).await?;
        self.served(pump).await
    }

    /// A phase service's work for one trigger: the processors of its phase
    /// that `only` accepts, completions published, run history recorded.
    pub async fn serve_trigger(
        &self,
        trigger: &Trigger,
        only: &(dyn Fn(&str) -> bool + Sync),
    ) -> anyhow::Result<ServedPhase> {
        let run_mode = run_mode_of(trigger.mode);
        let mut pump = Pump::new(
            trigger.game_date,
            &trigger.round_id,
            run_mode == RunMode::Backfill,
            self.today(),
        );
        self.run_phase_of(trigger, &mut pump, only).await?;
        self.served(pump).await
    }

    async fn served(&self, pump: Pump) -> anyhow::Result<ServedPhase> {
        let mut reports: Vec<RunReport> = pump.reports.into_values().flatten().collect();
        reports.extend(pump.other_dates);
        let warehouse = self.backends.warehouse.as_ref();
        for report in &reports {
            record_runs(
                warehouse,
                report.run.game_date,
                std::slice::from_ref(report),
                Coverage::Some,
            )
            .await
            .with_context(|| format!("recording run history for {}", report.run.game_date))?;
        }
        Ok(ServedPhase {
            reports,
            published: pump.published.into_iter().map(|(_, p)| p).collect(),
        })
    }

    /// Publishes `messages` again (as a re-delivering bus would) and pumps
    /// the bus; returns the reports of what ran, duplicates included (they
    /// are recorded in run history as skips).
    pub async fn redeliver(
        &self,
        date: NaiveDate,
        round: &str,
        messages: &[Published],
    ) -> anyhow::Result<Vec<RunReport>> {
        let mut pump = Pump::new(date, round, false, self.today());
        for m in messages {
            self.backends
                .bus
                .publish(&m.topic, m.data.clone(), m.attributes.clone())
                .await?;
            pump.expected += 1;
        }
        self.pump(&mut pump).await?;
        let mut reports: Vec<RunReport> = pump.reports.into_values().flatten().collect();
        reports.append(&mut pump.other_dates);
        for report in &reports {
            let date = report.run.game_date;
            let warehouse = self.backends.warehouse.as_ref();
            record_runs(
                warehouse,
                date,
                std::slice::from_ref(report),
                Coverage::Some,
            )
            .await?;
        }
        Ok(reports)
    }

    fn context(
        &self,
        date: NaiveDate,
        mode: RunMode,
        round: &str,
        correlation_id: String,
    ) -> ProcessContext {
        ProcessContext {
            warehouse: self.backends.warehouse.clone(),
            landing: self.backends.landing.clone(),
            state: self.backends.state.clone(),
            game_date: date,
            mode,
            execution_id: round.to_string(),
            correlation_id,
            now: Utc::now(),
            scope: Default::default(),
        }
    }

    /// Runs one processor in the layers, notes its change and publishes its
    /// completion.
    async fn run_one(
        &self,
        processor: &dyn Processor,
        ctx: &ProcessContext,
        opts: &LayerOptions,
        pump: &mut Pump,
    ) -> anyhow::Result<()> {
        let key = (ctx.game_date, ctx.execution_id.clone());
        let ledger = pump.ledgers.entry(key).or_default().clone();
        let span = run_span(processor, ctx);
        async {
            let layered = run_layered(processor, ctx, &ledger, opts).await;
            record_status(&span, &layered.report);
            self.ran(processor, ctx.game_date, &ctx.execution_id, layered, pump)
                .await
        }
        .instrument(span.clone())
        .await
    }

    /// [`Self::run_one`] for every date of a range at once
    /// ([`run_layered_range`]).
    async fn run_range_one(
        &self,
        processor: &dyn Processor,
        days: &[RangeDate],
        pump: &mut Pump,
    ) -> anyhow::Result<()> {
        let (Some(first), Some(last)) = (days.first(), days.last()) else {
            return Ok(());
        };
        let span = range_span(processor, &first.ctx, last.ctx.game_date, days.len());
        self.run_range_in(processor, days, pump)
            .instrument(span)
            .await
    }

    /// [`Self::run_range_one`] inside its span.
    async fn run_range_in(
        &self,
        processor: &dyn Processor,
        days: &[RangeDate],
        pump: &mut Pump,
    ) -> anyhow::Result<()> {
        for (date, layered) in run_layered_range(processor, days).await {
            let round = days
                .iter()
                .find(|d| d.ctx.game_date == date)
                .map(|d| d.ctx.execution_id.clone())
                .unwrap_or_default();
            self.ran(processor, date, &round, layered, pump).await?;
        }
        Ok(())
    }

    /// Notes a layered run's change in its date's ledger, publishes its
    /// completion and keeps its report.
    async fn ran(
        &self,
        processor: &dyn Processor,
        date: NaiveDate,
        round: &str,
        layered: LayeredRun,
        pump: &mut Pump,
    ) -> anyhow::Result<()> {
        pump.ledgers
            .entry((date, round.to_string()))
            .or_default()
            .record(processor.name(), layered.change.clone());
        if let Some(completion) = &layered.completion {
            let attributes = BTreeMap::from([
                ("processor".to_string(), completion.processor.clone()),
                ("game_date".to_string(), completion.game_date.clone()),
                ("round_id".to_string(), completion.round_id.clone()),
                (
                    CORRELATION_ATTRIBUTE.to_string(),
                    completion.correlation_id.clone(),
                ),
            ]);
            let data = Bytes::from(Message::encode_to_vec(completion));
            self.backends
                .bus
                .publish(COMPLETIONS_TOPIC, data.clone(), attributes.clone())
                .await
                .with_context(|| format!("publishing the completion of {}", processor.name()))?;
            pump.published.push((
                date,
                Published {
                    topic: COMPLETIONS_TOPIC.to_string(),
                    data,
                    attributes,
                },
            ));
            pump.expected += 1;
        }
        pump.push_report(layered.report);
        Ok(())
    }

    /// Delivers everything on the bus until it is empty and every message
    /// this pump published has come back: completions to the orchestrator,
    /// triggers to the phase runners. A trigger that cannot be read is
    /// acknowledged into a dead letter, before anything runs. A bus that
    /// delivers late (Pub/Sub's streaming pull) is waited for, up to
    /// [`DELIVERY_WAIT`] without progress.
    async fn pump(&self, pump: &mut Pump) -> anyhow::Result<()> {
        let bus = self.backends.bus.clone();
        let mut last_progress = std::time::Instant::now();
        loop {
            let drained = self
                .orchestrator
                .drain()
                .await
                .context("handing completions to the orchestrator")?;
            let mut handled = drained.handled;
            // A nacked completion comes back: it is not delivered yet.
            let nacked = drained.nacked;
            for fired in drained.fired {
                let date =
                    NaiveDate::parse_from_str(&fired.key.game_date, "%Y-%m-%d").unwrap_or_default();
                pump.published.push((
                    date,
                    Published {
                        topic: fired.key.transition.trigger_topic().to_string(),
                        data: Bytes::from(Message::encode_to_vec(&fired.message)),
                        attributes: BTreeMap::new(),
                    },
                ));
                pump.fired.push(fired);
                pump.expected += 1;
            }
            pump.dead_letters.extend(drained.dead_letters);
            for transition in Transition::ALL {
                let subscription = runner_subscription(transition);
                // A range pump gathers every trigger of its own round's dates
                // on this topic and runs the phase once for all of them.
                let mut range: Vec<(Trigger, String)> = Vec::new();
                let mut deliveries = bus.pull(&subscription, 16).await?;
                while pump.range && !deliveries.is_empty() {
                    let more = bus.pull(&subscription, 256).await?;
                    if more.is_empty() {
                        break;
                    }
                    deliveries.extend(more);
                }
                // The triggers run as one range are handled under one
                // delivery span: the first one's child, linked to the others.
                let mut batch_span: Option<tracing::Span> = None;
                for delivery in deliveries {
                    handled += 1;
                    match Trigger::read(transition, &delivery.data) {
                        Ok(trigger)
                            if pump.range
                                && pump.current(trigger.game_date, &trigger.round_id)
                                && !range.iter().any(|(t, _)| t.game_date == trigger.game_date) =>
                        {
                            match &batch_span {
                                Some(span) => {
                                    propcast_telemetry::propagation::add_link_from_attributes(
                                        span,
                                        &delivery.attributes,
                                    )
                                }
                                None => batch_span = Some(delivery.span(&subscription)),
                            }
                            range.push((trigger, delivery.ack_id));
                        }
                        Ok(trigger) => {
                            self.run_phase(&trigger, pump)
                                .instrument(delivery.span(&subscription))
                                .await?;
                            bus.ack(&subscription, &[delivery.ack_id]).await?;
                        }
                        Err(bad) => {
                            let letter = dead_letter::acknowledge(
                                self.backends.state.as_ref(),
                                bus.as_ref(),
                                &subscription,
                                &delivery,
                                &bad,
                            )
                            .await?;
                            pump.dead_letters.push(letter);
                        }
                    }
                }
                if !range.is_empty() {
                    range.sort_by_key(|(t, _)| t.game_date);
                    let (triggers, acks): (Vec<Trigger>, Vec<String>) = range.into_iter().unzip();
                    self.run_phase_range(&triggers, pump)
                        .instrument(batch_span.take().unwrap_or_else(tracing::Span::none))
                        .await?;
                    bus.ack(&subscription, &acks).await?;
                }
            }
            pump.delivered += handled - nacked;
            if handled > 0 {
                last_progress = std::time::Instant::now();
                continue;
            }
            if pump.delivered >= pump.expected {
                return Ok(());
            }
            if last_progress.elapsed() > DELIVERY_WAIT {
                anyhow::bail!(
                    "the event bus delivered {} of the {} messages this run published within {} s of the last one; \
                     is another consumer (a deployed orchestrator or phase service) reading the same subscriptions? \
                     Stop it, or run this date through the services instead",
                    pump.delivered,
                    pump.expected,
                    DELIVERY_WAIT.as_secs()
                );
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// Runs the processors of the phase a trigger starts.
    async fn run_phase(&self, trigger: &Trigger, pump: &mut Pump) -> anyhow::Result<()> {
        self.run_phase_of(trigger, pump, &|_| true).await
    }

    /// [`Self::run_phase`], for the processors `only` accepts (by name).
    async fn run_phase_of(
        &self,
        trigger: &Trigger,
        pump: &mut Pump,
        only: &(dyn Fn(&str) -> bool + Sync),
    ) -> anyhow::Result<()> {
        let date = trigger.game_date;
        let mode = run_mode_of(trigger.mode);
        let current = pump.current(date, &trigger.round_id);
        if current {
            pump.phases_run.insert((date, trigger.phase));
        }
        pump.ledgers
            .entry((date, trigger.round_id.clone()))
            .or_default()
            .absorb(&trigger.message);
        let ctx = self.context(
            date,
            mode,
            &trigger.round_id,
            trigger.message.correlation_id.clone(),
        );
        let opts = LayerOptions {
            flow_mode: trigger.mode.as_str().to_string(),
            trigger_id: trigger.claim_id.clone(),
            as_of: pump.as_of,
            full: if current {
                pump.full
            } else {
                mode == RunMode::Backfill
            },
        };
        tracing::debug!(game_date = %date, phase = %trigger.phase, reason = %trigger.message.reason, "phase triggered");
        let processors = self.processors_for(date);
        for processor in processors
            .iter()
            .filter(|p| p.phase() == trigger.phase && only(p.name()))
        {
            self.run_one(processor.as_ref(), &ctx, &opts, pump).await?;
        }
        Ok(())
    }

    /// Runs the phase the triggers start (one phase, the pump's own round,
    /// distinct dates in ascending order) as one range per set of
    /// processors.
    async fn run_phase_range(&self, triggers: &[Trigger], pump: &mut Pump) -> anyhow::Result<()> {
        let mut groups: Vec<(Processors, Vec<RangeDate>)> = Vec::new();
        for trigger in triggers {
            let date = trigger.game_date;
            pump.phases_run.insert((date, trigger.phase));
            pump.ledgers
                .entry((date, trigger.round_id.clone()))
                .or_default()
                .absorb(&trigger.message);
            let day = RangeDate {
                ctx: self.context(
                    date,
                    run_mode_of(trigger.mode),
                    &trigger.round_id,
                    trigger.message.correlation_id.clone(),
                ),
                opts: LayerOptions {
                    flow_mode: trigger.mode.as_str().to_string(),
                    trigger_id: trigger.claim_id.clone(),
                    as_of: pump.as_of,
                    full: true,
                },
            };
            let processors = self.processors_for(date);
            match groups.last_mut() {
                Some((p, days)) if Arc::ptr_eq(p, &processors) => days.push(day),
                _ => groups.push((processors, vec![day])),
            }
        }
        for (processors, days) in groups {
            let phase = triggers[0].phase;
            tracing::debug!(from = %days[0].ctx.game_date, dates = days.len(), %phase, "phase triggered for a range");
            for processor in processors.iter().filter(|p| p.phase() == phase) {
                self.run_range_one(processor.as_ref(), &days, pump).await?;
            }
        }
        Ok(())
    }

    /// Why a transition did not fire for a date: what its critical set was
    /// still waiting for.
    async fn not_fired_reason(
        &self,
        transition: Transition,
        date: NaiveDate,
        mode: Mode,
        round: &str,
    ) -> anyhow::Result<String> {
        let upstream = transition.upstream_phase();
        let doc = self
            .orchestrator
            .document(transition, &date.to_string(), mode, round)
            .await?;
        let Some(doc) = doc else {
            return Ok(format!(
                "not triggered: no phase {upstream} processor completed for this date"
            ));
        };
        let statuses = doc.statuses();
        let config = self.orchestrator.config(transition, mode);
        let waiting: Vec<String> = config
            .critical()
            .iter()
            .filter(|p| !statuses.get(*p).is_some_and(|s| config.counts(p, *s)))
            .map(|p| match statuses.get(p) {
                Some(status) => format!("{p} ({status})"),
                None => format!("{p} (no completion)"),
            })
            .collect();
        Ok(format!(
            "not triggered: {transition} ({mode}) waits for {}",
            if waiting.is_empty() {
                "its share of optional processors".to_string()
            } else {
                waiting.join(", ")
            }
        ))
    }
}

/// The root span of a date's (or a range's) trace in process: its payloads
/// landed and phase 2 starts ([`propcast_telemetry::LANDING`]).
pub fn landing_span(
    first: NaiveDate,
    last: NaiveDate,
    dates: usize,
    correlation_id: &str,
    round: &str,
) -> tracing::Span {
    tracing::info_span!(
        target: propcast_telemetry::TARGET,
        propcast_telemetry::LANDING,
        game_date = %first,
        last_date = %last,
        dates,
        correlation_id,
        round_id = round,
    )
}

/// A poisoned lock only means another thread panicked mid-swap of a whole
/// value; the value itself is still whole.
/// The processors' run mode under an orchestrator mode.
pub fn run_mode_of(mode: Mode) -> RunMode {
    match mode {
        Mode::Backfill => RunMode::Backfill,
        Mode::Overnight | Mode::SameDay | Mode::Tomorrow => RunMode::Daily,
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::standard_processors;
    use propcast_patterns::Phase;

    /// Smart skip trusts the declared sources: each must name a processor
    /// that runs before it (an earlier phase, or earlier in its own), and
    /// every processor after phase 2 declares them.
    #[test]
    fn every_processor_declares_sources_that_run_before_it() {
        let all = standard_processors(None);
        for (i, p) in all.iter().enumerate() {
            let Some(sources) = p.sources() else {
                assert_eq!(p.phase(), Phase::Raw, "{} declares no sources", p.name());
                continue;
            };
            let earlier: Vec<&str> = all[..i].iter().map(|q| q.name()).collect();
            for s in sources {
                assert!(
                    earlier.contains(s),
                    "{}: source {s} does not run before it",
                    p.name()
                );
            }
        }
        // The zone analyses read nothing of the date itself (their inputs are
        // shots and summaries of earlier dates).
        for name in ["team_defense_zone_analysis", "player_shot_zone_analysis"] {
            let p = all.iter().find(|p| p.name() == name).unwrap();
            assert_eq!(p.sources(), Some(&[][..]), "{name}");
        }
        let scoped: Vec<&str> = all
            .iter()
            .filter(|p| p.supports_entity_scope())
            .map(|p| p.name())
            .collect();
        assert_eq!(
            scoped,
            [
                "team_offense_game_summary",
                "team_defense_game_summary",
                "player_game_summary",
                "prediction_grading"
            ]
        );
    }
}
