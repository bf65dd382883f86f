//! CODEOWNERS semantics, with expectations worked out by hand from GitHub's
//! and GitLab's documentation of the format.

use super::*;

/// The owners of `path` as written in the file, or `None` when no rule matches.
fn owners(co: &CodeOwners, path: &str) -> Option<Vec<String>> {
    co.owners_of(path)
        .map(|o| o.iter().map(ToString::to_string).collect())
}

fn list(owners: &[&str]) -> Option<Vec<String>> {
    Some(owners.iter().map(|s| s.to_string()).collect())
}

/// Modelled on the example file of GitHub's "About code owners" page, with
/// one owner name per rule so that each expectation names the deciding rule.
const GITHUB_EXAMPLE: &str = r"# This is a comment.
*                   @global-owner1 @global-owner2
*.js                @js-owner #This is an inline comment.
*.go                docs@example.com
*.txt               @octo-org/octocats
/build/logs/        @doctocat
docs/*              docs@example.com
apps/               @octocat
/docs/              @doc-lead
/scripts/           @doctocat @octocat
**/logs             @log-keeper
/apps/              @apps-root
/apps/github
\#notes.md          @hash-owner
";

#[test]
fn the_last_matching_rule_of_githubs_example_decides() {
    let co = CodeOwners::parse(".github/CODEOWNERS", GITHUB_EXAMPLE).unwrap();
    assert!(co.warnings.is_empty(), "{:?}", co.warnings);
    assert_eq!(co.sections.len(), 1);
    assert_eq!(co.sections[0].rules.len(), 13);
    let expected: &[(&str, &[&str])] = &[
        // Only `*` matches.
        ("README.md", &["@global-owner1", "@global-owner2"]),
        // `*.js` after `*`; the inline comment is not an owner.
        ("web/app.js", &["@js-owner"]),
        ("cmd/main.go", &["docs@example.com"]),
        ("build/out.txt", &["@octo-org/octocats"]),
        // `*`, `*.txt`, `/build/logs/` and `**/logs` match: the last one wins.
        ("build/logs/out.txt", &["@log-keeper"]),
        // `docs/*` (line 7) and `/docs/` (line 9): line 9.
        ("docs/intro.md", &["@doc-lead"]),
        ("docs/guide/intro.md", &["@doc-lead"]),
        // Unanchored `apps/` matches a nested apps folder; anchored `/apps/` does not.
        ("lib/apps/util.js", &["@octocat"]),
        ("apps/web/index.js", &["@apps-root"]),
        // A rule without owners un-owns: matched, but nobody.
        ("apps/github/hooks.js", &[]),
        ("scripts/run.sh", &["@doctocat", "@octocat"]),
        ("scripts/x/logs/a.sh", &["@log-keeper"]),
        // `\#` escapes the comment sign; the name matches at any depth.
        ("#notes.md", &["@hash-owner"]),
        ("a/#notes.md", &["@hash-owner"]),
    ];
    for (path, want) in expected {
        assert_eq!(owners(&co, path), list(want), "{path}");
    }
    // Which line decided.
    let rules = co.rules_for("build/logs/out.txt");
    assert_eq!(rules.len(), 1);
    assert_eq!((rules[0].line, rules[0].pattern.as_str()), (11, "**/logs"));
}

#[test]
fn a_later_broader_rule_overrides_an_earlier_narrower_one() {
    let narrow_first = "/services/payments/api.rs @payments-lead\n/services/ @platform\n";
    let co = CodeOwners::parse("CODEOWNERS", narrow_first).unwrap();
    assert_eq!(
        owners(&co, "services/payments/api.rs"),
        list(&["@platform"])
    );
    let broad_first = "/services/ @platform\n/services/payments/api.rs @payments-lead\n";
    let co = CodeOwners::parse("CODEOWNERS", broad_first).unwrap();
    assert_eq!(
        owners(&co, "services/payments/api.rs"),
        list(&["@payments-lead"])
    );
    assert_eq!(owners(&co, "services/search/main.go"), list(&["@platform"]));
    assert_eq!(owners(&co, "README.md"), None);
}

/// Whether the one-rule file `pattern @o` owns `path`.
fn matches(pattern: &str, path: &str) -> bool {
    let co = CodeOwners::parse("CODEOWNERS", &format!("{pattern} @o\n")).unwrap();
    assert!(co.warnings.is_empty(), "{pattern}: {:?}", co.warnings);
    co.owners_of(path).is_some()
}

/// Each pattern of `table` against its paths: matched or not.
fn check_table(table: &[(&str, &[(&str, bool)])]) {
    for (pattern, cases) in table {
        for (path, expected) in *cases {
            assert_eq!(
                matches(pattern, path),
                *expected,
                "{pattern} against {path}"
            );
        }
    }
}

