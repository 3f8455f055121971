//! Invariant 1, point in time: what propcast computes for a date D uses only
//! games before D and prop snapshots taken before tip-off. The test runs the
//! real pipeline twice on the embedded backends:
//!
//! * **full**: the shared landing zone as it is; every 2025-26 date through
//!   2025-11-09 is processed by range (D in the same pass as every later
//!   date), then D is run again, so D is computed with every later result
//!   already in the warehouse; both must give the same rows;
//! * **cut**: a copy of the landing zone with everything on or after D that
//!   is not known before D's tip-offs changed or deleted — the player and
//!   team box scores of D and later deleted, D's and later schedule games
//!   set back to not started (status 1, no scores), the props of later dates
//!   deleted, and any snapshot of D taken at or after its game's tip-off
//!   deleted — then the dates up to D processed.
//!
//! Every row written *for* D by the pre-game processors (contexts, zone
//! analyses, composite factors, daily cache, feature store, predictions)
//! must be identical in both, all columns but run metadata.

mod common;

use chrono::{DateTime, NaiveDate, Utc};
use common::{copy_dir, landing, runtime};
use propcast::backfill::{discover_dates, run_dates};
use propcast::pipeline::{Backends, Pipeline};
use propcast_core::tables::{
    MlFeatureStore, PlayerBoxscore, PlayerCompositeFactors, PlayerDailyCache, PlayerPropPrediction,
    PlayerShotZoneAnalysis, TeamDefenseZoneAnalysis, UpcomingPlayerGameContext,
    UpcomingTeamGameContext,
};
use propcast_core::{Table, TableDef};
use propcast_patterns::RunMode;
use propcast_platform::Record;
use propcast_platform::warehouse::date_literal;
use std::path::Path;

const SEASON_START: &str = "2025-10-21";
const D: &str = "2025-11-05";

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// The tables whose rows for D are computed before D's games.
fn pre_game_tables() -> Vec<TableDef> {
    vec![
        UpcomingTeamGameContext::DEF,
        UpcomingPlayerGameContext::DEF,
        PlayerShotZoneAnalysis::DEF,
        TeamDefenseZoneAnalysis::DEF,
        PlayerCompositeFactors::DEF,
        PlayerDailyCache::DEF,
        MlFeatureStore::DEF,
        PlayerPropPrediction::DEF,
    ]
}

/// Deletes every dated folder of `kind` on or after (`inclusive`) or
/// strictly after D.
fn delete_dated(root: &Path, kind: &str, d: NaiveDate, inclusive: bool) -> usize {
    let dir = root.join(kind);
    let mut deleted = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let entry = entry.unwrap();
        let day = date(entry.file_name().to_str().unwrap());
        if day > d || (inclusive && day == d) {
            std::fs::remove_dir_all(entry.path()).unwrap();
            deleted += 1;
        }
    }
    deleted
}

