//! Test support (unit tests via `#[path]`, integration tests as a module):
//! the real shared data (`../shared/data`) parsed into the raw
//! row types the processors read. Parsed once per test binary.
//!
//! The CSV → row mapping mirrors what Phase 2 writes: team and player game
//! logs become box score rows (the opponent is the MATCHUP tricode that is
//! not the team's own; "X @ Y" means Y is at home, "X vs. Y" X), the games
//! file becomes final schedule rows, and the real 2024-25 CDN schedule from
//! the original system's samples is an independent score oracle.

#![allow(dead_code)]

use chrono::NaiveDate;
use flate2::read::GzDecoder;
use propcast_core::normalize_name_for_lookup;
use propcast_core::tables::{PlayerBoxscore, ScheduleGame, TeamBoxscore};
use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::Read;
use std::sync::OnceLock;

pub const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");

fn reader(name: &str) -> csv::Reader<Box<dyn Read>> {
    let path = format!("{DATA}/{name}");
    let file = File::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let input: Box<dyn Read> = if name.ends_with(".gz") {
        Box::new(GzDecoder::new(file))
    } else {
        Box::new(file)
    };
    csv::Reader::from_reader(input)
}

fn records(name: &str) -> Vec<HashMap<String, String>> {
    let mut rdr = reader(name);
    let headers = rdr.headers().expect("csv header").clone();
    rdr.records()
        .map(|r| {
            let r = r.expect("csv record");
            headers
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

fn int(row: &HashMap<String, String>, key: &str) -> i64 {
    let text = row.get(key).unwrap_or_else(|| panic!("column {key}"));
    text.parse::<f64>()
        .unwrap_or_else(|_| panic!("{key}={text:?}"))
        .round() as i64
}

fn float(row: &HashMap<String, String>, key: &str) -> f64 {
    row[key]
        .parse()
        .unwrap_or_else(|_| panic!("{key}={:?}", row[key]))
}

pub fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("date")
}

/// (opponent, is_home) of `team` from a MATCHUP text.
fn matchup(team: &str, text: &str) -> (String, bool) {
    let (first, second, home) = if let Some((a, b)) = text.split_once(" @ ") {
        (a.trim(), b.trim(), b.trim())
    } else if let Some((a, b)) = text.split_once(" vs. ") {
        (a.trim(), b.trim(), a.trim())
    } else {
        panic!("matchup {text:?}")
    };
    let opponent = if first == team { second } else { first };
    (opponent.to_string(), home == team)
}

fn season_type(season_id: &str) -> &'static str {
    match season_id.chars().next() {
        Some('1') => "Preseason",
        Some('2') => "Regular Season",
        Some('3') => "All-Star",
        Some('4') => "Playoffs",
        Some('5') => "Play-In",
        Some('6') => "NBA Cup",
        _ => panic!("season id {season_id}"),
    }
}

fn team_rows(name: &str) -> Vec<TeamBoxscore> {
    records(name)
        .into_iter()
        .filter(|r| r["SEASON"] == "2024-25" || r["SEASON"] == "2025-26")
        .map(|r| {
            let team = r["TEAM_ABBREVIATION"].clone();
            let (opponent, is_home) = matchup(&team, &r["MATCHUP"]);
            TeamBoxscore {
                game_date: date(&r["GAME_DATE"]),
                game_id: r["GAME_ID"].clone(),
                season: r["SEASON_ID"][1..].parse().expect("season"),
                season_type: season_type(&r["SEASON_ID"]).to_string(),
                team_id: int(&r, "TEAM_ID"),
                team_abbr: team,
                team_name: r["TEAM_NAME"].clone(),
                opponent_abbr: opponent,
                is_home,
                wl: Some(r["WL"].clone()).filter(|s| !s.is_empty()),
                minutes: float(&r, "MIN"),
                fgm: int(&r, "FGM"),
                fga: int(&r, "FGA"),
                fg3m: int(&r, "FG3M"),
                fg3a: int(&r, "FG3A"),
                ftm: int(&r, "FTM"),
                fta: int(&r, "FTA"),
                oreb: int(&r, "OREB"),
                dreb: int(&r, "DREB"),
                reb: int(&r, "REB"),
                ast: int(&r, "AST"),
                stl: int(&r, "STL"),
                blk: int(&r, "BLK"),
                tov: int(&r, "TOV"),
                pf: int(&r, "PF"),
                pts: int(&r, "PTS"),
                plus_minus: Some(int(&r, "PLUS_MINUS")),
                source_file: format!("{name}#{}", r["GAME_ID"]),
            }
        })
        .collect()
}

fn player_rows(name: &str) -> Vec<PlayerBoxscore> {
    records(name)
        .into_iter()
        .filter(|r| !r["game_id"].is_empty())
        .map(|r| {
            let team = r["team"].clone();
            let (opponent, is_home) = matchup(&team, &r["matchup"]);
            PlayerBoxscore {
                game_date: date(&r["date"]),
                game_id: r["game_id"].clone(),
                season: r["season"][..4].parse().expect("season"),
                player_id: int(&r, "player_id"),
                player_lookup: normalize_name_for_lookup(&r["player"]),
                player_name: r["player"].clone(),
                team_id: 0,
                team_abbr: team,
                opponent_abbr: opponent,
                is_home,
                wl: Some(r["result"].clone()),
                minutes: float(&r, "minutes"),
                fgm: int(&r, "fgm"),
                fga: int(&r, "fga"),
                fg3m: int(&r, "threes_made"),
                fg3a: int(&r, "threes_attempted"),
                ftm: int(&r, "ftm"),
                fta: int(&r, "fta"),
                oreb: int(&r, "oreb"),
                dreb: int(&r, "dreb"),
                reb: int(&r, "reb"),
                ast: int(&r, "ast"),
                stl: int(&r, "stl"),
                blk: int(&r, "blk"),
                tov: int(&r, "tov"),
                pf: int(&r, "pf"),
                pts: int(&r, "pts"),
                plus_minus: Some(int(&r, "plus_minus")),
                source_file: name.to_string(),
            }
        })
        .collect()
}

fn schedule_rows() -> Vec<ScheduleGame> {
    records("games_2014_15_to_2025_26_before_2025-11-10.csv")
        .into_iter()
        .filter(|r| r["season"] == "2024-25" || r["season"] == "2025-26")
        .map(|r| {
            let game_date = date(&r["game_date"]);
            let home = r["home_team"].clone();
            let away = r["away_team"].clone();
            ScheduleGame {
                game_date,
                game_id: Some(r["game_id"].clone()),
                game_code: format!("{}/{away}{home}", game_date.format("%Y%m%d")),
                season: r["season"][..4].parse().expect("season"),
                season_type: match r["season_type"].as_str() {
                    "preseason" => "Preseason",
                    "regular" => "Regular Season",
                    "playoffs" => "Playoffs",
                    "play-in" => "Play-In",
                    "cup-final" => "NBA Cup",
                    "3" => "All-Star",
                    other => panic!("season type {other:?}"),
                }
                .to_string(),
                game_status: 3,
                home_team_abbr: home,
                away_team_abbr: away,
                home_team_id: r["home_team_id"].parse().unwrap_or(0),
                away_team_id: r["away_team_id"].parse().unwrap_or(0),
                home_score: r["home_pts"].parse().ok(),
                away_score: r["away_pts"].parse().ok(),
                tipoff_time: None,
                arena_name: None,
                source_file: "games_2014_15_to_2025_26_before_2025-11-10.csv".to_string(),
            }
        })
        .collect()
}

/// Rows of one kind grouped by game date.
pub struct ByDate<T> {
    pub all: Vec<T>,
    index: BTreeMap<NaiveDate, (usize, usize)>,
}

impl<T> ByDate<T> {
    fn new(mut all: Vec<T>, key: impl Fn(&T) -> NaiveDate) -> Self {
        all.sort_by_key(|r| key(r));
        let mut index: BTreeMap<NaiveDate, (usize, usize)> = BTreeMap::new();
        for (i, r) in all.iter().enumerate() {
            index.entry(key(r)).or_insert((i, i)).1 = i + 1;
        }
        ByDate { all, index }
    }

    pub fn on(&self, date: NaiveDate) -> &[T] {
        self.index
            .get(&date)
            .map(|&(a, b)| &self.all[a..b])
            .unwrap_or(&[])
    }

    pub fn dates(&self) -> impl Iterator<Item = NaiveDate> + '_ {
        self.index.keys().copied()
    }
}