#[test]
fn patterns_anchor_at_a_leading_or_inner_slash_and_float_without_one() {
    let table: &[(&str, &[(&str, bool)])] = &[
        (
            "foo",
            &[
                ("foo", true),
                ("foo/bar", true),
                ("bar/foo", true),
                ("bar/foo/baz", true),
                ("foo.txt", false),
                ("bar/foo.txt", false),
            ],
        ),
        (
            "/foo",
            &[
                ("foo", true),
                ("foo/bar/baz", true),
                ("bar/foo", false),
                ("food", false),
            ],
        ),
        // An inner slash anchors too.
        (
            "foo/bar",
            &[
                ("foo/bar", true),
                ("foo/bar/baz", true),
                ("baz/foo/bar", false),
                ("foo/bart", false),
            ],
        ),
        (
            "*.js",
            &[("a.js", true), ("a/b/c.js", true), ("a.jsx", false)],
        ),
        (
            "f?o",
            &[
                ("foo", true),
                ("fo", false),
                ("fooo", false),
                ("f/o", false),
            ],
        ),
        ("f\\*o", &[("f*o", true), ("foo", false)]),
        ("dir\\ name/", &[("dir name/a", true), ("dir/a", false)]),
    ];
    check_table(table);
}

#[test]
fn folder_patterns_own_what_is_inside_and_a_last_star_only_direct_files() {
    let table: &[(&str, &[(&str, bool)])] = &[
        (
            "foo/",
            &[
                ("foo", false),
                ("foo/bar", true),
                ("bar/foo/baz", true),
                ("bar/foo", false),
            ],
        ),
        ("/foo/", &[("foo/bar/baz", true), ("bar/foo/baz", false)]),
        (
            "docs/*",
            &[
                ("docs/a.md", true),
                ("docs/a/b.md", false),
                ("x/docs/a.md", false),
                ("docs", false),
            ],
        ),
        ("/*", &[("Makefile", true), ("src/main.rs", false)]),
        ("*", &[("Makefile", true), ("a/b/c", true)]),
        (
            "**/logs",
            &[
                ("logs", true),
                ("logs/x", true),
                ("a/b/logs/x", true),
                ("catalogs/x", false),
            ],
        ),
        (
            "foo/**/bar",
            &[
                ("foo/bar", true),
                ("foo/a/b/bar/c", true),
                ("x/foo/bar", false),
                ("foo/barn", false),
            ],
        ),
        (
            "foo/**",
            &[("foo/a", true), ("foo/a/b", true), ("foo", false)],
        ),
    ];
    check_table(table);
}

#[test]
fn bad_lines_are_skipped_with_line_numbered_warnings_and_the_rest_still_applies() {
    let text = "* @everyone\n\
                !secret.txt @security\n\
                src/[ab].rs @x\n\
                a***b @x\n\
                docs//x @y\n\
                *.md not-an-owner\n\
                *.py @ok @@@bad\n\
                [Unclosed @x\n\
                *.rs @rust\n";
    let co = CodeOwners::parse("CODEOWNERS", text).unwrap();
    let warnings: Vec<String> = co.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        warnings,
        vec![
            "CODEOWNERS:2: pattern \"!secret.txt\": `!` negation is not supported: line skipped",
            "CODEOWNERS:3: pattern \"src/[ab].rs\": `[...]` character ranges are not supported: line skipped",
            "CODEOWNERS:4: pattern \"a***b\": three asterisks in a row: line skipped",
            "CODEOWNERS:5: pattern \"docs//x\": an empty path segment (`//`): line skipped",
            "CODEOWNERS:6: \"not-an-owner\" is not an owner (expected @user, @org/team or an email address): line skipped",
            "CODEOWNERS:7: \"@@@bad\" is not an owner (expected @user, @org/team or an email address): line skipped",
            "CODEOWNERS:8: a section header without its closing `]` (patterns cannot start with `[`: character ranges are not supported): line skipped",
        ]
    );
    let rules: Vec<usize> = co.sections[0].rules.iter().map(|r| r.line).collect();
    assert_eq!(rules, vec![1, 9]);
    // The skipped negation does not un-own; the skipped `*.md` line does not own.
    assert_eq!(owners(&co, "secret.txt"), list(&["@everyone"]));
    assert_eq!(owners(&co, "README.md"), list(&["@everyone"]));
    assert_eq!(owners(&co, "src/a.rs"), list(&["@rust"]));
}

