//! The conformance suite every backend passes: one `async fn` per behaviour,
//! taking the trait object, panicking (like `assert!`) when the backend
//! breaks the contract, and one macro per trait that turns them into the
//! tests of a backend from a single factory ([`suite`]:
//! `warehouse_test_suite!`, `landing_zone_test_suite!`,
//! `state_store_test_suite!`, `event_bus_test_suite!`). Compiled only with
//! the `testsuite` feature, which test code enables as a dev-dependency.
//!
//! Each function uses its own tables / collections / topics, so a backend
//! may be shared between calls; none relies on another having run.

pub mod suite;

use crate::bus::{Delivery, EventBus, EventBusError};
use crate::landing::{LandingError, LandingZone};
use crate::state::{StateError, StateStore, TxDecision};
use crate::warehouse::{
    Param, Record, Warehouse, WarehouseError, date_literal, string_literal, text_list,
};
use bytes::Bytes;
use chrono::{DateTime, NaiveDate, Utc};
use propcast_core::{Column, ColumnType, TableDef};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

// ---------------------------------------------------------------- warehouse

const fn col(name: &'static str, ty: ColumnType, nullable: bool) -> Column {
    Column { name, ty, nullable }
}

const PROBE_COLUMNS: &[Column] = &[
    col("game_date", ColumnType::Date, false),
    col("team_abbr", ColumnType::Text, false),
    col("player_id", ColumnType::Int, false),
    col("points", ColumnType::Int, true),
    col("minutes", ColumnType::Float, true),
    col("starter", ColumnType::Bool, true),
    col("tipoff_time", ColumnType::Timestamp, true),
    col("note", ColumnType::Text, true),
];

/// A small table with every column type, keyed on (game_date, player_id).
const fn probe_table(name: &'static str) -> TableDef {
    TableDef {
        dataset: "propcast_conformance",
        name,
        columns: PROBE_COLUMNS,
        primary_key: &["game_date", "player_id"],
        partition: "game_date",
    }
}

fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("valid test date")
}

fn row(game_date: &str, team: &str, player_id: i64, points: Option<i64>) -> Record {
    let value = json!({
        "game_date": game_date,
        "team_abbr": team,
        "player_id": player_id,
        "points": points,
        "minutes": 31.5,
        "starter": true,
        "tipoff_time": "2025-03-16T00:30:00Z",
        "note": null,
    });
    match value {
        Value::Object(map) => map,
        _ => unreachable!(),
    }
}

async fn count(wh: &dyn Warehouse, def: &TableDef, condition: &str) -> i64 {
    let sql = format!(
        "SELECT COUNT(*) AS n FROM {} WHERE {condition}",
        def.qualified()
    );
    let rows = wh.query(&sql).await.expect("count query");
    rows[0]["n"].as_i64().expect("COUNT(*) is a JSON integer")
}

async fn points_by_player(
    wh: &dyn Warehouse,
    def: &TableDef,
    day: &str,
) -> Vec<(i64, Option<i64>)> {
    let sql = format!(
        "SELECT player_id, points FROM {} WHERE game_date = {} ORDER BY player_id",
        def.qualified(),
        date_literal(date(day))
    );
    wh.query(&sql)
        .await
        .expect("select rows")
        .iter()
        .map(|r| (r["player_id"].as_i64().unwrap(), r["points"].as_i64()))
        .collect()
}

/// Replacing a partition twice with the same rows leaves the same rows;
/// other dates are untouched; an empty replace clears the partition.
pub async fn warehouse_replace_partition_is_idempotent(wh: &dyn Warehouse) {
    const T: TableDef = probe_table("replace_idempotent");
    wh.ensure_table(&T).await.expect("ensure_table");
    wh.ensure_table(&T)
        .await
        .expect("ensure_table is idempotent");

    let day = date("2025-03-15");
    let other = vec![row("2025-03-14", "WAS", 9, Some(4))];
    wh.replace_partition(&T, date("2025-03-14"), &[], other)
        .await
        .expect("write other date");

    let rows = || {
        vec![
            row("2025-03-15", "WAS", 1, Some(10)),
            row("2025-03-15", "WAS", 2, Some(20)),
            row("2025-03-15", "DEN", 3, None),
        ]
    };
    let first = wh
        .replace_partition(&T, day, &[], rows())
        .await
        .expect("first replace");
    assert_eq!(first.rows_deleted, 0);
    assert_eq!(first.rows_written, 3);
    let second = wh
        .replace_partition(&T, day, &[], rows())
        .await
        .expect("second replace");
    assert_eq!(
        second.rows_deleted, 3,
        "the second replace deletes the first rows"
    );
    assert_eq!(second.rows_written, 3);

    assert_eq!(
        points_by_player(wh, &T, "2025-03-15").await,
        vec![(1, Some(10)), (2, Some(20)), (3, None)]
    );
    assert_eq!(
        points_by_player(wh, &T, "2025-03-14").await,
        vec![(9, Some(4))]
    );

    let cleared = wh
        .replace_partition(&T, day, &[], Vec::new())
        .await
        .expect("empty replace");
    assert_eq!(cleared.rows_deleted, 3);
    assert_eq!(cleared.rows_written, 0);
    assert_eq!(
        count(wh, &T, "TRUE").await,
        1,
        "only the other date is left"
    );
}

