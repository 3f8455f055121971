//! Dead letters: bus messages a consumer acknowledged because no redelivery
//! could ever make them understood (not the expected protobuf, a field out
//! of range), kept with the reason instead of being dropped.
//!
//! Every consumer of the bus records them the same way — the in-process
//! pump of `propcast run`/`backfill`, the orchestrator's drain, the push
//! endpoints — in the state store, which every one of them has: collection
//! [`DEAD_LETTERS_COLLECTION`], one document per message, id
//! `{subscription}:{message_id}`. A message that exhausted its delivery
//! attempts without being acknowledged is a different thing: the bus keeps
//! it ([`EventBus::dead_letters`](crate::EventBus::dead_letters)).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::fmt;

use crate::bus::{Delivery, EventBus, EventBusError};
use crate::state::{StateError, StateStore};

/// The state-store collection dead letters are kept in.
pub const DEAD_LETTERS_COLLECTION: &str = "dead_letters";

/// One message acknowledged without being handled, and why.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DeadLetter {
    /// The subscription it was delivered on.
    pub subscription: String,
    pub message_id: String,
    pub attributes: BTreeMap<String, String>,
    /// The payload as delivered, base64 (standard alphabet, padded).
    pub data: String,
    /// Why it cannot be handled, naming the field at fault.
    pub reason: String,
    /// The delivery attempt it was acknowledged on (1 = the first).
    pub attempt: u32,
    pub recorded_at: DateTime<Utc>,
}

impl DeadLetter {
    /// The dead letter of `delivery`, received on `subscription`.
    pub fn new(
        subscription: &str,
        delivery: &Delivery,
        reason: impl fmt::Display,
        recorded_at: DateTime<Utc>,
    ) -> Self {
        DeadLetter {
            subscription: subscription.to_string(),
            message_id: delivery.message_id.clone(),
            attributes: delivery.attributes.clone(),
            data: STANDARD.encode(&delivery.data),
            reason: reason.to_string(),
            attempt: delivery.attempt,
            recorded_at,
        }
    }

    /// Its document id: `{subscription}:{message_id}`.
    pub fn id(&self) -> String {
        format!("{}:{}", self.subscription, self.message_id)
    }

    /// The payload as delivered.
    pub fn payload(&self) -> Result<Vec<u8>, DeadLetterError> {
        STANDARD
            .decode(&self.data)
            .map_err(|e| DeadLetterError::Corrupt {
                id: self.id(),
                message: format!("data: {e}"),
            })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DeadLetterError {
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Bus(#[from] EventBusError),
    #[error("dead letter {id} is unreadable: {message}")]
    Corrupt { id: String, message: String },
}

impl DeadLetterError {
    pub fn is_retryable(&self) -> bool {
        match self {
            DeadLetterError::State(e) => e.is_retryable(),
            DeadLetterError::Bus(e) => e.is_retryable(),
            DeadLetterError::Corrupt { .. } => false,
        }
    }
}

/// Records `delivery` as a dead letter with `reason` in the state store
/// (rewritten whole when the same message comes again). A pushed message is
/// then acknowledged by the response; a pulled one by [`acknowledge`].
pub async fn record(
    state: &dyn StateStore,
    subscription: &str,
    delivery: &Delivery,
    reason: impl fmt::Display,
) -> Result<DeadLetter, DeadLetterError> {
    let letter = DeadLetter::new(subscription, delivery, reason, Utc::now());
    let value = serde_json::to_value(&letter).expect("a dead letter serialises");
    state
        .put(DEAD_LETTERS_COLLECTION, &letter.id(), &value)
        .await?;
    tracing::warn!(
        subscription,
        message_id = %letter.message_id,
        attempt = letter.attempt,
        reason = %letter.reason,
        "message dead-lettered"
    );
    Ok(letter)
}

/// Records `delivery` as a dead letter with `reason`, then acknowledges it
/// on `subscription`: the message is kept before it leaves the bus, so it
/// is never lost (a crash in between redelivers it, and the record is
/// rewritten whole).
pub async fn acknowledge(
    state: &dyn StateStore,
    bus: &dyn EventBus,
    subscription: &str,
    delivery: &Delivery,
    reason: impl fmt::Display,
) -> Result<DeadLetter, DeadLetterError> {
    let letter = record(state, subscription, delivery, reason).await?;
    bus.ack(subscription, std::slice::from_ref(&delivery.ack_id))
        .await?;
    Ok(letter)
}

/// The dead letters of `subscription` (every subscription for `""`),
/// ordered by id.
pub async fn list(
    state: &dyn StateStore,
    subscription: &str,
) -> Result<Vec<DeadLetter>, DeadLetterError> {
    let prefix = if subscription.is_empty() {
        String::new()
    } else {
        format!("{subscription}:")
    };
    state
        .list(DEAD_LETTERS_COLLECTION, &prefix)
        .await?
        .into_iter()
        .map(|(id, value)| {
            serde_json::from_value(value).map_err(|e| DeadLetterError::Corrupt {
                id,
                message: e.to_string(),
            })
        })
        .collect()
}
