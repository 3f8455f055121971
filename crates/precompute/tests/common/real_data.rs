//! Test support (unit tests via `#[path]`, integration tests as a module):
//! the real shared data (`../shared/data`) as the rows the cache reads,
//! in the core row types: player game logs as `player_game_summary` rows,
//! the games file as final schedule rows, and the 2025-26 `player_points`
//! lines with player ids resolved by normalised name against the game logs.

#![allow(dead_code)]

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use flate2::read::GzDecoder;
use propcast_core::normalize_name_for_lookup;
use propcast_core::tables::{PlayerGameSummary, PlayerProp, ScheduleGame};
use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::sync::OnceLock;

pub const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");

fn records(name: &str) -> Vec<HashMap<String, String>> {
    let path = format!("{DATA}/{name}");
    let file = File::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let input: Box<dyn Read> = if name.ends_with(".gz") {
        Box::new(GzDecoder::new(file))
    } else {
        Box::new(file)
    };
    let mut rdr = csv::Reader::from_reader(input);
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

pub fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("date")
}

fn int(r: &HashMap<String, String>, key: &str) -> i64 {
    r[key]
        .parse::<f64>()
        .unwrap_or_else(|_| panic!("{key}={:?}", r[key]))
        .round() as i64
}

pub struct RealData {
    /// Every tracked player game of 2024-25 and 2025-26 with a game id.
    pub games: Vec<PlayerGameSummary>,
    /// Final games of 2024-25 and 2025-26.
    pub schedule: Vec<ScheduleGame>,
    /// 2025-26 `player_points` lines whose name matches a tracked player.
    pub points_props: Vec<PlayerProp>,
    /// 2025-26 `player_points` lines in the CSV (resolved or not).
    pub points_lines: usize,
}

impl RealData {
    pub fn schedule_on(&self, d: NaiveDate) -> Vec<ScheduleGame> {
        self.schedule
            .iter()
            .filter(|g| g.game_date == d)
            .cloned()
            .collect()
    }

    pub fn games_on(&self, d: NaiveDate) -> Vec<PlayerGameSummary> {
        self.games
            .iter()
            .filter(|g| g.game_date == d)
            .cloned()
            .collect()
    }

    pub fn props_on(&self, d: NaiveDate) -> Vec<PlayerProp> {
        self.points_props
            .iter()
            .filter(|p| p.game_date == d)
            .cloned()
            .collect()
    }
}

fn game_summary(r: &HashMap<String, String>) -> PlayerGameSummary {
    let team = r["team"].clone();
    PlayerGameSummary {
        game_date: date(&r["date"]),
        game_id: r["game_id"].clone(),
        season: r["season"][..4].parse().expect("season"),
        player_id: int(r, "player_id"),
        player_lookup: normalize_name_for_lookup(&r["player"]),
        player_name: r["player"].clone(),
        opponent_abbr: r["opponent"].clone(),
        is_home: r["home_away"] == "HOME",
        team_abbr: team,
        minutes: r["minutes"].parse().expect("minutes"),
        points: int(r, "pts"),
        fgm: int(r, "fgm"),
        fga: int(r, "fga"),
        fg3m: int(r, "threes_made"),
        fg3a: int(r, "threes_attempted"),
        ftm: int(r, "ftm"),
        fta: int(r, "fta"),
        oreb: int(r, "oreb"),
        dreb: int(r, "dreb"),
        reb: int(r, "reb"),
        ast: int(r, "ast"),
        stl: int(r, "stl"),
        blk: int(r, "blk"),
        tov: int(r, "tov"),
        pf: int(r, "pf"),
        plus_minus: Some(int(r, "plus_minus")),
        ts_pct: None,
        efg_pct: None,
        usage_rate: None,
        game_score: 0.0,
        win_flag: Some(r["result"] == "W"),
        is_dnp: false,
        data_quality: "player_only".to_string(),
    }
}

fn utc(text: &str, format: &str) -> DateTime<Utc> {
    NaiveDateTime::parse_from_str(text, format)
        .unwrap_or_else(|_| panic!("{text:?}"))
        .and_utc()
}

