//! Command-line interface: `scrape`, `backfill`, `run`, `query`, `train`,
//! `evaluate`, the imports.

use crate::backfill::{
    CHECKPOINTS, DEFAULT_CHUNK_DAYS, OnInvalid, RunOptions, TrainPlan, checkpoint_id,
    discover_dates, run_dates_with,
};
use crate::pipeline::{Backends, Pipeline};
use crate::query::{Format, render};
use crate::train::default_model_path;
use anyhow::Context;
use chrono::NaiveDate;
use clap::{Parser, Subcommand};
use propcast_patterns::RunMode;
use propcast_platform::Coordination;
use propcast_platform::backends::open_warehouse;
use propcast_platform::{Config, ConfigError, Layers, Settings};
use propcast_prediction_worker::TrainedModel;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// propcast — scraped NBA payloads in, graded player-prop predictions out.
///
/// Everything runs embedded by default: a DuckDB warehouse and a SQLite state
/// file in --data-dir, payloads read from a local landing-zone folder. The
/// same commands run on BigQuery, Firestore and Pub/Sub by configuration
/// alone: --warehouse, --state, --bus, --landing URIs, the PROPCAST_*
/// environment or propcast.toml (`propcast config` shows what is in effect).
#[derive(Debug, Parser)]
#[command(name = "propcast", version, propagate_version = true)]
pub struct Cli {
    /// More logging on stderr (-v warnings such as each quarantined record,
    /// -vv info, -vvv debug). RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// Send traces to this OpenTelemetry collector over OTLP/gRPC
    /// (`http://HOST:4317`) [env OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or
    /// OTEL_EXPORTER_OTLP_ENDPOINT]; without one no trace is recorded.
    #[arg(long, global = true, value_name = "URL")]
    pub otlp_endpoint: Option<String>,

