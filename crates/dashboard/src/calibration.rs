//! The calibration plot: predicted P(over) against the observed over rate,
//! one panel per stage of the probabilities (the systems' own
//! distributions, then recalibrated against the market), drawn as a
//! standalone SVG. `propcast evaluate --plot` writes it to a file
//! (docs/calibration.svg); `/accuracy` shows it inline.

use chrono::NaiveDate;
use propcast_prediction_worker::versus_line::ProbabilityBucket;
use std::fmt::Write as _;

/// Buckets with fewer decided rows are not drawn (too noisy to read).
pub const MIN_BUCKET_CALLS: usize = 10;

const COLORS: [&str; 12] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf", "#000000", "#aec7e8",
];

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// One panel of the calibration plot: a title and a curve per system.
pub type CalibrationPanel<'a> = (&'a str, &'a [(String, Vec<ProbabilityBucket>)]);

/// The calibration curves as a standalone SVG, one panel per stage side by
/// side: x = predicted P(over) (mean of the bucket), y = observed over rate;
/// one line per system (same colour in every panel) and the diagonal of
/// perfect calibration; buckets with fewer than [`MIN_BUCKET_CALLS`]
/// decided rows are left out.
pub fn calibration_svg(panels: &[CalibrationPanel<'_>], from: NaiveDate, to: NaiveDate) -> String {
    let (side, gap, left, right, top, bottom) = (360.0, 60.0, 60.0, 240.0, 60.0, 50.0);
    let n = panels.len().max(1) as f64;
    let w = left + n * side + (n - 1.0) * gap + right;
    let h = top + side + bottom;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="{w}" height="{h}" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{left}" y="22" font-size="14">Predicted P(over the real line) against the observed over rate, {from} → {to}</text>"#
    );
    let mut systems: Vec<&str> = Vec::new();
    for (_, curves) in panels {
        for (system, _) in curves.iter() {
            if !systems.contains(&system.as_str()) {
                systems.push(system);
            }
        }
    }
    let colour = |system: &str| {
        let i = systems.iter().position(|s| *s == system).unwrap_or(0);
        COLORS[i % COLORS.len()]
    };
    for (k, (title, curves)) in panels.iter().enumerate() {
        let x0 = left + k as f64 * (side + gap);
        let x = |p: f64| x0 + p * side;
        let y = |rate: f64| top + (1.0 - rate) * side;
        let _ = writeln!(
            s,
            r#"<text x="{x0}" y="{}" font-size="13">{}</text>"#,
            top - 10.0,
            escape(title)
        );
        for i in 0..=10 {
            let p = i as f64 / 10.0;
            let pct = (p * 100.0).round() as i64;
            let _ = writeln!(
                s,
                r##"<line x1="{x0}" y1="{yy:.1}" x2="{x2}" y2="{yy:.1}" stroke="#eee"/><line x1="{xx:.1}" y1="{top}" x2="{xx:.1}" y2="{yb}" stroke="#eee"/>"##,
                yy = y(p),
                x2 = x0 + side,
                xx = x(p),
                yb = top + side
            );
            if i % 2 == 0 {
                let _ = writeln!(
                    s,
                    r##"<text x="{tx}" y="{ty:.1}" text-anchor="end">{pct}%</text><text x="{xx:.1}" y="{by}" text-anchor="middle">{pct}%</text>"##,
                    tx = x0 - 6.0,
                    ty = y(p) + 4.0,
                    xx = x(p),
                    by = top + side + 16.0
                );
            }
        }
        let _ = writeln!(
            s,
            r##"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#999" stroke-dasharray="4 3"/><rect x="{x0}" y="{top}" width="{side}" height="{side}" fill="none" stroke="#333"/>"##,
            x(0.0),
            y(0.0),
            x(1.0),
            y(1.0)
        );
        for (system, buckets) in curves.iter() {
            let color = colour(system);
            let points: Vec<(f64, f64)> = buckets
                .iter()
                .filter(|b| b.decided >= MIN_BUCKET_CALLS)
                .filter_map(|b| Some((x(b.mean_predicted()?), y(b.observed()?))))
                .collect();
            if points.is_empty() {
                continue;
            }
            let path: Vec<String> = points
                .iter()
                .map(|(px, py)| format!("{px:.1},{py:.1}"))
                .collect();
            let _ = writeln!(
                s,
                r#"<polyline fill="none" stroke="{color}" stroke-width="2" points="{}"/>"#,
                path.join(" ")
            );
            for (px, py) in &points {
                let _ = writeln!(
                    s,
                    r#"<circle cx="{px:.1}" cy="{py:.1}" r="3" fill="{color}"/>"#
                );
            }
        }
    }
    let _ = writeln!(
        s,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">predicted P(over), pushes left out (dashed: perfect calibration)</text>"#,
        left + (n * side + (n - 1.0) * gap) / 2.0,
        h - 8.0
    );
    let lx = left + n * side + (n - 1.0) * gap + 20.0;
    for (i, system) in systems.iter().enumerate() {
        let ly = top + 10.0 + i as f64 * 20.0;
        let decided: usize = panels
            .last()
            .and_then(|(_, curves)| curves.iter().find(|(s, _)| s == system))
            .map(|(_, b)| b.iter().map(|b| b.decided).sum())
            .unwrap_or(0);
        let _ = writeln!(
            s,
            r#"<line x1="{lx}" y1="{ly}" x2="{}" y2="{ly}" stroke="{}" stroke-width="3"/><text x="{}" y="{}">{} ({decided})</text>"#,
            lx + 18.0,
            colour(system),
            lx + 24.0,
            ly + 4.0,
            escape(system)
        );
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_svg_draws_only_buckets_with_enough_rows() {
        let bucket = |lower: f64, decided, overs| ProbabilityBucket {
            lower,
            upper: lower + 0.1,
            decided,
            overs,
            predicted_sum: (lower + 0.05) * decided as f64,
        };
        let curves = vec![(
            "a<b".to_string(),
            vec![bucket(0.3, 20, 6), bucket(0.5, 4, 4), bucket(0.6, 10, 7)],
        )];
        let d = NaiveDate::from_ymd_opt(2025, 10, 21).unwrap();
        let svg = calibration_svg(&[("raw", &curves), ("recalibrated", &curves)], d, d);
        assert!(svg.starts_with("<svg"));
        assert!(svg.trim_end().ends_with("</svg>"));
        // Two drawn points (20 and 10 rows) per panel, the 4-row bucket
        // left out; one legend entry.
        assert_eq!(svg.matches("<circle").count(), 4);
        assert_eq!(svg.matches("a&lt;b (").count(), 1);
        assert!(svg.contains("a&lt;b (34)"));
    }
}
