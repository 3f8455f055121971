//! The embedded warehouse: one DuckDB file, datasets as DuckDB schemas.
//!
//! Tables carry no PRIMARY KEY constraint (DuckDB's index checks reject a
//! delete followed by an insert of the same key in one transaction); the
//! key is enforced by how rows are written: `replace_partition` deletes the
//! partition slice first, `merge` deletes the incoming keys first, each in
//! one transaction. Rows are checked against the table definition before
//! anything is written, so a bad value never leaves a half-written table.

use crate::embedded::readers::{ReaderEndpoint, readers_socket, reads_only};
use crate::embedded::run_blocking;
use crate::warehouse::values::{self, SqlPiece, schema_error, validate_def};
use crate::warehouse::{Param, QueryRows, Record, Warehouse, WarehouseError, WriteStats};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use duckdb::types::{TimeUnit, Value, ValueRef};
use duckdb::{AccessMode, Config, Connection};
use propcast_core::{ColumnType, TableDef};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

/// A DuckDB database (file or in-memory) behind the [`Warehouse`] trait.
pub struct DuckDbWarehouse {
    conn: Mutex<Connection>,
    read_only: bool,
    location: String,
    /// Tables already created or checked by this handle.
    ensured: Mutex<HashSet<String>>,
    /// Where this writer serves other processes' reads, once asked to
    /// ([`DuckDbWarehouse::serve_readers`]).
    readers: Mutex<Option<ReaderEndpoint>>,
}

impl std::fmt::Debug for DuckDbWarehouse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DuckDbWarehouse")
            .field("location", &self.location)
            .field("read_only", &self.read_only)
            .finish()
    }
}

/// The most memory DuckDB's buffer pool may hold for a warehouse file.
/// DuckDB's default (80 % of the machine's memory) keeps every page it has
/// read, so a process's memory grows with the warehouse: a backfill of the
/// shared seasons repeated 4× peaked at 1.6 GiB, 922 MiB with this cap and
/// the same time (docs/BENCHMARKS.md, scale curve). Pages beyond it are
/// read again from the file; larger intermediate results spill to a
/// temporary directory beside it.
pub const MEMORY_LIMIT: &str = "256MB";

