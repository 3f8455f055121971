//! SIGTERM during a push: `propcast serve raw` (embedded backends) gets a
//! real date's landing event and is sent SIGTERM while phase 2 runs. The
//! request either completes (204, within Cloud Run's grace) or gets no
//! answer, so Pub/Sub would redeliver it; the process exits cleanly, and
//! the date's box scores are all stored or not at all — never half. A
//! second delivery to a restarted service then leaves them complete.

mod common;

use base64::Engine as _;
use common::{free_port, landing_for, runtime};
use propcast_proto::v1::LandingEvent;
use propcast_service::testing::{TestClaims, test_jwks_path};
use prost::Message;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const DATE: &str = "2025-11-02";
const AUDIENCE: &str = "https://propcast-raw.test/pubsub/push";
const EMAIL: &str = "pubsub-push@propcast-test.iam.gserviceaccount.com";

fn start(data: &Path, land: &Path, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_propcast"))
        .args(["serve", "raw", "--port", &port.to_string()])
        .arg("--data-dir")
        .arg(data)
        .arg("--landing")
        .arg(land)
        .args(["--push-audience", AUDIENCE, "--push-service-account", EMAIL])
        .arg("--push-jwks")
        .arg(test_jwks_path())
        .env_remove("PROPCAST_CONFIG")
        .env_remove("PROPCAST_WAREHOUSE")
        .env_remove("PROPCAST_STATE")
        .env_remove("PROPCAST_BUS")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

async fn wait_ready(port: u16, child: &mut Child) {
    let started = Instant::now();
    loop {
        if let Ok(r) = reqwest::get(format!("http://127.0.0.1:{port}/readyz")).await
            && r.status().is_success()
        {
            return;
        }
        assert!(child.try_wait().unwrap().is_none(), "service exited");
        assert!(started.elapsed() < Duration::from_secs(60), "not ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn push_body(message_id: &str) -> Vec<u8> {
    let event = LandingEvent {
        game_date: DATE.into(),
        mode: "backfill".into(),
        round_id: "sigterm-round".into(),
        correlation_id: String::new(),
        source: "test".into(),
    };
    serde_json::to_vec(&serde_json::json!({
        "message": {
            "data": base64::engine::general_purpose::STANDARD.encode(event.encode_to_vec()),
            "messageId": message_id,
        },
        "subscription": "projects/p/subscriptions/raw-push",
    }))
    .unwrap()
}

/// Box-score rows stored for the date (the service must be stopped).
fn stored_rows(data: &Path) -> i64 {
    let out = Command::new(env!("CARGO_BIN_EXE_propcast"))
        .args(["query", "--format", "json"])
        .arg(format!(
            "SELECT COUNT(*) AS n FROM nba_raw.player_boxscores WHERE game_date = DATE '{DATE}'"
        ))
        .arg("--data-dir")
        .arg(data)
        .env_remove("PROPCAST_CONFIG")
        .env_remove("PROPCAST_WAREHOUSE")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    rows[0]["n"]
        .as_i64()
        .or_else(|| rows[0]["n"].as_str().and_then(|n| n.parse().ok()))
        .unwrap()
}

/// The player rows of the date's latest box-score payload.
fn payload_rows(land: &Path) -> i64 {
    let dir = land.join("nba-com/player-boxscores").join(DATE);
    let file = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .max()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
    doc["resultSets"][0]["rowSet"].as_array().unwrap().len() as i64
}

fn sigterm(child: &Child) {
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
}

fn wait_exit(child: &mut Child) -> std::process::ExitStatus {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "no exit within 15 s of SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn sigterm_during_a_push_completes_it_or_leaves_it_for_redelivery() {
    let work = tempfile::tempdir().unwrap();
    let land = landing_for(work.path(), &[DATE]);
    let data = work.path().join("data");
    let expected = payload_rows(&land);
    assert!(expected > 10);
    let token = TestClaims::valid(AUDIENCE, EMAIL).sign();

    let answered = runtime().block_on(async {
        let port = free_port();
        let mut child = start(&data, &land, port);
        wait_ready(port, &mut child).await;
        let request = reqwest::Client::new()
            .post(format!("http://127.0.0.1:{port}/pubsub/push"))
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .body(push_body("m-1"))
            .send();
        let pending = tokio::spawn(request);
        // Let the request reach phase 2, then stop the service.
        tokio::time::sleep(Duration::from_millis(150)).await;
        sigterm(&child);
        let answered = pending.await.unwrap().ok().map(|r| r.status().as_u16());
        let status = wait_exit(&mut child);
        assert!(status.success(), "exit on SIGTERM: {status}");
        answered
    });
    let after_stop = stored_rows(&data);
    eprintln!("push during SIGTERM answered {answered:?}; {after_stop} of {expected} rows stored");
    match answered {
        // Completed within the grace: all of it stored.
        Some(204) => assert_eq!(after_stop, expected),
        // No acknowledgement: Pub/Sub redelivers; nothing half-written.
        None | Some(503) => assert!(
            after_stop == 0 || after_stop == expected,
            "{after_stop} of {expected} rows after an unacknowledged push"
        ),
        Some(other) => panic!("push answered {other}"),
    }

    // The redelivery, to a restarted service: the date is complete, once.
    runtime().block_on(async {
        let port = free_port();
        let mut child = start(&data, &land, port);
        wait_ready(port, &mut child).await;
        let status = reqwest::Client::new()
            .post(format!("http://127.0.0.1:{port}/pubsub/push"))
            .header("authorization", format!("Bearer {token}"))
            .body(push_body("m-1"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        assert_eq!(status, 204);
        sigterm(&child);
        assert!(wait_exit(&mut child).success());
    });
    assert_eq!(stored_rows(&data), expected);
}
