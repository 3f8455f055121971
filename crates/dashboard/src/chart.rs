//! Line charts drawn on the server as inline SVG: one line per series over
//! labelled x positions, a point per value with its number as a tooltip.

use maud::{Markup, html};

/// One line: a value (or a gap) per x position.
#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub values: Vec<Option<f64>>,
}

const PALETTE: [&str; 8] = [
    "#0969da", "#cf222e", "#2da44e", "#8250df", "#bf8700", "#1b7c83", "#d4358a", "#57606a",
];
const WIDTH: f64 = 760.0;
const HEIGHT: f64 = 280.0;
const LEFT: f64 = 52.0;
const RIGHT: f64 = 190.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 40.0;

/// The colour of the `i`-th series.
pub fn colour(i: usize) -> &'static str {
    PALETTE[i % PALETTE.len()]
}

/// A chart of `series` over `labels`, values printed with `format`.
pub fn line_chart(
    id: &str,
    y_label: &str,
    labels: &[String],
    series: &[Series],
    format: fn(f64) -> String,
) -> Markup {
    let values: Vec<f64> = series
        .iter()
        .flat_map(|s| s.values.iter().flatten().copied())
        .filter(|v| v.is_finite())
        .collect();
    let (mut lo, mut hi) = values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    if !lo.is_finite() {
        (lo, hi) = (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.1).max(1e-3);
    let (lo, hi) = (lo - pad, hi + pad);
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let n = labels.len().max(1);
    let x = |i: usize| {
        if n == 1 {
            LEFT + plot_w / 2.0
        } else {
            LEFT + plot_w * i as f64 / (n - 1) as f64
        }
    };
    let y = |v: f64| TOP + plot_h * (1.0 - (v - lo) / (hi - lo));
    let ticks: Vec<f64> = (0..=4).map(|k| lo + (hi - lo) * k as f64 / 4.0).collect();
    html! {
        svg id=(id) class="chart" xmlns="http://www.w3.org/2000/svg" width=(WIDTH) height=(HEIGHT)
            viewBox=(format!("0 0 {WIDTH} {HEIGHT}")) role="img" aria-label=(y_label) {
            rect x="0" y="0" width=(WIDTH) height=(HEIGHT) fill="#fff" {}
            @for t in &ticks {
                line x1=(LEFT) x2=(LEFT + plot_w) y1=(y(*t)) y2=(y(*t)) stroke="#e3e7ed" {}
                text x=(LEFT - 6.0) y=(y(*t) + 4.0) text-anchor="end" font-size="11" fill="#57606a" { (format(*t)) }
            }
            @for (i, label) in labels.iter().enumerate() {
                text x=(x(i)) y=(HEIGHT - BOTTOM + 16.0) text-anchor="middle" font-size="11" fill="#57606a" { (label) }
            }
            text x="12" y=(TOP + plot_h / 2.0) font-size="11" fill="#57606a"
                transform=(format!("rotate(-90 12 {})", TOP + plot_h / 2.0)) text-anchor="middle" { (y_label) }
            @for (k, s) in series.iter().enumerate() {
                g.series data-series=(s.name) stroke=(colour(k)) fill=(colour(k)) {
                    @for segment in segments(&s.values) {
                        @if segment.len() > 1 {
                            polyline fill="none" stroke-width="2"
                                points=(segment.iter().map(|&(i, v)| format!("{:.1},{:.1}", x(i), y(v))).collect::<Vec<_>>().join(" ")) {}
                        }
                    }
                    @for (i, v) in s.values.iter().enumerate() {
                        @if let Some(v) = v.filter(|v| v.is_finite()) {
                            circle cx=(format!("{:.1}", x(i))) cy=(format!("{:.1}", y(v))) r="3.5"
                                data-x=(labels.get(i).map(String::as_str).unwrap_or("")) data-value=(v) {
                                title { (s.name) " · " (labels.get(i).map(String::as_str).unwrap_or("")) ": " (format(v)) }
                            }
                        }
                    }
                }
                rect x=(WIDTH - RIGHT + 14.0) y=(TOP + 18.0 * k as f64) width="12" height="12" fill=(colour(k)) {}
                text x=(WIDTH - RIGHT + 32.0) y=(TOP + 18.0 * k as f64 + 10.0) font-size="12" fill="#1d2430" { (s.name) }
            }
        }
    }
}

/// Runs of consecutive values, split at gaps.
fn segments(values: &[Option<f64>]) -> Vec<Vec<(usize, f64)>> {
    let mut out = vec![Vec::new()];
    for (i, v) in values.iter().enumerate() {
        match v.filter(|v| v.is_finite()) {
            Some(v) => out.last_mut().expect("one segment").push((i, v)),
            None if !out.last().expect("one segment").is_empty() => out.push(Vec::new()),
            None => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gap_splits_the_line_and_every_value_gets_a_point() {
        let labels: Vec<String> = ["w1", "w2", "w3", "w4"].map(String::from).to_vec();
        let s = Series {
            name: "a".into(),
            values: vec![Some(5.0), Some(5.5), None, Some(4.0)],
        };
        assert_eq!(segments(&s.values).len(), 2);
        let svg = line_chart("c", "MAE", &labels, &[s], |v| format!("{v:.2}")).into_string();
        assert_eq!(svg.matches("<polyline").count(), 1);
        assert_eq!(svg.matches("<circle").count(), 3);
        assert!(svg.contains("a · w4: 4.00"), "{svg}");
    }
}
