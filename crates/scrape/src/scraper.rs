//! Phase 1: fetch each source of a date, check the payload's shape, and
//! land it create-only at the path `propcast_raw::layout` gives it; a
//! payload that fails its check goes under `rejected/` with its reason.

use crate::http::{Client, FetchError, Fetched, Interval};
use crate::odds::{self, Quota};
use crate::report::{Outcome, ScrapeReport, SourceReport};
use crate::shape::{self, Shape};
use crate::sources::{self, Endpoints, Request, Source};
use bytes::Bytes;
use chrono::{DateTime, NaiveDate, NaiveTime, Timelike, Utc};
use propcast_core::date::{Season, eastern_date, eastern_time};
use propcast_platform::{LandingZone, PutOutcome};
use propcast_raw::layout;
use reqwest::header::HeaderMap;
use serde_json::Value;
use std::sync::Arc;

/// The API keys, from the environment (`ODDS_API_KEY`, `BDL_API_KEY`); an
/// empty variable counts as unset.
#[derive(Debug, Clone, Default)]
pub struct Keys {
    pub odds: Option<String>,
    pub bdl: Option<String>,
}

impl Keys {
    pub fn from_env() -> Self {
        let read = |name| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        Keys {
            odds: read(sources::ODDS_KEY_VARIABLE),
            bdl: read(sources::BDL_KEY_VARIABLE),
        }
    }

    fn of(&self, source: Source) -> Option<&str> {
        match source {
            Source::Odds => self.odds.as_deref(),
            Source::BdlInjuries => self.bdl.as_deref(),
            _ => None,
        }
    }
}

/// A scrape that cannot start.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("source {which} needs an API key: set {variable} (or leave {which} out of --sources)")]
    MissingKey {
        which: Source,
        variable: &'static str,
    },
}

/// The sources to scrape, in the order they run, and those left out with
/// why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub run: Vec<Source>,
    pub left_out: Vec<(Source, String)>,
}

/// The [`Plan`] of a scrape: asked-for sources must have their key; by
/// default every source runs whose key is set.
pub fn plan(requested: Option<&[Source]>, keys: &Keys) -> Result<Plan, PlanError> {
    let mut run = Vec::new();
    let mut left_out = Vec::new();
    for source in Source::ALL {
        let asked = requested.is_none_or(|r| r.contains(&source));
        if !asked {
            continue;
        }
        match (source.key_variable(), keys.of(source)) {
            (Some(variable), None) if requested.is_some() => {
                return Err(PlanError::MissingKey {
                    which: source,
                    variable,
                });
            }
            (Some(variable), None) => {
                left_out.push((source, format!("{variable} is not set")));
            }
            _ => run.push(source),
        }
    }
    Ok(Plan { run, left_out })
}

/// What a scrape does beyond the defaults.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Odds from the historical endpoints (a past date) instead of the
    /// current ones.
    pub historical: bool,
    /// The time historical odds are asked as of [default: 17:00 UTC of the
    /// date, noon or 1 pm ET, before any tip-off].
    pub odds_at: Option<DateTime<Utc>>,
    /// The injury-report hours (0–23 ET) to fetch [default:
    /// [`default_report_hours`]].
    pub injury_hours: Vec<u32>,
    /// The `leaguegamelog` season type [default: regular season].
    pub season_type: sources::SeasonType,
}

/// The injury reports a run fetches by default: for a past date the 5 PM
/// report (the last before most tip-offs), for today the last hour that
/// has surely been published (the hour before the current one, ET), for
/// a later date none (nothing is published yet).
pub fn default_report_hours(date: NaiveDate, now: DateTime<Utc>) -> Vec<u32> {
    let today = eastern_date(now);
    if date < today {
        vec![17]
    } else if date == today {
        vec![eastern_time(now).hour().saturating_sub(1)]
    } else {
        Vec::new()
    }
}

