//! `propcast scrape`: phase 1 for one date (see `propcast_scrape`): fetch
//! the sources, land them, record each source's run, print what happened,
//! and optionally announce the date on `landing-events` as `propcast
//! landed` does, so phase 2 starts by the same event flow.

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use propcast_platform::backends::{open_landing, open_warehouse};
use propcast_platform::{Config, Coordination, LandingUri};
use propcast_scrape::{
    Client, Endpoints, HttpSettings, Keys, Options, ScrapeReport, Scraper, Source,
};
use std::time::Duration;

/// Where each source is asked, and how patiently.
#[derive(Debug, Clone, clap::Args)]
pub struct ScrapeArgs {
    /// Sources, comma-separated: schedule, player_boxscores,
    /// team_boxscores, scoreboard_v3, boxscore_traditional_v3,
    /// injury_report, bdl_injuries, odds [default: every source whose key
    /// is set; the summary names those left out].
    #[arg(long, value_delimiter = ',')]
    pub sources: Vec<Source>,
    /// Odds from The Odds API's historical endpoints (a past date).
    #[arg(long)]
    pub historical: bool,
    /// With --historical: the time the odds are asked as of (RFC 3339)
    /// [default: 17:00 UTC of the date].
    #[arg(long, value_name = "TIME")]
    pub odds_at: Option<DateTime<Utc>>,
    /// Injury-report hours to fetch, 0–23 ET, comma-separated [default:
    /// 17 for a past date, the last full hour for today].
    #[arg(long, value_delimiter = ',')]
    pub injury_hours: Vec<u32>,
    /// The box scores' season type: regular, playin, playoffs or
    /// preseason (`leaguegamelog` answers only the type asked).
    #[arg(long, default_value = "regular")]
    pub season_type: propcast_scrape::sources::SeasonType,
    /// stats.nba.com base URL.
    #[arg(
        long,
        env = "PROPCAST_STATS_BASE_URL",
        default_value = "https://stats.nba.com/stats"
    )]
    pub stats_base_url: String,
    /// NBA CDN base URL (the schedule).
    #[arg(
        long,
        env = "PROPCAST_CDN_BASE_URL",
        default_value = "https://cdn.nba.com"
    )]
    pub cdn_base_url: String,
    /// The Odds API base URL.
    #[arg(
        long,
        env = "PROPCAST_ODDS_BASE_URL",
        default_value = "https://api.the-odds-api.com"
    )]
    pub odds_base_url: String,
    /// Official injury report base URL.
    #[arg(
        long,
        env = "PROPCAST_INJURY_BASE_URL",
        default_value = "https://ak-static.cms.nba.com"
    )]
    pub injury_base_url: String,
    /// balldontlie base URL.
    #[arg(
        long,
        env = "PROPCAST_BDL_BASE_URL",
        default_value = "https://api.balldontlie.io"
    )]
    pub bdl_base_url: String,
    /// Seconds to connect before a request counts as failed.
    #[arg(
        long,
        env = "PROPCAST_SCRAPE_CONNECT_TIMEOUT_SECS",
        default_value_t = 10
    )]
    pub connect_timeout_secs: u64,
    /// Seconds a whole request may take (then it is retried).
    #[arg(long, env = "PROPCAST_SCRAPE_TIMEOUT_SECS", default_value_t = 60)]
    pub timeout_secs: u64,
    /// Minimum milliseconds between two stats.nba.com requests.
    #[arg(long, env = "PROPCAST_STATS_INTERVAL_MS", default_value_t = 600)]
    pub stats_interval_ms: u64,
    /// Retries of a request after a 429, a 5xx, a timeout or a connection
    /// error.
    #[arg(long, default_value_t = 3)]
    pub retries: usize,
}

impl ScrapeArgs {
    fn endpoints(&self) -> Endpoints {
        Endpoints {
            stats: self.stats_base_url.clone(),
            cdn: self.cdn_base_url.clone(),
            odds: self.odds_base_url.clone(),
            injury: self.injury_base_url.clone(),
            bdl: self.bdl_base_url.clone(),
        }
    }

