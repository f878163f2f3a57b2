//! `.fluxgate.yaml`: read once, validated into a typed value; every error
//! points into the file. Read from the base revision by default, so a pull
//! request cannot switch off its own check.

use crate::finding::Severity;
use crate::registry::Platform;
use crate::rules;
use crate::source::{Side, SourceText, Span};
use crate::yaml::{self, Limits, Node};
use miette::{NamedSource, SourceSpan};
use std::collections::BTreeMap;

/// The name fluxgate looks for at the repository root.
pub const FILE_NAME: &str = ".fluxgate.yaml";

/// A rule's level: a severity, or off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Severity(Severity),
    Off,
}

impl std::str::FromStr for Level {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "error" => Ok(Level::Severity(Severity::Error)),
            "warning" => Ok(Level::Severity(Severity::Warning)),
            "note" => Ok(Level::Severity(Severity::Note)),
            "off" => Ok(Level::Off),
            other => Err(format!(
                "unknown level `{other}` (expected error, warning, note or off)"
            )),
        }
    }
}

/// The validated configuration.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Config {
    /// Per-rule levels, by rule id.
    pub levels: BTreeMap<String, Level>,
    /// Registry rewrites and trust settings, in file order.
    pub registries: Vec<RegistryEntry>,
    /// Platforms every changed image must provide (`os/arch[/variant]`).
    pub platforms: Vec<Platform>,
    /// Image fields of custom resources (`images: { extra_fields: [...] }`).
    pub image_fields: crate::k8s::custom::ImageFields,
}

/// One `registries:` entry as written; its `ca_file` is read by the caller,
/// relative to where the configuration came from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RegistryEntry {
    pub prefix: String,
    pub location: Option<String>,
    pub insecure: bool,
    pub ca_file: Option<String>,
}

/// A configuration error, shown with the offending part of the file.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("invalid configuration in {path}: {message}")]
#[diagnostic(code(fluxgate::config::invalid), help("{help}"))]
pub struct ConfigError {
    pub path: String,
    pub message: String,
    pub help: String,
    #[source_code]
    pub source_code: NamedSource<String>,
    #[label("here")]
    pub span: SourceSpan,
}

const TOP_LEVEL_KEYS: &[&str] = &["rules", "registries", "platforms", "images"];
const REGISTRY_KEYS: &[&str] = &["prefix", "location", "insecure", "ca_file"];
const RULE_KEYS: &[&str] = &["level"];

impl Config {
    /// Parses and validates configuration text read from `path`.
    pub fn parse(path: &str, text: String) -> Result<Config, Box<ConfigError>> {
        let source = SourceText::new(path, Side::Base, text);
        let parsed = yaml::parse(source.text(), &Limits::default());
        let fail = |span: Span, message: String, help: &str| {
            Box::new(ConfigError {
                path: path.to_string(),
                message,
                help: help.to_string(),
                source_code: NamedSource::new(path, source.text().to_string()),
                span: (span.start, span.len()).into(),
            })
        };
        if let Some(error) = parsed.error {
            return Err(fail(error.span, error.message, "fix the YAML syntax"));
        }
        let mut config = Config::default();
        let Some(root) = parsed
            .documents
            .iter()
            .map(|d| &d.root)
            .find(|r| !r.is_null())
        else {
            return Ok(config);
        };
        let top = expect_mapping(root, "the configuration")
            .map_err(|(s, m)| fail(s, m, "write a mapping of settings"))?;
        for (key, value) in top {
            let name = key.scalar_text().unwrap_or_default();
            match name {
                "rules" => {
                    config.levels = rule_levels(value)
                        .map_err(|(s, m)| fail(s, m, "write `rules: { <rule-id>: { level: error|warning|note|off } }`; `fluxgate rules` lists the ids"))?;
                }
                "registries" => {
                    config.registries = registries(value).map_err(|(s, m)| {
                        fail(s, m, "write `registries: [{ prefix: <host[/path]>, location: <host[/path]>, insecure: false, ca_file: <pem> }]`")
                    })?;
                }
                "platforms" => {
                    config.platforms = platforms(value).map_err(|(s, m)| {
                        fail(s, m, "write `platforms: [linux/amd64, linux/arm64]`")
                    })?;
                }
                "images" => {
                    config.image_fields = image_fields(value).map_err(|(s, m)| {
                        fail(s, m, "write `images: { extra_fields: [{ kind: Plan, apiVersion: upgrade.cattle.io/v1, path: spec.upgrade.image }] }`")
                    })?;
                }
                other => {
                    return Err(fail(
                        key.span,
                        format!("unknown key `{other}`"),
                        &format!("supported keys: {}", TOP_LEVEL_KEYS.join(", ")),
                    ))
                }
            }
        }
        Ok(config)
    }

