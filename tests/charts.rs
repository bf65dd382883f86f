//! The chart module: tables, accessibility markup, edge cases and hostile text.

use opsmeter::site::charts::{
    bar_chart, histogram, line_chart, radar, Band, BarSpec, Bucket, Chart, HistogramSpec, LineSpec,
    RadarSpec, Series, Unit,
};
use quick_xml::events::Event;
use quick_xml::{Reader, XmlVersion};

/// Buckets on a logarithmic scale, as the reports' lead-time distribution
/// uses (`reports::LEAD_TIME_BUCKETS`), labelled as its English theme strings.
fn lead_time_buckets() -> Vec<Bucket> {
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

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// An element's name and its attributes, unescaped.
type Element = (String, Vec<(String, String)>);

/// Reads `svg` to the end as XML, panicking on any well-formedness error; returns the text
/// nodes and the elements, unescaped.
fn parse(svg: &str) -> (Vec<String>, Vec<Element>) {
    let mut reader = Reader::from_str(svg);
    let (mut texts, mut elements) = (Vec::new(), Vec::new());
    let (mut depth, mut roots) = (0usize, 0usize);
    loop {
        let event = match reader.read_event() {
            Ok(event) => event,
            Err(e) => panic!("not well-formed at {}: {e}\n{svg}", reader.error_position()),
        };
        let (start, empty) = match &event {
            Event::Start(e) => (Some(e), false),
            Event::Empty(e) => (Some(e), true),
            _ => (None, false),
        };
        if let Some(e) = start {
            if depth == 0 {
                roots += 1;
                assert_eq!(e.name().as_ref(), "svg", "the root element is <svg>");
            }
            // Duplicate attributes are errors here too.
            let attributes = e
                .attributes()
                .map(|a| {
                    let a = a.expect("well-formed attribute");
                    let value = a
                        .normalized_value(XmlVersion::Implicit1_0)
                        .expect("valid escapes");
                    (a.key.as_ref().to_string(), value.into_owned())
                })
                .collect();
            elements.push((e.name().as_ref().to_string(), attributes));
            depth += usize::from(!empty);
        }
        match event {
            Event::Eof => break,
            Event::End(_) => depth -= 1,
            Event::Text(t) => texts.push(t.xml_content(XmlVersion::Implicit1_0).into_owned()),
            Event::GeneralRef(r) => {
                let name = r.xml_content(XmlVersion::Implicit1_0).into_owned();
                let known = ["amp", "lt", "gt", "quot", "apos", "#39"];
                assert!(known.contains(&name.as_str()), "unknown entity &{name};");
                texts.push(format!("&{name};"));
            }
            _ => {}
        }
    }
    assert_eq!((roots, depth), (1, 0), "one closed root element");
    (texts, elements)
}

fn weekly_deployments() -> BarSpec {
    BarSpec {
        id: "deploys".into(),
        title: "Deployments per week".into(),
        description: "Deployments in each ISO week of the window.".into(),
        x_label: "Week".into(),
        y_label: "Deployments".into(),
        unit: Unit::Count,
        categories: strings(&["2024-W01", "2024-W02", "2024-W03"]),
        series: vec![Series::new("payments", [3.0, 0.0, 2.0])],
        ..Default::default()
    }
}

fn lead_time() -> LineSpec {
    LineSpec {
        id: "lead-time".into(),
        title: "Lead time per week".into(),
        description: "Median lead time with the band up to p90.".into(),
        x_label: "Week".into(),
        y_label: "Lead time".into(),
        unit: Unit::Hours,
        x: strings(&["2024-W01", "2024-W02", "2024-W03"]),
        series: vec![Series {
            name: "median".into(),
            values: vec![Some(12.25), None, Some(3.0)],
        }],
        band: Some(Band {
            low: Series {
                name: "median".into(),
                values: vec![Some(12.25), None, Some(3.0)],
            },
            high: Series::new("p90", [40.0, f64::NAN, 7.56]),
        }),
        ..Default::default()
    }
}

fn levels() -> RadarSpec {
    RadarSpec {
        id: "practices".into(),
        title: "Practice levels".into(),
        description: "Level reached in each area.".into(),
        axis_label: "Area".into(),
        axes: strings(&[
            "Continuous Integration",
            "Testing",
            "Continuous Delivery",
            "Architecture & Containers",
            "Infrastructure as Code",
            "Monitoring",
            "Security",
            "Flow",
        ]),
        series: vec![Series::new(
            "payments",
            [3.0, 2.0, 4.0, 1.0, 0.0, 2.0, 5.0, 3.0],
        )],
        unit: Unit::Level,
        max: 5.0,
        ..Default::default()
    }
}

fn assert_accessible(chart: &Chart, id: &str, title: &str, description: &str) {
    let svg = &chart.svg;
    assert!(svg.starts_with("<svg "), "{svg}");
    assert!(svg.trim_end().ends_with("</svg>"), "{svg}");
    assert!(svg.contains(&format!(" id=\"{id}\"")), "{svg}");
    assert!(svg.contains("role=\"img\""));
    assert!(svg.contains(&format!("aria-labelledby=\"{id}-title {id}-desc\"")));
    assert!(
        svg.contains(&format!("<title id=\"{id}-title\">{title}</title>")),
        "{svg}"
    );
    assert!(
        svg.contains(&format!("<desc id=\"{id}-desc\">{description}</desc>")),
        "{svg}"
    );
    assert!(svg.contains("viewBox=\"0 0 "));
    assert!(
        !svg[..svg.find('>').unwrap()].contains(" width=\""),
        "scales with its container: {svg}"
    );
    parse(svg);
}

#[test]
fn bar_chart_table_lists_each_category_and_series() {
    let chart = bar_chart(&weekly_deployments());
    assert_eq!(chart.table.caption, "Deployments per week");
    assert_eq!(chart.table.headers, strings(&["Week", "payments"]));
    assert_eq!(
        chart.table.rows,
        vec![
            strings(&["2024-W01", "3"]),
            strings(&["2024-W02", "0"]),
            strings(&["2024-W03", "2"])
        ]
    );
    assert_accessible(
        &chart,
        "deploys",
        "Deployments per week",
        "Deployments in each ISO week of the window.",
    );
    // One bar per value (the zero bar has no height), in the first series colour.
    assert_eq!(chart.svg.matches("class=\"chart-fill-1\"").count(), 3);
    for text in ["2024-W01", "2024-W03", "Week", "Deployments"] {
        assert!(chart.svg.contains(text), "{text} missing");
    }
}

#[test]
fn colours_are_light_fallbacks_that_the_theme_css_overrides() {
    let css = opsmeter::site::charts::CHART_CSS;
    for chart in [
        bar_chart(&weekly_deployments()),
        line_chart(&lead_time()),
        radar(&levels()),
    ] {
        let (_, elements) = parse(&chart.svg);
        for (name, attributes) in &elements {
            let class = attributes
                .iter()
                .find(|(k, _)| k == "class")
                .map(|(_, v)| v.as_str());
            for (key, value) in attributes
                .iter()
                .filter(|(k, _)| k == "fill" || k == "stroke")
            {
                if value == "none" {
                    continue;
                }
                // The colour is the light value of the class's variable, and the class has a rule.
                let class = class.unwrap_or_else(|| panic!("<{name}> {key}={value} has no class"));
                let role = class
                    .strip_prefix(&format!("chart-{key}-"))
                    .expect("class matches attribute");
                let light = format!("--chart-{role}: {value};");
                assert!(css.contains(&light), "{light} not in CHART_CSS");
                let rule = format!("svg.chart .{class} {{ {key}: var(--chart-{role}); }}");
                assert!(css.contains(&rule), "{rule} not in CHART_CSS");
            }
        }
    }
    for name in [
        "--chart-1",
        "--chart-6",
        "--chart-axis",
        "--chart-grid",
        "--chart-text",
    ] {
        assert_eq!(
            css.matches(&format!("{name}:")).count(),
            2,
            "{name} light and dark"
        );
    }
    assert!(css.contains("@media (prefers-color-scheme: dark)"));
}

#[test]
fn stacked_and_grouped_bars_carry_every_series() {
    let mut spec = BarSpec {
        id: "tiers".into(),
        title: "Repositories per tier".into(),
        x_label: "Metric".into(),
        y_label: "Repositories".into(),
        categories: strings(&["Deployment frequency", "Lead time"]),
        series: vec![
            Series::new("elite", [1.0, 2.0]),
            Series::new("high", [2.0, 0.0]),
            Series {
                name: "low".into(),
                values: vec![Some(1.0)],
            },
        ],
        stacked: true,
        ..Default::default()
    };
    let stacked = bar_chart(&spec);
    assert_eq!(
        stacked.table.headers,
        strings(&["Metric", "elite", "high", "low"])
    );
    assert_eq!(
        stacked.table.rows,
        vec![
            strings(&["Deployment frequency", "1", "2", "1"]),
            strings(&["Lead time", "2", "0", "–"])
        ]
    );
    spec.stacked = false;
    let grouped = bar_chart(&spec);
    for chart in [&stacked, &grouped] {
        parse(&chart.svg);
        for (n, name) in ["elite", "high", "low"].iter().enumerate() {
            assert!(
                chart
                    .svg
                    .contains(&format!("class=\"chart-fill-{}\"", n + 1)),
                "colour of {name}"
            );
            assert!(chart.svg.contains(name), "legend entry {name}");
        }
    }
    assert_ne!(stacked.svg, grouped.svg);
}

#[test]
fn line_chart_table_has_series_then_band_with_one_decimal_hours() {
    let chart = line_chart(&lead_time());
    assert_eq!(
        chart.table.headers,
        strings(&["Week", "median (h)", "p90 (h)"])
    );
    assert_eq!(
        chart.table.rows,
        vec![
            strings(&["2024-W01", "12.2", "40.0"]),
            strings(&["2024-W02", "–", "–"]),
            strings(&["2024-W03", "3.0", "7.6"]),
        ]
    );
    assert_accessible(
        &chart,
        "lead-time",
        "Lead time per week",
        "Median lead time with the band up to p90.",
    );
    assert!(chart.svg.contains("Lead time (h)"), "y axis names its unit");
    // The gap splits the line: two lone points, drawn as markers, and two band pieces.
    assert_eq!(chart.svg.matches("<circle").count(), 2, "{}", chart.svg);
    assert_eq!(chart.svg.matches("<polygon").count(), 2, "{}", chart.svg);
    assert!(chart.svg.contains("median–p90"), "band in the legend");

    // A band with bounds of its own lists both.
    let mut spec = lead_time();
    if let Some(band) = spec.band.as_mut() {
        band.low = Series::new("p10", [1.0, 2.0, 0.5]);
    }
    let chart = line_chart(&spec);
    assert_eq!(
        chart.table.headers,
        strings(&["Week", "median (h)", "p10 (h)", "p90 (h)"])
    );
    assert_eq!(chart.table.rows[1], strings(&["2024-W02", "–", "2.0", "–"]));
}

#[test]
fn ratios_are_shown_as_percentages() {
    let chart = line_chart(&LineSpec {
        id: "cfr".into(),
        title: "Change failure rate".into(),
        x_label: "Month".into(),
        y_label: "Failed deployments".into(),
        unit: Unit::Ratio,
        x: strings(&["2024-01", "2024-02"]),
        series: vec![Series::new("rate", [0.125, 0.0])],
        ..Default::default()
    });
    assert_eq!(chart.table.headers, strings(&["Month", "rate (%)"]));
    assert_eq!(
        chart.table.rows,
        vec![
            strings(&["2024-01", "12.5%"]),
            strings(&["2024-02", "0.0%"])
        ]
    );
    assert!(chart.svg.contains("Failed deployments (%)"));
    assert!(
        chart.svg.contains("\n0.0%\n") && chart.svg.contains("%\n</text>"),
        "{}",
        chart.svg
    );
    assert!(chart.svg.contains("<polyline"), "two points make a line");
}

#[test]
fn no_data_gives_a_small_named_chart_and_an_empty_table() {
    let mut spec = weekly_deployments();
    spec.series = vec![Series {
        name: "payments".into(),
        values: vec![None, Some(f64::NAN), Some(f64::INFINITY)],
    }];
    let chart = bar_chart(&spec);
    assert_accessible(
        &chart,
        "deploys",
        "Deployments per week",
        "Deployments in each ISO week of the window.",
    );
    assert!(chart.svg.contains("No data"));
    assert!(chart.svg.contains("viewBox=\"0 0 640 80\""));
    assert_eq!(chart.table.headers, strings(&["Week", "payments"]));
    assert!(chart.table.rows.is_empty());

    let empty = line_chart(&LineSpec {
        id: "x".into(),
        title: "T".into(),
        no_data: "暂无数据".into(),
        ..Default::default()
    });
    assert!(empty.svg.contains("暂无数据"));
    assert!(empty.table.rows.is_empty());
    let none = histogram(&HistogramSpec {
        id: "h".into(),
        buckets: lead_time_buckets(),
        ..Default::default()
    });
    assert!(none.svg.contains("No data"));
    let flat = radar(&RadarSpec {
        id: "r".into(),
        ..Default::default()
    });
    assert!(flat.svg.contains("No data"));
    assert!(flat.table.rows.is_empty());
    for chart in [empty, none, flat] {
        parse(&chart.svg);
    }
}

#[test]
fn one_point_is_a_visible_marker() {
    let chart = line_chart(&LineSpec {
        id: "coverage".into(),
        title: "Coverage".into(),
        x_label: "Date".into(),
        y_label: "Line coverage".into(),
        unit: Unit::Ratio,
        x: strings(&["2024-05-01"]),
        series: vec![Series::new("lines", [0.81])],
        ..Default::default()
    });
    assert_eq!(chart.table.rows, vec![strings(&["2024-05-01", "81.0%"])]);
    assert_eq!(chart.svg.matches("<circle").count(), 1);
    assert!(!chart.svg.contains("chart-stroke-1"), "no zero-length line");
    assert!(chart.svg.contains("r=\"3\""));
}

#[test]
fn equal_values_get_a_range_with_height() {
    for value in [0.0, 4.0] {
        let chart = line_chart(&LineSpec {
            id: "flat".into(),
            title: "Flat".into(),
            x_label: "Week".into(),
            y_label: "Deployments".into(),
            x: strings(&["a", "b", "c"]),
            series: vec![Series::new("s", [value; 3])],
            ..Default::default()
        });
        let line = chart
            .svg
            .lines()
            .find(|l| l.starts_with("<polyline") && l.contains("chart-stroke-1"))
            .expect("a line");
        let ys: Vec<&str> = line
            .split("points=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .split_whitespace()
            .map(|p| p.split(',').nth(1).unwrap())
            .collect();
        assert_eq!(ys.len(), 3);
        assert!(ys.iter().all(|y| *y == ys[0]), "flat line");
        // The y axis has more than one tick label, so the line is not drawn on a collapsed axis.
        assert!(
            chart.svg.contains("\n1\n") || chart.svg.contains("\n5\n"),
            "{}",
            chart.svg
        );
    }
}

#[test]
fn histogram_counts_values_into_log_buckets() {
    let chart = histogram(&HistogramSpec {
        id: "distribution".into(),
        title: "Lead-time distribution".into(),
        description: "Changes by lead time.".into(),
        x_label: "Lead time (log scale)".into(),
        y_label: "Changes".into(),
        values: vec![0.5, 0.99, 1.0, 3.9, 30.0, 200.0, 5000.0, -1.0, f64::NAN],
        buckets: lead_time_buckets(),
        ..Default::default()
    });
    assert_eq!(
        chart.table.headers,
        strings(&["Lead time (log scale)", "Changes"])
    );
    assert_eq!(
        chart.table.rows,
        vec![
            strings(&["<1 h", "2"]),
            strings(&["1–4 h", "2"]),
            strings(&["4–24 h", "0"]),
            strings(&["1–7 d", "1"]),
            strings(&["7–30 d", "1"]),
            strings(&[">30 d", "1"]),
        ]
    );
    assert_accessible(
        &chart,
        "distribution",
        "Lead-time distribution",
        "Changes by lead time.",
    );
    assert!(chart.svg.contains("&lt;1 h") && chart.svg.contains("&gt;30 d"));
}

#[test]
fn radar_with_eight_axes_has_eight_spokes() {
    let chart = radar(&levels());
    assert_accessible(
        &chart,
        "practices",
        "Practice levels",
        "Level reached in each area.",
    );
    let spokes = chart
        .svg
        .split("<polyline")
        .skip(1)
        .filter(|element| element.contains("chart-stroke-axis"))
        .filter(|element| {
            let points = element
                .split("points=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap();
            points.split_whitespace().count() == 2
        })
        .count();
    assert_eq!(spokes, 8, "{}", chart.svg);
    // Five rings (levels 1–5), one polygon for the series, a marker on each axis.
    assert_eq!(chart.svg.matches("chart-stroke-grid").count(), 5);
    assert_eq!(chart.svg.matches("<polygon").count(), 1);
    assert_eq!(chart.svg.matches("<circle").count(), 8);
    assert_eq!(chart.table.headers, strings(&["Area", "payments"]));
    assert_eq!(
        chart.table.rows[3],
        strings(&["Architecture & Containers", "1"])
    );
    assert!(chart.svg.contains("&amp; Containers"), "wrapped label");
}

#[test]
fn radar_shows_areas_not_measured_as_gaps_never_as_zero() {
    let mut spec = levels();
    spec.series[0].values = vec![
        Some(3.0),
        None,
        Some(4.0),
        Some(1.0),
        None,
        Some(2.0),
        Some(5.0),
        Some(3.0),
    ];
    spec.missing = "not measured".into();
    let chart = radar(&spec);
    parse(&chart.svg);
    // Every area keeps its spoke; the two without a value say so beside their label.
    assert_eq!(chart.svg.matches("measured)").count(), 2, "{}", chart.svg);
    // No filled shape (it would pass through values nobody measured), a marker on each
    // measured spoke, and outline segments only between neighbours that both have a value:
    // Delivery–Architecture, Monitoring–Security, Security–Flow, Flow–Integration.
    assert_eq!(chart.svg.matches("<polygon").count(), 0);
    assert_eq!(chart.svg.matches("<circle").count(), 6);
    let outline = chart
        .svg
        .split("<polyline")
        .skip(1)
        .filter(|element| element.contains("chart-stroke-1"))
        .count();
    assert_eq!(outline, 4, "{}", chart.svg);
    // No marker at the centre, where a 0 would be drawn.
    assert!(!chart.svg.contains("<circle cx=\"320\" cy=\"210\""));
    assert_eq!(
        chart.table.rows[0],
        strings(&["Continuous Integration", "3"])
    );
    assert_eq!(chart.table.rows[1], strings(&["Testing", "not measured"]));
    assert_eq!(
        chart.table.rows[4],
        strings(&["Infrastructure as Code", "not measured"])
    );

    // Nothing measured at all: the no-data strip, and the table still lists every area.
    spec.series[0].values = vec![None; 8];
    spec.no_data = "No practice measured".into();
    let chart = radar(&spec);
    assert!(chart.svg.contains("No practice measured"));
    assert_eq!(chart.table.rows.len(), 8);
    assert!(chart.table.rows.iter().all(|r| r[1] == "not measured"));
}

#[test]
fn output_is_deterministic() {
    assert_eq!(
        bar_chart(&weekly_deployments()),
        bar_chart(&weekly_deployments())
    );
    assert_eq!(line_chart(&lead_time()), line_chart(&lead_time()));
    assert_eq!(radar(&levels()), radar(&levels()));
}

#[test]
fn many_categories_thin_the_axis_labels() {
    let weeks: Vec<String> = (1..=52).map(|w| format!("2024-W{w:02}")).collect();
    let mut spec = weekly_deployments();
    spec.series = vec![Series::new("payments", (1..=52).map(f64::from))];
    spec.categories = weeks.clone();
    let chart = bar_chart(&spec);
    assert_eq!(chart.table.rows.len(), 52);
    let shown = weeks
        .iter()
        .filter(|w| chart.svg.contains(&format!("\n{w}\n")))
        .count();
    assert!((4..=13).contains(&shown), "{shown} labels");
    parse(&chart.svg);
}

const HOSTILE: [&str; 5] = [
    "<script>alert(1)</script>",
    "\"><img src=x onerror=alert(1)>",
    "]]></svg>",
    "a & b ' c",
    "bell\u{7}\u{0}end",
];

#[test]
fn hostile_text_is_escaped_and_the_svg_stays_well_formed() {
    let text = HOSTILE.join(" ");
    let hostile = |i: usize| HOSTILE[i % HOSTILE.len()].to_string();
    let charts = [
        bar_chart(&BarSpec {
            id: hostile(1),
            title: text.clone(),
            description: text.clone(),
            x_label: hostile(0),
            y_label: hostile(2),
            categories: (0..5).map(hostile).collect(),
            series: vec![
                Series::new(hostile(0), [1.0, 2.0, 3.0, 4.0, 5.0]),
                Series::new(hostile(1), [1.0; 5]),
            ],
            ..Default::default()
        }),
        line_chart(&LineSpec {
            id: hostile(0),
            title: text.clone(),
            description: text.clone(),
            x_label: hostile(3),
            y_label: hostile(4),
            x: (0..5).map(hostile).collect(),
            series: vec![Series::new(hostile(2), [1.0, 2.0, 3.0, 4.0, 5.0])],
            band: Some(Band {
                low: Series::new(hostile(0), [0.0; 5]),
                high: Series::new(hostile(1), [9.0; 5]),
            }),
            ..Default::default()
        }),
        histogram(&HistogramSpec {
            id: hostile(2),
            title: text.clone(),
            description: text.clone(),
            x_label: hostile(1),
            y_label: hostile(0),
            values: vec![0.5, 2.0],
            buckets: lead_time_buckets(),
            no_data: hostile(0),
        }),
        radar(&RadarSpec {
            id: hostile(1),
            title: text.clone(),
            description: text.clone(),
            axis_label: hostile(0),
            axes: (0..5).map(hostile).collect(),
            series: vec![
                // The second spoke has no value: its label carries `missing`.
                Series::new(hostile(0), [1.0, f64::NAN, 3.0, 4.0, 5.0]),
                Series::new(hostile(2), [2.0, f64::NAN, 2.0, 2.0, 2.0]),
            ],
            unit: Unit::Level,
            max: 5.0,
            missing: hostile(1),
            no_data: hostile(2),
        }),
        bar_chart(&BarSpec {
            id: hostile(0),
            title: text.clone(),
            no_data: hostile(1),
            ..Default::default()
        }),
    ];
    for chart in &charts {
        let svg = &chart.svg;
        for raw in [
            "<script",
            "<img",
            "]]>",
            "onerror=alert(1)>",
            "\u{7}",
            "\u{0}",
            "a & b",
        ] {
            assert!(!svg.contains(raw), "raw {raw:?} in\n{svg}");
        }
        assert_eq!(svg.matches("<svg").count(), 1);
        assert_eq!(svg.matches("</svg>").count(), 1);
        let (texts, _) = parse(svg);
        let title = svg.split("<title").nth(1).unwrap();
        let title = &title[title.find('>').unwrap() + 1..title.find("</title>").unwrap()];
        assert!(
            title.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{title}"
        );
        assert!(
            title.contains("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"),
            "{title}"
        );
        assert!(title.contains("a &amp; b &#39; c"), "{title}");
        assert!(!texts.is_empty());
        let id = svg
            .split(" id=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        assert!(
            id.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
            "{id}"
        );
    }
    // The table keeps the text as given: the templates escape it.
    assert_eq!(charts[0].table.rows[0][0], HOSTILE[0]);
}

#[test]
fn crowded_charts_still_render() {
    let categories: Vec<String> = (0..500).map(|i| format!("category {i}")).collect();
    let series: Vec<Series> = (0..40)
        .map(|s| {
            Series::new(
                format!("a rather long series name {s}"),
                (0..500).map(|i| (i * s) as f64),
            )
        })
        .collect();
    let bars = bar_chart(&BarSpec {
        id: "crowded".into(),
        title: "Crowded".into(),
        categories: categories.clone(),
        series: series.clone(),
        stacked: true,
        ..Default::default()
    });
    let lines = line_chart(&LineSpec {
        id: "crowded-lines".into(),
        title: "Crowded".into(),
        x: categories,
        series,
        ..Default::default()
    });
    for chart in [bars, lines] {
        parse(&chart.svg);
        assert_eq!(chart.table.rows.len(), 500);
        assert_eq!(chart.table.headers.len(), 41);
        // The legend stops after three rows; the plot keeps its height.
        assert!(chart.svg.contains("\n…\n"), "legend cut short");
        assert!(!chart.svg.contains("a rather long series name 39"));
        assert!(!chart.svg.contains("height=\"-"), "no negative sizes");
    }
}