/// The landing zone as it stood before D's first tip-off, as far as the
/// pipeline can tell (see the module doc).
fn cut_landing(src: &Path, dst: &Path, d: NaiveDate) {
    copy_dir(src, dst);
    assert!(delete_dated(dst, "nba-com/player-boxscores", d, true) > 0);
    assert!(delete_dated(dst, "nba-com/team-boxscores", d, true) > 0);
    assert!(delete_dated(dst, "odds-api/player-props-history", d, false) > 0);
    assert!(delete_dated(dst, "odds-api/events-history", d, false) > 0);

    // In-game snapshots of D (none are expected in the shared data, but the
    // cut must not depend on that).
    let day_dir = dst.join(format!("odds-api/player-props-history/{d}"));
    for event in std::fs::read_dir(&day_dir).unwrap() {
        for snap in std::fs::read_dir(event.unwrap().path()).unwrap() {
            let path = snap.unwrap().path();
            let payload: serde_json::Value =
                serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            let taken: DateTime<Utc> = payload["timestamp"].as_str().unwrap().parse().unwrap();
            let tip: DateTime<Utc> = payload["data"]["commence_time"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap();
            if taken >= tip {
                std::fs::remove_file(&path).unwrap();
            }
        }
    }

    // D's and later games have not started: no status, no scores.
    let schedule_dir = dst.join("nba-com/schedule-cdn/2025-26");
    let mut reset = 0;
    for file in std::fs::read_dir(&schedule_dir).unwrap() {
        let path = file.unwrap().path();
        let mut schedule: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        for day in schedule["leagueSchedule"]["gameDates"]
            .as_array_mut()
            .unwrap()
        {
            let text = day["gameDate"].as_str().unwrap().to_string();
            let game_day =
                NaiveDate::parse_from_str(text.split_whitespace().next().unwrap(), "%m/%d/%Y")
                    .unwrap();
            if game_day < d {
                continue;
            }
            for game in day["games"].as_array_mut().unwrap() {
                if game["gameStatus"] == 3 {
                    reset += 1;
                }
                game["gameStatus"] = 1.into();
                game["gameStatusText"] = "".into();
                for side in ["homeTeam", "awayTeam"] {
                    game[side]["score"] = 0.into();
                }
            }
        }
        std::fs::write(&path, serde_json::to_vec(&schedule).unwrap()).unwrap();
    }
    assert!(reset > 0, "no finished game on or after {d} was reset");
}

/// D's rows of a table, deterministic columns only, in a canonical order.
fn rows_for(pipeline: &Pipeline, def: &TableDef, d: NaiveDate) -> Vec<Record> {
    let columns: Vec<&str> = def
        .columns
        .iter()
        .map(|c| c.name)
        .filter(|c| !TableDef::is_run_metadata(c))
        .collect();
    let list = columns.join(", ");
    let sql = format!(
        "SELECT {list} FROM {} WHERE {} = {} ORDER BY {list}",
        def.qualified(),
        def.partition,
        date_literal(d)
    );
    runtime()
        .block_on(pipeline.backends().warehouse.query(&sql))
        .unwrap_or_else(|e| panic!("{e}"))
}

fn count(pipeline: &Pipeline, def: &TableDef, d: NaiveDate) -> usize {
    rows_for(pipeline, def, d).len()
}

#[test]
fn rows_for_a_date_do_not_change_when_later_data_changes_or_disappears() {
    let d = date(D);
    let work = tempfile::tempdir().unwrap();

    // full: every date, then D again with all of its future in the warehouse.
    let full = Pipeline::new(Backends::embedded(&work.path().join("full"), &landing()).unwrap());
    let dates = runtime()
        .block_on(discover_dates(
            full.backends().landing.as_ref(),
            Some(date(SEASON_START)),
            None,
        ))
        .unwrap();
    assert!(dates.last().copied() > Some(d));
    let summary = runtime()
        .block_on(run_dates(
            &full,
            &dates,
            RunMode::Backfill,
            "backfill",
            "test",
            false,
        ))
        .unwrap();
    assert!(summary.failed_runs.is_empty(), "{:?}", summary.failed_runs);
    // The backfill ran by range: D was computed in the same pass as every
    // later date. Its rows as that pass left them must not see the later
    // dates either.
    let in_range: Vec<Vec<Record>> = pre_game_tables()
        .iter()
        .map(|def| rows_for(&full, def, d))
        .collect();
    runtime()
        .block_on(run_dates(
            &full,
            &[d],
            RunMode::Backfill,
            "run",
            "test",
            false,
        ))
        .unwrap();

    // cut: the landing zone as it stood before D's games.
    let cut_dir = work.path().join("cut-landing");
    cut_landing(&landing(), &cut_dir, d);
    let cut = Pipeline::new(Backends::embedded(&work.path().join("cut"), &cut_dir).unwrap());
    let before: Vec<NaiveDate> = dates.iter().copied().filter(|x| *x <= d).collect();
    let summary = runtime()
        .block_on(run_dates(
            &cut,
            &before,
            RunMode::Backfill,
            "backfill",
            "test",
            false,
        ))
        .unwrap();
    assert!(summary.failed_runs.is_empty(), "{:?}", summary.failed_runs);

    // The cut took effect: D's results exist in full only.
    assert!(count(&full, &PlayerBoxscore::DEF, d) > 100);
    assert_eq!(count(&cut, &PlayerBoxscore::DEF, d), 0);

    for (def, ranged) in pre_game_tables().into_iter().zip(in_range) {
        let a = rows_for(&full, &def, d);
        let b = rows_for(&cut, &def, d);
        assert!(
            ranged == a,
            "{}: D's rows computed in the backfill's range differ from D run alone",
            def.qualified()
        );
        assert_eq!(
            a.len(),
            b.len(),
            "{}: {} rows for {d} with the full data, {} with the cut",
            def.qualified(),
            a.len(),
            b.len()
        );
        if let Some((x, y)) = a.iter().zip(&b).find(|(x, y)| x != y) {
            panic!(
                "{} differs for {d}:\n full: {x:?}\n cut:  {y:?}",
                def.qualified()
            );
        }
    }
    // Not vacuous: the date has contexts, features and predictions.
    for def in [
        UpcomingPlayerGameContext::DEF,
        PlayerCompositeFactors::DEF,
        MlFeatureStore::DEF,
        PlayerPropPrediction::DEF,
    ] {
        assert!(
            count(&full, &def, d) > 50,
            "{} has too few rows for {d}",
            def.qualified()
        );
    }
}