    #[command(flatten)]
    pub backends: BackendArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// How `propcast status` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StatusFormat {
    Table,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Rebuild every table for a range of dates: all phases, in date order.
    ///
    /// Visits every date with a payload folder or a scheduled game in the
    /// landing zone (default: its whole range), in ranges of --chunk-days
    /// dates (each phase runs once per range; the checkpoint is the range),
    /// prints a summary, and optionally writes it as JSON. Re-running is
    /// safe: each date's rows are replaced, never duplicated.
    Backfill {
        /// Landing zone: a folder holding nba-com/ and odds-api/, file://DIR
        /// or gs://BUCKET[/PREFIX] [env PROPCAST_LANDING].
        #[arg(long)]
        landing: Option<String>,
        /// First date (YYYY-MM-DD); default: the first date in the landing zone.
        #[arg(long)]
        from: Option<NaiveDate>,
        /// Last date (YYYY-MM-DD); default: the last date with a payload.
        #[arg(long)]
        to: Option<NaiveDate>,
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
        /// Run date by date (every phase of a date before the next date), the
        /// path a daily run takes, instead of by range (each phase once for
        /// up to --chunk-days dates). Both end with the same tables; this
        /// one is slower and kept to compare.
        #[arg(long)]
        by_date: bool,
        /// Dates per range (and per checkpoint) when running by range.
        #[arg(long, default_value_t = DEFAULT_CHUNK_DAYS)]
        chunk_days: usize,
    },
    /// Run one date as the daily pipeline does: load its payloads, summarise,
    /// precompute, predict, and grade what has finished.
    Run {
        /// The game date (YYYY-MM-DD, US Eastern).
        #[arg(long)]
        date: NaiveDate,
        /// Landing zone: a folder holding nba-com/ and odds-api/, file://DIR
        /// or gs://BUCKET[/PREFIX] [env PROPCAST_LANDING].
        #[arg(long)]
        landing: Option<String>,
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
    },
    /// Import historical sportsbook player lines from CSV.
    ///
    /// Reads The Odds API historical props as CSV (gzip or plain), either
    /// one row per event snapshot (`player_name, event_id, event_date,
    /// home_team, away_team, bookmaker, line, timestamp, over_price,
    /// under_price`: give its market with --market) or flat
    /// (`player, game, game_time, market, line, bookmaker,
    /// bookmaker_last_update, over_odds, under_odds, game_date_et`), into
    /// nba_raw.player_props_imported. Tip-off times come from the schedule
    /// (backfill the season first); names resolve to NBA ids like the
    /// landing zone's props. Used by `market_v1` in `propcast evaluate` as
    /// market history before the points lines begin. A line whose snapshot
    /// time is unknown is quarantined, never guessed. Importing a file twice
    /// replaces its rows.
    ImportProps {
        /// The CSV file(s).
        #[arg(long = "file", required = true)]
        files: Vec<PathBuf>,
        /// The market of files without a market column, e.g.
        /// player_points_rebounds_assists.
        #[arg(long)]
        market: Option<String>,
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
    },
    /// List the dead letters: bus messages that could never be handled
    /// (unreadable, naming the field at fault), kept in the state store.
    DeadLetters {
        /// Only those of this subscription (e.g. phase3-trigger-runner).
        #[arg(long)]
        subscription: Option<String>,
        /// Print the payload of this one (`SUBSCRIPTION:MESSAGE_ID`), decoded
        /// from base64, to stdout.
        #[arg(long, value_name = "ID")]
        payload: Option<String>,
    },
    /// Print the effective configuration and where each value came from
    /// (default, propcast.toml, PROPCAST_* environment, flag).
    Config {
        /// Landing zone to show as the commands that read payloads would.
        #[arg(long)]
        landing: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ConfigFormat::Text)]
        format: ConfigFormat,
        /// Also open every configured backend and report whether it answers.
        #[arg(long)]
        check: bool,
    },
    /// Show the pipeline's state: for each of the last dates, what every
    /// phase's processors last did (ok, partial, no data, skipped, FAILED)
    /// and how many records were quarantined; each failure with its
    /// processor and reason and the command that reruns it; the circuit
    /// breakers that are open or half-open. Reads run history and the
    /// state store on the configured backends.
    Status {
        /// The last date to show (default: the last date in run history).
        #[arg(long)]
        date: Option<NaiveDate>,
        /// How many dates, ending on --date.
        #[arg(long, default_value_t = 7)]
        days: u32,
        /// Output format: a table for people, JSON for scripts.
        #[arg(long, value_enum, default_value_t = StatusFormat::Table)]
        format: StatusFormat,
    },
    /// Check the service-level objectives on run history, per phase and
    /// mode: predictions ready by --ready-by ET on ≥ 99 % of game dates
    /// (daily modes only: a backfill rebuilds history and serves no day),
    /// each phase's duration p95 (≤ 10 min for phases 2 and 3, 15 min for
    /// 4, 30 min for 5), ≤ 1 % of records quarantined, ≥ 99 % of runs not
    /// failed. Names what breached each objective.
    Slo {
        /// The last date to measure (default: the last date in run history).
        #[arg(long)]
        date: Option<NaiveDate>,
        /// How many dates, ending on --date.
        #[arg(long, default_value_t = 28)]
        days: u32,
        /// The US Eastern time by which a game date's predictions must be
        /// ready (HH:MM).
        #[arg(long, env = "PROPCAST_SLO_READY_BY", default_value = "11:00", value_parser = parse_hh_mm)]
        ready_by: chrono::NaiveTime,
        /// Output format: a table for people, JSON for scripts.
        #[arg(long, value_enum, default_value_t = StatusFormat::Table)]
        format: StatusFormat,
        /// Exit with status 1 when an objective is breached (for a
        /// scheduler or a CI job).
        #[arg(long)]
        check: bool,
    },
    /// Run read-only SQL on the configured warehouse (DuckDB or BigQuery).
    /// Tables are `dataset.table` (e.g. nba_analytics.player_game_summary);
    /// `propcast tables` lists them on either engine.
    Query {
        /// The SQL, e.g. "SELECT COUNT(*) FROM nba_raw.player_boxscores".
        sql: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Run one deployable unit of the pipeline as an HTTP service that
    /// Pub/Sub pushes to (`POST /pubsub/push`), with `/livez` and `/readyz`,
    /// JSON logs on stderr, and a graceful stop on SIGTERM.
    ///
    /// Roles: raw (phase 2, on landing-events), orchestrator (on
    /// processor-completions; fires the transitions and sweeps the tiered
    /// timeouts), analytics (phase3-trigger), precompute (phase4-trigger),
    /// coordinator (phase5-trigger; then predictions-ready), grading (on
    /// predictions-ready). Push requests must carry a Google-signed OIDC
    /// token for the configured audience and service account. And
    /// dashboard: read-only web pages of run history, breakers and accuracy
    /// against the line over the configured warehouse and state store (no
    /// push, no landing zone). And scraper: phase 1 on `POST /scrape` with
    /// `{"date": "YYYY-MM-DD", "sources": [...]}` (both optional; Cloud
    /// Scheduler calls it with an OIDC token checked like a push's), then
    /// the date's landing event.
    Serve {
        /// Which unit to run.
        #[arg(value_enum)]
        role: crate::serve::Role,
        /// Port on 0.0.0.0 [env PORT, as Cloud Run sets it; default 8080].
        #[arg(long, env = "PORT", default_value_t = 8080)]
        port: u16,
        /// The audience push tokens are minted for (usually the push
        /// endpoint's URL).
        #[arg(long, env = "PROPCAST_PUSH_AUDIENCE")]
        push_audience: Option<String>,
        /// The push subscription's service account; tokens must carry it
        /// as a verified email.
        #[arg(long, env = "PROPCAST_PUSH_SERVICE_ACCOUNT")]
        push_service_account: Option<String>,
        /// Where the token signing keys are: a JWKS URL or file.
        #[arg(long, env = "PROPCAST_PUSH_JWKS", default_value = propcast_service::oidc::GOOGLE_JWKS_URL)]
        push_jwks: String,
        /// Accept push requests without a token. Only for a local run that
        /// nothing else can reach.
        #[arg(long)]
        no_push_auth: bool,
        /// Landing zone (raw role) [env PROPCAST_LANDING].
        #[arg(long)]
        landing: Option<String>,
        /// Seconds between sweeps of the 4→5 tiered timeouts (orchestrator).
        #[arg(long, default_value_t = 60)]
        sweep_every: u64,
        /// The coordinator's gRPC workers, `http://HOST:PORT`, comma-separated
        /// [env PROPCAST_WORKERS]; without them it predicts in process.
        #[arg(long, env = "PROPCAST_WORKERS", value_delimiter = ',')]
        workers: Vec<String>,
        /// Deadline of one batch call to a worker, in seconds; a batch not
        /// answered by then goes to the next worker.
        #[arg(long, default_value_t = 60)]
        worker_deadline: u64,
        #[command(flatten)]
        model: ModelArgs,
        /// The scraper role's sources, hosts and timeouts (a request's
        /// body may name its own sources).
        #[command(flatten)]
        scrape: crate::scrape::ScrapeArgs,
    },
    /// Phase 1 for one date: fetch every source (stats.nba.com box scores,
    /// scoreboard and per-game box scores, the CDN schedule, the official
    /// injury report, balldontlie injuries, The Odds API events and player
    /// props), check each payload's shape, and land it create-only in the
    /// landing zone; a payload that fails its check is kept under
    /// rejected/ with the reason, never landed. Each source's fetches are
    /// one nba_processing.processor_runs row (phase 1, scrape_<source>).
    /// Prints a summary and exits non-zero when a fetch failed or a
    /// payload was rejected. Keys: ODDS_API_KEY, BDL_API_KEY.
    Scrape {
        /// The game date (YYYY-MM-DD, US Eastern) [default: today ET].
        #[arg(long)]
        date: Option<NaiveDate>,
        /// Landing zone: a folder, file://DIR or gs://BUCKET[/PREFIX]
        /// [env PROPCAST_LANDING].
        #[arg(long)]
        landing: Option<String>,
        /// Then publish the date's landing event on landing-events, as
        /// `propcast landed` does, so phase 2 starts (only when something
        /// landed).
        #[arg(long)]
        publish: bool,
        #[command(flatten)]
        scrape: crate::scrape::ScrapeArgs,
    },
    /// Announce that a date's payloads have landed, as phase 1 does when
    /// its scrapers finish: publishes a LandingEvent on landing-events for
    /// the raw service.
    Landed {
        /// The date (YYYY-MM-DD).
        #[arg(long)]
        date: NaiveDate,
        /// Orchestrator mode: overnight, same_day, tomorrow or backfill.
        #[arg(long, default_value = "backfill")]
        mode: String,
        /// The invocation id every phase of the date carries [default: a
        /// new one].
        #[arg(long)]
        round: Option<String>,
    },
    /// Write the warehouse schema for a deployment, generated from the
    /// table catalog: for BigQuery, one `DATASET.TABLE.json` per table and
    /// `create.sh` (bq mk: datasets, day-partitioned clustered tables).
    Schema {
        /// The warehouse to generate for.
        #[arg(value_enum)]
        target: SchemaTarget,
        /// Folder to write to.
        #[arg(long, default_value = "deploy/bigquery")]
        out: PathBuf,
        /// Compare the folder with what would be written instead, and fail
        /// naming each file that differs.
        #[arg(long)]
        check: bool,
    },
    /// List the warehouse's tables with their row counts (DuckDB or
    /// BigQuery alike).
    Tables {
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

/// Warehouses `propcast schema` generates for.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum SchemaTarget {
    Bigquery,
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

/// The backends, by URI (every command; see docs/OPERATIONS.md#configuration).
/// Each also comes from PROPCAST_<KEY> or propcast.toml; a flag wins.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct BackendArgs {
    /// Configuration file [default: ./propcast.toml when present] [env PROPCAST_CONFIG].
    #[arg(long, env = "PROPCAST_CONFIG", global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Local data directory: the embedded warehouse.duckdb and state.sqlite,
    /// and trained models [default: propcast-data] [env PROPCAST_DATA_DIR].
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Warehouse: duckdb://PATH or bigquery://PROJECT[/DATASET_PREFIX]
    /// [default: duckdb://<data-dir>/warehouse.duckdb] [env PROPCAST_WAREHOUSE].
    #[arg(long, global = true, value_name = "URI")]
    pub warehouse: Option<String>,
    /// State store: sqlite://PATH or firestore://PROJECT[/DATABASE]
    /// [default: sqlite://<data-dir>/state.sqlite] [env PROPCAST_STATE].
    #[arg(long, global = true, value_name = "URI")]
    pub state: Option<String>,
    /// Event bus: sqlite://PATH or pubsub://PROJECT
    /// [default: sqlite://<data-dir>/state.sqlite] [env PROPCAST_BUS].
    #[arg(long, global = true, value_name = "URI")]
    pub bus: Option<String>,
}

impl BackendArgs {
    /// The effective configuration: defaults < file < environment < these
    /// flags (and `landing`, the command's own flag).
    pub fn resolve(&self, landing: Option<&str>) -> Result<Config, ConfigError> {
        let layers = Layers {
            file: self.config.clone(),
            ..Layers::default()
        };
        let flags = Settings {
            data_dir: self.data_dir.as_ref().map(|p| p.display().to_string()),
            warehouse: self.warehouse.clone(),
            state: self.state.clone(),
            bus: self.bus.clone(),
            landing: landing.map(str::to_string),
        };
        Config::resolve(&layers, &flags)
    }
}

/// How `propcast config` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ConfigFormat {
    Text,
    Json,
}

