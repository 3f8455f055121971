//! What a scrape did, per source: each fetch's outcome, the run-history
//! row it becomes, and the summary people read.

use crate::sources::Source;
use chrono::{DateTime, NaiveDate, Utc};
use propcast_core::RunStatus;
use propcast_core::tables::ProcessorRun;

/// The phase number phase 1's runs carry in `processor_runs` (the
/// pipeline's `Phase` starts at 2: scraping is not orchestrated).
pub const SCRAPE_PHASE: i64 = 1;
/// The `mode` of a scrape run.
pub const SCRAPE_MODE: &str = "scrape";

/// One fetch's outcome.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    Landed {
        path: String,
        attempts: u32,
    },
    /// The path was landed before: left as it was.
    AlreadyLanded {
        path: String,
    },
    /// The payload failed its shape check: kept under `rejected/`.
    Rejected {
        path: String,
        reason: String,
    },
    /// No payload: `what` was asked, `error` says why it failed.
    Failed {
        what: String,
        error: String,
    },
}

/// One source's fetches.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SourceReport {
    pub source: Source,
    pub outcomes: Vec<Outcome>,
    /// Why the source stopped before fetching everything, or did nothing
    /// (quota exhausted, no games).
    pub skipped: Option<String>,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
}

impl serde::Serialize for Source {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl SourceReport {
    pub fn new(source: Source) -> Self {
        let now = Utc::now();
        SourceReport {
            source,
            outcomes: Vec::new(),
            skipped: None,
            started_at: now,
            finished_at: now,
        }
    }

    pub fn landed(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Landed { .. }))
    }

    pub fn already_landed(&self) -> usize {
        self.count(|o| matches!(o, Outcome::AlreadyLanded { .. }))
    }

    pub fn rejected(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Rejected { .. }))
    }

    pub fn failed(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Failed { .. }))
    }

    fn count(&self, f: impl Fn(&Outcome) -> bool) -> usize {
        self.outcomes.iter().filter(|o| f(o)).count()
    }

    /// A rejected or failed fetch fails the source: its data is missing.
    pub fn status(&self) -> RunStatus {
        if self.rejected() + self.failed() > 0 {
            RunStatus::Failed
        } else if self.skipped.is_some() || self.landed() == 0 {
            RunStatus::Skipped
        } else {
            RunStatus::Success
        }
    }

    /// The reasons of what went wrong, one per failed or rejected fetch.
    pub fn error(&self) -> Option<String> {
        let reasons: Vec<String> = self
            .outcomes
            .iter()
            .filter_map(|o| match o {
                Outcome::Rejected { path, reason } => Some(format!("rejected {path}: {reason}")),
                Outcome::Failed { what, error } => Some(format!("{what}: {error}")),
                _ => None,
            })
            .collect();
        (!reasons.is_empty()).then(|| reasons.join("; "))
    }

    fn skip_reason(&self) -> Option<String> {
        if self.status() != RunStatus::Skipped {
            return self.skipped.clone();
        }
        self.skipped.clone().or_else(|| {
            (self.already_landed() > 0).then(|| {
                format!(
                    "already landed ({} file(s) left as they were)",
                    self.already_landed()
                )
            })
        })
    }

    /// The run-history row of this source.
    pub fn run(&self, date: NaiveDate, round: &str) -> ProcessorRun {
        ProcessorRun {
            run_id: uuid::Uuid::new_v4().to_string(),
            execution_id: uuid::Uuid::new_v4().to_string(),
            correlation_id: format!("{round}/{date}"),
            processor: self.source.processor(),
            phase: SCRAPE_PHASE,
            game_date: date,
            status: self.status(),
            skip_reason: self.skip_reason(),
            error: self.error(),
            round_id: round.to_string(),
            entities_in_scope: None,
            entities_changed: None,
            rows_written: self.landed() as i64,
            records_quarantined: self.rejected() as i64,
            duration_ms: (self.finished_at - self.started_at).num_milliseconds(),
            mode: SCRAPE_MODE.to_string(),
            started_at: self.started_at,
            finished_at: self.finished_at,
        }
    }
}

/// A whole scrape of one date.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ScrapeReport {
    pub date: NaiveDate,
    pub round: String,
    pub sources: Vec<SourceReport>,
    /// Sources not asked for lack of a key: (source, why).
    pub left_out: Vec<(Source, String)>,
}

impl ScrapeReport {
    /// Whether anything failed or was rejected.
    pub fn has_failures(&self) -> bool {
        self.sources.iter().any(|s| s.status() == RunStatus::Failed)
    }

    pub fn runs(&self) -> Vec<ProcessorRun> {
        self.sources
            .iter()
            .map(|s| s.run(self.date, &self.round))
            .collect()
    }

    /// The summary printed after a scrape.
    pub fn render(&self) -> String {
        let mut out = format!("scrape of {} (round {})\n", self.date, self.round);
        for s in &self.sources {
            out.push_str(&format!(
                "  {:<24} {:<7} landed {}, already landed {}, rejected {}, failed {}{}\n",
                s.source.name(),
                s.status().as_str(),
                s.landed(),
                s.already_landed(),
                s.rejected(),
                s.failed(),
                s.skipped
                    .as_ref()
                    .map(|r| format!(" — {r}"))
                    .unwrap_or_default()
            ));
            for o in &s.outcomes {
                let line = match o {
                    Outcome::Landed { path, attempts } if *attempts > 1 => {
                        format!("landed {path} (after {attempts} attempts)")
                    }
                    Outcome::Landed { path, .. } => format!("landed {path}"),
                    Outcome::AlreadyLanded { path } => {
                        format!("already landed {path} (left as it was)")
                    }
                    Outcome::Rejected { path, reason } => format!(
                        "REJECTED {path}: {reason} (kept as {})",
                        propcast_raw::layout::rejected(path)
                    ),
                    Outcome::Failed { what, error } => format!("FAILED {what}: {error}"),
                };
                out.push_str(&format!("      {line}\n"));
            }
        }
        for (source, why) in &self.left_out {
            out.push_str(&format!("  {:<24} left out: {why}\n", source.name()));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_source_run_says_what_happened() {
        let d = NaiveDate::from_ymd_opt(2025, 11, 1).unwrap();
        let mut s = SourceReport::new(Source::PlayerBoxscores);
        assert_eq!(s.status(), RunStatus::Skipped);
        s.outcomes.push(Outcome::AlreadyLanded { path: "a".into() });
        let run = s.run(d, "r1");
        assert_eq!(run.status, RunStatus::Skipped);
        assert_eq!(
            run.skip_reason.as_deref(),
            Some("already landed (1 file(s) left as they were)")
        );
        s.outcomes.push(Outcome::Landed {
            path: "b".into(),
            attempts: 2,
        });
        assert_eq!(s.run(d, "r1").status, RunStatus::Success);
        s.outcomes.push(Outcome::Rejected {
            path: "c".into(),
            reason: "not valid JSON".into(),
        });
        let run = s.run(d, "r1");
        assert_eq!(run.status, RunStatus::Failed);
        assert_eq!(run.error.as_deref(), Some("rejected c: not valid JSON"));
        assert_eq!(run.rows_written, 1);
        assert_eq!(run.records_quarantined, 1);
        assert_eq!(run.phase, 1);
        assert_eq!(run.mode, "scrape");
        assert_eq!(run.processor, "scrape_player_boxscores");
        assert_eq!(run.correlation_id, "r1/2025-11-01");
    }
}
