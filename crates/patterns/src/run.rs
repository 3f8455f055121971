//! Runs one processor for one date inside the common layers: retry with
//! jitter on retryable errors, quarantine bookkeeping, run history.
//!
//! Executing and recording are separate so a driver running many processors
//! for a date can record them all at once ([`record_runs`]: two writes when
//! every processor of the date ran) instead of two per processor;
//! [`run_processor`] does both for a single processor.

use crate::processor::{Phase, ProcessContext, ProcessError, ProcessOutput, Processor, RunStatus};
use backon::{ExponentialBuilder, Retryable};
use chrono::{NaiveDate, Utc};
use propcast_core::tables::{ProcessorRun, QuarantineRecord};
use propcast_platform::{Warehouse, WarehouseError, WarehouseExt};
use std::time::{Duration, Instant};

/// The outcome of one processor run, with the rows run history will hold.
/// The run's name, id, status, error and duration are those of its
/// `processor_runs` row ([`RunReport::run`]); the accessors read them there.
#[derive(Debug)]
pub struct RunReport {
    pub output: ProcessOutput,
    /// The `nba_processing.processor_runs` row of this run.
    pub run: ProcessorRun,
    /// The `nba_processing.quarantine` rows of this run.
    pub quarantine_rows: Vec<QuarantineRecord>,
}

impl RunReport {
    pub fn processor(&self) -> &str {
        &self.run.processor
    }

    pub fn run_id(&self) -> &str {
        &self.run.run_id
    }

    pub fn status(&self) -> RunStatus {
        self.run.status
    }

    pub fn error(&self) -> Option<&str> {
        self.run.error.as_deref()
    }

    /// The run's duration, to the millisecond run history keeps.
    pub fn duration(&self) -> Duration {
        Duration::from_millis(u64::try_from(self.run.duration_ms).unwrap_or_default())
    }

    /// The phase of the processor (`None` only for a row whose phase is not
    /// one of ours, which this crate never writes).
    pub fn phase(&self) -> Option<Phase> {
        Phase::try_from(self.run.phase).ok()
    }

    /// Whether the processor ran and its output is what is stored now (not
    /// skipped, not failed): its quarantine entries replace its earlier ones.
    fn ran(&self) -> bool {
        !matches!(self.status(), RunStatus::Skipped | RunStatus::Failed)
    }
}

/// The span of one processor run for one date
/// ([`propcast_telemetry::PROCESSOR_RUN`]): the processor, its phase, the
/// date, the correlation id and round, and the run's status once recorded
/// ([`record_status`]). A driver runs the processor inside it and publishes
/// its completion there, so the completion's consumers continue the trace.
pub fn run_span(processor: &dyn Processor, ctx: &ProcessContext) -> tracing::Span {
    tracing::info_span!(
        target: propcast_telemetry::TARGET,
        propcast_telemetry::PROCESSOR_RUN,
        processor = processor.name(),
        phase = processor.phase().number(),
        game_date = %ctx.game_date,
        correlation_id = %ctx.correlation_id,
        round_id = %ctx.execution_id,
        mode = %ctx.mode,
        dates = 1,
        last_date = tracing::field::Empty,
        status = tracing::field::Empty,
    )
}

/// [`run_span`] for a range run from `first` (the first date's context)
/// to `last`, `dates` dates: `game_date` and `correlation_id` are those of
/// the first date, `last_date` and `dates` say how far it goes.
pub fn range_span(
    processor: &dyn Processor,
    first: &ProcessContext,
    last: NaiveDate,
    dates: usize,
) -> tracing::Span {
    let span = run_span(processor, first);
    span.record("last_date", tracing::field::display(last));
    span.record("dates", dates);
    span
}

/// Writes a run's status into its [`run_span`].
pub fn record_status(span: &tracing::Span, report: &RunReport) {
    span.record("status", tracing::field::display(report.status()));
}

/// Retry policy for transient errors: exponential backoff with jitter,
/// 4 attempts in all, 200 ms to 5 s apart.
fn retry_policy() -> ExponentialBuilder {
    ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(200))
        .with_max_delay(Duration::from_secs(5))
        .with_max_times(3)
        .with_jitter()
}

