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
//!   labels, wrapping the legend, fitting radar labels) [`text_width`] estimates it, counting
//!   CJK characters as wide.
//! - **Untrusted text.** Titles, labels and series names may come from repositories (tag and
//!   repository names). Plotters escapes what it draws; the `<title>`, `<desc>` and ids added
//!   here are escaped or sanitised here, and control characters are dropped everywhere.

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde::Serialize;
use std::f64::consts::PI;

/// The palette as CSS custom properties, light by default and dark under
/// `prefers-color-scheme: dark`, and the rules that apply them to the charts' classes. The
/// series hues follow the Okabe–Ito colour-blind-safe order, darkened for at least 3:1
/// contrast on the light background and lightened for the dark one. The SVG itself carries
/// the light values (see [`theme_colours`]), which these rules override.
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
    /// Counts or rates of counts (deployments per week): `3`, or `2.5` when not whole.
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
            Unit::Count | Unit::Level if (v - v.round()).abs() < 1e-9 => decimals(v, 0),
            Unit::Count | Unit::Level => decimals(v, 1),
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
    /// Ascending; see [`lead_time_buckets`].
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
    pub no_data: String,
}

/// Lead-time buckets on a logarithmic scale: under an hour, a few hours, a day, a week, a
/// month, more. Labels use `h`/`d`, which read the same in every language of the site.
pub fn lead_time_buckets() -> Vec<Bucket> {
    [
        ("<1 h", 1.0),
        ("1–4 h", 4.0),
        ("4–24 h", 24.0),
        ("1–7 d", 168.0),
        ("7–30 d", 720.0),
        (">30 d", f64::INFINITY),
    ]
    .into_iter()
    .map(|(label, upper)| Bucket {
        label: label.to_string(),
        upper,
    })
    .collect()
}

const WIDTH: u32 = 640;
const HEIGHT: u32 = 320;
const RADAR_HEIGHT: u32 = 420;
const EMPTY_HEIGHT: u32 = 80;
/// Plotters divides font sizes by 1.24: these render as 10 px and 12 px.
const SMALL_FONT: f64 = 12.4;
const LABEL_FONT: f64 = 14.88;
const FONT: &str = "sans-serif";
const MISSING: &str = "–";
/// Values beyond this are treated as missing: no real metric gets there, and it keeps the
/// axis arithmetic finite.
const LIMIT: f64 = 1e12;
/// With more points than this, lines get markers only where a point stands alone.
const MARKER_LIMIT: usize = 30;
const Y_AXIS_WIDTH: u32 = 64;
const X_AXIS_HEIGHT: u32 = 44;

/// Draws bars; see [`BarSpec`].
pub fn bar_chart(spec: &BarSpec) -> Chart {
    let frame = Frame::new(&spec.id, &spec.title, &spec.description, &spec.no_data);
    let n = spec.categories.len();
    let mut headers = vec![spec.x_label.clone()];
    headers.extend(
        spec.series
            .iter()
            .map(|s| format!("{}{}", s.name, spec.unit.suffix())),
    );
    let rows = (0..n)
        .map(|i| {
            row(
                &spec.categories[i],
                spec.series.iter().map(|s| spec.unit.cell(s.at(i))),
            )
        })
        .collect();
    let table = frame.table(headers, rows);
    if !has_values(&spec.series, n) {
        return frame.empty(table);
    }

    let k = spec.series.len();
    let mut marks = Vec::new();
    let (mut lo, mut hi) = (0.0f64, 0.0f64);
    for i in 0..n {
        let (mut up, mut down) = (0.0, 0.0);
        for (s, series) in spec.series.iter().enumerate() {
            let Some(v) = series.at(i) else { continue };
            let paint = Paint::Series(s);
            let x = i as f64;
            if spec.stacked {
                let base = if v >= 0.0 { &mut up } else { &mut down };
                marks.push(Mark::Bar {
                    x: (x - 0.35, x + 0.35),
                    y: (*base, *base + v),
                    paint,
                });
                *base += v;
            } else {
                let w = 0.8 / k as f64;
                let x0 = x - 0.4 + s as f64 * w;
                marks.push(Mark::Bar {
                    x: (x0, x0 + w * 0.9),
                    y: (0.0, v),
                    paint,
                });
                (lo, hi) = (lo.min(v), hi.max(v));
            }
        }
        (lo, hi) = (lo.min(down), hi.max(up));
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
        scale: Scale::new(lo, hi, spec.unit),
    };
    frame.render(table, |svg| plot(svg, &axes, &marks, &legend))
}

