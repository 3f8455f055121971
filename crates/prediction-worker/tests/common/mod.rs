//! Real-data fixtures read from the shared data ([`DATA`], never copied
//! into the repository).
//!
//! * Props: `props_odds_api_2025_26_before_2025-11-10.csv.gz` (The Odds API
//!   event odds, one row per player × market × book × line), shaped as
//!   `nba_raw.player_props` rows. Team tricodes come from the landing
//!   zone's event folders (`<event_id>-<AWAY><HOME>`); player ids are
//!   resolved by `player_lookup` against the season's game logs, and names
//!   the logs do not know stay unresolved (NULL), as in the raw phase.
//! * Box scores: `player_game_logs_2025_26_before_2025-11-10.csv.gz`, shaped
//!   as `nba_analytics.player_game_summary` rows.
//! * Daily cache: built here from those game logs with games strictly
//!   before the date, standing in for the precompute phase.

#![allow(dead_code)]

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use propcast_core::normalize_name_for_lookup;
use propcast_core::tables::{
    PlayerDailyCache, PlayerGameSummary, PlayerProp, UpcomingPlayerGameContext,
};
use propcast_prediction_worker::choose_line;
use propcast_prediction_worker::coordinator::DateInputs;
use propcast_prediction_worker::player_history::{PlayerGameRow, build_histories};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Read;
use std::sync::{Arc, OnceLock};

pub use propcast_test_support::{DATA, date};
pub const PROPS_FILE: &str = "props_odds_api_2025_26_before_2025-11-10.csv.gz";
pub const LOGS_FILE: &str = "player_game_logs_2025_26_before_2025-11-10.csv.gz";

pub fn instant(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("test instant")
        .with_timezone(&Utc)
}

fn read_gz(name: &str) -> String {
    let path = format!("{DATA}/{name}");
    let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut text = String::new();
    flate2::read::GzDecoder::new(file)
        .read_to_string(&mut text)
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    text
}

/// One row of the player game logs CSV.
#[derive(Debug, Clone, Deserialize)]
pub struct LogRow {
    pub season: String,
    pub game_id: String,
    pub team: String,
    pub player: String,
    pub player_id: i64,
    pub date: NaiveDate,
    pub matchup: String,
    pub minutes: f64,
    pub fgm: i64,
    pub fga: i64,
    pub threes_made: i64,
    pub threes_attempted: i64,
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
    pub opponent: String,
    pub home_away: String,
}

pub fn game_logs() -> &'static [LogRow] {
    static LOGS: OnceLock<Vec<LogRow>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let text = read_gz(LOGS_FILE);
        csv::Reader::from_reader(text.as_bytes())
            .deserialize()
            .map(|r| r.expect("game log row"))
            .collect()
    })
}

/// `player_lookup` → NBA id over the season's logs; lookups two players
/// share are left out (unresolvable).
pub fn player_ids() -> &'static HashMap<String, i64> {
    static IDS: OnceLock<HashMap<String, i64>> = OnceLock::new();
    IDS.get_or_init(|| {
        let mut ids: HashMap<String, BTreeSet<i64>> = HashMap::new();
        for row in game_logs() {
            ids.entry(normalize_name_for_lookup(&row.player))
                .or_default()
                .insert(row.player_id);
        }
        ids.into_iter()
            .filter(|(_, set)| set.len() == 1)
            .filter_map(|(lookup, set)| set.first().map(|id| (lookup, *id)))
            .collect()
    })
}

pub fn player_id(name: &str) -> i64 {
    *player_ids()
        .get(&normalize_name_for_lookup(name))
        .unwrap_or_else(|| panic!("{name} is not in the game logs"))
}

