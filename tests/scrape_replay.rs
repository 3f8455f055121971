//! `propcast scrape` against a replay server on loopback that serves REAL
//! payloads (the shared landing zone's files and the recorded raw
//! samples) at the URLs the scrapers ask, with faults on cue: the real
//! binary lands the served bytes at the layout's paths, phase 2 reads them
//! into the same nba_raw rows as the shared landing zone, and 429, 5xx, a
//! hang, a cut-off body, an HTML page, an exhausted quota and a second
//! scrape each end the way they must, in run history too. Never reaches
//! the internet.

mod common;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Response, Uri};
use chrono::NaiveDate;
use common::{landing, landing_for, runtime};
use propcast::backfill::run_dates;
use propcast::pipeline::{Backends, Pipeline};
use propcast_core::Table as _;
use propcast_core::TableDef;
use propcast_patterns::RunMode;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const DATE: &str = "2025-11-01";
const ODDS_KEY: &str = "replay-odds-key";
const BDL_KEY: &str = "replay-bdl-key";

/// What the server does instead of answering, once per cue.
#[derive(Debug, Clone)]
enum Fault {
    Status(u16, Option<&'static str>),
    Hang,
    Truncate,
    Html,
    QuotaZero,
}

#[derive(Default)]
struct Replay {
    /// Path → faults served in order, one per request, before the payload.
    cues: Mutex<HashMap<String, VecDeque<Fault>>>,
    /// Paths whose every request gets the fault.
    always: Mutex<HashMap<String, Fault>>,
    /// Every request: path and query.
    log: Mutex<Vec<(String, String)>>,
}

impl Replay {
    fn cue(&self, path: &str, faults: &[Fault]) {
        self.cues
            .lock()
            .unwrap()
            .insert(path.to_string(), faults.iter().cloned().collect());
    }

    fn always(&self, path: &str, fault: Fault) {
        self.always.lock().unwrap().insert(path.to_string(), fault);
    }

    fn requests(&self, path: &str) -> usize {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|(p, _)| p == path)
            .count()
    }

    fn paths(&self) -> Vec<String> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .map(|(p, _)| p.clone())
            .collect()
    }
}

fn shared() -> PathBuf {
    propcast_test_support::landing::shared_data()
}

fn sample(name: &str) -> PathBuf {
    shared().join("raw_samples").join(name)
}

/// The only file in a folder.
fn only_file(dir: &Path) -> PathBuf {
    let files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    assert_eq!(files.len(), 1, "{}: {files:?}", dir.display());
    files[0].clone()
}

fn query_param(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == name).then(|| v.replace("%2F", "/").replace("%3A", ":").replace('+', " "))
    })
}

