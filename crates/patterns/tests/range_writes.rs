//! The held writes of a range run, on the embedded warehouse: a read of a
//! held table sees exactly what it would have seen unheld, a later replace
//! of a date supersedes the earlier one, and the flush writes every held
//! date once, leaving other dates alone.

use chrono::NaiveDate;
use propcast_core::catalog::{Column, ColumnType, TableDef};
use propcast_patterns::range_writes::RangeWrites;
use propcast_platform::embedded::DuckDbWarehouse;
use propcast_platform::{Record, Warehouse};
use std::sync::Arc;

const T: TableDef = TableDef {
    dataset: "held",
    name: "points",
    columns: &[
        Column {
            name: "game_date",
            ty: ColumnType::Date,
            nullable: false,
        },
        Column {
            name: "player",
            ty: ColumnType::Text,
            nullable: false,
        },
        Column {
            name: "points",
            ty: ColumnType::Int,
            nullable: false,
        },
    ],
    primary_key: &["game_date", "player"],
    partition: "game_date",
};

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 1, d).unwrap()
}

fn row(date: NaiveDate, player: &str, points: i64) -> Record {
    serde_json::json!({"game_date": date.to_string(), "player": player, "points": points})
        .as_object()
        .unwrap()
        .clone()
}

async fn contents(wh: &dyn Warehouse) -> Vec<String> {
    wh.query("SELECT game_date, player, points FROM held.points ORDER BY game_date, player")
        .await
        .unwrap()
        .into_iter()
        .map(|r| {
            format!(
                "{} {} {}",
                r["game_date"].as_str().unwrap(),
                r["player"].as_str().unwrap(),
                r["points"]
            )
        })
        .collect()
}

#[tokio::test]
async fn held_writes_read_as_unheld_and_flush_once_per_table() {
    let inner = Arc::new(DuckDbWarehouse::in_memory().unwrap());
    // A date outside the range, stored before: never touched.
    inner
        .replace_partition(&T, day(1), &[], vec![row(day(1), "a", 10)])
        .await
        .unwrap();
    // A date of the range already stored: replaced by the held rows.
    inner
        .replace_partition(&T, day(2), &[], vec![row(day(2), "old", 1)])
        .await
        .unwrap();

    let held = RangeWrites::new(inner.clone());
    let stats = held
        .replace_partition(&T, day(2), &[], vec![row(day(2), "b", 20)])
        .await
        .unwrap();
    assert_eq!(stats.rows_written, 1);
    // Not written yet: the warehouse underneath still has the old row.
    assert_eq!(
        contents(inner.as_ref()).await,
        ["2025-01-01 a 10", "2025-01-02 old 1"]
    );
    // A read through the held warehouse names the table: it sees day 2 replaced.
    assert_eq!(
        contents(&held).await,
        ["2025-01-01 a 10", "2025-01-02 b 20"]
    );
    // Day 3 twice: the second replace supersedes the first.
    held.replace_partition(&T, day(3), &[], vec![row(day(3), "c", 30)])
        .await
        .unwrap();
    held.replace_partition(
        &T,
        day(3),
        &[],
        vec![row(day(3), "d", 40), row(day(3), "e", 5)],
    )
    .await
    .unwrap();
    // Day 4 emptied.
    held.replace_partition(&T, day(4), &[], vec![])
        .await
        .unwrap();
    assert_eq!(contents(inner.as_ref()).await.len(), 2);
    held.flush().await.unwrap();
    assert_eq!(
        contents(inner.as_ref()).await,
        [
            "2025-01-01 a 10",
            "2025-01-02 b 20",
            "2025-01-03 d 40",
            "2025-01-03 e 5"
        ]
    );
    // Nothing left held: a second flush writes nothing.
    held.flush().await.unwrap();
    assert_eq!(contents(inner.as_ref()).await.len(), 4);
}

#[tokio::test]
async fn a_bad_held_row_fails_the_flush_and_stores_nothing_of_the_range() {
    let inner = Arc::new(DuckDbWarehouse::in_memory().unwrap());
    inner
        .replace_partition(&T, day(2), &[], vec![row(day(2), "kept", 7)])
        .await
        .unwrap();
    let held = RangeWrites::new(inner.clone());
    held.replace_partition(&T, day(2), &[], vec![row(day(2), "b", 20)])
        .await
        .unwrap();
    let mut bad = row(day(3), "c", 0);
    bad.insert("points".into(), serde_json::json!("not a number"));
    held.replace_partition(&T, day(3), &[], vec![bad])
        .await
        .unwrap();
    let err = held.flush().await.unwrap_err().to_string();
    assert!(err.contains("points"), "{err}");
    assert_eq!(contents(inner.as_ref()).await, ["2025-01-02 kept 7"]);
}
