//! Services of a monorepo on the site (issue #16): a report per service in
//! every language with the numbers of the JSON, the repository's list of
//! services and independence measures with the coupled pairs' table, the
//! overview's rows of services, the CSV rows, team pages from CODEOWNERS
//! (with a rule overridden by a later one), and hostile data kept as data.
//!
//! The fixture is [`common::monorepo`] over the window [03-02, 03-16); its
//! metrics are worked out by hand in `tests/monorepo.rs`.

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use common::{monorepo, opsmeter, scratch, MONOREPO_SERVICES};
use serde_json::Value;

const SINCE: &str = "2024-03-02";
const UNTIL: &str = "2024-03-16";

/// The narrow rule for orders comes before the broad `/services/` rule, so
/// the broad one wins for orders' files (the last matching rule wins):
/// `@acme/orders` owns nothing and has no team page.
const CODEOWNERS: &str = "*                     @acme/platform
/services/orders/     @acme/orders
/services/            @acme/backend
/services/payments/   @acme/payments
/libs/money/          @acme/payments @acme/finance
/apps/web/            @acme/web
";

/// The monorepo fixture with a CODEOWNERS file committed after the window
/// (it touches no service, so every metric is the one worked out by hand).
fn owned_monorepo() -> &'static Path {
    static R: OnceLock<PathBuf> = OnceLock::new();
    R.get_or_init(|| {
        let dir = scratch("services-site-owned");
        let (repo, _) = monorepo(&dir);
        repo.commit_files(
            &[(".github/CODEOWNERS", CODEOWNERS)],
            "owners",
            "2024-03-20T00:00:00Z",
        );
        dir
    })
}

fn plain_monorepo() -> &'static Path {
    static R: OnceLock<PathBuf> = OnceLock::new();
    R.get_or_init(|| {
        let dir = scratch("services-site-plain");
        monorepo(&dir);
        dir
    })
}

/// A bilingual site over `repo` with the fixture's services and `extra` keys
/// on the `[[repos]]` entry, built over the window.
fn built_site(repo: &Path, extra: &str) -> tempfile::TempDir {
    built_with(repo, &format!("{extra}\n{MONOREPO_SERVICES}"))
}

/// A bilingual site over `repo` whose `[[repos]]` entry ends with `entry`,
/// built over the window.
fn built_with(repo: &Path, entry: &str) -> tempfile::TempDir {
    let site = tempfile::tempdir().unwrap();
    std::fs::write(
        site.path().join("opsmeter.toml"),
        format!(
            "title = \"Delivery\"\nlanguages = [\"en\", \"zh\"]\n\n[[repos]]\nname = \"mono\"\npath = {:?}\n{entry}",
            repo.display().to_string()
        ),
    )
    .unwrap();
    opsmeter()
        .arg("--root")
        .arg(site.path())
        .args(["build", "--since", SINCE, "--until", UNTIL])
        .assert()
        .success();
    site
}

/// The site over the fixture with `teams_from_codeowners = true`, built once.
fn site() -> &'static Path {
    static S: OnceLock<tempfile::TempDir> = OnceLock::new();
    S.get_or_init(|| built_site(owned_monorepo(), "teams_from_codeowners = true"))
        .path()
}

fn read(site: &Path, rel: &str) -> String {
    std::fs::read_to_string(site.join("public").join(rel))
        .unwrap_or_else(|e| panic!("public/{rel}: {e}"))
}

fn exported(site: &Path) -> Value {
    serde_json::from_str(&read(site, "api/report.json")).unwrap()
}

fn service<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["repos"][0]["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap()
}

/// The text of the first element after `marker` (up to the next `<`).
fn text_after<'a>(html: &'a str, marker: &str) -> &'a str {
    let at = html
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} in the page"));
    let rest = &html[at + marker.len()..];
    &rest[..rest.find('<').unwrap_or(rest.len())]
}

