//! Charts for the dashboards and repository reports, rendered at build time as inline SVG.
//!
//! The site works offline and without JavaScript, so every chart is an `<svg>` element drawn
//! by plotters' SVG backend and inserted into the page as is, with the same numbers in a
//! [`Table`] beside it for screen readers. The functions here are pure (a spec in, a [`Chart`]
//! out, the same bytes for the same input): the page code gathers the numbers, this module
//! only draws them.
//!
//! - **Colours.** Plotters draws with sentinel RGB values that are rewritten in the SVG text to
//!   the light colour plus a class (`chart-fill-1`, `chart-stroke-axis`, …) through which the
//!   theme's [`CHART_CSS`] applies `var(--chart-1)` etc., light or dark. A page without that
//!   CSS, or a renderer without custom properties, still gets the light palette.
//! - **Text.** Plotters is built without a font backend (no `ttf`, no `ab_glyph`): text becomes
//!   SVG `<text>` that the browser draws in the page's font, so no font file is embedded and
//!   nothing links fontconfig or freetype. Where layout needs a width (thinning crowded axis
//!   labels, wrapping the legend and radar labels) it is estimated, CJK characters as wide.
//! - **Untrusted text.** Titles, labels and series names may come from repositories (tag and
//!   repository names). Plotters escapes what it draws; the `<title>`, `<desc>` and id added
//!   around it are escaped or sanitised, and control characters are dropped everywhere.
//!
//! This file turns data into tables and marks; `charts/draw.rs` lays them out and writes the SVG.

mod draw;

use draw::{series_legend, Axes, Frame, LegendItem, Mark, Paint};
use serde::Serialize;

/// The palette as CSS custom properties, light by default and dark under
/// `prefers-color-scheme: dark`, and the rules that apply them to the charts' classes. The
/// series hues follow the Okabe–Ito colour-blind-safe order, darkened for at least 3:1
/// contrast on the light background and lightened for the dark one. The SVG itself carries
/// the light values, which these rules override.
pub const CHART_CSS: &str = r#"/* Charts (src/site/charts.rs): palette for light and dark mode. */
:root {
  --chart-1: #0b5cd5; --chart-2: #c4480a; --chart-3: #0f7b5c;
  --chart-4: #a3459a; --chart-5: #9a6700; --chart-6: #2a7fb8;
  --chart-axis: #59636e; --chart-grid: #d1d9e0; --chart-text: #1f2328;
}
@media (prefers-color-scheme: dark) {
  :root {
    --chart-1: #4493f8; --chart-2: #f0883e; --chart-3: #3fb950;
    --chart-4: #d2a8ff; --chart-5: #e3b341; --chart-6: #79c0ff;
    --chart-axis: #9198a1; --chart-grid: #3d444d; --chart-text: #e6edf3;
  }
}
svg.chart { display: block; width: 100%; height: auto; }
svg.chart text { font-family: var(--font, system-ui, sans-serif); }
svg.chart .chart-fill-1 { fill: var(--chart-1); } svg.chart .chart-stroke-1 { stroke: var(--chart-1); }
svg.chart .chart-fill-2 { fill: var(--chart-2); } svg.chart .chart-stroke-2 { stroke: var(--chart-2); }
svg.chart .chart-fill-3 { fill: var(--chart-3); } svg.chart .chart-stroke-3 { stroke: var(--chart-3); }
svg.chart .chart-fill-4 { fill: var(--chart-4); } svg.chart .chart-stroke-4 { stroke: var(--chart-4); }
svg.chart .chart-fill-5 { fill: var(--chart-5); } svg.chart .chart-stroke-5 { stroke: var(--chart-5); }
svg.chart .chart-fill-6 { fill: var(--chart-6); } svg.chart .chart-stroke-6 { stroke: var(--chart-6); }
svg.chart .chart-fill-axis { fill: var(--chart-axis); } svg.chart .chart-stroke-axis { stroke: var(--chart-axis); }
svg.chart .chart-fill-grid { fill: var(--chart-grid); } svg.chart .chart-stroke-grid { stroke: var(--chart-grid); }
svg.chart .chart-fill-text { fill: var(--chart-text); } svg.chart .chart-stroke-text { stroke: var(--chart-text); }
"#;

