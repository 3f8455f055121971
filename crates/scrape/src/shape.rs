//! The shape check a payload passes before it lands. A source that is
//! down or blocking often still answers 200: with an HTML page (a CDN
//! error, a bot wall), a cut-off body, or JSON without the data. Such a
//! payload is rejected, never landed: a processor would otherwise read it
//! as "no games" and wipe a date.

use serde_json::Value;

/// What a payload must look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// stats `leaguegamelog`: `resultSets[].headers` and `.rowSet` arrays.
    LeagueGameLog,
    /// stats `scoreboardv3`: `scoreboard.games` array.
    ScoreboardV3,
    /// stats `boxscoretraditionalv3`: `boxScoreTraditional.homeTeam.players`.
    BoxScoreTraditionalV3,
    /// CDN `scheduleLeagueV2`: `leagueSchedule.gameDates` array.
    Schedule,
    /// Odds API current events: a top-level array.
    OddsEvents,
    /// Odds API historical events: `data` array.
    OddsEventsHistory,
    /// Odds API current event odds: `bookmakers` array.
    EventOdds,
    /// Odds API historical event odds: `data.bookmakers` array.
    EventOddsHistory,
    /// balldontlie: `data` array.
    BdlPage,
    /// A PDF from `%PDF-` to `%%EOF`.
    Pdf,
}

/// Why a payload was rejected: one line, naming what is missing.
pub type Rejection = String;

/// Checks `body` (served with `content_type`) against `shape`; the parsed
/// JSON on success (`Value::Null` for a PDF).
pub fn check(shape: Shape, content_type: Option<&str>, body: &[u8]) -> Result<Value, Rejection> {
    let html_type = content_type.is_some_and(|t| t.to_ascii_lowercase().contains("text/html"));
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if html_type || first == Some(&b'<') {
        return Err(format!(
            "an HTML page (content-type {}), not the {} payload: the source is down or blocking this client",
            content_type.unwrap_or("none"),
            shape.name()
        ));
    }
    if body.is_empty() {
        return Err(format!("an empty body, not the {} payload", shape.name()));
    }
    if shape == Shape::Pdf {
        return check_pdf(body).map(|()| Value::Null);
    }
    let json: Value = serde_json::from_slice(body).map_err(|e| {
        format!(
            "not valid JSON ({e}; {} bytes): a truncated or corrupt {} payload",
            body.len(),
            shape.name()
        )
    })?;
    let missing = |what: &str| format!("JSON without {what}: not a {} payload", shape.name());
    let is_array = |v: Option<&Value>| v.is_some_and(Value::is_array);
    match shape {
        Shape::LeagueGameLog => {
            let sets = json
                .get("resultSets")
                .and_then(Value::as_array)
                .filter(|s| !s.is_empty())
                .ok_or_else(|| missing("a resultSets array"))?;
            for (i, set) in sets.iter().enumerate() {
                if !is_array(set.get("headers")) || !is_array(set.get("rowSet")) {
                    return Err(missing(&format!(
                        "resultSets[{i}].headers and .rowSet arrays"
                    )));
                }
            }
        }
        Shape::ScoreboardV3 => {
            if !is_array(json.pointer("/scoreboard/games")) {
                return Err(missing("a scoreboard.games array"));
            }
        }
        Shape::BoxScoreTraditionalV3 => {
            for side in ["homeTeam", "awayTeam"] {
                if !is_array(json.pointer(&format!("/boxScoreTraditional/{side}/players"))) {
                    return Err(missing(&format!(
                        "a boxScoreTraditional.{side}.players array"
                    )));
                }
            }
        }
        Shape::Schedule => {
            if !is_array(json.pointer("/leagueSchedule/gameDates")) {
                return Err(missing("a leagueSchedule.gameDates array"));
            }
        }
        Shape::OddsEvents => {
            if !json.is_array() {
                return Err(missing("a top-level array of events"));
            }
        }
        Shape::OddsEventsHistory | Shape::BdlPage => {
            if !is_array(json.get("data")) {
                return Err(missing("a data array"));
            }
        }
        Shape::EventOdds => {
            if !is_array(json.get("bookmakers")) {
                return Err(missing("a bookmakers array"));
            }
        }
        Shape::EventOddsHistory => {
            if !is_array(json.pointer("/data/bookmakers")) {
                return Err(missing("a data.bookmakers array"));
            }
        }
        Shape::Pdf => {}
    }
    Ok(json)
}

fn check_pdf(body: &[u8]) -> Result<(), Rejection> {
    if !body.starts_with(b"%PDF-") {
        return Err(format!(
            "not a PDF: the body ({} bytes) does not start with %PDF-",
            body.len()
        ));
    }
    let end = body
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(0, |i| i + 1);
    if !body[..end].ends_with(b"%%EOF") {
        return Err(format!(
            "a truncated PDF: the body ({} bytes) does not end with %%EOF",
            body.len()
        ));
    }
    Ok(())
}

