//! A static search index per language, built at build time: an inverted
//! index from tokens to pages. Chinese (and Japanese, Korean) text has no
//! spaces, so it is indexed as single characters and two-character pairs;
//! a two-character query such as 部署 or 灰度 then finds its pages.
//! `themes/default/static/search.js` tokenizes queries the same way.

use std::collections::BTreeMap;

use serde::Serialize;

/// One page in the index.
#[derive(Debug, Serialize)]
pub struct Doc {
    /// Title.
    pub t: String,
    /// URL.
    pub u: String,
    /// Snippet: the description, or the start of the text.
    pub s: String,
}

/// The index of one language.
#[derive(Debug, Serialize)]
pub struct Index {
    pub docs: Vec<Doc>,
    /// Token → ascending page numbers.
    pub index: BTreeMap<String, Vec<u32>>,
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0x3040..=0x30FF | 0xAC00..=0xD7AF)
}

/// Lowercase words of two or more letters, and CJK characters and character pairs.
pub fn tokenize(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut run: Vec<char> = Vec::new();
    let flush_word = |word: &mut String, out: &mut Vec<String>| {
        if word.chars().count() >= 2 {
            out.push(std::mem::take(word));
        } else {
            word.clear();
        }
    };
    let flush_run = |run: &mut Vec<char>, out: &mut Vec<String>| {
        for (i, c) in run.iter().enumerate() {
            out.push(c.to_string());
            if let Some(next) = run.get(i + 1) {
                out.push(format!("{c}{next}"));
            }
        }
        run.clear();
    };
    for c in text.chars().flat_map(char::to_lowercase) {
        if is_cjk(c) {
            flush_word(&mut word, &mut out);
            run.push(c);
        } else if c.is_alphanumeric() {
            flush_run(&mut run, &mut out);
            word.push(c);
        } else {
            flush_word(&mut word, &mut out);
            flush_run(&mut run, &mut out);
        }
    }
    flush_word(&mut word, &mut out);
    flush_run(&mut run, &mut out);
    out
}

/// Text content of rendered HTML: tags dropped, common entities decoded.
pub fn html_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => {
                in_tag = true;
                out.push(' ');
            }
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
}

/// Builds an index from (title, url, description, html) of each page.
pub fn build<'a>(
    pages: impl Iterator<Item = (&'a str, String, Option<&'a str>, &'a str)>,
) -> Index {
    let mut docs = Vec::new();
    let mut index: BTreeMap<String, Vec<u32>> = BTreeMap::new();
    for (n, (title, url, description, html)) in pages.enumerate() {
        let text = html_text(html);
        let mut tokens = tokenize(title);
        tokens.extend(tokenize(&text));
        tokens.sort();
        tokens.dedup();
        for t in tokens {
            index.entry(t).or_default().push(n as u32);
        }
        let snippet = match description {
            Some(d) if !d.is_empty() => d.to_string(),
            _ => {
                let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
                collapsed.chars().take(160).collect()
            }
        };
        docs.push(Doc {
            t: title.to_string(),
            u: url,
            s: snippet,
        });
    }
    Index { docs, index }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenizes_words_and_cjk_pairs() {
        assert_eq!(
            tokenize("Blue-green 部署策略, a CI"),
            vec!["blue", "green", "部", "部署", "署", "署策", "策", "策略", "略", "ci"]
        );
    }

    #[test]
    fn a_two_character_query_finds_its_page() {
        let idx = build(
            vec![
                (
                    "灰度发布",
                    "/zh/a/".to_string(),
                    None,
                    "<p>先把新版本部署到一小部分服务器。</p>",
                ),
                (
                    "Testing",
                    "/b/".to_string(),
                    Some("Unit tests"),
                    "<p>Unit &amp; API tests</p>",
                ),
            ]
            .into_iter(),
        );
        assert_eq!(idx.index["部署"], vec![0]);
        assert_eq!(idx.index["灰度"], vec![0]);
        assert_eq!(idx.index["api"], vec![1]);
        assert_eq!(idx.docs[1].s, "Unit tests");
        assert_eq!(idx.docs[0].s, "先把新版本部署到一小部分服务器。");
    }
}
