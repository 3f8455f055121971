//! Choosing the one real sportsbook points line a prediction is made against.
//!
//! Rules, applied in this order to the `nba_raw.player_props` rows of one
//! game date:
//!
//! 1. **Market and player.** Only `player_points` rows whose `player_id` is
//!    this player. Rows with a NULL `player_id` are sportsbook names that
//!    could not be resolved; they are not this player, even when the
//!    `player_lookup` happens to match.
//! 2. **Pre-tip only** (DESIGN invariant 1, REFERENCE §9 lesson 12). A
//!    snapshot counts only when `snapshot_time < commence_time`, strictly,
//!    and `minutes_before_tipoff >= 0`. The instants decide:
//!    `minutes_before_tipoff` is a whole number of minutes, so a snapshot
//!    taken 30 s after tip-off may read 0, and a snapshot taken exactly at
//!    tip-off is already the live market. The reference system's
//!    `minutes_before_tipoff >= 0` is kept as a second guard so that a row
//!    whose two fields disagree is excluded, never trusted.
//! 3. **Real lines ≥ 5.0.** Lines below [`MIN_LINE`] are dropped before the
//!    book is chosen (a low line at a preferred book does not hide a usable
//!    line at another book); non-finite lines are dropped too.
//! 4. **Book preference.** [`BOOK_PREFERENCE`] order (DraftKings > FanDuel >
//!    BetMGM > the reference system's PointsBet and Caesars > the rest), then
//!    books not in that list alphabetically by key.
//! 5. **Latest snapshot** of the chosen book.
//! 6. **Main line.** When that snapshot holds several lines (an alternate
//!    ladder, as Bovada and BetRivers publish), the main line is the one
//!    whose Over and Under prices are closest, measured as the gap between
//!    their implied probabilities (American odds are not linear around
//!    ±100: −110/+100 are close, their raw difference is 210). A line with a
//!    missing price ranks after every priced line. Ties go to the lower line.
//!
//! A line is never invented: no eligible row means no line (`NO_PROP_LINE`).

use chrono::{DateTime, NaiveDate, Utc};
use propcast_core::tables::PlayerProp;
use serde::Serialize;
use std::cmp::Ordering;
use std::collections::BTreeSet;

/// The only market the points systems are made for.
pub const PLAYER_POINTS_MARKET: &str = "player_points";

/// Lines below this are ignored (REFERENCE §1.2).
pub const MIN_LINE: f64 = 5.0;

/// Sportsbooks in order of preference, by Odds API bookmaker key. The first
/// five follow the reference system (DraftKings > FanDuel > BetMGM >
/// PointsBet > Caesars); PointsBet US became Fanatics Sportsbook, which
/// comes next; then the other regulated US books; the offshore books, which
/// quote whole alternate ladders, come last. Books not listed rank after
/// all of these, alphabetically.
pub const BOOK_PREFERENCE: &[&str] = &[
    "draftkings",
    "fanduel",
    "betmgm",
    "pointsbetus",
    "williamhill_us",
    "fanatics",
    "espnbet",
    "betrivers",
    "bovada",
    "betonlineag",
];

/// Where a prediction's line came from (`line_source`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineSource {
    /// A real pre-tip sportsbook line.
    ActualProp,
    /// No sportsbook offered an eligible line; the prediction has none.
    NoPropLine,
}

impl LineSource {
    pub fn as_str(self) -> &'static str {
        match self {
            LineSource::ActualProp => "ACTUAL_PROP",
            LineSource::NoPropLine => "NO_PROP_LINE",
        }
    }
}

/// The line chosen for one player on one date, with where it came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PropLine {
    pub line: f64,
    pub bookmaker: String,
    pub event_id: String,
    pub snapshot_time: DateTime<Utc>,
    pub commence_time: DateTime<Utc>,
    pub minutes_before_tipoff: i64,
    pub over_price: Option<i64>,
    pub under_price: Option<i64>,
    /// Lines the chosen book quoted in the chosen snapshot (1 = no alternates).
    pub lines_in_snapshot: usize,
}

/// The outcome of line choice, with what was left out and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LineChoice {
    pub chosen: Option<PropLine>,
    /// This player's `player_points` rows for the date.
    pub rows_for_player: usize,
    /// Rows dropped as snapshots at or after tip-off.
    pub excluded_in_game: usize,
    /// Pre-tip rows dropped for a line below [`MIN_LINE`] (or not finite).
    pub excluded_below_minimum: usize,
    /// Books with at least one eligible line, in preference order.
    pub books_available: Vec<String>,
}

/// Rank of a bookmaker key: listed books by position, others after them
/// alphabetically. Lower is preferred.
pub fn book_rank(bookmaker: &str) -> (usize, String) {
    let key = bookmaker.to_ascii_lowercase();
    match BOOK_PREFERENCE.iter().position(|b| *b == key) {
        Some(i) => (i, String::new()),
        None => (BOOK_PREFERENCE.len(), key),
    }
}

/// Whether a snapshot was taken strictly before tip-off (see module docs).
pub fn is_pre_tip(prop: &PlayerProp) -> bool {
    prop.snapshot_time < prop.commence_time && prop.minutes_before_tipoff >= 0
}

