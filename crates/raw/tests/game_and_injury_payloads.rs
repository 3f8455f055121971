//! The scoreboard, traditional box score and injury report parsers on the
//! real payloads in `shared/data/raw_samples`, checked against facts from
//! other sources: the landing zone's `leaguegamelog` box scores, the games
//! CSV, and the seed system's own parse of the injury report PDF.

use chrono::{DateTime, NaiveDate, Utc};
use propcast_core::date::parse_game_date;
use propcast_core::normalize_name_for_lookup;
use propcast_core::tables::InjuryReportEntry;
use propcast_raw::injury_report::first_last;
use propcast_raw::{
    parse_balldontlie_injuries, parse_boxscore_traditional, parse_official_report,
    parse_player_boxscores, parse_scoreboard, parse_team_boxscores,
};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");

fn read(rel: &str) -> Vec<u8> {
    let path = Path::new(DATA).join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn json(rel: &str) -> Value {
    serde_json::from_slice(&read(rel)).expect("valid JSON")
}

fn d(s: &str) -> NaiveDate {
    parse_game_date(s).unwrap()
}

const SCOREBOARD: &str = "raw_samples/nba_stats_scoreboardv3.json";
const BOX: &str = "raw_samples/nba_stats_boxscoretraditionalv3.json";
const SCOREBOARD_PATH: &str = "nba-com/scoreboard-v3/2025-11-05/20251106_080000.json";
// The box score sample is game 0022500165, TOR-MIL, played 2025-11-04 ET
// (games CSV; its request time is 2025-11-04T23:50Z).
const BOX_PATH: &str =
    "nba-com/boxscore-traditional-v3/2025-11-04/game_0022500165/20251105_080000.json";

/// (home, away, home_pts, away_pts) of a game in the games CSV.
fn csv_game(game_id: &str) -> (String, String, i64, i64) {
    let text = String::from_utf8(read("games_2014_15_to_2025_26_before_2025-11-10.csv")).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with(&format!("{game_id},")))
        .expect("game in the CSV");
    let f: Vec<&str> = line.split(',').collect();
    (
        f[4].to_string(),
        f[5].to_string(),
        f[6].parse().unwrap(),
        f[7].parse().unwrap(),
    )
}

#[test]
fn scoreboard_scores_match_the_team_box_scores_of_the_date() {
    let date = d("2025-11-05");
    let parsed = parse_scoreboard(&read(SCOREBOARD), SCOREBOARD_PATH, date).unwrap();
    assert!(parsed.quarantine.is_empty(), "{:?}", parsed.quarantine);
    assert_eq!(parsed.rows.len(), 11);

    // The landing zone's leaguegamelog (team mode) of the same date, and
    // the games CSV: the teams and points from other sources.
    let teams_path = "landing/nba-com/team-boxscores/2025-11-05";
    let file = std::fs::read_dir(Path::new(DATA).join(teams_path))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let team_rows = parse_team_boxscores(&std::fs::read(&file).unwrap(), "t.json", date)
        .unwrap()
        .rows;
    let points: HashMap<(String, String), i64> = team_rows
        .iter()
        .map(|t| ((t.game_id.clone(), t.team_abbr.clone()), t.pts))
        .collect();
    let raw = json(SCOREBOARD);
    let tipoffs: HashMap<&str, &str> = raw["scoreboard"]["games"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["gameId"].as_str().unwrap(),
                g["gameTimeUTC"].as_str().unwrap(),
            )
        })
        .collect();
    let mut sides_checked = 0;
    for game in &parsed.rows {
        assert_eq!(game.game_status, 3, "{}", game.game_id);
        assert_eq!(game.game_status_text, "Final");
        // The landing team log holds one side of each game: it must agree.
        for (team, score) in [
            (&game.home_team_abbr, game.home_score),
            (&game.away_team_abbr, game.away_score),
        ] {
            if let Some(pts) = points.get(&(game.game_id.clone(), team.clone())) {
                assert_eq!(score, Some(*pts), "{} {team}", game.game_id);
                sides_checked += 1;
            }
        }
        let (home, away, home_pts, away_pts) = csv_game(&game.game_id);
        assert_eq!((&game.home_team_abbr, &game.away_team_abbr), (&home, &away));
        assert_eq!(
            (game.home_score, game.away_score),
            (Some(home_pts), Some(away_pts))
        );
        let tipoff: DateTime<Utc> = tipoffs[game.game_id.as_str()].parse().unwrap();
        assert_eq!(game.tipoff_time, Some(tipoff));
        assert_eq!(
            game.game_code,
            format!("20251105/{}{}", game.away_team_abbr, game.home_team_abbr)
        );
    }
    assert_eq!(sides_checked, team_rows.len());
    assert_eq!(sides_checked, 11);
    let lal = parsed
        .rows
        .iter()
        .find(|g| g.game_id == "0022500179")
        .unwrap();
    assert_eq!(
        (
            lal.home_team_abbr.as_str(),
            lal.home_team_id,
            lal.away_team_abbr.as_str()
        ),
        ("LAL", 1610612747, "SAS")
    );
    assert_eq!(
        lal.tipoff_time.unwrap().to_rfc3339(),
        "2025-11-06T03:00:00+00:00"
    );
}

