//! `/accuracy`: every served system against the real line, week by week
//! (weeks start on Monday), by the evaluation's rules and nothing else:
//! the graded rows are `evaluation::load_stored_evaluation`'s (real
//! outcomes, real lines only, voided and ungraded rows left out), MAE, bias
//! and the calls at edge ≥ 1 point are `evaluation::system_metrics`, the
//! line's own MAE on the same rows is `versus_line::versus_line`. The line
//! itself is drawn as `baseline_line`, the number to beat.

use crate::Dashboard;
use crate::chart::{Series, line_chart};
use crate::page::{PageError, layout, parse_date, percent};
use axum::extract::{Query, State};
use chrono::{Datelike, Duration, NaiveDate};
use maud::{Markup, html};
use propcast_prediction_worker::evaluation::{
    BASELINE_LAST_5, BASELINE_SEASON, EDGES, GradedRow, SystemMetrics, load_stored_evaluation,
    system_metrics,
};
use propcast_prediction_worker::versus_line::{
    BASELINE_LINE, VersusLine, probability_calibration, raw_probabilities, recalibrate, versus_line,
};
use serde::Deserialize;
use std::collections::BTreeMap;

/// The calibration plot of the page's rows, computed as `propcast
/// evaluate` computes it (`raw_probabilities` fitted on the earlier rows,
/// then `recalibrate`), as an inline SVG.
fn calibration_plot(
    history: Vec<GradedRow>,
    mut rows: Vec<GradedRow>,
    from: NaiveDate,
    to: NaiveDate,
) -> String {
    raw_probabilities(&history, &mut rows);
    let raw = probability_calibration(&rows);
    recalibrate(&mut rows);
    let recalibrated = probability_calibration(&rows);
    crate::calibration::calibration_svg(
        &[
            ("the systems' own distributions", &raw),
            ("recalibrated against the market", &recalibrated),
        ],
        from,
        to,
    )
}

/// Weeks shown unless `weeks` says otherwise.
pub const DEFAULT_WEEKS: i64 = 8;

#[derive(Debug, Deserialize)]
pub struct AccuracyQuery {
    /// Last date (default: the last date with a prediction).
    pub to: Option<String>,
    pub weeks: Option<i64>,
}

/// The Monday of `date`'s week.
pub fn week_of(date: NaiveDate) -> NaiveDate {
    date - Duration::days(i64::from(date.weekday().num_days_from_monday()))
}

/// The systems a page shows: the served ones and the line; the season and
/// last-5 baselines stay in `propcast evaluate`.
pub fn shown(row: &GradedRow) -> bool {
    row.system != BASELINE_SEASON && row.system != BASELINE_LAST_5
}

/// One system in one week.
#[derive(Debug, Clone)]
pub struct WeekOfSystem {
    pub metrics: SystemMetrics,
    pub versus: Option<VersusLine>,
}

/// Per week, per system (in order of first appearance): the evaluation's
/// metrics of that week's rows.
pub fn weekly(rows: &[GradedRow]) -> BTreeMap<NaiveDate, Vec<WeekOfSystem>> {
    let mut weeks: BTreeMap<NaiveDate, Vec<GradedRow>> = BTreeMap::new();
    for row in rows.iter().filter(|r| shown(r)) {
        weeks
            .entry(week_of(row.game_date))
            .or_default()
            .push(row.clone());
    }
    weeks
        .into_iter()
        .map(|(week, rows)| {
            let versus = versus_line(&rows);
            let systems = system_metrics(&rows, &EDGES)
                .into_iter()
                .map(|metrics| WeekOfSystem {
                    versus: versus.iter().find(|v| v.system == metrics.system).cloned(),
                    metrics,
                })
                .collect();
            (week, systems)
        })
        .collect()
}

fn number(v: f64) -> String {
    format!("{v:.2}")
}

