//! The Monitor's charts: time series drawn as an SVG line chart for the HTML part of the report
//! e-mail, and as a sparkline (a line of block characters) for its plain-text part. Pure
//! functions: the caller reads the samples, this module only draws them, and no input (empty,
//! one point, huge, negative, NaN) makes it fail.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};

/// One line of a chart: a name for the legend and its points, in time order.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    pub points: Vec<(DateTime<Utc>, f64)>,
}

/// How values are written on the axis and in the legend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// A plain number, with k, M, G... for thousands, millions, billions...
    Count,
    /// A size, in B, KiB, MiB, GiB... (powers of 1024).
    Bytes,
}

const WIDTH: f64 = 640.0;
const MIN_HEIGHT: f64 = 240.0;
const PLOT_LEFT: f64 = 64.0;
const PLOT_RIGHT: f64 = 620.0;
const PLOT_TOP: f64 = 32.0;
const PLOT_BOTTOM: f64 = 184.0;
const LEGEND_TOP: f64 = 222.0;
const LEGEND_ROW: f64 = 16.0;
const LEGEND_COLUMNS: usize = 2;
const LEGEND_NAME_CHARS: usize = 36;
const TITLE_CHARS: usize = 90;
const PALETTE: [&str; 8] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
];
/// Values are drawn clamped to ±this, so no sum or difference of two of them overflows.
const MAX_MAGNITUDE: f64 = 1e300;
const MINUTE_MS: i64 = 60_000;
const HOUR_MS: i64 = 60 * MINUTE_MS;
const DAY_MS: i64 = 24 * HOUR_MS;
/// A shorter time range is widened to this, around its middle.
const MIN_SPAN_MS: i64 = 5 * MINUTE_MS;

