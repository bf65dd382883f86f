//! Dashboards through the real binary: a site with several fixture
//! repositories and a stored history, snapshot-tested; exports; and hostile
//! repository data that must come out escaped everywhere.

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use common::{branches, config_site, linear, opsmeter, scratch, Repo, HUMAN};

fn repos() -> &'static (PathBuf, PathBuf) {
    static R: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    R.get_or_init(|| {
        let a = scratch("dash-linear");
        linear(&a);
        let b = scratch("dash-branches");
        branches(&b);
        (a, b)
    })
}

const HISTORY: &str = r#"{"collected_at":"2024-01-05T00:00:00Z","window_days":90,"deployment_count":2,"deploy_days_per_week":1.0,"lead_time_median_hours":40.0,"change_failure_rate":0.0,"recovery_median_hours":null,"coverage_line_rate":0.5}
{"collected_at":"2024-02-01T00:00:00Z","window_days":90,"deployment_count":4,"deploy_days_per_week":2.0,"lead_time_median_hours":28.0,"change_failure_rate":0.25,"recovery_median_hours":72.0,"coverage_line_rate":0.55}
"#;

/// A site with two repositories and a stored history for one of them.
fn dashboard_site() -> tempfile::TempDir {
    let (a, b) = repos();
    let site = config_site(&format!(
            "title = \"Delivery\"\n\n[[repos]]\nname = \"linear\"\npath = {a:?}\n\n[[repos]]\nname = \"branches\"\npath = {b:?}\n"
        ));
    std::fs::create_dir_all(site.path().join("data/history")).unwrap();
    std::fs::write(site.path().join("data/history/linear.jsonl"), HISTORY).unwrap();
    site
}

fn build(site: &Path, since: &str, until: &str) {
    opsmeter()
        .arg("--root")
        .arg(site)
        .args(["build", "--since", since, "--until", until])
        .assert()
        .success();
}

fn read(site: &Path, rel: &str) -> String {
    std::fs::read_to_string(site.join("public").join(rel))
        .unwrap_or_else(|e| panic!("public/{rel}: {e}"))
}

#[test]
fn overview_and_report_match_snapshots() {
    let site = dashboard_site();
    build(site.path(), "2024-01-01", "2024-02-15");
    insta::assert_snapshot!("overview", read(site.path(), "index.html"));
    insta::assert_snapshot!(
        "report_linear",
        read(site.path(), "repos/linear/index.html")
    );
}

#[test]
fn overview_lists_every_repository_with_tiers_and_areas() {
    let site = dashboard_site();
    build(site.path(), "2024-01-01", "2024-02-15");
    let index = read(site.path(), "index.html");
    assert!(index
        .contains("<th scope=\"row\"><a href=\"/repos/linear/\" translate=\"no\">linear</a></th>"));
    assert!(index.contains(
        "<th scope=\"row\"><a href=\"/repos/branches/\" translate=\"no\">branches</a></th>"
    ));
    // linear: 4 deployments in 6.43 weeks = 0.62/week; branches: 7 in 6.43 = 1.09/week.
    assert!(index.contains("<td data-value=\"0.6222\">0.62"), "{index}");
    assert!(index.contains("<td data-value=\"1.0889\">1.09"), "{index}");
    // The stored history gives the trend table its two collection dates.
    assert!(
        index.contains(
            "<th scope=\"row\"><time datetime=\"2024-01-05\">2024-01-05</time></th><td>40</td>"
        ),
        "{index}"
    );
    assert!(
        index.contains(
            "<th scope=\"row\"><time datetime=\"2024-02-01\">2024-02-01</time></th><td>28</td>"
        ),
        "{index}"
    );
    assert!(index.contains("id=\"tier-distribution\""));
}

#[test]
fn report_json_is_the_assess_contract() {
    let site = dashboard_site();
    build(site.path(), "2024-01-01", "2024-02-15");
    let exported: serde_json::Value =
        serde_json::from_str(&read(site.path(), "api/report.json")).unwrap();
    let assessed = assess_json(site.path());
    assert_eq!(exported, assessed);
    assert_eq!(exported["repos"][0]["dora"]["deployment_count"], 4);
    let csv = read(site.path(), "api/report.csv");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3);
    // The `service` column is empty on a repository's own row.
    assert!(lines[1].starts_with("linear,,4,0.6222,"), "{}", lines[1]);
    assert!(lines[2].starts_with("branches,,7,1.0889,"), "{}", lines[2]);
    let badge = read(site.path(), "badges/linear.svg");
    assert!(badge.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(badge.contains("<title>linear: level "), "{badge}");
}

#[test]
fn charts_are_inline_svg_with_tables() {
    let site = dashboard_site();
    build(site.path(), "2024-01-01", "2024-02-15");
    let report = read(site.path(), "repos/linear/index.html");
    for id in [
        "deployments-per-week",
        "lead-time-per-week",
        "lead-time-distribution",
        "failure-rate-per-month",
        "recovery-per-month",
        "coverage-over-time",
        "area-levels",
    ] {
        assert!(
            report.contains(&format!("id=\"{id}\"")),
            "missing chart {id}"
        );
        assert!(
            report.contains(&format!("<title id=\"{id}-title\">")),
            "chart {id} has no title"
        );
    }
    // The palette comes from the generated stylesheet every page links.
    assert!(report.contains("/charts.css\">"));
    let css = read(site.path(), "charts.css");
    assert!(css.contains("--chart-1:") && css.contains("prefers-color-scheme: dark"));
    // No script from a CDN, no chart library.
    assert!(!report.contains("<script src=\"http"));
}