/// The time historical odds are asked as of by default: 17:00 UTC of the
/// game date.
pub fn default_odds_time(date: NaiveDate) -> DateTime<Utc> {
    date.and_time(NaiveTime::from_hms_opt(17, 0, 0).unwrap_or_default())
        .and_utc()
}

/// Fetches and lands one date's sources.
pub struct Scraper {
    client: Client,
    endpoints: Endpoints,
    keys: Keys,
    landing: Arc<dyn LandingZone>,
    options: Options,
}

impl Scraper {
    pub fn new(
        client: Client,
        endpoints: Endpoints,
        keys: Keys,
        landing: Arc<dyn LandingZone>,
        options: Options,
    ) -> Self {
        Scraper {
            client,
            endpoints,
            keys,
            landing,
            options,
        }
    }

    /// Scrapes `sources` (from [`plan`]) for `date`; every source gets a
    /// report, whatever happens to the others.
    pub async fn scrape(
        &self,
        date: NaiveDate,
        sources: &[Source],
        left_out: Vec<(Source, String)>,
        round: &str,
    ) -> ScrapeReport {
        let mut reports = Vec::new();
        // The scoreboard's game ids, for the box scores of the same run.
        let mut games: Option<Vec<String>> = None;
        for &source in sources {
            let mut report = SourceReport::new(source);
            tracing::info!(source = source.name(), game_date = %date, "scraping");
            match source {
                Source::Schedule => {
                    let req = sources::schedule(&self.endpoints);
                    self.simple(
                        &mut report,
                        &req,
                        &sources::browser_headers(),
                        Interval::Other,
                        Shape::Schedule,
                        |at| layout::schedule(Season::of(date), at),
                    )
                    .await;
                }
                Source::PlayerBoxscores | Source::TeamBoxscores => {
                    let player = source == Source::PlayerBoxscores;
                    let mode = if player { 'P' } else { 'T' };
                    let path = |at: DateTime<Utc>| {
                        if player {
                            layout::player_boxscores(date, at)
                        } else {
                            layout::team_boxscores(date, at)
                        }
                    };
                    let req = sources::league_game_log(
                        &self.endpoints,
                        date,
                        mode,
                        self.options.season_type,
                    );
                    self.simple(
                        &mut report,
                        &req,
                        &sources::stats_headers(),
                        Interval::Stats,
                        Shape::LeagueGameLog,
                        path,
                    )
                    .await;
                }
                Source::ScoreboardV3 => {
                    let req = sources::scoreboard_v3(&self.endpoints, date);
                    let json = self
                        .simple(
                            &mut report,
                            &req,
                            &sources::stats_headers(),
                            Interval::Stats,
                            Shape::ScoreboardV3,
                            |at| layout::scoreboard_v3(date, at),
                        )
                        .await;
                    games = json.as_ref().map(game_ids);
                }
                Source::BoxscoreTraditionalV3 => {
                    self.box_scores(&mut report, date, games.clone()).await;
                }
                Source::InjuryReport => self.injury_reports(&mut report, date).await,
                Source::BdlInjuries => self.bdl(&mut report, date).await,
                Source::Odds => self.odds(&mut report, date).await,
            }
            report.finished_at = Utc::now();
            reports.push(report);
        }
        ScrapeReport {
            date,
            round: round.to_string(),
            sources: reports,
            left_out,
        }
    }

    /// One request, one payload: fetch, check, land at `path(fetch time)`.
    /// The parsed payload when it landed (or was there already).
    async fn simple(
        &self,
        report: &mut SourceReport,
        req: &Request,
        headers: &HeaderMap,
        interval: Interval,
        shape: Shape,
        path: impl FnOnce(DateTime<Utc>) -> String,
    ) -> Option<Value> {
        let fetched = match self.fetch(req, headers, interval).await {
            Ok(f) => f,
            Err(outcome) => {
                report.outcomes.push(outcome);
                return None;
            }
        };
        let path = path(Utc::now());
        match shape::check(shape, fetched.content_type(), &fetched.body) {
            Ok(json) => {
                let outcome = self.land(path, fetched.body, fetched.attempts).await;
                let ok = !matches!(outcome, Outcome::Failed { .. });
                report.outcomes.push(outcome);
                ok.then_some(json)
            }
            Err(reason) => {
                report
                    .outcomes
                    .push(self.reject(path, fetched.body, reason).await);
                None
            }
        }
    }

