//! What every warehouse checks the same way before writing: a table
//! definition's shape, each JSON value against its column type (into a
//! [`Param`]), and the `@name` parameters of a SQL text. One home, so the
//! embedded and the BigQuery warehouse accept and refuse the same rows.

use super::{Param, Record, WarehouseError};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use propcast_core::{ColumnType, TableDef};
use std::collections::HashSet;

/// The column type's name in messages.
pub(crate) fn type_name(ty: ColumnType) -> &'static str {
    match ty {
        ColumnType::Bool => "boolean",
        ColumnType::Int => "integer",
        ColumnType::Float => "float",
        ColumnType::Text => "text",
        ColumnType::Date => "date",
        ColumnType::Timestamp => "timestamp",
    }
}

pub(crate) fn schema_error(def: &TableDef, message: String) -> WarehouseError {
    WarehouseError::Schema {
        table: def.qualified(),
        message,
    }
}

/// Checks the definition itself: unique columns, a DATE partition column,
/// key columns that exist.
pub(crate) fn validate_def(def: &TableDef) -> Result<(), WarehouseError> {
    let mut seen = HashSet::new();
    for c in def.columns {
        if !seen.insert(c.name) {
            return Err(schema_error(
                def,
                format!("column {} declared twice", c.name),
            ));
        }
    }
    match def.column(def.partition) {
        Some(c) if c.ty == ColumnType::Date => {}
        Some(_) => {
            return Err(schema_error(
                def,
                format!("partition column {} is not a DATE", def.partition),
            ));
        }
        None => {
            return Err(schema_error(
                def,
                format!("no partition column {}", def.partition),
            ));
        }
    }
    for k in def.primary_key {
        if def.column(k).is_none() {
            return Err(schema_error(def, format!("key column {k} does not exist")));
        }
    }
    Ok(())
}

/// Parses an RFC 3339 timestamp (any offset, optional fraction); a value
/// without offset ("2025-03-16 00:30:00" or with `T`) is taken as UTC.
pub(crate) fn parse_timestamp(text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(ts) = DateTime::parse_from_rfc3339(text) {
        return Ok(ts.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(text, format) {
            return Ok(naive.and_utc());
        }
    }
    if let Ok(ts) = DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f%#z") {
        return Ok(ts.with_timezone(&Utc));
    }
    Err(format!("{text:?} is not an RFC 3339 timestamp"))
}

pub(crate) fn parse_date(text: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| format!("{text:?} is not a YYYY-MM-DD date"))
}

fn describe_json(value: &serde_json::Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 60 {
        format!("{}…", text.chars().take(57).collect::<String>())
    } else {
        text
    }
}

/// Converts one JSON value to the typed value of a column (JSON null is
/// [`Param::Null`] of the column's type).
pub(crate) fn json_to_param(ty: ColumnType, value: &serde_json::Value) -> Result<Param, String> {
    use serde_json::Value as J;
    let mismatch = || format!("{} is not a {}", describe_json(value), type_name(ty));
    match (ty, value) {
        (_, J::Null) => Ok(Param::Null(ty)),
        (ColumnType::Bool, J::Bool(b)) => Ok(Param::Bool(*b)),
        (ColumnType::Int, J::Number(n)) => {
            if let Some(i) = n.as_i64() {
                Ok(Param::Int(i))
            } else if let Some(f) = n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15) {
                Ok(Param::Int(f as i64))
            } else {
                Err(mismatch())
            }
        }
        (ColumnType::Float, J::Number(n)) => n.as_f64().map(Param::Float).ok_or_else(mismatch),
        (ColumnType::Text, J::String(s)) => Ok(Param::Text(s.clone())),
        (ColumnType::Date, J::String(s)) => parse_date(s).map(Param::Date),
        (ColumnType::Timestamp, J::String(s)) => parse_timestamp(s).map(Param::Timestamp),
        _ => Err(mismatch()),
    }
}

