//! The coordinator → workers split over gRPC on loopback, on real data:
//! a backfill of 2025-11-01 … 04 gives the inputs; the coordinator then
//! predicts 2025-11-04 in process and through worker servers, and the
//! `player_prop_predictions` rows must be the same — with two healthy
//! workers, with one that stalls past the deadline (its batches go to the
//! other), with one address where no worker runs (a worker that died), and
//! with none reachable (a clear error naming them). `grpc.health.v1`
//! answers SERVING.

mod common;

use chrono::Utc;
use common::tables::content;
use common::{backfill, landing_for, runtime};
use propcast_core::Table;
use propcast_core::tables::{PlayerPropPrediction, PredictionWorkerRun};
use propcast_patterns::{ProcessContext, Processor, RunMode};
use propcast_platform::embedded::{DuckDbWarehouse, LocalLandingZone, SqliteStateStore};
use propcast_platform::{StateStore, Warehouse};
use propcast_prediction_worker::PredictionCoordinator;
use propcast_prediction_worker::grpc::{WorkerPool, WorkerService, serve_worker};
use propcast_proto::v1::prediction_worker_server::{PredictionWorker, PredictionWorkerServer};
use propcast_proto::v1::{
    HealthRequest, HealthResponse, PredictPlayersRequest, PredictPlayersResponse,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

const DATE: &str = "2025-11-04";

/// A worker that answers its health check, then takes every batch and never
/// answers: a process that stalls in the middle of a batch.
#[derive(Default)]
struct Stalled {
    calls: Arc<AtomicUsize>,
}

#[tonic::async_trait]
impl PredictionWorker for Stalled {
    async fn predict_players(
        &self,
        _request: tonic::Request<PredictPlayersRequest>,
    ) -> Result<tonic::Response<PredictPlayersResponse>, tonic::Status> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        std::future::pending().await
    }

    async fn health(
        &self,
        _request: tonic::Request<HealthRequest>,
    ) -> Result<tonic::Response<HealthResponse>, tonic::Status> {
        Ok(tonic::Response::new(HealthResponse {
            ready: true,
            ..HealthResponse::default()
        }))
    }
}

struct Fixture {
    warehouse: Arc<dyn Warehouse>,
    state: Arc<dyn StateStore>,
}

impl Fixture {
    fn context(&self, execution: &str) -> ProcessContext {
        ProcessContext {
            warehouse: self.warehouse.clone(),
            landing: Arc::new(LocalLandingZone::in_memory()),
            state: self.state.clone(),
            game_date: DATE.parse().unwrap(),
            mode: RunMode::Backfill,
            execution_id: execution.to_string(),
            correlation_id: format!("{execution}/{DATE}"),
            now: Utc::now(),
            scope: Default::default(),
        }
    }

    fn coordinator(&self) -> PredictionCoordinator {
        PredictionCoordinator::standard(None)
            .unwrap()
            .with_batch_size(20)
    }

    /// Predicts the date with `coordinator`; returns the rows' content and
    /// how many batch rows the run logged.
    async fn predict(
        &self,
        coordinator: PredictionCoordinator,
        execution: &str,
    ) -> (Vec<String>, usize) {
        coordinator.process(&self.context(execution)).await.unwrap();
        let runs = self
            .warehouse
            .query(&format!(
                "SELECT COUNT(*) AS n FROM {} WHERE execution_id = '{execution}'",
                PredictionWorkerRun::DEF.qualified()
            ))
            .await
            .unwrap();
        let n = runs[0]["n"].as_i64().unwrap() as usize;
        (
            content(self.warehouse.as_ref(), &PlayerPropPrediction::DEF).await,
            n,
        )
    }

    async fn worker(&self) -> (String, Arc<AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let worker = WorkerService::new(
            Arc::new(self.coordinator()),
            self.warehouse.clone(),
            self.state.clone(),
        );
        let calls = worker.calls();
        tokio::spawn(serve_worker(listener, worker, std::future::pending()));
        (url, calls)
    }
}

#[test]
fn batches_over_grpc_write_the_in_process_rows_and_survive_a_stalled_or_dead_worker() {
    let work = tempfile::tempdir().unwrap();
    let land = landing_for(
        work.path(),
        &["2025-11-01", "2025-11-02", "2025-11-03", DATE],
    );
    let data = work.path().join("data");
    backfill(&land, &data, "2025-11-01", DATE, &[]);

    runtime().block_on(async {
        let fixture = Fixture {
            warehouse: Arc::new(DuckDbWarehouse::open(data.join("warehouse.duckdb")).unwrap()),
            state: Arc::new(SqliteStateStore::open(work.path().join("state.sqlite")).unwrap()),
        };
        let (in_process, batches) = fixture.predict(fixture.coordinator(), "in-process").await;
        assert!(in_process.len() > 50, "{} predictions", in_process.len());
        assert!(batches >= 2, "{batches} batches: the test needs several");

        // Two healthy workers.
        let (a, a_calls) = fixture.worker().await;
        let (b, b_calls) = fixture.worker().await;
        let pool = WorkerPool::new(&[a.clone(), b.clone()], Duration::from_secs(30)).unwrap();
        let (remote, remote_batches) = fixture
            .predict(fixture.coordinator().with_workers(pool), "two-workers")
            .await;
        assert_eq!(remote, in_process, "rows over gRPC differ from in process");
        assert_eq!(remote_batches, batches);
        assert!(a_calls.load(Ordering::SeqCst) > 0 && b_calls.load(Ordering::SeqCst) > 0);

        // A stalled worker first: its batches time out and go to `a`.
        let stalled = Stalled::default();
        let stalled_calls = stalled.calls.clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let stalled_url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(
            tonic::transport::Server::builder()
                .add_service(PredictionWorkerServer::new(stalled))
                .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener)),
        );
        let pool =
            WorkerPool::new(&[stalled_url.clone(), a.clone()], Duration::from_secs(2)).unwrap();
        let (recovered, recovered_batches) = fixture
            .predict(fixture.coordinator().with_workers(pool), "stalled")
            .await;
        assert!(
            stalled_calls.load(Ordering::SeqCst) > 0,
            "the stalled worker was never called: recovery not exercised"
        );
        assert_eq!(recovered, in_process);
        assert_eq!(recovered_batches, batches, "one run row per batch, once");

        // A worker that is gone (nothing listens there any more): the
        // pre-flight health check leaves it out.
        let gone = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            format!("http://{}", l.local_addr().unwrap())
        };
        let pool = WorkerPool::new(&[gone.clone(), b.clone()], Duration::from_secs(5)).unwrap();
        let (after_death, _) = fixture
            .predict(fixture.coordinator().with_workers(pool), "dead")
            .await;
        assert_eq!(after_death, in_process);

        // None reachable: the run fails naming the workers.
        let mut pool =
            WorkerPool::new(std::slice::from_ref(&gone), Duration::from_secs(1)).unwrap();
        pool.rounds = 1;
        let err = fixture
            .coordinator()
            .with_workers(pool)
            .process(&fixture.context("none"))
            .await
            .unwrap_err();
        assert!(err.to_string().contains(&gone), "{err}");

        // gRPC health for the probes.
        let channel = tonic::transport::Endpoint::from_shared(a.clone())
            .unwrap()
            .connect()
            .await
            .unwrap();
        let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
        let status = health
            .check(tonic_health::pb::HealthCheckRequest {
                service: "propcast.v1.PredictionWorker".into(),
            })
            .await
            .unwrap()
            .into_inner()
            .status;
        assert_eq!(
            status,
            tonic_health::pb::health_check_response::ServingStatus::Serving as i32
        );
    });
}
