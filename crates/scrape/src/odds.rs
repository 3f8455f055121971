//! The Odds API's pure parts: its quota headers, which events belong to a
//! game date, and the event folder's tricodes.

use chrono::{DateTime, NaiveDate, Utc};
use reqwest::header::HeaderMap;
use serde_json::Value;

/// The quota as the last response reported it (`x-requests-remaining`,
/// `x-requests-used`).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Quota {
    pub remaining: Option<f64>,
    pub used: Option<f64>,
}

impl Quota {
    /// Reads the quota headers of a response (absent headers keep the
    /// last known value).
    pub fn update(&mut self, headers: &HeaderMap) {
        let read = |name: &str| {
            crate::http::header(headers, name).and_then(|v| v.trim().parse::<f64>().ok())
        };
        if let Some(r) = read("x-requests-remaining") {
            self.remaining = Some(r);
        }
        if let Some(u) = read("x-requests-used") {
            self.used = Some(u);
        }
    }

    /// No request may be made: the API says nothing remains.
    pub fn exhausted(&self) -> bool {
        self.remaining.is_some_and(|r| r <= 0.0)
    }

    pub fn describe(&self) -> String {
        let show = |v: Option<f64>| v.map_or("unknown".to_string(), |v| format!("{v}"));
        format!(
            "x-requests-remaining {}, x-requests-used {}",
            show(self.remaining),
            show(self.used)
        )
    }
}

/// An event of the list, with its NBA tricodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub id: String,
    pub away: &'static str,
    pub home: &'static str,
}

/// The events list of a response: the array itself (current) or its
/// `data` (historical).
pub fn event_list(json: &Value) -> &[Value] {
    json.as_array()
        .or_else(|| json.get("data").and_then(Value::as_array))
        .map(Vec::as_slice)
        .unwrap_or_default()
}

/// The events whose tip-off falls on `date` in US Eastern time, each with
/// its tricodes; an event that cannot be read is an error naming it (the
/// others go on).
pub fn events_of_date(json: &Value, date: NaiveDate) -> Vec<Result<Event, String>> {
    event_list(json)
        .iter()
        .enumerate()
        .filter_map(|(i, e)| {
            let commence = e.get("commence_time").and_then(Value::as_str);
            let tip = commence.and_then(|t| t.parse::<DateTime<Utc>>().ok());
            match tip {
                Some(tip) if propcast_core::date::eastern_date(tip) != date => None,
                Some(_) => Some(event(i, e)),
                None => Some(Err(format!(
                    "events[{i}].commence_time: {commence:?} is not an RFC 3339 time"
                ))),
            }
        })
        .collect()
}

fn event(i: usize, e: &Value) -> Result<Event, String> {
    let id = e
        .get("id")
        .and_then(Value::as_str)
        .filter(|id| !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric()))
        .ok_or_else(|| format!("events[{i}].id: missing or not alphanumeric"))?;
    let team = |field: &str| {
        let name = e.get(field).and_then(Value::as_str).unwrap_or_default();
        propcast_raw::teams::tricode_of_name(name).ok_or_else(|| {
            format!(
                "event {id}: {field} {name:?} is not one of the 30 NBA teams (propcast_raw::teams); add its spelling there"
            )
        })
    };
    Ok(Event {
        id: id.to_string(),
        away: team("away_team")?,
        home: team("home_team")?,
    })
}

/// The `timestamp` a historical response is as of.
pub fn snapshot_time(json: &Value) -> Option<DateTime<Utc>> {
    json.get("timestamp")?.as_str()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn quota_headers_are_read_and_zero_stops() {
        let mut q = Quota::default();
        assert!(!q.exhausted());
        let mut h = HeaderMap::new();
        h.insert("x-requests-remaining", HeaderValue::from_static("12"));
        h.insert("x-requests-used", HeaderValue::from_static("488"));
        q.update(&h);
        assert_eq!(q.remaining, Some(12.0));
        assert!(!q.exhausted());
        h.insert("x-requests-remaining", HeaderValue::from_static("0"));
        q.update(&h);
        assert!(q.exhausted());
        assert_eq!(q.describe(), "x-requests-remaining 0, x-requests-used 488");
        // A response without the headers keeps what is known.
        q.update(&HeaderMap::new());
        assert!(q.exhausted());
    }

    #[test]
    fn events_are_kept_by_their_eastern_date() {
        let list = serde_json::json!([
            // 21:10 UTC on Nov 1 is 17:10 ET on Nov 1.
            {"id": "a1", "commence_time": "2025-11-01T21:10:00Z", "home_team": "Milwaukee Bucks", "away_team": "Sacramento Kings"},
            // 02:30 UTC on Nov 2 is still Nov 1 in ET.
            {"id": "b2", "commence_time": "2025-11-02T02:30:00Z", "home_team": "LA Clippers", "away_team": "Golden State Warriors"},
            // Nov 2 ET.
            {"id": "c3", "commence_time": "2025-11-02T20:00:00Z", "home_team": "Boston Celtics", "away_team": "Miami Heat"},
            {"id": "d4", "commence_time": "2025-11-01T23:00:00Z", "home_team": "Team LeBron", "away_team": "Boston Celtics"}
        ]);
        let d = NaiveDate::from_ymd_opt(2025, 11, 1).unwrap();
        let got = events_of_date(&list, d);
        assert_eq!(got.len(), 3);
        assert_eq!(
            got[0],
            Ok(Event {
                id: "a1".into(),
                away: "SAC",
                home: "MIL"
            })
        );
        assert_eq!(
            got[1].as_ref().map(|e| (e.away, e.home)),
            Ok(("GSW", "LAC"))
        );
        let err = got[2].as_ref().unwrap_err();
        assert!(err.contains("Team LeBron"), "{err}");
        // The historical wrapper reads the same.
        let wrapped = serde_json::json!({"timestamp": "2025-11-01T17:00:00Z", "data": list});
        assert_eq!(events_of_date(&wrapped, d).len(), 3);
        assert_eq!(
            snapshot_time(&wrapped).map(crate::sources::odds_time),
            Some("2025-11-01T17:00:00Z".to_string())
        );
    }
}
