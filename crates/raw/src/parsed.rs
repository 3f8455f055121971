//! What a pure payload parser returns.

use propcast_patterns::Quarantine;
use std::collections::BTreeMap;

/// Rows parsed from one payload, the records set aside, and facts worth
/// counting (for example skipped game-level markets).
#[derive(Debug, Clone)]
pub struct Parsed<T> {
    pub rows: Vec<T>,
    pub quarantine: Quarantine,
    pub counters: BTreeMap<String, i64>,
}

impl<T> Default for Parsed<T> {
    fn default() -> Self {
        Parsed {
            rows: Vec::new(),
            quarantine: Quarantine::default(),
            counters: BTreeMap::new(),
        }
    }
}

impl<T> Parsed<T> {
    pub fn count(&mut self, counter: &str, n: i64) {
        *self.counters.entry(counter.to_string()).or_default() += n;
    }
}
