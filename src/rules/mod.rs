//! Rules: small self-describing units with an id, a default severity, a
//! one-line summary and an explanation (`fluxgate explain <id>`). A rule
//! builds findings from plain data; it never formats output.

use crate::finding::Severity;

/// A rule's metadata. The explanation is the rule's doc comment.
#[derive(Debug, PartialEq, Eq)]
pub struct Rule {
    pub id: &'static str,
    pub default_severity: Severity,
    pub summary: &'static str,
    pub explanation: &'static str,
}

impl Rule {
    /// The explanation without rustdoc's leading space on each line.
    pub fn explanation_text(&self) -> String {
        self.explanation
            .lines()
            .map(|l| l.strip_prefix(' ').unwrap_or(l))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Declares a rule; its doc comment becomes both rustdoc and `explain` text.
macro_rules! declare_rule {
    ($(#[doc = $doc:literal])* $name:ident { id: $id:literal, severity: $sev:ident, summary: $summary:literal $(,)? }) => {
        $(#[doc = $doc])*
        pub static $name: $crate::rules::Rule = $crate::rules::Rule {
            id: $id,
            default_severity: $crate::finding::Severity::$sev,
            summary: $summary,
            explanation: concat!($($doc, "\n"),*),
        };
    };
}

pub mod image_digest_mismatch;
pub mod image_not_found;
pub mod image_platform_missing;
pub mod image_reference_invalid;
pub mod image_unresolved;
pub mod image_unverified;
pub mod yaml_duplicate_key;
pub mod yaml_invalid;

/// Every rule, in the order `fluxgate rules` lists them.
pub static ALL: &[&Rule] = &[
    &yaml_invalid::YAML_INVALID,
    &yaml_duplicate_key::YAML_DUPLICATE_KEY,
    &image_reference_invalid::IMAGE_REFERENCE_INVALID,
    &image_unresolved::IMAGE_UNRESOLVED,
    &image_not_found::IMAGE_NOT_FOUND,
    &image_unverified::IMAGE_UNVERIFIED,
    &image_platform_missing::IMAGE_PLATFORM_MISSING,
    &image_digest_mismatch::IMAGE_DIGEST_MISMATCH,
];

/// The rule with this id.
pub fn find(id: &str) -> Option<&'static Rule> {
    ALL.iter().copied().find(|r| r.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_are_unique_kebab_case_and_explained() {
        let mut seen = HashSet::new();
        for rule in ALL {
            assert!(seen.insert(rule.id), "duplicate rule id {}", rule.id);
            assert!(
                rule.id.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{}",
                rule.id
            );
            let text = rule.explanation_text();
            for heading in ["## What it checks", "## Why it matters", "## How to fix"] {
                assert!(text.contains(heading), "{} lacks {heading}", rule.id);
            }
        }
    }
}
