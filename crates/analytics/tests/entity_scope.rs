//! Entity scope of the three Phase 3 summaries on the embedded warehouse
//! with real box scores: a run scoped to one player or team replaces
//! exactly that entity's rows (every other row stays byte-identical) and
//! writes what a full run on the same input writes for them.

use chrono::NaiveDate;
use propcast_analytics::{
    PlayerGameSummaryProcessor, TeamDefenseGameSummaryProcessor, TeamOffenseGameSummaryProcessor,
};
use propcast_core::tables::{PlayerBoxscore, TeamBoxscore};
use propcast_core::{Table, TableDef};
use propcast_patterns::testing::stateless_context;
use propcast_patterns::{Processor, Scope};
use propcast_platform::embedded::DuckDbWarehouse;
use propcast_platform::warehouse::{Record, date_literal};
use propcast_platform::{Warehouse, WarehouseExt};
use propcast_test_support::box_scores::{date, write_date};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

async fn loaded(d: NaiveDate) -> Arc<DuckDbWarehouse> {
    let wh = Arc::new(DuckDbWarehouse::in_memory().expect("duckdb"));
    write_date(wh.as_ref(), d).await;
    wh
}

async fn run(wh: &Arc<DuckDbWarehouse>, p: &dyn Processor, d: NaiveDate, scope: Scope) {
    let mut ctx = stateless_context(wh.clone(), d, "analytics");
    ctx.scope = scope;
    p.process(&ctx)
        .await
        .unwrap_or_else(|e| panic!("{} {d}: {e}", p.name()));
}

fn entities(names: &[&str]) -> Scope {
    Scope::Entities(names.iter().map(|s| s.to_string()).collect())
}

/// The date's rows as stored, keyed by `key_column`.
async fn snapshot(
    wh: &DuckDbWarehouse,
    def: TableDef,
    key: &str,
    d: NaiveDate,
) -> BTreeMap<String, Record> {
    let rows = wh
        .query(&format!(
            "SELECT * FROM {} WHERE game_date = {}",
            def.qualified(),
            date_literal(d)
        ))
        .await
        .unwrap();
    let mut out = BTreeMap::new();
    for r in rows {
        let k = r[key].as_str().unwrap().to_string();
        assert!(out.insert(k, r).is_none(), "one row per {key}");
    }
    out
}

/// Changes one player's box score row of `d` in place.
async fn edit_player(
    wh: &DuckDbWarehouse,
    d: NaiveDate,
    lookup: &str,
    f: impl Fn(&mut PlayerBoxscore),
) {
    let mut rows: Vec<PlayerBoxscore> = wh
        .query_as(&format!(
            "SELECT * FROM nba_raw.player_boxscores WHERE game_date = {} AND player_lookup = '{lookup}'",
            date_literal(d)
        ))
        .await
        .unwrap();
    assert_eq!(rows.len(), 1, "{lookup} plays once on {d}");
    f(&mut rows[0]);
    wh.replace_rows(d, &[("player_lookup", lookup)], &rows)
        .await
        .unwrap();
}

async fn edit_team(wh: &DuckDbWarehouse, d: NaiveDate, team: &str, f: impl Fn(&mut TeamBoxscore)) {
    let mut rows: Vec<TeamBoxscore> = wh
        .query_as(&format!(
            "SELECT * FROM nba_raw.team_boxscores WHERE game_date = {} AND team_abbr = '{team}'",
            date_literal(d)
        ))
        .await
        .unwrap();
    assert_eq!(rows.len(), 1, "{team} plays once on {d}");
    f(&mut rows[0]);
    wh.replace_rows(d, &[("team_abbr", team)], &rows)
        .await
        .unwrap();
}

