//! The in-process pipeline: every phase's processors for one date, in
//! dependency order, on whatever backends it is given.

use anyhow::Context;
use chrono::{NaiveDate, Utc};
use propcast_core::tables::ALL_TABLES;
use propcast_patterns::{
    Phase, ProcessContext, Processor, RunMode, RunReport, RunStatus, execute_processor,
    record_reports, skip_report,
};
use propcast_platform::{LandingZone, StateStore, Warehouse};
use std::path::Path;
use std::sync::Arc;

/// The backends a pipeline runs on.
#[derive(Clone)]
pub struct Backends {
    pub warehouse: Arc<dyn Warehouse>,
    pub landing: Arc<dyn LandingZone>,
    pub state: Arc<dyn StateStore>,
}

impl Backends {
    /// The embedded default: DuckDB and SQLite files in `data_dir`, the
    /// landing zone in a local directory.
    pub fn embedded(data_dir: &Path, landing_dir: &Path) -> anyhow::Result<Self> {
        use propcast_platform::embedded::{EmbeddedBackends, LocalLandingZone};
        if !landing_dir.is_dir() {
            anyhow::bail!(
                "landing zone {} is not a directory: pass --landing with the folder that holds nba-com/ and odds-api/",
                landing_dir.display()
            );
        }
        let embedded = EmbeddedBackends::open(data_dir)
            .with_context(|| format!("opening the embedded backends in {}", data_dir.display()))?;
        let landing = LocalLandingZone::open(landing_dir)
            .with_context(|| format!("opening the landing zone {}", landing_dir.display()))?;
        Ok(Backends {
            warehouse: embedded.warehouse,
            landing: Arc::new(landing),
            state: embedded.state,
        })
    }
}

/// What happened to one date.
#[derive(Debug)]
pub struct DateOutcome {
    pub date: NaiveDate,
    pub reports: Vec<RunReport>,
    /// Set when phases 3–5 were skipped (early exit), with the reason.
    pub early_exit: Option<String>,
}

impl DateOutcome {
    pub fn failed(&self) -> Vec<&RunReport> {
        self.reports
            .iter()
            .filter(|r| r.status == RunStatus::Failed)
            .collect()
    }
}

/// Every processor of every phase, in the order a date is processed.
pub fn standard_processors() -> Vec<Box<dyn Processor>> {
    let mut all = propcast_raw::processors();
    all.extend(propcast_analytics::processors());
    all.extend(propcast_precompute::processors());
    all.extend(propcast_prediction_worker::processors());
    all
}

pub struct Pipeline {
    backends: Backends,
    processors: Vec<Box<dyn Processor>>,
}

impl Pipeline {
    pub fn new(backends: Backends) -> Self {
        Pipeline {
            backends,
            processors: standard_processors(),
        }
    }

    pub fn backends(&self) -> &Backends {
        &self.backends
    }

    pub fn processors(&self) -> &[Box<dyn Processor>] {
        &self.processors
    }

    /// Creates every table of the catalog that does not exist yet.
    pub async fn prepare(&self) -> anyhow::Result<()> {
        for def in ALL_TABLES {
            self.backends
                .warehouse
                .ensure_table(def)
                .await
                .with_context(|| format!("creating {}", def.qualified()))?;
        }
        Ok(())
    }

    /// Runs every processor for `date`. Phase 2 always runs; when it found
    /// nothing at all for the date (no games scheduled, no payloads), phases
    /// 3–5 are skipped and recorded as skipped. A failed processor does not
    /// stop the date: later processors run on what is there, and the failure
    /// is in the outcome and in run history.
    pub async fn run_date(
        &self,
        date: NaiveDate,
        mode: RunMode,
        execution_id: &str,
    ) -> anyhow::Result<DateOutcome> {
        let ctx = ProcessContext {
            warehouse: self.backends.warehouse.clone(),
            landing: self.backends.landing.clone(),
            state: self.backends.state.clone(),
            game_date: date,
            mode,
            execution_id: execution_id.to_string(),
            correlation_id: format!("{execution_id}/{date}"),
            now: Utc::now(),
        };
        let mut reports = Vec::with_capacity(self.processors.len());
        let mut early_exit = None;
        for processor in &self.processors {
            if processor.phase() > Phase::Raw && early_exit.is_none() && raw_found_nothing(&reports)
            {
                early_exit = Some("no games scheduled and no payloads for this date".to_string());
            }
            let report = match &early_exit {
                Some(reason) if processor.phase() > Phase::Raw => {
                    skip_report(processor.as_ref(), &ctx, reason)
                }
                _ => execute_processor(processor.as_ref(), &ctx).await,
            };
            reports.push(report);
        }
        record_reports(self.backends.warehouse.as_ref(), date, &reports)
            .await
            .with_context(|| format!("recording run history for {date}"))?;
        Ok(DateOutcome {
            date,
            reports,
            early_exit,
        })
    }
}

fn raw_found_nothing(reports: &[RunReport]) -> bool {
    reports.iter().all(|r| {
        r.output.total_rows() == 0
            && r.output.quarantine.is_empty()
            && r.status != RunStatus::Failed
    })
}

/// The phase a processor name belongs to, for summaries.
pub fn phase_label(phase: Phase) -> &'static str {
    match phase {
        Phase::Raw => "phase2_raw",
        Phase::Analytics => "phase3_analytics",
        Phase::Precompute => "phase4_precompute",
        Phase::Predictions => "phase5_predictions",
    }
}
