//! Every system against the sportsbook line, on the same rows, at the real
//! prices. Pure functions over [`GradedRow`]s; [`crate::evaluation`] reads
//! them from the warehouse.
//!
//! * **The line as a baseline** ([`versus_line`]): for each system, its MAE
//!   and the line's MAE on exactly the rows where the system has a real line,
//!   the paired difference (system − line, negative = better than the line)
//!   and a bootstrap 95 % interval of that difference (player-games drawn
//!   with replacement, [`BOOTSTRAP_SAMPLES`] draws, fixed seed).
//! * **A predictive distribution** ([`raw_probabilities`]): points are
//!   modelled as Normal(predicted, σ), σ = k · the player's points standard
//!   deviation over his last 10 games (floored at [`MIN_SCALE`]), with k
//!   fitted per system **walk-forward**: from that system's own residuals on
//!   dates strictly before the row's date, and only once it has
//!   [`MIN_RESIDUALS`] of them (until then the system has no probability and
//!   makes no call). Points are whole numbers, so P(over a line L) =
//!   P(points ≥ ⌊L⌋ + 1) with the continuity correction, and an integer
//!   line has a push probability. The line itself ([`BASELINE_LINE`]) gets
//!   the market's no-vig probability.
//! * **Recalibrated against the market** ([`recalibrate`]): a system's
//!   P(over) and the market's own no-vig P(over) go into a logistic
//!   regression fitted, walk-forward again, on the system's earlier rows
//!   with lines: where the system knows nothing the market does not, the
//!   fit hands back the market's probability, and no call is made.
//! * **Calls at the real price** ([`priced_calls`]): a system calls the side
//!   whose probability beats the break-even probability of its price by at
//!   least [`MIN_PROBABILITY_EDGE`] (so its expected value is positive), and
//!   is paid at that price: profit in units, ROI on units staked, hit rate
//!   with its Wilson 95 % interval, ROI with a bootstrap interval.
//! * **Calibration** ([`probability_calibration`]): predicted P(over) in
//!   tenths against the observed over rate (pushes left out).

use crate::evaluation::{GradedRow, outcome_vs_line};
use chrono::NaiveDate;
use propcast_core::pricing::{Settlement, implied_probability, profit};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// The line as a system: predicts the real pre-tip line.
pub const BASELINE_LINE: &str = "baseline_line";
/// Bootstrap draws for every interval.
pub const BOOTSTRAP_SAMPLES: usize = 2000;
/// The bootstrap's seed: the same rows give the same interval.
pub const BOOTSTRAP_SEED: u64 = 0x5eed_2025_1021;
/// Residuals a system needs (before a date) to have a distribution.
pub const MIN_RESIDUALS: usize = 200;
/// Floor of the per-player scale, in points.
pub const MIN_SCALE: f64 = 2.0;
/// How far a side's probability must beat its price's break-even
/// probability to be called.
pub const MIN_PROBABILITY_EDGE: f64 = 0.03;

/// A small deterministic generator (SplitMix64) for the bootstrap: no
/// dependency whose stream could change under us.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// The 2.5 % and 97.5 % quantiles of the mean of `values` under resampling
/// with replacement; `None` for no values.
pub fn bootstrap_mean_interval(values: &[f64]) -> Option<(f64, f64)> {
    if values.is_empty() {
        return None;
    }
    let mut rng = SplitMix(BOOTSTRAP_SEED ^ values.len() as u64);
    let n = values.len();
    let mut means: Vec<f64> = (0..BOOTSTRAP_SAMPLES)
        .map(|_| (0..n).map(|_| values[rng.below(n)]).sum::<f64>() / n as f64)
        .collect();
    means.sort_by(f64::total_cmp);
    let at = |q: f64| means[((q * (BOOTSTRAP_SAMPLES - 1) as f64).round()) as usize];
    Some((at(0.025), at(0.975)))
}

