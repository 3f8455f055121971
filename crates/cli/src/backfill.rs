//! Runs the pipeline over a range of dates, in order, and builds the summary.

use crate::pipeline::{DateOutcome, DateRun, Pipeline};
use crate::summary::{
    Accuracy, DeadLettered, FailedRun, InvalidDate, ModelNote, Summary, SystemAccuracy,
};
use crate::validate;
use anyhow::Context;
use chrono::{NaiveDate, Utc};
use indicatif::{ProgressBar, ProgressStyle};
use propcast_core::grading::{AccuracyTally, ErrorSums, Outcome};
use propcast_patterns::{Phase, RunMode, RunStatus};
use propcast_platform::warehouse::date_literal;
use propcast_platform::{LandingZone, Warehouse, WarehouseExt};
use propcast_prediction_worker::TrainingWindow;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

/// Landing-zone folders whose third path segment is a game date.
const DATED_SOURCES: &[&str] = &[
    "nba-com/player-boxscores",
    "nba-com/team-boxscores",
    "odds-api/player-props-history",
];
const SCHEDULE_PREFIX: &str = "nba-com/schedule-cdn";

/// The dates a backfill visits: every date that has a dated payload folder
/// or a scheduled game in the landing zone, within `[from, to]`. Without
/// bounds, the range is the first to the last date with a dated payload.
pub async fn discover_dates(
    landing: &dyn LandingZone,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> anyhow::Result<Vec<NaiveDate>> {
    let mut payload_dates = BTreeSet::new();
    for source in DATED_SOURCES {
        for object in landing.list(source).await? {
            let date = object
                .path
                .strip_prefix(source)
                .and_then(|rest| rest.trim_start_matches('/').split('/').next())
                .and_then(|segment| NaiveDate::parse_from_str(segment, "%Y-%m-%d").ok());
            if let Some(date) = date {
                payload_dates.insert(date);
            }
        }
    }
    let mut schedule_dates = BTreeSet::new();
    for object in landing.list(SCHEDULE_PREFIX).await? {
        let bytes = landing.get(&object.path).await?;
        // A schedule that does not parse is reported by the schedule
        // processor (quarantine); here it only contributes no dates.
        if let Ok(schedule) = serde_json::from_slice::<ScheduleDates>(&bytes) {
            for day in schedule.league_schedule.game_dates {
                if day.games.is_empty() {
                    continue;
                }
                let text = day.game_date.split_whitespace().next().unwrap_or_default();
                if let Ok(date) = NaiveDate::parse_from_str(text, "%m/%d/%Y") {
                    schedule_dates.insert(date);
                }
            }
        }
    }
    let (Some(first), Some(last)) = (
        payload_dates.first().copied(),
        payload_dates.last().copied(),
    ) else {
        anyhow::bail!(
            "the landing zone {} holds no dated payloads under {}: is --landing the folder that holds nba-com/ and odds-api/?",
            landing.describe(),
            DATED_SOURCES.join(", ")
        );
    };
    let from = from.unwrap_or(first);
    let to = to.unwrap_or(last);
    if from > to {
        anyhow::bail!("--from {from} is after --to {to}");
    }
    Ok(payload_dates
        .into_iter()
        .chain(schedule_dates)
        .filter(|d| (from..=to).contains(d))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect())
}

#[derive(serde::Deserialize)]
struct ScheduleDates {
    #[serde(rename = "leagueSchedule")]
    league_schedule: LeagueSchedule,
}

#[derive(serde::Deserialize)]
struct LeagueSchedule {
    #[serde(rename = "gameDates")]
    game_dates: Vec<GameDay>,
}

#[derive(serde::Deserialize)]
struct GameDay {
    #[serde(rename = "gameDate")]
    game_date: String,
    #[serde(default)]
    games: Vec<serde::de::IgnoredAny>,
}

/// Train `gbdt_v1` in the middle of a backfill: once every date up to
/// `through` is processed, on the feature store rows from the first of them
/// to `through`, saved at `path`; the dates after `through` are predicted
/// with it. The model never sees a date it predicts.
#[derive(Debug, Clone)]
pub struct TrainPlan {
    pub through: NaiveDate,
    pub path: PathBuf,
}

/// What a backfill does with a date whose validation fails.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum OnInvalid {
    /// Record it (summary, validation_results, checkpoint) and go on.
    #[default]
    Skip,
    /// Stop after it; a rerun resumes at that date.
    Stop,
}