#[test]
fn a_scoreboard_of_another_date_is_quarantined_whole() {
    let e = parse_scoreboard(
        &read(SCOREBOARD),
        "nba-com/scoreboard-v3/2025-11-06/x.json",
        d("2025-11-06"),
    )
    .unwrap_err();
    assert_eq!((e.record(), e.field()), ("scoreboard", "gameDate"));
    assert_eq!(
        e.reason(),
        "the payload is of 2025-11-05, the folder of 2025-11-06"
    );
}

#[test]
fn a_scheduled_game_has_a_tipoff_and_no_score() {
    let mut raw = json(SCOREBOARD);
    raw["scoreboard"]["games"][0]["gameStatus"] = 1.into();
    raw["scoreboard"]["games"][0]["gameStatusText"] = "7:00 pm ET".into();
    raw["scoreboard"]["games"][1]["homeTeam"]
        .as_object_mut()
        .unwrap()
        .remove("teamId");
    let parsed = parse_scoreboard(
        &serde_json::to_vec(&raw).unwrap(),
        SCOREBOARD_PATH,
        d("2025-11-05"),
    )
    .unwrap();
    assert_eq!(parsed.rows.len(), 10);
    let q = &parsed.quarantine.entries()[0];
    assert_eq!(
        (q.record.as_str(), q.field.as_str()),
        ("scoreboard.games[1]", "homeTeam.teamId")
    );
    assert!(q.excerpt.contains("0022500172"), "{}", q.excerpt);
    let cle = parsed
        .rows
        .iter()
        .find(|g| g.game_id == "0022500171")
        .unwrap();
    assert_eq!((cle.home_score, cle.away_score), (None, None));
    assert_eq!(
        cle.tipoff_time.unwrap().to_rfc3339(),
        "2025-11-06T00:00:00+00:00"
    );
}

