//! The shared conformance suite against the embedded backends.

use propcast_platform::conformance;
use propcast_platform::embedded::{DuckDbWarehouse, LocalLandingZone};
use propcast_platform::{LandingZone, Warehouse, WarehouseError};

fn file_warehouse(dir: &tempfile::TempDir) -> DuckDbWarehouse {
    DuckDbWarehouse::open(dir.path().join("nested/warehouse.duckdb")).expect("open warehouse")
}

#[tokio::test]
async fn duckdb_replace_partition_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    conformance::warehouse_replace_partition_is_idempotent(&file_warehouse(&dir)).await;
}

#[tokio::test]
async fn duckdb_replace_partition_respects_scope() {
    let wh = DuckDbWarehouse::in_memory().unwrap();
    conformance::warehouse_replace_partition_respects_scope(&wh).await;
}

#[tokio::test]
async fn duckdb_merge_upserts_by_key() {
    let dir = tempfile::tempdir().unwrap();
    conformance::warehouse_merge_upserts_by_key(&file_warehouse(&dir)).await;
}

#[tokio::test]
async fn duckdb_bad_value_rolls_back() {
    let dir = tempfile::tempdir().unwrap();
    conformance::warehouse_bad_value_rolls_back(&file_warehouse(&dir)).await;
}

#[tokio::test]
async fn duckdb_values_round_trip() {
    let wh = DuckDbWarehouse::in_memory().unwrap();
    conformance::warehouse_values_round_trip(&wh).await;
}

#[tokio::test]
async fn duckdb_aggregates_are_numbers() {
    let wh = DuckDbWarehouse::in_memory().unwrap();
    conformance::warehouse_aggregates_are_numbers(&wh).await;
}

#[tokio::test]
async fn duckdb_bad_query_is_an_error() {
    let wh = DuckDbWarehouse::in_memory().unwrap();
    conformance::warehouse_bad_query_is_an_error(&wh).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duckdb_whole_suite_on_one_file_multi_thread() {
    let dir = tempfile::tempdir().unwrap();
    conformance::warehouse_all(&file_warehouse(&dir)).await;
}

/// Rows survive closing the file; a read-only handle reads them and refuses
/// writes.
#[tokio::test]
async fn duckdb_file_persists_and_read_only_refuses_writes() {
    use propcast_core::Table;
    use propcast_core::tables::QuarantineRecord;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wh.duckdb");
    let def = QuarantineRecord::DEF;
    {
        let wh = DuckDbWarehouse::open(&path).unwrap();
        wh.ensure_table(&def).await.unwrap();
        conformance::warehouse_replace_partition_is_idempotent(&wh).await;
        wh.checkpoint().unwrap();
    }
    let ro = DuckDbWarehouse::open_read_only(&path).unwrap();
    assert!(ro.is_read_only());
    ro.ensure_table(&def)
        .await
        .expect("existing table checks fine read-only");
    let rows = ro
        .query("SELECT COUNT(*) AS n FROM propcast_conformance.replace_idempotent")
        .await
        .unwrap();
    assert_eq!(rows[0]["n"], serde_json::json!(1));
    let err = ro
        .replace_partition(
            &def,
            chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
            &[],
            vec![],
        )
        .await
        .expect_err("read-only write");
    assert!(matches!(err, WarehouseError::ReadOnly(_)), "got {err:?}");
    let err = ro.merge(&def, vec![]).await.expect_err("read-only merge");
    assert!(matches!(err, WarehouseError::ReadOnly(_)), "got {err:?}");
}

/// Writing the ~100k rows of a backfill must not dominate the pipeline.
#[tokio::test]
async fn duckdb_bulk_replace_writes_many_rows() {
    use propcast_core::Table;
    use propcast_core::tables::ProcessorRun;
    let _ = ProcessorRun::DEF;
    let wh = DuckDbWarehouse::in_memory().unwrap();
    let def = propcast_core::TableDef {
        dataset: "bulk",
        name: "rows",
        columns: &[
            propcast_core::Column {
                name: "game_date",
                ty: propcast_core::ColumnType::Date,
                nullable: false,
            },
            propcast_core::Column {
                name: "id",
                ty: propcast_core::ColumnType::Int,
                nullable: false,
            },
            propcast_core::Column {
                name: "name",
                ty: propcast_core::ColumnType::Text,
                nullable: false,
            },
            propcast_core::Column {
                name: "value",
                ty: propcast_core::ColumnType::Float,
                nullable: true,
            },
            propcast_core::Column {
                name: "at",
                ty: propcast_core::ColumnType::Timestamp,
                nullable: true,
            },
        ],
        primary_key: &["game_date", "id"],
        partition: "game_date",
    };
    let day = chrono::NaiveDate::from_ymd_opt(2025, 3, 15).unwrap();
    let rows: Vec<_> = (0..50_000)
        .map(|i| {
            serde_json::json!({
                "game_date": "2025-03-15", "id": i, "name": format!("player {i}"),
                "value": i as f64 / 3.0, "at": "2025-03-16T08:05:00Z"
            })
            .as_object()
            .unwrap()
            .clone()
        })
        .collect();
    let stats = wh
        .replace_partition(&def, day, &[], rows.clone())
        .await
        .unwrap();
    assert_eq!(stats.rows_written, 50_000);
    let stats = wh.merge(&def, rows).await.unwrap();
    assert_eq!(stats.rows_deleted, 50_000);
    assert_eq!(wh.row_count(&def).unwrap(), 50_000);
    let sum = wh
        .query("SELECT SUM(id) AS s FROM bulk.rows")
        .await
        .unwrap();
    assert_eq!(sum[0]["s"], serde_json::json!(49_999_i64 * 50_000 / 2));
}

#[tokio::test]
async fn local_directory_landing_zone() {
    let dir = tempfile::tempdir().unwrap();
    let zone = LocalLandingZone::open(dir.path().join("landing")).unwrap();
    for (path, data) in conformance::LANDING_FIXTURE {
        zone.put(path, data.to_vec()).await.unwrap();
    }
    conformance::landing_lists_and_gets(&zone).await;
    // Files written by other tools are seen too.
    std::fs::write(dir.path().join("landing/extra.json"), b"{}").unwrap();
    assert_eq!(zone.get("extra.json").await.unwrap().as_ref(), b"{}");
}

#[tokio::test]
async fn in_memory_landing_zone() {
    let zone = LocalLandingZone::in_memory();
    for (path, data) in conformance::LANDING_FIXTURE {
        zone.put(path, data.to_vec()).await.unwrap();
    }
    conformance::landing_lists_and_gets(&zone).await;
}
