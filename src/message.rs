//! The assessment's own sentences (probe evidence notes, why a level could
//! not be decided, why a metric has no data, where the files were read), as
//! keys of a catalogue with their arguments rather than finished English.
//!
//! The catalogue is the theme strings (`themes/default/i18n/<lang>.toml`,
//! keys `msg_…`), so a site's theme or its own `i18n/` can reword a
//! sentence, and each page shows it in its own language. `assess --json` and
//! the terminal show the built-in English text (what [`Message`] serializes
//! to), so the JSON contract is unchanged.
//!
//! Arguments are data: a path, an image, a tool's error message. They are put
//! in place once and never read again as a template, so a `{x}` inside one
//! stays `{x}`; pages escape the finished text like any other.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize, Serializer};

/// The built-in English catalogue (the default theme's strings).
const ENGLISH: &str = include_str!("../themes/default/i18n/en.toml");

/// The key of a list separator between messages (`Arg::List`).
pub const LIST_SEPARATOR: &str = "msg_list_separator";

/// The prefix of every message key in the theme strings.
pub const PREFIX: &str = "msg_";

/// A sentence of the catalogue with its arguments, or (key `""`) text that is
/// not in the catalogue: English kept as it was written (findings stored by
/// an older `collect`), shown as is and marked as English.
#[derive(Debug, Clone)]
pub struct Message {
    pub key: &'static str,
    pub args: Vec<(&'static str, Arg)>,
}

/// The same sentence with the same arguments, whatever their order.
impl PartialEq for Message {
    fn eq(&self, other: &Message) -> bool {
        self.key == other.key
            && self.args.len() == other.args.len()
            && self
                .args
                .iter()
                .all(|(n, a)| other.args.iter().any(|(m, b)| n == m && a == b))
    }
}

impl Eq for Message {}

/// No sentence: empty text.
impl Default for Message {
    fn default() -> Message {
        Message::text("")
    }
}

/// An argument of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    /// Data shown as it is (a path, a name, a number, a tool's error).
    Data(String),
    /// A sentence of its own, in the same language.
    Message(Message),
    /// Sentences joined by the language's `msg_list_separator`.
    List(Vec<Message>),
    /// Data that is English words of another program (a parser's or a
    /// library's error detail): shown as it is, and on a page in another
    /// language marked as English on that part only ([`Message::render_parts`]).
    English(String),
}

impl From<String> for Arg {
    fn from(s: String) -> Arg {
        Arg::Data(s)
    }
}

impl From<&str> for Arg {
    fn from(s: &str) -> Arg {
        Arg::Data(s.to_string())
    }
}

impl From<&String> for Arg {
    fn from(s: &String) -> Arg {
        Arg::Data(s.clone())
    }
}

impl From<usize> for Arg {
    fn from(n: usize) -> Arg {
        Arg::Data(n.to_string())
    }
}

impl From<Message> for Arg {
    fn from(m: Message) -> Arg {
        Arg::Message(m)
    }
}

impl From<Vec<Message>> for Arg {
    fn from(m: Vec<Message>) -> Arg {
        Arg::List(m)
    }
}

/// `msg!("msg_key", name = value, …)`: a [`Message`] whose arguments are
/// anything that converts into an [`Arg`] (text and numbers are data).
#[macro_export]
macro_rules! msg {
    ($key:literal $(, $name:ident = $value:expr)* $(,)?) => {
        $crate::message::Message {
            key: $key,
            args: vec![$((stringify!($name), $crate::message::Arg::from($value))),*],
        }
    };
}

impl Message {
    /// A sentence of the catalogue without arguments.
    pub const fn new(key: &'static str) -> Message {
        Message {
            key,
            args: Vec::new(),
        }
    }

    /// English text that is not in the catalogue, shown as is.
    pub fn text(text: impl Into<String>) -> Message {
        Message {
            key: "",
            args: vec![("text", Arg::Data(text.into()))],
        }
    }

    /// The text of a message made with [`Message::text`].
    pub fn as_text(&self) -> Option<&str> {
        match (self.key, self.args.first()) {
            ("", Some((_, Arg::Data(t)))) => Some(t),
            _ => None,
        }
    }

    /// Whether it is text outside the catalogue, which only exists in English.
    pub fn is_untranslated(&self) -> bool {
        self.key.is_empty() || self.args.iter().any(|(_, a)| a.is_untranslated())
    }

