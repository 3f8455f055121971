//! `player_composite_factors` on real player-games worked out by hand, the
//! clamps, the CRITICAL fatigue range guard, and the processor against the
//! embedded DuckDB warehouse.

#[path = "common/contexts.rs"]
mod contexts;

use chrono::{NaiveDate, TimeZone, Utc};
use contexts::{context, player_contexts};
use propcast_core::Table;
use propcast_core::tables::{
    PlayerCompositeFactors, PlayerGameSummary, PlayerShotZoneAnalysis, TeamDefenseZoneAnalysis,
    UpcomingPlayerGameContext,
};
use propcast_patterns::Processor;
use propcast_patterns::{ProcessContext, ProcessError, RunMode};
use propcast_platform::embedded::{DuckDbWarehouse, LocalLandingZone, SqliteStateStore};
use propcast_platform::warehouse::date_literal;
use propcast_platform::{Warehouse, WarehouseExt};
use propcast_precompute::player_composite_factors::{
    CompositeFactorError, CompositeInputs, FatigueInputs, PlayerCompositeFactorsProcessor,
    check_ranges, factor_defaulted, fatigue_adjustment, fatigue_score, mismatch_score, pace_score,
    star_multiplier, usage_spike_score,
};
use propcast_precompute::recent_games::{PlayerHistory, history_from_games};
use propcast_precompute::{build_player_composite_factors, processors};
use propcast_test_support::player_games::{date, real};
use std::collections::BTreeMap;
use std::sync::Arc;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

/// Tyrese Maxey (PHI) before 2025-02-05 vs MIA, from
/// player_game_logs_2024_25 (date, minutes):
///   01-24 40 | 01-25 43 | 01-28 36 | 01-29 38 | 01-31 39 | 02-02 40 | 02-04 40
fn maxey_context() -> UpcomingPlayerGameContext {
    context(&player_contexts(date("2025-02-05")), "tyresemaxey").clone()
}

#[test]
fn maxey_fatigue_on_2025_02_05_by_hand() {
    let c = maxey_context();
    // days_rest: 02-05 − 02-04 = 1 → back-to-back.
    assert_eq!((c.days_rest, c.back_to_back), (Some(1), true));
    // [01-29, 02-04]: 01-29, 01-31, 02-02, 02-04 → 4 games, 38+39+40+40 = 157 min.
    assert_eq!(c.games_last_7_days, 4);
    assert!(close(c.minutes_last_7_days, 157.0));
    assert!(close(c.avg_minutes_last_7_days.unwrap(), 39.25));
    // [01-22, 02-04] game days 01-24, 01-25, 01-28, 01-29, 01-31, 02-02, 02-04:
    // consecutive pairs (01-24, 01-25) and (01-28, 01-29).
    assert_eq!(c.back_to_backs_last_14_days, 2);
    // 100 − 15 (B2B) − 10 (4 games) − 0 (157 ≤ 240 min) − 8 (39.25 > 35 mpg)
    // − 12 (2 B2Bs) − 0 (age defaulted 25) = 55.
    let inputs = FatigueInputs::of(&c);
    assert_eq!(fatigue_score(&inputs), 55);
    assert!(close(fatigue_adjustment(55), -2.25));
}

#[test]
fn fatigue_rest_bonus_is_clamped_at_100_and_nulls_take_the_defaults() {
    // Nothing penalised, three days of rest: 100 + 5 → 100.
    let rested = FatigueInputs {
        back_to_back: false,
        days_rest: Some(3),
        games_last_7_days: Some(2),
        minutes_last_7_days: Some(60.0),
        avg_minutes_last_7_days: Some(30.0),
        back_to_backs_last_14_days: 0,
        age: None,
    };
    assert_eq!(fatigue_score(&rested), 100);
    assert!(close(fatigue_adjustment(100), 0.0));
    // All NULL: days_rest 1 (no bonus, not a B2B by the flag), 3 games, 200
    // min, 30 mpg → nothing fires; one B2B in 14 days −5; age 36 −10 → 85.
    let nulls = FatigueInputs {
        back_to_back: false,
        days_rest: None,
        games_last_7_days: None,
        minutes_last_7_days: None,
        avg_minutes_last_7_days: None,
        back_to_backs_last_14_days: 1,
        age: Some(36),
    };
    assert_eq!(fatigue_score(&nulls), 85);
    // Every penalty: 100 − 15 − 10 − 10 − 8 − 12 − 10 = 35 (the lower clamp
    // cannot bind with these rules).
    let worn = FatigueInputs {
        back_to_back: true,
        days_rest: Some(1),
        games_last_7_days: Some(5),
        minutes_last_7_days: Some(241.0),
        avg_minutes_last_7_days: Some(48.2),
        back_to_backs_last_14_days: 3,
        age: Some(35),
    };
    assert_eq!(fatigue_score(&worn), 35);
    assert!(close(fatigue_adjustment(35), -3.25));
}