/// How a run over dates behaves beyond processing them.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Train `gbdt_v1` on the way (see [`TrainPlan`]).
    pub train: Option<TrainPlan>,
    /// Checkpoint after each validated date in the state store, and resume
    /// after the last checkpointed date of the same range.
    pub checkpoint: bool,
    pub on_invalid: OnInvalid,
    /// Daily runs only: recompute every date in full instead of
    /// incrementally against the previous round (backfill always does).
    pub full: bool,
    /// Backfill only: run date by date (each date through every phase
    /// before the next) instead of by range; the tables end the same.
    pub by_date: bool,
    /// Backfill by range: the most dates one range (and one checkpoint)
    /// holds; 0 is [`DEFAULT_CHUNK_DAYS`].
    pub chunk_days: usize,
}

/// How many dates a backfill range holds unless told: a season's regular
/// season is ~165 dates, so a season is two or three ranges.
pub const DEFAULT_CHUNK_DAYS: usize = 64;

/// The ranges a backfill runs, in order: consecutive dates of `todo`, at
/// most `chunk_days` each, split where `through` ends (the model trained
/// through it predicts the dates after, so they run other processors).
/// Date by date (`chunk_days` 1) every date is its own range.
pub fn chunks(
    todo: &[NaiveDate],
    chunk_days: usize,
    through: Option<NaiveDate>,
) -> Vec<Vec<NaiveDate>> {
    let mut out: Vec<Vec<NaiveDate>> = Vec::new();
    for &date in todo {
        let side = |d: NaiveDate| through.is_some_and(|t| d > t);
        match out.last_mut() {
            Some(chunk) if chunk.len() < chunk_days.max(1) && side(chunk[0]) == side(date) => {
                chunk.push(date)
            }
            _ => out.push(vec![date]),
        }
    }
    out
}

/// Where backfill checkpoints live in the state store.
pub const CHECKPOINTS: &str = "backfill_checkpoints";

/// The checkpoint document of a backfill over `[first, last]`.
pub fn checkpoint_id(first: NaiveDate, last: NaiveDate) -> String {
    format!("{first}_{last}")
}

/// The last date a checkpoint says is done, if any.
fn checkpointed_through(doc: &serde_json::Value) -> Option<NaiveDate> {
    doc.get("last_completed")
        .and_then(|v| v.as_str())
        .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
}

/// Runs every date in order and summarises. A failing processor does not
/// stop the run; it is listed in the summary and in run history.
pub async fn run_dates(
    pipeline: &Pipeline,
    dates: &[NaiveDate],
    mode: RunMode,
    command: &str,
    data_dir: &str,
    show_progress: bool,
) -> anyhow::Result<Summary> {
    run_dates_with(
        pipeline,
        dates,
        mode,
        command,
        data_dir,
        show_progress,
        &RunOptions::default(),
    )
    .await
}

