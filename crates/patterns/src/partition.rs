//! The date's rows of one table and how they are written.
//!
//! A processor that computes a whole table partition for one game date
//! collects its rows, counters and quarantined inputs in a [`DateSummary`]
//! and hands it to [`write_partition`], which replaces the date's partition
//! (also when empty, so a rerun clears stale rows) and checks the row count
//! the warehouse reports. A run scoped to some entities uses
//! [`stored_values`] to find the in-scope rows already stored and
//! [`write_scoped`] to replace exactly those.

use crate::{ProcessContext, ProcessError, ProcessOutput, Quarantine, RangeOutput};
use chrono::NaiveDate;
use propcast_core::{Table, TableDef};
use propcast_platform::WarehouseExt;
use propcast_platform::warehouse::{date_literal, text_list};
use std::collections::{BTreeMap, BTreeSet};

/// Per-run counts of what was filtered, derived, skipped or did not
/// reconcile (named by each processor; zero counts are not kept).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counters(pub BTreeMap<String, i64>);

impl Counters {
    pub fn add(&mut self, name: &str, n: i64) {
        if n != 0 {
            *self.0.entry(name.to_string()).or_default() += n;
        }
    }

    pub fn bump(&mut self, name: &str) {
        self.add(name, 1);
    }

    pub fn get(&self, name: &str) -> i64 {
        self.0.get(name).copied().unwrap_or(0)
    }

    pub fn merge(&mut self, other: &Counters) {
        for (k, v) in &other.0 {
            self.add(k, *v);
        }
    }
}

/// What one processor computed for one date.
#[derive(Debug, Clone)]
pub struct DateSummary<T> {
    /// Sorted by the table's key.
    pub rows: Vec<T>,
    /// Filtered, derived and unreconciled counts (see each processor).
    pub counters: Counters,
    /// Input records set aside; the rest of the date proceeded.
    pub quarantine: Quarantine,
    /// Inputs that made the date worth processing (0 means there was
    /// nothing to do).
    pub input_rows: usize,
}

impl<T> Default for DateSummary<T> {
    fn default() -> Self {
        DateSummary {
            rows: Vec::new(),
            counters: Counters::default(),
            quarantine: Quarantine::default(),
            input_rows: 0,
        }
    }
}

impl<T> DateSummary<T> {
    /// The run's output once `written` rows of `T`'s table are stored.
    fn into_output(self, written: u64) -> ProcessOutput
    where
        T: Table,
    {
        let mut output = ProcessOutput {
            quarantine: self.quarantine,
            no_data: self.input_rows == 0,
            counters: self.counters.0,
            ..ProcessOutput::default()
        };
        output.wrote(&T::DEF, written);
        output
    }
}

/// What a processor computes its dates from, read for a range of dates at
/// once (one date on the daily path), each date then computed from it as
/// a read of that date alone would have it: [`process_date`] and
/// [`process_dates`] are then the processor's `process` and
/// `process_range`, the same code on both paths.
#[async_trait::async_trait]
pub trait RangeInputs: Sized + Send + Sync {
    type Row: Table;

    /// Reads the inputs of every date of `dates`.
    async fn read(ctx: &ProcessContext, dates: &[NaiveDate]) -> Result<Self, ProcessError>;

    /// The rows of `date` (one of the dates read).
    fn build(&self, date: NaiveDate) -> DateSummary<Self::Row>;
}

/// `process` of a processor whose inputs are `I`: the range of one date.
pub async fn process_date<I: RangeInputs>(
    ctx: &ProcessContext,
    processor: &'static str,
) -> Result<ProcessOutput, ProcessError> {
    let inputs = I::read(ctx, &[ctx.game_date]).await?;
    write_partition(ctx, processor, inputs.build(ctx.game_date)).await
}

/// `process_range` of a processor whose inputs are `I`: every input read
/// once, each date built as by date, one write per table.
pub async fn process_dates<I: RangeInputs>(
    ctx: &ProcessContext,
    processor: &'static str,
    dates: &[NaiveDate],
) -> Result<RangeOutput, ProcessError> {
    let inputs = I::read(ctx, dates).await?;
    let summaries = dates.iter().map(|d| (*d, inputs.build(*d))).collect();
    write_range(ctx, processor, dates, summaries).await
}

/// Replaces the date's partition of `T`'s table with the summary's rows and
/// verifies the warehouse wrote exactly that many.
pub async fn write_partition<T: Table>(
    ctx: &ProcessContext,
    processor: &'static str,
    summary: DateSummary<T>,
) -> Result<ProcessOutput, ProcessError> {
    let stats = ctx
        .warehouse
        .replace_rows::<T>(ctx.game_date, &[], &summary.rows)
        .await?;
    let expected = summary.rows.len() as u64;
    if stats.rows_written != expected {
        return Err(ProcessError::Permanent(format!(
            "{}: wrote {} rows for {} but computed {expected}",
            T::DEF.qualified(),
            stats.rows_written,
            ctx.game_date
        )));
    }
    tracing::info!(
        processor,
        game_date = %ctx.game_date,
        rows = expected,
        replaced = stats.rows_deleted,
        quarantined = summary.quarantine.len(),
        "partition replaced"
    );
    Ok(summary.into_output(stats.rows_written))
}