impl DuckDbWarehouse {
    /// Opens (or creates) a database file for reading and writing; creates
    /// missing parent directories.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, WarehouseError> {
        let path = path.as_ref();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| {
                WarehouseError::Other(format!("cannot create {}: {e}", parent.display()))
            })?;
        }
        let config = Config::default()
            .access_mode(AccessMode::ReadWrite)
            .and_then(|c| c.max_memory(MEMORY_LIMIT))
            .map_err(open_error)?;
        let conn = Connection::open_with_flags(path, config).map_err(open_error)?;
        tracing::debug!(path = %path.display(), "opened duckdb warehouse");
        Ok(Self::from_connection(
            conn,
            false,
            path.display().to_string(),
        ))
    }

    /// Opens an existing database file read-only: queries work, writes
    /// return [`WarehouseError::ReadOnly`]. Other processes may open the
    /// same file read-only at the same time (but not while a writer has it).
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<Self, WarehouseError> {
        let path = path.as_ref();
        if !path.exists() {
            return Err(WarehouseError::Other(format!(
                "warehouse file {} does not exist",
                path.display()
            )));
        }
        let config = Config::default()
            .access_mode(AccessMode::ReadOnly)
            .and_then(|c| c.max_memory(MEMORY_LIMIT))
            .map_err(open_error)?;
        let conn = Connection::open_with_flags(path, config).map_err(open_error)?;
        Ok(Self::from_connection(
            conn,
            true,
            path.display().to_string(),
        ))
    }

    /// A fresh in-memory database (gone when dropped).
    pub fn in_memory() -> Result<Self, WarehouseError> {
        let conn = Connection::open_in_memory().map_err(open_error)?;
        Ok(Self::from_connection(conn, false, ":memory:".to_string()))
    }

    fn from_connection(conn: Connection, read_only: bool, location: String) -> Self {
        Self {
            conn: Mutex::new(conn),
            read_only,
            location,
            ensured: Mutex::new(HashSet::new()),
            readers: Mutex::new(None),
        }
    }

    /// Serves reads of this database to other processes on a Unix socket
    /// beside its file ([`readers_socket`]), until this handle is dropped:
    /// DuckDB admits no other process beside a writer, so this is how
    /// `propcast query`, `status` and the dashboard read a warehouse while
    /// a backfill or a daily run writes it (see `embedded::readers`). Needs
    /// a tokio runtime; returns the socket.
    pub fn serve_readers(&self) -> Result<PathBuf, WarehouseError> {
        if self.read_only || self.location == ":memory:" {
            return Err(WarehouseError::Other(format!(
                "{} is not a writer's file: nothing to serve",
                self.location
            )));
        }
        let socket = readers_socket(Path::new(&self.location));
        let reader = {
            let conn = self.lock();
            let second = conn.try_clone().map_err(open_error)?;
            Self::from_connection(second, true, self.location.clone())
        };
        let endpoint = ReaderEndpoint::start(reader, &socket)?;
        *self.readers.lock().unwrap_or_else(|p| p.into_inner()) = Some(endpoint);
        Ok(socket)
    }

    /// A query served to another process: one statement that only reads,
    /// run in a transaction that is rolled back, so it sees one committed
    /// snapshot and changes nothing.
    pub(crate) fn snapshot_query_blocking(
        &self,
        sql: &str,
        params: &[(&str, Param)],
    ) -> Result<QueryRows, WarehouseError> {
        if !reads_only(sql) {
            return Err(WarehouseError::ReadOnly(format!(
                "only one statement that reads (SELECT, WITH, DESCRIBE, ...) may run beside the warehouse's writer, not: {sql}"
            )));
        }
        let (bound_sql, values) = bind_params(sql, params)?;
        let conn = self.lock();
        conn.execute_batch("BEGIN TRANSACTION")
            .map_err(|e| map_error("BEGIN TRANSACTION", e))?;
        let result = query_on(&conn, &bound_sql, &values);
        let _ = conn.execute_batch("ROLLBACK");
        result
    }

    /// [`Warehouse::tables`], blocking.
    pub(crate) fn tables_blocking(&self) -> Result<Vec<(String, String)>, WarehouseError> {
        let rows = self.query_blocking(TABLES_SQL, &[])?.into_records();
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                let schema = r.get("table_schema")?.as_str()?.to_string();
                let table = r.get("table_name")?.as_str()?.to_string();
                (schema != "main" || !table.starts_with("propcast_merge_"))
                    .then_some((schema, table))
            })
            .collect())
    }

    /// Where the database lives (a file path or `:memory:`).
    pub fn location(&self) -> &str {
        &self.location
    }

    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// Writes the write-ahead log into the database file (DuckDB also does
    /// this on its own and on close).
    pub fn checkpoint(&self) -> Result<(), WarehouseError> {
        if self.read_only {
            return Ok(());
        }
        let conn = self.lock();
        conn.execute_batch("CHECKPOINT")
            .map_err(|e| map_error("CHECKPOINT", e))
    }

    /// Number of rows in a table (0 when it does not exist).
    pub fn row_count(&self, def: &TableDef) -> Result<u64, WarehouseError> {
        let conn = self.lock();
        if !table_exists(&conn, def)? {
            return Ok(0);
        }
        let sql = format!("SELECT count(*) FROM {}", qualified(def));
        conn.query_row(&sql, [], |row| row.get::<_, i64>(0))
            .map(|n| n as u64)
            .map_err(|e| map_error(&sql, e))
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        let guard = self
            .conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if !guard.is_autocommit() {
            // A panic in the middle of a write left its transaction open.
            let _ = guard.execute_batch("ROLLBACK");
        }
        guard
    }

    fn check_writable(&self, def: &TableDef) -> Result<(), WarehouseError> {
        if self.read_only {
            return Err(WarehouseError::ReadOnly(format!(
                "cannot write {} in {}",
                def.qualified(),
                self.location
            )));
        }
        Ok(())
    }

    /// Creates the schema and table when missing and checks an existing
    /// table's columns; cached per handle.
    fn ensure_locked(&self, conn: &Connection, def: &TableDef) -> Result<(), WarehouseError> {
        let key = def.qualified();
        if self
            .ensured
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&key)
        {
            return Ok(());
        }
        validate_def(def)?;
        let existing = existing_columns(conn, def)?;
        if existing.is_empty() {
            if self.read_only {
                return Err(WarehouseError::ReadOnly(format!(
                    "table {} does not exist in {}",
                    key, self.location
                )));
            }
            let sql = create_table_sql(def);
            conn.execute_batch(&sql).map_err(|e| map_error(&sql, e))?;
            tracing::debug!(table = %key, "created warehouse table");
        } else {
            check_columns(def, &existing)?;
        }
        self.ensured
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key);
        Ok(())
    }

    fn replace_partition_blocking(
        &self,
        def: &TableDef,
        date: NaiveDate,
        scope: &[(&str, &str)],
        checked: Vec<Vec<Param>>,
    ) -> Result<WriteStats, WarehouseError> {
        self.check_writable(def)?;
        validate_def(def)?;

        // The slice being replaced: partition = date and each scope column = value.
        let slice = values::partition_slice(def, date, scope)?;
        values::check_rows_in_slice(def, &slice, &checked)?;
        let converted: Vec<Vec<Value>> = checked
            .iter()
            .map(|row| row.iter().map(param_value).collect())
            .collect();
        let slice: Vec<(usize, Value)> = slice.iter().map(|(i, p)| (*i, param_value(p))).collect();

        let conn = self.lock();
        self.ensure_locked(&conn, def)?;
        let where_sql = slice
            .iter()
            .map(|(idx, _)| format!("{} = ?", quote_ident(def.columns[*idx].name)))
            .collect::<Vec<_>>()
            .join(" AND ");
        let delete_sql = format!("DELETE FROM {} WHERE {}", qualified(def), where_sql);
        let params: Vec<&Value> = slice.iter().map(|(_, v)| v).collect();

        in_transaction(&conn, || {
            let deleted = conn
                .execute(&delete_sql, duckdb::params_from_iter(params.iter()))
                .map_err(|e| map_error(&delete_sql, e))?;
            let written = append_rows(&conn, def, def.dataset, def.name, &converted)?;
            Ok(WriteStats {
                rows_deleted: deleted as u64,
                rows_written: written,
            })
        })
    }

    /// [`Warehouse::replace_dates`] in one transaction: one DELETE for all
    /// the dates, one Appender for all the rows.
    fn replace_dates_blocking(
        &self,
        def: &TableDef,
        dates: &[NaiveDate],
        checked: Vec<Vec<Param>>,
    ) -> Result<WriteStats, WarehouseError> {
        self.check_writable(def)?;
        validate_def(def)?;
        values::check_rows_in_dates(def, dates, &checked)?;
        let converted: Vec<Vec<Value>> = checked
            .iter()
            .map(|row| row.iter().map(param_value).collect())
            .collect();
        let conn = self.lock();
        self.ensure_locked(&conn, def)?;
        let delete_sql = format!(
            "DELETE FROM {} WHERE {} IN {}",
            qualified(def),
            quote_ident(def.partition),
            crate::warehouse::date_list(dates)
        );
        in_transaction(&conn, || {
            // No dates: `IN (NULL)` deletes nothing.
            let deleted = conn
                .execute(&delete_sql, [])
                .map_err(|e| map_error(&delete_sql, e))?;
            let written = append_rows(&conn, def, def.dataset, def.name, &converted)?;
            Ok(WriteStats {
                rows_deleted: deleted as u64,
                rows_written: written,
            })
        })
    }

    fn merge_blocking(
        &self,
        def: &TableDef,
        rows: Vec<Record>,
    ) -> Result<WriteStats, WarehouseError> {
        self.check_writable(def)?;
        validate_def(def)?;
        if def.primary_key.is_empty() {
            return Err(schema_error(def, "merge needs a primary key".to_string()));
        }
        let key_idx = def
            .primary_key
            .iter()
            .map(|k| column_index(def, k))
            .collect::<Result<Vec<_>, _>>()?;
        let converted = convert_rows(def, rows)?;
        // The last row for a key wins, as if the rows were merged one by one.
        let mut last_for_key: HashMap<Vec<String>, usize> = HashMap::with_capacity(converted.len());
        for (i, row) in converted.iter().enumerate() {
            let key = key_idx.iter().map(|&k| render_value(&row[k])).collect();
            last_for_key.insert(key, i);
        }
        let rows: Vec<Vec<Value>> = if last_for_key.len() == converted.len() {
            converted
        } else {
            let keep: HashSet<usize> = last_for_key.into_values().collect();
            converted
                .into_iter()
                .enumerate()
                .filter(|(i, _)| keep.contains(i))
                .map(|(_, r)| r)
                .collect()
        };

        let conn = self.lock();
        self.ensure_locked(&conn, def)?;
        if rows.is_empty() {
            return Ok(WriteStats::default());
        }
        let stage = format!("propcast_merge_{}_{}", def.dataset, def.name);
        let stage_q = quote_ident(&stage);
        let create_stage = format!(
            "CREATE OR REPLACE TEMP TABLE {stage_q} AS SELECT * FROM {} LIMIT 0",
            qualified(def)
        );
        let key_match = def
            .primary_key
            .iter()
            .map(|k| {
                let k = quote_ident(k);
                format!("t.{k} IS NOT DISTINCT FROM s.{k}")
            })
            .collect::<Vec<_>>()
            .join(" AND ");
        let delete_sql = format!(
            "DELETE FROM {} AS t USING {stage_q} AS s WHERE {key_match}",
            qualified(def)
        );
        let insert_sql = format!(
            "INSERT INTO {} BY NAME SELECT * FROM {stage_q}",
            qualified(def)
        );
        let drop_stage = format!("DROP TABLE IF EXISTS {stage_q}");

        let result = in_transaction(&conn, || {
            conn.execute_batch(&create_stage)
                .map_err(|e| map_error(&create_stage, e))?;
            append_rows_to(&conn, def, &stage, Target::Temp, &rows)?;
            let deleted = conn
                .execute(&delete_sql, [])
                .map_err(|e| map_error(&delete_sql, e))?;
            let written = conn
                .execute(&insert_sql, [])
                .map_err(|e| map_error(&insert_sql, e))?;
            conn.execute_batch(&drop_stage)
                .map_err(|e| map_error(&drop_stage, e))?;
            Ok(WriteStats {
                rows_deleted: deleted as u64,
                rows_written: written as u64,
            })
        });
        if result.is_err() {
            let _ = conn.execute_batch(&drop_stage);
        }
        result
    }

    fn query_blocking(&self, sql: &str, params: &[Value]) -> Result<QueryRows, WarehouseError> {
        query_on(&self.lock(), sql, params)
    }
}

