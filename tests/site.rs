//! End-to-end tests of `opsmeter build`, `check` and `init` through the real
//! binary, on the fixture site in `tests/fixtures/site`.

mod common;

use common::{opsmeter, tree};

use std::path::{Path, PathBuf};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/site")
}

/// A private copy of the fixture site, so a test can break it.
fn copy_fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for item in walkdir::WalkDir::new(fixture()) {
        let item = item.unwrap();
        let rel = item.path().strip_prefix(fixture()).unwrap();
        let dest = dir.path().join(rel);
        if item.file_type().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
        } else {
            std::fs::copy(item.path(), &dest).unwrap();
        }
    }
    dir
}

fn build(root: &Path) -> assert_cmd::assert::Assert {
    opsmeter().arg("--root").arg(root).arg("build").assert()
}

fn check(root: impl AsRef<Path>) -> assert_cmd::assert::Assert {
    opsmeter()
        .arg("--root")
        .arg(root.as_ref())
        .arg("check")
        .assert()
}

fn read(root: &Path, rel: &str) -> String {
    std::fs::read_to_string(root.join("public").join(rel))
        .unwrap_or_else(|e| panic!("reading public/{rel}: {e}"))
}

#[test]
fn fixture_site_builds_every_page_and_asset() {
    let site = copy_fixture();
    build(site.path()).success();
    let files: Vec<String> = tree(&site.path().join("public")).into_keys().collect();
    assert_eq!(
        files,
        vec![
            ".opsmeter-output",
            "404.html",
            "about/index.html",
            "charts.css",
            "favicon.svg",
            "guide/img/diagram.svg",
            "guide/index.html",
            "guide/intro/index.html",
            "guide/nested/deep-page/index.html",
            "guide/nested/deeper/leaf/index.html",
            "guide/nested/index.html",
            "guide/second/index.html",
            "highlight.css",
            "index.html",
            "old/intro/index.html",
            "robots.txt",
            "search.js",
            "search/en.json",
            "search/zh.json",
            "sitemap.xml",
            "sort.js",
            "style.css",
            "zh/guide/index.html",
            "zh/guide/intro/index.html",
            "zh/index.html",
        ]
    );
    // Nothing left beside the output.
    let siblings: Vec<_> = std::fs::read_dir(site.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(siblings.is_empty(), "{siblings:?}");
}

#[test]
fn rendered_pages_match_snapshots() {
    let site = copy_fixture();
    build(site.path()).success();
    for page in [
        "guide/intro/index.html",
        "zh/guide/intro/index.html",
        "guide/index.html",
        "guide/second/index.html",
        "guide/nested/deep-page/index.html",
        "index.html",
    ] {
        let name = page.replace('/', "__");
        insta::assert_snapshot!(name, read(site.path(), page));
    }
}

#[test]
fn pages_carry_navigation_breadcrumbs_and_neighbours() {
    let site = copy_fixture();
    build(site.path()).success();
    let intro = read(site.path(), "guide/intro/index.html");
    assert!(intro.contains("<a href=\"/docs/guide/intro/\" aria-current=\"page\">Introduction</a>"));
    assert!(intro.contains(
        "<li><a href=\"/docs/\">Fixture Site</a></li><li><a href=\"/docs/guide/\">Guide</a></li>"
    ));
    assert!(intro.contains("<a rel=\"next\" href=\"/docs/guide/second/\">Second →</a>"));
    // The draft (weight 3) is left out of the section.
    assert!(!site.path().join("public/guide/draft").exists());
    // The page in a folder without _index.md belongs to the Nested section.
    let leaf = read(site.path(), "guide/nested/deeper/leaf/index.html");
    assert!(leaf.contains("<li><a href=\"/docs/guide/nested/\">Nested</a></li>\n  <li aria-current=\"page\">Leaf</li>"));
    // Unweighted pages follow title order: "Deep page" before "Leaf".
    assert!(leaf.contains("<a rel=\"prev\" href=\"/docs/guide/nested/deep-page/\">← Deep page</a>"));
    assert!(!leaf.contains("rel=\"next\""));
    // Aliases redirect.
    let alias = read(site.path(), "old/intro/index.html");
    assert!(alias.contains("content=\"0; url=/docs/guide/intro/\""));
}

#[test]
fn chinese_headings_keep_their_characters_in_anchors() {
    let site = copy_fixture();
    build(site.path()).success();
    let zh = read(site.path(), "zh/guide/intro/index.html");
    assert!(zh.contains("<html lang=\"zh\">"));
    assert!(zh.contains("<h2 id=\"持续集成\">"));
    assert!(zh.contains("<h2 id=\"部署策略灰度发布\">"));
    // @/ links from a Chinese page lead to the Chinese translation when there is one.
    assert!(zh.contains("href=\"/docs/guide/nested/deep-page/\""));
    assert!(zh.contains("<a href=\"/docs/zh/guide/\">指南</a>"));
}

#[test]
fn drafts_flag_includes_drafts() {
    let site = copy_fixture();
    opsmeter()
        .arg("--root")
        .arg(site.path())
        .args(["build", "--drafts"])
        .assert()
        .success();
    assert!(read(site.path(), "guide/draft/index.html").contains("Unfinished"));
}

#[test]
fn output_flag_writes_elsewhere() {
    let site = copy_fixture();
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("site");
    opsmeter()
        .arg("--root")
        .arg(site.path())
        .arg("build")
        .arg("--output")
        .arg(&target)
        .assert()
        .success();
    assert!(target.join("index.html").is_file());
    assert!(!site.path().join("public").exists());
}

/// Breaks the fixture with `edit`, and checks that the build fails with exit 1,
/// a message naming `expected` (file:line: …), and leaves `public/` byte-for-byte unchanged.
fn assert_failed_build_keeps_output(edit: impl FnOnce(&Path), expected: &str) {
    let site = copy_fixture();
    build(site.path()).success();
    let before = tree(&site.path().join("public"));
    edit(site.path());
    let out = build(site.path()).code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        stderr.contains(expected),
        "expected {expected:?} in:\n{stderr}"
    );
    assert!(
        !stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"),
        "{stderr}"
    );
    assert_eq!(tree(&site.path().join("public")), before, "public/ changed");
    let leftovers: Vec<_> = std::fs::read_dir(site.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".public"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn broken_front_matter_fails_with_file_and_line() {
    assert_failed_build_keeps_output(
        |root| {
            std::fs::write(
                root.join("content/guide/intro.md"),
                "+++\ntitle = \"Introduction\"\nweight = \"one\n+++\nBody\n",
            )
            .unwrap()
        },
        "content/guide/intro.md:3: invalid front matter:",
    );
}

#[test]
fn unknown_template_fails_with_file_and_line() {
    assert_failed_build_keeps_output(
        |root| {
            let p = root.join("content/guide/second.md");
            let text = std::fs::read_to_string(&p).unwrap();
            std::fs::write(&p, text.replace("special.html", "nope.html")).unwrap();
        },
        "content/guide/second.md:4: template \"nope.html\" not found in the theme or templates/",
    );
}

#[test]
fn bad_internal_link_fails_with_file_and_line() {
    assert_failed_build_keeps_output(
        |root| {
            std::fs::write(
                root.join("content/about.md"),
                "+++\ntitle = \"About\"\n+++\n\nFine line.\n\nSee [gone](@/guide/missing.md).\n",
            )
            .unwrap()
        },
        "content/about.md:7: link to @/guide/missing.md: no such page",
    );
}

#[test]
fn tera_syntax_error_fails_with_template_file_and_line() {
    assert_failed_build_keeps_output(
        |root| {
            std::fs::write(
                root.join("templates/special.html"),
                "{% extends \"base.html\" %}\n{% block content %}\n<h1>{{ page.title </h1>\n{% endblock content %}\n",
            )
            .unwrap()
        },
        "templates/special.html:3: Failed to parse 'special.html'",
    );
}

#[test]
fn unknown_config_key_fails_naming_the_key() {
    assert_failed_build_keeps_output(
        |root| {
            let p = root.join("opsmeter.toml");
            let text = std::fs::read_to_string(&p).unwrap();
            std::fs::write(&p, format!("{text}\n[colours]\nmain = \"red\"\n")).unwrap();
        },
        "opsmeter.toml:12: invalid configuration: unknown field `colours`",
    );
}

#[test]
fn check_passes_on_the_fixture() {
    let out = check(fixture()).success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert_eq!(
        stdout,
        "Checked 6 pages and 5 sections: 8 internal links and 1 images, no problems\n"
    );
    assert!(!fixture().join("public").exists(), "check must not write");
}

#[test]
fn check_reports_every_broken_link_anchor_and_image() {
    let site = copy_fixture();
    std::fs::write(
        site.path().join("content/about.md"),
        "+++\ntitle = \"About\"\n[extra]\nuntranslated = true\n+++\n\n[gone](@/nowhere.md)\n\n[bad anchor](@/guide/intro.md#nope)\n\n![missing](missing.png)\n\n[here](#nothing-here)\n\n[path](/docs/no/such/page/) [fine](/docs/guide/intro/) [file](/docs/robots.txt) [old](/docs/old/intro/)\n",
    )
    .unwrap();
    let out = check(site.path()).code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    let expected = [
        "content/about.md:7: link to @/nowhere.md: no such page",
        "content/about.md:9: link to @/guide/intro.md#nope: no heading with id `nope` in content/guide/intro.md",
        "content/about.md:11: image missing.png: file not found (expected content/missing.png)",
        "content/about.md:13: link to #nothing-here: no heading with id `nothing-here` in content/about.md",
        "content/about.md:15: link to /docs/no/such/page/: no page or file at this path",
    ];
    for e in expected {
        assert!(stderr.contains(e), "expected {e:?} in:\n{stderr}");
    }
    // The links to a page, a static file and an alias on line 15 are fine.
    assert!(stderr.contains("5 problems found"), "{stderr}");
    assert!(!site.path().join("public").exists());
}

#[test]
fn init_scaffolds_a_site_that_builds_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("x");
    opsmeter().arg("init").arg(&site).assert().success();
    assert!(site.join("opsmeter.toml").is_file());
    assert!(site.join("content/getting-started.md").is_file());
    assert!(site.join("templates").is_dir());
    opsmeter()
        .current_dir(&site)
        .arg("build")
        .assert()
        .success();
    assert!(site.join("public/getting-started/index.html").is_file());
    assert!(site.join("public/index.html").is_file());
    opsmeter()
        .current_dir(&site)
        .arg("check")
        .assert()
        .success();

    let config_before = std::fs::read(site.join("opsmeter.toml")).unwrap();
    let out = opsmeter().arg("init").arg(&site).assert().code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        stderr.contains("refusing to overwrite existing files"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read(site.join("opsmeter.toml")).unwrap(),
        config_before
    );
}

#[test]
fn a_site_without_config_or_themes_builds() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("content")).unwrap();
    std::fs::write(dir.path().join("content/hello.md"), "# Hello\n\nWorld.\n").unwrap();
    build(dir.path()).success();
    let hello = std::fs::read_to_string(dir.path().join("public/hello/index.html")).unwrap();
    assert!(hello.contains("<title>hello · opsmeter</title>"));
    assert!(hello.contains("<h1 id=\"hello\">Hello"));
    let robots = std::fs::read_to_string(dir.path().join("public/robots.txt")).unwrap();
    assert_eq!(robots, "User-agent: *\nAllow: /\nSitemap: /sitemap.xml\n");
}

