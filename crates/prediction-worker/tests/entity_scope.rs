//! Entity scope of `prediction_grading` on the embedded warehouse with the
//! real inputs of 2025-11-05: a grading run scoped to one player (or team)
//! after his result changed replaces exactly his accuracy rows, every other
//! row stays byte-identical, and the scoped rows equal a full regrade's.

mod common;

use chrono::{DateTime, Utc};
use common::{context, date, instant, loaded_warehouse};
use propcast_core::Table;
use propcast_core::tables::{PlayerGameSummary, PlayerPropPrediction, PredictionAccuracy};
use propcast_patterns::{Processor, Scope};
use propcast_platform::embedded::DuckDbWarehouse;
use propcast_platform::warehouse::{Record, date_literal};
use propcast_platform::{Warehouse, WarehouseExt};
use propcast_prediction_worker::{PredictionCoordinator, PredictionGrading};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

const D: &str = "2025-11-05";

async fn grade(wh: &Arc<DuckDbWarehouse>, now: DateTime<Utc>, scope: Scope) {
    PredictionGrading
        .process(&context(wh, date(D), "scope-test", now, scope))
        .await
        .expect("grading");
}

/// The accuracy rows of D as stored, by (player_lookup, system_id).
async fn snapshot(wh: &DuckDbWarehouse) -> BTreeMap<(String, String), Record> {
    let rows = wh
        .query(&format!(
            "SELECT * FROM {} WHERE game_date = {}",
            PredictionAccuracy::DEF.qualified(),
            date_literal(date(D))
        ))
        .await
        .expect("read");
    let mut out = BTreeMap::new();
    for r in rows {
        let key = (
            r["player_lookup"].as_str().unwrap().to_string(),
            r["system_id"].as_str().unwrap().to_string(),
        );
        assert!(out.insert(key, r).is_none());
    }
    out
}

async fn predicted_and_graded() -> (Arc<DuckDbWarehouse>, BTreeMap<(String, String), Record>) {
    let wh = loaded_warehouse(date(D), &[date(D)]).await;
    PredictionCoordinator::default()
        .process(&context(
            &wh,
            date(D),
            "scope-test",
            instant("2025-11-05T16:00:00Z"),
            Scope::Full,
        ))
        .await
        .expect("coordinator");
    grade(&wh, instant("2025-11-06T12:00:00Z"), Scope::Full).await;
    let before = snapshot(&wh).await;
    assert!(before.len() > 100, "{} graded rows", before.len());
    (wh, before)
}

/// Adds `extra` points to the stored results of D of `players`.
async fn change_points(wh: &DuckDbWarehouse, players: &[&str], extra: i64) {
    let d = date(D);
    for lookup in players {
        let mut rows: Vec<PlayerGameSummary> = wh
            .query_as(&format!(
                "SELECT * FROM {} WHERE game_date = {} AND player_lookup = '{lookup}'",
                PlayerGameSummary::DEF.qualified(),
                date_literal(d)
            ))
            .await
            .expect("pgs row");
        assert_eq!(rows.len(), 1, "{lookup} played on {D}");
        rows[0].points += extra;
        wh.replace_rows(d, &[("player_lookup", lookup)], &rows)
            .await
            .expect("write pgs");
    }
}

fn without_graded_at(r: &Record) -> Record {
    let mut r = r.clone();
    r.remove("graded_at");
    r
}

/// Runs a scoped regrade at a later instant, then a full regrade at the same
/// instant: in-scope rows (`in_scope` on the key) equal the full regrade's
/// exactly; the others kept the first grading byte for byte. Returns the
/// players whose rows the scoped run changed.
async fn check_scoped(
    wh: &Arc<DuckDbWarehouse>,
    before: &BTreeMap<(String, String), Record>,
    scope: Scope,
    in_scope: impl Fn(&str) -> bool,
) -> BTreeSet<String> {
    let later = instant("2025-11-07T12:00:00Z");
    grade(wh, later, scope).await;
    let scoped = snapshot(wh).await;
    grade(wh, later, Scope::Full).await;
    let full = snapshot(wh).await;
    assert_eq!(
        full.keys().collect::<Vec<_>>(),
        scoped.keys().collect::<Vec<_>>()
    );
    let mut changed = BTreeSet::new();
    for (key, row) in &scoped {
        if in_scope(&key.0) {
            assert_eq!(row, &full[key], "{key:?} is the full regrade's");
            changed.insert(key.0.clone());
        } else {
            assert_eq!(Some(row), before.get(key), "{key:?} untouched");
            assert_eq!(without_graded_at(row), without_graded_at(&full[key]));
        }
    }
    changed
}

#[tokio::test]
async fn one_players_new_result_regrades_only_his_rows() {
    let (wh, before) = predicted_and_graded().await;
    let sga = "shaigilgeousalexander";
    change_points(&wh, &[sga], 10).await;
    let changed = check_scoped(
        &wh,
        &before,
        Scope::Entities([sga.to_string()].into()),
        |p| p == sga,
    )
    .await;
    assert_eq!(changed, BTreeSet::from([sga.to_string()]));
    let after = snapshot(&wh).await;
    let (key, row) = after
        .iter()
        .find(|(k, _)| k.0 == sga && k.1 == "moving_average")
        .expect("SGA graded");
    assert_ne!(row["actual_points"], before[key]["actual_points"]);
    assert_eq!(
        row["actual_points"].as_i64().unwrap(),
        before[key]["actual_points"].as_i64().unwrap() + 10
    );
}

