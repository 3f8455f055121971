//! The similarity system's history built from real game logs.

mod common;

use common::{date, player_game_rows, summaries_before};
use propcast_prediction_worker::player_history::{TeamDefenseRow, build_histories};

#[test]
fn sga_history_before_2025_11_05_matches_the_logs() {
    let d = date("2025-11-05");
    let games = player_game_rows(&summaries_before(d));
    // Two POR-opponent ratings (illustrative values, real dates): LAC's
    // games of 10-30 and 11-02 precede SGA's 11-04 game at LAC; its game of
    // 11-04 itself must not count.
    let defense: Vec<TeamDefenseRow> = [
        ("2025-10-30", 110.0),
        ("2025-11-02", 114.0),
        ("2025-11-04", 90.0),
    ]
    .iter()
    .map(|(day, rating)| TeamDefenseRow {
        game_date: date(day),
        season: 2025,
        defending_team_abbr: "LAC".into(),
        defensive_rating: Some(*rating),
    })
    .collect();
    let histories = build_histories(&games, &defense, d);
    let sga = &histories["shaigilgeousalexander"];
    // Newest first: 11-04 @LAC 30 … 10-21 HOU 35 (8 games, none on 11-05).
    let summary: Vec<(String, i64, Option<i64>)> = sga
        .iter()
        .map(|g| (g.game_date.to_string(), g.points, g.days_rest))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("2025-11-04".into(), 30, Some(2)),
            ("2025-11-02".into(), 30, Some(3)),
            ("2025-10-30".into(), 31, Some(2)),
            ("2025-10-28".into(), 31, Some(1)),
            ("2025-10-27".into(), 23, Some(2)),
            ("2025-10-25".into(), 30, Some(2)),
            ("2025-10-23".into(), 55, Some(2)),
            ("2025-10-21".into(), 35, None),
        ]
    );
    // Form entering 11-04: L5 (30, 23, 31, 31, 30) = 29 minus the season
    // mean 235 / 7.
    let form = sga[0].form_delta.unwrap();
    assert!((form - (29.0 - 235.0 / 7.0)).abs() < 1e-9, "{form}");
    // Entering 10-23: one earlier game, L5 = season = 35 → 0.
    assert_eq!(sga[6].form_delta, Some(0.0));
    assert_eq!(sga[7].form_delta, None);
    // LAC's rating before 11-04: mean of 110 and 114 (not the 90 of 11-04).
    assert_eq!(sga[0].opponent_def_rating, Some(112.0));
    assert_eq!(sga[1].opponent_def_rating, None); // NOP: no rows given
}
