//! One HTTP client for every source: timeouts, a minimum interval between
//! requests to the same host, and one retry policy (exponential backoff
//! with jitter) for what is worth another try: 429 (after its
//! `Retry-After`, capped), 5xx, timeouts and connection errors. Other 4xx
//! are answers, not accidents, and are returned at once.

use backon::{ExponentialBuilder, Retryable};
use bytes::Bytes;
use reqwest::header::HeaderMap;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use tokio::sync::Mutex;
use tokio::time::Instant;

/// Timeouts, pacing and retries of the client. Built through
/// [`HttpSettings::new`], so a zero timeout cannot be configured.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    connect_timeout: Duration,
    timeout: Duration,
    stats_interval: Duration,
    other_interval: Duration,
    retries: usize,
    max_retry_after: Duration,
}

/// A setting that cannot work.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SettingsError(String);

impl HttpSettings {
    /// `timeout` bounds a whole request (connect, headers and body);
    /// `stats_interval` is the minimum time between two requests to
    /// stats.nba.com, which blocks clients that ask faster;
    /// `other_interval` the same for every other host.
    pub fn new(
        connect_timeout: Duration,
        timeout: Duration,
        stats_interval: Duration,
        other_interval: Duration,
        retries: usize,
    ) -> Result<Self, SettingsError> {
        if connect_timeout.is_zero() || timeout.is_zero() {
            return Err(SettingsError(
                "timeouts must be above zero: pass --connect-timeout-secs and --timeout-secs of at least 1"
                    .into(),
            ));
        }
        Ok(HttpSettings {
            connect_timeout,
            timeout,
            stats_interval,
            other_interval,
            retries,
            max_retry_after: Duration::from_secs(60),
        })
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }
}

impl Default for HttpSettings {
    /// 10 s to connect, 60 s per request (the schedule is ~10 MB), 600 ms
    /// between stats requests, 3 retries.
    fn default() -> Self {
        HttpSettings {
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(60),
            stats_interval: Duration::from_millis(600),
            other_interval: Duration::from_millis(100),
            retries: 3,
            max_retry_after: Duration::from_secs(60),
        }
    }
}

/// A response with a success status.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// Requests made, retries included.
    pub attempts: u32,
}

impl Fetched {
    pub fn content_type(&self) -> Option<&str> {
        header(&self.headers, "content-type")
    }
}

/// A header as text, when present and readable.
pub fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Why a fetch gave no payload.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("HTTP {status} after {attempts} attempt(s){}: {excerpt}", retry_after.map(|d| format!(" (Retry-After {}s)", d.as_secs())).unwrap_or_default())]
    Status {
        status: u16,
        retry_after: Option<Duration>,
        /// The start of the body, which usually says why.
        excerpt: String,
        attempts: u32,
    },
    #[error(
        "timed out after {timeout:?} on each of {attempts} attempt(s); the source is slow or down: try later or raise --timeout-secs"
    )]
    Timeout { timeout: Duration, attempts: u32 },
    #[error("connection failed after {attempts} attempt(s): {message}")]
    Connect { message: String, attempts: u32 },
    #[error("{0}")]
    Request(String),
}

impl FetchError {
    /// 429, 5xx, timeouts and connection errors are worth another try.
    pub fn is_retryable(&self) -> bool {
        match self {
            FetchError::Status { status, .. } => *status == 429 || *status >= 500,
            FetchError::Timeout { .. } | FetchError::Connect { .. } => true,
            FetchError::Request(_) => false,
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            FetchError::Status {
                status: 429,
                retry_after,
                ..
            } => *retry_after,
            _ => None,
        }
    }

    fn set_attempts(&mut self, n: u32) {
        match self {
            FetchError::Status { attempts, .. }
            | FetchError::Timeout { attempts, .. }
            | FetchError::Connect { attempts, .. } => *attempts = n,
            FetchError::Request(_) => {}
        }
    }
}

/// `Retry-After` in seconds (`"1"`, `" 30 "`); `None` for anything else (an
/// HTTP date is not used by these sources and falls back to the backoff).
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// The shared client.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    settings: HttpSettings,
    /// When the next request to each host may start.
    next_slot: Arc<Mutex<HashMap<String, Instant>>>,
}

