//! The two processors against the embedded DuckDB warehouse, with real
//! inputs of 2025-11-05 (and a neighbouring date) written through
//! `replace_rows`.

mod common;

use chrono::{DateTime, NaiveDate, Utc};
use common::{context, date, date_inputs, game_summaries, instant, loaded_warehouse, props_on};
use propcast_core::tables::{
    PlayerDailyCache, PlayerGameSummary, PlayerProp, PlayerPropPrediction, PredictionAccuracy,
    PredictionSkip, PredictionWorkerRun,
};
use propcast_core::{Table, TableDef};
use propcast_patterns::Processor;
use propcast_platform::WarehouseExt;
use propcast_platform::embedded::DuckDbWarehouse;
use propcast_platform::warehouse::date_literal;
use propcast_prediction_worker::{
    Ensemble, MovingAverage, PredictionCoordinator, PredictionGrading, PredictionSystem,
    SimilarityBalanced, SystemSet, ZoneMatchup, accuracy_summary, build_predictions,
    grade_predictions,
};

const D: &str = "2025-11-05";
const NEXT: &str = "2025-11-06";

async fn read<T: Table + Send>(wh: &DuckDbWarehouse, d: NaiveDate) -> Vec<T> {
    wh.query_as(&format!(
        "SELECT * FROM {} WHERE game_date = {} ORDER BY player_lookup, system_id",
        T::DEF.qualified(),
        date_literal(d)
    ))
    .await
    .expect("read back")
}

/// The default coordinator's systems.
fn systems() -> Vec<Box<dyn PredictionSystem>> {
    vec![
        Box::new(MovingAverage),
        Box::new(ZoneMatchup),
        Box::new(SimilarityBalanced),
    ]
}

fn without_run_metadata(mut rows: Vec<PlayerPropPrediction>) -> Vec<PlayerPropPrediction> {
    for r in &mut rows {
        r.execution_id.clear();
        r.created_at = DateTime::<Utc>::MIN_UTC;
    }
    rows
}

#[tokio::test]
async fn coordinator_then_grading_on_duckdb() {
    let wh = loaded_warehouse(date(NEXT), &[date(D), date(NEXT)]).await;
    let d = date(D);
    let now = instant("2025-11-05T16:00:00Z");

    let coordinator = PredictionCoordinator::default();
    let output = coordinator
        .process(&context(&wh, d, "run-1", now, Default::default()))
        .await
        .expect("coordinator");
    let written: Vec<PlayerPropPrediction> = read(&wh, d).await;

    // The warehouse holds exactly what the pure function gives for the
    // same real inputs, with this run's metadata.
    let systems = systems();
    let set = SystemSet {
        systems: &systems,
        ensemble: Some(&Ensemble),
    };
    let (expected, counts) = build_predictions(&date_inputs(d), &set, "run-1", now);
    assert_eq!(written, expected);
    assert_eq!(output.counters["predictions"], counts.predictions);
    assert_eq!(output.counters["with_line"], counts.with_line);
    assert_eq!(output.counters["no_line"], counts.no_line);
    assert_eq!(output.counters["skipped"], counts.skipped);
    assert_eq!(output.counters["failed"], 0);
    assert_eq!(output.counters["players"], counts.players);
    assert_eq!(
        counts.predictions,
        counts.with_line + counts.no_line,
        "every row has a line or not"
    );
    // Predictions plus one run-log row per batch of 50 players.
    let batches = (counts.players as u64).div_ceil(50);
    assert_eq!(output.total_rows(), written.len() as u64 + batches);
    assert!(!output.no_data);
    // Only the date's own rows.
    assert!(written.iter().all(|r| r.game_date == d));

    let sga = written
        .iter()
        .find(|r| r.player_lookup == "shaigilgeousalexander" && r.system_id == "moving_average")
        .expect("SGA predicted");
    assert_eq!((sga.predicted_points, sga.confidence), (29.06, 0.45));
    assert_eq!(sga.line_value, Some(31.5));
    assert_eq!(sga.sportsbook.as_deref(), Some("draftkings"));
    assert_eq!(
        sga.line_snapshot_time,
        Some(instant("2025-11-05T17:00:00Z"))
    );
    assert_eq!(sga.line_minutes_before_tipoff, Some(610));
    assert_eq!(
        (sga.line_source.as_str(), sga.recommendation.as_str()),
        ("ACTUAL_PROP", "PASS")
    );
    let metadata: serde_json::Value = serde_json::from_str(&sga.metadata).expect("json");
    assert_eq!(metadata["line_choice"]["excluded_in_game"], 0);
    assert_eq!(
        metadata["omitted_adjustments"].as_array().map(Vec::len),
        Some(4)
    );

    // Grading.
    let graded_at = instant("2025-11-06T12:00:00Z");
    let output = PredictionGrading
        .process(&context(&wh, d, "grade-1", graded_at, Default::default()))
        .await
        .expect("grading");
    let graded: Vec<PredictionAccuracy> = read(&wh, d).await;
    assert_eq!(
        graded,
        grade_predictions(d, &expected, &game_summaries(d), graded_at)
    );
    let s = accuracy_summary(&graded);
    assert_eq!(
        s.graded + s.pass + s.no_line + s.voided,
        written.len() as u64
    );
    assert_eq!(output.counters["graded"], s.graded as i64);
    assert_eq!(output.counters["voided"], s.voided as i64);
    let chet = graded
        .iter()
        .find(|r| r.player_lookup == "chetholmgren")
        .expect("Chet graded");
    assert!(chet.is_voided);
}

