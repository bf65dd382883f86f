//! The maturity model's and the probes' texts in every language of the site:
//! area and practice names, the levels' `next` steps, probe titles and
//! remediations.
//!
//! Translations are overlays beside the data, one file per language and kind
//! (`data/model.zh.toml`, `data/probes.zh.toml`), keyed by id, rather than
//! fields inside `data/model.toml` and `data/probes.toml`: those stay one
//! file in one language that a user copies and edits, and a translation can
//! be added, reviewed or replaced without touching them. The built-in model
//! and probes ship complete Chinese overlays.
//!
//! Lookup, for a text in language `lang`:
//! 1. the text as it is, when it is already in `lang` (the built-in texts are
//!    English; a site's own texts are in its default language);
//! 2. the site's own overlay `data/<kind>.<lang>.toml`, by id;
//! 3. the built-in overlay, by id, but only while the site's text is still the
//!    built-in one (a changed text no longer matches its translation);
//! 4. else the text as it is, marked with its language (`lang="en"`) so
//!    screen readers pronounce it right.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use anyhow::Result;
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::diagnostics::Diagnostic;

/// Built-in overlays: (language, model texts, probe texts).
const BUILT_IN_OVERLAYS: &[(&str, &str, &str)] = &[(
    "zh",
    include_str!("../../data/model.zh.toml"),
    include_str!("../../data/probes.zh.toml"),
)];

/// The language the built-in model and probes are written in.
const BUILT_IN_LANGUAGE: &str = "en";