/// A scope value given as text, converted to the column's type.
pub(crate) fn scope_to_param(ty: ColumnType, text: &str) -> Result<Param, String> {
    match ty {
        ColumnType::Text => Ok(Param::Text(text.to_string())),
        ColumnType::Date | ColumnType::Timestamp => {
            json_to_param(ty, &serde_json::Value::String(text.to_string()))
        }
        ColumnType::Int => text
            .trim()
            .parse::<i64>()
            .map(Param::Int)
            .map_err(|_| format!("{text:?} is not an integer")),
        ColumnType::Float => text
            .trim()
            .parse::<f64>()
            .map(Param::Float)
            .map_err(|_| format!("{text:?} is not a number")),
        ColumnType::Bool => match text.trim() {
            "true" | "TRUE" | "1" => Ok(Param::Bool(true)),
            "false" | "FALSE" | "0" => Ok(Param::Bool(false)),
            _ => Err(format!("{text:?} is not a boolean")),
        },
    }
}

/// Converts records to rows of typed values in catalog column order; the
/// first value that does not fit is a `BadValue` naming its row and column.
pub(crate) fn convert_rows(
    def: &TableDef,
    rows: Vec<Record>,
) -> Result<Vec<Vec<Param>>, WarehouseError> {
    let table = def.qualified();
    let bad = |row: usize, column: &str, message: String| WarehouseError::BadValue {
        table: table.clone(),
        row,
        column: column.to_string(),
        message,
    };
    let mut out = Vec::with_capacity(rows.len());
    for (i, record) in rows.into_iter().enumerate() {
        if let Some(unknown) = record.keys().find(|k| def.column(k).is_none()) {
            return Err(bad(i, unknown, "no such column in the table".to_string()));
        }
        let mut row = Vec::with_capacity(def.columns.len());
        for c in def.columns {
            let value = match record.get(c.name) {
                Some(v) => json_to_param(c.ty, v).map_err(|m| bad(i, c.name, m))?,
                None => Param::Null(c.ty),
            };
            if value.is_null() && !c.nullable {
                let message = if record.contains_key(c.name) {
                    "null in a non-nullable column"
                } else {
                    "missing value for a non-nullable column"
                };
                return Err(bad(i, c.name, message.to_string()));
            }
            row.push(value);
        }
        out.push(row);
    }
    Ok(out)
}

/// The slice of a table a `replace_partition` replaces: the partition
/// column equal to `date`, each scope column equal to its value (column
/// index, typed value).
pub(crate) fn partition_slice(
    def: &TableDef,
    date: NaiveDate,
    scope: &[(&str, &str)],
) -> Result<Vec<(usize, Param)>, WarehouseError> {
    let index = |name: &str| def.columns.iter().position(|c| c.name == name);
    let part_idx = index(def.partition)
        .ok_or_else(|| schema_error(def, format!("no partition column {}", def.partition)))?;
    let mut slice = vec![(part_idx, Param::Date(date))];
    for (name, text) in scope {
        let idx = index(name)
            .ok_or_else(|| schema_error(def, format!("scope column {name} does not exist")))?;
        let value = scope_to_param(def.columns[idx].ty, text).map_err(|message| {
            schema_error(
                def,
                format!("scope value {text:?} for column {name}: {message}"),
            )
        })?;
        slice.push((idx, value));
    }
    Ok(slice)
}

/// Records grouped by their partition date, each of which must be one of
/// `dates` (a record outside them is a `BadValue` naming its row).
pub(crate) fn records_by_date(
    def: &TableDef,
    dates: &[NaiveDate],
    rows: Vec<Record>,
) -> Result<std::collections::BTreeMap<NaiveDate, Vec<Record>>, WarehouseError> {
    let wanted: std::collections::BTreeSet<NaiveDate> = dates.iter().copied().collect();
    let mut out: std::collections::BTreeMap<NaiveDate, Vec<Record>> = Default::default();
    for (i, record) in rows.into_iter().enumerate() {
        let date = record
            .get(def.partition)
            .and_then(|v| v.as_str())
            .and_then(|s| parse_date(s).ok())
            .filter(|d| wanted.contains(d))
            .ok_or_else(|| WarehouseError::BadValue {
                table: def.qualified(),
                row: i,
                column: def.partition.to_string(),
                message: format!(
                    "{} is not one of the {} dates being replaced",
                    record.get(def.partition).cloned().unwrap_or_default(),
                    dates.len()
                ),
            })?;
        out.entry(date).or_default().push(record);
    }
    Ok(out)
}

