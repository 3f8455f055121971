//! `propcast import-props`: historical sportsbook player lines from CSV into
//! `nba_raw.player_props_imported` (the columns of `nba_raw.player_props`,
//! see [`ImportedPlayerProp`]), so that seasons before the landing zone's
//! odds snapshots still have real market lines (the 2024-25 points +
//! rebounds + assists and threes lines of the shared data).
//!
//! Two layouts of The Odds API's historical endpoint, found by header:
//!
//! * **per event** (`player_name, event_id, event_date, home_team,
//!   away_team, bookmaker, line, timestamp, over_price, under_price`): the
//!   market is not in the file and is given by the caller (`--market`); the
//!   snapshot is `timestamp`; the tip-off is the scheduled game's
//!   (`nba_raw.schedule`, the two teams on `event_date` or the day before,
//!   since `event_date` may be the UTC date of a late game): a record whose
//!   game is not in the schedule is quarantined.
//! * **flat** (`player, game ("Away @ Home"), game_time, market, line,
//!   bookmaker, bookmaker_last_update, …, over_odds, under_odds,
//!   game_date_et`): the snapshot is `bookmaker_last_update`; a record
//!   without one is quarantined, since a line that cannot be shown to be
//!   pre-tip is never used (DESIGN invariant 1).
//!
//! Bookmakers are stored by their Odds API key ("DraftKings" → `draftkings`,
//! "Caesars" → `williamhill_us`), prices as American odds. Names resolve to
//! NBA ids by the same point-in-time rule as the landing zone's props
//! ([`crate::player_identity`]); an unresolved name keeps its row (with a
//! NULL id) and is counted. Each game date of a file is replaced as a whole
//! for that file (`source_file`), so an import is idempotent.

use crate::csv_import::{Bad, Columns, bad, excerpt_of, line_of, open_maybe_gzip, read_records};
use crate::player_identity::{self, PlayerTeamHistory};
use crate::shot_zones::source_name_of;
use crate::teams::tricode_of_name;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use propcast_core::Table;
use propcast_core::normalize_name_for_lookup;
use propcast_core::tables::{ImportedPlayerProp, PlayerBoxscore, PlayerProp, ScheduleGame};
use propcast_patterns::Quarantine;
use propcast_platform::warehouse::date_literal;
use propcast_platform::{Warehouse, WarehouseError, WarehouseExt};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

const EVENT_COLUMNS: [&str; 10] = [
    "player_name",
    "event_id",
    "event_date",
    "home_team",
    "away_team",
    "bookmaker",
    "line",
    "timestamp",
    "over_price",
    "under_price",
];
const FLAT_COLUMNS: [&str; 10] = [
    "player",
    "game",
    "game_time",
    "market",
    "line",
    "bookmaker",
    "bookmaker_last_update",
    "over_odds",
    "under_odds",
    "game_date_et",
];

/// Why a props file could not be imported at all.
#[derive(Debug, thiserror::Error)]
pub enum PropImportError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{path}: the file has no market column; say which market its lines are with --market (for example player_points_rebounds_assists)"
    )]
    MarketNeeded { path: String },
    #[error("{path}: {source}")]
    Warehouse {
        path: String,
        #[source]
        source: WarehouseError,
    },
}

/// What an import wrote.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PropImportReport {
    pub source_file: String,
    pub rows_per_date: BTreeMap<NaiveDate, u64>,
    /// Rows whose name did not resolve to an NBA id (kept, id NULL).
    pub unresolved_rows: u64,
    pub quarantine: Quarantine,
}

impl PropImportReport {
    pub fn total_rows(&self) -> u64 {
        self.rows_per_date.values().sum()
    }
}

/// The Odds API key of a bookmaker's display name; `Err` for a team name
/// (a record whose columns slid).
fn bookmaker_key(name: &str) -> Result<String, Bad> {
    if tricode_of_name(name).is_some() {
        return Err(bad(
            "bookmaker",
            format!("{name:?} is a team, not a sportsbook: the record's columns are shifted"),
        ));
    }
    let key: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect::<String>()
        .to_ascii_lowercase();
    if key.is_empty() {
        return Err(bad("bookmaker", "empty bookmaker"));
    }
    Ok(match key.as_str() {
        "caesars" | "williamhill" => "williamhill_us".to_string(),
        _ => key,
    })
}

fn team(text: &str, field: &'static str) -> Result<String, Bad> {
    tricode_of_name(text)
        .map(str::to_string)
        .ok_or_else(|| bad(field, format!("not an NBA team: {text:?}")))
}

fn line(text: &str, field: &'static str) -> Result<f64, Bad> {
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(bad(field, format!("not a positive line: {text:?}"))),
    }
}

