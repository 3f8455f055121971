//! Traces across the pipeline: one trace follows a date from its landing
//! event to its predictions.
//!
//! The spans are ordinary `tracing` spans (names below); with an OTLP
//! endpoint configured, the binary adds the layer of [`otlp`] and they are
//! exported as OpenTelemetry spans. Without one no layer records them, so
//! the spans are disabled at their call sites and the propagation
//! functions find no context and write nothing.
//!
//! Context crosses process boundaries as W3C trace context
//! (`traceparent`, `tracestate`): in the event bus's message attributes
//! ([`propagation::inject_attributes`] on publish,
//! [`propagation::set_parent_from_attributes`] on delivery) and in gRPC
//! metadata from the coordinator to its workers (feature `grpc`).

pub mod propagation;

#[cfg(feature = "otlp")]
pub mod otlp;

/// A date's payloads landed and its phase 2 starts: the root of the date's
/// trace (in process; a services run starts it where the landing event is
/// published).
pub const LANDING: &str = "landing";
/// One processor run for one date (or one range of dates), inside the
/// layers; its completion is published under it.
pub const PROCESSOR_RUN: &str = "processor_run";
/// One message delivered by the event bus to its consumer (pulled in
/// process, or pushed to a service); a child of the span that published it.
pub const BUS_DELIVERY: &str = "bus_delivery";
/// One orchestrator decision on a completion (or a timeout sweep): fire,
/// not yet, already fired, claimed elsewhere, ignored.
pub const ORCHESTRATOR_DECISION: &str = "orchestrator_decision";
/// The coordinator's call of one batch to one worker.
pub const WORKER_CALL: &str = "worker_call";
/// A worker predicting one batch; a child of the coordinator's call.
pub const WORKER_BATCH: &str = "worker_batch";

/// The target of every span above, so a subscriber can pick them out.
pub const TARGET: &str = "propcast::trace";
