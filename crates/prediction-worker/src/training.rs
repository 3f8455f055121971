//! Training rows of the `gbdt_v1` model, read from the warehouse.
//!
//! A training row is one `nba_precompute.ml_feature_store` vector of a date
//! in the window, with the points the player scored that day from
//! `nba_analytics.player_game_summary`, joined on (game_date,
//! player_lookup). A player without a box score row, or whose row means he
//! did not play (the grading rule: `is_dnp`, or no minutes and no points),
//! is not a training row. Rows come ordered by date and player, so the same
//! warehouse gives the same rows in the same order, and the same model.
//!
//! Point in time: every vector only holds what was known before its game,
//! so a model trained on the rows of [from, to] has seen nothing of any date
//! after `to`.

use crate::gbdt::{ModelError, TrainingWindow};
use chrono::NaiveDate;
use propcast_core::Table;
use propcast_core::features::FeatureVector;
use propcast_core::tables::{MlFeatureStore, PlayerGameSummary};
use propcast_platform::warehouse::{date_literal, string_literal};
use propcast_platform::{Warehouse, WarehouseExt};
use serde::Deserialize;

/// One training row: a vector and the points scored.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainingRow {
    pub game_date: NaiveDate,
    pub player_lookup: String,
    pub features: FeatureVector,
    pub actual_points: f64,
}

#[derive(Debug, Deserialize)]
struct JoinedRow {
    #[serde(flatten)]
    store: MlFeatureStore,
    actual_points: i64,
}

/// SQL condition: the summary row `alias` means the player played (the
/// negation of the grading rule in [`crate::grading`]).
pub(crate) fn played(alias: &str) -> String {
    format!("NOT ({alias}.is_dnp OR ({alias}.minutes <= 0 AND {alias}.points = 0))")
}

/// Fails with [`ModelError::MissingTable`] when the table was never built.
pub async fn require_table<W: Warehouse + ?Sized>(
    warehouse: &W,
    def: &propcast_core::TableDef,
) -> Result<(), ModelError> {
    let sql = format!(
        "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = {} AND table_name = {}",
        string_literal(def.dataset),
        string_literal(def.name)
    );
    let rows = warehouse.query(&sql).await?;
    let n = rows
        .first()
        .and_then(|r| r.get("n"))
        .and_then(|v| v.as_i64())
        .unwrap_or(0);
    if n == 0 {
        return Err(ModelError::MissingTable {
            table: format!("{}.{}", def.dataset, def.name),
        });
    }
    Ok(())
}

/// The first and last dates of the feature store (`None` when empty).
pub async fn feature_store_dates<W: Warehouse + ?Sized>(
    warehouse: &W,
) -> Result<Option<TrainingWindow>, ModelError> {
    require_table(warehouse, &MlFeatureStore::DEF).await?;
    #[derive(Deserialize)]
    struct Bounds {
        first: Option<NaiveDate>,
        last: Option<NaiveDate>,
    }
    let bounds: Vec<Bounds> = warehouse
        .query_as(
            "SELECT MIN(game_date) AS first, MAX(game_date) AS last FROM nba_precompute.ml_feature_store",
        )
        .await?;
    Ok(bounds.first().and_then(|b| match (b.first, b.last) {
        (Some(from), Some(to)) => Some(TrainingWindow { from, to }),
        _ => None,
    }))
}

/// The training rows of [`window.from`, `window.to`], by date and player.
/// A vector that does not parse, or is of another feature version, is an
/// error naming the row: the feature store must be rebuilt, not skipped.
pub async fn load_training_rows<W: Warehouse + ?Sized>(
    warehouse: &W,
    window: TrainingWindow,
) -> Result<Vec<TrainingRow>, ModelError> {
    require_table(warehouse, &MlFeatureStore::DEF).await?;
    require_table(warehouse, &PlayerGameSummary::DEF).await?;
    let sql = format!(
        "SELECT f.*, s.points AS actual_points \
         FROM nba_precompute.ml_feature_store f \
         JOIN nba_analytics.player_game_summary s \
           ON s.game_date = f.game_date AND s.player_lookup = f.player_lookup \
         WHERE f.game_date BETWEEN {from} AND {to} AND {played} \
         ORDER BY f.game_date, f.player_lookup",
        from = date_literal(window.from),
        to = date_literal(window.to),
        played = played("s"),
    );
    let joined: Vec<JoinedRow> = warehouse.query_as(&sql).await?;
    joined
        .into_iter()
        .map(|row| {
            let features = feature_vector(&row.store)?;
            Ok(TrainingRow {
                game_date: row.store.game_date,
                player_lookup: row.store.player_lookup,
                features,
                actual_points: row.actual_points as f64,
            })
        })
        .collect()
}

/// The vector of a feature-store row; one that does not parse is an error
/// naming the row, to be rebuilt, never skipped.
pub fn feature_vector(store: &MlFeatureStore) -> Result<FeatureVector, ModelError> {
    FeatureVector::from_row(store).map_err(|e| ModelError::BadRow {
        table: "nba_precompute.ml_feature_store".into(),
        game_date: store.game_date,
        player_lookup: store.player_lookup.clone(),
        message: format!("{e}; rebuild it with `propcast backfill`"),
    })
}

/// The `(vector, points)` pairs [`crate::gbdt::train_model`] takes.
pub fn training_pairs(rows: &[TrainingRow]) -> Vec<(FeatureVector, f64)> {
    rows.iter()
        .map(|r| (r.features.clone(), r.actual_points))
        .collect()
}