/// Every table of the database but DuckDB's own and the merge stages.
const TABLES_SQL: &str = "SELECT table_schema, table_name FROM information_schema.tables \
     WHERE table_catalog = current_database() AND table_type = 'BASE TABLE' \
     AND table_schema NOT IN ('information_schema', 'pg_catalog') \
     ORDER BY table_schema, table_name";

fn query_on(conn: &Connection, sql: &str, params: &[Value]) -> Result<QueryRows, WarehouseError> {
    let mut stmt = conn.prepare(sql).map_err(|e| map_error(sql, e))?;
    let mut rows = stmt
        .query(duckdb::params_from_iter(params.iter()))
        .map_err(|e| map_error(sql, e))?;
    let names: Vec<String> = match rows.as_ref() {
        Some(stmt) => stmt.column_names(),
        None => Vec::new(),
    };
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(|e| map_error(sql, e))? {
        let mut values = Vec::with_capacity(names.len());
        for i in 0..names.len() {
            let value = row.get_ref(i).map_err(|e| map_error(sql, e))?;
            values.push(value_ref_to_json(value));
        }
        out.push(values);
    }
    Ok(QueryRows {
        columns: names,
        rows: out,
    })
}

#[async_trait]
impl Warehouse for DuckDbWarehouse {
    async fn ensure_table(&self, def: &TableDef) -> Result<(), WarehouseError> {
        run_blocking(|| {
            let conn = self.lock();
            self.ensure_locked(&conn, def)
        })
    }

