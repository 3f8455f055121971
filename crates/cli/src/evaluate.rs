//! `propcast evaluate`: an out-of-sample accuracy report.
//!
//! Trains `gbdt_v1` on the feature store rows from the first stored date up
//! to `--train-to`, then grades, for every date of [`--from`, `--to`] (all
//! after `--train-to`: point in time), every system's stored predictions,
//! that model's predictions on the dates' vectors, and the season-average
//! and last-5 baselines, on the same outcomes and the same real lines
//! ([`propcast_prediction_worker::evaluation`]). Prints the table, writes it
//! into a markdown report between `<!-- evaluate:begin -->` and
//! `<!-- evaluate:end -->`, and draws the calibration curve as SVG.

use crate::summary::group_thousands;
use crate::train::train_window;
use anyhow::Context;
use chrono::NaiveDate;
use comfy_table::{Cell, CellAlignment, Table, presets::UTF8_FULL_CONDENSED};
use propcast_platform::Warehouse;
use propcast_prediction_worker::evaluation::{
    CalibrationBucket, EDGES, Evaluation, SystemMetrics, calibration, common_sample,
    load_evaluation, system_metrics,
};
use propcast_prediction_worker::gbdt::TrainingWindow;
use propcast_prediction_worker::training::feature_store_dates;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

pub const BEGIN_MARKER: &str = "<!-- evaluate:begin -->";
pub const END_MARKER: &str = "<!-- evaluate:end -->";
/// Edge buckets per side of the calibration plot (1 point wide).
pub const CALIBRATION_BUCKETS: i64 = 5;
/// Buckets with fewer decided calls are not drawn (too noisy to read).
pub const MIN_BUCKET_CALLS: usize = 5;

/// What `propcast evaluate` was asked for.
#[derive(Debug, Clone)]
pub struct EvaluateArgs {
    pub train_to: NaiveDate,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub report: Option<PathBuf>,
    pub plot: Option<PathBuf>,
}

/// `propcast evaluate`.
pub async fn run(warehouse: &dyn Warehouse, args: EvaluateArgs) -> anyhow::Result<()> {
    if args.from > args.to {
        anyhow::bail!("--from {} is after --to {}", args.from, args.to);
    }
    if args.from <= args.train_to {
        anyhow::bail!(
            "--from {} must come after --train-to {}: a model is evaluated only on dates after its training rows",
            args.from,
            args.train_to
        );
    }
    let Some(stored) = feature_store_dates(warehouse).await? else {
        anyhow::bail!(
            "nba_precompute.ml_feature_store is empty: run `propcast backfill --landing DIR` first"
        );
    };
    if stored.from > args.train_to {
        anyhow::bail!(
            "the feature store starts on {}, after --train-to {}: nothing to train on; backfill earlier dates or move --train-to",
            stored.from,
            args.train_to
        );
    }
    let window = TrainingWindow {
        from: stored.from,
        to: args.train_to,
    };
    let model = train_window(warehouse, window).await?;
    let label = format!("gbdt_v1 (trained to {})", args.train_to);
    let evaluation = load_evaluation(warehouse, &model, &label, args.from, args.to).await?;
    if evaluation.rows.is_empty() {
        anyhow::bail!(
            "no prediction between {} and {} has an outcome: run `propcast backfill --landing DIR --from {} --to {}` first",
            args.from,
            args.to,
            args.from,
            args.to
        );
    }
    let metrics = system_metrics(&evaluation.rows, &EDGES);
    let common_rows = common_sample(&evaluation.rows);
    let common = system_metrics(&common_rows, &EDGES);
    let common_dates: std::collections::BTreeSet<_> = common_rows
        .iter()
        .map(|r| (r.game_date, r.player_lookup.clone()))
        .collect();
    let curves = calibration(&evaluation.rows, CALIBRATION_BUCKETS);
    let meta = model.metadata();

    println!(
        "propcast evaluate: {} → {}  ({} dates with results)  model: gbdt_v1 on {} rows of {}, sha256 {}",
        args.from,
        args.to,
        evaluation.dates_with_results.len(),
        group_thousands(meta.training_rows as u64),
        meta.window,
        &meta.booster_sha256[..12]
    );
    println!("every prediction of each system:");
    println!("{}", console_table(&metrics, Some(&evaluation)));
    println!(
        "the same {} player-games, predicted by every system:",
        group_thousands(common_dates.len() as u64)
    );
    println!("{}", console_table(&common, None));
    println!(
        "hit rate: OVER when the prediction is above the real line, UNDER below; pushes are not bets; every system on its predicted points"
    );

    if let Some(plot) = &args.plot {
        let svg = calibration_svg(&curves, args.from, args.to);
        write_creating_dir(plot, svg.as_bytes())?;
        println!("calibration plot: {}", plot.display());
    }
    if let Some(report) = &args.report {
        let section = markdown_section(
            &args,
            &metrics,
            &common,
            common_dates.len(),
            &evaluation,
            &model,
        );
        let existing = match std::fs::read_to_string(report) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(e).with_context(|| format!("reading {}", report.display())),
        };
        write_creating_dir(report, replace_section(&existing, &section).as_bytes())?;
        println!("report: {}", report.display());
    }
    Ok(())
}