/// An SVG document (a complete `<svg xmlns="http://www.w3.org/2000/svg" ...>` element, 640
/// wide and 240 high, higher when the legend needs more rows) drawing every series as a
/// polyline over the time range [from, to] (swapped when reversed, widened to 5 minutes around
/// its middle when shorter; points outside it are not drawn):
///
/// - the title at the top;
/// - a y axis from 0 (or a gridline at or below the minimum if it is negative) to a "nice"
///   maximum (1, 2, 2.5 or 5 times a power of ten; for bytes, of 1024 times a power of ten),
///   with 4 to 6 gridlines labelled as [`format_value`] writes values;
/// - an x axis labelled with times in UTC (HH:MM if the range is under 2 days, else MM-DD) at
///   round times, 4 to 6 ticks when round times allow it;
/// - a legend with each series' name and its last value, "no data" for a series without points
///   to draw; each series has its own colour from a palette of 8, cycling.
///
/// With no series, or no points to draw at all, the chart says "no samples yet". Text is
/// XML-escaped, non-finite values are skipped, and numbers have at most 1 decimal place.
pub fn svg(
    title: &str,
    unit: Unit,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    series: &[Series],
) -> String {
    let (from_ms, to_ms) = time_range(from, to);
    let lines: Vec<Line> = series
        .iter()
        .enumerate()
        .map(|(i, s)| Line {
            name: &s.name,
            color: PALETTE[i % PALETTE.len()],
            points: drawable_points(s, from_ms, to_ms),
        })
        .collect();
    if lines.iter().all(|l| l.points.is_empty()) {
        return empty_chart(title);
    }

    let rows = lines.len().div_ceil(LEGEND_COLUMNS);
    let height = MIN_HEIGHT.max(LEGEND_TOP + (rows as f64 - 1.0) * LEGEND_ROW + 10.0);
    let mut out = header(title, height);

    // The y axis: gridlines and their labels.
    let (min, max) = lines
        .iter()
        .flat_map(|l| l.points.iter().map(|&(_, v)| clamp(v)))
        .fold((0.0_f64, 0.0_f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let scale = y_scale(min, max, unit);
    let y_of = |v: f64| {
        PLOT_BOTTOM
            - (clamp(v) - scale.bottom) / (scale.top - scale.bottom) * (PLOT_BOTTOM - PLOT_TOP)
    };
    for i in 0..=scale.intervals {
        let mut v = scale.bottom + scale.step * i as f64;
        if v.abs() < scale.step * 1e-6 {
            v = 0.0;
        }
        let y = num(y_of(v));
        let stroke = if v == 0.0 { "#999" } else { "#e0e0e0" };
        let _ = write!(
            out,
            "<line x1=\"{}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\" stroke=\"{stroke}\"/>",
            num(PLOT_LEFT),
            num(PLOT_RIGHT)
        );
        let _ = write!(
            out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"#555\">{}</text>",
            num(PLOT_LEFT - 6.0),
            num(y_of(v) + 4.0),
            escape(&format_value(v, unit))
        );
    }

    // The x axis: ticks at round times and their labels.
    let x_of = |t: i64| {
        PLOT_LEFT + (t - from_ms) as f64 / (to_ms - from_ms) as f64 * (PLOT_RIGHT - PLOT_LEFT)
    };
    let _ = write!(
        out,
        "<line x1=\"{l}\" y1=\"{t}\" x2=\"{l}\" y2=\"{b}\" stroke=\"#999\"/>",
        l = num(PLOT_LEFT),
        t = num(PLOT_TOP),
        b = num(PLOT_BOTTOM)
    );
    for (t, label) in time_ticks(from_ms, to_ms) {
        let x = num(x_of(t));
        let _ = write!(
            out,
            "<line x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{}\" stroke=\"#999\"/>",
            num(PLOT_BOTTOM),
            num(PLOT_BOTTOM + 4.0)
        );
        let _ = write!(
            out,
            "<text x=\"{x}\" y=\"{}\" text-anchor=\"middle\" fill=\"#555\">{label}</text>",
            num(PLOT_BOTTOM + 15.0)
        );
    }

    // The lines: one polyline per series with points, and a dot when it has only one.
    for line in &lines {
        let mut coords: Vec<(String, String)> = Vec::with_capacity(line.points.len());
        for &(t, v) in &line.points {
            let c = (num(x_of(t)), num(y_of(v)));
            if coords.last() != Some(&c) {
                coords.push(c);
            }
        }
        let Some(first) = coords.first() else {
            continue;
        };
        let points: Vec<String> = coords.iter().map(|(x, y)| format!("{x},{y}")).collect();
        let _ = write!(
            out,
            "<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"1.5\" stroke-linejoin=\"round\" points=\"{}\"/>",
            line.color,
            points.join(" ")
        );
        if coords.len() == 1 {
            let _ = write!(
                out,
                "<circle cx=\"{}\" cy=\"{}\" r=\"2.5\" fill=\"{}\"/>",
                first.0, first.1, line.color
            );
        }
    }

    // The legend, in rows of LEGEND_COLUMNS.
    let column_width = (WIDTH - 16.0) / LEGEND_COLUMNS as f64;
    for (i, line) in lines.iter().enumerate() {
        let x = 8.0 + (i % LEGEND_COLUMNS) as f64 * column_width;
        let y = LEGEND_TOP + (i / LEGEND_COLUMNS) as f64 * LEGEND_ROW;
        let value = match line.points.last() {
            Some(&(_, v)) => format_value(v, unit),
            None => "no data".to_string(),
        };
        let _ = write!(
            out,
            "<line x1=\"{}\" y1=\"{y4}\" x2=\"{}\" y2=\"{y4}\" stroke=\"{}\" stroke-width=\"3\"/>",
            num(x),
            num(x + 16.0),
            line.color,
            y4 = num(y - 4.0)
        );
        let _ = write!(
            out,
            "<text x=\"{}\" y=\"{}\">{}: {}</text>",
            num(x + 22.0),
            num(y),
            escape(&truncate(line.name, LEGEND_NAME_CHARS)),
            escape(&value)
        );
    }
    out.push_str("</svg>");
    out
}

/// The values as a line of block characters ▁▂▃▄▅▆▇█, one per value, at most `width`
/// characters (when there are more values, consecutive values are averaged into `width`
/// buckets); the lowest value is ▁ and the highest █; all equal: all ▄; empty (or `width` 0):
/// the empty string; non-finite values are skipped.
pub fn sparkline(values: &[f64], width: usize) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let finite: Vec<f64> = values
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .map(clamp)
        .collect();
    if finite.is_empty() || width == 0 {
        return String::new();
    }
    let n = finite.len();
    let buckets: Vec<f64> = if n <= width {
        finite
    } else {
        // Bucket i holds values [i * n / width, (i + 1) * n / width): never empty as n > width.
        let bound = |i: usize| (i as u128 * n as u128 / width as u128) as usize;
        (0..width)
            .map(|i| {
                let bucket = &finite[bound(i)..bound(i + 1)];
                let len = bucket.len() as f64;
                bucket.iter().map(|v| v / len).sum()
            })
            .collect()
    };
    let lo = buckets.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = buckets.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    buckets
        .iter()
        .map(|&v| {
            if hi > lo {
                let level = ((v - lo) / (hi - lo) * 7.0).round();
                BARS[level.clamp(0.0, 7.0) as usize]
            } else {
                BARS[3]
            }
        })
        .collect()
}

/// A value written as the axis writes it, with at most 1 decimal place: `Count` with k, M, G,
/// T, P, E for powers of 1000 ("12", "0.5", "1.5k", "2M"), `Bytes` with B, KiB, MiB... YiB
/// for powers of 1024 ("0 B", "512 KiB", "1.5 MiB"); beyond the largest suffix, in
/// scientific notation ("1e30"). A non-finite value is "n/a".
pub fn format_value(v: f64, unit: Unit) -> String {
    if !v.is_finite() {
        return "n/a".to_string();
    }
    let (base, suffixes): (f64, &[&str]) = match unit {
        Unit::Count => (1000.0, &["", "k", "M", "G", "T", "P", "E"]),
        Unit::Bytes => (
            1024.0,
            &[
                " B", " KiB", " MiB", " GiB", " TiB", " PiB", " EiB", " ZiB", " YiB",
            ],
        ),
    };
    let sign = if v < 0.0 { "-" } else { "" };
    let a = v.abs();
    let mut k = 0;
    let mut scale = 1.0;
    while k + 1 < suffixes.len() && a >= scale * base {
        k += 1;
        scale *= base;
    }
    let mut r = round1(a / scale);
    // 999.96 rounds to 1000: write it as 1k.
    if r >= base && k + 1 < suffixes.len() {
        k += 1;
        scale *= base;
        r = round1(a / scale);
    }
    if r == 0.0 {
        return format!("0{}", suffixes[0]);
    }
    if r >= 10_000.0 {
        let sci = format!("{a:.1e}").replace(".0e", "e");
        return format!("{sign}{sci}{}", suffixes[0]);
    }
    format!("{sign}{}{}", trim_zero(format!("{r:.1}")), suffixes[k])
}

/// A series ready to draw.
struct Line<'a> {
    name: &'a str,
    color: &'static str,
    /// Finite values within the time range, as (milliseconds since the epoch, value), sorted.
    points: Vec<(i64, f64)>,
}

