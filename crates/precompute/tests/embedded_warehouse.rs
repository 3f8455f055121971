//! `player_daily_cache` against the embedded DuckDB warehouse: the real
//! tracked-player games of 2024-25 and 2025-26 as `player_game_summary`, the
//! final schedule, and the 2025-26 points lines, written through
//! `replace_rows`. The history query (window aggregates, universe filter)
//! must give exactly what the pure reduction of every game gives.

use chrono::NaiveDate;
use propcast_core::Table;
use propcast_core::tables::{PlayerDailyCache, PlayerGameSummary};
use propcast_patterns::testing::stateless_context;
use propcast_patterns::{ProcessContext, ProcessOutput, RunStatus};
use propcast_platform::WarehouseExt;
use propcast_platform::embedded::DuckDbWarehouse;
use propcast_platform::warehouse::date_literal;
use propcast_precompute::player_daily_cache::{PriorGame, PropPlayer, SeasonToDate};
use propcast_precompute::{build_player_daily_cache, processors};
use propcast_test_support::player_games::{date, loaded_warehouse, real};
use std::collections::BTreeSet;
use std::sync::Arc;

fn context(wh: &Arc<DuckDbWarehouse>, d: NaiveDate) -> ProcessContext {
    stateless_context(wh.clone(), d, "precompute")
}

fn all_dates() -> BTreeSet<NaiveDate> {
    let r = real();
    r.schedule.iter().map(|g| g.game_date).collect()
}

/// A warehouse with every real input of both seasons.
async fn loaded() -> Arc<DuckDbWarehouse> {
    loaded_warehouse().await
}

async fn run(wh: &Arc<DuckDbWarehouse>, d: NaiveDate) -> ProcessOutput {
    let all = processors();
    let p = all
        .iter()
        .find(|p| p.name() == "player_daily_cache")
        .expect("player_daily_cache processor");
    p.process(&context(wh, d))
        .await
        .unwrap_or_else(|e| panic!("{d}: {e}"))
}

async fn read(wh: &DuckDbWarehouse, d: NaiveDate) -> Vec<PlayerDailyCache> {
    wh.query_as(&format!(
        "SELECT * FROM {} WHERE game_date = {} ORDER BY player_lookup",
        PlayerDailyCache::DEF.qualified(),
        date_literal(d)
    ))
    .await
    .expect("read back")
}

/// The cache by definition: every game reduced in Rust, pre-tip lines only.
fn expected(d: NaiveDate, games: &[PlayerGameSummary]) -> Vec<PlayerDailyCache> {
    let r = real();
    let seasons = SeasonToDate::from_games(d, games.iter().map(PriorGame::from));
    let props: Vec<PropPlayer> = r
        .props_on(d)
        .iter()
        .filter(|p| p.minutes_before_tipoff >= 0)
        .filter_map(PropPlayer::of)
        .collect();
    build_player_daily_cache(d, &r.schedule_on(d), &props, &seasons).rows
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_query_gives_the_same_cache_as_the_definition() {
    let wh = loaded().await;
    let r = real();
    let mut dates: Vec<NaiveDate> = all_dates()
        .into_iter()
        .filter(|d| *d >= date("2025-10-21"))
        .collect();
    dates.extend(
        [
            "2024-10-22", // opening night 2024-25: nobody has a game yet
            "2024-10-24",
            "2025-02-10", // Luka Doncic's last game was for DAL
            "2025-03-04", // Curry on a back-to-back
            "2025-03-15",
            "2025-04-13", // last regular-season night
            "2025-05-10", // playoffs: no tracked games that night, stale teams
        ]
        .map(date),
    );
    let mut rows = 0;
    for d in dates {
        let output = run(&wh, d).await;
        let got = read(&wh, d).await;
        assert_eq!(got, expected(d, &r.games), "{d}");
        assert_eq!(output.total_rows(), got.len() as u64);
        rows += got.len();
    }
    assert!(rows > 3_500, "{rows}");

    let curry = read(&wh, date("2025-03-15"))
        .await
        .into_iter()
        .find(|c| c.player_lookup == "stephencurry")
        .unwrap();
    assert_eq!(curry.points_avg_last_5, Some(27.0));
    assert_eq!(curry.games_played_season, 57);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_on_or_after_the_date_never_change_it() {
    let wh = loaded().await;
    let r = real();
    let d = date("2025-03-15");
    run(&wh, d).await;
    let before = read(&wh, d).await;
    assert!(before.len() > 100);

    // Rewrite every game from D on: more points, another team, extra rows.
    for day in all_dates()
        .into_iter()
        .filter(|x| *x >= d && *x < date("2025-08-01"))
    {
        let mut games = r.games_on(day);
        for g in &mut games {
            g.points += 40;
            g.team_abbr = "GSW".to_string();
        }
        wh.replace_rows(day, &[], &games).await.unwrap();
    }
    let output = run(&wh, d).await;
    assert_eq!(read(&wh, d).await, before);
    assert_eq!(output.status(), RunStatus::Success);
    // A rerun replaces, never appends.
    assert_eq!(output.total_rows(), before.len() as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_date_without_games_writes_an_empty_partition() {
    let wh = loaded().await;
    let d = date("2025-07-15");
    let output = run(&wh, d).await;
    assert_eq!(output.status(), RunStatus::NoData);
    assert!(read(&wh, d).await.is_empty());
}