pub async fn page(
    State(dashboard): State<Dashboard>,
    Query(query): Query<AccuracyQuery>,
) -> Result<Markup, PageError> {
    let warehouse = dashboard.warehouse().await?;
    crate::grid::require_history(warehouse.as_ref()).await?;
    let to = match &query.to {
        Some(text) => parse_date(text)?,
        None => crate::predictions::last_prediction_date(warehouse.as_ref()).await?,
    };
    let weeks = query.weeks.unwrap_or(DEFAULT_WEEKS).clamp(1, 60);
    let from = week_of(to) - Duration::weeks(weeks - 1);
    let evaluation = load_stored_evaluation(warehouse.as_ref(), from, to)
        .await
        .map_err(|e| PageError::Query {
            what: "graded predictions",
            message: e.to_string(),
        })?;
    let by_week = weekly(&evaluation.rows);
    let calibration = calibration_plot(evaluation.history, evaluation.rows.clone(), from, to);
    let mut systems: Vec<String> = Vec::new();
    for row in evaluation.rows.iter().filter(|r| shown(r)) {
        if !systems.contains(&row.system) {
            systems.push(row.system.clone());
        }
    }
    let labels: Vec<String> = by_week
        .keys()
        .map(|w| w.format("%m-%d").to_string())
        .collect();
    let series = |pick: &dyn Fn(&WeekOfSystem) -> Option<f64>, with_line: bool| -> Vec<Series> {
        systems
            .iter()
            .filter(|s| with_line || s.as_str() != BASELINE_LINE)
            .map(|system| Series {
                name: system.clone(),
                values: by_week
                    .values()
                    .map(|list| {
                        list.iter()
                            .find(|w| &w.metrics.system == system)
                            .and_then(pick)
                    })
                    .collect(),
            })
            .collect()
    };
    let mae = series(&|w| Some(w.metrics.mae), true);
    let hit = series(&|w| w.metrics.hit_rates[0].hit_rate(), false);
    let edge = EDGES[0];
    let voided: usize = evaluation
        .voided
        .iter()
        .filter(|(s, _)| s.as_str() != BASELINE_LINE)
        .map(|(_, n)| n)
        .sum();
    let content = html! {
        p { "Weeks of " (from) " → " (to) ": every served system's predictions graded on what the player scored, "
            "against real sportsbook lines only (the rules of " code { "propcast evaluate" } "). "
            code { (BASELINE_LINE) } " is the line itself: its MAE is the number a system must beat. "
            "A call is OVER or UNDER the line when the prediction is at least " (edge) " point from it; "
            "a push is not a bet. " (voided) " predictions of players who did not play are voided." }
        nav.pager {
            a href=(format!("/accuracy?to={}&weeks={weeks}", from - Duration::days(1))) { "← earlier" }
            a href=(format!("/accuracy?weeks={}", weeks * 2)) { "more weeks" }
        }
        @if by_week.is_empty() {
            p #no-accuracy { "No graded prediction in these weeks: grading needs the box scores of the dates (" code { "propcast backfill" } ")." }
        } @else {
            h2 { "MAE by week (points)" }
            (line_chart("mae-chart", "MAE (points)", &labels, &mae, number))
            h2 { "Hit rate by week, calls at edge ≥ " (edge) }
            (line_chart("hit-chart", "hit rate", &labels, &hit, percent))
            h2 { "By week and system" }
            table #accuracy {
                thead { tr {
                    th { "week of" } th { "system" } th { "graded" } th { "MAE" } th { "bias" }
                    th { "with line" } th { "MAE there" } th { "line MAE there" }
                    th { "bets (edge ≥ " (edge) ")" } th { "wins" } th { "pushes" } th { "hit rate" }
                } }
                tbody {
                    @for (week, list) in &by_week {
                        @for w in list {
                            @let m = &w.metrics;
                            @let h = &m.hit_rates[0];
                            tr.week data-week=(week) data-system=(m.system) data-rows=(m.predictions)
                                data-mae=(m.mae) data-bias=(m.bias) data-with-line=(m.with_line)
                                data-bets=(h.bets) data-wins=(h.wins) data-pushes=(h.pushes)
                                data-line-mae=(w.versus.as_ref().map(|v| v.line_mae.to_string()).unwrap_or_default()) {
                                td { (week) } td { (m.system) } td.num { (m.predictions) }
                                td.num { (number(m.mae)) } td.num { (number(m.bias)) } td.num { (m.with_line) }
                                td.num { @if let Some(v) = &w.versus { (number(v.mae)) } }
                                td.num { @if let Some(v) = &w.versus { (number(v.line_mae)) } }
                                td.num { (h.bets) } td.num { (h.wins) } td.num { (h.pushes) }
                                td.num { @if let Some(r) = h.hit_rate() { (percent(r)) } @else { "—" } }
                            }
                        }
                    }
                }
            }
        }
        h2 { "Calibration" }
        p { "Predicted P(over) against the observed over rate, by the evaluation's two walk-forward stages: each served system's own predictive distribution, then recalibrated against the market's no-vig probability (what the calls of "
            code { "propcast evaluate" } " use). The diagonal is perfect calibration; buckets with fewer than "
            (crate::calibration::MIN_BUCKET_CALLS) " decided rows are not drawn." }
        div.calibration { (maud::PreEscaped(calibration)) }
        p { code { "propcast evaluate --train-to D --from D --to D --report docs/ACCURACY.md --plot docs/calibration.svg" }
            " adds a freshly trained gbdt_v1, market_v1 and the priced calls (profit, ROI, intervals)." }
    };
    Ok(layout("Accuracy against the line", content))
}