/// American odds from "-105.0" / "+120" / "120"; empty is no price.
fn price(text: &str, field: &'static str) -> Result<Option<i64>, Bad> {
    if text.is_empty() {
        return Ok(None);
    }
    match text.trim_start_matches('+').parse::<f64>() {
        Ok(v) if v.is_finite() && v.fract() == 0.0 && v.abs() >= 100.0 => Ok(Some(v as i64)),
        _ => Err(bad(field, format!("not an American price: {text:?}"))),
    }
}

fn instant(text: &str, field: &'static str) -> Result<DateTime<Utc>, Bad> {
    text.parse::<DateTime<Utc>>()
        .map_err(|_| bad(field, format!("not a UTC timestamp: {text:?}")))
}

fn day(text: &str, field: &'static str) -> Result<NaiveDate, Bad> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| bad(field, format!("not a date (YYYY-MM-DD): {text:?}")))
}

/// A parsed record; `game_date` and `commence_time` are final for the flat
/// layout, and found in the schedule for the per-event one.
struct Parsed {
    prop: PlayerProp,
    needs_schedule: bool,
    record: String,
    excerpt: String,
}

/// Where and when a record's line was quoted: what the two layouts keep in
/// different columns.
struct Quote {
    game_date: NaiveDate,
    event_id: String,
    snapshot: DateTime<Utc>,
    commence: DateTime<Utc>,
    home: String,
    away: String,
    market: String,
}

/// A layout's names of the player and price columns.
struct Names {
    player: &'static str,
    over: &'static str,
    under: &'static str,
}

/// The row of a record: the fields both layouts read the same way (player,
/// bookmaker, line, prices), quoted as `quote` says.
fn prop_of(
    cols: &Columns,
    r: &csv::StringRecord,
    names: Names,
    quote: Quote,
    source_file: &str,
) -> Result<PlayerProp, Bad> {
    let player = cols.get(r, names.player);
    let player_lookup = normalize_name_for_lookup(player);
    if player_lookup.is_empty() {
        return Err(bad(names.player, "empty player name"));
    }
    Ok(PlayerProp {
        game_date: quote.game_date,
        event_id: quote.event_id,
        snapshot_time: quote.snapshot,
        commence_time: quote.commence,
        minutes_before_tipoff: (quote.commence - quote.snapshot).num_minutes(),
        home_team_abbr: quote.home,
        away_team_abbr: quote.away,
        bookmaker: bookmaker_key(cols.get(r, "bookmaker"))?,
        market: quote.market,
        player_name: player.to_string(),
        player_lookup,
        player_id: None,
        team_abbr: None,
        line: line(cols.get(r, "line"), "line")?,
        over_price: price(cols.get(r, names.over), names.over)?,
        under_price: price(cols.get(r, names.under), names.under)?,
        source_file: source_file.to_string(),
    })
}

fn event_record(
    cols: &Columns,
    r: &csv::StringRecord,
    market: &str,
    source_file: &str,
) -> Result<PlayerProp, Bad> {
    let snapshot = instant(cols.get(r, "timestamp"), "timestamp")?;
    let event_id = cols.get(r, "event_id");
    if event_id.is_empty() {
        return Err(bad("event_id", "empty event id"));
    }
    let quote = Quote {
        game_date: day(cols.get(r, "event_date"), "event_date")?,
        event_id: event_id.to_string(),
        snapshot,
        commence: snapshot, // replaced by the schedule's tip-off
        home: team(cols.get(r, "home_team"), "home_team")?,
        away: team(cols.get(r, "away_team"), "away_team")?,
        market: market.to_string(),
    };
    let names = Names {
        player: "player_name",
        over: "over_price",
        under: "under_price",
    };
    prop_of(cols, r, names, quote, source_file)
}

fn flat_record(
    cols: &Columns,
    r: &csv::StringRecord,
    source_file: &str,
) -> Result<PlayerProp, Bad> {
    let game = cols.get(r, "game");
    let (away, home) = game
        .split_once(" @ ")
        .ok_or_else(|| bad("game", format!("not \"Away @ Home\": {game:?}")))?;
    let last_update = cols.get(r, "bookmaker_last_update");
    if last_update.is_empty() {
        return Err(bad(
            "bookmaker_last_update",
            "empty: the snapshot time is unknown, so the line cannot be shown to be pre-tip",
        ));
    }
    let market = cols.get(r, "market");
    if market.is_empty() {
        return Err(bad("market", "empty market"));
    }
    let game_date = day(cols.get(r, "game_date_et"), "game_date_et")?;
    let (home, away) = (team(home, "game")?, team(away, "game")?);
    let quote = Quote {
        game_date,
        event_id: format!("{game_date}:{away}@{home}"),
        snapshot: instant(last_update, "bookmaker_last_update")?,
        commence: instant(cols.get(r, "game_time"), "game_time")?,
        home,
        away,
        market: market.to_string(),
    };
    let names = Names {
        player: "player",
        over: "over_odds",
        under: "under_odds",
    };
    prop_of(cols, r, names, quote, source_file)
}

