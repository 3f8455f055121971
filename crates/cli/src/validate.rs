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
use propcast_platform::warehouse::{date_list, date_literal};
use propcast_platform::{Warehouse, WarehouseError, WarehouseExt};
use std::collections::{BTreeMap, HashMap};

/// The row counts the volume check compares, by name and table.
const VOLUME: [(&str, &str); 6] = [
    ("boxscores", "nba_raw.player_boxscores"),
    ("summaries", "nba_analytics.player_game_summary"),
    ("contexts", "nba_analytics.upcoming_player_game_context"),
    ("factors", "nba_precompute.player_composite_factors"),
    ("cache", "nba_precompute.player_daily_cache"),
    ("features", "nba_precompute.ml_feature_store"),
];

/// The values the quality check counts outside their range: name, what a
/// person reads, table, condition.
const QUALITY: [(&str, &str, &str, &str); 5] = [
    (
        "fatigue",
        "fatigue outside 0–100",
        "nba_precompute.player_composite_factors",
        "fatigue_score < 0 OR fatigue_score > 100",
    ),
    (
        "points",
        "predicted points outside 0–60",
        "nba_predictions.player_prop_predictions",
        "predicted_points < 0 OR predicted_points > 60",
    ),
    (
        "confidence",
        "confidence outside 0–1",
        "nba_predictions.player_prop_predictions",
        "confidence < 0 OR confidence > 1",
    ),
    (
        "feature_quality",
        "feature quality outside 0–100",
        "nba_precompute.ml_feature_store",
        "feature_quality_score < 0 OR feature_quality_score > 100",
    ),
    (
        "missing_line",
        "real-line predictions without a line",
        "nba_predictions.player_prop_predictions",
        "line_source = 'ACTUAL_PROP' AND line_value IS NULL",
    ),
];

/// Every count of [`VOLUME`] and [`QUALITY`] for every date of `dates`, in
/// one query (portable SQL: a grouped count per table, `UNION ALL`).
fn counts_sql(dates: &[NaiveDate]) -> String {
    let list = date_list(dates);
    let volume = VOLUME.iter().map(|(name, table)| (*name, *table, "TRUE"));
    let quality = QUALITY
        .iter()
        .map(|(name, _, table, condition)| (*name, *table, *condition));
    volume
        .chain(quality)
        .map(|(name, table, condition)| {
            format!(
                "SELECT '{name}' AS count_name, game_date, COUNT(*) AS n FROM {table} \
                 WHERE game_date IN {list} AND ({condition}) GROUP BY game_date"
            )
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ")
}

#[derive(serde::Deserialize)]
struct Count {
    count_name: String,
    game_date: NaiveDate,
    n: i64,
}

/// The checks of every date of `outcomes`, from the outcomes and what the
/// warehouse holds, by date. The counts of all the dates come from one
/// query, so a range costs what a date costs.
pub async fn validate_dates(
    warehouse: &dyn Warehouse,
    outcomes: &[DateOutcome],
    execution_id: &str,
    now: DateTime<Utc>,
) -> Result<BTreeMap<NaiveDate, Vec<ValidationResult>>, WarehouseError> {
    let dates: Vec<NaiveDate> = outcomes.iter().map(|o| o.date).collect();
    let mut counts: HashMap<(NaiveDate, String), i64> = HashMap::new();
    if !dates.is_empty() {
        for c in warehouse.query_as::<Count>(&counts_sql(&dates)).await? {
            counts.insert((c.game_date, c.count_name), c.n);
        }
    }
    Ok(outcomes
        .iter()
        .map(|outcome| {
            let n = |name: &str| {
                counts
                    .get(&(outcome.date, name.to_string()))
                    .copied()
                    .unwrap_or(0)
            };
            (outcome.date, checks(outcome, n, execution_id, now))
        })
        .collect())
}

/// The checks of one date, given its outcome and its counts by name.
fn checks(
    outcome: &DateOutcome,
    n: impl Fn(&str) -> i64,
    execution_id: &str,
    now: DateTime<Utc>,
) -> Vec<ValidationResult> {
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

    let [boxscores, summaries, contexts, factors, cache, features] =
        VOLUME.map(|(name, _)| n(name));
    results.push(result(
        "volume",
        boxscores == summaries && contexts == factors && contexts == cache && contexts == features,
        format!(
            "box scores {boxscores} → summaries {summaries}; contexts {contexts}, factors {factors}, daily cache {cache}, features {features}"
        ),
    ));

    let found: Vec<String> = QUALITY
        .iter()
        .map(|(name, what, _, _)| (n(name), what))
        .filter(|(count, _)| *count > 0)
        .map(|(count, what)| format!("{count} {what}"))
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
    results
}

/// Replaces the validation results of `dates` (one write for them all).
pub async fn record(
    warehouse: &dyn Warehouse,
    dates: &[NaiveDate],
    results: &[ValidationResult],
) -> Result<(), WarehouseError> {
    warehouse.replace_date_rows(dates, results).await?;
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
