//! `immutable-config-changed`: an immutable ConfigMap or Secret changes.

use super::support::{changed_location, describe, differs, field_location, modified, of_kind};
use crate::finding::Finding;
use crate::pairs::{Object, ObjectChange};
use crate::yaml::ScalarKind;

declare_rule! {
    /// ## What it checks
    /// A ConfigMap or Secret that is `immutable: true` on the base side and
    /// whose `data`, `binaryData` or `stringData` changes, or that drops
    /// `immutable: true` (or sets it to `false`). A ConfigMap that only
    /// becomes immutable in this change is fine.
    ///
    /// ## Why it matters
    /// The API server refuses every change to the contents of an immutable
    /// ConfigMap or Secret, and refuses to make it mutable again: the Flux
    /// Kustomization fails until the object is deleted and recreated. A
    /// `git revert` is refused the same way and needs the same recreation.
    ///
    /// ## Example
    /// ```yaml
    /// immutable: true
    /// data:
    ///   LOG_LEVEL: debug   # was info
    /// ```
    ///
    /// ## How to fix
    /// Never edit an immutable ConfigMap or Secret in place: create the new
    /// contents under a new name (a kustomize `configMapGenerator` or
    /// `secretGenerator` adds a hash suffix for you) and point the workloads
    /// at it. A revert then switches back to the old name.
    IMMUTABLE_CONFIG_CHANGED { id: "immutable-config-changed", severity: Error, summary: "an immutable ConfigMap or Secret changes: the API server refuses it" }
}

const HELP: &str = "create the new contents under a new name (e.g. a kustomize configMapGenerator or secretGenerator) and point the workloads at it";

pub fn check(change: &ObjectChange) -> Vec<Finding> {
    let config = of_kind(change, "", "ConfigMap").or_else(|| of_kind(change, "", "Secret"));
    let Some((base, head)) = config.and_then(modified) else {
        return Vec::new();
    };
    if !immutable(base) {
        return Vec::new();
    }
    let what = describe(change);
    let mut findings: Vec<Finding> = ["data", "binaryData", "stringData"]
        .into_iter()
        .filter(|field| differs(base, head, &[field]))
        .map(|field| {
            Finding::new(
                &IMMUTABLE_CONFIG_CHANGED,
                changed_location(base, head, &[field]),
                format!("{what} is immutable and its {field} changes: the API server refuses the apply until it is deleted and recreated, and a git revert needs the same recreation"),
            )
            .with_help(HELP)
        })
        .collect();
    if !immutable(head) {
        findings.push(
            Finding::new(
                &IMMUTABLE_CONFIG_CHANGED,
                field_location(head, &["immutable"]),
                format!("{what} is no longer marked `immutable: true`, but an immutable object cannot become mutable: the API server refuses the apply until it is deleted and recreated, and a git revert needs the same recreation"),
            )
            .with_help(HELP),
        );
    }
    findings
}

/// Whether the object sets `immutable: true` (a YAML boolean, as the API reads it).
fn immutable(object: &Object) -> bool {
    object
        .at(&["immutable"])
        .and_then(|n| n.as_scalar())
        .is_some_and(|s| s.kind() == ScalarKind::Bool && s.text.eq_ignore_ascii_case("true"))
}