    async fn fetch(
        &self,
        req: &Request,
        headers: &HeaderMap,
        interval: Interval,
    ) -> Result<Fetched, Outcome> {
        self.client
            .get(&req.url, &req.query, headers, interval)
            .await
            .map_err(|e| {
                tracing::warn!(url = %req.url, error = %e, "fetch failed");
                Outcome::Failed {
                    what: format!("GET {}", req.url),
                    error: e.to_string(),
                }
            })
    }

    async fn land(&self, path: String, body: Bytes, attempts: u32) -> Outcome {
        match self.landing.put_new(&path, body).await {
            Ok(PutOutcome::Created) => {
                tracing::info!(%path, attempts, "landed");
                Outcome::Landed { path, attempts }
            }
            Ok(PutOutcome::AlreadyExists) => {
                tracing::info!(%path, "already landed; left as it was");
                Outcome::AlreadyLanded { path }
            }
            Err(e) => Outcome::Failed {
                what: format!("landing {path}"),
                error: e.to_string(),
            },
        }
    }

    /// Keeps a payload that failed its check under `rejected/`, with the
    /// reason beside it, so it can be looked at; nothing reads it there.
    async fn reject(&self, path: String, body: Bytes, reason: String) -> Outcome {
        tracing::warn!(%path, %reason, "payload rejected");
        let payload = self.landing.put_new(&layout::rejected(&path), body).await;
        let why = self
            .landing
            .put_new(
                &layout::rejected_reason(&path),
                Bytes::from(format!("{reason}\n")),
            )
            .await;
        match payload.and(why) {
            Ok(_) => Outcome::Rejected { path, reason },
            Err(e) => Outcome::Failed {
                what: format!("keeping the rejected payload of {path}"),
                error: format!("{reason}; and it could not be kept: {e}"),
            },
        }
    }

    async fn box_scores(
        &self,
        report: &mut SourceReport,
        date: NaiveDate,
        games: Option<Vec<String>>,
    ) {
        let games = match games {
            Some(g) => g,
            None => {
                // The scoreboard was not scraped in this run: ask it for
                // the game ids without landing it.
                let req = sources::scoreboard_v3(&self.endpoints, date);
                let listed = match self
                    .fetch(&req, &sources::stats_headers(), Interval::Stats)
                    .await
                {
                    Ok(f) => shape::check(Shape::ScoreboardV3, f.content_type(), &f.body)
                        .map(|json| game_ids(&json))
                        .map_err(|reason| Outcome::Failed {
                            what: "scoreboardv3 (to list the games)".into(),
                            error: reason,
                        }),
                    Err(outcome) => Err(outcome),
                };
                match listed {
                    Ok(g) => g,
                    Err(outcome) => {
                        report.outcomes.push(outcome);
                        return;
                    }
                }
            }
        };
        if games.is_empty() {
            report.skipped = Some("no games on the date's scoreboard".into());
            return;
        }
        for game_id in games {
            let req = sources::boxscore_traditional_v3(&self.endpoints, &game_id);
            self.simple(
                report,
                &req,
                &sources::stats_headers(),
                Interval::Stats,
                Shape::BoxScoreTraditionalV3,
                |at| layout::boxscore_traditional_v3(date, &game_id, at),
            )
            .await;
        }
    }

