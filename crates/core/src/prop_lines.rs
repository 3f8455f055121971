//! The real sportsbook points line of a player on a date: which rows count,
//! which book, which snapshot, which of a book's alternate lines. One rule
//! for the upcoming player context (current, opening and per-book lines) and
//! for the line a prediction is made and graded against.
//!
//! Rules, applied in this order to the `nba_raw.player_props` rows of one
//! game date:
//!
//! 1. **Market and player.** Only [`PLAYER_POINTS_MARKET`] rows whose
//!    `player_id` is this player. Rows with a NULL `player_id` are sportsbook
//!    names that could not be resolved; they are not this player, even when
//!    the `player_lookup` happens to match.
//! 2. **Pre-tip only** (DESIGN invariant 1, REFERENCE §9 lesson 12). A
//!    snapshot counts only when `snapshot_time < commence_time`, strictly,
//!    and `minutes_before_tipoff >= 0` ([`is_pre_tip`]). The instants decide:
//!    `minutes_before_tipoff` is a whole number of minutes, so a snapshot
//!    taken 30 s after tip-off may read 0, and a snapshot taken exactly at
//!    tip-off is already the live market. The reference system's
//!    `minutes_before_tipoff >= 0` is kept as a second guard so that a row
//!    whose two fields disagree is excluded, never trusted.
//! 3. **Real lines ≥ 5.0.** Lines below [`MIN_LINE`] are dropped before the
//!    book is chosen (a low line at a preferred book does not hide a usable
//!    line at another book); non-finite lines are dropped too. Rules 1–3 are
//!    [`is_eligible`].
//! 4. **Book preference.** [`BOOK_PREFERENCE`] order (DraftKings > FanDuel >
//!    BetMGM > the reference system's PointsBet and Caesars > the rest), then
//!    books not in that list alphabetically by key ([`book_rank`]).
//! 5. **Latest snapshot** of the chosen book (the opening line of a book is
//!    the main line of its earliest snapshot).
//! 6. **Main line** ([`main_line`]). When a snapshot holds several lines (an
//!    alternate ladder, as Bovada and BetRivers publish), the main line is
//!    the one whose Over and Under prices are closest, measured as the gap
//!    between their implied probabilities ([`price_gap`]; American odds are
//!    not linear around ±100: −110/+100 are close, their raw difference is
//!    210). A line with a missing price ranks after every priced line. Ties
//!    go to the lower line, then the lower event id.
//!
//! A line is never invented: no eligible row means no line.

use crate::pricing::implied_probability;
use crate::tables::PlayerProp;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// The only market the points lines are read from.
pub const PLAYER_POINTS_MARKET: &str = "player_points";

/// Lines below this are not real points lines (REFERENCE §1.2).
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

/// Rank of a bookmaker key (case-insensitive): listed books by position,
/// others after them alphabetically. Lower is preferred.
pub fn book_rank(bookmaker: &str) -> (usize, String) {
    let key = bookmaker.to_ascii_lowercase();
    match BOOK_PREFERENCE.iter().position(|b| *b == key) {
        Some(i) => (i, String::new()),
        None => (BOOK_PREFERENCE.len(), key),
    }
}

/// Whether a snapshot was taken strictly before tip-off (rule 2).
pub fn is_pre_tip(prop: &PlayerProp) -> bool {
    prop.snapshot_time < prop.commence_time && prop.minutes_before_tipoff >= 0
}

/// Whether a line is a real points line: finite and ≥ [`MIN_LINE`].
pub fn is_real_line(line: f64) -> bool {
    line.is_finite() && line >= MIN_LINE
}

/// Whether a prop row may be chosen: a points row (rule 1), snapshotted
/// before tip-off (rule 2), with a real line (rule 3). The player is the
/// caller's filter.
pub fn is_eligible(prop: &PlayerProp) -> bool {
    prop.market == PLAYER_POINTS_MARKET && is_pre_tip(prop) && is_real_line(prop.line)
}

/// How far apart the Over and Under prices are, in millionths of implied
/// probability (rounded, so equal gaps compare equal despite float noise).
/// `None` when a price is missing or invalid.
pub fn price_gap(over: Option<i64>, under: Option<i64>) -> Option<i64> {
    let over = implied_probability(over?)?;
    let under = implied_probability(under?)?;
    Some(((over - under).abs() * 1_000_000.0).round() as i64)
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

/// The main line among the rows of one book's snapshot (rule 6).
pub fn main_line<'a>(rows: impl IntoIterator<Item = &'a PlayerProp>) -> Option<&'a PlayerProp> {
    rows.into_iter().min_by(|a, b| main_line_order(a, b))
}

/// One book's eligible rows, in book preference order (rule 4).
struct Book<'a> {
    bookmaker: String,
    rows: Vec<&'a PlayerProp>,
}

impl<'a> Book<'a> {
    /// The rows of the snapshot taken at `time`.
    fn snapshot(&self, time: DateTime<Utc>) -> impl Iterator<Item = &'a PlayerProp> + '_ {
        self.rows
            .iter()
            .copied()
            .filter(move |p| p.snapshot_time == time)
    }