#[test]
fn traditional_box_score_reconciles_with_team_totals_and_other_sources() {
    let date = d("2025-11-04");
    let parsed = parse_boxscore_traditional(&read(BOX), BOX_PATH, date).unwrap();
    assert!(parsed.quarantine.is_empty(), "{:?}", parsed.quarantine);
    let raw = json(BOX);
    let bt = &raw["boxScoreTraditional"];
    let listed = bt["homeTeam"]["players"].as_array().unwrap().len()
        + bt["awayTeam"]["players"].as_array().unwrap().len();
    assert_eq!(parsed.rows.len(), listed);
    assert_eq!(listed, 29);

    // Each team's players add up to the team line of the same payload and
    // to the final score in the games CSV.
    let mut sums: BTreeMap<&str, i64> = BTreeMap::new();
    for row in &parsed.rows {
        *sums.entry(row.team_abbr.as_str()).or_default() += row.points;
    }
    let (home, away, home_pts, away_pts) = csv_game("0022500165");
    assert_eq!((home.as_str(), away.as_str()), ("TOR", "MIL"));
    assert_eq!(
        sums["TOR"],
        bt["homeTeam"]["statistics"]["points"].as_i64().unwrap()
    );
    assert_eq!(
        sums["MIL"],
        bt["awayTeam"]["statistics"]["points"].as_i64().unwrap()
    );
    assert_eq!((sums["TOR"], sums["MIL"]), (home_pts, away_pts));

    for team in ["TOR", "MIL"] {
        let starters: Vec<&str> = parsed
            .rows
            .iter()
            .filter(|r| r.team_abbr == team && r.is_starter)
            .map(|r| r.position.as_str())
            .collect();
        assert_eq!(starters.len(), 5, "{team}");
        assert!(starters.iter().all(|p| ["F", "C", "G"].contains(p)));
    }
    let dnp: Vec<_> = parsed
        .rows
        .iter()
        .filter(|r| r.dnp_reason.is_some())
        .collect();
    assert_eq!(dnp.len(), 2);
    for r in &dnp {
        assert_eq!(r.dnp_reason.as_deref(), Some("DNP - Coach's Decision"));
        assert_eq!((r.minutes, r.points, r.is_starter), (0.0, 0, false));
    }
    assert!(
        dnp.iter()
            .any(|r| r.player_name == "Thanasis Antetokounmpo" && !r.is_home)
    );
    let ingram = parsed.rows.iter().find(|r| r.player_id == 1627742).unwrap();
    assert_eq!(ingram.player_name, "Brandon Ingram");
    assert!((ingram.minutes - (30.0 + 49.0 / 60.0)).abs() < 1e-9);
    assert_eq!(
        (ingram.team_abbr.as_str(), ingram.team_id),
        ("TOR", 1610612761)
    );
    assert!(ingram.is_home && ingram.is_starter && ingram.dnp_reason.is_none());

    // Every player of this game in the landing zone's leaguegamelog has the
    // same points (that feed lacks some of the bench players).
    let log = parse_player_boxscores(
        &read("landing/nba-com/player-boxscores/2025-11-04/20251105_080500.json"),
        "p.json",
        date,
    )
    .unwrap();
    let by_id: HashMap<i64, i64> = parsed
        .rows
        .iter()
        .map(|r| (r.player_id, r.points))
        .collect();
    let in_log: Vec<_> = log
        .rows
        .iter()
        .filter(|p| p.game_id == "0022500165")
        .collect();
    assert_eq!(in_log.len(), 21);
    for p in in_log {
        assert_eq!(by_id.get(&p.player_id), Some(&p.pts), "{}", p.player_name);
    }
}

#[test]
fn a_player_missing_a_field_is_quarantined_and_the_others_kept() {
    let mut raw = json(BOX);
    raw["boxScoreTraditional"]["homeTeam"]["players"][3]["statistics"]
        .as_object_mut()
        .unwrap()
        .remove("points");
    let parsed = parse_boxscore_traditional(
        &serde_json::to_vec(&raw).unwrap(),
        BOX_PATH,
        d("2025-11-04"),
    )
    .unwrap();
    assert_eq!(parsed.rows.len(), 28);
    let q = parsed.quarantine.entries();
    assert_eq!(q.len(), 1);
    assert_eq!(q[0].source_file, BOX_PATH);
    assert_eq!(q[0].record, "boxScoreTraditional.homeTeam.players[3]");
    assert_eq!(q[0].field, "statistics.points");
    assert_eq!(
        q[0].reason,
        "expected integer, found no value (field missing)"
    );
    assert!(q[0].excerpt.contains("Barrett"), "{}", q[0].excerpt);
    assert!(!parsed.rows.iter().any(|r| r.player_id == 1629628));
}