fn zone_analysis(
    player_id: i64,
    primary: &str,
    paint: f64,
    mid: f64,
    three: f64,
) -> PlayerShotZoneAnalysis {
    PlayerShotZoneAnalysis {
        game_date: date("2024-01-03"),
        player_lookup: "giannisantetokounmpo".into(),
        player_id,
        player_name: "Giannis Antetokounmpo".into(),
        team_abbr: "MIL".into(),
        games_in_sample: 10,
        last_game_date: date("2024-01-01"),
        total_fga: 195,
        paint_fga: 152,
        paint_fgm: 0,
        mid_range_fga: 27,
        mid_range_fgm: 0,
        three_fga: 16,
        three_fgm: 0,
        paint_rate: Some(paint),
        mid_range_rate: Some(mid),
        three_rate: Some(three),
        paint_fg_pct: None,
        mid_range_fg_pct: None,
        three_fg_pct: None,
        paint_fg_pct_vs_league: None,
        mid_range_fg_pct_vs_league: None,
        three_fg_pct_vs_league: None,
        primary_scoring_zone: primary.into(),
        sample_quality: "complete".into(),
    }
}

fn defense(team: &str, paint_vs: Option<f64>) -> TeamDefenseZoneAnalysis {
    TeamDefenseZoneAnalysis {
        game_date: date("2024-01-03"),
        team_abbr: team.into(),
        games_in_sample: 15,
        paint_fga_allowed: 0,
        paint_fgm_allowed: 0,
        mid_range_fga_allowed: 0,
        mid_range_fgm_allowed: 0,
        three_fga_allowed: 0,
        three_fgm_allowed: 0,
        paint_pct_allowed: Some(0.605_405_405_405_405_4),
        mid_range_pct_allowed: None,
        three_pct_allowed: None,
        paint_defense_vs_league_avg: paint_vs,
        mid_range_defense_vs_league_avg: Some(-0.02),
        three_defense_vs_league_avg: Some(0.031),
        league_avg_source: "computed".into(),
        strongest_zone: None,
        weakest_zone: None,
        defensive_rating: None,
        opponent_ppg: None,
        sample_quality: "complete".into(),
    }
}

/// A context row for the mismatch test (only identity and opponent matter).
fn giannis_context() -> UpcomingPlayerGameContext {
    let mut c = maxey_context();
    c.game_date = date("2024-01-03");
    c.player_id = 203507;
    c.player_lookup = "giannisantetokounmpo".into();
    c.team_abbr = "MIL".into();
    c.opponent_abbr = "IND".into();
    c
}

