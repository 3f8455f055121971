//! `player_shot_zone_analysis` and `team_defense_zone_analysis` against the
//! embedded DuckDB warehouse, on the real shot zones of 2022-23 and 2023-24
//! (`shot_zones_player_game_*.csv.gz`, loaded with the raw crate's parser
//! and written one partition per date as the bulk import does). The
//! expected numbers were computed independently with python over the CSV
//! (method in each test's comment); the queries must also give exactly
//! what the pure definitions give over every row.

use chrono::NaiveDate;
use flate2::read::GzDecoder;
use propcast_core::Table;
use propcast_core::tables::{
    PlayerShotZoneAnalysis, ShotZone, TeamDefenseGameSummary, TeamDefenseZoneAnalysis,
};
use propcast_patterns::testing::stateless_context;
use propcast_patterns::{ProcessContext, ProcessOutput, Processor};
use propcast_platform::WarehouseExt;
use propcast_platform::embedded::DuckDbWarehouse;
use propcast_platform::warehouse::date_literal;
use propcast_precompute::player_shot_zone_analysis::{ZoneCounts, zone_games_from_shot_zones};
use propcast_precompute::team_defense_zone_analysis::{DefenseGame, team_games_from_shot_zones};
use propcast_precompute::{
    PlayerShotZoneAnalysisProcessor, TeamDefenseZoneAnalysisProcessor,
    build_player_shot_zone_analysis, build_team_defense_zone_analysis, processors,
};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, OnceLock};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn context(wh: &Arc<DuckDbWarehouse>, d: NaiveDate) -> ProcessContext {
    stateless_context(wh.clone(), d, "precompute")
}

/// Every zone row of 2022-23 and 2023-24.
fn zones() -> &'static [ShotZone] {
    static ONCE: OnceLock<Vec<ShotZone>> = OnceLock::new();
    ONCE.get_or_init(|| {
        let mut rows = Vec::new();
        for name in [
            "shot_zones_player_game_2022_23.csv.gz",
            "shot_zones_player_game_2023_24.csv.gz",
        ] {
            let (r, q) = propcast_raw::read_shot_file(&Path::new(DATA).join(name)).unwrap();
            assert!(q.is_empty(), "{name}: {:?}", q.entries().first());
            rows.extend(r);
        }
        rows
    })
}

/// 2023-24 team game logs as `team_defense_game_summary` stand-ins: the
/// defending team's points allowed = the opponent's PTS of the same game
/// id; no possessions, so no defensive rating.
fn defense_2023_24() -> Vec<TeamDefenseGameSummary> {
    let file =
        std::fs::File::open(format!("{DATA}/team_game_logs_2014_15_to_2024_25.csv.gz")).unwrap();
    let mut rdr = csv::Reader::from_reader(GzDecoder::new(file));
    let h = rdr.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|c| c == n).unwrap();
    let (season, team, gid, day, matchup, pts) = (
        col("SEASON"),
        col("TEAM_ABBREVIATION"),
        col("GAME_ID"),
        col("GAME_DATE"),
        col("MATCHUP"),
        col("PTS"),
    );
    let mut by_game: HashMap<String, Vec<csv::StringRecord>> = HashMap::new();
    for r in rdr.records() {
        let r = r.unwrap();
        if &r[season] == "2023-24" {
            by_game.entry(r[gid].to_string()).or_default().push(r);
        }
    }
    let mut out = Vec::new();
    for rows in by_game.values().filter(|v| v.len() == 2) {
        for (me, them) in [(&rows[0], &rows[1]), (&rows[1], &rows[0])] {
            out.push(TeamDefenseGameSummary {
                game_date: date(&me[day]),
                game_id: me[gid].to_string(),
                season: 2023,
                defending_team_abbr: me[team].to_string(),
                opponent_abbr: them[team].to_string(),
                is_home: me[matchup].contains("vs."),
                points_allowed: them[pts].parse().unwrap(),
                opp_fgm: None,
                opp_fga: None,
                opp_fg3m: None,
                opp_fg3a: None,
                opp_ftm: None,
                opp_fta: None,
                turnovers_forced: None,
                steals: None,
                blocks: None,
                defensive_rebounds: None,
                possessions: None,
                defensive_rating: None,
                opp_efg_pct: None,
                opp_ts_pct: None,
                data_quality: "team_game_logs".to_string(),
            });
        }
    }
    out
}

