//! What a processor is and what it is given.

use crate::quarantine::Quarantine;
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use propcast_core::TableDef;
use propcast_platform::{
    LandingError, LandingZone, StateError, StateStore, Warehouse, WarehouseError,
};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

/// The phase and run-status types live in `propcast-core` (run history
/// stores them); processors name them from here.
pub use propcast_core::{Phase, RunStatus};

/// How a run was started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunMode {
    /// One date as the daily pipeline would run it.
    Daily,
    /// Part of a backfill over a range of dates.
    Backfill,
}

impl fmt::Display for RunMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RunMode::Daily => "daily",
            RunMode::Backfill => "backfill",
        })
    }
}

/// Everything a processor may use. Phase logic names no backend.
#[derive(Clone)]
pub struct ProcessContext {
    pub warehouse: Arc<dyn Warehouse>,
    pub landing: Arc<dyn LandingZone>,
    pub state: Arc<dyn StateStore>,
    pub game_date: NaiveDate,
    pub mode: RunMode,
    /// One id for the whole invocation (a backfill, a daily run).
    pub execution_id: String,
    /// Carried from the payload that started the chain to its predictions.
    pub correlation_id: String,
    /// The instant stamped into `*_at` columns written by this run.
    pub now: DateTime<Utc>,
    /// Which entities of the date to recompute. Set by the layers
    /// ([`crate::layers`]); only a processor that
    /// [supports it](Processor::supports_entity_scope) is ever given
    /// anything but [`Scope::Full`].
    pub scope: Scope,
}

impl ProcessContext {
    /// The same context for another date (a range run's date `date`).
    pub fn on(&self, date: NaiveDate) -> ProcessContext {
        ProcessContext {
            game_date: date,
            ..self.clone()
        }
    }
}

/// What a range run ([`Processor::process_range`]) did, per date: each
/// date's output as [`Processor::process`] would have reported it.
pub type RangeOutput = BTreeMap<NaiveDate, ProcessOutput>;

/// The part of a date a run recomputes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Scope {
    /// Every entity of the date.
    #[default]
    Full,
    /// Only rows of these entities: a row is in scope when its
    /// `player_lookup` or its team abbreviation is in the set. The processor
    /// replaces exactly those rows and leaves the rest of the date alone.
    Entities(BTreeSet<String>),
}

impl Scope {
    /// Whether a row of this player (and team) is recomputed.
    pub fn includes(&self, player_lookup: &str, team_abbr: &str) -> bool {
        match self {
            Scope::Full => true,
            Scope::Entities(set) => set.contains(player_lookup) || set.contains(team_abbr),
        }
    }

    pub fn is_full(&self) -> bool {
        matches!(self, Scope::Full)
    }
}

/// An upstream table that must have rows for the date before a processor
/// runs (the dependency precheck of the layers, daily mode).
#[derive(Debug, Clone, Copy)]
pub struct Dependency {
    pub table: &'static TableDef,
    /// Rows the date's partition must hold at least.
    pub min_rows: u64,
}

/// What a successful run did.
#[derive(Debug, Clone, Default)]
pub struct ProcessOutput {
    /// Rows written per table (`dataset.table`).
    pub rows_written: BTreeMap<String, u64>,
    /// Records set aside; the run continued without them.
    pub quarantine: Quarantine,
    /// True when there was nothing to process for the date.
    pub no_data: bool,
    /// Per-run facts worth showing in a summary (e.g. "unresolved_names": 3).
    pub counters: BTreeMap<String, i64>,
}

impl ProcessOutput {
    pub fn wrote(&mut self, def: &TableDef, rows: u64) {
        *self.rows_written.entry(def.qualified()).or_default() += rows;
    }

    pub fn total_rows(&self) -> u64 {
        self.rows_written.values().sum()
    }

    pub fn status(&self) -> RunStatus {
        if !self.quarantine.is_empty() {
            RunStatus::Partial
        } else if self.no_data {
            RunStatus::NoData
        } else {
            RunStatus::Success
        }
    }
}