#[test]
fn giannis_at_indiana_2024_01_03_mismatch_by_hand() {
    // shot_zones_player_game_2023_24, Giannis's 10 games before 2024-01-03:
    // 152 paint / 27 mid-range / 16 three of 195 FGA → paint rate
    // 77.948718 % → primary zone paint. IND allowed 0.605405 in the paint
    // over its last 15 games; the mean of the 30 teams' last-15 paint FG%
    // allowed was 0.578136 → vs league +0.027269 (weak).
    // d = 2.7269 pp, w = min(77.95 / 50, 1) = 1, s = 2.7269 (|s| ≤ 5: no boost).
    let vs = 0.605_405_405_405_405_4 - 0.578_135_908_343_390_9;
    let zones = [zone_analysis(
        203507,
        "paint",
        152.0 / 195.0 * 100.0,
        13.846,
        8.205,
    )];
    let defenses = [defense("IND", Some(vs))];
    let history = BTreeMap::new();
    let players = [giannis_context()];
    let inputs = CompositeInputs::new(&players, &[], &zones, &defenses, &history);
    let s = build_player_composite_factors(date("2024-01-03"), &inputs);
    let row = &s.rows[0];
    assert!((row.shot_zone_mismatch_score - 2.726_949_706_201_4).abs() < 1e-9);
    assert!(!factor_defaulted(row, "shot_zone_mismatch_score"));
    assert!(!row.missing_data_fields.contains("zone"));

    // A perimeter player maps to the three-point defense: rate 45 % against
    // +0.031 → d = 3.1, w = 0.9, s = 2.79.
    let zones = [zone_analysis(203507, "perimeter", 30.0, 25.0, 45.0)];
    let inputs = CompositeInputs::new(&players, &[], &zones, &defenses, &history);
    let row = &build_player_composite_factors(date("2024-01-03"), &inputs).rows[0];
    assert!(close(row.shot_zone_mismatch_score, 2.79));
    // Balanced: 0, and nothing is missing on the zone side.
    let zones = [zone_analysis(203507, "balanced", 35.0, 30.0, 35.0)];
    let inputs = CompositeInputs::new(&players, &[], &zones, &defenses, &history);
    let row = &build_player_composite_factors(date("2024-01-03"), &inputs).rows[0];
    assert_eq!(row.shot_zone_mismatch_score, 0.0);
    assert!(!factor_defaulted(row, "shot_zone_mismatch_score"));
    // Opponent without a zone analysis: 0 and listed.
    let zones = [zone_analysis(203507, "paint", 77.9, 13.8, 8.2)];
    let inputs = CompositeInputs::new(&players, &[], &zones, &[], &history);
    let row = &build_player_composite_factors(date("2024-01-03"), &inputs).rows[0];
    assert_eq!(row.shot_zone_mismatch_score, 0.0);
    assert!(
        row.missing_data_fields
            .split(',')
            .any(|f| f == "opponent_zone_defense")
    );
    assert!(factor_defaulted(row, "shot_zone_mismatch_score") && row.has_warnings);
}

#[test]
fn mismatch_boost_and_clamp() {
    // rate 45, +0.08: d = 8, w = 0.9, s = 7.2 > 5 → 7.2 · 1.2 = 8.64.
    assert!(close(mismatch_score(45.0, 0.08), 8.64));
    // rate 60, +0.10: 10 · 1 · 1.2 = 12 → 10.
    assert!(close(mismatch_score(60.0, 0.10), 10.0));
    // rate 50, −0.09: −9 · 1.2 = −10.8 → −10.
    assert!(close(mismatch_score(50.0, -0.09), -10.0));
    // rate 25, −0.05: −5 · 0.5 = −2.5 (no boost).
    assert!(close(mismatch_score(25.0, -0.05), -2.5));
}

#[test]
fn pace_and_usage_clamps() {
    assert!(close(
        pace_score(0.768_434_788_245_727_4),
        0.384_217_394_122_863_7
    ));
    assert!(close(pace_score(7.0), 3.0));
    assert!(close(pace_score(-6.2), -3.0));
    assert!(close(usage_spike_score(30.0, 25.0, 1.0), 1.5));
    assert!(close(usage_spike_score(40.0, 25.0, 1.0), 3.0));
    assert!(close(usage_spike_score(10.0, 25.0, 1.0), -3.0));
    assert_eq!(usage_spike_score(30.0, 0.0, 1.0), 0.0, "no baseline");
    // Star teammates out multiply a positive spike only: 1.5 × 1.15, and
    // × 1.30 capped at 3; a negative spike is left as it is.
    assert!(close(
        usage_spike_score(30.0, 25.0, star_multiplier(Some(1))),
        1.725
    ));
    assert!(close(
        usage_spike_score(32.0, 25.0, star_multiplier(Some(2))),
        2.73
    ));
    assert!(close(
        usage_spike_score(20.0, 25.0, star_multiplier(Some(3))),
        -1.5
    ));
    assert_eq!(star_multiplier(None), 1.0);
    assert_eq!(star_multiplier(Some(0)), 1.0);
}

/// Maxey's usage rates of his last 7 games before 2025-02-05, computed
/// (python) from player_game_logs_2024_25 and PHI's team_game_logs with
/// 100·(FGA + 0.44·FTA + TOV)·(team MIN / 5) / (MIN·(team FGA + 0.44·team
/// FTA + team TOV)), oldest first: 01-24 .. 02-04.
const MAXEY_USAGE: [f64; 7] = [
    23.7948, 27.9174, 37.3441, 36.6351, 39.3245, 32.0245, 30.8161,
];