    fn settings(&self) -> anyhow::Result<HttpSettings> {
        Ok(HttpSettings::new(
            Duration::from_secs(self.connect_timeout_secs),
            Duration::from_secs(self.timeout_secs),
            Duration::from_millis(self.stats_interval_ms),
            Duration::from_millis(100),
            self.retries,
        )?)
    }
}

/// Scrapes `date` into the configured landing zone and records the runs
/// in the configured warehouse. Errors only when the scrape cannot start;
/// what happened to each source is in the report.
pub async fn scrape(
    config: &Config,
    date: NaiveDate,
    args: &ScrapeArgs,
    round: &str,
) -> anyhow::Result<ScrapeReport> {
    let keys = Keys::from_env();
    let requested = (!args.sources.is_empty()).then_some(args.sources.as_slice());
    let plan = propcast_scrape::plan(requested, &keys)?;
    let uri = config.require_landing()?;
    if let LandingUri::File(dir) = uri {
        // The first scrape of a fresh deployment creates the folder.
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating the landing zone {}", dir.display()))?;
    }
    let landing = open_landing(uri).await?;
    let warehouse = open_warehouse(config, false).await?;
    // Every table, as the pipeline creates them: a warehouse that has only
    // seen scrapes yet reads like any other (`propcast status`, the
    // dashboard).
    for def in propcast_core::tables::ALL_TABLES {
        warehouse
            .ensure_table(def)
            .await
            .with_context(|| format!("creating {}", def.qualified()))?;
    }
    let client = Client::new(args.settings()?)?;
    let options = Options {
        historical: args.historical,
        odds_at: args.odds_at,
        injury_hours: args.injury_hours.clone(),
        season_type: args.season_type,
    };
    let scraper = Scraper::new(client, args.endpoints(), keys, landing, options);
    let report = scraper.scrape(date, &plan.run, plan.left_out, round).await;
    propcast_scrape::record(warehouse.as_ref(), &report)
        .await
        .context("recording the scrape's runs in nba_processing.processor_runs")?;
    Ok(report)
}

/// Announces `date` on `landing-events` (what `propcast landed` does),
/// in the mode the date has today.
pub async fn publish(config: &Config, date: NaiveDate, round: &str) -> anyhow::Result<String> {
    let coordination = Coordination::open(config).await?;
    let mode = propcast_orchestrator::Mode::for_date(date, propcast_core::date::today_eastern());
    let id = crate::serve::publish_landing(
        coordination.bus.as_ref(),
        date,
        mode,
        round,
        "propcast scrape",
    )
    .await?;
    coordination.bus.close().await?;
    Ok(id)
}

/// What a `POST /scrape` may ask: a date (`YYYY-MM-DD`, `today` or
/// `yesterday` in ET, as a scheduler cannot compute one; default today)
/// and sources (default the role's `--sources`, else every source whose
/// key is set).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ScrapeRequest {
    date: Option<String>,
    #[serde(default)]
    sources: Vec<String>,
}

struct ScraperApp {
    config: Config,
    auth: Option<propcast_service::PushAuth>,
    args: ScrapeArgs,
}

/// The scraper role: `POST /scrape` scrapes the date, records the runs,
/// publishes the landing event when something landed, and answers the
/// report as JSON: 200, or 500 when a fetch failed or a payload was
/// rejected (Cloud Scheduler records the attempt as failed). The token is
/// checked like a push's (audience and service account), unless
/// `--no-push-auth`.
pub async fn serve(
    config: Config,
    port: u16,
    auth: Option<propcast_service::PushAuthConfig>,
    args: ScrapeArgs,
) -> anyhow::Result<()> {
    use axum::routing::{get, post};
    let app = std::sync::Arc::new(ScraperApp {
        config,
        auth: auth.map(propcast_service::PushAuth::new),
        args,
    });
    let router = axum::Router::new()
        .route("/livez", get(|| async { "ok\n" }))
        .route("/readyz", get(ready))
        .route("/scrape", post(handle))
        .with_state(app);
    let listener = crate::serve::bind(port).await?;
    tracing::info!(role = "scraper", addr = %listener.local_addr()?, "serving");
    propcast_service::serve(
        listener,
        router,
        propcast_service::shutdown_signal(),
        propcast_service::SHUTDOWN_GRACE,
    )
    .await
    .context("serving HTTP")?;
    tracing::info!(role = "scraper", "stopped");
    Ok(())
}

