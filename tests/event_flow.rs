//! The event flow users run (`propcast run`, `propcast backfill`): phases
//! driven by completion events and orchestrator triggers on the embedded
//! SQLite bus and state store, on the real landing zone.
//!
//! - re-delivering every event of a date changes no table, and run history
//!   shows the duplicates as skips (invariants 2 and 4);
//! - a backfill over a range equals daily runs of each date in order, table
//!   by table (invariant 3);
//! - one changed box score recomputes only that player's rows downstream,
//!   and run history shows the smaller scope.

mod common;

use chrono::NaiveDate;
use common::{copy_dir, data_tables, landing, runtime, snapshot};
use propcast::backfill::{RunOptions, run_dates_with};
use propcast::pipeline::{Backends, DateOutcome, DateRun, Pipeline};
use propcast_patterns::{RunMode, RunStatus};
use propcast_platform::{Record, Warehouse};
use propcast_test_support::landing::edit_first_player_points;
use std::collections::BTreeMap;
use std::path::Path;

fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// The dates of the 2025-26 season these tests run (real lines exist for
/// them, so grading against real lines happens too).
fn dates() -> Vec<NaiveDate> {
    ["2025-10-31", "2025-11-01", "2025-11-02"]
        .iter()
        .map(|s| date(s))
        .collect()
}

/// A pipeline whose "today" is the morning after the last test date, so
/// every date runs as that overnight run would have.
fn daily_pipeline(data: &Path, landing: &Path) -> Pipeline {
    let last = *dates().last().unwrap();
    Pipeline::new(Backends::embedded(data, landing).unwrap()).as_of(last.succ_opt())
}

fn run_daily(pipeline: &Pipeline, d: NaiveDate) -> DateOutcome {
    runtime().block_on(async {
        pipeline.prepare().await.unwrap();
        let round = uuid::Uuid::new_v4().to_string();
        pipeline
            .run_date_with(d, &DateRun::daily(), &round)
            .await
            .unwrap()
    })
}

fn tables(warehouse: &dyn Warehouse) -> BTreeMap<String, Vec<Record>> {
    data_tables()
        .into_iter()
        .map(|def| (def.qualified(), snapshot(warehouse, def)))
        .collect()
}

fn query(warehouse: &dyn Warehouse, sql: &str) -> Vec<Record> {
    runtime()
        .block_on(warehouse.query(sql))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

fn text(r: &Record, key: &str) -> String {
    r.get(key)
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_string()
}

/// The test dates run as daily runs, once for the tests that only read
/// them (and add run history).
struct Daily {
    _dir: tempfile::TempDir,
    pipeline: Pipeline,
    last: DateOutcome,
}

fn daily() -> &'static Daily {
    static DAILY: std::sync::OnceLock<Daily> = std::sync::OnceLock::new();
    DAILY.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let pipeline = daily_pipeline(dir.path(), &landing());
        let mut last = None;
        for d in dates() {
            let outcome = run_daily(&pipeline, d);
            assert!(outcome.failed().is_empty(), "{d}: {:?}", outcome.failed());
            assert!(outcome.early_exit.is_none(), "{d} has games");
            last = Some(outcome);
        }
        Daily {
            _dir: dir,
            pipeline,
            last: last.unwrap(),
        }
    })
}

#[test]
fn redelivering_every_event_of_a_date_changes_nothing() {
    let Daily { pipeline, last, .. } = daily();
    let outcome = last;
    // The chain really went through the bus: three transitions fired, and
    // every processor published a completion.
    assert_eq!(outcome.fired.len(), 3, "2→3, 3→4 and 4→5 fire once each");
    let completions = outcome
        .published
        .iter()
        .filter(|m| m.topic == propcast::pipeline::COMPLETIONS_TOPIC)
        .count();
    assert_eq!(completions, pipeline.processors().len());
    let wh = pipeline.backends().warehouse.clone();
    let before = tables(wh.as_ref());

    let reports = runtime()
        .block_on(pipeline.redeliver(outcome.date, &outcome.round, &outcome.published))
        .unwrap();

    assert_eq!(tables(wh.as_ref()), before, "a re-delivery changed a table");
    // No transition fired again; the re-delivered triggers ran nothing.
    let downstream = pipeline
        .processors()
        .iter()
        .filter(|p| p.phase().number() > 2)
        .count();
    assert_eq!(reports.len(), downstream);
    for r in &reports {
        assert_eq!(r.status(), RunStatus::Skipped, "{}", r.processor());
        let reason = r.run.skip_reason.clone().unwrap_or_default();
        assert!(reason.starts_with("duplicate delivery"), "{reason}");
    }
    let skips = query(
        wh.as_ref(),
        &format!(
            "SELECT processor FROM nba_processing.processor_runs \
             WHERE game_date = DATE '{}' AND round_id = '{}' AND status = 'skipped' \
             AND skip_reason LIKE 'duplicate delivery%'",
            outcome.date, outcome.round
        ),
    );
    assert_eq!(skips.len(), downstream, "run history records every skip");
}