/// Maxey's 2024-25 games before 2025-02-05 with those usage rates.
fn maxey_games() -> Vec<PlayerGameSummary> {
    let mut games: Vec<PlayerGameSummary> = real()
        .games
        .iter()
        .filter(|g| g.player_name == "Tyrese Maxey" && g.game_date < date("2025-02-05"))
        .cloned()
        .collect();
    games.sort_by_key(|g| g.game_date);
    let n = games.len();
    for (g, u) in games[n - 7..].iter_mut().zip(MAXEY_USAGE) {
        g.usage_rate = Some(u);
    }
    games
}

#[test]
fn maxey_all_four_factors_on_2025_02_05() {
    let d = date("2025-02-05");
    let mut c = maxey_context();
    // PHI's pace over its last 10 games 98.225619 vs MIA's 97.457184 (python,
    // possessions FGA + 0.44·FTA − OREB + TOV averaged over both teams, ·48
    // / (MIN/5), team_game_logs): differential 0.768435.
    c.pace_differential = Some(0.768_434_788_245_727_4);
    c.avg_usage_rate_last_7_games = Some(MAXEY_USAGE.iter().sum::<f64>() / 7.0);
    let games = maxey_games();
    let history: BTreeMap<i64, PlayerHistory> = history_from_games(d, &[c.player_id], &games);
    let players = [c.clone()];
    let inputs = CompositeInputs::new(&players, &[], &[], &[], &history);
    let s = build_player_composite_factors(d, &inputs);
    let r = &s.rows[0];
    assert_eq!(
        (r.player_id, r.team_abbr.as_str(), r.opponent_abbr.as_str()),
        (c.player_id, "PHI", "MIA")
    );
    assert_eq!(r.fatigue_score, 55);
    assert!(close(r.fatigue_adjustment, -2.25));
    // No zone data in 2024-25: 0, both sides listed.
    assert_eq!(r.shot_zone_mismatch_score, 0.0);
    assert!(
        r.missing_data_fields
            .contains("primary_scoring_zone,opponent_zone_defense")
    );
    // 0.768435 / 2.
    assert!(close(r.pace_score, 0.384_217_394_122_863_7));
    // projected = mean of the last 3 (01-31, 02-02, 02-04) = 34.055033; baseline = mean of 7 = 32.550929; 0.3 · 1.504105 = 0.451231.
    let projected = (39.3245 + 32.0245 + 30.8161) / 3.0;
    let baseline = MAXEY_USAGE.iter().sum::<f64>() / 7.0;
    assert!(close(r.usage_spike_score, 0.3 * (projected - baseline)));
    assert!((r.usage_spike_score - 0.451_231).abs() < 1e-6);
    assert!(close(
        r.total_composite_adjustment,
        -2.25 + 0.0 + 0.384_217_394_122_863_7 + 0.3 * (projected - baseline)
    ));
    // Missing: age, both zone sides, star teammates → 5 of 9 present.
    assert_eq!(
        r.missing_data_fields,
        "player_age,primary_scoring_zone,opponent_zone_defense,star_teammates_out"
    );
    assert!(close(r.data_completeness_pct, 55.56));
    assert!(r.has_warnings);
    assert_eq!(r.calculation_version, "v1_4factors");
    let ctx: serde_json::Value = serde_json::from_str(&r.factor_context).unwrap();
    assert_eq!(ctx["fatigue"]["score"], 55);
    assert_eq!(ctx["fatigue"]["age_defaulted"], true);
    assert_eq!(ctx["usage_spike"]["star_multiplier"], 1.0);
    assert_eq!(ctx["pace"]["source"], "upcoming_player_game_context");
}