/// Draws lines with an optional band; see [`LineSpec`].
pub fn line_chart(spec: &LineSpec) -> Chart {
    let frame = Frame::new(&spec.id, &spec.title, &spec.description, &spec.no_data);
    let n = spec.x.len();
    let band: Vec<&Series> = spec.band.iter().flat_map(|b| [&b.low, &b.high]).collect();
    let columns: Vec<&Series> = spec.series.iter().chain(band.iter().copied()).collect();
    let mut headers = vec![spec.x_label.clone()];
    headers.extend(
        columns
            .iter()
            .map(|s| format!("{}{}", s.name, spec.unit.suffix())),
    );
    let rows = (0..n)
        .map(|i| row(&spec.x[i], columns.iter().map(|s| spec.unit.cell(s.at(i)))))
        .collect();
    let table = frame.table(headers, rows);
    let all: Vec<Series> = columns.iter().map(|s| (*s).clone()).collect();
    if !has_values(&all, n) {
        return frame.empty(table);
    }

    let (lo, hi) = value_range(&all, n);
    let mut marks = Vec::new();
    let mut legend = Vec::new();
    if let Some(b) = &spec.band {
        let paint = Paint::Series(0);
        for run in runs(n, |i| Some((b.low.at(i)?, b.high.at(i)?))) {
            if let [(i, (l, h))] = run[..] {
                let x = i as f64;
                marks.push(Mark::Area {
                    points: vec![(x - 0.1, l), (x + 0.1, l), (x + 0.1, h), (x - 0.1, h)],
                    paint,
                });
            } else {
                let mut points: Vec<(f64, f64)> =
                    run.iter().map(|&(i, (_, h))| (i as f64, h)).collect();
                points.extend(run.iter().rev().map(|&(i, (l, _))| (i as f64, l)));
                marks.push(Mark::Area { points, paint });
            }
        }
        let name = format!("{}–{}", b.low.name, b.high.name);
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
                marks.push(Mark::Line {
                    points: points.clone(),
                    paint,
                });
            }
            if points.len() == 1 || n <= MARKER_LIMIT {
                marks.extend(points.into_iter().map(|at| Mark::Dot { at, paint }));
            }
        }
    }
    if spec.series.len() > 1 || spec.band.is_some() {
        legend.splice(0..0, series_legend(&spec.series));
    }
    let axes = Axes {
        categories: &spec.x,
        x_label: &spec.x_label,
        y_label: &spec.y_label,
        unit: spec.unit,
        scale: Scale::new(lo, hi, spec.unit),
    };
    frame.render(table, |svg| plot(svg, &axes, &marks, &legend))
}

