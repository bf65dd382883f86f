//! Shared machinery: case counts, near-valid mutations of seeds, and checks of
//! the lines errors point at.

use std::fmt;
use std::path::Path;

use chrono::{DateTime, TimeZone, Utc};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{select, Index};
use proptest::test_runner::Config as ProptestConfig;

/// `cases` per property unless `PROPTEST_CASES` says otherwise. Failures are
/// not persisted to files: a found input becomes a plain regression test.
pub fn cases(cases: u32) -> ProptestConfig {
    let mut config = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = cases;
        // The test run is reproducible: the same inputs every time, so a red CI
        // run is red again on a developer's machine. A longer run by hand
        // (PROPTEST_CASES=…) draws new inputs each time, unless
        // PROPTEST_RNG_SEED fixes them.
        if std::env::var_os("PROPTEST_RNG_SEED").is_none() {
            config.rng_seed = proptest::test_runner::RngSeed::Fixed(0x6f70_736d_6574_6572);
        }
    }
    config.failure_persistence = None;
    config
}

/// Bytes shown escaped, so a failing input can be pasted into a test.
#[derive(Clone)]
pub struct Input(pub Vec<u8>);

impl fmt::Debug for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "b\"{}\"", self.0.escape_ascii())
    }
}

impl Input {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0).into_owned()
    }
}

/// Numbers that break careless arithmetic and conversions.
pub const ODD_NUMBERS: &[&str] = &[
    "0",
    "-1",
    "-0",
    "255",
    "256",
    "4294967295",
    "4294967296",
    "9223372036854775807",
    "9223372036854775808",
    "18446744073709551615",
    "18446744073709551616",
    "99999999999999999999999999",
    "1e309",
    "-1e309",
    "nan",
    "inf",
    "0.5",
    "1.",
    "",
];

/// Tokens of every format: quoting, nesting, separators, odd characters.
pub const COMMON_TOKENS: &[&str] = &[
    "\n", "\r\n", "\r", "\0", "\t", " ", "\"", "'", "\\", "[", "]", "{", "}", "=", ",", ":", ";",
    "<", ">", "/", "#", "\u{feff}", "\u{202e}", "é", "字", "\u{7f}", "+++", "---", "..", "%",
];

#[derive(Debug, Clone)]
pub enum Mutation {
    Delete { at: Index, len: usize },
    Insert { at: Index, bytes: Vec<u8> },
    Token { at: Index, token: Index },
    DuplicateLine(Index),
    DropLine(Index),
    SwapLines(Index, Index),
    Truncate(Index),
    Number { which: Index, with: Index },
    Flip { at: Index, bit: u8 },
}

pub fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        1 => (any::<Index>(), 1usize..48).prop_map(|(at, len)| Mutation::Delete { at, len }),
        1 => (any::<Index>(), vec(any::<u8>(), 1..8)).prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        3 => (any::<Index>(), any::<Index>()).prop_map(|(at, token)| Mutation::Token { at, token }),
        2 => any::<Index>().prop_map(Mutation::DuplicateLine),
        2 => any::<Index>().prop_map(Mutation::DropLine),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        1 => any::<Index>().prop_map(Mutation::Truncate),
        3 => (any::<Index>(), any::<Index>()).prop_map(|(which, with)| Mutation::Number { which, with }),
        1 => (any::<Index>(), 0u8..8).prop_map(|(at, bit)| Mutation::Flip { at, bit }),
    ]
}

/// Byte ranges of the lines of `bytes`, each with its newline.
pub fn line_ranges(bytes: &[u8]) -> Vec<std::ops::Range<usize>> {
    let mut ranges = Vec::new();
    let mut start = 0;
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'\n' {
            ranges.push(start..i + 1);
            start = i + 1;
        }
    }
    if start < bytes.len() {
        ranges.push(start..bytes.len());
    }
    ranges
}

