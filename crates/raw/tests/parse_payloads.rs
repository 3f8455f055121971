//! The pure parsers on the real payloads in `shared/data`: the original
//! system's scraper samples (`raw_samples/seed_system`) as oracles, facts
//! read off the landing zone, and corrupted copies of real files.

use chrono::NaiveDate;
use propcast_core::date::parse_game_date;
use propcast_core::tables::{PlayerBoxscore, PlayerProp, ScheduleGame};
use propcast_raw::player_props::american_price;
use propcast_raw::{
    parse_player_boxscores, parse_player_props, parse_schedule, parse_schedule_for_date,
    parse_team_boxscores,
};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");

fn data(rel: &str) -> PathBuf {
    Path::new(DATA).join(rel)
}

fn read(rel: &str) -> Vec<u8> {
    let path = data(rel);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if rel.ends_with(".gz") {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_end(&mut out)
            .expect("gunzip");
        out
    } else {
        bytes
    }
}

fn json(rel: &str) -> Value {
    serde_json::from_slice(&read(rel)).expect("valid JSON")
}

fn d(s: &str) -> NaiveDate {
    parse_game_date(s).unwrap()
}

/// Every file under `landing/<folder>`, as (landing path, date folder).
fn landing_files(folder: &str) -> Vec<(String, NaiveDate)> {
    let mut out = Vec::new();
    let root = data("landing");
    let mut stack = vec![root.join(folder)];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "json") {
                let rel = path
                    .strip_prefix(&root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                let date = rel
                    .split('/')
                    .nth(2)
                    .and_then(|s| parse_game_date(s).ok())
                    .unwrap();
                out.push((rel, date));
            }
        }
    }
    out.sort();
    out
}

fn landing(rel: &str) -> Vec<u8> {
    read(&format!("landing/{rel}"))
}

// ------------------------------------------------------------ box scores

const SEED_BOX: &str = "raw_samples/seed_system/nbac_player_boxscore/raw_2ad17718.json";
const BOX_0315: &str = "nba-com/player-boxscores/2025-03-15/20250316_080500.json";

/// The header index of a real leaguegamelog payload.
fn headers(payload: &Value) -> HashMap<String, usize> {
    payload["resultSets"][0]["headers"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, h)| (h.as_str().unwrap().to_string(), i))
        .collect()
}

#[test]
fn seed_leaguegamelog_parses_field_for_field() {
    let bytes = read(SEED_BOX);
    let parsed = parse_player_boxscores(&bytes, SEED_BOX, d("2025-03-15")).unwrap();
    assert!(parsed.quarantine.is_empty(), "{:?}", parsed.quarantine);
    // The oracle: the original system's own copy of the response.
    let oracle = json("raw_samples/seed_system/nbac_player_boxscore/exp_2ad17718.json");
    let h = headers(&oracle);
    let rows = oracle["resultSets"][0]["rowSet"].as_array().unwrap();
    assert_eq!(parsed.rows.len(), 157);
    assert_eq!(rows.len(), 157);
    let by_key: HashMap<(String, i64), &PlayerBoxscore> = parsed
        .rows
        .iter()
        .map(|r| ((r.game_id.clone(), r.player_id), r))
        .collect();
    for want in rows {
        let cell = |name: &str| &want[h[name]];
        let got = by_key[&(
            cell("GAME_ID").as_str().unwrap().to_string(),
            cell("PLAYER_ID").as_i64().unwrap(),
        )];
        assert_eq!(got.player_name, cell("PLAYER_NAME").as_str().unwrap());
        assert_eq!(got.team_abbr, cell("TEAM_ABBREVIATION").as_str().unwrap());
        assert_eq!(got.team_id, cell("TEAM_ID").as_i64().unwrap());
        assert_eq!(got.pts, cell("PTS").as_i64().unwrap());
        assert_eq!(got.reb, cell("REB").as_i64().unwrap());
        assert_eq!(got.ast, cell("AST").as_i64().unwrap());
        assert_eq!(got.tov, cell("TOV").as_i64().unwrap());
        assert_eq!(got.fg3m, cell("FG3M").as_i64().unwrap());
        assert_eq!(got.minutes, cell("MIN").as_f64().unwrap());
        assert_eq!(got.plus_minus, cell("PLUS_MINUS").as_i64());
        assert_eq!(got.wl.as_deref(), cell("WL").as_str());
        assert_eq!(got.season, 2024);
        let matchup = cell("MATCHUP").as_str().unwrap();
        assert_eq!(got.is_home, matchup.contains(" vs. "), "{matchup}");
        assert!(matchup.ends_with(&got.opponent_abbr), "{matchup}");
        // Fantasy points reconcile with the parsed stats (a check on the
        // columns being read by name, not position).
        let fantasy = got.pts as f64
            + 1.2 * got.reb as f64
            + 1.5 * got.ast as f64
            + 3.0 * got.stl as f64
            + 3.0 * got.blk as f64
            - got.tov as f64;
        assert!((fantasy - cell("FANTASY_PTS").as_f64().unwrap()).abs() < 0.05);
    }
    let jokic = parsed.rows.iter().find(|r| r.player_id == 203999).unwrap();
    assert_eq!(jokic.player_name, "Nikola Jokić");
    assert_eq!(jokic.player_lookup, "nikolajokic");
}

