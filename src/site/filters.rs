//! Template filters and functions beyond tera's core set. tera's `builtins`
//! feature is off (it pulls in time-zone tables and more); the few we need
//! are here.

use std::collections::HashMap;

use tera::{Result, Tera, Value};

pub fn register(tera: &mut Tera) {
    tera.register_filter("date", date);
    tera.register_filter("slugify", slugify);
    tera.register_filter("fill", fill);
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

fn slugify(value: &Value, _: &HashMap<String, Value>) -> Result<Value> {
    let text = value
        .as_str()
        .ok_or_else(|| tera::Error::msg("`slugify` filter expects a string"))?;
    Ok(Value::String(super::markdown::slugify(text)))
}

#[cfg(test)]
mod tests {
    use super::*;

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
