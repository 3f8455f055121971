//! `market_v1`: a market-aware tree model, retrained walk-forward.
//!
//! * **Anchor.** The market's own estimate of the player's points: the real
//!   pre-tip points line ([`propcast_core::prop_lines`], the line every
//!   system is graded against) or, without one, the points the other
//!   markets imply (points + rebounds + assists line − rebounds line −
//!   assists line). A player-game without either has no `market_v1`
//!   prediction: this system never predicts without a market.
//! * **What it learns.** Gradient-boosted trees ([`MARKET_PARAMS`]: few,
//!   shallow, strongly shrunk) fit the *residual* points − anchor from the
//!   37 feature-store features (form, minutes, rest, opponent, pace, usage)
//!   and the market features [`MARKET_FEATURES`]: the points line and its
//!   movement (opening → latest at the chosen book), the consensus across
//!   books and their disagreement, the rebounds / assists / threes / PRA
//!   lines of the same player. The prediction is anchor + residual.
//! * **Walk-forward.** The model that predicts date D is trained on every
//!   row of the dates strictly before D (and nothing else), retrained for
//!   every date; a date with fewer than [`MIN_TRAINING_ROWS`] earlier rows
//!   gets no prediction. Every prediction carries its model's training
//!   window and booster sha256, so "no prediction saw its own future" is
//!   checkable row by row.
//! * **Reproducible.** One thread, no sampling, rows in (date, player)
//!   order: the same rows give the same booster bytes
//!   ([`crate::gbdt::booster_sha256`]); the feature set is versioned by
//!   [`MARKET_FEATURE_VERSION`].

use crate::gbdt::{
    BoosterParams, ModelError, TrainingWindow, booster_sha256, check_vector, fit_booster,
};
use crate::training::{feature_vector, played, require_table};
use chrono::NaiveDate;
use forust_ml::Matrix;
use propcast_core::features::FEATURE_COUNT;
use propcast_core::prop_lines::{BookLine, book_lines, consensus, market_book_lines};
use propcast_core::tables::{ImportedPlayerProp, MlFeatureStore, PlayerGameSummary, PlayerProp};
use propcast_core::{Season, Table};
use propcast_platform::warehouse::date_literal;
use propcast_platform::{Warehouse, WarehouseExt};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

pub const SYSTEM_ID: &str = "market_v1";
/// The markets read besides points.
pub const PRA_MARKET: &str = "player_points_rebounds_assists";
pub const REBOUNDS_MARKET: &str = "player_rebounds";
pub const ASSISTS_MARKET: &str = "player_assists";
pub const THREES_MARKET: &str = "player_threes";
/// The market features, after the 37 of the feature store.
pub const MARKET_FEATURES: [&str; 12] = [
    "anchor_points",
    "anchor_kind",
    "points_consensus",
    "points_books",
    "points_book_range",
    "points_line_move",
    "pra_consensus",
    "rebounds_consensus",
    "assists_consensus",
    "threes_consensus",
    "pra_implied_points",
    "points_share_of_pra",
];
/// Where the anchor came from (`anchor_kind`).
pub const ANCHOR_POINTS_LINE: f64 = 2.0;
pub const ANCHOR_PRA_MINUS_LINES: f64 = 1.0;
pub const ANCHOR_PRA_SHARE: f64 = 0.0;
/// Season games (before the date) a points share of PRA needs.
pub const MIN_SHARE_GAMES: usize = 3;
/// The feature set a `market_v1` model reads; bump with any change.
pub const MARKET_FEATURE_VERSION: &str = "market_v1_12features+v1_37features";
/// Fewer earlier rows than this: no model, no prediction for the date.
pub const MIN_TRAINING_ROWS: usize = 300;
/// Few, shallow, strongly shrunk trees on large leaves: the residual to the
/// market is mostly noise, and the model must not chase it.
pub const MARKET_PARAMS: BoosterParams = BoosterParams {
    iterations: 50,
    learning_rate: 0.03,
    max_depth: 2,
    min_leaf_weight: 150.0,
    l2: 50.0,
    gamma: 0.0,
    nbins: 256,
    subsample: 1.0,
    colsample_bytree: 1.0,
};
/// The residual target points − anchor is clipped to ±this many points, so
/// that one 40-point night does not move a leaf (points are skewed: the
/// mean residual sits above the median one the MAE rewards).
pub const TARGET_CLIP: f64 = 4.0;
const COLUMNS: usize = FEATURE_COUNT + MARKET_FEATURES.len();

