//! Careless and hostile input to the site generator (issue 11, items 5, 7, 11
//! and 12): templates that never stop including themselves, output paths
//! claimed twice, files that are not UTF-8, names that do not exist. Each test
//! runs the real binary on a site that built once, breaks one thing, and
//! asserts the exit code, the message (file and line), that nothing panicked,
//! and that the previous `public/` is byte for byte what it was.

mod common;

use common::{opsmeter, tree};

use std::path::Path;

fn write(root: &Path, rel: &str, bytes: impl AsRef<[u8]>) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, bytes).unwrap();
}

/// A small site outside any git repository, with a home page and one page.
fn small_site() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    // Without the built-in handbook, so a template error names this one page.
    write(
        root,
        "opsmeter.toml",
        "title = \"Mine\"\nhandbook = false\n",
    );
    write(
        root,
        "content/_index.md",
        "+++\ntitle = \"Home\"\n+++\nHello.\n",
    );
    write(
        root,
        "content/page.md",
        "+++\ntitle = \"Page\"\n+++\nA page.\n",
    );
    dir
}

fn build(root: &Path) -> (i32, String) {
    let out = opsmeter()
        .arg("--root")
        .arg(root)
        .arg("build")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("overflow"), "{stderr}");
    (out.status.code().unwrap_or(-1), stderr)
}

/// Builds the site once (it must succeed), applies `breakage`, builds again:
/// that build must fail with exit 1 and leave `public/` as it was. Returns its stderr.
fn fails_and_keeps_public(root: &Path, breakage: impl FnOnce(&Path)) -> String {
    let (code, stderr) = build(root);
    assert_eq!(code, 0, "the site builds before it is broken: {stderr}");
    let before = tree(&root.join("public"));
    assert!(before.contains_key("page/index.html"));
    breakage(root);
    let (code, stderr) = build(root);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        tree(&root.join("public")),
        before,
        "public/ changed: {stderr}"
    );
    stderr
}

/// For each case, [`fails_and_keeps_public`] on a new [`small_site`] broken by
/// writing the case's files (path, text): its error is exactly the case's.
fn each_fails_and_keeps_public(cases: &[(&[(&str, &str)], &str)]) {
    for (files, expected) in cases {
        let site = small_site();
        let stderr = fails_and_keeps_public(site.path(), |root| {
            for (rel, text) in *files {
                write(root, rel, text);
            }
        });
        assert_eq!(stderr.trim_end(), *expected);
    }
}

// ------------------------------------------------ 5. templates that include or call themselves

/// A template that includes itself, two that include each other, a macro that
/// calls itself without end, and a template that extends itself: each is an
/// error at the file and line of the include, call or `extends` that closes
/// the cycle, never a stack overflow.
#[test]
fn a_template_that_never_stops_including_itself_is_an_error_at_its_line() {
    let cases: [(&[(&str, &str)], &str); 4] = [
        (
            &[("templates/page.html", "<main>\n{% include \"page.html\" %}\n</main>\n")],
            "error: templates/page.html:2: templates include or call each other without end \
             (page.html → page.html); rendering stopped at 64 levels of includes and macro calls \
             (rendering content/page.md)",
        ),
        (
            &[
                ("templates/page.html", "<main>\n\n{% include \"other.html\" %}\n"),
                ("templates/other.html", "{% include \"page.html\" %}\n"),
            ],
            // Reported at the include that enters page.html again.
            "error: templates/other.html:1: templates include or call each other without end \
             (page.html → other.html → page.html); rendering stopped at 64 levels of includes \
             and macro calls (rendering content/page.md)",
        ),
        (
            &[
                (
                    "templates/page.html",
                    "{% import \"loops.html\" as loops %}\n{{ loops::down(n=1) }}\n",
                ),
                (
                    "templates/loops.html",
                    "{# counts the wrong way #}\n{% macro down(n) %}\n<i>{{ n }}</i>\n{{ self::down(n=n+1) }}\n{% endmacro down %}\n",
                ),
            ],
            "error: templates/loops.html:4: templates include or call each other without end \
             (macro down of loops.html → macro down of loops.html); rendering stopped at 64 levels \
             of includes and macro calls (rendering content/page.md)",
        ),
        (
            &[(
                "templates/page.html",
                "{# a page #}\n{% extends \"page.html\" %}\n{% block content %}{% endblock %}\n",
            )],
            "error: templates/page.html:2: Circular extend detected for template 'page.html'. \
             Inheritance chain: `[\"page.html\"]`",
        ),
    ];
    each_fails_and_keeps_public(&cases);
}

/// A recursive macro that ends (the theme's own table of contents nests one
/// level per heading) still renders.
#[test]
fn a_recursive_macro_that_ends_still_renders() {
    let site = small_site();
    write(
        site.path(),
        "content/page.md",
        "+++\ntitle = \"Page\"\n+++\n# A\n## B\n### C\n#### D\n##### E\n###### F\n",
    );
    let (code, stderr) = build(site.path());
    assert_eq!(code, 0, "{stderr}");
    let html = std::fs::read_to_string(site.path().join("public/page/index.html")).unwrap();
    assert!(html.contains("<a href=\"#f\">F</a>"), "{html}");
}