    async fn injury_reports(&self, report: &mut SourceReport, date: NaiveDate) {
        let hours = if self.options.injury_hours.is_empty() {
            default_report_hours(date, Utc::now())
        } else {
            self.options.injury_hours.clone()
        };
        if hours.is_empty() {
            report.skipped = Some("no report is published before the date".into());
        }
        for hour in hours {
            let req = sources::injury_report(&self.endpoints, date, hour);
            self.simple(
                report,
                &req,
                &sources::browser_headers(),
                Interval::Other,
                Shape::Pdf,
                |at| layout::injury_report(date, hour, at),
            )
            .await;
        }
    }

    /// balldontlie: every page by cursor; one page lands as received,
    /// several are merged into one `{data, meta}` (the last page's meta).
    async fn bdl(&self, report: &mut SourceReport, date: NaiveDate) {
        const MAX_PAGES: usize = 100;
        let Some(key) = self.keys.bdl.as_deref() else {
            report.skipped = Some(format!("{} is not set", sources::BDL_KEY_VARIABLE));
            return;
        };
        let headers = match sources::bdl_headers(key) {
            Ok(h) => h,
            Err(e) => {
                report.outcomes.push(Outcome::Failed {
                    what: "balldontlie".into(),
                    error: e,
                });
                return;
            }
        };
        let mut pages: Vec<(Fetched, Value)> = Vec::new();
        let mut cursor: Option<String> = None;
        let mut attempts = 0;
        loop {
            let req = sources::bdl_injuries(&self.endpoints, cursor.as_deref());
            let fetched = match self.fetch(&req, &headers, Interval::Other).await {
                Ok(f) => f,
                Err(outcome) => {
                    report.outcomes.push(outcome);
                    return;
                }
            };
            attempts += fetched.attempts;
            let json = match shape::check(Shape::BdlPage, fetched.content_type(), &fetched.body) {
                Ok(json) => json,
                Err(reason) => {
                    let path = layout::bdl_injuries(date, Utc::now());
                    let reason = format!("page {}: {reason}", pages.len() + 1);
                    report
                        .outcomes
                        .push(self.reject(path, fetched.body, reason).await);
                    return;
                }
            };
            cursor = match json.pointer("/meta/next_cursor") {
                Some(Value::Number(n)) => Some(n.to_string()),
                Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
                _ => None,
            };
            pages.push((fetched, json));
            if cursor.is_none() {
                break;
            }
            if pages.len() >= MAX_PAGES {
                report.outcomes.push(Outcome::Failed {
                    what: "balldontlie".into(),
                    error: format!(
                        "still a next_cursor after {MAX_PAGES} pages of 100: the cursor does not advance; nothing landed"
                    ),
                });
                return;
            }
        }
        let path = layout::bdl_injuries(date, Utc::now());
        let body = if pages.len() == 1 {
            pages.remove(0).0.body
        } else {
            let mut data = Vec::new();
            let mut meta = Value::Null;
            for (_, mut json) in pages {
                if let Some(Value::Array(rows)) = json.get_mut("data").map(Value::take) {
                    data.extend(rows);
                }
                meta = json.get_mut("meta").map(Value::take).unwrap_or(Value::Null);
            }
            let merged = serde_json::json!({ "data": data, "meta": meta });
            match serde_json::to_vec(&merged) {
                Ok(bytes) => Bytes::from(bytes),
                Err(e) => {
                    report.outcomes.push(Outcome::Failed {
                        what: "balldontlie (merging pages)".into(),
                        error: e.to_string(),
                    });
                    return;
                }
            }
        };
        report.outcomes.push(self.land(path, body, attempts).await);
    }

