//! Circuit breakers kept in the state store (REFERENCE §4.4, §6).
//!
//! A breaker guards one unit of work (a prediction system, a processor)
//! so one that keeps failing is refused for a while instead of failing on
//! every call, and never stops the others:
//!
//! * CLOSED: calls run; `failure_threshold` (5) consecutive failures →
//!   OPEN. A success resets the count.
//! * OPEN: calls are refused until `open_for` (30 min) has passed since it
//!   opened, then → HALF_OPEN.
//! * HALF_OPEN: calls run; `success_threshold` (2) successes → CLOSED; a
//!   failure → OPEN again (the 30 minutes restart).
//!
//! Time is always passed in (`now`), never read from the system clock, so
//! tests drive it.
//!
//! The state lives in the state store, collection [`COLLECTION`], one
//! document per guarded unit, `<namespace>.<id>` ([`document_id`]): the
//! prediction coordinator uses namespace `prediction_system`, the
//! processor layers ([`crate::layers`]) `processor`. A user loads the
//! breakers it needs once ([`Breakers::load`]), decides each call in
//! memory, and from time to time replays the recorded outcomes onto the
//! stored documents inside one `transaction` per changed breaker
//! ([`Breakers::flush`]) — writes are per flush, not per call, and a
//! concurrent writer's outcomes are not lost. Outcomes that leave a CLOSED
//! breaker with no failures counted change nothing and write nothing, so
//! `last_success_at` is the last success that changed the state.

use chrono::{DateTime, Duration, Utc};
use propcast_platform::{StateError, StateStore, TxDecision};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// State-store collection of the breakers.
pub const COLLECTION: &str = "circuit_breakers";
/// Failures kept in `failure_history`.
pub const HISTORY_LIMIT: usize = 10;

/// Thresholds and timeout, validated by [`BreakerConfig::new`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerConfig {
    failure_threshold: u32,
    success_threshold: u32,
    open_for: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid circuit breaker config: {0}")]