/// Checks a scoped run against the snapshot before it and a full rerun
/// after it: rows for which `in_scope` holds are the full run's, the
/// others are unchanged; returns the keys whose rows changed.
async fn check_scoped(
    wh: &Arc<DuckDbWarehouse>,
    p: &dyn Processor,
    def: TableDef,
    key: &str,
    d: NaiveDate,
    scope: Scope,
    in_scope: impl Fn(&Record) -> bool,
) -> BTreeSet<String> {
    let before = snapshot(wh, def, key, d).await;
    run(wh, p, d, scope).await;
    let scoped = snapshot(wh, def, key, d).await;
    run(wh, p, d, Scope::Full).await;
    let full = snapshot(wh, def, key, d).await;
    let keys: BTreeSet<&String> = before
        .keys()
        .chain(scoped.keys())
        .chain(full.keys())
        .collect();
    let mut changed = BTreeSet::new();
    for k in keys {
        let row = full.get(k).or(before.get(k)).unwrap();
        if in_scope(row) {
            assert_eq!(
                scoped.get(k),
                full.get(k),
                "{}: in-scope row {k} is the full run's",
                p.name()
            );
        } else {
            assert_eq!(
                scoped.get(k),
                before.get(k),
                "{}: row {k} out of scope untouched",
                p.name()
            );
        }
        if scoped.get(k) != before.get(k) {
            changed.insert(k.clone());
        }
    }
    // Leave the table as a full run on the changed input writes it.
    changed
}

