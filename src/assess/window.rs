//! The window of an assessment, resolved once: the dates a user gave are
//! parsed in `cmd` with the clock read there, once; the default length comes
//! from the configuration when it is known.

use anyhow::{bail, Context, Result};
use chrono::{DateTime, Duration, Utc};

use crate::metrics::{format_time, Window};

/// `YYYY-MM-DD` (00:00 UTC) or an RFC 3339 time.
pub fn parse_date(s: &str) -> Result<DateTime<Utc>> {
    crate::sources::events::parse_time(s)
        .with_context(|| format!("{s:?} is not a date (expected YYYY-MM-DD or RFC 3339)"))
}

/// `--since` and `--until` as given (parsed), and the clock.
#[derive(Debug, Clone, Copy)]
pub struct WindowArgs {
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// When the command started: `--until`'s default.
    pub now: DateTime<Utc>,
}

impl WindowArgs {
    /// Parses the flags' text; `now` is the clock, read once by the caller.
    pub fn parse(
        since: Option<&str>,
        until: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<WindowArgs> {
        Ok(WindowArgs {
            since: since.map(parse_date).transpose()?,
            until: until.map(parse_date).transpose()?,
            now,
        })
    }

    /// The window `[since, until)`: `until` defaults to now, `since` to
    /// `default_days` before `until`.
    pub fn window(&self, default_days: u32) -> Result<Window> {
        let until = self.until.unwrap_or(self.now);
        let since = match self.since {
            Some(s) => s,
            None => until
                .checked_sub_signed(Duration::days(i64::from(default_days)))
                .with_context(|| {
                    format!("window_days = {default_days} reaches before the earliest date")
                })?,
        };
        if since >= until {
            bail!(
                "--since ({}) must be before --until ({})",
                format_time(&since),
                format_time(&until)
            );
        }
        Ok(Window { since, until })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        parse_date(s).unwrap()
    }

    #[test]
    fn defaults_are_now_and_window_days_before() {
        let now = t("2024-03-10T12:00:00Z");
        let w = WindowArgs::parse(None, None, now)
            .unwrap()
            .window(7)
            .unwrap();
        assert_eq!((w.since, w.until), (t("2024-03-03T12:00:00Z"), now));
        let w = WindowArgs::parse(None, Some("2024-02-01"), now)
            .unwrap()
            .window(1)
            .unwrap();
        assert_eq!((w.since, w.until), (t("2024-01-31"), t("2024-02-01")));
    }

    #[test]
    fn bad_dates_and_empty_windows_are_errors() {
        let now = t("2024-03-10");
        assert!(WindowArgs::parse(Some("March"), None, now).is_err());
        let e = WindowArgs::parse(Some("2024-03-10"), Some("2024-03-01"), now)
            .unwrap()
            .window(90)
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "--since (2024-03-10T00:00:00Z) must be before --until (2024-03-01T00:00:00Z)"
        );
        assert!(WindowArgs::parse(None, None, now)
            .unwrap()
            .window(u32::MAX)
            .is_err());
    }
}
