//! Template filters and functions beyond tera's core set. tera's `builtins`
//! feature is off (it pulls in time-zone tables and more); the few we need
//! are here.

use std::collections::HashMap;

use tera::{Result, Tera, Value};

pub fn register(tera: &mut Tera) {
    tera.register_filter("date", date);
    tera.register_filter("slugify", slugify);
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

fn slugify(value: &Value, _: &HashMap<String, Value>) -> Result<Value> {
    let text = value
        .as_str()
        .ok_or_else(|| tera::Error::msg("`slugify` filter expects a string"))?;
    Ok(Value::String(super::markdown::slugify(text)))
}