/// `replace_dates` replaces exactly the partitions of the dates it is
/// given, in one write: every row of those dates goes, the rows given come
/// in, a listed date without rows is emptied, and other dates stay; a row
/// outside the listed dates is refused with nothing written.
pub async fn warehouse_replace_dates_replaces_exactly_those_dates(wh: &dyn Warehouse) {
    const T: TableDef = probe_table("replace_dates");
    wh.ensure_table(&T).await.expect("ensure_table");
    for (day, player) in [("2025-03-13", 7), ("2025-03-14", 8), ("2025-03-16", 9)] {
        wh.replace_partition(&T, date(day), &[], vec![row(day, "WAS", player, Some(1))])
            .await
            .expect("seed a date");
    }
    let dates = [date("2025-03-14"), date("2025-03-15"), date("2025-03-16")];
    let stats = wh
        .replace_dates(
            &T,
            &dates,
            vec![
                row("2025-03-14", "WAS", 1, Some(10)),
                row("2025-03-14", "DEN", 2, None),
                row("2025-03-15", "WAS", 3, Some(30)),
            ],
        )
        .await
        .expect("replace three dates");
    assert_eq!(stats.rows_deleted, 2, "the rows of 03-14 and 03-16 go");
    assert_eq!(stats.rows_written, 3);
    assert_eq!(
        points_by_player(wh, &T, "2025-03-13").await,
        vec![(7, Some(1))],
        "a date outside the range stays"
    );
    assert_eq!(
        points_by_player(wh, &T, "2025-03-14").await,
        vec![(1, Some(10)), (2, None)]
    );
    assert_eq!(
        points_by_player(wh, &T, "2025-03-15").await,
        vec![(3, Some(30))]
    );
    assert_eq!(
        points_by_player(wh, &T, "2025-03-16").await,
        vec![],
        "a listed date without rows is emptied"
    );
    let stray = wh
        .replace_dates(
            &T,
            &[date("2025-03-14")],
            vec![row("2025-03-13", "WAS", 4, Some(4))],
        )
        .await;
    assert!(stray.is_err(), "a row outside the listed dates is refused");
    assert_eq!(count(wh, &T, "TRUE").await, 4, "nothing was written");
}

/// A scoped replace only touches rows whose scope columns match.
pub async fn warehouse_replace_partition_respects_scope(wh: &dyn Warehouse) {
    const T: TableDef = probe_table("replace_scope");
    wh.ensure_table(&T).await.expect("ensure_table");
    let day = date("2025-03-15");
    let rows = vec![
        row("2025-03-15", "WAS", 1, Some(10)),
        row("2025-03-15", "WAS", 2, Some(20)),
        row("2025-03-15", "DEN", 3, Some(30)),
    ];
    wh.replace_partition(&T, day, &[], rows)
        .await
        .expect("seed");

    let stats = wh
        .replace_partition(
            &T,
            day,
            &[("team_abbr", "WAS")],
            vec![row("2025-03-15", "WAS", 4, Some(40))],
        )
        .await
        .expect("scoped replace");
    assert_eq!(stats.rows_deleted, 2);
    assert_eq!(stats.rows_written, 1);
    assert_eq!(
        points_by_player(wh, &T, "2025-03-15").await,
        vec![(3, Some(30)), (4, Some(40))],
        "DEN rows survive a replace scoped to WAS"
    );

    // Scope on an integer column, given as text.
    let stats = wh
        .replace_partition(
            &T,
            day,
            &[("player_id", "3")],
            vec![row("2025-03-15", "DEN", 3, Some(33))],
        )
        .await
        .expect("replace scoped on an integer column");
    assert_eq!(stats.rows_deleted, 1);
    assert_eq!(
        points_by_player(wh, &T, "2025-03-15").await,
        vec![(3, Some(33)), (4, Some(40))]
    );
}

/// Merge inserts new keys and replaces existing ones, by primary key.
pub async fn warehouse_merge_upserts_by_key(wh: &dyn Warehouse) {
    const T: TableDef = probe_table("merge_upsert");
    wh.ensure_table(&T).await.expect("ensure_table");
    let stats = wh
        .merge(
            &T,
            vec![
                row("2025-03-15", "WAS", 1, Some(10)),
                row("2025-03-15", "WAS", 2, Some(20)),
            ],
        )
        .await
        .expect("first merge");
    assert_eq!(stats.rows_written, 2);
    assert_eq!(stats.rows_deleted, 0);

    let stats = wh
        .merge(
            &T,
            vec![
                row("2025-03-15", "WAS", 2, Some(22)),
                row("2025-03-15", "WAS", 5, Some(50)),
                // Same player on another date is another key.
                row("2025-03-16", "WAS", 1, Some(11)),
            ],
        )
        .await
        .expect("second merge");
    assert_eq!(stats.rows_deleted, 1, "one existing key was replaced");
    assert_eq!(stats.rows_written, 3);
    assert_eq!(
        points_by_player(wh, &T, "2025-03-15").await,
        vec![(1, Some(10)), (2, Some(22)), (5, Some(50))]
    );
    assert_eq!(
        points_by_player(wh, &T, "2025-03-16").await,
        vec![(1, Some(11))]
    );

    // Merging the same rows again changes nothing.
    wh.merge(&T, vec![row("2025-03-15", "WAS", 2, Some(22))])
        .await
        .expect("repeat merge");
    assert_eq!(count(wh, &T, "TRUE").await, 4);
}