/// The Wilson 95 % interval of `wins` out of `trials`; `None` without trials.
pub fn wilson_interval(wins: usize, trials: usize) -> Option<(f64, f64)> {
    if trials == 0 {
        return None;
    }
    let z = 1.959_963_984_540_054_f64;
    let n = trials as f64;
    let p = wins as f64 / n;
    let denominator = 1.0 + z * z / n;
    let centre = (p + z * z / (2.0 * n)) / denominator;
    let half = z * ((p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt()) / denominator;
    Some(((centre - half).max(0.0), (centre + half).min(1.0)))
}

/// One system against the line on its own rows with a line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VersusLine {
    pub system: String,
    /// Rows with a real line.
    pub rows: usize,
    pub mae: f64,
    /// The line's MAE on the same rows.
    pub line_mae: f64,
    /// mae − line_mae: negative is better than the line.
    pub difference: f64,
    /// Bootstrap 95 % interval of the difference.
    pub interval: (f64, f64),
}

/// Per system (in the order systems first appear), MAE against the line's
/// MAE on the same rows; systems without a row with a line are left out.
pub fn versus_line(rows: &[GradedRow]) -> Vec<VersusLine> {
    let mut order: Vec<&str> = Vec::new();
    let mut diffs: HashMap<&str, (Vec<f64>, f64, f64)> = HashMap::new();
    for row in rows {
        let Some(line) = row.line.filter(|l| l.is_finite()) else {
            continue;
        };
        let entry = diffs.entry(row.system.as_str()).or_insert_with(|| {
            order.push(row.system.as_str());
            (Vec::new(), 0.0, 0.0)
        });
        let own = (row.predicted - row.actual).abs();
        let theirs = (line - row.actual).abs();
        entry.0.push(own - theirs);
        entry.1 += own;
        entry.2 += theirs;
    }
    order
        .into_iter()
        .map(|system| {
            let (d, own, theirs) = &diffs[system];
            let n = d.len() as f64;
            VersusLine {
                system: system.to_string(),
                rows: d.len(),
                mae: own / n,
                line_mae: theirs / n,
                difference: d.iter().sum::<f64>() / n,
                interval: bootstrap_mean_interval(d).unwrap_or((0.0, 0.0)),
            }
        })
        .collect()
}

/// The standard normal CDF (Abramowitz & Stegun 7.1.26 for erf, absolute
/// error below 1.5e-7).
pub fn normal_cdf(x: f64) -> f64 {
    let z = x / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * z.abs());
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erf = 1.0 - poly * (-z * z).exp();
    let erf = if z >= 0.0 { erf } else { -erf };
    0.5 * (1.0 + erf)
}

/// P(over), P(push) of whole-number points ~ Normal(mean, sd) against
/// `line`: over is points ≥ ⌊line⌋ + 1, a push is points = line (integer
/// lines only).
pub fn over_push_probability(mean: f64, sd: f64, line: f64) -> (f64, f64) {
    let cdf = |x: f64| normal_cdf((x - mean) / sd);
    let over = 1.0 - cdf(line.floor() + 0.5);
    let push = if line.fract() == 0.0 {
        cdf(line + 0.5) - cdf(line - 0.5)
    } else {
        0.0
    };
    (over, push)
}

/// The market's own P(over): the Over's implied probability with the vig
/// removed (`None` without both prices).
pub fn no_vig_over(over_price: Option<i64>, under_price: Option<i64>) -> Option<f64> {
    let over = implied_probability(over_price?)?;
    let under = implied_probability(under_price?)?;
    Some(over / (over + under))
}

/// The first stage of `p_over` / `p_push` (see module docs): the system's
/// Normal(predicted, k · scale), k fitted on the system's residuals of
/// earlier dates; `history` holds earlier graded rows (any dates before
/// `rows`) that only feed the fit. Rows of [`BASELINE_LINE`] get the no-vig
/// probability. [`recalibrate`] is the second stage.
pub fn raw_probabilities(history: &[GradedRow], rows: &mut [GradedRow]) {
    // Per system, per date: (residual² / scale² sum, count).
    let mut by_date: HashMap<&str, BTreeMap<NaiveDate, (f64, usize)>> = HashMap::new();
    for row in history.iter().chain(rows.iter()) {
        let Some(scale) = row.scale else { continue };
        let z = (row.actual - row.predicted) / scale.max(MIN_SCALE);
        let cell = by_date
            .entry(row.system.as_str())
            .or_default()
            .entry(row.game_date)
            .or_default();
        cell.0 += z * z;
        cell.1 += 1;
    }
    // Cumulative before each date: k(D) = sqrt(mean z² over dates < D).
    let mut k_before: HashMap<(String, NaiveDate), f64> = HashMap::new();
    for (system, dates) in &by_date {
        let (mut sum, mut count) = (0.0, 0usize);
        for (date, (s, c)) in dates {
            if count >= MIN_RESIDUALS {
                k_before.insert((system.to_string(), *date), (sum / count as f64).sqrt());
            }
            sum += s;
            count += c;
        }
    }
    for row in rows.iter_mut() {
        row.p_over = None;
        row.p_push = None;
        let Some(line) = row.line.filter(|l| l.is_finite()) else {
            continue;
        };
        if row.system == BASELINE_LINE {
            row.p_over = no_vig_over(row.over_price, row.under_price);
            row.p_push = row.p_over.map(|_| 0.0);
            continue;
        }
        let (Some(scale), Some(&k)) = (
            row.scale,
            k_before.get(&(row.system.clone(), row.game_date)),
        ) else {
            continue;
        };
        let (over, push) = over_push_probability(row.predicted, k * scale.max(MIN_SCALE), line);
        row.p_over = Some(over);
        row.p_push = Some(push);
    }
}

