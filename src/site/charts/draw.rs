//! How [`super`]'s charts become SVG: plotters' SVG backend on a string, layout (axes,
//! legend, radar), the palette's sentinel colours and the accessible root element. The parent
//! module turns data into [`Mark`]s and tables; this one only draws.

use super::{Chart, RadarSpec, Series, Table, Unit, LIMIT};
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::f64::consts::PI;

const WIDTH: u32 = 640;
const HEIGHT: u32 = 320;
const RADAR_HEIGHT: u32 = 420;
const EMPTY_HEIGHT: u32 = 80;
const Y_AXIS_WIDTH: u32 = 64;
const X_AXIS_HEIGHT: u32 = 44;
/// Plotters divides font sizes by 1.24: these render as 10 px and 12 px.
const SMALL_FONT: f64 = 12.4;
const LABEL_FONT: f64 = 14.88;
const FONT: &str = "sans-serif";

type Root<'a> = DrawingArea<SVGBackend<'a>, Shift>;
type DrawResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

/// A shape in data coordinates.
pub(super) enum Mark {
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

pub(super) struct LegendItem {
    pub name: String,
    pub paint: Paint,
    /// A band's swatch: the pale fill of the area it names.
    pub shaded: bool,
}

/// One item per series, in the series' colours.
pub(super) fn series_legend(series: &[Series]) -> Vec<LegendItem> {
    let item = |(s, x): (usize, &Series)| LegendItem {
        name: x.name.clone(),
        paint: Paint::Series(s),
        shaded: false,
    };
    series.iter().enumerate().map(item).collect()
}

/// The frame of a chart with categories on x and values on y.
pub(super) struct Axes<'a> {
    pub categories: &'a [String],
    pub x_label: &'a str,
    pub y_label: &'a str,
    pub unit: Unit,
    /// The smallest and largest value drawn; the axis widens it to include 0 and round ticks.
    pub range: (f64, f64),
}

/// The colours plotters draws with: sentinel RGB values that no real colour uses here,
/// rewritten by [`theme_colours`].
#[derive(Debug, Clone, Copy)]
pub(super) enum Paint {
    Series(usize),
    Axis,
    Grid,
    Text,
}

const SERIES_COLOURS: usize = 6;
/// The light values of `--chart-1` … `--chart-6` in [`super::CHART_CSS`].
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

    /// Plotters' spelling of the sentinel in an attribute value.
    fn sentinel(self) -> String {
        let RGBColor(r, g, b) = self.rgb();
        format!("#{r:02X}{g:02X}{b:02X}")
    }

    /// The role's name in CSS: `--chart-<name>`, classes `chart-fill-<name>` and
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

    fn font(self, size: f64) -> TextStyle<'static> {
        (FONT, size).into_font().color(&self.rgb())
    }
}

/// What every chart has: the sanitised id, the accessible name and description, the empty
/// message.
pub(super) struct Frame {
    id: String,
    title: String,
    description: String,
    no_data: String,
}

