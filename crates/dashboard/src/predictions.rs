//! `/predictions?date=YYYY-MM-DD`: one date's predictions (default: the last
//! date with any) with the line each was made against, its prices and the
//! call (OVER, UNDER, PASS; NO_LINE without a real line), and once graded,
//! what the player scored and whether the call won. Rows with a real line by
//! default; `&all=1` shows every row.

use crate::Dashboard;
use crate::page::{PageError, layout, parse_date};
use axum::extract::{Query, State};
use chrono::NaiveDate;
use maud::{Markup, html};
use propcast_platform::WarehouseExt;
use propcast_platform::warehouse::date_literal;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct PredictionsQuery {
    pub date: Option<String>,
    pub all: Option<u8>,
}

#[derive(Debug, Deserialize)]
struct Row {
    player_lookup: String,
    team_abbr: String,
    opponent_abbr: String,
    system_id: String,
    predicted_points: f64,
    confidence: f64,
    line_value: Option<f64>,
    line_source: String,
    sportsbook: Option<String>,
    line_over_price: Option<i64>,
    line_under_price: Option<i64>,
    recommendation: String,
    actual_points: Option<i64>,
    prediction_correct: Option<bool>,
    is_push: Option<bool>,
    is_voided: Option<bool>,
}

#[derive(Debug, Deserialize)]
struct LastDate {
    last: Option<NaiveDate>,
}

/// The last date with predictions (what `/predictions` and `/accuracy`
/// show unless asked), or the page that says phase 5 never ran.
pub(crate) async fn last_prediction_date(
    warehouse: &dyn propcast_platform::Warehouse,
) -> Result<NaiveDate, PageError> {
    warehouse
        .query_as::<LastDate>(
            "SELECT MAX(game_date) AS last FROM nba_predictions.player_prop_predictions",
        )
        .await
        .map_err(PageError::query("predictions"))?
        .first()
        .and_then(|l| l.last)
        .ok_or_else(|| {
            PageError::Empty("no prediction has been made yet: phase 5 never ran".into())
        })
}

fn price(p: Option<i64>) -> String {
    match p {
        Some(p) if p > 0 => format!("+{p}"),
        Some(p) => p.to_string(),
        None => "—".to_string(),
    }
}

fn outcome(r: &Row) -> &'static str {
    match (r.is_voided, r.is_push, r.prediction_correct) {
        (None, _, _) => "not graded",
        (Some(true), _, _) => "voided",
        (_, Some(true), _) => "push",
        (_, _, Some(true)) => "won",
        (_, _, Some(false)) => "lost",
        _ => "no bet",
    }
}

pub async fn page(
    State(dashboard): State<Dashboard>,
    Query(query): Query<PredictionsQuery>,
) -> Result<Markup, PageError> {
    let warehouse = dashboard.warehouse().await?;
    crate::grid::require_history(warehouse.as_ref()).await?;
    let date = match &query.date {
        Some(text) => parse_date(text)?,
        None => last_prediction_date(warehouse.as_ref()).await?,
    };
    let all = query.all.unwrap_or(0) != 0;
    let rows: Vec<Row> = warehouse
        .query_as(&format!(
            "SELECT p.player_lookup, p.team_abbr, p.opponent_abbr, p.system_id, p.predicted_points,
                    p.confidence, p.line_value, p.line_source, p.sportsbook, p.line_over_price,
                    p.line_under_price, p.recommendation, a.actual_points, a.prediction_correct,
                    a.is_push, a.is_voided
             FROM nba_predictions.player_prop_predictions p
             LEFT JOIN nba_predictions.prediction_accuracy a
               ON a.game_date = p.game_date AND a.player_lookup = p.player_lookup AND a.system_id = p.system_id
             WHERE p.game_date = {}
             ORDER BY p.player_lookup, p.system_id",
            date_literal(date)
        ))
        .await
        .map_err(PageError::query("predictions"))?;
    let total = rows.len();
    let shown: Vec<&Row> = rows
        .iter()
        .filter(|r| all || r.line_value.is_some())
        .collect();
    let calls = |call: &str| rows.iter().filter(|r| r.recommendation == call).count();
    let content = html! {
        p { (total) " predictions for " (date) ": " (calls("OVER")) " OVER, " (calls("UNDER")) " UNDER, "
            (calls("PASS")) " PASS, " (calls("NO_LINE")) " without a real line. "
            @if all { "Showing every row; " a href=(format!("/predictions?date={date}")) { "only those with a line" } "." }
            @else { "Showing the " (shown.len()) " with a real line; " a href=(format!("/predictions?date={date}&all=1")) { "show all" } "." } }
        nav.pager {
            @if let Some(d) = date.pred_opt() { a href=(format!("/predictions?date={d}")) { "← " (d) } }
            @if let Some(d) = date.succ_opt() { a href=(format!("/predictions?date={d}")) { (d) " →" } }
            a href=(format!("/date/{date}")) { "runs of " (date) }
        }
        table #predictions {
            thead { tr {
                th { "player" } th { "team" } th { "opp." } th { "system" } th { "predicted" } th { "confidence" }
                th { "line" } th { "book" } th { "over / under" } th { "call" } th { "scored" } th { "outcome" }
            } }
            tbody {
                @for r in &shown {
                    tr.prediction data-player=(r.player_lookup) data-system=(r.system_id) data-call=(r.recommendation) {
                        td { (r.player_lookup) } td { (r.team_abbr) } td { (r.opponent_abbr) } td { (r.system_id) }
                        td.num { (format!("{:.1}", r.predicted_points)) } td.num { (format!("{:.2}", r.confidence)) }
                        td.num { @if let Some(l) = r.line_value { (l) } @else { "—" } }
                        td { (r.sportsbook.as_deref().unwrap_or(if r.line_value.is_some() { "" } else { r.line_source.as_str() })) }
                        td { (price(r.line_over_price)) " / " (price(r.line_under_price)) }
                        td { strong { (r.recommendation) } }
                        td.num { @if let Some(p) = r.actual_points { (p) } }
                        td { (outcome(r)) }
                    }
                }
            }
        }
    };
    Ok(layout(&format!("Predictions of {date}"), content))
}