/// Earlier rows (with a line, both prices and a decided outcome) a system
/// needs before its probabilities are recalibrated, and so before it calls.
pub const MIN_CALIBRATION_ROWS: usize = 200;
/// Ridge penalty of the recalibration's logistic regression.
const RIDGE: f64 = 1.0;

fn logit(p: f64) -> f64 {
    let p = p.clamp(1e-4, 1.0 - 1e-4);
    (p / (1.0 - p)).ln()
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// Solves a 3 × 3 system by Cramer's rule; `None` when singular.
fn solve3(a: [[f64; 3]; 3], b: [f64; 3]) -> Option<[f64; 3]> {
    let det = |m: [[f64; 3]; 3]| {
        m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
            - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
            + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
    };
    let d = det(a);
    if d.abs() < 1e-12 || !d.is_finite() {
        return None;
    }
    let mut out = [0.0; 3];
    for (k, slot) in out.iter_mut().enumerate() {
        let mut m = a;
        for (row, value) in m.iter_mut().zip(b) {
            row[k] = value;
        }
        *slot = det(m) / d;
    }
    Some(out)
}

/// Logistic regression of `ys` on an intercept and the two columns of
/// `xs`, by Newton's method with a small ridge ([`RIDGE`]); the weights
/// (intercept first), `None` when a step cannot be solved.
pub fn fit_logistic(xs: &[[f64; 2]], ys: &[bool]) -> Option<[f64; 3]> {
    let mut w = [0.0f64; 3];
    for _ in 0..50 {
        let mut g = [0.0; 3];
        let mut h = [[0.0; 3]; 3];
        for (x, &y) in xs.iter().zip(ys) {
            let f = [1.0, x[0], x[1]];
            let p = sigmoid(w[0] + w[1] * f[1] + w[2] * f[2]);
            let r = f64::from(u8::from(y)) - p;
            let s = p * (1.0 - p);
            for i in 0..3 {
                g[i] += r * f[i];
                for j in 0..3 {
                    h[i][j] += s * f[i] * f[j];
                }
            }
        }
        for i in 0..3 {
            g[i] -= RIDGE * w[i];
            h[i][i] += RIDGE;
        }
        let step = solve3(h, g)?;
        for i in 0..3 {
            w[i] += step[i];
        }
        if step.iter().fold(0.0f64, |m, s| m.max(s.abs())) < 1e-10 {
            break;
        }
    }
    Some(w)
}

/// The second stage: each system's P(over | no push) recalibrated against
/// the market, walk-forward. For a row of date D, a logistic regression of
/// "went over" on logit(system's P) and logit(the market's no-vig P),
/// fitted on that system's rows of dates before D (lines, both prices,
/// decided), gives its probability; with fewer than
/// [`MIN_CALIBRATION_ROWS`] such rows, or without prices, the row has no
/// probability (and no call). A system that knows nothing beyond the market
/// gets the market's probability back, and makes no call.
pub fn recalibrate(rows: &mut [GradedRow]) {
    let mut by_system: HashMap<String, BTreeMap<NaiveDate, Vec<usize>>> = HashMap::new();
    for (i, row) in rows.iter().enumerate() {
        if row.system != BASELINE_LINE {
            by_system
                .entry(row.system.clone())
                .or_default()
                .entry(row.game_date)
                .or_default()
                .push(i);
        }
    }
    let features = |row: &GradedRow| -> Option<([f64; 2], f64)> {
        let push = row.p_push.unwrap_or(0.0);
        let raw = row.p_over? / (1.0 - push).max(1e-9);
        let market = no_vig_over(row.over_price, row.under_price)?;
        row.line?;
        Some(([logit(raw), logit(market)], push))
    };
    for dates in by_system.values() {
        let (mut xs, mut ys): (Vec<[f64; 2]>, Vec<bool>) = (Vec::new(), Vec::new());
        for indices in dates.values() {
            let weights = if xs.len() >= MIN_CALIBRATION_ROWS {
                fit_logistic(&xs, &ys)
            } else {
                None
            };
            let mut learned = Vec::new();
            for &i in indices {
                let row = &mut rows[i];
                let f = features(row);
                if let (Some((x, _)), Some(Some(went_over))) = (f, outcome_vs_line(row)) {
                    learned.push((x, went_over));
                }
                match (weights, f) {
                    (Some(w), Some((x, push))) => {
                        let p = sigmoid(w[0] + w[1] * x[0] + w[2] * x[1]);
                        row.p_over = Some(p * (1.0 - push));
                    }
                    _ => {
                        row.p_over = None;
                        row.p_push = None;
                    }
                }
            }
            for (x, y) in learned {
                xs.push(x);
                ys.push(y);
            }
        }
    }
}

/// The side a row calls at its prices, if any: `(over?, price)`.
pub fn call(row: &GradedRow) -> Option<(bool, i64)> {
    let (p_over, p_push) = (row.p_over?, row.p_push.unwrap_or(0.0));
    let p_under = (1.0 - p_over - p_push).max(0.0);
    let over = row
        .over_price
        .and_then(|price| Some((p_over - implied_probability(price)?, true, price)));
    let under = row
        .under_price
        .and_then(|price| Some((p_under - implied_probability(price)?, false, price)));
    [over, under]
        .into_iter()
        .flatten()
        .filter(|(edge, _, _)| *edge >= MIN_PROBABILITY_EDGE)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, side, price)| (side, price))
}

