//! `propcast serve dashboard` in a real headless Chromium (WebDriver through
//! chromedriver, driven by `fantoccini`), over a warehouse backfilled from
//! real dates of the shared landing zone, one box-score record corrupted
//! so a date has a quarantined record. What the pages show is checked
//! against the warehouse read here on its own: run history by SQL, accuracy
//! by the evaluation code (`load_stored_evaluation`, `system_metrics`,
//! `versus_line`).
//!
//! Needs `chromedriver` and `chromium` (Debian: `apt-get install chromium
//! chromium-driver`; `scripts/test.sh` installs them). Without chromedriver
//! the test fails when `CI` is set and is skipped otherwise.

mod common;

use chrono::{Datelike, Duration, NaiveDate};
use common::{backfill, corrupt_player_points, free_port, landing_for, runtime};
use fantoccini::{Client, ClientBuilder, Locator};
use propcast_patterns::circuit_breaker::{self, BreakerConfig, Breakers, Outcome};
use propcast_platform::StateStore;
use propcast_platform::WarehouseExt;
use propcast_platform::embedded::{DuckDbWarehouse, SqliteStateStore};
use propcast_prediction_worker::circuit_breaker::NAMESPACE as SYSTEMS;
use propcast_prediction_worker::evaluation::{
    BASELINE_LAST_5, BASELINE_SEASON, EDGES, load_stored_evaluation, system_metrics,
};
use propcast_prediction_worker::versus_line::versus_line;
use serde::Deserialize;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration as StdDuration, Instant};

/// Two weeks of the 2025-26 season: predictions need a few dates of
/// history, grading needs box scores, and two weeks give the chart two
/// points per system.
const DATES: &[&str] = &[
    "2025-10-21",
    "2025-10-22",
    "2025-10-23",
    "2025-10-24",
    "2025-10-25",
    "2025-10-26",
    "2025-10-27",
    "2025-10-28",
    "2025-10-29",
    "2025-10-30",
    "2025-10-31",
    "2025-11-01",
    "2025-11-02",
];
/// The date whose box scores get one record with text for points.
const CORRUPTED: &str = "2025-10-28";

/// Kills the process it holds when dropped (only processes this test
/// started, by their handle).
struct Started(Child);

impl Drop for Started {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    })
}

/// Waits until `url` answers HTTP 200.
async fn wait_for(url: &str, what: &str) {
    let http = reqwest::Client::new();
    let deadline = Instant::now() + StdDuration::from_secs(30);
    loop {
        if let Ok(r) = http.get(url).send().await
            && r.status().is_success()
        {
            return;
        }
        assert!(Instant::now() < deadline, "{what} did not answer at {url}");
        tokio::time::sleep(StdDuration::from_millis(100)).await;
    }
}

fn dashboard(data: &Path, port: u16) -> Started {
    Started(
        Command::new(env!("CARGO_BIN_EXE_propcast"))
            .args(["serve", "dashboard", "--port", &port.to_string()])
            .arg("--data-dir")
            .arg(data)
            .env_remove("PROPCAST_WAREHOUSE")
            .env_remove("PROPCAST_STATE")
            .env_remove("PROPCAST_BUS")
            .env_remove("PROPCAST_CONFIG")
            .env_remove("PORT")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start propcast serve dashboard"),
    )
}

#[derive(Debug, Deserialize)]
struct Run {
    game_date: NaiveDate,
    processor: String,
    status: String,
    finished_at: chrono::DateTime<chrono::Utc>,
    run_id: String,
}

#[derive(Debug, Deserialize)]
struct Quarantined {
    source_file: String,
    record: String,
    field: String,
}

/// Every cell's `data-*` attributes of the grid, read in the browser.
async fn cells(client: &Client) -> Vec<(String, String, String)> {
    let value = client
        .execute(
            "return Array.from(document.querySelectorAll('table.grid td.cell'))
                .map(c => [c.dataset.date, c.dataset.processor, c.dataset.status]);",
            vec![],
        )
        .await
        .expect("read the grid");
    serde_json::from_value(value).expect("cells as triples")
}

async fn rows_of(client: &Client, selector: &str) -> Vec<BTreeMap<String, String>> {
    let value = client
        .execute(
            "return Array.from(document.querySelectorAll(arguments[0]))
                .map(r => Object.assign({}, r.dataset));",
            vec![json!(selector)],
        )
        .await
        .expect("read rows");
    serde_json::from_value(value).expect("rows as maps")
}

