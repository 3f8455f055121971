//! Readers beside a writer: the process that writes a DuckDB warehouse file
//! serves reads of it on a Unix socket beside the file.
//!
//! A DuckDB file admits one writing process and no other process beside it,
//! not even a read-only one, so `propcast query`, `status` and the dashboard
//! could not open the warehouse while a backfill or a daily run was writing
//! it — the moment an operator most wants to look. The writer therefore
//! publishes `warehouse.duckdb.readers.sock` when it opens the file
//! ([`DuckDbWarehouse::serve_readers`]); a reader that finds the socket
//! answering uses [`RemoteReadWarehouse`] instead of opening the file.
//!
//! Each read runs on a second connection of the writer's database, inside a
//! transaction that is always rolled back: it sees one consistent snapshot,
//! the last committed state (a backfill commits each table write whole, so
//! a reader sees every date completed so far and never half a date), it
//! never waits for the writer's connection, and it cannot change anything.
//! Only statements that read (`SELECT`, `WITH`, `FROM`, `DESCRIBE`, `SHOW`,
//! `SUMMARIZE`, `EXPLAIN`, `VALUES`, `TABLE`) are accepted.
//!
//! The socket is a file of the data directory: whoever may read the
//! warehouse file may read through it; nothing listens on the network.
//! The protocol is one JSON request line and one JSON response line per
//! connection.

use crate::embedded::DuckDbWarehouse;
use crate::warehouse::{Param, QueryRows, Record, Warehouse, WarehouseError, WriteStats};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use propcast_core::{ColumnType, TableDef};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};

/// The socket a writer of `warehouse` serves reads on.
pub fn readers_socket(warehouse: &Path) -> PathBuf {
    let mut name = warehouse.as_os_str().to_owned();
    name.push(".readers.sock");
    PathBuf::from(name)
}