#[test]
fn landing_box_scores_for_2025_03_15() {
    let parsed = parse_player_boxscores(&landing(BOX_0315), BOX_0315, d("2025-03-15")).unwrap();
    assert!(parsed.quarantine.is_empty());
    assert_eq!(parsed.rows.len(), 134);
    let curry = parsed
        .rows
        .iter()
        .find(|r| r.player_lookup == "stephencurry")
        .expect("Stephen Curry played on 2025-03-15");
    assert_eq!(curry.pts, 28);
    assert_eq!(curry.team_abbr, "GSW");
    assert_eq!(curry.opponent_abbr, "NYK");
    assert!(curry.is_home);
    assert_eq!(curry.game_id, "0022400974");
    assert_eq!(curry.minutes, 35.0);
    // The README's oracle check: every landing row is in the real response
    // with the same numbers.
    let seed = parse_player_boxscores(&read(SEED_BOX), SEED_BOX, d("2025-03-15")).unwrap();
    let seed: HashMap<(String, i64), &PlayerBoxscore> = seed
        .rows
        .iter()
        .map(|r| ((r.game_id.clone(), r.player_id), r))
        .collect();
    for row in &parsed.rows {
        let real = seed[&(row.game_id.clone(), row.player_id)];
        assert_eq!(
            (
                row.pts,
                row.minutes,
                row.fga,
                row.plus_minus,
                &row.team_abbr,
                row.is_home
            ),
            (
                real.pts,
                real.minutes,
                real.fga,
                real.plus_minus,
                &real.team_abbr,
                real.is_home
            )
        );
    }
    // Sorted by key, and deterministic.
    assert!(
        parsed
            .rows
            .windows(2)
            .all(|w| (&w[0].game_id, w[0].player_id) < (&w[1].game_id, w[1].player_id))
    );
}

