//! `ml_feature_store` on real players worked out by hand from the game logs,
//! NULL (never invented) zone and prop-line features with their `missing`
//! source and the quality caps, the round trip through
//! `FeatureVector::from_row`, and the processor chain (composite factors →
//! daily cache → feature store) against the embedded DuckDB warehouse.

#[path = "common/contexts.rs"]
mod contexts;

use chrono::{NaiveDate, TimeZone, Utc};
use contexts::{context, player_contexts, team_offense_on};
use propcast_core::Table;
use propcast_core::features::{FEATURE_COUNT, FeatureSource, FeatureVector, feature_index};
use propcast_core::tables::{
    MlFeatureStore, PlayerCompositeFactors, PlayerDailyCache, PlayerGameSummary, PlayerProp,
    ScheduleGame, TeamOffenseGameSummary, UpcomingPlayerGameContext, UpcomingTeamGameContext,
};
use propcast_patterns::{ProcessContext, RunMode};
use propcast_platform::embedded::{DuckDbWarehouse, LocalLandingZone, SqliteStateStore};
use propcast_platform::warehouse::date_literal;
use propcast_platform::{Warehouse, WarehouseExt};
use propcast_precompute::build_player_composite_factors;
use propcast_precompute::ml_feature_store::{
    FeatureInputs, build_ml_feature_store, feature_vector,
};
use propcast_precompute::player_composite_factors::CompositeInputs;
use propcast_precompute::player_daily_cache::{PriorGame, SeasonToDate};
use propcast_precompute::recent_games::{
    OpponentHistoryRow, TeamRecordRow, history_from_games, opponent_history_from_games,
};
use propcast_precompute::{build_player_daily_cache, processors};
use propcast_test_support::player_games::{date, real};
use std::collections::BTreeMap;
use std::sync::Arc;

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-9)
}

/// Team records by definition: decided team games of the season before `d`.
fn team_records(d: NaiveDate) -> Vec<TeamRecordRow> {
    let first = propcast_core::Season::of(d).first_day();
    let dates: std::collections::BTreeSet<NaiveDate> =
        real().schedule.iter().map(|g| g.game_date).collect();
    let mut by_team: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for day in dates.into_iter().filter(|day| *day >= first && *day < d) {
        for t in team_offense_on(day) {
            let e = by_team.entry(t.team_abbr.clone()).or_default();
            e.0 += 1;
            e.1 += i64::from(t.win_flag == Some(true));
        }
    }
    by_team
        .into_iter()
        .map(|(team_abbr, (games, wins))| TeamRecordRow {
            team_abbr,
            games,
            wins,
        })
        .collect()
}

/// Everything the feature store reads for `d`, from the pure builders of
/// the upstream tables over the real data (`games` with any extra facts a
/// test sets, e.g. usage rates).
struct Inputs {
    contexts: Vec<UpcomingPlayerGameContext>,
    teams: Vec<UpcomingTeamGameContext>,
    composites: Vec<PlayerCompositeFactors>,
    caches: Vec<PlayerDailyCache>,
    history: BTreeMap<i64, propcast_precompute::recent_games::PlayerHistory>,
    h2h: Vec<OpponentHistoryRow>,
    records: Vec<TeamRecordRow>,
}

fn inputs(
    d: NaiveDate,
    contexts: Vec<UpcomingPlayerGameContext>,
    teams: Vec<UpcomingTeamGameContext>,
    games: &[PlayerGameSummary],
) -> Inputs {
    let ids: Vec<i64> = contexts.iter().map(|c| c.player_id).collect();
    let history = history_from_games(d, &ids, games);
    let composites = build_player_composite_factors(
        d,
        &CompositeInputs::new(&contexts, &teams, &[], &[], &history),
    )
    .rows;
    let seasons = SeasonToDate::from_games(d, games.iter().map(PriorGame::from));
    let caches = build_player_daily_cache(d, &real().schedule_on(d), &[], &seasons).rows;
    let h2h = contexts
        .iter()
        .map(|c| opponent_history_from_games(d, c.player_id, &c.opponent_abbr, games))
        .filter(|o| o.games > 0)
        .collect();
    Inputs {
        contexts,
        teams,
        composites,
        caches,
        history,
        h2h,
        records: team_records(d),
    }
}