/// The y axis: from `bottom` to `top` in `intervals` steps of `step`.
struct YScale {
    bottom: f64,
    top: f64,
    step: f64,
    intervals: usize,
}

/// The time range in milliseconds since the epoch, in order and at least MIN_SPAN_MS long.
fn time_range(from: DateTime<Utc>, to: DateTime<Utc>) -> (i64, i64) {
    let (a, b) = (from.timestamp_millis(), to.timestamp_millis());
    let (a, b) = if a <= b { (a, b) } else { (b, a) };
    if b - a >= MIN_SPAN_MS {
        return (a, b);
    }
    let middle = a + (b - a) / 2;
    (middle - MIN_SPAN_MS / 2, middle + MIN_SPAN_MS / 2)
}

/// The finite points of `series` within [from_ms, to_ms], in time order.
fn drawable_points(series: &Series, from_ms: i64, to_ms: i64) -> Vec<(i64, f64)> {
    let mut points: Vec<(i64, f64)> = series
        .points
        .iter()
        .map(|(t, v)| (t.timestamp_millis(), *v))
        .filter(|&(t, v)| v.is_finite() && t >= from_ms && t <= to_ms)
        .collect();
    points.sort_by_key(|&(t, _)| t);
    points
}

/// The y axis for values from `min` (≤ 0) to `max` (≥ 0).
fn y_scale(min: f64, max: f64, unit: Unit) -> YScale {
    let span = (max - min).max(1.0);
    let (nice, intervals) = nice_top(span, unit);
    let step = nice / intervals as f64;
    if min >= 0.0 {
        return YScale {
            bottom: 0.0,
            top: nice,
            step,
            intervals,
        };
    }
    let bottom = (min / step).floor() * step;
    let top = (max / step).ceil() * step;
    let intervals = (((top - bottom) / step).round() as usize).clamp(1, 8);
    YScale {
        bottom,
        top: bottom + step * intervals as f64,
        step,
        intervals,
    }
}

