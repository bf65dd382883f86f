//! A static search index per language, built at build time: an inverted
//! index from tokens to pages. Chinese (and Japanese, Korean) text has no
//! spaces, so it is indexed as single characters and two-character pairs;
//! a two-character query such as 部署 or 灰度 then finds its pages.
//! `themes/default/static/search.js` tokenizes queries the same way.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

use rayon::prelude::*;
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
    for_each_token(text, &mut |t| {
        out.push(match t {
            Token::Word(w) => w.to_string(),
            Token::Cjk(key) => cjk_text(key),
        })
    });
    out
}

/// A token as [`for_each_token`] gives it: no string is made per token (the
/// index sees every token of every page, two per character of Chinese text).
#[derive(Clone, Copy)]
enum Token<'a> {
    Word(&'a str),
    /// A CJK character (`c << 32`) or pair (`first << 32 | second`).
    Cjk(u64),
}

fn cjk_key(first: char, second: Option<char>) -> u64 {
    (u64::from(first) << 32) | second.map_or(0, u64::from)
}

/// The text of a [`Token::Cjk`] key.
fn cjk_text(key: u64) -> String {
    [(key >> 32) as u32, key as u32]
        .into_iter()
        .filter(|&c| c != 0)
        .filter_map(char::from_u32)
        .collect()
}

/// Calls `emit` with each token of [`tokenize`], in the same order.
fn for_each_token(text: &str, emit: &mut impl FnMut(Token<'_>)) {
    let mut word = String::new();
    let mut run: Vec<char> = Vec::new();
    let flush_word = |word: &mut String, emit: &mut dyn FnMut(Token<'_>)| {
        if word.chars().nth(1).is_some() {
            emit(Token::Word(word));
        }
        word.clear();
    };
    let flush_run = |run: &mut Vec<char>, emit: &mut dyn FnMut(Token<'_>)| {
        for (i, &c) in run.iter().enumerate() {
            emit(Token::Cjk(cjk_key(c, None)));
            if let Some(&next) = run.get(i + 1) {
                emit(Token::Cjk(cjk_key(c, Some(next))));
            }
        }
        run.clear();
    };
    let mut step = |c: char| {
        if is_cjk(c) {
            flush_word(&mut word, emit);
            run.push(c);
        } else if c.is_alphanumeric() {
            flush_run(&mut run, emit);
            word.push(c);
        } else {
            flush_word(&mut word, emit);
            flush_run(&mut run, emit);
        }
    };
    for c in text.chars() {
        if c.is_ascii() {
            step(c.to_ascii_lowercase());
        } else {
            c.to_lowercase().for_each(&mut step);
        }
    }
    flush_word(&mut word, emit);
    flush_run(&mut run, emit);
}

/// Text content of rendered HTML: tags dropped, common entities decoded.
/// Each `<` becomes a space (so words of adjacent elements stay apart) and
/// starts a tag that the next `>` ends; a stray `>` is dropped.
pub fn html_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let mut in_tag = false;
    let mut rest = html;
    while let Some(at) = rest.find(['<', '>']) {
        if !in_tag {
            out.push_str(&rest[..at]);
        }
        if rest.as_bytes()[at] == b'<' {
            in_tag = true;
            out.push(' ');
        } else {
            in_tag = false;
        }
        rest = &rest[at + 1..];
    }
    if !in_tag {
        out.push_str(rest);
    }
    if !out.contains('&') {
        return out;
    }
    out.replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
}

type Words = HashSet<String, BuildHasherDefault<TokenHasher>>;
type CjkTokens = HashSet<u64, BuildHasherDefault<TokenHasher>>;

/// One page's entry and the distinct tokens of its title and text.
struct PageTokens {
    doc: Doc,
    words: Words,
    cjk: CjkTokens,
}