/// The implied probability of American odds (−110 → 0.5238, +150 → 0.4);
/// `None` for 0, which is not a valid American price.
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

/// How far apart the Over and Under prices are, in millionths of implied
/// probability (rounded, so equal gaps compare equal despite float noise).
/// `None` when a price is missing or invalid.
pub fn price_gap(over: Option<i64>, under: Option<i64>) -> Option<i64> {
    let over = implied_probability(over?)?;
    let under = implied_probability(under?)?;
    Some(((over - under).abs() * 1_000_000.0).round() as i64)
}

/// Chooses the line for `player_id` on `game_date` (see module docs).
pub fn choose_line<'a>(
    props: impl IntoIterator<Item = &'a PlayerProp>,
    player_id: i64,
    game_date: NaiveDate,
) -> LineChoice {
    let mut rows_for_player = 0;
    let mut excluded_in_game = 0;
    let mut excluded_below_minimum = 0;
    let mut eligible: Vec<&PlayerProp> = Vec::new();
    for prop in props {
        if prop.market != PLAYER_POINTS_MARKET
            || prop.player_id != Some(player_id)
            || prop.game_date != game_date
        {
            continue;
        }
        rows_for_player += 1;
        if !is_pre_tip(prop) {
            excluded_in_game += 1;
        } else if !prop.line.is_finite() || prop.line < MIN_LINE {
            excluded_below_minimum += 1;
        } else {
            eligible.push(prop);
        }
    }

    let books: BTreeSet<(usize, String, String)> = eligible
        .iter()
        .map(|p| {
            let (rank, tie) = book_rank(&p.bookmaker);
            (rank, tie, p.bookmaker.clone())
        })
        .collect();
    let books_available: Vec<String> = books.iter().map(|(_, _, b)| b.clone()).collect();

    let chosen = books.first().and_then(|(_, _, book)| {
        let in_book: Vec<&PlayerProp> = eligible
            .iter()
            .copied()
            .filter(|p| &p.bookmaker == book)
            .collect();
        let latest = in_book.iter().map(|p| p.snapshot_time).max()?;
        let snapshot: Vec<&PlayerProp> = in_book
            .into_iter()
            .filter(|p| p.snapshot_time == latest)
            .collect();
        let lines_in_snapshot = snapshot.len();
        let main = snapshot.into_iter().min_by(|a, b| main_line_order(a, b))?;
        Some(PropLine {
            line: main.line,
            bookmaker: main.bookmaker.clone(),
            event_id: main.event_id.clone(),
            snapshot_time: main.snapshot_time,
            commence_time: main.commence_time,
            minutes_before_tipoff: main.minutes_before_tipoff,
            over_price: main.over_price,
            under_price: main.under_price,
            lines_in_snapshot,
        })
    });

    LineChoice {
        chosen,
        rows_for_player,
        excluded_in_game,
        excluded_below_minimum,
        books_available,
    }
}

/// Main line first: smallest price gap (missing prices last), then the lower
/// line, then the event id so the order is total.
fn main_line_order(a: &PlayerProp, b: &PlayerProp) -> Ordering {
    let gap = |p: &PlayerProp| price_gap(p.over_price, p.under_price);
    match (gap(a), gap(b)) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
    .then_with(|| a.line.total_cmp(&b.line))
    .then_with(|| a.event_id.cmp(&b.event_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn implied_probabilities_of_american_odds() {
        // −110: risk 110 to win 100 → 110/210.
        assert!((implied_probability(-110).unwrap() - 110.0 / 210.0).abs() < 1e-12);
        // +150: risk 100 to win 150 → 100/250.
        assert!((implied_probability(150).unwrap() - 0.4).abs() < 1e-12);
        assert_eq!(implied_probability(100), Some(0.5));
        assert_eq!(implied_probability(0), None);
    }

    #[test]
    fn price_gap_uses_probabilities_not_raw_odds() {
        // Prices quoted for Shai Gilgeous-Alexander by Bovada, 2025-10-21.
        // 31.5 at −120/−110: 0.545455 − 0.523810 = 0.021645.
        assert_eq!(price_gap(Some(-120), Some(-110)), Some(21_645));
        // 32.5 at +100/−130: |0.5 − 0.565217| = 0.065217.
        assert_eq!(price_gap(Some(100), Some(-130)), Some(65_217));
        // Raw odds would call +100/−118 (difference 218) far apart and
        // −105/−125 (difference 20) close; in probability +100/−118 is the
        // closer pair (0.041284 vs 0.043360).
        assert!(price_gap(Some(100), Some(-118)) < price_gap(Some(-105), Some(-125)));
        assert_eq!(price_gap(Some(-110), None), None);
    }

    #[test]
    fn book_ranking_is_listed_order_then_alphabetical() {
        let mut books = vec![
            "zebra_book",
            "bovada",
            "fanduel",
            "acme_book",
            "draftkings",
            "betmgm",
            "williamhill_us",
        ];
        books.sort_by_key(|b| book_rank(b));
        assert_eq!(
            books,
            vec![
                "draftkings",
                "fanduel",
                "betmgm",
                "williamhill_us",
                "bovada",
                "acme_book",
                "zebra_book"
            ]
        );
        assert_eq!(book_rank("DraftKings"), book_rank("draftkings"));
    }
}