/// event id → (away, home) tricodes, from the landing zone folder names.
fn event_teams() -> HashMap<String, (String, String)> {
    let root = format!("{DATA}/landing/odds-api/player-props-history");
    let mut teams = HashMap::new();
    for day in std::fs::read_dir(&root).expect("props landing dir") {
        let day = day.expect("dir entry").path();
        for event in std::fs::read_dir(&day).expect("date dir") {
            let name = event.expect("dir entry").file_name();
            let name = name.to_string_lossy();
            if let Some((id, codes)) = name.rsplit_once('-')
                && codes.len() == 6
            {
                teams.insert(
                    id.to_string(),
                    (codes[..3].to_string(), codes[3..].to_string()),
                );
            }
        }
    }
    teams
}

#[derive(Debug, Deserialize)]
struct PropCsvRow {
    snapshot_utc: String,
    event_id: String,
    player: String,
    market: String,
    line: Option<f64>,
    bookmaker: String,
    game_time: String,
    over_odds: Option<f64>,
    under_odds: Option<f64>,
    game_date_et: NaiveDate,
}

/// Every props row of the CSV with a line, as `nba_raw.player_props` rows.
pub fn all_props() -> &'static [PlayerProp] {
    static PROPS: OnceLock<Vec<PlayerProp>> = OnceLock::new();
    PROPS.get_or_init(|| {
        let teams = event_teams();
        let text = read_gz(PROPS_FILE);
        let mut rows = Vec::new();
        for record in csv::Reader::from_reader(text.as_bytes()).deserialize() {
            let r: PropCsvRow = record.expect("props row");
            let Some(line) = r.line else { continue };
            let snapshot_time = NaiveDateTime::parse_from_str(&r.snapshot_utc, "%Y%m%d_%H%M%S")
                .expect("snapshot")
                .and_utc();
            let commence_time = instant(&r.game_time);
            let (away, home) = teams
                .get(&r.event_id)
                .cloned()
                .expect("event in landing zone");
            let player_lookup = normalize_name_for_lookup(&r.player);
            rows.push(PlayerProp {
                game_date: r.game_date_et,
                event_id: r.event_id,
                snapshot_time,
                commence_time,
                // Whole minutes, floored, as the raw phase computes them.
                minutes_before_tipoff: (commence_time - snapshot_time).num_seconds().div_euclid(60),
                home_team_abbr: home,
                away_team_abbr: away,
                bookmaker: r.bookmaker,
                market: r.market,
                player_id: player_ids().get(&player_lookup).copied(),
                player_name: r.player,
                player_lookup,
                team_abbr: None,
                line,
                over_price: r.over_odds.map(|p| p as i64),
                under_price: r.under_odds.map(|p| p as i64),
                source_file: PROPS_FILE.to_string(),
            });
        }
        rows
    })
}

pub fn props_on(game_date: NaiveDate) -> Vec<PlayerProp> {
    all_props()
        .iter()
        .filter(|p| p.game_date == game_date)
        .cloned()
        .collect()
}

