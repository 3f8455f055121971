//! Reading while a backfill writes (issue 14): a DuckDB file admits no
//! other process beside its writer, so the writer serves reads on a socket
//! beside the file (`propcast_platform::embedded::readers`). Here the real
//! `propcast` binary backfills real dates in one process while `propcast
//! query` and `propcast status` run in others: both answer mid-run, with
//! the dates completed so far (fewer than at the end, and each of them
//! whole), and a write through `query` is refused.

mod common;

use common::landing;
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

fn running(child: &mut Child) -> bool {
    child.try_wait().unwrap().is_none()
}

#[test]
fn query_and_status_answer_while_a_backfill_writes() {
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    let mut backfill = Command::new(env!("CARGO_BIN_EXE_propcast"))
        .args([
            "backfill",
            "--no-progress",
            "--from",
            FROM,
            "--to",
            TO,
            // Small ranges: run history grows range by range.
            "--chunk-days",
            "2",
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
        status_was_mid_run || shown == total,
        "status ran after the backfill: it must show every date"
    );
    // The socket went with the writer: the file opens read-only again.
    assert!(
        !propcast_platform::embedded::readers_socket(
            &data.join(propcast_platform::embedded::WAREHOUSE_FILE)
        )
        .exists()
    );
}
