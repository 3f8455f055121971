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
    /// One game of stats `scoreboardv3` for a date: status, tip-off and
    /// scores as the stats API reports them on the night.
    pub struct ScoreboardGame in "nba_raw"."scoreboard", partition game_date,
    key [game_date, game_id] {
        pub game_date: NaiveDate,
        pub game_id: String,
        /// "20251105/MILTOR".
        pub game_code: String,
        /// 1 scheduled, 2 live, 3 final.
        pub game_status: i64,
        pub game_status_text: String,
        pub tipoff_time: Option<DateTime<Utc>>,
        pub home_team_id: i64,
        pub home_team_abbr: String,
        pub away_team_id: i64,
        pub away_team_abbr: String,
        /// NULL until the game has started.
        pub home_score: Option<i64>,
        pub away_score: Option<i64>,
        pub source_file: String,
    }
}

table! {
    /// One player of one game's stats `boxscoretraditionalv3`: every player
    /// on the game roster, with the starter flag and the DNP reason that
    /// `leaguegamelog` lacks.
    pub struct BoxscoreTraditionalPlayer in "nba_raw"."boxscore_traditional", partition game_date,
    key [game_id, player_id] {
        pub game_date: NaiveDate,
        pub game_id: String,
        pub player_id: i64,
        /// As spelled by the source ("firstName familyName").
        pub player_name: String,
        pub player_lookup: String,
        pub team_id: i64,
        pub team_abbr: String,
        pub is_home: bool,
        /// A non-empty `position`: he started.
        pub is_starter: bool,
        /// "F", "C", "G" for starters; empty for the bench.
        pub position: String,
        /// The `comment` when he did not play ("DNP - Coach's Decision",
        /// "DND - Injury/Illness", "NWT - Not With Team"); NULL when he
        /// played.
        pub dnp_reason: Option<String>,
        /// "MM:SS" as decimal minutes; 0 for a DNP.
        pub minutes: f64,
        pub points: i64,
        pub rebounds: i64,
        pub assists: i64,
        pub source_file: String,
    }
}

