//! The rows Phase 4 reads, from the real shared data: player game logs as
//! `player_game_summary` rows, the games file as final schedule rows (its
//! own `season_type` text), and the 2025-26 `player_points` lines with
//! player ids resolved by normalised name against the game logs.

pub use crate::{DATA, date};
use crate::{Row, int, records};
use chrono::NaiveDate;
use propcast_core::Table;
use propcast_core::normalize_name_for_lookup;
use propcast_core::tables::{PlayerDailyCache, PlayerGameSummary, PlayerProp, ScheduleGame};
use propcast_platform::embedded::DuckDbWarehouse;
use propcast_platform::{Warehouse, WarehouseExt};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::OnceLock;

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

fn game_summary(r: &Row) -> PlayerGameSummary {
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
        let lines = crate::points_props::points_props(games.iter().map(|g| {
            (
                g.player_lookup.as_str(),
                g.game_date,
                g.team_abbr.as_str(),
                g.player_id,
            )
        }));
        let points_lines = lines.len();
        // Only the lines whose name matches a tracked player.
        let points_props = lines
            .into_iter()
            .filter(|p| p.player_id.is_some())
            .collect();
        RealData {
            games,
            schedule: crate::games_file_schedule(),
            points_props,
            points_lines,
        }
    })
}

/// An in-memory warehouse with every real input of both seasons (games,
/// final schedule, resolved points lines, each schedule date) and an empty
/// `player_daily_cache`.
pub async fn loaded_warehouse() -> Arc<DuckDbWarehouse> {
    let wh = Arc::new(DuckDbWarehouse::in_memory().expect("duckdb"));
    let r = real();
    for def in [
        PlayerGameSummary::DEF,
        ScheduleGame::DEF,
        PlayerProp::DEF,
        PlayerDailyCache::DEF,
    ] {
        wh.ensure_table(&def).await.unwrap();
    }
    let dates: BTreeSet<NaiveDate> = r.schedule.iter().map(|g| g.game_date).collect();
    for d in dates {
        wh.replace_rows(d, &[], &r.schedule_on(d)).await.unwrap();
        let games = r.games_on(d);
        if !games.is_empty() {
            wh.replace_rows(d, &[], &games).await.unwrap();
        }
        let props = r.props_on(d);
        if !props.is_empty() {
            wh.replace_rows(d, &[], &props).await.unwrap();
        }
    }
    wh
}