#[test]
fn every_landing_box_score_file_parses_cleanly() {
    let mut players = 0;
    for (path, date) in landing_files("nba-com/player-boxscores") {
        let parsed = parse_player_boxscores(&landing(&path), &path, date).unwrap();
        assert!(
            parsed.quarantine.is_empty(),
            "{path}: {:?}",
            parsed.quarantine
        );
        assert!(parsed.counters.is_empty(), "{path}: {:?}", parsed.counters);
        players += parsed.rows.len();
    }
    // landing/README.md: 24,547 rows (22,124 + 2,423) in 183 files.
    assert_eq!(players, 24_547);

    let mut by_type: BTreeMap<String, usize> = BTreeMap::new();
    let mut files = 0;
    let mut other_side = Vec::new();
    for (path, date) in landing_files("nba-com/team-boxscores") {
        let parsed = parse_team_boxscores(&landing(&path), &path, date).unwrap();
        assert!(
            parsed.quarantine.is_empty(),
            "{path}: {:?}",
            parsed.quarantine
        );
        if parsed.counters.contains_key("matchup_from_other_side") {
            other_side.push(date.to_string());
        }
        if date == d("2024-10-04") {
            // Abu Dhabi preseason game: both rows say "BOS @ DEN".
            let den = parsed.rows.iter().find(|r| r.team_abbr == "DEN").unwrap();
            assert_eq!((den.opponent_abbr.as_str(), den.is_home), ("BOS", true));
            let bos = parsed.rows.iter().find(|r| r.team_abbr == "BOS").unwrap();
            assert_eq!((bos.opponent_abbr.as_str(), bos.is_home), ("DEN", false));
        }
        for row in parsed.rows {
            *by_type.entry(row.season_type).or_default() += 1;
        }
        files += 1;
    }
    assert_eq!(files, 251);
    // Ten team rows (neutral-site games) write the matchup from the other
    // team's side; they are read, not quarantined.
    assert_eq!(
        other_side,
        [
            "2024-10-04",
            "2024-10-06",
            "2024-11-02",
            "2024-12-14",
            "2024-12-17",
            "2025-01-23",
            "2025-01-25",
            "2025-11-01"
        ]
    );
    // 2,802 rows for 2024-25 + 147 for 2025-26, by SEASON_ID digit.
    let want: BTreeMap<String, usize> = [
        ("Regular Season", 2607),
        ("Playoffs", 168),
        ("Preseason", 146),
        ("All-Star", 14),
        ("Play-In", 12),
        ("NBA Cup", 2),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(by_type, want);
}

#[test]
fn team_box_scores_for_2025_03_15() {
    let path = "nba-com/team-boxscores/2025-03-15/20250316_081000.json";
    let parsed = parse_team_boxscores(&landing(path), path, d("2025-03-15")).unwrap();
    let bos = parsed.rows.iter().find(|r| r.team_abbr == "BOS").unwrap();
    assert_eq!(
        (bos.pts, bos.opponent_abbr.as_str(), bos.is_home),
        (115, "BKN", false)
    );
    assert_eq!(bos.game_id, "0022400968");
    assert_eq!(bos.minutes, 240.0);
    let bkn = parsed.rows.iter().find(|r| r.team_abbr == "BKN").unwrap();
    assert_eq!((bkn.pts, bkn.is_home, bkn.minutes), (113, true, 242.0));
    assert_eq!(bkn.team_name, "Brooklyn Nets");
    assert_eq!(bkn.season_type, "Regular Season");
    // Both teams of every game: the two plus-minus values cancel.
    let mut by_game: HashMap<&str, i64> = HashMap::new();
    for r in &parsed.rows {
        *by_game.entry(&r.game_id).or_default() += r.plus_minus.unwrap();
    }
    assert!(by_game.values().all(|sum| *sum == 0));
}

#[test]
fn wrong_typed_and_null_fields_quarantine_one_row_each() {
    let mut payload: Value = serde_json::from_slice(&landing(BOX_0315)).unwrap();
    let h = headers(&payload);
    payload["resultSets"][0]["rowSet"][17][h["PTS"]] = Value::String("abc".into());
    payload["resultSets"][0]["rowSet"][40][h["FGA"]] = Value::Null;
    let bytes = serde_json::to_vec(&payload).unwrap();
    let parsed = parse_player_boxscores(&bytes, BOX_0315, d("2025-03-15")).unwrap();
    assert_eq!(parsed.rows.len(), 132);
    let entries = parsed.quarantine.entries();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0].source_file, BOX_0315);
    assert_eq!(entries[0].record, "resultSets[0].rowSet[17]");
    assert_eq!(entries[0].field, "PTS");
    assert_eq!(entries[0].reason, "expected integer, found string \"abc\"");
    assert!(
        entries[0].excerpt.contains("Landry Shamet"),
        "{}",
        entries[0].excerpt
    );
    assert_eq!(entries[1].record, "resultSets[0].rowSet[40]");
    assert_eq!(entries[1].field, "FGA");
    assert_eq!(entries[1].reason, "expected integer, found null");
    // Curry is still there.
    assert!(
        parsed
            .rows
            .iter()
            .any(|r| r.player_lookup == "stephencurry" && r.pts == 28)
    );
}

