//! Per-system circuit breakers (REFERENCE §4.4).
//!
//! Each prediction system has its own breaker, so one failing system never
//! stops the others. The state machine (CLOSED → OPEN after 5 consecutive
//! failures, HALF_OPEN after 30 minutes, CLOSED after 2 successes) and its
//! storage are shared with the processor layers and live in
//! [`propcast_patterns::circuit_breaker`]; this module re-exports them and
//! adds what is particular to prediction systems:
//!
//! * the breakers are documents `prediction_system.<system_id>` of
//!   collection [`COLLECTION`] ([`document_id`], namespace [`NAMESPACE`]);
//! * while a breaker is OPEN the player gets no prediction from that system,
//!   recorded as skipped by breaker;
//! * a skip ([`crate::SystemError::Skip`]) is neither a success nor a
//!   failure;
//! * the coordinator loads all of them once per run ([`Breakers::load`]),
//!   decides each call in memory, and at the end of each batch writes the
//!   batch's outcomes ([`propcast_patterns::circuit_breaker::Breakers::flush`],
//!   one transaction per changed breaker).

pub use propcast_patterns::circuit_breaker::*;

use propcast_patterns::circuit_breaker as shared;
use propcast_platform::{StateError, StateStore};
use std::ops::{Deref, DerefMut};

/// Namespace of the prediction systems' breakers in [`COLLECTION`].
pub const NAMESPACE: &str = "prediction_system";

/// Document id of a system's breaker: `prediction_system.<system_id>`.
pub fn document_id(system_id: &str) -> String {
    shared::document_id(NAMESPACE, system_id)
}

/// The prediction systems' breakers of a run (namespace [`NAMESPACE`]);
/// everything else is the shared [`shared::Breakers`] it derefs to.
#[derive(Debug)]
pub struct Breakers(shared::Breakers);

impl Breakers {
    /// Every stored breaker of `system_ids` (a fresh CLOSED one when none
    /// is stored or the stored one does not parse — logged).
    pub async fn load(
        state: &dyn StateStore,
        system_ids: &[&str],
        config: BreakerConfig,
    ) -> Result<Self, StateError> {
        shared::Breakers::load(state, NAMESPACE, system_ids, config)
            .await
            .map(Breakers)
    }

    /// Breakers that start CLOSED and are never stored (pure runs).
    pub fn in_memory(config: BreakerConfig) -> Self {
        Breakers(shared::Breakers::in_memory(NAMESPACE, config))
    }
}

impl Deref for Breakers {
    type Target = shared::Breakers;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl DerefMut for Breakers {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn systems_are_stored_under_their_namespace() {
        assert_eq!(
            document_id("moving_average"),
            "prediction_system.moving_average"
        );
        assert_eq!(
            Breakers::in_memory(BreakerConfig::default()).namespace(),
            NAMESPACE
        );
    }
}