fn page_tokens(title: &str, url: String, description: Option<&str>, html: &str) -> PageTokens {
    let text = html_text(html);
    let mut words = Words::default();
    let mut cjk = CjkTokens::default();
    let mut record = |t: Token<'_>| match t {
        Token::Word(w) => {
            if !words.contains(w) {
                words.insert(w.to_string());
            }
        }
        Token::Cjk(key) => {
            cjk.insert(key);
        }
    };
    for_each_token(title, &mut record);
    for_each_token(&text, &mut record);
    let snippet = match description {
        Some(d) if !d.is_empty() => d.to_string(),
        _ => snippet_of(&text),
    };
    PageTokens {
        doc: Doc {
            t: title.to_string(),
            u: url,
            s: snippet,
        },
        words,
        cjk,
    }
}

/// Builds an index from (title, url, description, html) of each page: the
/// pages' tokens in parallel, each page's distinct tokens then recorded in
/// page order (so each list is ascending), sorted by token once at the end.
pub fn build<'a>(
    pages: impl Iterator<Item = (&'a str, String, Option<&'a str>, &'a str)>,
) -> Index {
    let pages: Vec<_> = pages.collect();
    let pages: Vec<PageTokens> = pages
        .into_par_iter()
        .map(|(title, url, description, html)| page_tokens(title, url, description, html))
        .collect();
    // Sized for a few times the largest page's tokens: growing a table rehashes it.
    let most = |size: fn(&PageTokens) -> usize| pages.iter().map(size).max().unwrap_or(0) * 4;
    let mut words: HashMap<String, Vec<u32>, BuildHasherDefault<TokenHasher>> =
        HashMap::with_capacity_and_hasher(most(|p| p.words.len()), Default::default());
    let mut cjk: HashMap<u64, Vec<u32>, BuildHasherDefault<TokenHasher>> =
        HashMap::with_capacity_and_hasher(most(|p| p.cjk.len()), Default::default());
    let mut docs = Vec::with_capacity(pages.len());
    for (n, page) in pages.into_iter().enumerate() {
        let n = n as u32;
        for w in page.words {
            words.entry(w).or_default().push(n);
        }
        for key in page.cjk {
            cjk.entry(key).or_default().push(n);
        }
        docs.push(page.doc);
    }
    // Each kind sorted on its own (CJK keys as numbers: UTF-8 keeps the order
    // of code points, and a character sorts before the pairs it starts),
    // then merged by text: a word never holds a CJK character, so the two
    // kinds never share a token. The map is built from the sorted whole.
    let mut words: Vec<(String, Vec<u32>)> = words.into_iter().collect();
    words.par_sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let mut cjk: Vec<(u64, Vec<u32>)> = cjk.into_iter().collect();
    cjk.par_sort_unstable_by_key(|(key, _)| *key);
    let mut words = words.into_iter().peekable();
    let mut cjk = cjk
        .into_iter()
        .map(|(key, pages)| (cjk_text(key), pages))
        .peekable();
    let merged = std::iter::from_fn(|| match (words.peek(), cjk.peek()) {
        (Some(w), Some(c)) if w.0 < c.0 => words.next(),
        (Some(_), Some(_)) | (None, _) => cjk.next(),
        (Some(_), None) => words.next(),
    });
    let index: BTreeMap<String, Vec<u32>> = merged.collect();
    Index { docs, index }
}

/// The first [`SNIPPET_CHARS`] characters of the text with its whitespace
/// collapsed to single spaces.
fn snippet_of(text: &str) -> String {
    let mut out = String::new();
    let mut chars = 0;
    for word in text.split_whitespace() {
        if chars >= SNIPPET_CHARS {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
            chars += 1;
        }
        out.push_str(word);
        chars += word.chars().count();
    }
    out.chars().take(SNIPPET_CHARS).collect()
}

const SNIPPET_CHARS: usize = 160;

/// A fast hash for the tokens of the site's own pages (FxHash's mixing: a
/// rotate, a xor and a multiply per 8 bytes): the index hashes every token
/// occurrence, two per character of Chinese text, and SipHash's resistance to
/// chosen keys buys nothing against the site's own content.
#[derive(Default)]
struct TokenHasher(u64);

