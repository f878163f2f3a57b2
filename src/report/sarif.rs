//! `--format sarif`: SARIF 2.1.0 for GitHub code scanning and SARIF viewers.
//! Like JSON v1, the output is built from DTOs of its own, never from
//! internal types. Every rule fluxgate has is listed in `tool.driver.rules`
//! (so code scanning knows them all, also those without results this run).
//!
//! Locations are repository-relative URIs under `%SRCROOT%`; columns count
//! Unicode code points (`columnKind: unicodeCodePoints`), as fluxgate's
//! positions do, and `endColumn` is exclusive in SARIF as our `end` position
//! is (the character after the span). A finding about a removed object
//! (`side: base`) points into the base revision's version of its file: its
//! result carries `properties.side: "base"` and says so in its message.

use super::{fingerprints, side_name, Report};
use crate::finding::{Location, Severity};
use crate::rules::{Rule, ALL};
use crate::source::Side;
use serde::Serialize;
use std::collections::BTreeMap;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
const INFORMATION_URI: &str = "https://github.com/fluxgate/fluxgate";
/// The README's "Rules" section (its anchor), where every rule is listed;
/// `fluxgate explain <id>` prints the same text as `help`.
const HELP_URI: &str = "https://github.com/fluxgate/fluxgate/blob/main/README.md#rules";
const SRCROOT: &str = "%SRCROOT%";
/// The key of our entry in `partialFingerprints` (`name/version`, as the
/// SARIF specification suggests).
const FINGERPRINT_KEY: &str = "fluxgateFinding/v1";

/// The SARIF 2.1.0 subset fluxgate writes.
mod dto {
    use serde::Serialize;
    use std::collections::BTreeMap;

    #[derive(Serialize)]
    pub struct Log<'a> {
        #[serde(rename = "$schema")]
        pub schema: &'a str,
        pub version: &'a str,
        pub runs: Vec<Run<'a>>,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Run<'a> {
        pub tool: Tool<'a>,
        pub column_kind: &'a str,
        pub results: Vec<Result<'a>>,
        pub properties: RunProperties<'a>,
    }

    #[derive(Serialize)]
    pub struct RunProperties<'a> {
        /// The merge-base the change was diffed against.
        pub base: Option<&'a str>,
        pub head: &'a str,
        /// Findings silenced by `# fluxgate: ignore[...]` comments.
        pub suppressed: usize,
    }

    #[derive(Serialize)]
    pub struct Tool<'a> {
        pub driver: Driver<'a>,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Driver<'a> {
        pub name: &'a str,
        pub version: &'a str,
        pub semantic_version: &'a str,
        pub information_uri: &'a str,
        pub rules: Vec<ReportingDescriptor<'a>>,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct ReportingDescriptor<'a> {
        pub id: &'a str,
        pub name: String,
        pub short_description: Message,
        pub full_description: Message,
        pub help: MultiformatMessage,
        pub help_uri: &'a str,
        pub default_configuration: Configuration<'a>,
    }

    #[derive(Serialize)]
    pub struct Configuration<'a> {
        pub level: &'a str,
    }

    #[derive(Serialize)]
    pub struct Message {
        pub text: String,
    }

    #[derive(Serialize)]
    pub struct MultiformatMessage {
        pub text: String,
        pub markdown: String,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Result<'a> {
        pub rule_id: &'a str,
        pub rule_index: usize,
        pub level: &'a str,
        pub message: Message,
        pub locations: Vec<ResultLocation>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        pub related_locations: Vec<ResultLocation>,
        pub partial_fingerprints: BTreeMap<&'a str, String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        pub properties: Option<ResultProperties<'a>>,
    }

    #[derive(Serialize)]
    pub struct ResultProperties<'a> {
        pub side: &'a str,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct ResultLocation {
        #[serde(skip_serializing_if = "Option::is_none")]
        pub id: Option<usize>,
        pub physical_location: PhysicalLocation,
        #[serde(skip_serializing_if = "Option::is_none")]
        pub message: Option<Message>,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct PhysicalLocation {
        pub artifact_location: ArtifactLocation,
        pub region: Region,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct ArtifactLocation {
        pub uri: String,
        pub uri_base_id: &'static str,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Region {
        pub start_line: usize,
        pub start_column: usize,
        pub end_line: usize,
        pub end_column: usize,
    }
}

