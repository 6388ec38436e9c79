//! The portal's `config.toml`: site settings (title, base URL, languages,
//! theme), ledger settings (origin, secret path, advances) and privacy choices.
//!
//! Unknown keys are errors, so a typo such as `alow_advances` is caught rather
//! than silently ignored; free-form data for themes goes under `[extra]`.

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The whole `config.toml`.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The portal's name, shown in the header of every page.
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// Where the site is published, e.g. `https://cuutro.example.vn/` or a
    /// sub-path such as `https://example.github.io/minhbach/`.
    #[serde(default = "default_base_url")]
    pub base_url: String,
    /// The language of the site's root; Vietnamese first.
    #[serde(default = "default_language")]
    pub default_language: String,
    /// Further languages, each mirrored under `/<code>/`.
    #[serde(default = "default_languages")]
    pub languages: Vec<String>,
    /// The theme under `themes/<name>/`.
    #[serde(default = "default_theme")]
    pub theme: String,
    /// Donations (and disbursements) per numbered page of the site, 100 if
    /// unset. Page N always holds the same entries, so changing this moves
    /// every entry to another page: choose it once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_size: Option<usize>,
    pub ledger: LedgerConfig,
    #[serde(default)]
    pub privacy: PrivacyConfig,
    /// Free-form values handed to templates as `config.extra`.
    #[serde(default)]
    pub extra: toml::Table,
}

/// `[ledger]`: what the ledger itself depends on.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LedgerConfig {
    /// The checkpoint origin line, e.g. `cuutro.quangtri.example/ledger`: it names
    /// this log in every signed checkpoint, so it must never change.
    pub origin: String,
    /// Path of the portal secret used for keyed commitments of private fields,
    /// relative to the portal root or absolute. It must not be under `ledger/`,
    /// `content/`, `static/` or `public/`.
    #[serde(default = "default_secret")]
    pub secret: String,
    /// Whether a fund may disburse more than it has received (an advance).
    #[serde(default)]
    pub allow_advances: bool,
}

/// `[privacy]`: how personal data is shown on the public site (Decree 13/2023,
/// Law 91/2025). The ledger never holds a citizen ID or phone number.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PrivacyConfig {
    #[serde(default)]
    pub household_names: NameDisplay,
    /// Show the last four digits of a household head's citizen ID. They are
    /// never in the ledger: when this is on, `append` and `import` keep them
    /// in a private side store beside the portal secret
    /// (`Portal::citizen_id_last4_path`), and `build` reads them from there;
    /// when it is off, they are kept nowhere.
    #[serde(default)]
    pub show_citizen_id_last4: bool,
}

/// How a household head's name appears on public pages.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NameDisplay {
    /// "Nguyễn Văn An", as posted on commune notice boards.
    #[default]
    Full,
    /// "Nguyễn V. A.": family name kept, the rest as initials.
    Abbreviated,
    /// "N. V. A.".
    Initials,
}

fn default_base_url() -> String {
    "/".to_string()
}
fn default_language() -> String {
    "vi".to_string()
}
fn default_languages() -> Vec<String> {
    vec!["vi".to_string(), "en".to_string()]
}
fn default_theme() -> String {
    "default".to_string()
}
fn default_secret() -> String {
    ".minhbach/secret".to_string()
}

impl Config {
    /// What the ledger is judged by: its origin and whether advances are
    /// allowed.
    pub fn ledger_settings(&self) -> crate::ledger::LedgerSettings {
        crate::ledger::LedgerSettings {
            origin: self.ledger.origin.clone(),
            allow_advances: self.ledger.allow_advances,
        }
    }

    /// Parses `config.toml` text; `path` is used in messages only. toml's
    /// errors already carry the line and column.
    pub fn parse(text: &str, path: &Path) -> Result<Config> {
        let config: Config =
            toml::from_str(text).with_context(|| format!("invalid `{}`", path.display()))?;
        config
            .check()
            .with_context(|| format!("invalid `{}`", path.display()))?;
        Ok(config)
    }

    /// Reads and parses `config.toml`.
    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("failed to read `{}`", path.display()))?;
        Config::parse(&text, path)
    }

    fn check(&self) -> Result<()> {
        let origin = &self.ledger.origin;
        if origin.is_empty() || origin.chars().any(|c| c.is_control() || c == '\n') {
            bail!("ledger.origin must be a non-empty single line, got {origin:?}");
        }
        if !self.languages.contains(&self.default_language) {
            bail!(
                "default_language `{}` is not listed in languages {:?}",
                self.default_language,
                self.languages
            );
        }
        if self.page_size == Some(0) {
            bail!("page_size must be at least 1");
        }
        for language in &self.languages {
            if !matches!(language.as_str(), "vi" | "en") {
                bail!("languages: `{language}` is not supported (supported: vi, en)");
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_config_gets_defaults() {
        let config = Config::parse(
            "title = \"T\"\n[ledger]\norigin = \"o.example/x\"\n",
            Path::new("c"),
        )
        .unwrap();
        assert_eq!(config.languages, ["vi", "en"]);
        assert_eq!(config.ledger.secret, ".minhbach/secret");
        assert!(!config.ledger.allow_advances);
        assert_eq!(config.privacy.household_names, NameDisplay::Full);
    }

    #[test]
    fn unknown_key_names_file_and_line() {
        let err = Config::parse(
            "title = \"T\"\n[ledger]\norigin = \"o\"\nalow_advances = true\n",
            Path::new("portal/config.toml"),
        )
        .unwrap_err();
        let message = format!("{err:#}");
        assert!(message.contains("`portal/config.toml`"), "{message}");
        assert!(message.contains("line 4"), "{message}");
        assert!(message.contains("alow_advances"), "{message}");
    }
}