/// A value that does not fit its column fails the whole write with
/// `BadValue` naming row and column; the previous rows stay intact.
pub async fn warehouse_bad_value_rolls_back(wh: &dyn Warehouse) {
    const T: TableDef = probe_table("bad_value");
    wh.ensure_table(&T).await.expect("ensure_table");
    let day = date("2025-03-15");
    wh.replace_partition(&T, day, &[], vec![row("2025-03-15", "WAS", 1, Some(10))])
        .await
        .expect("seed");

    let mut bad = row("2025-03-15", "WAS", 3, Some(30));
    bad.insert("points".into(), json!("lots"));
    let err = wh
        .replace_partition(
            &T,
            day,
            &[],
            vec![row("2025-03-15", "WAS", 2, Some(20)), bad],
        )
        .await
        .expect_err("a text value in an integer column must fail");
    match err {
        WarehouseError::BadValue {
            row, column, table, ..
        } => {
            assert_eq!(row, 1);
            assert_eq!(column, "points");
            assert!(table.contains("bad_value"), "table named: {table}");
        }
        other => panic!("expected BadValue, got {other:?}"),
    }
    assert_eq!(
        points_by_player(wh, &T, "2025-03-15").await,
        vec![(1, Some(10))]
    );

    let mut bad_date = row("2025-03-15", "WAS", 4, Some(40));
    bad_date.insert("tipoff_time".into(), json!("tonight"));
    let err = wh
        .merge(&T, vec![bad_date])
        .await
        .expect_err("bad timestamp");
    assert!(
        matches!(&err, WarehouseError::BadValue { row: 0, column, .. } if column == "tipoff_time"),
        "got {err:?}"
    );

    let mut unknown = row("2025-03-15", "WAS", 5, Some(50));
    unknown.insert("no_such_column".into(), json!(1));
    wh.replace_partition(&T, day, &[], vec![unknown])
        .await
        .expect_err("an unknown column must fail");

    let mut missing = row("2025-03-15", "WAS", 6, Some(60));
    missing.remove("team_abbr");
    wh.merge(&T, vec![missing])
        .await
        .expect_err("a missing non-nullable column must fail");

    assert_eq!(
        points_by_player(wh, &T, "2025-03-15").await,
        vec![(1, Some(10))]
    );
}

/// Dates, timestamps (any offset, fractions), nulls, booleans and floats
/// come back as written (timestamps normalised to UTC); result columns keep
/// the order of the SELECT list.
pub async fn warehouse_values_round_trip(wh: &dyn Warehouse) {
    const T: TableDef = probe_table("round_trip");
    wh.ensure_table(&T).await.expect("ensure_table");
    let day = date("2024-02-29");
    let mut a = row("2024-02-29", "WAS", 1, Some(10));
    a.insert("tipoff_time".into(), json!("2024-02-29T19:30:00-05:00"));
    a.insert("note".into(), json!("O'Neale – ünïcode"));
    a.insert("minutes".into(), json!(12.25));
    a.insert("starter".into(), json!(false));
    let mut b = row("2024-02-29", "WAS", 2, None);
    b.insert("tipoff_time".into(), json!("2024-03-01T00:30:00.250Z"));
    b.insert("minutes".into(), Value::Null);
    b.insert("starter".into(), Value::Null);
    // A missing nullable column is NULL.
    b.remove("note");
    wh.replace_partition(&T, day, &[], vec![a, b])
        .await
        .expect("write");

    let sql = format!(
        "SELECT note, player_id, game_date, tipoff_time, minutes, starter, points FROM {} \
         WHERE game_date = {} ORDER BY player_id",
        T.qualified(),
        date_literal(day)
    );
    let rows = wh.query(&sql).await.expect("select");
    assert_eq!(rows.len(), 2);
    let keys: Vec<&str> = rows[0].keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "note",
            "player_id",
            "game_date",
            "tipoff_time",
            "minutes",
            "starter",
            "points"
        ],
        "columns keep the SELECT order"
    );

    assert_eq!(rows[0]["note"], json!("O'Neale – ünïcode"));
    assert_eq!(rows[0]["player_id"], json!(1));
    assert_eq!(rows[0]["game_date"], json!("2024-02-29"));
    assert_eq!(rows[0]["minutes"], json!(12.25));
    assert_eq!(rows[0]["starter"], json!(false));
    assert_eq!(rows[0]["points"], json!(10));
    let tip: DateTime<Utc> = serde_json::from_value(rows[0]["tipoff_time"].clone())
        .expect("timestamps parse as DateTime<Utc>");
    assert_eq!(tip.to_rfc3339(), "2024-03-01T00:30:00+00:00");

    assert_eq!(rows[1]["note"], Value::Null);
    assert_eq!(rows[1]["points"], Value::Null);
    assert_eq!(rows[1]["minutes"], Value::Null);
    assert_eq!(rows[1]["starter"], Value::Null);
    let tip: DateTime<Utc> = serde_json::from_value(rows[1]["tipoff_time"].clone())
        .expect("fractional timestamps parse as DateTime<Utc>");
    assert_eq!(tip.timestamp_subsec_millis(), 250);
    let as_date: NaiveDate =
        serde_json::from_value(rows[1]["game_date"].clone()).expect("date parses");
    assert_eq!(as_date, day);

    // Filtering on a timestamp literal works.
    let sql = format!(
        "SELECT player_id FROM {} WHERE tipoff_time > TIMESTAMP '2024-03-01 00:30:00'",
        T.qualified()
    );
    let rows = wh.query(&sql).await.expect("timestamp filter");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["player_id"], json!(2));

    // Text with an apostrophe, as the portable literal helpers write it.
    let sql = format!(
        "SELECT player_id FROM {} WHERE note = {} AND note IN {}",
        T.qualified(),
        string_literal("O'Neale – ünïcode"),
        text_list(["O'Neale – ünïcode", "x"])
    );
    let rows = wh.query(&sql).await.expect("apostrophe literal");
    assert_eq!(rows.len(), 1, "'' in a literal is one quote");
    assert_eq!(rows[0]["player_id"], json!(1));
}