/// How a call on the side `over` settles against the row's outcome.
pub fn settle(row: &GradedRow, over: bool) -> Option<Settlement> {
    Some(match outcome_vs_line(row)? {
        None => Settlement::Push,
        Some(went_over) if went_over == over => Settlement::Win,
        Some(_) => Settlement::Loss,
    })
}

/// One system's calls at the real prices.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PricedCalls {
    pub system: String,
    /// Rows with a line, both prices and a probability (could have called).
    pub eligible: usize,
    pub wins: usize,
    pub losses: usize,
    pub pushes: usize,
    /// Profit in units of one-unit bets.
    pub profit: f64,
    /// Mean break-even probability of the prices bet.
    pub break_even: Option<f64>,
    pub roi_interval: Option<(f64, f64)>,
}

impl PricedCalls {
    /// Decided bets (pushes are not bets).
    pub fn bets(&self) -> usize {
        self.wins + self.losses
    }

    pub fn hit_rate(&self) -> Option<f64> {
        (self.bets() > 0).then(|| self.wins as f64 / self.bets() as f64)
    }

    pub fn hit_interval(&self) -> Option<(f64, f64)> {
        wilson_interval(self.wins, self.bets())
    }

    /// Profit per unit staked (pushes are staked and returned).
    pub fn roi(&self) -> Option<f64> {
        let staked = self.bets() + self.pushes;
        (staked > 0).then(|| self.profit / staked as f64)
    }
}