#[test]
fn every_service_has_a_report_in_every_language_with_the_numbers_of_the_json() {
    let site = site();
    let json = exported(site);
    for (lang, prefix) in [("en", ""), ("zh", "zh/")] {
        for name in ["payments", "orders", "web", "worker", "cli"] {
            let page = read(
                site,
                &format!("{prefix}repos/mono/services/{name}/index.html"),
            );
            assert!(
                page.contains(&format!("<h1 translate=\"no\">{name}</h1>")),
                "{lang} {name}"
            );
            // The breadcrumbs lead back to the repository's report.
            assert!(
                page.contains(&format!(
                    "<li><a href=\"/{prefix}repos/mono/\" translate=\"no\">mono</a></li>"
                )),
                "{lang} {name}"
            );
        }
    }
    // payments (hand-worked in tests/monorepo.rs): 2 deployments, 1.0 a week,
    // median lead time 48 h, p90 88.8 h, half of its deployments failed, one
    // recovery of 144 h.
    let p = service(&json, "payments");
    assert_eq!(p["dora"]["deployment_count"], 2);
    assert_eq!(p["dora"]["deployments_per_week"], 1.0);
    assert_eq!(p["dora"]["lead_time_hours"]["median"], 48.0);
    assert_eq!(p["dora"]["change_failure_rate"], 0.5);
    assert_eq!(p["dora"]["recovery_time_hours"]["median"], 144.0);
    let page = read(site, "repos/mono/services/payments/index.html");
    let value = |card: &str| {
        let at = page.find(&format!("<h3>{card}</h3>")).unwrap();
        text_after(&page[at..], "<p class=\"value\">")
            .trim()
            .to_string()
    };
    assert_eq!(value("Deployment frequency"), "1");
    assert_eq!(value("Lead time for changes"), "48");
    assert_eq!(value("Change failure rate"), "50");
    assert_eq!(value("Recovery time"), "144");
    assert!(page.contains("p90 88.8 h"), "{page}");
    // Its deployments, with the failed one marked, and its own tag pattern.
    assert!(page.contains(
        "<tr class=\"failed\"><th scope=\"row\"><code translate=\"no\">payments-v1.1.0</code>"
    ));
    assert!(page.contains("<code translate=\"no\">payments-v1.2.0</code>"));
    assert!(page.contains(
        "its own tags, matching <code translate=\"no\">^payments-v\\d+\\.\\d+\\.\\d+$</code>"
    ));
    // Its probes saw its Dockerfile (a non-root USER): evidence on its page.
    assert!(
        page.contains("<code translate=\"no\">services/payments/Dockerfile"),
        "{page}"
    );
    // The same card in Chinese.
    let zh = read(site, "zh/repos/mono/services/payments/index.html");
    assert!(zh.contains("<html lang=\"zh\""), "{zh}");
    assert!(zh.contains("它自己的标签，匹配"), "{zh}");
    // worker has no tags of its own: it ships with the repository's deployments.
    let worker = read(site, "repos/mono/services/worker/index.html");
    assert!(worker.contains(
        "<dt>Deployments</dt><dd>the repository&#39;s deployments that ship one of its changes (it has no tags of its own)</dd>"
    ));
    // "How this was measured" says where they come from, in the page's language.
    assert!(worker.contains(
        "<dd>the repository&#39;s deployments (tags matching ^v?\\d+\\.\\d+\\.\\d+$) that shipped one of its changes</dd>"
    ), "{worker}");
    let worker_zh = read(site, "zh/repos/mono/services/worker/index.html");
    assert!(
        worker_zh.contains(
            "<dd>仓库的部署（匹配 ^v?\\d+\\.\\d+\\.\\d+$ 的标签）中交付了该服务变更的那些</dd>"
        ),
        "{worker_zh}"
    );
    // Service pages are in the sitemap, in both languages.
    let sitemap = read(site, "sitemap.xml");
    assert!(
        sitemap.contains("/repos/mono/services/payments/</loc>"),
        "{sitemap}"
    );
    assert!(
        sitemap.contains("/zh/repos/mono/services/payments/</loc>"),
        "{sitemap}"
    );
}