/// Aggregates come back as JSON numbers: SUM and COUNT of integers as
/// integers (DuckDB's SUM(BIGINT) is a HUGEINT), AVG as a float.
pub async fn warehouse_aggregates_are_numbers(wh: &dyn Warehouse) {
    const T: TableDef = probe_table("aggregates");
    wh.ensure_table(&T).await.expect("ensure_table");
    let rows = (1..=4)
        .map(|i| row("2025-01-02", "WAS", i, Some(i * 1_000_000_000)))
        .collect();
    wh.replace_partition(&T, date("2025-01-02"), &[], rows)
        .await
        .expect("write");
    let sql = format!(
        "SELECT SUM(points) AS total, COUNT(*) AS n, AVG(points) AS mean, \
         SUM(minutes) AS minutes, MAX(game_date) AS last_day FROM {}",
        T.qualified()
    );
    let rows = wh.query(&sql).await.expect("aggregate");
    let r = &rows[0];
    assert_eq!(
        r["total"],
        json!(10_000_000_000_i64),
        "SUM of integers is an integer"
    );
    assert!(r["total"].is_i64());
    assert_eq!(r["n"], json!(4));
    assert_eq!(r["mean"].as_f64(), Some(2_500_000_000.0));
    assert_eq!(r["minutes"].as_f64(), Some(126.0));
    assert_eq!(r["last_day"], json!("2025-01-02"));

    let empty = wh
        .query(&format!(
            "SELECT SUM(points) AS total FROM {} WHERE FALSE",
            T.qualified()
        ))
        .await
        .expect("empty aggregate");
    assert_eq!(empty[0]["total"], Value::Null);

    let none = wh
        .query(&format!("SELECT * FROM {} WHERE FALSE", T.qualified()))
        .await
        .expect("empty select");
    assert!(none.is_empty());
}

/// A broken query is a `Query` error, not a panic or a transient error.
pub async fn warehouse_bad_query_is_an_error(wh: &dyn Warehouse) {
    let err = wh
        .query("SELECT no_such_column FROM propcast_conformance.no_such_table")
        .await
        .expect_err("query on a missing table");
    assert!(matches!(err, WarehouseError::Query { .. }), "got {err:?}");
    assert!(!err.is_retryable());
}

/// Typed `@name` parameters of every column type, a NULL that keeps its
/// type, a name used twice; a missing value is a `Query` error. (No `@`
/// inside a string literal: bqemulator 1.4 takes `'@d'` for a parameter.)
pub async fn warehouse_query_with_typed_params(wh: &dyn Warehouse) {
    const T: TableDef = probe_table("typed_params");
    wh.ensure_table(&T).await.expect("ensure_table");
    let rows = vec![
        row("2025-03-15", "WAS", 1, Some(10)),
        row("2025-03-15", "WAS", 2, Some(20)),
        row("2025-03-15", "DEN", 3, Some(30)),
        row("2025-03-16", "WAS", 4, Some(40)),
    ];
    wh.merge(&T, rows).await.expect("write");

    let sql = format!(
        "SELECT player_id FROM {} WHERE game_date = @day AND team_abbr = @team \
         AND player_id >= @min AND tipoff_time = @tip AND starter = @starter \
         AND minutes > @minutes AND (@day = game_date) ORDER BY player_id",
        T.qualified()
    );
    let params = [
        ("day", Param::Date(date("2025-03-15"))),
        ("team", Param::Text("WAS".to_string())),
        ("min", Param::Int(2)),
        (
            "tip",
            Param::Timestamp("2025-03-16T00:30:00Z".parse().expect("timestamp")),
        ),
        ("starter", Param::Bool(true)),
        ("minutes", Param::Float(30.25)),
        ("unused", Param::Int(0)),
    ];
    let got = wh.query_with(&sql, &params).await.expect("typed query");
    let ids: Vec<i64> = got
        .iter()
        .map(|r| r["player_id"].as_i64().expect("integer"))
        .collect();
    assert_eq!(ids, [2]);

    let got = wh
        .query_with(
            "SELECT @d AS d, @ts AS ts, @f AS f, @b AS b, @t AS t, @i AS i, \
             @nd IS NULL AS nd_is_null, COALESCE(@nd, DATE '2000-01-01') AS nd, \
             COALESCE(@ni, 7) + 1 AS ni",
            &[
                ("d", Param::Date(date("2024-02-29"))),
                (
                    "ts",
                    Param::Timestamp("2024-03-01T00:30:00.250Z".parse().expect("timestamp")),
                ),
                ("f", Param::Float(12.25)),
                ("b", Param::Bool(false)),
                ("t", Param::Text("O'Neale – \\ \"q\"".to_string())),
                ("i", Param::Int(-9_007_199_254_740_993)),
                ("nd", Param::Null(ColumnType::Date)),
                ("ni", Param::Null(ColumnType::Int)),
            ],
        )
        .await
        .expect("parameters as values");
    let r = &got[0];
    assert_eq!(r["d"], json!("2024-02-29"));
    let ts: DateTime<Utc> = serde_json::from_value(r["ts"].clone()).expect("timestamp");
    assert_eq!(ts.timestamp_millis() % 1000, 250);
    assert_eq!(ts.to_rfc3339(), "2024-03-01T00:30:00.250+00:00");
    assert_eq!(r["f"], json!(12.25));
    assert_eq!(r["b"], json!(false));
    assert_eq!(r["t"], json!("O'Neale – \\ \"q\""));
    assert_eq!(r["i"], json!(-9_007_199_254_740_993_i64));
    assert_eq!(r["nd_is_null"], json!(true));
    assert_eq!(
        r["nd"],
        json!("2000-01-01"),
        "a NULL DATE parameter is a DATE"
    );
    assert_eq!(r["ni"], json!(8), "a NULL INT parameter is an integer");

    let err = wh
        .query_with(
            &format!("SELECT * FROM {} WHERE game_date = @day", T.qualified()),
            &[],
        )
        .await
        .expect_err("a parameter without a value");
    assert!(matches!(err, WarehouseError::Query { .. }), "got {err:?}");
}

