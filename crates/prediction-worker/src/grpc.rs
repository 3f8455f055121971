//! The coordinator → worker split over gRPC (`propcast.v1.PredictionWorker`).
//!
//! A **worker** ([`WorkerService`]) holds the same systems as the
//! coordinator. For a batch it loads the date's inputs from the warehouse
//! (once per date and run, then cached), selects exactly the requested
//! players, runs [`predict_batch`] under the systems' circuit breakers
//! (loaded from and flushed to the state store, as in process), and answers
//! with the predictions and the batch itself as JSON, so the coordinator
//! writes the rows it would have computed in process.
//!
//! The **coordinator** with a [`WorkerPool`] first asks every worker's
//! `Health` (the pre-flight check: the unready ones sit this date out, none
//! ready fails the run naming them), then sends every batch of the date
//! to the workers concurrently, batch *i* first to worker *i mod N*, each
//! call with a deadline. A transient failure (unavailable, deadline
//! exceeded, resource exhausted, aborted, a connection that broke) is
//! retried on the next worker after a jittered pause — so a batch whose
//! worker died or stalled is re-sent to another one — up to three rounds
//! over the pool. A batch's first answer is the one used (a late answer of
//! an abandoned call is dropped with its future), the rows are written once
//! by the coordinator, and `prediction_worker_runs` gets one row per batch.
//! Confidence is on a 0–1 scale everywhere, on the wire as in the tables.

use crate::circuit_breaker::{BreakerConfig, Breakers};
use crate::coordinator::{
    BatchOutcome, DateInputs, PredictionCoordinator, load_date_inputs, predict_batch,
    select_players,
};
use chrono::{DateTime, NaiveDate, Utc};
use propcast_patterns::ProcessError;
use propcast_platform::{StateStore, Warehouse};
use propcast_proto::v1::prediction_worker_client::PredictionWorkerClient;
use propcast_proto::v1::prediction_worker_server::{PredictionWorker, PredictionWorkerServer};
use propcast_proto::v1::{
    HealthRequest, HealthResponse, PlayerRequest, PredictPlayersRequest, PredictPlayersResponse,
    Prediction, SystemOutcome, SystemStatus,
};
use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Request, Response, Status};
use tracing::Instrument;

/// How long a cached date's inputs are kept.
const INPUTS_TTL: Duration = Duration::from_secs(300);

/// (date, execution id) → the date's inputs and when they were loaded.
type InputsCache = HashMap<(NaiveDate, String), (Arc<DateInputs>, Instant)>;

/// A prediction worker: the systems, and the backends it reads inputs and
/// breakers from.
pub struct WorkerService {
    coordinator: Arc<PredictionCoordinator>,
    warehouse: Arc<dyn Warehouse>,
    state: Arc<dyn StateStore>,
    breaker: BreakerConfig,
    /// (date, execution id) → inputs, loaded once per run.
    cache: tokio::sync::Mutex<InputsCache>,
    /// Calls received (tests look at it to see a recovery really ran).
    calls: Arc<std::sync::atomic::AtomicUsize>,
}

impl WorkerService {
    pub fn new(
        coordinator: Arc<PredictionCoordinator>,
        warehouse: Arc<dyn Warehouse>,
        state: Arc<dyn StateStore>,
    ) -> Self {
        WorkerService {
            coordinator,
            warehouse,
            state,
            breaker: BreakerConfig::default(),
            cache: tokio::sync::Mutex::new(HashMap::new()),
            calls: Arc::default(),
        }
    }

    /// The count of `PredictPlayers` calls received.
    pub fn calls(&self) -> Arc<std::sync::atomic::AtomicUsize> {
        self.calls.clone()
    }

    async fn inputs(&self, date: NaiveDate, execution: &str) -> Result<Arc<DateInputs>, Status> {
        let mut cache = self.cache.lock().await;
        cache.retain(|_, (_, at)| at.elapsed() < INPUTS_TTL);
        if let Some((inputs, _)) = cache.get(&(date, execution.to_string())) {
            return Ok(inputs.clone());
        }
        let inputs = Arc::new(
            load_date_inputs(self.warehouse.as_ref(), date)
                .await
                .map_err(|e| status_of(&e))?,
        );
        cache.insert(
            (date, execution.to_string()),
            (inputs.clone(), Instant::now()),
        );
        Ok(inputs)
    }
}

fn status_of(e: &ProcessError) -> Status {
    if e.is_retryable() {
        Status::unavailable(e.to_string())
    } else {
        Status::internal(e.to_string())
    }
}