/// Where a run's summary says it ran: the data directory on the embedded
/// default, else the backends.
fn location(config: &Config) -> String {
    if config.is_embedded() {
        config.data_dir.display().to_string()
    } else {
        format!("{} · {} · {}", config.warehouse, config.state, config.bus)
    }
}

/// `HH:MM` as a time of day.
fn parse_hh_mm(text: &str) -> Result<chrono::NaiveTime, String> {
    chrono::NaiveTime::parse_from_str(text, "%H:%M")
        .map_err(|e| format!("{text:?} is not a time HH:MM (e.g. 11:00): {e}"))
}

/// What `main` holds while the process runs: the trace exporter, when an
/// endpoint is configured. [`Telemetry::shutdown`] flushes it; call it
/// before the Tokio runtime is dropped.
#[derive(Debug, Default)]
pub struct Telemetry {
    exporter: Option<propcast_telemetry::otlp::Exporter>,
}

impl Telemetry {
    /// Exports the spans still queued and stops the exporter.
    pub fn shutdown(self) {
        if let Some(exporter) = self.exporter
            && let Err(e) = exporter.shutdown()
        {
            eprintln!("warning: traces not all exported: {e}");
        }
    }
}

/// The OTLP endpoint in effect: `--otlp-endpoint`, else the standard
/// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` / `OTEL_EXPORTER_OTLP_ENDPOINT`.
pub fn otlp_endpoint(cli: &Cli) -> Option<String> {
    cli.otlp_endpoint
        .clone()
        .filter(|e| !e.trim().is_empty())
        .or_else(propcast_telemetry::otlp::endpoint_from_env)
}