#[test]
fn truncated_file_is_a_file_error_with_its_position() {
    let bytes = landing(BOX_0315);
    let cut = &bytes[..5122];
    let err = parse_player_boxscores(cut, BOX_0315, d("2025-03-15")).unwrap_err();
    assert_eq!(err.record(), "file");
    assert_eq!(err.field(), "");
    assert!(
        err.reason()
            .starts_with("invalid JSON at line 1 column 5122: EOF while parsing"),
        "{}",
        err.reason()
    );
    assert!(err.to_string().contains(BOX_0315));
}

#[test]
fn missing_column_and_foreign_date_are_reported() {
    let mut payload: Value = serde_json::from_slice(&landing(BOX_0315)).unwrap();
    payload["resultSets"][0]["headers"][28] = Value::String("POINTS".into());
    let bytes = serde_json::to_vec(&payload).unwrap();
    let err = parse_player_boxscores(&bytes, BOX_0315, d("2025-03-15")).unwrap_err();
    assert_eq!(
        (err.record(), err.field()),
        ("resultSets[0].headers", "PTS")
    );

    // Rows of another date are not written into this date's partition.
    let parsed = parse_player_boxscores(&landing(BOX_0315), BOX_0315, d("2025-03-16")).unwrap();
    assert!(parsed.rows.is_empty());
    assert_eq!(parsed.quarantine.len(), 134);
    assert_eq!(parsed.quarantine.entries()[0].field, "GAME_DATE");
}

#[test]
fn minutes_strings_from_a_real_boxscore_payload() {
    // The seed system's boxscoretraditionalv2 sample writes MIN as "MM:SS".
    let payload = json("raw_samples/seed_system/nbac_team_boxscore/raw_12f99055.json");
    let h = headers(&payload);
    let row = &payload["resultSets"][0]["rowSet"][0];
    assert_eq!(row[h["PLAYER_NAME"]], "Josh Hart");
    assert_eq!(row[h["MIN"]], "49:25");
    let minutes = propcast_raw::json_fields::minutes("MIN", &row[h["MIN"]]).unwrap();
    assert!((minutes - (49.0 + 25.0 / 60.0)).abs() < 1e-9);
}

// -------------------------------------------------------------- schedule

#[test]
fn real_2024_25_schedule_matches_the_seed_systems_extraction() {
    let raw = "raw_samples/seed_system/nbac_schedule_api/raw_80cb1fd6.json.gz";
    let schedule = parse_schedule(&read(raw), raw).unwrap();
    let games: HashMap<&str, &ScheduleGame> = schedule
        .games()
        .map(|g| (g.game_id.as_deref().unwrap(), g))
        .collect();
    assert_eq!(games.len(), 1400);
    assert!(
        schedule
            .dates()
            .all(|d| schedule.for_date(d).quarantine.is_empty())
    );
    let oracle = json("raw_samples/seed_system/nbac_schedule_api/exp_80cb1fd6.json.gz");
    let want = oracle["games"].as_array().unwrap();
    assert_eq!(want.len(), 1400);
    for w in want {
        let id = w["gameId"].as_str().unwrap();
        let got = games[id];
        let exp_date =
            NaiveDate::parse_from_str(&w["gameDate"].as_str().unwrap()[..10], "%m/%d/%Y").unwrap();
        assert_eq!(got.game_date, exp_date, "{id}");
        assert_eq!(got.game_code, w["gameCode"].as_str().unwrap());
        assert_eq!(
            got.home_team_abbr,
            w["homeTeam"]["teamTricode"].as_str().unwrap()
        );
        assert_eq!(
            got.away_team_abbr,
            w["awayTeam"]["teamTricode"].as_str().unwrap()
        );
        assert_eq!(got.home_score, w["homeTeam"]["score"].as_i64());
        assert_eq!(got.away_score, w["awayTeam"]["score"].as_i64());
        assert_eq!(got.game_status, 3);
        assert_eq!(got.season, 2024);
        let tipoff = got
            .tipoff_time
            .unwrap()
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string();
        assert_eq!(tipoff, w["gameDateTimeUTC"].as_str().unwrap());
        // The seed system's flags per season type: it counts playoff and
        // play-in games as regular season too, and the Cup final as neither.
        let flags = match got.season_type.as_str() {
            "Regular Season" => (true, false, false),
            "Playoffs" | "Play-In" => (true, true, false),
            "All-Star" => (false, false, true),
            "Preseason" | "NBA Cup" => (false, false, false),
            other => panic!("season type {other}"),
        };
        let want_flags = (
            w["isRegularSeason"].as_bool().unwrap(),
            w["isPlayoffs"].as_bool().unwrap(),
            w["isAllStar"].as_bool().unwrap(),
        );
        assert_eq!(flags, want_flags, "{id} {}", got.season_type);
    }
}

