//! `propcast serve ROLE`: one deployable unit of the pipeline as an HTTP
//! service that Pub/Sub pushes to (see `propcast_service` for the push
//! endpoint, its authentication and health routes).
//!
//! | role           | pushed from            | does                                        |
//! |----------------|------------------------|---------------------------------------------|
//! | `raw`          | `landing-events`       | phase 2 of the date                         |
//! | `orchestrator` | `processor-completions`| records completions, fires 2→3, 3→4, 4→5; sweeps the tiered timeouts |
//! | `analytics`    | `phase3-trigger`       | phase 3                                     |
//! | `precompute`   | `phase4-trigger`       | phase 4                                     |
//! | `coordinator`  | `phase5-trigger`       | the predictions; then `predictions-ready`   |
//! | `grading`      | `predictions-ready`    | grades the date's predictions               |
//! | `dashboard`    | (a browser)            | read-only web pages: `propcast_dashboard`   |
//! | `scraper`      | Cloud Scheduler (`POST /scrape`) | phase 1 of the date, then `landing-events` (`crate::scrape::serve`) |
//!
//! Every phase service publishes its processors' completions on
//! `processor-completions` and records their run history, exactly as the
//! in-process flow does; the tables are the same.

use crate::pipeline::{Pipeline, ServedPhase};
use anyhow::Context;
use async_trait::async_trait;
use bytes::Bytes;
use chrono::NaiveDate;
use propcast_orchestrator::{Mode, Outcome, Transition, Trigger};
use propcast_platform::{CORRELATION_ATTRIBUTE, Delivery, EventBus};
use propcast_proto::v1::{LandingEvent, PhaseTrigger, ProcessorCompletion, TriggerUpstream};
use propcast_service::{HandleError, PushHandler};
use prost::Message;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tracing::Instrument;

/// Where phase 1 announces a landed date (a [`LandingEvent`]).
pub const LANDING_TOPIC: &str = "landing-events";
/// Where the coordinator announces a date's predictions (its
/// [`ProcessorCompletion`]) for grading.
pub const PREDICTIONS_READY_TOPIC: &str = "predictions-ready";
/// The attribute carrying the phase-5 trigger's claim id to grading.
const CLAIM_ATTRIBUTE: &str = "claim_id";

/// The deployable units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Role {
    Raw,
    Analytics,
    Precompute,
    Coordinator,
    Worker,
    Grading,
    Orchestrator,
    /// Read-only web pages (`propcast_dashboard`): no push, no landing zone.
    Dashboard,
    /// Phase 1 on `POST /scrape` (Cloud Scheduler): scrapes, then
    /// publishes the landing event.
    Scraper,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Raw => "raw",
            Role::Analytics => "analytics",
            Role::Precompute => "precompute",
            Role::Coordinator => "coordinator",
            Role::Worker => "worker",
            Role::Grading => "grading",
            Role::Orchestrator => "orchestrator",
            Role::Dashboard => "dashboard",
            Role::Scraper => "scraper",
        }
    }

    /// The topic whose push subscription targets this role.
    pub fn topic(self) -> Option<&'static str> {
        match self {
            Role::Raw => Some(LANDING_TOPIC),
            Role::Orchestrator => Some(propcast_orchestrator::COMPLETIONS_TOPIC),
            Role::Analytics => Some(Transition::Phase2To3.trigger_topic()),
            Role::Precompute => Some(Transition::Phase3To4.trigger_topic()),
            Role::Coordinator => Some(Transition::Phase4To5.trigger_topic()),
            Role::Grading => Some(PREDICTIONS_READY_TOPIC),
            Role::Worker | Role::Dashboard | Role::Scraper => None,
        }
    }

    /// The push subscription's name: `{role}-push`.
    pub fn subscription(self) -> String {
        format!("{}-push", self.name())
    }
}

fn poison(e: impl std::fmt::Display) -> HandleError {
    HandleError::Poison(e.to_string())
}

fn retry(e: anyhow::Error) -> HandleError {
    HandleError::Retry(format!("{e:#}"))
}

async fn ready(pipeline: &Pipeline) -> Result<(), String> {
    let backends = pipeline.backends();
    backends
        .warehouse
        .query("SELECT 1 AS ok")
        .await
        .map_err(|e| format!("warehouse: {e}"))?;
    backends
        .state
        .get("readiness", "probe")
        .await
        .map_err(|e| format!("state store: {e}"))?;
    Ok(())
}

/// Phase 2 on a [`LandingEvent`].
pub struct RawService {
    pub pipeline: Arc<Pipeline>,
}