impl Shape {
    pub fn name(self) -> &'static str {
        match self {
            Shape::LeagueGameLog => "stats leaguegamelog",
            Shape::ScoreboardV3 => "stats scoreboardv3",
            Shape::BoxScoreTraditionalV3 => "stats boxscoretraditionalv3",
            Shape::Schedule => "CDN scheduleLeagueV2",
            Shape::OddsEvents => "Odds API events",
            Shape::OddsEventsHistory => "Odds API historical events",
            Shape::EventOdds => "Odds API event odds",
            Shape::EventOddsHistory => "Odds API historical event odds",
            Shape::BdlPage => "balldontlie injuries",
            Shape::Pdf => "injury report PDF",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");

    fn read(path: &str) -> Vec<u8> {
        std::fs::read(format!("{SAMPLES}/{path}")).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    #[test]
    fn real_payloads_pass() {
        let cases = [
            (
                Shape::LeagueGameLog,
                "landing/nba-com/player-boxscores/2025-11-01/20251102_080500.json",
            ),
            (
                Shape::LeagueGameLog,
                "landing/nba-com/team-boxscores/2025-11-01/20251102_081000.json",
            ),
            (
                Shape::Schedule,
                "landing/nba-com/schedule-cdn/2025-26/20251110_080500.json",
            ),
            (
                Shape::ScoreboardV3,
                "raw_samples/nba_stats_scoreboardv3.json",
            ),
            (
                Shape::BoxScoreTraditionalV3,
                "raw_samples/nba_stats_boxscoretraditionalv3.json",
            ),
            (Shape::OddsEvents, "raw_samples/odds_api_v4_events_nba.json"),
            (
                Shape::OddsEventsHistory,
                "landing/odds-api/events-history/2025-11-01/20251101_170000.json",
            ),
            (
                Shape::EventOddsHistory,
                "landing/odds-api/player-props-history/2025-11-01/1eb306bc928cde16b480fbf6493b53a6-SACMIL/20251101_170000-snap-1700.json",
            ),
            (
                Shape::BdlPage,
                "raw_samples/seed_system/bdl_injuries/raw_49fd60fb.json",
            ),
            (
                Shape::Pdf,
                "raw_samples/seed_system/nbac_injury_report/raw_f4391904.pdf",
            ),
        ];
        for (shape, path) in cases {
            let ctype = if shape == Shape::Pdf {
                "application/pdf"
            } else {
                "application/json"
            };
            if let Err(why) = check(shape, Some(ctype), &read(path)) {
                panic!("{path}: {why}");
            }
        }
    }

    #[test]
    fn html_truncated_and_hollow_payloads_are_rejected() {
        let log = read("landing/nba-com/player-boxscores/2025-11-01/20251102_080500.json");
        let why = check(
            Shape::LeagueGameLog,
            Some("application/json"),
            &log[..log.len() / 2],
        )
        .unwrap_err();
        assert!(why.contains("not valid JSON"), "{why}");
        let why = check(
            Shape::LeagueGameLog,
            Some("text/html; charset=utf-8"),
            b"{}",
        )
        .unwrap_err();
        assert!(why.contains("HTML"), "{why}");
        let why = check(Shape::Schedule, None, b"  <!doctype html><p>blocked").unwrap_err();
        assert!(why.contains("HTML"), "{why}");
        let why = check(
            Shape::LeagueGameLog,
            None,
            br#"{"resultSets":[{"headers":[]}]}"#,
        )
        .unwrap_err();
        assert!(why.contains("resultSets[0].headers and .rowSet"), "{why}");
        let why = check(Shape::ScoreboardV3, None, br#"{"scoreboard":{}}"#).unwrap_err();
        assert!(why.contains("scoreboard.games"), "{why}");
        let why = check(Shape::EventOdds, None, br#"{"id":"x"}"#).unwrap_err();
        assert!(why.contains("bookmakers"), "{why}");
        let why = check(Shape::OddsEvents, None, br#"{"message":"quota"}"#).unwrap_err();
        assert!(why.contains("array of events"), "{why}");
        assert!(check(Shape::BdlPage, None, br#"{"data":[]}"#).is_ok());
        assert!(check(Shape::BdlPage, None, b"").is_err());
    }

    #[test]
    fn a_pdf_must_run_to_its_eof_marker() {
        let pdf = read("raw_samples/seed_system/nbac_injury_report/raw_f4391904.pdf");
        let why = check(Shape::Pdf, Some("application/pdf"), &pdf[..pdf.len() - 100]).unwrap_err();
        assert!(why.contains("truncated PDF"), "{why}");
        let mut padded = pdf.clone();
        padded.extend_from_slice(b"\r\n \n");
        assert!(check(Shape::Pdf, None, &padded).is_ok());
        let why = check(Shape::Pdf, None, b"{\"error\":1}").unwrap_err();
        assert!(why.contains("does not start with %PDF-"), "{why}");
    }
}