    async fn query(&self, sql: &str) -> Result<Vec<Record>, WarehouseError> {
        Ok(self.query_rows(sql).await?.into_records())
    }

    async fn query_rows(&self, sql: &str) -> Result<QueryRows, WarehouseError> {
        tracing::trace!(sql, "warehouse query");
        run_blocking(|| self.query_blocking(sql, &[]))
    }

    async fn query_with(
        &self,
        sql: &str,
        params: &[(&str, Param)],
    ) -> Result<Vec<Record>, WarehouseError> {
        let (bound_sql, values) = bind_params(sql, params)?;
        run_blocking(|| {
            self.query_blocking(&bound_sql, &values)
                .map(QueryRows::into_records)
        })
        .map_err(|e| match e {
            // Name the SQL as the caller wrote it.
            WarehouseError::Query { message, .. } => WarehouseError::Query {
                sql: sql.to_string(),
                message,
            },
            other => other,
        })
    }

    async fn tables(&self) -> Result<Vec<(String, String)>, WarehouseError> {
        run_blocking(|| self.tables_blocking())
    }

    async fn replace_partition(
        &self,
        def: &TableDef,
        date: NaiveDate,
        scope: &[(&str, &str)],
        rows: Vec<Record>,
    ) -> Result<WriteStats, WarehouseError> {
        let checked = values::convert_rows(def, rows)?;
        self.replace_partition_values(def, date, scope, checked)
            .await
    }

    async fn replace_partition_values(
        &self,
        def: &TableDef,
        date: NaiveDate,
        scope: &[(&str, &str)],
        rows: Vec<Vec<Param>>,
    ) -> Result<WriteStats, WarehouseError> {
        let stats = run_blocking(|| self.replace_partition_blocking(def, date, scope, rows))?;
        tracing::debug!(
            table = %def.qualified(),
            game_date = %date,
            rows_deleted = stats.rows_deleted,
            rows_written = stats.rows_written,
            "replaced warehouse partition"
        );
        Ok(stats)
    }

    async fn replace_dates(
        &self,
        def: &TableDef,
        dates: &[NaiveDate],
        rows: Vec<Record>,
    ) -> Result<WriteStats, WarehouseError> {
        let checked = values::convert_rows(def, rows)?;
        self.replace_dates_values(def, dates, checked).await
    }

    async fn replace_dates_values(
        &self,
        def: &TableDef,
        dates: &[NaiveDate],
        rows: Vec<Vec<Param>>,
    ) -> Result<WriteStats, WarehouseError> {
        let stats = run_blocking(|| self.replace_dates_blocking(def, dates, rows))?;
        tracing::debug!(
            table = %def.qualified(),
            dates = dates.len(),
            rows_deleted = stats.rows_deleted,
            rows_written = stats.rows_written,
            "replaced warehouse partitions"
        );
        Ok(stats)
    }