/// One player-game with a market: its model inputs and, once played, its
/// points.
#[derive(Debug, Clone, PartialEq)]
pub struct MarketRow {
    pub game_date: NaiveDate,
    pub player_lookup: String,
    pub anchor: f64,
    /// The 37 feature-store values then [`MARKET_FEATURES`]; NaN = missing.
    pub values: Vec<f64>,
    /// Points scored; `None` when the player did not play (or no result yet).
    pub actual: Option<f64>,
}

/// The market features of one player-date from his prop rows and his
/// points share of points + rebounds + assists over his season's games
/// before the date (`pra_share`); `None` without an anchor. The anchor is,
/// in order: the real points line; the PRA line minus the rebounds and
/// assists lines; the PRA line times the share (2024-25 has PRA lines and
/// no points lines).
pub fn market_features(props: &[&PlayerProp], pra_share: Option<f64>) -> Option<(f64, [f64; 12])> {
    let nan = f64::NAN;
    let points = book_lines(props.iter().copied());
    let median =
        |market: &str| consensus(&market_book_lines(props.iter().copied(), market)).unwrap_or(nan);
    let (pra, rebounds, assists, threes) = (
        median(PRA_MARKET),
        median(REBOUNDS_MARKET),
        median(ASSISTS_MARKET),
        median(THREES_MARKET),
    );
    let implied = pra - rebounds - assists; // NaN unless all three exist
    let share = pra_share.filter(|s| s.is_finite()).unwrap_or(nan);
    let chosen: Option<&BookLine> = points.first();
    let (anchor, kind) = match chosen {
        Some(line) => (line.latest, ANCHOR_POINTS_LINE),
        None if implied.is_finite() && implied > 0.0 => (implied, ANCHOR_PRA_MINUS_LINES),
        None if (pra * share).is_finite() && pra * share > 0.0 => (pra * share, ANCHOR_PRA_SHARE),
        None => return None,
    };
    let latest: Vec<f64> = points.iter().map(|l| l.latest).collect();
    let range = match (
        latest.iter().copied().reduce(f64::min),
        latest.iter().copied().reduce(f64::max),
    ) {
        (Some(lo), Some(hi)) => hi - lo,
        _ => nan,
    };
    Some((
        anchor,
        [
            anchor,
            kind,
            consensus(&points).unwrap_or(nan),
            points.len() as f64,
            range,
            chosen.map(|l| l.latest - l.opening).unwrap_or(nan),
            pra,
            rebounds,
            assists,
            threes,
            implied,
            share,
        ],
    ))
}

/// Points ÷ (points + rebounds + assists) over a player's games of the
/// date's season strictly before it; `None` under [`MIN_SHARE_GAMES`]
/// games or without any.
pub fn pra_share(games: &[Played], date: NaiveDate) -> Option<f64> {
    let season = Season::of(date);
    let (mut points, mut total, mut n) = (0.0, 0.0, 0usize);
    for g in games
        .iter()
        .filter(|g| g.game_date < date && Season::of(g.game_date) == season)
    {
        points += g.points as f64;
        total += (g.points + g.reb + g.ast) as f64;
        n += 1;
    }
    (n >= MIN_SHARE_GAMES && total > 0.0).then(|| points / total)
}

/// A game a player played: the points, rebounds and assists.
#[derive(Debug, Clone, Deserialize)]
pub struct Played {
    pub game_date: NaiveDate,
    pub player_lookup: String,
    pub points: i64,
    pub reb: i64,
    pub ast: i64,
}