pub struct RealData {
    /// 2024-25 (both teams per game) and 2025-26 (one team per game).
    pub teams: ByDate<TeamBoxscore>,
    pub players: ByDate<PlayerBoxscore>,
    /// Final games of 2024-25 and 2025-26 from the games file.
    pub schedule: ByDate<ScheduleGame>,
}

pub fn real() -> &'static RealData {
    static DATA_ONCE: OnceLock<RealData> = OnceLock::new();
    DATA_ONCE.get_or_init(|| {
        let mut teams = team_rows("team_game_logs_2014_15_to_2024_25.csv.gz");
        teams.extend(team_rows("team_game_logs_2025_26_before_2025-11-10.csv.gz"));
        let mut players = player_rows("player_game_logs_2024_25.csv.gz");
        players.extend(player_rows(
            "player_game_logs_2025_26_before_2025-11-10.csv.gz",
        ));
        RealData {
            teams: ByDate::new(teams, |r| r.game_date),
            players: ByDate::new(players, |r| r.game_date),
            schedule: ByDate::new(schedule_rows(), |r| r.game_date),
        }
    })
}

/// Final scores per game id from the real 2024-25 CDN schedule
/// (`raw_samples/seed_system/nbac_schedule_api/raw_80cb1fd6.json.gz`):
/// game id → [(home tricode, home score), (away tricode, away score)].
pub fn real_cdn_scores_2024_25() -> HashMap<String, [(String, i64); 2]> {
    let path = format!("{DATA}/raw_samples/seed_system/nbac_schedule_api/raw_80cb1fd6.json.gz");
    let mut text = String::new();
    GzDecoder::new(File::open(&path).expect("cdn schedule"))
        .read_to_string(&mut text)
        .expect("gunzip");
    let json: serde_json::Value = serde_json::from_str(&text).expect("json");
    let mut out = HashMap::new();
    for day in json["leagueSchedule"]["gameDates"]
        .as_array()
        .expect("gameDates")
    {
        for g in day["games"].as_array().expect("games") {
            if g["gameStatus"].as_i64() != Some(3) {
                continue;
            }
            let side = |k: &str| {
                (
                    g[k]["teamTricode"].as_str().unwrap_or_default().to_string(),
                    g[k]["score"].as_i64().unwrap_or(-1),
                )
            };
            out.insert(
                g["gameId"].as_str().unwrap_or_default().to_string(),
                [side("homeTeam"), side("awayTeam")],
            );
        }
    }
    out
}