/// The nice number (1, 2, 2.5 or 5 times a power of ten; for bytes, times a power of 1024 too)
/// at or above `span` (1 to 2e300), and how many gridline intervals divide it into values
/// written with at most 1 decimal place.
fn nice_top(span: f64, unit: Unit) -> (f64, usize) {
    let mut scale = 1.0;
    let mut k = 0;
    if unit == Unit::Bytes {
        while k < 8 && span >= scale * 1024.0 {
            scale *= 1024.0;
            k += 1;
        }
    }
    let x = span / scale;
    let mut power = 10f64.powi(x.log10().floor() as i32);
    let m = x / power;
    let mut mult = [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .find(|&c| m <= c * (1.0 + 1e-12))
        .unwrap_or(10.0);
    if mult == 10.0 {
        mult = 1.0;
        power *= 10.0;
    }
    let top = mult * power;
    if unit == Unit::Bytes && k < 8 && top > 512.0 {
        // 1000 KiB is better drawn as 1 MiB, in quarters of 256 KiB.
        return (scale * 1024.0, 4);
    }
    let intervals = if mult == 1.0 {
        // A quarter of 1 would need 2 decimal places: use fifths.
        if top == 1.0 && scale == 1.0 {
            5
        } else {
            4
        }
    } else if mult == 2.0 {
        4
    } else {
        5
    };
    (top * scale, intervals)
}

/// Ticks at round times within [from_ms, to_ms], with their labels: the interval whose tick
/// count is nearest to 4..=6 (the smaller interval on a tie).
fn time_ticks(from_ms: i64, to_ms: i64) -> Vec<(i64, String)> {
    let span = to_ms - from_ms;
    let short = span < 2 * DAY_MS;
    let mut intervals: Vec<i64> = if short {
        [1, 2, 3, 5, 10, 15, 20, 30]
            .iter()
            .map(|m| m * MINUTE_MS)
            .chain([1, 2, 3, 4, 6, 8, 12].iter().map(|h| h * HOUR_MS))
            .chain([DAY_MS])
            .collect()
    } else {
        [
            1, 2, 3, 4, 5, 7, 10, 14, 20, 30, 45, 60, 90, 120, 180, 240, 365,
        ]
        .iter()
        .map(|d| d * DAY_MS)
        .collect()
    };
    while let Some(&last) = intervals.last() {
        if last > span {
            break;
        }
        intervals.push(last * 2);
    }
    let count = |interval: i64| {
        let first = from_ms.div_euclid(interval) * interval;
        let first = if first < from_ms {
            first + interval
        } else {
            first
        };
        if first > to_ms {
            0
        } else {
            (to_ms - first) / interval + 1
        }
    };
    let distance = |n: i64| {
        if n < 4 {
            4 - n
        } else if n > 6 {
            n - 6
        } else {
            0
        }
    };
    let mut best = (i64::MAX, DAY_MS);
    for interval in intervals {
        let d = distance(count(interval));
        if d < best.0 {
            best = (d, interval);
        }
    }
    let interval = best.1;
    let format = if short { "%H:%M" } else { "%m-%d" };
    let first = from_ms.div_euclid(interval) * interval;
    let first = if first < from_ms {
        first + interval
    } else {
        first
    };
    let mut ticks = Vec::new();
    let mut t = first;
    while t <= to_ms && ticks.len() < 12 {
        if let Some(time) = DateTime::from_timestamp_millis(t) {
            ticks.push((t, time.format(format).to_string()));
        }
        t += interval;
    }
    ticks
}

/// The start of the document: the `<svg>` element, a white background and the title.
fn header(title: &str, height: f64) -> String {
    let h = num(height);
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"640\" height=\"{h}\" \
         viewBox=\"0 0 640 {h}\" font-family=\"sans-serif\" font-size=\"11\">\
         <title>{}</title><rect width=\"640\" height=\"{h}\" fill=\"#fff\"/>\
         <text x=\"8\" y=\"18\" font-size=\"13\" font-weight=\"bold\">{}</text>",
        escape(title),
        escape(&truncate(title, TITLE_CHARS))
    )
}

