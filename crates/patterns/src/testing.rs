//! Test support for the phase crates (feature `testing`): a processor
//! context on the embedded backends for one date, and a state store that
//! refuses every call, for the phases that must keep no state.

use crate::processor::{ProcessContext, RunMode};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use propcast_platform::embedded::LocalLandingZone;
use propcast_platform::state::TxFn;
use propcast_platform::{LandingZone, StateError, StateStore, Warehouse};
use std::sync::Arc;

/// A state store that fails every call: a processor that keeps no state
/// proves it by running against this one. The name says who refused.
#[derive(Debug, Clone, Copy)]
pub struct NoState(pub &'static str);

impl NoState {
    fn refuse<T>(&self) -> Result<T, StateError> {
        Err(StateError::Other(format!("{} uses no state", self.0)))
    }
}

#[async_trait]
impl StateStore for NoState {
    async fn get(&self, _: &str, _: &str) -> Result<Option<serde_json::Value>, StateError> {
        self.refuse()
    }
    async fn put(&self, _: &str, _: &str, _: &serde_json::Value) -> Result<(), StateError> {
        self.refuse()
    }
    async fn delete(&self, _: &str, _: &str) -> Result<(), StateError> {
        self.refuse()
    }
    async fn list(&self, _: &str, _: &str) -> Result<Vec<(String, serde_json::Value)>, StateError> {
        self.refuse()
    }
    async fn transaction(
        &self,
        _: &str,
        _: &str,
        _: &mut TxFn<'_>,
    ) -> Result<Option<serde_json::Value>, StateError> {
        self.refuse()
    }
}

/// The instant test runs stamp into `*_at` columns.
pub fn test_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 11, 10, 8, 0, 0).unwrap()
}

/// A backfill-mode context for `date` on `warehouse`, with an empty
/// in-memory landing zone and a state store that refuses every call.
pub fn stateless_context(
    warehouse: Arc<dyn Warehouse>,
    date: NaiveDate,
    owner: &'static str,
) -> ProcessContext {
    stateless_context_with_landing(
        warehouse,
        Arc::new(LocalLandingZone::in_memory()),
        date,
        owner,
    )
}

/// [`stateless_context`] reading `landing`.
pub fn stateless_context_with_landing(
    warehouse: Arc<dyn Warehouse>,
    landing: Arc<dyn LandingZone>,
    date: NaiveDate,
    owner: &'static str,
) -> ProcessContext {
    ProcessContext {
        warehouse,
        landing,
        state: Arc::new(NoState(owner)),
        game_date: date,
        mode: RunMode::Backfill,
        execution_id: "exec-test".to_string(),
        correlation_id: "corr-test".to_string(),
        now: test_now(),
        scope: Default::default(),
    }
}
