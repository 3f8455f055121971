//! One-player incremental update, end to end, on the embedded backends:
//! after four real 2025-26 dates ran as daily runs, one player's points
//! change in the last date's box-score payload and the date runs again —
//! phase 2 parses and detects the one changed entity, the orchestrators
//! fire, phase 3 recomputes that player's summary, phases 4–5 skip as up
//! to date, grading regrades him. Also timed: the same rerun with nothing
//! changed, and a full rerun of the date.
//!
//! `cargo bench -p propcast --bench incremental` (release build); results
//! in docs/BENCHMARKS.md.

use chrono::NaiveDate;
use propcast::pipeline::{Backends, DateRun, Pipeline};
use propcast_test_support::bench_stats::print_row as stats;
use propcast_test_support::landing::{copy_dir, edit_first_player_points, landing};
use std::path::Path;
use std::time::Instant;

const DATES: [&str; 4] = ["2025-10-30", "2025-10-31", "2025-11-01", "2025-11-02"];
const ROUNDS: usize = 15;

/// Sets the first player row's points of the date's payload to `points`.
fn set_points(landing: &Path, d: NaiveDate, points: i64) {
    edit_first_player_points(landing, d, |_| points);
}

fn main() {
    let shared = landing();
    let work = tempfile::tempdir().unwrap();
    let landing = work.path().join("landing");
    copy_dir(&shared, &landing);
    let dates: Vec<NaiveDate> = DATES.iter().map(|s| s.parse().unwrap()).collect();
    let last = *dates.last().unwrap();
    let pipeline = Pipeline::new(Backends::embedded(&work.path().join("data"), &landing).unwrap())
        .as_of(last.succ_opt());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        pipeline.prepare().await.unwrap();
        for &d in &dates {
            let round = uuid::Uuid::new_v4().to_string();
            pipeline
                .run_date_with(d, &DateRun::daily(), &round)
                .await
                .unwrap();
        }
        let mut one = Vec::new();
        let mut none = Vec::new();
        let mut full = Vec::new();
        for i in 0..ROUNDS {
            set_points(&landing, last, 40 + (i as i64 % 2));
            let started = Instant::now();
            let outcome = pipeline
                .run_date_with(last, &DateRun::daily(), &uuid::Uuid::new_v4().to_string())
                .await
                .unwrap();
            one.push(started.elapsed());
            assert!(outcome.failed().is_empty());

            let started = Instant::now();
            pipeline
                .run_date_with(last, &DateRun::daily(), &uuid::Uuid::new_v4().to_string())
                .await
                .unwrap();
            none.push(started.elapsed());

            if i < 5 {
                let started = Instant::now();
                let run = DateRun {
                    full: true,
                    ..DateRun::daily()
                };
                pipeline
                    .run_date_with(last, &run, &uuid::Uuid::new_v4().to_string())
                    .await
                    .unwrap();
                full.push(started.elapsed());
            }
        }
        println!("| rerun of {last} (daily, embedded) | runs | min ms | median ms | max ms |");
        println!("|---|---|---|---|---|");
        stats("one player's box score changed", one);
        stats("nothing changed", none);
        stats("full recompute (--full)", full);
    });
}