#[tonic::async_trait]
impl PredictionWorker for WorkerService {
    async fn predict_players(
        &self,
        request: Request<PredictPlayersRequest>,
    ) -> Result<Response<PredictPlayersResponse>, Status> {
        self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let span = tracing::info_span!(
            target: propcast_telemetry::TARGET,
            propcast_telemetry::WORKER_BATCH,
            batch_id = %request.get_ref().batch_id,
            game_date = %request.get_ref().game_date,
            correlation_id = %request.get_ref().correlation_id,
            players = request.get_ref().players.len(),
        );
        propcast_telemetry::propagation::set_parent_from_metadata(&span, request.metadata());
        self.predict(request.into_inner()).instrument(span).await
    }

    async fn health(
        &self,
        _request: Request<HealthRequest>,
    ) -> Result<Response<HealthResponse>, Status> {
        let ids = self.coordinator.system_ids();
        let breakers = Breakers::load(self.state.as_ref(), &ids, self.breaker).await;
        let (ready, open) = match breakers {
            Ok(b) => (
                true,
                ids.iter()
                    .filter(|id| b.state_of(id) != crate::BreakerState::Closed)
                    .map(|id| id.to_string())
                    .collect(),
            ),
            Err(_) => (false, Vec::new()),
        };
        Ok(Response::new(HealthResponse {
            ready,
            version: env!("CARGO_PKG_VERSION").to_string(),
            systems: ids.iter().map(|s| s.to_string()).collect(),
            open_breakers: open,
        }))
    }
}

impl WorkerService {
    /// One batch, inside the worker's span.
    async fn predict(
        &self,
        request: PredictPlayersRequest,
    ) -> Result<Response<PredictPlayersResponse>, Status> {
        let date: NaiveDate = request.game_date.parse().map_err(|_| {
            Status::invalid_argument(format!(
                "game_date: {:?} is not a YYYY-MM-DD date",
                request.game_date
            ))
        })?;
        let now: DateTime<Utc> = DateTime::parse_from_rfc3339(&request.now)
            .map_err(|_| {
                Status::invalid_argument(format!("now: {:?} is not RFC 3339", request.now))
            })?
            .with_timezone(&Utc);
        let inputs = self.inputs(date, &request.execution_id).await?;
        let wanted: BTreeSet<&str> = request
            .players
            .iter()
            .map(|p| p.player_lookup.as_str())
            .collect();
        let (selected, _) = select_players(&inputs, self.coordinator.min_minutes());
        let batch: Vec<_> = selected
            .into_iter()
            .filter(|p| wanted.contains(p.cache.player_lookup.as_str()))
            .collect();
        if batch.len() != wanted.len() {
            return Err(Status::failed_precondition(format!(
                "{} of the {} requested players are predictable on {date} here: the worker's warehouse differs from the coordinator's",
                batch.len(),
                wanted.len()
            )));
        }
        let ids = self.coordinator.system_ids();
        let mut breakers = Breakers::load(self.state.as_ref(), &ids, self.breaker)
            .await
            .map_err(|e| Status::unavailable(e.to_string()))?;
        let out = predict_batch(
            &batch,
            &inputs,
            &self.coordinator.system_set(),
            &mut breakers,
            now,
            &request.execution_id,
        );
        breakers
            .flush(self.state.as_ref())
            .await
            .map_err(|e| Status::unavailable(e.to_string()))?;
        let predictions = out
            .rows
            .iter()
            .map(|r| Prediction {
                player_lookup: r.player_lookup.clone(),
                game_id: r.game_id.clone(),
                system_id: r.system_id.clone(),
                predicted_points: Some(r.predicted_points),
                confidence: r.confidence,
                recommendation: propcast_proto::v1::Recommendation::from_str_name(&format!(
                    "RECOMMENDATION_{}",
                    r.recommendation
                ))
                .unwrap_or(propcast_proto::v1::Recommendation::Unspecified)
                .into(),
                line_value: r.line_value,
                metadata_json: r.metadata.clone(),
            })
            .collect();
        let outcomes = out
            .systems
            .iter()
            .map(|(id, s)| SystemOutcome {
                system_id: id.clone(),
                status: if s.failed > 0 {
                    SystemStatus::Failed
                } else if s.attempted == 0 && s.skipped_by_breaker > 0 {
                    SystemStatus::SkippedByBreaker
                } else {
                    SystemStatus::Succeeded
                }
                .into(),
                error: String::new(),
                duration_ms: s.ms as u64,
            })
            .collect();
        tracing::info!(
            batch_id = %request.batch_id, game_date = %date, players = batch.len(),
            predictions = out.rows.len(), "batch predicted"
        );
        let batch_json = serde_json::to_string(&out)
            .map_err(|e| Status::internal(format!("serialising the batch: {e}")))?;
        Ok(Response::new(PredictPlayersResponse {
            predictions,
            outcomes,
            batch_json,
        }))
    }
}

