//! The frame every page shares, and the error page: what is wrong and what
//! to do next, never a stack trace.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};

/// Why a page could not be built.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// A backend could not be opened or did not answer.
    #[error("the {backend} ({uri}) cannot be opened: {message}")]
    Unreachable {
        backend: &'static str,
        uri: String,
        message: String,
    },
    /// Nothing has run yet: no warehouse, or no run history in it.
    #[error("{0}")]
    Empty(String),
    /// A query failed on a warehouse that opened.
    #[error("reading {what}: {message}")]
    Query { what: &'static str, message: String },
    /// A request that does not parse (a date, a number).
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
}

impl PageError {
    /// A failed read of `what`.
    pub fn query(what: &'static str) -> impl FnOnce(propcast_platform::WarehouseError) -> Self {
        move |e| PageError::Query {
            what,
            message: e.to_string(),
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            PageError::Unreachable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            PageError::Empty(_) | PageError::NotFound(_) => StatusCode::NOT_FOUND,
            PageError::Query { .. } => StatusCode::INTERNAL_SERVER_ERROR,
            PageError::BadRequest(_) => StatusCode::BAD_REQUEST,
        }
    }

    fn title(&self) -> &'static str {
        match self {
            PageError::Unreachable { .. } => "A backend is unreachable",
            PageError::Empty(_) => "Nothing to show yet",
            PageError::Query { .. } => "A query failed",
            PageError::BadRequest(_) => "This address does not read",
            PageError::NotFound(_) => "No such page",
        }
    }

    fn next_step(&self) -> Markup {
        match self {
            PageError::Unreachable { backend, .. } => html! {
                p { "Check that the " (backend) " is up and that the dashboard's configuration names it: "
                    code { "propcast config --check" } " opens every backend and says which does not answer. "
                    "An embedded DuckDB file that a backfill is writing cannot be opened read-only until the backfill ends." }
            },
            PageError::Empty(_) => html! {
                p { "Run " code { "propcast backfill --landing DIR" } " (or " code { "propcast run --date D --landing DIR" }
                    ") on the same backends first, then reload this page." }
            },
            PageError::Query { .. } => html! {
                p { "The warehouse answered but the query failed: its tables may predate this version. "
                    "Run " code { "propcast backfill" } " on it again to bring them up to date, or "
                    code { "propcast query \"SELECT …\"" } " to look at it." }
            },
            PageError::BadRequest(_) => html! {
                p { "Dates are written " code { "YYYY-MM-DD" } "; " a href="/" { "start from the grid" } "." }
            },
            PageError::NotFound(_) => html! {
                p { a href="/" { "Back to the grid" } "." }
            },
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        tracing::warn!(error = %self, "dashboard page failed");
        let body = layout(
            self.title(),
            html! {
                section.error data-error=(self.title()) {
                    h2 { (self.title()) }
                    p.reason { (self.to_string()) }
                    (self.next_step())
                }
            },
        );
        (self.status(), body).into_response()
    }
}

/// Unknown addresses.
pub async fn not_found(uri: axum::http::Uri) -> PageError {
    PageError::NotFound(format!("nothing lives at {uri}"))
}

/// Parses a `YYYY-MM-DD` request value.
pub fn parse_date(text: &str) -> Result<chrono::NaiveDate, PageError> {
    text.parse()
        .map_err(|_| PageError::BadRequest(format!("{text:?} is not a date written YYYY-MM-DD")))
}

const STYLE: &str = r#"
body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #1d2430; background: #fafbfc; }
header { background: #1d2430; color: #fff; padding: 8px 16px; display: flex; gap: 20px; align-items: baseline; }
header a { color: #cfe0ff; text-decoration: none; } header strong { font-size: 16px; }
main { padding: 12px 16px; }
table { border-collapse: collapse; margin: 8px 0 16px; }
th, td { border: 1px solid #dde2ea; padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #eef1f5; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
table.grid td.cell { width: 16px; height: 16px; padding: 0; border: 2px solid #fafbfc; }
table.grid th.date { writing-mode: vertical-rl; transform: rotate(180deg); font-weight: normal; font-size: 11px; padding: 4px 0; }
table.grid th.phase { background: #dfe5ee; text-align: left; }
.success { background: #2da44e; } .partial { background: #e3b341; } .no_data { background: #b8c4d6; }
.skipped { background: #8fb7e8; } .failed { background: #cf222e; } .not_triggered { background: #eceff3; }
td.cell.quarantined { outline: 2px solid #8250df; outline-offset: -4px; }
td.cell.stale { background-image: repeating-linear-gradient(45deg, transparent 0 3px, rgba(255,255,255,.6) 3px 5px); }
td.cell a { display: block; width: 100%; height: 100%; }
.legend span { display: inline-block; margin-right: 12px; } .legend i { display: inline-block; width: 12px; height: 12px; margin-right: 4px; vertical-align: middle; }
span.status { padding: 0 4px; border-radius: 3px; color: #fff; } span.status.no_data, span.status.skipped, span.status.not_triggered { color: #1d2430; }
section.error { border-left: 4px solid #cf222e; padding: 4px 12px; background: #fff; }
footer { color: #6b7686; padding: 8px 16px; font-size: 12px; }
nav.pager a { margin-right: 12px; }
"#;

/// The frame of every page.
pub fn layout(title: &str, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { (title) " · propcast" }
                style { (maud::PreEscaped(STYLE)) }
            }
            body {
                header {
                    strong { "propcast" }
                    a href="/" { "runs" }
                    a href="/breakers" { "circuit breakers" }
                    a href="/accuracy" { "accuracy" }
                    a href="/predictions" { "predictions" }
                }
                main {
                    h1 { (title) }
                    (content)
                }
            }
        }
    }
}

/// Seconds from milliseconds, for people.
pub fn seconds(ms: i64) -> String {
    format!("{:.2} s", ms as f64 / 1000.0)
}

/// A ratio as a percentage with one decimal.
pub fn percent(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}