/// Every player-game up to `to` with a market anchor and a feature vector,
/// by date and player.
pub async fn load_market_rows<W: Warehouse + ?Sized>(
    warehouse: &W,
    to: NaiveDate,
) -> Result<Vec<MarketRow>, ModelError> {
    for def in [
        &PlayerProp::DEF,
        &ImportedPlayerProp::DEF,
        &MlFeatureStore::DEF,
        &PlayerGameSummary::DEF,
    ] {
        require_table(warehouse, def).await?;
    }
    let to_sql = date_literal(to);
    // The landing zone's lines and the imported history
    // (`propcast import-props`), one set of rows.
    let props: Vec<PlayerProp> = warehouse
        .query_as(&format!(
            "SELECT * FROM (SELECT * FROM nba_raw.player_props UNION ALL \
             SELECT * FROM nba_raw.player_props_imported) \
             WHERE game_date <= {to_sql} AND player_id IS NOT NULL \
             ORDER BY game_date, player_id, snapshot_time, event_id, bookmaker, market, line"
        ))
        .await?;
    let mut by_player: HashMap<(NaiveDate, i64), Vec<&PlayerProp>> = HashMap::new();
    for p in &props {
        if let Some(id) = p.player_id {
            by_player.entry((p.game_date, id)).or_default().push(p);
        }
    }
    let Some(first) = by_player.keys().map(|(d, _)| *d).min() else {
        return Ok(Vec::new());
    };
    let vectors: Vec<MlFeatureStore> = warehouse
        .query_as(&format!(
            "SELECT * FROM nba_precompute.ml_feature_store WHERE game_date BETWEEN {} AND {to_sql} \
             ORDER BY game_date, player_lookup",
            date_literal(first)
        ))
        .await?;
    // Every game played up to `to`: the outcomes, and the points shares
    // (each from the games before its date only).
    let played_rows: Vec<Played> = warehouse
        .query_as(&format!(
            "SELECT game_date, player_lookup, points, reb, ast FROM nba_analytics.player_game_summary s \
             WHERE s.game_date <= {to_sql} AND {} ORDER BY player_lookup, game_date",
            played("s")
        ))
        .await?;
    // Ordered by player: each player's games are one run of the rows.
    let games: HashMap<&str, &[Played]> = played_rows
        .chunk_by(|a, b| a.player_lookup == b.player_lookup)
        .map(|g| (g[0].player_lookup.as_str(), g))
        .collect();
    let actual: HashMap<(NaiveDate, &str), f64> = played_rows
        .iter()
        .map(|p| ((p.game_date, p.player_lookup.as_str()), p.points as f64))
        .collect();
    let mut rows = Vec::new();
    for store in &vectors {
        let Some(props) = by_player.get(&(store.game_date, store.player_id)) else {
            continue;
        };
        let share = games
            .get(store.player_lookup.as_str())
            .and_then(|g| pra_share(g, store.game_date));
        let Some((anchor, market)) = market_features(props, share) else {
            continue;
        };
        let vector = feature_vector(store)?;
        check_vector(&vector)?;
        let mut values = vector.as_model_input();
        values.extend_from_slice(&market);
        rows.push(MarketRow {
            game_date: store.game_date,
            player_lookup: store.player_lookup.clone(),
            anchor,
            values,
            actual: actual
                .get(&(store.game_date, store.player_lookup.as_str()))
                .copied(),
        });
    }
    Ok(rows)
}

/// One `market_v1` prediction and the model that made it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MarketPrediction {
    pub game_date: NaiveDate,
    pub player_lookup: String,
    pub predicted: f64,
    /// The dates of the model's training rows (all before `game_date`).
    pub window: TrainingWindow,
    pub training_rows: usize,
    pub booster_sha256: String,
}

/// What the walk-forward did: predictions, and the dates it could not
/// predict for want of earlier rows.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct WalkForward {
    pub predictions: Vec<MarketPrediction>,
    pub dates_without_model: Vec<NaiveDate>,
}