#[tokio::test]
async fn rerunning_leaves_the_same_rows() {
    let wh = loaded_warehouse(date(NEXT), &[date(D), date(NEXT)]).await;
    let d = date(D);
    let coordinator = PredictionCoordinator::default();
    coordinator
        .process(&context(
            &wh,
            d,
            "run-1",
            instant("2025-11-05T16:00:00Z"),
            Default::default(),
        ))
        .await
        .expect("first run");
    let first: Vec<PlayerPropPrediction> = read(&wh, d).await;
    PredictionGrading
        .process(&context(
            &wh,
            d,
            "grade-1",
            instant("2025-11-06T12:00:00Z"),
            Default::default(),
        ))
        .await
        .expect("first grading");
    let first_graded: Vec<PredictionAccuracy> = read(&wh, d).await;

    coordinator
        .process(&context(
            &wh,
            d,
            "run-2",
            instant("2025-11-05T18:00:00Z"),
            Default::default(),
        ))
        .await
        .expect("second run");
    let second: Vec<PlayerPropPrediction> = read(&wh, d).await;
    assert_eq!(second.len(), first.len());
    assert!(second.iter().all(|r| r.execution_id == "run-2"));
    assert_eq!(without_run_metadata(first), without_run_metadata(second));

    PredictionGrading
        .process(&context(
            &wh,
            d,
            "grade-2",
            instant("2025-11-07T12:00:00Z"),
            Default::default(),
        ))
        .await
        .expect("second grading");
    let mut second_graded: Vec<PredictionAccuracy> = read(&wh, d).await;
    for r in &mut second_graded {
        r.graded_at = instant("2025-11-06T12:00:00Z");
    }
    assert_eq!(first_graded, second_graded);
}

#[tokio::test]
async fn in_game_snapshots_in_the_warehouse_change_nothing() {
    let wh = loaded_warehouse(date(NEXT), &[date(D), date(NEXT)]).await;
    let d = date(D);
    let coordinator = PredictionCoordinator::default();
    coordinator
        .process(&context(
            &wh,
            d,
            "before",
            instant("2025-11-05T16:00:00Z"),
            Default::default(),
        ))
        .await
        .expect("run");
    let before: Vec<PlayerPropPrediction> = read(&wh, d).await;

    // Every real points row copied as an in-game snapshot 30 minutes after
    // its tip-off, 3 points higher (derived rows: the source has none).
    let mut props = props_on(d);
    let live: Vec<PlayerProp> = props
        .iter()
        .filter(|p| p.market == "player_points")
        .map(|p| {
            let mut row = p.clone();
            row.snapshot_time = p.commence_time + chrono::Duration::minutes(30);
            row.minutes_before_tipoff = -30;
            row.line += 3.0;
            row
        })
        .collect();
    let live_count = live.len();
    props.extend(live);
    wh.replace_rows(d, &[], &props)
        .await
        .expect("props with live rows");

    coordinator
        .process(&context(
            &wh,
            d,
            "after",
            instant("2025-11-05T16:00:00Z"),
            Default::default(),
        ))
        .await
        .expect("rerun");
    let after: Vec<PlayerPropPrediction> = read(&wh, d).await;
    assert_eq!(before.len(), after.len());
    let mut excluded = 0;
    for (b, a) in before.iter().zip(&after) {
        assert_eq!(
            (
                b.line_value,
                &b.sportsbook,
                b.line_snapshot_time,
                &b.recommendation
            ),
            (
                a.line_value,
                &a.sportsbook,
                a.line_snapshot_time,
                &a.recommendation
            ),
            "{}",
            a.player_lookup
        );
        // Every system's row of a player carries the same line choice:
        // count each player once.
        if a.system_id == "moving_average" {
            let m: serde_json::Value = serde_json::from_str(&a.metadata).expect("json");
            excluded += m["line_choice"]["excluded_in_game"].as_u64().unwrap_or(0);
        }
    }
    assert!(excluded > 0 && excluded as usize <= live_count);
}

