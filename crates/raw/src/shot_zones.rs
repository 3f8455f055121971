//! `nba_raw.shot_zones`: the shot-chart **bulk import** (not a per-date
//! landing-zone processor). Real shot data exists only for 2022-23 and
//! 2023-24 (NBA.com `shotchartdetail`), so it is loaded once from a file:
//! `propcast import-shots --file <csv[.gz]>`.
//!
//! Two layouts are accepted, told apart by the header:
//!
//! * **per player-game-zone** (`shot_zones_player_game_<season>.csv.gz`):
//!   `season, game_id, game_date, player_id, player_name, team_id,
//!   team_name, home_team, away_team, basic_zone, fga, fgm`, one row per
//!   game × player × `BASIC_ZONE`; one row in, one row out.
//! * **per shot** (`shots_<season>.csv.gz`, `shotchartdetail` columns):
//!   `SEASON_2, TEAM_ID, PLAYER_ID, PLAYER_NAME, GAME_DATE (MM-DD-YYYY),
//!   GAME_ID (no leading zeros), HOME_TEAM, AWAY_TEAM, SHOT_MADE
//!   (TRUE/FALSE), BASIC_ZONE, …`; shots are counted per game × player ×
//!   zone (FGA = shots, FGM = made shots) and the game id is zero-padded to
//!   10 digits. A quarantined shot is left out of its zone's counts.
//!
//! Either file may be gzip-compressed (detected by its magic bytes, not its
//! name).
//!
//! **Mapping.** `zone`: Restricted Area and In The Paint (Non-RA) →
//! `paint`; Mid-Range → `mid_range`; Left/Right Corner 3, Above the Break 3
//! and Backcourt → `three` ([`zone_of`]). `team_abbr` is the tricode of
//! `team_id` (the file's team name is a full name, "LA Clippers");
//! `opponent_abbr` is the other of `home_team`/`away_team` and `is_home`
//! says the team is `home_team`. `season` is the start year of the
//! season text ("2023-24" → 2023) and must be the season of `game_date`.
//! `player_lookup` is [`normalize_name_for_lookup`] of the name.
//!
//! **Bad records.** A record with an unparseable number or date, an
//! unknown zone, an unknown team (or one playing in neither of the game's
//! teams), makes above attempts, or a key already seen is quarantined
//! naming the file, the record (`line N`, 1-based, the header being line
//! one) and the field; every other record loads. A header missing a column
//! quarantines the file (record `header`).
//!
//! **Writing.** [`import_shot_zones`] replaces one `game_date` partition
//! per date found in the file, so importing the same file again leaves the
//! same rows; dates absent from the file are not touched.

use crate::csv_import::{Bad, Columns, bad, excerpt_of, line_of, open_maybe_gzip, read_records};
use crate::teams::{TEAMS, is_tricode};
use chrono::NaiveDate;
use propcast_core::tables::ShotZone;
use propcast_core::{Season, Table, normalize_name_for_lookup};
use propcast_patterns::Quarantine;
use propcast_platform::{Warehouse, WarehouseError, WarehouseExt};
use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::io::Read;
use std::path::Path;

/// Columns of the per player-game-zone layout.
const ZONE_COLUMNS: [&str; 12] = [
    "season",
    "game_id",
    "game_date",
    "player_id",
    "player_name",
    "team_id",
    "team_name",
    "home_team",
    "away_team",
    "basic_zone",
    "fga",
    "fgm",
];

/// Columns of the per-shot layout this import reads.
const SHOT_COLUMNS: [&str; 10] = [
    "SEASON_2",
    "TEAM_ID",
    "PLAYER_ID",
    "PLAYER_NAME",
    "GAME_DATE",
    "GAME_ID",
    "HOME_TEAM",
    "AWAY_TEAM",
    "SHOT_MADE",
    "BASIC_ZONE",
];

/// The project zone of an NBA.com `BASIC_ZONE`, `None` when unknown.
pub fn zone_of(basic_zone: &str) -> Option<&'static str> {
    match basic_zone {
        "Restricted Area" | "In The Paint (Non-RA)" => Some("paint"),
        "Mid-Range" => Some("mid_range"),
        "Left Corner 3" | "Right Corner 3" | "Above the Break 3" | "Backcourt" => Some("three"),
        _ => None,
    }
}

/// The tricode of an NBA team id.
pub fn tricode_of_team_id(team_id: i64) -> Option<&'static str> {
    TEAMS
        .iter()
        .find(|t| t.team_id == team_id)
        .map(|t| t.tricode)
}

