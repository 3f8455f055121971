//! `nba_raw.injury_report` (+ `nba_reference.unresolved_player_names`) from
//! two sources, every report of the date kept (a reader takes the latest
//! one published before tip-off):
//!
//! - the NBA's official injury report, a PDF:
//!   `nba-com/injury-report/<YYYY-MM-DD>/<HH><AM|PM>/<YYYYMMDD_HHMMSS>.pdf`
//!   (source `nba_official`). Its text (`pdf-extract`) is a table whose
//!   game date, game time, matchup and team are written once and carried
//!   over to the lines below:
//!   `01/04/2024 07:30 (ET) MIL@SAS Milwaukee Bucks NOT YET SUBMITTED`,
//!   `San Antonio Spurs Barlow, Dominick Questionable G League - Two-Way`,
//!   `Bassey, Charles Out Injury/Illness - Left Acl; Tear`; a reason too
//!   long for its cell continues alone on the next line. `report_time` is
//!   the page header's `Injury Report: 01/04/24 12:30 PM` (ET), else the
//!   folder's date and hour in ET. The report also lists the next day's
//!   games: only rows of the folder's date are stored here (the next day's
//!   are read from that day's reports). A re-scrape of the same report
//!   (same `report_time`) keeps the newest file.
//! - balldontlie's `/injuries`: `ball-dont-lie/injuries/<YYYY-MM-DD>/<YYYYMMDD_HHMMSS>.json`
//!   (source `balldontlie`), `report_time` the file stamp, the team from
//!   balldontlie's team id ([`teams::tricode_of_balldontlie_id`]), the
//!   reason its `description`, no matchup.
//!
//! Statuses are [`InjuryStatus`]es. balldontlie's `Day-To-Day` is stored as
//! `questionable`: the seed system stored balldontlie's status verbatim
//! (its parsed output equals the payload, `Day-To-Day` included), so it is
//! no oracle for the mapping; a day-to-day player is one whose availability
//! for the next game is in doubt, which is what `questionable` says (risk 2,
//! not counted as missing for his teammates).
//!
//! Names resolve to NBA ids with the props rules ([`player_identity`]); a
//! name that does not keeps its row with `player_id` NULL and is listed in
//! `nba_reference.unresolved_player_names` with source `injury_report`.
//!
//! A PDF without text, or without a report's header, is quarantined whole;
//! a line that is not a report line is quarantined with its text as the
//! excerpt (record `page P line L`) and the other lines are kept. A
//! balldontlie record with a missing field, an unknown team or status is
//! quarantined as `data[i]`.

use crate::error::FileError;
use crate::json_fields::{self, FieldError, Obj};
use crate::landing_files;
use crate::layout;
use crate::parsed::Parsed;
use crate::player_identity::{self, PlayerTeamHistory};
use crate::teams;
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use propcast_core::date::eastern_instant;
use propcast_core::injury::InjuryStatus;
use propcast_core::normalize_name_for_lookup;
use propcast_core::tables::{InjuryReportEntry, PlayerBoxscore, UnresolvedPlayerName};
use propcast_core::{Table, TableDef};
use propcast_patterns::{Phase, ProcessContext, ProcessError, ProcessOutput, Processor};
use propcast_platform::WarehouseExt;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

/// The `source` of the NBA's official report.
pub const OFFICIAL: &str = "nba_official";
/// The `source` of balldontlie's injuries.
pub const BALLDONTLIE: &str = "balldontlie";

/// The text of a PDF. A document the reader rejects (or panics on: the PDF
/// reader is not hardened against every malformed file) is unreadable.
pub fn pdf_text(bytes: &[u8], path: &str) -> Result<String, FileError> {
    let unreadable = |message: String| FileError::Unreadable {
        path: path.to_string(),
        message,
    };
    match std::panic::catch_unwind(|| pdf_extract::extract_text_from_mem(bytes)) {
        Ok(Ok(text)) => Ok(text),
        Ok(Err(e)) => Err(unreadable(e.to_string())),
        Err(_) => Err(unreadable("the PDF reader failed on this file".to_string())),
    }
}