fn text<'a>(r: &'a Record, column: &str) -> &'a str {
    r[column].as_str().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_player_update_replaces_only_his_row() {
    let d = date("2025-03-15");
    let wh = loaded(d).await;
    let pgs = propcast_core::tables::PlayerGameSummary::DEF;
    run(&wh, &PlayerGameSummaryProcessor, d, Scope::Full).await;
    let before = snapshot(&wh, pgs, "player_lookup", d).await;
    assert_eq!(before.len(), 134);
    edit_player(&wh, d, "stephencurry", |p| p.pts += 10).await;
    let changed = check_scoped(
        &wh,
        &PlayerGameSummaryProcessor,
        pgs,
        "player_lookup",
        d,
        entities(&["stephencurry"]),
        |r| text(r, "player_lookup") == "stephencurry",
    )
    .await;
    assert_eq!(changed, BTreeSet::from(["stephencurry".to_string()]));
    let after = snapshot(&wh, pgs, "player_lookup", d).await;
    assert_eq!(after["stephencurry"]["points"], serde_json::json!(38));
    // Only his row differs from the first full run, on a full rerun too.
    let differing: Vec<&String> = before.keys().filter(|k| before[*k] != after[*k]).collect();
    assert_eq!(differing, ["stephencurry"]);

    // A player whose box score disappears loses his row.
    wh.replace_rows::<PlayerBoxscore>(d, &[("player_lookup", "stephencurry")], &[])
        .await
        .unwrap();
    run(
        &wh,
        &PlayerGameSummaryProcessor,
        d,
        entities(&["stephencurry"]),
    )
    .await;
    let gone = snapshot(&wh, pgs, "player_lookup", d).await;
    assert!(!gone.contains_key("stephencurry"));
    assert_eq!(gone.len(), 133);
    assert!(gone.iter().all(|(k, r)| after[k] == *r));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn team_scope_recomputes_the_teams_players_and_summaries() {
    let d = date("2025-03-15");
    let wh = loaded(d).await;
    let defs = propcast_core::tables::PlayerGameSummary::DEF;
    let offense = propcast_core::tables::TeamOffenseGameSummary::DEF;
    let defense = propcast_core::tables::TeamDefenseGameSummary::DEF;
    for p in [
        &TeamOffenseGameSummaryProcessor as &dyn Processor,
        &TeamDefenseGameSummaryProcessor,
        &PlayerGameSummaryProcessor,
    ] {
        run(&wh, p, d, Scope::Full).await;
    }
    // GSW's field goal attempts change: GSW players' usage and both teams'
    // possessions change.
    edit_team(&wh, d, "GSW", |t| t.fga += 5).await;
    let changed = check_scoped(
        &wh,
        &PlayerGameSummaryProcessor,
        defs,
        "player_lookup",
        d,
        entities(&["GSW"]),
        |r| text(r, "team_abbr") == "GSW",
    )
    .await;
    assert!(
        changed.contains("stephencurry") && changed.len() >= 5,
        "{changed:?}"
    );
    let changed = check_scoped(
        &wh,
        &TeamOffenseGameSummaryProcessor,
        offense,
        "team_abbr",
        d,
        entities(&["GSW"]),
        |r| text(r, "team_abbr") == "GSW",
    )
    .await;
    assert_eq!(changed, BTreeSet::from(["GSW".to_string()]));
    let changed = check_scoped(
        &wh,
        &TeamDefenseGameSummaryProcessor,
        defense,
        "defending_team_abbr",
        d,
        entities(&["GSW"]),
        |r| text(r, "defending_team_abbr") == "GSW",
    )
    .await;
    assert_eq!(changed, BTreeSet::from(["GSW".to_string()]));
    // A player entity names no team summary row: nothing is touched.
    edit_team(&wh, d, "GSW", |t| t.fga += 5).await;
    let changed = check_scoped(
        &wh,
        &TeamOffenseGameSummaryProcessor,
        offense,
        "team_abbr",
        d,
        entities(&["stephencurry"]),
        |_| false,
    )
    .await;
    assert!(changed.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_box_score_games_scope_the_side_without_one() {
    // 2025-26 has one team box score per game: BKN @ NYK on 2025-11-09 has
    // only BKN's, and NYK's rows are derived from it and the schedule.
    let d = date("2025-11-09");
    let wh = loaded(d).await;
    let offense = propcast_core::tables::TeamOffenseGameSummary::DEF;
    let defense = propcast_core::tables::TeamDefenseGameSummary::DEF;
    let pgs = propcast_core::tables::PlayerGameSummary::DEF;
    for p in [
        &TeamOffenseGameSummaryProcessor as &dyn Processor,
        &TeamDefenseGameSummaryProcessor,
        &PlayerGameSummaryProcessor,
    ] {
        run(&wh, p, d, Scope::Full).await;
    }
    let before = snapshot(&wh, offense, "team_abbr", d).await;
    assert_eq!(
        text(&before["NYK"], "data_quality"),
        "derived_from_opponent"
    );
    edit_team(&wh, d, "BKN", |t| t.fga += 4).await;
    let changed = check_scoped(
        &wh,
        &TeamDefenseGameSummaryProcessor,
        defense,
        "defending_team_abbr",
        d,
        entities(&["NYK"]),
        |r| text(r, "defending_team_abbr") == "NYK",
    )
    .await;
    assert_eq!(changed, BTreeSet::from(["NYK".to_string()]));
    let changed = check_scoped(
        &wh,
        &TeamOffenseGameSummaryProcessor,
        offense,
        "team_abbr",
        d,
        entities(&["NYK"]),
        |r| text(r, "team_abbr") == "NYK",
    )
    .await;
    assert_eq!(
        changed,
        BTreeSet::from(["NYK".to_string()]),
        "possessions changed"
    );
    // Scoping every entity of the date is a full run.
    let all: Vec<String> = snapshot(&wh, pgs, "player_lookup", d)
        .await
        .values()
        .flat_map(|r| {
            [
                text(r, "player_lookup").to_string(),
                text(r, "team_abbr").to_string(),
            ]
        })
        .collect();
    edit_player(&wh, d, &all[0].clone(), |p| p.pts += 1).await;
    let scope = Scope::Entities(all.into_iter().collect());
    check_scoped(
        &wh,
        &PlayerGameSummaryProcessor,
        pgs,
        "player_lookup",
        d,
        scope,
        |_| true,
    )
    .await;
}
