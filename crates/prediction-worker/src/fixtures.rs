//! Real-player fixtures of the unit tests (derived by hand from
//! `/work/shared/data`, sources named on each).

use crate::prop_line::PropLine;
use chrono::{NaiveDate, TimeZone, Utc};
use propcast_core::tables::{PlayerCompositeFactors, PlayerDailyCache};

/// Shai Gilgeous-Alexander before OKC @ POR on 2025-11-05, from
/// `player_game_logs_2025_26_before_2025-11-10.csv.gz`: he scored 35, 55,
/// 30, 23, 31, 31, 30, 30 (10-21 … 11-04) and played 11-04 at LAC.
pub fn sga_2025_11_05() -> PlayerDailyCache {
    PlayerDailyCache {
        game_date: NaiveDate::from_ymd_opt(2025, 11, 5).unwrap_or_default(),
        player_lookup: "shaigilgeousalexander".into(),
        player_id: 1628983,
        player_name: "Shai Gilgeous-Alexander".into(),
        team_abbr: "OKC".into(),
        opponent_abbr: "POR".into(),
        is_home: false,
        game_id: "0022500180".into(),
        season: 2025,
        games_played_season: 8,
        // (23 + 31 + 31 + 30 + 30) / 5
        points_avg_last_5: Some(29.0),
        // 265 / 8: fewer than 10 games, the average of all 8
        points_avg_last_10: Some(33.125),
        points_avg_season: Some(33.125),
        // sample std of the 8 games: √(622.875 / 7)
        points_std_last_10: Some(9.4330),
        minutes_avg_last_5: None,
        minutes_avg_last_10: None,
        minutes_avg_season: None,
        // 10-30, 11-02, 11-04
        games_last_7_days: 3,
        days_rest: Some(1),
        last_game_date: NaiveDate::from_ymd_opt(2025, 11, 4),
        calculation_quality: "partial".into(),
    }
}

/// DraftKings, 2025-11-05 17:00 UTC, tip-off 03:10 UTC on 11-06.
pub fn dk_line(line: f64) -> PropLine {
    PropLine {
        line,
        bookmaker: "draftkings".into(),
        event_id: "791675e364eb25c166c6382113c0c17f".into(),
        snapshot_time: Utc.with_ymd_and_hms(2025, 11, 5, 17, 0, 0).unwrap(),
        commence_time: Utc.with_ymd_and_hms(2025, 11, 6, 3, 10, 0).unwrap(),
        minutes_before_tipoff: 610,
        over_price: Some(-112),
        under_price: Some(-114),
        lines_in_snapshot: 1,
    }
}

/// SGA's composite factors for 2025-11-05, worked from the same logs with
/// the §3.3 formulas:
/// * fatigue: 100, back-to-back (11-04 → 11-05) −15; 3 games in the last
///   7 days (not ≥ 4); 88 minutes (29 + 30 + 29, not > 240) at 29.3 per
///   game (not > 35); one back-to-back pair in the last 14 days
///   (10-27/10-28) −5; age 27: no change → **80** (rested-ish).
/// * shot_zone_mismatch 0: no zone data in 2025-26 (the factor's rule).
/// * usage_spike 0: projected = recent usage (the 25/25 defaults).
/// * pace_score 1.5: **illustrative**, not derived (a pace differential of
///   +3 possessions).
pub fn sga_factors_2025_11_05() -> PlayerCompositeFactors {
    PlayerCompositeFactors {
        game_date: NaiveDate::from_ymd_opt(2025, 11, 5).unwrap_or_default(),
        player_lookup: "shaigilgeousalexander".into(),
        player_id: 1628983,
        game_id: "0022500180".into(),
        team_abbr: "OKC".into(),
        opponent_abbr: "POR".into(),
        fatigue_score: 80,
        fatigue_adjustment: -1.0,
        shot_zone_mismatch_score: 0.0,
        pace_score: 1.5,
        usage_spike_score: 0.0,
        total_composite_adjustment: 0.5,
        factor_context: "{}".into(),
        data_completeness_pct: 100.0,
        missing_data_fields: "".into(),
        has_warnings: false,
        calculation_version: "v1_4factors".into(),
    }
}
