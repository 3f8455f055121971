//! The raw rows Phase 3 reads, from the real shared data. The CSV → row
//! mapping mirrors what Phase 2 writes: team and player game logs become box
//! score rows (the opponent is the MATCHUP tricode that is not the team's
//! own; "X @ Y" means Y is at home, "X vs. Y" X), the games file becomes
//! final schedule rows, and the real 2024-25 CDN schedule from the original
//! system's samples is an independent score oracle.

pub use crate::{ByDate, DATA, date};
use crate::{float, int, records};
use chrono::NaiveDate;
use flate2::read::GzDecoder;
use propcast_core::normalize_name_for_lookup;
use propcast_core::tables::{PlayerBoxscore, PlayerProp, ScheduleGame, TeamBoxscore};
use propcast_platform::{Warehouse, WarehouseExt};
use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::sync::OnceLock;

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

/// The games file's final games, `season_type` as the schedule writes it.
fn schedule_rows() -> Vec<ScheduleGame> {
    let mut rows = crate::games_file_schedule();
    for g in &mut rows {
        g.season_type = match g.season_type.as_str() {
            "preseason" => "Preseason",
            "regular" => "Regular Season",
            "playoffs" => "Playoffs",
            "play-in" => "Play-In",
            "cup-final" => "NBA Cup",
            "3" => "All-Star",
            other => panic!("season type {other:?}"),
        }
        .to_string();
    }
    rows
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

/// Writes the date's real team and player box scores and final schedule
/// into `wh` (whose tables exist).
pub async fn write_date<W: Warehouse + ?Sized>(wh: &W, d: NaiveDate) {
    let r = real();
    wh.replace_rows::<TeamBoxscore>(d, &[], r.teams.on(d))
        .await
        .unwrap();
    wh.replace_rows::<PlayerBoxscore>(d, &[], r.players.on(d))
        .await
        .unwrap();
    wh.replace_rows::<ScheduleGame>(d, &[], r.schedule.on(d))
        .await
        .unwrap();
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
pub fn points_props_2025_26() -> &'static ByDate<PlayerProp> {
    static ONCE: OnceLock<ByDate<PlayerProp>> = OnceLock::new();
    ONCE.get_or_init(|| {
        let games = real().players.all.iter().map(|p| {
            (
                p.player_lookup.as_str(),
                p.game_date,
                p.team_abbr.as_str(),
                p.player_id,
            )
        });
        ByDate::new(crate::points_props::points_props(games), |p| p.game_date)
    })
}