impl Hasher for TokenHasher {
    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
    }
    fn write_u8(&mut self, b: u8) {
        self.add(u64::from(b));
    }
    fn finish(&self) -> u64 {
        // The multiply carries entropy only upwards: a table indexes buckets
        // by the low bits, which for a short token depend on its first byte
        // or two (the same lead byte for most Chinese characters) and would
        // crowd the tokens into a few buckets. The rotation brings the
        // well-mixed high bits down (as rustc-hash 2 does).
        self.0.rotate_left(26)
    }
}

impl TokenHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
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

    #[test]
    fn each_token_lists_the_pages_that_contain_it_once_in_page_order() {
        let pages = [
            ("Deploy 部署", "<p>deploy deploy &amp; 部署 again</p>"),
            ("Other", "<p>nothing in common</p>"),
            ("Again", "<pre>deploy</pre><p>部署策略 again AGAIN</p>"),
        ];
        let idx = build(
            pages
                .iter()
                .enumerate()
                .map(|(i, (t, h))| (*t, format!("/{i}/"), None, *h)),
        );
        assert_eq!(idx.index["deploy"], vec![0, 2]);
        assert_eq!(idx.index["部署"], vec![0, 2]);
        assert_eq!(idx.index["again"], vec![0, 2]);
        assert_eq!(idx.index["策略"], vec![2]);
        assert_eq!(idx.index["common"], vec![1]);
        assert!(!idx.index.contains_key("&"));
        // Every token of every page, and nothing else.
        let mut expected: BTreeMap<String, Vec<u32>> = BTreeMap::new();
        for (n, (t, h)) in pages.iter().enumerate() {
            let mut tokens = tokenize(t);
            tokens.extend(tokenize(&html_text(h)));
            tokens.sort();
            tokens.dedup();
            for t in tokens {
                expected.entry(t).or_default().push(n as u32);
            }
        }
        assert_eq!(idx.index, expected);
    }

    #[test]
    fn the_snippet_is_the_first_160_characters_with_whitespace_collapsed() {
        let text = format!(
            "  one\n\n two\t{}  {} tail",
            "x".repeat(150),
            "y".repeat(20)
        );
        let s = snippet_of(&text);
        assert_eq!(s.chars().count(), 160);
        assert_eq!(s, format!("one two {}{}", "x".repeat(150), " y"));
        assert_eq!(snippet_of(" 短 文 "), "短 文");
        assert_eq!(snippet_of(""), "");
    }

    /// A hash table picks a token's bucket by the low bits of its hash: the
    /// 2,000 most common-looking tokens of a Chinese page (single characters
    /// and pairs, all sharing a lead byte) must spread over a 4,096-bucket
    /// table about as random hashes would (about 1,580 distinct buckets;
    /// without the final rotation they fell into 64).
    #[test]
    fn token_hashes_spread_over_the_low_bits() {
        use std::hash::BuildHasher;
        let hasher = BuildHasherDefault::<TokenHasher>::default();
        let chars: Vec<char> = (0x4E00..0x4E00 + 1001).filter_map(char::from_u32).collect();
        let mut tokens: Vec<String> = chars[..1000].iter().map(|c| c.to_string()).collect();
        tokens.extend(chars.windows(2).map(|w| w.iter().collect::<String>()));
        assert_eq!(tokens.len(), 2000);
        let buckets: std::collections::HashSet<u64> = tokens
            .iter()
            .map(|t| hasher.hash_one(t.as_str()) & 0xFFF)
            .collect();
        assert!(buckets.len() > 1400, "{} buckets", buckets.len());
    }

    #[test]
    fn html_text_drops_tags_and_stray_closers_and_decodes_entities() {
        assert_eq!(html_text("<p>a<b>b</b></p>"), " a b  ");
        assert_eq!(html_text("x > y <i a=\"<\">z"), "x  y   z");
        assert_eq!(html_text("&amp;lt; &quot;部署&#39;"), "< \"部署'");
        assert_eq!(html_text("open <tag never closed"), "open  ");
        assert_eq!(tokenize("ÀB Ǆx"), vec!["àb", "ǆx"]);
    }
}