/// Which of the two accepted layouts a header is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShotFileLayout {
    /// One row per game × player × zone.
    PlayerGameZone,
    /// One row per shot (`shotchartdetail`).
    Shots,
}

/// Why a shot file could not be imported at all.
#[derive(Debug, thiserror::Error)]
pub enum ShotImportError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: writing {game_date}: {source}")]
    Warehouse {
        path: String,
        game_date: NaiveDate,
        #[source]
        source: WarehouseError,
    },
    #[error("{path}: wrote {written} rows for {game_date} but parsed {expected}")]
    RowCount {
        path: String,
        game_date: NaiveDate,
        written: u64,
        expected: u64,
    },
}

impl ShotImportError {
    /// Whether retrying the same import may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            ShotImportError::Warehouse { source, .. } => source.is_retryable(),
            ShotImportError::Io { .. } | ShotImportError::RowCount { .. } => false,
        }
    }
}

/// What an import wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShotImportReport {
    /// The file name stored in `source_file`.
    pub source_file: String,
    /// Rows written per game date (every date of the file).
    pub rows_per_date: BTreeMap<NaiveDate, u64>,
    /// Records set aside; every other record was imported.
    pub quarantine: Quarantine,
}

impl ShotImportReport {
    pub fn total_rows(&self) -> u64 {
        self.rows_per_date.values().sum()
    }
}

fn int(text: &str, field: &'static str) -> Result<i64, Bad> {
    text.parse::<i64>()
        .map_err(|_| bad(field, format!("not an integer: {text:?}")))
}

fn count(text: &str, field: &'static str) -> Result<i64, Bad> {
    let n = int(text, field)?;
    if n < 0 {
        return Err(bad(field, format!("negative count: {n}")));
    }
    Ok(n)
}

fn date(text: &str, format: &str, field: &'static str) -> Result<NaiveDate, Bad> {
    NaiveDate::parse_from_str(text, format)
        .map_err(|_| bad(field, format!("not a date ({format}): {text:?}")))
}

/// Digits only, at most 10, zero-padded to 10 ("22300003" → "0022300003").
fn game_id(text: &str, field: &'static str) -> Result<String, Bad> {
    if text.is_empty() || text.len() > 10 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad(field, format!("not an NBA game id: {text:?}")));
    }
    Ok(format!("{text:0>10}"))
}

/// The season start year of "2023-24", checked against the game date.
fn season(text: &str, game_date: NaiveDate, field: &'static str) -> Result<i64, Bad> {
    let parsed: Season = text
        .parse()
        .map_err(|_| bad(field, format!("not a season: {text:?}")))?;
    if parsed != Season::of(game_date) {
        return Err(bad(
            field,
            format!(
                "season {text} does not contain the game date {game_date} (season {})",
                Season::of(game_date)
            ),
        ));
    }
    Ok(i64::from(parsed.start_year()))
}

/// Identity fields shared by both layouts.
struct Identity<'a> {
    season: &'a str,
    season_field: &'static str,
    game_id: String,
    game_date: NaiveDate,
    player_id: i64,
    player_name: &'a str,
    team_id: i64,
    home: &'a str,
    away: &'a str,
    basic_zone: &'a str,
}

/// The zone row of a record, counts 0.
fn identify(id: Identity<'_>, source_file: &str) -> Result<ShotZone, Bad> {
    let season = season(id.season, id.game_date, id.season_field)?;
    if id.player_name.is_empty() {
        return Err(bad("player_name", "empty player name"));
    }
    for (field, code) in [("home_team", id.home), ("away_team", id.away)] {
        if !is_tricode(code) {
            return Err(bad(field, format!("unknown team tricode {code:?}")));
        }
    }
    if id.home == id.away {
        return Err(bad(
            "away_team",
            format!("home and away are both {}", id.home),
        ));
    }
    let team = tricode_of_team_id(id.team_id)
        .ok_or_else(|| bad("team_id", format!("unknown NBA team id {}", id.team_id)))?;
    let (is_home, opponent) = if team == id.home {
        (true, id.away)
    } else if team == id.away {
        (false, id.home)
    } else {
        return Err(bad(
            "team_id",
            format!(
                "team {team} plays in neither team of the game ({} @ {})",
                id.away, id.home
            ),
        ));
    };
    let zone = zone_of(id.basic_zone)
        .ok_or_else(|| bad("basic_zone", format!("unknown zone {:?}", id.basic_zone)))?;
    Ok(ShotZone {
        game_date: id.game_date,
        game_id: id.game_id,
        season,
        player_id: id.player_id,
        player_name: id.player_name.to_string(),
        player_lookup: normalize_name_for_lookup(id.player_name),
        team_id: id.team_id,
        team_abbr: team.to_string(),
        opponent_abbr: opponent.to_string(),
        is_home,
        basic_zone: id.basic_zone.to_string(),
        zone: zone.to_string(),
        fga: 0,
        fgm: 0,
        source_file: source_file.to_string(),
    })
}

