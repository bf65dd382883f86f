//! Template filters and functions beyond tera's core set. tera's `builtins`
//! feature is off (it pulls in time-zone tables and more); the few we need
//! are here.

use std::collections::HashMap;

use tera::{Result, Tera, Value};

pub fn register(tera: &mut Tera) {
    tera.register_filter("date", date);
    tera.register_filter("slugify", slugify);
    tera.register_filter("fill", fill);
    tera.register_filter("percent", percent);
    tera.register_filter("hours", hours);
    // Templates must not read the environment: it holds API tokens.
    tera.register_function("get_env", |_: &HashMap<String, Value>| -> Result<Value> {
        Err(tera::Error::msg(
            "get_env is disabled in opsmeter templates",
        ))
    });
}

/// `{{ page.date | date(format="%e %B %Y") }}` for `YYYY-MM-DD` or RFC 3339 dates.
fn date(value: &Value, args: &HashMap<String, Value>) -> Result<Value> {
    let format = args
        .get("format")
        .and_then(Value::as_str)
        .unwrap_or("%Y-%m-%d");
    let Some(text) = value.as_str() else {
        return Ok(value.clone());
    };
    let formatted = if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(text) {
        dt.format(format).to_string()
    } else if let Ok(d) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        d.format(format).to_string()
    } else if let Ok(dt) = chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S") {
        dt.format(format).to_string()
    } else {
        return Err(tera::Error::msg(format!(
            "`date` filter: {text:?} is not a date"
        )));
    };
    Ok(Value::String(formatted))
}

/// `{{ t.changes_count | fill(count=12) }}`: a theme string with each
/// `{name}` replaced by the argument of that name, so a language can put the
/// numbers where its grammar wants them. Numbers print as in `{{ }}`.
fn fill(value: &Value, args: &HashMap<String, Value>) -> Result<Value> {
    let mut text = value
        .as_str()
        .ok_or_else(|| tera::Error::msg("`fill` filter expects a string"))?
        .to_string();
    for (name, arg) in args {
        let shown = match arg {
            Value::String(s) => s.clone(),
            Value::Number(n) => match n.as_f64() {
                Some(f) if n.is_f64() => format!("{f}"),
                _ => n.to_string(),
            },
            Value::Null => String::new(),
            other => other.to_string(),
        };
        text = text.replace(&format!("{{{name}}}"), &shown);
    }
    Ok(Value::String(text))
}

/// `{{ d.lead_time_hours.median | hours }}`: hours to one decimal, as
/// `round(precision=1)` gives them, except that a time above zero that would
/// round to 0 shows as `< 0.1`: a lead time of 95 seconds is not 0.
fn hours(value: &Value, _: &HashMap<String, Value>) -> Result<Value> {
    let h = value
        .as_f64()
        .ok_or_else(|| tera::Error::msg(format!("`hours` filter expects a number, got {value}")))?;
    if h > 0.0 && h < 0.05 {
        return Ok(Value::String("< 0.1".to_string()));
    }
    Ok(tera::to_value((h * 10.0).round() / 10.0)?)
}

/// `{{ d.change_failure_rate | percent(precision=1) }}`: a ratio (0.0–1.0, as
/// every share is stored) as a number of percent, rounded half away from
/// zero to `precision` decimals (default 0), as `round` would round it:
/// `0.125` → `12.5`. The unit (`%`, "percentage points") is the template's.
fn percent(value: &Value, args: &HashMap<String, Value>) -> Result<Value> {
    let ratio = value.as_f64().ok_or_else(|| {
        tera::Error::msg(format!(
            "`percent` filter expects a number (a ratio), got {value}"
        ))
    })?;
    let precision = match args.get("precision") {
        None => 0,
        Some(p) => p
            .as_i64()
            .and_then(|p| i32::try_from(p).ok())
            .filter(|p| (0..=10).contains(p))
            .ok_or_else(|| {
                tera::Error::msg(format!(
                    "`percent` filter: `precision` must be a whole number from 0 to 10, got {p}"
                ))
            })?,
    };
    // The same arithmetic as `ratio * 100 | round(precision=…)`, so a
    // template that moves to `percent` shows the same digits.
    let multiplier = if precision == 0 {
        1.0
    } else {
        10f64.powi(precision)
    };
    let shown = (multiplier * (ratio * 100.0)).round() / multiplier;
    Ok(serde_json::json!(shown))
}