/// `tables()` lists ensured tables as (dataset, table) without any
/// backend prefix, and no helper tables of the writes.
pub async fn warehouse_lists_tables(wh: &dyn Warehouse) {
    const A: TableDef = probe_table("listed_a");
    const B: TableDef = probe_table("listed_b");
    wh.ensure_table(&A).await.expect("ensure_table");
    wh.ensure_table(&B).await.expect("ensure_table");
    wh.merge(&B, vec![row("2025-03-15", "WAS", 1, Some(1))])
        .await
        .expect("merge");
    let tables = wh.tables().await.expect("tables");
    let ours: Vec<&(String, String)> = tables
        .iter()
        .filter(|(d, _)| d == "propcast_conformance")
        .collect();
    for name in ["listed_a", "listed_b"] {
        assert!(
            ours.iter().any(|(_, t)| t == name),
            "{name} is listed: {tables:?}"
        );
    }
    assert!(
        ours.iter()
            .all(|(_, t)| !t.starts_with("_propcast_stage") && !t.starts_with("propcast_merge_")),
        "no staging tables: {tables:?}"
    );
    let mut sorted = tables.clone();
    sorted.sort();
    assert_eq!(sorted, tables, "sorted by dataset, then table");
}

/// A write larger than one SQL script comfortably holds (about 600 KB of
/// text, over the BigQuery warehouse's 512 KiB script budget) is still one
/// atomic, idempotent replace; text with quotes,
/// backslashes, newlines and non-ASCII characters round-trips.
pub async fn warehouse_large_write_round_trips(wh: &dyn Warehouse) {
    const T: TableDef = probe_table("large_write");
    wh.ensure_table(&T).await.expect("ensure_table");
    let day = date("2025-03-15");
    let odd = "it's \\ a \"test\"\nnew line\ttab – ünïcode 🏀 ";
    let rows = || -> Vec<Record> {
        (0..1_200)
            .map(|i| {
                let mut r = row("2025-03-15", "WAS", i, Some(i));
                r.insert(
                    "note".into(),
                    json!(format!("{odd}{i} {}", "x".repeat(450))),
                );
                r
            })
            .collect()
    };
    let first = wh
        .replace_partition(&T, day, &[], rows())
        .await
        .expect("large replace");
    assert_eq!(first.rows_written, 1_200);
    let second = wh
        .replace_partition(&T, day, &[], rows())
        .await
        .expect("large replace again");
    assert_eq!(second.rows_deleted, 1_200);
    assert_eq!(count(wh, &T, "TRUE").await, 1_200);
    let sum = wh
        .query(&format!(
            "SELECT SUM(points) AS s, MIN(note) AS first FROM {}",
            T.qualified()
        ))
        .await
        .expect("sum");
    assert_eq!(sum[0]["s"], json!(1_199 * 1_200 / 2));
    assert_eq!(
        sum[0]["first"],
        json!(format!("{odd}0 {}", "x".repeat(450))),
        "text comes back as written"
    );
    let sql = format!(
        "SELECT COUNT(*) AS n FROM {} WHERE note = {}",
        T.qualified(),
        string_literal(&format!("{odd}7 {}", "x".repeat(450)))
    );
    let found = wh.query(&sql).await.expect("odd literal");
    assert_eq!(
        found[0]["n"],
        json!(1),
        "a literal with quotes and backslashes"
    );
    let merged = wh.merge(&T, rows()).await.expect("large merge");
    assert_eq!(merged.rows_deleted, 1_200);
    assert_eq!(count(wh, &T, "TRUE").await, 1_200);
}

