//! `nba_raw.player_props` (+ `nba_reference.unresolved_player_names`) from
//! The Odds API v4 event odds, historical and current:
//! `odds-api/player-props-history/<game date ET>/<event_id>-<AWAY><HOME>/<YYYYMMDD_HHMMSS>-snap-<HHMM>.json`
//! (the historical response `{timestamp, data: <event>}`) and
//! `odds-api/player-props/<game date ET>/<event_id>-<AWAY><HOME>/<YYYYMMDD_HHMMSS>-snap-<HHMM>.json`
//! (the current response, the event itself; its snapshot time is the file
//! stamp). Either body is accepted in either folder.
//!
//! Every file of the date is loaded (one per event and snapshot). All player
//! markets are kept; one row per (snapshot, event, bookmaker, market,
//! player, line) joins the Over and Under outcomes (a lone side keeps the
//! other price NULL). Game-level markets (spreads, totals: outcomes without
//! a player) are not player props: they are skipped and counted
//! (`non_player_markets`). Prices may be American (`-115`) or decimal
//! (`1.87`); decimal is converted to American.

use crate::error::FileError;
use crate::json_fields::{self, FieldError, Item, List, Scalar};
use crate::landing_files;
use crate::layout;
use crate::parsed::Parsed;
use crate::player_identity::{self, PlayerTeamHistory};
use crate::teams;
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use propcast_core::date::eastern_date;
use propcast_core::normalize_name_for_lookup;
use propcast_core::tables::{PlayerBoxscore, PlayerProp, UnresolvedPlayerName};
use propcast_core::{Table, TableDef};
use propcast_patterns::{
    Phase, ProcessContext, ProcessError, ProcessOutput, Processor, Quarantine,
};
use propcast_platform::WarehouseExt;
use serde::Deserialize;
use serde_json::Value;
use std::cmp::Ordering;
use std::collections::HashMap;

/// The landing folder of a date's player-prop snapshots.
pub fn folder(date: NaiveDate) -> String {
    format!("odds-api/player-props-history/{date}")
}

/// Converts decimal odds to American: `d >= 2` → `+round((d-1)·100)`,
/// `d < 2` → `-round(100/(d-1))`. `None` for `d <= 1` (not odds).
pub fn decimal_to_american(decimal: f64) -> Option<i64> {
    if !decimal.is_finite() || decimal <= 1.0 {
        return None;
    }
    let american = if decimal >= 2.0 {
        ((decimal - 1.0) * 100.0).round()
    } else {
        -(100.0 / (decimal - 1.0)).round()
    };
    Some(american as i64)
}

/// A price as American odds. Numbers with `|x| >= 100` are American
/// (`-115`, `120`, also as floats `-115.0`); numbers in `(1, 100)` are
/// decimal odds and converted (`1.87` → `-115`).
pub fn american_price(field: &str, value: &Value) -> Result<i64, FieldError> {
    american_of(field, value.as_f64(), || json_fields::describe(value))
}

fn american_of(
    field: &str,
    number: Option<f64>,
    found: impl Fn() -> String,
) -> Result<i64, FieldError> {
    let bad = || {
        FieldError::new(
            field,
            "American odds (|x| >= 100) or decimal odds (> 1)",
            found(),
        )
    };
    let x = number.filter(|x| x.is_finite()).ok_or_else(bad)?;
    if x.abs() >= 100.0 {
        Ok(x.round() as i64)
    } else if x > 1.0 && x < 100.0 {
        decimal_to_american(x).ok_or_else(bad)
    } else {
        Err(bad())
    }
}

/// The event id and (away, home) tricodes of an event folder
/// `<event_id>-<AWAY><HOME>`, if the path has one.
pub fn event_folder(path: &str) -> Option<(&str, &str, &str)> {
    let mut segments = path.rsplit('/');
    segments.next()?;
    let folder = segments.next()?;
    let (id, teams) = folder.rsplit_once('-')?;
    if id.is_empty() || teams.len() != 6 || !teams.is_ascii() {
        return None;
    }
    Some((id, &teams[..3], &teams[3..]))
}