/// The real payload of a request, by path and query.
fn payload(path: &str, query: &str) -> Option<(&'static str, Vec<u8>)> {
    let land = landing();
    let json = "application/json";
    let read = |p: PathBuf| std::fs::read(&p).ok();
    if path == "/stats/leaguegamelog" {
        let us = query_param(query, "DateFrom")?;
        let date = NaiveDate::parse_from_str(&us, "%m/%d/%Y").ok()?;
        let kind = match query_param(query, "PlayerOrTeam")?.as_str() {
            "P" => "player-boxscores",
            _ => "team-boxscores",
        };
        return Some((
            json,
            read(only_file(
                &land.join("nba-com").join(kind).join(date.to_string()),
            ))?,
        ));
    }
    if path == "/stats/scoreboardv3" {
        return Some((json, read(sample("nba_stats_scoreboardv3.json"))?));
    }
    if path == "/stats/boxscoretraditionalv3" {
        return Some((json, read(sample("nba_stats_boxscoretraditionalv3.json"))?));
    }
    if path == "/static/json/staticData/scheduleLeagueV2.json" {
        return Some((
            json,
            read(only_file(&land.join("nba-com/schedule-cdn/2025-26")))?,
        ));
    }
    if path == "/v4/sports" {
        return Some((json, b"[]".to_vec()));
    }
    if path == "/v4/sports/basketball_nba/events" {
        return Some((json, read(sample("odds_api_v4_events_nba.json"))?));
    }
    if path == "/v4/historical/sports/basketball_nba/events" {
        let date = query_param(query, "date")?;
        return Some((
            json,
            read(only_file(
                &land.join("odds-api/events-history").join(&date[..10]),
            ))?,
        ));
    }
    if let Some(rest) = path.strip_prefix("/v4/historical/sports/basketball_nba/events/") {
        let id = rest.strip_suffix("/odds")?;
        let date = query_param(query, "date")?;
        let day = land.join("odds-api/player-props-history").join(&date[..10]);
        let folder = std::fs::read_dir(day)
            .ok()?
            .map(|e| e.unwrap().path())
            .find(|p| {
                p.file_name()
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .starts_with(&format!("{id}-"))
            })?;
        return Some((json, read(only_file(&folder))?));
    }
    if path.starts_with("/referee/injury/Injury-Report_") {
        return Some((
            "application/pdf",
            read(shared().join("raw_samples/seed_system/nbac_injury_report/raw_f4391904.pdf"))?,
        ));
    }
    if path == "/v1/player_injuries" {
        let page = match query_param(query, "cursor").as_deref() {
            None => "raw_49fd60fb.json",
            Some("4082934") => "raw_d45e630e.json",
            Some(_) => return None,
        };
        return Some((
            json,
            read(
                shared()
                    .join("raw_samples/seed_system/bdl_injuries")
                    .join(page),
            )?,
        ));
    }
    None
}

fn respond(status: u16, ctype: &str, body: Vec<u8>) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", ctype)
        .header("x-requests-remaining", "480")
        .header("x-requests-used", "20")
        .body(Body::from(body))
        .unwrap()
}

async fn serve(State(replay): State<Arc<Replay>>, uri: Uri, headers: HeaderMap) -> Response<Body> {
    let path = uri.path().to_string();
    let query = uri.query().unwrap_or("").to_string();
    replay
        .log
        .lock()
        .unwrap()
        .push((path.clone(), query.clone()));
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    };
    // stats.nba.com answers only what looks like its own web page.
    if path.starts_with("/stats/")
        && (header("x-nba-stats-origin") != "stats"
            || header("x-nba-stats-token") != "true"
            || header("referer") != "https://www.nba.com/"
            || header("origin") != "https://www.nba.com"
            || !header("user-agent").starts_with("Mozilla/"))
    {
        return respond(403, "text/plain", b"Access Denied".to_vec());
    }
    if path.starts_with("/v4/") && query_param(&query, "apiKey").as_deref() != Some(ODDS_KEY) {
        return respond(
            401,
            "application/json",
            br#"{"message":"API key is not valid"}"#.to_vec(),
        );
    }
    if path.starts_with("/v1/") && header("authorization") != BDL_KEY {
        return respond(
            401,
            "application/json",
            br#"{"error":"unauthorized"}"#.to_vec(),
        );
    }
    let cued = replay
        .cues
        .lock()
        .unwrap()
        .get_mut(&path)
        .and_then(VecDeque::pop_front);
    let fault = cued.or_else(|| replay.always.lock().unwrap().get(&path).cloned());
    let Some((ctype, body)) = payload(&path, &query) else {
        return respond(404, "text/plain", b"no such payload".to_vec());
    };
    match fault {
        None => respond(200, ctype, body),
        Some(Fault::Status(status, retry_after)) => {
            let mut r = respond(status, "text/plain", b"slow down".to_vec());
            if let Some(s) = retry_after {
                r.headers_mut().insert("retry-after", s.parse().unwrap());
            }
            r
        }
        Some(Fault::Hang) => {
            tokio::time::sleep(Duration::from_secs(30)).await;
            respond(200, ctype, body)
        }
        Some(Fault::Truncate) => respond(200, ctype, body[..body.len() / 2].to_vec()),
        Some(Fault::Html) => respond(
            200,
            "text/html; charset=utf-8",
            b"<!DOCTYPE html><html><body>Service Unavailable</body></html>".to_vec(),
        ),
        Some(Fault::QuotaZero) => {
            let mut r = respond(200, ctype, body);
            r.headers_mut()
                .insert("x-requests-remaining", "0".parse().unwrap());
            r
        }
    }
}