impl Frame {
    pub(super) fn new(id: &str, title: &str, description: &str, no_data: &str) -> Self {
        let mut id: String = id
            .chars()
            .map(|c| match c {
                'a'..='z' | 'A'..='Z' | '0'..='9' | '-' | '_' => c,
                _ => '-',
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

    /// A table captioned with the chart's title.
    pub(super) fn table(&self, headers: Vec<String>, rows: Vec<Vec<String>>) -> Table {
        let caption = self.title.clone();
        Table {
            caption,
            headers,
            rows,
        }
    }

    /// The chart for no data: a short strip with the message, still named and described, and
    /// a table with its headers but no rows.
    pub(super) fn empty(&self, mut table: Table) -> Chart {
        table.rows.clear();
        self.render(table, (WIDTH, EMPTY_HEIGHT), |root| {
            let style = Paint::Text
                .font(LABEL_FONT)
                .pos(Pos::new(HPos::Center, VPos::Center));
            let at = (WIDTH as i32 / 2, EMPTY_HEIGHT as i32 / 2);
            root.draw(&Text::new(self.no_data.clone(), at, style))?;
            Ok(())
        })
    }

    pub(super) fn cartesian(
        &self,
        table: Table,
        axes: &Axes,
        marks: &[Mark],
        legend: &[LegendItem],
    ) -> Chart {
        self.render(table, (WIDTH, HEIGHT), |root| {
            plot(root, axes, marks, legend)
        })
    }

    pub(super) fn radar(&self, table: Table, spec: &RadarSpec, max: f64) -> Chart {
        let legend = if spec.series.len() > 1 {
            series_legend(&spec.series)
        } else {
            Vec::new()
        };
        let scale = Scale::new(0.0, max, spec.unit);
        self.render(table, (WIDTH, RADAR_HEIGHT), |root| {
            draw_radar(root, spec, &scale, &legend)
        })
    }

    /// Draws with `body` into a string, then finishes the SVG. Drawing into a string cannot
    /// fail short of a plotters bug; should it, the page keeps its table and gets an empty but
    /// still accessible chart rather than a failed build.
    fn render(
        &self,
        table: Table,
        size: (u32, u32),
        body: impl FnOnce(&Root) -> DrawResult,
    ) -> Chart {
        let mut raw = String::new();
        let drawn = {
            let root = SVGBackend::with_string(&mut raw, size).into_drawing_area();
            body(&root).and_then(|()| root.present().map_err(|e| e.into()))
        };
        if let Err(e) = drawn {
            tracing::warn!("chart {}: {e}", self.id);
            raw = format!("<svg viewBox=\"0 0 {} {}\">\n</svg>", size.0, size.1);
        }
        let svg = self.finish(&raw);
        Chart { svg, table }
    }

    /// Replaces plotters' root tag with an accessible one that scales (a viewBox, no size),
    /// and the sentinel colours with themable ones.
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
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"{view_box}\" class=\"chart\" \
             id=\"{id}\" role=\"img\" aria-labelledby=\"{id}-title {id}-desc\">\n\
             <title id=\"{id}-title\">{}</title>\n<desc id=\"{id}-desc\">{}</desc>",
            escape(&self.title),
            escape(&self.description),
        );
        for line in body.replace(" opacity=\"1\"", "").lines() {
            svg.push_str(&theme_colours(line));
            svg.push('\n');
        }
        svg.truncate(svg.trim_end().len());
        svg
    }
}

/// Rewrites the sentinel colours of one line of plotters' output (it writes one element per
/// line) to their light colour plus a class, through which [`super::CHART_CSS`] applies the
/// theme's variable: CSS rules override presentation attributes, so a page without that CSS,
/// or a renderer without custom properties, still shows the light palette. Attribute values
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
        let end = line.len() - if line.ends_with("/>") { 2 } else { 1 };
        line.insert_str(end, &format!(" class=\"{}\"", classes.join(" ")));
    }
    line
}

/// The value axis: round bounds and ticks.
struct Scale {
    lo: f64,
    hi: f64,
    step: f64,
    ticks: Vec<f64>,
}

