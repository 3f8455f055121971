//! Row types of every table, grouped by dataset.
//!
//! Conventions: every table has a DATE partition column (`game_date`);
//! columns named `*_at`, `execution_id`, `correlation_id`, `run_id` and
//! `batch_id` are run metadata; everything else is deterministic for a given
//! input. A snapshot instant that is data (not run metadata) is named
//! `*_time`.

use crate::table;
use chrono::{DateTime, NaiveDate, Utc};

// ---------------------------------------------------------------- nba_raw

table! {
    /// One game of the schedule (CDN `scheduleLeagueV2`). Upcoming games have
    /// no NBA game id yet (`game_id` NULL): key on date + teams.
    pub struct ScheduleGame in "nba_raw"."schedule", partition game_date,
    key [game_date, home_team_abbr, away_team_abbr] {
        pub game_date: NaiveDate,
        /// NBA game id ("0022400975"); NULL for games not yet given one.
        pub game_id: Option<String>,
        /// "20250315/WASDEN".
        pub game_code: String,
        /// Season start year (2024 for 2024-25).
        pub season: i64,
        /// "Preseason", "Regular Season", "Play-In", "Playoffs", "NBA Cup".
        pub season_type: String,
        /// 1 scheduled, 2 live, 3 final.
        pub game_status: i64,
        pub home_team_abbr: String,
        pub away_team_abbr: String,
        pub home_team_id: i64,
        pub away_team_id: i64,
        /// Final scores; NULL unless the game is final.
        pub home_score: Option<i64>,
        pub away_score: Option<i64>,
        /// Tip-off instant; NULL when the source has no time.
        pub tipoff_time: Option<DateTime<Utc>>,
        pub arena_name: Option<String>,
        pub source_file: String,
    }
}

table! {
    /// One player's traditional box score line in one game (stats
    /// `leaguegamelog`, player mode). The source holds only players who
    /// played; there are no DNP rows.
    pub struct PlayerBoxscore in "nba_raw"."player_boxscores", partition game_date,
    key [game_id, player_id] {
        pub game_date: NaiveDate,
        pub game_id: String,
        pub season: i64,
        pub player_id: i64,
        /// As spelled by the source.
        pub player_name: String,
        pub player_lookup: String,
        pub team_id: i64,
        pub team_abbr: String,
        pub opponent_abbr: String,
        pub is_home: bool,
        /// "W" or "L".
        pub wl: Option<String>,
        pub minutes: f64,
        pub fgm: i64,
        pub fga: i64,
        pub fg3m: i64,
        pub fg3a: i64,
        pub ftm: i64,
        pub fta: i64,
        pub oreb: i64,
        pub dreb: i64,
        pub reb: i64,
        pub ast: i64,
        pub stl: i64,
        pub blk: i64,
        pub tov: i64,
        pub pf: i64,
        pub pts: i64,
        pub plus_minus: Option<i64>,
        pub source_file: String,
    }
}

table! {
    /// One team's box score in one game (stats `leaguegamelog`, team mode).
    pub struct TeamBoxscore in "nba_raw"."team_boxscores", partition game_date,
    key [game_id, team_abbr] {
        pub game_date: NaiveDate,
        pub game_id: String,
        pub season: i64,
        /// "Preseason", "Regular Season", "Playoffs", "Play-In", "NBA Cup"
        /// (from the first digit of SEASON_ID).
        pub season_type: String,
        pub team_id: i64,
        pub team_abbr: String,
        pub team_name: String,
        pub opponent_abbr: String,
        pub is_home: bool,
        pub wl: Option<String>,
        /// Team minutes (240 in regulation, +25 per overtime).
        pub minutes: f64,
        pub fgm: i64,
        pub fga: i64,
        pub fg3m: i64,
        pub fg3a: i64,
        pub ftm: i64,
        pub fta: i64,
        pub oreb: i64,
        pub dreb: i64,
        pub reb: i64,
        pub ast: i64,
        pub stl: i64,
        pub blk: i64,
        pub tov: i64,
        pub pf: i64,
        pub pts: i64,
        pub plus_minus: Option<i64>,
        pub source_file: String,
    }
}