/// The numbers of a chart, for an HTML table beside it. Cells are plain text (the templates
/// escape them); a missing value is `–`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Table {
    pub caption: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// A rendered chart: `svg` is one complete `<svg …>…</svg>` element, safe to insert unescaped.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Chart {
    pub svg: String,
    pub table: Table,
}

/// What the values measure; decides axis ranges, tick labels, table cells and unit suffixes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Unit {
    /// Counts or rates of counts (deployments per week): `3`, `2.5`, `0.08` (at most two
    /// decimals).
    #[default]
    Count,
    /// Hours, one decimal: `12.5`; headers and the y axis get ` (h)`.
    Hours,
    /// A share from 0.0 to 1.0, as `change_failure_rate` and `line_rate` are stored, shown as a
    /// percentage with one decimal: `0.125` → `12.5%`.
    Ratio,
    /// Maturity levels 0–5 (the axis spans 0–5): `3`, or `2.5` for an average.
    Level,
}

impl Unit {
    fn suffix(self) -> &'static str {
        match self {
            Unit::Hours => " (h)",
            Unit::Ratio => " (%)",
            Unit::Count | Unit::Level => "",
        }
    }

    /// A table cell.
    fn cell(self, value: Option<f64>) -> String {
        let Some(v) = finite(value) else {
            return MISSING.to_string();
        };
        match self {
            Unit::Hours => decimals(v, 1),
            Unit::Ratio => format!("{}%", decimals(v * 100.0, 1)),
            Unit::Count | Unit::Level => short(v),
        }
    }

    /// An axis tick, with as many decimals as the tick step needs.
    fn tick(self, v: f64, step: f64) -> String {
        match self {
            Unit::Ratio => format!("{}%", decimals(v * 100.0, step_decimals(step * 100.0))),
            _ => decimals(v, step_decimals(step)),
        }
    }
}

/// One named row of values, aligned with the chart's categories. `None`, NaN and infinities
/// are missing values: gaps in lines, no bar, `–` in the table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Series {
    pub name: String,
    pub values: Vec<Option<f64>>,
}

impl Series {
    /// A series without gaps (non-finite values still become gaps).
    pub fn new(name: impl Into<String>, values: impl IntoIterator<Item = f64>) -> Self {
        let values = values.into_iter().map(|v| finite(Some(v))).collect();
        Series {
            name: name.into(),
            values,
        }
    }

    fn at(&self, i: usize) -> Option<f64> {
        finite(self.values.get(i).copied().flatten())
    }
}

/// A shaded range around a line chart's first series, e.g. `low` = median, `high` = p90.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Band {
    pub low: Series,
    pub high: Series,
}

/// Bars over categories (e.g. ISO weeks), one bar per series in each category, side by side,
/// or stacked when `stacked`. With several series a legend is drawn.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BarSpec {
    /// Unique on the page; used for the SVG's ids. Characters outside `[A-Za-z0-9_-]` are
    /// replaced.
    pub id: String,
    pub title: String,
    /// Becomes the SVG's `<desc>`: say what the chart shows and its main finding.
    pub description: String,
    pub x_label: String,
    /// The y axis label; the unit's suffix (` (h)`, ` (%)`) is appended.
    pub y_label: String,
    pub unit: Unit,
    pub categories: Vec<String>,
    pub series: Vec<Series>,
    pub stacked: bool,
    /// Shown instead of a chart when there is nothing to draw; empty means `No data`.
    pub no_data: String,
}

/// Lines over evenly spaced x labels (weeks, months, history dates), with an optional band.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LineSpec {
    pub id: String,
    pub title: String,
    pub description: String,
    pub x_label: String,
    pub y_label: String,
    pub unit: Unit,
    pub x: Vec<String>,
    pub series: Vec<Series>,
    pub band: Option<Band>,
    pub no_data: String,
}

/// One histogram bucket: values from the previous bucket's `upper` (inclusive) to this
/// `upper` (exclusive). The last bucket's `upper` is usually infinity.
#[derive(Debug, Clone, PartialEq)]
pub struct Bucket {
    pub label: String,
    pub upper: f64,
}