fn slugify(value: &Value, _: &HashMap<String, Value>) -> Result<Value> {
    let text = value
        .as_str()
        .ok_or_else(|| tera::Error::msg("`slugify` filter expects a string"))?;
    Ok(Value::String(super::markdown::slugify(text)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn percent_of(value: Value, precision: Option<i64>) -> Result<Value> {
        let args: HashMap<String, Value> = precision
            .map(|p| ("precision".to_string(), serde_json::json!(p)))
            .into_iter()
            .collect();
        percent(&value, &args)
    }

    #[test]
    fn percent_shows_a_ratio_as_rounded_percent() {
        let shown = |v: f64, p: Option<i64>| {
            percent_of(serde_json::json!(v), p)
                .unwrap()
                .as_f64()
                .unwrap()
        };
        assert_eq!(shown(0.125, Some(1)), 12.5);
        assert_eq!(shown(1.0 / 3.0, Some(1)), 33.3);
        assert_eq!(shown(2.0 / 3.0, Some(1)), 66.7);
        // Half away from zero, as tera's `round`: 0.0625 is 6.25 %.
        assert_eq!(shown(0.0625, Some(1)), 6.3);
        assert_eq!(shown(-0.0625, Some(1)), -6.3);
        assert_eq!(shown(1.0, Some(1)), 100.0);
        assert_eq!(shown(0.0, Some(1)), 0.0);
        assert_eq!(shown(0.4567, None), 46.0);
        // A difference of ratios in percentage points, to 0.01.
        assert_eq!(shown(-0.1234, Some(2)), -12.34);
        // A whole-number ratio (JSON `1`) is a number too.
        let one = percent_of(serde_json::json!(1), Some(1)).unwrap();
        assert_eq!(one.as_f64(), Some(100.0));
    }

    #[test]
    fn hours_round_to_a_tenth_and_never_show_a_positive_time_as_zero() {
        let shown = |v: Value| hours(&v, &HashMap::new()).unwrap();
        assert_eq!(shown(serde_json::json!(1674.66)), serde_json::json!(1674.7));
        assert_eq!(shown(serde_json::json!(0.05)), serde_json::json!(0.1));
        // 95 seconds: above zero, below what one decimal shows.
        assert_eq!(shown(serde_json::json!(0.0263)), serde_json::json!("< 0.1"));
        assert_eq!(shown(serde_json::json!(0.0)), serde_json::json!(0.0));
        assert_eq!(shown(serde_json::json!(3)), serde_json::json!(3.0));
        let err = hours(&Value::Null, &HashMap::new()).unwrap_err();
        assert!(err.to_string().contains("expects a number"), "{err}");
    }

    #[test]
    fn percent_rejects_what_is_not_a_ratio() {
        let err = percent_of(serde_json::json!("12 %"), Some(1)).unwrap_err();
        assert!(err.to_string().contains("expects a number"), "{err}");
        let err = percent_of(Value::Null, None).unwrap_err();
        assert!(err.to_string().contains("expects a number"), "{err}");
        let err = percent_of(serde_json::json!(0.5), Some(-1)).unwrap_err();
        assert!(err.to_string().contains("0 to 10"), "{err}");
    }

    #[test]
    fn fill_puts_numbers_and_text_in_place() {
        let args: HashMap<String, Value> = [
            ("count".to_string(), serde_json::json!(4)),
            ("days".to_string(), serde_json::json!(0.0)),
            ("rate".to_string(), serde_json::json!(12.5)),
            ("name".to_string(), serde_json::json!("<api>")),
        ]
        .into_iter()
        .collect();
        let out = fill(
            &Value::String("{count} deployments, {days} days, {rate} %, {name}, {other}".into()),
            &args,
        )
        .unwrap();
        assert_eq!(
            out,
            Value::String("4 deployments, 0 days, 12.5 %, <api>, {other}".into())
        );
    }
}