/// A warehouse with the zone rows `keep` selects, one partition per date.
async fn loaded(keep: impl Fn(&ShotZone) -> bool) -> Arc<DuckDbWarehouse> {
    let wh = Arc::new(DuckDbWarehouse::in_memory().expect("duckdb"));
    let mut by_date: BTreeMap<NaiveDate, Vec<ShotZone>> = BTreeMap::new();
    for r in zones().iter().filter(|r| keep(r)) {
        by_date.entry(r.game_date).or_default().push(r.clone());
    }
    for (d, rows) in by_date {
        wh.replace_rows(d, &[], &rows).await.unwrap();
    }
    wh
}

async fn run(wh: &Arc<DuckDbWarehouse>, p: &dyn Processor, d: NaiveDate) -> ProcessOutput {
    p.process(&context(wh, d))
        .await
        .unwrap_or_else(|e| panic!("{} {d}: {e}", p.name()))
}

async fn psza(wh: &Arc<DuckDbWarehouse>, d: NaiveDate) -> Vec<PlayerShotZoneAnalysis> {
    wh.query_as(&format!(
        "SELECT * FROM {} WHERE game_date = {} ORDER BY player_lookup",
        PlayerShotZoneAnalysis::DEF.qualified(),
        date_literal(d)
    ))
    .await
    .unwrap()
}

async fn tdza(wh: &Arc<DuckDbWarehouse>, d: NaiveDate) -> Vec<TeamDefenseZoneAnalysis> {
    wh.query_as(&format!(
        "SELECT * FROM {} WHERE game_date = {} ORDER BY team_abbr",
        TeamDefenseZoneAnalysis::DEF.qualified(),
        date_literal(d)
    ))
    .await
    .unwrap()
}

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-12)
}

