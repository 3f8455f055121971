//! The production shape on loopback: every phase a separate `propcast
//! serve ROLE` process, Pub/Sub push subscriptions on the emulator pointing
//! at their `/pubsub/push` endpoints, the BigQuery emulator as the shared
//! warehouse and the Firestore emulator as the state store. Three real
//! dates are announced one after another as phase 1 would (`propcast
//! landed`); every table ends with the business content of the in-process
//! embedded backfill of the same dates.
//!
//! The Pub/Sub emulator pushes without a token (it cannot mint Google's);
//! a small forwarding proxy in this test stands in for Google's token
//! issuer: it adds an RS256 token signed by the test key in
//! crates/service/fixtures, whose JWKS the services are configured to
//! trust, for each service's own audience. The services verify it as they
//! would Google's.
//!
//! Needs the three emulators (`eval "$(scripts/emulators.sh start)"`);
//! skipped without them, failed without them when
//! `PROPCAST_REQUIRE_EMULATORS=1` (as scripts/test.sh runs it).

mod common;

use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use common::tables::{all_content, assert_same};
use common::{backfill, free_port, landing_for, runtime};
use propcast::serve::Role;
use propcast_platform::embedded::DuckDbWarehouse;
use propcast_platform::gcp::emulators::{emulator_host, fresh_id};
use propcast_platform::gcp::{BigQueryTarget, BigQueryWarehouse, PubSubEventBus, PushTarget};
use propcast_platform::{EventBus, Warehouse};
use propcast_service::testing::{TestClaims, test_jwks_path};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const DATES: [&str; 3] = ["2025-11-01", "2025-11-02", "2025-11-03"];
const PUSH_ACCOUNT: &str = "pubsub-push@propcast-test.iam.gserviceaccount.com";
const ROLES: [Role; 6] = [
    Role::Raw,
    Role::Orchestrator,
    Role::Analytics,
    Role::Precompute,
    Role::Coordinator,
    Role::Grading,
];
/// How long one date may take through all the services.
const DATE_WAIT: Duration = Duration::from_secs(240);

/// The stand-in token issuer: forwards `/{role}` to that service's push
/// endpoint with a token for the audience `{proxy}/{role}`.
#[derive(Clone)]
struct Proxy {
    base: String,
    services: Arc<BTreeMap<String, u16>>,
    client: reqwest::Client,
}

async fn forward(
    State(proxy): State<Proxy>,
    UrlPath(role): UrlPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let Some(port) = proxy.services.get(&role) else {
        return StatusCode::NOT_FOUND;
    };
    let audience = format!("{}/{role}", proxy.base);
    let token = TestClaims::valid(&audience, PUSH_ACCOUNT).sign();
    let mut request = proxy
        .client
        .post(format!("http://127.0.0.1:{port}/pubsub/push"))
        .header("authorization", format!("Bearer {token}"))
        .body(body.to_vec());
    if let Some(kind) = headers.get("content-type") {
        request = request.header("content-type", kind.as_bytes());
    }
    match request.send().await {
        Ok(response) => {
            StatusCode::from_u16(response.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY)
        }
        Err(_) => StatusCode::BAD_GATEWAY,
    }
}

struct Services {
    children: Vec<(String, Child)>,
    logs: std::path::PathBuf,
}

impl Services {
    /// Starts `propcast ARGS` as `name` on `port`, its stderr in
    /// `{logs}/{name}.log`.
    fn spawn(
        &mut self,
        name: &str,
        args: &[&str],
        data: &Path,
        port: u16,
        env: &[(String, String)],
    ) {
        let log = std::fs::File::create(self.logs.join(format!("{name}.log"))).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_propcast"))
            .args(args)
            .arg("--data-dir")
            .arg(data)
            .env("PORT", port.to_string())
            .env("RUST_LOG", "info")
            .env_remove("PROPCAST_CONFIG")
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.children.push((name.to_string(), child));
    }

