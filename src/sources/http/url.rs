//! URLs of host APIs: the next page of a listing, query parameters, origins
//! (which server gets the token) and percent-encoding.

use anyhow::{anyhow, Result};
use http::header::HeaderMap;

pub(super) fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// The next page: `Link: <url>; rel="next"`, else GitLab's `x-next-page`.
pub(super) fn next_page(headers: &HeaderMap, current: &str) -> Option<String> {
    for link in headers.get_all("link") {
        let Ok(mut rest) = link.to_str() else {
            continue;
        };
        // `<url>; rel="next", <url>; rel="last"`: URLs may hold commas, so
        // split on the angle brackets, not on commas.
        while let Some(start) = rest.find('<') {
            let Some(len) = rest[start..].find('>') else {
                break;
            };
            let target = &rest[start + 1..start + len];
            let after = &rest[start + len + 1..];
            let params_end = after.find('<').unwrap_or(after.len());
            let is_next = after[..params_end].split(';').any(|p| {
                let p = p.trim().trim_end_matches(',').replace(' ', "");
                p == "rel=\"next\"" || p == "rel=next"
            });
            if is_next {
                return Some(absolute(target, current));
            }
            rest = &after[params_end..];
        }
    }
    let page = header(headers, "x-next-page")?;
    let page = page.trim();
    if page.is_empty() {
        return None;
    }
    Some(with_query(current, "page", page))
}

/// `url` with the query parameter `key` set to `value`.
pub fn with_query(url: &str, key: &str, value: &str) -> String {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut parts: Vec<String> = query
        .split('&')
        .filter(|p| !p.is_empty() && p.split('=').next() != Some(key))
        .map(str::to_string)
        .collect();
    parts.push(format!("{key}={}", encode(value)));
    format!("{base}?{}", parts.join("&"))
}

/// The origin of a URL as compared for the token: lower-case scheme and host,
/// and the port, explicit or the scheme's default.
pub(super) fn origin_key(url: &str) -> Result<String> {
    let uri: http::Uri = url
        .parse()
        .map_err(|e| anyhow!("{url:?} is not a URL: {e}"))?;
    let scheme = uri
        .scheme_str()
        .ok_or_else(|| anyhow!("{url:?} has no scheme (http:// or https://)"))?
        .to_ascii_lowercase();
    let host = uri
        .host()
        .ok_or_else(|| anyhow!("{url:?} has no host"))?
        .to_ascii_lowercase();
    let port = uri.port_u16().unwrap_or(match scheme.as_str() {
        "https" => 443,
        _ => 80,
    });
    Ok(format!("{scheme}://{host}:{port}"))
}

/// `scheme://host:port` of a URL.
pub(super) fn origin(url: &str) -> &str {
    let start = url.find("://").map(|i| i + 3).unwrap_or(0);
    let end = url[start..]
        .find('/')
        .map(|j| start + j)
        .unwrap_or(url.len());
    &url[..end]
}

/// A location relative to the server of `current`, made absolute.
pub(super) fn absolute(location: &str, current: &str) -> String {
    if location.starts_with("http://") || location.starts_with("https://") {
        return location.to_string();
    }
    let origin_end = current
        .find("://")
        .and_then(|i| current[i + 3..].find('/').map(|j| i + 3 + j))
        .unwrap_or(current.len());
    format!(
        "{}/{}",
        &current[..origin_end],
        location.trim_start_matches('/')
    )
}

/// Percent-encodes a query value or a path segment (`/` included, as GitLab's
/// project paths need).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::header::HeaderValue;

    #[test]
    fn link_header_next_and_gitlab_next_page() {
        let mut h = HeaderMap::new();
        h.insert(
            "link",
            HeaderValue::from_static(
                "<https://api.github.com/repositories/1/pulls?page=2>; rel=\"next\", <https://api.github.com/repositories/1/pulls?page=5>; rel=\"last\"",
            ),
        );
        assert_eq!(
            next_page(&h, "https://api.github.com/repos/a/b/pulls").as_deref(),
            Some("https://api.github.com/repositories/1/pulls?page=2")
        );
        let mut g = HeaderMap::new();
        g.insert("x-next-page", HeaderValue::from_static("3"));
        assert_eq!(
            next_page(
                &g,
                "https://gl/api/v4/projects/1/issues?per_page=100&page=2"
            )
            .as_deref(),
            Some("https://gl/api/v4/projects/1/issues?per_page=100&page=3")
        );
        g.insert("x-next-page", HeaderValue::from_static(""));
        assert_eq!(next_page(&g, "https://gl/x"), None);
    }

    #[test]
    fn encoding_and_relative_locations() {
        assert_eq!(encode("grp/sub proj"), "grp%2Fsub%20proj");
        assert_eq!(
            absolute("/repos/x", "http://127.0.0.1:9/api/v3/y"),
            "http://127.0.0.1:9/repos/x"
        );
        assert_eq!(
            with_query("http://h/p?a=1&page=1", "page", "2"),
            "http://h/p?a=1&page=2"
        );
        assert_eq!(
            origin("https://ghe.example.com/api/v3/x"),
            "https://ghe.example.com"
        );
        assert_eq!(origin("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
    }
}