/// Runs every warehouse conformance check.
pub async fn warehouse_all(wh: &dyn Warehouse) {
    warehouse_replace_partition_is_idempotent(wh).await;
    warehouse_replace_partition_respects_scope(wh).await;
    warehouse_replace_dates_replaces_exactly_those_dates(wh).await;
    warehouse_merge_upserts_by_key(wh).await;
    warehouse_bad_value_rolls_back(wh).await;
    warehouse_values_round_trip(wh).await;
    warehouse_aggregates_are_numbers(wh).await;
    warehouse_bad_query_is_an_error(wh).await;
    warehouse_query_with_typed_params(wh).await;
    warehouse_lists_tables(wh).await;
    warehouse_large_write_round_trips(wh).await;
}

// ------------------------------------------------------------ landing zone

/// The objects a landing zone under test must hold (seed them before
/// calling [`landing_lists_and_gets`]).
pub const LANDING_FIXTURE: &[(&str, &[u8])] = &[
    (
        "nba-com/player-boxscores/2025-03-15/20250316_080500.json",
        b"{\"a\":1}",
    ),
    (
        "nba-com/player-boxscores/2025-03-15/20250316_060000.json",
        b"{\"a\":0}",
    ),
    (
        "nba-com/player-boxscores/2025-03-16/20250317_080500.json",
        b"{\"b\":22}",
    ),
    ("nba-com/schedule/2025-03-15/schedule.json", b"[]"),
    ("odds-api/props/2025-03-15/snap.json", b"{}"),
];

/// Lists recursively and sorted, filters by folder prefix, gets bytes,
/// reports a missing object as `NotFound`.
pub async fn landing_lists_and_gets(zone: &dyn LandingZone) {
    let all = zone.list("").await.expect("list all");
    let paths: Vec<&str> = all.iter().map(|o| o.path.as_str()).collect();
    let mut expected: Vec<&str> = LANDING_FIXTURE.iter().map(|(p, _)| *p).collect();
    expected.sort();
    assert_eq!(paths, expected, "recursive listing, sorted by path");

    let boxscores = zone
        .list("nba-com/player-boxscores")
        .await
        .expect("list prefix");
    let paths: Vec<&str> = boxscores.iter().map(|o| o.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "nba-com/player-boxscores/2025-03-15/20250316_060000.json",
            "nba-com/player-boxscores/2025-03-15/20250316_080500.json",
            "nba-com/player-boxscores/2025-03-16/20250317_080500.json",
        ]
    );
    assert_eq!(boxscores[2].size, 8);

    let day = zone
        .list("nba-com/player-boxscores/2025-03-16")
        .await
        .expect("list day");
    assert_eq!(day.len(), 1);

    // A prefix is a folder, not a string prefix of file names.
    assert!(
        zone.list("nba-com/player")
            .await
            .expect("partial segment")
            .is_empty()
    );
    assert!(
        zone.list("nowhere/at/all")
            .await
            .expect("missing folder")
            .is_empty()
    );

    let bytes = zone
        .get("nba-com/player-boxscores/2025-03-16/20250317_080500.json")
        .await
        .expect("get");
    assert_eq!(bytes, Bytes::from_static(b"{\"b\":22}"));

    let err = zone
        .get("nba-com/player-boxscores/2025-03-16/missing.json")
        .await
        .expect_err("missing object");
    assert!(matches!(err, LandingError::NotFound { .. }), "got {err:?}");
    assert!(!zone.describe().is_empty());
}

// ------------------------------------------------------------- state store

/// get / put / delete / list: missing documents are `None`, puts replace,
/// list filters by id prefix within one collection and orders by id.
pub async fn state_documents_crud(store: &dyn StateStore) {
    let c = "conformance_crud";
    assert_eq!(store.get(c, "a").await.expect("get missing"), None);
    store
        .put(c, "run/2025-03-15/b", &json!({"n": 2}))
        .await
        .expect("put");
    store
        .put(c, "run/2025-03-15/a", &json!({"n": 1}))
        .await
        .expect("put");
    store
        .put(c, "run/2025-03-16/a", &json!({"n": 3}))
        .await
        .expect("put");
    store.put(c, "other", &json!({"n": 4})).await.expect("put");
    store
        .put("conformance_crud_elsewhere", "run/2025-03-15/z", &json!({}))
        .await
        .expect("put");
    store
        .put(
            c,
            "run/2025-03-15/a",
            &json!({"n": 10, "nested": {"list": [1, 2]}}),
        )
        .await
        .expect("replace");
    assert_eq!(
        store.get(c, "run/2025-03-15/a").await.expect("get"),
        Some(json!({"n": 10, "nested": {"list": [1, 2]}}))
    );

    let listed = store.list(c, "run/2025-03-15/").await.expect("list prefix");
    let ids: Vec<&str> = listed.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, ["run/2025-03-15/a", "run/2025-03-15/b"]);
    assert_eq!(listed[1].1, json!({"n": 2}));
    let all = store.list(c, "").await.expect("list all");
    let ids: Vec<&str> = all.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "other",
            "run/2025-03-15/a",
            "run/2025-03-15/b",
            "run/2025-03-16/a"
        ]
    );

    store.delete(c, "other").await.expect("delete");
    store
        .delete(c, "other")
        .await
        .expect("deleting a missing document is fine");
    assert_eq!(store.get(c, "other").await.expect("get deleted"), None);
}

