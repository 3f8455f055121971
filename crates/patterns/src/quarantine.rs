//! Records set aside with file, record, field and reason.

use chrono::{DateTime, NaiveDate, Utc};
use propcast_core::tables::QuarantineRecord;

/// One quarantined record, before it is stamped with the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuarantineEntry {
    pub source_file: String,
    /// Where in the file (`"resultSets[0].rowSet[17]"`), or `"file"`.
    pub record: String,
    /// The offending field, or "" for the whole file.
    pub field: String,
    pub reason: String,
    pub excerpt: String,
}

/// The quarantine of one run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Quarantine {
    entries: Vec<QuarantineEntry>,
}

impl Quarantine {
    /// Sets a record aside. The excerpt is cut to 200 characters.
    pub fn add(
        &mut self,
        source_file: impl Into<String>,
        record: impl Into<String>,
        field: impl Into<String>,
        reason: impl Into<String>,
        excerpt: impl AsRef<str>,
    ) {
        let excerpt: String = excerpt.as_ref().chars().take(200).collect();
        self.entries.push(QuarantineEntry {
            source_file: source_file.into(),
            record: record.into(),
            field: field.into(),
            reason: reason.into(),
            excerpt,
        });
    }

    pub fn extend(&mut self, other: Quarantine) {
        self.entries.extend(other.entries);
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn entries(&self) -> &[QuarantineEntry] {
        &self.entries
    }

    /// Rows for `nba_processing.quarantine`. Two entries with the same key
    /// (file, record, field) keep the first reason.
    pub fn to_rows(
        &self,
        game_date: NaiveDate,
        processor: &str,
        run_id: &str,
        now: DateTime<Utc>,
    ) -> Vec<QuarantineRecord> {
        let mut seen = std::collections::BTreeSet::new();
        self.entries
            .iter()
            .filter(|e| seen.insert((e.source_file.clone(), e.record.clone(), e.field.clone())))
            .map(|e| QuarantineRecord {
                game_date,
                processor: processor.to_string(),
                source_file: e.source_file.clone(),
                record: e.record.clone(),
                field: e.field.clone(),
                reason: e.reason.clone(),
                excerpt: e.excerpt.clone(),
                run_id: run_id.to_string(),
                quarantined_at: now,
            })
            .collect()
    }
}
