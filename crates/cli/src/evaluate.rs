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
use propcast_dashboard::calibration::calibration_svg;
use propcast_platform::Warehouse;
use propcast_prediction_worker::evaluation::{
    EDGES, Evaluation, ExtraSystem, SystemMetrics, common_sample, load_evaluation, system_metrics,
};
use propcast_prediction_worker::gbdt::TrainingWindow;
use propcast_prediction_worker::market::{
    MARKET_FEATURE_VERSION, MIN_TRAINING_ROWS, WalkForward, load_market_rows, walk_forward,
};
use propcast_prediction_worker::training::feature_store_dates;
use propcast_prediction_worker::versus_line::{
    LINE_WEIGHTED_ENSEMBLE, MIN_PROBABILITY_EDGE, PricedCalls, VersusLine, line_weighted_ensemble,
    priced_calls, probability_calibration, raw_probabilities, recalibrate, versus_line,
    wilson_interval,
};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

pub const BEGIN_MARKER: &str = "<!-- evaluate:begin -->";
pub const END_MARKER: &str = "<!-- evaluate:end -->";
/// How the walk-forward market model is labelled in the report.
pub const MARKET_LABEL: &str = "market_v1 (walk-forward)";

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
    // market_v1, walk-forward: the model of date D is trained on the dates
    // before D only.
    let market_rows = load_market_rows(warehouse, args.to).await?;
    let walk = walk_forward(&market_rows, args.from, args.to)?;
    let market = ExtraSystem {
        system: MARKET_LABEL.to_string(),
        predictions: walk
            .predictions
            .iter()
            .map(|p| (p.game_date, p.player_lookup.clone(), p.predicted))
            .collect(),
    };
    let mut evaluation =
        load_evaluation(warehouse, &model, &label, &[market], args.from, args.to).await?;
    if evaluation.rows.is_empty() {
        anyhow::bail!(
            "no prediction between {} and {} has an outcome: run `propcast backfill --landing DIR --from {} --to {}` first",
            args.from,
            args.to,
            args.from,
            args.to
        );
    }
    // The ensemble weighted by recent error against the line, walk-forward.
    let ensemble = line_weighted_ensemble(&evaluation.rows);
    evaluation.rows.extend(ensemble);
    // Probabilities in two stages, each walk-forward: the systems' own
    // distributions (plotted, to show how far they are from calibrated),
    // then recalibrated against the market (what the calls use).
    raw_probabilities(&evaluation.history, &mut evaluation.rows);
    let raw_curves = probability_calibration(&evaluation.rows);
    recalibrate(&mut evaluation.rows);
    let metrics = system_metrics(&evaluation.rows, &EDGES);
    let common_rows = common_sample(&evaluation.rows);
    let common = system_metrics(&common_rows, &EDGES);
    let common_dates: std::collections::BTreeSet<_> = common_rows
        .iter()
        .map(|r| (r.game_date, r.player_lookup.clone()))
        .collect();
    let curves = probability_calibration(&evaluation.rows);
    let against = against_line(&evaluation);
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
    let market_note = market_note(&walk);
    println!("{market_note}");
    println!(
        "against the real line, on each system's own rows with a line (Δ = system MAE − line MAE; calls where P(side) beats the price's break-even by ≥ {:.0} points, paid at the real price):",
        MIN_PROBABILITY_EDGE * 100.0
    );
    println!("{}", against_console_table(&against));
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
        let svg = calibration_svg(
            &[
                ("the systems' own distributions", &raw_curves),
                (
                    "recalibrated against the market (what the calls use)",
                    &curves,
                ),
            ],
            args.from,
            args.to,
        );
        write_creating_dir(plot, svg.as_bytes())?;
        println!("calibration plot: {}", plot.display());
    }
    if let Some(report) = &args.report {
        let section = markdown_section(
            &args,
            &Report {
                market_note: &market_note,
                against: &against,
                metrics: &metrics,
                common: &common,
                common_games: common_dates.len(),
                evaluation: &evaluation,
            },
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
    rate_cell(h.wins, h.bets)
}

/// What the walk-forward `market_v1` trained: one model per predicted date,
/// the dates it could not train for, the last model's window, rows and
/// booster sha256, and the feature set.
fn market_note(walk: &WalkForward) -> String {
    let mut dates: Vec<_> = walk.predictions.iter().map(|p| p.game_date).collect();
    dates.dedup();
    let without = if walk.dates_without_model.is_empty() {
        "none".to_string()
    } else {
        walk.dates_without_model
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match walk.predictions.last() {
        Some(last) => format!(
            "`market_v1` was retrained walk-forward for each of {} dates (dates without enough earlier rows: {without}); the last model, for {}, on {} rows of {} (booster sha256 `{}`; features `{MARKET_FEATURE_VERSION}`).",
            dates.len(),
            last.game_date,
            group_thousands(last.training_rows as u64),
            last.window,
            &last.booster_sha256[..12]
        ),
        None => format!(
            "`market_v1` made no prediction: no date had {MIN_TRAINING_ROWS} earlier rows with a market (dates: {without}); import market history with `propcast import-props`."
        ),
    }
}

/// Voided predictions of a system; "–" on the common sample and for the
/// line-weighted ensemble, which is built from graded rows only.
fn voided_cell(evaluation: Option<&Evaluation>, m: &SystemMetrics) -> String {
    match evaluation {
        Some(e) if m.system != LINE_WEIGHTED_ENSEMBLE => {
            group_thousands(e.voided.get(&m.system).copied().unwrap_or(0) as u64)
        }
        _ => "–".to_string(),
    }
}

/// "52.1% (480) [47.6–56.5]": the rate, the bets, the Wilson 95 % interval.
fn rate_cell(wins: usize, bets: usize) -> String {
    match wilson_interval(wins, bets) {
        Some((lo, hi)) => format!(
            "{:.1}% ({}) [{:.1}–{:.1}]",
            wins as f64 / bets as f64 * 100.0,
            group_thousands(bets as u64),
            lo * 100.0,
            hi * 100.0
        ),
        None => "– (0)".to_string(),
    }
}

/// Each system against the line and its priced calls, in the order of
/// [`versus_line`].
fn against_line(evaluation: &Evaluation) -> Vec<(VersusLine, PricedCalls)> {
    let mut calls: std::collections::HashMap<String, PricedCalls> = priced_calls(&evaluation.rows)
        .into_iter()
        .map(|c| (c.system.clone(), c))
        .collect();
    versus_line(&evaluation.rows)
        .into_iter()
        .filter_map(|v| {
            let c = calls.remove(&v.system)?;
            Some((v, c))
        })
        .collect()
}

/// The cells of one row of the against-the-line table.
fn against_cells(v: &VersusLine, c: &PricedCalls) -> Vec<String> {
    let signed = |x: f64| format!("{x:+.2}");
    vec![
        v.system.clone(),
        group_thousands(v.rows as u64),
        format!("{:.2}", v.mae),
        format!("{:.2}", v.line_mae),
        format!(
            "{} [{}, {}]",
            signed(v.difference),
            signed(v.interval.0),
            signed(v.interval.1)
        ),
        group_thousands(c.eligible as u64),
        rate_cell(c.wins, c.bets()),
        group_thousands(c.pushes as u64),
        c.break_even
            .map(|b| format!("{:.1}%", b * 100.0))
            .unwrap_or_else(|| "–".into()),
        format!("{:+.1}", c.profit),
        match (c.roi(), c.roi_interval) {
            (Some(roi), Some((lo, hi))) => format!(
                "{:+.1}% [{:+.1}, {:+.1}]",
                roi * 100.0,
                lo * 100.0,
                hi * 100.0
            ),
            _ => "–".into(),
        },
    ]
}

const AGAINST_HEADER: [&str; 11] = [
    "system",
    "rows with line",
    "MAE",
    "line MAE",
    "Δ vs line [95% CI]",
    "priced rows",
    "hit rate (bets) [95% CI]",
    "pushes",
    "break-even",
    "profit (units)",
    "ROI [95% CI]",
];

fn against_console_table(rows: &[(VersusLine, PricedCalls)]) -> Table {
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED);
    table.set_header(AGAINST_HEADER.to_vec());
    for (v, c) in rows {
        table.add_row(
            against_cells(v, c)
                .into_iter()
                .enumerate()
                .map(|(i, text)| {
                    let cell = Cell::new(text);
                    if i == 0 {
                        cell
                    } else {
                        cell.set_alignment(CellAlignment::Right)
                    }
                })
                .collect::<Vec<_>>(),
        );
    }
    table
}

fn against_markdown_table(out: &mut String, rows: &[(VersusLine, PricedCalls)]) {
    let _ = writeln!(out, "| {} |", AGAINST_HEADER.join(" | "));
    let _ = writeln!(out, "|---|{}", "---:|".repeat(AGAINST_HEADER.len() - 1));
    for (v, c) in rows {
        let _ = writeln!(out, "| {} |", against_cells(v, c).join(" | "));
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
            Cell::new(voided_cell(evaluation, m)).set_alignment(CellAlignment::Right),
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

/// What the markdown section reports, beside the arguments and the model.
struct Report<'a> {
    market_note: &'a str,
    against: &'a [(VersusLine, PricedCalls)],
    metrics: &'a [SystemMetrics],
    common: &'a [SystemMetrics],
    common_games: usize,
    evaluation: &'a Evaluation,
}

fn markdown_section(
    args: &EvaluateArgs,
    report: &Report<'_>,
    model: &propcast_prediction_worker::TrainedModel,
) -> String {
    let Report {
        market_note,
        against,
        metrics,
        common,
        common_games,
        evaluation,
    } = *report;
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
    let _ = writeln!(out, "{market_note}\n");
    let _ = writeln!(
        out,
        "**Against the real line**, on each system's own rows with a line. Δ is the system's \
         MAE minus the line's MAE on exactly those rows (negative = better than the line), with \
         a bootstrap 95 % interval. A call is made where the system's probability of a side \
         beats the break-even probability of that side's real price by at least {:.0} points, \
         and is paid at that price (one unit; a push returns it). Hit rates carry a Wilson \
         95 % interval, ROI a bootstrap one.\n",
        MIN_PROBABILITY_EDGE * 100.0
    );
    against_markdown_table(&mut out, against);
    let _ = writeln!(
        out,
        "\nEvery prediction of each system (calls by edge over the line):\n"
    );
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
            "\n![Predicted P(over) against the observed over rate, per system]({})",
            target.display()
        );
    }
    let _ = writeln!(out, "{END_MARKER}");
    out
}

/// One markdown table of metrics; the voided column only where the rows
/// include voided predictions.
fn markdown_table(out: &mut String, metrics: &[SystemMetrics], evaluation: Option<&Evaluation>) {
    let voided = |m: &SystemMetrics| voided_cell(evaluation, m);
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
}
