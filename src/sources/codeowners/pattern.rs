//! CODEOWNERS patterns (gitignore-like, as GitHub reads them) compiled into
//! regular expressions over paths relative to the repository's root.

use regex::Regex;

/// Split a line on whitespace that is not escaped by a backslash; escapes are
/// kept for [`pattern_regex`] (`\ ` is a space inside a pattern).
pub(super) fn split_tokens(line: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut token = String::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            token.push(c);
            if let Some(next) = chars.next() {
                token.push(next);
            }
        } else if c.is_whitespace() {
            if !token.is_empty() {
                tokens.push(std::mem::take(&mut token));
            }
        } else {
            token.push(c);
        }
    }
    if !token.is_empty() {
        tokens.push(token);
    }
    tokens
}

/// The regular expression, over a path relative to the root, of a CODEOWNERS
/// pattern (the rules are in the documentation of [`super`]).
pub(super) fn pattern_regex(pattern: &str) -> Result<Regex, String> {
    if pattern.starts_with('!') {
        return Err("`!` negation is not supported".to_string());
    }
    if pattern.contains("***") {
        return Err("three asterisks in a row".to_string());
    }
    if pattern == "/" {
        return Err("`/` alone matches no file".to_string());
    }
    let mut segments: Vec<&str> = pattern.split('/').collect();
    if segments[0].is_empty() {
        segments.remove(0);
    } else if segments.len() == 1 || (segments.len() == 2 && segments[1].is_empty()) {
        // No `/` but a trailing one: the name matches at any depth.
        if segments[0] != "**" {
            segments.insert(0, "**");
        }
    }
    let last = segments.len() - 1;
    if segments.len() > 1 && segments[last].is_empty() {
        // A trailing `/`: everything inside the folder.
        segments[last] = "**";
    }
    if segments.iter().any(|s| s.is_empty()) {
        return Err("an empty path segment (`//`)".to_string());
    }
    let mut re = String::from("^");
    let mut need_slash = false;
    for (i, seg) in segments.iter().enumerate() {
        match *seg {
            "**" if i == 0 && i == last => re.push_str(".+"),
            "**" if i == 0 => {
                re.push_str("(?:.+/)?");
                need_slash = false;
            }
            "**" if i == last => re.push_str("/.*"),
            "**" => {
                re.push_str("(?:/.+)?");
                need_slash = true;
            }
            _ => {
                if need_slash {
                    re.push('/');
                }
                segment_regex(seg, &mut re)?;
                // A named file or folder owns what is below it; a last
                // segment of exactly `*` matches only the files right there.
                if i == last && *seg != "*" {
                    re.push_str("(?:/.*)?");
                }
                need_slash = true;
            }
        }
    }
    re.push('$');
    Regex::new(&re).map_err(|e| format!("too complex ({e})"))
}

/// One path segment of a pattern, appended to `re`.
fn segment_regex(seg: &str, re: &mut String) -> Result<(), String> {
    let mut chars = seg.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(escaped) => re.push_str(&regex::escape(&escaped.to_string())),
                None => return Err("a backslash at the end escapes nothing".to_string()),
            },
            '*' => {
                // `*` alone is "one or more": an empty name is no file.
                if seg == "*" {
                    re.push_str("[^/]+");
                } else {
                    re.push_str("[^/]*");
                }
            }
            '?' => re.push_str("[^/]"),
            '[' => return Err("`[...]` character ranges are not supported".to_string()),
            _ => re.push_str(&regex::escape(&c.to_string())),
        }
    }
    Ok(())
}