    /// Fails the test, with the logs, when a service has exited.
    fn check_running(&mut self) {
        if let Some(exited) = self.exited() {
            panic!("{exited}\n{}", self.logs());
        }
    }

    /// Which process has exited, and how, if one has.
    fn exited(&mut self) -> Option<String> {
        self.children.iter_mut().find_map(|(name, child)| {
            child
                .try_wait()
                .unwrap()
                .map(|status| format!("{name} exited with {status}"))
        })
    }

    fn logs(&self) -> String {
        let mut out = String::new();
        for (name, _) in &self.children {
            let text =
                std::fs::read_to_string(self.logs.join(format!("{name}.log"))).unwrap_or_default();
            let tail: Vec<&str> = text.lines().rev().take(15).collect();
            out.push_str(&format!("--- {name} (last lines)\n"));
            for line in tail.into_iter().rev() {
                out.push_str(line);
                out.push('\n');
            }
        }
        out
    }

    /// SIGTERM to every service; each must stop by itself, cleanly.
    fn stop(&mut self) {
        for (_, child) in &self.children {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
        }
        for (name, child) in &mut self.children {
            let started = Instant::now();
            loop {
                if let Some(status) = child.try_wait().unwrap() {
                    assert!(status.success(), "{name} exited with {status} on SIGTERM");
                    break;
                }
                assert!(
                    started.elapsed() < Duration::from_secs(15),
                    "{name} did not stop within 15 s of SIGTERM"
                );
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        self.children.clear();
    }
}

impl Drop for Services {
    fn drop(&mut self) {
        for (_, child) in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn env_of(project: &str, land: &Path) -> Vec<(String, String)> {
    vec![
        (
            "PROPCAST_WAREHOUSE".into(),
            format!("bigquery://{project}/propcast_"),
        ),
        ("PROPCAST_STATE".into(), format!("firestore://{project}")),
        ("PROPCAST_BUS".into(), format!("pubsub://{project}")),
        ("PROPCAST_LANDING".into(), land.display().to_string()),
    ]
}

#[test]
fn three_real_dates_through_separate_service_processes_equal_the_in_process_run() {
    for var in [
        "BIGQUERY_EMULATOR_HOST",
        "FIRESTORE_EMULATOR_HOST",
        "PUBSUB_EMULATOR_HOST",
    ] {
        if emulator_host(var).is_none() {
            return;
        }
    }
    let work = tempfile::tempdir().unwrap();
    let land = landing_for(work.path(), &DATES);

    // The in-process embedded run of the same dates.
    let embedded_dir = work.path().join("embedded");
    backfill(&land, &embedded_dir, DATES[0], DATES[2], &[]);

    // What ran in process, date by date: the services must run the same.
    // On the first date phase 5 is not triggered (no history yet, so
    // phase 4 has no data); in process that is recorded as two skipped
    // runs by the pump, which the services have no equivalent of (nobody
    // waits for a transition that does not fire).
    let expected: BTreeMap<String, Vec<String>> = runtime().block_on(async {
        let duck = DuckDbWarehouse::open_read_only(embedded_dir.join("warehouse.duckdb")).unwrap();
        let rows = duck
            .query(
                "SELECT CAST(game_date AS VARCHAR) AS d, processor FROM nba_processing.processor_runs \
                 WHERE NOT (status = 'skipped' AND skip_reason LIKE 'not triggered%') ORDER BY 1, 2",
            )
            .await
            .unwrap();
        let mut by_date: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for row in rows {
            by_date
                .entry(row["d"].as_str().unwrap().to_string())
                .or_default()
                .push(row["processor"].as_str().unwrap().to_string());
        }
        by_date
    });
    assert!(
        expected[DATES[1]].contains(&"prediction_grading".to_string()),
        "phase 5 ran in process on {}: {expected:?}",
        DATES[1]
    );

    let project = fresh_id("services");
    let env = env_of(&project, &land);
    let logs = work.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();

    runtime().block_on(async {
        // The stand-in token issuer in front of the services.
        let proxy_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy_base = format!("http://{}", proxy_listener.local_addr().unwrap());
        let ports: BTreeMap<String, u16> = ROLES
            .iter()
            .map(|r| (r.name().to_string(), free_port()))
            .collect();
        let proxy = Proxy {
            base: proxy_base.clone(),
            services: Arc::new(ports.clone()),
            client: reqwest::Client::new(),
        };
        let app = axum::Router::new()
            .route("/{role}", axum::routing::post(forward))
            .with_state(proxy);
        tokio::spawn(async move { axum::serve(proxy_listener, app).await });

        // Every service, its own process on its own port.
        let mut services = Services {
            children: Vec::new(),
            logs: logs.clone(),
        };
        // Two prediction workers (gRPC); the coordinator sends them its
        // batches. Worker a is killed with SIGKILL before the third date.
        // (A worker that stalls in the middle of a batch is
        // tests/grpc_workers.rs: the deadline hands the batch on.)
        let worker_ports = [free_port(), free_port()];
        let data_dir = work.path().join("services");
        for (name, port) in ["worker-a", "worker-b"].iter().zip(worker_ports) {
            services.spawn(name, &["serve", "worker"], &data_dir, port, &env);
        }
        let workers = worker_ports
            .iter()
            .map(|p| format!("http://127.0.0.1:{p}"))
            .collect::<Vec<_>>()
            .join(",");
        for role in ROLES {
            let mut role_env = env.clone();
            role_env.extend([
                ("PROPCAST_WORKERS".to_string(), workers.clone()),
                (
                    "PROPCAST_PUSH_AUDIENCE".to_string(),
                    format!("{proxy_base}/{}", role.name()),
                ),
                (
                    "PROPCAST_PUSH_SERVICE_ACCOUNT".to_string(),
                    PUSH_ACCOUNT.to_string(),
                ),
                (
                    "PROPCAST_PUSH_JWKS".to_string(),
                    test_jwks_path().display().to_string(),
                ),
            ]);
            services.spawn(
                role.name(),
                &["serve", role.name(), "--worker-deadline", "20"],
                &data_dir,
                ports[role.name()],
                &role_env,
            );
        }
        let client = reqwest::Client::new();
        let started = Instant::now();
        for role in ROLES {
            let url = format!("http://127.0.0.1:{}/readyz", ports[role.name()]);
            loop {
                if let Ok(r) = client.get(&url).send().await
                    && r.status().is_success()
                {
                    break;
                }
                services.check_running();
                assert!(
                    started.elapsed() < Duration::from_secs(90),
                    "{} not ready in 90 s\n{}",
                    role.name(),
                    services.logs()
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
        // Unauthenticated pushes get nowhere: the services are not open.
        let refused = client
            .post(format!(
                "http://127.0.0.1:{}/pubsub/push",
                ports[Role::Raw.name()]
            ))
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status().as_u16(), 401);

        // The push subscriptions, as deploy/pubsub creates them.
        let bus = PubSubEventBus::connect(&project).await.unwrap();
        for role in ROLES {
            let topic = role.topic().unwrap();
            bus.create_topic(topic).await.unwrap();
            let target = PushTarget {
                endpoint: format!("{proxy_base}/{}", role.name()),
                service_account: PUSH_ACCOUNT.to_string(),
                audience: format!("{proxy_base}/{}", role.name()),
            };
            bus.create_push_subscription(
                topic,
                &role.subscription(),
                &target,
                Duration::from_secs(60),
                5,
            )
            .await
            .unwrap();
        }

        let endpoint = std::env::var("BIGQUERY_EMULATOR_HOST").unwrap();
        let bq = BigQueryWarehouse::connect(BigQueryTarget {
            project: project.clone(),
            dataset_prefix: "propcast_".to_string(),
            endpoint: Some(format!("http://{endpoint}")),
        })
        .await
        .unwrap();

        // Date by date, as a backfill goes: each date's history is the
        // previous dates'.
        let round = fresh_id("round");
        for date in DATES {
            if date == DATES[2] {
                // SIGKILL worker a: the coordinator must notice (pre-flight
                // health check, or a failed batch re-sent) and use worker b.
                let (name, worker) = &mut services.children[0];
                assert_eq!(name, "worker-a");
                worker.kill().unwrap();
                worker.wait().unwrap();
                services.children.remove(0);
            }
            let landed = Command::new(env!("CARGO_BIN_EXE_propcast"))
                .args([
                    "landed", "--date", date, "--mode", "backfill", "--round", &round,
                ])
                .arg("--data-dir")
                .arg(work.path().join("services"))
                .env_remove("PROPCAST_CONFIG")
                .envs(env.iter().map(|(k, v)| (k, v)))
                .output()
                .unwrap();
            assert!(
                landed.status.success(),
                "propcast landed: {}",
                String::from_utf8_lossy(&landed.stderr)
            );
            // The date is done when every processor that ran for it in
            // process has its run recorded.
            let want = &expected[date];
            let started = Instant::now();
            loop {
                let done: Vec<String> = bq
                    .query(&format!(
                        "SELECT DISTINCT processor FROM nba_processing.processor_runs \
                         WHERE game_date = DATE '{date}'"
                    ))
                    .await
                    .map(|rows| {
                        rows.iter()
                            .filter_map(|r| r["processor"].as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default();
                if want.iter().all(|p| done.contains(p)) {
                    break;
                }
                services.check_running();
                assert!(
                    started.elapsed() < DATE_WAIT,
                    "{date}: after {DATE_WAIT:?} runs recorded for {done:?}, expected {want:?}\n{}",
                    services.logs()
                );
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
        services.stop();
        // The coordinator predicted through the workers, and after worker a
        // was killed worker b did its batches: the pre-flight health check
        // left a out, or a batch sent to a was re-sent.
        let worker_b = std::fs::read_to_string(logs.join("worker-b.log")).unwrap();
        assert!(
            worker_b.contains("batch predicted") && worker_b.contains(DATES[2]),
            "worker b predicted no batch of {}",
            DATES[2]
        );
        let coordinator = std::fs::read_to_string(logs.join("coordinator.log")).unwrap();
        assert!(
            coordinator.contains("predicting with the ready workers only")
                || coordinator.contains("re-sending it to the next worker"),
            "the coordinator never noticed that worker a died"
        );

        let duck = DuckDbWarehouse::open_read_only(embedded_dir.join("warehouse.duckdb")).unwrap();
        let mut embedded = all_content(&duck).await;
        let served = all_content(&bq).await;
        // The in-process pump's "not triggered" records (see above), only
        // phase 5 of the first date.
        let runs = embedded.get_mut("nba_processing.processor_runs").unwrap();
        let not_triggered: Vec<String> = runs
            .iter()
            .filter(|r| r.contains("not triggered"))
            .cloned()
            .collect();
        assert_eq!(not_triggered.len(), 2, "{not_triggered:?}");
        assert!(not_triggered.iter().all(|r| r.contains(DATES[0])));
        runs.retain(|r| !r.contains("not triggered"));
        // Per-date validation is the backfill runner's, after a date's whole
        // chain in one process; no service sees a whole date yet (an open
        // item of issue 11), so the services write none.
        let validation = "nba_processing.validation_results";
        assert!(!embedded[validation].is_empty());
        assert!(served[validation].is_empty());
        embedded.remove(validation);
        let mut served = served;
        served.remove(validation);
        for table in [
            "nba_raw.player_boxscores",
            "nba_analytics.player_game_summary",
            "nba_predictions.player_prop_predictions",
            "nba_predictions.prediction_accuracy",
        ] {
            assert!(
                !served[table].is_empty(),
                "{table} is empty after the services ran"
            );
        }
        assert_same("in-process embedded", &embedded, "services", &served);
    });
}