/// Per system (in order of first appearance), the calls [`call`] makes and
/// what they paid.
pub fn priced_calls(rows: &[GradedRow]) -> Vec<PricedCalls> {
    let mut order: Vec<&str> = Vec::new();
    let mut acc: HashMap<&str, (PricedCalls, Vec<f64>, f64)> = HashMap::new();
    for row in rows {
        let entry = acc.entry(row.system.as_str()).or_insert_with(|| {
            order.push(row.system.as_str());
            (
                PricedCalls {
                    system: row.system.clone(),
                    eligible: 0,
                    wins: 0,
                    losses: 0,
                    pushes: 0,
                    profit: 0.0,
                    break_even: None,
                    roi_interval: None,
                },
                Vec::new(),
                0.0,
            )
        });
        if row.line.is_none()
            || row.p_over.is_none()
            || row.over_price.is_none()
            || row.under_price.is_none()
        {
            continue;
        }
        entry.0.eligible += 1;
        let Some((over, price)) = call(row) else {
            continue;
        };
        let Some(settlement) = settle(row, over) else {
            continue;
        };
        let (Some(paid), Some(break_even)) =
            (profit(price, settlement), implied_probability(price))
        else {
            continue;
        };
        match settlement {
            Settlement::Win => entry.0.wins += 1,
            Settlement::Loss => entry.0.losses += 1,
            Settlement::Push => entry.0.pushes += 1,
        }
        entry.1.push(paid);
        entry.2 += break_even;
    }
    order
        .into_iter()
        .map(|system| {
            let (mut calls, profits, break_even) = acc.remove(system).expect("seen");
            if !profits.is_empty() {
                calls.profit = profits.iter().sum();
                calls.break_even = Some(break_even / profits.len() as f64);
                calls.roi_interval = bootstrap_mean_interval(&profits);
            }
            calls
        })
        .collect()
}

/// One tenth of predicted P(over).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ProbabilityBucket {
    pub lower: f64,
    pub upper: f64,
    /// Rows that did not push.
    pub decided: usize,
    pub overs: usize,
    /// Sum of the predicted P(over) of those rows (for their mean).
    pub predicted_sum: f64,
}

impl ProbabilityBucket {
    pub fn observed(&self) -> Option<f64> {
        (self.decided > 0).then(|| self.overs as f64 / self.decided as f64)
    }

    pub fn mean_predicted(&self) -> Option<f64> {
        (self.decided > 0).then(|| self.predicted_sum / self.decided as f64)
    }
}

/// Per system, predicted P(over | not a push) in ten buckets against the
/// observed over rate.
pub fn probability_calibration(rows: &[GradedRow]) -> Vec<(String, Vec<ProbabilityBucket>)> {
    let mut order: Vec<String> = Vec::new();
    let mut curves: HashMap<String, Vec<ProbabilityBucket>> = HashMap::new();
    for row in rows {
        let (Some(p_over), Some(Some(went_over))) = (row.p_over, outcome_vs_line(row)) else {
            continue;
        };
        let curve = curves.entry(row.system.clone()).or_insert_with(|| {
            order.push(row.system.clone());
            (0..10)
                .map(|i| ProbabilityBucket {
                    lower: i as f64 / 10.0,
                    upper: (i + 1) as f64 / 10.0,
                    decided: 0,
                    overs: 0,
                    predicted_sum: 0.0,
                })
                .collect()
        });
        let conditional = p_over / (1.0 - row.p_push.unwrap_or(0.0)).max(1e-9);
        let index = ((conditional * 10.0).floor() as usize).min(9);
        let bucket = &mut curve[index];
        bucket.decided += 1;
        bucket.predicted_sum += conditional;
        if went_over {
            bucket.overs += 1;
        }
    }
    order
        .into_iter()
        .map(|s| {
            let curve = curves.remove(&s).unwrap_or_default();
            (s, curve)
        })
        .collect()
}

/// The ensemble weighted by error against the line.
pub const LINE_WEIGHTED_ENSEMBLE: &str = "ensemble_line_weighted";
/// Days of graded rows (before the date) a member's record is read from.
pub const ENSEMBLE_RECENT_DAYS: i64 = 14;
/// Rows with a line a member needs in that window to be weighed.
pub const ENSEMBLE_MIN_ROWS: usize = 100;
/// Temperature of the weights, in points of MAE: a member whose recent MAE
/// is this much worse than the line's weighs e⁻¹ of the line.
pub const ENSEMBLE_TEMPERATURE: f64 = 0.25;

