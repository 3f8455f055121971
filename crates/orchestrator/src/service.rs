//! The orchestrator as a consumer of the completion topic: the loop a
//! deployed orchestrator runs ([`serve`], the `propcast-orchestrator`
//! binary), and the step the in-process driver (`propcast run`/`backfill`)
//! takes between phases ([`Orchestrator::drain`]).

use std::future::Future;
use std::time::Duration;

use propcast_platform::{DeadLetter, dead_letter};
use tokio::time::Instant;
use tracing::Instrument;

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
    /// Of those, the ones nacked: they will be delivered again.
    pub nacked: usize,
    /// The transitions that fired, in order.
    pub fired: Vec<Fired>,
    /// Messages that are not readable completions: acknowledged and kept
    /// as dead letters with the reason.
    pub dead_letters: Vec<DeadLetter>,
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
    /// (up to [`MAX_ATTEMPTS`] deliveries, then the bus's dead-letter list);
    /// a message that is not a readable completion is acknowledged into a
    /// [`DeadLetter`] with the reason (state-store collection
    /// [`dead_letters`](propcast_platform::DEAD_LETTERS_COLLECTION)), never
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
                let span = delivery.span(ORCHESTRATOR_SUBSCRIPTION);
                match self.on_payload(&delivery.data).instrument(span).await {
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
                        drained.nacked += 1;
                    }
                    Err(e) => {
                        let letter = dead_letter::acknowledge(
                            self.state().as_ref(),
                            bus.as_ref(),
                            ORCHESTRATOR_SUBSCRIPTION,
                            &delivery,
                            &e,
                        )
                        .await?;
                        drained.dead_letters.push(letter);
                    }
                }
            }
        }
    }
}

/// How [`serve`] runs.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Pause between polls of an empty subscription.
    pub poll: Duration,
    /// Time between sweeps of the tiered timeouts.
    pub timeout_sweep_every: Duration,
    /// Handle what is waiting, sweep the timeouts once, and return.
    pub once: bool,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            poll: Duration::from_millis(500),
            timeout_sweep_every: Duration::from_secs(60),
            once: false,
        }
    }
}

/// What [`serve`] did before it returned.
#[derive(Debug, Default)]
pub struct ServeReport {
    /// Completion messages handled.
    pub handled: usize,
    /// Transitions fired, by completions and by timeout sweeps, in order.
    pub fired: Vec<Fired>,
    /// Unreadable completions acknowledged into dead letters.
    pub dead_letters: Vec<DeadLetter>,
    /// Timeout sweeps run.
    pub sweeps: usize,
}

/// The orchestrator service: consumes completions and fires transitions
/// until `shutdown` completes (or, with [`ServeOptions::once`], after one
/// pass), sweeping the tiered timeouts every
/// [`ServeOptions::timeout_sweep_every`]. Creates the topics and the
/// subscription first. A shutdown is taken between passes, never inside
/// one, so every message handled is acknowledged before it returns.
pub async fn serve(
    orchestrator: &Orchestrator,
    options: ServeOptions,
    shutdown: impl Future<Output = ()>,
) -> Result<ServeReport, OrchestratorError> {
    orchestrator.ensure_subscription().await?;
    tokio::pin!(shutdown);
    let mut report = ServeReport::default();
    let mut last_sweep: Option<Instant> = None;
    loop {
        let drained = orchestrator.drain().await?;
        report.handled += drained.handled;
        for fired in &drained.fired {
            log_fired(fired, "fired");
        }
        report.fired.extend(drained.fired);
        report.dead_letters.extend(drained.dead_letters);
        if last_sweep.is_none_or(|t| t.elapsed() >= options.timeout_sweep_every) {
            report.fired.extend(sweep_timeouts(orchestrator).await?);
            report.sweeps += 1;
            last_sweep = Some(Instant::now());
        }
        if options.once {
            close_bus(orchestrator).await;
            return Ok(report);
        }
        if drained.handled == 0 {
            tokio::select! {
                _ = tokio::time::sleep(options.poll) => {}
                _ = &mut shutdown => {
                    tracing::info!(handled = report.handled, fired = report.fired.len(), "orchestrator shutting down");
                    close_bus(orchestrator).await;
                    return Ok(report);
                }
            }
        } else if shutdown_requested(&mut shutdown).await {
            close_bus(orchestrator).await;
            return Ok(report);
        }
    }
}

/// Logs a transition that fired (`how`: "fired", "fired by timeout").
pub fn log_fired(fired: &Fired, how: &str) {
    tracing::info!(
        transition = %fired.key.transition, game_date = %fired.key.game_date,
        mode = %fired.key.mode, reason = %fired.reason, "{how}"
    );
}

/// One sweep of the 4→5 tiered timeouts, logged; returns what fired. A
/// document the sweep could not settle is logged and retried next time.
pub async fn sweep_timeouts(orchestrator: &Orchestrator) -> Result<Vec<Fired>, OrchestratorError> {
    let sweep = orchestrator.check_timeouts(chrono::Utc::now()).await?;
    for fired in &sweep.fired {
        log_fired(fired, "fired by timeout");
    }
    for (doc, error) in &sweep.failed {
        tracing::warn!(doc = %doc, error = %error, "timeout sweep failed; retried on the next sweep");
    }
    Ok(sweep.fired)
}

/// Hands the bus's leases back before the service stops (every message
/// handled is already acknowledged; see `EventBus::close`).
async fn close_bus(orchestrator: &Orchestrator) {
    if let Err(e) = orchestrator.bus().close().await {
        tracing::warn!(error = %e, "closing the event bus");
    }
}

/// Whether `shutdown` has completed, without waiting for it.
async fn shutdown_requested(shutdown: &mut std::pin::Pin<&mut impl Future<Output = ()>>) -> bool {
    tokio::select! {
        biased;
        _ = shutdown.as_mut() => true,
        _ = std::future::ready(()) => false,
    }
}