table! {
    /// One sportsbook line for one player, market and snapshot (The Odds API
    /// historical event odds). Over and Under outcomes are joined into one row.
    pub struct PlayerProp in "nba_raw"."player_props", partition game_date,
    key [snapshot_time, event_id, bookmaker, market, player_lookup, line] {
        pub game_date: NaiveDate,
        pub event_id: String,
        /// When the sportsbook data was captured (data, not run metadata).
        pub snapshot_time: DateTime<Utc>,
        pub commence_time: DateTime<Utc>,
        /// Minutes from snapshot to tip-off; negative = in-game snapshot.
        pub minutes_before_tipoff: i64,
        pub home_team_abbr: String,
        pub away_team_abbr: String,
        pub bookmaker: String,
        /// "player_points", "player_rebounds", ...
        pub market: String,
        /// As spelled by the sportsbook.
        pub player_name: String,
        pub player_lookup: String,
        /// NBA person id, resolved by lookup + date + team; NULL if unresolved.
        pub player_id: Option<i64>,
        pub team_abbr: Option<String>,
        pub line: f64,
        /// American odds (decimal prices in the payload are converted).
        pub over_price: Option<i64>,
        pub under_price: Option<i64>,
        pub source_file: String,
    }
}

table! {
    /// A sportsbook name that could not be resolved to an NBA player id, with
    /// how many prop rows carried it. Never dropped silently.
    pub struct UnresolvedPlayerName in "nba_reference"."unresolved_player_names", partition game_date,
    key [game_date, source, player_lookup] {
        pub game_date: NaiveDate,
        pub source: String,
        pub player_name: String,
        pub player_lookup: String,
        /// The two teams of the event(s) the name appeared in ("BOS,WAS").
        pub candidate_teams: String,
        pub occurrences: i64,
        pub reason: String,
    }
}

// ---------------------------------------------------------- nba_analytics

table! {
    /// A player's game with efficiency and usage (Phase 3).
    pub struct PlayerGameSummary in "nba_analytics"."player_game_summary", partition game_date,
    key [game_date, player_lookup] {
        pub game_date: NaiveDate,
        pub game_id: String,
        pub season: i64,
        pub player_id: i64,
        pub player_lookup: String,
        pub player_name: String,
        pub team_abbr: String,
        pub opponent_abbr: String,
        pub is_home: bool,
        pub minutes: f64,
        pub points: i64,
        pub fgm: i64,
        pub fga: i64,
        pub fg3m: i64,
        pub fg3a: i64,
        pub ftm: i64,
        pub fta: i64,
        pub oreb: i64,
        pub dreb: i64,
        pub reb: i64,
        pub ast: i64,
        pub stl: i64,
        pub blk: i64,
        pub tov: i64,
        pub pf: i64,
        pub plus_minus: Option<i64>,
        /// PTS / (2·(FGA + 0.44·FTA)); NULL without attempts.
        pub ts_pct: Option<f64>,
        /// (FGM + 0.5·3PM) / FGA; NULL without attempts.
        pub efg_pct: Option<f64>,
        /// 100·(FGA + 0.44·FTA + TOV)·(team minutes/5) / (MIN·team plays);
        /// NULL without team totals or minutes, or above 100.
        pub usage_rate: Option<f64>,
        pub game_score: f64,
        /// From the team's final score vs the opponent's.
        pub win_flag: Option<bool>,
        pub is_dnp: bool,
        /// "team_boxscore" when team totals were found, else "player_only".
        pub data_quality: String,
    }
}

table! {
    /// A team's offense in one game (Phase 3).
    pub struct TeamOffenseGameSummary in "nba_analytics"."team_offense_game_summary", partition game_date,
    key [game_date, team_abbr] {
        pub game_date: NaiveDate,
        pub game_id: String,
        pub season: i64,
        pub season_type: String,
        pub team_abbr: String,
        pub opponent_abbr: String,
        pub is_home: bool,
        pub points: i64,
        pub opponent_points: Option<i64>,
        pub win_flag: Option<bool>,
        pub minutes: Option<f64>,
        pub fgm: Option<i64>,
        pub fga: Option<i64>,
        pub fg3m: Option<i64>,
        pub fg3a: Option<i64>,
        pub ftm: Option<i64>,
        pub fta: Option<i64>,
        pub oreb: Option<i64>,
        pub dreb: Option<i64>,
        pub ast: Option<i64>,
        pub tov: Option<i64>,
        /// Oliver possessions, averaged over both teams when both box scores exist.
        pub possessions: Option<f64>,
        /// possessions · 48 / (team minutes / 5).
        pub pace: Option<f64>,
        pub offensive_rating: Option<f64>,
        pub efg_pct: Option<f64>,
        pub ts_pct: Option<f64>,
        /// "both_teams", "single_team" (opponent box score missing: possessions
        /// from this team alone) or "derived_from_opponent" (this team's box
        /// score missing: points only, from the opponent's plus-minus).
        pub data_quality: String,
    }
}