/// Serves `worker` on `listener` (h2c) with `grpc.health.v1.Health`
/// reporting `propcast.v1.PredictionWorker` SERVING, until `shutdown`.
pub async fn serve_worker(
    listener: tokio::net::TcpListener,
    worker: WorkerService,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), tonic::transport::Error> {
    let (reporter, health) = tonic_health::server::health_reporter();
    reporter
        .set_serving::<PredictionWorkerServer<WorkerService>>()
        .await;
    tonic::transport::Server::builder()
        .add_service(health)
        .add_service(PredictionWorkerServer::new(worker))
        .serve_with_incoming_shutdown(
            tonic::transport::server::TcpIncoming::from(listener),
            shutdown,
        )
        .await
}

/// The workers a coordinator sends its batches to.
#[derive(Clone)]
pub struct WorkerPool {
    endpoints: Vec<String>,
    channels: Vec<Channel>,
    /// The deadline of one call.
    pub deadline: Duration,
    /// Rounds over the whole pool before a batch gives up.
    pub rounds: usize,
}

impl std::fmt::Debug for WorkerPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkerPool")
            .field("endpoints", &self.endpoints)
            .field("deadline", &self.deadline)
            .finish()
    }
}

/// Why a pool cannot be made.
#[derive(Debug, thiserror::Error)]
#[error(
    "worker address {address:?}: {reason} (give http://HOST:PORT, comma-separated for several)"
)]
pub struct BadWorkerAddress {
    pub address: String,
    pub reason: String,
}