#[test]
fn landing_schedules_by_season_type_and_upcoming_games() {
    let path = "nba-com/schedule-cdn/2024-25/20250623_080500.json";
    let s = parse_schedule(&landing(path), path).unwrap();
    let mut types: BTreeMap<&str, usize> = BTreeMap::new();
    for g in s.games() {
        *types.entry(&g.season_type).or_default() += 1;
        assert_eq!(g.game_status, 3);
        assert!(g.home_score.is_some() && g.away_score.is_some());
    }
    // landing/README.md: 73 preseason, 1,230 regular, 6 play-in, 84
    // playoffs, 1 Cup final on 229 dates.
    let want: BTreeMap<&str, usize> = [
        ("NBA Cup", 1),
        ("Play-In", 6),
        ("Playoffs", 84),
        ("Preseason", 73),
        ("Regular Season", 1230),
    ]
    .into_iter()
    .collect();
    assert_eq!(types, want);
    assert_eq!(s.dates().count(), 229);

    let day = s.for_date(d("2025-03-15"));
    let gsw = day.rows.iter().find(|g| g.home_team_abbr == "GSW").unwrap();
    assert_eq!(gsw.away_team_abbr, "NYK");
    assert_eq!(gsw.game_id.as_deref(), Some("0022400974"));

    let path = "nba-com/schedule-cdn/2025-26/20251110_080500.json";
    let s = parse_schedule(&landing(path), path).unwrap();
    let (finals, upcoming): (Vec<&ScheduleGame>, Vec<&ScheduleGame>) =
        s.games().partition(|g| g.game_status == 3);
    assert_eq!((finals.len(), upcoming.len()), (147, 1053));
    assert!(
        upcoming
            .iter()
            .all(|g| g.game_id.is_none() && g.home_score.is_none())
    );
    assert!(
        finals
            .iter()
            .all(|g| g.game_id.is_some() && g.home_score.is_some())
    );
    assert_eq!(s.dates().count(), 157);
    let opener = parse_schedule_for_date(&landing(path), path, d("2025-10-21")).unwrap();
    let okc = opener
        .rows
        .iter()
        .find(|g| g.home_team_abbr == "OKC")
        .unwrap();
    assert_eq!(
        (okc.away_team_abbr.as_str(), okc.home_score, okc.away_score),
        ("HOU", Some(125), Some(124))
    );
    assert_eq!(
        okc.tipoff_time.unwrap().to_rfc3339(),
        "2025-10-21T23:30:00+00:00"
    );
    assert_eq!(okc.arena_name.as_deref(), Some("Paycom Center"));
    // An upcoming game: no id, keyed on date and teams, tip-off known.
    let next = parse_schedule_for_date(&landing(path), path, d("2025-11-10")).unwrap();
    let cha = next
        .rows
        .iter()
        .find(|g| g.home_team_abbr == "CHA")
        .unwrap();
    assert_eq!(
        (cha.away_team_abbr.as_str(), cha.game_id.as_deref()),
        ("LAL", None)
    );
    assert_eq!(cha.game_code, "20251110/LALCHA");
    assert_eq!(cha.season_type, "Regular Season");
    assert_eq!(
        cha.tipoff_time.unwrap().to_rfc3339(),
        "2025-11-11T00:00:00+00:00"
    );
}

