//! Backends behind traits: warehouse, state store, event bus, landing zone.
//!
//! Phase logic only ever sees these traits. The embedded implementations
//! (feature `embedded`, on by default) are a DuckDB file for the warehouse, a
//! SQLite file for state and the event bus, and a local directory for the
//! landing zone. No backend type crosses a trait: rows travel as JSON
//! records shaped by the table catalog in `propcast-core`, so BigQuery,
//! Firestore, Pub/Sub and GCS fit the same traits.

pub mod backends;
pub mod bigquery_schema;
pub mod bus;
pub mod config;
/// The shared conformance suite (feature `testsuite`, for tests only).
#[cfg(feature = "testsuite")]
pub mod conformance;
pub mod dead_letter;
pub mod landing;
pub mod state;
pub mod warehouse;

#[cfg(feature = "embedded")]
pub mod embedded;

#[cfg(feature = "gcp")]
pub mod gcp;

pub use backends::{Backends, BackendsError, Coordination};
pub use bus::{CORRELATION_ATTRIBUTE, Delivery, EventBus, EventBusError, MESSAGE_ID_ATTRIBUTE};
pub use config::{
    BusUri, Config, ConfigError, LandingUri, Layers, Settings, StateUri, WarehouseUri,
};
pub use dead_letter::{DEAD_LETTERS_COLLECTION, DeadLetter, DeadLetterError};
pub use landing::{LandingError, LandingObject, LandingZone, PutOutcome};
pub use state::{StateError, StateStore, TxDecision};
pub use warehouse::{QueryRows, Record, Warehouse, WarehouseError, WarehouseExt, WriteStats};
