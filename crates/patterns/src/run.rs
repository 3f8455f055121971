//! Runs one processor for one date inside the common layers: retry with
//! jitter on retryable errors, quarantine bookkeeping, run history.
//!
//! Executing and recording are separate so a driver running many processors
//! for a date can record them all in two writes ([`record_reports`]) instead
//! of two per processor; [`run_processor`] does both for a single processor.

use crate::processor::{ProcessContext, ProcessError, ProcessOutput, Processor, RunStatus};
use backon::{ExponentialBuilder, Retryable};
use chrono::{NaiveDate, Utc};
use propcast_core::tables::{ProcessorRun, QuarantineRecord};
use propcast_platform::{Warehouse, WarehouseError, WarehouseExt};
use std::time::{Duration, Instant};

/// The outcome of one processor run, with the rows run history will hold.
#[derive(Debug)]
pub struct RunReport {
    pub processor: &'static str,
    pub run_id: String,
    pub status: RunStatus,
    pub output: ProcessOutput,
    pub error: Option<String>,
    pub duration: Duration,
    /// The `nba_processing.processor_runs` row of this run.
    pub run: ProcessorRun,
    /// The `nba_processing.quarantine` rows of this run.
    pub quarantine_rows: Vec<QuarantineRecord>,
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
    let run_id = uuid::Uuid::new_v4().to_string();
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

    let (status, output, error) = match result {
        Ok(output) => (output.status(), output, None),
        Err(e) => {
            tracing::error!(processor = name, game_date = %ctx.game_date, error = %e, "processor failed");
            (
                RunStatus::Failed,
                ProcessOutput::default(),
                Some(e.to_string()),
            )
        }
    };
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
    let quarantine_rows = output
        .quarantine
        .to_rows(ctx.game_date, name, &run_id, ctx.now);
    let run = ProcessorRun {
        run_id: run_id.clone(),
        execution_id: ctx.execution_id.clone(),
        correlation_id: ctx.correlation_id.clone(),
        processor: name.to_string(),
        phase: processor.phase().number(),
        game_date: ctx.game_date,
        status: status.as_str().to_string(),
        skip_reason: None,
        error: error.clone(),
        round_id: ctx.execution_id.clone(),
        entities_in_scope: None,
        entities_changed: None,
        rows_written: output.total_rows() as i64,
        records_quarantined: output.quarantine.len() as i64,
        duration_ms: duration.as_millis() as i64,
        mode: ctx.mode.to_string(),
        started_at,
        finished_at: Utc::now(),
    };
    RunReport {
        processor: name,
        run_id,
        status,
        output,
        error,
        duration,
        run,
        quarantine_rows,
    }
}

/// A report for a processor that was not run, and why (run history keeps
/// skips too).
pub fn skip_report(processor: &dyn Processor, ctx: &ProcessContext, reason: &str) -> RunReport {
    let run_id = uuid::Uuid::new_v4().to_string();
    let now = Utc::now();
    tracing::debug!(processor = processor.name(), game_date = %ctx.game_date, reason, "processor skipped");
    RunReport {
        processor: processor.name(),
        run_id: run_id.clone(),
        status: RunStatus::Skipped,
        output: ProcessOutput::default(),
        error: None,
        duration: Duration::ZERO,
        run: ProcessorRun {
            run_id,
            execution_id: ctx.execution_id.clone(),
            correlation_id: ctx.correlation_id.clone(),
            processor: processor.name().to_string(),
            phase: processor.phase().number(),
            game_date: ctx.game_date,
            status: RunStatus::Skipped.as_str().to_string(),
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

/// Writes the run history of every processor run for `date` in two writes:
/// the date's quarantine is replaced by the reports' entries (the reports
/// must cover every processor of the date; a failed processor keeps no
/// entries), and the `processor_runs` rows are appended.
pub async fn record_reports(
    warehouse: &dyn Warehouse,
    date: NaiveDate,
    reports: &[RunReport],
) -> Result<(), WarehouseError> {
    let quarantine: Vec<QuarantineRecord> = reports
        .iter()
        .flat_map(|r| r.quarantine_rows.iter().cloned())
        .collect();
    warehouse.replace_rows(date, &[], &quarantine).await?;
    let runs: Vec<ProcessorRun> = reports.iter().map(|r| r.run.clone()).collect();
    warehouse.merge_rows(&runs).await?;
    Ok(())
}

/// Runs one processor and records it: its quarantine entries for the date
/// replace its earlier ones, and its `processor_runs` row is appended.
pub async fn run_processor(
    processor: &dyn Processor,
    ctx: &ProcessContext,
) -> Result<RunReport, ProcessError> {
    let report = execute_processor(processor, ctx).await;
    if report.status != RunStatus::Failed {
        ctx.warehouse
            .replace_rows(
                ctx.game_date,
                &[("processor", report.processor)],
                &report.quarantine_rows,
            )
            .await?;
    }
    ctx.warehouse
        .merge_rows(std::slice::from_ref(&report.run))
        .await?;
    Ok(report)
}