/// The 2025-26 CDN schedule of the landing zone
/// (`landing/nba-com/schedule-cdn/2025-26/20251110_080500.json`) as Phase 2
/// writes it: 147 final games to 2025-11-09, then upcoming games (status
/// 1, `gameId` "" → NULL game id, no scores) from 2025-11-10 on.
pub fn landing_schedule_2025_26() -> &'static [ScheduleGame] {
    static ONCE: OnceLock<Vec<ScheduleGame>> = OnceLock::new();
    ONCE.get_or_init(|| {
        let name = "landing/nba-com/schedule-cdn/2025-26/20251110_080500.json";
        let text = std::fs::read_to_string(format!("{DATA}/{name}")).expect("landing schedule");
        let json: serde_json::Value = serde_json::from_str(&text).expect("json");
        let mut out = Vec::new();
        for day in json["leagueSchedule"]["gameDates"]
            .as_array()
            .expect("gameDates")
        {
            let us = day["gameDate"].as_str().expect("gameDate");
            let game_date = NaiveDate::parse_from_str(&us[..10], "%m/%d/%Y").expect("date");
            for g in day["games"].as_array().expect("games") {
                let status = g["gameStatus"].as_i64().expect("status");
                let id = g["gameId"].as_str().unwrap_or_default();
                let side = |k: &str| {
                    (
                        g[k]["teamTricode"].as_str().unwrap_or_default().to_string(),
                        g[k]["teamId"].as_i64().unwrap_or(0),
                        g[k]["score"].as_i64().filter(|_| status == 3),
                    )
                };
                let (home, home_id, home_score) = side("homeTeam");
                let (away, away_id, away_score) = side("awayTeam");
                out.push(ScheduleGame {
                    game_date,
                    game_id: (!id.is_empty()).then(|| id.to_string()),
                    game_code: g["gameCode"].as_str().unwrap_or_default().to_string(),
                    season: 2025,
                    season_type: match id.get(2..3) {
                        Some("1") => "Preseason",
                        Some("4") => "Playoffs",
                        Some("5") => "Play-In",
                        _ => "Regular Season",
                    }
                    .to_string(),
                    game_status: status,
                    home_team_abbr: home,
                    away_team_abbr: away,
                    home_team_id: home_id,
                    away_team_id: away_id,
                    home_score,
                    away_score,
                    tipoff_time: g["gameDateTimeUTC"]
                        .as_str()
                        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                        .map(|t| t.with_timezone(&chrono::Utc)),
                    arena_name: g["arenaName"].as_str().map(str::to_string),
                    source_file: name.to_string(),
                });
            }
        }
        out
    })
}

