//! Small bar charts drawn on the server as inline SVG: no script and no image request, so
//! they pass the strict Content-Security-Policy and print as they look.

use std::fmt::Write as _;

/// The drawing's size, in SVG units; the stylesheet scales it to the page.
const WIDTH: f64 = 320.0;
const HEIGHT: f64 = 140.0;
/// Room under the bars for their labels.
const LABELS: f64 = 28.0;

/// A bar chart of `bars` (label, value) titled `title`, each value written above its bar with
/// `format`. All values zero (or none) draw an empty baseline.
pub fn bars(title: &str, bars: &[(String, f64)], format: impl Fn(f64) -> String) -> String {
    let max = bars.iter().map(|(_, v)| *v).fold(0.0_f64, f64::max);
    let slot = WIDTH / bars.len().max(1) as f64;
    let plot = HEIGHT - LABELS - 14.0;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg">"#,
        escape(title)
    );
    let _ = write!(
        svg,
        r##"<line x1="0" y1="{base}" x2="{WIDTH}" y2="{base}" stroke="#888" stroke-width="1"/>"##,
        base = HEIGHT - LABELS
    );
    for (i, (label, value)) in bars.iter().enumerate() {
        let height = if max > 0.0 { value / max * plot } else { 0.0 };
        let x = i as f64 * slot + slot * 0.15;
        let y = HEIGHT - LABELS - height;
        let middle = x + slot * 0.35;
        let _ = write!(
            svg,
            r##"<rect x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{height:.1}" fill="#3b6ea5"><title>{label}: {shown}</title></rect>"##,
            w = slot * 0.7,
            label = escape(label),
            shown = escape(&format(*value)),
        );
        let _ = write!(
            svg,
            r#"<text x="{middle:.1}" y="{top:.1}" font-size="9" text-anchor="middle">{shown}</text>"#,
            top = (y - 3.0).max(9.0),
            shown = escape(&format(*value)),
        );
        let _ = write!(
            svg,
            r#"<text x="{middle:.1}" y="{under:.1}" font-size="9" text-anchor="middle">{label}</text>"#,
            under = HEIGHT - LABELS + 12.0,
            label = escape(label),
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Text made safe inside SVG markup.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tallest_bar_fills_the_plot_and_labels_are_escaped() {
        let svg = bars("per day", &[("<a>".into(), 1.0), ("b".into(), 4.0)], |v| {
            format!("{v}")
        });
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("&lt;a&gt;") && !svg.contains("<a>"));
        assert!(svg.contains(&format!("height=\"{:.1}\"", HEIGHT - LABELS - 14.0)));
    }

    #[test]
    fn nothing_to_show_draws_only_the_baseline() {
        let svg = bars("empty", &[("a".into(), 0.0)], |v| format!("{v}"));
        assert!(svg.contains("height=\"0.0\""));
        assert_eq!(
            bars("none", &[], |v| format!("{v}"))
                .matches("<rect")
                .count(),
            0
        );
    }
}
