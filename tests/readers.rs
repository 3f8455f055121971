//! Reading while a backfill writes (issue 14): a DuckDB file admits no
//! other process beside its writer, so the writer serves reads on a socket
//! beside the file (`propcast_platform::embedded::readers`). Here the real
//! `propcast` binary backfills real dates in one process while `propcast
//! query`, `propcast status` and `propcast serve dashboard` run in others:
//! all three answer mid-run, with the dates completed so far (fewer than at
//! the end), and a write through `query` is refused.

mod common;

use common::{free_port, landing};
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const FROM: &str = "2025-10-21";
const TO: &str = "2025-11-09";

/// The dates the backfill has completed: those whose phase 5 (the last)
/// has run.
const DATES_DONE: &str = "SELECT count(DISTINCT game_date) AS dates \
     FROM nba_processing.processor_runs WHERE phase = 5";

fn propcast(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_propcast"))
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .output()
        .unwrap()
}

fn dates_done(data: &Path) -> Result<i64, String> {
    let out = propcast(data, &["query", "--format", "json", DATES_DONE]);
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    Ok(rows[0]["dates"].as_i64().unwrap())
}

/// `GET path` on the dashboard: (status code, body).
fn get(port: u16, path: &str) -> std::io::Result<(u16, String)> {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let code = response
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((code, body))
}

/// Kills the dashboard when the test ends, passing or not.
struct Dashboard(Child);

impl Drop for Dashboard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn running(child: &mut Child) -> bool {
    child.try_wait().unwrap().is_none()
}

#[test]
fn query_status_and_the_dashboard_answer_while_a_backfill_writes() {
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    let port = free_port();
    let _dashboard = Dashboard(
        Command::new(env!("CARGO_BIN_EXE_propcast"))
            .args(["serve", "dashboard", "--port", &port.to_string()])
            .arg("--data-dir")
            .arg(&data)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut backfill = Command::new(env!("CARGO_BIN_EXE_propcast"))
        .args([
            "backfill",
            "--no-progress",
            "--from",
            FROM,
            "--to",
            TO,
            // One date a range: run history grows date by date.
            "--chunk-days",
            "1",
            "--landing",
        ])
        .arg(landing())
        .arg("--data-dir")
        .arg(&data)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    // Ask until the backfill has completed some dates but not all, and
    // check it was still running after the answer came.
    let deadline = Instant::now() + Duration::from_secs(300);
    let mut seen = None;
    while running(&mut backfill) && Instant::now() < deadline {
        match dates_done(&data) {
            Ok(n) if n > 0 && running(&mut backfill) => {
                seen = Some(n);
                break;
            }
            Ok(_) => {}
            // Before the warehouse exists (or its first table), a reader is
            // told so; anything else is a failure.
            Err(e) => assert!(
                e.contains("no warehouse") || e.contains("does not exist"),
                "query failed while the backfill ran: {e}"
            ),
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let mid_run = seen.expect("query answered with completed dates while the backfill ran");

    // status answers too, from the same snapshot's point of view: every
    // date it shows is one the run history has.
    let out = propcast(&data, &["status", "--format", "json", "--days", "30"]);
    let status_was_mid_run = running(&mut backfill);
    assert!(
        out.status.success(),
        "status failed while the backfill ran: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let shown = status["dates"].as_array().expect("dates").len() as i64;
    assert!(shown >= 1, "status shows no date: {status}");

    // The dashboard's grid answers too, with the first date's runs.
    let (code, body) = get(port, "/").expect("the dashboard answers");
    let dashboard_was_mid_run = running(&mut backfill);
    assert_eq!(
        code, 200,
        "the dashboard's grid during the backfill: {body}"
    );
    assert!(
        body.contains(&format!("data-date=\"{FROM}\"")) && body.contains("data-status=\"success\""),
        "the grid shows no run of {FROM}"
    );

    // A write through the writer's socket is refused, and says why.
    let out = propcast(
        &data,
        &["query", "DELETE FROM nba_processing.processor_runs"],
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("read"), "{stderr}");

    let finished = backfill.wait_with_output().unwrap();
    assert!(
        finished.status.success(),
        "backfill failed: {}",
        String::from_utf8_lossy(&finished.stderr)
    );
    let total = dates_done(&data).expect("query after the backfill");
    assert!(
        mid_run < total,
        "the mid-run answer ({mid_run} dates) should precede the end ({total} dates)"
    );
    assert!(shown <= total);
    assert!(
        status_was_mid_run && dashboard_was_mid_run,
        "status and the dashboard answered, but the backfill had finished (status {status_was_mid_run}, dashboard {dashboard_was_mid_run}): give it more dates"
    );
    // The socket went with the writer: the file opens read-only again.
    assert!(
        !propcast_platform::embedded::readers_socket(
            &data.join(propcast_platform::embedded::WAREHOUSE_FILE)
        )
        .exists()
    );
}
