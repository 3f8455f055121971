//! The two upcoming-context processors against the embedded DuckDB
//! warehouse, on the real 2025-26 inputs: the landing zone's CDN schedule
//! (147 final games to 2025-11-09, then upcoming games without ids), the
//! real team and player box scores run through the Phase 3 summaries date
//! by date, and the real `player_points` lines. What the SQL reads must give
//! exactly what the pure builders compute from every row; removing every
//! game on or after a date leaves that date's contexts unchanged.

use chrono::NaiveDate;
use propcast_analytics::upcoming_player_game_context::{PlayerPriorGame, PlayerSeason};
use propcast_analytics::upcoming_team_game_context::TeamRatingGame;
use propcast_analytics::{build_upcoming_player_context, build_upcoming_team_context, processors};
use propcast_core::tables::{
    PlayerBoxscore, PlayerGameSummary, PlayerProp, ScheduleGame, TeamBoxscore,
    TeamDefenseGameSummary, TeamOffenseGameSummary, UpcomingPlayerGameContext,
    UpcomingTeamGameContext,
};
use propcast_core::{Table, TableDef};
use propcast_patterns::testing::stateless_context;
use propcast_patterns::{ProcessContext, ProcessOutput};
use propcast_platform::WarehouseExt;
use propcast_platform::embedded::DuckDbWarehouse;
use propcast_platform::warehouse::date_literal;
use propcast_test_support::box_scores::{
    date, landing_schedule_2025_26, points_props_2025_26, real,
};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

fn context(wh: &Arc<DuckDbWarehouse>, d: NaiveDate) -> ProcessContext {
    stateless_context(wh.clone(), d, "analytics")
}

fn schedule_on(d: NaiveDate) -> Vec<ScheduleGame> {
    landing_schedule_2025_26()
        .iter()
        .filter(|g| g.game_date == d)
        .cloned()
        .collect()
}

/// 2025-10-21 .. 2025-11-10: every date with box scores, then the first
/// upcoming date.
fn dates() -> Vec<NaiveDate> {
    let mut out: Vec<NaiveDate> = real()
        .teams
        .dates()
        .filter(|d| *d >= date("2025-08-01"))
        .collect();
    out.push(date("2025-11-10"));
    out
}

async fn read<T: Table + Send>(wh: &DuckDbWarehouse, filter: &str) -> Vec<T> {
    let key: Vec<&str> = T::DEF.primary_key.to_vec();
    wh.query_as(&format!(
        "SELECT * FROM {} WHERE {filter} ORDER BY {}",
        T::DEF.qualified(),
        key.join(", ")
    ))
    .await
    .expect("read back")
}

fn on(d: NaiveDate) -> String {
    format!("game_date = {}", date_literal(d))
}

async fn run(
    wh: &Arc<DuckDbWarehouse>,
    d: NaiveDate,
    only: &[&str],
) -> BTreeMap<&'static str, ProcessOutput> {
    let ctx = context(wh, d);
    let mut out = BTreeMap::new();
    for p in processors() {
        if only.is_empty() || only.contains(&p.name()) {
            let output = p
                .process(&ctx)
                .await
                .unwrap_or_else(|e| panic!("{} {d}: {e}", p.name()));
            out.insert(p.name(), output);
        }
    }
    out
}

const CONTEXTS: &[&str] = &["upcoming_team_game_context", "upcoming_player_game_context"];

/// Every input of 2025-26 loaded and every Phase 3 processor run date by
/// date, in order.
async fn backfilled() -> (
    Arc<DuckDbWarehouse>,
    BTreeMap<NaiveDate, BTreeMap<&'static str, ProcessOutput>>,
) {
    let wh = Arc::new(DuckDbWarehouse::in_memory().expect("duckdb"));
    let r = real();
    let mut outputs = BTreeMap::new();
    for d in dates() {
        wh.replace_rows::<TeamBoxscore>(d, &[], r.teams.on(d))
            .await
            .unwrap();
        wh.replace_rows::<PlayerBoxscore>(d, &[], r.players.on(d))
            .await
            .unwrap();
        wh.replace_rows::<ScheduleGame>(d, &[], &schedule_on(d))
            .await
            .unwrap();
        wh.replace_rows::<PlayerProp>(d, &[], points_props_2025_26().on(d))
            .await
            .unwrap();
        outputs.insert(d, run(&wh, d, &[]).await);
    }
    (wh, outputs)
}

fn written(output: &ProcessOutput, def: TableDef) -> u64 {
    output
        .rows_written
        .get(&def.qualified())
        .copied()
        .unwrap_or(0)
}