#[test]
fn the_repository_lists_its_services_and_independence() {
    let site = site();
    let page = read(site, "repos/mono/index.html");
    for name in ["payments", "orders", "web", "worker", "cli"] {
        assert!(
            page.contains(&format!(
                "<th scope=\"row\"><a href=\"/repos/mono/services/{name}/\" translate=\"no\">{name}</a></th>"
            )),
            "{name}: {page}"
        );
    }
    // payments' row: its paths, overall level, 2 deployments, 1/week.
    let row_at = page
        .find("/repos/mono/services/payments/\" translate=\"no\">payments</a></th>")
        .unwrap();
    let row = &page[row_at..page[row_at..].find("</tr>").unwrap() + row_at];
    assert!(row.contains("<code translate=\"no\">services/payments/**</code> <code translate=\"no\">libs/money/**</code>"), "{row}");
    assert!(row.contains("<td data-value=\"2\">2</td>"), "{row}");
    assert!(
        row.contains("<td data-value=\"1\">1 <span class=\"tier tier-high\">high</span></td>"),
        "{row}"
    );
    assert!(
        row.contains("<td data-value=\"48\">48 <span class=\"tier tier-high\">high</span></td>"),
        "{row}"
    );
    assert!(
        row.contains("<td data-value=\"0.5\">50 % <span class=\"tier tier-low\">low</span></td>"),
        "{row}"
    );
    // Its teams, the owner of most of its files first.
    assert!(row.contains("<td class=\"teams\"><a href=\"/teams/acme-payments/\" translate=\"no\">@acme/payments</a>, <a href=\"/teams/acme-finance/\" translate=\"no\">@acme/finance</a></td>"), "{row}");
    // Independence (hand-worked in tests/monorepo.rs): 2 of 8 changes touch
    // several services (25 %); 2 of 4 releases ship one service (50 %):
    // orders/v1.1.0 and web-v1.1.0 are cut on one commit.
    assert!(page.contains("<span class=\"value\">25 %</span> — 2 of the 8 changes that touch a service touch more than one"), "{page}");
    assert!(page.contains("<span class=\"value\">50 %</span> — 2 of the 4 deployments that ship a service&#39;s changes ship exactly one service"), "{page}");
    // Each measure links to the handbook's section that defines it.
    assert_eq!(
        page.matches("<a href=\"/guide/microservices/#three-measures-of-independence\">")
            .count(),
        4,
        "{page}"
    );
    let zh = read(site, "zh/repos/mono/index.html");
    assert!(
        zh.contains("<a href=\"/zh/guide/microservices/#三个独立性指标\">跨服务变更占比</a>"),
        "{zh}"
    );
    // The coupled pairs: a chart and its table, pairs in the JSON's order.
    assert!(
        page.contains("id=\"chart-coupled-pairs") || page.contains("coupled-pairs"),
        "{page}"
    );
    let table_at = page
        .find("<table class=\"coupling-table\">")
        .expect("the pairs' table");
    let table = &page[table_at..table_at + page[table_at..].find("</table>").unwrap()];
    let rows: Vec<&str> = table
        .split("<tr>")
        .skip(2)
        .map(|r| &r[..r.find("</tr>").unwrap()])
        .collect();
    // Each bar is labelled with the pair's number in the table.
    assert_eq!(
        rows,
        [
            "<td>1</td><th scope=\"row\" translate=\"no\">orders + payments</th><td>1</td>",
            "<td>2</td><th scope=\"row\" translate=\"no\">payments + web</th><td>1</td>"
        ]
    );
    let chart = &page[page.find("id=\"coupled-pairs\"").unwrap()..page.find("</svg>").unwrap()];
    assert!(
        chart.contains(">\n1\n</text>") && chart.contains(">\n2\n</text>"),
        "{chart}"
    );
    assert!(!chart.contains("orders + payments"), "{chart}");
}

#[test]
fn the_overview_lists_every_service_with_its_repository() {
    let site = site();
    let index = read(site, "index.html");
    assert!(
        index.contains("<caption>Services inside the repositories</caption>"),
        "{index}"
    );
    for name in ["payments", "orders", "web", "worker", "cli"] {
        assert!(
            index.contains(&format!(
                "<td><a href=\"/repos/mono/\" translate=\"no\">mono</a></td>\n      <th scope=\"row\"><a href=\"/repos/mono/services/{name}/\" translate=\"no\">{name}</a></th>"
            )),
            "{name}: {index}"
        );
    }
    let zh = read(site, "zh/index.html");
    assert!(zh.contains("<caption>各仓库中的服务</caption>"), "{zh}");
    assert!(zh.contains("<a href=\"/zh/repos/mono/services/web/\" translate=\"no\">web</a>"));
}

