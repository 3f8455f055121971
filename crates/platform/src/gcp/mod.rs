//! Google Cloud backends (feature `gcp`, off by default): Firestore as the
//! state store and Pub/Sub as the event bus. Both run the shared
//! conformance suite against Google's emulators
//! (`tests/emulator_conformance.rs`, emulators started by
//! `scripts/emulators.sh start`).

mod firestore_state;
mod pubsub_bus;

pub mod emulators;
pub use firestore_state::{
    FirestoreStateStore, TX_CONCURRENCY_PER_DOCUMENT, TX_RETRY_BUDGET, firestore_id,
};
pub use pubsub_bus::{
    DEAD_LETTER_SUFFIX, FIRST_PULL_WAIT, MAX_ATTEMPTS_RANGE, MESSAGE_ID_ATTRIBUTE, PubSubEventBus,
};