/// Parses one official report PDF for `date` (the folder's date).
pub fn parse_official_report(
    bytes: &[u8],
    path: &str,
    date: NaiveDate,
) -> Result<Parsed<InjuryReportEntry>, FileError> {
    let text = pdf_text(bytes, path)?;
    parse_report_text(&text, path, date)
}

/// The report time a folder `<HH><AM|PM>` names on `date`, in ET.
pub fn folder_report_time(path: &str, date: NaiveDate) -> Option<DateTime<Utc>> {
    let mut segments = path.rsplit('/');
    segments.next()?;
    let hour = layout::parse_report_hour(segments.next()?)?;
    Some(eastern_instant(date, NaiveTime::from_hms_opt(hour, 0, 0)?))
}

/// One player line of a report, with the context carried over to it.
#[derive(Debug, Clone)]
struct Line {
    record: String,
    text: String,
    game_date: NaiveDate,
    matchup: String,
    team: &'static str,
    player_name: String,
    status: InjuryStatus,
    reason: String,
}

/// What the lines above carry over.
#[derive(Default)]
struct Carried {
    game_date: Option<NaiveDate>,
    matchup: Option<(String, String)>,
    team: Option<&'static str>,
}

/// Parses the extracted text of an official report for `date`: every
/// player line of a game on `date` is a row (player id unresolved).
pub fn parse_report_text(
    text: &str,
    path: &str,
    date: NaiveDate,
) -> Result<Parsed<InjuryReportEntry>, FileError> {
    let mut out = Parsed::default();
    let mut header_time: Option<DateTime<Utc>> = None;
    let mut recognised = false;
    let mut carried = Carried::default();
    let mut lines: Vec<Line> = Vec::new();
    // Whether a lone text line continues the previous player's reason.
    let mut may_continue = false;
    let (mut page, mut line_on_page) = (1usize, 0usize);
    for raw in text.lines() {
        let line = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        if line.is_empty() {
            continue;
        }
        line_on_page += 1;
        if let Some(stamp) = line.strip_prefix("Injury Report:") {
            recognised = true;
            if header_time.is_none() {
                header_time = NaiveDateTime::parse_from_str(stamp.trim(), "%m/%d/%y %I:%M %p")
                    .ok()
                    .map(|t| eastern_instant(t.date(), t.time()));
            }
            continue;
        }
        if let Some(n) = page_number(&line) {
            page = n;
            line_on_page = 0;
            continue;
        }
        if line.starts_with("Game Date Game Time Matchup Team") {
            recognised = true;
            continue;
        }
        let record = format!("page {page} line {line_on_page}");
        let mut rest = line.as_str();
        let mut context = false;
        if let Some((game_date, after)) = take_date(rest) {
            carried = Carried {
                game_date: Some(game_date),
                ..Carried::default()
            };
            (rest, context) = (after, true);
        }
        if let Some(after) = take_game_time(rest) {
            (rest, context) = (after, true);
        }
        if let Some((matchup, after)) = take_matchup(rest) {
            carried.matchup = Some(matchup);
            carried.team = None;
            (rest, context) = (after, true);
        }
        if let Some((team, after)) = take_team(rest) {
            carried.team = Some(team);
            (rest, context) = (after, true);
        }
        if rest.is_empty() || rest == "NOT YET SUBMITTED" {
            may_continue = false;
            continue;
        }
        if let Some((player_name, status, reason)) = player_entry(rest) {
            may_continue = true;
            let (Some(game_date), Some((away, home)), Some(team)) =
                (carried.game_date, carried.matchup.as_ref(), carried.team)
            else {
                out.quarantine.add(
                    path,
                    record,
                    "",
                    "a player line before its game date, matchup and team",
                    line.clone(),
                );
                continue;
            };
            if team != away && team != home {
                out.quarantine.add(
                    path,
                    record,
                    "team",
                    format!("team {team} is not in the matchup {away}@{home}"),
                    line.clone(),
                );
                continue;
            }
            lines.push(Line {
                record,
                text: line.clone(),
                game_date,
                matchup: format!("{away}@{home}"),
                team,
                player_name,
                status,
                reason,
            });
            continue;
        }
        if !context
            && may_continue
            && is_reason_text(rest)
            && let Some(last) = lines.last_mut()
        {
            // "Injury/Illness - Right Forearm;" + "Contusion".
            last.reason = format!("{} {rest}", last.reason).trim().to_string();
            last.text = format!("{} / {line}", last.text);
            continue;
        }
        may_continue = false;
        out.quarantine.add(
            path,
            record,
            "",
            "not a report line (game, team, player with status, or NOT YET SUBMITTED)",
            line.clone(),
        );
    }
    if !recognised {
        return Err(FileError::Layout {
            path: path.to_string(),
            message: "no \"Injury Report:\" header or column header: not an NBA injury report"
                .to_string(),
        });
    }
    let report_time = header_time
        .or_else(|| folder_report_time(path, date))
        .ok_or_else(|| FileError::Field {
            path: path.to_string(),
            record: "header".to_string(),
            error: Box::new(FieldError::new(
                "Injury Report",
                "a header time MM/DD/YY HH:MM AM|PM or a <HH><AM|PM> folder",
                "neither",
            )),
            excerpt: String::new(),
        })?;
    let mut seen: HashMap<(&'static str, String), String> = HashMap::new();
    for line in lines {
        if line.game_date != date {
            out.count("other_date_rows", 1);
            continue;
        }
        let player_lookup = normalize_name_for_lookup(&first_last(&line.player_name));
        if let Some(first) = seen.get(&(line.team, player_lookup.clone())) {
            out.quarantine.add(
                path,
                &line.record,
                "player",
                format!(
                    "{} of {} is listed twice; first at {first}",
                    line.player_name, line.team
                ),
                line.text,
            );
            continue;
        }
        seen.insert((line.team, player_lookup.clone()), line.record);
        out.rows.push(InjuryReportEntry {
            game_date: date,
            source: OFFICIAL.to_string(),
            report_time,
            player_name: line.player_name,
            player_lookup,
            player_id: None,
            team_abbr: line.team.to_string(),
            status: line.status.as_str().to_string(),
            reason: line.reason,
            matchup: Some(line.matchup),
            source_file: path.to_string(),
        });
    }
    out.rows.sort_by(compare_entries);
    Ok(out)
}

/// Whether a lone line reads like the rest of a reason ("Contusion",
/// "Management", "Recovery; Return to Competition Reconditioning"): words
/// of letters and the punctuation reasons use.
fn is_reason_text(text: &str) -> bool {
    text.chars().next().is_some_and(char::is_alphabetic)
        && text
            .chars()
            .all(|c| c.is_alphanumeric() || " ;-/().,'&".contains(c))
}

/// "Page 2 of 3" → 2.
fn page_number(line: &str) -> Option<usize> {
    let (n, total) = line.strip_prefix("Page ")?.split_once(" of ")?;
    total.parse::<usize>().ok()?;
    n.parse().ok()
}

/// A leading `MM/DD/YYYY`.
fn take_date(rest: &str) -> Option<(NaiveDate, &str)> {
    let (head, after) = split_word(rest);
    let date = NaiveDate::parse_from_str(head, "%m/%d/%Y").ok()?;
    (head.len() == 10).then_some((date, after))
}

/// A leading `HH:MM (ET)`.
fn take_game_time(rest: &str) -> Option<&str> {
    let (time, after) = split_word(rest);
    NaiveTime::parse_from_str(time, "%H:%M").ok()?;
    after.strip_prefix("(ET)").map(str::trim_start)
}

/// A leading `AWY@HOM` of two tricodes.
fn take_matchup(rest: &str) -> Option<((String, String), &str)> {
    let (word, after) = split_word(rest);
    let (away, home) = word.split_once('@')?;
    (teams::is_tricode(away) && teams::is_tricode(home))
        .then(|| ((away.to_string(), home.to_string()), after))
}

/// A leading full team name (the longest that matches a whole word run).
fn take_team(rest: &str) -> Option<(&'static str, &str)> {
    teams::TEAMS
        .iter()
        .flat_map(|t| t.names.iter().map(move |n| (t.tricode, *n)))
        .filter(|(_, name)| {
            rest.strip_prefix(name)
                .is_some_and(|after| after.is_empty() || after.starts_with(' '))
        })
        .max_by_key(|(_, name)| name.len())
        .map(|(code, name)| (code, rest[name.len()..].trim_start()))
}

/// The first whitespace-separated word and the text after it.
fn split_word(text: &str) -> (&str, &str) {
    match text.split_once(' ') {
        Some((head, after)) => (head, after.trim_start()),
        None => (text, ""),
    }
}

/// `Last, First <Status> <reason>`: the player as written, the status, and
/// the reason (possibly empty).
fn player_entry(rest: &str) -> Option<(String, InjuryStatus, String)> {
    let mut offset = 0;
    for word in rest.split(' ') {
        let start = offset;
        offset += word.len() + 1;
        let capitalised = word.chars().next().is_some_and(char::is_uppercase);
        let Some(status) = capitalised
            .then(|| word.parse::<InjuryStatus>().ok())
            .flatten()
        else {
            continue;
        };
        let player = rest[..start].trim();
        let (last, first) = player.split_once(',')?;
        if last.trim().is_empty() || first.trim().is_empty() {
            return None;
        }
        let reason = rest.get(offset..).unwrap_or("").trim().to_string();
        return Some((player.to_string(), status, reason));
    }
    None
}

/// "Duke Jr., David" → "David Duke Jr.".
pub fn first_last(name: &str) -> String {
    match name.split_once(',') {
        Some((last, first)) => format!("{} {}", first.trim(), last.trim()),
        None => name.trim().to_string(),
    }
}

/// A balldontlie status as an [`InjuryStatus`]: `Out` → out, `Day-To-Day`
/// → questionable (see the module doc), and the report vocabulary as is.
pub fn balldontlie_status(status: &str) -> Option<InjuryStatus> {
    let squashed: String = status
        .chars()
        .filter(|c| c.is_ascii_alphabetic())
        .flat_map(|c| c.to_lowercase())
        .collect();
    match squashed.as_str() {
        "daytoday" => Some(InjuryStatus::Questionable),
        _ => squashed.parse().ok(),
    }
}

/// Parses one balldontlie `/injuries` response landed for `date`.
pub fn parse_balldontlie_injuries(
    bytes: &[u8],
    path: &str,
    date: NaiveDate,
) -> Result<Parsed<InjuryReportEntry>, FileError> {
    let root: Value =
        serde_json::from_slice(bytes).map_err(|e| FileError::from_json(path, bytes, &e))?;
    let file_err = |error: FieldError, excerpt: String| FileError::Field {
        path: path.to_string(),
        record: "file".to_string(),
        error: Box::new(error),
        excerpt,
    };
    let report_time = layout::parse_stamp(landing_files::file_name(path)).ok_or_else(|| {
        file_err(
            FieldError::new("file name", "a stamp YYYYMMDD_HHMMSS", "none"),
            landing_files::file_name(path).to_string(),
        )
    })?;
    let data = match Obj::new("file", &root)
        .map_err(|e| file_err(e, String::new()))?
        .get("data")
    {
        Some(Value::Array(data)) => data,
        other => {
            return Err(file_err(
                FieldError::new(
                    "data",
                    "array",
                    other.map_or(
                        "no value (field missing)".to_string(),
                        json_fields::describe,
                    ),
                ),
                String::new(),
            ));
        }
    };
    let mut out = Parsed::default();
    let mut seen: HashMap<(String, String), usize> = HashMap::new();
    for (i, record) in data.iter().enumerate() {
        let at = format!("data[{i}]");
        match balldontlie_row(record, path, date, report_time) {
            Ok(row) => {
                let key = (row.team_abbr.clone(), row.player_lookup.clone());
                if let Some(first) = seen.get(&key) {
                    out.quarantine.add(
                        path,
                        &at,
                        "player",
                        format!("the same player and team as data[{first}]"),
                        record.to_string(),
                    );
                } else {
                    seen.insert(key, i);
                    out.rows.push(row);
                }
            }
            Err(e) => out
                .quarantine
                .add(path, &at, &e.field, e.reason(), record.to_string()),
        }
    }
    out.rows.sort_by(compare_entries);
    Ok(out)
}

fn balldontlie_row(
    record: &Value,
    path: &str,
    date: NaiveDate,
    report_time: DateTime<Utc>,
) -> Result<InjuryReportEntry, FieldError> {
    let r = Obj::new("record", record)?;
    let player = r.object("player")?;
    let player_name = [
        player.opt_string("first_name")?,
        player.opt_string("last_name")?,
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ");
    let player_lookup = normalize_name_for_lookup(&player_name);
    if player_lookup.is_empty() {
        return Err(FieldError::new(
            "player.last_name",
            "a player name",
            format!("string {player_name:?}"),
        ));
    }
    let team_id = player.int("team_id")?;
    let team_abbr = teams::tricode_of_balldontlie_id(team_id).ok_or_else(|| {
        FieldError::new(
            "player.team_id",
            "a balldontlie id of a current team (1-30)",
            format!("integer {team_id}"),
        )
    })?;
    let status_text = r.non_empty("status")?;
    let status = balldontlie_status(status_text).ok_or_else(|| {
        FieldError::new(
            "status",
            "Out, Day-To-Day, Doubtful, Questionable, Probable or Available",
            format!("string {status_text:?}"),
        )
    })?;
    Ok(InjuryReportEntry {
        game_date: date,
        source: BALLDONTLIE.to_string(),
        report_time,
        player_name,
        player_lookup,
        player_id: None,
        team_abbr: team_abbr.to_string(),
        status: status.as_str().to_string(),
        reason: r.opt_string("description")?.unwrap_or("").to_string(),
        matchup: None,
        source_file: path.to_string(),
    })
}

/// The table's key order: source, report time, team, player.
fn compare_entries(a: &InjuryReportEntry, b: &InjuryReportEntry) -> std::cmp::Ordering {
    (&a.source, a.report_time, &a.team_abbr, &a.player_lookup).cmp(&(
        &b.source,
        b.report_time,
        &b.team_abbr,
        &b.player_lookup,
    ))
}

/// Loads every injury report of a date (official PDFs and balldontlie
/// snapshots) into `nba_raw.injury_report`, replacing the date's
/// partition, with player ids resolved from box scores before the date and
/// the names that did not resolve in `nba_reference.unresolved_player_names`
/// (source `injury_report`; the other sources' names are left alone).
#[derive(Debug, Default, Clone, Copy)]
pub struct InjuryReportProcessor;

#[async_trait]
impl Processor for InjuryReportProcessor {
    fn landing_inputs(&self, date: NaiveDate) -> Vec<String> {
        vec![
            layout::injury_report_folder(date),
            layout::bdl_injuries_folder(date),
        ]
    }

    fn name(&self) -> &'static str {
        "injury_report"
    }

    fn phase(&self) -> Phase {
        Phase::Raw
    }

    fn outputs(&self) -> Vec<TableDef> {
        vec![InjuryReportEntry::DEF, UnresolvedPlayerName::DEF]
    }

    async fn process(&self, ctx: &ProcessContext) -> Result<ProcessOutput, ProcessError> {
        let date = ctx.game_date;
        let pdfs =
            landing_files::files_ending(&*ctx.landing, &layout::injury_report_folder(date), ".pdf")
                .await?;
        let bdl =
            landing_files::json_files(&*ctx.landing, &layout::bdl_injuries_folder(date)).await?;
        let mut output = ProcessOutput::default();

        // Official reports by report time: a re-scrape of the same report
        // keeps the newest file (by stamp, then path).
        let mut official: BTreeMap<DateTime<Utc>, (String, Vec<InjuryReportEntry>)> =
            BTreeMap::new();
        for file in &pdfs {
            let bytes = ctx.landing.get(&file.path).await?;
            let parsed = match parse_official_report(&bytes, &file.path, date) {
                Ok(parsed) => parsed,
                Err(e) => {
                    tracing::warn!(file = %file.path, reason = %e.reason(), "payload file quarantined");
                    e.quarantine_into(&mut output.quarantine);
                    continue;
                }
            };
            output.quarantine.extend(parsed.quarantine);
            for (name, n) in parsed.counters {
                *output.counters.entry(name).or_default() += n;
            }
            let Some(report_time) = parsed.rows.first().map(|r| r.report_time) else {
                continue;
            };
            let newer = (landing_files::file_name(&file.path), file.path.as_str());
            match official.get(&report_time) {
                Some((kept, _)) if (landing_files::file_name(kept), kept.as_str()) >= newer => {
                    *output
                        .counters
                        .entry("superseded_report_files".to_string())
                        .or_default() += 1;
                }
                previous => {
                    if previous.is_some() {
                        *output
                            .counters
                            .entry("superseded_report_files".to_string())
                            .or_default() += 1;
                    }
                    official.insert(report_time, (file.path.clone(), parsed.rows));
                }
            }
        }
        let mut rows: Vec<InjuryReportEntry> =
            official.into_values().flat_map(|(_, rows)| rows).collect();
        for file in &bdl {
            let bytes = ctx.landing.get(&file.path).await?;
            match parse_balldontlie_injuries(&bytes, &file.path, date) {
                Ok(parsed) => {
                    output.quarantine.extend(parsed.quarantine);
                    rows.extend(parsed.rows);
                }
                Err(e) => {
                    tracing::warn!(file = %file.path, reason = %e.reason(), "payload file quarantined");
                    e.quarantine_into(&mut output.quarantine);
                }
            }
        }
        rows.sort_by(compare_entries);

        let unresolved = if rows.is_empty() {
            Vec::new()
        } else {
            ctx.warehouse.ensure_table(&PlayerBoxscore::DEF).await?;
            let history: Vec<PlayerTeamHistory> = ctx
                .warehouse
                .query_as(&player_identity::history_sql(date))
                .await?;
            player_identity::resolve_injuries(date, &mut rows, &history)
        };

        output.no_data = (pdfs.is_empty() && bdl.is_empty())
            || (rows.is_empty() && output.quarantine.is_empty());
        player_identity::write_resolved(
            ctx,
            &rows,
            player_identity::INJURY_SOURCE,
            &unresolved,
            &mut output,
        )
        .await?;
        tracing::debug!(
            processor = self.name(),
            game_date = %date,
            rows = rows.len(),
            unresolved = unresolved.len(),
            "injury reports loaded"
        );
        Ok(output)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        propcast_core::date::parse_game_date(s).unwrap()
    }

    const PATH: &str = "nba-com/injury-report/2025-11-05/05PM/20251105_221500.pdf";

    /// Lines as `pdf-extract` gives a 2025-26 report (the layout of the
    /// real 2024 sample, with this season's games).
    const TEXT: &str = "\
Injury Report: 11/05/25 05:00 PM

Page 1 of 2

Game Date Game Time Matchup Team Player Name Current Status Reason

11/05/2025 07:00 (ET) PHI@CLE Philadelphia 76ers Embiid, Joel Out Injury/Illness - Left Knee; Injury

Management

Cleveland Cavaliers Garland, Darius Questionable Injury/Illness - Left Toe; Sprain

~~ smudge ~~

Injury Report: 11/05/25 05:00 PM

Page 2 of 2

10:00 (ET) GSW@SAC Golden State Warriors Curry, Stephen Available Injury/Illness - Right Ankle; Sprain

Boston Celtics Tatum, Jayson Out Injury/Illness - Right Achilles; Repair

Sacramento Kings NOT YET SUBMITTED

11/06/2025 07:30 (ET) LAL@TOR Los Angeles Lakers James, LeBron Out Injury/Illness - Right Sciatica; Irritation
";

    #[test]
    fn carried_context_continuations_and_bad_lines() {
        let parsed = parse_report_text(TEXT, PATH, d("2025-11-05")).unwrap();
        let rows: Vec<(&str, &str, &str, &str, Option<&str>)> = parsed
            .rows
            .iter()
            .map(|r| {
                (
                    r.team_abbr.as_str(),
                    r.player_name.as_str(),
                    r.status.as_str(),
                    r.reason.as_str(),
                    r.matchup.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                (
                    "CLE",
                    "Garland, Darius",
                    "questionable",
                    "Injury/Illness - Left Toe; Sprain",
                    Some("PHI@CLE")
                ),
                (
                    "GSW",
                    "Curry, Stephen",
                    "available",
                    "Injury/Illness - Right Ankle; Sprain",
                    Some("GSW@SAC")
                ),
                (
                    "PHI",
                    "Embiid, Joel",
                    "out",
                    "Injury/Illness - Left Knee; Injury Management",
                    Some("PHI@CLE")
                ),
            ]
        );
        // 5:00 PM EST.
        assert_eq!(
            parsed.rows[0].report_time.to_rfc3339(),
            "2025-11-05T22:00:00+00:00"
        );
        assert_eq!(parsed.rows[0].player_lookup, "dariusgarland");
        // LeBron's game is on the 6th: read from the 6th's reports.
        assert_eq!(parsed.counters.get("other_date_rows"), Some(&1));
        let q = parsed.quarantine.entries();
        assert_eq!(q.len(), 2, "{q:?}");
        assert_eq!(q[0].record, "page 1 line 5");
        assert_eq!(q[0].excerpt, "~~ smudge ~~");
        assert_eq!(q[1].record, "page 2 line 2");
        assert_eq!(q[1].field, "team");
        assert_eq!(q[1].reason, "team BOS is not in the matchup GSW@SAC");
    }

    #[test]
    fn without_a_header_time_the_folder_hour_is_the_report_time() {
        let text = TEXT.replace("Injury Report: 11/05/25 05:00 PM", "Injury Report:");
        let parsed = parse_report_text(&text, PATH, d("2025-11-05")).unwrap();
        assert!(
            parsed
                .rows
                .iter()
                .all(|r| r.report_time.to_rfc3339() == "2025-11-05T22:00:00+00:00")
        );
        let e = parse_report_text(
            &text,
            "nba-com/injury-report/2025-11-05/x.pdf",
            d("2025-11-05"),
        )
        .unwrap_err();
        assert_eq!(e.record(), "header");
        let e = parse_report_text("Quarterly results\nRevenue", PATH, d("2025-11-05")).unwrap_err();
        assert!(
            e.reason().contains("not an NBA injury report"),
            "{}",
            e.reason()
        );
    }

    #[test]
    fn player_entries_split_at_the_status() {
        assert_eq!(
            player_entry("Payton II, Gary Out Injury/Illness - Left Hamstring; Strain"),
            Some((
                "Payton II, Gary".to_string(),
                InjuryStatus::Out,
                "Injury/Illness - Left Hamstring; Strain".to_string()
            ))
        );
        assert_eq!(
            player_entry("Barlow, Dominick Questionable G League - Two-Way").map(|e| e.1),
            Some(InjuryStatus::Questionable)
        );
        assert_eq!(player_entry("Contusion"), None);
        assert_eq!(player_entry("Smith Out Rest"), None);
        assert_eq!(first_last("Duke Jr., David"), "David Duke Jr.");
        assert_eq!(
            balldontlie_status("Day-To-Day"),
            Some(InjuryStatus::Questionable)
        );
        assert_eq!(balldontlie_status("Out"), Some(InjuryStatus::Out));
        assert_eq!(balldontlie_status("doubtful"), Some(InjuryStatus::Doubtful));
        assert_eq!(balldontlie_status("Suspended"), None);
    }
}