#[test]
fn hostile_repository_data_is_escaped_everywhere() {
    const SCRIPT: &str = "<script>alert(1)</script>";
    const IMG: &str = "\"><img src=x onerror=alert(1)>";
    const CDATA: &str = "]]></svg>";
    let dir = scratch("hostile");
    let r = Repo::init(&dir);
    let c1 = r.commit(
        &format!("init {SCRIPT}"),
        HUMAN,
        "2024-01-01T00:00:00Z",
        "2024-01-01T00:00:00Z",
    );
    r.tag(&format!("v1{SCRIPT}"), &c1);
    let c2 = r.commit(
        &format!("feat: {IMG} {CDATA}"),
        &format!("Mallory {IMG}"),
        "2024-01-02T00:00:00Z",
        "2024-01-03T00:00:00Z",
    );
    r.tag(&format!("v2{CDATA}"), &c2);
    let c3 = r.commit(
        &format!("Revert {SCRIPT}\n\nThis reverts commit {}.", &c2[..12]),
        &format!("{SCRIPT} [bot]x"),
        "2024-01-04T00:00:00Z",
        "2024-01-05T00:00:00Z",
    );
    r.tag("v3-evil\"'&", &c3);
    r.commit_files(
        &[(
            "Dockerfile",
            &format!("FROM node:latest\nENV TOKEN={SCRIPT}\n"),
        )],
        "docker",
        "2024-01-06T00:00:00Z",
    );

    let site = config_site(&format!(
        "[[repos]]\nname = \"hostile\"\npath = {dir:?}\ntag_pattern = \"^v\"\n"
    ));
    build(site.path(), "2024-01-01", "2024-02-01");
    // The tags are deployments: the data really reached the site.
    let report = read(site.path(), "repos/hostile/index.html");
    assert!(
        report.contains("v1&lt;script&gt;alert(1)&lt;&#x2F;script&gt;")
            || report.contains("v1&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{report}"
    );
    let mut scanned = 0;
    for entry in walkdir::WalkDir::new(site.path().join("public")) {
        let entry = entry.unwrap();
        if !entry.file_type().is_file() {
            continue;
        }
        let bytes = std::fs::read(entry.path()).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        for bad in [SCRIPT, IMG, CDATA, "<img src=x"] {
            assert!(
                !text.contains(bad),
                "{} contains {bad:?}",
                entry.path().display()
            );
        }
        scanned += 1;
    }
    assert!(scanned > 10, "scanned {scanned} files");
}

#[test]
fn teams_get_their_own_overview_and_unknown_members_are_an_error() {
    let site = dashboard_site();
    let config = site.path().join("opsmeter.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        format!("{text}\n[[teams]]\nname = \"Platform Team\"\nrepos = [\"branches\"]\n"),
    )
    .unwrap();
    build(site.path(), "2024-01-01", "2024-02-15");
    let team = read(site.path(), "teams/platform-team/index.html");
    assert!(team.contains("<h1 translate=\"no\">Platform Team</h1>"));
    assert!(team.contains("<a href=\"/repos/branches/\" translate=\"no\">branches</a>"));
    assert!(!team.contains("<a href=\"/repos/linear/\" translate=\"no\">linear</a>"));
    let index = read(site.path(), "index.html");
    assert!(index.contains("<a href=\"/teams/platform-team/\" translate=\"no\">Platform Team</a>"));

    std::fs::write(
        &config,
        format!("{text}\n[[teams]]\nname = \"X\"\nrepos = [\"nope\"]\n"),
    )
    .unwrap();
    let out = opsmeter()
        .arg("--root")
        .arg(site.path())
        .args(["build", "--since", "2024-01-01", "--until", "2024-02-15"])
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        stderr.contains(
            "team `X` lists `nope`, which is not one of the repositories (linear, branches)"
        ),
        "{stderr}"
    );
}

#[test]
fn evidence_links_to_the_file_on_the_host() {
    let dir = scratch("dash-web");
    linear(&dir);
    std::fs::write(dir.join("Dockerfile"), "FROM node:latest\n").unwrap();
    let site = config_site(&format!(
        "[[repos]]\nname = \"web\"\npath = {dir:?}\nweb_url = \"https://github.com/acme/web\"\n"
    ));
    build(site.path(), "2024-01-01", "2024-02-15");
    let report = read(site.path(), "repos/web/index.html");
    assert!(
        report.contains("<a href=\"https://github.com/acme/web/blob/HEAD/Dockerfile#L1\"><code translate=\"no\">Dockerfile:1</code></a>"),
        "{report}"
    );
}

/// The `linear` fixture as a bare clone (how CI and servers keep mirrors): the probes
/// find no work tree, so no file-based practice can be decided.
fn bare_linear() -> (PathBuf, PathBuf) {
    let checkout = scratch("dash-bare-src");
    linear(&checkout);
    let bare = scratch("dash-bare.git");
    if bare.exists() {
        std::fs::remove_dir_all(&bare).unwrap();
    }
    let ok = std::process::Command::new("git")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .args(["clone", "-q", "--bare"])
        .arg(&checkout)
        .arg(&bare)
        .status()
        .unwrap();
    assert!(ok.success());
    // HEAD names a branch the mirror does not have: its history can be read,
    // but no tree is chosen, so the probes cannot look at any file.
    let ok = std::process::Command::new("git")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .arg("--git-dir")
        .arg(&bare)
        .args(["symbolic-ref", "HEAD", "refs/heads/trunk"])
        .status()
        .unwrap();
    assert!(ok.success());
    (checkout, bare)
}

/// `assess --json` over the dashboard sites' window, [01-01, 02-15).
fn assess_json(site: &Path) -> serde_json::Value {
    common::assess_site_json(site, "2024-01-01", "2024-02-15", &[])
}

fn practice<'a>(report: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    report["repos"][0]["practices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == id)
        .unwrap_or_else(|| panic!("no practice {id}"))
}

const NO_TREE: &str = "HEAD names the branch `trunk`, which does not exist in this repository; its branches are `main`: set `ref` on its [[repos]] entry to the one to read";