/// One request: a query (with `@name` parameters as in
/// [`Warehouse::query_with`]) or the list of tables.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum Request {
    Query { sql: String, params: Vec<WireParam> },
    Tables,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Response {
    Rows {
        columns: Vec<String>,
        rows: Vec<Vec<serde_json::Value>>,
    },
    Tables(Vec<(String, String)>),
    Error {
        kind: ErrorKind,
        message: String,
    },
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum ErrorKind {
    Query,
    ReadOnly,
    Transient,
    Other,
}

impl ErrorKind {
    /// The writer's error back as the reader's (`sql` names what was asked).
    fn error(self, message: String, sql: &str) -> WarehouseError {
        match self {
            ErrorKind::Query => WarehouseError::Query {
                sql: sql.to_string(),
                message,
            },
            ErrorKind::ReadOnly => WarehouseError::ReadOnly(message),
            ErrorKind::Transient => WarehouseError::Transient(message),
            ErrorKind::Other => WarehouseError::Other(message),
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct WireParam {
    name: String,
    value: WireValue,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
enum WireValue {
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
    Date(NaiveDate),
    Timestamp(DateTime<Utc>),
    Null(String),
}

const COLUMN_TYPES: [(ColumnType, &str); 6] = [
    (ColumnType::Bool, "bool"),
    (ColumnType::Int, "int"),
    (ColumnType::Float, "float"),
    (ColumnType::Text, "text"),
    (ColumnType::Date, "date"),
    (ColumnType::Timestamp, "timestamp"),
];

impl From<&Param> for WireValue {
    fn from(param: &Param) -> Self {
        match param {
            Param::Bool(b) => WireValue::Bool(*b),
            Param::Int(i) => WireValue::Int(*i),
            Param::Float(x) => WireValue::Float(*x),
            Param::Text(s) => WireValue::Text(s.clone()),
            Param::Date(d) => WireValue::Date(*d),
            Param::Timestamp(t) => WireValue::Timestamp(*t),
            Param::Null(ty) => {
                let name = COLUMN_TYPES.iter().find(|(t, _)| t == ty).map(|(_, n)| *n);
                WireValue::Null(name.unwrap_or("text").to_string())
            }
        }
    }
}

impl WireValue {
    fn into_param(self) -> Result<Param, WarehouseError> {
        Ok(match self {
            WireValue::Bool(b) => Param::Bool(b),
            WireValue::Int(i) => Param::Int(i),
            WireValue::Float(x) => Param::Float(x),
            WireValue::Text(s) => Param::Text(s),
            WireValue::Date(d) => Param::Date(d),
            WireValue::Timestamp(t) => Param::Timestamp(t),
            WireValue::Null(name) => Param::Null(
                COLUMN_TYPES
                    .iter()
                    .find(|(_, n)| *n == name)
                    .map(|(t, _)| *t)
                    .ok_or_else(|| {
                        WarehouseError::Other(format!("unknown column type {name:?}"))
                    })?,
            ),
        })
    }
}

impl From<Result<QueryRows, WarehouseError>> for Response {
    fn from(result: Result<QueryRows, WarehouseError>) -> Self {
        match result {
            Ok(QueryRows { columns, rows }) => Response::Rows { columns, rows },
            Err(e) => Response::error(e),
        }
    }
}

impl Response {
    fn error(error: WarehouseError) -> Self {
        let (kind, message) = match error {
            WarehouseError::Query { message, .. } => (ErrorKind::Query, message),
            WarehouseError::ReadOnly(m) => (ErrorKind::ReadOnly, m),
            WarehouseError::Transient(m) => (ErrorKind::Transient, m),
            other => (ErrorKind::Other, other.to_string()),
        };
        Response::Error { kind, message }
    }
}

/// The writer's side: the socket, its accept loop and the reading
/// connection. Dropping it closes the connection, stops the loop and
/// removes the socket file, so the database is closed with the writer.
pub(crate) struct ReaderEndpoint {
    socket: PathBuf,
    reader: Arc<Mutex<Option<DuckDbWarehouse>>>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for ReaderEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReaderEndpoint")
            .field("socket", &self.socket)
            .finish()
    }
}

impl ReaderEndpoint {
    /// Serves `reader` (a read-only second connection of the writer's
    /// database) on `socket`. A socket file nobody answers on is a writer's
    /// that died without removing it, and is replaced; one that answers
    /// belongs to a live writer, which cannot be (DuckDB's lock would have
    /// refused this one), so it is an error.
    pub(crate) fn start(reader: DuckDbWarehouse, socket: &Path) -> Result<Self, WarehouseError> {
        let failed =
            |e: std::io::Error| WarehouseError::Other(format!("{}: {e}", socket.display()));
        if socket.exists() {
            if std::os::unix::net::UnixStream::connect(socket).is_ok() {
                return Err(WarehouseError::Other(format!(
                    "{} already answers: another process serves this warehouse's readers",
                    socket.display()
                )));
            }
            std::fs::remove_file(socket).map_err(failed)?;
        }
        let listener = UnixListener::bind(socket).map_err(failed)?;
        let reader = Arc::new(Mutex::new(Some(reader)));
        let serving = reader.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                tokio::spawn(answer(stream, serving.clone()));
            }
        });
        tracing::debug!(socket = %socket.display(), "serving warehouse readers");
        Ok(Self {
            socket: socket.to_path_buf(),
            reader,
            task,
        })
    }
}

impl Drop for ReaderEndpoint {
    fn drop(&mut self) {
        self.task.abort();
        self.reader.lock().unwrap_or_else(|p| p.into_inner()).take();
        let _ = std::fs::remove_file(&self.socket);
    }
}

/// Answers one connection: one request line, one response line.
async fn answer(stream: UnixStream, reader: Arc<Mutex<Option<DuckDbWarehouse>>>) {
    let (read, mut write) = stream.into_split();
    let mut line = String::new();
    if BufReader::new(read).read_line(&mut line).await.is_err() {
        return;
    }
    let response = tokio::task::spawn_blocking(move || {
        let request: Request = match serde_json::from_str(&line) {
            Ok(r) => r,
            Err(e) => {
                return Response::error(WarehouseError::Other(format!("bad request: {e}")));
            }
        };
        let guard = reader.lock().unwrap_or_else(|p| p.into_inner());
        let Some(reader) = guard.as_ref() else {
            return Response::error(WarehouseError::Transient(
                "the writer is closing the warehouse".to_string(),
            ));
        };
        match request {
            Request::Query { sql, params } => {
                let params: Result<Vec<(String, Param)>, _> = params
                    .into_iter()
                    .map(|p| Ok((p.name, p.value.into_param()?)))
                    .collect();
                let result = params.and_then(|params| {
                    let named: Vec<(&str, Param)> = params
                        .iter()
                        .map(|(n, p)| (n.as_str(), p.clone()))
                        .collect();
                    reader.snapshot_query_blocking(&sql, &named)
                });
                result.into()
            }
            Request::Tables => match reader.tables_blocking() {
                Ok(tables) => Response::Tables(tables),
                Err(e) => Response::error(e),
            },
        }
    })
    .await
    .unwrap_or_else(|e| Response::error(WarehouseError::Other(format!("reader failed: {e}"))));
    let mut text = serde_json::to_string(&response).unwrap_or_else(|e| {
        serde_json::to_string(&Response::error(WarehouseError::Other(e.to_string())))
            .unwrap_or_default()
    });
    text.push('\n');
    let _ = write.write_all(text.as_bytes()).await;
    let _ = write.shutdown().await;
}

/// A reader's side: the warehouse read through its writer's socket.
/// Queries see the writer's last committed state; every write is refused.
#[derive(Debug)]
pub struct RemoteReadWarehouse {
    socket: PathBuf,
    location: String,
}

impl RemoteReadWarehouse {
    /// The reader of `warehouse` when its writer answers on the socket
    /// beside it; `None` when no writer serves it (no socket, or a stale one).
    pub async fn connect(warehouse: &Path) -> Option<Self> {
        let socket = readers_socket(warehouse);
        if !socket.exists() {
            return None;
        }
        UnixStream::connect(&socket).await.ok()?;
        Some(Self {
            socket,
            location: warehouse.display().to_string(),
        })
    }

    /// The socket this reader talks to.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    async fn call(&self, request: &Request) -> Result<Response, WarehouseError> {
        let lost = |e: std::io::Error| {
            WarehouseError::Transient(format!(
                "the writer of {} stopped answering on {}: {e}",
                self.location,
                self.socket.display()
            ))
        };
        let stream = UnixStream::connect(&self.socket).await.map_err(lost)?;
        let (read, mut write) = stream.into_split();
        let mut text =
            serde_json::to_string(request).map_err(|e| WarehouseError::Other(e.to_string()))?;
        text.push('\n');
        write.write_all(text.as_bytes()).await.map_err(lost)?;
        let mut line = String::new();
        BufReader::new(read)
            .read_line(&mut line)
            .await
            .map_err(lost)?;
        serde_json::from_str(&line).map_err(|e| {
            WarehouseError::Transient(format!(
                "the writer of {} answered no response ({e}): it may have finished; ask again",
                self.location
            ))
        })
    }

    async fn rows(&self, sql: &str, params: &[(&str, Param)]) -> Result<QueryRows, WarehouseError> {
        let request = Request::Query {
            sql: sql.to_string(),
            params: params
                .iter()
                .map(|(name, p)| WireParam {
                    name: name.to_string(),
                    value: p.into(),
                })
                .collect(),
        };
        match self.call(&request).await? {
            Response::Rows { columns, rows } => Ok(QueryRows { columns, rows }),
            Response::Error { kind, message } => Err(kind.error(message, sql)),
            Response::Tables(_) => Err(WarehouseError::Other(
                "the writer answered a query with tables".to_string(),
            )),
        }
    }

    fn refuse(&self, def: &TableDef) -> WarehouseError {
        WarehouseError::ReadOnly(format!(
            "cannot write {} in {}: another process is writing it, and this reader reads through {}",
            def.qualified(),
            self.location,
            self.socket.display()
        ))
    }
}