/// A replay server on loopback; its base URL.
fn start(replay: Arc<Replay>) -> String {
    let listener = runtime()
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().fallback(serve).with_state(replay);
    runtime().spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

/// `propcast scrape` against the replay server at `base`.
fn scrape(base: &str, land: &Path, data: &Path, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_propcast"))
        .args(["scrape", "--date", DATE, "--landing"])
        .arg(land)
        .arg("--data-dir")
        .arg(data)
        .args(["--stats-base-url", &format!("{base}/stats")])
        .args(["--cdn-base-url", base, "--odds-base-url", base])
        .args(["--injury-base-url", base, "--bdl-base-url", base])
        .args([
            "--stats-interval-ms",
            "20",
            "--timeout-secs",
            "1",
            "--connect-timeout-secs",
            "1",
        ])
        .args(args)
        .env("ODDS_API_KEY", ODDS_KEY)
        .env("BDL_API_KEY", BDL_KEY)
        .env_remove("PROPCAST_WAREHOUSE")
        .env_remove("PROPCAST_STATE")
        .env_remove("PROPCAST_BUS")
        .env_remove("PROPCAST_CONFIG")
        .env_remove("PROPCAST_LANDING")
        .output()
        .expect("run propcast")
}

fn text(o: &Output) -> String {
    format!(
        "status {}\n{}\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The scrape's run-history rows by processor, through `propcast query`.
fn runs(data: &Path) -> BTreeMap<String, serde_json::Value> {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_propcast"))
        .arg("--data-dir")
        .arg(data)
        .args([
            "query",
            "--format",
            "json",
            "SELECT processor, phase, status, skip_reason, error, rows_written, records_quarantined, mode \
             FROM nba_processing.processor_runs WHERE phase = 1 ORDER BY started_at",
        ])
        .env_remove("PROPCAST_WAREHOUSE")
        .env_remove("PROPCAST_CONFIG")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    // The last run of each processor.
    rows.into_iter()
        .map(|r| (r["processor"].as_str().unwrap().to_string(), r))
        .collect()
}

fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    if dir.is_dir() {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p.display().to_string());
            }
        }
    }
    out.sort();
    out
}

fn same_bytes(landed: &Path, served: &Path) {
    assert!(
        std::fs::read(landed).unwrap() == std::fs::read(served).unwrap(),
        "{} differs from the served {}",
        landed.display(),
        served.display()
    );
}

/// Every data column (no run metadata, no source_file: its stamp is the
/// fetch time) of a table on `date`.
fn table_rows(pipeline: &Pipeline, def: &TableDef) -> Vec<propcast_platform::Record> {
    let columns: Vec<&str> = def
        .columns
        .iter()
        .map(|c| c.name)
        .filter(|c| !TableDef::is_run_metadata(c) && *c != "source_file")
        .collect();
    let list = columns.join(", ");
    runtime()
        .block_on(pipeline.backends().warehouse.query(&format!(
            "SELECT {list} FROM {} WHERE game_date = DATE '{DATE}' ORDER BY {list}",
            def.qualified()
        )))
        .unwrap()
}

fn daily_run(land: &Path, data: &Path) -> Pipeline {
    let day: NaiveDate = DATE.parse().unwrap();
    let pipeline = Pipeline::new(Backends::embedded(data, land).unwrap()).as_of(day.succ_opt());
    let summary = runtime()
        .block_on(run_dates(
            &pipeline,
            &[day],
            RunMode::Daily,
            "run",
            "test",
            false,
        ))
        .unwrap();
    assert!(summary.failed_runs.is_empty(), "{:?}", summary.failed_runs);
    pipeline
}