    /// The Odds API: the quota first (free), then the events, then each
    /// event of the date's player props; stops before any call once the
    /// quota says nothing remains.
    async fn odds(&self, report: &mut SourceReport, date: NaiveDate) {
        let Some(key) = self.keys.odds.as_deref() else {
            report.skipped = Some(format!("{} is not set", sources::ODDS_KEY_VARIABLE));
            return;
        };
        let historical = self.options.historical.then(|| {
            self.options
                .odds_at
                .unwrap_or_else(|| default_odds_time(date))
        });
        let headers = HeaderMap::new();
        let mut quota = Quota::default();
        let probe = sources::odds_quota_probe(&self.endpoints, key);
        match self
            .client
            .get(&probe.url, &probe.query, &headers, Interval::Other)
            .await
        {
            Ok(f) => quota.update(&f.headers),
            Err(e) => {
                report.outcomes.push(odds_failure(&probe, e));
                return;
            }
        }
        tracing::info!(quota = %quota.describe(), "odds api quota");
        if quota.exhausted() {
            report.skipped = Some(format!(
                "quota exhausted ({}): nothing requested; the quota renews with the plan's month",
                quota.describe()
            ));
            return;
        }
        let req = sources::odds_events(&self.endpoints, key, historical);
        let events_shape = if historical.is_some() {
            Shape::OddsEventsHistory
        } else {
            Shape::OddsEvents
        };
        let fetched = match self
            .client
            .get(&req.url, &req.query, &headers, Interval::Other)
            .await
        {
            Ok(f) => f,
            Err(e) => {
                report.outcomes.push(odds_failure(&req, e));
                return;
            }
        };
        let now = Utc::now();
        quota.update(&fetched.headers);
        tracing::info!(quota = %quota.describe(), "odds api quota");
        let json = match shape::check(events_shape, fetched.content_type(), &fetched.body) {
            Ok(json) => json,
            Err(reason) => {
                let path =
                    layout::odds_events(date, historical.is_some(), historical.unwrap_or(now));
                report
                    .outcomes
                    .push(self.reject(path, fetched.body, reason).await);
                return;
            }
        };
        // Historical payloads are as of their own timestamp; current ones
        // as of the fetch.
        let stamp = match historical {
            Some(asked) => odds::snapshot_time(&json).unwrap_or(asked),
            None => now,
        };
        let events_path = layout::odds_events(date, historical.is_some(), stamp);
        report
            .outcomes
            .push(self.land(events_path, fetched.body, fetched.attempts).await);
        let events = odds::events_of_date(&json, date);
        if events.is_empty() {
            report.skipped = Some(format!("no events on {date} (ET) in the events list"));
            return;
        }
        let total = events.len();
        for (done, event) in events.into_iter().enumerate() {
            let event = match event {
                Ok(e) => e,
                Err(why) => {
                    report.outcomes.push(Outcome::Failed {
                        what: "event list".into(),
                        error: why,
                    });
                    continue;
                }
            };
            if quota.exhausted() {
                report.skipped = Some(format!(
                    "quota exhausted ({}): {} of {total} events' props not requested",
                    quota.describe(),
                    total - done
                ));
                tracing::warn!(quota = %quota.describe(), "odds api quota exhausted; stopping");
                return;
            }
            let req = sources::event_odds(&self.endpoints, key, &event.id, historical);
            let fetched = match self
                .client
                .get(&req.url, &req.query, &headers, Interval::Other)
                .await
            {
                Ok(f) => f,
                Err(e) => {
                    report.outcomes.push(odds_failure(&req, e));
                    continue;
                }
            };
            quota.update(&fetched.headers);
            tracing::info!(event = %event.id, quota = %quota.describe(), "odds api quota");
            let shape = if historical.is_some() {
                Shape::EventOddsHistory
            } else {
                Shape::EventOdds
            };
            let checked = shape::check(shape, fetched.content_type(), &fetched.body);
            let snapshot = match (historical, &checked) {
                (Some(asked), Ok(json)) => odds::snapshot_time(json).unwrap_or(asked),
                (Some(asked), Err(_)) => asked,
                (None, _) => Utc::now(),
            };
            let path = layout::player_props(
                date,
                historical.is_some(),
                &event.id,
                event.away,
                event.home,
                snapshot,
            );
            let outcome = match checked {
                Ok(_) => self.land(path, fetched.body, fetched.attempts).await,
                Err(reason) => self.reject(path, fetched.body, reason).await,
            };
            report.outcomes.push(outcome);
        }
    }
}