fn build(d: NaiveDate, i: &Inputs) -> Vec<MlFeatureStore> {
    let fi = FeatureInputs::new(
        &i.contexts,
        &i.teams,
        &i.composites,
        &i.caches,
        &[],
        &[],
        &i.history,
        &i.h2h,
        &i.records,
    );
    build_ml_feature_store(d, &fi).rows
}

fn vector<'a>(rows: &'a [MlFeatureStore], lookup: &str) -> (&'a MlFeatureStore, FeatureVector) {
    let row = rows
        .iter()
        .find(|r| r.player_lookup == lookup)
        .unwrap_or_else(|| panic!("{lookup}"));
    (row, FeatureVector::from_row(row).expect("parses"))
}

fn source(v: &FeatureVector, name: &str) -> FeatureSource {
    v.sources[feature_index(name).unwrap()]
}

fn defaulted(v: &FeatureVector, name: &str) -> bool {
    v.defaulted[feature_index(name).unwrap()]
}

/// Stephen Curry's 2025-26 games before 2025-11-04 (GSW vs PHX), from
/// player_game_logs_2025_26 (date opp pts ftm min), oldest first:
///   10-21 @LAL 23 8 32 | 10-23 DEN 42 8 37 | 10-24 @POR 35 4 27 | 10-27 MEM 16 2 30
///   10-28 LAC 19 3 26 | 10-30 @MIL 27 7 35 | 11-01 @IND 24 4 29
/// and against PHX in 2024-25: 11-30 23, 12-28 22, 01-31 14, 04-08 25.
/// DraftKings' 17:00 UTC snapshot on 2025-11-04 quoted his points at 24.5
/// (props_odds_api_2025_26; tip-off 03:10 UTC).
fn curry_inputs() -> (NaiveDate, Inputs) {
    let d = date("2025-11-04");
    let mut contexts = player_contexts(d);
    let c = contexts
        .iter_mut()
        .find(|c| c.player_lookup == "stephencurry")
        .unwrap();
    c.has_prop_line = true;
    c.current_points_line = Some(24.5);
    c.opening_points_line = Some(24.5);
    c.line_movement = Some(0.0);
    c.current_line_book = Some("draftkings".into());
    c.books_with_line = 1;
    (d, inputs(d, contexts, Vec::new(), &real().games))
}

#[test]
fn curry_on_2025_11_04_calculated_features_by_hand() {
    let (d, i) = curry_inputs();
    let rows = build(d, &i);
    let (row, v) = vector(&rows, "stephencurry");
    assert_eq!(
        (row.team_abbr.as_str(), row.opponent_abbr.as_str()),
        ("GSW", "PHX")
    );
    assert_eq!(
        (row.feature_version.as_str(), row.feature_count),
        ("v1_37features", 37)
    );
    let pts = [23.0, 42.0, 35.0, 16.0, 19.0, 27.0, 24.0];

    // OLS slope over x = 0..6: mean x 3, mean y 186/7; Σdx·dy = −43, Σdx² = 28.
    assert!(close(v.get("pts_slope_10g"), -43.0 / 28.0));
    assert!(close(v.get("pts_slope_10g"), -1.535_714_285_714_285_7));
    // ΣFTM / ΣPTS = (8+8+4+2+3+7+4) / 186 = 36 / 186.
    assert!(close(v.get("pct_free_throw"), 36.0 / 186.0));
    // Head-to-head over 2024-25 and 2025-26 before the date: (23+22+14+25)/4.
    assert!(close(v.get("avg_points_vs_opponent"), 21.0));
    assert_eq!(
        source(&v, "avg_points_vs_opponent"),
        FeatureSource::OpponentHistory
    );
    assert!(close(v.get("games_vs_opponent"), 4.0));
    // Last 2 (27, 24) mean 25.5 − games 3–5 (35, 16, 19) mean 23.333 = 2.17 → 1.
    assert!(close(v.get("recent_trend"), 1.0));
    // 7 games: last 10 = season → 0 % change → 0.
    assert!(close(v.get("minutes_change"), 0.0));
    // 186 pts / 216 min.
    assert!(close(v.get("ppm_avg_last_10"), 186.0 / 216.0));
    // L5 (35+16+19+27+24)/5 = 24.2 from the daily cache.
    assert!(close(v.get("points_avg_last_5"), 24.2));
    assert_eq!(source(&v, "points_avg_last_5"), FeatureSource::Phase4);
    assert!(close(v.get("points_avg_season"), 186.0 / 7.0));
    // z = (24.2 − 26.571429) / sample std 9.107820 = −0.260373.
    let m = 186.0 / 7.0;
    let sd = (pts.iter().map(|p| (p - m) * (p - m)).sum::<f64>() / 6.0).sqrt();
    assert!((sd - 9.107_819_769).abs() < 1e-6);
    assert!(close(v.get("pts_vs_season_zscore"), (24.2 - m) / sd));
    assert!(close(v.get("points_std_last_10"), sd));
    // Rest: 11-04 − 11-01 = 3; PHX last played 11-02 → 2; advantage +1.
    assert!(close(v.get("days_rest"), 3.0));
    assert!(close(v.get("rest_advantage"), 1.0));
    // GSW before 11-04: W @LAL, W DEN, L @POR, W MEM, W LAC, L @MIL, L @IND.
    assert!(close(v.get("team_win_pct"), 4.0 / 7.0));
    assert!(close(v.get("home_away"), 1.0));
    assert!(close(v.get("back_to_back"), 0.0));
    // The real line, with its source; opening = current (one snapshot).
    assert!(close(v.get("vegas_points_line"), 24.5));
    assert!(close(v.get("vegas_line_move"), 0.0));
    assert!(close(v.get("has_vegas_line"), 1.0));
    assert_eq!(source(&v, "vegas_points_line"), FeatureSource::Vegas);
    // Fatigue: 3 days of rest +5; [10-28, 11-03] 3 games, 90 min (no
    // penalty); back-to-backs in [10-21, 11-03]: 10-23/10-24 and 10-27/10-28
    // → −12: 100 + 5 − 12 = 93. No injury source.
    assert!(close(v.get("fatigue_score"), 93.0));
    assert!(close(v.get("injury_risk"), 0.0) && defaulted(&v, "injury_risk"));
    // No zone data after 2023-24.
    assert_eq!(v.get("pct_paint"), None);
    assert_eq!(source(&v, "pct_three"), FeatureSource::Missing);
}