    pub fn is_empty(&self) -> bool {
        self.as_text().is_some_and(str::is_empty)
    }

    /// The sentence in the language of `strings` (a key missing there is
    /// taken from the built-in English catalogue).
    pub fn render<'s>(&self, strings: &dyn Fn(&str) -> Option<&'s str>) -> String {
        let mut out = String::new();
        self.render_into(strings, &mut out);
        out
    }

    /// The sentence in the built-in English.
    pub fn english(&self) -> String {
        self.render(&|_| None)
    }

    /// The sentence as [`Message::render`] gives it, in parts: each with
    /// `true` when it is an [`Arg::English`] detail (the rest is the
    /// language's own words and data), adjacent parts of the same kind merged.
    pub fn render_parts<'s>(
        &self,
        strings: &dyn Fn(&str) -> Option<&'s str>,
    ) -> Vec<(String, bool)> {
        let mut parts = Parts(Vec::new());
        self.render_into(strings, &mut parts);
        parts.0
    }

    /// Whether an argument, at any depth, is an [`Arg::English`] detail.
    pub fn has_english_detail(&self) -> bool {
        self.args.iter().any(|(_, a)| match a {
            Arg::English(_) => true,
            Arg::Data(_) => false,
            Arg::Message(m) => m.has_english_detail(),
            Arg::List(ms) => ms.iter().any(Message::has_english_detail),
        })
    }

    fn render_into<'s>(&self, strings: &dyn Fn(&str) -> Option<&'s str>, out: &mut dyn Sink) {
        if let Some(text) = self.as_text() {
            out.push_str(text);
            return;
        }
        let template = strings(self.key)
            .or_else(|| english().get(self.key).map(String::as_str))
            .unwrap_or(self.key);
        fill_with(template, out, |name, out| {
            let Some((_, arg)) = self.args.iter().find(|(n, _)| *n == name) else {
                return false;
            };
            match arg {
                Arg::Data(d) => out.push_str(d),
                Arg::English(d) => out.push_english(d),
                Arg::Message(m) => m.render_into(strings, out),
                Arg::List(ms) => {
                    let sep = strings(LIST_SEPARATOR)
                        .or_else(|| english().get(LIST_SEPARATOR).map(String::as_str))
                        .unwrap_or("; ");
                    for (i, m) in ms.iter().enumerate() {
                        if i > 0 {
                            out.push_str(sep);
                        }
                        m.render_into(strings, out);
                    }
                }
            }
            true
        });
    }
}

/// Where a message is rendered: a string, or [`Parts`].
trait Sink {
    fn push_str(&mut self, s: &str);
    fn push(&mut self, c: char) {
        self.push_str(c.encode_utf8(&mut [0; 4]));
    }
    /// An [`Arg::English`] detail.
    fn push_english(&mut self, s: &str) {
        self.push_str(s);
    }
}

impl Sink for String {
    fn push_str(&mut self, s: &str) {
        String::push_str(self, s);
    }
}

/// A rendered message in parts, `true` on English details.
struct Parts(Vec<(String, bool)>);

impl Parts {
    fn add(&mut self, s: &str, english: bool) {
        if s.is_empty() {
            return;
        }
        match self.0.last_mut() {
            Some((text, e)) if *e == english => text.push_str(s),
            _ => self.0.push((s.to_string(), english)),
        }
    }
}

impl Sink for Parts {
    fn push_str(&mut self, s: &str) {
        self.add(s, false);
    }
    fn push_english(&mut self, s: &str) {
        self.add(s, true);
    }
}

impl Arg {
    fn is_untranslated(&self) -> bool {
        match self {
            Arg::Data(_) | Arg::English(_) => false,
            Arg::Message(m) => m.is_untranslated(),
            Arg::List(ms) => ms.iter().any(Message::is_untranslated),
        }
    }
}

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.english())
    }
}

/// A message is English text in the JSON of `assess` (the contract).
impl Serialize for Message {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.english())
    }
}