fn screenshot(png: &[u8], name: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/test-artifacts");
    std::fs::create_dir_all(&dir).expect("artifact dir");
    std::fs::write(dir.join(name), png).expect("write screenshot");
}

#[test]
fn the_dashboard_in_chromium_shows_what_the_warehouse_holds() {
    let Some(chromedriver) = on_path("chromedriver") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "chromedriver is not installed and CI is set: scripts/test.sh installs it (apt-get install chromium chromium-driver)"
        );
        println!(
            "skipped: chromedriver is not installed (apt-get install chromium chromium-driver, or run scripts/test.sh)"
        );
        return;
    };
    let chromium = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find_map(on_path)
        .expect("chromedriver is installed but no chromium: apt-get install chromium");

    // A backfill of real dates, one record corrupted.
    let work = tempfile::tempdir().unwrap();
    let land = landing_for(work.path(), DATES);
    let corrupted: NaiveDate = CORRUPTED.parse().unwrap();
    let edited = corrupt_player_points(&land, corrupted, 3);
    let data = work.path().join("data");
    backfill(&land, &data, DATES[0], DATES[DATES.len() - 1], &[]);
    let first: NaiveDate = DATES[0].parse().unwrap();
    let last: NaiveDate = DATES[DATES.len() - 1].parse().unwrap();

    // What the warehouse holds, read here: the latest run of each date and
    // processor (the last to finish, then the greatest run id).
    let warehouse = DuckDbWarehouse::open_read_only(data.join("warehouse.duckdb")).unwrap();
    let rt = runtime();
    let runs: Vec<Run> = rt
        .block_on(warehouse.query_as(
            "SELECT game_date, processor, status, finished_at, run_id FROM nba_processing.processor_runs",
        ))
        .unwrap();
    let mut latest: BTreeMap<(String, String), &Run> = BTreeMap::new();
    for run in &runs {
        let key = (run.game_date.to_string(), run.processor.clone());
        let newer = latest
            .get(&key)
            .is_none_or(|l| (run.finished_at, &run.run_id) > (l.finished_at, &l.run_id));
        if newer {
            latest.insert(key, run);
        }
    }
    let quarantined: Vec<Quarantined> = rt
        .block_on(warehouse.query_as(&format!(
            "SELECT source_file, record, field FROM nba_processing.quarantine WHERE game_date = DATE '{CORRUPTED}'"
        )))
        .unwrap();
    assert!(
        !quarantined.is_empty(),
        "the corrupted record of {CORRUPTED} was not quarantined"
    );
    // Accuracy by the evaluation's own code, week by week (Mondays).
    let monday = |d: NaiveDate| d - Duration::days(i64::from(d.weekday().num_days_from_monday()));
    let weeks = (monday(last) - monday(first)).num_weeks() + 1;
    let evaluation = rt
        .block_on(load_stored_evaluation(&warehouse, monday(first), last))
        .unwrap();
    let mut by_week: BTreeMap<NaiveDate, Vec<_>> = BTreeMap::new();
    for row in evaluation
        .rows
        .into_iter()
        .filter(|r| r.system != BASELINE_SEASON && r.system != BASELINE_LAST_5)
    {
        by_week.entry(monday(row.game_date)).or_default().push(row);
    }
    assert!(
        by_week.len() >= 2,
        "expected graded predictions in two weeks, got {by_week:?}"
    );
    drop(warehouse);
    // A prediction system's breaker failed through the real state machine
    // (the backfill recorded none), and its state as stored.
    let breaker_id = circuit_breaker::document_id(SYSTEMS, "moving_average");
    let stored_state = rt.block_on(async {
        let state = SqliteStateStore::open(data.join("state.sqlite")).unwrap();
        let mut breakers = Breakers::load(
            &state,
            SYSTEMS,
            &["moving_average"],
            BreakerConfig::default(),
        )
        .await
        .unwrap();
        for _ in 0..BreakerConfig::default().failure_threshold() {
            breakers.record(
                "moving_average",
                Outcome::Failure("worker unavailable".into()),
                chrono::Utc::now(),
            );
        }
        breakers.flush(&state).await.unwrap();
        let doc = state
            .get(circuit_breaker::COLLECTION, &breaker_id)
            .await
            .unwrap()
            .expect("stored");
        doc["state"].as_str().unwrap().to_string()
    });

    // The dashboard, as an operator starts it, and a browser.
    let port = free_port();
    let _dashboard = dashboard(&data, port);
    let base = format!("http://127.0.0.1:{port}");
    let driver_port = free_port();
    let profile = tempfile::tempdir().unwrap();
    let _driver = Started(
        Command::new(&chromedriver)
            .arg(format!("--port={driver_port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver"),
    );
    rt.block_on(async {
        wait_for(&format!("{base}/healthz"), "the dashboard").await;
        wait_for(
            &format!("http://127.0.0.1:{driver_port}/status"),
            "chromedriver",
        )
        .await;
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run",
                    "--disable-dev-shm-usage", "--window-size=1400,1000",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            }),
        );
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{driver_port}"))
            .await
            .expect("a WebDriver session in headless Chromium");

        // The grid: every cell is the latest run's status, or not triggered.
        client
            .goto(&format!("{base}/?to={last}&days={}", DATES.len()))
            .await
            .unwrap();
        let grid = cells(&client).await;
        let processors: BTreeSet<&str> = latest.keys().map(|(_, p)| p.as_str()).collect();
        assert_eq!(grid.len(), processors.len() * DATES.len(), "one cell per processor and date");
        let mut triggered = 0;
        for (date, processor, status) in &grid {
            let expected = latest
                .get(&(date.clone(), processor.clone()))
                .map(|r| r.status.as_str())
                .unwrap_or("not_triggered");
            assert_eq!(status, expected, "grid cell {date} {processor}");
            triggered += usize::from(expected != "not_triggered");
        }
        assert_eq!(triggered, latest.len(), "every run of processor_runs has its cell");
        let partial = latest
            .get(&(CORRUPTED.to_string(), "player_boxscores".to_string()))
            .map(|r| r.status.as_str());
        assert_eq!(partial, Some("partial"), "the corrupted date's box scores are partial");
        screenshot(&client.screenshot().await.unwrap(), "dashboard-grid.png");

        // Clicking a date shows its runs.
        let date = DATES[4];
        client
            .find(Locator::Css(&format!("th.date[data-date='{date}'] a")))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        client.wait().for_element(Locator::Css("table#runs")).await.unwrap();
        assert!(client.current_url().await.unwrap().path().ends_with(&format!("/date/{date}")));
        let shown: Vec<(String, String)> = rows_of(&client, "tr.run")
            .await
            .into_iter()
            .map(|r| (r["processor"].clone(), r["status"].clone()))
            .collect();
        let mut expected: Vec<(String, String)> = runs
            .iter()
            .filter(|r| r.game_date.to_string() == date)
            .map(|r| (r.processor.clone(), r.status.clone()))
            .collect();
        let mut shown_sorted = shown.clone();
        shown_sorted.sort();
        expected.sort();
        assert_eq!(shown_sorted, expected, "the runs of {date}");

        // The corrupted date, reached from the grid, shows its quarantined record.
        client
            .goto(&format!("{base}/?to={last}&days={}", DATES.len()))
            .await
            .unwrap();
        client
            .find(Locator::Css(&format!("th.date[data-date='{CORRUPTED}'] a")))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        client.wait().for_element(Locator::Css("table#quarantine")).await.unwrap();
        let rows = rows_of(&client, "tr.quarantined").await;
        assert_eq!(rows.len(), quarantined.len());
        let file_name = edited.file.file_name().unwrap().to_string_lossy().to_string();
        let record = rows
            .iter()
            .find(|r| r["file"].ends_with(&file_name) && r["field"] == "PTS")
            .unwrap_or_else(|| panic!("the corrupted record of {file_name} in {rows:?}"));
        assert!(
            quarantined
                .iter()
                .any(|q| q.source_file == record["file"] && q.record == record["record"] && q.field == record["field"]),
            "{record:?} is not in nba_processing.quarantine"
        );
        let text = client.find(Locator::Css("table#quarantine")).await.unwrap().text().await.unwrap();
        assert!(text.contains("PTS"), "{text}");

        // Accuracy: the chart is drawn and the numbers are the evaluation's.
        client
            .goto(&format!("{base}/accuracy?to={last}&weeks={weeks}"))
            .await
            .unwrap();
        let points: Vec<(String, String, f64)> = serde_json::from_value(
            client
                .execute(
                    "return Array.from(document.querySelectorAll('svg#mae-chart g.series circle'))
                        .map(c => [c.parentNode.dataset.series, c.dataset.x, parseFloat(c.dataset.value)]);",
                    vec![],
                )
                .await
                .unwrap(),
        )
        .unwrap();
        let table = rows_of(&client, "tr.week").await;
        let mut compared = 0;
        for (week, rows) in &by_week {
            let versus = versus_line(rows);
            for m in system_metrics(rows, &EDGES) {
                let row = table
                    .iter()
                    .find(|r| r["week"] == week.to_string() && r["system"] == m.system)
                    .unwrap_or_else(|| panic!("week {week} {} missing from the page", m.system));
                let number = |key: &str| -> f64 { row[key].parse().unwrap_or_else(|_| panic!("{key} of {row:?}")) };
                assert_eq!(number("rows") as usize, m.predictions, "{week} {}", m.system);
                assert!((number("mae") - m.mae).abs() < 1e-9, "MAE {week} {}: page {} vs {}", m.system, row["mae"], m.mae);
                let hit = m.hit_rates[0];
                assert_eq!((number("bets") as usize, number("wins") as usize, number("pushes") as usize),
                    (hit.bets, hit.wins, hit.pushes), "calls {week} {}", m.system);
                if let Some(v) = versus.iter().find(|v| v.system == m.system) {
                    assert!((number("lineMae") - v.line_mae).abs() < 1e-9, "line MAE {week} {}", m.system);
                }
                let label = week.format("%m-%d").to_string();
                let point = points
                    .iter()
                    .find(|(s, x, _)| s == &m.system && x == &label)
                    .unwrap_or_else(|| panic!("no point for {} in week {label}", m.system));
                assert!((point.2 - m.mae).abs() < 1e-9, "chart point {week} {}", m.system);
                compared += 1;
            }
        }
        assert_eq!(table.len(), compared, "the page has no week or system the evaluation lacks");
        // The calibration plot of the same rows: both stages, with points.
        let calibration: (usize, String) = serde_json::from_value(
            client
                .execute(
                    "const svg = document.querySelector('div.calibration svg');
                     return svg ? [svg.querySelectorAll('circle').length, svg.textContent] : [0, ''];",
                    vec![],
                )
                .await
                .unwrap(),
        )
        .unwrap();
        assert!(calibration.0 > 0, "the calibration plot has no point");
        assert!(
            calibration.1.contains("the systems' own distributions")
                && calibration.1.contains("recalibrated against the market"),
            "{}",
            calibration.1
        );
        assert!(points.len() >= compared, "every week of every system is a point");
        screenshot(&client.screenshot().await.unwrap(), "dashboard-accuracy.png");

        // The breakers, as stored.
        client.goto(&format!("{base}/breakers")).await.unwrap();
        let breakers = rows_of(&client, "tr[data-breaker]").await;
        let shown = breakers
            .iter()
            .find(|b| b["breaker"] == breaker_id)
            .unwrap_or_else(|| panic!("{breaker_id} not on the page: {breakers:?}"));
        assert_eq!(shown["state"], stored_state);
        assert_eq!(stored_state, "OPEN", "five failures open the breaker");
        let text = client.find(Locator::Css("main")).await.unwrap().text().await.unwrap();
        assert!(text.contains("worker unavailable"), "{text}");

        // An address that does not read is a page that says so.
        client.goto(&format!("{base}/date/yesterday")).await.unwrap();
        let text = client.find(Locator::Css("section.error")).await.unwrap().text().await.unwrap();
        assert!(text.contains("YYYY-MM-DD"), "{text}");
        client.close().await.unwrap();
    });
}

#[test]
fn a_dashboard_without_a_warehouse_says_to_backfill_first() {
    let work = tempfile::tempdir().unwrap();
    let port = free_port();
    let _dashboard = dashboard(work.path(), port);
    let base = format!("http://127.0.0.1:{port}");
    runtime().block_on(async {
        wait_for(&format!("{base}/healthz"), "the dashboard").await;
        for page in ["/", "/accuracy", "/date/2025-11-01", "/predictions"] {
            let response = reqwest::get(format!("{base}{page}")).await.unwrap();
            assert_eq!(response.status(), 404, "{page}");
            let body = response.text().await.unwrap();
            assert!(body.contains("propcast backfill"), "{page}: {body}");
            assert!(body.contains("<html"), "{page} is a page: {body}");
        }
    });
    assert!(
        !work.path().join("warehouse.duckdb").exists()
            && !work.path().join("state.sqlite").exists(),
        "the dashboard created a backend file"
    );
}
