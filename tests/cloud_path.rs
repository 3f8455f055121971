//! The whole pipeline on the cloud path: `propcast backfill` of five real
//! dates (2025-11-01 → 05: games every day, real sportsbook props, and on
//! the last one a box-score row whose points are text, quarantined) with
//! `--warehouse bigquery://…`, `--state firestore://…`, `--bus pubsub://…`
//! on the three emulators ends with every table holding the same business
//! content as the same backfill on the embedded default; re-running one of
//! the dates on the cloud path changes nothing.
//!
//! Needs `BIGQUERY_EMULATOR_HOST`, `FIRESTORE_EMULATOR_HOST` and
//! `PUBSUB_EMULATOR_HOST` (`eval "$(scripts/emulators.sh start)"`); skipped
//! without them, failed without them when `PROPCAST_REQUIRE_EMULATORS=1`
//! (as scripts/test.sh runs it).

mod common;

use common::tables::{all_content, assert_same};
use common::{backfill, corrupt_player_points, landing_for, runtime};
use propcast_core::tables::ALL_TABLES;
use propcast_platform::embedded::DuckDbWarehouse;
use propcast_platform::gcp::emulators::{emulator_host, fresh_id};
use propcast_platform::gcp::{BigQueryTarget, BigQueryWarehouse};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const DATES: [&str; 5] = [
    "2025-11-01",
    "2025-11-02",
    "2025-11-03",
    "2025-11-04",
    "2025-11-05",
];
/// The date whose box score carries the bad field.
const QUARANTINE_DATE: &str = "2025-11-05";
/// The date re-run on the cloud path.
const RERUN_DATE: &str = "2025-11-03";

/// The five dates' payloads and the season schedule, copied, with one box
/// score row corrupted (PTS as text).
fn five_date_landing(root: &Path) -> PathBuf {
    let land = landing_for(root, &DATES);
    corrupt_player_points(&land, QUARANTINE_DATE.parse().unwrap(), 3);
    land
}

#[test]
fn five_real_dates_on_bigquery_firestore_and_pubsub_equal_the_embedded_run() {
    let Some(_) = emulator_host("BIGQUERY_EMULATOR_HOST") else {
        return;
    };
    let Some(_) = emulator_host("FIRESTORE_EMULATOR_HOST") else {
        return;
    };
    let Some(_) = emulator_host("PUBSUB_EMULATOR_HOST") else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let land = five_date_landing(work.path());
    let (first, last) = (DATES[0], DATES[DATES.len() - 1]);

    // The embedded default.
    let embedded_dir = work.path().join("embedded");
    backfill(&land, &embedded_dir, first, last, &[]);

    // The cloud path: a fresh project on the three emulators.
    let project = fresh_id("cloud");
    let prefix = "propcast_";
    let cloud = vec![
        format!("--warehouse=bigquery://{project}/{prefix}"),
        format!("--state=firestore://{project}"),
        format!("--bus=pubsub://{project}"),
    ];
    let cloud_dir = work.path().join("cloud");
    backfill(&land, &cloud_dir, first, last, &cloud);
    // Nothing of the cloud run went to local files but the model folder.
    assert!(!cloud_dir.join("warehouse.duckdb").exists());
    assert!(!cloud_dir.join("state.sqlite").exists());

    runtime().block_on(async {
        let duck = DuckDbWarehouse::open_read_only(embedded_dir.join("warehouse.duckdb")).unwrap();
        let endpoint = std::env::var("BIGQUERY_EMULATOR_HOST").unwrap();
        let bq = BigQueryWarehouse::connect(BigQueryTarget {
            project: project.clone(),
            dataset_prefix: prefix.to_string(),
            endpoint: Some(format!("http://{endpoint}")),
        })
        .await
        .unwrap();
        let embedded = all_content(&duck).await;
        let on_cloud = all_content(&bq).await;

        // `propcast tables` lists every table the run filled on BigQuery,
        // with the row counts the warehouse holds.
        let listed = Command::new(env!("CARGO_BIN_EXE_propcast"))
            .args(["tables", "--format", "json"])
            .arg(&cloud[0])
            .env_remove("PROPCAST_WAREHOUSE")
            .env_remove("PROPCAST_CONFIG")
            .output()
            .expect("run propcast tables");
        assert!(
            listed.status.success(),
            "{}",
            String::from_utf8_lossy(&listed.stderr)
        );
        let listed: Vec<serde_json::Value> = serde_json::from_slice(&listed.stdout).unwrap();
        for def in ALL_TABLES
            .iter()
            .filter(|d| !on_cloud[&d.qualified()].is_empty())
        {
            let row = listed
                .iter()
                .find(|r| {
                    format!(
                        "{}.{}",
                        r["dataset"].as_str().unwrap(),
                        r["table"].as_str().unwrap()
                    ) == def.qualified()
                })
                .unwrap_or_else(|| {
                    panic!(
                        "{} missing from `propcast tables`: {listed:?}",
                        def.qualified()
                    )
                });
            assert_eq!(
                row["rows"]
                    .as_u64()
                    .or_else(|| row["rows"].as_str().and_then(|n| n.parse().ok())),
                Some(on_cloud[&def.qualified()].len() as u64),
                "{} row count",
                def.qualified()
            );
        }

        // The run did real work on both: box scores, props, predictions,
        // and the quarantined record.
        for table in [
            "nba_raw.player_boxscores",
            "nba_raw.player_props",
            "nba_analytics.player_game_summary",
            "nba_precompute.ml_feature_store",
            "nba_predictions.player_prop_predictions",
            "nba_predictions.prediction_accuracy",
        ] {
            assert!(
                !embedded[table].is_empty(),
                "{table} is empty on the embedded run"
            );
        }
        let quarantine = &on_cloud["nba_processing.quarantine"];
        assert!(
            quarantine
                .iter()
                .any(|r| r.contains("\"field\":\"PTS\"") && r.contains(QUARANTINE_DATE)),
            "the PTS record of {QUARANTINE_DATE} is quarantined on the cloud path: {quarantine:?}"
        );
        assert_same("embedded", &embedded, "cloud", &on_cloud);

        // A re-run of one date on the cloud path changes no data table. It
        // runs on the same warehouse and state store, with the events on a
        // fresh Pub/Sub project: a second process pulling the first one's
        // subscriptions on the emulator received nothing for minutes (an
        // open problem, docs/OPERATIONS.md#configuration), which this test
        // does not hide — it is about what the re-run writes.
        let rerun = vec![
            cloud[0].clone(),
            cloud[1].clone(),
            format!("--bus=pubsub://{project}-rerun"),
        ];
        backfill(&land, &cloud_dir, RERUN_DATE, RERUN_DATE, &rerun);
        let again = all_content(&bq).await;
        let data = |all: &BTreeMap<String, Vec<String>>| -> BTreeMap<String, Vec<String>> {
            all.iter()
                .filter(|(name, _)| {
                    ALL_TABLES
                        .iter()
                        .any(|d| &d.qualified() == *name && !d.is_run_history())
                })
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        };
        assert_same(
            "first cloud run",
            &data(&on_cloud),
            "after the re-run",
            &data(&again),
        );
    });
}