/// Parses a props CSV of either layout; `market` is required for the
/// per-event layout (`Ok(None)` asks for it).
fn parse(
    path: &Path,
    market: Option<&str>,
    quarantine: &mut Quarantine,
) -> Result<Vec<Parsed>, PropImportError> {
    let source_file = source_name_of(path);
    let input = open_maybe_gzip(path).map_err(|source| PropImportError::Io {
        path: path.display().to_string(),
        source,
    })?;
    let Some((header, records)) = read_records(input, &source_file, quarantine) else {
        return Ok(Vec::new());
    };
    let per_event = header.iter().any(|h| h.trim() == "event_date");
    let wanted: &[&'static str] = if per_event {
        &EVENT_COLUMNS
    } else {
        &FLAT_COLUMNS
    };
    let cols = match Columns::find(&header, wanted) {
        Ok(c) => c,
        Err(missing) => {
            quarantine.add(
                &source_file,
                "header",
                missing,
                format!("missing column {missing}: not an Odds API historical props file"),
                excerpt_of(&header),
            );
            return Ok(Vec::new());
        }
    };
    let market = match (per_event, market) {
        (true, None) => {
            return Err(PropImportError::MarketNeeded {
                path: path.display().to_string(),
            });
        }
        (_, m) => m.unwrap_or_default(),
    };
    let mut out = Vec::with_capacity(records.len());
    for record in &records {
        let parsed = if per_event {
            event_record(&cols, record, market, &source_file)
        } else {
            flat_record(&cols, record, &source_file)
        };
        match parsed {
            Ok(prop) => out.push(Parsed {
                prop,
                needs_schedule: per_event,
                record: line_of(record),
                excerpt: excerpt_of(record),
            }),
            Err(b) => quarantine.add(
                &source_file,
                line_of(record),
                b.field,
                b.reason,
                excerpt_of(record),
            ),
        }
    }
    Ok(out)
}