#[test]
fn zone_analyses_run_first_in_phase_4() {
    let names: Vec<&str> = processors().iter().map(|p| p.name()).collect();
    assert_eq!(
        names[..2],
        ["team_defense_zone_analysis", "player_shot_zone_analysis"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tatum_before_2024_01_15_by_hand_and_by_definition() {
    let d = date("2024-01-15");
    let wh = loaded(|_| true).await;
    let out = run(&wh, &PlayerShotZoneAnalysisProcessor, d).await;
    assert!(!out.no_data);
    let rows = psza(&wh, d).await;
    // python over shot_zones_player_game_2023_24.csv.gz, rows with
    // game_date < 2024-01-15: 516 distinct players, 395 of them with ≥ 10
    // games.
    assert_eq!(rows.len(), 516);
    assert_eq!(
        rows.iter()
            .filter(|r| r.sample_quality == "complete")
            .count(),
        395
    );

    // Jayson Tatum (1628369): 36 games before the date; his 10 most recent
    // (2023-12-23 0022300389 .. 2024-01-13 0022300542) sum to paint 75 FGA
    // 41 FGM (RA + non-RA), mid-range 27/11, three 82/38: 184 FGA.
    // League (every row of 2023-24 before the date): paint 29447/51327,
    // mid-range 4963/11955, three 15044/41019.
    let t = rows
        .iter()
        .find(|r| r.player_lookup == "jaysontatum")
        .unwrap();
    assert_eq!((t.player_id, t.team_abbr.as_str()), (1628369, "BOS"));
    assert_eq!(
        (t.games_in_sample, t.last_game_date),
        (10, date("2024-01-13"))
    );
    assert_eq!(t.total_fga, 184);
    assert_eq!((t.paint_fga, t.paint_fgm), (75, 41));
    assert_eq!((t.mid_range_fga, t.mid_range_fgm), (27, 11));
    assert_eq!((t.three_fga, t.three_fgm), (82, 38));
    assert!(close(t.paint_rate, 100.0 * 75.0 / 184.0)); // 40.76 ≥ 40
    assert!(close(t.mid_range_rate, 100.0 * 27.0 / 184.0));
    assert!(close(t.three_rate, 100.0 * 82.0 / 184.0));
    assert!(close(t.three_fg_pct, 38.0 / 82.0));
    assert!(close(
        t.paint_fg_pct_vs_league,
        41.0 / 75.0 - 29447.0 / 51327.0
    ));
    assert!(close(
        t.mid_range_fg_pct_vs_league,
        11.0 / 27.0 - 4963.0 / 11955.0
    ));
    assert!(close(
        t.three_fg_pct_vs_league,
        38.0 / 82.0 - 15044.0 / 41019.0
    ));
    assert!((t.three_fg_pct_vs_league.unwrap() - 0.096_657_765).abs() < 1e-8);
    assert_eq!(t.primary_scoring_zone, "paint");
    assert_eq!(t.sample_quality, "complete");

    // The query gives exactly the definition over every row.
    let all = zones();
    let expected = build_player_shot_zone_analysis(
        d,
        &zone_games_from_shot_zones(all),
        &ZoneCounts::from_shot_zones(d, all),
    );
    assert_eq!(rows, expected.rows);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boston_defense_before_2024_01_15_by_hand_and_by_definition() {
    let d = date("2024-01-15");
    let wh = loaded(|_| true).await;
    let defense = defense_2023_24();
    let mut by_date: BTreeMap<NaiveDate, Vec<TeamDefenseGameSummary>> = BTreeMap::new();
    for s in &defense {
        by_date.entry(s.game_date).or_default().push(s.clone());
    }
    for (day, rows) in by_date {
        wh.replace_rows(day, &[], &rows).await.unwrap();
    }
    run(&wh, &TeamDefenseZoneAnalysisProcessor, d).await;
    let rows = tdza(&wh, d).await;
    assert_eq!(rows.len(), 30);
    // python: every team has ≥ 15 games by then, so the league pct is the
    // mean over 30 teams of their pct allowed: paint 0.579900304560,
    // mid-range 0.421684279499, three 0.370840679003.
    assert!(rows.iter().all(|r| r.league_avg_source == "computed"));
    // BOS's 15 most recent games (2023-12-17 .. 2024-01-13), the opponents'
    // rows summed: paint 368/661, mid-range 70/162, three 209/589.
    let b = rows.iter().find(|r| r.team_abbr == "BOS").unwrap();
    assert_eq!(b.games_in_sample, 15);
    assert_eq!((b.paint_fga_allowed, b.paint_fgm_allowed), (661, 368));
    assert_eq!(
        (b.mid_range_fga_allowed, b.mid_range_fgm_allowed),
        (162, 70)
    );
    assert_eq!((b.three_fga_allowed, b.three_fgm_allowed), (589, 209));
    assert!(close(b.paint_pct_allowed, 368.0 / 661.0));
    let near = |a: Option<f64>, x: f64| a.is_some_and(|a| (a - x).abs() < 1e-9);
    assert!(near(
        b.paint_defense_vs_league_avg,
        368.0 / 661.0 - 0.579_900_304_560
    ));
    assert!(near(
        b.mid_range_defense_vs_league_avg,
        70.0 / 162.0 - 0.421_684_279_499
    ));
    assert!(near(
        b.three_defense_vs_league_avg,
        209.0 / 589.0 - 0.370_840_679_003
    ));
    // −0.0232 (paint) < −0.0160 (three) < +0.0104 (mid-range).
    assert_eq!(b.strongest_zone.as_deref(), Some("paint"));
    assert_eq!(b.weakest_zone.as_deref(), Some("mid_range"));
    // Opponents' PTS in the same 15 game ids of team_game_logs: 97, 132,
    // 119, 108, 115, 122, 118, 101, 127, 97, 101, 133, 120, 135, 113 = 1738.
    assert!(close(b.opponent_ppg, 1738.0 / 15.0));
    assert_eq!(b.defensive_rating, None, "no possessions in the stand-in");
    assert_eq!(b.sample_quality, "complete");

    let summaries: Vec<DefenseGame> = defense
        .iter()
        .filter(|s| s.game_date < d)
        .map(DefenseGame::from)
        .collect();
    let expected =
        build_team_defense_zone_analysis(d, &team_games_from_shot_zones(zones()), &summaries);
    assert_eq!(rows, expected.rows);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_on_or_after_the_date_and_of_last_season_change_nothing() {
    let d = date("2024-01-15");
    let full = loaded(|_| true).await;
    let before = loaded(|r| r.game_date < d && r.game_date >= date("2023-08-01")).await;
    for wh in [&full, &before] {
        run(wh, &PlayerShotZoneAnalysisProcessor, d).await;
        run(wh, &TeamDefenseZoneAnalysisProcessor, d).await;
    }
    assert_eq!(psza(&full, d).await, psza(&before, d).await);
    assert_eq!(tdza(&full, d).await, tdza(&before, d).await);

    // The second day of 2023-24: only the 38 players of 2023-10-24 (python:
    // distinct player_id on that date), one game each; 2022-23 is ignored.
    let d = date("2023-10-25");
    run(&full, &PlayerShotZoneAnalysisProcessor, d).await;
    let rows = psza(&full, d).await;
    assert_eq!(rows.len(), 38);
    assert!(rows.iter().all(|r| r.games_in_sample == 1
        && r.last_game_date == date("2023-10-24")
        && r.sample_quality == "insufficient_data"));
    // Four teams played on 2023-10-24: one game each, league defaults.
    run(&full, &TeamDefenseZoneAnalysisProcessor, d).await;
    let teams = tdza(&full, d).await;
    assert_eq!(teams.len(), 4);
    assert!(teams.iter().all(|r| r.league_avg_source == "default"
        && r.games_in_sample == 1
        && r.sample_quality == "insufficient_data"
        && r.opponent_ppg.is_none()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_date_without_shot_data_writes_an_empty_partition() {
    // 2024-25 has no shot data: nothing before 2024-11-01 this season.
    let d = date("2024-11-01");
    let wh = loaded(|_| true).await;
    // A stale row in the partition is replaced by the empty result.
    run(&wh, &PlayerShotZoneAnalysisProcessor, date("2024-01-15")).await;
    let stale: Vec<PlayerShotZoneAnalysis> = psza(&wh, date("2024-01-15"))
        .await
        .into_iter()
        .take(1)
        .map(|r| PlayerShotZoneAnalysis { game_date: d, ..r })
        .collect();
    wh.replace_rows(d, &[], &stale).await.unwrap();
    assert_eq!(psza(&wh, d).await.len(), 1);
    let psza_out = run(&wh, &PlayerShotZoneAnalysisProcessor, d).await;
    let tdza_out = run(&wh, &TeamDefenseZoneAnalysisProcessor, d).await;
    for out in [&psza_out, &tdza_out] {
        assert!(out.no_data);
        assert_eq!(out.total_rows(), 0);
        assert!(out.quarantine.is_empty());
    }
    assert!(psza(&wh, d).await.is_empty());
    assert!(tdza(&wh, d).await.is_empty());
    // And the opening day of 2023-24 has no game before it either.
    let d = date("2023-10-24");
    assert!(run(&wh, &PlayerShotZoneAnalysisProcessor, d).await.no_data);
    assert!(run(&wh, &TeamDefenseZoneAnalysisProcessor, d).await.no_data);
}