// ------------------------------------------------ 12. runtime errors, UTF-8, names: file and line

/// A template that fails while rendering names the template file and the line
/// of the variable, filter or include that failed, in the included template
/// when that is where it happened.
#[test]
fn template_runtime_errors_name_the_template_line() {
    let cases = [
        (
            "templates/page.html",
            "<main>\n{{ page.title }}\n{{ page.no_such_field }}\n</main>\n",
            "error: templates/page.html:3: Failed to render 'page.html': Variable \
             `page.no_such_field` not found in context while rendering 'page.html' \
             (rendering content/page.md)",
        ),
        (
            "templates/page.html",
            "<main>\n\n{{ page.title | round }}\n",
            "error: templates/page.html:3: Failed to render 'page.html': Filter call 'round' \
             failed: Filter `round` was called on an incorrect value: got `\"Page\"` but expected \
             a f64 (rendering content/page.md)",
        ),
        (
            "templates/page.html",
            "<main>\n{% include \"partials/missing.html\" %}\n",
            "error: templates/page.html:2: Failed to render 'page.html': Template \
             '[partials/missing.html]' not found (rendering content/page.md)",
        ),
    ];
    for (rel, text, expected) in cases {
        let site = small_site();
        let stderr = fails_and_keeps_public(site.path(), |root| write(root, rel, text));
        assert_eq!(stderr.trim_end(), expected);
    }

    // In an included template, the error is at the included file's line.
    let site = small_site();
    let stderr = fails_and_keeps_public(site.path(), |root| {
        write(
            root,
            "templates/page.html",
            "{% include \"partials/meta.html\" %}\n",
        );
        write(
            root,
            "templates/partials/meta.html",
            "<p>\n</p>\n{{ nothing_here }}\n",
        );
    });
    assert!(
        stderr.starts_with("error: templates/partials/meta.html:3: "),
        "{stderr}"
    );
    assert!(
        stderr.contains("Variable `nothing_here` not found"),
        "{stderr}"
    );
}

/// Content, templates and theme strings that are not UTF-8 are errors at the
/// line and column of the first bad byte.
#[test]
fn files_that_are_not_utf8_are_named_with_line_and_column() {
    let cases: [(&str, &[u8], &str); 3] = [
        (
            "content/page.md",
            b"+++\ntitle = \"Page\"\n+++\nfine\ncaf\xe9 latin-1\n",
            "error: content/page.md:5: not valid UTF-8 text: byte 0xE9 at column 4 (save the file as UTF-8)",
        ),
        (
            "templates/page.html",
            b"<main>\n\xff\xfe{{ page.title }}\n",
            "error: templates/page.html:2: not valid UTF-8 text: byte 0xFF at column 1 (save the file as UTF-8)",
        ),
        (
            "i18n/en.toml",
            b"on_this_page = \"On this page\"\nsearch = \"S\x80\"\n",
            "error: i18n/en.toml:2: not valid UTF-8 text: byte 0x80 at column 12 (save the file as UTF-8)",
        ),
    ];
    for (rel, bytes, expected) in cases {
        let site = small_site();
        let stderr = fails_and_keeps_public(site.path(), |root| write(root, rel, bytes));
        assert_eq!(stderr.trim_end(), expected);
    }
}

/// A theme that does not exist is named at its line of opsmeter.toml.
#[test]
fn a_missing_theme_is_named_at_its_config_line() {
    let site = small_site();
    let stderr = fails_and_keeps_public(site.path(), |root| {
        write(
            root,
            "opsmeter.toml",
            "title = \"Mine\"\n\ntheme = \"nightly\"\n",
        )
    });
    assert_eq!(
        stderr.trim_end(),
        "error: opsmeter.toml:3: theme `nightly` not found: expected a folder themes/nightly/"
    );
}

// ------------------------------------------------ 11. every output path has one owner