/// An Odds API failure, said plainly when it is the key or the quota.
fn odds_failure(req: &Request, e: FetchError) -> Outcome {
    let error = match &e {
        FetchError::Status {
            status: 401,
            excerpt,
            ..
        } => format!(
            "The Odds API refused the key in {} (HTTP 401: {excerpt}): check the key, its plan and its remaining quota",
            sources::ODDS_KEY_VARIABLE
        ),
        _ => e.to_string(),
    };
    Outcome::Failed {
        what: format!("GET {}", req.url),
        error,
    }
}

/// The game ids a `scoreboardv3` payload lists.
pub fn game_ids(json: &Value) -> Vec<String> {
    json.pointer("/scoreboard/games")
        .and_then(Value::as_array)
        .map(|games| {
            games
                .iter()
                .filter_map(|g| g.get("gameId").and_then(Value::as_str))
                .filter(|id| !id.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_plan_runs_keyless_sources_and_says_which_were_left_out() {
        let Plan {
            run,
            left_out: left,
        } = plan(None, &Keys::default()).unwrap();
        assert!(!run.contains(&Source::Odds) && !run.contains(&Source::BdlInjuries));
        assert_eq!(run.len(), 6);
        assert_eq!(
            left,
            vec![
                (Source::BdlInjuries, "BDL_API_KEY is not set".to_string()),
                (Source::Odds, "ODDS_API_KEY is not set".to_string())
            ]
        );
        let keys = Keys {
            odds: Some("k".into()),
            bdl: None,
        };
        let run = plan(Some(&[Source::Odds, Source::Schedule]), &keys)
            .unwrap()
            .run;
        // Always in the run order: the schedule first.
        assert_eq!(run, vec![Source::Schedule, Source::Odds]);
        let err = plan(Some(&[Source::BdlInjuries]), &keys).unwrap_err();
        assert!(err.to_string().contains("set BDL_API_KEY"), "{err}");
    }

    #[test]
    fn default_injury_hours_and_odds_time() {
        let d = NaiveDate::from_ymd_opt(2025, 11, 1).unwrap();
        // 2025-11-01 20:30 UTC is 16:30 ET: the 3 PM report.
        let now = Utc.with_ymd_and_hms(2025, 11, 1, 20, 30, 0).unwrap();
        assert_eq!(default_report_hours(d, now), vec![15]);
        assert_eq!(default_report_hours(d.pred_opt().unwrap(), now), vec![17]);
        assert!(default_report_hours(d.succ_opt().unwrap(), now).is_empty());
        let at = default_odds_time(d);
        assert_eq!(sources::odds_time(at), "2025-11-01T17:00:00Z");
        // Noon or 1 pm ET: before every tip-off of the date.
        assert!(eastern_time(at).hour() <= 13);
    }

    #[test]
    fn a_refused_odds_key_is_said_plainly() {
        let req = sources::odds_events(&Endpoints::default(), "secret", None);
        let e = FetchError::Status {
            status: 401,
            retry_after: None,
            excerpt: r#"{"message":"Usage quota has been reached"}"#.into(),
            attempts: 1,
        };
        let Outcome::Failed { what, error } = odds_failure(&req, e) else {
            panic!("not a failure");
        };
        assert!(!what.contains("secret"), "{what}");
        assert!(error.contains("ODDS_API_KEY"), "{error}");
        assert!(error.contains("Usage quota has been reached"), "{error}");
    }

    #[test]
    fn game_ids_of_a_real_scoreboard() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/data/raw_samples/nba_stats_scoreboardv3.json"
        );
        let json: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        let ids = game_ids(&json);
        assert_eq!(ids.len(), 11);
        assert_eq!(ids[0], "0022500171");
    }
}