#[tokio::test]
async fn a_date_without_cache_rows_is_emptied_not_left_stale() {
    let wh = loaded_warehouse(date(NEXT), &[date(D), date(NEXT)]).await;
    let d = date(D);
    let coordinator = PredictionCoordinator::default();
    coordinator
        .process(&context(
            &wh,
            d,
            "run-1",
            instant("2025-11-05T16:00:00Z"),
            Default::default(),
        ))
        .await
        .expect("run");
    assert!(!read::<PlayerPropPrediction>(&wh, d).await.is_empty());

    wh.replace_rows::<PlayerDailyCache>(d, &[], &[])
        .await
        .expect("clear cache");
    let output = coordinator
        .process(&context(
            &wh,
            d,
            "run-2",
            instant("2025-11-05T16:00:00Z"),
            Default::default(),
        ))
        .await
        .expect("rerun");
    assert!(output.no_data);
    assert_eq!(output.counters["predictions"], 0);
    assert!(read::<PlayerPropPrediction>(&wh, d).await.is_empty());
    // The neighbouring date is untouched.
    coordinator
        .process(&context(
            &wh,
            date(NEXT),
            "run-3",
            instant("2025-11-06T16:00:00Z"),
            Default::default(),
        ))
        .await
        .expect("next date");
    assert!(
        !read::<PlayerPropPrediction>(&wh, date(NEXT))
            .await
            .is_empty()
    );
    assert!(read::<PlayerPropPrediction>(&wh, d).await.is_empty());
}

#[tokio::test]
async fn grading_leaves_predictions_ungraded_until_their_results_land() {
    let wh = loaded_warehouse(date(NEXT), &[date(D), date(NEXT)]).await;
    let d = date(D);
    PredictionCoordinator::default()
        .process(&context(
            &wh,
            d,
            "run-1",
            instant("2025-11-05T16:00:00Z"),
            Default::default(),
        ))
        .await
        .expect("run");
    let predictions = read::<PlayerPropPrediction>(&wh, d).await.len() as i64;
    assert!(predictions > 0);
    wh.replace_rows::<PlayerGameSummary>(d, &[], &[])
        .await
        .expect("clear results");
    let output = PredictionGrading
        .process(&context(
            &wh,
            d,
            "grade-1",
            instant("2025-11-06T12:00:00Z"),
            Default::default(),
        ))
        .await
        .expect("grading without results is not an error");
    // Nobody is voided as "did not play" for a game whose results are missing.
    assert!(read::<PredictionAccuracy>(&wh, d).await.is_empty());
    assert_eq!(output.counters["ungraded_no_results"], predictions);
}

#[test]
fn outputs_are_the_prediction_tables() {
    let defs: Vec<TableDef> = PredictionCoordinator::default().outputs();
    assert_eq!(
        defs,
        vec![
            PlayerPropPrediction::DEF,
            PredictionSkip::DEF,
            PredictionWorkerRun::DEF
        ]
    );
    assert_eq!(PredictionGrading.outputs(), vec![PredictionAccuracy::DEF]);
    assert_eq!(PredictionGrading.name(), "prediction_grading");
    assert_eq!(
        PredictionCoordinator::default().name(),
        "prediction_coordinator"
    );
}
