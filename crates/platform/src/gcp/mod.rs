//! Google Cloud backends (feature `gcp`, off by default): BigQuery as the
//! warehouse, Firestore as the state store and Pub/Sub as the event bus. All
//! run the shared conformance suite against emulators
//! (`tests/emulator_conformance.rs`, emulators started by
//! `scripts/emulators.sh start`: Google's for Firestore and Pub/Sub,
//! bqemulator for BigQuery).

mod bigquery_warehouse;
mod firestore_state;
mod pubsub_bus;

pub mod emulators;
pub use bigquery_warehouse::{BigQueryTarget, BigQueryWarehouse, MAX_SCRIPT_BYTES};
pub use firestore_state::{
    FirestoreStateStore, TX_CONCURRENCY_PER_DOCUMENT, TX_RETRY_BUDGET, firestore_id,
};
pub use pubsub_bus::{
    DEAD_LETTER_SUFFIX, FIRST_PULL_WAIT, MAX_ATTEMPTS_RANGE, MESSAGE_ID_ATTRIBUTE, PubSubEventBus,
    PushTarget,
};
