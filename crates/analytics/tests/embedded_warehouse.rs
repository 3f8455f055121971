//! The Phase 3 processors against the embedded DuckDB warehouse: real raw
//! rows written through `replace_rows`, the processors run through the
//! `Processor` trait, and what lands in the tables compared with the pure
//! functions, across reruns and emptied inputs.

use chrono::NaiveDate;
use propcast_analytics::{
    processors, summarize_player_games, summarize_team_defense, summarize_team_offense,
};
use propcast_core::tables::{
    PlayerBoxscore, PlayerGameSummary, ScheduleGame, TeamBoxscore, TeamDefenseGameSummary,
    TeamOffenseGameSummary,
};
use propcast_core::{Table, TableDef};
use propcast_patterns::testing::stateless_context;
use propcast_patterns::{ProcessContext, ProcessOutput, RunStatus};
use propcast_platform::embedded::DuckDbWarehouse;
use propcast_platform::warehouse::date_literal;
use propcast_platform::{Warehouse, WarehouseExt};
use propcast_test_support::box_scores::{date, real, write_date};
use std::collections::BTreeMap;
use std::sync::Arc;

fn context(wh: &Arc<DuckDbWarehouse>, d: NaiveDate) -> ProcessContext {
    stateless_context(wh.clone(), d, "analytics")
}

/// The dates exercised: every 2025-26 date (one team box score per game)
/// and 2024-25 dates with a known quirk each.
fn dates() -> Vec<NaiveDate> {
    let mut out: Vec<NaiveDate> = real()
        .teams
        .dates()
        .filter(|d| *d >= date("2025-08-01"))
        .collect();
    out.extend(
        [
            "2024-12-14", // schedule row 0022401229 says MIL vs MIL
            "2025-02-14", // Rising Stars: two teams play twice
            "2025-03-15", // hand-checked GSW-NYK, Curry
            "2025-04-13", // overtime LAC @ GSW
        ]
        .map(date),
    );
    out
}

async fn load_inputs(wh: &DuckDbWarehouse, d: NaiveDate) {
    write_date(wh, d).await;
}

async fn warehouse() -> Arc<DuckDbWarehouse> {
    let wh = Arc::new(DuckDbWarehouse::in_memory().expect("duckdb"));
    for def in [TeamBoxscore::DEF, PlayerBoxscore::DEF, ScheduleGame::DEF] {
        wh.ensure_table(&def).await.unwrap();
    }
    for p in processors() {
        for def in p.outputs() {
            wh.ensure_table(&def).await.unwrap();
        }
    }
    wh
}

async fn read<T: Table + Send>(wh: &DuckDbWarehouse, d: NaiveDate) -> Vec<T> {
    let key: Vec<&str> = T::DEF.primary_key.to_vec();
    wh.query_as(&format!(
        "SELECT * FROM {} WHERE game_date = {} ORDER BY {}",
        T::DEF.qualified(),
        date_literal(d),
        key.join(", ")
    ))
    .await
    .expect("read back")
}

async fn run_all(wh: &Arc<DuckDbWarehouse>, d: NaiveDate) -> BTreeMap<&'static str, ProcessOutput> {
    let ctx = context(wh, d);
    let mut out = BTreeMap::new();
    for p in processors() {
        let output = p
            .process(&ctx)
            .await
            .unwrap_or_else(|e| panic!("{} {d}: {e}", p.name()));
        out.insert(p.name(), output);
    }
    out
}

