//! Sportsbook prices: what a bet at a real price pays, what it must win to
//! break even, and what it is worth in expectation. One rule for the
//! line choice (which compares Over and Under prices), the evaluation's
//! profit and ROI, and the calls a system makes on expected value.
//!
//! Prices are American odds, as `nba_raw.player_props` stores them (decimal
//! prices in a payload are converted by the raw processor): −135 risks 135
//! to win 100, +120 risks 100 to win 120. Every bet here is one unit; a push
//! returns the stake (profit 0).

use std::cmp::Ordering;

/// The implied probability of American odds (−110 → 0.5238, +150 → 0.4);
/// `None` for 0, which is not a valid American price. This is also the hit
/// rate a bet at that price needs to break even.
pub fn implied_probability(american: i64) -> Option<f64> {
    match american.cmp(&0) {
        Ordering::Less => {
            let risk = -(american as f64);
            Some(risk / (risk + 100.0))
        }
        Ordering::Greater => Some(100.0 / (american as f64 + 100.0)),
        Ordering::Equal => None,
    }
}

/// Decimal odds (stake included) of American odds: +120 → 2.2,
/// −135 → 1.7407…; `None` for 0.
pub fn decimal_odds(american: i64) -> Option<f64> {
    match american.cmp(&0) {
        Ordering::Less => Some(1.0 + 100.0 / -(american as f64)),
        Ordering::Greater => Some(1.0 + american as f64 / 100.0),
        Ordering::Equal => None,
    }
}

/// How a bet settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settlement {
    Win,
    Loss,
    /// The result equalled the line: the stake comes back.
    Push,
}

/// Profit in units of a one-unit bet at `american` that settled as
/// `settlement`: a win pays decimal − 1, a loss costs the unit, a push
/// returns it. `None` for an invalid price.
pub fn profit(american: i64, settlement: Settlement) -> Option<f64> {
    let decimal = decimal_odds(american)?;
    Some(match settlement {
        Settlement::Win => decimal - 1.0,
        Settlement::Loss => -1.0,
        Settlement::Push => 0.0,
    })
}

/// Expected profit of a one-unit bet at `american` that wins with
/// probability `p_win` and pushes with `p_push` (it loses otherwise).
pub fn expected_value(american: i64, p_win: f64, p_push: f64) -> Option<f64> {
    let decimal = decimal_odds(american)?;
    Some(p_win * (decimal - 1.0) - (1.0 - p_win - p_push).max(0.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_by_hand() {
        assert!((implied_probability(-110).unwrap() - 110.0 / 210.0).abs() < 1e-12);
        assert_eq!(implied_probability(150), Some(0.4));
        assert_eq!(implied_probability(0), None);
        assert_eq!(decimal_odds(120), Some(2.2));
        assert_eq!(decimal_odds(-200), Some(1.5));
        // −110 needs 52.38 % to break even: EV at that rate is zero.
        let p = implied_probability(-110).unwrap();
        assert!(expected_value(-110, p, 0.0).unwrap().abs() < 1e-12);
        // A coin flip at +120 is worth 0.5 · 1.2 − 0.5 = +0.1.
        assert!((expected_value(120, 0.5, 0.0).unwrap() - 0.1).abs() < 1e-12);
        // A push chance is not a loss.
        assert!((expected_value(100, 0.45, 0.1).unwrap() - 0.0).abs() < 1e-12);
    }
}