/// `template` with each `{name}` for which `put` writes a value replaced by
/// it, in one pass: what `put` writes is never scanned again, and a `{name}`
/// it does not know stays as written.
fn fill_with<S: Sink + ?Sized>(
    template: &str,
    out: &mut S,
    mut put: impl FnMut(&str, &mut S) -> bool,
) {
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let name_end = after.find('}').filter(|&end| {
            end > 0
                && after[..end]
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_')
        });
        match name_end {
            Some(end) => {
                let name = &after[..end];
                if !put(name, out) {
                    out.push('{');
                    out.push_str(name);
                    out.push('}');
                }
                rest = &after[end + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
}

/// `template` with each `{name}` of `values` replaced by its value, in one
/// pass (a value's own braces stay as they are).
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len());
    fill_with(template, &mut out, |name, out| {
        match values.iter().find(|(n, _)| *n == name) {
            Some((_, v)) => {
                out.push_str(v);
                true
            }
            None => false,
        }
    });
    out
}

/// The `{placeholders}` a string names, sorted, without repeats.
pub fn placeholders(template: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut sink = String::new();
    fill_with(template, &mut sink, |name, _| {
        names.push(name.to_string());
        true
    });
    names.sort();
    names.dedup();
    names
}

/// The built-in English catalogue, parsed once.
pub fn english() -> &'static BTreeMap<String, String> {
    static STRINGS: OnceLock<BTreeMap<String, String>> = OnceLock::new();
    STRINGS.get_or_init(|| toml::from_str(ENGLISH).unwrap_or_default())
}

/// A message as stored with a host repository's findings (`data/facts/`):
/// the key and the arguments, so a page can show it in any language.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageRecord {
    pub key: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub args: BTreeMap<String, ArgRecord>,
}

/// An argument as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ArgRecord {
    Data(String),
    Message(MessageRecord),
    List(Vec<MessageRecord>),
    /// `{"english": "…"}`: an [`Arg::English`] detail.
    English {
        english: String,
    },
}

impl Message {
    /// The message as stored.
    pub fn record(&self) -> MessageRecord {
        MessageRecord {
            key: self.key.to_string(),
            args: self
                .args
                .iter()
                .map(|(n, a)| {
                    let a = match a {
                        Arg::Data(d) => ArgRecord::Data(d.clone()),
                        Arg::Message(m) => ArgRecord::Message(m.record()),
                        Arg::List(ms) => ArgRecord::List(ms.iter().map(Message::record).collect()),
                        Arg::English(d) => ArgRecord::English { english: d.clone() },
                    };
                    (n.to_string(), a)
                })
                .collect(),
        }
    }

    /// The stored message, when this version's catalogue knows its key and
    /// every argument its English sentence names (else `None`: the caller
    /// keeps the stored English text).
    pub fn from_record(r: &MessageRecord) -> Option<Message> {
        if r.key.is_empty() {
            return match r.args.get("text")? {
                ArgRecord::Data(t) => Some(Message::text(t.clone())),
                _ => None,
            };
        }
        let key = static_key(&r.key)?;
        let mut args = Vec::new();
        for name in placeholders(&english()[key]) {
            let name = static_key_of(&name, key)?;
            let arg = match r.args.get(name)? {
                ArgRecord::Data(d) => Arg::Data(d.clone()),
                ArgRecord::Message(m) => Arg::Message(Message::from_record(m)?),
                ArgRecord::List(ms) => Arg::List(
                    ms.iter()
                        .map(Message::from_record)
                        .collect::<Option<Vec<_>>>()?,
                ),
                ArgRecord::English { english } => Arg::English(english.clone()),
            };
            args.push((name, arg));
        }
        Some(Message { key, args })
    }
}

/// A message as kept in a facts file (`data/facts/`): its English text and,
/// for a sentence of the catalogue, its key and arguments; text outside the
/// catalogue is the text alone, which is also how files written before notes
/// were messages hold them.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Stored {
    Record {
        text: String,
        message: MessageRecord,
    },
    Text(String),
}

impl Stored {
    fn of(m: &Message) -> Stored {
        match m.as_text() {
            Some(t) => Stored::Text(t.to_string()),
            None => Stored::Record {
                text: m.english(),
                message: m.record(),
            },
        }
    }

    /// The message when this version's catalogue knows it, else the English
    /// text as it was stored.
    fn message(self) -> Message {
        match self {
            Stored::Text(t) => Message::text(t),
            Stored::Record { text, message } => {
                Message::from_record(&message).unwrap_or_else(|| Message::text(text))
            }
        }
    }
}