/// Starts logging on stderr and, when an OTLP endpoint is configured,
/// trace export (as service `propcast`, or `propcast-ROLE` for `serve`).
/// `serve` logs JSON lines, one object per event (what Cloud Logging reads
/// as structured logs), at info unless RUST_LOG says otherwise; the other
/// commands log text at the level of `-v`. The pipeline's spans
/// (`propcast_telemetry::TARGET`) go to the exporter only, never into the
/// logs, so without an exporter they are disabled where they are created.
/// Call it inside the Tokio runtime (the exporter's gRPC channel runs
/// there).
pub fn init_telemetry(cli: &Cli) -> anyhow::Result<Telemetry> {
    use tracing_subscriber::util::SubscriberInitExt as _;

    let (json, service) = match &cli.command {
        Command::Serve { role, .. } => (true, format!("propcast-{}", role.name())),
        _ => (false, "propcast".to_string()),
    };
    let exporter = otlp_endpoint(cli)
        .map(|endpoint| propcast_telemetry::otlp::Exporter::start(&endpoint, &service))
        .transpose()?;
    let default = match (json, cli.verbose) {
        (true, _) => "info",
        (false, 0) => "error",
        (false, 1) => "warn",
        (false, 2) => "info",
        (false, _) => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = subscriber(json, filter, exporter.as_ref()).try_init();
    Ok(Telemetry { exporter })
}

/// The process's subscriber: the logs on stderr (without the pipeline's
/// spans) and, with an exporter, the trace layer. Without one there is no
/// trace layer at all, not an empty one, so nothing is interested in the
/// pipeline's spans and they are disabled at their call sites.
fn subscriber(
    json: bool,
    filter: tracing_subscriber::EnvFilter,
    exporter: Option<&propcast_telemetry::otlp::Exporter>,
) -> tracing::Dispatch {
    use tracing_subscriber::layer::SubscriberExt as _;
    let registry = tracing_subscriber::registry();
    match exporter {
        Some(exporter) => {
            tracing::Dispatch::new(registry.with(exporter.layer()).with(logs(json, filter)))
        }
        None => tracing::Dispatch::new(registry.with(logs(json, filter))),
    }
}

/// The stderr log layer: JSON lines or text, filtered by `filter`, never
/// showing the pipeline's spans (`propcast_telemetry::TARGET`).
fn logs<S>(
    json: bool,
    filter: tracing_subscriber::EnvFilter,
) -> Box<dyn tracing_subscriber::Layer<S> + Send + Sync>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    logs_to(json, filter, std::io::stderr)
}

