//! `propcast train`: trains the `gbdt_v1` model on the feature store rows of
//! a window (with the points each player scored) and writes the model file.

use crate::summary::group_thousands;
use chrono::NaiveDate;
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use propcast_platform::Warehouse;
use propcast_prediction_worker::gbdt::TrainingWindow;
use propcast_prediction_worker::{TrainedModel, load_training_rows, train_model, training_pairs};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Where `propcast train` writes the model unless told otherwise.
pub fn default_model_path(data_dir: &Path) -> PathBuf {
    data_dir.join("models").join("gbdt_v1.json")
}

/// Reads the training rows of the window and trains a model on them. Fails
/// when the window has no row, saying to run the backfill.
pub async fn train_window(
    warehouse: &dyn Warehouse,
    window: TrainingWindow,
) -> anyhow::Result<TrainedModel> {
    let rows = load_training_rows(warehouse, window).await?;
    if rows.is_empty() {
        anyhow::bail!(
            "nba_precompute.ml_feature_store has no rows of players who played between {} and {}: \
             run `propcast backfill --landing DIR --from {} --to {}` first (it builds the feature store)",
            window.from,
            window.to,
            window.from,
            window.to
        );
    }
    tracing::info!(rows = rows.len(), from = %window.from, to = %window.to, "training gbdt model");
    Ok(train_model(&training_pairs(&rows), window)?)
}

/// `propcast train`.
pub async fn run(
    warehouse: &dyn Warehouse,
    from: NaiveDate,
    to: NaiveDate,
    path: PathBuf,
) -> anyhow::Result<()> {
    if from > to {
        anyhow::bail!("--from {from} is after --to {to}");
    }
    let started = Instant::now();
    let model = train_window(warehouse, TrainingWindow { from, to }).await?;
    model.save(&path)?;
    let meta = model.metadata();
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED);
    table.set_header(vec!["gbdt_v1 model", ""]);
    table.add_row(vec!["training window".to_string(), meta.window.to_string()]);
    table.add_row(vec![
        "training rows".to_string(),
        group_thousands(meta.training_rows as u64),
    ]);
    table.add_row(vec!["trees".to_string(), meta.trees.to_string()]);
    table.add_row(vec![
        "in-sample MAE".to_string(),
        format!("{:.2} pts", meta.in_sample_mae),
    ]);
    table.add_row(vec![
        "feature version".to_string(),
        meta.feature_version.clone(),
    ]);
    table.add_row(vec!["library".to_string(), meta.library.clone()]);
    table.add_row(vec![
        "booster sha256".to_string(),
        meta.booster_sha256.clone(),
    ]);
    table.add_row(vec!["model file".to_string(), path.display().to_string()]);
    println!(
        "propcast train: gbdt_v1 on {}  ({:.1} s)",
        meta.window,
        started.elapsed().as_secs_f64()
    );
    println!("{table}");
    Ok(())
}
