//! The Phase 2 processors against the embedded DuckDB warehouse and the
//! real landing zone in `shared/data/landing`, run through
//! `propcast_patterns::run_processor` so run history and quarantine rows
//! are checked too.

use chrono::{NaiveDate, Utc};
use propcast_core::date::parse_game_date;
use propcast_core::tables::{
    PlayerBoxscore, PlayerProp, ProcessorRun, QuarantineRecord, ScheduleGame, TeamBoxscore,
    UnresolvedPlayerName,
};
use propcast_core::{Table, TableDef};
use propcast_patterns::testing::NoState;
use propcast_patterns::{ProcessContext, Processor, RunMode, RunStatus, run_processor};
use propcast_platform::embedded::{DuckDbWarehouse, LocalLandingZone};
use propcast_platform::warehouse::{date_literal, string_literal};
use propcast_platform::{LandingZone, Warehouse, WarehouseExt};
use propcast_raw::{
    PlayerBoxscoresProcessor, PlayerPropsProcessor, ScheduleProcessor, TeamBoxscoresProcessor,
};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;

const LANDING: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/landing");

fn d(s: &str) -> NaiveDate {
    parse_game_date(s).unwrap()
}

struct Env {
    warehouse: Arc<DuckDbWarehouse>,
    landing: Arc<dyn LandingZone>,
}

impl Env {
    async fn new(landing_root: &Path) -> Env {
        let warehouse = Arc::new(DuckDbWarehouse::in_memory().expect("duckdb"));
        let mut defs: Vec<TableDef> = propcast_raw::processors()
            .iter()
            .flat_map(|p| p.outputs())
            .collect();
        defs.extend([ProcessorRun::DEF, QuarantineRecord::DEF]);
        for def in defs {
            warehouse.ensure_table(&def).await.expect("table");
        }
        let landing = Arc::new(LocalLandingZone::open(landing_root).expect("landing"));
        Env { warehouse, landing }
    }

    async fn real() -> Env {
        Env::new(Path::new(LANDING)).await
    }

    fn ctx(&self, date: NaiveDate) -> ProcessContext {
        ProcessContext {
            warehouse: self.warehouse.clone(),
            landing: self.landing.clone(),
            state: Arc::new(NoState("raw processors")),
            game_date: date,
            mode: RunMode::Backfill,
            execution_id: "test-execution".to_string(),
            correlation_id: "test-correlation".to_string(),
            now: Utc::now(),
            scope: Default::default(),
        }
    }

    async fn run(
        &self,
        processor: &dyn Processor,
        date: NaiveDate,
    ) -> propcast_patterns::RunReport {
        let report = run_processor(processor, &self.ctx(date))
            .await
            .expect("bookkeeping");
        assert_ne!(report.status(), RunStatus::Failed, "{:?}", report.error());
        report
    }

    async fn rows<T: Table>(&self, date: NaiveDate, order: &str) -> Vec<T> {
        let sql = format!(
            "SELECT * FROM {} WHERE game_date = {} ORDER BY {order}",
            T::DEF.qualified(),
            date_literal(date)
        );
        self.warehouse.query_as(&sql).await.expect("query")
    }

