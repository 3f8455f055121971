//! Runs one processor for one date inside the common layers: retry with
//! jitter on retryable errors, quarantine bookkeeping, run history.

use crate::processor::{ProcessContext, ProcessError, ProcessOutput, Processor, RunStatus};
use backon::{ExponentialBuilder, Retryable};
use chrono::Utc;
use propcast_core::tables::{ProcessorRun, QuarantineRecord};
use propcast_platform::WarehouseExt;
use std::time::{Duration, Instant};

/// The outcome of one processor run, as recorded in run history.
#[derive(Debug)]
pub struct RunReport {
    pub processor: &'static str,
    pub run_id: String,
    pub status: RunStatus,
    pub output: ProcessOutput,
    pub error: Option<String>,
    pub duration: Duration,
}

/// Retry policy for transient errors: exponential backoff with full jitter,
/// 4 attempts, 200 ms to 5 s.
fn retry_policy() -> ExponentialBuilder {
    ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(200))
        .with_max_delay(Duration::from_secs(5))
        .with_max_times(3)
        .with_jitter()
}

/// Runs `processor` for `ctx.game_date`, then records its quarantine and a
/// `processor_runs` row. A failed run returns `Failed` in the report (the
/// caller decides whether to stop); bookkeeping errors are returned as `Err`.
pub async fn run_processor(
    processor: &dyn Processor,
    ctx: &ProcessContext,
) -> Result<RunReport, ProcessError> {
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
            (RunStatus::Failed, ProcessOutput::default(), Some(e.to_string()))
        }
    };

    // The quarantine of a date is replaced per processor, so a rerun that
    // fixed a file clears its old entries.
    let rows = output
        .quarantine
        .to_rows(ctx.game_date, name, &run_id, ctx.now);
    if status != RunStatus::Failed {
        ctx.warehouse
            .replace_rows::<QuarantineRecord>(ctx.game_date, &[("processor", name)], &rows)
            .await?;
    }
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
        rows_written: output.total_rows() as i64,
        records_quarantined: output.quarantine.len() as i64,
        duration_ms: duration.as_millis() as i64,
        mode: ctx.mode.to_string(),
        started_at,
        finished_at: Utc::now(),
    };
    ctx.warehouse.merge_rows(std::slice::from_ref(&run)).await?;
    tracing::debug!(
        processor = name,
        game_date = %ctx.game_date,
        status = status.as_str(),
        rows = output.total_rows(),
        "processor run recorded"
    );
    Ok(RunReport {
        processor: name,
        run_id,
        status,
        output,
        error,
        duration,
    })
}
