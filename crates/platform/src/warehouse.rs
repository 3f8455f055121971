//! The analytical warehouse: tables addressed as `dataset.table`, written
//! idempotently (replace a date partition, or merge by primary key).

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use propcast_core::{ColumnType, Table, TableDef};
use serde::de::DeserializeOwned;

mod typed;
pub(crate) mod values;

pub use typed::{records_of, typed_rows};

/// One row as a JSON object: column name → value. Dates are `YYYY-MM-DD`
/// strings, timestamps RFC 3339 strings in UTC, NULL is JSON null.
pub type Record = serde_json::Map<String, serde_json::Value>;

/// A query's rows by position, with the column names once: what
/// [`WarehouseExt::query_as`] deserialises from without building a
/// [`Record`] (a map with its own copy of every column name) per row.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueryRows {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<serde_json::Value>>,
}

impl QueryRows {
    /// The rows of `records` (columns as named by the first).
    pub fn from_records(records: Vec<Record>) -> Self {
        let columns: Vec<String> = records
            .first()
            .map(|r| r.keys().cloned().collect())
            .unwrap_or_default();
        let rows = records
            .into_iter()
            .map(|mut r| {
                columns
                    .iter()
                    .map(|c| r.remove(c).unwrap_or(serde_json::Value::Null))
                    .collect()
            })
            .collect();
        QueryRows { columns, rows }
    }

    /// Every row as a [`Record`].
    pub fn into_records(self) -> Vec<Record> {
        let columns = self.columns;
        self.rows
            .into_iter()
            .map(|row| columns.iter().cloned().zip(row).collect())
            .collect()
    }

    /// Row `i` deserialised into `T`, field by column name.
    pub fn row_as<T: DeserializeOwned>(&self, i: usize) -> Result<T, serde_json::Error> {
        let row = &self.rows[i];
        let cells = self.columns.iter().map(String::as_str).zip(row.iter());
        T::deserialize(serde::de::value::MapDeserializer::<_, serde_json::Error>::new(cells))
    }
}

/// What a write did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriteStats {
    pub rows_deleted: u64,
    pub rows_written: u64,
}

/// A typed query parameter, named `@name` in the SQL of
/// [`Warehouse::query_with`]; also the checked value of one cell of a row
/// being written.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
    Date(NaiveDate),
    Timestamp(DateTime<Utc>),
    /// A NULL of a column type (BigQuery types every parameter).
    Null(ColumnType),
}

impl Param {
    /// The column type the value has.
    pub fn column_type(&self) -> ColumnType {
        match self {
            Param::Bool(_) => ColumnType::Bool,
            Param::Int(_) => ColumnType::Int,
            Param::Float(_) => ColumnType::Float,
            Param::Text(_) => ColumnType::Text,
            Param::Date(_) => ColumnType::Date,
            Param::Timestamp(_) => ColumnType::Timestamp,
            Param::Null(ty) => *ty,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Param::Null(_))
    }
}