pub struct BreakerConfigError(&'static str);

impl BreakerConfig {
    pub fn new(
        failure_threshold: u32,
        success_threshold: u32,
        open_for: Duration,
    ) -> Result<Self, BreakerConfigError> {
        if failure_threshold == 0 {
            return Err(BreakerConfigError("failure_threshold must be at least 1"));
        }
        if success_threshold == 0 {
            return Err(BreakerConfigError("success_threshold must be at least 1"));
        }
        if open_for <= Duration::zero() {
            return Err(BreakerConfigError("open_for must be positive"));
        }
        Ok(BreakerConfig {
            failure_threshold,
            success_threshold,
            open_for,
        })
    }

    pub fn failure_threshold(&self) -> u32 {
        self.failure_threshold
    }

    pub fn success_threshold(&self) -> u32 {
        self.success_threshold
    }

    pub fn open_for(&self) -> Duration {
        self.open_for
    }
}

impl Default for BreakerConfig {
    /// The reference values: 5 failures, 30 minutes, 2 successes.
    fn default() -> Self {
        BreakerConfig {
            failure_threshold: 5,
            success_threshold: 2,
            open_for: Duration::minutes(30),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BreakerState {
    #[default]
    Closed,
    Open,
    HalfOpen,
}

impl BreakerState {
    pub fn as_str(self) -> &'static str {
        match self {
            BreakerState::Closed => "CLOSED",
            BreakerState::Open => "OPEN",
            BreakerState::HalfOpen => "HALF_OPEN",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailureEntry {
    pub at: DateTime<Utc>,
    pub error: String,
}

/// One breaker, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Breaker {
    /// What it guards, within its namespace ("moving_average",
    /// "player_game_summary"). Documents written before breakers were
    /// shared call it `system_id`.
    #[serde(alias = "system_id")]
    pub id: String,
    pub state: BreakerState,
    /// Consecutive failures (CLOSED) / failures since opening (OPEN).
    pub failure_count: u32,
    /// Successes since HALF_OPEN.
    pub success_count: u32,
    pub opened_at: Option<DateTime<Utc>>,
    pub half_opened_at: Option<DateTime<Utc>>,
    pub last_failure_at: Option<DateTime<Utc>>,
    pub last_success_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// The latest failures, newest last, at most [`HISTORY_LIMIT`].
    pub failure_history: Vec<FailureEntry>,
    pub failure_threshold: u32,
    pub success_threshold: u32,
    pub timeout_seconds: i64,
}

/// One call's outcome, replayed onto the stored breaker.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Success,
    Failure(String),
}

impl Breaker {
    pub fn new(id: &str, config: &BreakerConfig) -> Self {
        Breaker {
            id: id.to_string(),
            state: BreakerState::Closed,
            failure_count: 0,
            success_count: 0,
            opened_at: None,
            half_opened_at: None,
            last_failure_at: None,
            last_success_at: None,
            last_error: None,
            failure_history: Vec::new(),
            failure_threshold: config.failure_threshold,
            success_threshold: config.success_threshold,
            timeout_seconds: config.open_for.num_seconds(),
        }
    }

    /// OPEN → HALF_OPEN once the timeout has passed.
    fn refresh(&mut self, now: DateTime<Utc>, config: &BreakerConfig) {
        if self.state == BreakerState::Open
            && self.opened_at.is_none_or(|at| now >= at + config.open_for)
        {
            self.state = BreakerState::HalfOpen;
            self.half_opened_at = Some(now);
            self.success_count = 0;
        }
    }

    /// Whether a call may run at `now`.
    pub fn allows(&mut self, now: DateTime<Utc>, config: &BreakerConfig) -> bool {
        self.refresh(now, config);
        self.state != BreakerState::Open
    }

    pub fn record(&mut self, outcome: &Outcome, now: DateTime<Utc>, config: &BreakerConfig) {
        self.refresh(now, config);
        self.failure_threshold = config.failure_threshold;
        self.success_threshold = config.success_threshold;
        self.timeout_seconds = config.open_for.num_seconds();
        match outcome {
            Outcome::Success => {
                self.last_success_at = Some(now);
                match self.state {
                    BreakerState::Closed => self.failure_count = 0,
                    BreakerState::HalfOpen => {
                        self.success_count += 1;
                        if self.success_count >= config.success_threshold {
                            self.state = BreakerState::Closed;
                            self.failure_count = 0;
                            self.success_count = 0;
                            self.opened_at = None;
                        }
                    }
                    // A call that started before the breaker opened.
                    BreakerState::Open => {}
                }
            }
            Outcome::Failure(error) => {
                self.last_failure_at = Some(now);
                self.last_error = Some(error.clone());
                self.failure_history.push(FailureEntry {
                    at: now,
                    error: error.clone(),
                });
                let excess = self.failure_history.len().saturating_sub(HISTORY_LIMIT);
                self.failure_history.drain(..excess);
                self.failure_count = self.failure_count.saturating_add(1);
                let open = match self.state {
                    BreakerState::Closed => self.failure_count >= config.failure_threshold,
                    BreakerState::HalfOpen => true,
                    BreakerState::Open => false,
                };
                if open {
                    self.state = BreakerState::Open;
                    self.opened_at = Some(now);
                    self.success_count = 0;
                }
            }
        }
    }

    /// The fields whose change is worth a write (all but
    /// `last_success_at`).
    fn significant(&self) -> (BreakerState, u32, u32, Option<DateTime<Utc>>, usize) {
        (
            self.state,
            self.failure_count,
            self.success_count,
            self.opened_at,
            self.failure_history.len(),
        )
    }
}

/// Document id of the breaker of `id` in `namespace`:
/// `<namespace>.<id>`.
pub fn document_id(namespace: &str, id: &str) -> String {
    format!("{namespace}.{id}")
}

/// Every breaker in the state store (processors' and prediction systems'),
/// by document id. A document that does not read as a breaker is logged
/// and left out.
pub async fn list_breakers(state: &dyn StateStore) -> Result<Vec<(String, Breaker)>, StateError> {
    Ok(state
        .list(COLLECTION, "")
        .await?
        .into_iter()
        .filter_map(|(id, doc)| match serde_json::from_value::<Breaker>(doc) {
            Ok(breaker) => Some((id, breaker)),
            Err(e) => {
                tracing::warn!(id, error = %e, "a circuit_breakers document is not a breaker");
                None
            }
        })
        .collect())
}

/// The breakers of one namespace for a run: loaded once, decided in
/// memory, written per flush.
#[derive(Debug)]
pub struct Breakers {
    namespace: String,
    config: BreakerConfig,
    current: BTreeMap<String, Breaker>,
    /// State at the last load/flush, to tell whether a flush must write.
    flushed: BTreeMap<String, Breaker>,
    pending: BTreeMap<String, Vec<(Outcome, DateTime<Utc>)>>,
}

impl Breakers {
    /// Every stored breaker of `ids` in `namespace` (a fresh CLOSED one
    /// when none is stored or the stored one does not parse — logged).
    pub async fn load(
        state: &dyn StateStore,
        namespace: &str,
        ids: &[&str],
        config: BreakerConfig,
    ) -> Result<Self, StateError> {
        let stored = state.list(COLLECTION, &format!("{namespace}.")).await?;
        let mut current = BTreeMap::new();
        for id in ids {
            let wanted = document_id(namespace, id);
            let doc = stored
                .iter()
                .find(|(doc_id, _)| *doc_id == wanted)
                .map(|(_, d)| d);
            let breaker = match doc.map(|d| serde_json::from_value::<Breaker>(d.clone())) {
                Some(Ok(b)) => b,
                Some(Err(e)) => {
                    tracing::warn!(breaker = %wanted, error = %e, "stored circuit breaker unreadable, starting closed");
                    Breaker::new(id, &config)
                }
                None => Breaker::new(id, &config),
            };
            current.insert(id.to_string(), breaker);
        }
        Ok(Breakers {
            namespace: namespace.to_string(),
            config,
            flushed: current.clone(),
            current,
            pending: BTreeMap::new(),
        })
    }

    /// Breakers that start CLOSED and are never stored (pure runs).
    pub fn in_memory(namespace: &str, config: BreakerConfig) -> Self {
        Breakers {
            namespace: namespace.to_string(),
            config,
            current: BTreeMap::new(),
            flushed: BTreeMap::new(),
            pending: BTreeMap::new(),
        }
    }

    pub fn config(&self) -> &BreakerConfig {
        &self.config
    }

    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// Whether `id` may be called at `now` (unknown ids: yes).
    pub fn allows(&mut self, id: &str, now: DateTime<Utc>) -> bool {
        let config = self.config;
        self.current
            .entry(id.to_string())
            .or_insert_with(|| Breaker::new(id, &config))
            .allows(now, &config)
    }

    pub fn record(&mut self, id: &str, outcome: Outcome, now: DateTime<Utc>) {
        let config = self.config;
        self.current
            .entry(id.to_string())
            .or_insert_with(|| Breaker::new(id, &config))
            .record(&outcome, now, &config);
        self.pending
            .entry(id.to_string())
            .or_default()
            .push((outcome, now));
    }

    pub fn get(&self, id: &str) -> Option<&Breaker> {
        self.current.get(id)
    }

    pub fn state_of(&self, id: &str) -> BreakerState {
        self.get(id).map(|b| b.state).unwrap_or_default()
    }

    /// Writes the outcomes recorded since the last flush: per breaker whose
    /// state or counts changed, one transaction replaying them onto the
    /// stored document. Returns how many documents were written.
    pub async fn flush(&mut self, state: &dyn StateStore) -> Result<usize, StateError> {
        let config = self.config;
        let mut written = 0;
        for (id, outcomes) in std::mem::take(&mut self.pending) {
            let before = self.flushed.get(&id).map(Breaker::significant);
            let after = self.current.get(&id).map(Breaker::significant);
            // State transitions by time alone (OPEN → HALF_OPEN) are part
            // of `significant` too.
            if before == after {
                continue;
            }
            let fresh = Breaker::new(&id, &config);
            let mut f = |doc: Option<&serde_json::Value>| {
                let mut b = doc
                    .and_then(|d| serde_json::from_value::<Breaker>(d.clone()).ok())
                    .unwrap_or_else(|| fresh.clone());
                for (outcome, at) in &outcomes {
                    b.record(outcome, *at, &config);
                }
                match serde_json::to_value(&b) {
                    Ok(v) => TxDecision::Put(v),
                    Err(_) => TxDecision::Keep,
                }
            };
            let stored = state
                .transaction(COLLECTION, &document_id(&self.namespace, &id), &mut f)
                .await?;
            if let Some(b) = stored.and_then(|d| serde_json::from_value::<Breaker>(d).ok()) {
                self.current.insert(id.clone(), b);
            }
            if let Some(b) = self.current.get(&id) {
                self.flushed.insert(id.clone(), b.clone());
            }
            written += 1;
        }
        Ok(written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(minutes: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 11, 5, 16, 0, 0).unwrap() + Duration::minutes(minutes)
    }

    #[test]
    fn five_failures_open_thirty_minutes_half_open_two_successes_close() {
        let config = BreakerConfig::default();
        let mut b = Breaker::new("x", &config);
        for i in 0..4 {
            b.record(&Outcome::Failure(format!("e{i}")), t(0), &config);
            assert_eq!(b.state, BreakerState::Closed);
        }
        // A success resets the consecutive count.
        b.record(&Outcome::Success, t(0), &config);
        assert_eq!(b.failure_count, 0);
        for i in 0..5 {
            assert!(b.allows(t(1), &config));
            b.record(&Outcome::Failure(format!("f{i}")), t(1), &config);
        }
        assert_eq!(b.state, BreakerState::Open);
        assert_eq!(b.opened_at, Some(t(1)));
        // Refused until 30 minutes after opening.
        assert!(!b.allows(t(30), &config));
        assert!(b.allows(t(31), &config));
        assert_eq!(b.state, BreakerState::HalfOpen);
        b.record(&Outcome::Success, t(31), &config);
        assert_eq!(b.state, BreakerState::HalfOpen);
        b.record(&Outcome::Success, t(31), &config);
        assert_eq!(b.state, BreakerState::Closed);
        assert_eq!(b.failure_history.len(), 9);
        assert_eq!(b.last_error.as_deref(), Some("f4"));
    }

    #[test]
    fn a_failure_while_half_open_reopens() {
        let config = BreakerConfig::new(5, 2, Duration::minutes(30)).unwrap();
        let mut b = Breaker::new("x", &config);
        for _ in 0..5 {
            b.record(&Outcome::Failure("boom".into()), t(0), &config);
        }
        assert!(b.allows(t(30), &config));
        b.record(&Outcome::Success, t(30), &config);
        b.record(&Outcome::Failure("again".into()), t(30), &config);
        assert_eq!(b.state, BreakerState::Open);
        assert_eq!(b.opened_at, Some(t(30)));
        assert!(!b.allows(t(59), &config));
        assert!(b.allows(t(60), &config));
        for i in 0..12 {
            b.record(&Outcome::Failure(format!("{i}")), t(61), &config);
        }
        assert_eq!(b.failure_history.len(), HISTORY_LIMIT);
        assert_eq!(b.failure_history[9].error, "11");
    }

    #[test]
    fn documents_are_namespaced_and_older_ones_still_read() {
        assert_eq!(document_id("processor", "x"), "processor.x");
        let mut old = serde_json::to_value(Breaker::new("x", &BreakerConfig::default())).unwrap();
        let id = old.as_object_mut().unwrap().remove("id").unwrap();
        old["system_id"] = id;
        let b: Breaker = serde_json::from_value(old).unwrap();
        assert_eq!(b.id, "x");
    }

    #[test]
    fn config_is_validated() {
        assert!(BreakerConfig::new(0, 2, Duration::minutes(1)).is_err());
        assert!(BreakerConfig::new(5, 0, Duration::minutes(1)).is_err());
        assert!(BreakerConfig::new(5, 2, Duration::zero()).is_err());
    }
}