#[test]
fn a_mirror_whose_files_cannot_be_read_is_not_measured_never_zero() {
    let (checkout, bare) = bare_linear();
    let site = config_site(&format!(
        "languages = [\"en\", \"zh\"]\n\n[[repos]]\nname = \"mirror\"\npath = {bare:?}\n"
    ));
    build(site.path(), "2024-01-01", "2024-02-15");

    // The heat map: the seven areas that need files say "not measured" (not 0, not the
    // red of level 0); Flow comes from the history, which a bare repository has:
    // delivery performance 2 and trunk-based development 1, so (2 + 1) / 2 = 1.5.
    let index = read(site.path(), "index.html");
    let not_measured = "<td class=\"level-nm\">not measured</td>".repeat(7);
    assert!(
        index.contains(&format!(
            "<tr><th scope=\"row\"><a href=\"/repos/mirror/\" translate=\"no\">mirror</a></th>\n      {not_measured}<td class=\"level-1\">1.5</td>"
        )),
        "{index}"
    );
    // The overall level rests on the 2 measured practices of the 10 that apply (the
    // container and Kubernetes practices apply unless a probe could say they do not).
    assert!(
        index.contains("<td data-value=\"1.5\">1.5<span class=\"measured-count\">2 of 10 practices measured</span></td>"),
        "{index}"
    );
    assert!(!index.contains("class=\"level-0\""), "{index}");
    let zh = read(site.path(), "zh/index.html");
    assert!(zh.contains("<td class=\"level-nm\">未度量</td>"), "{zh}");
    assert!(zh.contains("10 项实践中已度量 2 项"), "{zh}");

    // The report: each file-based practice says "not measured" and why; none says level 0.
    let report = read(site.path(), "repos/mirror/index.html");
    assert!(
        report.contains("Overall level: 1.5 / 5 (2 of 10 practices measured)"),
        "{report}"
    );
    assert!(
        report.contains("<strong>Continuous integration</strong> —\n      <span class=\"level level-nm\">not measured</span></summary>\n    <p class=\"reason\"><strong>Why not measured:</strong> <span>level 1 could not be decided (ci.config-present: HEAD names the branch `trunk`, which does not exist in this repository; its branches are `main`: set `ref` on its [[repos]] entry to the one to read)</span></p>"),
        "{report}"
    );
    assert_eq!(report.matches("level level-nm\">not measured").count(), 8);
    assert!(!report.contains("Level 0 /"), "{report}");
    assert!(!report.contains("level-0"), "{report}");
    // The radar keeps the areas as spokes, says they are not measured, and its table too.
    assert!(
        report.contains("<th scope=\"row\">Continuous Integration</th><td>not measured</td>"),
        "{report}"
    );
    assert!(
        report.contains("<th scope=\"row\">Flow</th><td>1.5</td>"),
        "{report}"
    );
    assert!(
        report.contains("Not measured (no practice could be decided): Continuous Integration, Testing, Continuous Delivery, Architecture &amp; Containers, Infrastructure as Code, Monitoring, Security."),
        "{report}"
    );

    // The exports: `"level": null` with the reason, and the CSV's counts.
    let json = assess_json(site.path());
    let exported: serde_json::Value =
        serde_json::from_str(&read(site.path(), "api/report.json")).unwrap();
    assert_eq!(json, exported);
    let ci = practice(&json, "continuous-integration");
    assert_eq!(ci["level"], serde_json::Value::Null);
    assert_eq!(ci["status"], "not-measured");
    assert_eq!(ci["applicable"], true);
    // Nothing is known to be missing: no step is recommended.
    assert_eq!(ci["next_step"], serde_json::Value::Null);
    assert_eq!(
        ci["reason"],
        format!("level 1 could not be decided (ci.config-present: {NO_TREE})")
    );
    let delivery = practice(&json, "deployment-automation");
    assert_eq!(delivery["level"], serde_json::Value::Null);
    assert_eq!(
        delivery["reason"],
        format!("level 1 could not be decided (delivery.deploy-job, delivery.codedeploy-appspec, delivery.helm-kustomize, delivery.gitops: {NO_TREE})")
    );
    assert_eq!(practice(&json, "delivery-performance")["level"], 2);
    assert_eq!(practice(&json, "trunk-based-development")["level"], 1);
    let ci_area = &json["repos"][0]["areas"][0];
    assert_eq!(ci_area["score"], serde_json::Value::Null);
    assert_eq!(
        (ci_area["measured"].as_u64(), ci_area["applicable"].as_u64()),
        (Some(0), Some(1))
    );
    let csv = read(site.path(), "api/report.csv");
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let row: Vec<&str> = csv.lines().nth(1).unwrap().split(',').collect();
    let cell = |name: &str| row[header.iter().position(|h| *h == name).unwrap()];
    assert_eq!(cell("overall_level"), "1.5");
    assert_eq!(cell("practices_measured"), "2");
    assert_eq!(cell("practices_applicable"), "10");
    assert_eq!(cell("area: Continuous Integration"), "");
    assert_eq!(cell("area: Flow"), "1.5");
    let badge = read(site.path(), "badges/mirror.svg");
    assert!(
        badge.contains("<title>mirror: level 1.5 (2 of 10 practices measured)</title>"),
        "{badge}"
    );

    // The table of `assess` prints "not measured", the reason, and the counts.
    let out = opsmeter()
        .arg("--root")
        .arg(site.path())
        .args(["assess", "--since", "2024-01-01", "--until", "2024-02-15"])
        .assert()
        .success();
    let table = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(
        table.contains("Continuous integration           not measured \n"),
        "{table}"
    );
    assert!(
        table.contains(&format!(
            "level 1 could not be decided (ci.config-present: {NO_TREE})"
        )),
        "{table}"
    );
    assert!(
        table.contains("areas: Continuous Integration not measured · "),
        "{table}"
    );
    assert!(
        table.contains("overall level: 1.5 (2 of 10 practices measured)"),
        "{table}"
    );

    // The same history as a checkout: the probes read the files, find no pipeline, and
    // continuous integration is a measured 0 — a failure, not a default.
    let checkout_site = config_site(&format!(
        "[[repos]]\nname = \"checkout\"\npath = {checkout:?}\n"
    ));
    let json = assess_json(checkout_site.path());
    let ci = practice(&json, "continuous-integration");
    assert_eq!(ci["level"], 0);
    assert_eq!(ci["status"], "measured");
    assert_eq!(ci["reason"], serde_json::Value::Null);
}

/// The dashboard site with Chinese beside English.
fn bilingual_dashboard_site() -> tempfile::TempDir {
    let site = dashboard_site();
    let config = site.path().join("opsmeter.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace(
            "title = \"Delivery\"\n",
            "title = \"Delivery\"\nlanguages = [\"zh\", \"en\"]\n",
        ),
    )
    .unwrap();
    site
}

#[test]
fn chinese_overview_and_report_match_snapshots() {
    let site = bilingual_dashboard_site();
    build(site.path(), "2024-01-01", "2024-02-15");
    insta::assert_snapshot!("overview_zh", read(site.path(), "zh/index.html"));
    insta::assert_snapshot!(
        "report_linear_zh",
        read(site.path(), "zh/repos/linear/index.html")
    );
}

#[test]
fn every_dashboard_page_exists_in_every_language_with_switcher_hreflang_and_sitemap() {
    let site = bilingual_dashboard_site();
    let config = site.path().join("opsmeter.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        format!("{text}\n[[teams]]\nname = \"Core\"\nrepos = [\"linear\"]\n"),
    )
    .unwrap();
    build(site.path(), "2024-01-01", "2024-02-15");
    for (en, zh) in [
        ("repos/linear/index.html", "zh/repos/linear/index.html"),
        ("repos/branches/index.html", "zh/repos/branches/index.html"),
        ("teams/core/index.html", "zh/teams/core/index.html"),
    ] {
        let en_page = read(site.path(), en);
        let zh_page = read(site.path(), zh);
        assert!(
            en_page.starts_with("<!doctype html>\n<html lang=\"en\">"),
            "{en}"
        );
        assert!(
            zh_page.starts_with("<!doctype html>\n<html lang=\"zh\">"),
            "{zh}"
        );
        let en_url = format!("/{}", en.trim_end_matches("index.html"));
        let zh_url = format!("/{}", zh.trim_end_matches("index.html"));
        for page in [&en_page, &zh_page] {
            assert!(page.contains(&format!(
                "<link rel=\"alternate\" hreflang=\"zh\" href=\"{zh_url}\">"
            )));
            assert!(page.contains(&format!(
                "<link rel=\"alternate\" hreflang=\"en\" href=\"{en_url}\">"
            )));
        }
        // The switcher: the page's own language is current, the other a link.
        assert!(zh_page.contains("<span aria-current=\"true\" lang=\"zh\">zh</span>"));
        assert!(zh_page.contains(&format!(
            "<a href=\"{en_url}\" hreflang=\"en\" lang=\"en\">en</a>"
        )));
        assert!(en_page.contains(&format!(
            "<a href=\"{zh_url}\" hreflang=\"zh\" lang=\"zh\">zh</a>"
        )));
    }
    // The Chinese overview links the Chinese reports and team page; the
    // breadcrumb of a Chinese report leads back to the Chinese overview.
    let overview = read(site.path(), "zh/index.html");
    assert!(overview.contains("<a href=\"/zh/repos/linear/\" translate=\"no\">linear</a>"));
    assert!(overview.contains("<a href=\"/zh/teams/core/\" translate=\"no\">Core</a>"));
    let report = read(site.path(), "zh/repos/linear/index.html");
    assert!(report.contains("<ol><li><a href=\"/zh/\">总览</a></li>"));
    // Practices link the Chinese handbook chapters.
    assert!(report.contains("<a href=\"/zh/guide/continuous-integration/\">手册</a>"));
    // The sitemap lists both languages of every report, each with its alternates.
    let sitemap = read(site.path(), "sitemap.xml");
    assert!(
        sitemap.contains(
            "  <url>\n    <loc>/zh/repos/linear/</loc>\n    \
<xhtml:link rel=\"alternate\" hreflang=\"zh\" href=\"/zh/repos/linear/\"/>\n    \
<xhtml:link rel=\"alternate\" hreflang=\"en\" href=\"/repos/linear/\"/>\n  </url>"
        ),
        "{sitemap}"
    );
    assert!(sitemap.contains("<loc>/repos/linear/</loc>"));
    assert!(sitemap.contains("<loc>/zh/teams/core/</loc>"));
}

