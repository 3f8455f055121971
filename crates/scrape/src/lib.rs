//! Phase 1: the scrapers. Each source of a date is fetched (timeouts, a
//! minimum interval per host, one retry policy), its payload's shape is
//! checked, and it lands create-only at the path `propcast_raw::layout`
//! gives it, where phase 2 reads it; a payload that fails its check goes
//! under `rejected/` with the reason and never lands. Every source's
//! fetches become one `nba_processing.processor_runs` row (phase 1,
//! processor `scrape_<source>`, mode `scrape`).

pub mod http;
pub mod odds;
pub mod report;
pub mod scraper;
pub mod shape;
pub mod sources;

pub use http::{Client, HttpSettings};
pub use report::{Outcome, ScrapeReport, SourceReport};
pub use scraper::{Keys, Options, Plan, PlanError, Scraper, plan};
pub use sources::{Endpoints, Source};

use propcast_core::Table as _;
use propcast_core::tables::ProcessorRun;
use propcast_platform::{Warehouse, WarehouseError, WarehouseExt as _};

/// Writes the scrape's run-history rows (one per source), creating the
/// table on a fresh warehouse, and logs each as the pipeline's runs are.
pub async fn record(
    warehouse: &dyn Warehouse,
    report: &ScrapeReport,
) -> Result<(), WarehouseError> {
    let runs = report.runs();
    if runs.is_empty() {
        return Ok(());
    }
    warehouse.ensure_table(&ProcessorRun::DEF).await?;
    warehouse.merge_rows(&runs).await?;
    runs.iter()
        .for_each(propcast_patterns::run::log_recorded_run);
    Ok(())
}