#[test]
fn seed_cdn_schedule_upcoming_preseason() {
    let raw = "raw_samples/seed_system/nbac_schedule_cdn/raw_68953816.json";
    let s = parse_schedule(&read(raw), raw).unwrap();
    let games: Vec<&ScheduleGame> = s.games().collect();
    assert_eq!(games.len(), 13);
    assert!(
        games
            .iter()
            .all(|g| g.season_type == "Preseason" && g.game_status == 1 && g.home_score.is_none())
    );
    let abu_dhabi = s.for_date(d("2025-10-02"));
    assert_eq!(abu_dhabi.rows.len(), 1);
    assert_eq!(abu_dhabi.rows[0].home_team_abbr, "NYK");
    assert_eq!(
        abu_dhabi.rows[0].arena_name.as_deref(),
        Some("Etihad Arena")
    );
}

#[test]
fn a_bad_game_is_quarantined_on_its_date_only() {
    let path = "nba-com/schedule-cdn/2025-26/20251110_080500.json";
    let mut payload: Value = serde_json::from_slice(&landing(path)).unwrap();
    let first = &mut payload["leagueSchedule"]["gameDates"][0]["games"][0];
    assert_eq!(first["gameCode"], "20251021/HOUOKC");
    first["homeTeam"]["score"] = Value::String("abc".into());
    let bytes = serde_json::to_vec(&payload).unwrap();
    let s = parse_schedule(&bytes, path).unwrap();
    let day = s.for_date(d("2025-10-21"));
    assert_eq!(day.rows.len(), 1);
    assert_eq!(day.rows[0].home_team_abbr, "LAL");
    let e = &day.quarantine.entries()[0];
    assert_eq!(e.record, "leagueSchedule.gameDates[0].games[0]");
    assert_eq!(e.field, "homeTeam.score");
    assert_eq!(e.reason, "expected integer, found string \"abc\"");
    assert!(s.for_date(d("2025-10-22")).quarantine.is_empty());
}

// ------------------------------------------------------------------ props

const PROPS_SAC_MIL: &str = "odds-api/player-props-history/2025-11-01/1eb306bc928cde16b480fbf6493b53a6-SACMIL/20251101_170000-snap-1700.json";

fn find<'a>(
    rows: &'a [PlayerProp],
    book: &str,
    market: &str,
    lookup: &str,
    line: f64,
) -> &'a PlayerProp {
    rows.iter()
        .find(|r| {
            r.bookmaker == book && r.market == market && r.player_lookup == lookup && r.line == line
        })
        .unwrap_or_else(|| panic!("{book} {market} {lookup} {line}"))
}

#[test]
fn a_known_points_line() {
    let parsed =
        parse_player_props(&landing(PROPS_SAC_MIL), PROPS_SAC_MIL, d("2025-11-01")).unwrap();
    assert!(parsed.quarantine.is_empty());
    // FanDuel: Zach LaVine points 24.5, Over -102 / Under -130.
    let lavine = find(&parsed.rows, "fanduel", "player_points", "zachlavine", 24.5);
    assert_eq!(
        (lavine.over_price, lavine.under_price),
        (Some(-102), Some(-130))
    );
    assert_eq!(lavine.player_name, "Zach LaVine");
    assert_eq!(
        (
            lavine.away_team_abbr.as_str(),
            lavine.home_team_abbr.as_str()
        ),
        ("SAC", "MIL")
    );
    assert_eq!(lavine.event_id, "1eb306bc928cde16b480fbf6493b53a6");
    assert_eq!(
        lavine.snapshot_time.to_rfc3339(),
        "2025-11-01T17:00:00+00:00"
    );
    assert_eq!(
        lavine.commence_time.to_rfc3339(),
        "2025-11-01T21:10:00+00:00"
    );
    assert_eq!(lavine.minutes_before_tipoff, 250);
    assert_eq!(lavine.player_id, None);
    // Bovada's alternate lines are separate rows.
    let giannis = find(
        &parsed.rows,
        "bovada",
        "player_points",
        "giannisantetokounmpo",
        27.5,
    );
    assert_eq!(
        (giannis.over_price, giannis.under_price),
        (Some(-275), Some(200))
    );
    let giannis_lines = parsed
        .rows
        .iter()
        .filter(|r| {
            r.bookmaker == "bovada"
                && r.market == "player_points"
                && r.player_lookup == "giannisantetokounmpo"
        })
        .count();
    assert_eq!(giannis_lines, 10);
    assert!(
        parsed
            .rows
            .windows(2)
            .all(|w| propcast_raw::player_props::compare_props(&w[0], &w[1]).is_lt())
    );
}