#[test]
fn the_csv_has_a_row_per_service() {
    let site = site();
    let csv = read(site, "api/report.csv");
    let lines: Vec<&str> = csv.lines().collect();
    let header: Vec<&str> = lines[0].split(',').collect();
    assert_eq!(&header[..3], ["repository", "service", "deployments"]);
    // The repository's own row, then its services in the configured order;
    // the first eleven columns, as the JSON gives them.
    let head = |line: &str| line.split(',').take(11).collect::<Vec<_>>().join(",");
    let json = exported(site);
    let repo = &json["repos"][0];
    let lines: Vec<String> = lines[1..].iter().map(|l| head(l)).collect();
    assert_eq!(lines.len(), 6, "{csv}");
    assert!(lines[0].starts_with("mono,,"), "{}", lines[0]);
    assert_eq!(
        repo["dora"]["deployment_count"]
            .as_u64()
            .unwrap()
            .to_string(),
        lines[0].split(',').nth(2).unwrap()
    );
    // payments: 2 deployments, 1 a week, on 2 days (1 a week), lead time median
    // 48 and p90 88.8 h, failure rate 0.5, recovery 144 h, rework 0.5, no coverage.
    assert_eq!(lines[1], "mono,payments,2,1,1,48,88.8,0.5,144,0.5,");
    // orders: one deployment (0.5 a week), median 108 h, p90 117.6 h, none failed.
    assert_eq!(lines[2], "mono,orders,1,0.5,0.5,108,117.6,0,,0,");
    let names: Vec<&str> = lines.iter().map(|l| l.split(',').nth(1).unwrap()).collect();
    assert_eq!(names, ["", "payments", "orders", "web", "worker", "cli"]);
    // Every row has as many cells as the header.
    for l in csv.lines() {
        assert_eq!(l.split(',').count(), header.len(), "{l}");
    }
}