/// [`logs`] into any writer. The JSON form is the services' log format:
/// one object per event (Cloud Run hands each line to Cloud Logging as its
/// `jsonPayload`: `target`, `level`, the event's `fields`), which the
/// log-based metrics of `deploy/monitoring/` filter on.
fn logs_to<S, W>(
    json: bool,
    filter: tracing_subscriber::EnvFilter,
    writer: W,
) -> Box<dyn tracing_subscriber::Layer<S> + Send + Sync>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    W: for<'a> tracing_subscriber::fmt::MakeWriter<'a> + Send + Sync + 'static,
{
    use tracing_subscriber::Layer as _;
    use tracing_subscriber::filter::{FilterExt as _, filter_fn};
    let filter = filter.and(filter_fn(|meta| {
        !(meta.is_span() && meta.target() == propcast_telemetry::TARGET)
    }));
    let layer = tracing_subscriber::fmt::layer().with_writer(writer);
    if json {
        layer.json().with_filter(filter).boxed()
    } else {
        layer.with_filter(filter).boxed()
    }
}

/// A subscriber writing the services' JSON logs into `writer` (what
/// `serve` logs on stderr), for checking the log format.
pub fn json_logs<W>(filter: tracing_subscriber::EnvFilter, writer: W) -> tracing::Dispatch
where
    W: for<'a> tracing_subscriber::fmt::MakeWriter<'a> + Send + Sync + 'static,
{
    use tracing_subscriber::layer::SubscriberExt as _;
    tracing::Dispatch::new(tracing_subscriber::registry().with(logs_to(true, filter, writer)))
}