#[test]
fn every_props_file_parses_into_over_under_pairs() {
    let mut per_date: BTreeMap<NaiveDate, usize> = BTreeMap::new();
    let mut lone_over = Vec::new();
    let mut markets: BTreeMap<String, usize> = BTreeMap::new();
    for (path, date) in landing_files("odds-api/player-props-history") {
        let parsed = parse_player_props(&landing(&path), &path, date).unwrap();
        assert!(parsed.quarantine.is_empty(), "{path}");
        assert!(parsed.counters.is_empty(), "{path}: {:?}", parsed.counters);
        for r in &parsed.rows {
            assert!(r.minutes_before_tipoff > 0);
            if r.under_price.is_none() {
                lone_over.push(format!(
                    "{} {} {} {}",
                    r.bookmaker, r.market, r.player_name, r.line
                ));
            }
            *markets.entry(r.market.clone()).or_default() += 1;
        }
        *per_date.entry(date).or_default() += parsed.rows.len();
    }
    // 93,760 Over outcomes in the landing README, all paired except 5.
    assert_eq!(per_date.values().sum::<usize>(), 93_760);
    assert_eq!(per_date.len(), 20);
    assert_eq!(per_date[&d("2025-11-01")], 3_814);
    lone_over.sort();
    assert_eq!(lone_over.len(), 5, "{lone_over:?}");
    assert!(lone_over.contains(&"bovada player_rebounds Alperen Sengun 10.5".to_string()));
    assert_eq!(markets.len(), 7);
}

#[test]
fn seed_odds_sample_decimal_prices_and_game_markets() {
    let raw = "raw_samples/seed_system/oddsa_player_props_his/raw_815b3ee3.json";
    let bytes = read(raw);
    let parsed = parse_player_props(&bytes, raw, d("2024-01-24")).unwrap();
    // The sample holds spreads and totals only: no player rows, nothing
    // silently lost (both bookmakers' two markets are counted).
    assert!(parsed.rows.is_empty());
    assert!(parsed.quarantine.is_empty());
    assert_eq!(parsed.counters.get("non_player_markets"), Some(&4));
    // Its decimal prices convert to American odds.
    let payload = json(raw);
    let totals = &payload["data"]["bookmakers"][0]["markets"][1]["outcomes"];
    assert_eq!(american_price("price", &totals[0]["price"]).unwrap(), -115);
    let spread = &payload["data"]["bookmakers"][0]["markets"][0]["outcomes"];
    assert_eq!(american_price("price", &spread[0]["price"]).unwrap(), -110);
    assert_eq!(american_price("price", &spread[1]["price"]).unwrap(), -120);
}