#[test]
fn teams_from_codeowners_gather_their_services() {
    let site = site();
    let json = exported(site);
    // payments: its 3 files under services/payments/ and libs/money/money.go.
    let owners = |name: &str| -> Vec<(String, u64)> {
        service(&json, name)["owners"]["teams"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| {
                (
                    o["owner"].as_str().unwrap().to_string(),
                    o["files"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    let own = |list: &[(&str, u64)]| -> Vec<(String, u64)> {
        list.iter().map(|(o, n)| (o.to_string(), *n)).collect()
    };
    assert_eq!(
        owners("payments"),
        own(&[("@acme/payments", 4), ("@acme/finance", 1)])
    );
    // orders' main.go: `/services/` comes after `/services/orders/`, so it wins.
    assert_eq!(
        owners("orders"),
        own(&[
            ("@acme/backend", 1),
            ("@acme/finance", 1),
            ("@acme/payments", 1)
        ])
    );
    assert_eq!(owners("web"), own(&[("@acme/web", 2)]));
    assert_eq!(owners("worker"), own(&[("@acme/backend", 1)]));
    assert_eq!(owners("cli"), own(&[("@acme/platform", 1)]));
    assert_eq!(
        service(&json, "orders")["owners"]["file"],
        ".github/CODEOWNERS"
    );

    // Team pages gather their services, in both languages.
    let services_of = |page: &str| -> Vec<String> {
        page.split("<th scope=\"row\"><a href=\"")
            .skip(1)
            .filter(|r| r.contains("/services/"))
            .map(|r| text_after(r, "translate=\"no\">").to_string())
            .collect()
    };
    let backend = read(site, "teams/acme-backend/index.html");
    assert!(
        backend.contains("<h1 translate=\"no\">@acme/backend</h1>"),
        "{backend}"
    );
    assert_eq!(services_of(&backend), ["orders", "worker"]);
    assert_eq!(
        services_of(&read(site, "teams/acme-payments/index.html")),
        ["payments", "orders"]
    );
    assert_eq!(
        services_of(&read(site, "teams/acme-finance/index.html")),
        ["payments", "orders"]
    );
    assert_eq!(
        services_of(&read(site, "zh/teams/acme-web/index.html")),
        ["web"]
    );
    assert_eq!(
        services_of(&read(site, "teams/acme-platform/index.html")),
        ["cli"]
    );
    // The overridden rule's owner owns nothing: no team, no page.
    assert!(!site.join("public/teams/acme-orders").exists());
    // The service's page names its owners, linked to their pages.
    let orders = read(site, "repos/mono/services/orders/index.html");
    assert!(
        orders.contains(
            "<a href=\"/teams/acme-backend/\" translate=\"no\">@acme/backend</a> (1 of 2 files)"
        ),
        "{orders}"
    );
    // The overview links the teams.
    assert!(read(site, "index.html")
        .contains("<a href=\"/teams/acme-backend/\" translate=\"no\">@acme/backend</a>"));
}

/// Long lists stay short in the services table (as in a Go monorepo, where a
/// `*` rule gives every module the same six people and a module's folder
/// leaves out its nested modules): past three teams it shows two and how many
/// more, and it counts the `!` globs instead of listing them; the service's
/// page has them all, and says once that each owner owns every file.
#[test]
fn many_owners_and_excluded_paths_are_summed_up_in_the_table() {
    let dir = scratch("services-site-many-owners");
    let (repo, _) = monorepo(&dir);
    repo.commit_files(
        &[("CODEOWNERS", "/services/ @acme/a @acme/b @acme/c @acme/d\n")],
        "owners",
        "2024-03-20T00:00:00Z",
    );
    let site = built_with(
        &dir,
        "teams_from_codeowners = true\n\n[[repos.services]]\nname = \"backend\"\npaths = [\"services/**\", \"!services/orders/**\", \"!services/worker/**\"]\n",
    );
    let page = read(site.path(), "repos/mono/index.html");
    assert!(
        page.contains("<td><code translate=\"no\">services/**</code> <a class=\"excluded\" href=\"/repos/mono/services/backend/#paths\">2 excluded</a></td>"),
        "{page}"
    );
    assert!(
        page.contains("<td class=\"teams\"><a href=\"/teams/acme-a/\" translate=\"no\">@acme/a</a>, <a href=\"/teams/acme-b/\" translate=\"no\">@acme/b</a>, <a href=\"/repos/mono/services/backend/#owners\">2 more</a></td>"),
        "{page}"
    );
    let zh = read(site.path(), "zh/repos/mono/index.html");
    assert!(zh.contains(">排除 2 项</a>"), "{zh}");
    assert!(
        zh.contains("<a href=\"/zh/repos/mono/services/backend/#owners\">另外 2 个</a>"),
        "{zh}"
    );
    // The service's page: every glob, and the four owners of its 3 files
    // (services/payments: main.go, Dockerfile, api.go) with one "each".
    let service = read(site.path(), "repos/mono/services/backend/index.html");
    assert!(service.contains("<dt id=\"paths\">"), "{service}");
    assert!(
        service.contains("<code translate=\"no\">!services/worker/**</code>"),
        "{service}"
    );
    assert!(
        service.contains(
            "<a href=\"/teams/acme-d/\" translate=\"no\">@acme/d</a> (each owns all 3 files) — "
        ),
        "{service}"
    );
    assert!(!service.contains("3 of 3 files"), "{service}");
    let service_zh = read(site.path(), "zh/repos/mono/services/backend/index.html");
    assert!(
        service_zh.contains("@acme/d</a> （各自负责全部 3 个文件） — "),
        "{service_zh}"
    );
}

#[test]
fn without_a_codeowners_file_owners_are_not_measured_and_no_team_is_made() {
    let site = built_site(plain_monorepo(), "teams_from_codeowners = true");
    let json = exported(site.path());
    let o = &service(&json, "payments")["owners"];
    assert_eq!(o["status"], "not-measured");
    assert_eq!(o["teams"], serde_json::json!([]));
    assert!(o["reason"]
        .as_str()
        .unwrap()
        .starts_with("the repository has no CODEOWNERS file (.github/CODEOWNERS, CODEOWNERS, docs/CODEOWNERS, .gitlab/CODEOWNERS are where GitHub and GitLab look)"), "{o}");
    let page = read(site.path(), "repos/mono/services/payments/index.html");
    assert!(page.contains("<dt id=\"owners\">Owners (CODEOWNERS)</dt><dd class=\"owners\"><span class=\"level-nm\">not measured</span> — <strong>Why not measured:</strong> <span>the repository has no CODEOWNERS file"), "{page}");
    // In Chinese, the reason is Chinese (not English marked lang="en"), on
    // the page and in the repository's table of services.
    let zh = read(site.path(), "zh/repos/mono/services/payments/index.html");
    let reason_zh = "仓库在工作区中没有 CODEOWNERS 文件（GitHub 和 GitLab 在 \
                     .github/CODEOWNERS, CODEOWNERS, docs/CODEOWNERS, .gitlab/CODEOWNERS 查找）";
    assert!(zh.contains(&format!("<span>{reason_zh}</span>")), "{zh}");
    let repo_zh = read(site.path(), "zh/repos/mono/index.html");
    assert!(
        repo_zh.contains(&format!("title=\"{reason_zh}\"")),
        "{repo_zh}"
    );
    assert!(!site.path().join("public/teams").exists());
}

#[test]
fn a_service_page_has_no_empty_coverage_chart_and_links_to_the_repository_s() {
    let site = site();
    // The repository's report has the chart the services' pages link to.
    for prefix in ["", "zh/"] {
        let repo = read(site, &format!("{prefix}repos/mono/index.html"));
        assert!(
            repo.contains("id=\"coverage-over-time\""),
            "{prefix}: {repo}"
        );
        assert!(
            !repo.contains("class=\"note coverage-history\""),
            "{prefix}"
        );
    }
    let cases = [
        (
            "",
            "<p class=\"note coverage-history\">Coverage over time is recorded per repository, not per service, \
             so this service has no coverage chart of its own (unknown, not 0 %). \
             <a href=\"/repos/mono/#coverage-over-time\">The coverage of mono over time</a></p>",
        ),
        (
            "zh/",
            "<p class=\"note coverage-history\">覆盖率的历史按仓库记录，不按服务记录，因此本服务没有自己的覆盖率变化图（未知，并非 0 %）。 \
             <a href=\"/zh/repos/mono/#coverage-over-time\">mono 的覆盖率变化</a></p>",
        ),
    ];
    for (prefix, sentence) in cases {
        for name in ["payments", "orders", "web", "worker", "cli"] {
            let page = read(
                site,
                &format!("{prefix}repos/mono/services/{name}/index.html"),
            );
            assert!(page.contains(sentence), "{prefix} {name}: {page}");
            assert!(
                !page.contains("coverage-over-time\" role=\"img\""),
                "{prefix} {name}"
            );
            // The other charts are still there: six of the seven a repository has.
            assert_eq!(
                page.matches("<figure class=\"chart\">").count(),
                6,
                "{prefix} {name}"
            );
        }
    }
    let repo = read(site, "repos/mono/index.html");
    assert_eq!(repo.matches("<figure class=\"chart\">").count(), 7 + 1);
}

#[test]
fn the_site_over_a_monorepo_checks_clean_and_its_links_resolve() {
    let site = built_site(owned_monorepo(), "teams_from_codeowners = true");
    opsmeter()
        .arg("--root")
        .arg(site.path())
        .arg("check")
        .assert()
        .success();
    // `check` takes generated pages on trust: every link of the services'
    // pages, the repository's report, the overview and the team pages leads
    // to a file of the build, and every anchor to an id on its page.
    let public = site.path().join("public");
    let mut pages = vec![
        "index.html".to_string(),
        "zh/index.html".to_string(),
        "repos/mono/index.html".to_string(),
        "zh/repos/mono/index.html".to_string(),
    ];
    for prefix in ["", "zh/"] {
        for name in ["payments", "orders", "web", "worker", "cli"] {
            pages.push(format!("{prefix}repos/mono/services/{name}/index.html"));
        }
        for team in [
            "acme-backend",
            "acme-payments",
            "acme-finance",
            "acme-web",
            "acme-platform",
        ] {
            pages.push(format!("{prefix}teams/{team}/index.html"));
        }
    }
    let mut checked = 0;
    for rel in &pages {
        let html = read(site.path(), rel);
        for link in html
            .split("href=\"")
            .skip(1)
            .map(|l| &l[..l.find('"').unwrap()])
        {
            if !link.starts_with('/') || link.starts_with("//") {
                continue;
            }
            let (path, anchor) = link.split_once('#').unwrap_or((link, ""));
            let file = public.join(common_output_file(path));
            assert!(file.is_file(), "{rel}: {link} -> {}", file.display());
            if !anchor.is_empty() {
                let target = std::fs::read_to_string(&file).unwrap();
                assert!(
                    target.contains(&format!("id=\"{anchor}\"")),
                    "{rel}: {link}"
                );
            }
            checked += 1;
        }
    }
    assert!(checked > 100, "{checked}");
}

/// The file of a site path, as `urls::output_file` writes it.
fn common_output_file(path: &str) -> String {
    let rel = path.trim_start_matches('/');
    if rel.is_empty() || rel.ends_with('/') {
        format!("{rel}index.html")
    } else {
        rel.to_string()
    }
}

/// Builds a site whose one entry is the plain monorepo followed by `entry`
/// (lines 4 on of `opsmeter.toml`); the build must fail. Returns the site and stderr.
fn failed_build(entry: &str) -> (tempfile::TempDir, String) {
    let site = tempfile::tempdir().unwrap();
    std::fs::write(
        site.path().join("opsmeter.toml"),
        format!(
            "[[repos]]\nname = \"mono\"\npath = {:?}\n{entry}",
            plain_monorepo().display().to_string()
        ),
    )
    .unwrap();
    let out = opsmeter()
        .arg("--root")
        .arg(site.path())
        .args(["build", "--since", SINCE, "--until", UNTIL])
        .assert()
        .failure();
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    (site, err)
}

#[test]
fn teams_from_codeowners_without_services_is_an_error_naming_the_line() {
    let (site, err) = failed_build("teams_from_codeowners = true\n");
    assert!(
        err.contains("opsmeter.toml:4: repos[0].teams_from_codeowners gives services to the owners of their paths: declare the services too"),
        "{err}"
    );
    assert!(!site.path().join("public").exists());
}

#[test]
fn hostile_service_data_stays_data() {
    // Names become folder names: markup and `..` are refused, naming the line.
    for bad in ["<script>", "../x"] {
        let (site, err) = failed_build(&format!(
            "[[repos.services]]\nname = {bad:?}\npaths = [\"x/**\"]\n"
        ));
        assert!(
            err.contains(&format!(
                "opsmeter.toml:5: repos[0].services[0].name {bad:?} must be letters"
            )),
            "{err}"
        );
        assert!(!site.path().join("public").exists());
    }
    // Paths are globs the user writes: markup in them is shown, escaped.
    let site = built_site(
        plain_monorepo(),
        "[[repos.services]]\nname = \"evil\"\npaths = [\"apps/<script>alert(1)</script>/**\", \"../x/**\"]",
    );
    for rel in [
        "repos/mono/services/evil/index.html",
        "repos/mono/index.html",
        "zh/repos/mono/services/evil/index.html",
    ] {
        let page = read(site.path(), rel);
        assert!(!page.contains("<script>alert(1)"), "{rel}");
        assert!(
            page.contains("apps/&lt;script&gt;alert(1)&lt;/script&gt;/**"),
            "{rel}: {page}"
        );
    }
    // The JSON export keeps the path as data, without markup characters.
    let json = read(site.path(), "api/report.json");
    assert!(json.contains("apps/\\u003cscript\\u003ealert(1)\\u003c/script\\u003e/**"));
    // `../x/**` is a glob, never a path opsmeter writes to.
    assert!(!site.path().join("x").exists());
}