/// The snapshot instant in a file name `YYYYMMDD_HHMMSS[-snap-HHMM].json`.
pub fn snapshot_of_file_name(path: &str) -> Option<DateTime<Utc>> {
    let name = landing_files::file_name(path);
    let stamp = name.get(..15)?;
    NaiveDateTime::parse_from_str(stamp, "%Y%m%d_%H%M%S")
        .ok()
        .map(|t| t.and_utc())
}

/// The historical wrapper `{timestamp, data: <event>}`.
#[derive(Deserialize)]
struct HistoricalOdds<'a> {
    #[serde(borrow, default)]
    timestamp: Scalar<'a>,
    #[serde(borrow, default)]
    data: Option<EventOdds<'a>>,
}

/// One event with its bookmakers (the `data` of a historical response, or
/// a current event-odds response itself).
#[derive(Deserialize)]
struct EventOdds<'a> {
    #[serde(borrow, default)]
    id: Scalar<'a>,
    #[serde(borrow, default)]
    commence_time: Scalar<'a>,
    #[serde(borrow, default)]
    home_team: Scalar<'a>,
    #[serde(borrow, default)]
    away_team: Scalar<'a>,
    #[serde(borrow, default)]
    bookmakers: List<Bookmaker<'a>>,
}

impl EventOdds<'_> {
    /// The event header, for an excerpt.
    fn excerpt(&self) -> String {
        excerpt_of(&[
            ("id", &self.id),
            ("commence_time", &self.commence_time),
            ("home_team", &self.home_team),
            ("away_team", &self.away_team),
        ])
    }
}

#[derive(Deserialize)]
struct Bookmaker<'a> {
    #[serde(borrow, default)]
    key: Scalar<'a>,
    #[serde(borrow, default)]
    markets: List<Market<'a>>,
}

#[derive(Deserialize)]
struct Market<'a> {
    #[serde(borrow, default)]
    key: Scalar<'a>,
    #[serde(borrow, default)]
    outcomes: List<Outcome<'a>>,
}

#[derive(Deserialize)]
struct Outcome<'a> {
    #[serde(borrow, default)]
    name: Scalar<'a>,
    #[serde(borrow, default)]
    description: Scalar<'a>,
    #[serde(borrow, default)]
    price: Scalar<'a>,
    #[serde(borrow, default)]
    point: Scalar<'a>,
}

impl Outcome<'_> {
    fn excerpt(&self) -> String {
        excerpt_of(&[
            ("name", &self.name),
            ("description", &self.description),
            ("price", &self.price),
            ("point", &self.point),
        ])
    }
}

/// A JSON object of the present fields, for an excerpt.
fn excerpt_of(fields: &[(&str, &Scalar<'_>)]) -> String {
    let map: serde_json::Map<String, Value> = fields
        .iter()
        .filter(|(_, v)| **v != Scalar::Missing)
        .map(|(k, v)| ((*k).to_string(), v.to_value()))
        .collect();
    Value::Object(map).to_string()
}

/// The records of a list, with the non-objects quarantined; a value that
/// is not a list is quarantined as `record.field`.
fn records<'l, T>(
    list: &'l List<T>,
    field: &str,
    record: &str,
    path: &str,
    out: &mut Parsed<PlayerProp>,
) -> Vec<(usize, &'l T)> {
    match list {
        List::Absent => Vec::new(),
        List::NotArray(found) => {
            out.quarantine.add(
                path,
                record,
                field,
                format!("expected array, found {found}"),
                "",
            );
            Vec::new()
        }
        List::Items(items) => items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| match item {
                Item::Record(r) => Some((i, r)),
                Item::NotObject(found) => {
                    let at = if record.is_empty() {
                        format!("{field}[{i}]")
                    } else {
                        format!("{record}.{field}[{i}]")
                    };
                    out.quarantine
                        .add(path, at, "", format!("expected object, found {found}"), "");
                    None
                }
            })
            .collect(),
    }
}