/// The range form of [`write_partition`]: replaces the partitions of every
/// date of `dates` of `T`'s table with the summaries' rows in one write
/// ([`propcast_platform::Warehouse::replace_dates`]), verifies the
/// warehouse wrote exactly as many, and gives each date its output as
/// [`write_partition`] would have (a date without a summary is written
/// empty and reports no data).
pub async fn write_range<T: Table>(
    ctx: &ProcessContext,
    processor: &'static str,
    dates: &[NaiveDate],
    mut summaries: BTreeMap<NaiveDate, DateSummary<T>>,
) -> Result<RangeOutput, ProcessError> {
    let mut rows: Vec<T> = Vec::new();
    let mut counted: Vec<(NaiveDate, usize)> = Vec::with_capacity(dates.len());
    for date in dates {
        if let Some(summary) = summaries.get_mut(date) {
            counted.push((*date, summary.rows.len()));
            rows.append(&mut summary.rows);
        }
    }
    if let Some(stray) = summaries.keys().find(|d| !dates.contains(d)) {
        return Err(ProcessError::Permanent(format!(
            "{processor}: computed rows for {stray}, outside the range being written"
        )));
    }
    let stats = ctx.warehouse.replace_date_rows::<T>(dates, &rows).await?;
    let expected = rows.len() as u64;
    if stats.rows_written != expected {
        return Err(ProcessError::Permanent(format!(
            "{}: wrote {} rows for {} dates from {} but computed {expected}",
            T::DEF.qualified(),
            stats.rows_written,
            dates.len(),
            ctx.game_date
        )));
    }
    tracing::info!(
        processor,
        from = %ctx.game_date,
        dates = dates.len(),
        rows = expected,
        replaced = stats.rows_deleted,
        "partitions replaced"
    );
    let written: BTreeMap<NaiveDate, usize> = counted.into_iter().collect();
    Ok(dates
        .iter()
        .map(|date| {
            let summary = summaries.remove(date).unwrap_or_default();
            let n = written.get(date).copied().unwrap_or_default() as u64;
            (*date, summary.into_output(n))
        })
        .collect())
}

/// Replaces, in the date's partition of `T`'s table, exactly the rows whose
/// `column` holds one of `stale` or one of the summary rows' values (each
/// value in its own replace, so rows of other values stay untouched) with
/// the summary's rows, and verifies the warehouse wrote exactly those.
/// `stale` names the in-scope rows already stored (see [`stored_values`]),
/// so a row no longer computed is deleted. The scoped counterpart of
/// [`write_partition`].
pub async fn write_scoped<T: Table>(
    ctx: &ProcessContext,
    processor: &'static str,
    column: &'static str,
    value_of: fn(&T) -> &str,
    stale: BTreeSet<String>,
    summary: DateSummary<T>,
) -> Result<ProcessOutput, ProcessError> {
    let mut by_value: BTreeMap<String, Vec<&T>> =
        stale.into_iter().map(|v| (v, Vec::new())).collect();
    for row in &summary.rows {
        by_value
            .entry(value_of(row).to_string())
            .or_default()
            .push(row);
    }
    let (mut written, mut deleted) = (0, 0);
    for (value, rows) in &by_value {
        let records = rows
            .iter()
            .map(|row| match serde_json::to_value(row) {
                Ok(serde_json::Value::Object(map)) => Ok(map),
                other => Err(ProcessError::Permanent(format!(
                    "a row of {} did not serialise to an object: {other:?}",
                    T::DEF.qualified()
                ))),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let stats = ctx
            .warehouse
            .replace_partition(&T::DEF, ctx.game_date, &[(column, value)], records)
            .await?;
        written += stats.rows_written;
        deleted += stats.rows_deleted;
    }
    let expected = summary.rows.len() as u64;
    if written != expected {
        return Err(ProcessError::Permanent(format!(
            "{}: wrote {written} rows for {} in scope but computed {expected}",
            T::DEF.qualified(),
            ctx.game_date
        )));
    }
    tracing::info!(
        processor,
        game_date = %ctx.game_date,
        entities = by_value.len(),
        rows = expected,
        replaced = deleted,
        quarantined = summary.quarantine.len(),
        "rows in scope replaced"
    );
    Ok(summary.into_output(written))
}

/// The values of `column` stored in the date's partition of `def` among
/// `values` (the in-scope rows a scoped write must replace).
pub async fn stored_values(
    ctx: &ProcessContext,
    def: &TableDef,
    column: &str,
    values: &[&str],
) -> Result<BTreeSet<String>, ProcessError> {
    #[derive(serde::Deserialize)]
    struct Value {
        value: String,
    }
    ctx.warehouse.ensure_table(def).await?;
    let sql = format!(
        "SELECT DISTINCT {column} AS value FROM {} WHERE game_date = {} AND {column} IN {}",
        def.qualified(),
        date_literal(ctx.game_date),
        text_list(values)
    );
    let rows: Vec<Value> = ctx.warehouse.query_as(&sql).await?;
    Ok(rows.into_iter().map(|v| v.value).collect())
}