/// The report as pretty-printed SARIF 2.1.0, with a trailing newline.
pub fn render(report: &Report) -> String {
    let fingerprints = fingerprints(report);
    let results = report
        .findings
        .iter()
        .zip(fingerprints)
        .map(|(finding, fingerprint)| {
            let base = finding.primary.side == Side::Base;
            let mut text = finding.message.clone();
            if base {
                text.push_str(" (in the base revision)");
            }
            if let Some(help) = &finding.help {
                text.push_str("\n\nHelp: ");
                text.push_str(help);
            }
            dto::Result {
                rule_id: finding.rule.id,
                rule_index: rule_index(finding.rule),
                level: level(finding.severity),
                message: dto::Message { text },
                locations: vec![dto::ResultLocation {
                    id: None,
                    physical_location: physical(&finding.primary),
                    message: None,
                }],
                related_locations: finding
                    .related
                    .iter()
                    .enumerate()
                    .map(|(i, label)| {
                        let mut text = label.message.clone();
                        if label.location.side == Side::Base {
                            text.push_str(" (in the base revision)");
                        }
                        dto::ResultLocation {
                            id: Some(i + 1),
                            physical_location: physical(&label.location),
                            message: Some(dto::Message { text }),
                        }
                    })
                    .collect(),
                partial_fingerprints: BTreeMap::from([(FINGERPRINT_KEY, fingerprint)]),
                properties: base.then(|| dto::ResultProperties {
                    side: side_name(Side::Base),
                }),
            }
        })
        .collect();
    let log = dto::Log {
        schema: SCHEMA,
        version: "2.1.0",
        runs: vec![dto::Run {
            tool: dto::Tool {
                driver: dto::Driver {
                    name: "fluxgate",
                    version: env!("CARGO_PKG_VERSION"),
                    semantic_version: env!("CARGO_PKG_VERSION"),
                    information_uri: INFORMATION_URI,
                    rules: ALL.iter().map(|rule| descriptor(rule)).collect(),
                },
            },
            column_kind: "unicodeCodePoints",
            results,
            properties: dto::RunProperties {
                base: report.base.as_deref(),
                head: &report.head,
                suppressed: report.suppressed,
            },
        }],
    };
    let mut out = serialize(&log);
    out.push('\n');
    out
}

fn serialize(value: &impl Serialize) -> String {
    serde_json::to_string_pretty(value).expect("the SARIF DTO holds only strings, numbers and maps")
}

fn descriptor(rule: &'static Rule) -> dto::ReportingDescriptor<'static> {
    let explanation = rule.explanation_text().trim().to_string();
    dto::ReportingDescriptor {
        id: rule.id,
        name: upper_camel(rule.id),
        short_description: dto::Message {
            text: rule.summary.to_string(),
        },
        full_description: dto::Message {
            text: explanation.clone(),
        },
        help: dto::MultiformatMessage {
            text: explanation.clone(),
            markdown: explanation,
        },
        help_uri: HELP_URI,
        default_configuration: dto::Configuration {
            level: level(rule.default_severity),
        },
    }
}

/// The rule's index in `tool.driver.rules` (which lists [`ALL`]).
fn rule_index(rule: &Rule) -> usize {
    ALL.iter()
        .position(|r| r.id == rule.id)
        .expect("every finding's rule is in rules::ALL")
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

fn physical(location: &Location) -> dto::PhysicalLocation {
    dto::PhysicalLocation {
        artifact_location: dto::ArtifactLocation {
            uri: uri(&location.file),
            uri_base_id: SRCROOT,
        },
        region: dto::Region {
            start_line: location.start.line,
            start_column: location.start.column,
            end_line: location.end.line,
            end_column: location.end.column,
        },
    }
}

/// `image-reference-invalid` -> `ImageReferenceInvalid`.
fn upper_camel(id: &str) -> String {
    id.split('-')
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_uppercase().chain(chars).collect::<String>()
            })
        })
        .collect()
}

/// A repository path (git's, with `/`) as a relative URI reference: bytes
/// outside the unreserved set, `/` and a few safe sub-delimiters are
/// percent-encoded (`:` too, so a first segment never reads as a scheme).
fn uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        let safe = byte.is_ascii_alphanumeric()
            || matches!(
                byte,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b'/'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
                    | b'@'
            );
        if safe {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_upper_camel_case() {
        assert_eq!(
            upper_camel("image-reference-invalid"),
            "ImageReferenceInvalid"
        );
        assert_eq!(upper_camel("pvc-resized"), "PvcResized");
    }

    #[test]
    fn paths_become_relative_uri_references() {
        assert_eq!(uri("apps/app/deploy.yaml"), "apps/app/deploy.yaml");
        assert_eq!(
            uri("apps/my app/a:b%#?.yaml"),
            "apps/my%20app/a%3Ab%25%23%3F.yaml"
        );
        assert_eq!(uri("apps/café.yaml"), "apps/caf%C3%A9.yaml");
    }

    #[test]
    fn every_rule_is_described_in_order() {
        for (i, rule) in ALL.iter().enumerate() {
            assert_eq!(rule_index(rule), i);
        }
    }
}
