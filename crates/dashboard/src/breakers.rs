//! `/breakers`: every circuit breaker in the state store (collection
//! `circuit_breakers`): the processors' (namespace `processor`) and the
//! prediction systems' (`prediction_system`), with state, failures and the
//! last error.

use crate::Dashboard;
use crate::page::{PageError, layout};
use axum::extract::State;
use maud::{Markup, html};
use propcast_patterns::circuit_breaker::{Breaker, BreakerState, list_breakers};
use std::collections::BTreeMap;

fn namespace_title(namespace: &str) -> String {
    match namespace {
        propcast_patterns::layers::BREAKER_NAMESPACE => "Processors".to_string(),
        propcast_prediction_worker::circuit_breaker::NAMESPACE => "Prediction systems".to_string(),
        other => format!("Namespace {other}"),
    }
}

fn when(at: Option<chrono::DateTime<chrono::Utc>>) -> String {
    at.map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| "—".to_string())
}

pub async fn page(State(dashboard): State<Dashboard>) -> Result<Markup, PageError> {
    let Some(state) = dashboard.state().await? else {
        return Err(PageError::Empty(
            "the embedded state store does not exist yet, so no breaker has been recorded".into(),
        ));
    };
    let breakers = list_breakers(state.as_ref())
        .await
        .map_err(|e| PageError::Unreachable {
            backend: "state store",
            uri: "circuit_breakers".into(),
            message: e.to_string(),
        })?;
    let mut by_namespace: BTreeMap<String, Vec<(String, Breaker)>> = BTreeMap::new();
    for (id, breaker) in breakers {
        let namespace = id.split_once('.').map(|(n, _)| n).unwrap_or("").to_string();
        by_namespace
            .entry(namespace)
            .or_default()
            .push((id, breaker));
    }
    let not_closed = by_namespace
        .values()
        .flatten()
        .filter(|(_, b)| b.state != BreakerState::Closed)
        .count();
    let content = html! {
        @if by_namespace.is_empty() {
            p #no-breakers { "No breaker is recorded in the state store (collection "
                code { (propcast_patterns::circuit_breaker::COLLECTION) } "): every processor and prediction system is closed." }
        }
        p { (by_namespace.values().map(Vec::len).sum::<usize>()) " breakers, " (not_closed) " not closed. "
            "A breaker opens after its failure threshold of consecutive failures, stays open for its timeout, "
            "then lets calls through half-open until its success threshold closes it." }
        @for (namespace, list) in &by_namespace {
            h2 { (namespace_title(namespace)) }
            table.breakers {
                thead { tr {
                    th { "guards" } th { "state" } th { "failures" } th { "last failure" } th { "last error" }
                    th { "opened at" } th { "last success" } th { "thresholds (fail / succeed / timeout)" }
                } }
                tbody {
                    @for (id, b) in list {
                        tr data-breaker=(id) data-state=(b.state.as_str()) {
                            td { (b.id) }
                            td { span class={ "status " @if b.state == BreakerState::Closed { "success" } @else { "failed" } } { (b.state.as_str()) } }
                            td.num { (b.failure_count) }
                            td { (when(b.last_failure_at)) }
                            td { (b.last_error.as_deref().unwrap_or("")) }
                            td { (when(b.opened_at)) }
                            td { (when(b.last_success_at)) }
                            td { (b.failure_threshold) " / " (b.success_threshold) " / " (b.timeout_seconds) " s" }
                        }
                    }
                }
            }
        }
    };
    Ok(layout("Circuit breakers", content))
}
