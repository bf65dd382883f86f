//! The default theme, embedded in the binary so a site without `themes/`
//! still builds. A site overrides it one file at a time (as in mdBook): a
//! template at the site's `templates/` path, or a file at its `static/` path.

macro_rules! theme_files {
    ($kind:ident, $dir:literal, [$($name:literal),* $(,)?]) => {
        &[$(($name, $kind!(concat!("../../themes/default/", $dir, "/", $name)))),*]
    };
}

/// Templates of the default theme, by name.
pub const TEMPLATES: &[(&str, &str)] = theme_files!(
    include_str,
    "templates",
    [
        "base.html",
        "index.html",
        "section.html",
        "page.html",
        "404.html",
        "report.html",
        "team.html",
        "service.html",
        "macros.html",
        "partials/nav.html",
        "partials/overview.html",
        "partials/phases.html",
        "partials/deployments.html",
        "partials/moved.html",
        "partials/explanations.html",
        "partials/report_body.html",
        "partials/services.html",
        "partials/service_rows.html",
    ]
);

/// The templates of the default theme that only dashboards render (a
/// repository's report, a service, a team and the partials they include;
/// `index.html` includes the overview only when the site has one). A site's
/// templates are parsed without these; they are parsed the first time a page
/// needs one (see [`super::templates`]), so a content-only site never pays
/// for them. `partials/nav.html` is the one partial of every page.
pub const DASHBOARD_TEMPLATES: &[&str] = &[
    "report.html",
    "team.html",
    "service.html",
    "partials/overview.html",
    "partials/phases.html",
    "partials/deployments.html",
    "partials/moved.html",
    "partials/explanations.html",
    "partials/report_body.html",
    "partials/services.html",
    "partials/service_rows.html",
];

/// Static files of the default theme, by path inside `static/`.
pub const STATIC: &[(&str, &[u8])] = theme_files!(
    include_bytes,
    "static",
    ["style.css", "favicon.svg", "search.js", "sort.js"]
);