fn zone_record(cols: &Columns, r: &csv::StringRecord, source: &str) -> Result<ShotZone, Bad> {
    let game_date = date(cols.get(r, "game_date"), "%Y-%m-%d", "game_date")?;
    let row = identify(
        Identity {
            season: cols.get(r, "season"),
            season_field: "season",
            game_id: game_id(cols.get(r, "game_id"), "game_id")?,
            game_date,
            player_id: int(cols.get(r, "player_id"), "player_id")?,
            player_name: cols.get(r, "player_name"),
            team_id: int(cols.get(r, "team_id"), "team_id")?,
            home: cols.get(r, "home_team"),
            away: cols.get(r, "away_team"),
            basic_zone: cols.get(r, "basic_zone"),
        },
        source,
    )?;
    let fga = count(cols.get(r, "fga"), "fga")?;
    let fgm = count(cols.get(r, "fgm"), "fgm")?;
    if fgm > fga {
        return Err(bad("fgm", format!("{fgm} makes above {fga} attempts")));
    }
    Ok(ShotZone { fga, fgm, ..row })
}

/// One shot: its zone row (counts 0) and whether it went in.
fn shot_record(
    cols: &Columns,
    r: &csv::StringRecord,
    source: &str,
) -> Result<(ShotZone, bool), Bad> {
    let game_date = date(cols.get(r, "GAME_DATE"), "%m-%d-%Y", "GAME_DATE")?;
    let made = match cols.get(r, "SHOT_MADE") {
        "TRUE" | "True" | "true" => true,
        "FALSE" | "False" | "false" => false,
        other => return Err(bad("SHOT_MADE", format!("not TRUE/FALSE: {other:?}"))),
    };
    let row = identify(
        Identity {
            season: cols.get(r, "SEASON_2"),
            season_field: "SEASON_2",
            game_id: game_id(cols.get(r, "GAME_ID"), "GAME_ID")?,
            game_date,
            player_id: int(cols.get(r, "PLAYER_ID"), "PLAYER_ID")?,
            player_name: cols.get(r, "PLAYER_NAME"),
            team_id: int(cols.get(r, "TEAM_ID"), "TEAM_ID")?,
            home: cols.get(r, "HOME_TEAM"),
            away: cols.get(r, "AWAY_TEAM"),
            basic_zone: cols.get(r, "BASIC_ZONE"),
        },
        source,
    )?;
    Ok((row, made))
}

type Key = (String, i64, String);

fn key_of(row: &ShotZone) -> Key {
    (row.game_id.clone(), row.player_id, row.basic_zone.clone())
}

/// Parses a shot file of either layout (see the module docs) into rows
/// sorted by (game date, game id, player id, basic zone), quarantining bad
/// records under `source_name`. Reads plain CSV; see [`read_shot_file`] for
/// gzip.
pub fn parse_shot_zones_csv<R: Read>(reader: R, source_name: &str) -> (Vec<ShotZone>, Quarantine) {
    let mut quarantine = Quarantine::default();
    let Some((header, records)) = read_records(reader, source_name, &mut quarantine) else {
        return (Vec::new(), quarantine);
    };
    let layout = if header.iter().any(|h| h.trim() == "SHOT_MADE") {
        ShotFileLayout::Shots
    } else {
        ShotFileLayout::PlayerGameZone
    };
    let wanted: &[&'static str] = match layout {
        ShotFileLayout::Shots => &SHOT_COLUMNS,
        ShotFileLayout::PlayerGameZone => &ZONE_COLUMNS,
    };
    let cols = match Columns::find(&header, wanted) {
        Ok(c) => c,
        Err(missing) => {
            quarantine.add(
                source_name,
                "header",
                missing,
                format!("missing column {missing}: neither a per player-game-zone nor a per-shot shot file"),
                excerpt_of(&header),
            );
            return (Vec::new(), quarantine);
        }
    };

    let mut rows: BTreeMap<Key, ShotZone> = BTreeMap::new();
    for record in &records {
        let parsed = match layout {
            ShotFileLayout::PlayerGameZone => {
                zone_record(&cols, record, source_name).map(|r| (r, None))
            }
            ShotFileLayout::Shots => {
                shot_record(&cols, record, source_name).map(|(r, made)| (r, Some(made)))
            }
        };
        match parsed {
            Err(b) => quarantine.add(
                source_name,
                line_of(record),
                b.field,
                b.reason,
                excerpt_of(record),
            ),
            Ok((row, None)) => match rows.entry(key_of(&row)) {
                Entry::Occupied(seen) => {
                    let (game, player, zone) = seen.key();
                    quarantine.add(
                        source_name,
                        line_of(record),
                        "basic_zone",
                        format!("duplicate game {game} player {player} zone {zone:?}"),
                        excerpt_of(record),
                    );
                }
                Entry::Vacant(slot) => {
                    slot.insert(row);
                }
            },
            Ok((row, Some(made))) => {
                let entry = rows.entry(key_of(&row)).or_insert(row);
                entry.fga += 1;
                entry.fgm += i64::from(made);
            }
        }
    }
    let mut out: Vec<ShotZone> = rows.into_values().collect();
    out.sort_by(|a, b| {
        (a.game_date, &a.game_id, a.player_id, &a.basic_zone).cmp(&(
            b.game_date,
            &b.game_id,
            b.player_id,
            &b.basic_zone,
        ))
    });
    (out, quarantine)
}