/// Why a run failed. Each error knows whether retrying may help.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error(transparent)]
    Warehouse(#[from] WarehouseError),
    #[error(transparent)]
    Landing(#[from] LandingError),
    #[error(transparent)]
    State(#[from] StateError),
    /// An upstream table lacks what this processor needs.
    #[error("missing dependency: {0}")]
    Dependency(String),
    /// A configuration or input problem that retrying cannot fix.
    #[error("{0}")]
    Permanent(String),
}

impl ProcessError {
    pub fn is_retryable(&self) -> bool {
        match self {
            ProcessError::Warehouse(e) => e.is_retryable(),
            ProcessError::Landing(e) => e.is_retryable(),
            ProcessError::State(e) => e.is_retryable(),
            ProcessError::Dependency(_) | ProcessError::Permanent(_) => false,
        }
    }
}

/// A unit of pipeline work for one game date.
#[async_trait]
pub trait Processor: Send + Sync {
    /// Stable name, used in run history and completion messages
    /// ("player_game_summary").
    fn name(&self) -> &'static str;

    fn phase(&self) -> Phase;

    /// The tables this processor writes (created before the first run).
    fn outputs(&self) -> Vec<TableDef>;

    /// The upstream processors whose output *for this date* this processor
    /// reads (smart skip: in an incremental round where none of them
    /// changed, the run is skipped as up to date). Data of earlier dates
    /// does not count: a change on D never changes D's pre-game rows
    /// (invariant 1). `None` = not declared, so any upstream change reruns
    /// it. Phase 2 processors read the landing zone and declare nothing.
    fn sources(&self) -> Option<&'static [&'static str]> {
        None
    }

    /// The landing-zone folders a phase 2 processor reads for `date` (smart
    /// skip at the source: in a daily round where every file under them is
    /// byte for byte what the previous round read, the run is skipped as
    /// up to date). Empty = not declared: it always runs.
    fn landing_inputs(&self, _date: NaiveDate) -> Vec<String> {
        Vec::new()
    }

    /// True when [`Processor::process`] honours [`ProcessContext::scope`].
    fn supports_entity_scope(&self) -> bool {
        false
    }

    /// The entities a scoped run recomputes when upstream rows of
    /// `entities` changed: `entities` plus whatever else of the date depends
    /// on them (for a team summary, the team's opponent). Called by the
    /// layers before a [`Scope::Entities`] run; on an error they log it and
    /// recompute the whole date. The default adds nothing.
    async fn expand_scope(
        &self,
        _ctx: &ProcessContext,
        entities: BTreeSet<String>,
    ) -> Result<BTreeSet<String>, ProcessError> {
        Ok(entities)
    }

    /// Upstream tables that must have rows for the date (checked before a
    /// daily run; relaxed in backfill).
    fn dependencies(&self) -> Vec<Dependency> {
        Vec::new()
    }

    /// Processes `ctx.game_date` (within `ctx.scope`). Writes must be
    /// idempotent: running twice leaves the same rows.
    async fn process(&self, ctx: &ProcessContext) -> Result<ProcessOutput, ProcessError>;

    /// The range form: computes every date of `dates` (ascending, distinct)
    /// in full and writes them, giving exactly the rows and per-date
    /// outputs that [`Processor::process`] gives date by date in that order
    /// — so the row of date D never sees D's later siblings' output or any
    /// input a run of D alone would not see (point in time holds by
    /// construction: each date's frame ends before D, or at D for the
    /// same-date sources the processor declares). It runs after every
    /// upstream processor has run for the whole range, before any
    /// downstream one. `ctx` is the context of the first date (its
    /// `game_date` is `dates[0]`, its scope [`Scope::Full`]). An error fails
    /// the whole range; the driver then re-runs its dates one by one, so
    /// the failure lands on its date. This default runs `process` per date,
    /// in order, with its whole-partition writes held and made once per
    /// table at the end ([`crate::range_writes`]): the same reads and rows,
    /// one write per table.
    async fn process_range(
        &self,
        ctx: &ProcessContext,
        dates: &[NaiveDate],
    ) -> Result<RangeOutput, ProcessError> {
        let writes = Arc::new(crate::range_writes::RangeWrites::new(ctx.warehouse.clone()));
        let held = ProcessContext {
            warehouse: writes.clone(),
            ..ctx.clone()
        };
        let mut out = RangeOutput::new();
        for &date in dates {
            out.insert(date, self.process(&held.on(date)).await?);
        }
        writes.flush().await?;
        Ok(out)
    }
}