    async fn merge(&self, def: &TableDef, rows: Vec<Record>) -> Result<WriteStats, WarehouseError> {
        let stats = run_blocking(|| self.merge_blocking(def, rows))?;
        tracing::debug!(
            table = %def.qualified(),
            rows_deleted = stats.rows_deleted,
            rows_written = stats.rows_written,
            "merged warehouse rows"
        );
        Ok(stats)
    }
}

// ------------------------------------------------------------ transactions

/// Runs `f` inside BEGIN/COMMIT; rolls back when it (or the commit) fails.
fn in_transaction<T>(
    conn: &Connection,
    f: impl FnOnce() -> Result<T, WarehouseError>,
) -> Result<T, WarehouseError> {
    conn.execute_batch("BEGIN TRANSACTION")
        .map_err(|e| map_error("BEGIN TRANSACTION", e))?;
    let result = f().and_then(|value| {
        conn.execute_batch("COMMIT")
            .map_err(|e| map_error("COMMIT", e))?;
        Ok(value)
    });
    if result.is_err()
        && !conn.is_autocommit()
        && let Err(e) = conn.execute_batch("ROLLBACK")
    {
        tracing::warn!(error = %e, "rollback failed");
    }
    result
}

enum Target {
    Schema(&'static str),
    Temp,
}

fn append_rows(
    conn: &Connection,
    def: &TableDef,
    schema: &'static str,
    table: &str,
    rows: &[Vec<Value>],
) -> Result<u64, WarehouseError> {
    append_rows_to(conn, def, table, Target::Schema(schema), rows)
}

fn append_rows_to(
    conn: &Connection,
    def: &TableDef,
    table: &str,
    target: Target,
    rows: &[Vec<Value>],
) -> Result<u64, WarehouseError> {
    if rows.is_empty() {
        return Ok(0);
    }
    let columns: Vec<&str> = def.columns.iter().map(|c| c.name).collect();
    let context = format!("append to {}", def.qualified());
    let mut appender = match target {
        Target::Schema(schema) => conn.appender_with_columns_to_db(table, schema, &columns),
        Target::Temp => {
            conn.appender_with_columns_to_catalog_and_db(table, "temp", "main", &columns)
        }
    }
    .map_err(|e| map_error(&context, e))?;
    for row in rows {
        appender
            .append_row(duckdb::appender_params_from_iter(row.iter()))
            .map_err(|e| map_error(&context, e))?;
    }
    appender.flush().map_err(|e| map_error(&context, e))?;
    Ok(rows.len() as u64)
}

// ------------------------------------------------------------------ schema

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn qualified(def: &TableDef) -> String {
    format!("{}.{}", quote_ident(def.dataset), quote_ident(def.name))
}

fn sql_type(ty: ColumnType) -> &'static str {
    match ty {
        ColumnType::Bool => "BOOLEAN",
        ColumnType::Int => "BIGINT",
        ColumnType::Float => "DOUBLE",
        ColumnType::Text => "VARCHAR",
        ColumnType::Date => "DATE",
        ColumnType::Timestamp => "TIMESTAMP",
    }
}

fn column_index(def: &TableDef, name: &str) -> Result<usize, WarehouseError> {
    def.columns
        .iter()
        .position(|c| c.name == name)
        .ok_or_else(|| schema_error(def, format!("no column {name}")))
}