/// The 2025-26 `player_points` lines of the props CSV as Phase 2 writes
/// them: a sportsbook name resolves to the tracked player with that lookup
/// whose latest game on or before the date was for one of the event's
/// teams; other names stay unresolved (`player_id` NULL).
pub fn points_props_2025_26() -> &'static ByDate<propcast_core::tables::PlayerProp> {
    use chrono::{DateTime, NaiveDateTime, Utc};
    use propcast_core::tables::PlayerProp;
    static ONCE: OnceLock<ByDate<PlayerProp>> = OnceLock::new();
    ONCE.get_or_init(|| {
        let mut tricodes: HashMap<String, String> =
            records("team_game_logs_2025_26_before_2025-11-10.csv.gz")
                .into_iter()
                .map(|r| (r["TEAM_NAME"].clone(), r["TEAM_ABBREVIATION"].clone()))
                .collect();
        tricodes.insert("Los Angeles Clippers".into(), "LAC".into());
        let players = &real().players.all;
        let mut by_lookup: HashMap<&str, Vec<&PlayerBoxscore>> = HashMap::new();
        for p in players {
            by_lookup
                .entry(p.player_lookup.as_str())
                .or_default()
                .push(p);
        }
        let name = "props_odds_api_2025_26_before_2025-11-10.csv.gz";
        let mut out = Vec::new();
        for r in records(name)
            .into_iter()
            .filter(|r| r["market"] == "player_points")
        {
            let d = date(&r["game_date_et"]);
            let (away, home) = r["game"].split_once(" @ ").expect("game");
            let (away, home) = (tricodes[away].clone(), tricodes[home].clone());
            let lookup = normalize_name_for_lookup(&r["player"]);
            let resolved = by_lookup
                .get(lookup.as_str())
                .and_then(|gs| {
                    gs.iter()
                        .filter(|g| g.game_date <= d)
                        .max_by_key(|g| g.game_date)
                })
                .filter(|g| g.team_abbr == home || g.team_abbr == away);
            let snapshot = NaiveDateTime::parse_from_str(&r["snapshot_utc"], "%Y%m%d_%H%M%S")
                .expect("snapshot")
                .and_utc();
            let commence = DateTime::parse_from_rfc3339(&r["game_time"])
                .expect("game_time")
                .with_timezone(&Utc);
            let price = |k: &str| r[k].parse::<f64>().ok().map(|p| p.round() as i64);
            out.push(PlayerProp {
                game_date: d,
                event_id: r["event_id"].clone(),
                snapshot_time: snapshot,
                commence_time: commence,
                minutes_before_tipoff: (commence - snapshot).num_minutes(),
                home_team_abbr: home,
                away_team_abbr: away,
                bookmaker: r["bookmaker"].clone(),
                market: "player_points".to_string(),
                player_name: r["player"].clone(),
                player_lookup: lookup,
                player_id: resolved.map(|g| g.player_id),
                team_abbr: resolved.map(|g| g.team_abbr.clone()),
                line: r["line"].parse().expect("line"),
                over_price: price("over_odds"),
                under_price: price("under_odds"),
                source_file: name.to_string(),
            });
        }
        ByDate::new(out, |p| p.game_date)
    })
}