/// Counts of values per bucket, drawn as bars with one bar per bucket.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HistogramSpec {
    pub id: String,
    pub title: String,
    pub description: String,
    pub x_label: String,
    pub y_label: String,
    /// The raw values; negative and non-finite ones are not counted.
    pub values: Vec<f64>,
    /// Ascending (the reports' lead-time buckets are `reports::LEAD_TIME_BUCKETS`).
    pub buckets: Vec<Bucket>,
    pub no_data: String,
}

/// Values on spokes around a centre (maturity levels per area), one polygon per series.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RadarSpec {
    pub id: String,
    pub title: String,
    pub description: String,
    /// The table's first header, e.g. `Area`.
    pub axis_label: String,
    /// One spoke each, clockwise from the top.
    pub axes: Vec<String>,
    pub series: Vec<Series>,
    pub unit: Unit,
    /// The value at the outer ring (5.0 for levels); 0 or less means the data's maximum.
    pub max: f64,
    /// What a missing value means (e.g. `not measured`): its table cell, and beside the
    /// label of a spoke where no series has a value. Empty: `–` in the table, and nothing.
    /// Such a spoke is drawn, but no point on it: the outline breaks there instead of
    /// passing through a made-up value, and the shape is filled only when it is whole.
    pub missing: String,
    pub no_data: String,
}

/// Values beyond this are treated as missing: no real metric gets there, and it keeps the
/// axis arithmetic finite.
const LIMIT: f64 = 1e12;
/// With more points than this, lines get markers only where a point stands alone.
const MARKER_LIMIT: usize = 30;
const MISSING: &str = "–";

/// Draws bars; see [`BarSpec`].
pub fn bar_chart(spec: &BarSpec) -> Chart {
    let frame = Frame::new(&spec.id, &spec.title, &spec.description, &spec.no_data);
    let columns: Vec<&Series> = spec.series.iter().collect();
    let table = data_table(&frame, &spec.x_label, &spec.categories, &columns, spec.unit);
    let n = spec.categories.len();
    if !has_values(&columns, n) {
        return frame.empty(table);
    }
    let k = spec.series.len();
    let mut marks = Vec::new();
    let mut range = (0.0f64, 0.0f64);
    for i in 0..n {
        let x = i as f64;
        // Stacks grow up from 0 for positive values and down for negative ones.
        let (mut up, mut down) = (0.0, 0.0);
        for (s, series) in spec.series.iter().enumerate() {
            let Some(v) = series.at(i) else { continue };
            let paint = Paint::Series(s);
            if spec.stacked {
                let base = if v >= 0.0 { &mut up } else { &mut down };
                let (x, y) = ((x - 0.35, x + 0.35), (*base, *base + v));
                marks.push(Mark::Bar { x, y, paint });
                *base += v;
            } else {
                let width = 0.8 / k as f64;
                let x0 = x - 0.4 + s as f64 * width;
                let (x, y) = ((x0, x0 + width * 0.9), (0.0, v));
                marks.push(Mark::Bar { x, y, paint });
                range = (range.0.min(v), range.1.max(v));
            }
        }
        range = (range.0.min(down), range.1.max(up));
    }
    let legend = if k > 1 {
        series_legend(&spec.series)
    } else {
        Vec::new()
    };
    let axes = Axes {
        categories: &spec.categories,
        x_label: &spec.x_label,
        y_label: &spec.y_label,
        unit: spec.unit,
        range,
    };
    frame.cartesian(table, &axes, &marks, &legend)
}

