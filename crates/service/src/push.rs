//! The Pub/Sub push envelope: what Pub/Sub POSTs to a push endpoint.
//!
//! ```json
//! {"message": {"data": "<base64>", "attributes": {...},
//!              "messageId": "…", "publishTime": "…"},
//!  "subscription": "projects/P/subscriptions/S", "deliveryAttempt": 2}
//! ```
//!
//! Pub/Sub also sends the snake-case twins (`message_id`, `publish_time`)
//! beside the camel-case ones, so both are read as separate fields (a serde
//! alias would reject the pair as a duplicate). `deliveryAttempt` is present only on a subscription with a
//! dead-letter policy; without it the attempt is taken as the first.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use propcast_platform::{Delivery, MESSAGE_ID_ATTRIBUTE};
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Deserialize)]
pub struct PushEnvelope {
    pub message: PushMessage,
    /// `projects/{project}/subscriptions/{subscription}`.
    pub subscription: String,
    #[serde(rename = "deliveryAttempt", default)]
    pub delivery_attempt: Option<u32>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PushMessage {
    /// Base64 of the payload (absent for an empty one).
    #[serde(default)]
    pub data: String,
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    #[serde(rename = "messageId", default)]
    message_id_camel: Option<String>,
    #[serde(rename = "message_id", default)]
    message_id_snake: Option<String>,
    #[serde(rename = "publishTime", default)]
    publish_time_camel: Option<String>,
    #[serde(rename = "publish_time", default)]
    publish_time_snake: Option<String>,
}

impl PushMessage {
    /// Pub/Sub's id of the message (either spelling; empty when absent).
    pub fn message_id(&self) -> &str {
        self.message_id_camel
            .as_deref()
            .or(self.message_id_snake.as_deref())
            .unwrap_or("")
    }

    pub fn publish_time(&self) -> Option<&str> {
        self.publish_time_camel
            .as_deref()
            .or(self.publish_time_snake.as_deref())
    }
}

/// Why a push body is not an envelope.
#[derive(Debug, thiserror::Error)]
pub enum EnvelopeError {
    #[error("push body is not a Pub/Sub push envelope: {0}")]
    Json(String),
    #[error("push message {message_id}: field message.data is not base64: {reason}")]
    Data { message_id: String, reason: String },
}

impl PushEnvelope {
    pub fn parse(body: &[u8]) -> Result<Self, EnvelopeError> {
        let envelope: PushEnvelope =
            serde_json::from_slice(body).map_err(|e| EnvelopeError::Json(e.to_string()))?;
        if envelope.message.message_id().is_empty() {
            return Err(EnvelopeError::Json("message.messageId: missing".into()));
        }
        Ok(envelope)
    }

    /// The subscription's short name (the last path segment).
    pub fn subscription_name(&self) -> &str {
        self.subscription
            .rsplit('/')
            .next()
            .unwrap_or(&self.subscription)
    }

    /// The message as the bus hands it to a consumer: the id `publish`
    /// returned (carried in [`MESSAGE_ID_ATTRIBUTE`] when propcast published
    /// it, Pub/Sub's own otherwise), that attribute hidden, the attempt.
    /// The ack id is the message id: a push is acknowledged by the response.
    pub fn delivery(&self) -> Result<Delivery, EnvelopeError> {
        let data =
            STANDARD
                .decode(self.message.data.as_bytes())
                .map_err(|e| EnvelopeError::Data {
                    message_id: self.message.message_id().to_string(),
                    reason: e.to_string(),
                })?;
        let mut attributes = self.message.attributes.clone();
        let message_id = attributes
            .remove(MESSAGE_ID_ATTRIBUTE)
            .unwrap_or_else(|| self.message.message_id().to_string());
        Ok(Delivery {
            ack_id: message_id.clone(),
            message_id,
            data: Bytes::from(data),
            attributes,
            attempt: self.delivery_attempt.unwrap_or(1).max(1),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_real_envelope_shape() {
        // The envelope as Google documents it, with both spellings.
        let body = br#"{"message":{"attributes":{"processor":"p","propcast_message_id":"ours-1"},
            "data":"aGVsbG8=","messageId":"2070443601311540","message_id":"2070443601311540",
            "publishTime":"2021-02-26T19:13:55.749Z","publish_time":"2021-02-26T19:13:55.749Z"},
            "subscription":"projects/myproject/subscriptions/mysubscription","deliveryAttempt":3}"#;
        let envelope = PushEnvelope::parse(body).unwrap();
        assert_eq!(envelope.subscription_name(), "mysubscription");
        let delivery = envelope.delivery().unwrap();
        assert_eq!(&delivery.data[..], b"hello");
        assert_eq!(delivery.message_id, "ours-1");
        assert_eq!(delivery.attempt, 3);
        assert_eq!(
            delivery.attributes,
            BTreeMap::from([("processor".to_string(), "p".to_string())])
        );
    }

    #[test]
    fn reads_what_the_pubsub_emulator_pushes() {
        // Captured from the Pub/Sub emulator's push to a local listener.
        let body = br#"{"subscription":"projects\/ptest\/subscriptions\/sub2","message":{"publishTime":"2026-12-03T09:29:28.688Z","data":"aGVsbG8=","publish_time":"2026-12-03T09:29:28.688Z","messageId":"439","attributes":{"k":"v"},"message_id":"439"}}"#;
        let envelope = PushEnvelope::parse(body).unwrap();
        assert_eq!(envelope.subscription_name(), "sub2");
        assert_eq!(
            envelope.message.publish_time(),
            Some("2026-12-03T09:29:28.688Z")
        );
        let delivery = envelope.delivery().unwrap();
        assert_eq!(delivery.message_id, "439");
        assert_eq!(&delivery.data[..], b"hello");
    }

    #[test]
    fn without_our_id_or_attempt_keeps_pubsubs() {
        let body = br#"{"message":{"data":"","messageId":"9"},"subscription":"projects/p/subscriptions/s"}"#;
        let delivery = PushEnvelope::parse(body).unwrap().delivery().unwrap();
        assert_eq!(delivery.message_id, "9");
        assert_eq!(delivery.attempt, 1);
        assert!(delivery.data.is_empty());
    }

    #[test]
    fn bad_data_names_the_message_and_field() {
        let body = br#"{"message":{"data":"%%%","messageId":"7"},"subscription":"s"}"#;
        let err = PushEnvelope::parse(body).unwrap().delivery().unwrap_err();
        assert!(err.to_string().contains("message 7"), "{err}");
        assert!(err.to_string().contains("message.data"), "{err}");
        assert!(PushEnvelope::parse(b"{}").is_err());
    }
}