#[test]
fn a_backfill_equals_daily_runs_of_each_date_in_order() {
    let work = tempfile::tempdir().unwrap();
    let daily = &daily().pipeline;
    let backfill =
        Pipeline::new(Backends::embedded(&work.path().join("backfill"), &landing()).unwrap());
    let summary = runtime()
        .block_on(run_dates_with(
            &backfill,
            &dates(),
            RunMode::Backfill,
            "backfill",
            "test",
            false,
            &RunOptions::default(),
        ))
        .unwrap();
    assert_eq!(summary.dates_processed, dates().len() as u64);
    assert!(summary.failed_runs.is_empty(), "{:?}", summary.failed_runs);

    let a = tables(daily.backends().warehouse.as_ref());
    let b = tables(backfill.backends().warehouse.as_ref());
    for (table, rows) in &a {
        assert_eq!(
            rows.len(),
            b[table].len(),
            "{table}: daily {} rows, backfill {}",
            rows.len(),
            b[table].len()
        );
        assert!(
            rows == &b[table],
            "{table} differs between daily and backfill"
        );
    }
    let predictions = &a["nba_predictions.player_prop_predictions"];
    assert!(!predictions.is_empty(), "the runs predicted something");
}

/// Adds `extra` points to the first player row of the date's box-score
/// payload; returns that player's name.
fn change_points(landing: &Path, d: NaiveDate, extra: i64) -> String {
    edit_first_player_points(landing, d, |points| points + extra)
}

/// The columns that name whose row it is.
const ENTITY_COLUMNS: [&str; 3] = ["player_lookup", "team_abbr", "defending_team_abbr"];

#[test]
fn one_changed_box_score_recomputes_only_that_player() {
    let work = tempfile::tempdir().unwrap();
    let land = work.path().join("landing");
    copy_dir(&landing(), &land);
    let pipeline = daily_pipeline(&work.path().join("data"), &land);
    for d in dates() {
        run_daily(&pipeline, d);
    }
    let wh = pipeline.backends().warehouse.clone();
    let before = tables(wh.as_ref());

    let d = *dates().last().unwrap();
    let name = change_points(&land, d, 10);
    let outcome = run_daily(&pipeline, d);
    assert!(outcome.failed().is_empty(), "{:?}", outcome.failed());
    let after = tables(wh.as_ref());

    // Whose rows changed, table by table.
    let mut changed: BTreeMap<String, Vec<Record>> = BTreeMap::new();
    let keyed = |rows: &[Record]| -> std::collections::BTreeSet<String> {
        rows.iter()
            .map(|r| serde_json::to_string(r).unwrap())
            .collect()
    };
    for (table, rows) in &after {
        let (new, old) = (keyed(rows), keyed(&before[table]));
        let diff: Vec<Record> = new
            .symmetric_difference(&old)
            .map(|r| serde_json::from_str(r).unwrap())
            .collect();
        if !diff.is_empty() {
            changed.insert(table.clone(), diff);
        }
    }
    let summaries = changed
        .get("nba_analytics.player_game_summary")
        .expect("the player's summary changed");
    let player = text(&summaries[0], "player_lookup");
    let team = text(&summaries[0], "team_abbr");
    assert!(!player.is_empty());
    for (table, rows) in &changed {
        for r in rows {
            let entity_ok = ENTITY_COLUMNS.iter().any(|c| {
                let v = text(r, c);
                v == player || v == team
            });
            assert!(
                entity_ok,
                "{table}: a row of someone else changed after {name}'s box score changed: {r:?}"
            );
        }
    }
    // The old and the new summary row of that player, nothing else.
    assert_eq!(summaries.len(), 2, "{summaries:?}");

    // The run history of the update shows the smaller scope.
    let runs = query(
        wh.as_ref(),
        &format!(
            "SELECT processor, status, skip_reason, entities_in_scope, entities_changed \
             FROM nba_processing.processor_runs WHERE round_id = '{}' ORDER BY phase, processor",
            outcome.round
        ),
    );
    let by_name: BTreeMap<String, &Record> =
        runs.iter().map(|r| (text(r, "processor"), r)).collect();
    let pgs = by_name["player_game_summary"];
    assert_eq!(pgs["entities_in_scope"].as_i64(), Some(1), "{pgs:?}");
    assert_eq!(
        by_name["player_boxscores"]["entities_changed"].as_i64(),
        Some(1)
    );
    // The phase 2 runs whose landing files did not change skip at the
    // source; phase 4 finds nothing it reads changed.
    for p in [
        "schedule",
        "team_boxscores",
        "player_props",
        "player_composite_factors",
        "player_daily_cache",
        "ml_feature_store",
    ] {
        let r = by_name[p];
        assert_eq!(text(r, "status"), "skipped", "{p}: {r:?}");
        assert!(
            text(r, "skip_reason").starts_with("up to date"),
            "{p}: {r:?}"
        );
    }
    // The completion of the box scores names the player.
    let boxscores = outcome
        .published
        .iter()
        .filter(|m| m.topic == propcast::pipeline::COMPLETIONS_TOPIC)
        .map(|m| {
            <propcast_proto::v1::ProcessorCompletion as prost::Message>::decode(m.data.clone())
                .unwrap()
        })
        .find(|c| c.processor == "player_boxscores")
        .unwrap();
    assert!(boxscores.is_incremental);
    assert_eq!(boxscores.entities_changed, vec![player.clone()]);
}