/// The value as a query result would render it: dates `YYYY-MM-DD`,
/// timestamps RFC 3339 UTC, NULL as `null`.
impl std::fmt::Display for Param {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Param::Bool(b) => write!(f, "{b}"),
            Param::Int(i) => write!(f, "{i}"),
            Param::Float(x) => write!(f, "{x:?}"),
            Param::Text(s) => f.write_str(s),
            Param::Date(d) => write!(f, "{}", d.format("%Y-%m-%d")),
            Param::Timestamp(ts) => f.write_str(&ts.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
            Param::Null(_) => f.write_str("null"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WarehouseError {
    #[error("table {table}: {message}")]
    Schema { table: String, message: String },
    #[error("row {row} of {table}: column {column}: {message}")]
    BadValue {
        table: String,
        row: usize,
        column: String,
        message: String,
    },
    #[error("query failed: {message}\n  sql: {sql}")]
    Query { sql: String, message: String },
    #[error("the warehouse is read-only: {0}")]
    ReadOnly(String),
    /// Lock contention, lost connection, quota: worth retrying.
    #[error("transient warehouse error: {0}")]
    Transient(String),
    #[error("warehouse error: {0}")]
    Other(String),
}

impl WarehouseError {
    /// Whether retrying the same call may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, WarehouseError::Transient(_))
    }
}

#[async_trait]
pub trait Warehouse: Send + Sync {
    /// Creates the dataset and table if missing (adds no columns to existing
    /// tables; a mismatch is a `Schema` error).
    async fn ensure_table(&self, def: &TableDef) -> Result<(), WarehouseError>;

    /// Runs a read-only SQL query. Tables are addressed as `dataset.table`;
    /// date literals as `DATE 'YYYY-MM-DD'`.
    async fn query(&self, sql: &str) -> Result<Vec<Record>, WarehouseError>;

    /// Runs a read-only SQL query with typed parameters, named `@name` in
    /// the SQL (`WHERE game_date = @day`); a name may appear several times,
    /// every name used must be given.
    async fn query_with(
        &self,
        sql: &str,
        params: &[(&str, Param)],
    ) -> Result<Vec<Record>, WarehouseError>;

    /// [`Warehouse::query`] by position ([`QueryRows`]). This default
    /// converts the records; a backend that reads rows by position
    /// overrides it (DuckDB).
    async fn query_rows(&self, sql: &str) -> Result<QueryRows, WarehouseError> {
        Ok(QueryRows::from_records(self.query(sql).await?))
    }

    /// Every table, as (dataset, table), sorted.
    async fn tables(&self) -> Result<Vec<(String, String)>, WarehouseError>;

    /// Atomically replaces the rows of one date partition whose `scope`
    /// columns equal the given values (all rows of the date when `scope` is
    /// empty) with `rows`. Readers see either the old or the new rows.
    async fn replace_partition(
        &self,
        def: &TableDef,
        date: NaiveDate,
        scope: &[(&str, &str)],
        rows: Vec<Record>,
    ) -> Result<WriteStats, WarehouseError>;

    /// [`Warehouse::replace_partition`] with rows already as column values
    /// in catalog order ([`typed_rows`], [`column_values`]). This default
    /// makes the records back ([`records_of`]); a backend that writes
    /// column values overrides it (DuckDB).
    async fn replace_partition_values(
        &self,
        def: &TableDef,
        date: NaiveDate,
        scope: &[(&str, &str)],
        rows: Vec<Vec<Param>>,
    ) -> Result<WriteStats, WarehouseError> {
        self.replace_partition(def, date, scope, records_of(def, rows))
            .await
    }

    /// Upserts `rows` by the table's primary key, atomically.
    async fn merge(&self, def: &TableDef, rows: Vec<Record>) -> Result<WriteStats, WarehouseError>;

    /// Replaces whole date partitions — every row whose partition column is
    /// one of `dates` — with `rows`, each of which must lie in one of them
    /// (a date without rows is emptied). The range form of
    /// [`Warehouse::replace_partition`]: a backfill writes a table once for
    /// a chunk of dates instead of once per date. Atomic for the whole
    /// range where the backend can (DuckDB, BigQuery); this default, for
    /// any other, replaces date by date, each date atomic.
    async fn replace_dates(
        &self,
        def: &TableDef,
        dates: &[NaiveDate],
        rows: Vec<Record>,
    ) -> Result<WriteStats, WarehouseError> {
        let mut by_date = values::records_by_date(def, dates, rows)?;
        let mut total = WriteStats::default();
        for date in dates {
            let rows = by_date.remove(date).unwrap_or_default();
            let stats = self.replace_partition(def, *date, &[], rows).await?;
            total.rows_deleted += stats.rows_deleted;
            total.rows_written += stats.rows_written;
        }
        Ok(total)
    }

    /// [`Warehouse::replace_dates`] with rows already as column values in
    /// catalog order ([`typed_rows`]), so no JSON record is built per row.
    /// This default makes the records back ([`records_of`]); a backend that
    /// writes column values overrides it (DuckDB).
    async fn replace_dates_values(
        &self,
        def: &TableDef,
        dates: &[NaiveDate],
        rows: Vec<Vec<Param>>,
    ) -> Result<WriteStats, WarehouseError> {
        self.replace_dates(def, dates, records_of(def, rows)).await
    }
}

/// Typed helpers over any [`Warehouse`].
#[async_trait]
pub trait WarehouseExt: Warehouse {
    /// Runs a query and deserialises each record into `T`.
    async fn query_as<T: DeserializeOwned + Send>(
        &self,
        sql: &str,
    ) -> Result<Vec<T>, WarehouseError> {
        let rows = self.query_rows(sql).await?;
        (0..rows.rows.len())
            .map(|i| {
                rows.row_as(i).map_err(|e| WarehouseError::Query {
                    sql: sql.to_string(),
                    message: format!("row {i} does not fit the expected shape: {e}"),
                })
            })
            .collect()
    }

    /// Replaces one date partition (within `scope`) of `T`'s table with `rows`.
    async fn replace_rows<T: Table>(
        &self,
        date: NaiveDate,
        scope: &[(&str, &str)],
        rows: &[T],
    ) -> Result<WriteStats, WarehouseError> {
        let values = typed_rows(&T::DEF, rows)?;
        self.replace_partition_values(&T::DEF, date, scope, values)
            .await
    }

    /// Replaces the partitions of `dates` of `T`'s table with `rows`
    /// ([`Warehouse::replace_dates`]).
    async fn replace_date_rows<T: Table>(
        &self,
        dates: &[NaiveDate],
        rows: &[T],
    ) -> Result<WriteStats, WarehouseError> {
        let values = typed_rows(&T::DEF, rows)?;
        self.replace_dates_values(&T::DEF, dates, values).await
    }

    /// Upserts rows of `T` by primary key.
    async fn merge_rows<T: Table>(&self, rows: &[T]) -> Result<WriteStats, WarehouseError> {
        let records = to_records(rows)?;
        self.merge(&T::DEF, records).await
    }
}

impl<W: Warehouse + ?Sized> WarehouseExt for W {}

/// Records as column values in catalog order, each value checked against
/// its column as every warehouse checks a record it writes: a `BadValue`
/// names the first row and column that does not fit.
pub fn column_values(
    def: &TableDef,
    records: Vec<Record>,
) -> Result<Vec<Vec<Param>>, WarehouseError> {
    values::convert_rows(def, records)
}

/// Serialises typed rows into records.
pub fn to_records<T: Table>(rows: &[T]) -> Result<Vec<Record>, WarehouseError> {
    rows.iter()
        .enumerate()
        .map(|(i, row)| match serde_json::to_value(row) {
            Ok(serde_json::Value::Object(map)) => Ok(map),
            Ok(_) => Err(WarehouseError::Other(format!(
                "row {i} of {} did not serialise to an object",
                T::DEF.qualified()
            ))),
            Err(e) => Err(WarehouseError::Other(format!(
                "row {i} of {}: {e}",
                T::DEF.qualified()
            ))),
        })
        .collect()
}

/// A SQL date literal, portable across DuckDB and BigQuery.
pub fn date_literal(date: NaiveDate) -> String {
    format!("DATE '{}'", date.format("%Y-%m-%d"))
}

/// A parenthesised list of SQL date literals for `IN`:
/// `(DATE '2025-01-01', DATE '2025-01-02')`, and `(NULL)` when `dates` is
/// empty, so `x IN (NULL)` matches nothing. Portable across DuckDB and
/// BigQuery.
pub fn date_list<'a>(dates: impl IntoIterator<Item = &'a NaiveDate>) -> String {
    in_list(dates.into_iter().map(|d| date_literal(*d)).collect())
}

/// `(a, b)` of SQL literals for `IN`, `(NULL)` when there are none.
fn in_list(items: Vec<String>) -> String {
    if items.is_empty() {
        "(NULL)".to_string()
    } else {
        format!("({})", items.join(", "))
    }
}

/// A SQL string literal with quotes escaped.
pub fn string_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// A parenthesised list of SQL string literals for `IN`: `('a', 'b')`, and
/// `(NULL)` when `values` is empty, so `x IN (NULL)` matches nothing.
/// Portable across DuckDB and BigQuery.
pub fn text_list<I>(values: I) -> String
where
    I: IntoIterator,
    I::Item: AsRef<str>,
{
    in_list(
        values
            .into_iter()
            .map(|v| string_literal(v.as_ref()))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_list_quotes_each_value_and_is_null_when_empty() {
        assert_eq!(text_list(["GSW", "NYK"]), "('GSW', 'NYK')");
        assert_eq!(text_list(&["o'neal".to_string()]), "('o''neal')");
        assert_eq!(text_list(Vec::<&str>::new()), "(NULL)");
    }
}