type AppState = axum::extract::State<std::sync::Arc<ScraperApp>>;

async fn ready(axum::extract::State(app): AppState) -> (axum::http::StatusCode, String) {
    use axum::http::StatusCode;
    let check = async {
        let landing = open_landing(app.config.require_landing()?).await?;
        landing.list("rejected").await?;
        anyhow::Ok(())
    };
    match check.await {
        Ok(()) => (StatusCode::OK, "ready\n".into()),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {e:#}\n"),
        ),
    }
}

async fn handle(
    axum::extract::State(app): AppState,
    headers: axum::http::HeaderMap,
    body: bytes::Bytes,
) -> (axum::http::StatusCode, String) {
    use axum::http::StatusCode;
    if let Some(auth) = &app.auth {
        let authorization = headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        if let Err(e) = auth.verify(authorization).await {
            tracing::warn!(role = "scraper", error = %e, "scrape request refused");
            return (StatusCode::UNAUTHORIZED, format!("{e}\n"));
        }
    }
    let request: ScrapeRequest = if body.iter().all(u8::is_ascii_whitespace) {
        ScrapeRequest::default()
    } else {
        match serde_json::from_slice(&body) {
            Ok(r) => r,
            Err(e) => {
                return (
                    StatusCode::BAD_REQUEST,
                    format!(
                        "body: {e}; expected {{\"date\": \"YYYY-MM-DD\", \"sources\": [\"schedule\", …]}}\n"
                    ),
                );
            }
        }
    };
    let mut args = app.args.clone();
    if !request.sources.is_empty() {
        match request
            .sources
            .iter()
            .map(|s| s.parse::<Source>())
            .collect()
        {
            Ok(sources) => args.sources = sources,
            Err(e) => return (StatusCode::BAD_REQUEST, format!("sources: {e}\n")),
        }
    }
    let today = propcast_core::date::today_eastern();
    let date = match request.date.as_deref().map(str::trim) {
        None | Some("today") => today,
        Some("yesterday") => today.pred_opt().unwrap_or(today),
        Some(text) => match text.parse::<NaiveDate>() {
            Ok(d) => d,
            Err(_) => {
                return (
                    StatusCode::BAD_REQUEST,
                    format!("date: {text:?} is not YYYY-MM-DD, today or yesterday\n"),
                );
            }
        },
    };
    let round = uuid::Uuid::new_v4().to_string();
    let report = match scrape(&app.config, date, &args, &round).await {
        Ok(report) => report,
        Err(e) => {
            tracing::warn!(role = "scraper", game_date = %date, error = %format!("{e:#}"), "scrape could not start");
            return (StatusCode::INTERNAL_SERVER_ERROR, format!("{e:#}\n"));
        }
    };
    let landed: usize = report.sources.iter().map(|s| s.landed()).sum();
    let published = if landed > 0 {
        match publish(&app.config, date, &round).await {
            Ok(id) => Some(id),
            Err(e) => {
                // Landed but not announced: worth the scheduler's retry
                // (what landed stays, a re-scrape only adds snapshots).
                return (
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!(
                        "landed {landed} file(s) but the landing event was not published: {e:#}\n"
                    ),
                );
            }
        }
    } else {
        None
    };
    let status = if report.has_failures() {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::OK
    };
    let body = serde_json::json!({ "report": report, "published_message": published });
    (status, format!("{body}\n"))
}