pub fn real() -> &'static RealData {
    static ONCE: OnceLock<RealData> = OnceLock::new();
    ONCE.get_or_init(|| {
        let mut games = Vec::new();
        for name in [
            "player_game_logs_2024_25.csv.gz",
            "player_game_logs_2025_26_before_2025-11-10.csv.gz",
        ] {
            games.extend(
                records(name)
                    .iter()
                    .filter(|r| !r["game_id"].is_empty())
                    .map(game_summary),
            );
        }
        let schedule = records("games_2014_15_to_2025_26_before_2025-11-10.csv")
            .into_iter()
            .filter(|r| r["season"] == "2024-25" || r["season"] == "2025-26")
            .map(|r| {
                let game_date = date(&r["game_date"]);
                ScheduleGame {
                    game_date,
                    game_id: Some(r["game_id"].clone()),
                    game_code: format!(
                        "{}/{}{}",
                        game_date.format("%Y%m%d"),
                        r["away_team"],
                        r["home_team"]
                    ),
                    season: r["season"][..4].parse().expect("season"),
                    season_type: r["season_type"].clone(),
                    game_status: 3,
                    home_team_abbr: r["home_team"].clone(),
                    away_team_abbr: r["away_team"].clone(),
                    home_team_id: r["home_team_id"].parse().unwrap_or(0),
                    away_team_id: r["away_team_id"].parse().unwrap_or(0),
                    home_score: r["home_pts"].parse().ok(),
                    away_score: r["away_pts"].parse().ok(),
                    tipoff_time: None,
                    arena_name: None,
                    source_file: "games_2014_15_to_2025_26_before_2025-11-10.csv".to_string(),
                }
            })
            .collect();

        // Team full names (as sportsbooks write them) → tricodes.
        let mut tricodes: HashMap<String, String> =
            records("team_game_logs_2025_26_before_2025-11-10.csv.gz")
                .into_iter()
                .map(|r| (r["TEAM_NAME"].clone(), r["TEAM_ABBREVIATION"].clone()))
                .collect();
        tricodes.insert("Los Angeles Clippers".into(), "LAC".into());
        // Phase 2 stand-in: a sportsbook name resolves to the tracked player
        // with that lookup whose team (latest game on or before the date)
        // plays in the event.
        let mut by_lookup: HashMap<&str, Vec<&PlayerGameSummary>> = HashMap::new();
        for g in &games {
            by_lookup
                .entry(g.player_lookup.as_str())
                .or_default()
                .push(g);
        }
        let lines: Vec<_> = records("props_odds_api_2025_26_before_2025-11-10.csv.gz")
            .into_iter()
            .filter(|r| r["market"] == "player_points")
            .collect();
        let mut points_props = Vec::new();
        for r in &lines {
            let d = date(&r["game_date_et"]);
            let (away, home) = r["game"].split_once(" @ ").expect("game");
            let (away, home) = (tricodes[away].clone(), tricodes[home].clone());
            let lookup = normalize_name_for_lookup(&r["player"]);
            let latest = by_lookup.get(lookup.as_str()).and_then(|gs| {
                gs.iter()
                    .filter(|g| g.game_date <= d)
                    .max_by_key(|g| g.game_date)
                    .copied()
            });
            let Some(g) = latest.filter(|g| g.team_abbr == home || g.team_abbr == away) else {
                continue;
            };
            let snapshot = utc(&r["snapshot_utc"], "%Y%m%d_%H%M%S");
            let commence = DateTime::parse_from_rfc3339(&r["game_time"])
                .expect("game_time")
                .with_timezone(&Utc);
            points_props.push(PlayerProp {
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
                player_id: Some(g.player_id),
                team_abbr: Some(g.team_abbr.clone()),
                line: r["line"].parse().expect("line"),
                over_price: r["over_odds"].parse::<f64>().ok().map(|p| p.round() as i64),
                under_price: r["under_odds"]
                    .parse::<f64>()
                    .ok()
                    .map(|p| p.round() as i64),
                source_file: "props_odds_api_2025_26_before_2025-11-10.csv.gz".to_string(),
            });
        }
        RealData {
            games,
            schedule,
            points_props,
            points_lines: lines.len(),
        }
    })
}