/// Draws lines with an optional band behind the first; see [`LineSpec`].
pub fn line_chart(spec: &LineSpec) -> Chart {
    let frame = Frame::new(&spec.id, &spec.title, &spec.description, &spec.no_data);
    // The table lists the band's bounds after the series, except a bound that is one of the
    // series (a band from the median up to p90 adds only p90).
    let mut columns: Vec<&Series> = spec.series.iter().collect();
    for bound in spec.band.iter().flat_map(|b| [&b.low, &b.high]) {
        if !columns.contains(&bound) {
            columns.push(bound);
        }
    }
    let table = data_table(&frame, &spec.x_label, &spec.x, &columns, spec.unit);
    let n = spec.x.len();
    if !has_values(&columns, n) {
        return frame.empty(table);
    }
    let mut marks = Vec::new();
    let mut legend = series_legend(&spec.series);
    if let Some(band) = &spec.band {
        let paint = Paint::Series(0);
        for run in runs(n, |i| Some((band.low.at(i)?, band.high.at(i)?))) {
            let points = if let [(i, (low, high))] = run[..] {
                // A lone point gets a narrow bar, so that it shows.
                let (left, right) = (i as f64 - 0.1, i as f64 + 0.1);
                vec![(left, low), (right, low), (right, high), (left, high)]
            } else {
                let upper = run.iter().map(|&(i, (_, high))| (i as f64, high));
                let lower = run.iter().rev().map(|&(i, (low, _))| (i as f64, low));
                upper.chain(lower).collect()
            };
            marks.push(Mark::Area { points, paint });
        }
        let name = format!("{}–{}", band.low.name, band.high.name);
        legend.push(LegendItem {
            name,
            paint,
            shaded: true,
        });
    }
    for (s, series) in spec.series.iter().enumerate() {
        let paint = Paint::Series(s);
        for run in runs(n, |i| series.at(i)) {
            let points: Vec<(f64, f64)> = run.iter().map(|&(i, v)| (i as f64, v)).collect();
            if points.len() > 1 {
                let points = points.clone();
                marks.push(Mark::Line { points, paint });
            }
            if points.len() == 1 || n <= MARKER_LIMIT {
                marks.extend(points.into_iter().map(|at| Mark::Dot { at, paint }));
            }
        }
    }
    if legend.len() < 2 {
        legend.clear();
    }
    let axes = Axes {
        categories: &spec.x,
        x_label: &spec.x_label,
        y_label: &spec.y_label,
        unit: spec.unit,
        range: value_range(&columns, n),
    };
    frame.cartesian(table, &axes, &marks, &legend)
}

/// Counts values into buckets and draws them as bars; see [`HistogramSpec`].
pub fn histogram(spec: &HistogramSpec) -> Chart {
    let mut counts = vec![0usize; spec.buckets.len()];
    for &v in spec.values.iter().filter(|v| v.is_finite() && **v >= 0.0) {
        if let Some(b) = spec.buckets.iter().position(|b| v < b.upper) {
            counts[b] += 1;
        }
    }
    // Nothing counted is no data, not a row of zeros.
    let any = counts.iter().any(|&c| c > 0);
    let values = counts.iter().map(|&c| any.then_some(c as f64)).collect();
    bar_chart(&BarSpec {
        id: spec.id.clone(),
        title: spec.title.clone(),
        description: spec.description.clone(),
        x_label: spec.x_label.clone(),
        y_label: spec.y_label.clone(),
        unit: Unit::Count,
        categories: spec.buckets.iter().map(|b| b.label.clone()).collect(),
        series: vec![Series {
            name: spec.y_label.clone(),
            values,
        }],
        stacked: false,
        no_data: spec.no_data.clone(),
    })
}

/// Draws a radar: rings, spokes and one polygon per series; see [`RadarSpec`].
pub fn radar(spec: &RadarSpec) -> Chart {
    let frame = Frame::new(&spec.id, &spec.title, &spec.description, &spec.no_data);
    let columns: Vec<&Series> = spec.series.iter().collect();
    let mut table = data_table(&frame, &spec.axis_label, &spec.axes, &columns, spec.unit);
    if !spec.missing.is_empty() {
        for (i, row) in table.rows.iter_mut().enumerate() {
            for (cell, s) in row.iter_mut().skip(1).zip(&columns) {
                if s.at(i).is_none() {
                    cell.clone_from(&spec.missing);
                }
            }
        }
    }
    let n = spec.axes.len();
    if !has_values(&columns, n) {
        // Say which axes are missing rather than an empty table.
        let rows = std::mem::take(&mut table.rows);
        let mut chart = frame.empty(table);
        if !spec.missing.is_empty() {
            chart.table.rows = rows;
        }
        return chart;
    }
    let max = if spec.max.is_finite() && spec.max > 0.0 {
        spec.max
    } else {
        value_range(&columns, n).1
    };
    frame.radar(table, spec, max)
}