    fn first_snapshot(&self) -> Option<DateTime<Utc>> {
        self.rows.iter().map(|p| p.snapshot_time).min()
    }

    fn latest_snapshot(&self) -> Option<DateTime<Utc>> {
        self.rows.iter().map(|p| p.snapshot_time).max()
    }
}

/// Groups already eligible rows by book, best book first.
fn by_book<'a>(eligible: impl IntoIterator<Item = &'a PlayerProp>) -> Vec<Book<'a>> {
    let mut books: BTreeMap<(usize, String, String), Vec<&PlayerProp>> = BTreeMap::new();
    for p in eligible {
        let (rank, tie) = book_rank(&p.bookmaker);
        books
            .entry((rank, tie, p.bookmaker.clone()))
            .or_default()
            .push(p);
    }
    books
        .into_iter()
        .map(|((_, _, bookmaker), rows)| Book { bookmaker, rows })
        .collect()
}

/// One book's pre-tip line of the date.
#[derive(Debug, Clone, PartialEq)]
pub struct BookLine {
    pub bookmaker: String,
    /// The main line of the book's earliest snapshot.
    pub opening: f64,
    pub opening_time: DateTime<Utc>,
    /// The main line of the book's latest snapshot.
    pub latest: f64,
    pub latest_time: DateTime<Utc>,
}

/// Per book, in preference order, the opening and latest main lines of the
/// eligible rows among `props` (callers pass one player's rows of one date).
/// The first book's latest line is the line [`choose_line`] chooses.
pub fn book_lines<'a>(props: impl IntoIterator<Item = &'a PlayerProp>) -> Vec<BookLine> {
    lines_by_book(props.into_iter().filter(|p| is_eligible(p)))
}

/// [`book_lines`] for any market (rebounds, assists, threes, points +
/// rebounds + assists, …): the same pre-tip, book preference, snapshot and
/// main-line rules, with any finite positive line (the 5.0 floor is a rule
/// of points lines only). Callers pass one player's rows of one date.
pub fn market_book_lines<'a>(
    props: impl IntoIterator<Item = &'a PlayerProp>,
    market: &str,
) -> Vec<BookLine> {
    lines_by_book(
        props
            .into_iter()
            .filter(|p| p.market == market && is_pre_tip(p) && p.line.is_finite() && p.line > 0.0),
    )
}

/// The median of the books' latest lines (the consensus); `None` without a
/// book.
pub fn consensus(lines: &[BookLine]) -> Option<f64> {
    let mut latest: Vec<f64> = lines.iter().map(|l| l.latest).collect();
    if latest.is_empty() {
        return None;
    }
    latest.sort_by(f64::total_cmp);
    let n = latest.len();
    Some(if n % 2 == 1 {
        latest[n / 2]
    } else {
        (latest[n / 2 - 1] + latest[n / 2]) / 2.0
    })
}

fn lines_by_book<'a>(eligible: impl IntoIterator<Item = &'a PlayerProp>) -> Vec<BookLine> {
    by_book(eligible)
        .into_iter()
        .filter_map(|book| {
            let first = book.first_snapshot()?;
            let last = book.latest_snapshot()?;
            let opening = main_line(book.snapshot(first))?;
            let latest = main_line(book.snapshot(last))?;
            Some(BookLine {
                opening: opening.line,
                opening_time: first,
                latest: latest.line,
                latest_time: last,
                bookmaker: book.bookmaker,
            })
        })
        .collect()
}

/// The line chosen for one player on one date.
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