/// Runs `processor` for `ctx.game_date`, retrying retryable errors, without
/// writing run history. A failure is a `Failed` report, not an `Err`.
pub async fn execute_processor(processor: &dyn Processor, ctx: &ProcessContext) -> RunReport {
    let started_at = Utc::now();
    let clock = Instant::now();
    let name = processor.name();
    let result = (|| async { processor.process(ctx).await })
        .retry(retry_policy())
        .when(|e: &ProcessError| e.is_retryable())
        .notify(|e: &ProcessError, delay: Duration| {
            tracing::warn!(processor = name, game_date = %ctx.game_date, error = %e, ?delay, "retrying after transient error");
        })
        .await;
    let duration = clock.elapsed();
    let (output, error) = match result {
        Ok(output) => (output, None),
        Err(e) => {
            tracing::error!(processor = name, game_date = %ctx.game_date, error = %e, "processor failed");
            (ProcessOutput::default(), Some(e.to_string()))
        }
    };
    ran_report(
        processor,
        ctx,
        output,
        error,
        duration.as_millis() as i64,
        started_at,
    )
}

/// The report of a run that happened: its `processor_runs` row (status
/// from the output, or failed with `error`) and its quarantine rows, the
/// quarantined records logged. One home for [`execute_processor`] and
/// [`execute_range`].
fn ran_report(
    processor: &dyn Processor,
    ctx: &ProcessContext,
    output: ProcessOutput,
    error: Option<String>,
    duration_ms: i64,
    started_at: chrono::DateTime<Utc>,
) -> RunReport {
    let run_id = uuid::Uuid::new_v4().to_string();
    let name = processor.name();
    log_quarantine(name, ctx, &output);
    let quarantine_rows = output
        .quarantine
        .to_rows(ctx.game_date, name, &run_id, ctx.now);
    let run = ProcessorRun {
        run_id,
        execution_id: ctx.execution_id.clone(),
        correlation_id: ctx.correlation_id.clone(),
        processor: name.to_string(),
        phase: processor.phase().number(),
        game_date: ctx.game_date,
        status: if error.is_some() {
            RunStatus::Failed
        } else {
            output.status()
        },
        skip_reason: None,
        error,
        round_id: ctx.execution_id.clone(),
        entities_in_scope: None,
        entities_changed: None,
        rows_written: output.total_rows() as i64,
        records_quarantined: output.quarantine.len() as i64,
        duration_ms,
        mode: ctx.mode.to_string(),
        started_at,
        finished_at: Utc::now(),
    };
    RunReport {
        output,
        run,
        quarantine_rows,
    }
}

/// Runs `processor`'s range form over the dates of `contexts` (one context
/// per date, ascending; they differ only in date and correlation id),
/// retrying retryable errors, and returns one report per date as
/// [`execute_processor`] would have written it. A date's `duration_ms` is
/// its share of the range's time (split evenly). An error fails the whole
/// range and is returned, so the caller can re-run the dates one by one.
pub async fn execute_range(
    processor: &dyn Processor,
    contexts: &[ProcessContext],
) -> Result<Vec<RunReport>, ProcessError> {
    let Some(first) = contexts.first() else {
        return Ok(Vec::new());
    };
    let dates: Vec<NaiveDate> = contexts.iter().map(|c| c.game_date).collect();
    let started_at = Utc::now();
    let clock = Instant::now();
    let name = processor.name();
    let mut outputs = (|| async { processor.process_range(first, &dates).await })
        .retry(retry_policy())
        .when(|e: &ProcessError| e.is_retryable())
        .notify(|e: &ProcessError, delay: Duration| {
            tracing::warn!(processor = name, from = %first.game_date, dates = dates.len(), error = %e, ?delay, "retrying the range after a transient error");
        })
        .await?;
    let share = clock.elapsed().as_millis() as i64 / contexts.len() as i64;
    let mut reports = Vec::with_capacity(contexts.len());
    for ctx in contexts {
        let output = outputs.remove(&ctx.game_date).ok_or_else(|| {
            ProcessError::Permanent(format!(
                "{name}: its range run gave no output for {}",
                ctx.game_date
            ))
        })?;
        reports.push(ran_report(processor, ctx, output, None, share, started_at));
    }
    Ok(reports)
}

fn log_quarantine(name: &str, ctx: &ProcessContext, output: &ProcessOutput) {
    for entry in output.quarantine.entries() {
        tracing::warn!(
            processor = name,
            game_date = %ctx.game_date,
            file = %entry.source_file,
            record = %entry.record,
            field = %entry.field,
            reason = %entry.reason,
            "record quarantined"
        );
    }
}