/// Counts values into buckets and draws them as bars; see [`HistogramSpec`].
pub fn histogram(spec: &HistogramSpec) -> Chart {
    let mut counts = vec![0usize; spec.buckets.len()];
    for &v in spec.values.iter().filter(|v| v.is_finite() && **v >= 0.0) {
        if let Some(b) = spec.buckets.iter().position(|b| v < b.upper) {
            counts[b] += 1;
        }
    }
    let counted: usize = counts.iter().sum();
    let values = counts
        .iter()
        .map(|&c| (counted > 0).then_some(c as f64))
        .collect();
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

/// Draws a radar: spokes, rings and one polygon per series; see [`RadarSpec`].
pub fn radar(spec: &RadarSpec) -> Chart {
    let frame = Frame::new(&spec.id, &spec.title, &spec.description, &spec.no_data);
    let n = spec.axes.len();
    let mut headers = vec![spec.axis_label.clone()];
    headers.extend(
        spec.series
            .iter()
            .map(|s| format!("{}{}", s.name, spec.unit.suffix())),
    );
    let rows = (0..n)
        .map(|i| {
            row(
                &spec.axes[i],
                spec.series.iter().map(|s| spec.unit.cell(s.at(i))),
            )
        })
        .collect();
    let table = frame.table(headers, rows);
    if !has_values(&spec.series, n) {
        return frame.empty(table);
    }
    let (_, hi) = value_range(&spec.series, n);
    let max = if spec.max.is_finite() && spec.max > 0.0 {
        spec.max
    } else {
        hi
    };
    let scale = Scale::new(0.0, max, spec.unit);
    let legend = if spec.series.len() > 1 {
        series_legend(&spec.series)
    } else {
        Vec::new()
    };
    frame.render(table, |svg| draw_radar(svg, spec, &scale, &legend))
}

/// The estimated width in pixels of `text` at font size `px`: wide (CJK, emoji) characters
/// take a full em, others about 0.6 em.
pub fn text_width(text: &str, px: f64) -> f64 {
    text.chars()
        .map(|c| if is_wide(c) { 1.0 } else { 0.6 })
        .sum::<f64>()
        * px
}

fn is_wide(c: char) -> bool {
    matches!(c as u32, 0x1100..=0x115F | 0x2E80..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF
        | 0xFE30..=0xFE4F | 0xFF00..=0xFF60 | 0xFFE0..=0xFFE6 | 0x1F300..=0x1FAFF | 0x20000..=0x3FFFD)
}

/// The colours plotters draws with. Each is a sentinel RGB value that no real colour uses
/// here, rewritten to a CSS variable by [`Frame::finish`].
#[derive(Debug, Clone, Copy)]
enum Paint {
    Series(usize),
    Axis,
    Grid,
    Text,
}

const SERIES_COLOURS: usize = 6;
const LIGHT_SERIES: [&str; SERIES_COLOURS] = [
    "#0b5cd5", "#c4480a", "#0f7b5c", "#a3459a", "#9a6700", "#2a7fb8",
];

impl Paint {
    fn all() -> impl Iterator<Item = Paint> {
        (0..SERIES_COLOURS)
            .map(Paint::Series)
            .chain([Paint::Axis, Paint::Grid, Paint::Text])
    }

    fn rgb(self) -> RGBColor {
        match self {
            Paint::Series(i) => RGBColor(0x0F, 0xC0, (i % SERIES_COLOURS) as u8 + 1),
            Paint::Axis => RGBColor(0x0F, 0xC1, 1),
            Paint::Grid => RGBColor(0x0F, 0xC1, 2),
            Paint::Text => RGBColor(0x0F, 0xC1, 3),
        }
    }

    /// The role's name in CSS: `--chart-<name>` and the classes `chart-fill-<name>`,
    /// `chart-stroke-<name>`.
    fn name(self) -> String {
        match self {
            Paint::Series(i) => (i % SERIES_COLOURS + 1).to_string(),
            Paint::Axis => "axis".to_string(),
            Paint::Grid => "grid".to_string(),
            Paint::Text => "text".to_string(),
        }
    }

    /// The light colour, written into the SVG for renderers without the theme's CSS.
    fn light(self) -> &'static str {
        match self {
            Paint::Series(i) => LIGHT_SERIES[i % SERIES_COLOURS],
            Paint::Axis => "#59636e",
            Paint::Grid => "#d1d9e0",
            Paint::Text => "#1f2328",
        }
    }

    /// Plotters' spelling of the sentinel colour in an attribute value.
    fn sentinel(self) -> String {
        let RGBColor(r, g, b) = self.rgb();
        format!("#{r:02X}{g:02X}{b:02X}")
    }

    fn font(self, size: f64) -> TextStyle<'static> {
        (FONT, size).into_font().color(&self.rgb())
    }
}

/// What every chart has: the sanitised id, the accessible name and description, the empty
/// message.
struct Frame {
    id: String,
    title: String,
    description: String,
    no_data: String,
}

type DrawResult = Result<(), Box<dyn std::error::Error>>;