/// The weight of each member on `date`: exp(−excess / τ), excess = the
/// member's MAE minus the line's MAE on its own rows with a line of the
/// [`ENSEMBLE_RECENT_DAYS`] before `date` (out of sample: every such row was
/// graded before `date`). The line itself has excess 0. Members with fewer
/// than [`ENSEMBLE_MIN_ROWS`] rows are not weighed.
pub fn line_weights(rows: &[&GradedRow], date: NaiveDate) -> BTreeMap<String, f64> {
    let start = date - chrono::Duration::days(ENSEMBLE_RECENT_DAYS);
    let mut sums: BTreeMap<&str, (f64, usize)> = BTreeMap::new();
    for row in rows {
        if row.game_date < start || row.game_date >= date || row.system == BASELINE_LINE {
            continue;
        }
        let Some(line) = row.line else { continue };
        let cell = sums.entry(row.system.as_str()).or_default();
        cell.0 += (row.predicted - row.actual).abs() - (line - row.actual).abs();
        cell.1 += 1;
    }
    let mut weights: BTreeMap<String, f64> = sums
        .into_iter()
        .filter(|(_, (_, n))| *n >= ENSEMBLE_MIN_ROWS)
        .map(|(system, (excess, n))| {
            (
                system.to_string(),
                (-(excess / n as f64) / ENSEMBLE_TEMPERATURE).exp(),
            )
        })
        .collect();
    if !weights.is_empty() {
        weights.insert(BASELINE_LINE.to_string(), 1.0);
    }
    weights
}