#[test]
fn scrape_lands_the_served_bytes_and_phase_2_reads_them_like_the_shared_landing_zone() {
    let replay = Arc::new(Replay::default());
    let base = start(replay.clone());
    let work = tempfile::tempdir().unwrap();
    let land = work.path().join("landing");
    let data = work.path().join("data");
    let out = scrape(
        &base,
        &land,
        &data,
        &["--historical", "--injury-hours", "17"],
    );
    assert!(out.status.success(), "{}", text(&out));

    // Byte for byte what was served, where the raw processors read it.
    let real = landing();
    for kind in ["player-boxscores", "team-boxscores"] {
        let dir = format!("nba-com/{kind}/{DATE}");
        same_bytes(&only_file(&land.join(&dir)), &only_file(&real.join(&dir)));
    }
    same_bytes(
        &only_file(&land.join("nba-com/schedule-cdn/2025-26")),
        &only_file(&real.join("nba-com/schedule-cdn/2025-26")),
    );
    same_bytes(
        &only_file(&land.join(format!("nba-com/scoreboard-v3/{DATE}"))),
        &sample("nba_stats_scoreboardv3.json"),
    );
    let games = std::fs::read_dir(land.join(format!("nba-com/boxscore-traditional-v3/{DATE}")))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect::<Vec<_>>();
    // One folder per game of the scoreboard (11), each with the served box score.
    assert_eq!(games.len(), 11);
    assert!(games.iter().any(|g| g.ends_with("game_0022500171")));
    for g in &games {
        same_bytes(
            &only_file(g),
            &sample("nba_stats_boxscoretraditionalv3.json"),
        );
    }
    same_bytes(
        &only_file(&land.join(format!("nba-com/injury-report/{DATE}/05PM"))),
        &shared().join("raw_samples/seed_system/nbac_injury_report/raw_f4391904.pdf"),
    );
    // Two balldontlie pages merged into one {data, meta}.
    let bdl: serde_json::Value = serde_json::from_slice(
        &std::fs::read(only_file(
            &land.join(format!("ball-dont-lie/injuries/{DATE}")),
        ))
        .unwrap(),
    )
    .unwrap();
    assert_eq!(bdl["data"].as_array().unwrap().len(), 102);
    assert_eq!(bdl["meta"], serde_json::json!({"per_page": 100}));
    assert_eq!(replay.requests("/v1/player_injuries"), 2);
    // The odds: the same paths as the shared landing zone, the same bytes.
    for dir in ["odds-api/events-history", "odds-api/player-props-history"] {
        let ours: Vec<String> = files_under(&land.join(dir).join(DATE))
            .iter()
            .map(|p| p.replace(&land.display().to_string(), ""))
            .collect();
        let theirs: Vec<String> = files_under(&real.join(dir).join(DATE))
            .iter()
            .map(|p| p.replace(&real.display().to_string(), ""))
            .collect();
        assert_eq!(ours, theirs);
        for p in &ours {
            same_bytes(
                &PathBuf::from(format!("{}{p}", land.display())),
                &PathBuf::from(format!("{}{p}", real.display())),
            );
        }
    }
    assert!(!land.join("rejected").exists());
    let history = runs(&data);
    assert_eq!(history.len(), 8, "{history:?}");
    for (processor, run) in &history {
        assert_eq!(run["status"], "success", "{processor}: {run}");
        assert_eq!(run["phase"], 1);
        assert_eq!(run["mode"], "scrape");
    }
    assert_eq!(
        history["scrape_boxscore_traditional_v3"]["rows_written"],
        11
    );
    // events + 6 events' props
    assert_eq!(history["scrape_odds"]["rows_written"], 7);

    // The server refuses stats requests without the browser headers, so
    // the landed box scores prove the scraper sends them.
    let refused = runtime()
        .block_on(async {
            reqwest::get(format!(
                "{base}/stats/scoreboardv3?GameDate={DATE}&LeagueID=00"
            ))
            .await
        })
        .unwrap();
    assert_eq!(refused.status().as_u16(), 403);

    // Phase 2 on the scraped landing zone gives the rows it gives on the
    // shared one.
    let scraped = daily_run(&land, &work.path().join("run-scraped"));
    let theirs_land = landing_for(&work.path().join("shared"), &[DATE]);
    let reference = daily_run(&theirs_land, &work.path().join("run-shared"));
    for def in [
        &propcast_core::tables::PlayerBoxscore::DEF,
        &propcast_core::tables::TeamBoxscore::DEF,
        &propcast_core::tables::ScheduleGame::DEF,
        &propcast_core::tables::PlayerProp::DEF,
    ] {
        let ours = table_rows(&scraped, def);
        assert!(
            !ours.is_empty(),
            "{} has no rows on {DATE}",
            def.qualified()
        );
        assert!(
            ours == table_rows(&reference, def),
            "{} differs between the scraped and the shared landing zone",
            def.qualified()
        );
    }
}