impl Frame {
    fn new(id: &str, title: &str, description: &str, no_data: &str) -> Self {
        let mut id: String = id
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        if !id.starts_with(|c: char| c.is_ascii_alphabetic()) {
            id.insert_str(0, "chart-");
        }
        let no_data = if no_data.is_empty() {
            "No data"
        } else {
            no_data
        };
        Frame {
            id,
            title: clean(title),
            description: clean(description),
            no_data: clean(no_data),
        }
    }

    fn table(&self, headers: Vec<String>, rows: Vec<Vec<String>>) -> Table {
        Table {
            caption: self.title.clone(),
            headers,
            rows,
        }
    }

    /// The "No data" chart: the message, still named and described.
    fn empty(&self, table: Table) -> Chart {
        let svg = self.draw((WIDTH, EMPTY_HEIGHT), |root| {
            let style = Paint::Text
                .font(LABEL_FONT)
                .pos(Pos::new(HPos::Center, VPos::Center));
            let at = (WIDTH as i32 / 2, EMPTY_HEIGHT as i32 / 2);
            root.draw(&Text::new(self.no_data.clone(), at, style))?;
            Ok(())
        });
        Chart {
            svg: svg.unwrap_or_else(|e| self.failed(e)),
            table,
        }
    }

    fn render(&self, table: Table, body: impl FnOnce(&mut String) -> DrawResult) -> Chart {
        let mut raw = String::new();
        let svg = match body(&mut raw) {
            Ok(()) => self.finish(&raw),
            Err(e) => self.failed(e.to_string()),
        };
        Chart { svg, table }
    }

    fn draw(
        &self,
        size: (u32, u32),
        body: impl FnOnce(&DrawingArea<SVGBackend, plotters::coord::Shift>) -> DrawResult,
    ) -> Result<String, String> {
        let mut raw = String::new();
        {
            let root = SVGBackend::with_string(&mut raw, size).into_drawing_area();
            body(&root).map_err(|e| e.to_string())?;
            root.present().map_err(|e| e.to_string())?;
        }
        Ok(self.finish(&raw))
    }

    /// Drawing into a string cannot fail short of a plotters bug; should it, the page keeps
    /// its table and gets an empty, still accessible, chart rather than a failed build.
    fn failed(&self, error: impl std::fmt::Display) -> String {
        tracing::warn!("chart {}: {error}", self.id);
        self.finish(&format!(
            "<svg viewBox=\"0 0 {WIDTH} {EMPTY_HEIGHT}\">\n</svg>\n"
        ))
    }

    /// Replaces plotters' root tag with an accessible one, and sentinel colours with CSS
    /// variables.
    fn finish(&self, raw: &str) -> String {
        let body_start = raw.find('>').map_or(raw.len(), |i| i + 1);
        let (root, body) = raw.split_at(body_start);
        let view_box = root
            .split("viewBox=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or("0 0 640 320");
        let id = &self.id;
        let mut svg = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"{view_box}\" class=\"chart\" id=\"{id}\" \
             role=\"img\" aria-labelledby=\"{id}-title {id}-desc\">\n<title id=\"{id}-title\">{}</title>\n\
             <desc id=\"{id}-desc\">{}</desc>",
            escape(&self.title),
            escape(&self.description),
        );
        let body = body.replace(" opacity=\"1\"", "");
        let body: Vec<String> = body.lines().map(theme_colours).collect();
        let body = body.join("\n");
        svg.push_str(&body);
        svg
    }
}

/// Rewrites the sentinel colours of one line of plotters' output (it writes one element per
/// line) to their light colour plus a class, through which [`CHART_CSS`] applies the theme's
/// variable: CSS rules override presentation attributes, and a page without that CSS, or a
/// renderer without custom properties, still shows the light palette. Attribute values
/// cannot hold a raw `"` (plotters escapes text), so the patterns only match attributes.
fn theme_colours(line: &str) -> String {
    let mut line = line.to_string();
    let mut classes = Vec::new();
    for paint in Paint::all() {
        for attribute in ["fill", "stroke"] {
            let sentinel = format!("{attribute}=\"{}\"", paint.sentinel());
            if line.contains(&sentinel) {
                line = line.replace(&sentinel, &format!("{attribute}=\"{}\"", paint.light()));
                classes.push(format!("chart-{attribute}-{}", paint.name()));
            }
        }
    }
    if !classes.is_empty() {
        let end = if line.ends_with("/>") {
            line.len() - 2
        } else {
            line.len() - 1
        };
        line.insert_str(end, &format!(" class=\"{}\"", classes.join(" ")));
    }
    line
}