pub async fn execute(cli: Cli) -> anyhow::Result<()> {
    let args = cli.backends;
    match cli.command {
        Command::Backfill {
            landing,
            from,
            to,
            summary_json,
            no_progress,
            model,
            train_through,
            restart,
            on_invalid,
            by_date,
            chunk_days,
        } => {
            let config = args.resolve(landing.as_deref())?;
            let backends = Backends::open(&config).await?;
            let data_dir = &config.data_dir;
            let plan = train_through.map(|through| TrainPlan {
                through,
                path: model.save_path(data_dir),
            });
            // A model about to be retrained is not loaded: the dates up to
            // --train-through run without gbdt_v1, like a fresh machine.
            let loaded = match plan {
                Some(_) => None,
                None => model.load(data_dir)?,
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
                by_date,
                chunk_days,
            };
            let summary = run_dates_with(
                &pipeline,
                &dates,
                RunMode::Backfill,
                "backfill",
                &location(&config),
                show,
                &options,
            )
            .await;
            // Acks sent and leases handed back before the process exits,
            // whether the run succeeded or not.
            pipeline.backends().bus.close().await?;
            finish(&summary?, summary_json.as_deref())
        }
        Command::Run {
            date,
            landing,
            summary_json,
            model,
            as_of,
            full,
        } => {
            let config = args.resolve(landing.as_deref())?;
            let backends = Backends::open(&config).await?;
            let pipeline =
                Pipeline::with_model(backends, model.load(&config.data_dir)?).as_of(as_of);
            let options = RunOptions {
                full,
                ..RunOptions::default()
            };
            let summary = run_dates_with(
                &pipeline,
                &[date],
                RunMode::Daily,
                "run",
                &location(&config),
                false,
                &options,
            )
            .await;
            // Acks sent and leases handed back before the process exits,
            // whether the run succeeded or not.
            pipeline.backends().bus.close().await?;
            finish(&summary?, summary_json.as_deref())
        }
        Command::Validate { date } => {
            let config = args.resolve(None)?;
            let warehouse = open_warehouse(&config, true).await?;
            let results = crate::validate::stored(warehouse.as_ref(), date).await?;
            if results.is_empty() {
                anyhow::bail!(
                    "no validation recorded for {date} in {}: run `propcast backfill` or `propcast run --date {date}` first",
                    config.warehouse
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
        Command::ImportShots { files } => {
            let config = args.resolve(None)?;
            let warehouse = open_warehouse(&config, false).await?;
            crate::import::import_shots(warehouse.as_ref(), &files).await
        }
        Command::ImportProps { files, market } => {
            let config = args.resolve(None)?;
            let warehouse = open_warehouse(&config, false).await?;
            crate::import::import_props(warehouse.as_ref(), &files, market.as_deref()).await
        }
        Command::Train { from, to, out } => {
            let config = args.resolve(None)?;
            let warehouse = open_warehouse(&config, true).await?;
            let out = out.unwrap_or_else(|| default_model_path(&config.data_dir));
            crate::train::run(warehouse.as_ref(), from, to, out).await
        }
        Command::Evaluate {
            train_to,
            from,
            to,
            report,
            plot,
        } => {
            let config = args.resolve(None)?;
            let warehouse = open_warehouse(&config, true).await?;
            crate::evaluate::run(
                warehouse.as_ref(),
                crate::evaluate::EvaluateArgs {
                    train_to,
                    from,
                    to,
                    report,
                    plot,
                },
            )
            .await
        }
        Command::Status { date, days, format } => {
            let config = args.resolve(None)?;
            let warehouse = open_warehouse(&config, true).await?;
            let coordination = propcast_platform::Coordination::open(&config).await?;
            let status =
                crate::status::status(warehouse.as_ref(), coordination.state.as_ref(), date, days)
                    .await?;
            let text = match format {
                StatusFormat::Table => status.render(),
                StatusFormat::Json => format!("{}\n", serde_json::to_string_pretty(&status)?),
            };
            // A reader that stops early (`| head`) is not an error.
            let _ = std::io::Write::write_all(&mut std::io::stdout(), text.as_bytes());
            Ok(())
        }
        Command::Slo {
            date,
            days,
            ready_by,
            format,
            check,
        } => {
            let config = args.resolve(None)?;
            let warehouse = open_warehouse(&config, true).await?;
            let targets = crate::slo::Targets {
                ready_by,
                ..crate::slo::Targets::default()
            };
            let report = crate::slo::report(warehouse.as_ref(), date, days, targets).await?;
            let text = match format {
                StatusFormat::Table => report.render(),
                StatusFormat::Json => format!("{}\n", serde_json::to_string_pretty(&report)?),
            };
            let _ = std::io::Write::write_all(&mut std::io::stdout(), text.as_bytes());
            let breached = report.breached().count();
            if check && breached > 0 {
                anyhow::bail!("{breached} service-level objective(s) breached");
            }
            Ok(())
        }
        Command::Query { sql, format } => {
            let config = args.resolve(None)?;
            let warehouse = open_warehouse(&config, true).await?;
            let records = warehouse.query(&sql).await?;
            print!("{}", render(&records, format)?);
            Ok(())
        }
        Command::Serve {
            role,
            port,
            push_audience,
            push_service_account,
            push_jwks,
            no_push_auth,
            landing,
            sweep_every,
            workers,
            worker_deadline,
            model,
            scrape,
        } => {
            if role == crate::serve::Role::Dashboard {
                // Read-only pages: no landing zone, no push, no pipeline.
                return crate::serve::run_dashboard(args.resolve(None)?, port).await;
            }
            let config = args.resolve(landing.as_deref())?;
            let auth = match (push_audience, push_service_account, no_push_auth) {
                _ if role == crate::serve::Role::Worker => None,
                (_, _, true) => {
                    tracing::warn!(
                        "push authentication is off: anyone who reaches this port can push"
                    );
                    None
                }
                (Some(audience), Some(email), false) => Some(propcast_service::PushAuthConfig {
                    audience,
                    email,
                    jwks: propcast_service::JwksSource::parse(&push_jwks),
                }),
                _ => anyhow::bail!(
                    "push authentication needs --push-audience and --push-service-account \
                     (env PROPCAST_PUSH_AUDIENCE, PROPCAST_PUSH_SERVICE_ACCOUNT: the push subscription's \
                     OIDC audience and service account); pass --no-push-auth only for a local run nothing else can reach"
                ),
            };
            if role == crate::serve::Role::Scraper {
                return crate::scrape::serve(config, port, auth, scrape).await;
            }
            let backends = Backends::open(&config).await?;
            let mut pipeline = Pipeline::with_model(backends, model.load(&config.data_dir)?);
            if !workers.is_empty() {
                pipeline =
                    pipeline.with_workers(propcast_prediction_worker::grpc::WorkerPool::new(
                        &workers,
                        std::time::Duration::from_secs(worker_deadline.max(1)),
                    )?);
            }
            let pipeline = std::sync::Arc::new(pipeline);
            pipeline.ensure_tables().await?;
            crate::serve::run(
                role,
                port,
                auth,
                pipeline,
                std::time::Duration::from_secs(sweep_every.max(1)),
            )
            .await
        }
        Command::Scrape {
            date,
            landing,
            publish,
            scrape,
        } => {
            let config = args.resolve(landing.as_deref())?;
            let date = date.unwrap_or_else(propcast_core::date::today_eastern);
            let round = uuid::Uuid::new_v4().to_string();
            let report = crate::scrape::scrape(&config, date, &scrape, &round).await?;
            print!("{}", report.render());
            let landed: usize = report.sources.iter().map(|s| s.landed()).sum();
            if publish {
                if landed > 0 {
                    let id = crate::scrape::publish(&config, date, &round).await?;
                    println!(
                        "published the landing event of {date} (round {round}, message {id}) on {}",
                        crate::serve::LANDING_TOPIC
                    );
                } else {
                    println!("nothing landed: no landing event published");
                }
            }
            if report.has_failures() {
                anyhow::bail!(
                    "the scrape of {date} had failed or rejected fetches (see above, rejected/ in the landing zone and nba_processing.processor_runs)"
                );
            }
            Ok(())
        }
        Command::Landed { date, mode, round } => {
            let config = args.resolve(None)?;
            let mode: propcast_orchestrator::Mode = mode
                .parse()
                .map_err(|e| anyhow::anyhow!("--mode {mode}: {e}"))?;
            let coordination = Coordination::open(&config).await?;
            let round = round.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
            let id = crate::serve::publish_landing(
                coordination.bus.as_ref(),
                date,
                mode,
                &round,
                "propcast landed",
            )
            .await?;
            coordination.bus.close().await?;
            println!(
                "published the landing event of {date} (round {round}, message {id}) on {}",
                crate::serve::LANDING_TOPIC
            );
            Ok(())
        }
        Command::Schema {
            target: SchemaTarget::Bigquery,
            out,
            check,
        } => {
            let defs: Vec<&propcast_core::TableDef> =
                propcast_core::tables::ALL_TABLES.iter().collect();
            let files = propcast_platform::bigquery_schema::deploy_files(&defs);
            if check {
                let mut differ = Vec::new();
                for (name, text) in &files {
                    let path = out.join(name);
                    if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
                        differ.push(path.display().to_string());
                    }
                }
                if !differ.is_empty() {
                    anyhow::bail!(
                        "{} differ from the table catalog: {}; regenerate with `propcast schema bigquery --out {}`",
                        differ.len(),
                        differ.join(", "),
                        out.display()
                    );
                }
                println!(
                    "{}: {} files match the table catalog",
                    out.display(),
                    files.len()
                );
                return Ok(());
            }
            std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
            for (name, text) in &files {
                let path = out.join(name);
                std::fs::write(&path, text)
                    .with_context(|| format!("writing {}", path.display()))?;
                if name.ends_with(".sh") {
                    use std::os::unix::fs::PermissionsExt as _;
                    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
                }
            }
            println!("wrote {} files to {}", files.len(), out.display());
            Ok(())
        }
        Command::Tables { format } => {
            let config = args.resolve(None)?;
            let warehouse = open_warehouse(&config, true).await?;
            let mut records = Vec::new();
            for (dataset, table) in warehouse.tables().await? {
                let count = warehouse
                    .query(&format!("SELECT COUNT(*) AS n FROM {dataset}.{table}"))
                    .await?;
                let rows = count
                    .first()
                    .and_then(|r| r.get("n"))
                    .cloned()
                    .unwrap_or(serde_json::Value::Null);
                let mut record = propcast_platform::Record::new();
                record.insert("dataset".into(), dataset.into());
                record.insert("table".into(), table.into());
                record.insert("rows".into(), rows);
                records.push(record);
            }
            if records.is_empty() {
                anyhow::bail!(
                    "{} has no tables yet: run `propcast backfill` first",
                    config.warehouse
                );
            }
            print!("{}", render(&records, format)?);
            Ok(())
        }
        Command::DeadLetters {
            subscription,
            payload,
        } => {
            let config = args.resolve(None)?;
            let coordination = Coordination::open(&config).await?;
            let letters = propcast_platform::dead_letter::list(
                coordination.state.as_ref(),
                subscription.as_deref().unwrap_or(""),
            )
            .await?;
            if let Some(id) = payload {
                let letter = letters
                    .iter()
                    .find(|l| format!("{}:{}", l.subscription, l.message_id) == id)
                    .with_context(|| {
                        format!(
                            "no dead letter {id} in {}: `propcast dead-letters` lists them",
                            config.state
                        )
                    })?;
                use base64::Engine as _;
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(&letter.data)
                    .with_context(|| format!("dead letter {id}: its payload is not base64"))?;
                use std::io::Write as _;
                std::io::stdout().write_all(&bytes)?;
                return Ok(());
            }
            if letters.is_empty() {
                println!("no dead letters in {}", config.state);
                return Ok(());
            }
            let mut table = comfy_table::Table::new();
            table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
            table.set_header(vec!["id", "attempt", "recorded at", "reason"]);
            for l in &letters {
                table.add_row(vec![
                    format!("{}:{}", l.subscription, l.message_id),
                    l.attempt.to_string(),
                    l.recorded_at.to_rfc3339(),
                    l.reason.clone(),
                ]);
            }
            println!("{table}");
            println!(
                "({} dead letters; --payload ID prints one as received)",
                letters.len()
            );
            Ok(())
        }
        Command::Config {
            landing,
            format,
            check,
        } => {
            let config = args.resolve(landing.as_deref())?;
            match format {
                ConfigFormat::Text => print!("{}", config.render()),
                ConfigFormat::Json => {
                    println!("{}", serde_json::to_string_pretty(&config.to_json())?)
                }
            }
            if check {
                check_backends(&config).await?;
            }
            Ok(())
        }
    }
}

/// Opens every configured backend (`propcast config --check`) and says
/// which answered.
async fn check_backends(config: &Config) -> anyhow::Result<()> {
    use propcast_platform::{BusUri, StateUri, WarehouseUri};
    // Embedded files are not created by a check: one that does not exist
    // yet is reported as such (the first backfill creates it).
    let missing = |path: &Path| (!path.exists()).then(|| path.display().to_string());
    match &config.warehouse {
        WarehouseUri::DuckDb(path) if missing(path).is_some() => {
            println!(
                "ok: warehouse {} does not exist yet (the first backfill creates it)",
                config.warehouse
            )
        }
        _ => {
            open_warehouse(config, true).await?;
            println!("ok: warehouse {} answers", config.warehouse);
        }
    }
    let state_missing = matches!(&config.state, StateUri::Sqlite(p) if missing(p).is_some());
    let bus_missing = matches!(&config.bus, BusUri::Sqlite(p) if missing(p).is_some());
    if state_missing || bus_missing {
        println!(
            "ok: state {} / bus {}: an embedded file does not exist yet (the first backfill creates it)",
            config.state, config.bus
        );
    } else {
        Coordination::open(config).await?;
        println!("ok: state {} and bus {} answer", config.state, config.bus);
    }
    if let Some(landing) = &config.landing {
        propcast_platform::backends::open_landing(landing).await?;
        println!("ok: landing {landing} is readable");
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::subscriber;

    /// Off means off: with no exporter nothing records the pipeline's
    /// spans, while the logs still see the events at their level.
    #[test]
    fn without_an_exporter_the_pipeline_spans_are_disabled() {
        let dispatch = subscriber(false, tracing_subscriber::EnvFilter::new("info"), None);
        tracing::dispatcher::with_default(&dispatch, || {
            let span = tracing::info_span!(
                target: propcast_telemetry::TARGET,
                propcast_telemetry::PROCESSOR_RUN,
                processor = "p"
            );
            assert!(span.is_disabled());
            assert!(tracing::enabled!(tracing::Level::INFO));
            assert!(!tracing::enabled!(tracing::Level::DEBUG));
        });
    }
}
