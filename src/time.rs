//! Times as opsmeter reads and writes them: RFC 3339 in UTC to the second,
//! and the looser forms users and exports write. Shared by the facts, the
//! sources and the metrics, so none of them needs another for it.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

/// RFC 3339 in UTC with `Z`, to the second (a serde `serialize_with`).
pub fn rfc3339<S: serde::Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_time(t))
}

/// RFC 3339 in UTC with `Z`, to the second.
pub fn format_time(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Parses `2024-05-01T10:00:00Z` (any offset), `2024-05-01 10:00:00` (UTC) or `2024-05-01` (00:00 UTC).
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    for f in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return Some(t.and_utc());
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}