/// A shape in data coordinates.
enum Mark {
    Bar {
        x: (f64, f64),
        y: (f64, f64),
        paint: Paint,
    },
    Line {
        points: Vec<(f64, f64)>,
        paint: Paint,
    },
    Area {
        points: Vec<(f64, f64)>,
        paint: Paint,
    },
    Dot {
        at: (f64, f64),
        paint: Paint,
    },
}

struct LegendItem {
    name: String,
    paint: Paint,
    shaded: bool,
}

fn series_legend(series: &[Series]) -> Vec<LegendItem> {
    let item = |(s, x): (usize, &Series)| LegendItem {
        name: x.name.clone(),
        paint: Paint::Series(s),
        shaded: false,
    };
    series.iter().enumerate().map(item).collect()
}

/// The y axis: a range from "nice" numbers and its ticks.
struct Scale {
    lo: f64,
    hi: f64,
    step: f64,
    ticks: Vec<f64>,
}

impl Scale {
    /// Always includes 0; levels span 0–5; a flat range (all values equal) still gets height.
    fn new(lo: f64, hi: f64, unit: Unit) -> Self {
        let (mut lo, mut hi) = (lo.clamp(-LIMIT, 0.0), hi.clamp(0.0, LIMIT));
        if unit == Unit::Level && hi <= 5.0 {
            hi = 5.0;
        }
        if hi - lo < 1e-9 {
            hi = lo
                + if unit == Unit::Ratio {
                    1.0
                } else {
                    1.0_f64.max(lo.abs())
                };
        }
        let raw = (hi - lo) / 5.0;
        let magnitude = 10f64.powf(raw.log10().floor());
        let steps: &[f64] = if matches!(unit, Unit::Count | Unit::Level) {
            &[1.0, 2.0, 5.0, 10.0]
        } else {
            &[1.0, 2.0, 2.5, 5.0, 10.0]
        };
        let mut step = steps
            .iter()
            .map(|m| m * magnitude)
            .find(|s| *s >= raw * (1.0 - 1e-9))
            .unwrap_or(10.0 * magnitude);
        if matches!(unit, Unit::Count | Unit::Level) {
            step = step.max(1.0);
        }
        lo = (lo / step + 1e-9).floor() * step;
        hi = (hi / step - 1e-9).ceil() * step;
        let count = ((hi - lo) / step).round() as usize;
        let ticks = (0..=count.min(20)).map(|k| lo + k as f64 * step).collect();
        Scale {
            lo,
            hi,
            step,
            ticks,
        }
    }
}

struct Axes<'a> {
    categories: &'a [String],
    x_label: &'a str,
    y_label: &'a str,
    unit: Unit,
    scale: Scale,
}

/// A linear axis with the ticks given, and no light grid lines. (Plotters' `with_key_points`
/// would do, but its wrapper loses the label formatter that `configure_mesh` needs.)
struct Ticked {
    lo: f64,
    hi: f64,
    ticks: Vec<f64>,
}

impl Ranged for Ticked {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let share = (value - self.lo) / (self.hi - self.lo);
        limit.0 + (share * f64::from(limit.1 - limit.0)).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.lo..self.hi
    }
}

type Coord = Cartesian2d<Ticked, Ticked>;

