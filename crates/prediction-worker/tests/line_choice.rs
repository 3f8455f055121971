//! Line choice on real Odds API props (2025-26), looked up by hand with
//! `zcat props_odds_api_2025_26_before_2025-11-10.csv.gz | grep ...`.

mod common;

use common::{date, instant, player_id, props_on};
use propcast_core::tables::PlayerProp;
use propcast_prediction_worker::choose_line;

const SGA: &str = "Shai Gilgeous-Alexander";

fn without_books(props: &[PlayerProp], books: &[&str]) -> Vec<PlayerProp> {
    props
        .iter()
        .filter(|p| !books.contains(&p.bookmaker.as_str()))
        .cloned()
        .collect()
}

#[test]
fn draftkings_line_is_chosen_over_a_different_consensus() {
    // OKC @ IND, 2025-10-23, snapshot 17:00 UTC, tip-off 23:40 UTC.
    // DraftKings 31.5 (−122/−105); FanDuel, BetMGM, Caesars, Fanatics,
    // BetOnline and BetRivers' main line all 32.5.
    let d = date("2025-10-23");
    let sga = player_id(SGA);
    assert_eq!(sga, 1628983);
    let choice = choose_line(&props_on(d), sga, d);
    let line = choice.chosen.expect("a line");
    assert_eq!(line.line, 31.5);
    assert_eq!(line.bookmaker, "draftkings");
    assert_eq!(
        (line.over_price, line.under_price),
        (Some(-122), Some(-105))
    );
    assert_eq!(line.snapshot_time, instant("2025-10-23T17:00:00Z"));
    assert_eq!(line.commence_time, instant("2025-10-23T23:40:00Z"));
    assert_eq!(line.minutes_before_tipoff, 400);
    assert_eq!(line.event_id, "072f959e31211e7c805451ce92a5f4e5");
    assert_eq!(line.lines_in_snapshot, 1);
    // 1 DK + 1 FD + 1 Caesars + 1 Fanatics + 1 MGM + 1 BetOnline
    // + 5 BetRivers + 10 Bovada points rows.
    assert_eq!(choice.rows_for_player, 21);
    assert_eq!(choice.excluded_in_game, 0);
    assert_eq!(
        choice.books_available,
        vec![
            "draftkings",
            "fanduel",
            "betmgm",
            "williamhill_us",
            "fanatics",
            "betrivers",
            "bovada",
            "betonlineag"
        ]
    );
}

#[test]
fn book_preference_falls_through_in_order() {
    let d = date("2025-10-23");
    let sga = player_id(SGA);
    let props = props_on(d);
    let pick = |drop: &[&str]| {
        let line = choose_line(&without_books(&props, drop), sga, d)
            .chosen
            .expect("a line");
        (line.bookmaker, line.line, line.over_price, line.under_price)
    };
    assert_eq!(
        pick(&["draftkings"]),
        ("fanduel".into(), 32.5, Some(-114), Some(-114))
    );
    assert_eq!(
        pick(&["draftkings", "fanduel"]),
        ("betmgm".into(), 32.5, Some(-118), Some(-110))
    );
    assert_eq!(
        pick(&["draftkings", "fanduel", "betmgm"]),
        ("williamhill_us".into(), 32.5, Some(-115), Some(-117))
    );
    assert_eq!(
        pick(&["draftkings", "fanduel", "betmgm", "williamhill_us"]),
        ("fanatics".into(), 32.5, Some(-105), Some(-125))
    );
    // BetRivers ranks before Bovada and BetOnline.
    assert_eq!(
        pick(&[
            "draftkings",
            "fanduel",
            "betmgm",
            "williamhill_us",
            "fanatics"
        ]),
        ("betrivers".into(), 32.5, Some(-113), Some(-118))
    );
}