/// Checks that every converted row's partition value is one of `dates`.
pub(crate) fn check_rows_in_dates(
    def: &TableDef,
    dates: &[NaiveDate],
    rows: &[Vec<Param>],
) -> Result<usize, WarehouseError> {
    let part_idx = def
        .columns
        .iter()
        .position(|c| c.name == def.partition)
        .ok_or_else(|| schema_error(def, format!("no partition column {}", def.partition)))?;
    let wanted: std::collections::BTreeSet<NaiveDate> = dates.iter().copied().collect();
    for (row_idx, row) in rows.iter().enumerate() {
        let inside = matches!(&row[part_idx], Param::Date(d) if wanted.contains(d));
        if !inside {
            return Err(WarehouseError::BadValue {
                table: def.qualified(),
                row: row_idx,
                column: def.partition.to_string(),
                message: format!(
                    "{} is outside the {} dates being replaced",
                    row[part_idx],
                    dates.len()
                ),
            });
        }
    }
    Ok(part_idx)
}

/// Checks that every row lies in the slice being replaced.
pub(crate) fn check_rows_in_slice(
    def: &TableDef,
    slice: &[(usize, Param)],
    rows: &[Vec<Param>],
) -> Result<(), WarehouseError> {
    for (row_idx, row) in rows.iter().enumerate() {
        for (col_idx, expected) in slice {
            if &row[*col_idx] != expected {
                return Err(WarehouseError::BadValue {
                    table: def.qualified(),
                    row: row_idx,
                    column: def.columns[*col_idx].name.to_string(),
                    message: format!(
                        "{} is outside the partition being replaced ({})",
                        row[*col_idx], expected
                    ),
                });
            }
        }
    }
    Ok(())
}

/// Keeps the last row of each primary key, as if rows were merged one by
/// one (order otherwise kept).
pub(crate) fn last_row_per_key(def: &TableDef, rows: Vec<Vec<Param>>) -> Vec<Vec<Param>> {
    let key_idx: Vec<usize> = def
        .primary_key
        .iter()
        .filter_map(|k| def.columns.iter().position(|c| c.name == *k))
        .collect();
    let key_of =
        |row: &Vec<Param>| -> Vec<String> { key_idx.iter().map(|&k| row[k].to_string()).collect() };
    let mut last = std::collections::HashMap::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        last.insert(key_of(row), i);
    }
    if last.len() == rows.len() {
        return rows;
    }
    let keep: HashSet<usize> = last.into_values().collect();
    rows.into_iter()
        .enumerate()
        .filter(|(i, _)| keep.contains(i))
        .map(|(_, r)| r)
        .collect()
}