/// A transaction sees the current document and applies Put / Keep / Delete.
pub async fn state_transaction_decisions(store: &dyn StateStore) {
    let (c, id) = ("conformance_tx", "doc");
    let mut seen: Vec<Option<Value>> = Vec::new();
    let written = store
        .transaction(c, id, &mut |current| {
            seen.push(current.cloned());
            TxDecision::Put(json!({"fired": true}))
        })
        .await
        .expect("create in a transaction");
    assert_eq!(written, Some(json!({"fired": true})));
    assert_eq!(
        seen.last(),
        Some(&None),
        "the first transaction saw no document"
    );

    let kept = store
        .transaction(c, id, &mut |current| {
            assert_eq!(current, Some(&json!({"fired": true})));
            TxDecision::Keep
        })
        .await
        .expect("keep");
    assert_eq!(kept, Some(json!({"fired": true})));

    let deleted = store
        .transaction(c, id, &mut |_| TxDecision::Delete)
        .await
        .expect("delete in a transaction");
    assert_eq!(deleted, None);
    assert_eq!(store.get(c, id).await.expect("get"), None);

    let kept_missing = store
        .transaction(c, "never", &mut |_| TxDecision::Keep)
        .await
        .expect("keep a missing document");
    assert_eq!(kept_missing, None);
}

async fn increment(store: &dyn StateStore, collection: &str, id: &str) -> Result<(), StateError> {
    store
        .transaction(collection, id, &mut |current| {
            let n = current.and_then(|d| d["count"].as_i64()).unwrap_or(0);
            TxDecision::Put(json!({ "count": n + 1 }))
        })
        .await
        .map(|_| ())
}

async fn read_count(store: &dyn StateStore, collection: &str, id: &str) -> i64 {
    store
        .get(collection, id)
        .await
        .expect("get counter")
        .and_then(|d| d["count"].as_i64())
        .unwrap_or(0)
}

/// `tasks` concurrent tasks each increment one counter `per_task` times
/// through read-modify-write transactions: no increment is lost.
pub async fn state_transactions_serialize(
    store: Arc<dyn StateStore>,
    tasks: usize,
    per_task: usize,
) {
    let (c, id) = ("conformance_counter", "tasks");
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                for _ in 0..per_task {
                    increment(store.as_ref(), c, id).await.expect("increment");
                }
            })
        })
        .collect();
    for h in handles {
        h.await.expect("task panicked");
    }
    assert_eq!(
        read_count(store.as_ref(), c, id).await,
        (tasks * per_task) as i64
    );
}

/// Two independent handles on the same backing store increment one counter
/// concurrently (from two OS threads): no increment is lost.
pub async fn state_transactions_serialize_across_handles(
    a: Arc<dyn StateStore>,
    b: Arc<dyn StateStore>,
    per_handle: usize,
) {
    let (c, id) = ("conformance_counter", "handles");
    let run = |store: Arc<dyn StateStore>| {
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async {
                for _ in 0..per_handle {
                    increment(store.as_ref(), c, id).await.expect("increment");
                }
            });
        })
    };
    let ta = run(Arc::clone(&a));
    let tb = run(Arc::clone(&b));
    tokio::task::spawn_blocking(move || {
        ta.join().expect("thread a panicked");
        tb.join().expect("thread b panicked");
    })
    .await
    .expect("join threads");
    assert_eq!(read_count(a.as_ref(), c, id).await, (2 * per_handle) as i64);
    assert_eq!(read_count(b.as_ref(), c, id).await, (2 * per_handle) as i64);
}

// --------------------------------------------------------------- event bus