impl WorkerPool {
    /// A pool of `http://HOST:PORT` endpoints (at least one); connections
    /// are made on first use.
    pub fn new(endpoints: &[String], deadline: Duration) -> Result<Self, BadWorkerAddress> {
        if endpoints.is_empty() {
            return Err(BadWorkerAddress {
                address: String::new(),
                reason: "no worker given".into(),
            });
        }
        let channels = endpoints
            .iter()
            .map(|e| {
                Endpoint::from_shared(e.clone())
                    .map(|ep| ep.connect_timeout(Duration::from_secs(5)).connect_lazy())
                    .map_err(|err| BadWorkerAddress {
                        address: e.clone(),
                        reason: err.to_string(),
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(WorkerPool {
            endpoints: endpoints.to_vec(),
            channels,
            deadline,
            rounds: 3,
        })
    }

    pub fn endpoints(&self) -> &[String] {
        &self.endpoints
    }

    /// Every request answered (in order), each as its batch outcome and the
    /// milliseconds it took, or the error of the first batch that could
    /// not be placed.
    pub async fn predict(
        &self,
        requests: Vec<PredictPlayersRequest>,
    ) -> Result<Vec<(BatchOutcome, i64)>, ProcessError> {
        let pool = self.preflight().await?;
        let tasks: Vec<_> = requests
            .into_iter()
            .enumerate()
            .map(|(index, request)| {
                let pool = pool.clone();
                tokio::spawn(
                    async move { pool.one(index, request).await }
                        .instrument(tracing::Span::current()),
                )
            })
            .collect();
        let mut out = Vec::with_capacity(tasks.len());
        for task in tasks {
            out.push(
                task.await
                    .map_err(|e| ProcessError::Permanent(format!("batch task: {e}")))??,
            );
        }
        Ok(out)
    }

    /// The pre-flight check before a date's batches go out: every worker's
    /// `Health` (within 5 s); the pool of those that answer ready. None
    /// ready is an error naming each worker and why.
    pub async fn preflight(&self) -> Result<WorkerPool, ProcessError> {
        let mut ready = Vec::new();
        let mut why = Vec::new();
        for (endpoint, channel) in self.endpoints.iter().zip(&self.channels) {
            let mut client = PredictionWorkerClient::new(channel.clone());
            let mut call = Request::new(HealthRequest {});
            call.set_timeout(Duration::from_secs(5));
            match tokio::time::timeout(Duration::from_secs(6), client.health(call)).await {
                Ok(Ok(answer)) if answer.get_ref().ready => {
                    ready.push((endpoint.clone(), channel.clone()))
                }
                Ok(Ok(_)) => why.push(format!("{endpoint}: not ready")),
                Ok(Err(status)) => why.push(format!(
                    "{endpoint}: {} {}",
                    status.code(),
                    status.message()
                )),
                Err(_) => why.push(format!("{endpoint}: no health answer within 5 s")),
            }
        }
        if ready.is_empty() {
            return Err(ProcessError::Permanent(format!(
                "no prediction worker is ready ({}); check that the workers run",
                why.join("; ")
            )));
        }
        if !why.is_empty() {
            tracing::warn!(unready = %why.join("; "), "predicting with the ready workers only");
        }
        let (endpoints, channels) = ready.into_iter().unzip();
        Ok(WorkerPool {
            endpoints,
            channels,
            ..self.clone()
        })
    }

    async fn one(
        &self,
        index: usize,
        request: PredictPlayersRequest,
    ) -> Result<(BatchOutcome, i64), ProcessError> {
        let n = self.channels.len();
        let mut last = String::new();
        for attempt in 0..n * self.rounds {
            let worker = (index + attempt) % n;
            if attempt > 0 {
                // Jittered pause before the next worker: 50–150 ms × round.
                let round = 1 + (attempt / n) as u64;
                let jitter = rand::random_range(50..=150u64);
                tokio::time::sleep(Duration::from_millis(jitter * round)).await;
            }
            let started = Instant::now();
            let mut call = Request::new(request.clone());
            call.set_timeout(self.deadline);
            let span = tracing::info_span!(
                target: propcast_telemetry::TARGET,
                propcast_telemetry::WORKER_CALL,
                worker = %self.endpoints[worker],
                batch_id = %request.batch_id,
                attempt,
                game_date = %request.game_date,
                correlation_id = %request.correlation_id,
            );
            // The interceptor puts this span's context in the request's
            // metadata: the worker's span is its child.
            let mut client = PredictionWorkerClient::with_interceptor(
                self.channels[worker].clone(),
                propcast_telemetry::propagation::trace_context_interceptor,
            );
            let answer = tokio::time::timeout(
                self.deadline + Duration::from_secs(1),
                client.predict_players(call),
            )
            .instrument(span)
            .await;
            let status = match answer {
                Ok(Ok(response)) => {
                    let batch: BatchOutcome =
                        serde_json::from_str(&response.into_inner().batch_json).map_err(|e| {
                            ProcessError::Permanent(format!(
                                "worker {}: batch {index} answer unreadable: {e}",
                                self.endpoints[worker]
                            ))
                        })?;
                    return Ok((batch, started.elapsed().as_millis() as i64));
                }
                Ok(Err(status)) => status,
                Err(_) => Status::deadline_exceeded("no answer within the deadline"),
            };
            if !transient(&status) {
                return Err(ProcessError::Permanent(format!(
                    "worker {}: batch {index}: {}: {}",
                    self.endpoints[worker],
                    status.code(),
                    status.message()
                )));
            }
            tracing::warn!(
                worker = %self.endpoints[worker], batch = index, attempt,
                code = ?status.code(), message = status.message(),
                "batch not answered; re-sending it to the next worker"
            );
            last = format!(
                "{}: {} {}",
                self.endpoints[worker],
                status.code(),
                status.message()
            );
        }
        Err(ProcessError::Permanent(format!(
            "batch {index}: no worker answered after {} attempts over {} (last: {last}); check that the workers run",
            n * self.rounds,
            self.endpoints.join(", ")
        )))
    }
}

/// Codes worth another worker.
fn transient(status: &Status) -> bool {
    matches!(
        status.code(),
        Code::Unavailable
            | Code::DeadlineExceeded
            | Code::ResourceExhausted
            | Code::Aborted
            | Code::Cancelled
            | Code::Unknown
            | Code::Internal
    )
}

/// The request of one batch.
pub fn batch_request(
    date: NaiveDate,
    index: usize,
    players: &[crate::coordinator::SelectedPlayer<'_>],
    execution_id: &str,
    correlation_id: &str,
    now: DateTime<Utc>,
) -> PredictPlayersRequest {
    PredictPlayersRequest {
        game_date: date.to_string(),
        batch_id: format!("{execution_id}/{date}/{index}"),
        correlation_id: correlation_id.to_string(),
        players: players
            .iter()
            .map(|p| PlayerRequest {
                player_lookup: p.cache.player_lookup.clone(),
                game_id: p.context.game_id.clone(),
                team_abbr: p.context.team_abbr.clone(),
                opponent_abbr: p.context.opponent_abbr.clone(),
                line_value: p.line().map(|l| l.line),
                sportsbook: p.line().map(|l| l.bookmaker.clone()).unwrap_or_default(),
            })
            .collect(),
        systems: Vec::new(),
        execution_id: execution_id.to_string(),
        now: now.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
    }
}
