//! The cost of a full backfill of `player_daily_cache` on the embedded
//! DuckDB warehouse: the real tracked-player games of 2024-25 and 2025-26
//! as `player_game_summary`, the final schedule and the 2025-26 points lines
//! loaded (not timed), then the processor run for every schedule date
//! (timed), on a fresh in-memory warehouse per run.
//!
//! ```sh
//! cargo bench -p propcast-precompute --bench backfill
//! ```
//!
//! `PROPCAST_BENCH_RUNS` sets the runs (3 at least); results in
//! docs/BENCHMARKS.md.

use chrono::NaiveDate;
use propcast_patterns::testing::stateless_context;
use propcast_precompute::processors;
use propcast_test_support::bench_stats::{print_row, runs};
use propcast_test_support::player_games::{loaded_warehouse, real};
use std::collections::BTreeSet;
use std::time::Instant;

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let r = real();
    let dates: BTreeSet<NaiveDate> = r.games.iter().map(|g| g.game_date).collect();
    let all = processors();
    let cache = all
        .iter()
        .find(|p| p.name() == "player_daily_cache")
        .expect("player_daily_cache processor");
    let mut samples = Vec::new();
    let mut rows = 0;
    for _ in 0..runs(3) {
        rt.block_on(async {
            let wh = loaded_warehouse().await;
            rows = 0;
            let start = Instant::now();
            for &d in &dates {
                let ctx = stateless_context(wh.clone(), d, "precompute");
                rows += cache.process(&ctx).await.expect("process").total_rows();
            }
            samples.push(start.elapsed());
        });
    }
    println!(
        "player_daily_cache backfill: {} dates, {rows} rows a run (cargo bench -p propcast-precompute --bench backfill)",
        dates.len()
    );
    println!("| processor | runs | min ms | median ms | max ms |");
    println!("|---|---|---|---|---|");
    print_row("player_daily_cache", samples);
}