#[test]
fn chinese_dashboards_say_every_word_of_ours_in_chinese() {
    let site = bilingual_dashboard_site();
    build(site.path(), "2024-01-01", "2024-02-15");
    let report = read(site.path(), "zh/repos/linear/index.html");
    // Cards: labels, units, tiers.
    assert!(report.contains("<h3>部署频率</h3>"), "{report}");
    assert!(
        report.contains("<span class=\"unit\">次/周</span>"),
        "{report}"
    );
    assert!(
        report.contains("<p class=\"detail\">4 次部署；每周部署日中位数 0</p>"),
        "{report}"
    );
    assert!(
        report.contains("<span class=\"unit\">小时（中位数）</span>"),
        "{report}"
    );
    // Chart titles, axes, legends and empty states.
    assert!(
        report.contains("<title id=\"deployments-per-week-title\">每周部署次数</title>"),
        "{report}"
    );
    assert!(report.contains(">周（自周一起）<"), "{report}");
    assert!(report.contains("\n中位数–p90\n</text>"), "{report}");
    // The model's and probes' texts.
    assert!(report.contains("<strong>持续集成</strong>"), "{report}");
    assert!(
        report.contains("<span>添加流水线定义，对每次推送进行构建。</span>"),
        "{report}"
    );
    assert!(
        report.contains("<span class=\"outcome\">未通过</span>"),
        "{report}"
    );
    assert!(
        report.contains("<span class=\"remediation\">怎么做：</span>"),
        "{report}"
    );
    // Dates in the Chinese format; the assessment's own sentences (why a level could not be
    // decided, evidence notes) in Chinese too, not marked as English.
    assert!(report.contains(">2024年1月1日</time>"), "{report}");
    assert!(
        report.contains(
            "<span>第 2 级无法判定（flow.small-batches：没有带行数统计的已合并拉取请求\
             （行数来自 GitHub；单纯的 git 历史没有评审单元））</span>"
        ),
        "{report}"
    );
    assert!(
        report.contains("<span>最近 30 天内，除 main 外有 0 个活跃分支（至多 3 个）</span>"),
        "{report}"
    );
    assert!(
        report.contains("<span>tier.lead_time 为 高</span>"),
        "{report}"
    );
    assert!(!report.contains("could not be decided"), "{report}");
    assert!(!report.contains("no matching files"), "{report}");
    // Data stays data: the repository name, refs and probe ids as they are.
    assert!(report.contains("<h1 translate=\"no\">linear</h1>"));
    assert!(report.contains("<code translate=\"no\">v1.1.0</code>"));
    for english in [
        ">elite<", ">high<", ">low<", ">Trends<", "/ week", "h median", ">pass<", ">fail<",
    ] {
        assert!(!report.contains(english), "{english} in the Chinese report");
    }
    let overview = read(site.path(), "zh/index.html");
    assert!(overview.contains("<th scope=\"col\">精英</th><th scope=\"col\">高</th><th scope=\"col\">中</th><th scope=\"col\">低</th>"), "{overview}");
    assert!(
        overview.contains("<th scope=\"row\">部署频率</th>"),
        "{overview}"
    );
    assert!(
        overview.contains("<th scope=\"col\">持续集成</th>"),
        "{overview}"
    );
    // The English pages keep their English.
    let en = read(site.path(), "repos/linear/index.html");
    assert!(en.contains("<strong>Continuous integration</strong>"));
    assert!(en.contains("<title id=\"deployments-per-week-title\">Deployments per week</title>"));
}

/// Stored GitHub facts with pull requests covering every phase case, and a site that reads them.
/// `title`, `author` and `branch` are the strangers' strings under test.
fn host_site(title: &str, author: &str, branch: &str, incident: &str) -> tempfile::TempDir {
    let sha = |c: char| c.to_string().repeat(40);
    let pr = |n: u64,
              created: &str,
              merged: &str,
              first_commit: Option<&str>,
              response: Option<&str>,
              deployment: Option<u64>| {
        serde_json::json!({
            "number": n, "title": format!("{title} #{n}"), "author": author, "branch": branch,
            "created_at": created, "merged_at": merged, "first_commit_at": first_commit,
            "first_response_at": response, "additions": 1, "deletions": 0,
            "merge_sha": sha(char::from_digit(n as u32, 10).unwrap()), "revert": n == 6,
            "reverts": if n == 6 { Some("#4") } else { None }, "deployment": deployment
        })
    };
    let change = |n: u64, author_time: &str, deployment: u64, reverts: Option<u64>| {
        serde_json::json!({
            "sha": sha(char::from_digit(n as u32, 10).unwrap()), "author_time": author_time,
            "deployment": deployment, "fix": false, "reverts_deployment": reverts,
            "revert": reverts.is_some()
        })
    };
    let facts = serde_json::json!({
        "schema_version": 1,
        "collected_at": "2024-02-01T00:00:00Z",
        "facts": {
            "name": "acme/api",
            "deployments": [
                {"ref": "v1", "sha": sha('a'), "time": "2024-01-01T00:00:00Z", "source": "release", "status": "success"},
                {"ref": "v2", "sha": sha('b'), "time": "2024-01-10T00:00:00Z", "source": "release", "status": "success"},
                {"ref": "v3", "sha": sha('c'), "time": "2024-01-20T00:00:00Z", "source": "release", "status": "success"}
            ],
            "changes": [
                change(2, "2024-01-02T00:00:00Z", 1, None),
                change(3, "2024-01-05T12:00:00Z", 1, None),
                change(4, "2024-01-07T00:00:00Z", 1, None),
                change(6, "2024-01-14T00:00:00Z", 2, Some(1))
            ],
            "incidents": [
                {"id": incident, "started_at": "2024-01-21T00:00:00Z", "resolved_at": "2024-01-21T05:00:00Z", "cause_deployment": null}
            ],
            "notes": [],
            "pull_requests": [
                // Merged before the first deployment: the baseline ships it.
                pr(1, "2023-12-28T00:00:00Z", "2023-12-30T00:00:00Z", Some("2023-12-27T00:00:00Z"), Some("2023-12-29T00:00:00Z"), Some(0)),
                // Every phase known.
                pr(2, "2024-01-02T06:00:00Z", "2024-01-03T08:00:00Z", Some("2024-01-02T00:00:00Z"), Some("2024-01-02T08:00:00Z"), Some(1)),
                // Squashed; a commit authored after opening (negative coding); nobody responded.
                pr(3, "2024-01-05T00:00:00Z", "2024-01-06T00:00:00Z", Some("2024-01-05T12:00:00Z"), None, Some(1)),
                // Rebased; opened with its first commit.
                pr(4, "2024-01-07T00:00:00Z", "2024-01-08T00:00:00Z", Some("2024-01-07T00:00:00Z"), Some("2024-01-07T01:00:00Z"), Some(1)),
                // Merged, not deployed by the window's end.
                pr(5, "2024-01-25T00:00:00Z", "2024-01-26T00:00:00Z", None, None, None),
                // The revert of #4, shipped by v3: v2 failed.
                pr(6, "2024-01-14T00:00:00Z", "2024-01-15T00:00:00Z", None, None, Some(2))
            ],
            "collection": {"host": "github", "project": "acme/api", "api_url": "https://api.github.com", "cursor": null}
        }
    });
    github_facts_site("acme/api", &facts)
}