impl Client {
    pub fn new(settings: HttpSettings) -> Result<Self, FetchError> {
        let http = reqwest::Client::builder()
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.timeout)
            .build()
            .map_err(|e| FetchError::Request(format!("building the HTTP client: {e}")))?;
        Ok(Client {
            http,
            settings,
            next_slot: Arc::new(Mutex::new(HashMap::new())),
        })
    }

    pub fn settings(&self) -> &HttpSettings {
        &self.settings
    }

    /// GETs `url` with `query` and `headers`, retrying per the policy.
    pub async fn get(
        &self,
        url: &str,
        query: &[(&str, String)],
        headers: &HeaderMap,
        interval: Interval,
    ) -> Result<Fetched, FetchError> {
        let attempts = AtomicU32::new(0);
        let policy = ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(200))
            .with_max_delay(Duration::from_secs(5))
            .with_max_times(self.settings.retries)
            .with_jitter();
        let cap = self.settings.max_retry_after;
        let result = (|| async {
            attempts.fetch_add(1, Ordering::Relaxed);
            self.once(url, query, headers, interval).await
        })
        .retry(policy)
        .when(FetchError::is_retryable)
        .adjust(
            move |e: &FetchError, delay| match (e.retry_after(), delay) {
                // Out of retries stays out of retries.
                (Some(wait), Some(_)) => Some(wait.min(cap)),
                (_, delay) => delay,
            },
        )
        .notify(|e: &FetchError, delay: Duration| {
            tracing::warn!(url, error = %e, ?delay, "retrying the request");
        })
        .await;
        let n = attempts.load(Ordering::Relaxed);
        match result {
            Ok(mut fetched) => {
                fetched.attempts = n;
                Ok(fetched)
            }
            Err(mut e) => {
                e.set_attempts(n);
                Err(e)
            }
        }
    }

    async fn once(
        &self,
        url: &str,
        query: &[(&str, String)],
        headers: &HeaderMap,
        interval: Interval,
    ) -> Result<Fetched, FetchError> {
        self.pace(url, interval).await;
        let response = self
            .http
            .get(url)
            .query(query)
            .headers(headers.clone())
            .send()
            .await
            .map_err(|e| self.transport(e))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.bytes().await.map_err(|e| self.transport(e))?;
        if !(200..300).contains(&status) {
            let retry_after = header(&headers, "retry-after").and_then(parse_retry_after);
            return Err(FetchError::Status {
                status,
                retry_after,
                excerpt: excerpt(&body),
                attempts: 1,
            });
        }
        Ok(Fetched {
            status,
            headers,
            body,
            attempts: 1,
        })
    }

    fn transport(&self, e: reqwest::Error) -> FetchError {
        // The URL carries the Odds API key in its query: it must not reach
        // logs or run history.
        let e = e.without_url();
        if e.is_timeout() {
            FetchError::Timeout {
                timeout: self.settings.timeout,
                attempts: 1,
            }
        } else if e.is_connect() || e.is_request() || e.is_body() {
            FetchError::Connect {
                message: source_chain(&e),
                attempts: 1,
            }
        } else {
            FetchError::Request(source_chain(&e))
        }
    }

    /// Waits for the host's next slot: requests to one host start at least
    /// the interval apart, whichever task sends them.
    async fn pace(&self, url: &str, interval: Interval) {
        let gap = match interval {
            Interval::Stats => self.settings.stats_interval,
            Interval::Other => self.settings.other_interval,
        };
        let host = reqwest::Url::parse(url)
            .ok()
            .and_then(|u| u.host_str().map(|h| format!("{h}:{:?}", u.port())))
            .unwrap_or_default();
        let start = {
            let mut slots = self.next_slot.lock().await;
            let now = Instant::now();
            let start = slots.get(&host).copied().unwrap_or(now).max(now);
            slots.insert(host, start + gap);
            start
        };
        tokio::time::sleep_until(start).await;
    }
}

/// Which pacing a request gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interval {
    /// stats.nba.com: slow, it blocks clients that ask fast.
    Stats,
    Other,
}

/// The start of a body, on one line, for an error message.
pub fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(200)]);
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.is_empty() {
        "(empty body)".to_string()
    } else {
        one_line
    }
}

fn source_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_whole_seconds() {
        assert_eq!(parse_retry_after("1"), Some(Duration::from_secs(1)));
        assert_eq!(parse_retry_after(" 30 "), Some(Duration::from_secs(30)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(parse_retry_after("-1"), None);
    }

    #[test]
    fn only_throttling_server_errors_and_transport_failures_retry() {
        let status = |status| FetchError::Status {
            status,
            retry_after: None,
            excerpt: String::new(),
            attempts: 1,
        };
        assert!(status(429).is_retryable());
        assert!(status(500).is_retryable());
        assert!(status(503).is_retryable());
        assert!(!status(401).is_retryable());
        assert!(!status(403).is_retryable());
        assert!(!status(404).is_retryable());
        assert!(
            FetchError::Timeout {
                timeout: Duration::from_secs(1),
                attempts: 1
            }
            .is_retryable()
        );
    }

    #[test]
    fn zero_timeouts_are_refused() {
        let s = Duration::from_secs(1);
        assert!(HttpSettings::new(Duration::ZERO, s, s, s, 3).is_err());
        assert!(HttpSettings::new(s, Duration::ZERO, s, s, 3).is_err());
        assert!(HttpSettings::new(s, s, Duration::ZERO, Duration::ZERO, 0).is_ok());
    }

    #[test]
    fn excerpts_are_one_short_line() {
        assert_eq!(
            excerpt(b"<html>\n  <body>Access Denied</body>"),
            "<html> <body>Access Denied</body>"
        );
        assert_eq!(excerpt(b""), "(empty body)");
        assert_eq!(excerpt(&[b'a'; 500]).len(), 200);
    }
}