/// Imports one props file (see module docs). `market` names the market of
/// a per-event file.
pub async fn import_prop_lines(
    warehouse: &dyn Warehouse,
    path: &Path,
    market: Option<&str>,
) -> Result<PropImportReport, PropImportError> {
    let source_file = source_name_of(path);
    let wh = |source| PropImportError::Warehouse {
        path: path.display().to_string(),
        source,
    };
    let mut report = PropImportReport {
        source_file: source_file.clone(),
        ..PropImportReport::default()
    };
    let parsed = parse(path, market, &mut report.quarantine)?;

    // Tip-offs of the scheduled games, for the per-event layout.
    let mut tipoffs: HashMap<(NaiveDate, String, String), DateTime<Utc>> = HashMap::new();
    if parsed.iter().any(|p| p.needs_schedule) {
        let dates = parsed.iter().map(|p| p.prop.game_date);
        let (first, last) = (dates.clone().min(), dates.max());
        if let (Some(first), Some(last)) = (first, last) {
            let games: Vec<ScheduleGame> = warehouse
                .query_as(&format!(
                    "SELECT * FROM nba_raw.schedule WHERE game_date BETWEEN {} AND {}",
                    date_literal(first - Duration::days(1)),
                    date_literal(last)
                ))
                .await
                .map_err(wh)?;
            for g in games {
                if let Some(tip) = g.tipoff_time {
                    tipoffs.insert((g.game_date, g.home_team_abbr, g.away_team_abbr), tip);
                }
            }
        }
    }
    let mut by_date: BTreeMap<NaiveDate, Vec<PlayerProp>> = BTreeMap::new();
    for p in parsed {
        let mut prop = p.prop;
        if p.needs_schedule {
            let stated = prop.game_date;
            let found = [stated, stated - Duration::days(1)]
                .into_iter()
                .find_map(|d| {
                    tipoffs
                        .get(&(d, prop.home_team_abbr.clone(), prop.away_team_abbr.clone()))
                        .map(|tip| (d, *tip))
                });
            let Some((game_date, tip)) = found else {
                report.quarantine.add(
                    &source_file,
                    p.record,
                    "event_date",
                    format!(
                        "no scheduled {} @ {} game with a tip-off on {stated} or the day before: backfill the schedule of that date first",
                        prop.away_team_abbr, prop.home_team_abbr
                    ),
                    p.excerpt,
                );
                continue;
            };
            prop.game_date = game_date;
            prop.commence_time = tip;
            prop.minutes_before_tipoff = (tip - prop.snapshot_time).num_minutes();
        }
        by_date.entry(prop.game_date).or_default().push(prop);
    }

    warehouse
        .ensure_table(&ImportedPlayerProp::DEF)
        .await
        .map_err(wh)?;
    warehouse
        .ensure_table(&PlayerBoxscore::DEF)
        .await
        .map_err(wh)?;
    for (date, rows) in by_date {
        let mut unique = crate::player_props::unique_props(rows, &mut report.quarantine);
        let history: Vec<PlayerTeamHistory> = warehouse
            .query_as(&player_identity::history_sql(date))
            .await
            .map_err(wh)?;
        let unresolved = player_identity::resolve_props(date, &mut unique, &history);
        report.unresolved_rows += unresolved.iter().map(|u| u.occurrences as u64).sum::<u64>();
        let rows: Vec<ImportedPlayerProp> = unique.into_iter().map(ImportedPlayerProp).collect();
        warehouse
            .replace_rows(date, &[("source_file", source_file.as_str())], &rows)
            .await
            .map_err(wh)?;
        report.rows_per_date.insert(date, rows.len() as u64);
    }
    tracing::info!(
        table = %ImportedPlayerProp::DEF.qualified(),
        source_file = %source_file,
        dates = report.rows_per_date.len(),
        rows = report.total_rows(),
        quarantined = report.quarantine.len(),
        "prop lines imported"
    );
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_text(text: &str, market: Option<&str>) -> (Vec<PlayerProp>, Quarantine) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("props.csv");
        std::fs::write(&path, text).unwrap();
        let mut q = Quarantine::default();
        let rows = parse(&path, market, &mut q).unwrap();
        (rows.into_iter().map(|p| p.prop).collect(), q)
    }

    #[test]
    fn a_per_event_record_and_its_bad_neighbours() {
        let text = "player_name,event_id,event_date,home_team,away_team,bookmaker,line,timestamp,over_price,under_price\n\
            Al Horford,9e5c,2024-10-24,Washington Wizards,Boston Celtics,DraftKings,18.5,2024-10-24T23:05:39Z,-105.0,-125.0\n\
            Jayson Tatum,9e5c,2024-10-24,Washington Wizards,Boston Celtics,Caesars,40.5,2024-10-24T23:05:39Z,+120,-150\n\
            X,9e5c,2024-10-24,Washington Wizards,Boston Celtics,Boston Celtics,18.5,2024-10-24T23:05:39Z,-105,-125\n\
            Y,9e5c,2024-10-24,Washington Wizards,Boston Celtics,FanDuel,abc,2024-10-24T23:05:39Z,-105,-125\n";
        let (rows, q) = parse_text(text, Some("player_points_rebounds_assists"));
        assert_eq!(rows.len(), 2);
        let horford = &rows[0];
        assert_eq!(
            (
                horford.bookmaker.as_str(),
                horford.line,
                horford.over_price,
                horford.under_price
            ),
            ("draftkings", 18.5, Some(-105), Some(-125))
        );
        assert_eq!(
            (
                horford.home_team_abbr.as_str(),
                horford.away_team_abbr.as_str()
            ),
            ("WAS", "BOS")
        );
        assert_eq!(rows[1].bookmaker, "williamhill_us");
        assert_eq!(rows[1].over_price, Some(120));
        let fields: Vec<&str> = q.entries().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["bookmaker", "line"]);
        // Without --market the per-event layout is refused, not guessed.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.csv");
        std::fs::write(&path, text).unwrap();
        assert!(matches!(
            parse(&path, None, &mut Quarantine::default()),
            Err(PropImportError::MarketNeeded { .. })
        ));
    }

    #[test]
    fn a_flat_record_needs_its_snapshot_time() {
        let text = "source_file,player,game,game_time,market,line,bookmaker,bookmaker_last_update,market_last_update,over_odds,under_odds,game_date_et\n\
            f.csv,Collin Sexton,Utah Jazz @ Charlotte Hornets,2025-03-31T23:10:00Z,player_threes,1.5,fanduel,2025-03-31T14:49:30Z,,100,-132,2025-03-31\n\
            f.csv,Al Horford,New York Knicks @ Boston Celtics,2024-10-22T23:40:00Z,player_threes,1.5,draftkings,,,-160,124,2024-10-22\n";
        let (rows, q) = parse_text(text, None);
        assert_eq!(rows.len(), 1);
        let s = &rows[0];
        assert_eq!(
            (s.home_team_abbr.as_str(), s.away_team_abbr.as_str()),
            ("CHA", "UTA")
        );
        assert_eq!(s.minutes_before_tipoff, 8 * 60 + 20);
        assert_eq!((s.over_price, s.under_price), (Some(100), Some(-132)));
        assert_eq!(q.entries()[0].field, "bookmaker_last_update");
        assert_eq!(q.entries()[0].record, "line 3");
    }
}
