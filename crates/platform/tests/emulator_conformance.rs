//! The shared conformance suite against the `gcp` backends, on emulators:
//! Google's Firestore (`FIRESTORE_EMULATOR_HOST`) for the state store and
//! Pub/Sub (`PUBSUB_EMULATOR_HOST`) for the event bus, bqemulator
//! (`BIGQUERY_EMULATOR_HOST`) for the warehouse.
//!
//! ```sh
//! eval "$(scripts/emulators.sh start)"
//! PROPCAST_REQUIRE_EMULATORS=1 cargo test -p propcast-platform --features gcp --test emulator_conformance
//! scripts/emulators.sh stop
//! ```
//!
//! Without the variables a test prints "skipped: emulators not running" and
//! passes, unless `PROPCAST_REQUIRE_EMULATORS=1`, when it fails. Each test
//! uses a project id of its own, so reruns against a running emulator start
//! from nothing.
#![cfg(feature = "gcp")]

use propcast_platform::conformance::suite::{BusTimings, StateStoreSizes};
use propcast_platform::gcp::emulators::{emulator_host, fresh_id};
use propcast_platform::gcp::{
    BigQueryTarget, BigQueryWarehouse, FirestoreStateStore, PubSubEventBus,
};
use propcast_platform::{
    EventBus, EventBusError, StateStore, WarehouseError, event_bus_test_suite,
    state_store_test_suite, warehouse_test_suite,
};
use std::time::Duration;

/// Pub/Sub's shortest ack deadline.
const DEADLINE: Duration = Duration::from_secs(10);

async fn firestore(project: &str) -> Option<FirestoreStateStore> {
    emulator_host("FIRESTORE_EMULATOR_HOST")?;
    Some(
        FirestoreStateStore::connect(project)
            .await
            .expect("connect to the Firestore emulator"),
    )
}

async fn pubsub() -> Option<PubSubEventBus> {
    emulator_host("PUBSUB_EMULATOR_HOST")?;
    Some(
        PubSubEventBus::connect(&fresh_id("propcast"))
            .await
            .expect("connect to the Pub/Sub emulator"),
    )
}

// --------------------------------------------------------------- warehouse

/// A warehouse on the BigQuery emulator in a project of its own, its
/// datasets prefixed by the same id (BigQuery dataset names take letters,
/// digits and underscores only).
async fn bigquery(id: &str) -> Option<BigQueryWarehouse> {
    let host = emulator_host("BIGQUERY_EMULATOR_HOST")?;
    let sanitized: String = id
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    Some(
        BigQueryWarehouse::connect(BigQueryTarget {
            project: id.to_string(),
            dataset_prefix: format!("{sanitized}_"),
            endpoint: Some(format!("http://{host}")),
        })
        .await
        .expect("connect to the BigQuery emulator"),
    )
}

warehouse_test_suite!(
    bigquery_emulator,
    |home| async move { bigquery(&home.id).await }
);

/// A wrong endpoint fails at connect, naming the project and the endpoint.
#[tokio::test]
async fn bigquery_connect_to_nothing_fails_clearly() {
    if emulator_host("BIGQUERY_EMULATOR_HOST").is_none() {
        return;
    }
    let unused = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = unused.local_addr().unwrap().port();
    drop(unused);
    let err = BigQueryWarehouse::connect(BigQueryTarget {
        project: "propcast-nowhere".to_string(),
        dataset_prefix: String::new(),
        endpoint: Some(format!("127.0.0.1:{port}")),
    })
    .await
    .expect_err("nothing listens there");
    let message = err.to_string();
    assert!(message.contains("propcast-nowhere"), "{message}");
    assert!(message.contains(&port.to_string()), "{message}");
    assert!(message.contains("BIGQUERY_EMULATOR_HOST"), "{message}");
    assert!(matches!(err, WarehouseError::Transient(_)), "got {err:?}");
}

// ------------------------------------------------------------- state store

// 240 transactions at once on one counter document: Firestore aborts the
// losers of each conflict, the store re-runs them, and no increment is lost;
// and two clients (own channels, own runtimes, own threads) on one database,
// the home's id being the project.
state_store_test_suite!(
    firestore_state,
    |home| async move { firestore(&home.id).await },
    StateStoreSizes {
        at_once: 240,
        tasks: 8,
        per_task: 10,
        per_handle: 40,
    }
);

/// Ids with `/`, `.`, `_`, `%` and non-ASCII text round-trip and list by
/// prefix in byte order.
#[tokio::test]
async fn firestore_state_ids_are_escaped_and_listed_in_order() {
    let Some(store) = firestore(&fresh_id("propcast")).await else {
        return;
    };
    let ids = [
        "a/b", "a/b/c", "a%2Fb", "a.", "..", "__x__", "a/é", "a/z", "a0",
    ];
    for (i, id) in ids.iter().enumerate() {
        store
            .put("esc/aped", id, &serde_json::json!({ "i": i }))
            .await
            .unwrap();
    }
    for (i, id) in ids.iter().enumerate() {
        assert_eq!(
            store.get("esc/aped", id).await.unwrap(),
            Some(serde_json::json!({ "i": i })),
            "{id}"
        );
    }
    let listed: Vec<String> = store
        .list("esc/aped", "a/")
        .await
        .unwrap()
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(listed, ["a/b", "a/b/c", "a/z", "a/é"]);
    let mut all: Vec<&str> = ids.to_vec();
    all.sort();
    let listed: Vec<String> = store
        .list("esc/aped", "")
        .await
        .unwrap()
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(listed, all);
    // Large integers and key order survive (the document is stored as JSON text).
    let doc = serde_json::json!({"z": 9_007_199_254_740_993_i64, "a": [1.5, null, {"k": "v"}]});
    store.put("esc/aped", "big", &doc).await.unwrap();
    let back = store.get("esc/aped", "big").await.unwrap().unwrap();
    assert_eq!(back, doc);
    assert_eq!(back.to_string(), doc.to_string());
}

// --------------------------------------------------------------- event bus

// Pub/Sub's dead-letter policy takes 5 attempts at least.
event_bus_test_suite!(
    pubsub_bus,
    |_home| pubsub(),
    BusTimings {
        ack_deadline: DEADLINE,
        max_attempts: 5,
    }
);

#[tokio::test]
async fn pubsub_bus_refuses_attempts_pubsub_cannot_count() {
    let Some(bus) = pubsub().await else { return };
    bus.create_topic("t-attempts").await.unwrap();
    let err = bus
        .create_subscription("t-attempts", "s-attempts", DEADLINE, 3)
        .await
        .expect_err("3 attempts is below Pub/Sub's minimum of 5");
    assert!(matches!(err, EventBusError::Other(_)), "got {err:?}");
}
