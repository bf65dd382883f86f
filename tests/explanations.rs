//! A repository without deployments: the report explains which sources were
//! tried, what each held and what to do, in the JSON report, in `assess`'s
//! table and on the report page, in English and in Chinese.

mod common;

use std::path::Path;

use common::{opsmeter, Repo, HUMAN};

/// A repository tagged `release-YYYY-MM` (none matching the default
/// `tag_pattern`), without coverage reports or events files, and a site
/// listing it, in `lang`, with the handbook's metrics chapter.
fn site(name: &str, lang: &str) -> std::path::PathBuf {
    let root = common::scratch(name);
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(root.join("content/guide")).unwrap();
    let r = Repo::init(&root.join("repo"));
    let c1 = r.commit(
        "initial import",
        HUMAN,
        "2024-09-01T00:00:00Z",
        "2024-09-01T00:00:00Z",
    );
    r.tag("release-2024-09", &c1);
    let c2 = r.commit(
        "add feature",
        HUMAN,
        "2024-10-10T00:00:00Z",
        "2024-10-10T00:00:00Z",
    );
    r.tag_annotated("release-2024-10", &c2, "2024-10-15T00:00:00Z");
    let c3 = r.commit(
        "add more",
        HUMAN,
        "2024-11-10T00:00:00Z",
        "2024-11-10T00:00:00Z",
    );
    r.tag_annotated("release-2024-11", &c3, "2024-11-15T00:00:00Z");
    // Tagged last, on the oldest commit: "newest" is by tag time, not by tagging order.
    r.tag_annotated("build-7", &c1, "2024-09-02T00:00:00Z");
    std::fs::write(
        root.join("opsmeter.toml"),
        format!(
            "title = \"t\"\nbase_url = \"https://example.org/\"\ndefault_language = \"{lang}\"\nlanguages = [\"{lang}\"]\n\n[[repos]]\nname = \"x\"\npath = \"repo\"\n"
        ),
    )
    .unwrap();
    std::fs::write(
        root.join("content/guide/dora-metrics.md"),
        "+++\ntitle = \"DORA\"\n+++\n\nText.\n",
    )
    .unwrap();
    root
}

const DEPLOYMENTS: &str = "4 tags, none matching `^v?\\d+\\.\\d+\\.\\d+$`; the newest are `release-2024-11`, `release-2024-10`, `build-7`: set `tag_pattern = '^release-'`";

const COVERAGE: &str = "no coverage report in the tree: name CI artifacts with `coverage_reports`, or commit a report matching `coverage_globs`";
const INCIDENTS: &str = "no incidents recorded (no events file, no host issues), so recovery time is not measured: label incident issues `incident`, or add incident rows to an events file";

#[test]
fn a_repository_without_deployments_is_explained_in_json_and_in_the_table() {
    let root = site("explain-json", "en");
    let report = common::assess_site_json(&root, "2024-06-01", "2025-01-01", &[]);
    let r = &report["repos"][0];
    assert_eq!(r["dora"]["deployment_count"], 0);
    assert_eq!(
        r["explanations"],
        serde_json::json!([
            {
                "topic": "deployments",
                "source": "tags",
                "found": "tags_none_matching",
                "hint": "set_tag_pattern",
                "count": 4,
                "pattern": "^v?\\d+\\.\\d+\\.\\d+$",
                "tags": ["release-2024-11", "release-2024-10", "build-7"],
                "suggestion": "^release-",
                "chapter": "dora-metrics",
                "text": DEPLOYMENTS,
            },
            {
                "topic": "coverage",
                "source": "tree",
                "found": "no_coverage_report",
                "hint": "coverage_reports",
                "tags": [],
                "chapter": "testing",
                "text": COVERAGE,
            },
            {
                "topic": "incidents",
                "source": "events",
                "found": "no_incident_source",
                "hint": "record_incidents",
                "tags": [],
                "chapter": "dora-metrics",
                "text": INCIDENTS,
            },
        ])
    );
    let out = opsmeter()
        .args([
            "assess",
            "--since",
            "2024-06-01",
            "--until",
            "2025-01-01",
            "--root",
        ])
        .arg(&root)
        .assert()
        .success();
    let table = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(
        table.contains(&format!(
            "  why no deployments: {DEPLOYMENTS}\n  why no coverage: {COVERAGE}\n  why no incidents: {INCIDENTS}\n"
        )),
        "{table}"
    );
}

fn page(root: &Path) -> String {
    opsmeter()
        .args(["build", "--root"])
        .arg(root)
        .assert()
        .success();
    std::fs::read_to_string(root.join("public/repos/x/index.html")).unwrap()
}