/// A row per label: the label, then each column's value in the unit's format.
fn data_table(
    frame: &Frame,
    first_header: &str,
    labels: &[String],
    columns: &[&Series],
    unit: Unit,
) -> Table {
    let mut headers = vec![first_header.to_string()];
    headers.extend(
        columns
            .iter()
            .map(|s| format!("{}{}", s.name, unit.suffix())),
    );
    let rows = labels
        .iter()
        .enumerate()
        .map(|(i, label)| {
            let cells = columns.iter().map(|s| unit.cell(s.at(i)));
            std::iter::once(label.clone()).chain(cells).collect()
        })
        .collect();
    frame.table(headers, rows)
}

/// Consecutive indices where `value` is present, with their values.
fn runs<T: Copy>(n: usize, value: impl Fn(usize) -> Option<T>) -> Vec<Vec<(usize, T)>> {
    let mut runs = Vec::new();
    let mut current = Vec::new();
    for i in 0..n {
        match value(i) {
            Some(v) => current.push((i, v)),
            None if !current.is_empty() => runs.push(std::mem::take(&mut current)),
            None => {}
        }
    }
    if !current.is_empty() {
        runs.push(current);
    }
    runs
}

fn has_values(columns: &[&Series], n: usize) -> bool {
    columns.iter().any(|s| (0..n).any(|i| s.at(i).is_some()))
}

/// The smallest and largest value of the first `n` in `columns`, with 0.
fn value_range(columns: &[&Series], n: usize) -> (f64, f64) {
    let values = columns.iter().flat_map(|s| (0..n).filter_map(|i| s.at(i)));
    values.fold((0.0, 0.0), |(lo, hi), v| (f64::min(lo, v), f64::max(hi, v)))
}

fn finite(value: Option<f64>) -> Option<f64> {
    value.filter(|v| v.is_finite() && v.abs() <= LIMIT)
}

/// `v` with `places` decimals, never `-0`.
fn decimals(v: f64, places: usize) -> String {
    let s = format!("{v:.places$}");
    match s.strip_prefix('-') {
        Some(rest) if rest.chars().all(|c| c == '0' || c == '.') => rest.to_string(),
        _ => s,
    }
}

/// `v` with at most two decimals, without trailing zeros: `3`, `2.5`, `0.08`.
fn short(v: f64) -> String {
    let s = decimals(v, 2);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The decimals a tick step needs: 0 for whole steps, 1 for 0.5, 2 for 0.25.
fn step_decimals(step: f64) -> usize {
    let exact = |d: &usize| {
        let scaled = step * 10f64.powi(*d as i32);
        (scaled - scaled.round()).abs() < 1e-6
    };
    (0..6).find(exact).unwrap_or(6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_follow_the_unit() {
        let cells = |unit: Unit, values: &[f64]| -> Vec<String> {
            values.iter().map(|v| unit.cell(Some(*v))).collect()
        };
        assert_eq!(
            cells(Unit::Count, &[3.0, 0.0, 2.5, 0.08, 1.0 / 3.0]),
            ["3", "0", "2.5", "0.08", "0.33"]
        );
        assert_eq!(
            cells(Unit::Hours, &[12.25, 0.0, -0.04, 5910.26]),
            ["12.2", "0.0", "0.0", "5910.3"]
        );
        assert_eq!(
            cells(Unit::Ratio, &[0.125, 1.0, 0.0]),
            ["12.5%", "100.0%", "0.0%"]
        );
        assert_eq!(cells(Unit::Level, &[3.0, 2.5]), ["3", "2.5"]);
        for unit in [Unit::Count, Unit::Hours, Unit::Ratio, Unit::Level] {
            assert_eq!(unit.cell(None), "–");
            assert_eq!(unit.cell(Some(f64::NAN)), "–");
            assert_eq!(unit.cell(Some(f64::NEG_INFINITY)), "–");
        }
    }

    #[test]
    fn runs_split_at_gaps() {
        let values = [Some(1), None, Some(2), Some(3), None];
        let runs = runs(values.len(), |i| values[i]);
        assert_eq!(runs, vec![vec![(0, 1)], vec![(2, 2), (3, 3)]]);
    }
}