/// `assess --json` over the host sites' window, [01-01, 02-01).
fn assess_host_site(site: &Path) -> serde_json::Value {
    common::assess_site_json(site, "2024-01-01", "2024-02-01", &[])
}

/// The phases contract, worked by hand, from `assess --json` and `/api/report.json` alike.
#[test]
fn pull_request_phases_are_in_the_contract_and_on_the_report() {
    let site = host_site("feat: thing", "ada", "topic", "#9");
    build(site.path(), "2024-01-01", "2024-02-01");
    let exported: serde_json::Value =
        serde_json::from_str(&read(site.path(), "api/report.json")).unwrap();
    let assessed = assess_host_site(site.path());
    assert_eq!(exported, assessed);
    let repo = &assessed["repos"][0];
    let phases = |p: &serde_json::Value| {
        let h = &p["phases_hours"];
        (
            h["coding"].clone(),
            h["pickup"].clone(),
            h["review"].clone(),
            h["deploy"].clone(),
        )
    };
    let prs = repo["pull_requests"].as_array().unwrap();
    let numbers: Vec<u64> = prs.iter().map(|p| p["number"].as_u64().unwrap()).collect();
    assert_eq!(numbers, [1, 2, 3, 4, 5, 6]);
    use serde_json::json;
    // #1, baseline: coding 24, pickup 24, review 24; its deploy phase is unknown.
    assert_eq!(prs[0]["deployment"], "v1");
    assert_eq!(prs[0]["baseline"], true);
    assert_eq!(
        phases(&prs[0]),
        (json!(24.0), json!(24.0), json!(24.0), json!(null))
    );
    // #2: coding 00:00→06:00 6 h, pickup 06:00→08:00 2 h, review 08:00→next 08:00 24 h,
    // deploy 01-03 08:00 → 01-10 00:00 = 160 h.
    assert_eq!(
        phases(&prs[1]),
        (json!(6.0), json!(2.0), json!(24.0), json!(160.0))
    );
    assert_eq!(prs[1]["url"], "https://github.com/acme/api/pull/2");
    assert_eq!(prs[1]["created"], "2024-01-02T06:00:00Z");
    assert_eq!(prs[1]["merged"], "2024-01-03T08:00:00Z");
    // #3: coding −12 h is unknown; no response: no pickup, review from opening 24 h; deploy 96 h.
    assert_eq!(
        phases(&prs[2]),
        (json!(null), json!(null), json!(24.0), json!(96.0))
    );
    // #4: coding 0, pickup 1, review 23, deploy 48.
    assert_eq!(
        phases(&prs[3]),
        (json!(0.0), json!(1.0), json!(23.0), json!(48.0))
    );
    // #5: merged on 01-26, not deployed.
    assert_eq!(prs[4]["deployment"], json!(null));
    assert_eq!(
        phases(&prs[4]),
        (json!(null), json!(null), json!(24.0), json!(null))
    );
    // #6: review 24, deploy 01-15 → 01-20 = 120.
    assert_eq!(prs[5]["deployment"], "v3");
    // Over #2, #3, #4 and #6 (the baseline and the undeployed excepted):
    // coding [0, 6], pickup [1, 2], review [23, 24, 24, 24], deploy [48, 96, 120, 160].
    assert_eq!(
        repo["dora"]["lead_time_phases_hours"],
        json!({
            "coding": {"count": 2, "median": 3.0, "p90": 5.4},
            "pickup": {"count": 2, "median": 1.5, "p90": 1.9},
            "review": {"count": 4, "median": 24.0, "p90": 24.0},
            "deploy": {"count": 4, "median": 108.0, "p90": 148.0}
        })
    );

    let page = read(site.path(), "repos/acme-api/index.html");
    // Median cards and the stacked chart with its table.
    assert!(
        page.contains("<h2 id=\"phases-title\">Where the lead time goes</h2>"),
        "{page}"
    );
    assert!(
        page.contains("108 <span class=\"unit\">h median</span>"),
        "{page}"
    );
    assert!(page.contains("id=\"lead-time-phases\""));
    // Slowest first: #2 (first commit 01-02 00:00 → 01-10: 192 h), then #6 (144 h).
    let slowest = &page[page.find("id=\"slowest-changes\"").unwrap()..];
    let first = slowest.find("/pull/2\"").unwrap();
    let second = slowest.find("/pull/6\"").unwrap();
    assert!(first < second, "{slowest}");
    assert!(slowest.contains("<td>192</td><td>6</td><td>2</td><td>24</td><td>160</td><td><a href=\"#deployment-1\"><code>v2</code></a></td>"), "{slowest}");
    // v2 failed: #6 reverted #4 (shipped in v3). v3: incident #9 started after it.
    assert!(page.contains("<strong>Reverted by</strong> <a href=\"https://github.com/acme/api/pull/6\"><code>#6</code></a> feat: thing #6 (shipped in <code>v3</code>) — it reverts <code>#4</code> feat: thing #4"), "{page}");
    assert!(page.contains("<strong>Incident</strong> <code>#9</code> — started <time datetime=\"2024-01-21T00:00:00Z\">2024-01-21 00:00</time>, resolved <time datetime=\"2024-01-21T05:00:00Z\">2024-01-21 05:00</time>"), "{page}");
    assert!(page.contains("<details class=\"deployment failed\" id=\"deployment-1\" open>"));
}