#[test]
fn faults_are_retried_rejected_or_reported_and_nothing_wrong_lands() {
    let replay = Arc::new(Replay::default());
    replay.cue("/stats/leaguegamelog", &[Fault::Status(429, Some("1"))]);
    replay.cue(
        "/static/json/staticData/scheduleLeagueV2.json",
        &[Fault::Html],
    );
    replay.cue("/stats/scoreboardv3", &[Fault::Truncate]);
    replay.always(
        &format!("/referee/injury/Injury-Report_{DATE}_05PM.pdf"),
        Fault::Hang,
    );
    replay.cue("/v4/sports", &[Fault::QuotaZero]);
    let base = start(replay.clone());
    let work = tempfile::tempdir().unwrap();
    let land = work.path().join("landing");
    let data = work.path().join("data");
    let started = std::time::Instant::now();
    let out = scrape(
        &base,
        &land,
        &data,
        &[
            "--historical",
            "--injury-hours",
            "17",
            "--retries",
            "1",
            "--sources",
            "schedule,player_boxscores,scoreboard_v3,injury_report,odds",
        ],
    );
    let summary = text(&out);
    assert!(!out.status.success(), "{summary}");
    let history = runs(&data);

    // 429 with Retry-After: 1, then 200: landed once, on the second try,
    // no sooner than the server asked.
    assert_eq!(replay.requests("/stats/leaguegamelog"), 2);
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert!(summary.contains("(after 2 attempts)"), "{summary}");
    only_file(&land.join(format!("nba-com/player-boxscores/{DATE}")));
    assert_eq!(history["scrape_player_boxscores"]["status"], "success");
    assert_eq!(history["scrape_player_boxscores"]["rows_written"], 1);

    // A cut-off body: kept under rejected/ with the reason, never landed.
    assert!(!land.join("nba-com/scoreboard-v3").exists());
    let rejected = files_under(&land.join(format!("rejected/nba-com/scoreboard-v3/{DATE}")));
    assert_eq!(rejected.len(), 2, "{rejected:?}");
    let reason = std::fs::read_to_string(
        rejected
            .iter()
            .find(|p| p.ends_with(".reason.txt"))
            .unwrap(),
    )
    .unwrap();
    assert!(reason.contains("not valid JSON"), "{reason}");
    let run = &history["scrape_scoreboard_v3"];
    assert_eq!(run["status"], "failed");
    assert_eq!(run["records_quarantined"], 1);
    assert_eq!(run["rows_written"], 0);
    assert!(
        run["error"].as_str().unwrap().contains("not valid JSON"),
        "{run}"
    );

    // An HTML page served with 200: rejected too.
    assert!(!land.join("nba-com/schedule-cdn").exists());
    let run = &history["scrape_schedule"];
    assert_eq!(run["status"], "failed");
    assert!(
        run["error"].as_str().unwrap().contains("HTML page"),
        "{run}"
    );
    assert_eq!(
        files_under(&land.join("rejected/nba-com/schedule-cdn/2025-26")).len(),
        2
    );

    // A hang past the timeout: retried, then a clear timeout; nothing landed.
    assert_eq!(
        replay.requests(&format!("/referee/injury/Injury-Report_{DATE}_05PM.pdf")),
        2
    );
    assert!(!land.join("nba-com/injury-report").exists());
    let run = &history["scrape_injury_report"];
    assert_eq!(run["status"], "failed");
    assert!(
        run["error"].as_str().unwrap().contains("timed out"),
        "{run}"
    );
    assert!(
        run["error"].as_str().unwrap().contains("2 attempt(s)"),
        "{run}"
    );

    // No quota left: the odds stop before spending any; nothing landed.
    let odds_calls: Vec<String> = replay
        .paths()
        .into_iter()
        .filter(|p| p.starts_with("/v4/"))
        .collect();
    assert_eq!(odds_calls, vec!["/v4/sports".to_string()]);
    assert!(!land.join("odds-api").exists());
    let run = &history["scrape_odds"];
    assert_eq!(run["status"], "skipped");
    assert!(
        run["skip_reason"]
            .as_str()
            .unwrap()
            .contains("quota exhausted (x-requests-remaining 0"),
        "{run}"
    );
    assert!(summary.contains("quota exhausted"), "{summary}");
    // The keys never reach the output or run history.
    let recorded = format!("{history:?}");
    for key in [ODDS_KEY, BDL_KEY] {
        assert!(!summary.contains(key) && !recorded.contains(key));
    }
    assert!(summary.contains("REJECTED"), "{summary}");
}