/// A text for a page: in the page's language, or in `lang` when it has no
/// translation (templates put `lang="…"` on it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Localised {
    pub text: String,
    pub lang: Option<String>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelOverlay {
    #[serde(default)]
    areas: BTreeMap<String, AreaText>,
    #[serde(default)]
    practices: BTreeMap<String, PracticeText>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct AreaText {
    name: Option<String>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct PracticeText {
    name: Option<String>,
    /// Level number → its `next` step.
    #[serde(default)]
    next: BTreeMap<String, String>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProbeText {
    title: Option<String>,
    remediation: Option<String>,
}

type ProbesOverlay = BTreeMap<String, ProbeText>;

#[derive(Debug, Default, Clone)]
struct Overlay {
    model: ModelOverlay,
    probes: ProbesOverlay,
}

/// One translatable text of the model or the probes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field<'a> {
    Area(&'a str),
    Practice(&'a str),
    Next(&'a str, u8),
    ProbeTitle(&'a str),
    Remediation(&'a str),
}

impl Field<'_> {
    fn describe(&self) -> String {
        match self {
            Field::Area(id) => format!("area `{id}`: `name`"),
            Field::Practice(id) => format!("practice `{id}`: `name`"),
            Field::Next(id, level) => format!("practice `{id}`: `next` of level {level}"),
            Field::ProbeTitle(id) => format!("probe `{id}`: `title`"),
            Field::Remediation(id) => format!("probe `{id}`: `remediation`"),
        }
    }

    fn is_probe(&self) -> bool {
        matches!(self, Field::ProbeTitle(_) | Field::Remediation(_))
    }
}

impl Overlay {
    fn get(&self, field: Field) -> Option<&str> {
        let text = match field {
            Field::Area(id) => self.model.areas.get(id)?.name.as_deref(),
            Field::Practice(id) => self.model.practices.get(id)?.name.as_deref(),
            Field::Next(id, level) => self
                .model
                .practices
                .get(id)?
                .next
                .get(&level.to_string())
                .map(String::as_str),
            Field::ProbeTitle(id) => self.probes.get(id)?.title.as_deref(),
            Field::Remediation(id) => self.probes.get(id)?.remediation.as_deref(),
        };
        text.filter(|t| !t.trim().is_empty())
    }

    fn parse(model: &str, model_name: &str, probes: &str, probes_name: &str) -> Result<Overlay> {
        Ok(Overlay {
            model: crate::toml_file::parse(model).map_err(|e| e.located(model_name))?,
            probes: crate::toml_file::parse(probes).map_err(|e| e.located(probes_name))?,
        })
    }
}

/// A field as a map key: (kind, id, level).
type Key = (u8, String, u8);

fn key(field: Field) -> Key {
    match field {
        Field::Area(id) => (0, id.to_string(), 0),
        Field::Practice(id) => (1, id.to_string(), 0),
        Field::Next(id, level) => (2, id.to_string(), level),
        Field::ProbeTitle(id) => (3, id.to_string(), 0),
        Field::Remediation(id) => (4, id.to_string(), 0),
    }
}

/// The English texts of the built-in model and probes, by field; parsed once.
fn built_in_texts() -> &'static HashMap<Key, String> {
    static TEXTS: std::sync::OnceLock<HashMap<Key, String>> = std::sync::OnceLock::new();
    TEXTS.get_or_init(|| {
        let mut out = HashMap::new();
        let text =
            |v: &toml::Value, k: &str| v.get(k).and_then(toml::Value::as_str).map(String::from);
        let list = |v: Option<&toml::Value>| -> Vec<toml::Value> {
            v.and_then(toml::Value::as_array)
                .cloned()
                .unwrap_or_default()
        };
        // The built-in files are part of the binary and tested to parse.
        if let Ok(model) = toml::from_str::<toml::Table>(crate::model::BUILTIN) {
            for area in list(model.get("areas")) {
                let Some(id) = text(&area, "id") else {
                    continue;
                };
                if let Some(name) = text(&area, "name") {
                    out.insert(key(Field::Area(&id)), name);
                }
                for p in list(area.get("practices")) {
                    let Some(pid) = text(&p, "id") else { continue };
                    if let Some(name) = text(&p, "name") {
                        out.insert(key(Field::Practice(&pid)), name);
                    }
                    for l in list(p.get("levels")) {
                        let level = l.get("level").and_then(toml::Value::as_integer);
                        if let (Some(level), Some(next)) = (level, text(&l, "next")) {
                            let level = u8::try_from(level).unwrap_or(u8::MAX);
                            out.insert(key(Field::Next(&pid, level)), next);
                        }
                    }
                }
            }
        }
        if let Ok(probes) = toml::from_str::<toml::Table>(crate::probes::patterns::BUILTIN) {
            for p in list(probes.get("probe")) {
                let Some(id) = text(&p, "id") else { continue };
                if let Some(t) = text(&p, "title") {
                    out.insert(key(Field::ProbeTitle(&id)), t);
                }
                if let Some(r) = text(&p, "remediation") {
                    out.insert(key(Field::Remediation(&id)), r);
                }
            }
        }
        for p in crate::probes::code_probes()
            .into_iter()
            .chain([&crate::probes::coverage::PROBE])
        {
            out.insert(key(Field::ProbeTitle(p.id)), p.title.to_string());
            out.insert(key(Field::Remediation(p.id)), p.remediation.to_string());
        }
        out
    })
}

/// The texts of the site's model and probes in every language of the site.
pub struct ModelTexts {
    default_language: String,
    languages: Vec<String>,
    /// The site's own overlays, by language.
    own: BTreeMap<String, Overlay>,
    /// The built-in overlays of the configured languages.
    built_in: BTreeMap<String, Overlay>,
    /// The English texts of the built-in model and probes.
    english: &'static HashMap<Key, String>,
    /// The probes the site runs: id → (title, remediation).
    probes: BTreeMap<String, (String, String)>,
}

impl ModelTexts {
    /// Reads the site's overlays (`data/model.<lang>.toml`,
    /// `data/probes.<lang>.toml`) for every configured language, beside the
    /// built-in ones. `probes` are the site's probes: id, title, remediation.
    pub fn load(
        root: &Path,
        config: &Config,
        probes: impl IntoIterator<Item = (String, String, String)>,
    ) -> Result<ModelTexts> {
        let mut own = BTreeMap::new();
        let mut built_in = BTreeMap::new();
        for lang in &config.languages {
            let model_rel = format!("data/model.{lang}.toml");
            let probes_rel = format!("data/probes.{lang}.toml");
            let read = |rel: &str| -> Result<Option<String>> {
                let path = root.join(rel);
                if !path.is_file() {
                    return Ok(None);
                }
                let shown = crate::diagnostics::display_path(root, &path);
                crate::diagnostics::read_text(&path, &shown)
                    .map(Some)
                    .map_err(|d| anyhow::Error::new(crate::diagnostics::Diagnostics(vec![d])))
            };
            let (model, probes) = (read(&model_rel)?, read(&probes_rel)?);
            if model.is_some() || probes.is_some() {
                own.insert(
                    lang.clone(),
                    Overlay::parse(
                        model.as_deref().unwrap_or(""),
                        &model_rel,
                        probes.as_deref().unwrap_or(""),
                        &probes_rel,
                    )?,
                );
            }
            if let Some((_, m, p)) = BUILT_IN_OVERLAYS.iter().find(|(l, _, _)| l == lang) {
                built_in.insert(
                    lang.clone(),
                    Overlay::parse(
                        m,
                        &format!("built-in {model_rel}"),
                        p,
                        &format!("built-in {probes_rel}"),
                    )?,
                );
            }
        }
        Ok(ModelTexts {
            default_language: config.default_language.clone(),
            languages: config.languages.clone(),
            own,
            built_in,
            english: built_in_texts(),
            probes: probes.into_iter().map(|(id, t, r)| (id, (t, r))).collect(),
        })
    }

    /// The language `text` is written in: English while it is the built-in
    /// text, else the site's default language.
    fn language_of(&self, field: Field, text: &str) -> &str {
        if self.is_built_in(field, text) {
            BUILT_IN_LANGUAGE
        } else {
            &self.default_language
        }
    }

    fn is_built_in(&self, field: Field, text: &str) -> bool {
        self.english.get(&key(field)).is_some_and(|t| t == text)
    }

    fn lookup(&self, lang: &str, field: Field, own: &str) -> Localised {
        let own_lang = self.language_of(field, own);
        if own_lang == lang {
            return Localised {
                text: own.to_string(),
                lang: None,
            };
        }
        let translated = self.own.get(lang).and_then(|o| o.get(field)).or_else(|| {
            self.is_built_in(field, own)
                .then(|| self.built_in.get(lang).and_then(|o| o.get(field)))
                .flatten()
        });
        match translated {
            Some(t) => Localised {
                text: t.to_string(),
                lang: None,
            },
            None => Localised {
                text: own.to_string(),
                lang: Some(own_lang.to_string()),
            },
        }
    }

    /// An area's name in `lang`.
    pub fn area(&self, lang: &str, id: &str, own: &str) -> Localised {
        self.lookup(lang, Field::Area(id), own)
    }

    /// A practice's name in `lang`.
    pub fn practice(&self, lang: &str, id: &str, own: &str) -> Localised {
        self.lookup(lang, Field::Practice(id), own)
    }

    /// The `next` step of a practice's level in `lang`.
    pub fn next(&self, lang: &str, practice: &str, level: u8, own: &str) -> Localised {
        self.lookup(lang, Field::Next(practice, level), own)
    }

    /// A probe's title in `lang`; `own` is the title the probe reported.
    pub fn probe_title(&self, lang: &str, id: &str, own: &str) -> Localised {
        self.lookup(lang, Field::ProbeTitle(id), own)
    }

    /// A probe's remediation in `lang`.
    pub fn remediation(&self, lang: &str, id: &str, own: &str) -> Localised {
        self.lookup(lang, Field::Remediation(id), own)
    }

    /// The title of a probe the site runs, as the probe reports it.
    pub fn own_probe_title(&self, id: &str) -> Option<&str> {
        self.probes.get(id).map(|(t, _)| t.as_str())
    }

    /// Built-in texts the site shows (its model and probes still have them as
    /// built in) that lack a translation into a configured language with a
    /// built-in overlay: the built-in overlay is incomplete.
    pub fn missing_built_in(&self, model: &crate::model::Model) -> Vec<Diagnostic> {
        let mut used: Vec<(Field, &str)> = Vec::new();
        for a in &model.areas {
            used.push((Field::Area(&a.id), &a.name));
            for p in &a.practices {
                used.push((Field::Practice(&p.id), &p.name));
                for l in &p.levels {
                    used.push((Field::Next(&p.id, l.level), &l.next));
                }
            }
        }
        for (id, (title, remediation)) in &self.probes {
            used.push((Field::ProbeTitle(id), title));
            used.push((Field::Remediation(id), remediation));
        }
        let mut problems = Vec::new();
        for lang in &self.languages {
            if lang == BUILT_IN_LANGUAGE || !self.built_in.contains_key(lang) {
                continue;
            }
            for (field, text) in &used {
                if self.is_built_in(*field, text) && self.lookup(lang, *field, text).lang.is_some()
                {
                    let kind = if field.is_probe() { "probes" } else { "model" };
                    problems.push(Diagnostic::new(
                        format!("built-in data/{kind}.{lang}.toml"),
                        None,
                        format!(
                            "{} has no `{lang}` translation of the built-in text {text:?} \
                             (add it to data/{kind}.{lang}.toml)",
                            field.describe()
                        ),
                    ));
                }
            }
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(langs: &[&str], default: &str) -> Config {
        Config {
            languages: langs.iter().map(|s| s.to_string()).collect(),
            default_language: default.into(),
            ..Config::defaults()
        }
    }

    fn site_probes() -> Vec<(String, String, String)> {
        let catalogue =
            crate::probes::patterns::Catalogue::parse(crate::probes::patterns::BUILTIN, "built-in")
                .unwrap();
        crate::probes::texts(&catalogue)
    }

    fn built_in_model() -> crate::model::Model {
        let ids: Vec<String> = site_probes().into_iter().map(|(id, _, _)| id).collect();
        crate::model::Model::parse(crate::model::BUILTIN, "built-in", &ids).unwrap()
    }

    #[test]
    fn the_built_in_model_and_probes_are_completely_translated_into_chinese() {
        let dir = tempfile::tempdir().unwrap();
        let texts =
            ModelTexts::load(dir.path(), &config(&["en", "zh"], "en"), site_probes()).unwrap();
        let missing: Vec<String> = texts
            .missing_built_in(&built_in_model())
            .iter()
            .map(|d| d.to_string())
            .collect();
        assert_eq!(missing, Vec::<String>::new());
        // And no overlay entry names an id the built-in data does not have.
        let (_, m, p) = BUILT_IN_OVERLAYS[0];
        let overlay = Overlay::parse(m, "m", p, "p").unwrap();
        let english = built_in_texts();
        for id in overlay.model.practices.keys() {
            assert!(
                english.contains_key(&key(Field::Practice(id))),
                "unknown practice {id}"
            );
        }
        for id in overlay.model.areas.keys() {
            assert!(
                english.contains_key(&key(Field::Area(id))),
                "unknown area {id}"
            );
        }
        for id in overlay.probes.keys() {
            assert!(
                english.contains_key(&key(Field::ProbeTitle(id))),
                "unknown probe {id}"
            );
        }
    }

    #[test]
    fn lookup_translates_built_in_texts_and_marks_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("data")).unwrap();
        std::fs::write(
            dir.path().join("data/model.zh.toml"),
            "[practices.own-practice]\nname = \"自己的实践\"\n",
        )
        .unwrap();
        let texts =
            ModelTexts::load(dir.path(), &config(&["en", "zh"], "en"), site_probes()).unwrap();
        let zh = |text: &str, lang: Option<&str>| Localised {
            text: text.into(),
            lang: lang.map(String::from),
        };
        // Built-in text: the built-in translation.
        assert_eq!(
            texts.practice("zh", "continuous-integration", "Continuous integration"),
            zh("持续集成", None)
        );
        assert_eq!(
            texts.next("zh", "containers", 3, "Run the image as a non-root user."),
            zh("以非 root 用户运行镜像。", None)
        );
        assert_eq!(
            texts.probe_title("zh", "ci.tests-run", "The pipeline runs the tests"),
            zh("流水线会运行测试", None)
        );
        // In English, the text as it is.
        assert_eq!(
            texts.practice("en", "continuous-integration", "Continuous integration"),
            zh("Continuous integration", None)
        );
        // A changed text no longer takes the built-in translation: its own text, marked.
        assert_eq!(
            texts.practice("zh", "continuous-integration", "CI, our way"),
            zh("CI, our way", Some("en"))
        );
        // A practice of the site's own model: its own overlay, or its text marked.
        assert_eq!(
            texts.practice("zh", "own-practice", "Our practice"),
            zh("自己的实践", None)
        );
        assert_eq!(
            texts.area("zh", "own-area", "Our area"),
            zh("Our area", Some("en"))
        );
    }

    #[test]
    fn a_site_written_in_chinese_marks_its_untranslated_texts_as_chinese_on_english_pages() {
        let dir = tempfile::tempdir().unwrap();
        let texts =
            ModelTexts::load(dir.path(), &config(&["zh", "en"], "zh"), site_probes()).unwrap();
        // The site's own (Chinese) text on an English page.
        assert_eq!(
            texts.area("en", "own", "我们的领域"),
            Localised {
                text: "我们的领域".into(),
                lang: Some("zh".into())
            }
        );
        // Built-in English text on a Chinese page of a Chinese-first site: translated.
        assert_eq!(
            texts.area("zh", "ci", "Continuous Integration").text,
            "持续集成"
        );
    }

    #[test]
    fn a_broken_overlay_is_an_error_naming_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("data")).unwrap();
        std::fs::write(
            dir.path().join("data/probes.zh.toml"),
            "[\"ci.tests-run\"]\ntitle = \"x\"\ntitel = \"y\"\n",
        )
        .unwrap();
        let err = ModelTexts::load(dir.path(), &config(&["en", "zh"], "en"), site_probes())
            .err()
            .unwrap()
            .to_string();
        assert!(err.starts_with("data/probes.zh.toml:3: "), "{err}");
        assert!(err.contains("titel"), "{err}");
    }
}
