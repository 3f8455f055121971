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
use propcast_prediction_worker::{
    GbdtSystem, PredictionCoordinator, PredictionGrading, PredictionSystem, TrainedModel,
};
use std::path::Path;
use std::sync::{Arc, Mutex};

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

/// Every processor of every phase, in the order a date is processed. The
/// prediction coordinator runs the rule systems and the ensemble, plus
/// `gbdt_v1` when a trained model is given.
pub fn standard_processors(gbdt: Option<Arc<TrainedModel>>) -> Vec<Box<dyn Processor>> {
    let mut all = propcast_raw::processors();
    all.extend(propcast_analytics::processors());
    all.extend(propcast_precompute::processors());
    let gbdt = gbdt.map(|m| Box::new(GbdtSystem::new(m)) as Box<dyn PredictionSystem>);
    all.push(Box::new(
        PredictionCoordinator::standard(gbdt).expect("the standard systems are distinct"),
    ));
    all.push(Box::new(PredictionGrading));
    all
}

type Processors = Arc<Vec<Box<dyn Processor>>>;

pub struct Pipeline {
    backends: Backends,
    /// Every processor, the coordinator without `gbdt_v1`.
    plain: Processors,
    /// The trained model and the processors whose coordinator runs it; set
    /// or swapped whole when a model is trained mid-backfill.
    with_model: Mutex<Option<(Arc<TrainedModel>, Processors)>>,
}

impl Pipeline {
    /// The standard pipeline without the `gbdt_v1` system.
    pub fn new(backends: Backends) -> Self {
        Self::with_model(backends, None)
    }

    /// The standard pipeline, predicting with `model` too when given — on
    /// the dates after its training window only, so a model never predicts
    /// a game it was trained on.
    pub fn with_model(backends: Backends, model: Option<Arc<TrainedModel>>) -> Self {
        let pipeline = Pipeline {
            backends,
            plain: Arc::new(standard_processors(None)),
            with_model: Mutex::new(None),
        };
        if let Some(model) = model {
            pipeline.set_model(model);
        }
        pipeline
    }

    /// From the next date on, predict with `model` as `gbdt_v1` as well.
    pub fn set_model(&self, model: Arc<TrainedModel>) {
        let processors = Arc::new(standard_processors(Some(model.clone())));
        *lock(&self.with_model) = Some((model, processors));
    }

    /// The trained model the coordinator runs, if any.
    pub fn model(&self) -> Option<Arc<TrainedModel>> {
        lock(&self.with_model).as_ref().map(|(m, _)| m.clone())
    }

    /// The processors `date` runs: with `gbdt_v1` when a model trained on
    /// dates before `date` is set.
    pub fn processors_for(&self, date: NaiveDate) -> Processors {
        match &*lock(&self.with_model) {
            Some((model, processors)) if date > model.metadata().window.to => processors.clone(),
            _ => self.plain.clone(),
        }
    }

    pub fn backends(&self) -> &Backends {
        &self.backends
    }

    pub fn processors(&self) -> Processors {
        self.plain.clone()
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
            scope: Default::default(),
        };
        let processors = self.processors_for(date);
        let mut reports = Vec::with_capacity(processors.len());
        let mut early_exit = None;
        for processor in processors.iter() {
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

/// A poisoned lock only means another thread panicked mid-swap of a whole
/// value; the value itself is still whole.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
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