/// Modelled on GitLab's "Code Owners" documentation: sections, optional
/// sections, approval counts, default owners, same-named sections merged.
const GITLAB_SECTIONS: &str = "* @default-owner

[Documentation] @docs-team
docs/
README.md @tech-writer

^[Database][2] @dba-team
*.sql
/db/migrations/ @migrations-lead

[documentation]
/docs/api/ @api-writers

[Backend] @be @be
app/**/*.rb

[Frontend]
*.js @fe
/vendor/
";

#[test]
fn gitlab_sections_each_pick_their_last_rule_and_their_owners_add_up() {
    let co = CodeOwners::parse(".gitlab/CODEOWNERS", GITLAB_SECTIONS).unwrap();
    assert!(co.warnings.is_empty(), "{:?}", co.warnings);
    let names: Vec<Option<&str>> = co.sections.iter().map(|s| s.name.as_deref()).collect();
    assert_eq!(
        names,
        vec![
            None,
            Some("Documentation"),
            Some("Database"),
            Some("Backend"),
            Some("Frontend")
        ]
    );
    let db = &co.sections[2];
    assert!(db.optional);
    assert_eq!(db.approvals, Some(2));
    assert_eq!(db.default_owners, vec![Owner::User("dba-team".into())]);
    assert_eq!(
        co.sections[3].default_owners,
        vec![Owner::User("be".into())]
    );
    // Only the unnamed section matches: its owners, borrowed.
    assert!(matches!(co.owners_of("Makefile"), Some(Cow::Borrowed(_))));
    assert_eq!(owners(&co, "Makefile"), list(&["@default-owner"]));
    let expected: &[(&str, &[&str])] = &[
        // `docs/` takes the section's default owners.
        ("docs/guide.md", &["@default-owner", "@docs-team"]),
        // `[documentation]` continues `[Documentation]`: its later rule wins there.
        ("docs/api/v1.md", &["@default-owner", "@api-writers"]),
        ("README.md", &["@default-owner", "@tech-writer"]),
        (
            "db/migrations/001.sql",
            &["@default-owner", "@migrations-lead"],
        ),
        ("db/seed.sql", &["@default-owner", "@dba-team"]),
        ("app/models/user.rb", &["@default-owner", "@be"]),
        // In a section without default owners, a rule without owners un-owns
        // there; the other sections still apply.
        ("vendor/lib.js", &["@default-owner"]),
        ("web/app.js", &["@default-owner", "@fe"]),
    ];
    for (path, want) in expected {
        assert_eq!(owners(&co, path), list(want), "{path}");
    }
}

#[test]
fn owners_are_users_teams_emails_and_roles() {
    assert_eq!(
        Owner::parse("@octocat"),
        Some(Owner::User("octocat".into()))
    );
    assert_eq!(
        Owner::parse("@octo-org/octocats"),
        Some(Owner::Team("octo-org/octocats".into()))
    );
    assert_eq!(
        Owner::parse("@group/sub.group/team_1"),
        Some(Owner::Team("group/sub.group/team_1".into()))
    );
    assert_eq!(
        Owner::parse("docs@example.com"),
        Some(Owner::Email("docs@example.com".into()))
    );
    assert_eq!(
        Owner::parse("@@maintainer"),
        Some(Owner::Role("maintainer".into()))
    );
    for bad in [
        "@", "@org/", "@a b", "octocat", "a@b", "@x@y", "<a@b.c>", "a@.com",
    ] {
        assert_eq!(Owner::parse(bad), None, "{bad}");
    }
    assert_eq!(
        serde_json::to_string(&Owner::Team("org/t".into())).unwrap(),
        "\"@org/t\""
    );
}