fn written(output: &ProcessOutput, def: TableDef) -> u64 {
    output
        .rows_written
        .get(&def.qualified())
        .copied()
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processors_write_exactly_what_the_pure_functions_compute() {
    let wh = warehouse().await;
    let r = real();
    let (mut team_rows, mut player_rows) = (0, 0);
    for d in dates() {
        load_inputs(&wh, d).await;
        let outputs = run_all(&wh, d).await;
        let (teams, players, schedule) = (r.teams.on(d), r.players.on(d), r.schedule.on(d));

        let offense = summarize_team_offense(d, teams, schedule);
        let got: Vec<TeamOffenseGameSummary> = read(&wh, d).await;
        assert_eq!(got, offense.rows, "{d} offense");
        assert_eq!(
            written(
                &outputs["team_offense_game_summary"],
                TeamOffenseGameSummary::DEF
            ),
            got.len() as u64
        );

        let defense = summarize_team_defense(d, teams, schedule);
        let got: Vec<TeamDefenseGameSummary> = read(&wh, d).await;
        assert_eq!(got, defense.rows, "{d} defense");

        let pgs = summarize_player_games(d, players, teams, schedule);
        let got: Vec<PlayerGameSummary> = read(&wh, d).await;
        assert_eq!(got, pgs.rows, "{d} players");
        assert_eq!(got.len(), players.len(), "{d}: every player row kept");

        let expected_status = if d == date("2025-02-14") {
            RunStatus::Partial
        } else {
            RunStatus::Success
        };
        assert_eq!(
            outputs["team_offense_game_summary"].status(),
            expected_status,
            "{d}"
        );
        let players_status = if players.is_empty() {
            RunStatus::NoData // All-Star Friday: no tracked player played
        } else {
            RunStatus::Success
        };
        assert_eq!(
            outputs["player_game_summary"].status(),
            players_status,
            "{d}"
        );
        team_rows += offense.rows.len();
        player_rows += got.len();
    }
    // 20 dates with one box score per game → 147 games → 294 team rows,
    // plus 4 + 6 + 16 + 30 on the 2024-25 dates (2025-02-14: 3 Rising Stars
    // games and the Celebrity Game, the final's 2 rows quarantined).
    assert_eq!(team_rows, 294 + 4 + 6 + 16 + 30);
    assert!(player_rows > 2_400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reruns_change_nothing_and_emptied_inputs_clear_the_date() {
    let wh = warehouse().await;
    let d = date("2025-03-15");
    load_inputs(&wh, d).await;
    run_all(&wh, d).await;
    let first: (
        Vec<TeamOffenseGameSummary>,
        Vec<TeamDefenseGameSummary>,
        Vec<PlayerGameSummary>,
    ) = (read(&wh, d).await, read(&wh, d).await, read(&wh, d).await);
    assert_eq!((first.0.len(), first.1.len(), first.2.len()), (16, 16, 134));

    let again = run_all(&wh, d).await;
    let second = (read(&wh, d).await, read(&wh, d).await, read(&wh, d).await);
    assert_eq!(first, second, "a rerun leaves the same rows");
    assert_eq!(
        written(&again["player_game_summary"], PlayerGameSummary::DEF),
        134
    );

    // The raw rows go away (e.g. a bad load was rolled back): the rerun
    // writes the empty partition instead of keeping stale rows.
    wh.replace_rows::<TeamBoxscore>(d, &[], &[]).await.unwrap();
    wh.replace_rows::<PlayerBoxscore>(d, &[], &[])
        .await
        .unwrap();
    let emptied = run_all(&wh, d).await;
    for summary in [
        "team_offense_game_summary",
        "team_defense_game_summary",
        "player_game_summary",
    ] {
        let o = &emptied[summary];
        assert!(o.no_data && o.total_rows() == 0, "{summary}");
    }
    // The schedule is still there: the 8 games of the date still have their
    // 16 pre-game team contexts (no history loaded, so 0 games played), and
    // no player has a game before the date or a line.
    assert_eq!(emptied["upcoming_team_game_context"].total_rows(), 16);
    assert_eq!(emptied["upcoming_player_game_context"].total_rows(), 0);
    assert_eq!(
        emptied["team_offense_game_summary"].status(),
        RunStatus::NoData
    );
    assert!(read::<TeamOffenseGameSummary>(&wh, d).await.is_empty());
    assert!(read::<TeamDefenseGameSummary>(&wh, d).await.is_empty());
    assert!(read::<PlayerGameSummary>(&wh, d).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_date_without_raw_tables_is_no_data() {
    // Nothing ensured but the outputs: the processors create their inputs.
    let wh = Arc::new(DuckDbWarehouse::in_memory().expect("duckdb"));
    for p in processors() {
        for def in p.outputs() {
            wh.ensure_table(&def).await.unwrap();
        }
    }
    let outputs = run_all(&wh, date("2025-07-01")).await;
    assert!(outputs.values().all(|o| o.status() == RunStatus::NoData));
}