struct Side {
    price: i64,
    outcome: usize,
}

/// Over and Under of one player and line in one market.
struct Pair {
    player_name: String,
    player_lookup: String,
    line: f64,
    over: Option<Side>,
    under: Option<Side>,
}

/// Parses one event-odds snapshot for game date `date`. Player id and team
/// are left NULL (resolved later against box scores). Rows are sorted by
/// key.
pub fn parse_player_props(
    bytes: &[u8],
    path: &str,
    date: NaiveDate,
) -> Result<Parsed<PlayerProp>, FileError> {
    let json_err = |e: serde_json::Error| FileError::from_json(path, bytes, &e);
    let file_err = |record: &str, error: FieldError, excerpt: String| FileError::Field {
        path: path.to_string(),
        record: record.to_string(),
        error: Box::new(error),
        excerpt,
    };
    // Historical responses wrap the event in {timestamp, data}; a current
    // event-odds response is the event itself.
    let wrapper: HistoricalOdds<'_> = serde_json::from_slice(bytes).map_err(json_err)?;
    let (event, event_record, timestamp) = match wrapper.data {
        Some(data) => (data, "data", Some(wrapper.timestamp)),
        None => (
            serde_json::from_slice::<EventOdds<'_>>(bytes).map_err(json_err)?,
            "event",
            None,
        ),
    };
    let snapshot_time = match timestamp.filter(|t| *t != Scalar::Missing) {
        Some(ts) => ts
            .instant("timestamp")
            .map_err(|e| file_err("file", e, ts.to_value().to_string()))?,
        None => snapshot_of_file_name(path).ok_or_else(|| {
            file_err(
                "file",
                FieldError::new(
                    "timestamp",
                    "a payload timestamp or a file name YYYYMMDD_HHMMSS",
                    "neither",
                ),
                landing_files::file_name(path).to_string(),
            )
        })?,
    };
    let head = |e: FieldError| file_err(event_record, e, event.excerpt());
    let folder = event_folder(path);
    let event_id = match event.id.opt_string("id").map_err(head)? {
        Some(id) => id.to_string(),
        None => match folder {
            Some((id, _, _)) => id.to_string(),
            None => return Err(head(FieldError::new("id", "event id", event.id.describe()))),
        },
    };
    let commence_time = event.commence_time.instant("commence_time").map_err(head)?;
    let home = team_code(&event.home_team, "home_team", folder.map(|f| f.2)).map_err(head)?;
    let away = team_code(&event.away_team, "away_team", folder.map(|f| f.1)).map_err(head)?;
    if let Some((_, folder_away, folder_home)) = folder
        && (folder_away != away || folder_home != home)
    {
        return Err(FileError::Inconsistent {
            path: path.to_string(),
            record: event_record.to_string(),
            field: "home_team".to_string(),
            reason: format!(
                "event folder says {folder_away} @ {folder_home} but the payload teams are {away} @ {home}"
            ),
            excerpt: event.excerpt(),
        });
    }
    let minutes_before_tipoff = (commence_time - snapshot_time).num_seconds().div_euclid(60);

    let mut out = Parsed::default();
    let mut lookups: HashMap<String, String> = HashMap::new();
    if eastern_date(commence_time) != date {
        out.count("events_off_date", 1);
    }
    for (bi, book) in records(&event.bookmakers, "bookmakers", "", path, &mut out) {
        let record = format!("bookmakers[{bi}]");
        let book_key = match book.key.non_empty("key") {
            Ok(k) => k,
            Err(e) => {
                let excerpt = excerpt_of(&[("key", &book.key)]);
                out.quarantine
                    .add(path, &record, &e.field, e.reason(), excerpt);
                continue;
            }
        };
        for (mi, market) in records(&book.markets, "markets", &record, path, &mut out) {
            let record = format!("bookmakers[{bi}].markets[{mi}]");
            let market_key = match market.key.non_empty("key") {
                Ok(k) => k,
                Err(e) => {
                    let excerpt = excerpt_of(&[("key", &market.key)]);
                    out.quarantine
                        .add(path, &record, &e.field, e.reason(), excerpt);
                    continue;
                }
            };
            if !market_key.starts_with("player_") {
                out.count("non_player_markets", 1);
                continue;
            }
            let outcomes = records(&market.outcomes, "outcomes", &record, path, &mut out);
            let pairs = pair_outcomes(&outcomes, path, &record, &mut lookups, &mut out);
            for pair in pairs {
                out.rows.push(PlayerProp {
                    game_date: date,
                    event_id: event_id.clone(),
                    snapshot_time,
                    commence_time,
                    minutes_before_tipoff,
                    home_team_abbr: home.clone(),
                    away_team_abbr: away.clone(),
                    bookmaker: book_key.to_string(),
                    market: market_key.to_string(),
                    player_name: pair.player_name,
                    player_lookup: pair.player_lookup,
                    player_id: None,
                    team_abbr: None,
                    line: pair.line,
                    over_price: pair.over.map(|s| s.price),
                    under_price: pair.under.map(|s| s.price),
                    source_file: path.to_string(),
                });
            }
        }
    }
    out.rows.sort_by(compare_props);
    Ok(out)
}