/// Draws categories on x, values on y, then the marks, into `svg`.
fn plot(svg: &mut String, axes: &Axes, marks: &[Mark], legend: &[LegendItem]) -> DrawResult {
    let root = SVGBackend::with_string(svg, (WIDTH, HEIGHT)).into_drawing_area();
    let legend_height = draw_legend(&root, legend, Y_AXIS_WIDTH as i32)?;
    let (_, area) = root.split_vertically(legend_height);
    let n = axes.categories.len();
    // Thin the x labels so that the widest fits between its neighbours.
    let (labels, every) = x_labels(axes.categories);
    let x_ticks: Vec<f64> = (0..n).step_by(every).map(|i| i as f64).collect();
    let scale = &axes.scale;

    let mut chart = ChartBuilder::on(&area)
        .margin_top(10)
        .margin_right(16)
        .margin_left(8)
        .x_label_area_size(X_AXIS_HEIGHT)
        .y_label_area_size(Y_AXIS_WIDTH)
        .build_cartesian_2d(
            Ticked {
                lo: -0.5,
                hi: n as f64 - 0.5,
                ticks: x_ticks,
            },
            Ticked {
                lo: scale.lo,
                hi: scale.hi,
                ticks: scale.ticks.clone(),
            },
        )?;
    let x_format = |v: &f64| labels.get(v.round() as usize).cloned().unwrap_or_default();
    let y_format = |v: &f64| axes.unit.tick(*v, scale.step);
    chart
        .configure_mesh()
        .disable_x_mesh()
        .bold_line_style(Paint::Grid.rgb().stroke_width(1))
        .light_line_style(TRANSPARENT)
        .axis_style(Paint::Axis.rgb().stroke_width(1))
        .label_style(Paint::Text.font(SMALL_FONT))
        .axis_desc_style(Paint::Text.font(LABEL_FONT))
        .x_label_formatter(&x_format)
        .y_label_formatter(&y_format)
        .x_desc(clean(axes.x_label))
        .y_desc(format!("{}{}", clean(axes.y_label), axes.unit.suffix()))
        .draw()?;
    for mark in marks {
        draw_mark(&mut chart, mark)?;
    }
    root.present()?;
    Ok(())
}

fn draw_mark(chart: &mut ChartContext<SVGBackend, Coord>, mark: &Mark) -> DrawResult {
    match mark {
        Mark::Bar {
            x: (x0, x1),
            y: (y0, y1),
            paint,
        } => {
            // Top-left first: plotters writes the rectangle's size as given.
            let corners = [(*x0, y0.max(*y1)), (*x1, y0.min(*y1))];
            chart.draw_series([Rectangle::new(corners, paint.rgb().filled())])?;
        }
        Mark::Line { points, paint } => {
            chart.draw_series([PathElement::new(
                points.clone(),
                paint.rgb().stroke_width(2),
            )])?;
        }
        Mark::Area { points, paint } => {
            chart.draw_series([Polygon::new(points.clone(), paint.rgb().mix(0.2).filled())])?;
        }
        Mark::Dot { at, paint } => {
            chart.draw_series([Circle::new(*at, 3, paint.rgb().filled())])?;
        }
    }
    Ok(())
}

/// The x labels as drawn, and which to draw (every n-th): all of them, whole, when they fit;
/// else cut to 16 characters and thinned so that the widest fits between its neighbours.
fn x_labels(categories: &[String]) -> (Vec<String>, usize) {
    let plot_width = f64::from(WIDTH - Y_AXIS_WIDTH - 24);
    let n = categories.len().max(1);
    let widest = |labels: &[String]| {
        labels
            .iter()
            .map(|l| text_width(l, 10.0))
            .fold(0.0, f64::max)
            + 12.0
    };
    let labels: Vec<String> = categories.iter().map(|c| clean(c)).collect();
    if widest(&labels) <= plot_width / n as f64 {
        return (labels, 1);
    }
    let labels: Vec<String> = labels.iter().map(|l| truncate(l, 16)).collect();
    let fit = ((plot_width / widest(&labels)).floor() as usize).max(1);
    let every = n.div_ceil(fit).max(1);
    let room = plot_width / n as f64 * every as f64 - 12.0;
    (
        labels.iter().map(|l| fit_width(l, 10.0, room)).collect(),
        every,
    )
}