/// The rows' values column after column, as forust's `Matrix` reads them.
fn column_major(rows: &[&MarketRow]) -> Vec<f64> {
    let n = rows.len();
    let mut data = vec![0.0; n * COLUMNS];
    for (i, row) in rows.iter().enumerate() {
        for (j, value) in row.values.iter().enumerate() {
            data[j * n + i] = *value;
        }
    }
    data
}

/// For every date of [from, to] with market rows, trains on the rows of
/// earlier dates and predicts that date's rows (see module docs). `rows`
/// must be ordered by date and player ([`load_market_rows`]).
pub fn walk_forward(
    rows: &[MarketRow],
    from: NaiveDate,
    to: NaiveDate,
) -> Result<WalkForward, ModelError> {
    let mut by_date: BTreeMap<NaiveDate, Vec<&MarketRow>> = BTreeMap::new();
    for row in rows {
        by_date.entry(row.game_date).or_default().push(row);
    }
    let mut out = WalkForward::default();
    for (&date, today) in by_date.range(from..=to) {
        let training: Vec<&MarketRow> = by_date
            .range(..date)
            .flat_map(|(_, r)| r.iter().copied())
            .filter(|r| r.actual.is_some())
            .collect();
        if training.len() < MIN_TRAINING_ROWS {
            out.dates_without_model.push(date);
            continue;
        }
        let n = training.len();
        let target: Vec<f64> = training
            .iter()
            .map(|row| (row.actual.unwrap_or(0.0) - row.anchor).clamp(-TARGET_CLIP, TARGET_CLIP))
            .collect();
        let data = column_major(&training);
        let booster = fit_booster(&MARKET_PARAMS, &data, n, COLUMNS, &target)?;
        let sha = booster_sha256(&booster)?;
        let window = TrainingWindow {
            from: training.first().map(|r| r.game_date).unwrap_or(date),
            to: training.last().map(|r| r.game_date).unwrap_or(date),
        };
        let test = column_major(today);
        let residuals = booster.predict(&Matrix::new(&test, today.len(), COLUMNS), false);
        for (row, residual) in today.iter().zip(residuals) {
            let predicted = row.anchor + residual;
            if !predicted.is_finite() {
                return Err(ModelError::NonFinite(predicted));
            }
            out.predictions.push(MarketPrediction {
                game_date: date,
                player_lookup: row.player_lookup.clone(),
                predicted: (predicted.clamp(0.0, 60.0) * 100.0).round() / 100.0,
                window,
                training_rows: n,
                booster_sha256: sha.clone(),
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};

    fn prop(market: &str, bookmaker: &str, line: f64, hour: u32) -> PlayerProp {
        let commence = "2025-11-05T23:30:00Z".parse::<DateTime<Utc>>().unwrap();
        let snapshot = format!("2025-11-05T{hour:02}:00:00Z")
            .parse::<DateTime<Utc>>()
            .unwrap();
        PlayerProp {
            game_date: NaiveDate::from_ymd_opt(2025, 11, 5).unwrap(),
            event_id: "e".into(),
            snapshot_time: snapshot,
            commence_time: commence,
            minutes_before_tipoff: (commence - snapshot).num_minutes(),
            home_team_abbr: "TOR".into(),
            away_team_abbr: "MIL".into(),
            bookmaker: bookmaker.into(),
            market: market.into(),
            player_name: "x".into(),
            player_lookup: "x".into(),
            player_id: Some(1),
            team_abbr: None,
            line,
            over_price: Some(-110),
            under_price: Some(-110),
            source_file: "t".into(),
        }
    }

    #[test]
    fn features_by_hand() {
        let rows = [
            prop("player_points", "draftkings", 24.5, 12),
            prop("player_points", "draftkings", 25.5, 17), // moved up a point
            prop("player_points", "fanduel", 26.5, 17),
            prop("player_points", "betmgm", 25.5, 23), // 23:00, still before the 23:30 tip
            prop(PRA_MARKET, "draftkings", 40.5, 17),
            prop(REBOUNDS_MARKET, "draftkings", 9.5, 17),
            prop(ASSISTS_MARKET, "draftkings", 5.5, 17),
        ];
        let refs: Vec<&PlayerProp> = rows.iter().collect();
        let (anchor, f) = market_features(&refs, Some(0.6)).unwrap();
        // DraftKings is preferred: its latest line is the anchor.
        assert_eq!(anchor, 25.5);
        assert_eq!(f[1], ANCHOR_POINTS_LINE);
        // Books' latest lines 25.5, 26.5, 25.5: median 25.5, range 1.
        assert_eq!((f[2], f[3], f[4]), (25.5, 3.0, 1.0));
        assert_eq!(f[5], 1.0);
        assert_eq!((f[6], f[7], f[8]), (40.5, 9.5, 5.5));
        assert!(f[9].is_nan());
        assert_eq!((f[10], f[11]), (25.5, 0.6));
        // Without a points line the other markets imply one.
        let others: Vec<&PlayerProp> = refs[4..].to_vec();
        let (anchor, f) = market_features(&others, Some(0.6)).unwrap();
        assert_eq!((anchor, f[1]), (25.5, ANCHOR_PRA_MINUS_LINES));
        // With the PRA line alone, its points share: 40.5 × 0.6.
        let (anchor, f) = market_features(&refs[4..5], Some(0.6)).unwrap();
        assert!((anchor - 24.3).abs() < 1e-9);
        assert_eq!(f[1], ANCHOR_PRA_SHARE);
        // Without a share either: no anchor, no row.
        assert!(market_features(&refs[4..5], None).is_none());
        assert!(market_features(&refs[7..], Some(0.6)).is_none());
    }

    #[test]
    fn the_points_share_counts_only_this_season_before_the_date() {
        let game = |date: &str, points, reb, ast| Played {
            game_date: date.parse().unwrap(),
            player_lookup: "p".into(),
            points,
            reb,
            ast,
        };
        let games = [
            game("2024-04-10", 40, 0, 0), // last season
            game("2024-10-25", 20, 5, 5),
            game("2024-10-27", 10, 5, 5),
            game("2024-10-29", 30, 10, 0),
            game("2024-11-01", 50, 0, 0), // the date itself
        ];
        let d = |text: &str| text.parse::<NaiveDate>().unwrap();
        // 60 points of 90.
        assert_eq!(pra_share(&games, d("2024-11-01")), Some(60.0 / 90.0));
        // Two games before Oct 29: too few.
        assert_eq!(pra_share(&games, d("2024-10-29")), None);
    }

    fn row(day: u32, player: usize, actual: Option<f64>) -> MarketRow {
        let mut values = vec![f64::NAN; COLUMNS];
        values[0] = 10.0 + player as f64;
        values[FEATURE_COUNT] = 20.0;
        MarketRow {
            game_date: NaiveDate::from_ymd_opt(2025, 11, day).unwrap(),
            player_lookup: format!("p{player:03}"),
            anchor: 20.0,
            values,
            actual,
        }
    }

    #[test]
    fn each_date_is_predicted_by_a_model_of_earlier_dates_only() {
        let mut rows = Vec::new();
        for day in 1..=4 {
            for p in 0..200 {
                rows.push(row(day, p, Some(20.0 + (p % 7) as f64)));
            }
        }
        let from = NaiveDate::from_ymd_opt(2025, 11, 1).unwrap();
        let to = NaiveDate::from_ymd_opt(2025, 11, 4).unwrap();
        let wf = walk_forward(&rows, from, to).unwrap();
        // Nov 1 has no earlier rows, Nov 2 only 200 (< 300).
        assert_eq!(wf.dates_without_model.len(), 2);
        assert_eq!(wf.predictions.len(), 400);
        for p in &wf.predictions {
            assert!(p.window.to < p.game_date, "{p:?}");
        }
        let nov3 = &wf.predictions[0];
        assert_eq!(
            (nov3.training_rows, nov3.window.to.to_string()),
            (400, "2025-11-02".into())
        );
        // Same rows, same booster bytes.
        assert_eq!(walk_forward(&rows, from, to).unwrap(), wf);
    }
}
