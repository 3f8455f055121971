//! The cost of a full Phase 3 backfill on the embedded DuckDB warehouse:
//! every real date's team and player box scores and final schedule loaded
//! (not timed), then the five processors run date by date through the
//! `Processor` trait (timed), on a fresh in-memory warehouse per run.
//!
//! ```sh
//! cargo bench -p propcast-analytics --bench backfill
//! ```
//!
//! `PROPCAST_BENCH_RUNS` sets the runs (3 at least); results in
//! docs/BENCHMARKS.md.

use chrono::NaiveDate;
use propcast_analytics::processors;
use propcast_core::Table;
use propcast_core::tables::{PlayerBoxscore, ScheduleGame, TeamBoxscore};
use propcast_patterns::testing::stateless_context;
use propcast_platform::Warehouse;
use propcast_platform::embedded::DuckDbWarehouse;
use propcast_test_support::bench_stats::{print_row, runs};
use propcast_test_support::box_scores::{real, write_date};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A warehouse holding every real Phase 3 input.
async fn loaded() -> Arc<DuckDbWarehouse> {
    let wh = Arc::new(DuckDbWarehouse::in_memory().expect("duckdb"));
    for def in [TeamBoxscore::DEF, PlayerBoxscore::DEF, ScheduleGame::DEF] {
        wh.ensure_table(&def).await.unwrap();
    }
    for p in processors() {
        for def in p.outputs() {
            wh.ensure_table(&def).await.unwrap();
        }
    }
    let r = real();
    let dates: BTreeSet<NaiveDate> = r
        .teams
        .dates()
        .chain(r.players.dates())
        .chain(r.schedule.dates())
        .collect();
    for d in dates {
        write_date(wh.as_ref(), d).await;
    }
    wh
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let r = real();
    let dates: Vec<NaiveDate> = r.players.dates().collect();
    let mut totals = Vec::new();
    let mut per: BTreeMap<&'static str, Vec<Duration>> = BTreeMap::new();
    let mut rows = 0;
    for _ in 0..runs(3) {
        rt.block_on(async {
            let wh = loaded().await;
            let mut this: BTreeMap<&'static str, Duration> = BTreeMap::new();
            rows = 0;
            let start = Instant::now();
            for &d in &dates {
                let ctx = stateless_context(wh.clone(), d, "analytics");
                for p in processors() {
                    let t = Instant::now();
                    rows += p.process(&ctx).await.expect("process").total_rows();
                    *this.entry(p.name()).or_default() += t.elapsed();
                }
            }
            totals.push(start.elapsed());
            for (name, d) in this {
                per.entry(name).or_default().push(d);
            }
        });
    }
    println!(
        "phase 3 backfill: {} dates, {rows} rows a run (cargo bench -p propcast-analytics --bench backfill)",
        dates.len()
    );
    println!("| processors | runs | min ms | median ms | max ms |");
    println!("|---|---|---|---|---|");
    print_row("all five", totals);
    for (name, samples) in per {
        print_row(name, samples);
    }
}
