//! `/date/YYYY-MM-DD`: every run of the date (all rounds, newest first),
//! its validation results and its quarantined records.

use crate::Dashboard;
use crate::grid::require_history;
use crate::page::{PageError, layout, parse_date, seconds};
use axum::extract::{Path, State};
use maud::{Markup, html};
use propcast_core::Table;
use propcast_core::tables::{ProcessorRun, QuarantineRecord, ValidationResult};
use propcast_platform::WarehouseExt;
use propcast_platform::warehouse::date_literal;

pub async fn page(
    State(dashboard): State<Dashboard>,
    Path(date): Path<String>,
) -> Result<Markup, PageError> {
    let date = parse_date(&date)?;
    let warehouse = dashboard.warehouse().await?;
    require_history(warehouse.as_ref()).await?;
    let day = date_literal(date);
    let runs: Vec<ProcessorRun> = warehouse
        .query_as(&format!(
            "SELECT * FROM {} WHERE game_date = {day} ORDER BY started_at DESC, phase, processor, run_id",
            ProcessorRun::DEF.qualified()
        ))
        .await
        .map_err(PageError::query("run history"))?;
    let checks: Vec<ValidationResult> = warehouse
        .query_as(&format!(
            "SELECT * FROM {} WHERE game_date = {day} ORDER BY check_name",
            ValidationResult::DEF.qualified()
        ))
        .await
        .map_err(PageError::query("validation results"))?;
    let quarantined: Vec<QuarantineRecord> = warehouse
        .query_as(&format!(
            "SELECT * FROM {} WHERE game_date = {day} ORDER BY processor, source_file, record, field",
            QuarantineRecord::DEF.qualified()
        ))
        .await
        .map_err(PageError::query("quarantine"))?;
    let prev = date.pred_opt();
    let next = date.succ_opt();
    let content = html! {
        nav.pager {
            @if let Some(d) = prev { a #prev href=(format!("/date/{d}")) { "← " (d) } }
            @if let Some(d) = next { a #next href=(format!("/date/{d}")) { (d) " →" } }
            a href=(format!("/?to={date}")) { "grid up to " (date) }
            a href=(format!("/predictions?date={date}")) { "predictions of " (date) }
        }
        h2 { "Runs (" (runs.len()) ")" }
        @if runs.is_empty() {
            p #no-runs { "No processor ran for " (date) "." }
        } @else {
            table #runs {
                thead { tr {
                    th { "phase" } th { "processor" } th { "status" } th { "skip reason / error" } th { "duration" }
                    th { "rows written" } th { "quarantined" } th { "in scope" } th { "changed" } th { "mode" }
                    th { "round" } th { "correlation id" } th { "started at" }
                } }
                tbody {
                    @for r in &runs {
                        tr.run data-processor=(r.processor) data-status=(r.status) data-run-id=(r.run_id) {
                            td.num { (r.phase) }
                            td { (r.processor) }
                            td { span class={ "status " (r.status) } { (r.status) } }
                            td { (r.error.as_deref().or(r.skip_reason.as_deref()).unwrap_or("")) }
                            td.num { (seconds(r.duration_ms)) }
                            td.num { (r.rows_written) }
                            td.num { (r.records_quarantined) }
                            td.num { @if let Some(n) = r.entities_in_scope { (n) } @else { "all" } }
                            td.num { @if let Some(n) = r.entities_changed { (n) } @else { "—" } }
                            td { (r.mode) }
                            td { code { (r.round_id) } }
                            td { code { (r.correlation_id) } }
                            td { (r.started_at.format("%Y-%m-%d %H:%M:%S%.3f UTC")) }
                        }
                    }
                }
            }
        }
        h2 { "Validation" }
        @if checks.is_empty() {
            p { "No validation recorded for " (date) " (a backfill or daily run validates each date after its phases)." }
        } @else {
            table #validation {
                thead { tr { th { "check" } th { "status" } th { "detail" } th { "validated at" } } }
                tbody {
                    @for c in &checks {
                        tr data-check=(c.check_name) data-status=(c.status) {
                            td { (c.check_name) } td { (c.status) } td { (c.detail) }
                            td { (c.validated_at.format("%Y-%m-%d %H:%M:%S UTC")) }
                        }
                    }
                }
            }
        }
        h2 { "Quarantined records (" (quarantined.len()) ")" }
        @if quarantined.is_empty() {
            p #no-quarantine { "Nothing quarantined for " (date) "." }
        } @else {
            p { "Fix or replace the file in the landing zone, then " code { "propcast run --date " (date) " --landing DIR" } " replaces the date's rows and these entries." }
            table #quarantine {
                thead { tr { th { "processor" } th { "file" } th { "record" } th { "field" } th { "reason" } th { "excerpt" } } }
                tbody {
                    @for q in &quarantined {
                        tr.quarantined data-processor=(q.processor) data-file=(q.source_file) data-record=(q.record) data-field=(q.field) {
                            td { (q.processor) } td { code { (q.source_file) } } td { code { (q.record) } }
                            td { code { (q.field) } } td { (q.reason) } td { code { (q.excerpt) } }
                        }
                    }
                }
            }
        }
    };
    Ok(layout(&format!("{date}"), content))
}
