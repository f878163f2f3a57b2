//! `pvc-immutable-field-changed`: an immutable field of a PersistentVolumeClaim changes.

use super::support::{describe, differs, field_location, modified, of_kind};
use crate::finding::Finding;
use crate::pairs::{Object, ObjectChange};
use crate::yaml::Node;

declare_rule! {
    /// ## What it checks
    /// An existing PersistentVolumeClaim whose `spec.storageClassName`,
    /// `spec.accessModes`, `spec.volumeMode`, `spec.volumeName`,
    /// `spec.selector`, `spec.dataSource` or `spec.dataSourceRef` changes,
    /// is added or is removed. Setting `volumeName` where it was unset counts:
    /// it asks to bind the claim to another volume.
    ///
    /// ## Why it matters
    /// Once a claim exists, only its size (and volume attributes class) may
    /// change. The API server refuses the update (`spec: Forbidden: spec is
    /// immutable after creation except resources.requests...`), and the
    /// Flux Kustomization stays failed, applying nothing else, until the
    /// change is reverted. With `force: true` on the Kustomization, Flux
    /// instead deletes and recreates the claim, and with the usual `Delete`
    /// reclaim policy its data goes with it: a revert cannot bring that back.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   storageClassName: fast-ssd   # was standard
    /// ```
    ///
    /// ## How to fix
    /// Create a claim with a new name and the new settings, copy the data
    /// over, switch the workload to it, then delete the old claim.
    PVC_IMMUTABLE_FIELD_CHANGED { id: "pvc-immutable-field-changed", severity: Error, summary: "an immutable field of a PersistentVolumeClaim changes" }
}

const FIELDS: [&str; 7] = [
    "storageClassName",
    "accessModes",
    "volumeMode",
    "volumeName",
    "selector",
    "dataSource",
    "dataSourceRef",
];

/// Whether a field changes. A missing `volumeMode` is `Filesystem`:
/// writing out that default changes nothing in the cluster.
fn changed(base: &Object, head: &Object, field: &str) -> bool {
    if field == "volumeMode" {
        return volume_mode(base) != volume_mode(head);
    }
    differs(base, head, &["spec", field])
}

fn volume_mode(object: &Object) -> &str {
    let mode = object
        .at(&["spec", "volumeMode"])
        .and_then(Node::scalar_text);
    mode.unwrap_or("Filesystem")
}

/// What happens to the field, with the values when they are scalars.
fn what(base: &Object, head: &Object, field: &str) -> String {
    let (old, new) = (base.at(&["spec", field]), head.at(&["spec", field]));
    match (old.and_then(Node::scalar_text), new.map(Node::scalar_text)) {
        (_, None) => format!("removes spec.{field}"),
        (Some(a), Some(Some(b))) => format!("changes spec.{field} from `{a}` to `{b}`"),
        // Harmless only if the claim is already bound to that very volume.
        (None, Some(Some(b))) if old.is_none() && field == "volumeName" => {
            format!("sets spec.{field} to `{b}` (harmless only if the claim is already bound to that volume)")
        }
        (None, Some(Some(b))) if old.is_none() => format!("sets spec.{field} to `{b}`"),
        _ => format!("changes spec.{field}"),
    }
}

pub fn check(change: &ObjectChange) -> Vec<Finding> {
    let Some(change) = of_kind(change, "", "PersistentVolumeClaim") else {
        return Vec::new();
    };
    let Some((base, head)) = modified(change) else {
        return Vec::new();
    };
    FIELDS
        .iter()
        .filter(|field| changed(base, head, field))
        .map(|field| {
            Finding::new(
                &PVC_IMMUTABLE_FIELD_CHANGED,
                field_location(head, &["spec", field]),
                format!(
                    "{} {}; the field is immutable, so the API server refuses the update and the Kustomization stays failed until it is reverted (with `force: true`, Flux recreates the claim instead, and its data is lost for good)",
                    describe(change),
                    what(base, head, field)
                ),
            )
            .with_help("create a new claim with the new settings, migrate the data, and switch the workload to it")
        })
        .collect()
}