/// A landing event, read at the edge: each error names the field.
pub fn read_landing(data: &[u8]) -> Result<(NaiveDate, Mode, LandingEvent), String> {
    let event = LandingEvent::decode(data).map_err(|e| format!("not a LandingEvent: {e}"))?;
    let date = event
        .game_date
        .parse::<NaiveDate>()
        .map_err(|_| format!("game_date: {:?} is not a YYYY-MM-DD date", event.game_date))?;
    let mode = event
        .mode
        .parse::<Mode>()
        .map_err(|e| format!("mode: {e}"))?;
    if event.round_id.trim().is_empty() {
        return Err("round_id: empty".to_string());
    }
    Ok((date, mode, event))
}

#[async_trait]
impl PushHandler for RawService {
    fn role(&self) -> &str {
        "raw"
    }

    async fn handle(&self, _subscription: &str, delivery: &Delivery) -> Result<(), HandleError> {
        let (date, mode, event) = read_landing(&delivery.data).map_err(poison)?;
        let correlation = if event.correlation_id.is_empty() {
            format!("{}/{date}", event.round_id)
        } else {
            event.correlation_id.clone()
        };
        let served = self
            .pipeline
            .serve_landing(date, mode, &event.round_id, &correlation)
            .await
            .map_err(retry)?;
        log_served("raw", date, &served);
        Ok(())
    }

    async fn ready(&self) -> Result<(), String> {
        ready(&self.pipeline).await
    }
}

fn log_served(role: &str, date: NaiveDate, served: &ServedPhase) {
    for report in &served.reports {
        tracing::info!(
            role, game_date = %date, processor = %report.run.processor,
            status = %report.run.status, skip_reason = report.run.skip_reason.as_deref().unwrap_or(""),
            rows = report.output.total_rows(), "processor run"
        );
    }
}

/// Phases 3, 4 and the coordinator's share of 5, on their trigger.
pub struct PhaseService {
    pub pipeline: Arc<Pipeline>,
    pub role: Role,
    pub transition: Transition,
}

impl PhaseService {
    fn runs(&self, processor: &str) -> bool {
        match self.role {
            Role::Coordinator => processor == propcast_prediction_worker::coordinator::NAME,
            _ => true,
        }
    }
}

#[async_trait]
impl PushHandler for PhaseService {
    fn role(&self) -> &str {
        self.role.name()
    }

    async fn handle(&self, _subscription: &str, delivery: &Delivery) -> Result<(), HandleError> {
        let trigger = Trigger::read(self.transition, &delivery.data).map_err(poison)?;
        let served = self
            .pipeline
            .serve_trigger(&trigger, &|name| self.runs(name))
            .await
            .map_err(retry)?;
        log_served(self.role.name(), trigger.game_date, &served);
        if self.role == Role::Coordinator {
            // Grading is its own service: hand it the coordinator's
            // completion, with the claim the phase ran under.
            let bus = &self.pipeline.backends().bus;
            for published in &served.published {
                if published.attributes.get("processor").map(String::as_str)
                    != Some(propcast_prediction_worker::coordinator::NAME)
                {
                    continue;
                }
                let mut attributes = published.attributes.clone();
                attributes.insert(CLAIM_ATTRIBUTE.to_string(), trigger.claim_id.clone());
                bus.publish(PREDICTIONS_READY_TOPIC, published.data.clone(), attributes)
                    .await
                    .map_err(|e| {
                        HandleError::Retry(format!("publishing predictions-ready: {e}"))
                    })?;
            }
        }
        Ok(())
    }

    async fn ready(&self) -> Result<(), String> {
        ready(&self.pipeline).await
    }
}

/// Grading, on the coordinator's completion.
pub struct GradingService {
    pub pipeline: Arc<Pipeline>,
}

/// The phase-5 trigger grading runs under, rebuilt from the coordinator's
/// completion: the same date, mode, round and claim, with the coordinator
/// as its upstream run.
pub fn grading_trigger(
    completion: &ProcessorCompletion,
    attributes: &BTreeMap<String, String>,
) -> Result<Trigger, String> {
    let claim = attributes
        .get(CLAIM_ATTRIBUTE)
        .cloned()
        .ok_or_else(|| format!("attribute {CLAIM_ATTRIBUTE}: missing"))?;
    let upstream = TriggerUpstream {
        status: completion.status().as_str().to_string(),
        execution_id: completion.execution_id.clone(),
        record_count: completion.record_count,
        is_incremental: completion.is_incremental,
        entities_changed: completion.entities_changed.clone(),
        up_to_date: completion.up_to_date,
    };
    let message = PhaseTrigger {
        transition: Transition::Phase4To5.as_str().to_string(),
        phase: propcast_core::Phase::Predictions.into(),
        game_date: completion.game_date.clone(),
        mode: completion.mode.clone(),
        round_id: completion.round_id.clone(),
        reason: "predictions ready".to_string(),
        claim_id: claim,
        triggered_at: String::new(),
        correlation_id: completion.correlation_id.clone(),
        processors: BTreeMap::from([(completion.processor.clone(), upstream)])
            .into_iter()
            .collect(),
        is_incremental: completion.is_incremental,
        entities_changed: completion.entities_changed.clone(),
    };
    Trigger::read(
        Transition::Phase4To5,
        &Bytes::from(Message::encode_to_vec(&message)),
    )
    .map_err(|e| e.to_string())
}