#[test]
fn server_errors_are_retried_and_a_second_scrape_never_overwrites() {
    let replay = Arc::new(Replay::default());
    replay.cue(
        "/v4/historical/sports/basketball_nba/events",
        &[Fault::Status(500, None)],
    );
    let base = start(replay.clone());
    let work = tempfile::tempdir().unwrap();
    let land = work.path().join("landing");
    let data = work.path().join("data");
    let args = ["--historical", "--sources", "odds"];
    let out = scrape(&base, &land, &data, &[&args[..], &["--publish"]].concat());
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("published the landing event of 2025-11-01"),
        "{}",
        text(&out)
    );
    // 500 then 200: one retry, then landed.
    assert_eq!(
        replay.requests("/v4/historical/sports/basketball_nba/events"),
        2
    );
    let events = land.join(format!(
        "odds-api/events-history/{DATE}/20251101_170000.json"
    ));
    same_bytes(
        &events,
        &only_file(&landing().join(format!("odds-api/events-history/{DATE}"))),
    );
    assert_eq!(runs(&data)["scrape_odds"]["rows_written"], 7);

    // The same snapshot again: the same paths, left as they were.
    std::fs::write(&events, b"kept").unwrap();
    let out = scrape(&base, &land, &data, &args);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("already landed"), "{}", text(&out));
    assert_eq!(std::fs::read(&events).unwrap(), b"kept");
    assert_eq!(files_under(&land.join("odds-api")).len(), 7);
    let run = &runs(&data)["scrape_odds"];
    assert_eq!(run["status"], "skipped");
    assert_eq!(run["rows_written"], 0);
    assert!(
        run["skip_reason"]
            .as_str()
            .unwrap()
            .starts_with("already landed (7 file(s)"),
        "{run}"
    );
}

