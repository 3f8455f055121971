//! What the benches (`benches/*.rs`, `harness = false`) print: one
//! docs/BENCHMARKS.md table row per measurement.

use std::time::Duration;

/// `| label | runs | min ms | median ms | max ms |` of `samples`.
pub fn print_row(label: &str, mut samples: Vec<Duration>) {
    assert!(!samples.is_empty(), "{label}: no samples");
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "| {label} | {} | {:.0} | {:.0} | {:.0} |",
        samples.len(),
        ms(samples[0]),
        ms(samples[samples.len() / 2]),
        ms(samples[samples.len() - 1])
    );
}

/// The number of runs: `PROPCAST_BENCH_RUNS`, else `default` (at least 3,
/// so min, median and max are three runs).
pub fn runs(default: usize) -> usize {
    std::env::var("PROPCAST_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
        .max(3)
}
