//! The processor contract and the layers every processor runs inside.
//!
//! A phase crate implements [`Processor`]: read inputs through the context's
//! backends, compute, write its tables idempotently, and return what it did
//! plus any records it quarantined, and declares what it reads
//! ([`Processor::sources`], [`Processor::dependencies`]).
//!
//! * [`run_layered`] runs one processor inside every layer of the event
//!   flow, in order: idempotency, early exit, circuit breaker, dependency
//!   precheck, smart skip / incremental scope, retry with jitter, change
//!   detection, run history (see [`layers`]). It returns the run's
//!   `processor_runs` row, what it changed ([`Change`]) and the completion
//!   message to publish.
//! * [`run_processor`] / [`execute_processor`] are the inner layers alone:
//!   retry with jitter on retryable errors only, quarantine bookkeeping, and
//!   a `nba_processing.processor_runs` row for every run; [`record_runs`]
//!   is the one writer of run history (a whole date, or some of its
//!   processors).
//! * [`circuit_breaker`] is the breaker state machine kept in the state
//!   store, shared by the processor layers and the prediction systems.
//! * [`partition`] is the date's rows of one table and how they are
//!   written: a [`DateSummary`] replaces the date's partition
//!   ([`write_partition`]) or, for a run scoped to some entities, exactly
//!   the in-scope rows ([`write_scoped`]), and the warehouse's row count is
//!   checked.
//! * [`history`] reads run history back (latest run per date and
//!   processor, quarantine counts) for `propcast status` and the dashboard.

pub mod circuit_breaker;
pub mod history;
pub mod layers;
pub mod partition;
pub mod processor;
pub mod quarantine;
pub mod range_writes;
pub mod reads;
pub mod run;
#[cfg(feature = "testing")]
pub mod testing;

pub use layers::{
    Change, LayerOptions, LayeredRun, Ledger, RangeDate, run_layered, run_layered_range,
};
pub use partition::{
    Counters, DateSummary, RangeInputs, process_date, process_dates, stored_values,
    write_partition, write_range, write_scoped,
};
pub use processor::{
    Dependency, Phase, ProcessContext, ProcessError, ProcessOutput, Processor, RangeOutput,
    RunMode, RunStatus, Scope,
};
pub use quarantine::Quarantine;
pub use run::{
    Coverage, RunReport, execute_processor, execute_range, range_span, record_date_runs,
    record_runs, record_status, run_processor, run_span, skip_report,
};
