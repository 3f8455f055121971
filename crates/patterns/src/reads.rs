//! Reads of whole date partitions, for a date or a range of dates in one
//! query: what a processor's range form reads its same-date inputs with,
//! the daily path being the range of one date.

use crate::{ProcessContext, ProcessError};
use chrono::NaiveDate;
use propcast_core::Table;
use propcast_platform::warehouse::{QueryRows, date_list};
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;

/// `SELECT *` of a table's date partition, in key order: [`read_dates`]
/// of the one date.
pub async fn read_date<T: Table + DeserializeOwned + Send>(
    ctx: &ProcessContext,
) -> Result<Vec<T>, ProcessError> {
    let mut rows = read_dates(ctx, &[ctx.game_date]).await?;
    Ok(rows.remove(&ctx.game_date).unwrap_or_default())
}

/// The rows of `date` among rows read by date (none when it has none).
pub fn on_date<T>(by_date: &BTreeMap<NaiveDate, Vec<T>>, date: NaiveDate) -> &[T] {
    by_date.get(&date).map_or(&[], Vec::as_slice)
}

/// `SELECT *` of the date partitions of `dates` in one query, by date,
/// each in key order.
pub async fn read_dates<T: Table + DeserializeOwned + Send>(
    ctx: &ProcessContext,
    dates: &[NaiveDate],
) -> Result<BTreeMap<NaiveDate, Vec<T>>, ProcessError> {
    read_dates_as(ctx, dates, "*", &T::DEF.primary_key.join(", ")).await
}

/// `columns` of the date partitions of `dates` of `T`'s table (created
/// when missing, so a source that never landed reads as empty) in one
/// query, by date, each date's rows in `order`.
pub async fn read_dates_as<T: Table + DeserializeOwned + Send>(
    ctx: &ProcessContext,
    dates: &[NaiveDate],
    columns: &str,
    order: &str,
) -> Result<BTreeMap<NaiveDate, Vec<T>>, ProcessError> {
    ctx.warehouse.ensure_table(&T::DEF).await?;
    let partition = T::DEF.partition;
    let sql = format!(
        "SELECT {columns} FROM {} WHERE {partition} IN {} ORDER BY {partition}, {order}",
        T::DEF.qualified(),
        date_list(dates),
    );
    let rows = ctx.warehouse.query_rows(&sql).await?;
    by_date(rows, partition, &T::DEF.qualified())
}

/// The rows of a query grouped by the date in `column`, each deserialised
/// into `T` (which may leave that column out), in the query's order.
pub fn by_date<T: DeserializeOwned>(
    rows: QueryRows,
    column: &str,
    what: &str,
) -> Result<BTreeMap<NaiveDate, Vec<T>>, ProcessError> {
    let mut out: BTreeMap<NaiveDate, Vec<T>> = BTreeMap::new();
    // No rows, no columns to look for: a backend that builds rows from
    // records (BigQuery) cannot name the columns of an empty result.
    if rows.rows.is_empty() {
        return Ok(out);
    }
    let at = rows
        .columns
        .iter()
        .position(|c| c == column)
        .ok_or_else(|| ProcessError::Permanent(format!("{what}: no {column} column")))?;
    for (i, row) in rows.rows.iter().enumerate() {
        let date = row[at]
            .as_str()
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            .ok_or_else(|| {
                ProcessError::Permanent(format!(
                    "{what} row {i}: {column} is not a date: {}",
                    row[at]
                ))
            })?;
        let value = rows.row_as(i).map_err(|e| {
            ProcessError::Permanent(format!(
                "{what} row {i} does not fit the expected shape: {e}"
            ))
        })?;
        out.entry(date).or_default().push(value);
    }
    Ok(out)
}