fn write_creating_dir(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))
}

fn hit_cell(m: &SystemMetrics, i: usize) -> String {
    let h = m.hit_rates[i];
    match h.hit_rate() {
        Some(rate) => format!("{:.1}% ({})", rate * 100.0, h.bets),
        None => "– (0)".to_string(),
    }
}

fn console_table(metrics: &[SystemMetrics], evaluation: Option<&Evaluation>) -> Table {
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED);
    let mut header = vec![
        "system".to_string(),
        "predictions".into(),
        "real line".into(),
        "voided".into(),
        "MAE".into(),
        "bias".into(),
    ];
    header.extend(EDGES.iter().map(|e| format!("hit edge ≥ {e} (bets)")));
    table.set_header(header);
    for m in metrics {
        let mut row = vec![
            Cell::new(&m.system),
            Cell::new(group_thousands(m.predictions as u64)).set_alignment(CellAlignment::Right),
            Cell::new(group_thousands(m.with_line as u64)).set_alignment(CellAlignment::Right),
            Cell::new(match evaluation {
                Some(e) => group_thousands(e.voided.get(&m.system).copied().unwrap_or(0) as u64),
                None => "–".to_string(),
            })
            .set_alignment(CellAlignment::Right),
            Cell::new(format!("{:.2}", m.mae)).set_alignment(CellAlignment::Right),
            Cell::new(format!("{:+.2}", m.bias)).set_alignment(CellAlignment::Right),
        ];
        for i in 0..EDGES.len() {
            row.push(Cell::new(hit_cell(m, i)).set_alignment(CellAlignment::Right));
        }
        table.add_row(row);
    }
    table
}

fn markdown_section(
    args: &EvaluateArgs,
    metrics: &[SystemMetrics],
    common: &[SystemMetrics],
    common_games: usize,
    evaluation: &Evaluation,
    model: &propcast_prediction_worker::TrainedModel,
) -> String {
    let meta = model.metadata();
    let mut out = String::new();
    let _ = writeln!(out, "{BEGIN_MARKER}");
    let _ = writeln!(
        out,
        "Out of sample, {} → {} ({} dates with results). Generated by:\n",
        args.from,
        args.to,
        evaluation.dates_with_results.len()
    );
    let _ = writeln!(
        out,
        "```sh\nscripts/propcast evaluate --train-to {} --from {} --to {}\n```\n",
        args.train_to, args.from, args.to
    );
    let _ = writeln!(
        out,
        "`gbdt_v1` was trained on {} feature-store rows of {} (in-sample MAE {:.2}; {}; booster sha256 `{}`).\n",
        group_thousands(meta.training_rows as u64),
        meta.window,
        meta.in_sample_mae,
        meta.library,
        meta.booster_sha256
    );
    let _ = writeln!(out, "Every prediction of each system:\n");
    markdown_table(&mut out, metrics, Some(evaluation));
    let _ = writeln!(
        out,
        "\nThe same {} player-games (non-voided), predicted by every system — the fair comparison:\n",
        group_thousands(common_games as u64)
    );
    markdown_table(&mut out, common, None);
    let _ = writeln!(
        out,
        "\nEvery system is graded on the same outcomes (`player_game_summary` points; players \
         without a game are voided) and the same real lines (a stored prediction's `ACTUAL_PROP` \
         line for that player-date; without one, a prediction counts for MAE and bias only). \
         A call at edge ≥ e is OVER when the predicted points are at least e above the line and \
         UNDER when at least e below; pushes are not bets. The baselines are the daily cache's \
         `points_avg_season` and `points_avg_last_5`."
    );
    if let Some(plot) = &args.plot {
        let target = match (args.report.as_ref().and_then(|r| r.parent()), plot.parent()) {
            (Some(a), Some(b)) if a == b => plot
                .file_name()
                .map(PathBuf::from)
                .unwrap_or_else(|| plot.clone()),
            _ => plot.clone(),
        };
        let _ = writeln!(
            out,
            "\n![Observed OVER rate by edge bucket, per system]({})",
            target.display()
        );
    }
    let _ = writeln!(out, "{END_MARKER}");
    out
}