/// The dates the props file covers.
pub fn prop_dates() -> Vec<NaiveDate> {
    all_props()
        .iter()
        .map(|p| p.game_date)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

pub fn game_summaries(game_date: NaiveDate) -> Vec<PlayerGameSummary> {
    game_logs()
        .iter()
        .filter(|r| r.date == game_date)
        .map(|r| PlayerGameSummary {
            game_date: r.date,
            game_id: r.game_id.clone(),
            season: 2025,
            player_id: r.player_id,
            player_lookup: normalize_name_for_lookup(&r.player),
            player_name: r.player.clone(),
            team_abbr: r.team.clone(),
            opponent_abbr: r.opponent.clone(),
            is_home: r.home_away == "HOME",
            minutes: r.minutes,
            points: r.pts,
            fgm: r.fgm,
            fga: r.fga,
            fg3m: r.threes_made,
            fg3a: r.threes_attempted,
            ftm: r.ftm,
            fta: r.fta,
            oreb: r.oreb,
            dreb: r.dreb,
            reb: r.reb,
            ast: r.ast,
            stl: r.stl,
            blk: r.blk,
            tov: r.tov,
            pf: r.pf,
            plus_minus: r.plus_minus,
            ts_pct: None,
            efg_pct: None,
            usage_rate: None,
            game_score: 0.0,
            win_flag: None,
            is_dnp: false,
            data_quality: "player_only".to_string(),
        })
        .collect()
}

fn mean(values: &[i64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<i64>() as f64 / values.len() as f64)
}

/// Sample standard deviation (n − 1), as the precompute phase defines
/// `points_std_last_10`; `None` below two values.
fn std_dev(values: &[i64]) -> Option<f64> {
    let m = mean(values)?;
    (values.len() >= 2).then(|| {
        (values.iter().map(|v| (*v as f64 - m).powi(2)).sum::<f64>() / (values.len() - 1) as f64)
            .sqrt()
    })
}

/// The daily cache of `game_date` from the game logs: every logged player
/// whose latest team (before the date, or on it for a debut) plays that
/// date, with averages over games strictly before the date.
pub fn daily_cache(game_date: NaiveDate) -> Vec<PlayerDailyCache> {
    // The game of each team playing on the date: (game_id, opponent, is_home).
    let mut games: HashMap<String, (String, String, bool)> = HashMap::new();
    for r in game_logs().iter().filter(|r| r.date == game_date) {
        let home = r.home_away == "HOME";
        games
            .entry(r.team.clone())
            .or_insert((r.game_id.clone(), r.opponent.clone(), home));
        games
            .entry(r.opponent.clone())
            .or_insert((r.game_id.clone(), r.team.clone(), !home));
    }
    let mut by_player: BTreeMap<i64, Vec<&LogRow>> = BTreeMap::new();
    for r in game_logs().iter().filter(|r| r.date <= game_date) {
        by_player.entry(r.player_id).or_default().push(r);
    }
    let mut rows = Vec::new();
    for (player_id, mut logs) in by_player {
        logs.sort_by_key(|r| r.date);
        let before: Vec<&LogRow> = logs
            .iter()
            .copied()
            .filter(|r| r.date < game_date)
            .collect();
        let Some(latest) = logs.last() else { continue };
        let Some((game_id, opponent, is_home)) = games.get(&latest.team) else {
            continue;
        };
        let points: Vec<i64> = before.iter().map(|r| r.pts).collect();
        let minutes: Vec<i64> = before.iter().map(|r| r.minutes as i64).collect();
        let last = |v: &[i64], n: usize| v[v.len().saturating_sub(n)..].to_vec();
        let last_game_date = before.last().map(|r| r.date);
        rows.push(PlayerDailyCache {
            game_date,
            player_lookup: normalize_name_for_lookup(&latest.player),
            player_id,
            player_name: latest.player.clone(),
            team_abbr: latest.team.clone(),
            opponent_abbr: opponent.clone(),
            is_home: *is_home,
            game_id: game_id.clone(),
            season: 2025,
            games_played_season: before.len() as i64,
            points_avg_last_5: mean(&last(&points, 5)),
            points_avg_last_10: mean(&last(&points, 10)),
            points_avg_season: mean(&points),
            points_std_last_10: std_dev(&last(&points, 10)),
            minutes_avg_last_5: mean(&last(&minutes, 5)),
            minutes_avg_last_10: mean(&last(&minutes, 10)),
            minutes_avg_season: mean(&minutes),
            games_last_7_days: before
                .iter()
                .filter(|r| (game_date - r.date).num_days() <= 7)
                .count() as i64,
            days_rest: last_game_date.map(|d| (game_date - d).num_days()),
            last_game_date,
            calculation_quality: match before.len() {
                0 => "none",
                1..=9 => "partial",
                _ => "complete",
            }
            .to_string(),
        });
    }
    rows
}

/// Every game-log date up to and including `last`.
pub fn log_dates_through(last: NaiveDate) -> Vec<NaiveDate> {
    game_logs()
        .iter()
        .map(|r| r.date)
        .filter(|d| *d <= last)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// `nba_analytics.upcoming_player_game_context` rows of `game_date`,
/// standing in for the analytics phase: one per daily-cache player, with
/// rest and load computed from the game logs strictly before the date, the
/// real line chosen from the props file, and NULL for what the logs cannot
/// give (tip-off, usage, pace, ratings, opponent rest).
pub fn upcoming_contexts(game_date: NaiveDate) -> Vec<UpcomingPlayerGameContext> {
    let props = props_on(game_date);
    daily_cache(game_date)
        .into_iter()
        .map(|c| {
            let before: Vec<&LogRow> = game_logs()
                .iter()
                .filter(|r| r.player_id == c.player_id && r.date < game_date)
                .collect();
            let within = |days: i64| -> Vec<&LogRow> {
                before
                    .iter()
                    .copied()
                    .filter(|r| (game_date - r.date).num_days() <= days)
                    .collect()
            };
            let last_7 = within(7);
            let last_14 = within(14);
            let mut dates_14: Vec<NaiveDate> = last_14.iter().map(|r| r.date).collect();
            dates_14.sort();
            let minutes_last_7: f64 = last_7.iter().map(|r| r.minutes).sum();
            let choice = choose_line(
                props.iter().filter(|p| p.market == "player_points"),
                c.player_id,
                game_date,
            );
            let line = choice.chosen.as_ref();
            UpcomingPlayerGameContext {
                game_date,
                game_id: c.game_id.clone(),
                season: c.season,
                season_type: "regular".into(),
                player_id: c.player_id,
                player_lookup: c.player_lookup.clone(),
                player_name: c.player_name.clone(),
                team_abbr: c.team_abbr.clone(),
                opponent_abbr: c.opponent_abbr.clone(),
                is_home: c.is_home,
                tipoff_time: None,
                universe_source: if line.is_some() {
                    "both"
                } else {
                    "last_team_game"
                }
                .into(),
                games_played_season: c.games_played_season,
                days_rest: c.days_rest,
                back_to_back: c.days_rest == Some(1),
                games_last_7_days: last_7.len() as i64,
                games_last_14_days: last_14.len() as i64,
                minutes_last_7_days: minutes_last_7,
                avg_minutes_last_7_days: (!last_7.is_empty())
                    .then(|| minutes_last_7 / last_7.len() as f64),
                back_to_backs_last_14_days: dates_14
                    .windows(2)
                    .filter(|w| (w[1] - w[0]).num_days() == 1)
                    .count() as i64,
                avg_usage_rate_last_7_games: None,
                minutes_avg_last_10: c.minutes_avg_last_10,
                opponent_days_rest: None,
                team_pace_last_10: None,
                opponent_pace_last_10: None,
                pace_differential: None,
                opponent_def_rating_last_10: None,
                has_prop_line: line.is_some(),
                current_points_line: line.map(|l| l.line),
                current_line_book: line.map(|l| l.bookmaker.clone()),
                current_line_snapshot_time: line.map(|l| l.snapshot_time),
                opening_points_line: None,
                opening_line_snapshot_time: None,
                line_movement: None,
                books_with_line: choice.books_available.len() as i64,
                lines_by_book: "{}".into(),
                data_quality_tier: match c.games_played_season {
                    0 => "low",
                    1..=9 => "medium",
                    _ => "high",
                }
                .into(),
                injury_status: None,
                injury_reason: None,
                injury_source: None,
                injury_report_time: None,
                teammates_out: None,
                star_teammates_out: None,
            }
        })
        .collect()
}

/// The history columns of `player_game_summary` rows.
pub fn player_game_rows(rows: &[PlayerGameSummary]) -> Vec<PlayerGameRow> {
    rows.iter()
        .map(|g| PlayerGameRow {
            game_date: g.game_date,
            season: g.season,
            player_lookup: g.player_lookup.clone(),
            points: g.points,
            minutes: g.minutes,
            is_home: g.is_home,
            opponent_abbr: g.opponent_abbr.clone(),
            is_dnp: g.is_dnp,
        })
        .collect()
}

/// The game summaries of every log date before `game_date`.
pub fn summaries_before(game_date: NaiveDate) -> Vec<PlayerGameSummary> {
    log_dates_through(game_date)
        .into_iter()
        .filter(|d| *d < game_date)
        .flat_map(game_summaries)
        .collect()
}

/// What the coordinator loads for `game_date` from a warehouse holding the
/// fixtures above (no feature store, factors or team defense rows).
pub fn date_inputs(game_date: NaiveDate) -> DateInputs {
    let games = player_game_rows(&summaries_before(game_date));
    DateInputs {
        game_date,
        contexts: upcoming_contexts(game_date),
        cache: daily_cache(game_date),
        props: props_on(game_date)
            .into_iter()
            .filter(|p| p.market == "player_points")
            .collect(),
        features: HashMap::new(),
        factors: HashMap::new(),
        histories: build_histories(&games, &[], game_date),
    }
}

/// An in-memory warehouse with every table the Phase 5 processors read or
/// write, the real game summaries of every log date through
/// `summaries_through`, and the contexts, daily cache and props of each of
/// `pregame`.
pub async fn loaded_warehouse(
    summaries_through: NaiveDate,
    pregame: &[NaiveDate],
) -> Arc<propcast_platform::embedded::DuckDbWarehouse> {
    use propcast_core::Table;
    use propcast_core::tables::{
        MlFeatureStore, PlayerCompositeFactors, PlayerPropPrediction, PredictionAccuracy,
        PredictionWorkerRun, TeamDefenseGameSummary,
    };
    use propcast_platform::{Warehouse, WarehouseExt};
    let wh = Arc::new(propcast_platform::embedded::DuckDbWarehouse::in_memory().expect("duckdb"));
    for def in [
        PlayerDailyCache::DEF,
        PlayerProp::DEF,
        PlayerGameSummary::DEF,
        PlayerPropPrediction::DEF,
        PredictionAccuracy::DEF,
        UpcomingPlayerGameContext::DEF,
        MlFeatureStore::DEF,
        PlayerCompositeFactors::DEF,
        TeamDefenseGameSummary::DEF,
        PredictionWorkerRun::DEF,
    ] {
        wh.ensure_table(&def).await.expect("table");
    }
    for d in log_dates_through(summaries_through) {
        wh.replace_rows(d, &[], &game_summaries(d))
            .await
            .expect("pgs");
    }
    for &d in pregame {
        wh.replace_rows(d, &[], &upcoming_contexts(d))
            .await
            .expect("contexts");
        wh.replace_rows(d, &[], &daily_cache(d))
            .await
            .expect("cache");
        wh.replace_rows(d, &[], &props_on(d)).await.expect("props");
    }
    wh
}

/// A daily-run context of `d` on `wh`, with an in-memory landing zone and
/// state store.
pub fn context(
    wh: &Arc<propcast_platform::embedded::DuckDbWarehouse>,
    d: NaiveDate,
    run: &str,
    now: DateTime<Utc>,
    scope: propcast_patterns::Scope,
) -> propcast_patterns::ProcessContext {
    use propcast_platform::embedded::{LocalLandingZone, SqliteStateStore};
    propcast_patterns::ProcessContext {
        warehouse: wh.clone(),
        landing: Arc::new(LocalLandingZone::in_memory()),
        state: Arc::new(SqliteStateStore::in_memory().expect("sqlite state")),
        game_date: d,
        mode: propcast_patterns::RunMode::Daily,
        execution_id: run.to_string(),
        correlation_id: format!("corr-{run}"),
        now,
        scope,
    }
}
