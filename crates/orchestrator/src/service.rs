//! The orchestrator as a consumer of the completion topic: the loop a
//! deployed orchestrator runs (`propcast-orchestrator`), and the step the
//! in-process driver (`propcast run`/`backfill`) takes between phases.

use std::time::Duration;

use crate::orchestrator::{Fired, Orchestrator, OrchestratorError, Outcome};

/// Every processor run's completion message is published on this topic.
pub const COMPLETIONS_TOPIC: &str = "processor-completions";
/// The orchestrators' subscription to [`COMPLETIONS_TOPIC`].
pub const ORCHESTRATOR_SUBSCRIPTION: &str = "orchestrator";
/// Deliveries of a completion before it moves to the dead-letter list.
pub const MAX_ATTEMPTS: u32 = 5;

/// What one [`Orchestrator::drain`] did.
#[derive(Debug, Default)]
pub struct Drained {
    /// Completion messages handled (acked, or nacked for redelivery).
    pub handled: usize,
    /// The transitions that fired, in order.
    pub fired: Vec<Fired>,
}

impl Orchestrator {
    /// Creates the completion topic with the orchestrators' subscription
    /// and the three trigger topics (idempotent).
    pub async fn ensure_subscription(&self) -> Result<(), OrchestratorError> {
        self.ensure_topics().await?;
        let bus = self.bus();
        bus.create_topic(COMPLETIONS_TOPIC).await?;
        bus.create_subscription(
            COMPLETIONS_TOPIC,
            ORCHESTRATOR_SUBSCRIPTION,
            Duration::from_secs(60),
            MAX_ATTEMPTS,
        )
        .await?;
        Ok(())
    }

    /// Handles every completion waiting on [`ORCHESTRATOR_SUBSCRIPTION`]
    /// until none is left: each is recorded (and may fire its transition),
    /// then acked. A retryable failure nacks the message, so it comes back
    /// (up to [`MAX_ATTEMPTS`] deliveries, then the dead-letter list); a
    /// message that is not a readable completion is logged and acked, never
    /// retried forever.
    pub async fn drain(&self) -> Result<Drained, OrchestratorError> {
        let bus = self.bus();
        let mut drained = Drained::default();
        loop {
            let deliveries = bus.pull(ORCHESTRATOR_SUBSCRIPTION, 256).await?;
            if deliveries.is_empty() {
                return Ok(drained);
            }
            for delivery in deliveries {
                drained.handled += 1;
                match self.on_payload(&delivery.data).await {
                    Ok(outcome) => {
                        if let Outcome::Fired(fired) = outcome {
                            drained.fired.push(*fired);
                        }
                        bus.ack(ORCHESTRATOR_SUBSCRIPTION, &[delivery.ack_id])
                            .await?;
                    }
                    Err(e) if e.is_retryable() => {
                        tracing::warn!(error = %e, attempt = delivery.attempt, "completion not recorded; it will be redelivered");
                        bus.nack(ORCHESTRATOR_SUBSCRIPTION, &[delivery.ack_id])
                            .await?;
                    }
                    Err(e) => {
                        tracing::error!(error = %e, message_id = %delivery.message_id, "dropping a completion the orchestrator cannot read");
                        bus.ack(ORCHESTRATOR_SUBSCRIPTION, &[delivery.ack_id])
                            .await?;
                    }
                }
            }
        }
    }
}