/// Pull-request titles, author logins, branch names and incident ids carrying
/// markup reach the drill-down escaped, and nowhere raw.
#[test]
fn hostile_pull_request_data_is_escaped_in_the_drill_down() {
    const SCRIPT: &str = "<script>alert(1)</script>";
    const IMG: &str = "\"><img src=x onerror=alert(1)>";
    const CDATA: &str = "]]></svg>";
    let site = host_site(
        &format!("feat: {SCRIPT} {CDATA}"),
        &format!("mallory{IMG}"),
        &format!("topic{SCRIPT}"),
        &format!("#9{IMG}{CDATA}"),
    );
    build(site.path(), "2024-01-01", "2024-02-01");
    let page = read(site.path(), "repos/acme-api/index.html");
    // The strings reached the slowest changes and the deployments, escaped.
    let escaped_title = "feat: &lt;script&gt;alert(1)&lt;/script&gt; ]]&gt;&lt;/svg&gt; #2";
    let slowest = &page[page.find("id=\"slowest-changes\"").unwrap()..];
    assert!(slowest.contains(escaped_title), "{slowest}");
    assert!(
        slowest.contains("<td>mallory&quot;&gt;&lt;img src=x onerror=alert(1)&gt;</td>"),
        "{slowest}"
    );
    let shipped = &page[page.find("id=\"shipped-title\"").unwrap()..];
    assert!(shipped.contains(escaped_title), "{shipped}");
    assert!(
        shipped.contains(
            "<code>#9&quot;&gt;&lt;img src=x onerror=alert(1)&gt;]]&gt;&lt;/svg&gt;</code>"
        ),
        "{shipped}"
    );
    let mut scanned = 0;
    for entry in walkdir::WalkDir::new(site.path().join("public")) {
        let entry = entry.unwrap();
        if !entry.file_type().is_file() {
            continue;
        }
        let text = String::from_utf8_lossy(&std::fs::read(entry.path()).unwrap()).into_owned();
        for bad in [SCRIPT, IMG, CDATA, "<img src=x"] {
            assert!(
                !text.contains(bad),
                "{} contains {bad:?}",
                entry.path().display()
            );
        }
        scanned += 1;
    }
    assert!(scanned > 5, "scanned {scanned} files");
    // The JSON contract still carries the strings themselves (escaped only as JSON).
    let assessed = assess_host_site(site.path());
    assert_eq!(
        assessed["repos"][0]["pull_requests"][1]["author"],
        format!("mallory{IMG}")
    );
}

/// Shares are stored as ratios and shown as percentages by the templates
/// (`percent`) and the charts' tables, never converted back and forth: the
/// change failure rate's card, its change in percentage points, the monthly
/// chart and the trend table, worked by hand.
#[test]
fn rates_are_ratios_shown_as_percentages() {
    // Previous window (2024-01-03 – 2024-02-01): 4 deployments, 1 failed: 0.25.
    // This window (2024-02-01 – 2024-03-01): 3 deployments, 1 failed: 0.3333.
    let deployment = |n: usize, time: &str, status: &str| {
        serde_json::json!({"ref": format!("v{n}"), "sha": format!("{n:040x}"), "time": time,
            "source": "release", "status": status})
    };
    let facts = serde_json::json!({
        "schema_version": 1,
        "collected_at": "2024-03-01T00:00:00Z",
        "facts": {
            "name": "acme/rates",
            "deployments": [
                deployment(1, "2024-01-05T00:00:00Z", "success"),
                deployment(2, "2024-01-12T00:00:00Z", "failure"),
                deployment(3, "2024-01-19T00:00:00Z", "success"),
                deployment(4, "2024-01-26T00:00:00Z", "success"),
                deployment(5, "2024-02-05T00:00:00Z", "success"),
                deployment(6, "2024-02-12T00:00:00Z", "failure"),
                deployment(7, "2024-02-19T00:00:00Z", "success")
            ],
            "changes": [], "incidents": [], "notes": [], "pull_requests": [],
            "collection": {"host": "github", "project": "acme/rates", "api_url": "https://api.github.com", "cursor": null}
        }
    });
    let site = github_facts_site("acme/rates", &facts);
    // Two collections: 0.0625 is 6.25 %, shown half away from zero as 6.3;
    // 0.5 is 50 % (a whole number prints without decimals).
    std::fs::create_dir_all(site.path().join("data/history")).unwrap();
    std::fs::write(
        site.path().join("data/history/acme-rates.jsonl"),
        "{\"collected_at\":\"2024-02-10T00:00:00Z\",\"window_days\":30,\"deployment_count\":16,\"deploy_days_per_week\":4.0,\"lead_time_median_hours\":null,\"change_failure_rate\":0.0625,\"recovery_median_hours\":null}\n\
         {\"collected_at\":\"2024-02-20T00:00:00Z\",\"window_days\":30,\"deployment_count\":2,\"deploy_days_per_week\":0.5,\"lead_time_median_hours\":null,\"change_failure_rate\":0.5,\"recovery_median_hours\":null}\n",
    )
    .unwrap();
    build(site.path(), "2024-02-01", "2024-03-01");
    let report = read(site.path(), "repos/acme-rates/index.html");
    assert!(
        report.contains("<p class=\"value\">33.3 <span class=\"unit\">%</span></p>"),
        "{report}"
    );
    // 0.3333 - 0.25 = 0.0833: 8.33 percentage points more, which is worse.
    assert!(
        report.contains("<p class=\"delta worse\">+8.33 pp vs previous window</p>"),
        "{report}"
    );
    // The monthly chart's table: one month, 1 of 3 failed.
    let cells: Vec<&str> = report
        .split("<td>")
        .skip(1)
        .filter_map(|c| c.split("</td>").next())
        .filter(|c| c.ends_with('%'))
        .collect();
    assert_eq!(cells, vec!["33.3%"], "{report}");
    let overview = read(site.path(), "index.html");
    assert!(
        overview.contains("<td data-value=\"0.3333\">33.3 % "),
        "{overview}"
    );
    assert!(overview.contains("<td>6.3</td></tr>"), "{overview}");
    assert!(overview.contains("<td>50</td></tr>"), "{overview}");
}

/// A Chinese report page says the assessment's own sentences (evidence notes, why a level
/// could not be decided) in Chinese, with the data inside them escaped and left as written:
/// a `<script>` in an image name stays text, an `{image}` in it is not a placeholder.
#[test]
fn chinese_report_says_evidence_and_reasons_in_chinese_with_data_as_text() {
    let dir = scratch("zh-notes");
    let r = Repo::init(&dir);
    r.commit_files(
        &[(
            "Dockerfile",
            "FROM evil/{image}/<script>alert(1)</script>:latest\n",
        )],
        "docker",
        "2024-01-06T00:00:00Z",
    );
    let site = config_site(&format!(
        "languages = [\"zh\", \"en\"]\n\n[[repos]]\nname = \"notes\"\npath = {dir:?}\n"
    ));
    // The site rewords one sentence in Chinese: its theme strings are the catalogue.
    std::fs::create_dir_all(site.path().join("i18n")).unwrap();
    std::fs::write(
        site.path().join("i18n/zh.toml"),
        "msg_no_healthcheck = \"最后一个阶段缺少 HEALTHCHECK\"\n",
    )
    .unwrap();
    build(site.path(), "2024-01-01", "2024-02-01");
    let zh = read(site.path(), "zh/repos/notes/index.html");
    // The evidence note in Chinese, its argument escaped and its braces left as they are.
    assert!(
        zh.contains(
            "<span>FROM evil/{image}/&lt;script&gt;alert(1)&lt;/script&gt;:latest 没有固定版本</span>"
        ),
        "{zh}"
    );
    assert!(!zh.contains("<script>alert"), "{zh}");
    assert!(
        zh.contains("<span>最终阶段没有 USER：容器以 root 身份运行</span>"),
        "{zh}"
    );
    assert!(
        zh.contains("<span>最后一个阶段缺少 HEALTHCHECK</span>"),
        "{zh}"
    );
    // Why a level could not be decided, in Chinese and not marked as English.
    assert!(
        zh.contains("<span>第 2 级无法判定（flow.small-batches：没有带行数统计的已合并拉取请求"),
        "{zh}"
    );
    assert!(
        zh.contains("<span>没有 CMD 或 ENTRYPOINT：沿用基础镜像的设置</span>"),
        "{zh}"
    );
    // The English page keeps the English sentences, from the same catalogue.
    let en = read(site.path(), "repos/notes/index.html");
    assert!(
        en.contains(
            "<span>FROM evil/{image}/&lt;script&gt;alert(1)&lt;/script&gt;:latest is not pinned to a version</span>"
        ),
        "{en}"
    );
    assert!(
        en.contains(
            "<span>level 2 could not be decided (flow.small-batches: no merged pull requests"
        ),
        "{en}"
    );
    assert!(!en.contains("没有"), "{en}");
}