#[async_trait]
impl Warehouse for RemoteReadWarehouse {
    /// Checks the table exists (the writer checked its columns when it
    /// created or first wrote it).
    async fn ensure_table(&self, def: &TableDef) -> Result<(), WarehouseError> {
        let sql = format!("SELECT * FROM {} LIMIT 0", def.qualified());
        self.rows(&sql, &[]).await.map(|_| ()).map_err(|_| {
            WarehouseError::ReadOnly(format!(
                "table {} does not exist in {} (yet: its writer is running)",
                def.qualified(),
                self.location
            ))
        })
    }

    async fn query(&self, sql: &str) -> Result<Vec<Record>, WarehouseError> {
        Ok(self.rows(sql, &[]).await?.into_records())
    }

    async fn query_rows(&self, sql: &str) -> Result<QueryRows, WarehouseError> {
        self.rows(sql, &[]).await
    }

    async fn query_with(
        &self,
        sql: &str,
        params: &[(&str, Param)],
    ) -> Result<Vec<Record>, WarehouseError> {
        Ok(self.rows(sql, params).await?.into_records())
    }

    async fn tables(&self) -> Result<Vec<(String, String)>, WarehouseError> {
        match self.call(&Request::Tables).await? {
            Response::Tables(tables) => Ok(tables),
            Response::Error { kind, message } => Err(kind.error(message, "tables")),
            Response::Rows { .. } => Err(WarehouseError::Other(
                "the writer answered a table list with rows".to_string(),
            )),
        }
    }

    async fn replace_partition(
        &self,
        def: &TableDef,
        _date: NaiveDate,
        _scope: &[(&str, &str)],
        _rows: Vec<Record>,
    ) -> Result<WriteStats, WarehouseError> {
        Err(self.refuse(def))
    }

    async fn merge(
        &self,
        def: &TableDef,
        _rows: Vec<Record>,
    ) -> Result<WriteStats, WarehouseError> {
        Err(self.refuse(def))
    }
}