/// [`run_dates`], validating each date, and training, checkpointing and
/// resuming as `options` say.
pub async fn run_dates_with(
    pipeline: &Pipeline,
    dates: &[NaiveDate],
    mode: RunMode,
    command: &str,
    data_dir: &str,
    show_progress: bool,
    options: &RunOptions,
) -> anyhow::Result<Summary> {
    let started = Instant::now();
    let train = options.train.as_ref();
    let mut trained: Option<ModelNote> = None;
    let execution_id = uuid::Uuid::new_v4().to_string();
    pipeline.prepare().await?;
    let (Some(&first), Some(&last)) = (dates.first(), dates.last()) else {
        anyhow::bail!("no dates to process");
    };
    let state = pipeline.backends().state.clone();
    let warehouse = pipeline.backends().warehouse.clone();
    let checkpoint = checkpoint_id(first, last);
    let mut checkpoint_doc = serde_json::json!({ "invalid_dates": [] });
    let mut resumed_after = None;
    if options.checkpoint
        && let Some(doc) = state.get(CHECKPOINTS, &checkpoint).await?
    {
        resumed_after = checkpointed_through(&doc);
        if let Some(after) = resumed_after {
            eprintln!(
                "propcast {command}: resuming after {after} (checkpoint {CHECKPOINTS}/{checkpoint}); pass --restart to start over"
            );
        }
        checkpoint_doc = doc;
    }
    let todo: Vec<NaiveDate> = dates
        .iter()
        .copied()
        .filter(|d| resumed_after.is_none_or(|after| *d > after))
        .collect();
    let progress = if show_progress {
        let bar = ProgressBar::new(todo.len() as u64);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} dates  {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let mut invalid_dates = Vec::new();
    let mut stopped_at = None;
    let mut outcomes = Vec::with_capacity(todo.len());
    let by_range = mode == RunMode::Backfill && !options.by_date;
    let chunk_days = match (by_range, options.chunk_days) {
        (false, _) => 1,
        (true, 0) => DEFAULT_CHUNK_DAYS,
        (true, n) => n,
    };
    'chunks: for chunk in chunks(&todo, chunk_days, train.map(|p| p.through)) {
        let (from, to) = (chunk[0], chunk[chunk.len() - 1]);
        if let (Some(plan), None) = (train, &trained)
            && from > plan.through
        {
            progress.set_message(format!("training gbdt_v1 through {}", plan.through));
            trained = Some(train_mid_backfill(pipeline, first, plan).await?);
        }
        let run = DateRun {
            mode,
            full: options.full || mode == RunMode::Backfill,
        };
        let ran = if by_range {
            progress.set_message(format!("{from} → {to}"));
            pipeline
                .run_range(&chunk, mode, &execution_id)
                .await
                .with_context(|| format!("running {from} → {to}"))?
        } else {
            progress.set_message(from.to_string());
            vec![
                pipeline
                    .run_date_with(from, &run, &execution_id)
                    .await
                    .with_context(|| format!("running {from}"))?,
            ]
        };
        let mut last_valid = None;
        let mut chunk_invalid = Vec::new();
        let mut checked =
            validate::validate_dates(warehouse.as_ref(), &ran, &execution_id, Utc::now())
                .await
                .with_context(|| format!("validating {from} → {to}"))?;
        let mut validated = Vec::new();
        let mut results = Vec::new();
        for outcome in ran {
            let date = outcome.date;
            if let Some(reason) = outcome
                .early_exit
                .as_deref()
                .filter(|r| r.starts_with("early exit"))
            {
                progress.suspend(|| eprintln!("propcast {command}: {date}: {reason}"));
            }
            let checks = checked.remove(&date).unwrap_or_default();
            let reasons: Vec<String> = validate::failed(&checks)
                .iter()
                .map(|c| format!("{}: {}", c.check_name, c.detail))
                .collect();
            validated.push(date);
            results.extend(checks);
            outcomes.push(outcome);
            progress.inc(1);
            if !reasons.is_empty() {
                tracing::warn!(game_date = %date, checks = %reasons.join("; "), "date failed validation");
                invalid_dates.push(InvalidDate {
                    date,
                    failed: reasons,
                });
                if options.on_invalid == OnInvalid::Stop {
                    stopped_at = Some(date);
                    break;
                }
                chunk_invalid.push(date);
            }
            last_valid = Some(date);
        }
        validate::record(warehouse.as_ref(), &validated, &results).await?;
        if options.checkpoint
            && let Some(done) = last_valid
        {
            // The checkpoint is the range: a rerun resumes after its last
            // date (or, stopped on an invalid date, at that date).
            checkpoint_doc["last_completed"] = done.to_string().into();
            checkpoint_doc["execution_id"] = execution_id.clone().into();
            checkpoint_doc["updated_at"] = Utc::now().to_rfc3339().into();
            if let Some(list) = checkpoint_doc["invalid_dates"].as_array_mut() {
                list.extend(chunk_invalid.iter().map(|d| d.to_string().into()));
            }
            state.put(CHECKPOINTS, &checkpoint, &checkpoint_doc).await?;
        }
        if stopped_at.is_some() {
            break 'chunks;
        }
    }
    if options.checkpoint && stopped_at.is_none() {
        // Finished: the next backfill of this range starts from the top.
        state.delete(CHECKPOINTS, &checkpoint).await?;
    }
    if let (Some(plan), None, None) = (train, &trained, stopped_at) {
        // Every date was on or before `through`: train at the end.
        progress.set_message(format!("training gbdt_v1 through {}", plan.through));
        trained = Some(train_mid_backfill(pipeline, first, plan).await?);
    }
    progress.finish_and_clear();

    let (from, to) = (first, last);
    let mut summary = summarise(command, from, to, &outcomes, data_dir);
    summary.resumed_after = resumed_after;
    summary.invalid_dates = invalid_dates;
    summary.stopped_at = stopped_at;
    summary.model = match (trained, pipeline.model()) {
        (Some(note), _) => Some(note),
        (None, Some(model)) => Some(ModelNote::from_model(&model, None)),
        (None, None) => None,
    };
    summary.by_system = by_system(pipeline.backends().warehouse.as_ref(), from, to).await?;
    summary.accuracy = accuracy(pipeline.backends().warehouse.as_ref(), from, to).await?;
    summary.predictions = summary.accuracy.predictions;
    summary.graded = summary.accuracy.graded;
    summary.mae = summary.accuracy.mae;
    summary.hit_rate = summary.accuracy.hit_rate;
    summary
        .seconds
        .insert("total".into(), started.elapsed().as_secs_f64());
    Ok(summary)
}

