//! The backfill's two paths agree: a backfill **by range** (each phase once
//! for a range of dates, `propcast backfill`'s default) and the same
//! backfill **date by date** (`--by-date`, every phase of a date before the
//! next) end with identical business content in every table — data, run
//! history, quarantine and validation alike (run metadata and timings
//! excluded).
//!
//! The dates are chosen to be awkward for a range: they cross the
//! 2024-25 → 2025-26 season boundary, hold the 2025 All-Star break (dates
//! with no games inside a range), the last days of the 2024-25 regular
//! season followed by dates without box scores, and one date with a
//! corrupted box-score record (quarantined). Both runs train `gbdt_v1`
//! through 2025-06-30 on the way, so the range is split where the model
//! starts to predict and the 2025-26 dates run five systems. Ranges are
//! kept short (`chunk_days` 4) so several of them meet mid-week.

mod common;

use chrono::NaiveDate;
use common::tables::{all_content, assert_same};
use common::{copy_dir, corrupt_player_points, landing, runtime};
use propcast::backfill::{RunOptions, TrainPlan, run_dates_with};
use propcast::pipeline::{Backends, Pipeline};
use propcast_patterns::RunMode;
use std::path::Path;

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// 2025-02-12 → 02-20 (the All-Star break, 02-14 → 02-18, has no NBA
/// games), 2025-04-11 → 04-16 (the season's last regular days; the landing
/// zone holds no box scores from 04-15 on) and 2025-10-21 → 10-24 (2025-26
/// opens).
fn dates() -> Vec<NaiveDate> {
    let mut out = Vec::new();
    for (from, to) in [
        ("2025-02-12", "2025-02-20"),
        ("2025-04-11", "2025-04-16"),
        ("2025-10-21", "2025-10-24"),
    ] {
        let mut d = date(from);
        while d <= date(to) {
            out.push(d);
            d = d.succ_opt().unwrap();
        }
    }
    out
}

/// The quarantined date: one player's points made unreadable.
const CORRUPT: &str = "2025-02-13";

/// A landing zone with both seasons' schedules and every payload of the
/// test's dates, one box-score record corrupted.
fn landing_zone(root: &Path) -> std::path::PathBuf {
    let land = root.join("landing");
    let real = landing();
    copy_dir(
        &real.join("nba-com/schedule-cdn"),
        &land.join("nba-com/schedule-cdn"),
    );
    for d in dates() {
        for dir in [
            "nba-com/player-boxscores",
            "nba-com/team-boxscores",
            "odds-api/events-history",
            "odds-api/player-props-history",
        ] {
            let from = real.join(dir).join(d.to_string());
            if from.is_dir() {
                copy_dir(&from, &land.join(dir).join(d.to_string()));
            }
        }
    }
    corrupt_player_points(&land, date(CORRUPT), 3);
    land
}

fn backfill(root: &Path, land: &Path, by_date: bool) -> Pipeline {
    let name = if by_date { "by-date" } else { "by-range" };
    let pipeline = Pipeline::new(Backends::embedded(&root.join(name), land).unwrap());
    let options = RunOptions {
        train: Some(TrainPlan {
            through: date("2025-06-30"),
            path: root.join(format!("{name}-gbdt.json")),
        }),
        checkpoint: true,
        full: true,
        by_date,
        chunk_days: 4,
        ..RunOptions::default()
    };
    let summary = runtime()
        .block_on(run_dates_with(
            &pipeline,
            &dates(),
            RunMode::Backfill,
            "backfill",
            "test",
            false,
            &options,
        ))
        .unwrap();
    assert_eq!(
        (summary.dates_processed + summary.dates_without_games) as usize,
        dates().len(),
        "{name}"
    );
    // The All-Star break and the dates after the regular season.
    assert!(summary.dates_without_games >= 6, "{name}: {summary:?}");
    assert!(
        summary.failed_runs.is_empty(),
        "{name}: {:?}",
        summary.failed_runs
    );
    pipeline
}

#[test]
fn a_backfill_by_range_equals_the_same_backfill_date_by_date() {
    let work = tempfile::tempdir().unwrap();
    let land = landing_zone(work.path());
    let by_date = backfill(work.path(), &land, true);
    let by_range = backfill(work.path(), &land, false);

    let a = runtime().block_on(all_content(by_date.backends().warehouse.as_ref()));
    let b = runtime().block_on(all_content(by_range.backends().warehouse.as_ref()));
    // The comparison means something: every phase wrote rows, the corrupt
    // record was quarantined, the model predicted 2025-26, and grading
    // graded against real lines.
    for table in [
        "nba_raw.player_boxscores",
        "nba_analytics.player_game_summary",
        "nba_analytics.upcoming_player_game_context",
        "nba_precompute.ml_feature_store",
        "nba_predictions.player_prop_predictions",
        "nba_predictions.prediction_accuracy",
        "nba_processing.quarantine",
        "nba_processing.processor_runs",
        "nba_processing.validation_results",
    ] {
        assert!(
            a.get(table).is_some_and(|rows| !rows.is_empty()),
            "{table} is empty after the by-date backfill"
        );
    }
    assert!(
        a["nba_processing.quarantine"]
            .iter()
            .any(|r| r.contains(CORRUPT) && r.contains("PTS")),
        "the corrupt record of {CORRUPT} is quarantined"
    );
    assert!(
        a["nba_predictions.player_prop_predictions"]
            .iter()
            .any(|r| r.contains("gbdt_v1") && r.contains("2025-10-2")),
        "gbdt_v1 predicts 2025-26"
    );
    assert_same("by date", &a, "by range", &b);
}