#[tokio::test]
async fn a_team_scope_regrades_its_players_and_drops_the_ungradable() {
    let (wh, before) = predicted_and_graded().await;
    let d = date(D);
    let predictions: Vec<PlayerPropPrediction> = wh
        .query_as(&format!(
            "SELECT * FROM {} WHERE game_date = {}",
            PlayerPropPrediction::DEF.qualified(),
            date_literal(d)
        ))
        .await
        .unwrap();
    let team_of: BTreeMap<String, String> = predictions
        .iter()
        .map(|p| (p.player_lookup.clone(), p.team_abbr.clone()))
        .collect();
    let okc: Vec<&str> = team_of
        .iter()
        .filter(|(_, t)| t.as_str() == "OKC")
        .map(|(p, _)| p.as_str())
        .collect();
    assert!(okc.len() >= 2, "{okc:?}");
    // Two OKC players' results change.
    let graded_okc: Vec<&str> = okc
        .iter()
        .copied()
        .filter(|p| {
            before
                .iter()
                .any(|(k, r)| k.0 == *p && !r["is_voided"].as_bool().unwrap())
        })
        .take(2)
        .collect();
    assert_eq!(graded_okc.len(), 2);
    change_points(&wh, &graded_okc, 3).await;
    let in_okc = |p: &str| team_of.get(p).map(String::as_str) == Some("OKC");
    let changed = check_scoped(
        &wh,
        &before,
        Scope::Entities(["OKC".to_string()].into()),
        in_okc,
    )
    .await;
    assert_eq!(changed, okc.iter().map(|p| p.to_string()).collect());

    // OKC's results are withdrawn: its predictions become ungradable and
    // their accuracy rows go, nobody else's.
    let before = snapshot(&wh).await;
    wh.replace_rows::<PlayerGameSummary>(d, &[("team_abbr", "OKC")], &[])
        .await
        .unwrap();
    grade(
        &wh,
        instant("2025-11-07T12:00:00Z"),
        Scope::Entities(["OKC".to_string()].into()),
    )
    .await;
    let after = snapshot(&wh).await;
    assert!(after.keys().all(|k| !in_okc(&k.0)));
    let others: BTreeMap<_, _> = before.into_iter().filter(|(k, _)| !in_okc(&k.0)).collect();
    assert_eq!(after, others);
}

/// Grading keeps the layers' default scope expansion (no opponent): its
/// entities come from rows keyed by player (its sources write
/// `player_prop_predictions` and `player_game_summary`), and a team's grades
/// read only its own players' results. After a player's result changes, a
/// run scoped to his team leaves the table as a run scoped to his team and
/// its opponent does, run metadata aside.
#[tokio::test]
async fn a_team_scope_needs_no_opponent() {
    assert_eq!(
        PlayerPropPrediction::DEF.entity_column(),
        Some("player_lookup")
    );
    assert_eq!(
        PlayerGameSummary::DEF.entity_column(),
        Some("player_lookup")
    );
    let (wh, before) = predicted_and_graded().await;
    let sga = "shaigilgeousalexander";
    let his: Vec<PlayerPropPrediction> = wh
        .query_as(&format!(
            "SELECT * FROM {} WHERE game_date = {} AND player_lookup = '{sga}'",
            PlayerPropPrediction::DEF.qualified(),
            date_literal(date(D))
        ))
        .await
        .unwrap();
    let (team, opponent) = (his[0].team_abbr.clone(), his[0].opponent_abbr.clone());
    change_points(&wh, &[sga], 10).await;
    let later = instant("2025-11-07T12:00:00Z");
    grade(&wh, later, Scope::Entities([team.clone()].into())).await;
    let narrow = snapshot(&wh).await;
    grade(&wh, later, Scope::Entities([team, opponent].into())).await;
    let wide = snapshot(&wh).await;
    assert_eq!(
        narrow.keys().collect::<Vec<_>>(),
        wide.keys().collect::<Vec<_>>()
    );
    let regraded = |rows: &BTreeMap<(String, String), Record>| {
        rows.iter()
            .filter(|(k, r)| before.get(*k).map(|b| &b["graded_at"]) != Some(&r["graded_at"]))
            .count()
    };
    assert!(
        regraded(&wide) > regraded(&narrow),
        "the wider scope regrades the opponent's players too"
    );
    for (key, row) in &narrow {
        assert_eq!(
            without_graded_at(row),
            without_graded_at(&wide[key]),
            "{key:?}"
        );
    }
    assert_ne!(
        narrow[&(sga.to_string(), "moving_average".to_string())]["actual_points"],
        before[&(sga.to_string(), "moving_average".to_string())]["actual_points"]
    );
}
