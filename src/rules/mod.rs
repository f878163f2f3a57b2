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

pub mod chart_not_found;
pub mod chart_unresolved;
pub mod chart_unverified;
pub mod crd_changed;
pub mod crd_removed;
pub mod crd_version_removed;
pub mod helm_chart_major_upgrade;
pub mod image_digest_mismatch;
pub mod image_not_found;
pub mod image_platform_missing;
pub mod image_reference_invalid;
pub mod image_unresolved;
pub mod image_unverified;
pub mod immutable_config_changed;
pub mod job_template_changed;
pub mod namespace_removed;
pub mod pvc_immutable_field_changed;
pub mod pvc_removed;
pub mod pvc_resized;
pub mod pvc_shrunk;
pub mod role_ref_changed;
pub mod selector_changed;
pub mod service_cluster_ip_changed;
pub mod statefulset_immutable_field_changed;
pub mod storage_removed;
mod support;
pub mod suppression_invalid;
pub mod suppression_unused;
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
    &chart_not_found::CHART_NOT_FOUND,
    &chart_unresolved::CHART_UNRESOLVED,
    &chart_unverified::CHART_UNVERIFIED,
    &suppression_invalid::SUPPRESSION_INVALID,
    &suppression_unused::SUPPRESSION_UNUSED,
    &crd_removed::CRD_REMOVED,
    &crd_version_removed::CRD_VERSION_REMOVED,
    &crd_changed::CRD_CHANGED,
    &pvc_resized::PVC_RESIZED,
    &pvc_shrunk::PVC_SHRUNK,
    &pvc_immutable_field_changed::PVC_IMMUTABLE_FIELD_CHANGED,
    &pvc_removed::PVC_REMOVED,
    &statefulset_immutable_field_changed::STATEFULSET_IMMUTABLE_FIELD_CHANGED,
    &selector_changed::SELECTOR_CHANGED,
    &job_template_changed::JOB_TEMPLATE_CHANGED,
    &service_cluster_ip_changed::SERVICE_CLUSTER_IP_CHANGED,
    &role_ref_changed::ROLE_REF_CHANGED,
    &immutable_config_changed::IMMUTABLE_CONFIG_CHANGED,
    &namespace_removed::NAMESPACE_REMOVED,
    &storage_removed::STORAGE_REMOVED,
    &helm_chart_major_upgrade::HELM_CHART_MAJOR_UPGRADE,
];

/// A rollback rule's check: findings for one changed object.
pub type Check = fn(&crate::pairs::ObjectChange) -> Vec<crate::finding::Finding>;

/// The rollback-safety rules, run on every changed object.
pub static ROLLBACK: &[Check] = &[
    crd_removed::check,
    crd_version_removed::check,
    crd_changed::check,
    pvc_resized::check,
    pvc_shrunk::check,
    pvc_immutable_field_changed::check,
    pvc_removed::check,
    statefulset_immutable_field_changed::check,
    selector_changed::check,
    job_template_changed::check,
    service_cluster_ip_changed::check,
    role_ref_changed::check,
    immutable_config_changed::check,
    namespace_removed::check,
    storage_removed::check,
    helm_chart_major_upgrade::check,
];

/// Runs every rollback rule on every changed object.
pub fn check_changes(changes: &[crate::pairs::ObjectChange]) -> Vec<crate::finding::Finding> {
    changes
        .iter()
        .flat_map(|change| ROLLBACK.iter().flat_map(move |check| check(change)))
        .collect()
}

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