table! {
    /// A team's defense in one game: the opponent's offense, seen from the
    /// defending side (Phase 3).
    pub struct TeamDefenseGameSummary in "nba_analytics"."team_defense_game_summary", partition game_date,
    key [game_date, defending_team_abbr] {
        pub game_date: NaiveDate,
        pub game_id: String,
        pub season: i64,
        pub defending_team_abbr: String,
        pub opponent_abbr: String,
        pub is_home: bool,
        pub points_allowed: i64,
        pub opp_fgm: Option<i64>,
        pub opp_fga: Option<i64>,
        pub opp_fg3m: Option<i64>,
        pub opp_fg3a: Option<i64>,
        pub opp_ftm: Option<i64>,
        pub opp_fta: Option<i64>,
        pub turnovers_forced: Option<i64>,
        pub steals: Option<i64>,
        pub blocks: Option<i64>,
        pub defensive_rebounds: Option<i64>,
        pub possessions: Option<f64>,
        pub defensive_rating: Option<f64>,
        pub opp_efg_pct: Option<f64>,
        pub opp_ts_pct: Option<f64>,
        pub data_quality: String,
    }
}

// --------------------------------------------------------- nba_precompute

table! {
    /// For each player whose team plays on `game_date`: points and minutes
    /// averages from games strictly before that date (Phase 4).
    pub struct PlayerDailyCache in "nba_precompute"."player_daily_cache", partition game_date,
    key [game_date, player_lookup] {
        pub game_date: NaiveDate,
        pub player_lookup: String,
        pub player_id: i64,
        pub player_name: String,
        pub team_abbr: String,
        pub opponent_abbr: String,
        pub is_home: bool,
        /// Schedule game id, or the game code when the id is not known yet.
        pub game_id: String,
        pub season: i64,
        /// Games this season before `game_date`.
        pub games_played_season: i64,
        pub points_avg_last_5: Option<f64>,
        pub points_avg_last_10: Option<f64>,
        pub points_avg_season: Option<f64>,
        pub points_std_last_10: Option<f64>,
        pub minutes_avg_last_5: Option<f64>,
        pub minutes_avg_last_10: Option<f64>,
        pub minutes_avg_season: Option<f64>,
        /// Games in the 7 days before `game_date`.
        pub games_last_7_days: i64,
        /// Calendar days since the previous game (1 = back-to-back).
        pub days_rest: Option<i64>,
        pub last_game_date: Option<NaiveDate>,
        /// "complete" (≥ 10 games), "partial" (1–9) or "none" (0).
        pub calculation_quality: String,
    }
}

// -------------------------------------------------------- nba_predictions

table! {
    /// One system's points prediction for one player-game (Phase 5).
    pub struct PlayerPropPrediction in "nba_predictions"."player_prop_predictions", partition game_date,
    key [game_date, game_id, player_lookup, system_id] {
        pub game_date: NaiveDate,
        pub game_id: String,
        pub player_lookup: String,
        pub player_id: i64,
        pub team_abbr: String,
        pub opponent_abbr: String,
        pub system_id: String,
        pub predicted_points: f64,
        /// 0–1.
        pub confidence: f64,
        /// The real pre-tip line; NULL when no sportsbook offered one.
        pub line_value: Option<f64>,
        /// "ACTUAL_PROP" or "NO_PROP_LINE".
        pub line_source: String,
        pub sportsbook: Option<String>,
        pub line_snapshot_time: Option<DateTime<Utc>>,
        pub line_minutes_before_tipoff: Option<i64>,
        /// "OVER", "UNDER", "PASS" or "NO_LINE".
        pub recommendation: String,
        /// JSON: inputs, applied and omitted adjustments.
        pub metadata: String,
        pub execution_id: String,
        pub created_at: DateTime<Utc>,
    }
}

