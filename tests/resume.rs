//! Invariant 6, nothing lost across a crash: a backfill killed with SIGKILL
//! and then run again (it resumes after its last checkpointed date) ends
//! with every data table identical to an uninterrupted backfill.
//!
//! The real `propcast` binary runs on the real landing zone, 2025-10-21 →
//! 2025-11-05 (16 dates) by range, five dates a range (the checkpoint is the
//! range), killed at three points of the run — mid-range, so a resume
//! recomputes the interrupted range whole.

mod common;

use common::{data_tables, landing, snapshot};
use propcast_platform::embedded::{DuckDbWarehouse, WAREHOUSE_FILE};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

const FROM: &str = "2025-10-21";
const TO: &str = "2025-11-05";

fn backfill(data: &Path, summary: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_propcast"));
    cmd.args([
        "backfill",
        "--no-progress",
        "--from",
        FROM,
        "--to",
        TO,
        // Ranges of five dates: a kill lands mid-range, and the resume
        // starts after the last whole range.
        "--chunk-days",
        "5",
        "--landing",
    ])
    .arg(landing())
    .arg("--data-dir")
    .arg(data)
    .arg("--summary-json")
    .arg(summary)
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    cmd
}

fn summary(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn a_backfill_killed_at_any_point_resumes_to_the_same_tables() {
    let work = tempfile::tempdir().unwrap();
    let reference = work.path().join("reference");
    let status = backfill(&reference, &work.path().join("reference.json"))
        .status()
        .unwrap();
    assert!(status.success());
    let expected: Vec<_> = {
        let wh = DuckDbWarehouse::open_read_only(reference.join(WAREHOUSE_FILE)).unwrap();
        data_tables()
            .into_iter()
            .map(|def| (def.qualified(), snapshot(&wh, def)))
            .collect()
    };
    assert!(
        expected
            .iter()
            .any(|(t, rows)| t == "nba_predictions.player_prop_predictions" && rows.len() > 500)
    );

    let mut resumed = 0;
    for (i, after_ms) in [700u64, 2_500, 5_000].into_iter().enumerate() {
        let data = work.path().join(format!("killed-{i}"));
        let json = work.path().join(format!("killed-{i}.json"));
        let mut child = backfill(&data, &json).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(after_ms));
        let finished_before_kill = child.try_wait().unwrap().is_some();
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let status = backfill(&data, &json).status().unwrap();
        assert!(status.success(), "the resumed backfill {i} failed");
        if !finished_before_kill && !summary(&json)["resumed_after"].is_null() {
            resumed += 1;
        }
        let wh = DuckDbWarehouse::open_read_only(data.join(WAREHOUSE_FILE)).unwrap();
        for (table, rows) in &expected {
            let def = data_tables()
                .into_iter()
                .find(|d| &d.qualified() == table)
                .unwrap();
            let got = snapshot(&wh, def);
            assert_eq!(rows.len(), got.len(), "{table}: row count after kill {i}");
            assert!(rows == &got, "{table}: contents differ after kill {i}");
        }
    }
    // At least one kill landed after a checkpoint, so a resume (not a
    // start from scratch) was tested.
    assert!(resumed >= 1, "no kill point landed mid-run");
}
