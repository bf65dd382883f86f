//! Front matter (`src/site/front_matter.rs`), alone and through loading `content/`.

use std::path::Path;

use proptest::collection::vec;
use proptest::prelude::*;

use crate::support::*;
use opsmeter::config::Config;
use opsmeter::site::front_matter;

const PAGE: &str = "+++\ntitle = \"Deploying \\\"safely\\\"\"\ndescription = 'Blue/green'\ndate = 2024-05-01\nweight = 3\ndraft = false\ntemplate = \"page.html\"\nslug = \"deploying\"\naliases = [\"/old/\", \"/older/\"]\n[extra]\nk = 1\nnested = { a = [1, 2.5, \"x\"] }\n+++\n# Body\n\nText with a [link](../x/).\n";
const PAGE_PLAIN: &str = "\u{feff}# No front matter\n\nJust text.\n";
const FRONT_MATTER_TOKENS: &[&str] = &[
    "+++\n",
    "+++",
    "date = ",
    "1979-05-27T07:32:00Z",
    "2024-13-40",
    "[extra]\n",
    "[[x]]\n",
    "\"\"\"",
    "'''",
    "inf",
    "nan",
    "true",
    "colour = 1\n",
];

proptest! {
    #![proptest_config(cases(10000))]

    /// Any text: no panic; an error's line is a line of the file; a body is
    /// the rest of the file from the line after the closing fence.
    #[test]
    fn front_matter_never_panics(input in hostile(&[PAGE, PAGE_PLAIN], FRONT_MATTER_TOKENS)) {
        let text = input.text();
        match front_matter::split(&text) {
            Err(e) => check_line(e.line, text.as_bytes(), &e.message)?,
            Ok(split) => {
                prop_assert!(text.ends_with(split.body));
                let before = &text[..text.len() - split.body.len()];
                let before = before.strip_prefix('\u{feff}').unwrap_or(before);
                prop_assert_eq!(split.body_line_offset, before.matches('\n').count());
                for key in ["title", "date", "slug", "aliases", "weight"] {
                    check_line(split.key_line(key), text.as_bytes(), key)?;
                }
                let _ = split.front_matter.date_string();
            }
        }
    }
}

/// The fields of a generated front matter.
#[derive(Debug, Clone)]
struct PageFields {
    title: String,
    weight: i64,
    draft: bool,
    aliases: Vec<String>,
    date: (i32, u32, u32),
    body: String,
}

fn page_fields() -> impl Strategy<Value = PageFields> {
    (
        any::<String>(),
        any::<i64>(),
        any::<bool>(),
        vec("/[a-z0-9/_-]{0,12}", 0..4),
        (1970i32..2100, 1u32..13, 1u32..29),
        "(\\PC{0,20}\n){0,5}",
    )
        .prop_map(|(title, weight, draft, aliases, date, body)| PageFields {
            title,
            weight,
            draft,
            aliases,
            date,
            body,
        })
}

proptest! {
    #![proptest_config(cases(1000))]

    /// Front matter written from known values reads back as those values, and
    /// the body starts on the line after the closing fence.
    #[test]
    fn front_matter_round_trips(p in page_fields()) {
        let aliases: Vec<String> = p.aliases.iter().map(|a| toml_string(a)).collect();
        let date = format!("{:04}-{:02}-{:02}", p.date.0, p.date.1, p.date.2);
        let front = [
            format!("title = {}", toml_string(&p.title)),
            format!("weight = {}", p.weight),
            format!("draft = {}", p.draft),
            format!("date = {date}"),
            format!("aliases = [{}]", aliases.join(", ")),
        ];
        let text = format!("+++\n{}\n+++\n{}", front.join("\n"), p.body);
        let split = front_matter::split(&text).map_err(|e| TestCaseError::fail(format!("{e:?}\n{text}")))?;
        let fm = &split.front_matter;
        prop_assert_eq!(fm.title.as_deref(), Some(p.title.as_str()));
        prop_assert_eq!(fm.weight, Some(p.weight));
        prop_assert_eq!(fm.draft, p.draft);
        prop_assert_eq!(&fm.aliases, &p.aliases);
        prop_assert_eq!(fm.date_string(), Ok(Some(date)));
        prop_assert_eq!(split.body, p.body.as_str());
        prop_assert_eq!(split.body_line_offset, front.len() + 2);
        prop_assert_eq!(split.key_line("weight"), 3);
        prop_assert_eq!(split.key_line("aliases"), 6);
    }
}

/// Loading a content folder whose page is hostile: every problem names
/// that page, and its line is a line of the page.
#[test]
fn content_errors_name_the_page() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("content/guide/page.md");
    std::fs::create_dir_all(page.parent().unwrap()).unwrap();
    proptest!(cases(500), |(input in hostile(&[PAGE], FRONT_MATTER_TOKENS))| {
        rewrite(&page, &input.0);
        if let Err(problems) = opsmeter::site::content::load(dir.path(), &Config::defaults(), false) {
            prop_assert!(!problems.is_empty());
            for d in &problems {
                prop_assert_eq!(&d.file, Path::new("content/guide/page.md"), "{}", d);
                if let Some(line) = d.line {
                    check_line(line, &input.0, &d.message)?;
                }
            }
        }
    });
}
