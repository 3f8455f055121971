//! The shared conformance suite against the embedded backends (one macro
//! call per backend and trait), then what only the embedded backends
//! promise.

use propcast_platform::conformance::suite::{BusTimings, StateStoreSizes};
use propcast_platform::embedded::{
    DuckDbWarehouse, EmbeddedBackends, LocalLandingZone, SqliteEventBus, SqliteStateStore,
};
use propcast_platform::{
    EventBus, LandingZone, StateStore, Warehouse, WarehouseError, conformance,
    event_bus_test_suite, landing_zone_test_suite, state_store_test_suite, warehouse_test_suite,
};
use std::sync::Arc;
use std::time::Duration;

// --------------------------------------------------------------- warehouse

warehouse_test_suite!(duckdb_file, |home| async move {
    Some(DuckDbWarehouse::open(home.dir.join("nested/warehouse.duckdb")).expect("open warehouse"))
});
warehouse_test_suite!(duckdb_in_memory, |_home| async {
    Some(DuckDbWarehouse::in_memory().expect("open warehouse"))
});

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

// ------------------------------------------------------------ landing zone

/// A landing zone holding the conformance fixture.
async fn seeded(zone: LocalLandingZone) -> Option<LocalLandingZone> {
    for (path, data) in conformance::LANDING_FIXTURE {
        zone.put(path, data.to_vec())
            .await
            .expect("seed the landing zone");
    }
    Some(zone)
}

landing_zone_test_suite!(local_directory, |home| async move {
    seeded(LocalLandingZone::open(home.dir.join("landing")).expect("open landing zone")).await
});
landing_zone_test_suite!(in_memory_landing, |_home| async {
    seeded(LocalLandingZone::in_memory()).await
});

/// Files written by other tools into the directory are seen too.
#[tokio::test]
async fn local_directory_sees_files_written_by_others() {
    let dir = tempfile::tempdir().unwrap();
    let zone = LocalLandingZone::open(dir.path().join("landing")).unwrap();
    std::fs::write(dir.path().join("landing/extra.json"), b"{}").unwrap();
    assert_eq!(zone.get("extra.json").await.unwrap().as_ref(), b"{}");
}

// ------------------------------------------------------------- state store

state_store_test_suite!(
    sqlite_state,
    |home| async move {
        Some(SqliteStateStore::open(home.dir.join("state.sqlite")).expect("open state store"))
    },
    StateStoreSizes {
        at_once: 50,
        tasks: 50,
        per_task: 4,
        per_handle: 200,
    }
);

/// State and bus share one file without stepping on each other.
#[tokio::test]
async fn embedded_backends_open_a_data_directory() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("propcast-data");
    {
        let backends = EmbeddedBackends::open(&data).unwrap();
        backends
            .state
            .put("c", "id", &serde_json::json!({"x": 1}))
            .await
            .unwrap();
        backends.bus.create_topic("t").await.unwrap();
        backends
            .bus
            .create_subscription("t", "s", Duration::from_secs(30), 5)
            .await
            .unwrap();
        backends
            .bus
            .publish("t", "hello".into(), Default::default())
            .await
            .unwrap();
        conformance::warehouse_merge_upserts_by_key(backends.warehouse.as_ref()).await;
    }
    assert!(data.join("warehouse.duckdb").exists());
    assert!(data.join("state.sqlite").exists());
    // Everything is still there after reopening.
    let backends = EmbeddedBackends::open(&data).unwrap();
    assert_eq!(
        backends.state.get("c", "id").await.unwrap(),
        Some(serde_json::json!({"x": 1}))
    );
    let got = backends.bus.pull("s", 10).await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].data.as_ref(), b"hello");
    let rows = backends
        .warehouse
        .query("SELECT COUNT(*) AS n FROM propcast_conformance.merge_upsert")
        .await
        .unwrap();
    assert_eq!(rows[0]["n"], serde_json::json!(4));
}

// --------------------------------------------------------------- event bus

const TIMINGS: BusTimings = BusTimings {
    ack_deadline: Duration::from_millis(400),
    max_attempts: 3,
};

event_bus_test_suite!(
    sqlite_bus_file,
    |home| async move {
        Some(SqliteEventBus::open(home.dir.join("state.sqlite")).expect("open event bus"))
    },
    TIMINGS
);
event_bus_test_suite!(
    sqlite_bus_in_memory,
    |_home| async { Some(SqliteEventBus::in_memory().expect("open event bus")) },
    TIMINGS
);

/// A lease that runs out on the last allowed attempt dead-letters too.
#[tokio::test]
async fn sqlite_bus_expired_last_attempt_dead_letters() {
    let bus = SqliteEventBus::in_memory().unwrap();
    bus.create_topic("t").await.unwrap();
    bus.create_subscription("t", "s", Duration::from_millis(100), 1)
        .await
        .unwrap();
    bus.publish("t", "x".into(), Default::default())
        .await
        .unwrap();
    assert_eq!(bus.pull("s", 5).await.unwrap().len(), 1);
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert!(bus.pull("s", 5).await.unwrap().is_empty());
    assert_eq!(bus.dead_letters("s").await.unwrap().len(), 1);
    assert_eq!(bus.backlog("s").unwrap(), 0);
}

/// Two handles on one file consume a subscription together: every message
/// is delivered exactly once while leases hold.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_bus_competing_consumers_on_one_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.sqlite");
    let a = Arc::new(SqliteEventBus::open(&path).unwrap());
    let b = Arc::new(SqliteEventBus::open(&path).unwrap());
    a.create_topic("t").await.unwrap();
    a.create_subscription("t", "s", Duration::from_secs(60), 5)
        .await
        .unwrap();
    for i in 0..200 {
        b.publish("t", format!("{i}").into(), Default::default())
            .await
            .unwrap();
    }
    let consume = |bus: Arc<SqliteEventBus>| {
        tokio::spawn(async move {
            let mut seen = Vec::new();
            loop {
                let got = bus.pull("s", 7).await.unwrap();
                if got.is_empty() {
                    return seen;
                }
                let ids: Vec<String> = got.iter().map(|d| d.ack_id.clone()).collect();
                seen.extend(got.into_iter().map(|d| d.message_id));
                bus.ack("s", &ids).await.unwrap();
            }
        })
    };
    let (x, y) = (consume(Arc::clone(&a)), consume(Arc::clone(&b)));
    let mut all = x.await.unwrap();
    all.extend(y.await.unwrap());
    all.sort();
    let before = all.len();
    all.dedup();
    assert_eq!(before, 200, "no message delivered twice");
    assert_eq!(all.len(), 200);
}