    /// The level configured for a rule, if any.
    pub fn level(&self, rule_id: &str) -> Option<Level> {
        self.levels.get(rule_id).copied()
    }
}

type Invalid = (Span, String);

fn expect_mapping<'n>(node: &'n Node, what: &str) -> Result<&'n [(Node, Node)], Invalid> {
    node.as_mapping().ok_or_else(|| {
        (
            node.span,
            format!("{what} must be a mapping, found {}", node.type_name()),
        )
    })
}

fn rule_levels(node: &Node) -> Result<BTreeMap<String, Level>, Invalid> {
    let mut levels = BTreeMap::new();
    for (key, value) in expect_mapping(node, "`rules`")? {
        let id = key.scalar_text().unwrap_or_default();
        if rules::find(id).is_none() {
            return Err((key.span, format!("unknown rule `{id}`")));
        }
        for (setting, level) in expect_mapping(value, &format!("`rules.{id}`"))? {
            let setting_name = setting.scalar_text().unwrap_or_default();
            if !RULE_KEYS.contains(&setting_name) {
                return Err((
                    setting.span,
                    format!(
                        "unknown key `{setting_name}` for a rule (supported: {})",
                        RULE_KEYS.join(", ")
                    ),
                ));
            }
            let text = level.scalar_text().unwrap_or_default();
            let parsed = text.parse::<Level>().map_err(|m| (level.span, m))?;
            levels.insert(id.to_string(), parsed);
        }
    }
    Ok(levels)
}

fn registries(node: &Node) -> Result<Vec<RegistryEntry>, Invalid> {
    let items = node.as_sequence().ok_or_else(|| {
        (
            node.span,
            format!("`registries` must be a list, found {}", node.type_name()),
        )
    })?;
    items
        .iter()
        .map(|item| {
            let mut entry = RegistryEntry::default();
            for (key, value) in expect_mapping(item, "a `registries` entry")? {
                let text = || {
                    value
                        .as_str()
                        .filter(|t| !t.is_empty())
                        .map(str::to_string)
                        .ok_or_else(|| {
                            (
                                value.span,
                                format!("expected a non-empty string, found {}", value.type_name()),
                            )
                        })
                };
                match key.scalar_text().unwrap_or_default() {
                    "prefix" => entry.prefix = text()?.trim_end_matches('/').to_string(),
                    "location" => entry.location = Some(text()?.trim_end_matches('/').to_string()),
                    "ca_file" => entry.ca_file = Some(text()?),
                    "insecure" => {
                        entry.insecure = match value.scalar_text() {
                            Some("true") => true,
                            Some("false") => false,
                            _ => {
                                return Err((
                                    value.span,
                                    "`insecure` must be true or false".to_string(),
                                ))
                            }
                        }
                    }
                    other => {
                        return Err((
                            key.span,
                            format!(
                                "unknown key `{other}` for a registry (supported: {})",
                                REGISTRY_KEYS.join(", ")
                            ),
                        ))
                    }
                }
            }
            if entry.prefix.is_empty() {
                return Err((
                    item.span,
                    "a `registries` entry needs a `prefix`".to_string(),
                ));
            }
            Ok(entry)
        })
        .collect()
}