table! {
    /// One line of an injury report: a player's status for a game date as
    /// published at `report_time` (the NBA's official report, or
    /// balldontlie's injuries). Every report is kept, so a reader takes the
    /// latest one published before tip-off (point in time).
    pub struct InjuryReportEntry in "nba_raw"."injury_report", partition game_date,
    key [game_date, source, report_time, team_abbr, player_lookup] {
        pub game_date: NaiveDate,
        /// "nba_official" or "balldontlie".
        pub source: String,
        /// When the report was published: the official report's own time;
        /// for balldontlie, the fetch time.
        pub report_time: DateTime<Utc>,
        /// As written by the source ("Duke Jr., David").
        pub player_name: String,
        pub player_lookup: String,
        /// NBA person id by the identity rules; NULL when unresolved (the
        /// row is kept, and the name listed as unresolved).
        pub player_id: Option<i64>,
        pub team_abbr: String,
        /// "out", "doubtful", "questionable", "probable" or "available".
        pub status: String,
        pub reason: String,
        /// "MIL@SAS" from the official report; NULL for balldontlie.
        pub matchup: Option<String>,
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

/// Historical prop lines imported in bulk (`propcast import-props`): the
/// columns of `nba_raw.player_props`, in a table of their own, because the
/// landing zone's props processor owns every date of `player_props` and
/// replaces it whole on each run; an import kept there would be lost to the
/// next backfill.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct ImportedPlayerProp(pub PlayerProp);

impl crate::catalog::Table for ImportedPlayerProp {
    const DEF: crate::catalog::TableDef = crate::catalog::TableDef {
        name: "player_props_imported",
        ..<PlayerProp as crate::catalog::Table>::DEF
    };
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

table! {
    /// One player's field-goal attempts and makes in one game and one NBA.com
    /// `BASIC_ZONE` (shot-chart bulk import: `shotchartdetail` aggregated per
    /// player-game-zone). Free throws are not shots here. Real shot data
    /// exists only for 2022-23 and 2023-24; later dates have no rows, and
    /// zone features downstream are NULL, never invented.
    pub struct ShotZone in "nba_raw"."shot_zones", partition game_date,
    key [game_id, player_id, basic_zone] {
        pub game_date: NaiveDate,
        /// 10-digit NBA game id ("0022300003").
        pub game_id: String,
        pub season: i64,
        pub player_id: i64,
        pub player_name: String,
        pub player_lookup: String,
        pub team_id: i64,
        pub team_abbr: String,
        pub opponent_abbr: String,
        pub is_home: bool,
        /// As the source writes it: "Restricted Area", "In The Paint (Non-RA)",
        /// "Mid-Range", "Left Corner 3", "Right Corner 3", "Above the Break 3",
        /// "Backcourt".
        pub basic_zone: String,
        /// The project's three zones: "paint" (restricted area + non-RA
        /// paint), "mid_range", "three" (corners, above the break, backcourt).
        pub zone: String,
        pub fga: i64,
        pub fgm: i64,
        pub source_file: String,
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

table! {
    /// A player expected to play on `game_date`, with what is known before
    /// tip-off: rest, recent load, the matchup, and the real prop lines
    /// (Phase 3). Built from games strictly before `game_date` and prop
    /// snapshots taken before tip-off only.
    pub struct UpcomingPlayerGameContext in "nba_analytics"."upcoming_player_game_context", partition game_date,
    key [game_date, player_lookup] {
        pub game_date: NaiveDate,
        /// Schedule game id, or the game code while the id is not known.
        pub game_id: String,
        pub season: i64,
        pub season_type: String,
        pub player_id: i64,
        pub player_lookup: String,
        pub player_name: String,
        pub team_abbr: String,
        pub opponent_abbr: String,
        pub is_home: bool,
        pub tipoff_time: Option<DateTime<Utc>>,
        /// Why the player is in the universe: "last_team_game" (his latest
        /// game this season was for a team playing today), "prop_line" (a
        /// real points line today), or "both".
        pub universe_source: String,
        /// Games this season before `game_date`.
        pub games_played_season: i64,
        /// Calendar days since the previous game; NULL with none this season.
        pub days_rest: Option<i64>,
        /// `days_rest == 1` — the project's one meaning of back-to-back.
        pub back_to_back: bool,
        /// Games in [D−7, D−1] and [D−14, D−1].
        pub games_last_7_days: i64,
        pub games_last_14_days: i64,
        pub minutes_last_7_days: f64,
        /// Mean minutes over the games of the last 7 days; NULL with none.
        pub avg_minutes_last_7_days: Option<f64>,
        /// Consecutive-day pairs of games in [D−14, D−1].
        pub back_to_backs_last_14_days: i64,
        pub avg_usage_rate_last_7_games: Option<f64>,
        pub minutes_avg_last_10: Option<f64>,
        /// The opponent's calendar days since its previous game.
        pub opponent_days_rest: Option<i64>,
        /// Means over each team's last 10 games before `game_date`.
        pub team_pace_last_10: Option<f64>,
        pub opponent_pace_last_10: Option<f64>,
        /// team_pace_last_10 − opponent_pace_last_10.
        pub pace_differential: Option<f64>,
        pub opponent_def_rating_last_10: Option<f64>,
        pub has_prop_line: bool,
        /// The chosen real pre-tip `player_points` line (book preference,
        /// latest snapshot before tip-off); NULL when none.
        pub current_points_line: Option<f64>,
        pub current_line_book: Option<String>,
        pub current_line_snapshot_time: Option<DateTime<Utc>>,
        /// The same book's earliest pre-tip line of the date.
        pub opening_points_line: Option<f64>,
        pub opening_line_snapshot_time: Option<DateTime<Utc>>,
        /// current − opening.
        pub line_movement: Option<f64>,
        /// Books with a pre-tip line.
        pub books_with_line: i64,
        /// JSON object, per book: {"opening", "latest", "movement",
        /// "opening_time", "latest_time"}.
        pub lines_by_book: String,
        /// "high" (≥ 10 games and team context), "medium" (1–9 games), "low".
        pub data_quality_tier: String,
        /// His status in the latest injury report published before tip-off
        /// ("out", "doubtful", "questionable", "probable"; "available" when
        /// that report does not list him). NULL when no report of the date
        /// was published before tip-off: unknown, never assumed.
        pub injury_status: Option<String>,
        pub injury_reason: Option<String>,
        /// "nba_official" or "balldontlie"; NULL without a report.
        pub injury_source: Option<String>,
        /// When the report used was published; NULL without one.
        pub injury_report_time: Option<DateTime<Utc>>,
        /// Teammates listed out or doubtful in that report; NULL without one.
        pub teammates_out: Option<i64>,
        /// Of those, the stars: ≥ 18 points a game this season, or ≥ 28
        /// minutes and ≥ 12 points (the reference system's rule).
        pub star_teammates_out: Option<i64>,
    }
}

table! {
    /// A team playing on `game_date`, as known before tip-off (Phase 3).
    pub struct UpcomingTeamGameContext in "nba_analytics"."upcoming_team_game_context", partition game_date,
    key [game_date, team_abbr] {
        pub game_date: NaiveDate,
        pub game_id: String,
        pub season: i64,
        pub season_type: String,
        pub team_abbr: String,
        pub opponent_abbr: String,
        pub is_home: bool,
        pub tipoff_time: Option<DateTime<Utc>>,
        /// Calendar days since the team's previous game; NULL with none.
        pub days_rest: Option<i64>,
        pub back_to_back: bool,
        pub games_last_7_days: i64,
        pub games_last_14_days: i64,
        /// Final games this season before `game_date`.
        pub games_played_season: i64,
        pub wins: i64,
        pub losses: i64,
        /// Positive: consecutive wins entering the game; negative: losses.
        pub streak: i64,
        /// Points margin of the previous game (positive = won).
        pub last_game_margin: Option<i64>,
        /// Means over the team's last 10 games before `game_date`.
        pub pace_last_10: Option<f64>,
        pub off_rating_last_10: Option<f64>,
        pub def_rating_last_10: Option<f64>,
        pub opponent_pace_last_10: Option<f64>,
        pub opponent_def_rating_last_10: Option<f64>,
        /// Fewer than 5 games played this season.
        pub early_season_flag: bool,
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

table! {
    /// A player's shot profile from his last 10 games with shot data before
    /// `game_date` (Phase 4, REFERENCE §3.1). Rates are shares of FGA in
    /// percent (0–100); FG% are 0–1.
    pub struct PlayerShotZoneAnalysis in "nba_precompute"."player_shot_zone_analysis", partition game_date,
    key [game_date, player_lookup] {
        pub game_date: NaiveDate,
        pub player_lookup: String,
        pub player_id: i64,
        pub player_name: String,
        pub team_abbr: String,
        /// Games with shot data in the sample (at most 10).
        pub games_in_sample: i64,
        pub last_game_date: NaiveDate,
        pub total_fga: i64,
        pub paint_fga: i64,
        pub paint_fgm: i64,
        pub mid_range_fga: i64,
        pub mid_range_fgm: i64,
        pub three_fga: i64,
        pub three_fgm: i64,
        pub paint_rate: Option<f64>,
        pub mid_range_rate: Option<f64>,
        pub three_rate: Option<f64>,
        pub paint_fg_pct: Option<f64>,
        pub mid_range_fg_pct: Option<f64>,
        pub three_fg_pct: Option<f64>,
        /// Player FG% − league FG% in the zone over the same window.
        pub paint_fg_pct_vs_league: Option<f64>,
        pub mid_range_fg_pct_vs_league: Option<f64>,
        pub three_fg_pct_vs_league: Option<f64>,
        /// "paint" (paint_rate ≥ 40), else "perimeter" (three_rate ≥ 40),
        /// else "mid_range" (mid_range_rate ≥ 30), else "balanced".
        pub primary_scoring_zone: String,
        /// "complete" (10 games) or "insufficient_data" (fewer).
        pub sample_quality: String,
    }
}

table! {
    /// What a team allowed by zone over its last 15 games with shot data
    /// before `game_date`, against the league (Phase 4, REFERENCE §3.2).
    pub struct TeamDefenseZoneAnalysis in "nba_precompute"."team_defense_zone_analysis", partition game_date,
    key [game_date, team_abbr] {
        pub game_date: NaiveDate,
        pub team_abbr: String,
        pub games_in_sample: i64,
        pub paint_fga_allowed: i64,
        pub paint_fgm_allowed: i64,
        pub mid_range_fga_allowed: i64,
        pub mid_range_fgm_allowed: i64,
        pub three_fga_allowed: i64,
        pub three_fgm_allowed: i64,
        /// Opponent FG% in the zone (0–1).
        pub paint_pct_allowed: Option<f64>,
        pub mid_range_pct_allowed: Option<f64>,
        pub three_pct_allowed: Option<f64>,
        /// Team pct allowed − league pct (positive = weak defense there).
        pub paint_defense_vs_league_avg: Option<f64>,
        pub mid_range_defense_vs_league_avg: Option<f64>,
        pub three_defense_vs_league_avg: Option<f64>,
        /// "computed" (≥ 10 teams with 15 games) or "default".
        pub league_avg_source: String,
        /// Zone with the lowest / highest vs-league value.
        pub strongest_zone: Option<String>,
        pub weakest_zone: Option<String>,
        /// From team_defense_game_summary over the same games, when present.
        pub defensive_rating: Option<f64>,
        pub opponent_ppg: Option<f64>,
        /// "complete" (15 games) or "insufficient_data".
        pub sample_quality: String,
    }
}

table! {
    /// The four composite factors of one player-game (Phase 4, REFERENCE
    /// §3.3, `v1_4factors`), each a documented formula with its clamp.
    pub struct PlayerCompositeFactors in "nba_precompute"."player_composite_factors", partition game_date,
    key [game_date, player_lookup] {
        pub game_date: NaiveDate,
        pub player_lookup: String,
        pub player_id: i64,
        pub game_id: String,
        pub team_abbr: String,
        pub opponent_abbr: String,
        /// 0–100, **high = rested**.
        pub fatigue_score: i64,
        /// (fatigue_score − 100) / 20 ∈ [−5, 0].
        pub fatigue_adjustment: f64,
        /// [−10, 10]; 0 when either zone side is missing (see
        /// `missing_data_fields`).
        pub shot_zone_mismatch_score: f64,
        /// [−3, 3] = pace_differential / 2.
        pub pace_score: f64,
        /// [−3, 3].
        pub usage_spike_score: f64,
        /// Sum of the four adjustments.
        pub total_composite_adjustment: f64,
        /// JSON: per factor, its inputs and which were defaulted.
        pub factor_context: String,
        pub data_completeness_pct: f64,
        /// Comma-separated input fields that were missing ("" if none).
        pub missing_data_fields: String,
        pub has_warnings: bool,
        pub calculation_version: String,
    }
}

table! {
    /// One versioned feature vector per player-game (Phase 4, REFERENCE
    /// §3.5). The vector layout is [`crate::features`]: `features` is a
    /// JSON array of numbers or null (never an invented value for a
    /// nullable feature), `feature_sources` a JSON array of source names,
    /// `feature_defaulted` a JSON array of booleans.
    pub struct MlFeatureStore in "nba_precompute"."ml_feature_store", partition game_date,
    key [game_date, player_lookup] {
        pub game_date: NaiveDate,
        pub player_lookup: String,
        pub player_id: i64,
        pub game_id: String,
        pub team_abbr: String,
        pub opponent_abbr: String,
        /// [`crate::features::FEATURE_VERSION`].
        pub feature_version: String,
        pub feature_count: i64,
        pub features: String,
        pub feature_sources: String,
        pub feature_defaulted: String,
        /// 0–100 (mean source weight, capped when required features are
        /// defaulted).
        pub feature_quality_score: f64,
        /// "gold" ≥ 95, "silver" ≥ 85, "bronze" ≥ 70, "poor" ≥ 50, else
        /// "critical".
        pub quality_tier: String,
        pub defaulted_required_count: i64,
        /// "phase4", "phase4_partial", "phase3" or "mixed".
        pub data_source: String,
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
        /// American prices of the line's Over and Under (NULL without a
        /// line, or when the book quoted none): a call is graded at them.
        pub line_over_price: Option<i64>,
        pub line_under_price: Option<i64>,
        /// "OVER", "UNDER", "PASS" or "NO_LINE".
        pub recommendation: String,
        /// JSON: inputs, applied and omitted adjustments.
        pub metadata: String,
        pub execution_id: String,
        pub created_at: DateTime<Utc>,
    }
}

table! {
    /// A player of the date's universe the coordinator did not predict, and
    /// why: listed out in the latest injury report before tip-off. Not a
    /// prediction, so never graded; grading counts the ones who played
    /// anyway as voided skips (`prediction_grading`'s `skipped_out_played`).
    pub struct PredictionSkip in "nba_predictions"."prediction_skips", partition game_date,
    key [game_date, player_lookup] {
        pub game_date: NaiveDate,
        pub game_id: String,
        pub player_lookup: String,
        pub player_id: i64,
        pub team_abbr: String,
        /// "injury_out".
        pub reason: String,
        /// The report's reason ("Injury/Illness - Left Ankle; Sprain").
        pub injury_reason: Option<String>,
        pub injury_source: Option<String>,
        pub injury_report_time: Option<DateTime<Utc>>,
        pub execution_id: String,
        pub created_at: DateTime<Utc>,
    }
}

table! {
    /// One batch of one coordinator run: which systems were attempted,
    /// succeeded, failed or were skipped by their circuit breaker (Phase 5).
    pub struct PredictionWorkerRun in "nba_predictions"."prediction_worker_runs", partition game_date,
    key [run_id, batch_index] {
        pub run_id: String,
        pub game_date: NaiveDate,
        pub batch_index: i64,
        pub players: i64,
        /// Comma-separated system ids.
        pub systems_attempted: String,
        pub systems_succeeded: String,
        pub systems_failed: String,
        pub systems_skipped_by_breaker: String,
        pub predictions_written: i64,
        /// JSON object: system id → {"ms", "ok", "failed", "skipped"}.
        pub system_timings: String,
        pub duration_ms: i64,
        pub execution_id: String,
        pub started_at: DateTime<Utc>,
        pub finished_at: DateTime<Utc>,
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
        /// Stored as "success", "partial", "no_data", "skipped", "failed".
        pub status: crate::run_status::RunStatus,
        pub skip_reason: Option<String>,
        pub error: Option<String>,
        /// The round (invocation) the run belonged to: the event flow's
        /// `round_id`.
        pub round_id: String,
        /// Entities the run was limited to (`None` = the whole date).
        pub entities_in_scope: Option<i64>,
        /// Entities whose rows changed against the previous round (`None`
        /// = not compared: the first round of a date, or backfill).
        pub entities_changed: Option<i64>,
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

table! {
    /// One check of one backfilled or daily date, after all its phases ran:
    /// execution, volume, quality ranges, dependency order.
    pub struct ValidationResult in "nba_processing"."validation_results", partition game_date,
    key [game_date, check_name] {
        pub game_date: NaiveDate,
        /// "execution", "volume", "quality", "dependency_order".
        pub check_name: String,
        /// "pass", "fail" or "warn".
        pub status: String,
        /// What was found, in words a person reads.
        pub detail: String,
        pub execution_id: String,
        pub validated_at: DateTime<Utc>,
    }
}

/// Every table, in dependency order (raw first).
pub const ALL_TABLES: &[crate::catalog::TableDef] = {
    use crate::catalog::Table;
    &[
        ScheduleGame::DEF,
        PlayerBoxscore::DEF,
        TeamBoxscore::DEF,
        ScoreboardGame::DEF,
        BoxscoreTraditionalPlayer::DEF,
        InjuryReportEntry::DEF,
        PlayerProp::DEF,
        UnresolvedPlayerName::DEF,
        ShotZone::DEF,
        ImportedPlayerProp::DEF,
        TeamOffenseGameSummary::DEF,
        TeamDefenseGameSummary::DEF,
        PlayerGameSummary::DEF,
        UpcomingPlayerGameContext::DEF,
        UpcomingTeamGameContext::DEF,
        PlayerShotZoneAnalysis::DEF,
        TeamDefenseZoneAnalysis::DEF,
        PlayerCompositeFactors::DEF,
        PlayerDailyCache::DEF,
        MlFeatureStore::DEF,
        PlayerPropPrediction::DEF,
        PredictionSkip::DEF,
        PredictionWorkerRun::DEF,
        PredictionAccuracy::DEF,
        ProcessorRun::DEF,
        QuarantineRecord::DEF,
        ValidationResult::DEF,
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
