//! The default theme compiled into the binary, so a portal whose theme lacks
//! a template, a translation or the stylesheet still builds; files under
//! `themes/<name>/` and the portal's `templates/` override these by name.

/// (name, text) of every built-in template.
pub const TEMPLATES: &[(&str, &str)] = &[
    (
        "404.html",
        include_str!("../../themes/default/templates/404.html"),
    ),
    (
        "base.html",
        include_str!("../../themes/default/templates/base.html"),
    ),
    (
        "commune.html",
        include_str!("../../themes/default/templates/commune.html"),
    ),
    (
        "disbursements.html",
        include_str!("../../themes/default/templates/disbursements.html"),
    ),
    (
        "donations.html",
        include_str!("../../themes/default/templates/donations.html"),
    ),
    (
        "fund.html",
        include_str!("../../themes/default/templates/fund.html"),
    ),
    (
        "household.html",
        include_str!("../../themes/default/templates/household.html"),
    ),
    (
        "households.html",
        include_str!("../../themes/default/templates/households.html"),
    ),
    (
        "index.html",
        include_str!("../../themes/default/templates/index.html"),
    ),
    (
        "lookup.html",
        include_str!("../../themes/default/templates/lookup.html"),
    ),
    (
        "open_data.html",
        include_str!("../../themes/default/templates/open_data.html"),
    ),
    (
        "page.html",
        include_str!("../../themes/default/templates/page.html"),
    ),
    (
        "partials/corrections.html",
        include_str!("../../themes/default/templates/partials/corrections.html"),
    ),
    (
        "partials/disbursements_table.html",
        include_str!("../../themes/default/templates/partials/disbursements_table.html"),
    ),
    (
        "partials/donations_table.html",
        include_str!("../../themes/default/templates/partials/donations_table.html"),
    ),
    (
        "partials/donate.html",
        include_str!("../../themes/default/templates/partials/donate.html"),
    ),
    (
        "partials/pagination.html",
        include_str!("../../themes/default/templates/partials/pagination.html"),
    ),
    (
        "partials/stage_bars.html",
        include_str!("../../themes/default/templates/partials/stage_bars.html"),
    ),
    (
        "partials/stage_counts.html",
        include_str!("../../themes/default/templates/partials/stage_counts.html"),
    ),
    (
        "partials/stage_legend.html",
        include_str!("../../themes/default/templates/partials/stage_legend.html"),
    ),
    (
        "partials/stage_stack.html",
        include_str!("../../themes/default/templates/partials/stage_stack.html"),
    ),
    (
        "province.html",
        include_str!("../../themes/default/templates/province.html"),
    ),
    (
        "report.html",
        include_str!("../../themes/default/templates/report.html"),
    ),
    (
        "reports.html",
        include_str!("../../themes/default/templates/reports.html"),
    ),
    (
        "section.html",
        include_str!("../../themes/default/templates/section.html"),
    ),
    (
        "verify.html",
        include_str!("../../themes/default/templates/verify.html"),
    ),
];

/// (language, TOML) of the built-in translations.
pub const TRANSLATIONS: &[(&str, &str)] = &[
    ("en", include_str!("../../themes/default/i18n/en.toml")),
    ("vi", include_str!("../../themes/default/i18n/vi.toml")),
];

/// (output path, bytes) of the built-in static files.
pub const STATIC: &[(&str, &[u8])] = &[
    (
        "lookup/fold.js",
        include_bytes!("../../themes/default/static/lookup/fold.js"),
    ),
    (
        "lookup/index.js",
        include_bytes!("../../themes/default/static/lookup/index.js"),
    ),
    (
        "lookup/note.js",
        include_bytes!("../../themes/default/static/lookup/note.js"),
    ),
    (
        "lookup/page.js",
        include_bytes!("../../themes/default/static/lookup/page.js"),
    ),
    (
        "lookup/proof.js",
        include_bytes!("../../themes/default/static/lookup/proof.js"),
    ),
    (
        "style.css",
        include_bytes!("../../themes/default/static/style.css"),
    ),
];