/// The [`LINE_WEIGHTED_ENSEMBLE`] rows: for every player-game of `rows` with
/// a line, the weighted mean of the members' predictions by
/// [`line_weights`] of its date (members are every system of `rows` but
/// other ensembles). A date without a weighed member has no prediction.
pub fn line_weighted_ensemble(rows: &[GradedRow]) -> Vec<GradedRow> {
    let members: Vec<&GradedRow> = rows
        .iter()
        .filter(|r| !r.system.starts_with("ensemble"))
        .collect();
    let mut by_game: BTreeMap<(NaiveDate, &str), Vec<&GradedRow>> = BTreeMap::new();
    for row in &members {
        by_game
            .entry((row.game_date, row.player_lookup.as_str()))
            .or_default()
            .push(row);
    }
    let mut weights_of: BTreeMap<NaiveDate, BTreeMap<String, f64>> = BTreeMap::new();
    let mut out = Vec::new();
    for ((date, _), game) in by_game {
        let weights = weights_of
            .entry(date)
            .or_insert_with(|| line_weights(&members, date));
        let (mut sum, mut total) = (0.0, 0.0);
        for row in &game {
            if let Some(w) = weights.get(&row.system) {
                sum += w * row.predicted;
                total += w;
            }
        }
        let Some(first) = game.first() else { continue };
        if first.line.is_none() || total <= 0.0 {
            continue;
        }
        out.push(GradedRow {
            system: LINE_WEIGHTED_ENSEMBLE.to_string(),
            predicted: (sum / total * 100.0).round() / 100.0,
            p_over: None,
            p_push: None,
            ..(*first).clone()
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(system: &str, day: u32, predicted: f64, actual: f64, line: Option<f64>) -> GradedRow {
        GradedRow {
            system: system.into(),
            game_date: NaiveDate::from_ymd_opt(2025, 11, day).unwrap(),
            player_lookup: format!("p{day}"),
            predicted,
            actual,
            line,
            over_price: Some(-110),
            under_price: Some(-110),
            scale: Some(5.0),
            p_over: None,
            p_push: None,
        }
    }

    #[test]
    fn an_over_at_plus_120_and_an_under_at_minus_135_pay_what_the_hand_says() {
        // OVER 20.5 at +120, he scores 25: one unit wins 1.20.
        let mut over = row("a", 1, 24.0, 25.0, Some(20.5));
        over.over_price = Some(120);
        over.under_price = Some(-150);
        over.p_over = Some(0.60); // break-even at +120 is 100/220 = 0.4545
        over.p_push = Some(0.0);
        // UNDER 22.5 at −135, he scores 18: one unit wins 100/135 = 0.7407.
        let mut under = row("a", 2, 19.0, 18.0, Some(22.5));
        under.over_price = Some(105);
        under.under_price = Some(-135);
        under.p_over = Some(0.30); // P(under) 0.70 against break-even 135/235 = 0.5745
        under.p_push = Some(0.0);
        // OVER 20 at −110 and he scores exactly 20: a push, the unit comes back.
        let mut push = row("a", 3, 24.0, 20.0, Some(20.0));
        push.p_over = Some(0.70);
        push.p_push = Some(0.05);
        assert_eq!(call(&over), Some((true, 120)));
        assert_eq!(call(&under), Some((false, -135)));
        assert_eq!(call(&push), Some((true, -110)));
        let calls = priced_calls(&[over, under, push]);
        let a = &calls[0];
        assert_eq!((a.wins, a.losses, a.pushes, a.bets()), (2, 0, 1, 2));
        let by_hand = 1.20 + 100.0 / 135.0 + 0.0;
        assert!((a.profit - by_hand).abs() < 1e-12, "{}", a.profit);
        // ROI over three units staked (the push was staked and returned).
        assert!((a.roi().unwrap() - by_hand / 3.0).abs() < 1e-12);
        assert_eq!(a.hit_rate(), Some(1.0));
    }

    #[test]
    fn a_losing_call_costs_the_unit_and_a_thin_edge_is_no_call() {
        let mut lose = row("a", 1, 24.0, 15.0, Some(20.5));
        lose.p_over = Some(0.60);
        lose.p_push = Some(0.0);
        let mut thin = row("a", 2, 21.0, 15.0, Some(20.5));
        thin.p_over = Some(0.54); // −110 needs 0.5238: an edge of 0.016 < 0.03
        thin.p_push = Some(0.0);
        assert_eq!(call(&thin), None);
        let calls = priced_calls(&[lose, thin]);
        assert_eq!(
            (calls[0].eligible, calls[0].bets(), calls[0].profit),
            (2, 1, -1.0)
        );
    }

    #[test]
    fn the_line_baseline_difference_is_paired_on_the_same_rows() {
        let rows = vec![
            row("a", 1, 20.0, 24.0, Some(21.5)), // |−4| vs |−2.5|
            row("a", 2, 10.0, 12.0, Some(14.5)), // 2 vs 2.5
            row("a", 3, 30.0, 31.0, None),       // no line: not compared
        ];
        let v = versus_line(&rows);
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].rows, 2);
        assert!((v[0].mae - 3.0).abs() < 1e-12);
        assert!((v[0].line_mae - 2.5).abs() < 1e-12);
        assert!((v[0].difference - 0.5).abs() < 1e-12);
        let (lo, hi) = v[0].interval;
        // Two paired differences, +1.5 and −0.5: every resample mean lies
        // between them.
        assert!((-0.5..=1.5).contains(&lo) && lo <= hi && hi <= 1.5);
        assert_eq!(
            v,
            versus_line(&rows),
            "the same rows give the same interval"
        );
    }

    #[test]
    fn the_ensemble_weighs_members_by_their_recent_error_against_the_line() {
        let mut rows = Vec::new();
        // Nov 1–2: "good" is 0.25 points worse than the line on average,
        // "bad" 1.0 worse.
        for day in 1..=2 {
            for i in 0..ENSEMBLE_MIN_ROWS {
                let at = |system: &str, predicted: f64| GradedRow {
                    player_lookup: format!("p{i}"),
                    ..row(system, day, predicted, 20.0, Some(20.5))
                };
                rows.push(at(BASELINE_LINE, 20.5));
                rows.push(at("good", 20.75)); // |0.75| − |0.5| = 0.25
                rows.push(at("bad", 21.5)); // |1.5| − |0.5| = 1.0
            }
        }
        let mut today = |system: &str, predicted: f64| {
            rows.push(GradedRow {
                player_lookup: "x".into(),
                ..row(system, 3, predicted, 30.0, Some(24.5))
            })
        };
        today(BASELINE_LINE, 24.5);
        today("good", 28.0);
        today("bad", 20.0);
        let refs: Vec<&GradedRow> = rows.iter().collect();
        let date = NaiveDate::from_ymd_opt(2025, 11, 3).unwrap();
        let w = line_weights(&refs, date);
        assert_eq!(w[BASELINE_LINE], 1.0);
        assert!((w["good"] - (-1.0f64).exp()).abs() < 1e-12);
        assert!((w["bad"] - (-4.0f64).exp()).abs() < 1e-12);
        let ensemble = line_weighted_ensemble(&rows);
        // Nov 1 has no record: no prediction; Nov 2 and 3 do.
        assert!(ensemble.iter().all(|r| r.game_date > rows[0].game_date));
        let x = ensemble.iter().find(|r| r.player_lookup == "x").unwrap();
        let total = 1.0 + (-1.0f64).exp() + (-4.0f64).exp();
        let by_hand = (24.5 + 28.0 * (-1.0f64).exp() + 20.0 * (-4.0f64).exp()) / total;
        assert!((x.predicted - (by_hand * 100.0).round() / 100.0).abs() < 1e-9);
        assert_eq!((x.actual, x.line), (30.0, Some(24.5)));
    }

    #[test]
    fn recalibration_learns_only_from_earlier_dates() {
        // Nov 1–3: 150 rows a day where the system's P(over) is right half
        // of the time at 0.8 (over) and the market says 0.5.
        let mut rows = Vec::new();
        for day in 1..=3 {
            for i in 0..150 {
                let over = i % 2 == 0;
                rows.push(GradedRow {
                    player_lookup: format!("p{i}"),
                    p_over: Some(if over { 0.8 } else { 0.2 }),
                    p_push: Some(0.0),
                    ..row("a", day, 20.0, if over { 25.0 } else { 15.0 }, Some(20.5))
                });
            }
        }
        recalibrate(&mut rows);
        // Nov 1 and 2 have fewer than 200 earlier rows; Nov 3 has 300.
        assert!(rows[..300].iter().all(|r| r.p_over.is_none()));
        let (over, under) = (rows[300].p_over.unwrap(), rows[301].p_over.unwrap());
        // The system was always right: the fit trusts it.
        assert!(over > 0.8 && under < 0.2, "{over} {under}");
        let (w0, w1, w2) = {
            let xs = [[logit(0.8), 0.0], [logit(0.2), 0.0]];
            let w = fit_logistic(&xs.repeat(100), &[true, false].repeat(100)).unwrap();
            (w[0], w[1], w[2])
        };
        assert!(
            w0.abs() < 1e-9 && w1 > 1.0 && w2.abs() < 1e-9,
            "{w0} {w1} {w2}"
        );
    }

    #[test]
    fn wilson_and_normal_by_hand() {
        let (lo, hi) = wilson_interval(55, 100).unwrap();
        assert!(
            (lo - 0.4524).abs() < 1e-3 && (hi - 0.6438).abs() < 1e-3,
            "{lo} {hi}"
        );
        assert!((normal_cdf(0.0) - 0.5).abs() < 1e-7);
        assert!((normal_cdf(1.959_964) - 0.975).abs() < 1e-6);
        // Mean on a half-point line: even odds, no push.
        assert_eq!(over_push_probability(20.5, 5.0, 20.5).1, 0.0);
        assert!((over_push_probability(20.5, 5.0, 20.5).0 - 0.5).abs() < 1e-7);
        // Integer line at the mean: over and under share what the push leaves.
        let (over, push) = over_push_probability(20.0, 5.0, 20.0);
        assert!(push > 0.07 && push < 0.09, "{push}");
        assert!((over - (1.0 - push) / 2.0).abs() < 1e-7);
    }

    #[test]
    fn the_scale_is_fitted_only_on_earlier_dates() {
        // 200 residuals of 5 points (z = 1) on Nov 1.
        let history: Vec<GradedRow> = (0..MIN_RESIDUALS)
            .map(|i| GradedRow {
                player_lookup: format!("h{i}"),
                ..row("a", 1, 20.0, 25.0, None)
            })
            .collect();
        let mut rows = vec![
            row("a", 1, 20.0, 40.0, Some(20.5)), // Nov 1: no earlier residuals
            row("a", 2, 20.0, 40.0, Some(20.5)), // Nov 2: fitted on Nov 1's 201
            row("b", 2, 20.0, 40.0, Some(20.5)), // another system: none of its own
        ];
        raw_probabilities(&history, &mut rows);
        assert_eq!(rows[0].p_over, None);
        // Nov 1: 200 residuals with z = 1 and one with z = 20 / 5 = 4.
        let k = ((200.0 + 16.0) / 201.0_f64).sqrt();
        let expected = 1.0 - normal_cdf((20.5 - 20.0) / (k * 5.0));
        assert!((rows[1].p_over.unwrap() - expected).abs() < 1e-9);
        assert_eq!(rows[2].p_over, None);
    }
}