/// Draws the legend in rows along the top, wrapping when a row is full; returns its height.
fn draw_legend(
    root: &DrawingArea<SVGBackend, plotters::coord::Shift>,
    items: &[LegendItem],
    left: i32,
) -> Result<i32, Box<dyn std::error::Error>> {
    if items.is_empty() {
        return Ok(0);
    }
    let (width, row_height) = (root.dim_in_pixel().0 as i32, 18);
    let (mut x, mut y) = (left, 14);
    for item in items {
        let name = truncate(&clean(&item.name), 32);
        let w = 18 + text_width(&name, 10.0).ceil() as i32 + 16;
        if x > left && x + w > width - 8 {
            (x, y) = (left, y + row_height);
        }
        let colour = if item.shaded {
            item.paint.rgb().mix(0.3)
        } else {
            item.paint.rgb().to_rgba()
        };
        root.draw(&Rectangle::new(
            [(x, y - 6), (x + 12, y + 6)],
            colour.filled(),
        ))?;
        let style = Paint::Text
            .font(SMALL_FONT)
            .pos(Pos::new(HPos::Left, VPos::Center));
        root.draw(&Text::new(name, (x + 18, y), style))?;
        x += w;
    }
    Ok(y + 10)
}

fn draw_radar(
    svg: &mut String,
    spec: &RadarSpec,
    scale: &Scale,
    legend: &[LegendItem],
) -> DrawResult {
    let root = SVGBackend::with_string(svg, (WIDTH, RADAR_HEIGHT)).into_drawing_area();
    let top = draw_legend(&root, legend, 16)?;
    let n = spec.axes.len();
    // Room for two lines of labels above and below, and a wrapped label on either side.
    let radius = (((RADAR_HEIGHT as i32 - top) / 2 - 48) as f64).min(140.0);
    let centre = (
        WIDTH as f64 / 2.0,
        top as f64 + (RADAR_HEIGHT as i32 - top) as f64 / 2.0,
    );
    let angle = |i: usize| -PI / 2.0 + 2.0 * PI * i as f64 / n as f64;
    let point = |i: usize, v: f64| {
        let r = radius * ((v - scale.lo) / (scale.hi - scale.lo)).clamp(0.0, 1.0);
        (
            (centre.0 + r * angle(i).cos()).round() as i32,
            (centre.1 + r * angle(i).sin()).round() as i32,
        )
    };
    let c = (centre.0.round() as i32, centre.1.round() as i32);

    for &t in scale.ticks.iter().filter(|t| **t > scale.lo) {
        let mut ring: Vec<(i32, i32)> = (0..n).map(|i| point(i, t)).collect();
        ring.push(point(0, t));
        root.draw(&PathElement::new(ring, Paint::Grid.rgb().stroke_width(1)))?;
        let style = Paint::Text
            .font(SMALL_FONT)
            .pos(Pos::new(HPos::Left, VPos::Center));
        let (x, y) = point(0, t);
        root.draw(&Text::new(spec.unit.tick(t, scale.step), (x + 4, y), style))?;
    }
    let room = WIDTH as f64 / 2.0 - radius - 20.0;
    for (i, axis) in spec.axes.iter().enumerate() {
        root.draw(&PathElement::new(
            vec![c, point(i, scale.hi)],
            Paint::Axis.rgb().stroke_width(1),
        ))?;
        let (cos, sin) = (angle(i).cos(), angle(i).sin());
        let (h, limit) = if cos > 0.3 {
            (HPos::Left, room)
        } else if cos < -0.3 {
            (HPos::Right, room)
        } else {
            (HPos::Center, 2.0 * room)
        };
        let v = if sin < -0.3 {
            VPos::Bottom
        } else if sin > 0.3 {
            VPos::Top
        } else {
            VPos::Center
        };
        let at = (
            (centre.0 + (radius + 10.0) * cos).round() as i32,
            (centre.1 + (radius + 10.0) * sin).round() as i32,
        );
        let lines = wrap(&clean(axis), 12.0, limit);
        // Lines stack away from the ring: upwards above it, downwards below it.
        let first = match v {
            VPos::Bottom => at.1 - 14 * (lines.len() as i32 - 1),
            VPos::Top => at.1,
            VPos::Center => at.1 - 7 * (lines.len() as i32 - 1),
        };
        for (k, line) in lines.into_iter().enumerate() {
            let style = Paint::Text.font(LABEL_FONT).pos(Pos::new(h, v));
            root.draw(&Text::new(line, (at.0, first + 14 * k as i32), style))?;
        }
    }
    for (s, series) in spec.series.iter().enumerate() {
        let paint = Paint::Series(s);
        let points: Vec<(i32, i32)> = (0..n)
            .filter_map(|i| Some(point(i, series.at(i)?)))
            .collect();
        if points.len() > 2 {
            root.draw(&Polygon::new(points.clone(), paint.rgb().mix(0.2).filled()))?;
        }
        if points.len() > 1 {
            let mut outline = points.clone();
            outline.push(points[0]);
            root.draw(&PathElement::new(outline, paint.rgb().stroke_width(2)))?;
        }
        for p in points {
            root.draw(&Circle::new(p, 3, paint.rgb().filled()))?;
        }
    }
    root.present()?;
    Ok(())
}

