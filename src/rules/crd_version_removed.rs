//! `crd-version-removed`: a served CRD version is removed.

use super::support::{describe, field_location, location, modified, of_kind};
use crate::finding::{Finding, Location};
use crate::pairs::{Object, ObjectChange};
use crate::yaml::Node;

declare_rule! {
    /// ## What it checks
    /// A CustomResourceDefinition that drops a version from `spec.versions`,
    /// or stops serving it (`served: true` becomes `served: false`).
    ///
    /// ## Why it matters
    /// A version that objects were ever stored in stays listed in the CRD's
    /// `status.storedVersions` until someone migrates them and edits that
    /// list. fluxgate cannot see the cluster, so the version may be there.
    /// If it is, the API server refuses to drop it, and the Flux
    /// Kustomization stays failed. If it is not, or if the version is only
    /// unserved, every manifest, controller and client still using that
    /// `apiVersion` stops working until a revert serves it again.
    ///
    /// ## Example
    /// ```yaml
    /// versions:
    ///   - name: v1alpha1   # this entry was deleted
    ///   - name: v1
    ///     served: true
    ///     storage: true
    /// ```
    ///
    /// ## How to fix
    /// Retire a version in steps: move `storage: true` to the new version,
    /// migrate the stored objects and remove the old version from
    /// `status.storedVersions`, move every manifest to the new `apiVersion`,
    /// set `served: false`, and only then delete the entry.
    CRD_VERSION_REMOVED { id: "crd-version-removed", severity: Error, summary: "a served CRD version is removed" }
}

/// A version the head no longer offers.
pub(super) struct Lost {
    pub name: String,
    /// The base's storage version: then it is surely in `storedVersions`.
    pub storage: bool,
    /// Whether the base served it: then clients may be using it.
    pub served: bool,
    /// Whether the entry is still there, with `served: false`.
    pub unserved: bool,
    pub location: Location,
}

/// `spec.versions` as (name, entry) pairs.
fn versions(object: &Object) -> Vec<(&str, &Node)> {
    let items = object
        .at(&["spec", "versions"])
        .and_then(Node::as_sequence)
        .unwrap_or_default();
    items
        .iter()
        .filter_map(|v| Some((v.get("name")?.scalar_text()?, v)))
        .collect()
}

fn flag(entry: &Node, key: &str) -> Option<bool> {
    entry
        .get(key)
        .and_then(Node::scalar_text)
        .map(|t| t == "true")
}

/// Versions of a modified CRD that the head drops or stops serving; shared
/// with `crd-changed`, which leaves such CRDs to this rule.
pub(super) fn removed_versions(change: &ObjectChange) -> Vec<Lost> {
    let Some(change) = of_kind(change, "apiextensions.k8s.io", "CustomResourceDefinition") else {
        return Vec::new();
    };
    let Some((base, head)) = modified(change) else {
        return Vec::new();
    };
    let after = versions(head);
    let mut lost = Vec::new();
    for (name, entry) in versions(base) {
        let now = after.iter().find(|(n, _)| *n == name).map(|(_, e)| *e);
        let served = flag(entry, "served") != Some(false);
        let location = match now {
            None => field_location(head, &["spec", "versions"]),
            // `served` is required: only an explicit flip to false counts.
            Some(now) => match now.get("served") {
                Some(flip) if flip.scalar_text() == Some("false") && served => location(head, flip),
                _ => continue,
            },
        };
        let storage = flag(entry, "storage") == Some(true);
        let (name, unserved) = (name.to_string(), now.is_some());
        lost.push(Lost {
            name,
            storage,
            served,
            unserved,
            location,
        });
    }
    lost
}

pub fn check(change: &ObjectChange) -> Vec<Finding> {
    let group = change
        .base
        .as_ref()
        .and_then(|b| b.at(&["spec", "group"]))
        .and_then(Node::scalar_text);
    let api =
        |version: &str| group.map_or_else(|| version.to_string(), |g| format!("{g}/{version}"));
    removed_versions(change)
        .into_iter()
        .map(|lost| {
            let (what, name, api) = (describe(change), &lost.name, api(&lost.name));
            let message = if lost.unserved {
                format!("{what} stops serving version {name}: on apply, every manifest and controller still using {api} fails, until a revert serves it again")
            } else if lost.storage {
                format!("{what} removes version {name}, its storage version, which is therefore listed in status.storedVersions: the API server refuses the update and the Kustomization stays failed until a revert brings the version back")
            } else {
                // Nothing can be using a version the base did not serve.
                let otherwise = if lost.served { format!("; if not, everything still using {api} breaks until a revert serves it again") } else { String::new() };
                format!("{what} removes version {name}, which may still be listed in status.storedVersions: if so, the API server refuses the update and the Kustomization stays failed until a revert brings the version back{otherwise}")
            };
            Finding::new(&CRD_VERSION_REMOVED, lost.location, message).with_help(
                "retire a version in steps: move storage to the new version, migrate stored objects and status.storedVersions, move manifests to the new apiVersion, unserve it, then delete it",
            )
        })
        .collect()
}