#[test]
fn sitemap_lists_every_page_with_language_alternates() {
    let site = copy_fixture();
    build(site.path()).success();
    let sitemap = read(site.path(), "sitemap.xml");
    assert!(sitemap.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset"));
    assert!(sitemap.contains(
        "  <url>\n    <loc>https://example.org/docs/guide/intro/</loc>\n    <lastmod>2024-03-05</lastmod>\n    \
<xhtml:link rel=\"alternate\" hreflang=\"en\" href=\"https://example.org/docs/guide/intro/\"/>\n    \
<xhtml:link rel=\"alternate\" hreflang=\"zh\" href=\"https://example.org/docs/zh/guide/intro/\"/>\n  </url>"
    ), "{sitemap}");
    // 11 entries: 6 pages and 5 sections (the draft is left out).
    assert_eq!(sitemap.matches("<loc>").count(), 11);
    assert!(!sitemap.contains("draft"));
    // The site's own static/robots.txt wins over the generated one.
    assert_eq!(read(site.path(), "robots.txt"), "User-agent: *\n");
}

#[test]
fn language_routing_switcher_hreflang_and_translated_strings() {
    let site = copy_fixture();
    build(site.path()).success();
    let en = read(site.path(), "guide/intro/index.html");
    let zh = read(site.path(), "zh/guide/intro/index.html");
    assert!(en.contains("<link rel=\"alternate\" hreflang=\"zh\" href=\"https://example.org/docs/zh/guide/intro/\">"));
    assert!(zh.contains(
        "<link rel=\"alternate\" hreflang=\"en\" href=\"https://example.org/docs/guide/intro/\">"
    ));
    assert!(en.contains("<a href=\"/docs/zh/guide/intro/\" hreflang=\"zh\" lang=\"zh\">zh</a>"));
    assert!(zh.contains("<a href=\"/docs/guide/intro/\" hreflang=\"en\" lang=\"en\">en</a>"));
    // Theme strings follow the page's language.
    assert!(en.contains("<p class=\"toc-title\">On this page</p>"));
    assert!(zh.contains("<p class=\"toc-title\">本页目录</p>"));
    assert!(zh.contains("placeholder=\"搜索本站\""));
    // A page without a translation says so and links to the other language's home.
    let about = read(site.path(), "about/index.html");
    assert!(about.contains("<p class=\"note\">This page is not translated into <a href=\"/docs/zh/\" hreflang=\"zh\">zh</a>"));
}

#[test]
fn site_strings_override_theme_strings() {
    let site = copy_fixture();
    std::fs::create_dir_all(site.path().join("i18n")).unwrap();
    std::fs::write(
        site.path().join("i18n/zh.toml"),
        "on_this_page = \"目录\"\n",
    )
    .unwrap();
    build(site.path()).success();
    let zh = read(site.path(), "zh/guide/intro/index.html");
    assert!(zh.contains("<p class=\"toc-title\">目录</p>"));
    assert!(zh.contains("跳到正文"), "other strings keep the theme's");
}

/// A site may reword the assessment's sentences (`msg_…`), but `check` (and `build`) refuse a
/// rewording that drops or invents a placeholder, or a `msg_` key that does not exist, naming
/// the file and the line.
#[test]
fn check_refuses_message_rewordings_with_other_placeholders() {
    let site = copy_fixture();
    std::fs::create_dir_all(site.path().join("i18n")).unwrap();
    std::fs::write(
        site.path().join("i18n/zh.toml"),
        "on_this_page = \"目录\"\nmsg_from_unpinned = \"FROM {img} 未固定\"\nmsg_no_dockerfile = \"找不到 Dockerfile\"\nmsg_nope = \"x\"\n",
    )
    .unwrap();
    let out = check(site.path()).failure();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        stderr.contains("i18n/zh.toml:2: `msg_from_unpinned` names the placeholders {img}, expected those of the built-in sentence: {image}"),
        "{stderr}"
    );
    assert!(
        stderr.contains("i18n/zh.toml:4: `msg_nope` is not a sentence of the assessment"),
        "{stderr}"
    );
    // The rewording that keeps its placeholders (none) is fine.
    assert!(!stderr.contains("msg_no_dockerfile"), "{stderr}");
}