/// Trains and installs the model of `plan` (see [`TrainPlan`]).
async fn train_mid_backfill(
    pipeline: &Pipeline,
    first: NaiveDate,
    plan: &TrainPlan,
) -> anyhow::Result<ModelNote> {
    let window = TrainingWindow {
        from: first.min(plan.through),
        to: plan.through,
    };
    let model = crate::train::train_window(pipeline.backends().warehouse.as_ref(), window)
        .await
        .with_context(|| format!("training gbdt_v1 on {window}"))?;
    model.save(&plan.path)?;
    let model = Arc::new(model);
    pipeline.set_model(model.clone());
    tracing::info!(path = %plan.path.display(), window = %window, "gbdt_v1 trained mid-backfill");
    Ok(ModelNote::from_model(&model, Some(&plan.path)))
}

fn summarise(
    command: &str,
    from: NaiveDate,
    to: NaiveDate,
    outcomes: &[DateOutcome],
    data_dir: &str,
) -> Summary {
    let mut rows: BTreeMap<String, u64> = BTreeMap::new();
    let mut seconds: BTreeMap<String, f64> = BTreeMap::new();
    let mut quarantined_by_processor: BTreeMap<String, u64> = BTreeMap::new();
    let mut failed_runs = Vec::new();
    let mut unresolved_names = 0;
    let mut dates_without_games = 0;
    for outcome in outcomes {
        if outcome.early_exit.is_some() {
            dates_without_games += 1;
        }
        for report in &outcome.reports {
            for (table, n) in &report.output.rows_written {
                *rows.entry(table.clone()).or_default() += n;
            }
            let phase = report.phase().unwrap_or(Phase::Predictions);
            *seconds.entry(phase.label().to_string()).or_default() +=
                report.duration().as_secs_f64();
            if !report.output.quarantine.is_empty() {
                *quarantined_by_processor
                    .entry(report.processor().to_string())
                    .or_default() += report.output.quarantine.len() as u64;
            }
            unresolved_names += report
                .output
                .counters
                .get("unresolved_names")
                .copied()
                .unwrap_or_default();
            if report.status() == RunStatus::Failed {
                failed_runs.push(FailedRun {
                    date: outcome.date,
                    processor: report.processor().to_string(),
                    error: report.error().unwrap_or_default().to_string(),
                });
            }
        }
    }
    Summary {
        command: command.to_string(),
        from,
        to,
        dates_processed: outcomes.len() as u64 - dates_without_games,
        dates_without_games,
        rows,
        quarantined: quarantined_by_processor.values().sum(),
        quarantined_by_processor,
        unresolved_names,
        failed_runs,
        dead_letters: outcomes
            .iter()
            .flat_map(|o| o.dead_letters.iter().map(DeadLettered::from))
            .collect(),
        predictions: 0,
        graded: 0,
        mae: None,
        hit_rate: None,
        accuracy: Accuracy::default(),
        by_system: Vec::new(),
        model: None,
        resumed_after: None,
        invalid_dates: Vec::new(),
        stopped_at: None,
        seconds,
        data_dir: data_dir.to_string(),
    }
}

/// `prediction_accuracy` rows of `[from, to]` grouped by system and by the
/// columns that decide a row's bucket, with their error sums; the buckets
/// are [`propcast_core::grading`]'s, so the report counts what grading means.
#[derive(Debug, Deserialize)]
struct OutcomeGroup {
    system_id: String,
    is_voided: bool,
    recommendation: String,
    is_push: bool,
    prediction_correct: Option<bool>,
    n_rows: u64,
    with_errors: u64,
    abs_error_sum: Option<f64>,
    signed_error_sum: Option<f64>,
}