fn maxey_context(d: NaiveDate) -> UpcomingPlayerGameContext {
    context(&player_contexts(d), "tyresemaxey").clone()
}

#[test]
fn maxey_2024_25_zones_and_lines_are_null_and_the_quality_is_capped() {
    // 2024-25 has neither shot zones nor points lines. The test contexts
    // carry no pace or ratings and there is no team context: pace, usage,
    // both opponent ratings, team pace and offense rating and the mismatch
    // are defaulted — 7 required features → capped at 49.
    let d = date("2025-02-05");
    let i = inputs(d, vec![maxey_context(d)], Vec::new(), &real().games);
    let rows = build(d, &i);
    let (row, v) = vector(&rows, "tyresemaxey");
    for name in [
        "pct_paint",
        "pct_mid_range",
        "pct_three",
        "vegas_points_line",
        "vegas_opening_line",
        "vegas_line_move",
        "usage_rate_last_5",
    ] {
        assert_eq!(v.get(name), None, "{name}");
        assert_eq!(source(&v, name), FeatureSource::Missing, "{name}");
        assert!(!defaulted(&v, name), "{name}: NULL, not defaulted");
    }
    let fv: serde_json::Value = serde_json::from_str(&row.features).unwrap();
    assert!(fv[feature_index("vegas_points_line").unwrap()].is_null());
    assert!(close(v.get("has_vegas_line"), 0.0));
    for name in [
        "shot_zone_mismatch_score",
        "pace_score",
        "usage_spike_score",
        "opponent_def_rating",
        "opponent_pace",
        "team_pace",
        "team_off_rating",
    ] {
        assert!(defaulted(&v, name), "{name}");
        assert_eq!(source(&v, name), FeatureSource::Default, "{name}");
    }
    assert!(close(v.get("opponent_def_rating"), 112.0));
    // No game vs MIA before the date: the documented fallback, the season
    // average 1167 / 42, marked defaulted (optional: no cap).
    assert!(close(v.get("avg_points_vs_opponent"), 1167.0 / 42.0));
    assert!(defaulted(&v, "avg_points_vs_opponent"));
    assert!(close(v.get("games_vs_opponent"), 0.0));
    assert!(close(v.get("fatigue_score"), 55.0));
    assert_eq!(row.defaulted_required_count, 7);
    // Weights: 7 phase4 (0–5, 31) 700 + 9 default 360 + 9 calculated 900 +
    // 4 phase3 (15–17, 33) 348 + 1 opponent history 90 + 7 missing 0 =
    // 2398 / 37 = 64.81 → capped at 49.
    assert_eq!(row.feature_quality_score, 49.0);
    assert_eq!(row.quality_tier, "critical");
    assert_eq!(row.data_source, "mixed");

    // With the Phase 3 pace and ratings and Maxey's usage rates, only the
    // mismatch (no zones) is a defaulted required feature → capped at 69.
    let mut c = maxey_context(d);
    c.pace_differential = Some(0.768_434_788_245_727_4);
    c.team_pace_last_10 = Some(98.225_618_634_252_09);
    c.opponent_pace_last_10 = Some(97.457_183_846_006_36);
    c.opponent_def_rating_last_10 = Some(111.9);
    let usage = [
        23.7948, 27.9174, 37.3441, 36.6351, 39.3245, 32.0245, 30.8161,
    ];
    c.avg_usage_rate_last_7_games = Some(usage.iter().sum::<f64>() / 7.0);
    let mut games: Vec<PlayerGameSummary> = real().games.clone();
    let mut maxey: Vec<&mut PlayerGameSummary> = games
        .iter_mut()
        .filter(|g| g.player_id == c.player_id && g.game_date < d)
        .collect();
    maxey.sort_by_key(|g| g.game_date);
    let n = maxey.len();
    for (g, u) in maxey.into_iter().skip(n - 7).zip(usage) {
        g.usage_rate = Some(u);
    }
    let team = team_context(d, "PHI", 113.4);
    let i = inputs(d, vec![c], vec![team], &games);
    let rows = build(d, &i);
    let (row, v) = vector(&rows, "tyresemaxey");
    assert_eq!(row.defaulted_required_count, 1);
    assert!(defaulted(&v, "shot_zone_mismatch_score"));
    assert_eq!(source(&v, "pace_score"), FeatureSource::Phase4);
    assert!(close(v.get("pace_score"), 0.768_434_788_245_727_4 / 2.0));
    // Usage rate of the last 5: (37.3441 + 36.6351 + 39.3245 + 32.0245 + 30.8161) / 5.
    assert!(close(v.get("usage_rate_last_5"), 176.1443 / 5.0));
    assert!(close(v.get("team_off_rating"), 113.4));
    // 9 phase4 900 + 3 default 120 + 10 calculated 1000 + 8 phase3 696 +
    // 1 opponent history 90 + 6 missing 0 = 2806 / 37 = 75.84 → capped at 69.
    assert_eq!(row.feature_quality_score, 69.0);
    assert_eq!(row.quality_tier, "poor");
}