#[test]
fn the_scraper_role_scrapes_on_post_and_publishes_the_landing_event() {
    let replay = Arc::new(Replay::default());
    let base = start(replay.clone());
    let work = tempfile::tempdir().unwrap();
    let land = work.path().join("landing");
    let data = work.path().join("data");
    // A subscription on landing-events, as the raw service's push one.
    let config = propcast_platform::Config::embedded(&data, None);
    let bus = runtime()
        .block_on(propcast_platform::Coordination::open(&config))
        .unwrap()
        .bus;
    runtime().block_on(async {
        bus.create_topic("landing-events").await.unwrap();
        bus.create_subscription("landing-events", "raw-push", Duration::from_secs(60), 5)
            .await
            .unwrap();
    });
    let port = common::free_port();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_propcast"))
        .args(["serve", "scraper", "--no-push-auth", "--landing"])
        .arg(&land)
        .arg("--data-dir")
        .arg(&data)
        .args(["--port", &port.to_string()])
        .args(["--stats-base-url", &format!("{base}/stats")])
        .args(["--cdn-base-url", &base, "--odds-base-url", &base])
        .args(["--injury-base-url", &base, "--bdl-base-url", &base])
        .env_remove("PROPCAST_WAREHOUSE")
        .env_remove("PROPCAST_STATE")
        .env_remove("PROPCAST_BUS")
        .env_remove("PROPCAST_CONFIG")
        .env_remove("ODDS_API_KEY")
        .env_remove("BDL_API_KEY")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let post = |body: &'static str| {
        runtime().block_on(async {
            let client = reqwest::Client::new();
            for _ in 0..100 {
                if client.get(format!("{url}/livez")).send().await.is_ok() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            let r = client
                .post(format!("{url}/scrape"))
                .body(body)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        })
    };
    let (status, bad) = post(r#"{"sources": ["boxscores"]}"#);
    assert_eq!(status, 400, "{bad}");
    assert!(bad.contains("unknown source \"boxscores\""), "{bad}");
    let (status, bad) = post(r#"{"date": "tomorrow"}"#);
    assert_eq!(status, 400, "{bad}");
    assert!(bad.contains("not YYYY-MM-DD, today or yesterday"), "{bad}");
    // A source whose key the service lacks: refused, naming the variable.
    let (status, keyless) = post(r#"{"date": "2025-11-01", "sources": ["odds"]}"#);
    assert_eq!(status, 500, "{keyless}");
    assert!(keyless.contains("set ODDS_API_KEY"), "{keyless}");
    let (status, body) = post(r#"{"date": "2025-11-01", "sources": ["schedule"]}"#);
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(status, 200, "{body}");
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(answer["published_message"].is_string(), "{answer}");
    assert_eq!(answer["report"]["sources"][0]["source"], "schedule");
    same_bytes(
        &only_file(&land.join("nba-com/schedule-cdn/2025-26")),
        &only_file(&landing().join("nba-com/schedule-cdn/2025-26")),
    );
    assert_eq!(runs(&data)["scrape_schedule"]["status"], "success");
    // The landing event is on the bus, as `propcast landed` leaves it.
    let deliveries = runtime().block_on(bus.pull("raw-push", 10)).unwrap();
    assert_eq!(deliveries.len(), 1);
    let (date, _, event) = propcast::serve::read_landing(&deliveries[0].data).unwrap();
    assert_eq!(date.to_string(), DATE);
    assert_eq!(event.source, "propcast scrape");
}

#[test]
fn an_exhausted_quota_stops_the_odds_before_the_next_call() {
    let replay = Arc::new(Replay::default());
    // The events call is answered, and says nothing remains.
    replay.cue(
        "/v4/historical/sports/basketball_nba/events",
        &[Fault::QuotaZero],
    );
    let base = start(replay.clone());
    let work = tempfile::tempdir().unwrap();
    let land = work.path().join("landing");
    let data = work.path().join("data");
    let out = scrape(&base, &land, &data, &["--historical", "--sources", "odds"]);
    assert!(out.status.success(), "{}", text(&out));
    // What was paid for is kept; no event's odds are asked.
    assert_eq!(files_under(&land.join("odds-api")).len(), 1);
    assert!(!land.join("odds-api/player-props-history").exists());
    assert!(!replay.paths().iter().any(|p| p.ends_with("/odds")));
    let run = &runs(&data)["scrape_odds"];
    assert_eq!(run["status"], "skipped");
    assert_eq!(run["rows_written"], 1);
    let reason = run["skip_reason"].as_str().unwrap();
    assert!(
        reason.contains("quota exhausted (x-requests-remaining 0")
            && reason.contains("6 of 6 events' props not requested"),
        "{reason}"
    );
}