fn create_table_sql(def: &TableDef) -> String {
    let columns = def
        .columns
        .iter()
        .map(|c| {
            format!(
                "{} {}{}",
                quote_ident(c.name),
                sql_type(c.ty),
                if c.nullable { "" } else { " NOT NULL" }
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "CREATE SCHEMA IF NOT EXISTS {schema}; CREATE TABLE IF NOT EXISTS {table} ({columns});",
        schema = quote_ident(def.dataset),
        table = qualified(def),
    )
}

fn table_exists(conn: &Connection, def: &TableDef) -> Result<bool, WarehouseError> {
    Ok(!existing_columns(conn, def)?.is_empty())
}

/// The columns (name → DuckDB type) of an existing table; empty if missing.
fn existing_columns(
    conn: &Connection,
    def: &TableDef,
) -> Result<Vec<(String, String)>, WarehouseError> {
    let sql = "SELECT column_name, data_type FROM information_schema.columns \
               WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position";
    let mut stmt = conn.prepare(sql).map_err(|e| map_error(sql, e))?;
    let rows = stmt
        .query_map([def.dataset, def.name], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
        })
        .map_err(|e| map_error(sql, e))?;
    rows.collect::<Result<Vec<_>, _>>()
        .map_err(|e| map_error(sql, e))
}

fn check_columns(def: &TableDef, existing: &[(String, String)]) -> Result<(), WarehouseError> {
    let existing_map: HashMap<&str, &str> = existing
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    for c in def.columns {
        match existing_map.get(c.name) {
            None => {
                return Err(schema_error(
                    def,
                    format!("existing table has no column {}", c.name),
                ));
            }
            Some(ty) if !ty.eq_ignore_ascii_case(sql_type(c.ty)) => {
                return Err(schema_error(
                    def,
                    format!(
                        "column {} is {} in the warehouse, {} in the catalog",
                        c.name,
                        ty,
                        sql_type(c.ty)
                    ),
                ));
            }
            Some(_) => {}
        }
    }
    if let Some((extra, _)) = existing.iter().find(|(n, _)| def.column(n).is_none()) {
        return Err(schema_error(
            def,
            format!("existing table has column {extra} the catalog does not declare"),
        ));
    }
    Ok(())
}

// ----------------------------------------------------------- JSON → DuckDB

const EPOCH: NaiveDate = NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date");

fn days_since_epoch(date: NaiveDate) -> i32 {
    (date - EPOCH).num_days() as i32
}

/// The DuckDB value of a checked cell or parameter.
fn param_value(param: &Param) -> Value {
    match param {
        Param::Null(_) => Value::Null,
        Param::Bool(b) => Value::Boolean(*b),
        Param::Int(i) => Value::BigInt(*i),
        Param::Float(f) => Value::Double(*f),
        Param::Text(s) => Value::Text(s.clone()),
        Param::Date(d) => Value::Date32(days_since_epoch(*d)),
        Param::Timestamp(ts) => Value::Timestamp(TimeUnit::Microsecond, ts.timestamp_micros()),
    }
}

/// Converts records to rows of DuckDB values in catalog column order.
fn convert_rows(def: &TableDef, rows: Vec<Record>) -> Result<Vec<Vec<Value>>, WarehouseError> {
    Ok(values::convert_rows(def, rows)?
        .iter()
        .map(|row| row.iter().map(param_value).collect())
        .collect())
}

/// Rewrites `@name` parameters to positional `?` (DuckDB's `$name` cannot be
/// repeated with positional binding) and lists the values in order.
fn bind_params(
    sql: &str,
    params: &[(&str, Param)],
) -> Result<(String, Vec<Value>), WarehouseError> {
    let mut out = String::with_capacity(sql.len());
    let mut bound = Vec::new();
    for piece in values::scan_sql(sql) {
        match piece {
            SqlPiece::Verbatim(s) | SqlPiece::Word(s) | SqlPiece::Str(s) => out.push_str(s),
            SqlPiece::Backticked(s) => {
                out.push('"');
                out.push_str(&s.replace('"', "\"\""));
                out.push('"');
            }
            SqlPiece::Param(name) => {
                let Some((_, param)) = params.iter().find(|(n, _)| *n == name) else {
                    return Err(WarehouseError::Query {
                        sql: sql.to_string(),
                        message: format!("no value given for parameter @{name}"),
                    });
                };
                match param {
                    // A typed NULL, so `@p IS NULL` and `SELECT @p` know the type.
                    Param::Null(ty) => out.push_str(&format!("CAST(? AS {})", sql_type(*ty))),
                    _ => out.push('?'),
                }
                bound.push(param_value(param));
            }
        }
    }
    Ok((out, bound))
}

/// A short rendering of a DuckDB value, for messages and key comparison.
fn render_value(value: &Value) -> String {
    match json_from_value(value.clone()) {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    }
}

// ----------------------------------------------------------- DuckDB → JSON

fn value_ref_to_json(value: ValueRef<'_>) -> serde_json::Value {
    use serde_json::Value as J;
    match value {
        ValueRef::Null => J::Null,
        ValueRef::Boolean(b) => J::Bool(b),
        ValueRef::TinyInt(i) => J::from(i),
        ValueRef::SmallInt(i) => J::from(i),
        ValueRef::Int(i) => J::from(i),
        ValueRef::BigInt(i) => J::from(i),
        ValueRef::UTinyInt(i) => J::from(i),
        ValueRef::USmallInt(i) => J::from(i),
        ValueRef::UInt(i) => J::from(i),
        ValueRef::UBigInt(i) => J::from(i),
        ValueRef::Double(f) => float_json(f),
        ValueRef::Text(bytes) => J::String(String::from_utf8_lossy(bytes).into_owned()),
        ValueRef::Date32(days) => date_json(days),
        ValueRef::Timestamp(unit, v) => timestamp_json(unit, v),
        other => json_from_value(other.to_owned()),
    }
}

fn float_json(f: f64) -> serde_json::Value {
    serde_json::Number::from_f64(f)
        .map(serde_json::Value::Number)
        .unwrap_or(serde_json::Value::Null)
}

fn date_json(days: i32) -> serde_json::Value {
    match EPOCH.checked_add_signed(chrono::Duration::days(i64::from(days))) {
        Some(d) => serde_json::Value::String(d.format("%Y-%m-%d").to_string()),
        None => serde_json::Value::Null,
    }
}

fn timestamp_json(unit: TimeUnit, v: i64) -> serde_json::Value {
    let nanos: i128 = match unit {
        TimeUnit::Second => i128::from(v) * 1_000_000_000,
        TimeUnit::Millisecond => i128::from(v) * 1_000_000,
        TimeUnit::Microsecond => i128::from(v) * 1_000,
        TimeUnit::Nanosecond => i128::from(v),
    };
    let secs = nanos.div_euclid(1_000_000_000);
    let sub = nanos.rem_euclid(1_000_000_000) as u32;
    match i64::try_from(secs)
        .ok()
        .and_then(|s| DateTime::<Utc>::from_timestamp(s, sub))
    {
        Some(ts) => serde_json::Value::String(ts.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
        // ±infinity timestamps.
        None => serde_json::Value::Null,
    }
}

fn int128_json(i: i128) -> serde_json::Value {
    if let Ok(v) = i64::try_from(i) {
        serde_json::Value::from(v)
    } else if let Ok(v) = u64::try_from(i) {
        serde_json::Value::from(v)
    } else {
        float_json(i as f64)
    }
}

fn json_from_value(value: Value) -> serde_json::Value {
    use serde_json::Value as J;
    match value {
        Value::Null => J::Null,
        Value::Boolean(b) => J::Bool(b),
        Value::TinyInt(i) => J::from(i),
        Value::SmallInt(i) => J::from(i),
        Value::Int(i) => J::from(i),
        Value::BigInt(i) => J::from(i),
        Value::HugeInt(i) => int128_json(i),
        Value::UHugeInt(u) => match i128::try_from(u) {
            Ok(i) => int128_json(i),
            Err(_) => float_json(u as f64),
        },
        Value::UTinyInt(i) => J::from(i),
        Value::USmallInt(i) => J::from(i),
        Value::UInt(i) => J::from(i),
        Value::UBigInt(i) => J::from(i),
        Value::Float(f) => float_json(f64::from(f)),
        Value::Double(f) => float_json(f),
        Value::Decimal(d) => {
            if d.scale() == 0 {
                int128_json(d.value())
            } else {
                // The decimal's own rendering parses to the nearest f64.
                d.to_string()
                    .parse::<f64>()
                    .map(float_json)
                    .unwrap_or(J::Null)
            }
        }
        Value::Timestamp(unit, v) => timestamp_json(unit, v),
        Value::Text(s) => J::String(s),
        Value::Enum(s) => J::String(s),
        Value::Blob(b) | Value::Geometry(b) => J::String(String::from_utf8_lossy(&b).into_owned()),
        Value::Date32(days) => date_json(days),
        Value::Time64(unit, v) => {
            let micros = unit.to_micros(v);
            let secs = micros.div_euclid(1_000_000);
            let frac = micros.rem_euclid(1_000_000);
            let base = format!(
                "{:02}:{:02}:{:02}",
                secs / 3600,
                (secs / 60) % 60,
                secs % 60
            );
            J::String(if frac == 0 {
                base
            } else {
                format!("{base}.{frac:06}")
            })
        }
        Value::Interval {
            months,
            days,
            nanos,
        } => J::String(format!("{months} months {days} days {nanos} nanoseconds")),
        Value::List(items) | Value::Array(items) => {
            J::Array(items.into_iter().map(json_from_value).collect())
        }
        Value::Struct(fields) => J::Object(
            fields
                .iter()
                .map(|(k, v)| (k.clone(), json_from_value(v.clone())))
                .collect(),
        ),
        Value::Map(entries) => J::Object(
            entries
                .iter()
                .map(|(k, v)| (render_value(k), json_from_value(v.clone())))
                .collect(),
        ),
        Value::Union(inner) => json_from_value(*inner),
        other => J::String(format!("{other:?}")),
    }
}

// ------------------------------------------------------------------ errors

fn error_message(error: &duckdb::Error) -> String {
    match error {
        duckdb::Error::DuckDBFailure(_, Some(message)) => message.clone(),
        other => other.to_string(),
    }
}

fn is_transient(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("could not set lock")
        || m.contains("conflicting lock")
        || m.contains("transaction conflict")
        || m.contains("write-write conflict")
        || m.contains("lock on file")
}

fn map_error(sql: &str, error: duckdb::Error) -> WarehouseError {
    let message = error_message(&error);
    if is_transient(&message) {
        WarehouseError::Transient(message)
    } else if message.contains("read-only mode") || message.contains("read only mode") {
        WarehouseError::ReadOnly(message)
    } else {
        WarehouseError::Query {
            sql: sql.to_string(),
            message,
        }
    }
}

fn open_error(error: duckdb::Error) -> WarehouseError {
    let message = error_message(&error);
    if is_transient(&message) {
        WarehouseError::Transient(message)
    } else {
        WarehouseError::Other(format!("cannot open duckdb warehouse: {message}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::warehouse::values::parse_timestamp;

    #[test]
    fn timestamps_parse_with_offsets_and_fractions() {
        let a = parse_timestamp("2025-03-16T00:30:00Z").unwrap();
        let b = parse_timestamp("2025-03-15T20:30:00-04:00").unwrap();
        let c = parse_timestamp("2025-03-16T00:30:00.250Z").unwrap();
        assert_eq!(a, b);
        assert_eq!(c.timestamp_subsec_millis(), 250);
        assert_eq!(parse_timestamp("2025-03-16 00:30:00").unwrap(), a);
        assert!(parse_timestamp("yesterday").is_err());
    }

    #[test]
    fn timestamps_render_as_rfc3339_utc() {
        let micros = parse_timestamp("2025-03-16T00:30:00Z")
            .unwrap()
            .timestamp_micros();
        assert_eq!(
            timestamp_json(TimeUnit::Microsecond, micros),
            serde_json::json!("2025-03-16T00:30:00Z")
        );
        assert_eq!(
            timestamp_json(TimeUnit::Microsecond, micros + 1500),
            serde_json::json!("2025-03-16T00:30:00.001500Z")
        );
        assert_eq!(date_json(0), serde_json::json!("1970-01-01"));
    }

    #[tokio::test]
    async fn duckdb_types_convert_to_json() {
        let wh = DuckDbWarehouse::in_memory().unwrap();
        let rows = wh
            .query(
                "SELECT 1.5 AS dec, CAST(2.25 AS DECIMAL(18,3)) AS dec18, \
                 SUM(x) AS huge, SUM(CAST(x AS DECIMAL(10,2))) AS dec_sum, \
                 CAST(7 AS INTEGER) AS int32, CAST(3 AS UTINYINT) AS u8, \
                 CAST(0.5 AS FLOAT) AS f32, 'nan'::DOUBLE AS nan, \
                 [1, 2] AS list, {'a': 1} AS st, TIME '12:34:56' AS t, \
                 TIMESTAMPTZ '2025-03-16 00:30:00+00' AS tz, \
                 TIMESTAMP_NS '2025-03-16 00:30:00.123456789' AS ns, \
                 DATE '2025-03-15' AS d, NULL AS nothing \
                 FROM (VALUES (1), (2)) v(x)",
            )
            .await
            .unwrap();
        let r = &rows[0];
        assert_eq!(r["dec"], serde_json::json!(1.5));
        assert_eq!(r["dec18"], serde_json::json!(2.25));
        assert_eq!(r["huge"], serde_json::json!(3));
        assert_eq!(r["dec_sum"], serde_json::json!(3.0));
        assert_eq!(r["int32"], serde_json::json!(7));
        assert_eq!(r["u8"], serde_json::json!(3));
        assert_eq!(r["f32"], serde_json::json!(0.5));
        assert_eq!(r["nan"], serde_json::Value::Null);
        assert_eq!(r["list"], serde_json::json!([1, 2]));
        assert_eq!(r["st"], serde_json::json!({"a": 1}));
        assert_eq!(r["t"], serde_json::json!("12:34:56"));
        assert_eq!(r["tz"], serde_json::json!("2025-03-16T00:30:00Z"));
        assert_eq!(r["ns"], serde_json::json!("2025-03-16T00:30:00.123456789Z"));
        assert_eq!(r["d"], serde_json::json!("2025-03-15"));
        assert_eq!(r["nothing"], serde_json::Value::Null);
    }

    #[tokio::test]
    async fn parameters_bind_by_name_outside_strings() {
        let wh = DuckDbWarehouse::in_memory().unwrap();
        let rows = wh
            .query_with(
                "SELECT @a + @a AS twice, '@a' AS text, @n AS n",
                &[("a", Param::Int(21)), ("n", Param::Null(ColumnType::Text))],
            )
            .await
            .unwrap();
        assert_eq!(rows[0]["twice"], serde_json::json!(42));
        assert_eq!(rows[0]["text"], serde_json::json!("@a"));
        assert_eq!(rows[0]["n"], serde_json::Value::Null);
    }

    #[tokio::test]
    async fn existing_table_with_other_columns_is_a_schema_error() {
        use propcast_core::Column;
        let wh = DuckDbWarehouse::in_memory().unwrap();
        wh.query("CREATE SCHEMA s; CREATE TABLE s.t (game_date DATE, n VARCHAR)")
            .await
            .unwrap();
        let def = TableDef {
            dataset: "s",
            name: "t",
            columns: &[
                Column {
                    name: "game_date",
                    ty: ColumnType::Date,
                    nullable: false,
                },
                Column {
                    name: "n",
                    ty: ColumnType::Int,
                    nullable: false,
                },
            ],
            primary_key: &["game_date"],
            partition: "game_date",
        };
        let err = wh.ensure_table(&def).await.unwrap_err();
        assert!(matches!(err, WarehouseError::Schema { .. }), "got {err:?}");
    }
}