#[test]
fn search_index_finds_an_english_word_and_a_chinese_pair() {
    let site = copy_fixture();
    build(site.path()).success();
    let en: serde_json::Value = serde_json::from_str(&read(site.path(), "search/en.json")).unwrap();
    let zh: serde_json::Value = serde_json::from_str(&read(site.path(), "search/zh.json")).unwrap();
    let urls = |idx: &serde_json::Value, token: &str| -> Vec<String> {
        idx["index"][token]
            .as_array()
            .map(|docs| {
                docs.iter()
                    .map(|d| {
                        idx["docs"][d.as_u64().unwrap() as usize]["u"]
                            .as_str()
                            .unwrap()
                            .to_string()
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(urls(&en, "footnotes"), vec!["/docs/guide/intro/"]);
    assert_eq!(urls(&en, "dive"), vec!["/docs/guide/nested/deep-page/"]);
    assert_eq!(urls(&zh, "灰度"), vec!["/docs/zh/guide/intro/"]);
    assert_eq!(urls(&zh, "部署"), vec!["/docs/zh/guide/intro/"]);
    // Each language has its own index.
    assert!(urls(&en, "灰度").is_empty());
}

#[test]
fn check_reports_an_undeclared_missing_translation() {
    let site = copy_fixture();
    // guide/intro.md has a Chinese translation; a new page without one and
    // without `untranslated` is reported.
    std::fs::write(
        site.path().join("content/guide/third.md"),
        "+++\ntitle = \"Third\"\n+++\n\nText.\n",
    )
    .unwrap();
    let out = check(site.path()).code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        stderr.contains("content/guide/third.md: no `zh` translation (add content/guide/third.zh.md, or declare `untranslated = true` under [extra])"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("about.md"),
        "declared pages are not reported: {stderr}"
    );
}

#[test]
fn the_project_handbook_has_no_broken_link_anchor_or_missing_translation() {
    let out = check(env!("CARGO_MANIFEST_DIR")).success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(stdout.contains("no problems"), "{stdout}");
}

/// `opsmeter init`, then Chinese beside English and one repository: the
/// handbook and the reports build in both languages, and `check` passes.
#[test]
fn an_init_site_in_chinese_and_english_has_the_handbook_and_reports_in_both() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("service");
    common::linear(&repo);
    let site = dir.path().join("site");
    let out = opsmeter().arg("init").arg(&site).assert().success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(
        stdout.contains("The site includes the DevOps handbook at /guide/"),
        "{stdout}"
    );
    let config = site.join("opsmeter.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(text.contains("\nhandbook = true\n"), "{text}");
    assert!(text.contains("\nlanguages = [\"en\", \"zh\"]\n"), "{text}");
    std::fs::write(
        &config,
        format!(
            "{}\n[[repos]]\nname = \"service\"\npath = {repo:?}\n",
            text.replace(
                "languages = [\"en\", \"zh\"]",
                "languages = [\"zh\", \"en\"]"
            )
        ),
    )
    .unwrap();
    opsmeter()
        .current_dir(&site)
        .args(["build", "--since", "2024-01-01", "--until", "2024-02-15"])
        .assert()
        .success();
    let public = site.join("public");
    for page in [
        "guide/index.html",
        "guide/testing/index.html",
        "guide/dora-metrics/index.html",
        "zh/guide/index.html",
        "zh/guide/testing/index.html",
        "repos/service/index.html",
        "zh/repos/service/index.html",
        "index.html",
        "zh/index.html",
    ] {
        assert!(public.join(page).is_file(), "public/{page} is missing");
    }
    let zh_testing = std::fs::read_to_string(public.join("zh/guide/testing/index.html")).unwrap();
    assert!(zh_testing.contains("<html lang=\"zh\">"));
    assert!(
        zh_testing.contains("<h2 id=\"practices-box-title\">本章讲授的实践</h2>"),
        "{zh_testing}"
    );
    let en_report = std::fs::read_to_string(public.join("repos/service/index.html")).unwrap();
    assert!(en_report.contains("<a href=\"/guide/testing/\">handbook</a>"));
    let zh_report = std::fs::read_to_string(public.join("zh/repos/service/index.html")).unwrap();
    assert!(zh_report.contains("<a href=\"/zh/guide/testing/\">手册</a>"));
    assert!(zh_report.contains("<a href=\"/zh/guide/dora-metrics/\">"));
    let out = opsmeter()
        .current_dir(&site)
        .arg("check")
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(stdout.contains("no problems"), "{stdout}");
}

/// A site's own chapter replaces the built-in one, in its language only; the
/// other chapters stay built in, and the site may add a chapter.
#[test]
fn a_site_chapter_replaces_the_built_in_one_and_the_rest_stay() {
    let site = tempfile::tempdir().unwrap();
    std::fs::write(
        site.path().join("opsmeter.toml"),
        "title = \"Team\"\nlanguages = [\"en\", \"zh\"]\n",
    )
    .unwrap();
    let guide = site.path().join("content/guide");
    std::fs::create_dir_all(&guide).unwrap();
    std::fs::write(
        guide.join("testing.md"),
        "+++\ntitle = \"How we test\"\nweight = 30\n+++\n\nOur own testing rules: see [CI](@/guide/continuous-integration.md).\n",
    )
    .unwrap();
    std::fs::write(
        guide.join("runbooks.md"),
        "+++\ntitle = \"Runbooks\"\n[extra]\nuntranslated = true\n+++\n\nWhere our runbooks live.\n",
    )
    .unwrap();
    build(site.path()).success();
    let testing = read(site.path(), "guide/testing/index.html");
    assert!(
        testing.contains("<title>How we test · Team</title>"),
        "{testing}"
    );
    assert!(testing.contains("Our own testing rules"));
    assert!(testing.contains("<a href=\"/guide/continuous-integration/\">CI</a>"));
    // The Chinese chapter is still the built-in one.
    let testing_zh = read(site.path(), "zh/guide/testing/index.html");
    let built_in_zh = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("content/guide/testing.zh.md"),
    )
    .unwrap();
    let title_zh = built_in_zh
        .lines()
        .find_map(|l| l.strip_prefix("title = "))
        .unwrap()
        .trim_matches('"');
    assert!(
        testing_zh.contains(&format!("<title>{title_zh} · Team</title>")),
        "{testing_zh}"
    );
    assert!(!testing_zh.contains("Our own testing rules"));
    // Another chapter: the built-in text.
    let ci = read(site.path(), "guide/continuous-integration/index.html");
    let built_in_ci = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("content/guide/continuous-integration.md"),
    )
    .unwrap();
    let ci_title = built_in_ci
        .lines()
        .find_map(|l| l.strip_prefix("title = "))
        .unwrap()
        .trim_matches('"');
    assert!(
        ci.contains(&format!("<title>{ci_title} · Team</title>")),
        "{ci}"
    );
    // The added chapter is listed in the handbook's section beside the built-in ones.
    let section = read(site.path(), "guide/index.html");
    assert!(
        section.contains("<a href=\"/guide/runbooks/\">Runbooks</a>"),
        "{section}"
    );
    assert!(
        section.contains("<a href=\"/guide/continuous-integration/\">"),
        "{section}"
    );
    // check passes: the built-in chapters need no translation file of the site.
    check(site.path()).success();
    // handbook = false: the site's own chapters only.
    std::fs::write(
        site.path().join("opsmeter.toml"),
        "title = \"Team\"\nlanguages = [\"en\", \"zh\"]\nhandbook = false\n",
    )
    .unwrap();
    std::fs::write(
        guide.join("testing.md"),
        "+++\ntitle = \"How we test\"\n+++\n\nOur own testing rules.\n",
    )
    .unwrap();
    build(site.path()).success();
    assert!(site
        .path()
        .join("public/guide/testing/index.html")
        .is_file());
    assert!(!site
        .path()
        .join("public/guide/continuous-integration")
        .exists());
    assert!(!site.path().join("public/zh/guide").exists());
}

/// `check` verifies on any site that every practice of the model names a
/// chapter of the handbook (built in or the site's own).
#[test]
fn check_reports_a_practice_whose_chapter_does_not_exist() {
    let site = tempfile::tempdir().unwrap();
    std::fs::write(site.path().join("opsmeter.toml"), "title = \"Team\"\n").unwrap();
    std::fs::create_dir_all(site.path().join("data")).unwrap();
    let model =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("data/model.toml"))
            .unwrap()
            .replace("chapter = \"monitoring\"", "chapter = \"observability\"");
    std::fs::write(site.path().join("data/model.toml"), model).unwrap();
    let out = check(site.path()).code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        stderr.contains("data/model.toml: practice `monitoring` names chapter `observability`, but content/guide/observability.md does not exist"),
        "{stderr}"
    );
    // A chapter of the site's own fixes it.
    std::fs::create_dir_all(site.path().join("content/guide")).unwrap();
    std::fs::write(
        site.path().join("content/guide/observability.md"),
        "+++\ntitle = \"Observability\"\n+++\n\nText.\n",
    )
    .unwrap();
    check(site.path()).success();
}