/// The chart with nothing to draw: the title, a frame and "no samples yet".
fn empty_chart(title: &str) -> String {
    let mut out = header(title, MIN_HEIGHT);
    let _ = write!(
        out,
        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#ccc\"/>\
         <text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#777\">no samples yet</text></svg>",
        num(PLOT_LEFT),
        num(PLOT_TOP),
        num(PLOT_RIGHT - PLOT_LEFT),
        num(PLOT_BOTTOM - PLOT_TOP),
        num((PLOT_LEFT + PLOT_RIGHT) / 2.0),
        num((PLOT_TOP + PLOT_BOTTOM) / 2.0)
    );
    out
}

/// `v` within ±MAX_MAGNITUDE.
fn clamp(v: f64) -> f64 {
    v.clamp(-MAX_MAGNITUDE, MAX_MAGNITUDE)
}

/// `v` rounded to 1 decimal place.
fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// A coordinate with at most 1 decimal place: "12", "12.5", never "-0".
fn num(v: f64) -> String {
    let r = round1(v);
    if r == 0.0 || !r.is_finite() {
        return "0".to_string();
    }
    trim_zero(format!("{r:.1}"))
}

/// "12.0" as "12".
fn trim_zero(s: String) -> String {
    match s.strip_suffix(".0") {
        Some(t) => t.to_string(),
        None => s,
    }
}

/// At most `max` characters of `s`, ending with "…" when cut.
fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
    t.push('…');
    t
}