#[async_trait]
impl PushHandler for GradingService {
    fn role(&self) -> &str {
        "grading"
    }

    async fn handle(&self, _subscription: &str, delivery: &Delivery) -> Result<(), HandleError> {
        let completion = ProcessorCompletion::decode(&delivery.data[..])
            .map_err(|e| poison(format!("not a ProcessorCompletion: {e}")))?;
        if completion.processor != propcast_prediction_worker::coordinator::NAME {
            return Err(poison(format!(
                "processor: {:?} is not {}; only the coordinator's completions come here",
                completion.processor,
                propcast_prediction_worker::coordinator::NAME
            )));
        }
        let trigger = grading_trigger(&completion, &delivery.attributes).map_err(poison)?;
        let served = self
            .pipeline
            .serve_trigger(&trigger, &|name| {
                name == propcast_prediction_worker::grading::NAME
            })
            .await
            .map_err(retry)?;
        log_served("grading", trigger.game_date, &served);
        Ok(())
    }

    async fn ready(&self) -> Result<(), String> {
        ready(&self.pipeline).await
    }
}

/// The orchestrator on pushed completions.
pub struct OrchestratorService {
    pub pipeline: Arc<Pipeline>,
}

#[async_trait]
impl PushHandler for OrchestratorService {
    fn role(&self) -> &str {
        "orchestrator"
    }

    async fn handle(&self, _subscription: &str, delivery: &Delivery) -> Result<(), HandleError> {
        match self
            .pipeline
            .orchestrator()
            .on_payload(&delivery.data)
            .await
        {
            Ok(Outcome::Fired(fired)) => {
                propcast_orchestrator::service::log_fired(&fired, "fired");
                Ok(())
            }
            Ok(_) => Ok(()),
            Err(e) if e.is_retryable() => Err(HandleError::Retry(e.to_string())),
            Err(e) => Err(poison(e)),
        }
    }

    async fn ready(&self) -> Result<(), String> {
        ready(&self.pipeline).await
    }
}

/// Sweeps the 4→5 tiered timeouts every `every` until the process stops.
pub async fn sweep_timeouts(pipeline: Arc<Pipeline>, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) =
            propcast_orchestrator::service::sweep_timeouts(pipeline.orchestrator()).await
        {
            tracing::warn!(error = %e, "timeout sweep failed; retried on the next sweep");
        }
    }
}

/// The handler of `role` over `pipeline`.
pub fn handler(role: Role, pipeline: Arc<Pipeline>) -> anyhow::Result<Arc<dyn PushHandler>> {
    Ok(match role {
        Role::Raw => Arc::new(RawService { pipeline }),
        Role::Analytics => Arc::new(PhaseService {
            pipeline,
            role,
            transition: Transition::Phase2To3,
        }),
        Role::Precompute => Arc::new(PhaseService {
            pipeline,
            role,
            transition: Transition::Phase3To4,
        }),
        Role::Coordinator => Arc::new(PhaseService {
            pipeline,
            role,
            transition: Transition::Phase4To5,
        }),
        Role::Grading => Arc::new(GradingService { pipeline }),
        Role::Orchestrator => Arc::new(OrchestratorService { pipeline }),
        Role::Worker => anyhow::bail!("the worker role serves gRPC, not Pub/Sub push"),
        Role::Dashboard => anyhow::bail!("the dashboard serves web pages, not Pub/Sub push"),
        Role::Scraper => anyhow::bail!("the scraper serves POST /scrape, not Pub/Sub push"),
    })
}

/// Publishes what phase 1 would when `date` has landed.
pub async fn publish_landing(
    bus: &dyn EventBus,
    date: NaiveDate,
    mode: Mode,
    round: &str,
    source: &str,
) -> anyhow::Result<String> {
    bus.create_topic(LANDING_TOPIC)
        .await
        .with_context(|| format!("creating topic {LANDING_TOPIC}"))?;
    let event = LandingEvent {
        game_date: date.to_string(),
        mode: mode.as_str().to_string(),
        round_id: round.to_string(),
        correlation_id: format!("{round}/{date}"),
        source: source.to_string(),
    };
    let attributes = BTreeMap::from([
        ("game_date".to_string(), date.to_string()),
        (
            CORRELATION_ATTRIBUTE.to_string(),
            event.correlation_id.clone(),
        ),
    ]);
    // The date's trace starts here: the raw service's delivery continues it.
    let span = crate::pipeline::landing_span(date, date, 1, &event.correlation_id, round);
    bus.publish(
        LANDING_TOPIC,
        Bytes::from(Message::encode_to_vec(&event)),
        attributes,
    )
    .instrument(span)
    .await
    .with_context(|| format!("publishing the landing event of {date}"))
}

