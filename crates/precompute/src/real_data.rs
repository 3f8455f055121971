//! Test support: the real shared data (`../shared/data`) as the rows the
//! cache reads: player game logs as player_game_summary games, the games
//! file as final schedule rows, and the points props of 2025-26 with player
//! ids resolved by normalised name against the game logs.

use crate::player_daily_cache::{PriorGame, PropPlayer};
use chrono::NaiveDate;
use flate2::read::GzDecoder;
use propcast_core::normalize_name_for_lookup;
use propcast_core::tables::ScheduleGame;
use std::collections::{BTreeSet, HashMap};
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

pub struct RealData {
    /// Every tracked player game of 2024-25 and 2025-26 (with a game id).
    pub games: Vec<PriorGame>,
    /// Final games of 2024-25 and 2025-26.
    pub schedule: Vec<ScheduleGame>,
    /// (game date, sportsbook name) of every 2025-26 player_points line.
    pub points_lines: BTreeSet<(NaiveDate, String)>,
}

impl RealData {
    pub fn schedule_on(&self, d: NaiveDate) -> Vec<ScheduleGame> {
        self.schedule
            .iter()
            .filter(|g| g.game_date == d)
            .cloned()
            .collect()
    }

    /// The resolved points-line players of `d`: sportsbook names matched to
    /// a tracked player by normalised name, team = the player's team in his
    /// latest game on or before `d` (a stand-in for Phase 2's resolution).
    pub fn prop_players_on(&self, d: NaiveDate) -> Vec<PropPlayer> {
        let mut latest: HashMap<String, &PriorGame> = HashMap::new();
        for g in self.games.iter().filter(|g| g.game_date <= d) {
            let e = latest.entry(g.player_lookup.clone()).or_insert(g);
            if g.game_date > e.game_date {
                *e = g;
            }
        }
        let mut out: Vec<PropPlayer> = self
            .points_lines
            .iter()
            .filter(|(day, _)| *day == d)
            .filter_map(|(_, name)| {
                let lookup = normalize_name_for_lookup(name);
                latest.get(&lookup).map(|g| PropPlayer {
                    player_id: g.player_id,
                    team_abbr: Some(g.team_abbr.clone()),
                    player_lookup: lookup.clone(),
                    player_name: name.clone(),
                })
            })
            .collect();
        out.sort();
        out
    }
}

pub fn real() -> &'static RealData {
    static ONCE: OnceLock<RealData> = OnceLock::new();
    ONCE.get_or_init(|| {
        let mut games = Vec::new();
        for name in [
            "player_game_logs_2024_25.csv.gz",
            "player_game_logs_2025_26_before_2025-11-10.csv.gz",
        ] {
            for r in records(name) {
                if r["game_id"].is_empty() {
                    continue;
                }
                games.push(PriorGame {
                    player_id: r["player_id"].parse().expect("player_id"),
                    player_lookup: normalize_name_for_lookup(&r["player"]),
                    player_name: r["player"].clone(),
                    team_abbr: r["team"].clone(),
                    game_id: r["game_id"].clone(),
                    game_date: date(&r["date"]),
                    points: r["pts"].parse().expect("pts"),
                    minutes: r["minutes"].parse().expect("minutes"),
                });
            }
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
        let points_lines = records("props_odds_api_2025_26_before_2025-11-10.csv.gz")
            .into_iter()
            .filter(|r| r["market"] == "player_points")
            .map(|r| (date(&r["game_date_et"]), r["player"].clone()))
            .collect();
        RealData {
            games,
            schedule,
            points_lines,
        }
    })
}