#[test]
fn a_bad_outcome_is_quarantined_and_its_pair_kept_one_sided() {
    let mut payload: Value = serde_json::from_slice(&landing(PROPS_SAC_MIL)).unwrap();
    let under = &mut payload["data"]["bookmakers"][0]["markets"][2]["outcomes"][1];
    assert_eq!(under["description"], "Zach LaVine");
    under["price"] = Value::String("abc".into());
    // A decimal price is converted, like the seed system's payloads.
    payload["data"]["bookmakers"][0]["markets"][2]["outcomes"][0]["price"] =
        serde_json::json!(1.98);
    let bytes = serde_json::to_vec(&payload).unwrap();
    let parsed = parse_player_props(&bytes, PROPS_SAC_MIL, d("2025-11-01")).unwrap();
    let entries = parsed.quarantine.entries();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].record, "bookmakers[0].markets[2].outcomes[1]");
    assert_eq!(entries[0].field, "price");
    assert!(
        entries[0].reason.contains("found string \"abc\""),
        "{}",
        entries[0].reason
    );
    let lavine = find(&parsed.rows, "fanduel", "player_points", "zachlavine", 24.5);
    assert_eq!((lavine.over_price, lavine.under_price), (Some(-102), None));
    let clean =
        parse_player_props(&landing(PROPS_SAC_MIL), PROPS_SAC_MIL, d("2025-11-01")).unwrap();
    assert_eq!(parsed.rows.len(), clean.rows.len());
}

#[test]
fn malformed_props_structure_is_quarantined_where_it_is() {
    let mut payload: Value = serde_json::from_slice(&landing(PROPS_SAC_MIL)).unwrap();
    let bookmakers = &mut payload["data"]["bookmakers"];
    assert_eq!(bookmakers[1]["key"], "fanatics");
    // An outcome that is not an object, a market whose outcomes are not a
    // list, a bookmaker without a key.
    bookmakers[0]["markets"][2]["outcomes"][0] = Value::String("Over 24.5".into());
    bookmakers[1]["markets"][0]["outcomes"] = serde_json::json!({"Over": 1});
    bookmakers[2]["key"] = Value::Null;
    let bytes = serde_json::to_vec(&payload).unwrap();
    let parsed = parse_player_props(&bytes, PROPS_SAC_MIL, d("2025-11-01")).unwrap();
    let got: Vec<(&str, &str, &str)> = parsed
        .quarantine
        .entries()
        .iter()
        .map(|e| (e.record.as_str(), e.field.as_str(), e.reason.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (
                "bookmakers[0].markets[2].outcomes[0]",
                "",
                "expected object, found string \"Over 24.5\""
            ),
            (
                "bookmakers[1].markets[0]",
                "outcomes",
                "expected array, found object"
            ),
            (
                "bookmakers[2]",
                "key",
                "expected non-empty string, found null"
            ),
        ]
    );
    // LaVine's FanDuel line keeps its Under; the other books are intact.
    let lavine = find(&parsed.rows, "fanduel", "player_points", "zachlavine", 24.5);
    assert_eq!((lavine.over_price, lavine.under_price), (None, Some(-130)));
    assert!(parsed.rows.iter().all(|r| r.bookmaker != "draftkings"));
    let betmgm = find(&parsed.rows, "betmgm", "player_points", "zachlavine", 23.5);
    assert_eq!(
        (betmgm.over_price, betmgm.under_price),
        (Some(-110), Some(-125))
    );
}

#[test]
fn truncated_props_file_is_a_file_error() {
    let bytes = landing(PROPS_SAC_MIL);
    let err =
        parse_player_props(&bytes[..bytes.len() / 2], PROPS_SAC_MIL, d("2025-11-01")).unwrap_err();
    assert_eq!(err.record(), "file");
    assert!(
        err.reason().starts_with("invalid JSON at line 1 column "),
        "{}",
        err.reason()
    );
}

#[test]
fn team_ids_agree_with_the_schedule() {
    let path = "nba-com/schedule-cdn/2024-25/20250623_080500.json";
    let s = parse_schedule(&landing(path), path).unwrap();
    let mut seen = 0;
    for team in propcast_raw::teams::TEAMS {
        let g = s
            .games()
            .find(|g| g.home_team_abbr == team.tricode)
            .unwrap_or_else(|| panic!("{}", team.tricode));
        assert_eq!(g.home_team_id, team.team_id, "{}", team.tricode);
        seen += 1;
    }
    assert_eq!(seen, 30);
}