/// The topics `role` publishes to, created when missing (best effort: a
/// deployment creates them from deploy/pubsub, and its service account may
/// not be allowed to).
async fn ensure_topics(role: Role, bus: &dyn EventBus) {
    let mut topics = vec![propcast_orchestrator::COMPLETIONS_TOPIC];
    match role {
        Role::Orchestrator => topics.extend(Transition::ALL.iter().map(|t| t.trigger_topic())),
        Role::Coordinator => topics.push(PREDICTIONS_READY_TOPIC),
        _ => {}
    }
    if let Some(topic) = role.topic() {
        topics.push(topic);
    }
    for topic in topics {
        if let Err(e) = bus.create_topic(topic).await {
            tracing::warn!(topic, error = %e, "could not create the topic; it must exist already");
        }
    }
}

/// Serves `role` on 0.0.0.0:`port` until SIGTERM or Ctrl-C.
pub async fn run(
    role: Role,
    port: u16,
    auth: Option<propcast_service::PushAuthConfig>,
    pipeline: Arc<Pipeline>,
    sweep_every: Duration,
) -> anyhow::Result<()> {
    if role == Role::Worker {
        return run_worker(port, pipeline).await;
    }
    let handler = handler(role, pipeline.clone())?;
    ensure_topics(role, pipeline.backends().bus.as_ref()).await;
    let sweep = (role == Role::Orchestrator)
        .then(|| tokio::spawn(sweep_timeouts(pipeline.clone(), sweep_every)));
    let router = propcast_service::router(
        handler,
        auth.map(|a| Arc::new(propcast_service::PushAuth::new(a))),
        pipeline.backends().state.clone(),
    );
    let listener = bind(port).await?;
    tracing::info!(
        role = role.name(),
        addr = %listener.local_addr()?,
        subscription = role.subscription(),
        topic = role.topic().unwrap_or(""),
        "serving"
    );
    propcast_service::serve(
        listener,
        router,
        propcast_service::shutdown_signal(),
        propcast_service::SHUTDOWN_GRACE,
    )
    .await
    .context("serving HTTP")?;
    if let Some(sweep) = sweep {
        sweep.abort();
    }
    pipeline.backends().bus.close().await?;
    tracing::info!(role = role.name(), "stopped");
    Ok(())
}

/// The listener of a service role, on every interface.
pub(crate) async fn bind(port: u16) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(("0.0.0.0", port))
        .await
        .with_context(|| {
            format!("binding port {port}: is another process using it? pass --port or set PORT")
        })
}

/// The dashboard role: read-only pages over the configured backends, on
/// 0.0.0.0:`port` until SIGTERM or Ctrl-C. It opens the backends per page
/// (`propcast_dashboard::Dashboard`), so it starts without them.
pub async fn run_dashboard(config: propcast_platform::Config, port: u16) -> anyhow::Result<()> {
    let listener = bind(port).await?;
    tracing::info!(
        role = "dashboard",
        addr = %listener.local_addr()?,
        warehouse = %config.warehouse,
        state = %config.state,
        "serving"
    );
    propcast_dashboard::serve(listener, config, propcast_service::shutdown_signal())
        .await
        .context("serving HTTP")?;
    tracing::info!(role = "dashboard", "stopped");
    Ok(())
}

/// The worker role: `propcast.v1.PredictionWorker` over gRPC (h2c) with
/// `grpc.health.v1.Health`, the systems of the coordinator (`gbdt_v1` when
/// a model is loaded), until SIGTERM.
async fn run_worker(port: u16, pipeline: Arc<Pipeline>) -> anyhow::Result<()> {
    let gbdt = pipeline.model().map(|m| {
        Box::new(propcast_prediction_worker::GbdtSystem::new(m))
            as Box<dyn propcast_prediction_worker::PredictionSystem>
    });
    let coordinator = propcast_prediction_worker::PredictionCoordinator::standard(gbdt)
        .expect("the standard systems are distinct");
    let backends = pipeline.backends();
    let worker = propcast_prediction_worker::grpc::WorkerService::new(
        Arc::new(coordinator),
        backends.warehouse.clone(),
        backends.state.clone(),
    );
    let listener = bind(port).await?;
    tracing::info!(role = "worker", addr = %listener.local_addr()?, "serving gRPC");
    propcast_prediction_worker::grpc::serve_worker(
        listener,
        worker,
        propcast_service::shutdown_signal(),
    )
    .await
    .context("serving gRPC")?;
    tracing::info!(role = "worker", "stopped");
    Ok(())
}
