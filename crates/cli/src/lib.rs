//! The propcast command line and the in-process pipeline it drives.
//!
//! `cli` parses and dispatches; `pipeline` runs a date through the event
//! flow (completion events, orchestrator triggers, phase runners) on the
//! configured backends; `backfill` walks a
//! range of dates and builds the summary; `query` runs read-only SQL on the
//! local warehouse; `train` and `evaluate` train the gbdt_v1 model and grade
//! every system out of sample.

pub mod backfill;
pub mod cli;
pub mod evaluate;
pub mod import;
pub mod pipeline;
pub mod query;
pub mod scrape;
pub mod serve;
pub mod slo;
pub mod status;
pub mod summary;
pub mod train;
pub mod validate;