/// One markdown table of metrics; the voided column only where the rows
/// include voided predictions.
fn markdown_table(out: &mut String, metrics: &[SystemMetrics], evaluation: Option<&Evaluation>) {
    let voided = |m: &SystemMetrics| match evaluation {
        Some(e) => group_thousands(e.voided.get(&m.system).copied().unwrap_or(0) as u64),
        None => "–".to_string(),
    };
    let mut header = "| system | predictions | with real line | voided | MAE | bias |".to_string();
    let mut rule = "|---|---:|---:|---:|---:|---:|".to_string();
    for e in EDGES {
        let _ = write!(header, " hit rate, edge ≥ {e} (bets) |");
        rule.push_str("---:|");
    }
    let _ = writeln!(out, "{header}\n{rule}");
    for m in metrics {
        let _ = write!(
            out,
            "| {} | {} | {} | {} | {:.2} | {:+.2} |",
            m.system,
            group_thousands(m.predictions as u64),
            group_thousands(m.with_line as u64),
            voided(m),
            m.mae,
            m.bias
        );
        for i in 0..EDGES.len() {
            let _ = write!(out, " {} |", hit_cell(m, i));
        }
        out.push('\n');
    }
}

/// Replaces the marked section of `existing`, or appends it.
pub fn replace_section(existing: &str, section: &str) -> String {
    if let (Some(begin), Some(end)) = (existing.find(BEGIN_MARKER), existing.find(END_MARKER))
        && begin < end
    {
        let after = &existing[end + END_MARKER.len()..];
        let after = after.strip_prefix('\n').unwrap_or(after);
        return format!("{}{}{}", &existing[..begin], section, after);
    }
    if existing.is_empty() {
        return section.to_string();
    }
    let sep = if existing.ends_with("\n\n") {
        ""
    } else if existing.ends_with('\n') {
        "\n"
    } else {
        "\n\n"
    };
    format!("{existing}{sep}{section}")
}

