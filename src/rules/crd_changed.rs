//! `crd-changed`: a CRD's spec changes.

use super::crd_version_removed::removed_versions;
use super::support::{describe, location, modified, of_kind};
use crate::finding::Finding;
use crate::pairs::ObjectChange;
use crate::yaml::{Node, Value};

declare_rule! {
    /// ## What it checks
    /// Any change to a CustomResourceDefinition's `spec`: its schema, storage
    /// version, conversion, scope or names. Changes to `metadata` only (labels,
    /// annotations) are not reported, nor CRDs that `crd-version-removed`
    /// already reports.
    ///
    /// ## Why it matters
    /// The API server validates and prunes custom resources against the
    /// schema of the CRD it has now. Fields a new schema no longer declares
    /// are dropped from objects as they are read and written back, and a new
    /// storage version or conversion rewrites them. A `git revert` restores
    /// the old definition, not the fields lost in between. Some fields
    /// (`scope`, `group`) cannot change at all: the update is refused.
    ///
    /// ## Example
    /// ```yaml
    /// properties:
    ///   retention:          # renamed from `keep`: stored `keep` values are pruned
    ///     type: string
    /// ```
    ///
    /// ## How to fix
    /// Change a CRD in a pull request of its own, usually with the controller
    /// release that needs it. Check that existing custom resources still fit
    /// the new schema; keep old fields until they are migrated.
    CRD_CHANGED { id: "crd-changed", severity: Warning, summary: "a CRD's spec changes" }
}

/// The first place, in head order, where `head` differs from `base`: the
/// head node there and its path (`spec.versions[0].schema`).
fn first_difference<'h>(base: &Node, head: &'h Node, path: String) -> (&'h Node, String) {
    match &head.value {
        Value::Mapping(entries) if base.as_mapping().is_some() => {
            for (key_node, value) in entries {
                let Some(key) = key_node.scalar_text() else {
                    continue;
                };
                match base.get(key) {
                    Some(old) if old.same_value(value) => {}
                    Some(old) => return first_difference(old, value, format!("{path}.{key}")),
                    // A new field: its key is where it starts.
                    None => return (key_node, format!("{path}.{key}")),
                }
            }
        }
        Value::Sequence(items) => {
            let old = base.as_sequence().unwrap_or_default();
            for (i, item) in items.iter().enumerate() {
                match old.get(i) {
                    Some(o) if o.same_value(item) => {}
                    Some(o) => return first_difference(o, item, format!("{path}[{i}]")),
                    None => return (item, format!("{path}[{i}]")),
                }
            }
        }
        _ => {}
    }
    // A scalar, a changed type, or something only the base has.
    (head, path)
}

pub fn check(change: &ObjectChange) -> Vec<Finding> {
    let Some(change) = of_kind(change, "apiextensions.k8s.io", "CustomResourceDefinition") else {
        return Vec::new();
    };
    let Some((base, head)) = modified(change) else {
        return Vec::new();
    };
    let (Some(old), Some(new)) = (base.at(&["spec"]), head.at(&["spec"])) else {
        return Vec::new();
    };
    if old.same_value(new) || !removed_versions(change).is_empty() {
        return Vec::new();
    }
    let (node, path) = first_difference(old, new, "spec".to_string());
    vec![Finding::new(
        &CRD_CHANGED,
        location(head, node),
        format!(
            "{} changes {path}: on apply, the API server validates, prunes and converts existing custom resources by the new definition, and a revert restores the definition but not fields dropped or rewritten in between",
            describe(change)
        ),
    )
    .with_help("change CRDs in a pull request of their own; check that existing custom resources fit the new schema and keep old fields until they are migrated")]
}