/// The name stored in `source_file` for a path: its file name.
pub fn source_name_of(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// Reads and parses a shot file (plain or gzip, by magic bytes).
pub fn read_shot_file(path: &Path) -> Result<(Vec<ShotZone>, Quarantine), ShotImportError> {
    let io = |source| ShotImportError::Io {
        path: path.display().to_string(),
        source,
    };
    let input = open_maybe_gzip(path).map_err(io)?;
    let name = source_name_of(path);
    Ok(parse_shot_zones_csv(input, &name))
}

/// Imports a shot file into `nba_raw.shot_zones`: one `replace_rows` per
/// game date of the file (idempotent), each checked against the rows
/// parsed for that date. Bad records are in the report's quarantine; the
/// caller decides where to record it.
pub async fn import_shot_zones(
    warehouse: &dyn Warehouse,
    path: &Path,
) -> Result<ShotImportReport, ShotImportError> {
    let (rows, quarantine) = read_shot_file(path)?;
    let source_file = source_name_of(path);
    let mut by_date: BTreeMap<NaiveDate, Vec<ShotZone>> = BTreeMap::new();
    for row in rows {
        by_date.entry(row.game_date).or_default().push(row);
    }
    let mut report = ShotImportReport {
        source_file: source_file.clone(),
        rows_per_date: BTreeMap::new(),
        quarantine,
    };
    for (game_date, rows) in by_date {
        let stats = warehouse
            .replace_rows::<ShotZone>(game_date, &[], &rows)
            .await
            .map_err(|source| ShotImportError::Warehouse {
                path: path.display().to_string(),
                game_date,
                source,
            })?;
        let expected = rows.len() as u64;
        if stats.rows_written != expected {
            return Err(ShotImportError::RowCount {
                path: path.display().to_string(),
                game_date,
                written: stats.rows_written,
                expected,
            });
        }
        report.rows_per_date.insert(game_date, expected);
    }
    tracing::info!(
        table = %ShotZone::DEF.qualified(),
        source_file = %source_file,
        dates = report.rows_per_date.len(),
        rows = report.total_rows(),
        quarantined = report.quarantine.len(),
        "shot zones imported"
    );
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "season,game_id,game_date,player_id,player_name,team_id,team_name,home_team,away_team,basic_zone,fga,fgm\n";

    #[test]
    fn every_basic_zone_maps_to_one_of_three_zones() {
        assert_eq!(zone_of("Restricted Area"), Some("paint"));
        assert_eq!(zone_of("In The Paint (Non-RA)"), Some("paint"));
        assert_eq!(zone_of("Mid-Range"), Some("mid_range"));
        for z in [
            "Left Corner 3",
            "Right Corner 3",
            "Above the Break 3",
            "Backcourt",
        ] {
            assert_eq!(zone_of(z), Some("three"), "{z}");
        }
        assert_eq!(zone_of("Free Throw"), None);
    }

    #[test]
    fn a_zone_row_maps_team_opponent_and_home() {
        // LA Clippers (1610612746) at GSW: team LAC, away, opponent GSW.
        let text = format!(
            "{HEADER}2023-24,0022300061,2023-10-27,202695,Kawhi Leonard,1610612746,LA Clippers,GSW,LAC,Mid-Range,6,3\n"
        );
        let (rows, q) = parse_shot_zones_csv(text.as_bytes(), "t.csv");
        assert!(q.is_empty(), "{q:?}");
        let r = &rows[0];
        assert_eq!(
            (r.team_abbr.as_str(), r.opponent_abbr.as_str(), r.is_home),
            ("LAC", "GSW", false)
        );
        assert_eq!(
            (r.season, r.zone.as_str(), r.fga, r.fgm),
            (2023, "mid_range", 6, 3)
        );
        assert_eq!(r.player_lookup, "kawhileonard");
    }

    #[test]
    fn bad_fields_are_quarantined_by_line_and_field() {
        let text = format!(
            "{HEADER}\
             2023-24,0022300061,2023-10-27,202695,Kawhi Leonard,1610612746,LA Clippers,GSW,LAC,Mid-Range,six,3\n\
             2023-24,0022300061,2023-10-27,202695,Kawhi Leonard,1610612746,LA Clippers,GSW,LAC,Elbow,6,3\n\
             2023-24,0022300061,2023-10-27,202695,Kawhi Leonard,1610612999,LA Clippers,GSW,LAC,Mid-Range,6,3\n\
             2023-24,0022300061,2023-10-27,202695,Kawhi Leonard,1610612737,LA Clippers,GSW,LAC,Mid-Range,6,3\n\
             2022-23,0022300061,2023-10-27,202695,Kawhi Leonard,1610612746,LA Clippers,GSW,LAC,Mid-Range,6,3\n\
             2023-24,0022300061,2023-10-27,202695,Kawhi Leonard,1610612746,LA Clippers,GSW,LAC,Mid-Range,3,6\n"
        );
        let (rows, q) = parse_shot_zones_csv(text.as_bytes(), "t.csv");
        assert!(rows.is_empty());
        let got: Vec<(&str, &str)> = q
            .entries()
            .iter()
            .map(|e| (e.record.as_str(), e.field.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("line 2", "fga"),
                ("line 3", "basic_zone"),
                ("line 4", "team_id"),
                ("line 5", "team_id"),
                ("line 6", "season"),
                ("line 7", "fgm"),
            ]
        );
        assert!(q.entries().iter().all(|e| e.source_file == "t.csv"));
    }

    #[test]
    fn shots_are_counted_per_zone_with_the_game_id_padded() {
        let text = "SEASON_1,SEASON_2,TEAM_ID,TEAM_NAME,PLAYER_ID,PLAYER_NAME,GAME_DATE,GAME_ID,HOME_TEAM,AWAY_TEAM,SHOT_MADE,BASIC_ZONE\n\
            2024,2023-24,1610612764,Washington Wizards,1629673,Jordan Poole,11-03-2023,22300003,MIA,WAS,FALSE,Restricted Area\n\
            2024,2023-24,1610612764,Washington Wizards,1629673,Jordan Poole,11-03-2023,22300003,MIA,WAS,TRUE,Restricted Area\n\
            2024,2023-24,1610612764,Washington Wizards,1629673,Jordan Poole,11-03-2023,22300003,MIA,WAS,TRUE,Above the Break 3\n\
            2024,2023-24,1610612764,Washington Wizards,1629673,Jordan Poole,11-03-2023,22300003,MIA,WAS,MAYBE,Mid-Range\n";
        let (rows, q) = parse_shot_zones_csv(text.as_bytes(), "shots.csv");
        assert_eq!(q.len(), 1);
        assert_eq!(q.entries()[0].field, "SHOT_MADE");
        let got: Vec<(&str, &str, i64, i64)> = rows
            .iter()
            .map(|r| (r.game_id.as_str(), r.basic_zone.as_str(), r.fga, r.fgm))
            .collect();
        assert_eq!(
            got,
            [
                ("0022300003", "Above the Break 3", 1, 1),
                ("0022300003", "Restricted Area", 2, 1)
            ]
        );
        assert_eq!(
            rows[0].game_date,
            NaiveDate::from_ymd_opt(2023, 11, 3).unwrap()
        );
    }

    #[test]
    fn a_repeated_key_keeps_the_first_record() {
        let line = "2023-24,0022300061,2023-10-27,202695,Kawhi Leonard,1610612746,LA Clippers,GSW,LAC,Mid-Range,6,3\n";
        let text = format!("{HEADER}{line}{line}");
        let (rows, q) = parse_shot_zones_csv(text.as_bytes(), "t.csv");
        assert_eq!(rows.len(), 1);
        assert_eq!(q.len(), 1);
        assert_eq!(
            (
                q.entries()[0].record.as_str(),
                q.entries()[0].field.as_str()
            ),
            ("line 3", "basic_zone")
        );
    }
}