/// A site with one `github = …` repository whose facts `collect` stored as `facts`.
fn github_facts_site(project: &str, facts: &serde_json::Value) -> tempfile::TempDir {
    let site = config_site(&format!(
        "title = \"Delivery\"\n\n[[repos]]\ngithub = \"{project}\"\n"
    ));
    std::fs::create_dir_all(site.path().join("data/facts")).unwrap();
    std::fs::write(
        site.path()
            .join("data/facts")
            .join(format!("{}.json", project.replace('/', "-"))),
        serde_json::to_vec_pretty(facts).unwrap(),
    )
    .unwrap();
    site
}

/// Every `lang="en"` attribute of a page other than the language switcher's
/// link to the English page, with a little context.
fn marked_english(page: &str) -> Vec<String> {
    page.match_indices(" lang=\"en\"")
        .map(|(at, _)| page[at.saturating_sub(80)..(at + 120).min(page.len())].to_string())
        .filter(|around| !around.contains("hreflang=\"en\" lang=\"en\">en</a>"))
        .collect()
}

/// The notes collection writes (no matching tags, a shallow clone), where the
/// deployments came from, why services are not measured and the benchmark's
/// title are said in Chinese on Chinese pages, their data as written; nothing
/// on those pages is marked English. A note stored by an older `collect` (English
/// text only) is still read and shown as written, marked `lang="en"`. English
/// pages and `assess --json` keep the English sentences.
#[test]
fn chinese_report_says_collection_notes_and_deployment_source_in_chinese() {
    let dir = scratch("zh-collection-notes");
    let r = Repo::init(&dir);
    r.commit_files(
        &[("api/main.go", "package main\n")],
        "api",
        "2024-01-05T00:00:00Z",
    );
    r.commit_files(&[("README.md", "# x\n")], "docs", "2024-01-10T00:00:00Z");
    r.tag("v1.0.0", &r.head()); // not a deployment: tag_pattern is ^release-
    let shallow = scratch("zh-collection-notes-shallow");
    if shallow.exists() {
        std::fs::remove_dir_all(&shallow).unwrap();
    }
    let cloned = std::process::Command::new("git")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .args(["clone", "-q", "--depth", "1"])
        .arg(format!("file://{}", dir.display()))
        .arg(&shallow)
        .status()
        .unwrap();
    assert!(cloned.success());

    let site = config_site(&format!(
        "languages = [\"zh\", \"en\"]\n\n\
             [[repos]]\nname = \"untagged\"\npath = {dir:?}\ntag_pattern = '^release-<b>$'\n\
             [[repos.services]]\nname = \"api\"\npaths = [\"api/**\"]\n\n\
             [[repos]]\nname = \"shallow\"\npath = {shallow:?}\n\
             [[repos.services]]\nname = \"api\"\npaths = [\"api/**\"]\n\n\
             [[repos]]\nname = \"legacy\"\npath = {dir:?}\n"
    ));
    // Facts stored by a `collect` older than the message catalogue: English notes.
    std::fs::create_dir_all(site.path().join("data/facts")).unwrap();
    std::fs::write(
        site.path().join("data/facts/legacy.json"),
        serde_json::json!({
            "schema_version": 1,
            "collected_at": "2024-01-20T00:00:00Z",
            "facts": {
                "name": "legacy",
                "deployments": [],
                "changes": [],
                "incidents": [],
                "notes": ["tag v0: cannot be resolved; skipped"],
                "collection": {
                    "host": "local",
                    "project": dir.display().to_string(),
                    "api_url": "",
                    "cursor": null
                }
            }
        })
        .to_string(),
    )
    .unwrap();
    build(site.path(), "2024-01-01", "2024-02-01");

    let zh = read(site.path(), "zh/repos/untagged/index.html");
    // The note and the deployment source in Chinese, the pattern as data (escaped).
    assert!(
        zh.contains(
            "<p class=\"note\">没有标签匹配 tag_pattern `^release-&lt;b&gt;$`：没有部署</p>"
        ),
        "{zh}"
    );
    assert!(
        zh.contains("<dt>部署</dt><dd>匹配 ^release-&lt;b&gt;$ 的标签</dd>"),
        "{zh}"
    );
    assert!(
        zh.contains("<dt>等级</dt><dd>DORA 2023（按 Apache DevLake 的实现）</dd>"),
        "{zh}"
    );
    assert_eq!(marked_english(&zh), Vec::<String>::new());
    // The service's page: its deployment source nests the repository's, in Chinese.
    let service = read(site.path(), "zh/repos/untagged/services/api/index.html");
    assert!(
        service.contains(
            "<dd>仓库的部署（匹配 ^release-&lt;b&gt;$ 的标签）中交付了该服务变更的那些</dd>"
        ),
        "{service}"
    );
    assert!(
        service.contains("<p class=\"note\">该服务没有 tag_pattern，仓库也没有部署：没有部署</p>"),
        "{service}"
    );
    assert_eq!(marked_english(&service), Vec::<String>::new());

    // A shallow clone: the note, and why its services are not measured, in Chinese.
    let zh = read(site.path(), "zh/repos/shallow/index.html");
    // (The fixture's path has no character HTML escapes.)
    let path = shallow.display().to_string();
    assert!(
        zh.contains(&format!(
            "<p class=\"note\">{path} 是浅克隆：历史不完整，因此不从中统计变更（运行 `git fetch --unshallow` 后即可度量）</p>"
        )),
        "{zh}"
    );
    assert!(
        zh.contains(&format!(
            "<span>{path} 是浅克隆：历史不完整（请运行 `git fetch --unshallow`）</span>"
        )),
        "{zh}"
    );
    assert_eq!(marked_english(&zh), Vec::<String>::new());
    let overview = read(site.path(), "zh/index.html");
    assert_eq!(marked_english(&overview), Vec::<String>::new());

    // The old facts file: its English note as it was stored, marked English.
    let zh = read(site.path(), "zh/repos/legacy/index.html");
    assert!(
        zh.contains("<p class=\"note\" lang=\"en\">tag v0: cannot be resolved; skipped</p>"),
        "{zh}"
    );

    // The English pages: the same sentences in English.
    let en = read(site.path(), "repos/untagged/index.html");
    assert!(
        en.contains(
            "<p class=\"note\">no tags match tag_pattern `^release-&lt;b&gt;$`: no deployments</p>"
        ),
        "{en}"
    );
    assert!(
        en.contains("<dd>tags matching ^release-&lt;b&gt;$</dd>"),
        "{en}"
    );
    assert!(
        en.contains("<dd>DORA 2023, as codified by Apache DevLake</dd>"),
        "{en}"
    );
    let en = read(site.path(), "repos/legacy/index.html");
    assert!(
        en.contains("<p class=\"note\">tag v0: cannot be resolved; skipped</p>"),
        "{en}"
    );

    // `assess --json`: English sentences, as before.
    let json = assess_json(site.path());
    let repo = |name: &str| {
        json["repos"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name)
            .unwrap()
            .clone()
    };
    let untagged = repo("untagged");
    assert_eq!(
        untagged["notes"],
        serde_json::json!(["no tags match tag_pattern `^release-<b>$`: no deployments"])
    );
    assert_eq!(
        untagged["measurement"]["deployment_source"],
        "tags matching ^release-<b>$"
    );
    assert_eq!(
        untagged["services"][0]["measurement"]["deployment_source"],
        "the repository's deployments (tags matching ^release-<b>$) that shipped one of its changes"
    );
    let shallow_json = repo("shallow");
    assert_eq!(
        shallow_json["services"][0]["reason"],
        format!(
            "{} is a shallow clone: its history is incomplete (run `git fetch --unshallow`)",
            shallow.display()
        )
    );
    assert_eq!(
        repo("legacy")["notes"],
        serde_json::json!(["tag v0: cannot be resolved; skipped"])
    );
}