/// Triggers no runner can ever act on — not a PhaseTrigger, a bad
/// game_date, an unknown mode, a phase that is none or not the topic's, an
/// empty round or claim — are acknowledged into dead letters whose reason
/// names the field, before anything runs; the date run after them
/// completes with the same rows as the clean daily run of that date.
#[test]
fn unreadable_triggers_are_dead_lettered_and_the_date_still_runs() {
    use propcast_orchestrator::{PhaseTrigger, Transition};
    let first = dates()[0];
    let dir = tempfile::tempdir().unwrap();
    let pipeline = daily_pipeline(dir.path(), &landing());
    let valid = PhaseTrigger {
        transition: "phase2_to_phase3".into(),
        phase: 3,
        game_date: first.to_string(),
        mode: "overnight".into(),
        round_id: "poison".into(),
        claim_id: "claim".into(),
        reason: "critical_and_share".into(),
        ..Default::default()
    };
    let bad = |f: &dyn Fn(&mut PhaseTrigger)| {
        let mut t = valid.clone();
        f(&mut t);
        prost::Message::encode_to_vec(&t)
    };
    let poison: Vec<(&str, Vec<u8>)> = vec![
        ("not a PhaseTrigger", vec![0xff, 0xff, 0xff]),
        ("game_date", bad(&|t| t.game_date = "2025-02-30".into())),
        ("mode", bad(&|t| t.mode = "nightly".into())),
        ("phase", bad(&|t| t.phase = 7)),
        ("phase", bad(&|t| t.phase = 4)),
        ("round_id", bad(&|t| t.round_id.clear())),
        ("claim_id", bad(&|t| t.claim_id.clear())),
    ];
    let outcome = runtime().block_on(async {
        pipeline.prepare().await.unwrap();
        let bus = pipeline.backends().bus.clone();
        for (_, data) in &poison {
            bus.publish(
                Transition::Phase2To3.trigger_topic(),
                data.clone().into(),
                BTreeMap::new(),
            )
            .await
            .unwrap();
        }
        let round = uuid::Uuid::new_v4().to_string();
        pipeline
            .run_date_with(first, &DateRun::daily(), &round)
            .await
            .unwrap()
    });
    assert_eq!(outcome.dead_letters.len(), poison.len());
    for ((field, data), letter) in poison.iter().zip(&outcome.dead_letters) {
        assert!(
            letter.reason.contains(field),
            "{field}: {:?}",
            letter.reason
        );
        assert_eq!(letter.subscription, "phase3-trigger-runner");
        assert_eq!(&letter.payload().unwrap(), data);
    }
    let stored = runtime()
        .block_on(propcast_platform::dead_letter::list(
            pipeline.backends().state.as_ref(),
            "",
        ))
        .unwrap();
    assert_eq!(stored.len(), poison.len(), "kept in the state store");
    // `propcast dead-letters` lists them from the same state store, and
    // prints one's payload exactly as it was published.
    let cli = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_propcast"))
            .args(args)
            .arg("--data-dir")
            .arg(dir.path())
            .env_remove("PROPCAST_STATE")
            .env_remove("PROPCAST_CONFIG")
            .output()
            .unwrap()
    };
    let listed = cli(&["dead-letters"]);
    let listing = String::from_utf8_lossy(&listed.stdout).to_string();
    assert!(listed.status.success(), "{listing}");
    assert!(
        listing.contains(&format!("({} dead letters", poison.len())),
        "{listing}"
    );
    assert!(listing.contains("game_date"), "{listing}");
    let id = format!("{}:{}", stored[0].subscription, stored[0].message_id);
    let one = cli(&["dead-letters", "--payload", &id]);
    assert!(one.status.success());
    assert!(
        poison.iter().any(|(_, data)| data == &one.stdout),
        "the payload of {id} is one of the published ones"
    );

    // The date itself ran as usual: every transition fired, nothing
    // failed, and its rows are those of the clean daily run.
    assert!(outcome.failed().is_empty(), "{:?}", outcome.failed());
    assert!(outcome.early_exit.is_none());
    // The first date of the season has no history for 4→5 to wait on as
    // the later dates do; what fired matches the clean run of the date,
    // table by table, below.
    assert!(outcome.fired.len() >= 2, "2→3 and 3→4 fired");
    let clean = daily().pipeline.backends().warehouse.clone();
    let ours = pipeline.backends().warehouse.clone();
    let mut compared = 0;
    for def in data_tables() {
        let of_date = |rows: Vec<Record>| -> Vec<Record> {
            rows.into_iter()
                .filter(|r| text(r, def.partition) == first.to_string())
                .collect()
        };
        let expected = of_date(snapshot(clean.as_ref(), def));
        let got = of_date(snapshot(ours.as_ref(), def));
        compared += expected.len();
        assert_eq!(got, expected, "{}", def.qualified());
    }
    assert!(compared > 1000, "the date has rows to compare: {compared}");
}