fn team_context(d: NaiveDate, team: &str, off_rating: f64) -> UpcomingTeamGameContext {
    UpcomingTeamGameContext {
        game_date: d,
        game_id: "0022400719".into(),
        season: 2024,
        season_type: "regular".into(),
        team_abbr: team.into(),
        opponent_abbr: "MIA".into(),
        is_home: true,
        tipoff_time: None,
        days_rest: Some(1),
        back_to_back: true,
        games_last_7_days: 4,
        games_last_14_days: 7,
        games_played_season: 47,
        wins: 0,
        losses: 0,
        streak: 0,
        last_game_margin: None,
        pace_last_10: None,
        off_rating_last_10: Some(off_rating),
        def_rating_last_10: None,
        opponent_pace_last_10: None,
        opponent_def_rating_last_10: None,
        early_season_flag: false,
    }
}

#[test]
fn every_vector_round_trips_through_feature_vector_from_row() {
    let (d, i) = curry_inputs();
    let rows = build(d, &i);
    assert_eq!(rows.len(), i.contexts.len());
    let fi = FeatureInputs::new(
        &i.contexts,
        &i.teams,
        &i.composites,
        &i.caches,
        &[],
        &[],
        &i.history,
        &i.h2h,
        &i.records,
    );
    for row in &rows {
        let v = FeatureVector::from_row(row).expect("parses");
        assert_eq!(v.values.len(), FEATURE_COUNT);
        assert_eq!(v.quality_score, row.feature_quality_score);
        // NULL exactly where the source is missing; defaulted exactly where
        // the source is the default.
        for k in 0..FEATURE_COUNT {
            assert_eq!(
                v.values[k].is_none(),
                v.sources[k] == FeatureSource::Missing
            );
            assert_eq!(v.defaulted[k], v.sources[k] == FeatureSource::Default);
        }
        // The parsed values are the computed ones (JSON float parsing may
        // differ in the last bit).
        let c = i
            .contexts
            .iter()
            .find(|c| c.player_lookup == row.player_lookup)
            .unwrap();
        let built = feature_vector(c, &fi);
        assert_eq!(
            (&built.sources, &built.defaulted),
            (&v.sources, &v.defaulted)
        );
        for (a, b) in v.values.iter().zip(&built.values) {
            match (a, b) {
                (Some(a), Some(b)) => assert!((a - b).abs() <= 1e-12 * a.abs().max(1.0)),
                (a, b) => assert_eq!(a, b),
            }
        }
        assert_eq!(
            serde_json::to_string(&v.defaulted).unwrap(),
            row.feature_defaulted
        );
        let names: Vec<&str> = v.sources.iter().map(|s| s.as_str()).collect();
        assert_eq!(serde_json::to_string(&names).unwrap(), row.feature_sources);
        assert!(
            v.as_model_input()
                .iter()
                .all(|x| x.is_finite() || x.is_nan())
        );
    }
}