impl Scale {
    /// Always includes 0; levels span 0–5; a flat range (all values equal) still gets height.
    /// Counts and levels get whole steps.
    fn new(lo: f64, hi: f64, unit: Unit) -> Self {
        let whole = matches!(unit, Unit::Count | Unit::Level);
        let (mut lo, mut hi) = (lo.clamp(-LIMIT, 0.0), hi.clamp(0.0, LIMIT));
        if unit == Unit::Level && hi <= 5.0 {
            hi = 5.0;
        }
        if hi - lo < 1e-9 {
            hi = lo + 1.0;
        }
        let raw = (hi - lo) / 5.0;
        let magnitude = 10f64.powf(raw.log10().floor());
        let steps: &[f64] = if whole {
            &[1.0, 2.0, 5.0, 10.0]
        } else {
            &[1.0, 2.0, 2.5, 5.0, 10.0]
        };
        let mut step = steps
            .iter()
            .map(|m| m * magnitude)
            .find(|s| *s >= raw * (1.0 - 1e-9))
            .unwrap_or(10.0 * magnitude);
        if whole {
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

/// Draws the legend, the axes with categories on x and values on y, then the marks.
fn plot(root: &Root, axes: &Axes, marks: &[Mark], legend: &[LegendItem]) -> DrawResult {
    let legend_height = draw_legend(root, legend, Y_AXIS_WIDTH as i32)?;
    let (_, area) = root.split_vertically(legend_height);
    let n = axes.categories.len();
    let (labels, every) = x_labels(axes.categories);
    let scale = Scale::new(axes.range.0, axes.range.1, axes.unit);
    let x = Ticked {
        lo: -0.5,
        hi: n as f64 - 0.5,
        ticks: (0..n).step_by(every).map(|i| i as f64).collect(),
    };
    let y = Ticked {
        lo: scale.lo,
        hi: scale.hi,
        ticks: scale.ticks.clone(),
    };
    let mut chart = ChartBuilder::on(&area)
        .margin_top(10)
        .margin_right(16)
        .margin_left(8)
        .x_label_area_size(X_AXIS_HEIGHT)
        .y_label_area_size(Y_AXIS_WIDTH)
        .build_cartesian_2d(x, y)?;
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
        match mark {
            Mark::Bar {
                x: (x0, x1),
                y: (y0, y1),
                paint,
            } => {
                // Top-left corner first: plotters writes the size as given, even negative.
                let corners = [(*x0, y0.max(*y1)), (*x1, y0.min(*y1))];
                chart.draw_series([Rectangle::new(corners, paint.rgb().filled())])?;
            }
            Mark::Line { points, paint } => {
                let style = paint.rgb().stroke_width(2);
                chart.draw_series([PathElement::new(points.clone(), style)])?;
            }
            Mark::Area { points, paint } => {
                let style = paint.rgb().mix(0.2).filled();
                chart.draw_series([Polygon::new(points.clone(), style)])?;
            }
            Mark::Dot { at, paint } => {
                chart.draw_series([Circle::new(*at, 3, paint.rgb().filled())])?;
            }
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
        let widths = labels.iter().map(|l| text_width(l, 10.0));
        widths.fold(0.0, f64::max) + 12.0
    };
    let labels: Vec<String> = categories.iter().map(|c| clean(c)).collect();
    if widest(&labels) <= plot_width / n as f64 {
        return (labels, 1);
    }
    let labels: Vec<String> = labels.iter().map(|l| truncate(l, 16)).collect();
    let fit = ((plot_width / widest(&labels)).floor() as usize).max(1);
    let every = n.div_ceil(fit).max(1);
    let room = plot_width / n as f64 * every as f64 - 12.0;
    let labels = labels.iter().map(|l| fit_width(l, 10.0, room)).collect();
    (labels, every)
}

/// Draws the legend in rows along the top, wrapping when a row is full; returns its height.
/// Past three rows it ends with `…`: the table names every series.
fn draw_legend(root: &Root, items: &[LegendItem], left: i32) -> DrawResult<i32> {
    const ROWS: i32 = 3;
    if items.is_empty() {
        return Ok(0);
    }
    let width = root.dim_in_pixel().0 as i32;
    let text = |name: String, at: (i32, i32)| {
        let style = Paint::Text
            .font(SMALL_FONT)
            .pos(Pos::new(HPos::Left, VPos::Center));
        Text::new(name, at, style)
    };
    let (mut x, mut y) = (left, 14);
    for item in items {
        let name = truncate(&clean(&item.name), 32);
        let w = 18 + text_width(&name, 10.0).ceil() as i32 + 16;
        if x > left && x + w > width - 8 {
            if y >= 14 + 18 * (ROWS - 1) {
                root.draw(&text("…".to_string(), (x, y)))?;
                break;
            }
            (x, y) = (left, y + 18);
        }
        let colour = if item.shaded {
            item.paint.rgb().mix(0.3)
        } else {
            item.paint.rgb().to_rgba()
        };
        let swatch = [(x, y - 6), (x + 12, y + 6)];
        root.draw(&Rectangle::new(swatch, colour.filled()))?;
        root.draw(&text(name, (x + 18, y)))?;
        x += w;
    }
    Ok(y + 10)
}

/// Rings at the scale's ticks, a spoke per axis (clockwise from the top) with its label, and
/// a polygon per series; a missing value leaves its spoke out of the polygon.
fn draw_radar(root: &Root, spec: &RadarSpec, scale: &Scale, legend: &[LegendItem]) -> DrawResult {
    let top = draw_legend(root, legend, 16)?;
    let n = spec.axes.len();
    let height = RADAR_HEIGHT as i32 - top;
    // Room for two lines of labels above and below, and a wrapped label on either side.
    let radius = f64::from(height / 2 - 48).min(140.0);
    let centre = (
        f64::from(WIDTH) / 2.0,
        f64::from(top) + f64::from(height) / 2.0,
    );
    let angle = |i: usize| -PI / 2.0 + 2.0 * PI * i as f64 / n as f64;
    let at = |i: usize, r: f64| {
        let (x, y) = (centre.0 + r * angle(i).cos(), centre.1 + r * angle(i).sin());
        (x.round() as i32, y.round() as i32)
    };
    let point = |i: usize, v: f64| {
        at(
            i,
            radius * ((v - scale.lo) / (scale.hi - scale.lo)).clamp(0.0, 1.0),
        )
    };

    for &t in scale.ticks.iter().filter(|t| **t > scale.lo) {
        let ring: Vec<(i32, i32)> = (0..=n).map(|i| point(i % n, t)).collect();
        root.draw(&PathElement::new(ring, Paint::Grid.rgb().stroke_width(1)))?;
        let style = Paint::Text
            .font(SMALL_FONT)
            .pos(Pos::new(HPos::Left, VPos::Center));
        let (x, y) = point(0, t);
        root.draw(&Text::new(spec.unit.tick(t, scale.step), (x + 4, y), style))?;
    }
    let room = f64::from(WIDTH) / 2.0 - radius - 20.0;
    for (i, axis) in spec.axes.iter().enumerate() {
        let spoke = vec![at(i, 0.0), point(i, scale.hi)];
        root.draw(&PathElement::new(spoke, Paint::Axis.rgb().stroke_width(1)))?;
        let (cos, sin) = (angle(i).cos(), angle(i).sin());
        let (h, width) = match cos {
            c if c > 0.3 => (HPos::Left, room),
            c if c < -0.3 => (HPos::Right, room),
            _ => (HPos::Center, 2.0 * room),
        };
        // A spoke where no series has a value says what that means.
        let label = if !spec.missing.is_empty() && spec.series.iter().all(|s| s.at(i).is_none()) {
            format!("{} ({})", clean(axis), clean(&spec.missing))
        } else {
            clean(axis)
        };
        let lines = wrap(&label, 12.0, width);
        // Lines stack away from the ring: upwards above it, downwards below it.
        let (x, y) = at(i, radius + 10.0);
        let shift = 14 * (lines.len() as i32 - 1);
        let (v, first) = match sin {
            s if s < -0.3 => (VPos::Bottom, y - shift),
            s if s > 0.3 => (VPos::Top, y),
            _ => (VPos::Center, y - shift / 2),
        };
        for (k, line) in lines.into_iter().enumerate() {
            let style = Paint::Text.font(LABEL_FONT).pos(Pos::new(h, v));
            root.draw(&Text::new(line, (x, first + 14 * k as i32), style))?;
        }
    }
    for (s, series) in spec.series.iter().enumerate() {
        let paint = Paint::Series(s);
        let values: Vec<Option<(i32, i32)>> =
            (0..n).map(|i| series.at(i).map(|v| point(i, v))).collect();
        let points: Vec<(i32, i32)> = values.iter().flatten().copied().collect();
        if points.len() == n && n > 2 {
            root.draw(&Polygon::new(points.clone(), paint.rgb().mix(0.2).filled()))?;
            let outline: Vec<(i32, i32)> = points.iter().chain(&points[..1]).copied().collect();
            root.draw(&PathElement::new(outline, paint.rgb().stroke_width(2)))?;
        } else if n > 1 {
            // Gaps: join only neighbouring spokes that both have a value, so the outline
            // never passes through a value nobody measured.
            for i in 0..n {
                let j = (i + 1) % n;
                if n == 2 && j == 0 {
                    break;
                }
                if let (Some(a), Some(b)) = (values[i], values[j]) {
                    root.draw(&PathElement::new(vec![a, b], paint.rgb().stroke_width(2)))?;
                }
            }
        }
        for p in points {
            root.draw(&Circle::new(p, 3, paint.rgb().filled()))?;
        }
    }
    Ok(())
}

/// The estimated width in pixels of `text` at font size `px`: wide (CJK, emoji) characters
/// take a full em, others about 0.6 em (generous for proportional fonts, so labels fit).
fn text_width(text: &str, px: f64) -> f64 {
    let ems: f64 = text
        .chars()
        .map(|c| match c as u32 {
            0x1100..=0x115F
            | 0x2E80..=0xA4CF
            | 0xAC00..=0xD7A3
            | 0xF900..=0xFAFF
            | 0xFE30..=0xFE4F
            | 0xFF00..=0xFF60
            | 0xFFE0..=0xFFE6
            | 0x1F300..=0x1FAFF
            | 0x20000..=0x3FFFD => 1.0,
            _ => 0.6,
        })
        .sum();
    ems * px
}

/// Text without control characters (XML forbids most, and none belongs in a label).
fn clean(text: &str) -> String {
    let visible = |c: char| match c {
        '\u{FFFE}' | '\u{FFFF}' => ' ',
        c if c.is_control() => ' ',
        c => c,
    };
    text.chars().map(visible).collect()
}

fn truncate(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_string();
    }
    let mut short: String = text.chars().take(max_chars.saturating_sub(1)).collect();
    short.push('…');
    short
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

/// `text` on one line, or on two split at the space that best balances them, each cut to fit
/// `width` pixels at font size `px`.
fn wrap(text: &str, px: f64, width: f64) -> Vec<String> {
    let full = text_width(text, px);
    if full <= width {
        return vec![text.to_string()];
    }
    let imbalance = |i: &usize| (text_width(&text[..*i], px) - full / 2.0).abs();
    let split = text
        .match_indices(' ')
        .map(|(i, _)| i)
        .min_by(|a, b| imbalance(a).total_cmp(&imbalance(b)));
    match split {
        Some(i) => vec![
            fit_width(&text[..i], px, width),
            fit_width(&text[i + 1..], px, width),
        ],
        None => vec![fit_width(text, px, width)],
    }
}

/// Escapes text for XML content and attribute values.
fn escape(text: &str) -> String {
    crate::site::highlight::escape_html(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticks(lo: f64, hi: f64, unit: Unit) -> Vec<String> {
        let scale = Scale::new(lo, hi, unit);
        scale
            .ticks
            .iter()
            .map(|t| unit.tick(*t, scale.step))
            .collect()
    }

    #[test]
    fn scales_start_at_zero_and_end_on_a_round_tick() {
        assert_eq!(ticks(0.0, 4.0, Unit::Count), ["0", "1", "2", "3", "4"]);
        assert_eq!(ticks(3.0, 7.0, Unit::Count), ["0", "2", "4", "6", "8"]);
        assert_eq!(ticks(0.0, 37.2, Unit::Hours), ["0", "10", "20", "30", "40"]);
        assert_eq!(
            ticks(0.0, 0.83, Unit::Ratio),
            ["0%", "20%", "40%", "60%", "80%", "100%"]
        );
        assert_eq!(ticks(0.0, 0.125, Unit::Ratio).last().unwrap(), "12.5%");
        assert_eq!(ticks(0.0, 3.0, Unit::Level), ["0", "1", "2", "3", "4", "5"]);
        assert_eq!(ticks(-2.0, 2.0, Unit::Count), ["-2", "-1", "0", "1", "2"]);
    }

    #[test]
    fn flat_and_tiny_ranges_still_have_height() {
        assert_eq!(ticks(0.0, 0.0, Unit::Count), ["0", "1"]);
        assert_eq!(ticks(0.0, 0.0, Unit::Ratio).last().unwrap(), "100%");
        assert_eq!(ticks(0.0, 0.3, Unit::Hours), ["0.0", "0.1", "0.2", "0.3"]);
        assert_eq!(ticks(0.0, 0.3, Unit::Count), ["0", "1"]);
    }

    #[test]
    fn text_helpers() {
        assert!((text_width("ab", 10.0) - 12.0).abs() < 1e-9);
        assert!((text_width("部署", 10.0) - 20.0).abs() < 1e-9);
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 4), "abc");
        assert_eq!(fit_width("abcdef", 10.0, 25.0), "abc…");
        assert_eq!(
            wrap("Infrastructure as Code", 10.0, 100.0),
            ["Infrastructure", "as Code"]
        );
        assert_eq!(clean("a\u{0}b\nc"), "a b c");
        assert_eq!(
            escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn sentinels_become_light_colours_with_a_class() {
        let line = format!(
            "<rect x=\"1\" fill=\"{}\" stroke=\"none\"/>",
            Paint::Series(1).sentinel()
        );
        assert_eq!(
            theme_colours(&line),
            "<rect x=\"1\" fill=\"#c4480a\" stroke=\"none\" class=\"chart-fill-2\"/>"
        );
        let line = format!("<text x=\"1\" fill=\"{}\">", Paint::Text.sentinel());
        assert_eq!(
            theme_colours(&line),
            "<text x=\"1\" fill=\"#1f2328\" class=\"chart-fill-text\">"
        );
        // Text content never holds a raw quote, so it never matches.
        let text = "fill=&quot;#0FC001&quot;";
        assert_eq!(theme_colours(text), text);
    }
}