/// Per-system tallies of the graded rows of `[from, to]`.
async fn tallies(
    warehouse: &dyn Warehouse,
    from: NaiveDate,
    to: NaiveDate,
) -> anyhow::Result<BTreeMap<String, AccuracyTally>> {
    let both = "absolute_error IS NOT NULL AND signed_error IS NOT NULL";
    let groups: Vec<OutcomeGroup> = warehouse
        .query_as(&format!(
            "SELECT system_id, is_voided, recommendation, is_push, prediction_correct,
                COUNT(*) AS n_rows,
                COUNT(CASE WHEN {both} THEN 1 END) AS with_errors,
                SUM(CASE WHEN {both} THEN absolute_error END) AS abs_error_sum,
                SUM(CASE WHEN {both} THEN signed_error END) AS signed_error_sum
             FROM nba_predictions.prediction_accuracy
             WHERE game_date BETWEEN {} AND {}
             GROUP BY system_id, is_voided, recommendation, is_push, prediction_correct
             ORDER BY system_id, is_voided, recommendation, is_push, prediction_correct",
            date_literal(from),
            date_literal(to)
        ))
        .await?;
    let mut by_system: BTreeMap<String, AccuracyTally> = BTreeMap::new();
    for g in &groups {
        let outcome = Outcome {
            is_voided: g.is_voided,
            recommendation: &g.recommendation,
            is_push: g.is_push,
            prediction_correct: g.prediction_correct,
        };
        let errors = ErrorSums {
            rows: g.with_errors,
            absolute: g.abs_error_sum.unwrap_or(0.0),
            signed: g.signed_error_sum.unwrap_or(0.0),
        };
        by_system
            .entry(g.system_id.clone())
            .or_default()
            .add(outcome, g.n_rows, errors);
    }
    Ok(by_system)
}

/// Prediction and grading totals for `[from, to]`, read back from the
/// warehouse (so the summary reports what is stored, not what was meant).
pub async fn accuracy(
    warehouse: &dyn Warehouse,
    from: NaiveDate,
    to: NaiveDate,
) -> anyhow::Result<Accuracy> {
    let predictions = warehouse
        .query(&format!(
            "SELECT COUNT(*) AS n FROM nba_predictions.player_prop_predictions \
             WHERE game_date BETWEEN {} AND {}",
            date_literal(from),
            date_literal(to)
        ))
        .await?;
    let predictions = predictions
        .first()
        .and_then(|r| r.get("n"))
        .and_then(|v| v.as_u64())
        .unwrap_or(0);
    let mut all = AccuracyTally::default();
    for tally in tallies(warehouse, from, to).await?.values() {
        all.merge(tally);
    }
    let graded = all.summary();
    Ok(Accuracy {
        predictions,
        graded: graded.graded,
        correct: graded.correct,
        pushes: graded.pushes,
        pass: graded.pass,
        no_line: graded.no_line,
        voided: graded.voided,
        ungraded: predictions.saturating_sub(graded.predictions),
        mae: graded.mae,
        bias: graded.bias,
        hit_rate: graded.hit_rate,
    })
}

/// Per-system totals for `[from, to]` from `nba_predictions.prediction_accuracy`
/// (OVER/UNDER calls on real lines only; PASS, NO_LINE, pushes and voided
/// rows never count as hits or misses).
pub async fn by_system(
    warehouse: &dyn Warehouse,
    from: NaiveDate,
    to: NaiveDate,
) -> anyhow::Result<Vec<SystemAccuracy>> {
    #[derive(Debug, Deserialize)]
    struct AgainstLine {
        system_id: String,
        rows: u64,
        mae: Option<f64>,
        line_mae: Option<f64>,
    }
    // Each system's MAE and the line's on the same rows: players who played
    // and had a real line (the rule of `has_real_line`).
    let against: BTreeMap<String, AgainstLine> = warehouse
        .query_as::<AgainstLine>(&format!(
            "SELECT system_id, COUNT(*) AS rows, AVG(absolute_error) AS mae,
                AVG(ABS(actual_points - line_value)) AS line_mae
             FROM nba_predictions.prediction_accuracy
             WHERE game_date BETWEEN {} AND {} AND NOT is_voided
               AND line_source = 'ACTUAL_PROP' AND line_value IS NOT NULL
               AND absolute_error IS NOT NULL AND actual_points IS NOT NULL
             GROUP BY system_id",
            date_literal(from),
            date_literal(to)
        ))
        .await?
        .into_iter()
        .map(|a| (a.system_id.clone(), a))
        .collect();
    Ok(tallies(warehouse, from, to)
        .await?
        .into_iter()
        .map(|(system_id, tally)| {
            let s = tally.summary();
            let line = against.get(&system_id);
            SystemAccuracy {
                graded_rows: s.predictions,
                decided: s.decided(),
                correct: s.correct,
                mae: s.mae,
                bias: s.bias,
                hit_rate: s.hit_rate,
                with_line: line.map(|a| a.rows).unwrap_or(0),
                mae_with_line: line.and_then(|a| a.mae),
                line_mae: line.and_then(|a| a.line_mae),
                system_id,
            }
        })
        .collect())
}
