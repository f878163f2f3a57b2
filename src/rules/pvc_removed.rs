//! `pvc-removed`: a PersistentVolumeClaim is deleted.

use super::support::{describe, name_location, of_kind, removed};
use crate::finding::Finding;
use crate::pairs::ObjectChange;

declare_rule! {
    /// ## What it checks
    /// A PersistentVolumeClaim that is in the base but gone from the head
    /// (moving it to another file is not a deletion).
    ///
    /// ## Why it matters
    /// With `prune: true`, Flux deletes the claim once the change is applied
    /// (as soon as no pod uses it). Dynamically provisioned volumes have the
    /// `Delete` reclaim policy by default, so the volume and its data are
    /// deleted with the claim. A `git revert` creates a new, empty claim.
    ///
    /// ## Example
    /// ```yaml
    /// # apps/db/pvc.yaml, deleted by the pull request
    /// apiVersion: v1
    /// kind: PersistentVolumeClaim
    /// metadata:
    ///   name: data-postgres
    /// ```
    ///
    /// ## How to fix
    /// If the data must survive, set `persistentVolumeReclaimPolicy: Retain`
    /// on the bound PersistentVolume first, or merge the annotation
    /// `kustomize.toolkit.fluxcd.io/prune: disabled` on the claim before
    /// removing it from Git.
    PVC_REMOVED { id: "pvc-removed", severity: Error, summary: "a PersistentVolumeClaim is deleted" }
}

pub fn check(change: &ObjectChange) -> Vec<Finding> {
    let Some(change) = of_kind(change, "", "PersistentVolumeClaim") else {
        return Vec::new();
    };
    let Some(base) = removed(change) else {
        return Vec::new();
    };
    vec![Finding::new(
        &PVC_REMOVED,
        name_location(base),
        format!(
            "{} is deleted: with pruning, Flux deletes the claim and, under the usual `Delete` reclaim policy, its volume and data; a revert creates a new, empty claim",
            describe(change)
        ),
    )
    .with_help("to keep the data, set the volume's reclaim policy to Retain or annotate the claim `kustomize.toolkit.fluxcd.io/prune: disabled` before removing it")]
}