/// Whether `sql` only reads: its first keyword is one that cannot write.
/// The rolled-back transaction around every served query is the guard that
/// holds; this check turns a write into a clear error instead of a silent
/// no-op.
pub(crate) fn reads_only(sql: &str) -> bool {
    use crate::warehouse::values::{SqlPiece, scan_sql};
    let pieces = scan_sql(sql.trim_end().trim_end_matches(';'));
    let one_statement = !pieces
        .iter()
        .any(|p| matches!(p, SqlPiece::Verbatim(text) if text.contains(';')));
    let first_word = pieces.iter().find_map(|p| match p {
        SqlPiece::Word(word) => Some(word.to_ascii_uppercase()),
        _ => None,
    });
    one_statement
        && matches!(
            first_word.as_deref(),
            Some(
                "SELECT"
                    | "WITH"
                    | "FROM"
                    | "DESCRIBE"
                    | "SHOW"
                    | "SUMMARIZE"
                    | "EXPLAIN"
                    | "VALUES"
                    | "TABLE"
            )
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_reading_statements_pass() {
        assert!(reads_only("SELECT 1"));
        assert!(reads_only(
            "  -- note\n with x as (select 1) select * from x"
        ));
        assert!(reads_only("(SELECT 1) UNION ALL (SELECT 2);"));
        assert!(!reads_only("DELETE FROM nba_raw.x"));
        assert!(!reads_only("SELECT 1; DROP TABLE nba_raw.x"));
        assert!(!reads_only("COMMIT"));
        assert!(!reads_only("SET memory_limit = '1GB'"));
        assert!(reads_only("SELECT ';' AS semicolon"));
    }

    const SCORES: TableDef = TableDef {
        dataset: "propcast_readers",
        name: "scores",
        columns: &[
            propcast_core::Column {
                name: "game_date",
                ty: ColumnType::Date,
                nullable: false,
            },
            propcast_core::Column {
                name: "points",
                ty: ColumnType::Int,
                nullable: false,
            },
        ],
        primary_key: &["game_date"],
        partition: "game_date",
    };

    fn score(day: NaiveDate, points: i64) -> Record {
        serde_json::json!({ "game_date": day.to_string(), "points": points })
            .as_object()
            .unwrap()
            .clone()
    }

    /// A reader sees each committed write of the writer as it lands, and
    /// can change nothing; the socket goes with the writer.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_reader_follows_the_writer_and_cannot_write() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("warehouse.duckdb");
        let writer = DuckDbWarehouse::open(&file).unwrap();
        let socket = writer.serve_readers().unwrap();
        assert_eq!(socket, readers_socket(&file));
        let first = NaiveDate::from_ymd_opt(2025, 11, 1).unwrap();
        writer
            .replace_partition(&SCORES, first, &[], vec![score(first, 112)])
            .await
            .unwrap();
        let reader = RemoteReadWarehouse::connect(&file)
            .await
            .expect("writer answers");
        let sql = "SELECT game_date, points FROM propcast_readers.scores ORDER BY game_date";
        let rows = reader.query(sql).await.unwrap();
        assert_eq!(rows, vec![score(first, 112)]);
        let second = first.succ_opt().unwrap();
        writer
            .replace_partition(&SCORES, second, &[], vec![score(second, 99)])
            .await
            .unwrap();
        let rows = reader
            .query_with(
                "SELECT points FROM propcast_readers.scores WHERE game_date = @d",
                &[("d", Param::Date(second))],
            )
            .await
            .unwrap();
        assert_eq!(rows[0]["points"], 99);
        assert!(
            reader
                .tables()
                .await
                .unwrap()
                .contains(&("propcast_readers".to_string(), "scores".to_string()))
        );
        let refused = reader
            .query("DELETE FROM propcast_readers.scores")
            .await
            .unwrap_err();
        assert!(matches!(refused, WarehouseError::ReadOnly(_)), "{refused}");
        assert!(matches!(
            reader.merge(&SCORES, vec![score(first, 0)]).await,
            Err(WarehouseError::ReadOnly(_))
        ));
        assert_eq!(writer.row_count(&SCORES).unwrap(), 2);
        drop(writer);
        assert!(!socket.exists());
        assert!(RemoteReadWarehouse::connect(&file).await.is_none());
        // And with the writer gone, the file opens read-only again.
        let after = DuckDbWarehouse::open_read_only(&file).unwrap();
        assert_eq!(after.row_count(&SCORES).unwrap(), 2);
    }

    #[test]
    fn parameters_cross_the_wire_unchanged() {
        let day = NaiveDate::from_ymd_opt(2025, 11, 2).unwrap();
        for param in [
            Param::Int(7),
            Param::Date(day),
            Param::Text("it's".into()),
            Param::Null(ColumnType::Timestamp),
            Param::Float(0.25),
        ] {
            let text = serde_json::to_string(&WireValue::from(&param)).unwrap();
            let back: WireValue = serde_json::from_str(&text).unwrap();
            assert_eq!(back.into_param().unwrap(), param);
        }
    }
}