#[test]
fn a_box_score_filed_under_another_game_is_quarantined_whole() {
    let e = parse_boxscore_traditional(
        &read(BOX),
        "nba-com/boxscore-traditional-v3/2025-11-04/game_0022500166/x.json",
        d("2025-11-04"),
    )
    .unwrap_err();
    assert_eq!((e.record(), e.field()), ("boxScoreTraditional", "gameId"));
}

const PDF: &str = "raw_samples/seed_system/nbac_injury_report/raw_f4391904.pdf";
const PDF_PATH: &str = "nba-com/injury-report/2024-01-04/12PM/20240104_174000.pdf";

/// The seed system parsed the same PDF into 14 records: ours are the same
/// (team, player, status, reason), of the same games.
#[test]
fn the_official_report_parses_like_the_seed_system() {
    let date = d("2024-01-04");
    let parsed = parse_official_report(&read(PDF), PDF_PATH, date).unwrap();
    assert!(parsed.quarantine.is_empty(), "{:?}", parsed.quarantine);
    let oracle = json("raw_samples/seed_system/nbac_injury_report/exp_f4391904.json");
    let expected: Vec<(String, String, String, String, String)> = oracle["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            assert_eq!(r["date"], "01/04/2024");
            (
                r["matchup"].as_str().unwrap().to_string(),
                r["team"].as_str().unwrap().to_string(),
                r["player"].as_str().unwrap().to_string(),
                r["status"].as_str().unwrap().to_ascii_lowercase(),
                r["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(expected.len(), 14);
    let mut ours: Vec<(String, String, String, String, String)> = parsed
        .rows
        .iter()
        .map(|r| {
            (
                r.matchup.clone().unwrap(),
                r.team_abbr.clone(),
                r.player_name.clone(),
                r.status.clone(),
                r.reason.clone(),
            )
        })
        .collect();
    let mut expected_sorted = expected.clone();
    ours.sort();
    expected_sorted.sort();
    assert_eq!(ours, expected_sorted);

    // 12:30 PM EST on 2024-01-04.
    let at: DateTime<Utc> = "2024-01-04T17:30:00Z".parse().unwrap();
    assert!(parsed.rows.iter().all(|r: &InjuryReportEntry| {
        r.report_time == at && r.source == "nba_official" && r.game_date == date
    }));
    let duke = parsed
        .rows
        .iter()
        .find(|r| r.player_name == "Duke Jr., David")
        .unwrap();
    assert_eq!(
        duke.player_lookup,
        normalize_name_for_lookup("David Duke Jr.")
    );
    assert_eq!(first_last("Payton II, Gary"), "Gary Payton II");
    let mcdermott = parsed
        .rows
        .iter()
        .find(|r| r.player_name == "McDermott, Doug")
        .unwrap();
    assert_eq!(
        mcdermott.reason,
        "Injury/Illness - Right Forearm; Contusion"
    );

    // The same report read for 2024-01-05: its games of the 5th are all
    // NOT YET SUBMITTED, so no rows; the 4th's 14 are counted, not stored.
    let next = parse_official_report(
        &read(PDF),
        "nba-com/injury-report/2024-01-05/12PM/x.pdf",
        d("2024-01-05"),
    )
    .unwrap();
    assert!(next.rows.is_empty() && next.quarantine.is_empty());
    assert_eq!(next.counters.get("other_date_rows"), Some(&14));
}

#[test]
fn a_file_that_is_not_a_pdf_is_quarantined_whole() {
    let e = parse_official_report(b"<html>503</html>", PDF_PATH, d("2024-01-04")).unwrap_err();
    assert_eq!((e.record(), e.field()), ("file", ""));
    assert!(
        e.reason().starts_with("unreadable document: "),
        "{}",
        e.reason()
    );
    let mut truncated = read(PDF);
    truncated.truncate(truncated.len() / 3);
    assert!(parse_official_report(&truncated, PDF_PATH, d("2024-01-04")).is_err());
}

/// balldontlie's injuries: the seed system stored them as fetched (its
/// parse equals the payload), so it is the oracle for the records kept
/// and their teams; the team ids map through the real `/teams` response.
#[test]
fn balldontlie_injuries_keep_every_record_with_its_team() {
    let teams = json("raw_samples/seed_system/bdl_teams/raw_cf664c89.json");
    let abbreviation: HashMap<i64, String> = teams["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["id"].as_i64().unwrap(),
                t["abbreviation"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let date = d("2025-07-16");
    for run in ["49fd60fb", "d45e630e"] {
        let rel = format!("raw_samples/seed_system/bdl_injuries/raw_{run}.json");
        let path = "ball-dont-lie/injuries/2025-07-16/20250716_150000.json";
        let parsed = parse_balldontlie_injuries(&read(&rel), path, date).unwrap();
        assert!(parsed.quarantine.is_empty(), "{:?}", parsed.quarantine);
        let oracle = json(&format!(
            "raw_samples/seed_system/bdl_injuries/exp_{run}.json"
        ));
        let records = oracle["data"].as_array().unwrap();
        assert_eq!(parsed.rows.len(), records.len());
        let at: DateTime<Utc> = "2025-07-16T15:00:00Z".parse().unwrap();
        for r in records {
            let name = format!(
                "{} {}",
                r["player"]["first_name"].as_str().unwrap(),
                r["player"]["last_name"].as_str().unwrap()
            );
            let team = &abbreviation[&r["player"]["team_id"].as_i64().unwrap()];
            let row = parsed
                .rows
                .iter()
                .find(|x| x.player_name == name && &x.team_abbr == team)
                .unwrap_or_else(|| panic!("{name} of {team}"));
            let status = match r["status"].as_str().unwrap() {
                "Out" => "out",
                "Day-To-Day" => "questionable",
                other => panic!("a status the samples do not have: {other}"),
            };
            assert_eq!(row.status, status, "{name}");
            assert_eq!(row.reason, r["description"].as_str().unwrap());
            assert_eq!(row.player_lookup, normalize_name_for_lookup(&name));
            assert_eq!((row.source.as_str(), row.report_time), ("balldontlie", at));
            assert_eq!(row.matchup, None);
        }
    }
    let tatum = parse_balldontlie_injuries(
        &read("raw_samples/seed_system/bdl_injuries/raw_d45e630e.json"),
        "ball-dont-lie/injuries/2025-07-16/20250716_150000.json",
        date,
    )
    .unwrap()
    .rows
    .into_iter()
    .find(|r| r.player_lookup == "jaysontatum")
    .unwrap();
    assert_eq!(
        (tatum.team_abbr.as_str(), tatum.status.as_str()),
        ("BOS", "out")
    );
}

#[test]
fn a_balldontlie_record_of_an_unknown_team_or_status_is_quarantined() {
    let mut raw = json("raw_samples/seed_system/bdl_injuries/raw_d45e630e.json");
    raw["data"][0]["player"]["team_id"] = 42.into();
    raw["data"][1]["status"] = "Suspended".into();
    let parsed = parse_balldontlie_injuries(
        &serde_json::to_vec(&raw).unwrap(),
        "ball-dont-lie/injuries/2025-07-16/20250716_150000.json",
        d("2025-07-16"),
    )
    .unwrap();
    assert!(parsed.rows.is_empty());
    let q = parsed.quarantine.entries();
    assert_eq!(
        q.iter()
            .map(|e| (e.record.as_str(), e.field.as_str()))
            .collect::<Vec<_>>(),
        [("data[0]", "player.team_id"), ("data[1]", "status")]
    );
}