/// An alias, a static file, a content asset or a page landing on a path
/// another claimant writes (or needs as a folder) is an error naming both.
#[test]
fn two_claimants_of_one_output_path_are_an_error_naming_both() {
    let cases: [(&[(&str, &str)], &str); 6] = [
        (
            &[(
                "content/page.md",
                "+++\ntitle = \"Page\"\naliases = [\"/404.html\"]\n+++\nA page.\n",
            )],
            "error: content/page.md:3: /404.html is written by both the 404 page (generated by \
             opsmeter) and the alias \"/404.html\" of content/page.md:3; every output file has \
             one owner: rename or remove one",
        ),
        (
            &[(
                "content/page.md",
                "+++\ntitle = \"Page\"\naliases = [\"/search/en.json\"]\n+++\nA page.\n",
            )],
            "error: content/page.md:3: /search/en.json is a file written by the search index of \
             language `en` (generated by opsmeter), but the alias \"/search/en.json\" of \
             content/page.md:3 writes /search/en.json/index.html inside it as a folder; every \
             output path has one owner: rename or remove one",
        ),
        (
            &[(
                "content/old.md",
                "+++\ntitle = \"Old\"\naliases = [\"/page/\"]\n+++\nMoved.\n",
            )],
            "error: content/old.md:3: /page/index.html is written by both content/page.md and \
             the alias \"/page/\" of content/old.md:3; every output file has one owner: rename \
             or remove one",
        ),
        (
            &[("static/sitemap.xml", "<urlset/>\n")],
            "error: static/sitemap.xml: /sitemap.xml is written by both the sitemap (generated by \
             opsmeter) and static/sitemap.xml; every output file has one owner: rename or remove one",
        ),
        (
            &[("static/page/index.html", "<p>static</p>\n")],
            "error: static/page/index.html: /page/index.html is written by both content/page.md \
             and static/page/index.html; every output file has one owner: rename or remove one",
        ),
        (
            &[("content/style.css", "body{}\n")],
            "error: content/style.css: /style.css is written by both the default theme's \
             style.css and content/style.css; every output file has one owner: rename or remove one",
        ),
    ];
    each_fails_and_keeps_public(&cases);

    // A site's static/style.css replacing the theme's is the documented override.
    let site = small_site();
    write(site.path(), "static/style.css", "body{color:red}\n");
    let (code, stderr) = build(site.path());
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        std::fs::read_to_string(site.path().join("public/style.css")).unwrap(),
        "body{color:red}\n"
    );
}

/// Two pages on one URL through a `slug` are an error at the slug's line.
#[test]
fn two_pages_on_one_url_are_an_error_at_the_slug() {
    let site = small_site();
    let stderr = fails_and_keeps_public(site.path(), |root| {
        write(
            root,
            "content/zeta.md",
            "+++\ntitle = \"Zeta\"\nweight = 3\nslug = \"page\"\n+++\nZ.\n",
        )
    });
    assert_eq!(
        stderr.trim_end(),
        "error: content/zeta.md:4: URL /page/ is also produced by content/page.md; every URL has \
         one page: change a `slug` or rename a file"
    );
}

/// A repository whose name slugs to another's folder, or an alias onto a
/// repository's report: errors naming both, and `public/` unchanged.
#[test]
fn repositories_and_reports_keep_their_own_folders() {
    let repo = common::scratch("hostile-site-linear");
    common::linear(&repo);
    let config =
        format!("title = \"Mine\"\n\n[[repos]]\nname = \"Payments API\"\npath = {repo:?}\n");
    let build_window = |root: &Path| -> (i32, String) {
        let out = opsmeter()
            .arg("--root")
            .arg(root)
            .args(["build", "--since", "2024-01-01", "--until", "2024-02-01"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(!stderr.contains("panicked"), "{stderr}");
        (out.status.code().unwrap_or(-1), stderr)
    };
    let site = small_site();
    write(site.path(), "opsmeter.toml", &config);
    let (code, stderr) = build_window(site.path());
    assert_eq!(code, 0, "{stderr}");
    let before = tree(&site.path().join("public"));
    assert!(before.contains_key("repos/payments-api/index.html"));

    write(
        site.path(),
        "opsmeter.toml",
        format!("{config}\n[[repos]]\nname = \"payments_api\"\npath = {repo:?}\n"),
    );
    let (code, stderr) = build_window(site.path());
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        stderr.trim_end(),
        "error: opsmeter.toml: the repositories `Payments API` and `payments_api` have the same \
         folder name `payments-api` (/repos/payments-api/), so one would overwrite the other: \
         rename one (`name = \"…\"`)"
    );
    assert_eq!(tree(&site.path().join("public")), before);

    write(site.path(), "opsmeter.toml", &config);
    write(
        site.path(),
        "content/page.md",
        "+++\ntitle = \"Page\"\naliases = [\"/repos/payments-api/\"]\n+++\nA page.\n",
    );
    write(site.path(), "static/api/report.csv", "a,b\n");
    let (code, stderr) = build_window(site.path());
    assert_eq!(code, 1, "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines,
        vec![
            "error: content/page.md:3: /repos/payments-api/index.html is written by both the \
             report of repository `Payments API` (generated by opsmeter) and the alias \
             \"/repos/payments-api/\" of content/page.md:3; every output file has one owner: \
             rename or remove one",
            "error: static/api/report.csv: /api/report.csv is written by both the CSV report (generated \
             by opsmeter) and static/api/report.csv; every output file has one owner: rename or \
             remove one",
            "error: 2 problems found",
        ]
    );
    assert_eq!(tree(&site.path().join("public")), before);
}
