//! `propcast serve dashboard`: read-only web pages over the configured
//! backends, rendered on the server (HTML from `maud`, charts as inline
//! SVG; no JavaScript).
//!
//! | page | shows |
//! |---|---|
//! | `/` | dates × processors: each processor's latest run of each date ([`grid`]) |
//! | `/date/YYYY-MM-DD` | the date's runs, validation results and quarantined records ([`date`]) |
//! | `/breakers` | every circuit breaker, processors' and prediction systems' ([`breakers`]) |
//! | `/accuracy` | each system against the real line, week by week, with a chart ([`accuracy`]) |
//! | `/predictions` | one date's predictions with their lines and calls ([`predictions`]) |
//! | `/healthz` | `ok` (the process is up; the backends are opened per page) |
//!
//! Every page opens the backends through the read paths of
//! `propcast_platform` (`open_warehouse(config, true)`, `Coordination::open`)
//! when it is asked for, so the dashboard holds no lock between requests and
//! shows a warehouse that appears after it started. A page that cannot be
//! built is an HTML page saying what is wrong and what to do ([`page::PageError`]).

pub mod accuracy;
pub mod breakers;
pub mod calibration;
pub mod chart;
pub mod date;
pub mod grid;
pub mod page;
pub mod predictions;

use axum::Router;
use axum::routing::get;
use page::PageError;
use propcast_platform::backends::open_warehouse;
use propcast_platform::{Config, Coordination, StateStore, StateUri, Warehouse, WarehouseUri};
use std::future::Future;
use std::sync::Arc;

/// What every page reads from: the configuration, opened per request.
#[derive(Clone)]
pub struct Dashboard {
    config: Arc<Config>,
}

impl Dashboard {
    pub fn new(config: Config) -> Self {
        Dashboard {
            config: Arc::new(config),
        }
    }

    /// The warehouse, read-only.
    pub async fn warehouse(&self) -> Result<Arc<dyn Warehouse>, PageError> {
        if let WarehouseUri::DuckDb(path) = &self.config.warehouse
            && !path.exists()
        {
            return Err(PageError::Empty(format!(
                "there is no warehouse at {} yet",
                path.display()
            )));
        }
        open_warehouse(&self.config, true)
            .await
            .map_err(|e| PageError::Unreachable {
                backend: "warehouse",
                uri: self.config.warehouse.to_string(),
                message: e.to_string(),
            })
    }

    /// The state store (circuit breakers); `None` when the embedded one
    /// does not exist yet (opening it would create it).
    pub async fn state(&self) -> Result<Option<Arc<dyn StateStore>>, PageError> {
        if let StateUri::Sqlite(path) = &self.config.state
            && !path.exists()
        {
            return Ok(None);
        }
        Coordination::open(&self.config)
            .await
            .map(|c| Some(c.state))
            .map_err(|e| PageError::Unreachable {
                backend: "state store",
                uri: self.config.state.to_string(),
                message: e.to_string(),
            })
    }

    /// Where the pages read from, for their footer.
    pub fn describe(&self) -> String {
        format!(
            "warehouse {} · state {}",
            self.config.warehouse, self.config.state
        )
    }
}

/// Every page of the dashboard.
pub fn router(dashboard: Dashboard) -> Router {
    Router::new()
        .route("/", get(grid::page))
        .route("/date/{date}", get(date::page))
        .route("/breakers", get(breakers::page))
        .route("/accuracy", get(accuracy::page))
        .route("/predictions", get(predictions::page))
        .route("/healthz", get(|| async { "ok" }))
        .fallback(page::not_found)
        .with_state(dashboard)
}

/// Serves the dashboard on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(Dashboard::new(config)))
        .with_graceful_shutdown(shutdown)
        .await
}