pub fn apply(bytes: &mut Vec<u8>, mutation: &Mutation, tokens: &[&str]) {
    let pick = |i: &Index, len: usize| if len == 0 { 0 } else { i.index(len) };
    match mutation {
        Mutation::Delete { at, len } => {
            let start = pick(at, bytes.len());
            let end = (start + len).min(bytes.len());
            bytes.drain(start..end);
        }
        Mutation::Insert { at, bytes: new } => {
            let at = pick(at, bytes.len() + 1);
            bytes.splice(at..at, new.iter().copied());
        }
        Mutation::Token { at, token } => {
            let all: Vec<&str> = tokens.iter().chain(COMMON_TOKENS).copied().collect();
            let token = all[token.index(all.len())].as_bytes();
            let at = pick(at, bytes.len() + 1);
            bytes.splice(at..at, token.iter().copied());
        }
        Mutation::DuplicateLine(i) => {
            let lines = line_ranges(bytes);
            if !lines.is_empty() {
                let line = lines[i.index(lines.len())].clone();
                let copy = bytes[line.clone()].to_vec();
                bytes.splice(line.end..line.end, copy);
            }
        }
        Mutation::DropLine(i) => {
            let lines = line_ranges(bytes);
            if !lines.is_empty() {
                bytes.drain(lines[i.index(lines.len())].clone());
            }
        }
        Mutation::SwapLines(a, b) => {
            let lines = line_ranges(bytes);
            if lines.len() > 1 {
                let (a, b) = (a.index(lines.len()), b.index(lines.len()));
                let (a, b) = (a.min(b), a.max(b));
                if a != b {
                    let mut out = Vec::with_capacity(bytes.len());
                    for (i, range) in lines.iter().enumerate() {
                        let take = if i == a {
                            &lines[b]
                        } else if i == b {
                            &lines[a]
                        } else {
                            range
                        };
                        out.extend_from_slice(&bytes[take.clone()]);
                    }
                    *bytes = out;
                }
            }
        }
        Mutation::Truncate(at) => {
            let at = pick(at, bytes.len() + 1);
            bytes.truncate(at);
        }
        Mutation::Number { which, with } => {
            let mut runs = Vec::new();
            let mut i = 0;
            while i < bytes.len() {
                if bytes[i].is_ascii_digit() {
                    let start = i;
                    while i < bytes.len() && bytes[i].is_ascii_digit() {
                        i += 1;
                    }
                    runs.push(start..i);
                } else {
                    i += 1;
                }
            }
            if !runs.is_empty() {
                let run = runs[which.index(runs.len())].clone();
                let with = ODD_NUMBERS[with.index(ODD_NUMBERS.len())].as_bytes();
                bytes.splice(run, with.iter().copied());
            }
        }
        Mutation::Flip { at, bit } => {
            if !bytes.is_empty() {
                let at = at.index(bytes.len());
                bytes[at] ^= 1 << bit;
            }
        }
    }
}

/// A seed mutated one to six times.
pub fn near(seed: &'static str, tokens: &'static [&'static str]) -> BoxedStrategy<Input> {
    vec(mutation(), 1..7)
        .prop_map(move |mutations| {
            let mut bytes = seed.as_bytes().to_vec();
            for m in &mutations {
                apply(&mut bytes, m, tokens);
            }
            Input(bytes)
        })
        .boxed()
}

/// Mostly near-valid input from any of `seeds`, sometimes arbitrary bytes.
pub fn hostile(
    seeds: &'static [&'static str],
    tokens: &'static [&'static str],
) -> BoxedStrategy<Input> {
    let near_any = select(seeds).prop_flat_map(move |seed| near(seed, tokens));
    prop_oneof![
        6 => near_any,
        1 => vec(any::<u8>(), 0..600).prop_map(Input),
        1 => vec(select(tokens.iter().chain(COMMON_TOKENS).chain(ODD_NUMBERS).copied().collect::<Vec<_>>()), 0..60)
            .prop_map(|parts| Input(parts.concat().into_bytes())),
    ]
    .boxed()
}

/// Replaces the file at `path` with `bytes`. Removed first, not truncated:
/// ext4 flushes a truncated-and-rewritten file to disk on close, which made
/// the file-based properties wait on the disk instead of parsing.
pub fn rewrite(path: &Path, bytes: &[u8]) {
    let _ = std::fs::remove_file(path);
    std::fs::write(path, bytes).unwrap();
}

/// How many lines `text` has, counting a last line after the final newline.
pub fn line_count(bytes: &[u8]) -> usize {
    bytes.iter().filter(|b| **b == b'\n').count() + 1
}

/// The line in `file:LINE: …` of an error message, when there is one.
/// Fails the property when the message does not name the file.
pub fn line_after_file(message: &str, file: &str) -> Result<Option<usize>, TestCaseError> {
    let Some(at) = message.find(file) else {
        return Err(TestCaseError::fail(format!(
            "error does not name the file {file:?}: {message:?}"
        )));
    };
    let digits: String = message[at + file.len()..]
        .strip_prefix(':')
        .map(|r| r.chars().take_while(char::is_ascii_digit).collect())
        .unwrap_or_default();
    Ok(digits.parse().ok())
}

pub fn check_line(line: usize, input: &[u8], message: &str) -> Result<(), TestCaseError> {
    prop_assert!(
        line >= 1 && line <= line_count(input),
        "line {line} is not a line of the {}-line input: {message}",
        line_count(input)
    );
    Ok(())
}

/// A TOML basic string for `s`, escaped by the TOML spec (not by the toml crate).
pub fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\t' => out.push('\t'),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\u{:04X}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

pub fn utc(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(secs, 0)
        .single()
        .expect("a time in range")
}

/// Seconds from 2000 to 2100.
pub const TIME_RANGE: std::ops::Range<i64> = 946_684_800..4_102_444_800;
