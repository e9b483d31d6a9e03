//! Two small hand-written SVG charts: bars for the cost of each namespace
//! type, and lines for the spawn cost against the parent's memory.

use std::fmt::Write;

const FONT: &str = "font-family=\"sans-serif\" font-size=\"12\"";

fn header(width: u32, height: u32, title: &str) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"0 0 {width} {height}\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"{}\" y=\"20\" text-anchor=\"middle\" {FONT} font-weight=\"bold\">{}</text>\n",
        width / 2,
        escape(title)
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Horizontal bars: one row per `(label, microseconds)`.
pub fn bars(title: &str, rows: &[(String, f64)]) -> String {
    let (left, right, top, row_h) = (150.0, 110.0, 36.0, 26.0);
    let width = 640.0;
    let height = top + row_h * rows.len() as f64 + 30.0;
    let max = rows.iter().map(|r| r.1).fold(1.0, f64::max);
    let scale = (width - left - right) / max;
    let mut svg = header(width as u32, height as u32, title);
    for (i, (label, us)) in rows.iter().enumerate() {
        let y = top + row_h * i as f64;
        let w = (us * scale).max(1.0);
        let _ = write!(
            svg,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" {FONT}>{}</text>\n\
             <rect x=\"{left}\" y=\"{}\" width=\"{w:.1}\" height=\"{}\" fill=\"#4477aa\"/>\n\
             <text x=\"{}\" y=\"{}\" {FONT}>{us:.0} µs</text>\n",
            left - 8.0,
            y + 16.0,
            escape(label),
            y + 3.0,
            row_h - 6.0,
            left + w + 6.0,
            y + 16.0,
        );
    }
    let _ = write!(
        svg,
        "<text x=\"{left}\" y=\"{}\" {FONT} fill=\"#555\">median time of one clone(2) \
         whose child exits at once, and its wait4(2)</text>\n</svg>\n",
        height - 10.0
    );
    svg
}

/// One line of a [`lines`] chart: a name, a colour, dashed or not, and
/// points `(MiB resident, microseconds)`.
pub struct Series {
    pub name: String,
    pub color: &'static str,
    pub dashed: bool,
    pub points: Vec<(f64, f64)>,
}

/// Lines over a log2 x axis (MiB) and a log10 y axis (time).
pub fn lines(title: &str, series: &[Series]) -> String {
    let (width, height) = (700.0, 400.0);
    let (left, right, top, bottom) = (70.0, 180.0, 40.0, 50.0);
    let all = || series.iter().flat_map(|s| s.points.iter());
    let x_max = all().map(|p| p.0).fold(2.0, f64::max).log2().ceil();
    let y_min = all().map(|p| p.1).fold(f64::MAX, f64::min).log10().floor();
    let y_max = all().map(|p| p.1).fold(1.0, f64::max).log10().ceil();
    let y_max = y_max.max(y_min + 1.0);
    let px = |mib: f64| left + mib.max(1.0).log2() / x_max * (width - left - right);
    let py = |us: f64| top + (y_max - us.log10()) / (y_max - y_min) * (height - top - bottom);
    let mut svg = header(width as u32, height as u32, title);
    let axis = "stroke=\"#999\" stroke-width=\"1\"";
    let (x0, x1, y0, y1) = (left, width - right, top, height - bottom);
    let _ = writeln!(
        svg,
        "<line x1=\"{x0}\" y1=\"{y1}\" x2=\"{x1}\" y2=\"{y1}\" {axis}/>\
         <line x1=\"{x0}\" y1=\"{y0}\" x2=\"{x0}\" y2=\"{y1}\" {axis}/>"
    );
    for decade in y_min as i32..=y_max as i32 {
        let us = 10f64.powi(decade);
        let label = if us >= 1000.0 {
            format!("{} ms", us / 1000.0)
        } else {
            format!("{us} µs")
        };
        let _ = writeln!(
            svg,
            "<line x1=\"{x0}\" y1=\"{y:.1}\" x2=\"{x1}\" y2=\"{y:.1}\" stroke=\"#eee\"/>\
             <text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\" {FONT}>{label}</text>",
            x0 - 6.0,
            py(us) + 4.0,
            y = py(us),
        );
    }
    let mut ticks: Vec<f64> = all().map(|p| p.0).collect();
    ticks.sort_by(f64::total_cmp);
    ticks.dedup();
    for mib in ticks {
        let label = if mib >= 1024.0 {
            format!("{} GiB", mib / 1024.0)
        } else {
            format!("{mib} MiB")
        };
        let _ = writeln!(
            svg,
            "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\" {FONT}>{label}</text>",
            px(mib),
            y1 + 18.0
        );
    }
    let _ = writeln!(
        svg,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" {FONT} fill=\"#555\">memory the \
         parent has touched (log scale)</text>",
        (x0 + x1) / 2.0,
        height - 12.0
    );
    for (i, s) in series.iter().enumerate() {
        let dash = if s.dashed {
            " stroke-dasharray=\"6 4\""
        } else {
            ""
        };
        let points: Vec<String> = s
            .points
            .iter()
            .map(|&(x, y)| format!("{:.1},{:.1}", px(x), py(y)))
            .collect();
        let _ = writeln!(
            svg,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"{dash}/>",
            points.join(" "),
            s.color
        );
        for &(x, y) in &s.points {
            let _ = writeln!(
                svg,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{}\"/>",
                px(x),
                py(y),
                s.color
            );
        }
        let ly = top + 10.0 + 22.0 * i as f64;
        let _ = writeln!(
            svg,
            "<line x1=\"{}\" y1=\"{ly}\" x2=\"{}\" y2=\"{ly}\" stroke=\"{}\" stroke-width=\"2\"{dash}/>\
             <text x=\"{}\" y=\"{}\" {FONT}>{}</text>",
            x1 + 12.0,
            x1 + 36.0,
            s.color,
            x1 + 42.0,
            ly + 4.0,
            escape(&s.name)
        );
    }
    svg.push_str("</svg>\n");
    svg
}