/// Chooses the line for `player_id` on `game_date`: the main line of the
/// latest snapshot of the most preferred book with an eligible row (see
/// module docs).
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
        } else if !is_real_line(prop.line) {
            excluded_below_minimum += 1;
        } else {
            eligible.push(prop);
        }
    }

    let books = by_book(eligible);
    let chosen = books.first().and_then(|book| {
        let latest = book.latest_snapshot()?;
        let lines_in_snapshot = book.snapshot(latest).count();
        let main = main_line(book.snapshot(latest))?;
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
        books_available: books.into_iter().map(|b| b.bookmaker).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    const SGA: i64 = 1628983;

    /// A DraftKings 31.5 row for SGA, 2025-10-23 (OKC @ IND, tip-off
    /// 23:40 UTC), snapshot 17:00 UTC, at −122/−105.
    fn prop() -> PlayerProp {
        let commence = "2025-10-23T23:40:00Z".parse::<DateTime<Utc>>().unwrap();
        let snapshot = "2025-10-23T17:00:00Z".parse::<DateTime<Utc>>().unwrap();
        PlayerProp {
            game_date: NaiveDate::from_ymd_opt(2025, 10, 23).unwrap(),
            event_id: "e1".into(),
            snapshot_time: snapshot,
            commence_time: commence,
            minutes_before_tipoff: (commence - snapshot).num_minutes(),
            home_team_abbr: "IND".into(),
            away_team_abbr: "OKC".into(),
            bookmaker: "draftkings".into(),
            market: PLAYER_POINTS_MARKET.into(),
            player_name: "Shai Gilgeous-Alexander".into(),
            player_lookup: "shaigilgeousalexander".into(),
            player_id: Some(SGA),
            team_abbr: Some("OKC".into()),
            line: 31.5,
            over_price: Some(-122),
            under_price: Some(-105),
            source_file: "test".into(),
        }
    }

    fn with(line: f64, over: Option<i64>, under: Option<i64>) -> PlayerProp {
        PlayerProp {
            line,
            over_price: over,
            under_price: under,
            ..prop()
        }
    }

    fn chosen(rows: &[PlayerProp]) -> Option<PropLine> {
        let d = prop().game_date;
        choose_line(rows, SGA, d).chosen
    }

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
        // An unlisted book ranks after the last listed one.
        assert!(book_rank("acme_book") > book_rank("betonlineag"));
    }

    #[test]
    fn a_close_priced_line_beats_a_lopsided_alternate() {
        // −110/+100 (gap 0.0238) against −200/+160 (gap 0.2821): the raw
        // odds differences (210 and 360) would agree here, the lower line
        // would not: the main line is 31.5, not the lower 28.5.
        let rows = [
            with(28.5, Some(-200), Some(160)),
            with(31.5, Some(-110), Some(100)),
        ];
        let line = chosen(&rows).unwrap();
        assert_eq!(line.line, 31.5);
        assert_eq!(line.lines_in_snapshot, 2);
        // A missing price ranks after any priced line, however lopsided.
        let rows = [
            with(30.5, None, Some(-110)),
            with(28.5, Some(-200), Some(160)),
        ];
        assert_eq!(chosen(&rows).unwrap().line, 28.5);
        // Equal gaps: the lower line.
        let rows = [
            with(28.5, Some(-105), Some(-125)),
            with(27.5, Some(-125), Some(-105)),
        ];
        assert_eq!(chosen(&rows).unwrap().line, 27.5);
    }

    #[test]
    fn a_snapshot_exactly_at_tip_off_is_excluded() {
        let mut at_tip = prop();
        at_tip.snapshot_time = at_tip.commence_time;
        at_tip.minutes_before_tipoff = 0;
        assert!(!is_pre_tip(&at_tip));
        let choice = choose_line(&[at_tip.clone()], SGA, at_tip.game_date);
        assert_eq!((choice.chosen, choice.excluded_in_game), (None, 1));
        // One second earlier it counts.
        at_tip.snapshot_time -= Duration::seconds(1);
        assert!(is_pre_tip(&at_tip));
        // Fields that disagree are not trusted.
        let mut disagree = prop();
        disagree.minutes_before_tipoff = -1;
        assert!(!is_eligible(&disagree));
    }

    #[test]
    fn low_lines_and_other_markets_are_not_lines() {
        assert!(is_eligible(&with(MIN_LINE, None, None)));
        assert!(!is_eligible(&with(4.5, None, None)));
        assert!(!is_eligible(&with(f64::NAN, None, None)));
        let rebounds = PlayerProp {
            market: "player_rebounds".into(),
            ..prop()
        };
        assert!(!is_eligible(&rebounds));
        // A 4.5 at DraftKings does not hide FanDuel's 30.5.
        let fanduel = PlayerProp {
            bookmaker: "fanduel".into(),
            ..with(30.5, Some(-110), Some(-110))
        };
        let choice = choose_line(&[with(4.5, None, None), fanduel], SGA, prop().game_date);
        assert_eq!(choice.excluded_below_minimum, 1);
        assert_eq!(choice.chosen.unwrap().bookmaker, "fanduel");
    }

    #[test]
    fn book_lines_agree_with_the_chosen_line() {
        // DraftKings opens at 31.5 and moves to 32.5; an unlisted book and
        // BetMGM also quote; the current line is DraftKings' latest.
        let mut later = with(32.5, Some(-110), Some(-110));
        later.snapshot_time += Duration::hours(3);
        later.minutes_before_tipoff -= 180;
        let acme = PlayerProp {
            bookmaker: "acme_book".into(),
            ..with(33.5, Some(-110), Some(-110))
        };
        let betmgm = PlayerProp {
            bookmaker: "betmgm".into(),
            ..with(30.5, Some(-110), Some(-110))
        };
        let rows = [acme, later.clone(), betmgm, prop()];
        let lines = book_lines(&rows);
        let books: Vec<&str> = lines.iter().map(|l| l.bookmaker.as_str()).collect();
        assert_eq!(books, ["draftkings", "betmgm", "acme_book"]);
        assert_eq!((lines[0].opening, lines[0].latest), (31.5, 32.5));
        assert_eq!(lines[0].latest_time, later.snapshot_time);
        let choice = choose_line(&rows, SGA, prop().game_date);
        assert_eq!(choice.books_available, books);
        let line = choice.chosen.unwrap();
        assert_eq!((line.line, line.snapshot_time), (32.5, later.snapshot_time));
    }
}
