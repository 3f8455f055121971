//! Wire contract of the `PredictionWorker` service: a tiny in-test server
//! (echoing the request back as predictions) served over real TCP with tonic,
//! called with the generated client.

use std::net::SocketAddr;

use propcast_proto::v1::prediction_worker_client::PredictionWorkerClient;
use propcast_proto::v1::prediction_worker_server::{PredictionWorker, PredictionWorkerServer};
use propcast_proto::v1::{
    HealthRequest, HealthResponse, PlayerRequest, PredictPlayersRequest, PredictPlayersResponse,
    Prediction, Recommendation, SystemOutcome, SystemStatus,
};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tonic::transport::server::TcpIncoming;
use tonic::{Request, Response, Status};

/// Predicts line + 1.5 for every player and system; `broken` is reported as
/// skipped by its breaker. Only the wire is under test here.
struct EchoWorker;

#[tonic::async_trait]
impl PredictionWorker for EchoWorker {
    async fn predict_players(
        &self,
        request: Request<PredictPlayersRequest>,
    ) -> Result<Response<PredictPlayersResponse>, Status> {
        let req = request.into_inner();
        if req.game_date.is_empty() {
            return Err(Status::invalid_argument("game_date is required"));
        }
        let mut predictions = Vec::new();
        let mut outcomes = Vec::new();
        for system in &req.systems {
            if system == "broken" {
                outcomes.push(SystemOutcome {
                    system_id: system.clone(),
                    status: SystemStatus::SkippedByBreaker.into(),
                    error: String::new(),
                    duration_ms: 0,
                });
                continue;
            }
            for player in &req.players {
                let recommendation = match player.line_value {
                    Some(_) => Recommendation::Over,
                    None => Recommendation::NoLine,
                };
                predictions.push(Prediction {
                    player_lookup: player.player_lookup.clone(),
                    game_id: player.game_id.clone(),
                    system_id: system.clone(),
                    predicted_points: player.line_value.map(|line| line + 1.5),
                    confidence: 0.625,
                    recommendation: recommendation.into(),
                    line_value: player.line_value,
                    metadata_json: format!(r#"{{"correlation_id":"{}"}}"#, req.correlation_id),
                });
            }
            outcomes.push(SystemOutcome {
                system_id: system.clone(),
                status: SystemStatus::Succeeded.into(),
                error: String::new(),
                duration_ms: 7,
            });
        }
        Ok(Response::new(PredictPlayersResponse {
            predictions,
            outcomes,
            batch_json: String::new(),
        }))
    }

    async fn health(
        &self,
        _request: Request<HealthRequest>,
    ) -> Result<Response<HealthResponse>, Status> {
        Ok(Response::new(HealthResponse {
            ready: true,
            version: "test".to_owned(),
            systems: vec!["moving_average".to_owned(), "broken".to_owned()],
            open_breakers: vec!["broken".to_owned()],
        }))
    }
}

/// Serves `EchoWorker` on an ephemeral port until the returned sender fires.
async fn spawn_server() -> (SocketAddr, oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    let (shutdown_tx, shutdown_rx) = oneshot::channel::<()>();
    let handle = tokio::spawn(async move {
        tonic::transport::Server::builder()
            .add_service(PredictionWorkerServer::new(EchoWorker))
            .serve_with_incoming_shutdown(TcpIncoming::from(listener), async {
                let _ = shutdown_rx.await;
            })
            .await
            .expect("server");
    });
    (addr, shutdown_tx, handle)
}

#[tokio::test]
async fn predict_players_over_grpc() {
    let (addr, shutdown, server) = spawn_server().await;
    let mut client = PredictionWorkerClient::connect(format!("http://{addr}"))
        .await
        .expect("connect");

    let request = PredictPlayersRequest {
        game_date: "2025-01-15".to_owned(),
        batch_id: "batch-1".to_owned(),
        correlation_id: "corr-8f2c".to_owned(),
        execution_id: "run-1".to_owned(),
        now: "2025-01-15T12:00:00Z".to_owned(),
        players: vec![
            PlayerRequest {
                player_lookup: "lebronjames".to_owned(),
                game_id: "0022400555".to_owned(),
                team_abbr: "LAL".to_owned(),
                opponent_abbr: "BOS".to_owned(),
                line_value: Some(24.5),
                sportsbook: "draftkings".to_owned(),
            },
            PlayerRequest {
                player_lookup: "rookienoline".to_owned(),
                game_id: "0022400555".to_owned(),
                team_abbr: "BOS".to_owned(),
                opponent_abbr: "LAL".to_owned(),
                line_value: None,
                sportsbook: String::new(),
            },
        ],
        systems: vec!["moving_average".to_owned(), "broken".to_owned()],
    };
    let reply = client
        .predict_players(request)
        .await
        .expect("predict_players")
        .into_inner();

    assert_eq!(reply.predictions.len(), 2);
    let lebron = &reply.predictions[0];
    assert_eq!(lebron.player_lookup, "lebronjames");
    assert_eq!(lebron.system_id, "moving_average");
    assert_eq!(lebron.line_value, Some(24.5));
    assert_eq!(lebron.predicted_points, Some(26.0));
    assert_eq!(lebron.confidence, 0.625);
    assert_eq!(lebron.recommendation(), Recommendation::Over);
    assert_eq!(lebron.metadata_json, r#"{"correlation_id":"corr-8f2c"}"#);

    // An absent line stays absent on the wire (not 0.0).
    let rookie = &reply.predictions[1];
    assert_eq!(rookie.player_lookup, "rookienoline");
    assert_eq!(rookie.line_value, None);
    assert_eq!(rookie.predicted_points, None);
    assert_eq!(rookie.recommendation(), Recommendation::NoLine);

    let statuses: Vec<(&str, SystemStatus, u64)> = reply
        .outcomes
        .iter()
        .map(|o| (o.system_id.as_str(), o.status(), o.duration_ms))
        .collect();
    assert_eq!(
        statuses,
        [
            ("moving_average", SystemStatus::Succeeded, 7),
            ("broken", SystemStatus::SkippedByBreaker, 0),
        ]
    );

    let health = client
        .health(HealthRequest {})
        .await
        .expect("health")
        .into_inner();
    assert!(health.ready);
    assert_eq!(health.open_breakers, ["broken"]);

    // Server errors arrive as gRPC status codes.
    let err = client
        .predict_players(PredictPlayersRequest::default())
        .await
        .expect_err("empty game_date is rejected");
    assert_eq!(err.code(), tonic::Code::InvalidArgument);
    assert_eq!(err.message(), "game_date is required");

    drop(client);
    shutdown.send(()).expect("server still running");
    server.await.expect("server task");
}