table! {
    /// A prediction graded against the actual outcome (Phase 5 grading).
    pub struct PredictionAccuracy in "nba_predictions"."prediction_accuracy", partition game_date,
    key [game_date, player_lookup, system_id] {
        pub game_date: NaiveDate,
        pub game_id: String,
        pub player_lookup: String,
        pub system_id: String,
        pub predicted_points: f64,
        pub confidence: f64,
        pub line_value: Option<f64>,
        pub line_source: String,
        pub recommendation: String,
        pub actual_points: Option<i64>,
        pub absolute_error: Option<f64>,
        pub signed_error: Option<f64>,
        pub within_3_points: Option<bool>,
        pub within_5_points: Option<bool>,
        /// NULL unless an OVER/UNDER call on a real line that did not push.
        pub prediction_correct: Option<bool>,
        pub is_push: bool,
        pub is_voided: bool,
        /// "did_not_play" when the player has no game row for the date.
        pub void_reason: Option<String>,
        pub graded_at: DateTime<Utc>,
    }
}

// --------------------------------------------------------- nba_processing

table! {
    /// Run history: every processor run, including skips and failures.
    pub struct ProcessorRun in "nba_processing"."processor_runs", partition game_date,
    key [run_id] {
        pub run_id: String,
        pub execution_id: String,
        pub correlation_id: String,
        pub processor: String,
        pub phase: i64,
        pub game_date: NaiveDate,
        /// "success", "partial", "no_data", "skipped", "failed".
        pub status: String,
        pub skip_reason: Option<String>,
        pub error: Option<String>,
        pub rows_written: i64,
        pub records_quarantined: i64,
        pub duration_ms: i64,
        pub mode: String,
        pub started_at: DateTime<Utc>,
        pub finished_at: DateTime<Utc>,
    }
}

table! {
    /// A malformed file or record set aside with the file, record, field and
    /// reason, so the rest of the date proceeds.
    pub struct QuarantineRecord in "nba_processing"."quarantine", partition game_date,
    key [game_date, processor, source_file, record, field] {
        pub game_date: NaiveDate,
        pub processor: String,
        pub source_file: String,
        /// Where in the file: "resultSets[0].rowSet[17]", or "file".
        pub record: String,
        /// The offending field ("PTS"), or "" for the whole file.
        pub field: String,
        pub reason: String,
        /// Up to 200 characters of the offending value or record.
        pub excerpt: String,
        pub run_id: String,
        pub quarantined_at: DateTime<Utc>,
    }
}

/// Every table, in dependency order (raw first).
pub const ALL_TABLES: &[crate::catalog::TableDef] = {
    use crate::catalog::Table;
    &[
        ScheduleGame::DEF,
        PlayerBoxscore::DEF,
        TeamBoxscore::DEF,
        PlayerProp::DEF,
        UnresolvedPlayerName::DEF,
        TeamOffenseGameSummary::DEF,
        TeamDefenseGameSummary::DEF,
        PlayerGameSummary::DEF,
        PlayerDailyCache::DEF,
        PlayerPropPrediction::DEF,
        PredictionAccuracy::DEF,
        ProcessorRun::DEF,
        QuarantineRecord::DEF,
    ]
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{ColumnType, Table};

    #[test]
    fn catalog_follows_the_row_types() {
        let def = PlayerGameSummary::DEF;
        assert_eq!(def.qualified(), "nba_analytics.player_game_summary");
        let minutes = def.column("minutes").unwrap();
        assert_eq!(minutes.ty, ColumnType::Float);
        assert!(!minutes.nullable);
        let usage = def.column("usage_rate").unwrap();
        assert!(usage.nullable);
        assert_eq!(def.column("game_date").unwrap().ty, ColumnType::Date);
    }

    #[test]
    fn every_table_has_its_partition_and_key_columns() {
        for def in ALL_TABLES {
            assert!(def.column(def.partition).is_some(), "{}", def.qualified());
            assert_eq!(def.column(def.partition).unwrap().ty, ColumnType::Date);
            for key in def.primary_key {
                assert!(def.column(key).is_some(), "{}.{key}", def.qualified());
            }
        }
    }
}