/// Pulls until `want` messages arrived or `timeout` passed (a real broker
/// may return fewer messages than are available).
async fn pull_at_least(
    bus: &dyn EventBus,
    sub: &str,
    want: usize,
    timeout: Duration,
) -> Vec<Delivery> {
    let start = Instant::now();
    let mut got = Vec::new();
    loop {
        got.extend(bus.pull(sub, want - got.len()).await.expect("pull"));
        if got.len() >= want || start.elapsed() > timeout {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn attrs(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Unknown topics and subscriptions are errors of their own kind.
pub async fn bus_unknown_names(bus: &dyn EventBus) {
    let err = bus
        .publish(
            "conformance-no-such-topic",
            Bytes::from_static(b"x"),
            BTreeMap::new(),
        )
        .await
        .expect_err("publish to a missing topic");
    assert!(matches!(err, EventBusError::UnknownTopic(_)), "got {err:?}");
    let err = bus
        .create_subscription(
            "conformance-no-such-topic",
            "conformance-sub-x",
            Duration::from_secs(10),
            5,
        )
        .await
        .expect_err("subscribe to a missing topic");
    assert!(matches!(err, EventBusError::UnknownTopic(_)), "got {err:?}");
    let err = bus
        .pull("conformance-no-such-subscription", 1)
        .await
        .expect_err("pull from a missing subscription");
    assert!(
        matches!(err, EventBusError::UnknownSubscription(_)),
        "got {err:?}"
    );
}

/// A message goes to every subscription of its topic that existed when it
/// was published, with data and attributes intact; an ack removes it.
pub async fn bus_fan_out_and_ack(bus: &dyn EventBus, ack_deadline: Duration) {
    let topic = "conformance-fanout";
    bus.create_topic(topic).await.expect("create topic");
    bus.create_topic(topic)
        .await
        .expect("create_topic is idempotent");
    bus.create_subscription(topic, "conformance-fanout-a", ack_deadline, 5)
        .await
        .expect("subscription a");
    bus.create_subscription(topic, "conformance-fanout-b", ack_deadline, 5)
        .await
        .expect("subscription b");

    let id = bus
        .publish(
            topic,
            Bytes::from_static(b"{\"game_date\":\"2025-03-15\"}"),
            attrs(&[("processor", "raw")]),
        )
        .await
        .expect("publish");
    bus.create_subscription(topic, "conformance-fanout-late", ack_deadline, 5)
        .await
        .expect("late subscription");

    for sub in ["conformance-fanout-a", "conformance-fanout-b"] {
        let got = pull_at_least(bus, sub, 1, Duration::from_secs(10)).await;
        assert_eq!(got.len(), 1, "{sub} gets the message once");
        let d = &got[0];
        assert_eq!(d.message_id, id);
        assert_eq!(
            d.data,
            Bytes::from_static(b"{\"game_date\":\"2025-03-15\"}")
        );
        assert_eq!(d.attributes, attrs(&[("processor", "raw")]));
        assert_eq!(d.attempt, 1);
        assert!(
            bus.pull(sub, 10)
                .await
                .expect("pull while leased")
                .is_empty(),
            "{sub}: leased"
        );
        bus.ack(sub, std::slice::from_ref(&d.ack_id))
            .await
            .expect("ack");
    }
    assert!(
        bus.pull("conformance-fanout-late", 10)
            .await
            .expect("pull late")
            .is_empty(),
        "a subscription created after the publish does not get the message"
    );

    // Acked messages are not redelivered after the deadline.
    tokio::time::sleep(ack_deadline + Duration::from_millis(200)).await;
    assert!(
        bus.pull("conformance-fanout-a", 10)
            .await
            .expect("pull after ack")
            .is_empty()
    );
}

/// A message not acked within its deadline is delivered again with the
/// next attempt number; one that is nacked is available at once.
pub async fn bus_redelivery_and_nack(bus: &dyn EventBus, ack_deadline: Duration) {
    let topic = "conformance-redelivery";
    let sub = "conformance-redelivery-sub";
    bus.create_topic(topic).await.expect("create topic");
    bus.create_subscription(topic, sub, ack_deadline, 10)
        .await
        .expect("subscription");
    let id = bus
        .publish(topic, Bytes::from_static(b"again"), BTreeMap::new())
        .await
        .expect("publish");

    let first = pull_at_least(bus, sub, 1, Duration::from_secs(10)).await;
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].attempt, 1);
    assert!(
        bus.pull(sub, 10)
            .await
            .expect("pull while leased")
            .is_empty()
    );

    tokio::time::sleep(ack_deadline + Duration::from_millis(300)).await;
    let second = pull_at_least(bus, sub, 1, ack_deadline + Duration::from_secs(10)).await;
    assert_eq!(second.len(), 1, "redelivered after the ack deadline");
    assert_eq!(second[0].message_id, id);
    assert_eq!(second[0].attempt, 2);

    bus.nack(sub, std::slice::from_ref(&second[0].ack_id))
        .await
        .expect("nack");
    let third = pull_at_least(bus, sub, 1, Duration::from_secs(10)).await;
    assert_eq!(third.len(), 1, "a nacked message is available at once");
    assert_eq!(third[0].attempt, 3);

    bus.ack(sub, std::slice::from_ref(&third[0].ack_id))
        .await
        .expect("ack");
    tokio::time::sleep(ack_deadline + Duration::from_millis(300)).await;
    assert!(bus.pull(sub, 10).await.expect("pull after ack").is_empty());
    assert!(
        bus.dead_letters(sub)
            .await
            .expect("dead letters")
            .is_empty()
    );
}

/// After `max_attempts` deliveries without an ack a message moves to the
/// dead-letter list and is not delivered again; others keep flowing.
pub async fn bus_dead_letter_after_max_attempts(
    bus: &dyn EventBus,
    ack_deadline: Duration,
    max_attempts: u32,
) {
    let topic = "conformance-dead-letter";
    let sub = "conformance-dead-letter-sub";
    bus.create_topic(topic).await.expect("create topic");
    bus.create_subscription(topic, sub, ack_deadline, max_attempts)
        .await
        .expect("subscription");
    let poison = bus
        .publish(
            topic,
            Bytes::from_static(b"poison"),
            attrs(&[("kind", "poison")]),
        )
        .await
        .expect("publish");

    for attempt in 1..=max_attempts {
        let got = pull_at_least(bus, sub, 1, Duration::from_secs(10)).await;
        assert_eq!(got.len(), 1, "delivery {attempt}");
        assert_eq!(got[0].attempt, attempt);
        bus.nack(sub, std::slice::from_ref(&got[0].ack_id))
            .await
            .expect("nack");
    }
    let healthy = bus
        .publish(topic, Bytes::from_static(b"fine"), BTreeMap::new())
        .await
        .expect("publish healthy");
    let got = pull_at_least(bus, sub, 1, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].message_id, healthy,
        "the poison message is not delivered again"
    );
    bus.ack(sub, std::slice::from_ref(&got[0].ack_id))
        .await
        .expect("ack");

    let start = Instant::now();
    let dead = loop {
        let dead = bus.dead_letters(sub).await.expect("dead letters");
        if !dead.is_empty() || start.elapsed() > Duration::from_secs(10) {
            break dead;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].message_id, poison);
    assert_eq!(dead[0].data, Bytes::from_static(b"poison"));
    assert_eq!(dead[0].attributes, attrs(&[("kind", "poison")]));
    assert_eq!(dead[0].attempt, max_attempts);
}