#[test]
fn main_line_is_the_one_with_the_closest_prices() {
    // Bovada quoted SGA a 10-line ladder on 2025-10-21 (HOU @ OKC):
    // 27.5 −260/+190 … 31.5 −120/−110, 32.5 +100/−130 … 36.5 +190/−260.
    // 31.5 has the closest prices (implied 0.5455 vs 0.5238).
    let d = date("2025-10-21");
    let sga = player_id(SGA);
    let bovada_only: Vec<PlayerProp> = props_on(d)
        .into_iter()
        .filter(|p| p.bookmaker == "bovada")
        .collect();
    let line = choose_line(&bovada_only, sga, d).chosen.expect("a line");
    assert_eq!((line.line, line.lines_in_snapshot), (31.5, 10));
    assert_eq!(
        (line.over_price, line.under_price),
        (Some(-120), Some(-110))
    );

    // BetRivers, same game: 30.5 −148/+108, 31.5 −125/−107,
    // 32.5 −108/−124, 33.5 +108/−143 → 32.5 (gap 0.0344 vs 0.0387 for 31.5).
    let betrivers_only: Vec<PlayerProp> = props_on(d)
        .into_iter()
        .filter(|p| p.bookmaker == "betrivers")
        .collect();
    let line = choose_line(&betrivers_only, sga, d).chosen.expect("a line");
    assert_eq!((line.line, line.lines_in_snapshot), (32.5, 4));

    // 2025-10-23, Bovada: 32.5 at −115/−115 is exactly even.
    let d = date("2025-10-23");
    let bovada_only: Vec<PlayerProp> = props_on(d)
        .into_iter()
        .filter(|p| p.bookmaker == "bovada")
        .collect();
    let line = choose_line(&bovada_only, sga, d).chosen.expect("a line");
    assert_eq!((line.line, line.over_price), (32.5, Some(-115)));
}

#[test]
fn equally_close_prices_go_to_the_lower_line() {
    // The source has no such tie, so two real rows are given the same
    // prices: SGA's Bovada 31.5 and 32.5 of 2025-10-23 both at −115/−115.
    let d = date("2025-10-23");
    let sga = player_id(SGA);
    let mut rows: Vec<PlayerProp> = props_on(d)
        .into_iter()
        .filter(|p| p.bookmaker == "bovada" && p.player_id == Some(sga))
        .filter(|p| p.market == "player_points" && (p.line == 31.5 || p.line == 32.5))
        .collect();
    assert_eq!(rows.len(), 2);
    for row in &mut rows {
        row.over_price = Some(-115);
        row.under_price = Some(-115);
    }
    rows.reverse();
    let line = choose_line(&rows, sga, d).chosen.expect("a line");
    assert_eq!(line.line, 31.5);
}

#[test]
fn lines_below_five_are_ignored_before_the_book_is_chosen() {
    // GSW @ MIL, 2025-10-30: Taurean Prince 4.5 at BetMGM, 5.5 at Fanatics.
    let d = date("2025-10-30");
    let prince = player_id("Taurean Prince");
    let choice = choose_line(&props_on(d), prince, d);
    let line = choice.chosen.expect("a line");
    assert_eq!((line.bookmaker.as_str(), line.line), ("fanatics", 5.5));
    assert_eq!(choice.excluded_below_minimum, 1);

    // GSW @ LAL, 2025-10-21: Jarred Vanderbilt only 4.5 (BetMGM, Fanatics):
    // no line, none invented.
    let d = date("2025-10-21");
    let vanderbilt = player_id("Jarred Vanderbilt");
    let choice = choose_line(&props_on(d), vanderbilt, d);
    assert_eq!(choice.chosen, None);
    assert_eq!(
        (choice.rows_for_player, choice.excluded_below_minimum),
        (2, 2)
    );
}