/// The explanations section of a report page.
fn section(html: &str) -> &str {
    let start = html
        .find("<section aria-labelledby=\"explanations-title\"")
        .expect("an explanations section");
    let end = start + html[start..].find("</section>").unwrap() + "</section>".len();
    &html[start..end]
}

#[test]
fn the_report_page_explains_it_in_english() {
    let root = site("explain-en", "en");
    let html = page(&root);
    assert_eq!(
        section(&html),
        "<section aria-labelledby=\"explanations-title\" class=\"explanations\">\n\
<h2 id=\"explanations-title\">Why some measurements are missing</h2>\n<ul>\n  \
<li class=\"explanation explanation-deployments\"><strong>Deployments:</strong> 4 tags, none matching <code>^v?\\d+\\.\\d+\\.\\d+$</code>; \
the newest are <code>release-2024-11</code>, <code>release-2024-10</code>, <code>build-7</code>: set <code>tag_pattern = &#39;^release-&#39;</code> \
— <a href=\"/guide/dora-metrics/\">how to start, in the handbook</a></li>\n  \
<li class=\"explanation explanation-coverage\"><strong>Coverage:</strong> no coverage report in the tree: \
name CI artifacts with <code>coverage_reports</code>, or commit a report matching <code>coverage_globs</code> \
— <a href=\"/guide/testing/\">how to start, in the handbook</a></li>\n  \
<li class=\"explanation explanation-incidents\"><strong>Incidents:</strong> no incidents recorded (no events file, no host issues), \
so recovery time is not measured: label incident issues <code>incident</code>, or add incident rows to an events file \
— <a href=\"/guide/dora-metrics/\">how to start, in the handbook</a></li>\n</ul>\n</section>"
    );
}

/// A site whose language is Chinese renders its reports in Chinese: the
/// same explanations, in the Chinese theme strings.
#[test]
fn the_report_page_explains_it_in_chinese() {
    let root = site("explain-zh", "zh");
    let html = page(&root);
    assert_eq!(
        section(&html),
        "<section aria-labelledby=\"explanations-title\" class=\"explanations\">\n\
<h2 id=\"explanations-title\">为什么有些度量缺失</h2>\n<ul>\n  \
<li class=\"explanation explanation-deployments\"><strong>部署：</strong> 共 4 个标签，没有一个匹配 <code>^v?\\d+\\.\\d+\\.\\d+$</code>；\
最新的是 <code>release-2024-11</code>、<code>release-2024-10</code>、<code>build-7</code>：设置 <code>tag_pattern = &#39;^release-&#39;</code> \
— <a href=\"/guide/dora-metrics/\">如何开始，见手册</a></li>\n  \
<li class=\"explanation explanation-coverage\"><strong>覆盖率：</strong> 代码树中没有覆盖率报告：\
用 <code>coverage_reports</code> 指明 CI 产物，或提交一份匹配 <code>coverage_globs</code> 的报告 \
— <a href=\"/guide/testing/\">如何开始，见手册</a></li>\n  \
<li class=\"explanation explanation-incidents\"><strong>事故：</strong> 没有记录事故（没有事件文件，也没有托管平台的议题），因此无法度量恢复时间：\
为事故议题加上 <code>incident</code> 标签，或在事件文件中添加事故行 \
— <a href=\"/guide/dora-metrics/\">如何开始，见手册</a></li>\n</ul>\n</section>"
    );
}

/// Deployments only before the window: the explanation says how many and
/// when the last was, and to widen the window.
#[test]
fn deployments_before_the_window_are_counted_and_dated() {
    let root = common::scratch("explain-before");
    let _ = std::fs::remove_dir_all(&root);
    let r = Repo::init(&root);
    let c1 = r.commit(
        "initial import",
        HUMAN,
        "2024-01-01T00:00:00Z",
        "2024-01-01T00:00:00Z",
    );
    r.tag_annotated("v1.0.0", &c1, "2024-01-02T03:04:05Z");
    let c2 = r.commit(
        "add feature",
        HUMAN,
        "2024-02-01T00:00:00Z",
        "2024-02-01T00:00:00Z",
    );
    r.tag_annotated("v1.1.0", &c2, "2024-02-03T00:00:00Z");
    let report = common::assess_repo_json(&root, "2024-06-01", "2025-01-01", &[]);
    let e = &report["repos"][0]["explanations"][0];
    assert_eq!(e["found"], "none_in_window");
    assert_eq!(e["count"], 2);
    assert_eq!(e["last"], "2024-02-03T00:00:00Z");
    assert_eq!(
        e["text"],
        "2 deployments, none in the window; the last on 2024-02-03T00:00:00Z: widen the window with `--since`"
    );
}