#[test]
fn a_service_is_owned_by_the_owners_of_its_files() {
    let text = "* @org/platform
/services/payments/ @org/payments
*.sql @org/dba
/libs/money/ @org/payments @org/finance
/services/payments/vendor/
";
    let co = CodeOwners::parse("CODEOWNERS", text).unwrap();
    let files: Vec<String> = [
        "README.md",
        "libs/money/lib.rs",
        "services/payments/api.rs",
        "services/payments/db/schema.sql",
        "services/payments/vendor/x.rs",
        "services/search/main.go",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let globs = vec![
        "services/payments/**".to_string(),
        "libs/money/**".to_string(),
    ];
    let service = co.owners_of_paths(&globs, &files).unwrap();
    // api.rs → payments; schema.sql → dba (the later `*.sql`); lib.rs →
    // payments and finance; vendor/x.rs → un-owned.
    assert_eq!(service.files, 4);
    assert_eq!(service.unowned_files, 1);
    let got: Vec<(String, usize)> = service
        .owners
        .iter()
        .map(|o| (o.owner.to_string(), o.files))
        .collect();
    assert_eq!(
        got,
        vec![
            ("@org/payments".to_string(), 2),
            ("@org/dba".to_string(), 1),
            ("@org/finance".to_string(), 1),
        ]
    );
    // `*` in a service glob stays inside a folder.
    let shallow = co
        .owners_of_paths(&["services/*".to_string()], &files)
        .unwrap();
    assert_eq!(shallow.files, 0);
    assert!(co
        .owners_of_paths(&["services/[".to_string()], &files)
        .unwrap_err()
        .contains("services/["));
}

#[test]
fn the_file_is_found_in_githubs_order_then_gitlabs() {
    let paths = |ps: &[&str]| ps.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let read = |p: &str| Some(format!("* @from-{}\n", p.replace('/', "-")));
    let found = |ps: &[&str]| CodeOwners::find(&paths(ps), read).unwrap().map(|c| c.file);
    assert_eq!(
        found(&["CODEOWNERS", "docs/CODEOWNERS", ".github/CODEOWNERS"]),
        Some(".github/CODEOWNERS".to_string())
    );
    assert_eq!(
        found(&[".gitlab/CODEOWNERS", "docs/CODEOWNERS", "CODEOWNERS"]),
        Some("CODEOWNERS".to_string())
    );
    assert_eq!(
        found(&[".gitlab/CODEOWNERS", "docs/CODEOWNERS"]),
        Some("docs/CODEOWNERS".to_string())
    );
    assert_eq!(
        found(&[".gitlab/CODEOWNERS"]),
        Some(".gitlab/CODEOWNERS".to_string())
    );
    // Elsewhere it is not a CODEOWNERS file.
    assert_eq!(found(&["src/CODEOWNERS", "README.md"]), None);
    // Listed but unreadable: unknown, not "nobody".
    let err = CodeOwners::find(&paths(&["CODEOWNERS"]), |_| None).unwrap_err();
    assert_eq!(err.file, "CODEOWNERS");
    assert!(err.reason.english().contains("could not be read"), "{err}");
}

#[test]
fn hostile_files_are_bounded() {
    let huge = "* @a\n".repeat(MAX_BYTES / 5 + 1);
    let err = CodeOwners::parse("CODEOWNERS", &huge).unwrap_err();
    assert!(err.reason.english().contains("3 MB"), "{err}");

    let err = CodeOwners::parse("CODEOWNERS", "* @a\n\0\u{1}\u{2}").unwrap_err();
    assert!(err.reason.english().contains("NUL"), "{err}");

    let long = format!("* @a\n{} @b\n*.rs @c\n", "x".repeat(MAX_LINE + 1));
    let co = CodeOwners::parse("CODEOWNERS", &long).unwrap();
    assert_eq!(co.warnings.len(), 1);
    assert_eq!(co.warnings[0].line, Some(2));
    assert_eq!(co.sections[0].rules.len(), 2);

    // Odd lines never panic; each is a rule or a warning.
    let odd = [
        "[",
        "^[",
        "^",
        "[]",
        "[a][",
        "[a][x]",
        "[a]x",
        "\\",
        "/",
        "**",
        "***",
        "@",
        "a @",
        "a @/",
        "a @x/",
        "a b@c",
        "é @ü",
        "a\\",
        "\\ \\ ",
        "**/",
        "/**/",
        "[a][4294967296]",
        "\u{feff}* @bom",
    ];
    for line in odd {
        let parsed = CodeOwners::parse("CODEOWNERS", line);
        if let Ok(co) = parsed {
            let _ = co.owners_of("a/b/c");
        }
    }
}

#[test]
fn rules_past_the_limit_are_an_error_not_a_silent_cut() {
    let text = "a @x\n".repeat(MAX_RULES + 1);
    let err = CodeOwners::parse("CODEOWNERS", &text).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "CODEOWNERS: {} rules: more than {MAX_RULES}, too many to read",
            MAX_RULES + 1
        )
    );
}

#[test]
fn large_sections_match_rule_by_rule_with_the_same_answer() {
    // Past MAX_SET_RULES the section is matched one regex at a time.
    let mut text = String::from("* @everyone\n");
    for i in 0..MAX_SET_RULES {
        text.push_str(&format!("/dir{i}/ @team{i}\n"));
    }
    let co = CodeOwners::parse("CODEOWNERS", &text).unwrap();
    assert!(matches!(co.sections[0].matcher, Matcher::Each(_)));
    assert_eq!(owners(&co, "dir7/a.rs"), list(&["@team7"]));
    assert_eq!(owners(&co, "other/a.rs"), list(&["@everyone"]));
}