/// A report for a processor that was not run, and why (run history keeps
/// skips too).
pub fn skip_report(processor: &dyn Processor, ctx: &ProcessContext, reason: &str) -> RunReport {
    let run_id = uuid::Uuid::new_v4().to_string();
    let now = Utc::now();
    tracing::debug!(processor = processor.name(), game_date = %ctx.game_date, reason, "processor skipped");
    RunReport {
        output: ProcessOutput::default(),
        run: ProcessorRun {
            run_id,
            execution_id: ctx.execution_id.clone(),
            correlation_id: ctx.correlation_id.clone(),
            processor: processor.name().to_string(),
            phase: processor.phase().number(),
            game_date: ctx.game_date,
            status: RunStatus::Skipped,
            skip_reason: Some(reason.to_string()),
            error: None,
            round_id: ctx.execution_id.clone(),
            entities_in_scope: None,
            entities_changed: None,
            rows_written: 0,
            records_quarantined: 0,
            duration_ms: 0,
            mode: ctx.mode.to_string(),
            started_at: now,
            finished_at: now,
        },
        quarantine_rows: Vec::new(),
    }
}

/// How much of a date the reports given to [`record_runs`] cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coverage {
    /// One report per processor of the date: when every one of them ran,
    /// the date's quarantine is replaced whole.
    WholeDate {
        /// How many processors the date has.
        processors: usize,
    },
    /// Some processors of the date only.
    Some,
}

/// Writes run history for `date`: a `processor_runs` row per report, and,
/// for each processor that ran (not skipped, not failed), its quarantine
/// entries in place of its earlier ones — so a skipped or failed run keeps
/// the entries that belong to the output still stored. When the reports
/// cover the whole date and every processor ran, the date's quarantine is
/// replaced in one write (two writes in all).
pub async fn record_runs(
    warehouse: &dyn Warehouse,
    date: NaiveDate,
    reports: &[RunReport],
    coverage: Coverage,
) -> Result<(), WarehouseError> {
    record_date_runs(warehouse, &[(date, reports, coverage)]).await
}

/// [`record_runs`] for many dates at once: the quarantine of every date
/// whose reports cover it whole, with every processor run, is replaced in
/// one write for all of them, the rest processor by processor; the
/// `processor_runs` rows of every date go in one merge. What a range run
/// records instead of a pair of writes per date.
pub async fn record_date_runs(
    warehouse: &dyn Warehouse,
    days: &[(NaiveDate, &[RunReport], Coverage)],
) -> Result<(), WarehouseError> {
    let mut whole_dates = Vec::new();
    let mut whole_rows: Vec<QuarantineRecord> = Vec::new();
    for (date, reports, coverage) in days {
        let ran: Vec<&RunReport> = reports.iter().filter(|r| r.ran()).collect();
        if *coverage
            == (Coverage::WholeDate {
                processors: ran.len(),
            })
        {
            whole_dates.push(*date);
            whole_rows.extend(
                reports
                    .iter()
                    .flat_map(|r| r.quarantine_rows.iter().cloned()),
            );
        } else {
            for report in ran {
                warehouse
                    .replace_rows(
                        *date,
                        &[("processor", report.processor())],
                        &report.quarantine_rows,
                    )
                    .await?;
            }
        }
    }
    if !whole_dates.is_empty() {
        warehouse
            .replace_date_rows(&whole_dates, &whole_rows)
            .await?;
    }
    let runs: Vec<ProcessorRun> = days
        .iter()
        .flat_map(|(_, reports, _)| reports.iter().map(|r| r.run.clone()))
        .collect();
    if !runs.is_empty() {
        warehouse.merge_rows(&runs).await?;
    }
    runs.iter().for_each(log_recorded_run);
    Ok(())
}

/// The `tracing` target of [`log_recorded_run`]'s events.
pub const RUN_HISTORY_TARGET: &str = "propcast::run_history";

/// One event per `processor_runs` row written, at info: in the services'
/// JSON logs (Cloud Logging) it is what the log-based metrics of
/// `deploy/monitoring/` count and measure (`tests/monitoring.rs` checks
/// their filters against it).
pub fn log_recorded_run(run: &ProcessorRun) {
    tracing::info!(
        target: RUN_HISTORY_TARGET,
        processor = %run.processor,
        phase = run.phase,
        game_date = %run.game_date,
        mode = %run.mode,
        status = %run.status,
        duration_ms = run.duration_ms,
        rows_written = run.rows_written,
        records_quarantined = run.records_quarantined,
        correlation_id = %run.correlation_id,
        "processor run recorded"
    );
}

/// Runs one processor and records it: its quarantine entries for the date
/// replace its earlier ones, and its `processor_runs` row is appended.
pub async fn run_processor(
    processor: &dyn Processor,
    ctx: &ProcessContext,
) -> Result<RunReport, ProcessError> {
    let report = execute_processor(processor, ctx).await;
    record_runs(
        ctx.warehouse.as_ref(),
        ctx.game_date,
        std::slice::from_ref(&report),
        Coverage::Some,
    )
    .await?;
    Ok(report)
}
