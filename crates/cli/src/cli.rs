//! Command-line interface: `backfill`, `run`, `query`, `train`, `evaluate`.

use crate::backfill::{
    CHECKPOINTS, OnInvalid, RunOptions, TrainPlan, checkpoint_id, discover_dates, run_dates_with,
};
use crate::pipeline::{Backends, Pipeline};
use crate::query::{Format, render};
use crate::train::default_model_path;
use anyhow::Context;
use chrono::NaiveDate;
use clap::{Parser, Subcommand};
use propcast_patterns::RunMode;
use propcast_platform::Warehouse;
use propcast_prediction_worker::TrainedModel;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// propcast — scraped NBA payloads in, graded player-prop predictions out.
///
/// Everything runs embedded by default: a DuckDB warehouse and a SQLite state
/// file in --data-dir, payloads read from a local landing-zone folder.
#[derive(Debug, Parser)]
#[command(name = "propcast", version, propagate_version = true)]
pub struct Cli {
    /// More logging on stderr (-v warnings such as each quarantined record,
    /// -vv info, -vvv debug). RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Rebuild every table for a range of dates: all phases, date by date, in order.
    ///
    /// Visits every date with a payload folder or a scheduled game in the
    /// landing zone (default: its whole range), prints a summary, and
    /// optionally writes it as JSON. Re-running is safe: each date's rows are
    /// replaced, never duplicated.
    Backfill {
        /// Landing-zone folder (holds nba-com/ and odds-api/).
        #[arg(long, env = "PROPCAST_LANDING")]
        landing: PathBuf,
        /// First date (YYYY-MM-DD); default: the first date in the landing zone.
        #[arg(long)]
        from: Option<NaiveDate>,
        /// Last date (YYYY-MM-DD); default: the last date with a payload.
        #[arg(long)]
        to: Option<NaiveDate>,
        #[command(flatten)]
        data: DataDir,
        /// Also write the summary as JSON to this file.
        #[arg(long)]
        summary_json: Option<PathBuf>,
        /// Do not draw a progress bar (it is hidden anyway when stderr is not a terminal).
        #[arg(long)]
        no_progress: bool,
        #[command(flatten)]
        model: ModelArgs,
        /// Train gbdt_v1 once every date up to this one is processed (on the
        /// feature store from the backfill's first date to it), save it at
        /// --model (default <data-dir>/models/gbdt_v1.json) and predict the
        /// later dates with it. Example: --train-through 2025-06-30 trains on
        /// 2024-25 and predicts 2025-26.
        #[arg(long)]
        train_through: Option<NaiveDate>,
        /// Ignore a checkpoint left by an interrupted backfill of the same
        /// range and start from its first date.
        #[arg(long)]
        restart: bool,
        /// What to do with a date that fails validation (execution, dependency
        /// order, volume, quality): record it and go on, or stop there.
        #[arg(long, value_enum, default_value_t = OnInvalid::Skip)]
        on_invalid: OnInvalid,
    },
    /// Run one date as the daily pipeline does: load its payloads, summarise,
    /// precompute, predict, and grade what has finished.
    Run {
        /// The game date (YYYY-MM-DD, US Eastern).
        #[arg(long)]
        date: NaiveDate,
        /// Landing-zone folder (holds nba-com/ and odds-api/).
        #[arg(long, env = "PROPCAST_LANDING")]
        landing: PathBuf,
        #[command(flatten)]
        data: DataDir,
        /// Also write the summary as JSON to this file.
        #[arg(long)]
        summary_json: Option<PathBuf>,
        #[command(flatten)]
        model: ModelArgs,
        /// Run as if today (US Eastern) were this date: it decides the mode
        /// (an earlier date is overnight, the same date same_day, a later one
        /// tomorrow) and the early exit for dates over 90 days old. Default:
        /// the real today. Example: `--date 2025-03-15 --as-of 2025-03-16`
        /// replays the overnight run of that morning.
        #[arg(long)]
        as_of: Option<NaiveDate>,
        /// Recompute the whole date instead of only what changed since the
        /// date's previous run.
        #[arg(long)]
        full: bool,
    },
    /// Import a shot-chart file into nba_raw.shot_zones (bulk import).
    ///
    /// Reads NBA.com shot data as a CSV (gzip or plain): either one row per
    /// game × player × BASIC_ZONE (`shot_zones_player_game_*.csv.gz`) or
    /// one row per shot (`shotchartdetail` columns, `shots_*.csv.gz`),
    /// aggregated. Each game date's partition is replaced, so importing
    /// twice is safe. Bad lines are quarantined in nba_processing.quarantine
    /// (processor `shot_zones_import`) and the rest loads. Real shot data
    /// covers 2022-23 and 2023-24 only; later seasons' zone features stay
    /// NULL.
    ImportShots {
        /// The CSV file(s).
        #[arg(long = "file", required = true)]
        files: Vec<PathBuf>,
        #[command(flatten)]
        data: DataDir,
    },
    /// Train the gbdt_v1 model on the feature store rows of a window.
    ///
    /// Each row is a player's nba_precompute.ml_feature_store vector for a
    /// date with the points he scored that day (players who did not play are
    /// left out). Training is reproducible: the same rows give the same model
    /// file, byte for byte. Prints the rows, in-sample MAE and the model's
    /// sha256.
    Train {
        /// First date of the training rows (YYYY-MM-DD).
        #[arg(long)]
        from: NaiveDate,
        /// Last date of the training rows (YYYY-MM-DD), inclusive.
        #[arg(long)]
        to: NaiveDate,
        #[command(flatten)]
        data: DataDir,
        /// Where to write the model [default: <data-dir>/models/gbdt_v1.json].
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Out-of-sample accuracy of every system on real lines, beside a fresh
    /// gbdt_v1 model and two baselines.
    ///
    /// Trains gbdt_v1 on the feature store from its first date to --train-to,
    /// then grades, for every date from --from to --to: each system's stored
    /// predictions, that model on the dates' feature vectors, and the season
    /// and last-5 averages of the daily cache, all on the same outcomes and
    /// the same real sportsbook lines. Prints MAE, bias and hit rate at
    /// edge >= 1, 2, 3; optionally writes a markdown report section and an
    /// SVG calibration plot.
    Evaluate {
        /// Last date of the model's training rows (YYYY-MM-DD); --from must be later.
        #[arg(long)]
        train_to: NaiveDate,
        /// First evaluated date (YYYY-MM-DD).
        #[arg(long)]
        from: NaiveDate,
        /// Last evaluated date (YYYY-MM-DD), inclusive.
        #[arg(long)]
        to: NaiveDate,
        #[command(flatten)]
        data: DataDir,
        /// Markdown file to write the table into: replaces the section between
        /// `<!-- evaluate:begin -->` and `<!-- evaluate:end -->`, else appends.
        #[arg(long)]
        report: Option<PathBuf>,
        /// SVG file for the calibration plot (observed OVER rate by edge bucket).
        #[arg(long)]
        plot: Option<PathBuf>,
    },
    /// Show the validation of a date (execution, dependency order, volume,
    /// quality), as the last backfill or run recorded it.
    Validate {
        /// The game date (YYYY-MM-DD).
        #[arg(long)]
        date: NaiveDate,
        #[command(flatten)]
        data: DataDir,
    },
    /// Run read-only SQL on the local warehouse. Tables are `dataset.table`
    /// (e.g. nba_analytics.player_game_summary); information_schema lists them.
    Query {
        /// The SQL, e.g. "SELECT * FROM information_schema.tables".
        sql: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        #[command(flatten)]
        data: DataDir,
    },
}

/// Which trained gbdt_v1 model predicts.
#[derive(Debug, clap::Args)]
pub struct ModelArgs {
    /// The gbdt_v1 model file [default: <data-dir>/models/gbdt_v1.json, used
    /// when it exists]. A file given here must load: a missing, corrupt or
    /// other-version model is an error, never a silent fallback. A model
    /// predicts only dates after its training window.
    #[arg(long)]
    pub model: Option<PathBuf>,
}

impl ModelArgs {
    /// The model to predict with: the one named (must load), else the
    /// default file when present (must load too), else none.
    pub fn load(&self, data_dir: &Path) -> anyhow::Result<Option<Arc<TrainedModel>>> {
        let path = match &self.model {
            Some(path) => path.clone(),
            None => {
                let path = default_model_path(data_dir);
                if !path.exists() {
                    return Ok(None);
                }
                path
            }
        };
        Ok(Some(Arc::new(TrainedModel::load(&path)?)))
    }