/// `#[serde(with = "crate::message::stored")]`: a message field of a facts
/// file (see [`Stored`]).
pub mod stored {
    use super::{Message, Stored};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(m: &Message, s: S) -> Result<S::Ok, S::Error> {
        Stored::of(m).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Message, D::Error> {
        Ok(Stored::deserialize(d)?.message())
    }

    /// The same for a list of messages.
    pub mod list {
        use super::{Message, Stored};
        use serde::{Deserialize, Deserializer, Serializer};

        pub fn serialize<S: Serializer>(ms: &[Message], s: S) -> Result<S::Ok, S::Error> {
            s.collect_seq(ms.iter().map(Stored::of))
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Message>, D::Error> {
            let stored = Vec::<Stored>::deserialize(d)?;
            Ok(stored.into_iter().map(Stored::message).collect())
        }
    }

    /// The same for an optional message.
    pub mod option {
        use super::{Message, Stored};
        use serde::{Deserialize, Deserializer, Serialize, Serializer};

        pub fn serialize<S: Serializer>(m: &Option<Message>, s: S) -> Result<S::Ok, S::Error> {
            m.as_ref().map(Stored::of).serialize(s)
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Message>, D::Error> {
            Ok(Option::<Stored>::deserialize(d)?.map(Stored::message))
        }
    }
}

/// `key` as the catalogue's own `'static` string, when the catalogue has it.
fn static_key(key: &str) -> Option<&'static str> {
    english().get_key_value(key).map(|(k, _)| k.as_str())
}

/// The placeholder `name` of `key`'s English sentence as a `'static` string.
fn static_key_of(name: &str, key: &'static str) -> Option<&'static str> {
    let template: &'static str = english().get(key)?.as_str();
    let at = template.find(&format!("{{{name}}}"))?;
    Some(&template[at + 1..at + 1 + name.len()])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_are_data_never_templates() {
        let m = msg!("msg_from", image = "{image} <script>");
        assert_eq!(m.english(), "FROM {image} <script>");
        let nested = msg!(
            "msg_metric_missing",
            metric = "{why}",
            why = Message::new("msg_no_coverage_read")
        );
        assert_eq!(
            nested.english(),
            "{why} has no data: no coverage report was read"
        );
    }

    #[test]
    fn fill_is_one_pass_and_keeps_unknown_names() {
        assert_eq!(
            fill("{a} and {b} {c} {", &[("a", "{b}"), ("b", "B")]),
            "{b} and B {c} {"
        );
        assert_eq!(placeholders("{b} x {a} {b} {}"), vec!["a", "b"]);
    }

    #[test]
    fn a_language_renders_its_own_sentence_and_lists() {
        let zh: BTreeMap<&str, &str> = [
            ("msg_from_unpinned", "FROM {image} 未固定版本"),
            ("msg_list_separator", "；"),
        ]
        .into_iter()
        .collect();
        let lookup = |k: &str| zh.get(k).copied();
        let list = Arg::List(vec![
            msg!("msg_from_unpinned", image = "a"),
            msg!("msg_from_unpinned", image = "b"),
        ]);
        let m = Message {
            key: "msg_undecided",
            args: vec![("level", "2".into()), ("groups", list)],
        };
        // `msg_undecided` is not in this catalogue: the English one is used.
        assert_eq!(
            m.render(&lookup),
            "level 2 could not be decided (FROM a 未固定版本；FROM b 未固定版本)"
        );
        assert_eq!(
            m.english(),
            "level 2 could not be decided (FROM a is not pinned to a version; FROM b is not pinned to a version)"
        );
    }

    #[test]
    fn records_round_trip_and_unknown_keys_are_refused() {
        let m = msg!(
            "msg_metric_missing",
            metric = "coverage.line_rate",
            why = Message::new("msg_no_coverage_read")
        );
        let json = serde_json::to_string(&m.record()).unwrap();
        let back: MessageRecord = serde_json::from_str(&json).unwrap();
        assert_eq!(Message::from_record(&back), Some(m));
        let unknown = MessageRecord {
            key: "msg_not_a_key".into(),
            args: BTreeMap::new(),
        };
        assert_eq!(Message::from_record(&unknown), None);
        let missing_arg = MessageRecord {
            key: "msg_from".into(),
            args: BTreeMap::new(),
        };
        assert_eq!(Message::from_record(&missing_arg), None);
        let text = Message::text("as it was");
        assert_eq!(Message::from_record(&text.record()), Some(text));
    }

    fn catalogue(lang: &str) -> BTreeMap<String, String> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(format!("themes/default/i18n/{lang}.toml"));
        toml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn sources() -> Vec<(String, String)> {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        walkdir::WalkDir::new(&src)
            .into_iter()
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "rs"))
            .map(|e| {
                let text = std::fs::read_to_string(e.path()).unwrap();
                (e.path().display().to_string(), text)
            })
            .collect()
    }

    /// The `msg!` invocations of `text`: (key, argument names), read by
    /// splitting the macro's arguments at top-level commas.
    fn invocations(text: &str) -> Vec<(String, Vec<String>)> {
        let mut out = Vec::new();
        for (at, _) in text.match_indices("msg!(") {
            let body = &text[at + "msg!(".len()..];
            let (mut depth, mut in_str, mut escaped) = (0i32, false, false);
            let mut parts = vec![String::new()];
            for c in body.chars() {
                if in_str {
                    in_str = c != '"' || escaped;
                    escaped = c == '\\' && !escaped;
                } else if c == '"' {
                    in_str = true;
                } else if "([{".contains(c) {
                    depth += 1;
                } else if ")]}".contains(c) {
                    if depth == 0 {
                        break;
                    }
                    depth -= 1;
                } else if c == ',' && depth == 0 {
                    parts.push(String::new());
                    continue;
                }
                parts.last_mut().unwrap().push(c);
            }
            let key = parts[0].trim().trim_matches('"').to_string();
            if !key.starts_with(PREFIX) {
                continue; // the macro's own definition
            }
            let names = parts[1..]
                .iter()
                .filter(|p| !p.trim().is_empty())
                .map(|p| p.split('=').next().unwrap().trim().to_string())
                .collect();
            out.push((key, names));
        }
        out
    }

    #[test]
    fn every_message_is_in_both_languages_with_the_same_placeholders() {
        let en = catalogue("en");
        let zh = catalogue("zh");
        let keys: Vec<&String> = en.keys().filter(|k| k.starts_with(PREFIX)).collect();
        assert!(keys.len() > 80, "{} message keys", keys.len());
        for key in &keys {
            let Some(chinese) = zh.get(*key) else {
                panic!("`{key}` is not in i18n/zh.toml");
            };
            assert_eq!(
                placeholders(chinese),
                placeholders(&en[*key]),
                "`{key}`: the Chinese sentence names other placeholders"
            );
            assert!(!chinese.trim().is_empty(), "`{key}` is empty in Chinese");
        }
        assert_eq!(
            zh.keys().filter(|k| k.starts_with(PREFIX)).count(),
            keys.len()
        );
    }

    #[test]
    fn every_message_used_in_code_exists_and_gets_its_arguments() {
        let en = catalogue("en");
        let literal = regex::Regex::new(r#""(msg_[a-z0-9_]+)""#).unwrap();
        let mut used = std::collections::BTreeSet::new();
        let mut calls = 0;
        for (file, text) in sources() {
            for c in literal.captures_iter(&text) {
                // This file's tests name a key that does not exist on purpose.
                if file.ends_with("message.rs") && !en.contains_key(&c[1]) {
                    continue;
                }
                assert!(
                    en.contains_key(&c[1]),
                    "{file}: `{}` is not in i18n/en.toml",
                    &c[1]
                );
                used.insert(c[1].to_string());
            }
            for (key, mut names) in invocations(&text) {
                if file.ends_with("message.rs") && !en.contains_key(&key) {
                    continue; // the macro's documentation
                }
                let Some(sentence) = en.get(&key) else {
                    panic!("{file}: msg!(\"{key}\") is not in i18n/en.toml");
                };
                names.sort();
                assert_eq!(
                    names,
                    placeholders(sentence),
                    "{file}: msg!(\"{key}\") must give exactly the placeholders of `{sentence}`"
                );
                calls += 1;
            }
        }
        assert!(calls > 40, "found only {calls} msg! calls");
        // No sentence of the catalogue is left unused.
        for key in en.keys().filter(|k| k.starts_with(PREFIX)) {
            assert!(
                used.contains(key),
                "`{key}` is in i18n/en.toml but no code uses it"
            );
        }
    }
}