#[test]
fn in_game_snapshots_are_never_used() {
    // Every snapshot in the source is pre-tip (17:00 UTC), so later
    // snapshots are derived from SGA's real DraftKings row of 2025-10-23.
    let d = date("2025-10-23");
    let sga = player_id(SGA);
    let props = props_on(d);
    let dk = props
        .iter()
        .find(|p| {
            p.bookmaker == "draftkings" && p.market == "player_points" && p.player_id == Some(sga)
        })
        .expect("SGA DraftKings row")
        .clone();
    let at = |time: &str, line: f64| {
        let mut row = dk.clone();
        row.snapshot_time = instant(time);
        row.minutes_before_tipoff = (row.commence_time - row.snapshot_time).num_minutes();
        row.line = line;
        row
    };

    // 20 minutes into the game the line moved to 36.5; exactly at tip-off 33.5.
    let mut with_live = props.clone();
    with_live.push(at("2025-10-24T00:00:00Z", 36.5));
    with_live.push(at("2025-10-23T23:40:00Z", 33.5));
    // 30 s after tip-off, from a source that truncates minutes toward zero:
    // minutes_before_tipoff reads 0, the instants still say in-game.
    with_live.push(at("2025-10-23T23:40:30Z", 34.5));
    let choice = choose_line(&with_live, sga, d);
    let line = choice.chosen.expect("a line");
    assert_eq!((line.bookmaker.as_str(), line.line), ("draftkings", 31.5));
    assert_eq!(line.snapshot_time, instant("2025-10-23T17:00:00Z"));
    assert_eq!(choice.excluded_in_game, 3);

    // A later pre-tip snapshot (one minute before tip-off) is the latest
    // pre-tip one and wins within the book.
    with_live.push(at("2025-10-23T23:39:00Z", 30.5));
    let line = choose_line(&with_live, sga, d).chosen.expect("a line");
    assert_eq!((line.line, line.minutes_before_tipoff), (30.5, 1));

    // Only in-game DraftKings rows: DraftKings is not used at all; the
    // next book's pre-tip line is.
    let mut dk_live_only = without_books(&props, &["draftkings"]);
    dk_live_only.push(at("2025-10-24T00:00:00Z", 36.5));
    let line = choose_line(&dk_live_only, sga, d).chosen.expect("a line");
    assert_eq!((line.bookmaker.as_str(), line.line), ("fanduel", 32.5));

    // A row whose minutes disagree with its instants is not trusted.
    let mut inconsistent = at("2025-10-23T23:00:00Z", 29.5);
    inconsistent.minutes_before_tipoff = -1;
    let choice = choose_line(&[inconsistent], sga, d);
    assert_eq!((choice.chosen, choice.excluded_in_game), (None, 1));
}

#[test]
fn unresolved_names_and_other_markets_and_dates_are_not_this_player() {
    let d = date("2025-10-23");
    let sga = player_id(SGA);
    let props = props_on(d);
    // SGA's rows for other markets exist that day (assists, rebounds, ...).
    assert!(
        props
            .iter()
            .any(|p| p.player_id == Some(sga) && p.market != "player_points")
    );
    // An unresolved row with SGA's lookup and a tempting line is ignored.
    let mut unresolved = props
        .iter()
        .find(|p| {
            p.bookmaker == "draftkings" && p.player_id == Some(sga) && p.market == "player_points"
        })
        .expect("SGA DraftKings row")
        .clone();
    unresolved.player_id = None;
    unresolved.line = 40.5;
    assert_eq!(choose_line(&[unresolved], sga, d).chosen, None);
    // His props of 2025-10-21 are not lines for 2025-10-23.
    assert_eq!(
        choose_line(&props_on(date("2025-10-21")), sga, d).chosen,
        None
    );
}

#[test]
fn every_source_snapshot_is_pre_tip() {
    // Fact about the source the in-game test relies on being derived.
    let props = common::all_props();
    assert_eq!(props.len(), 93_760, "rows with a line");
    assert!(
        props
            .iter()
            .all(propcast_prediction_worker::prop_line::is_pre_tip)
    );
    // No player_points line is a whole number, so a real push cannot occur.
    assert!(
        props
            .iter()
            .filter(|p| p.market == "player_points")
            .all(|p| p.line.fract() == 0.5)
    );
}