/// Joins the Over and Under outcomes of one market by (player, line), in
/// order of first appearance. Bad or duplicate outcomes are quarantined.
fn pair_outcomes(
    outcomes: &[(usize, &Outcome<'_>)],
    path: &str,
    market_record: &str,
    lookups: &mut HashMap<String, String>,
    out: &mut Parsed<PlayerProp>,
) -> Vec<Pair> {
    let mut pairs: Vec<Pair> = Vec::new();
    let mut index: HashMap<(String, u64), usize> = HashMap::new();
    let record = |oi: usize| format!("{market_record}.outcomes[{oi}]");
    for &(oi, o) in outcomes {
        let parsed = (|| {
            let side = o.name.non_empty("name")?;
            let is_over = if side.eq_ignore_ascii_case("over") {
                true
            } else if side.eq_ignore_ascii_case("under") {
                false
            } else {
                return Err(FieldError::new(
                    "name",
                    "\"Over\" or \"Under\"",
                    o.name.describe(),
                ));
            };
            let player = o.description.non_empty("description")?;
            let line = o.point.float("point")?;
            let price = american_of("price", o.price.as_f64(), || o.price.describe())?;
            Ok((is_over, player, line, price))
        })();
        let (is_over, player, line, price) = match parsed {
            Ok(p) => p,
            Err(e) => {
                out.quarantine
                    .add(path, record(oi), &e.field, e.reason(), o.excerpt());
                continue;
            }
        };
        // One normalisation per distinct spelling in the file.
        let lookup = match lookups.get(player) {
            Some(l) => l.clone(),
            None => {
                let l = normalize_name_for_lookup(player);
                lookups.insert(player.to_string(), l.clone());
                l
            }
        };
        if lookup.is_empty() {
            out.quarantine.add(
                path,
                record(oi),
                "description",
                format!("player name {player:?} normalises to an empty player_lookup"),
                o.excerpt(),
            );
            continue;
        }
        // -0.0 and 0.0 are the same line.
        let key = (lookup, (line + 0.0).to_bits());
        let at = match index.get(&key) {
            Some(at) => *at,
            None => {
                pairs.push(Pair {
                    player_name: player.to_string(),
                    player_lookup: key.0.clone(),
                    line,
                    over: None,
                    under: None,
                });
                index.insert(key, pairs.len() - 1);
                pairs.len() - 1
            }
        };
        let pair = &mut pairs[at];
        let slot = if is_over {
            &mut pair.over
        } else {
            &mut pair.under
        };
        match slot {
            Some(first) => out.quarantine.add(
                path,
                record(oi),
                "name",
                format!(
                    "duplicate {} outcome for {} at {line}; first at {}",
                    if is_over { "Over" } else { "Under" },
                    pair.player_lookup,
                    record(first.outcome)
                ),
                o.excerpt(),
            ),
            None => *slot = Some(Side { price, outcome: oi }),
        }
    }
    pairs
}

/// A team tricode from the payload's full name, else the event folder's.
fn team_code(
    name: &Scalar<'_>,
    key: &str,
    from_folder: Option<&str>,
) -> Result<String, FieldError> {
    let name = name.opt_string(key)?;
    if let Some(code) = name.and_then(teams::tricode_of_name) {
        return Ok(code.to_string());
    }
    match from_folder {
        Some(code) if teams::is_tricode(code) => Ok(code.to_string()),
        _ => Err(FieldError::new(
            key,
            "an NBA team name",
            name.map_or("null".to_string(), |n| format!("string {n:?}")),
        )),
    }
}

/// Orders rows by the table key (snapshot, event, bookmaker, market,
/// player, line).
pub fn compare_props(a: &PlayerProp, b: &PlayerProp) -> Ordering {
    a.snapshot_time
        .cmp(&b.snapshot_time)
        .then_with(|| a.event_id.cmp(&b.event_id))
        .then_with(|| a.bookmaker.cmp(&b.bookmaker))
        .then_with(|| a.market.cmp(&b.market))
        .then_with(|| a.player_lookup.cmp(&b.player_lookup))
        .then_with(|| a.line.total_cmp(&b.line))
}

fn same_key(a: &PlayerProp, b: &PlayerProp) -> bool {
    compare_props(a, b) == Ordering::Equal
}

/// The rows in key order with repeats removed: two rows of the same
/// snapshot, event, bookmaker, market, player and line (two files of one
/// snapshot, or one record twice) keep the first by source file, and the
/// repeats are quarantined.
pub fn unique_props(mut rows: Vec<PlayerProp>, quarantine: &mut Quarantine) -> Vec<PlayerProp> {
    rows.sort_by(|a, b| compare_props(a, b).then_with(|| a.source_file.cmp(&b.source_file)));
    let mut unique: Vec<PlayerProp> = Vec::with_capacity(rows.len());
    for row in rows {
        match unique.last() {
            Some(kept) if same_key(kept, &row) => quarantine.add(
                &row.source_file,
                format!(
                    "{}/{}/{}/{}",
                    row.bookmaker, row.market, row.player_lookup, row.line
                ),
                "point",
                format!(
                    "duplicate of the same snapshot, event, bookmaker, market, player and line in {}",
                    kept.source_file
                ),
                format!("{} {} {}", row.player_name, row.market, row.line),
            ),
            _ => unique.push(row),
        }
    }
    unique
}

/// Loads a date's player-prop snapshots into `nba_raw.player_props`, with
/// player ids resolved from box scores before the date, and the names that
/// could not be resolved into `nba_reference.unresolved_player_names`.
#[derive(Debug, Default)]
pub struct PlayerPropsProcessor;

#[async_trait]
impl Processor for PlayerPropsProcessor {
    fn landing_inputs(&self, date: NaiveDate) -> Vec<String> {
        vec![
            layout::player_props_folder(date, true),
            layout::player_props_folder(date, false),
        ]
    }

    fn name(&self) -> &'static str {
        "player_props"
    }

    fn phase(&self) -> Phase {
        Phase::Raw
    }

    fn outputs(&self) -> Vec<TableDef> {
        vec![PlayerProp::DEF, UnresolvedPlayerName::DEF]
    }

    async fn process(&self, ctx: &ProcessContext) -> Result<ProcessOutput, ProcessError> {
        let date = ctx.game_date;
        let mut files = Vec::new();
        for folder in self.landing_inputs(date) {
            files.extend(landing_files::json_files(&*ctx.landing, &folder).await?);
        }
        let mut output = ProcessOutput::default();
        let mut rows: Vec<PlayerProp> = Vec::new();
        for file in &files {
            let bytes = ctx.landing.get(&file.path).await?;
            match parse_player_props(&bytes, &file.path, date) {
                Ok(parsed) => {
                    output.quarantine.extend(parsed.quarantine);
                    for (name, n) in parsed.counters {
                        *output.counters.entry(name).or_default() += n;
                    }
                    rows.extend(parsed.rows);
                }
                Err(e) => {
                    tracing::warn!(file = %file.path, reason = %e.reason(), "payload file quarantined");
                    e.quarantine_into(&mut output.quarantine);
                }
            }
        }
        let mut rows = unique_props(rows, &mut output.quarantine);

        let unresolved = if rows.is_empty() {
            Vec::new()
        } else {
            ctx.warehouse.ensure_table(&PlayerBoxscore::DEF).await?;
            let history: Vec<PlayerTeamHistory> = ctx
                .warehouse
                .query_as(&player_identity::history_sql(date))
                .await?;
            player_identity::resolve_props(date, &mut rows, &history)
        };

        output.no_data = files.is_empty() || (rows.is_empty() && output.quarantine.is_empty());
        player_identity::write_resolved(
            ctx,
            &rows,
            player_identity::SOURCE,
            &unresolved,
            &mut output,
        )
        .await?;
        let unresolved_rows: i64 = unresolved.iter().map(|u| u.occurrences).sum();
        output
            .counters
            .insert("unresolved_prop_rows".to_string(), unresolved_rows);
        tracing::debug!(
            processor = self.name(),
            game_date = %date,
            rows = rows.len(),
            unresolved = unresolved.len(),
            "player props loaded"
        );
        Ok(output)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn decimal_prices_become_american() {
        // Real decimal prices from the seed system's Odds API sample.
        assert_eq!(decimal_to_american(1.87), Some(-115));
        assert_eq!(decimal_to_american(1.91), Some(-110));
        assert_eq!(decimal_to_american(1.83), Some(-120));
        assert_eq!(decimal_to_american(1.88), Some(-114));
        assert_eq!(decimal_to_american(2.0), Some(100));
        assert_eq!(decimal_to_american(2.2), Some(120));
        assert_eq!(decimal_to_american(3.5), Some(250));
        assert_eq!(decimal_to_american(1.5), Some(-200));
        assert_eq!(decimal_to_american(1.0), None);
        assert_eq!(decimal_to_american(0.5), None);
    }

    #[test]
    fn american_prices_pass_through() {
        assert_eq!(american_price("price", &json!(-115)).unwrap(), -115);
        assert_eq!(american_price("price", &json!(120)).unwrap(), 120);
        assert_eq!(american_price("price", &json!(-115.0)).unwrap(), -115);
        assert_eq!(american_price("price", &json!(1.87)).unwrap(), -115);
        let e = american_price("price", &json!("-115")).unwrap_err();
        assert_eq!(e.field, "price");
        assert!(
            e.reason().contains("found string \"-115\""),
            "{}",
            e.reason()
        );
        assert!(american_price("price", &json!(50.5)).is_ok());
        assert!(american_price("price", &json!(0.9)).is_err());
        assert!(american_price("price", &json!(-50)).is_err());
    }

    #[test]
    fn event_folder_and_snapshot_from_path() {
        let p = "odds-api/player-props-history/2025-11-01/1eb306bc928cde16b480fbf6493b53a6-SACMIL/20251101_170000-snap-1700.json";
        assert_eq!(
            event_folder(p),
            Some(("1eb306bc928cde16b480fbf6493b53a6", "SAC", "MIL"))
        );
        assert_eq!(
            snapshot_of_file_name(p).unwrap().to_rfc3339(),
            "2025-11-01T17:00:00+00:00"
        );
        assert_eq!(event_folder("x.json"), None);
    }
}
