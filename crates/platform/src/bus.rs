//! The event bus: at-least-once topics and subscriptions. Pub/Sub in
//! production; a durable queue in the SQLite state file embedded.

use async_trait::async_trait;
use bytes::Bytes;
use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum EventBusError {
    #[error("unknown topic {0}")]
    UnknownTopic(String),
    #[error("unknown subscription {0}")]
    UnknownSubscription(String),
    #[error("transient event-bus error: {0}")]
    Transient(String),
    #[error("event-bus error: {0}")]
    Other(String),
}

impl EventBusError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, EventBusError::Transient(_))
    }
}

/// A message handed to a subscriber; it is redelivered unless acked before
/// its visibility timeout ends.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// Pass to `ack`/`nack`.
    pub ack_id: String,
    pub message_id: String,
    pub data: Bytes,
    pub attributes: BTreeMap<String, String>,
    /// 1 on first delivery.
    pub attempt: u32,
}

impl Delivery {
    /// The span of handling this delivery ([`propcast_telemetry::BUS_DELIVERY`]):
    /// a child of the span the message was published under, when its
    /// attributes carry a `traceparent`, with the date, correlation id and
    /// processor or transition the publisher put in the attributes. Handle
    /// the delivery inside it (`.instrument(span)`); it is disabled, and
    /// costs nothing, when no trace exporter is configured.
    pub fn span(&self, subscription: &str) -> tracing::Span {
        let attribute = |k: &str| self.attributes.get(k).map(String::as_str).unwrap_or("");
        let span = tracing::info_span!(
            target: propcast_telemetry::TARGET,
            propcast_telemetry::BUS_DELIVERY,
            subscription,
            message_id = %self.message_id,
            attempt = self.attempt,
            game_date = attribute("game_date"),
            correlation_id = attribute(CORRELATION_ATTRIBUTE),
            processor = attribute("processor"),
            transition = attribute("transition"),
        );
        propcast_telemetry::propagation::set_parent_from_attributes(&span, &self.attributes);
        span
    }
}

/// The attribute carrying a message's correlation id (the one its payload
/// holds), so a consumer's span names it before decoding anything.
pub const CORRELATION_ATTRIBUTE: &str = "correlation_id";

/// What every [`EventBus::publish`] does to the attributes it is given:
/// the trace context of the publishing span goes with the message
/// (`traceparent`, W3C), so the consumer's span continues the trace.
pub fn outgoing_attributes(mut attributes: BTreeMap<String, String>) -> BTreeMap<String, String> {
    propcast_telemetry::propagation::inject_attributes(&mut attributes);
    attributes
}

/// The attribute that carries the id `publish` returned, on buses whose
/// own ids change on the way (Pub/Sub's dead-letter forwarding); hidden
/// from deliveries.
pub const MESSAGE_ID_ATTRIBUTE: &str = "propcast_message_id";

#[async_trait]
pub trait EventBus: Send + Sync {
    async fn create_topic(&self, topic: &str) -> Result<(), EventBusError>;

    /// Creates a subscription on a topic; messages published after this are
    /// delivered to it. After `max_attempts` deliveries without an ack a
    /// message moves to the subscription's dead-letter list.
    async fn create_subscription(
        &self,
        topic: &str,
        subscription: &str,
        ack_deadline: Duration,
        max_attempts: u32,
    ) -> Result<(), EventBusError>;

    /// Publishes a message; returns its id. The attributes go out through
    /// [`outgoing_attributes`] (the trace context is added).
    async fn publish(
        &self,
        topic: &str,
        data: Bytes,
        attributes: BTreeMap<String, String>,
    ) -> Result<String, EventBusError>;

    /// Up to `max` messages that are not currently leased.
    async fn pull(&self, subscription: &str, max: usize) -> Result<Vec<Delivery>, EventBusError>;

    async fn ack(&self, subscription: &str, ack_ids: &[String]) -> Result<(), EventBusError>;

    /// Makes the messages available again at once.
    async fn nack(&self, subscription: &str, ack_ids: &[String]) -> Result<(), EventBusError>;

    /// Messages that exhausted their attempts.
    async fn dead_letters(&self, subscription: &str) -> Result<Vec<Delivery>, EventBusError>;

    /// Hands back everything this handle holds before the process exits:
    /// acks not yet sent are flushed, messages received but not acked are
    /// released at once (redelivered to whoever pulls next). A bus whose
    /// acks are synchronous has nothing to do.
    async fn close(&self) -> Result<(), EventBusError> {
        Ok(())
    }
}