fn ctx(wh: &Arc<DuckDbWarehouse>, d: NaiveDate) -> ProcessContext {
    ProcessContext {
        warehouse: wh.clone(),
        landing: Arc::new(LocalLandingZone::in_memory()),
        state: Arc::new(SqliteStateStore::in_memory().expect("sqlite")),
        game_date: d,
        mode: RunMode::Backfill,
        execution_id: "exec-test".to_string(),
        correlation_id: "corr-test".to_string(),
        now: Utc.with_ymd_and_hms(2025, 11, 10, 8, 0, 0).unwrap(),
        scope: Default::default(),
    }
}

async fn read_back<T: Table + serde::de::DeserializeOwned + Send>(
    wh: &DuckDbWarehouse,
    d: NaiveDate,
) -> Vec<T> {
    wh.query_as(&format!(
        "SELECT * FROM {} WHERE game_date = {} ORDER BY player_lookup",
        T::DEF.qualified(),
        date_literal(d)
    ))
    .await
    .expect("read back")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processor_chain_writes_the_feature_store_from_the_warehouse() {
    let (d, expected_inputs) = curry_inputs();
    let r = real();
    let wh = Arc::new(DuckDbWarehouse::in_memory().expect("duckdb"));
    for def in [
        PlayerGameSummary::DEF,
        ScheduleGame::DEF,
        PlayerProp::DEF,
        TeamOffenseGameSummary::DEF,
        UpcomingPlayerGameContext::DEF,
    ] {
        wh.ensure_table(&def).await.unwrap();
    }
    // Every real game and final of both seasons, also after the date.
    let dates: std::collections::BTreeSet<NaiveDate> =
        r.schedule.iter().map(|g| g.game_date).collect();
    for day in dates {
        wh.replace_rows(day, &[], &r.schedule_on(day))
            .await
            .unwrap();
        wh.replace_rows(day, &[], &team_offense_on(day))
            .await
            .unwrap();
        let games = r.games_on(day);
        if !games.is_empty() {
            wh.replace_rows(day, &[], &games).await.unwrap();
        }
    }
    wh.replace_rows(d, &[], &expected_inputs.contexts)
        .await
        .unwrap();

    let all = processors();
    for name in [
        "player_composite_factors",
        "player_daily_cache",
        "ml_feature_store",
    ] {
        let p = all.iter().find(|p| p.name() == name).expect(name);
        let output = p.process(&ctx(&wh, d)).await.expect(name);
        assert!(output.total_rows() > 0, "{name}");
    }
    let got: Vec<MlFeatureStore> = read_back(&wh, d).await;
    assert_eq!(got.len(), expected_inputs.contexts.len());
    // The SQL history, head-to-head and team-record queries give exactly
    // what the definitions over every game give.
    let composites: Vec<PlayerCompositeFactors> = read_back(&wh, d).await;
    assert_eq!(composites, expected_inputs.composites);
    let expected = build(d, &expected_inputs);
    assert_eq!(got, expected);
    let (_, v) = vector(&got, "stephencurry");
    assert!(close(v.get("pts_slope_10g"), -43.0 / 28.0));
    assert!(close(v.get("avg_points_vs_opponent"), 21.0));
    assert!(close(v.get("team_win_pct"), 4.0 / 7.0));
    for row in &got {
        FeatureVector::from_row(row).expect("parses");
    }
    // The daily cache written by its processor is what the builder used.
    let caches: Vec<PlayerDailyCache> = read_back(&wh, d).await;
    assert_eq!(caches, expected_inputs.caches);
}