    async fn count(&self, sql: &str) -> i64 {
        #[derive(Deserialize)]
        struct N {
            n: i64,
        }
        let rows: Vec<N> = self.warehouse.query_as(sql).await.expect("count");
        rows[0].n
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn box_scores_and_schedule_of_2025_03_15() {
    let env = Env::real().await;
    let date = d("2025-03-15");
    let schedule = ScheduleProcessor::new();
    for report in [
        env.run(&schedule, date).await,
        env.run(&PlayerBoxscoresProcessor, date).await,
        env.run(&TeamBoxscoresProcessor, date).await,
    ] {
        assert_eq!(
            report.status(),
            RunStatus::Success,
            "{}",
            report.processor()
        );
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Line {
        pts: i64,
        team_abbr: String,
        opponent_abbr: String,
        is_home: bool,
        game_id: String,
    }
    let curry: Vec<Line> = env
        .warehouse
        .query_as(
            "SELECT pts, team_abbr, opponent_abbr, is_home, game_id FROM nba_raw.player_boxscores \
             WHERE game_date = DATE '2025-03-15' AND player_lookup = 'stephencurry'",
        )
        .await
        .unwrap();
    assert_eq!(
        curry,
        [Line {
            pts: 28,
            team_abbr: "GSW".into(),
            opponent_abbr: "NYK".into(),
            is_home: true,
            game_id: "0022400974".into()
        }]
    );
    let players = env
        .count("SELECT COUNT(*) AS n FROM nba_raw.player_boxscores WHERE game_date = DATE '2025-03-15'")
        .await;
    assert_eq!(players, 134);

    // Three sources agree: the schedule's final score of every game equals
    // the team box score points of both teams.
    let games = env.rows::<ScheduleGame>(date, "home_team_abbr").await;
    let teams = env.rows::<TeamBoxscore>(date, "game_id, team_abbr").await;
    assert_eq!(games.len(), 8);
    assert_eq!(teams.len(), 16);
    for g in &games {
        let id = g.game_id.as_deref().unwrap();
        let pts = |abbr: &str| {
            teams
                .iter()
                .find(|t| t.game_id == id && t.team_abbr == abbr)
                .map(|t| t.pts)
        };
        assert_eq!(pts(&g.home_team_abbr), g.home_score, "{id}");
        assert_eq!(pts(&g.away_team_abbr), g.away_score, "{id}");
    }

    // Run history: one success row per processor, nothing quarantined.
    let runs: Vec<ProcessorRun> = env.rows(date, "processor").await;
    let summary: Vec<(&str, &str, i64)> = runs
        .iter()
        .map(|r| (r.processor.as_str(), r.status.as_str(), r.rows_written))
        .collect();
    assert_eq!(
        summary,
        [
            ("player_boxscores", "success", 134),
            ("schedule", "success", 8),
            ("team_boxscores", "success", 16)
        ]
    );
    assert!(
        env.rows::<QuarantineRecord>(date, "processor")
            .await
            .is_empty()
    );

    // Idempotent: a rerun (the schedule from the processor's cache) leaves
    // the same rows.
    let before = env.rows::<PlayerBoxscore>(date, "game_id, player_id").await;
    env.run(&schedule, date).await;
    env.run(&PlayerBoxscoresProcessor, date).await;
    assert_eq!(
        env.rows::<PlayerBoxscore>(date, "game_id, player_id").await,
        before
    );
    assert_eq!(
        env.rows::<ScheduleGame>(date, "home_team_abbr").await,
        games
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn props_resolve_player_ids_from_earlier_box_scores_only() {
    let env = Env::real().await;
    let props_date = d("2025-11-01");
    // Box scores of the 2025-26 season before the props date.
    let mut date = d("2025-10-21");
    while date < props_date {
        env.run(&PlayerBoxscoresProcessor, date).await;
        date = date.succ_opt().unwrap();
    }
    let report = env.run(&PlayerPropsProcessor, props_date).await;
    assert_eq!(report.status(), RunStatus::Success);
    let props = env
        .rows::<PlayerProp>(
            props_date,
            "snapshot_time, event_id, bookmaker, market, player_lookup, line",
        )
        .await;
    assert_eq!(props.len(), 3_814);
    assert_eq!(report.output.rows_written["nba_raw.player_props"], 3_814);

    // Zach LaVine resolves to his NBA id and Sacramento.
    let lavine = props
        .iter()
        .find(|p| {
            p.bookmaker == "fanduel"
                && p.market == "player_points"
                && p.player_lookup == "zachlavine"
        })
        .unwrap();
    assert_eq!(
        (lavine.line, lavine.over_price, lavine.under_price),
        (24.5, Some(-102), Some(-130))
    );
    assert_eq!(lavine.team_abbr.as_deref(), Some("SAC"));
    let lavine_id = env
        .count("SELECT MAX(player_id) AS n FROM nba_raw.player_boxscores WHERE player_lookup = 'zachlavine'")
        .await;
    assert_eq!(lavine.player_id, Some(lavine_id));

    // Every resolved player is on one of the event's teams; the unresolved
    // names account for exactly the prop rows left without an id.
    for p in &props {
        match &p.team_abbr {
            Some(team) => {
                assert!(team == &p.home_team_abbr || team == &p.away_team_abbr);
                assert!(p.player_id.is_some());
            }
            None => assert!(p.player_id.is_none()),
        }
    }
    let unresolved = env
        .rows::<UnresolvedPlayerName>(props_date, "player_lookup")
        .await;
    let unresolved_rows = props.iter().filter(|p| p.player_id.is_none()).count() as i64;
    assert!(!unresolved.is_empty());
    assert_eq!(
        report.output.counters["unresolved_names"],
        unresolved.len() as i64
    );
    assert_eq!(
        unresolved.iter().map(|u| u.occurrences).sum::<i64>(),
        unresolved_rows
    );
    for u in &unresolved {
        assert_eq!(u.source, "odds_api");
        assert!(
            props
                .iter()
                .any(|p| p.player_lookup == u.player_lookup && p.player_id.is_none()),
            "{}",
            u.player_lookup
        );
        assert!(u.candidate_teams.len() >= 7, "{}", u.candidate_teams);
        assert!(
            u.reason == "no player with this name before this date"
                || u.reason == "name matches players on other teams only"
                || u.reason.starts_with("ambiguous: "),
            "{}",
            u.reason
        );
    }
    let resolved_share = 1.0 - unresolved_rows as f64 / props.len() as f64;
    assert!(
        resolved_share > 0.8,
        "only {resolved_share:.3} of prop rows resolved"
    );

    // The resolved team is the team the player actually played for that
    // night (checked against the date's own box scores, loaded only now).
    env.run(&PlayerBoxscoresProcessor, props_date).await;
    let that_night = env
        .rows::<PlayerBoxscore>(props_date, "game_id, player_id")
        .await;
    let mut checked = 0;
    for p in props.iter().filter(|p| p.player_id.is_some()) {
        if let Some(b) = that_night.iter().find(|b| Some(b.player_id) == p.player_id) {
            assert_eq!(
                Some(&b.team_abbr),
                p.team_abbr.as_ref(),
                "{}",
                p.player_lookup
            );
            checked += 1;
        }
    }
    assert!(checked > 1_000, "{checked}");

    // Point in time and idempotent: with the date's own and later box
    // scores now in the warehouse, a rerun gives exactly the same rows.
    env.run(&PlayerBoxscoresProcessor, d("2025-11-02")).await;
    env.run(&PlayerPropsProcessor, props_date).await;
    let again = env
        .rows::<PlayerProp>(
            props_date,
            "snapshot_time, event_id, bookmaker, market, player_lookup, line",
        )
        .await;
    assert_eq!(again, props);
    assert_eq!(
        env.rows::<UnresolvedPlayerName>(props_date, "player_lookup")
            .await,
        unresolved
    );
}

/// A scratch landing zone holding copies of real payloads.
struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn new() -> Scratch {
        Scratch {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    /// Copies `landing/<folder>` (recursively) into the scratch zone.
    fn copy(&self, folder: &str) {
        fn walk(from: &Path, to: &Path) {
            std::fs::create_dir_all(to).unwrap();
            for entry in std::fs::read_dir(from).unwrap() {
                let path = entry.unwrap().path();
                let target = to.join(path.file_name().unwrap());
                if path.is_dir() {
                    walk(&path, &target);
                } else {
                    std::fs::copy(&path, &target).unwrap();
                }
            }
        }
        walk(&Path::new(LANDING).join(folder), &self.root().join(folder));
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.root().join(rel)
    }

    fn edit_json(&self, rel: &str, edit: impl FnOnce(&mut serde_json::Value)) {
        let path = self.path(rel);
        let mut value: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        edit(&mut value);
        std::fs::write(&path, serde_json::to_vec(&value).unwrap()).unwrap();
    }

    fn truncate(&self, rel: &str, keep: usize) {
        let path = self.path(rel);
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..keep]).unwrap();
    }
}

const BOX_0315: &str = "nba-com/player-boxscores/2025-03-15/20250316_080500.json";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_record_is_quarantined_and_a_fixed_rerun_clears_it() {
    let scratch = Scratch::new();
    scratch.copy("nba-com/player-boxscores/2025-03-15");
    scratch.edit_json(BOX_0315, |v| {
        v["resultSets"][0]["rowSet"][17][28] = serde_json::json!("abc");
    });
    let env = Env::new(scratch.root()).await;
    let date = d("2025-03-15");
    let report = env.run(&PlayerBoxscoresProcessor, date).await;
    assert_eq!(report.status(), RunStatus::Partial);
    let rows = env.rows::<PlayerBoxscore>(date, "game_id, player_id").await;
    assert_eq!(rows.len(), 133);
    assert!(
        rows.iter()
            .any(|r| r.player_lookup == "stephencurry" && r.pts == 28)
    );
    let quarantined = env.rows::<QuarantineRecord>(date, "record").await;
    assert_eq!(quarantined.len(), 1);
    let q = &quarantined[0];
    assert_eq!(
        (
            q.processor.as_str(),
            q.source_file.as_str(),
            q.record.as_str(),
            q.field.as_str()
        ),
        (
            "player_boxscores",
            BOX_0315,
            "resultSets[0].rowSet[17]",
            "PTS"
        )
    );
    assert_eq!(q.reason, "expected integer, found string \"abc\"");
    assert!(q.excerpt.contains("Landry Shamet"));
    let runs: Vec<ProcessorRun> = env.rows(date, "started_at").await;
    assert_eq!(
        (runs[0].status.as_str(), runs[0].records_quarantined),
        ("partial", 1)
    );

    // A re-scrape arrives and is corrupt: it is quarantined and the date
    // falls back to the previous good file instead of losing its rows.
    let newer = "nba-com/player-boxscores/2025-03-15/20250316_120000.json";
    std::fs::copy(scratch.path(BOX_0315), scratch.path(newer)).unwrap();
    scratch.truncate(newer, 5000);
    // Fix the original file.
    std::fs::copy(Path::new(LANDING).join(BOX_0315), scratch.path(BOX_0315)).unwrap();
    let report = env.run(&PlayerBoxscoresProcessor, date).await;
    assert_eq!(report.status(), RunStatus::Partial);
    assert_eq!(
        env.rows::<PlayerBoxscore>(date, "game_id, player_id")
            .await
            .len(),
        134
    );
    let quarantined = env.rows::<QuarantineRecord>(date, "record").await;
    assert_eq!(quarantined.len(), 1);
    assert_eq!(
        (
            quarantined[0].source_file.as_str(),
            quarantined[0].record.as_str()
        ),
        (newer, "file")
    );
    assert!(
        quarantined[0]
            .reason
            .starts_with("invalid JSON at line 1 column 5000: EOF while parsing"),
        "{}",
        quarantined[0].reason
    );

    // The corrupt file is removed: clean run, quarantine of the date cleared.
    std::fs::remove_file(scratch.path(newer)).unwrap();
    let report = env.run(&PlayerBoxscoresProcessor, date).await;
    assert_eq!(report.status(), RunStatus::Success);
    assert!(
        env.rows::<QuarantineRecord>(date, "record")
            .await
            .is_empty()
    );

    // The payloads are withdrawn: no data, and the date's rows are cleared.
    std::fs::remove_dir_all(scratch.path("nba-com/player-boxscores/2025-03-15")).unwrap();
    let report = env.run(&PlayerBoxscoresProcessor, date).await;
    assert_eq!(report.status(), RunStatus::NoData);
    assert!(
        env.rows::<PlayerBoxscore>(date, "game_id, player_id")
            .await
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncated_props_file_is_quarantined_and_the_other_events_load() {
    let scratch = Scratch::new();
    let folder = "odds-api/player-props-history/2025-11-01";
    scratch.copy(folder);
    let hou_bos =
        format!("{folder}/b406e64442d9cccd0d36a3ff6ba0aa86-HOUBOS/20251101_170000-snap-1700.json");
    let sac_mil =
        format!("{folder}/1eb306bc928cde16b480fbf6493b53a6-SACMIL/20251101_170000-snap-1700.json");
    let hou_bos_rows = propcast_raw::parse_player_props(
        &std::fs::read(scratch.path(&hou_bos)).unwrap(),
        &hou_bos,
        d("2025-11-01"),
    )
    .unwrap()
    .rows
    .len();
    scratch.truncate(&hou_bos, 5123);
    scratch.edit_json(&sac_mil, |v| {
        v["data"]["bookmakers"][0]["markets"][2]["outcomes"][1]["price"] = serde_json::json!(null);
    });
    let env = Env::new(scratch.root()).await;
    let date = d("2025-11-01");
    let report = env.run(&PlayerPropsProcessor, date).await;
    assert_eq!(report.status(), RunStatus::Partial);
    let props = env
        .rows::<PlayerProp>(
            date,
            "snapshot_time, event_id, bookmaker, market, player_lookup, line",
        )
        .await;
    assert_eq!(props.len(), 3_814 - hou_bos_rows);
    let lavine = props
        .iter()
        .find(|p| {
            p.bookmaker == "fanduel"
                && p.market == "player_points"
                && p.player_lookup == "zachlavine"
        })
        .unwrap();
    assert_eq!((lavine.over_price, lavine.under_price), (Some(-102), None));
    // No box scores in this warehouse: every name is unresolved, none lost.
    let unresolved = env
        .rows::<UnresolvedPlayerName>(date, "player_lookup")
        .await;
    assert_eq!(
        unresolved.iter().map(|u| u.occurrences).sum::<i64>(),
        props.len() as i64
    );
    assert!(
        unresolved
            .iter()
            .all(|u| u.reason == "no player with this name before this date")
    );

    let q = env
        .rows::<QuarantineRecord>(date, "source_file, record")
        .await;
    assert_eq!(q.len(), 2);
    let file = q.iter().find(|r| r.source_file == hou_bos).unwrap();
    assert_eq!((file.record.as_str(), file.field.as_str()), ("file", ""));
    assert!(
        file.reason
            .starts_with("invalid JSON at line 1 column 5123: EOF while parsing"),
        "{}",
        file.reason
    );
    let outcome = q.iter().find(|r| r.source_file == sac_mil).unwrap();
    assert_eq!(
        (outcome.record.as_str(), outcome.field.as_str()),
        ("bookmakers[0].markets[2].outcomes[1]", "price")
    );
    assert!(outcome.reason.ends_with("found null"), "{}", outcome.reason);
    let count = env
        .count(&format!(
            "SELECT COUNT(*) AS n FROM nba_processing.quarantine WHERE processor = {}",
            string_literal("player_props")
        ))
        .await;
    assert_eq!(count, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_date_without_payloads_is_no_data() {
    let env = Env::real().await;
    let date = d("2025-07-15");
    for processor in propcast_raw::processors() {
        let report = env.run(processor.as_ref(), date).await;
        assert_eq!(report.status(), RunStatus::NoData, "{}", report.processor());
    }
    // The 2025-26 schedule has upcoming games without ids; they load too.
    let schedule = ScheduleProcessor::new();
    let report = env.run(&schedule, d("2025-11-12")).await;
    assert_eq!(report.status(), RunStatus::Success);
    let games = env
        .rows::<ScheduleGame>(d("2025-11-12"), "home_team_abbr")
        .await;
    assert!(!games.is_empty());
    assert!(
        games
            .iter()
            .all(|g| g.game_id.is_none() && g.game_status == 1)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_schedule_follows_the_newest_loadable_snapshot() {
    let scratch = Scratch::new();
    let folder = "nba-com/schedule-cdn/2025-26";
    scratch.copy(folder);
    let env = Env::new(scratch.root()).await;
    let date = d("2025-10-21");
    let schedule = ScheduleProcessor::new();
    env.run(&schedule, date).await;
    let okc = |games: &[ScheduleGame]| {
        games
            .iter()
            .find(|g| g.home_team_abbr == "OKC")
            .map(|g| (g.home_score, g.away_score))
    };
    let games = env.rows::<ScheduleGame>(date, "home_team_abbr").await;
    assert_eq!(games.len(), 2);
    assert_eq!(okc(&games), Some((Some(125), Some(124))));

    // A newer snapshot with a corrected score replaces the old one, on the
    // same (caching) processor instance.
    let old = format!("{folder}/20251110_080500.json");
    let newer = format!("{folder}/20251111_080500.json");
    std::fs::copy(scratch.path(&old), scratch.path(&newer)).unwrap();
    scratch.edit_json(&newer, |v| {
        v["leagueSchedule"]["gameDates"][0]["games"][0]["homeTeam"]["score"] =
            serde_json::json!(126);
    });
    env.run(&schedule, date).await;
    let games = env.rows::<ScheduleGame>(date, "home_team_abbr").await;
    assert_eq!(okc(&games), Some((Some(126), Some(124))));
    assert!(games.iter().all(|g| g.source_file == newer));

    // The newest snapshot arrives truncated: quarantined, the previous one
    // is used.
    let newest = format!("{folder}/20251112_080500.json");
    std::fs::copy(scratch.path(&old), scratch.path(&newest)).unwrap();
    scratch.truncate(&newest, 100_000);
    let report = env.run(&schedule, date).await;
    assert_eq!(report.status(), RunStatus::Partial);
    let games = env.rows::<ScheduleGame>(date, "home_team_abbr").await;
    assert_eq!(okc(&games), Some((Some(126), Some(124))));
    let q = env.rows::<QuarantineRecord>(date, "record").await;
    assert_eq!(q.len(), 1);
    assert_eq!(
        (q[0].source_file.as_str(), q[0].record.as_str()),
        (newest.as_str(), "file")
    );
    assert!(
        q[0].reason
            .starts_with("invalid JSON at line 1 column 100000"),
        "{}",
        q[0].reason
    );
}

const RAW_SAMPLES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/raw_samples"
);

impl Scratch {
    /// Writes `bytes` at the landing path `rel`.
    fn put(&self, rel: &str, bytes: &[u8]) {
        let path = self.path(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
}

fn sample(rel: &str) -> Vec<u8> {
    std::fs::read(Path::new(RAW_SAMPLES).join(rel)).unwrap()
}

fn at(s: &str) -> chrono::DateTime<Utc> {
    s.parse().unwrap()
}

/// Issue 15's payloads at their `layout` paths: the scoreboard and the
/// traditional box score load (a corrupt re-scrape falls back to the good
/// file), the official report keeps one copy of a re-scraped report, and
/// injury names resolve against the box scores before the date.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scoreboard_traditional_box_score_and_injury_reports_load() {
    use propcast_core::tables::{BoxscoreTraditionalPlayer, InjuryReportEntry, ScoreboardGame};
    use propcast_raw::layout;
    use propcast_raw::{BoxscoreTraditionalProcessor, InjuryReportProcessor, ScoreboardProcessor};

    let scratch = Scratch::new();
    let nov4 = d("2025-11-04");
    let nov5 = d("2025-11-05");
    scratch.put(
        &layout::scoreboard_v3(nov5, at("2025-11-06T08:00:00Z")),
        &sample("nba_stats_scoreboardv3.json"),
    );
    let good = layout::boxscore_traditional_v3(nov4, "0022500165", at("2025-11-05T08:00:00Z"));
    let corrupt = layout::boxscore_traditional_v3(nov4, "0022500165", at("2025-11-05T09:00:00Z"));
    let box_bytes = sample("nba_stats_boxscoretraditionalv3.json");
    scratch.put(&good, &box_bytes);
    scratch.put(&corrupt, &box_bytes[..4000]);
    let pdf = sample("seed_system/nbac_injury_report/raw_f4391904.pdf");
    let jan4 = d("2024-01-04");
    let first = layout::injury_report(jan4, 12, at("2024-01-04T17:40:00Z"));
    let again = layout::injury_report(jan4, 12, at("2024-01-04T17:55:00Z"));
    scratch.put(&first, &pdf);
    scratch.put(&again, &pdf);
    let bdl = layout::bdl_injuries(nov5, at("2025-11-05T15:00:00Z"));
    scratch.put(&bdl, &sample("seed_system/bdl_injuries/raw_d45e630e.json"));
    scratch.copy("nba-com/player-boxscores");
    let env = Env::new(scratch.root()).await;

    let report = env.run(&ScoreboardProcessor, nov5).await;
    assert_eq!(report.status(), RunStatus::Success);
    let games = env.rows::<ScoreboardGame>(nov5, "game_id").await;
    assert_eq!(games.len(), 11);
    assert_eq!(
        games
            .iter()
            .map(|g| g.home_score.unwrap() + g.away_score.unwrap())
            .sum::<i64>(),
        // The 22 final scores of 2025-11-05 in the games CSV.
        132 + 121
            + 114
            + 103
            + 103
            + 112
            + 136
            + 107
            + 137
            + 114
            + 109
            + 124
            + 99
            + 101
            + 122
            + 112
            + 118
            + 116
            + 121
            + 119
            + 121
            + 116
    );

    let report = env.run(&BoxscoreTraditionalProcessor, nov4).await;
    assert_eq!(report.status(), RunStatus::Partial);
    let players = env
        .rows::<BoxscoreTraditionalPlayer>(nov4, "game_id, player_id")
        .await;
    assert_eq!(players.len(), 29);
    assert!(players.iter().all(|p| p.source_file == good));
    let q = env.rows::<QuarantineRecord>(nov4, "source_file").await;
    assert_eq!(q.len(), 1);
    assert_eq!(
        (q[0].source_file.as_str(), q[0].record.as_str()),
        (corrupt.as_str(), "file")
    );

    // The official report, scraped twice: one report, the newer file.
    let report = env.run(&InjuryReportProcessor, jan4).await;
    assert_eq!(report.status(), RunStatus::Success);
    assert_eq!(report.output.counters["superseded_report_files"], 1);
    let entries = env
        .rows::<InjuryReportEntry>(jan4, "team_abbr, player_lookup")
        .await;
    assert_eq!(entries.len(), 14);
    assert!(entries.iter().all(|e| e.source_file == again));
    // No box scores of 2023-24 here: every name is listed as unresolved.
    let unresolved = env
        .rows::<UnresolvedPlayerName>(jan4, "player_lookup")
        .await;
    assert_eq!(unresolved.len(), 14);
    assert!(unresolved.iter().all(|u| u.source == "injury_report"));

    // balldontlie on 2025-11-05, after the season's box scores so far.
    let mut date = d("2025-10-21");
    while date < nov5 {
        env.run(&PlayerBoxscoresProcessor, date).await;
        date = date.succ_opt().unwrap();
    }
    let report = env.run(&InjuryReportProcessor, nov5).await;
    assert_eq!(report.status(), RunStatus::Success);
    let entries = env
        .rows::<InjuryReportEntry>(nov5, "team_abbr, player_lookup")
        .await;
    assert_eq!(entries.len(), 2);
    let brown = entries
        .iter()
        .find(|e| e.player_lookup == "jaylenbrown")
        .unwrap();
    let brown_id = env
        .count("SELECT MAX(player_id) AS n FROM nba_raw.player_boxscores WHERE player_lookup = 'jaylenbrown' AND team_abbr = 'BOS'")
        .await;
    assert_eq!(brown.player_id, Some(brown_id));
    assert_eq!(
        (
            brown.status.as_str(),
            brown.source.as_str(),
            brown.report_time
        ),
        ("questionable", "balldontlie", at("2025-11-05T15:00:00Z"))
    );
    // Tatum (out since his Achilles tear) has no game this season, and the
    // 2024-25 box scores are not loaded here: unresolved, row kept.
    let tatum = entries
        .iter()
        .find(|e| e.player_lookup == "jaysontatum")
        .unwrap();
    assert_eq!((tatum.player_id, tatum.status.as_str()), (None, "out"));
    let unresolved = env
        .rows::<UnresolvedPlayerName>(nov5, "player_lookup")
        .await;
    assert_eq!(
        unresolved
            .iter()
            .map(|u| (
                u.source.as_str(),
                u.player_lookup.as_str(),
                u.candidate_teams.as_str()
            ))
            .collect::<Vec<_>>(),
        [("injury_report", "jaysontatum", "BOS")]
    );
}

/// Current event-odds snapshots (`odds-api/player-props/<date>`: the event
/// itself, not wrapped in `{timestamp, data}`) load like historical ones,
/// and the props and injury processors each replace only their own
/// unresolved names.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn current_prop_snapshots_load_and_unresolved_names_keep_their_source() {
    use propcast_core::tables::InjuryReportEntry;
    use propcast_raw::{InjuryReportProcessor, layout};

    let scratch = Scratch::new();
    let date = d("2025-11-05");
    let historical = Path::new(LANDING).join(layout::player_props_folder(date, true));
    let mut expected = 0;
    for event in std::fs::read_dir(&historical).unwrap() {
        let event = event.unwrap().path();
        for file in std::fs::read_dir(&event).unwrap() {
            let file = file.unwrap().path();
            let bytes = std::fs::read(&file).unwrap();
            let rel = format!(
                "{}/{}/{}",
                layout::player_props_folder(date, false),
                event.file_name().unwrap().to_str().unwrap(),
                file.file_name().unwrap().to_str().unwrap()
            );
            expected += propcast_raw::parse_player_props(&bytes, &rel, date)
                .unwrap()
                .rows
                .len();
            let wrapped: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            scratch.put(&rel, &serde_json::to_vec(&wrapped["data"]).unwrap());
        }
    }
    assert!(expected > 1000, "{expected}");
    scratch.put(
        &layout::bdl_injuries(date, at("2025-11-05T15:00:00Z")),
        &std::fs::read(Path::new(RAW_SAMPLES).join("seed_system/bdl_injuries/raw_d45e630e.json"))
            .unwrap(),
    );
    let env = Env::new(scratch.root()).await;
    let report = env.run(&PlayerPropsProcessor, date).await;
    assert_eq!(report.status(), RunStatus::Success);
    let props = env
        .rows::<PlayerProp>(
            date,
            "snapshot_time, event_id, bookmaker, market, player_lookup, line",
        )
        .await;
    assert_eq!(props.len(), expected);
    // The snapshot time of a current file is its stamp.
    assert!(props.iter().all(|p| {
        p.snapshot_time == at("2025-11-05T17:00:00Z")
            && p.source_file
                .starts_with("odds-api/player-props/2025-11-05/")
    }));

    env.run(&InjuryReportProcessor, date).await;
    let count = |source: &'static str| {
        let env = &env;
        async move {
            env.count(&format!(
                "SELECT COUNT(*) AS n FROM nba_reference.unresolved_player_names \
                 WHERE game_date = DATE '2025-11-05' AND source = '{source}'"
            ))
            .await
        }
    };
    let odds_names = count("odds_api").await;
    assert!(odds_names > 0);
    assert_eq!(count("injury_report").await, 2);
    // A props rerun keeps the injury names, an injury rerun the props names.
    env.run(&PlayerPropsProcessor, date).await;
    assert_eq!(count("injury_report").await, 2);
    env.run(&InjuryReportProcessor, date).await;
    assert_eq!(count("odds_api").await, odds_names);
    assert_eq!(
        env.rows::<InjuryReportEntry>(date, "player_lookup")
            .await
            .len(),
        2
    );
}