    /// Where a model trained by this run is saved.
    pub fn save_path(&self, data_dir: &Path) -> PathBuf {
        self.model
            .clone()
            .unwrap_or_else(|| default_model_path(data_dir))
    }
}

#[derive(Debug, clap::Args)]
pub struct DataDir {
    /// Where the warehouse (warehouse.duckdb) and state (state.sqlite) live.
    #[arg(long, env = "PROPCAST_DATA_DIR", default_value = "propcast-data")]
    pub data_dir: PathBuf,
}

pub fn init_tracing(verbose: u8) {
    let default = match verbose {
        0 => "error",
        1 => "warn",
        2 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

pub async fn execute(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Backfill {
            landing,
            from,
            to,
            data,
            summary_json,
            no_progress,
            model,
            train_through,
            restart,
            on_invalid,
        } => {
            let backends = Backends::embedded(&data.data_dir, &landing)?;
            let plan = train_through.map(|through| TrainPlan {
                through,
                path: model.save_path(&data.data_dir),
            });
            // A model about to be retrained is not loaded: the dates up to
            // --train-through run without gbdt_v1, like a fresh machine.
            let loaded = match plan {
                Some(_) => None,
                None => model.load(&data.data_dir)?,
            };
            let pipeline = Pipeline::with_model(backends, loaded);
            let dates = discover_dates(pipeline.backends().landing.as_ref(), from, to).await?;
            if dates.is_empty() {
                anyhow::bail!("no dates with games or payloads between the given bounds");
            }
            let show = !no_progress && std::io::stderr().is_terminal();
            if restart {
                let id = checkpoint_id(dates[0], dates[dates.len() - 1]);
                pipeline.backends().state.delete(CHECKPOINTS, &id).await?;
            }
            let options = RunOptions {
                train: plan,
                checkpoint: true,
                on_invalid,
                full: true,
            };
            let summary = run_dates_with(
                &pipeline,
                &dates,
                RunMode::Backfill,
                "backfill",
                &data.data_dir.display().to_string(),
                show,
                &options,
            )
            .await?;
            finish(&summary, summary_json.as_deref())
        }
        Command::Run {
            date,
            landing,
            data,
            summary_json,
            model,
            as_of,
            full,
        } => {
            let backends = Backends::embedded(&data.data_dir, &landing)?;
            let pipeline = Pipeline::with_model(backends, model.load(&data.data_dir)?).as_of(as_of);
            let options = RunOptions {
                full,
                ..RunOptions::default()
            };
            let summary = run_dates_with(
                &pipeline,
                &[date],
                RunMode::Daily,
                "run",
                &data.data_dir.display().to_string(),
                false,
                &options,
            )
            .await?;
            finish(&summary, summary_json.as_deref())
        }
        Command::Validate { date, data } => {
            let warehouse = crate::train::open_warehouse(&data.data_dir)?;
            let results = crate::validate::stored(&warehouse, date).await?;
            if results.is_empty() {
                anyhow::bail!(
                    "no validation recorded for {date} in {}: run `propcast backfill` or `propcast run --date {date}` first",
                    data.data_dir.display()
                );
            }
            let mut table = comfy_table::Table::new();
            table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
            table.set_header(vec!["check", "status", "detail", "validated at"]);
            for r in &results {
                table.add_row(vec![
                    r.check_name.clone(),
                    r.status.clone(),
                    r.detail.clone(),
                    r.validated_at.to_rfc3339(),
                ]);
            }
            println!("propcast validate: {date}");
            println!("{table}");
            let failed = crate::validate::failed(&results);
            if !failed.is_empty() {
                anyhow::bail!("{} check(s) failed for {date}", failed.len());
            }
            Ok(())
        }
        Command::ImportShots { files, data } => {
            crate::import::import_shots(&data.data_dir, &files).await
        }
        Command::Train {
            from,
            to,
            data,
            out,
        } => crate::train::run(&data.data_dir, from, to, out).await,
        Command::Evaluate {
            train_to,
            from,
            to,
            data,
            report,
            plot,
        } => {
            crate::evaluate::run(crate::evaluate::EvaluateArgs {
                data_dir: data.data_dir,
                train_to,
                from,
                to,
                report,
                plot,
            })
            .await
        }
        Command::Query { sql, format, data } => {
            let warehouse = crate::train::open_warehouse(&data.data_dir)?;
            let records = warehouse.query(&sql).await?;
            print!("{}", render(&records, format)?);
            Ok(())
        }
    }
}

fn finish(summary: &crate::summary::Summary, json: Option<&Path>) -> anyhow::Result<()> {
    print!("{}", summary.render());
    if let Some(path) = json {
        std::fs::write(path, serde_json::to_string_pretty(summary)? + "\n")
            .with_context(|| format!("writing the summary to {}", path.display()))?;
    }
    if let Some(date) = summary.stopped_at {
        anyhow::bail!("stopped at {date}: it failed validation (see above)");
    }
    if !summary.failed_runs.is_empty() {
        anyhow::bail!(
            "{} processor run(s) failed; see the summary above and nba_processing.processor_runs",
            summary.failed_runs.len()
        );
    }
    Ok(())
}
