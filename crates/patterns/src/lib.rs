//! The processor contract and the layers every processor runs inside.
//!
//! A phase crate implements [`Processor`]: read inputs through the context's
//! backends, compute, write its tables idempotently, and return what it did
//! plus any records it quarantined. [`run_processor`] wraps that uniformly:
//! retry with jitter on retryable errors only, quarantine bookkeeping, and a
//! `nba_processing.processor_runs` row for every run.

pub mod layers;
pub mod processor;
pub mod quarantine;
pub mod run;
#[cfg(feature = "testing")]
pub mod testing;

pub use layers::{Change, LayerOptions, LayeredRun, Ledger, run_layered};
pub use processor::{
    Dependency, Phase, ProcessContext, ProcessError, ProcessOutput, Processor, RunMode, RunStatus,
    Scope,
};
pub use quarantine::Quarantine;
pub use run::{RunReport, execute_processor, record_reports, run_processor, skip_report};
