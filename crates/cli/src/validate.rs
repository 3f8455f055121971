//! Per-date validation after a date's phases ran, stored in
//! `nba_processing.validation_results` and shown by `propcast validate`.
//!
//! | check | passes when |
//! |---|---|
//! | `execution` | no processor run of the date failed |
//! | `dependency_order` | the processors ran phase by phase (2 → 5), and phases 3–5 ran only when phase 2 found something |
//! | `volume` | every box-score row became a game summary; the contexts, composite factors, daily cache and feature store hold the same players |
//! | `quality` | fatigue in 0–100, predicted points in 0–60, confidence in 0–1, feature quality in 0–100, no real-line prediction without its line |

use crate::pipeline::DateOutcome;
use chrono::{DateTime, NaiveDate, Utc};
use propcast_core::Table;
use propcast_core::tables::ValidationResult;
use propcast_patterns::{Phase, RunStatus};
use propcast_platform::warehouse::date_literal;
use propcast_platform::{Warehouse, WarehouseError, WarehouseExt};

/// The checks of one date, from its outcome and what the warehouse holds.
pub async fn validate_date(
    warehouse: &dyn Warehouse,
    outcome: &DateOutcome,
    execution_id: &str,
    now: DateTime<Utc>,
) -> Result<Vec<ValidationResult>, WarehouseError> {
    let date = outcome.date;
    let result = |check: &str, ok: bool, detail: String| ValidationResult {
        game_date: date,
        check_name: check.to_string(),
        status: if ok { "pass" } else { "fail" }.to_string(),
        detail,
        execution_id: execution_id.to_string(),
        validated_at: now,
    };
    let mut results = Vec::with_capacity(4);

    let failed: Vec<&str> = outcome.failed().iter().map(|r| r.processor()).collect();
    results.push(result(
        "execution",
        failed.is_empty(),
        if failed.is_empty() {
            format!("{} processor runs, none failed", outcome.reports.len())
        } else {
            format!("failed: {}", failed.join(", "))
        },
    ));

    let phases: Vec<i64> = outcome.reports.iter().map(|r| r.run.phase).collect();
    let ordered = phases.windows(2).all(|w| w[0] <= w[1]);
    let skipped_downstream = outcome
        .reports
        .iter()
        .filter(|r| r.phase() != Some(Phase::Raw))
        .all(|r| r.status() == RunStatus::Skipped);
    // Without an early exit every processor ran, or was skipped only
    // because its outputs are current (smart skip), the delivery was a
    // duplicate, or its phase was not triggered (its upstream had nothing
    // for it: a failure there fails `execution`).
    let consistent = match &outcome.early_exit {
        Some(_) => skipped_downstream,
        None => outcome.reports.iter().all(|r| {
            r.status() != RunStatus::Skipped
                || r.run.skip_reason.as_deref().is_some_and(|reason| {
                    reason.starts_with("up to date")
                        || reason.starts_with("duplicate delivery")
                        || reason.starts_with("not triggered")
                })
        }),
    };
    results.push(result(
        "dependency_order",
        ordered && consistent,
        match (&outcome.early_exit, ordered) {
            (_, false) => format!("processors ran out of phase order: {phases:?}"),
            (Some(reason), true) => format!("phase 2 only ({reason})"),
            (None, true) => "phases 2 → 5 in order".to_string(),
        },
    ));

    let count = |table: &str| {
        format!(
            "(SELECT COUNT(*) FROM {table} WHERE game_date = {})",
            date_literal(date)
        )
    };
    #[derive(serde::Deserialize)]
    struct Volume {
        boxscores: i64,
        summaries: i64,
        contexts: i64,
        factors: i64,
        cache: i64,
        features: i64,
    }
    let volume: Vec<Volume> = warehouse
        .query_as(&format!(
            "SELECT {} AS boxscores, {} AS summaries, {} AS contexts, {} AS factors, {} AS cache, {} AS features",
            count("nba_raw.player_boxscores"),
            count("nba_analytics.player_game_summary"),
            count("nba_analytics.upcoming_player_game_context"),
            count("nba_precompute.player_composite_factors"),
            count("nba_precompute.player_daily_cache"),
            count("nba_precompute.ml_feature_store"),
        ))
        .await?;
    if let Some(v) = volume.first() {
        let ok = v.boxscores == v.summaries
            && v.contexts == v.factors
            && v.contexts == v.cache
            && v.contexts == v.features;
        results.push(result(
            "volume",
            ok,
            format!(
                "box scores {} → summaries {}; contexts {}, factors {}, daily cache {}, features {}",
                v.boxscores, v.summaries, v.contexts, v.factors, v.cache, v.features
            ),
        ));
    }

    let d = date_literal(date);
    let violations = |table: &str, condition: &str| {
        format!("(SELECT COUNT(*) FROM {table} WHERE game_date = {d} AND ({condition}))")
    };
    #[derive(serde::Deserialize)]
    struct Quality {
        fatigue: i64,
        points: i64,
        confidence: i64,
        feature_quality: i64,
        missing_line: i64,
    }
    let quality: Vec<Quality> = warehouse
        .query_as(&format!(
            "SELECT {} AS fatigue, {} AS points, {} AS confidence, {} AS feature_quality, {} AS missing_line",
            violations(
                "nba_precompute.player_composite_factors",
                "fatigue_score < 0 OR fatigue_score > 100"
            ),
            violations(
                "nba_predictions.player_prop_predictions",
                "predicted_points < 0 OR predicted_points > 60"
            ),
            violations(
                "nba_predictions.player_prop_predictions",
                "confidence < 0 OR confidence > 1"
            ),
            violations(
                "nba_precompute.ml_feature_store",
                "feature_quality_score < 0 OR feature_quality_score > 100"
            ),
            violations(
                "nba_predictions.player_prop_predictions",
                "line_source = 'ACTUAL_PROP' AND line_value IS NULL"
            ),
        ))
        .await?;
    if let Some(q) = quality.first() {
        let bad = [
            ("fatigue outside 0–100", q.fatigue),
            ("predicted points outside 0–60", q.points),
            ("confidence outside 0–1", q.confidence),
            ("feature quality outside 0–100", q.feature_quality),
            ("real-line predictions without a line", q.missing_line),
        ];
        let found: Vec<String> = bad
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(what, n)| format!("{n} {what}"))
            .collect();
        results.push(result(
            "quality",
            found.is_empty(),
            if found.is_empty() {
                "every value within its range".to_string()
            } else {
                found.join("; ")
            },
        ));
    }
    Ok(results)
}

/// Replaces the date's validation results.
pub async fn record(
    warehouse: &dyn Warehouse,
    date: NaiveDate,
    results: &[ValidationResult],
) -> Result<(), WarehouseError> {
    warehouse.replace_rows(date, &[], results).await?;
    Ok(())
}

/// The stored results of `date`, for `propcast validate`.
pub async fn stored(
    warehouse: &dyn Warehouse,
    date: NaiveDate,
) -> Result<Vec<ValidationResult>, WarehouseError> {
    warehouse
        .query_as(&format!(
            "SELECT * FROM {} WHERE game_date = {} ORDER BY check_name",
            ValidationResult::DEF.qualified(),
            date_literal(date)
        ))
        .await
}

/// Whether any check failed.
pub fn failed(results: &[ValidationResult]) -> Vec<&ValidationResult> {
    results.iter().filter(|r| r.status == "fail").collect()
}