/// `s` as XML text or attribute value: the five special characters escaped, and the
/// characters XML forbids (control characters, U+FFFE, U+FFFF) replaced by U+FFFD.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 5, 1, h, m, 0)
            .single()
            .expect("valid time")
    }

    fn series(name: &str, points: &[(DateTime<Utc>, f64)]) -> Series {
        Series {
            name: name.to_string(),
            points: points.to_vec(),
        }
    }

    /// Panics unless `doc` is one well-formed `<svg>` element: every tag closed in order or
    /// self-closing, every `&` an entity, no `<` or `>` outside tags.
    fn assert_well_formed(doc: &str) {
        assert!(
            doc.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""),
            "{doc}"
        );
        assert!(doc.ends_with("</svg>"), "{doc}");
        let mut stack: Vec<String> = Vec::new();
        let mut rest = doc;
        let mut roots = 0;
        while let Some(open) = rest.find('<') {
            let text = &rest[..open];
            assert!(!text.contains('>'), "stray > in {text:?}");
            assert!(
                !stack.is_empty() || text.is_empty(),
                "text outside the root: {text:?}"
            );
            check_entities(text);
            let close = rest[open..].find('>').expect("unclosed tag") + open;
            let tag = &rest[open + 1..close];
            assert!(!tag.contains('<'), "< inside tag {tag:?}");
            if let Some(name) = tag.strip_prefix('/') {
                assert_eq!(stack.pop().as_deref(), Some(name), "mismatched </{name}>");
            } else {
                let self_closing = tag.ends_with('/');
                let name: String = tag
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric())
                    .collect();
                assert!(!name.is_empty(), "tag without a name: {tag:?}");
                assert_eq!(
                    tag.matches('"').count() % 2,
                    0,
                    "unbalanced quotes: {tag:?}"
                );
                check_entities(tag);
                if stack.is_empty() {
                    roots += 1;
                }
                if !self_closing {
                    stack.push(name);
                }
            }
            rest = &rest[close + 1..];
        }
        assert!(rest.is_empty(), "text after the root: {rest:?}");
        assert!(stack.is_empty(), "unclosed: {stack:?}");
        assert_eq!(roots, 1);
    }

    fn check_entities(s: &str) {
        for (i, _) in s.match_indices('&') {
            let tail = &s[i..];
            assert!(
                ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"]
                    .iter()
                    .any(|e| tail.starts_with(e)),
                "bare & in {s:?}"
            );
        }
    }

    /// Panics if a number in `doc` has more than 1 decimal place.
    fn assert_one_decimal(doc: &str) {
        let b = doc.as_bytes();
        for i in 1..b.len().saturating_sub(2) {
            if b[i] == b'.' && b[i - 1].is_ascii_digit() && b[i + 1].is_ascii_digit() {
                assert!(
                    !b[i + 2].is_ascii_digit(),
                    "more than 1 decimal near {:?}",
                    &doc[i.saturating_sub(10)..(i + 10).min(doc.len())]
                );
            }
        }
    }

    #[test]
    fn format_value_counts() {
        assert_eq!(format_value(0.0, Unit::Count), "0");
        assert_eq!(format_value(12.0, Unit::Count), "12");
        assert_eq!(format_value(0.5, Unit::Count), "0.5");
        assert_eq!(format_value(12.34, Unit::Count), "12.3");
        assert_eq!(format_value(250.0, Unit::Count), "250");
        assert_eq!(format_value(1500.0, Unit::Count), "1.5k");
        assert_eq!(format_value(2_000_000.0, Unit::Count), "2M");
        assert_eq!(format_value(999.96, Unit::Count), "1k");
        assert_eq!(format_value(-1500.0, Unit::Count), "-1.5k");
        assert_eq!(format_value(-0.01, Unit::Count), "0");
        assert_eq!(format_value(3e9, Unit::Count), "3G");
        assert_eq!(format_value(1e30, Unit::Count), "1e30");
        assert_eq!(format_value(f64::NAN, Unit::Count), "n/a");
        assert_eq!(format_value(f64::INFINITY, Unit::Count), "n/a");
        assert_eq!(format_value(f64::MAX, Unit::Count), "1.8e308");
    }

    #[test]
    fn format_value_bytes() {
        assert_eq!(format_value(0.0, Unit::Bytes), "0 B");
        assert_eq!(format_value(100.0, Unit::Bytes), "100 B");
        assert_eq!(format_value(1536.0, Unit::Bytes), "1.5 KiB");
        assert_eq!(format_value(512.0 * 1024.0, Unit::Bytes), "512 KiB");
        assert_eq!(format_value(1.5 * 1024.0 * 1024.0, Unit::Bytes), "1.5 MiB");
        assert_eq!(format_value(3.0 * 1024f64.powi(3), Unit::Bytes), "3 GiB");
        assert_eq!(format_value(1023.99, Unit::Bytes), "1 KiB");
        assert_eq!(format_value(-2048.0, Unit::Bytes), "-2 KiB");
        assert_eq!(format_value(1e300, Unit::Bytes), "1e300 B");
    }

    #[test]
    fn sparkline_cases() {
        assert_eq!(sparkline(&[], 10), "");
        assert_eq!(sparkline(&[1.0, 2.0], 0), "");
        assert_eq!(sparkline(&[f64::NAN, f64::INFINITY], 10), "");
        assert_eq!(sparkline(&[5.0, 5.0, 5.0], 10), "▄▄▄");
        assert_eq!(sparkline(&[7.0], 10), "▄");
        let ascending: Vec<f64> = (0..8).map(f64::from).collect();
        assert_eq!(sparkline(&ascending, 8), "▁▂▃▄▅▆▇█");
        assert_eq!(sparkline(&[7.0, 0.0, f64::NAN, 3.0], 10), "█▁▄");
        assert_eq!(sparkline(&[-1e308, 1e308], 10), "▁█");
    }

    #[test]
    fn sparkline_buckets_to_width() {
        // 16 ascending values into 8 buckets of 2: averages 0.5, 2.5, ... 14.5.
        let values: Vec<f64> = (0..16).map(f64::from).collect();
        assert_eq!(sparkline(&values, 8), "▁▂▃▄▅▆▇█");
        // 1000 values into 7 buckets: never more than 7 characters.
        let values: Vec<f64> = (0..1000).map(|i| f64::from(i % 13)).collect();
        assert_eq!(sparkline(&values, 7).chars().count(), 7);
        // A spike is averaged with its bucket.
        assert_eq!(sparkline(&[0.0, 0.0, 0.0, 8.0, 0.0, 0.0], 3), "▁█▁");
    }

    #[test]
    fn svg_draws_each_series() {
        let a = series(
            "delivered",
            &[(at(0, 0), 10.0), (at(6, 0), 250.0), (at(12, 0), 1200.0)],
        );
        let b = series("bounced", &[(at(1, 0), 3.0), (at(11, 30), 7.0)]);
        let c = series("deferred", &[]);
        let doc = svg(
            "Mail <today> & \"more\" 'x'",
            Unit::Count,
            at(0, 0),
            at(12, 0),
            &[a, b, c],
        );
        assert_well_formed(&doc);
        assert_one_decimal(&doc);
        assert!(doc.contains("Mail &lt;today&gt; &amp; &quot;more&quot; &apos;x&apos;"));
        assert_eq!(doc.matches("<polyline").count(), 2);
        assert!(doc.contains("delivered: 1.2k"), "{doc}");
        assert!(doc.contains("bounced: 7"));
        assert!(doc.contains("deferred: no data"));
        // Nice maximum 2k in steps of 500, times every 2 or 3 hours.
        for label in [
            ">0<", ">500<", ">1k<", ">1.5k<", ">2k<", ">00:00<", ">12:00<",
        ] {
            assert!(doc.contains(label), "{label} missing from {doc}");
        }
        assert!(!doc.contains("no samples yet"));
    }

    #[test]
    fn svg_bytes_axis_and_days() {
        let mib = 1024.0 * 1024.0;
        let from = Utc
            .with_ymd_and_hms(2024, 5, 1, 0, 0, 0)
            .single()
            .expect("valid");
        let to = Utc
            .with_ymd_and_hms(2024, 5, 8, 0, 0, 0)
            .single()
            .expect("valid");
        let s = series("store", &[(from, 0.5 * mib), (to, 1.5 * mib)]);
        let doc = svg("Store", Unit::Bytes, from, to, &[s]);
        assert_well_formed(&doc);
        assert_one_decimal(&doc);
        for label in [
            ">0 B<",
            ">512 KiB<",
            ">1 MiB<",
            ">1.5 MiB<",
            ">2 MiB<",
            "store: 1.5 MiB",
        ] {
            assert!(doc.contains(label), "{label} missing from {doc}");
        }
        assert!(doc.contains(">05-02<") || doc.contains(">05-03<"), "{doc}");
        assert!(!doc.contains(":00<"), "{doc}");
    }

    #[test]
    fn svg_negative_values_and_palette_cycles() {
        let all: Vec<Series> = (0..10)
            .map(|i| {
                series(
                    &format!("s{i}"),
                    &[(at(0, 0), -5.0 * f64::from(i)), (at(1, 0), 3.0)],
                )
            })
            .collect();
        let doc = svg("t", Unit::Count, at(0, 0), at(1, 0), &all);
        assert_well_formed(&doc);
        assert_eq!(doc.matches("<polyline").count(), 10);
        assert_eq!(
            doc.matches(PALETTE[0]).count(),
            2 * 2,
            "swatch and line, twice"
        );
        assert!(doc.contains(">-45<") || doc.contains(">-50<"), "{doc}");
    }

    #[test]
    fn svg_without_samples() {
        for series_list in [
            vec![],
            vec![series("a", &[]), series("b", &[(at(1, 0), f64::NAN)])],
        ] {
            let doc = svg("Queues", Unit::Count, at(0, 0), at(12, 0), &series_list);
            assert_well_formed(&doc);
            assert!(doc.contains("no samples yet"));
            assert!(doc.contains("Queues"));
            assert_eq!(doc.matches("<polyline").count(), 0);
        }
    }

    #[test]
    fn svg_degenerate_ranges() {
        // from == to, one point, all values equal.
        let s = series("one", &[(at(3, 0), 42.0)]);
        let doc = svg("x", Unit::Count, at(3, 0), at(3, 0), &[s]);
        assert_well_formed(&doc);
        assert_eq!(doc.matches("<polyline").count(), 1);
        assert!(doc.contains("<circle"));
        // Reversed range, all values zero.
        let s = series("zero", &[(at(1, 0), 0.0), (at(2, 0), 0.0)]);
        let doc = svg("x", Unit::Bytes, at(3, 0), at(0, 0), &[s]);
        assert_well_formed(&doc);
        assert_one_decimal(&doc);
        assert_eq!(doc.matches("<polyline").count(), 1);
        // Extreme times and values.
        let s = series(
            "far",
            &[
                (DateTime::<Utc>::MIN_UTC, f64::MAX),
                (DateTime::<Utc>::MAX_UTC, -f64::MAX),
            ],
        );
        let doc = svg(
            "x",
            Unit::Count,
            DateTime::<Utc>::MIN_UTC,
            DateTime::<Utc>::MAX_UTC,
            &[s],
        );
        assert_well_formed(&doc);
        assert_one_decimal(&doc);
    }

    #[test]
    fn svg_random_inputs() {
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move || {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            seed >> 33
        };
        let base = at(0, 0).timestamp();
        for round in 0..400 {
            let from = base + (next() % 200_000) as i64 - 100_000;
            let to = match next() % 4 {
                0 => from,
                1 => from - (next() % 10_000) as i64,
                _ => from + (next() % 2_000_000) as i64,
            };
            let time = |s: i64| DateTime::from_timestamp(s, 0).expect("in range");
            let mut list = Vec::new();
            for i in 0..next() % 5 {
                let mut points = Vec::new();
                for _ in 0..next() % 40 {
                    let t = match next() % 5 {
                        0 => from,
                        1 => to,
                        _ => from.min(to) + (next() % 2_200_000) as i64 - 100_000,
                    };
                    let v = match next() % 12 {
                        0 => f64::NAN,
                        1 => f64::INFINITY,
                        2 => f64::NEG_INFINITY,
                        3 => -(next() as f64),
                        4 => f64::MAX,
                        5 => 0.0,
                        6 => 1e-300,
                        7 => (next() as f64) * 1e12,
                        _ => (next() % 5000) as f64 / 7.0,
                    };
                    points.push((time(t), v));
                }
                list.push(Series {
                    name: format!("series <{i}> & 'q'"),
                    points,
                });
            }
            let unit = if round % 2 == 0 {
                Unit::Count
            } else {
                Unit::Bytes
            };
            let doc = svg("random & <test>", unit, time(from), time(to), &list);
            assert_well_formed(&doc);
            assert_one_decimal(&doc);
            let values: Vec<f64> = list
                .iter()
                .flat_map(|s| s.points.iter().map(|p| p.1))
                .collect();
            let width = (next() % 20) as usize;
            assert!(sparkline(&values, width).chars().count() <= width);
        }
    }
}
