//! `storage-removed`: a PersistentVolume or StorageClass is deleted or changed.

use super::support::{describe, field_location, modified, name_location, of_kind, removed};
use crate::finding::Finding;
use crate::pairs::{Object, ObjectChange};
use crate::yaml::Node;

declare_rule! {
    /// ## What it checks
    /// A PersistentVolume or StorageClass that is deleted, and a StorageClass
    /// whose `provisioner`, `parameters`, `reclaimPolicy` or
    /// `volumeBindingMode` changes.
    ///
    /// ## Why it matters
    /// With `prune: true`, Flux deletes a PersistentVolume as soon as no
    /// claim holds it, and under a `Delete` reclaim policy the storage
    /// behind it may go too; a `git revert` recreates the object, not the
    /// data. Deleting a StorageClass leaves new claims of that class Pending
    /// until it is back. The four StorageClass fields above cannot change:
    /// the API server refuses the update and the Kustomization stays failed
    /// until it is reverted.
    ///
    /// ## Example
    /// ```yaml
    /// kind: StorageClass
    /// reclaimPolicy: Retain   # was Delete
    /// ```
    ///
    /// ## How to fix
    /// Create a StorageClass with a new name for new settings and move
    /// claims to it; keep the old class while volumes use it. Before
    /// deleting a PersistentVolume, make sure its data is no longer needed.
    STORAGE_REMOVED { id: "storage-removed", severity: Error, summary: "a PersistentVolume or StorageClass is deleted or changed" }
}

/// Immutable StorageClass fields, with their defaults: writing out a default
/// where it was left out changes nothing.
const IMMUTABLE: [(&str, Option<&str>); 4] = [
    ("provisioner", None),
    ("parameters", None),
    ("reclaimPolicy", Some("Delete")),
    ("volumeBindingMode", Some("Immediate")),
];

fn changed(base: &Object, head: &Object, field: &str, default: Option<&str>) -> bool {
    match (base.at(&[field]), head.at(&[field])) {
        (Some(a), Some(b)) => !a.same_value(b),
        (Some(n), None) | (None, Some(n)) => default.is_none() || n.scalar_text() != default,
        (None, None) => false,
    }
}

pub fn check(change: &ObjectChange) -> Vec<Finding> {
    if let Some(base) = of_kind(change, "", "PersistentVolume").and_then(removed) {
        let message = format!("{} is deleted: with pruning, Flux deletes it once no claim holds it, and under a `Delete` reclaim policy its storage may go too; a revert recreates the object, not the data", describe(change));
        let help = "make sure the data is no longer needed, or keep the PersistentVolume";
        return vec![Finding::new(&STORAGE_REMOVED, name_location(base), message).with_help(help)];
    }
    let Some(change) = of_kind(change, "storage.k8s.io", "StorageClass") else {
        return Vec::new();
    };
    if let Some(base) = removed(change) {
        let message = format!("{} is deleted: new claims of this class stay Pending until a revert recreates it, and volumes of it can no longer be expanded", describe(change));
        let help = "keep the StorageClass while claims use it";
        return vec![Finding::new(&STORAGE_REMOVED, name_location(base), message).with_help(help)];
    }
    let Some((base, head)) = modified(change) else {
        return Vec::new();
    };
    IMMUTABLE
        .iter()
        .filter(|(field, default)| changed(base, head, field, *default))
        .map(|(field, default)| {
            let value = |o: &Object| o.at(&[field]).and_then(Node::scalar_text).or(*default).map(str::to_string);
            let values = match (value(base), value(head)) {
                (Some(old), Some(new)) => format!(" from `{old}` to `{new}`"),
                _ => String::new(),
            };
            Finding::new(
                &STORAGE_REMOVED,
                field_location(head, &[field]),
                format!("{} changes {field}{values}; the field is immutable, so the API server refuses the update and the Kustomization stays failed until it is reverted", describe(change)),
            )
            .with_help("create a StorageClass with a new name for the new settings and move claims to it")
        })
        .collect()
}