/// One piece of a SQL text, as [`scan_sql`] sees it.
pub(crate) enum SqlPiece<'a> {
    /// Text to copy as it is: string literals, quoted identifiers,
    /// comments, whitespace, operators.
    Verbatim(&'a str),
    /// A bare word (identifier or keyword).
    Word(&'a str),
    /// A `` `quoted` `` identifier, without its backticks.
    Backticked(&'a str),
    /// `@name`: a query parameter (not `@@system_variable`).
    Param(&'a str),
    /// A single-quoted string literal with its quotes, SQL-standard
    /// escaped (`'it''s'`, a backslash being itself).
    Str(&'a str),
}

/// The text of a SQL-standard string literal (`'it''s'` → `it's`).
pub(crate) fn unquote(literal: &str) -> String {
    let inner = literal
        .strip_prefix('\'')
        .map(|s| s.strip_suffix('\'').unwrap_or(s))
        .unwrap_or(literal);
    inner.replace("''", "'")
}

/// Splits SQL into words, backticked identifiers, `@parameters` and the
/// rest, never looking inside string literals or comments. Warehouse SQL
/// is written with SQL-standard literals, as DuckDB reads them and
/// [`string_literal`](super::string_literal) writes them: '…' with a doubled
/// quote for a quote and backslashes as themselves; `--`, `#` and `/* */`
/// comments.
pub(crate) fn scan_sql(sql: &str) -> Vec<SqlPiece<'_>> {
    let bytes = sql.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut verbatim_start = 0;
    let is_word_start = |b: u8| b.is_ascii_alphabetic() || b == b'_';
    let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    macro_rules! flush {
        ($end:expr) => {
            if verbatim_start < $end {
                out.push(SqlPiece::Verbatim(&sql[verbatim_start..$end]));
            }
        };
    }
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'\'' | b'"' => {
                // SQL-standard quoting: a doubled quote is a quote, a
                // backslash is itself.
                let quote = b;
                let mut j = i + 1;
                while j < bytes.len() {
                    if bytes[j] == quote {
                        if bytes.get(j + 1) == Some(&quote) {
                            j += 2;
                            continue;
                        }
                        break;
                    }
                    j += 1;
                }
                let end = (j + 1).min(bytes.len());
                if quote == b'\'' {
                    flush!(i);
                    out.push(SqlPiece::Str(&sql[i..end]));
                    verbatim_start = end;
                }
                i = end;
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                i = sql[i..].find('\n').map_or(bytes.len(), |n| i + n);
            }
            b'#' => {
                i = sql[i..].find('\n').map_or(bytes.len(), |n| i + n);
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = sql[i + 2..]
                    .find("*/")
                    .map_or(bytes.len(), |n| i + 2 + n + 2);
            }
            b'`' => {
                flush!(i);
                let end = sql[i + 1..].find('`').map_or(bytes.len(), |n| i + 1 + n);
                out.push(SqlPiece::Backticked(&sql[i + 1..end]));
                i = (end + 1).min(bytes.len());
                verbatim_start = i;
            }
            b'@' if bytes.get(i + 1).copied().is_some_and(is_word_start) => {
                flush!(i);
                let mut j = i + 1;
                while j < bytes.len() && is_word(bytes[j]) {
                    j += 1;
                }
                out.push(SqlPiece::Param(&sql[i + 1..j]));
                i = j;
                verbatim_start = i;
            }
            b'@' if bytes.get(i + 1) == Some(&b'@') => {
                // A system variable: copy `@@name` as it is.
                let mut j = i + 2;
                while j < bytes.len() && is_word(bytes[j]) {
                    j += 1;
                }
                i = j;
            }
            _ if is_word_start(b) && (i == 0 || !is_word(bytes[i - 1])) => {
                flush!(i);
                let mut j = i + 1;
                while j < bytes.len() && is_word(bytes[j]) {
                    j += 1;
                }
                out.push(SqlPiece::Word(&sql[i..j]));
                i = j;
                verbatim_start = i;
            }
            _ => i += sql[i..].chars().next().map_or(1, char::len_utf8),
        }
    }
    flush!(bytes.len());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(sql: &str) -> Vec<String> {
        scan_sql(sql)
            .into_iter()
            .map(|p| match p {
                SqlPiece::Verbatim(s) => format!("v:{s}"),
                SqlPiece::Word(s) => format!("w:{s}"),
                SqlPiece::Backticked(s) => format!("b:{s}"),
                SqlPiece::Param(s) => format!("p:{s}"),
                SqlPiece::Str(s) => format!("s:{s}"),
            })
            .collect()
    }

    #[test]
    fn scan_skips_strings_and_comments() {
        assert_eq!(
            pieces(
                "SELECT 'a@b nba_raw.x', x1 FROM `nba_raw.t` -- @c\nWHERE d = @day AND @@row_count"
            ),
            [
                "w:SELECT",
                "v: ",
                "s:'a@b nba_raw.x'",
                "v:, ",
                "w:x1",
                "v: ",
                "w:FROM",
                "v: ",
                "b:nba_raw.t",
                "v: -- @c\n",
                "w:WHERE",
                "v: ",
                "w:d",
                "v: = ",
                "p:day",
                "v: ",
                "w:AND",
                "v: @@row_count",
            ]
        );
        assert_eq!(
            pieces("'it''s' \"q\"\"\" 'a\\'"),
            ["s:'it''s'", "v: \"q\"\"\" ", "s:'a\\'"]
        );
        assert_eq!(unquote("'it''s'"), "it's");
        assert_eq!(unquote("'a\\'"), "a\\");
        assert_eq!(pieces("é_x"), ["v:é", "w:_x"]);
    }

    #[test]
    fn rows_convert_by_column_type() {
        assert_eq!(
            json_to_param(ColumnType::Int, &serde_json::json!(3.0)),
            Ok(Param::Int(3))
        );
        assert!(json_to_param(ColumnType::Int, &serde_json::json!("3")).is_err());
        assert_eq!(
            json_to_param(ColumnType::Date, &serde_json::json!(null)),
            Ok(Param::Null(ColumnType::Date))
        );
        let a = parse_timestamp("2025-03-16T00:30:00Z").unwrap();
        assert_eq!(parse_timestamp("2025-03-15T20:30:00-04:00").unwrap(), a);
        assert_eq!(parse_timestamp("2025-03-16 00:30:00").unwrap(), a);
        assert!(parse_timestamp("yesterday").is_err());
    }
}