/// A bare repository whose object database lacks a folder's tree: the files
/// cannot be listed, and the Chinese report says so in Chinese with the
/// missing object's id and path as data (English: the same sentence in English).
#[test]
fn a_tree_missing_from_the_object_database_is_said_in_the_pages_language() {
    let dir = scratch("zh-missing-tree-src");
    let r = Repo::init(&dir);
    r.commit_files(
        &[
            ("deploy/app.yaml", "kind: Deployment\n"),
            ("README.md", "# x\n"),
        ],
        "init",
        "2024-01-05T00:00:00Z",
    );
    let tree = r.git(&["rev-parse", "HEAD:deploy"], &[]).trim().to_string();
    let bare = scratch("zh-missing-tree.git");
    if bare.exists() {
        std::fs::remove_dir_all(&bare).unwrap();
    }
    let ok = std::process::Command::new("git")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .args(["clone", "-q", "--bare", "--no-local"])
        .arg(&dir)
        .arg(&bare)
        .status()
        .unwrap();
    assert!(ok.success());
    // Unpack the clone's pack so the tree is a loose object, then remove it.
    let packs: Vec<PathBuf> = std::fs::read_dir(bare.join("objects/pack"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "pack"))
        .collect();
    for pack in &packs {
        let moved = pack.with_extension("moved");
        std::fs::rename(pack, &moved).unwrap();
        std::fs::remove_file(pack.with_extension("idx")).unwrap();
        let input = std::fs::File::open(&moved).unwrap();
        let ok = std::process::Command::new("git")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .arg("--git-dir")
            .arg(&bare)
            .arg("unpack-objects")
            .arg("-q")
            .stdin(input)
            .status()
            .unwrap();
        assert!(ok.success());
        std::fs::remove_file(&moved).unwrap();
    }
    std::fs::remove_file(bare.join("objects").join(&tree[..2]).join(&tree[2..])).unwrap();

    let site = config_site(&format!(
        "languages = [\"zh\", \"en\"]\n\n[[repos]]\nname = \"broken\"\npath = {bare:?}\n"
    ));
    build(site.path(), "2024-01-01", "2024-02-01");
    let zh = read(site.path(), "zh/repos/broken/index.html");
    assert!(
        zh.contains(&format!(
            "<dt>文件</dt><dd><span>没有读取任何文件：无法列出该提交的文件：对象库中缺少 `deploy/` 的目录树 {tree}</span></dd>"
        )),
        "{zh}"
    );
    assert_eq!(marked_english(&zh), Vec::<String>::new());
    let en = read(site.path(), "repos/broken/index.html");
    assert!(
        en.contains(&format!(
            "the files of the commit could not be listed: tree {tree} of `deploy/` is missing from the object database"
        )),
        "{en}"
    );
}

/// 105 daily releases (one commit each, written by `git fast-import`), none
/// failed: the report itemises the newest 100 deployments of the window and
/// says, in each language, how many it does not.
#[test]
fn a_long_window_itemises_the_newest_hundred_deployments_and_counts_the_rest() {
    let repo = scratch("dash-105-releases");
    let _ = std::fs::remove_dir_all(&repo);
    std::fs::create_dir_all(&repo).unwrap();
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .current_dir(&repo)
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}");
    };
    git(&["init", "-q", "--bare"]);
    let mut stream = String::new();
    let t0 = 1_704_067_200i64; // 2024-01-01T00:00:00Z
    for i in 1..=105i64 {
        // Lead times grow with i: the slowest changes are in the newest deployments.
        let (authored, tagged) = (t0 + i * 86_400 - i * 60, t0 + i * 86_400);
        let msg = format!("change {i}\n");
        stream += &format!(
            "commit refs/heads/main\nmark :{i}\nauthor Dev <dev@example.org> {authored} +0000\ncommitter Dev <dev@example.org> {authored} +0000\ndata {}\n{msg}M 644 inline f.txt\ndata {}\n{msg}\n",
            msg.len(),
            msg.len()
        );
        stream += &format!(
            "tag v1.{i}.0\nfrom :{i}\ntagger Dev <dev@example.org> {tagged} +0000\ndata 0\n\n"
        );
    }
    common::git_with_input(&repo, &["fast-import", "--quiet"], stream.as_bytes());
    let site = config_site(&format!(
        "languages = [\"en\", \"zh\"]\n\n[[repos]]\nname = \"many\"\npath = {repo:?}\n"
    ));
    build(site.path(), "2024-01-01", "2024-06-01");
    let en = read(site.path(), "repos/many/index.html");
    let itemised = en.matches("<details class=\"deployment").count();
    assert_eq!(itemised, 100, "the newest 100 of 105");
    assert!(
        en.contains("id=\"deployment-104\""),
        "the newest is itemised"
    );
    assert!(
        en.contains("id=\"deployment-5\""),
        "the 100th newest is itemised"
    );
    assert!(!en.contains("id=\"deployment-4\""), "the 101st is not");
    assert!(en.contains("<p class=\"note\">5 older deployments of the window are not itemised here (only the newest 100, the failed ones and those of the slowest changes are); /api/report.json lists every deployment with its change count.</p>"));
    let zh = read(site.path(), "zh/repos/many/index.html");
    assert!(zh.contains("<p class=\"note\">本窗口中另有 5 个较早的部署未在此逐一列出"));
}