#[test]
fn fatigue_outside_0_to_100_blocks_the_write() {
    let d = date("2025-02-05");
    let players = [maxey_context()];
    let history = BTreeMap::new();
    let inputs = CompositeInputs::new(&players, &[], &[], &[], &history);
    let mut rows = build_player_composite_factors(d, &inputs).rows;
    assert_eq!(check_ranges(&rows), Ok(()));
    // The reference's January 2026 bug: the adjustment (−2.25 → −2) stored
    // as the score.
    rows[0].fatigue_score = -2;
    let err = check_ranges(&rows).unwrap_err();
    assert!(matches!(
        err,
        CompositeFactorError::FatigueOutOfRange { score: -2, .. }
    ));
    let err: ProcessError = err.into();
    assert!(matches!(err, ProcessError::Permanent(_)) && !err.is_retryable());
    rows[0].fatigue_score = 55;
    rows[0].pace_score = 3.5;
    assert!(matches!(
        check_ranges(&rows),
        Err(CompositeFactorError::FactorOutOfRange {
            field: "pace_score",
            ..
        })
    ));
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processor_writes_one_row_per_context_player_from_the_warehouse() {
    let d = date("2025-02-05");
    let wh = Arc::new(DuckDbWarehouse::in_memory().expect("duckdb"));
    let r = real();
    // Every real game of 2024-25 through the date and after it (the
    // processor must read only those before it), Maxey with his usage rates.
    let maxey = maxey_games();
    let mut by_date: BTreeMap<NaiveDate, Vec<PlayerGameSummary>> = BTreeMap::new();
    for g in &r.games {
        if g.season == 2024 && g.player_name != "Tyrese Maxey" {
            by_date.entry(g.game_date).or_default().push(g.clone());
        }
    }
    for g in &maxey {
        by_date.entry(g.game_date).or_default().push(g.clone());
    }
    wh.ensure_table(&PlayerGameSummary::DEF).await.unwrap();
    for (day, rows) in &by_date {
        wh.replace_rows(*day, &[], rows).await.unwrap();
    }
    let mut contexts = player_contexts(d);
    let m = contexts
        .iter_mut()
        .find(|c| c.player_name == "Tyrese Maxey")
        .unwrap();
    m.pace_differential = Some(0.768_434_788_245_727_4);
    m.avg_usage_rate_last_7_games = Some(MAXEY_USAGE.iter().sum::<f64>() / 7.0);
    wh.ensure_table(&UpcomingPlayerGameContext::DEF)
        .await
        .unwrap();
    wh.replace_rows(d, &[], &contexts).await.unwrap();

    let all = processors();
    let p = all
        .iter()
        .find(|p| p.name() == "player_composite_factors")
        .unwrap();
    let output = p.process(&ctx(&wh, d)).await.expect("process");
    assert_eq!(
        output
            .rows_written
            .get("nba_precompute.player_composite_factors"),
        Some(&(contexts.len() as u64))
    );
    let got: Vec<PlayerCompositeFactors> = wh
        .query_as(&format!(
            "SELECT * FROM {} WHERE game_date = {} ORDER BY player_lookup",
            PlayerCompositeFactors::DEF.qualified(),
            date_literal(d)
        ))
        .await
        .unwrap();
    // The warehouse path equals the pure builder over every game (the
    // history query reads only the season before the date).
    let ids: Vec<i64> = contexts.iter().map(|c| c.player_id).collect();
    let games: Vec<PlayerGameSummary> = by_date.values().flatten().cloned().collect();
    let history = history_from_games(d, &ids, &games);
    let inputs = CompositeInputs::new(&contexts, &[], &[], &[], &history);
    let expected = build_player_composite_factors(d, &inputs).rows;
    assert_eq!(got, expected);
    let row = got.iter().find(|r| r.player_id == m_id(&contexts)).unwrap();
    assert_eq!(row.fatigue_score, 55);
    assert!((row.usage_spike_score - 0.451_231).abs() < 1e-6);
    assert!(got.iter().all(|r| (0..=100).contains(&r.fatigue_score)));
    // Others have no usage (no team totals in this test) → usage listed, 0.
    assert!(
        got.iter()
            .filter(|r| r.player_id != row.player_id)
            .all(|r| { r.usage_spike_score == 0.0 && factor_defaulted(r, "usage_spike_score") })
    );

    // Idempotent: a second run replaces the partition with the same rows.
    PlayerCompositeFactorsProcessor
        .process(&ctx(&wh, d))
        .await
        .unwrap();
    let again: Vec<PlayerCompositeFactors> = wh
        .query_as(&format!(
            "SELECT * FROM {} WHERE game_date = {} ORDER BY player_lookup",
            PlayerCompositeFactors::DEF.qualified(),
            date_literal(d)
        ))
        .await
        .unwrap();
    assert_eq!(again, got);

    // A date without contexts writes an empty partition and says so.
    let output = p.process(&ctx(&wh, date("2025-02-06"))).await.unwrap();
    assert!(output.no_data);
}

fn m_id(contexts: &[UpcomingPlayerGameContext]) -> i64 {
    contexts
        .iter()
        .find(|c| c.player_name == "Tyrese Maxey")
        .unwrap()
        .player_id
}