fn image_fields(node: &Node) -> Result<crate::k8s::custom::ImageFields, Invalid> {
    use crate::k8s::custom::{parse_path, ExtraField, ImageFields};
    let mut fields = ImageFields::default();
    for (key, value) in expect_mapping(node, "`images`")? {
        if key.scalar_text() != Some("extra_fields") {
            return Err((
                key.span,
                format!(
                    "unknown key `{}` under `images` (supported: extra_fields)",
                    key.scalar_text().unwrap_or_default()
                ),
            ));
        }
        let items = value.as_sequence().ok_or_else(|| {
            (
                value.span,
                format!("`extra_fields` must be a list, found {}", value.type_name()),
            )
        })?;
        for item in items {
            let (mut kind, mut group, mut path) = (None, None, None);
            for (key, value) in expect_mapping(item, "an `extra_fields` entry")? {
                let text = value.as_str().filter(|t| !t.is_empty()).ok_or_else(|| {
                    (
                        value.span,
                        format!("expected a non-empty string, found {}", value.type_name()),
                    )
                })?;
                match key.scalar_text().unwrap_or_default() {
                    "kind" => kind = Some(text.to_string()),
                    "apiVersion" => {
                        group = Some(crate::k8s::api_group(text).to_string())
                    }
                    "path" => path = Some(parse_path(text).map_err(|m| (value.span, m))?),
                    other => {
                        return Err((
                            key.span,
                            format!("unknown key `{other}` for an extra field (supported: kind, apiVersion, path)"),
                        ))
                    }
                }
            }
            let (Some(kind), Some(path)) = (kind, path) else {
                return Err((
                    item.span,
                    "an `extra_fields` entry needs `kind` and `path`".to_string(),
                ));
            };
            fields.extra.push(ExtraField { kind, group, path });
        }
    }
    Ok(fields)
}

fn platforms(node: &Node) -> Result<Vec<Platform>, Invalid> {
    let items = node.as_sequence().ok_or_else(|| {
        (
            node.span,
            format!("`platforms` must be a list, found {}", node.type_name()),
        )
    })?;
    items
        .iter()
        .map(|item| {
            item.scalar_text()
                .unwrap_or_default()
                .parse::<Platform>()
                .map_err(|m| (item.span, m))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_read_and_errors_point_into_the_file() {
        let config = Config::parse(
            FILE_NAME,
            "rules:\n  image-unresolved:\n    level: off\n".into(),
        )
        .unwrap();
        assert_eq!(config.level("image-unresolved"), Some(Level::Off));

        let text = "rules:\n  no-such-rule:\n    level: off\n";
        let err = Config::parse(FILE_NAME, text.into()).unwrap_err();
        assert!(err.message.contains("no-such-rule"));
        assert_eq!(err.span.offset(), text.find("no-such-rule").unwrap());

        let text = "rules:\n  yaml-invalid:\n    level: loud\n";
        let err = Config::parse(FILE_NAME, text.into()).unwrap_err();
        assert_eq!(err.span.offset(), text.find("loud").unwrap());

        let err = Config::parse(FILE_NAME, "mirrors: []\n".into()).unwrap_err();
        assert!(err.message.contains("unknown key `mirrors`"));

        assert_eq!(
            Config::parse(FILE_NAME, "# nothing\n".into()).unwrap(),
            Config::default()
        );
    }

    #[test]
    fn registries_and_platforms_are_validated() {
        let text = "registries:\n  - prefix: docker.io\n    location: 127.0.0.1:5000/hub/\n    insecure: true\n    ca_file: ca.pem\nplatforms: [linux/amd64, linux/arm64/v8]\n";
        let config = Config::parse(FILE_NAME, text.into()).unwrap();
        assert_eq!(
            config.registries,
            vec![RegistryEntry {
                prefix: "docker.io".into(),
                location: Some("127.0.0.1:5000/hub".into()),
                insecure: true,
                ca_file: Some("ca.pem".into()),
            }]
        );
        assert_eq!(config.platforms.len(), 2);

        let text = "registries:\n  - prefix: docker.io\n    mirror: x\n";
        let err = Config::parse(FILE_NAME, text.into()).unwrap_err();
        assert_eq!(err.span.offset(), text.find("mirror").unwrap());
        let text = "platforms: [linux]\n";
        let err = Config::parse(FILE_NAME, text.into()).unwrap_err();
        assert_eq!(err.span.offset(), text.find("linux").unwrap());
        let text = "registries:\n  - prefix: docker.io\n    insecure: maybe\n";
        let err = Config::parse(FILE_NAME, text.into()).unwrap_err();
        assert_eq!(err.span.offset(), text.find("maybe").unwrap());
        let err = Config::parse(FILE_NAME, "registries:\n  - insecure: true\n".into()).unwrap_err();
        assert!(err.message.contains("prefix"));
    }
}