/// The pure builders over every row the warehouse holds (all dates,
/// including those on and after `d`).
async fn expected(
    wh: &DuckDbWarehouse,
    d: NaiveDate,
) -> (Vec<UpcomingTeamGameContext>, Vec<UpcomingPlayerGameContext>) {
    let offense: Vec<TeamOffenseGameSummary> = read(wh, "TRUE").await;
    let defense: Vec<TeamDefenseGameSummary> = read(wh, "TRUE").await;
    let games: Vec<PlayerGameSummary> = read(wh, "TRUE").await;
    let ratings = TeamRatingGame::join(&offense, &defense);
    let schedule = schedule_on(d);
    let teams =
        build_upcoming_team_context(d, &schedule, landing_schedule_2025_26(), &ratings).rows;
    let seasons = PlayerSeason::from_games(d, games.iter().map(PlayerPriorGame::from));
    let players = build_upcoming_player_context(
        d,
        &schedule,
        points_props_2025_26().on(d),
        &seasons,
        &teams,
        &[],
    )
    .rows;
    (teams, players)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contexts_in_the_warehouse_are_the_pure_definition_and_point_in_time() {
    let (wh, outputs) = backfilled().await;

    for d in ["2025-10-21", "2025-11-01", "2025-11-09", "2025-11-10"].map(date) {
        let (teams, players) = expected(&wh, d).await;
        let got_teams: Vec<UpcomingTeamGameContext> = read(&wh, &on(d)).await;
        let got_players: Vec<UpcomingPlayerGameContext> = read(&wh, &on(d)).await;
        assert_eq!(got_teams, teams, "{d} teams");
        assert_eq!(got_players, players, "{d} players");
        let o = &outputs[&d];
        assert_eq!(
            written(
                &o["upcoming_team_game_context"],
                UpcomingTeamGameContext::DEF
            ),
            teams.len() as u64
        );
        assert_eq!(
            written(
                &o["upcoming_player_game_context"],
                UpcomingPlayerGameContext::DEF
            ),
            players.len() as u64
        );
    }

    // 2025-11-10 is upcoming: 9 games of the landing schedule without game
    // ids, 18 teams, keyed by game code; history before it only.
    let d = date("2025-11-10");
    let teams: Vec<UpcomingTeamGameContext> = read(&wh, &on(d)).await;
    assert_eq!(teams.len(), 18);
    let det = teams.iter().find(|t| t.team_abbr == "DET").unwrap();
    assert_eq!(det.game_id, "20251110/WASDET");
    // DET 2025-26 before 11-10 (games file): 8-2, six straight wins, last
    // 111-108 @PHI on 11-09.
    assert_eq!(
        (
            det.days_rest,
            det.back_to_back,
            det.wins,
            det.losses,
            det.streak
        ),
        (Some(1), true, 8, 2, 6)
    );
    let players: Vec<UpcomingPlayerGameContext> = read(&wh, &on(d)).await;
    let playing: BTreeSet<&str> = teams.iter().map(|t| t.team_abbr.as_str()).collect();
    assert!(players.len() > 150);
    assert!(
        players
            .iter()
            .all(|p| playing.contains(p.team_abbr.as_str()) && !p.has_prop_line)
    );
    let cade = players
        .iter()
        .find(|p| p.player_lookup == "cadecunningham")
        .unwrap();
    // 11-03, 11-05, 11-07, 11-09: 39 + 37 + 33 + 41 minutes.
    assert_eq!(
        (
            cade.days_rest,
            cade.games_last_7_days,
            cade.minutes_last_7_days
        ),
        (Some(1), 4, 150.0)
    );
    assert_eq!(
        outputs[&d]["upcoming_player_game_context"]
            .counters
            .get("universe_from_props_only"),
        None
    );

    // A rerun changes nothing.
    run(&wh, d, CONTEXTS).await;
    assert_eq!(read::<UpcomingTeamGameContext>(&wh, &on(d)).await, teams);
    assert_eq!(
        read::<UpcomingPlayerGameContext>(&wh, &on(d)).await,
        players
    );

    // Point in time: remove every game on or after 2025-11-05 (summaries
    // and schedule results; the date's own schedule rows and lines are
    // pre-game inputs and stay) and rerun that date.
    let d = date("2025-11-05");
    let before: (Vec<UpcomingTeamGameContext>, Vec<UpcomingPlayerGameContext>) =
        (read(&wh, &on(d)).await, read(&wh, &on(d)).await);
    assert!(!before.0.is_empty() && !before.1.is_empty());
    for later in dates().into_iter().filter(|x| *x >= d) {
        wh.replace_rows::<TeamOffenseGameSummary>(later, &[], &[])
            .await
            .unwrap();
        wh.replace_rows::<TeamDefenseGameSummary>(later, &[], &[])
            .await
            .unwrap();
        wh.replace_rows::<PlayerGameSummary>(later, &[], &[])
            .await
            .unwrap();
        if later > d {
            wh.replace_rows::<ScheduleGame>(later, &[], &[])
                .await
                .unwrap();
            wh.replace_rows::<PlayerProp>(later, &[], &[])
                .await
                .unwrap();
        }
    }
    run(&wh, d, CONTEXTS).await;
    let after: (Vec<UpcomingTeamGameContext>, Vec<UpcomingPlayerGameContext>) =
        (read(&wh, &on(d)).await, read(&wh, &on(d)).await);
    assert_eq!(after, before);
}