const COLORS: [&str; 8] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
];

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The calibration curves as a standalone SVG: x = predicted − line (edge
/// bucket centre, points), y = observed OVER rate; one line per system;
/// buckets with fewer than [`MIN_BUCKET_CALLS`] decided calls are left out.
pub fn calibration_svg(
    curves: &[(String, Vec<CalibrationBucket>)],
    from: NaiveDate,
    to: NaiveDate,
) -> String {
    let (w, h) = (760.0, 460.0);
    let (left, right, top, bottom) = (60.0, 230.0, 40.0, 50.0);
    let (pw, ph) = (w - left - right, h - top - bottom);
    let k = CALIBRATION_BUCKETS as f64;
    let x = |edge: f64| left + (edge + k) / (2.0 * k) * pw;
    let y = |rate: f64| top + (1.0 - rate) * ph;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="{w}" height="{h}" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{}" y="22" font-size="14">Observed OVER rate by edge (predicted − real line), {from} → {to}</text>"#,
        left
    );
    for i in 0..=4 {
        let rate = i as f64 / 4.0;
        let dash = if i == 2 {
            r#" stroke-dasharray="4 3""#
        } else {
            ""
        };
        let _ = writeln!(
            s,
            r##"<line x1="{left}" y1="{yy:.1}" x2="{x2}" y2="{yy:.1}" stroke="#ccc"{dash}/><text x="{tx}" y="{ty:.1}" text-anchor="end">{pct}%</text>"##,
            yy = y(rate),
            x2 = left + pw,
            tx = left - 6.0,
            ty = y(rate) + 4.0,
            pct = (rate * 100.0) as i64
        );
    }
    for e in -CALIBRATION_BUCKETS..=CALIBRATION_BUCKETS {
        let xx = x(e as f64);
        let _ = writeln!(
            s,
            r##"<line x1="{xx:.1}" y1="{top}" x2="{xx:.1}" y2="{yb}" stroke="#eee"/><text x="{xx:.1}" y="{ty}" text-anchor="middle">{e:+}</text>"##,
            yb = top + ph,
            ty = top + ph + 16.0
        );
    }
    let _ = writeln!(
        s,
        r##"<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#333"/>"##
    );
    let _ = writeln!(
        s,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">edge bucket (points; the end buckets hold everything beyond ±{k})</text>"#,
        left + pw / 2.0,
        h - 12.0
    );
    for (i, (system, buckets)) in curves.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        let points: Vec<String> = buckets
            .iter()
            .filter(|b| b.decided >= MIN_BUCKET_CALLS)
            .filter_map(|b| {
                b.over_rate()
                    .map(|r| format!("{:.1},{:.1}", x((b.lower + b.upper) / 2.0), y(r)))
            })
            .collect();
        if !points.is_empty() {
            let _ = writeln!(
                s,
                r#"<polyline fill="none" stroke="{color}" stroke-width="2" points="{}"/>"#,
                points.join(" ")
            );
            for p in &points {
                let (px, py) = p.split_once(',').unwrap_or(("0", "0"));
                let _ = writeln!(s, r#"<circle cx="{px}" cy="{py}" r="3" fill="{color}"/>"#);
            }
        }
        let ly = top + 10.0 + i as f64 * 20.0;
        let lx = left + pw + 16.0;
        let decided: usize = buckets.iter().map(|b| b.decided).sum();
        let _ = writeln!(
            s,
            r#"<line x1="{lx}" y1="{ly}" x2="{}" y2="{ly}" stroke="{color}" stroke-width="3"/><text x="{}" y="{}">{} ({decided})</text>"#,
            lx + 18.0,
            lx + 24.0,
            ly + 4.0,
            escape(system)
        );
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_section_is_replaced_between_markers_or_appended() {
        let section = format!("{BEGIN_MARKER}\nnew\n{END_MARKER}\n");
        let doc = format!("# Accuracy\n\nintro\n\n{BEGIN_MARKER}\nold\n{END_MARKER}\n\nafter\n");
        assert_eq!(
            replace_section(&doc, &section),
            format!("# Accuracy\n\nintro\n\n{BEGIN_MARKER}\nnew\n{END_MARKER}\n\nafter\n")
        );
        assert_eq!(
            replace_section("# Accuracy\n", &section),
            format!("# Accuracy\n\n{section}")
        );
        assert_eq!(replace_section("", &section), section);
    }

    #[test]
    fn the_svg_draws_only_buckets_with_enough_calls() {
        let bucket = |lower: f64, decided, overs| CalibrationBucket {
            lower,
            upper: lower + 1.0,
            decided,
            overs,
        };
        let curves = vec![(
            "a<b".to_string(),
            vec![bucket(-1.0, 10, 2), bucket(0.0, 4, 4), bucket(1.0, 5, 5)],
        )];
        let d = NaiveDate::from_ymd_opt(2025, 10, 21).unwrap();
        let svg = calibration_svg(&curves, d, d);
        assert!(svg.starts_with("<svg"));
        assert!(svg.trim_end().ends_with("</svg>"));
        // Two drawn points (10 and 5 calls), the 4-call bucket left out.
        assert_eq!(svg.matches("<circle").count(), 2);
        assert!(svg.contains("a&lt;b (19)"));
    }
}