/// Consecutive indices where `value` is present, with their values.
fn runs<T: Copy>(n: usize, value: impl Fn(usize) -> Option<T>) -> Vec<Vec<(usize, T)>> {
    let mut runs: Vec<Vec<(usize, T)>> = Vec::new();
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

fn has_values(series: &[Series], n: usize) -> bool {
    series.iter().any(|s| (0..n).any(|i| s.at(i).is_some()))
}

fn value_range(series: &[Series], n: usize) -> (f64, f64) {
    let values = series.iter().flat_map(|s| (0..n).filter_map(|i| s.at(i)));
    values.fold((0.0, 0.0), |(lo, hi), v| (f64::min(lo, v), f64::max(hi, v)))
}

fn finite(value: Option<f64>) -> Option<f64> {
    value.filter(|v| v.is_finite() && v.abs() <= LIMIT)
}

fn row(first: &str, cells: impl Iterator<Item = String>) -> Vec<String> {
    std::iter::once(first.to_string()).chain(cells).collect()
}

/// `v` with `places` decimals, never `-0`.
fn decimals(v: f64, places: usize) -> String {
    let s = format!("{v:.places$}");
    if s.starts_with('-') && s.chars().all(|c| matches!(c, '-' | '0' | '.')) {
        s[1..].to_string()
    } else {
        s
    }
}

/// The decimals a tick step needs: 0 for whole steps, 1 for 0.5, 2 for 0.25.
fn step_decimals(step: f64) -> usize {
    (0..6)
        .find(|&d| {
            let scaled = step * 10f64.powi(d as i32);
            (scaled - scaled.round()).abs() < 1e-6
        })
        .unwrap_or(6)
}

/// Text without control characters (XML forbids most, and none belongs in a label).
fn clean(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn truncate(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_string();
    }
    let mut short: String = text.chars().take(max_chars - 1).collect();
    short.push('…');
    short
}

/// `text` on one line, or two split at the space that best balances them, each cut to fit
/// `width` pixels at font size `px`.
fn wrap(text: &str, px: f64, width: f64) -> Vec<String> {
    if text_width(text, px) <= width {
        return vec![text.to_string()];
    }
    let half = text_width(text, px) / 2.0;
    let split = text.match_indices(' ').map(|(i, _)| i).min_by(|a, b| {
        let off = |i: &usize| (text_width(&text[..*i], px) - half).abs();
        off(a).total_cmp(&off(b))
    });
    match split {
        Some(i) => vec![
            fit_width(&text[..i], px, width),
            fit_width(&text[i + 1..], px, width),
        ],
        None => vec![fit_width(text, px, width)],
    }
}

/// `text` cut (with `…`) to fit `width` pixels at font size `px`.
fn fit_width(text: &str, px: f64, width: f64) -> String {
    let mut max = text.chars().count();
    let mut fitted = text.to_string();
    while max > 1 && text_width(&fitted, px) > width {
        max -= 1;
        fitted = truncate(text, max);
    }
    fitted
}

/// Escapes text for XML content and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
