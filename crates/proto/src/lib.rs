//! The propcast wire contract, compiled from `proto/` at the workspace root.
//!
//! - [`v1::ProcessorCompletion`]: the completion event every processor publishes.
//! - [`v1::LandingEvent`]: a date's payloads have landed; starts phase 2.
//! - [`v1::prediction_worker_client::PredictionWorkerClient`] and
//!   [`v1::prediction_worker_server::PredictionWorkerServer`]: the Phase 5
//!   coordinator ↔ worker gRPC service.
//!
//! Enum fields are `i32` on the wire; use the generated getters
//! (`completion.status()`, `prediction.recommendation()`) and setters, and the
//! string conversions below for tables and logs.

/// Generated code for protobuf package `propcast.v1`.
#[allow(clippy::all, clippy::pedantic, missing_docs)]
pub mod v1 {
    include!(concat!(env!("OUT_DIR"), "/propcast.v1.rs"));
}

mod completion;
mod recommendation;

pub use completion::UnknownVariant;
