//! `crd-removed`: a CustomResourceDefinition is deleted, and every custom resource of it.

use super::support::{describe, name_location, of_kind, removed};
use crate::finding::Finding;
use crate::pairs::ObjectChange;

declare_rule! {
    /// ## What it checks
    /// A CustomResourceDefinition that is in the base but gone from the head.
    ///
    /// ## Why it matters
    /// Deleting a CRD deletes every custom resource of that kind, in every
    /// namespace, at once: the API server cascades the deletion. With
    /// `prune: true`, Flux deletes the CRD as soon as the change is applied.
    /// A `git revert` brings the definition back, but an empty one: the
    /// custom resources (certificates, backups, alerts...) and whatever their
    /// controllers had recorded in them are gone, except the ones Flux itself
    /// applies from Git.
    ///
    /// ## Example
    /// ```yaml
    /// # infrastructure/crds/backups.yaml, deleted by the pull request
    /// apiVersion: apiextensions.k8s.io/v1
    /// kind: CustomResourceDefinition
    /// metadata:
    ///   name: backups.db.example.com
    /// ```
    ///
    /// ## How to fix
    /// Keep the CRD while any custom resource of it is in use. To stop
    /// managing it from Git without deleting it, first merge the annotation
    /// `kustomize.toolkit.fluxcd.io/prune: disabled` on it, then remove it.
    /// If the deletion is intended, back the custom resources up first.
    CRD_REMOVED { id: "crd-removed", severity: Error, summary: "a CustomResourceDefinition is deleted, and every custom resource of it" }
}

pub fn check(change: &ObjectChange) -> Vec<Finding> {
    let Some(change) = of_kind(change, "apiextensions.k8s.io", "CustomResourceDefinition") else {
        return Vec::new();
    };
    let Some(base) = removed(change) else {
        return Vec::new();
    };
    // Name the kind users know (`Backup`) rather than the CRD's plural name.
    let kind = base
        .at(&["spec", "names", "kind"])
        .and_then(|k| k.scalar_text())
        .map_or_else(|| "custom resource".to_string(), |k| format!("`{k}`"));
    vec![Finding::new(
        &CRD_REMOVED,
        name_location(base),
        format!(
            "{} is deleted: with pruning, Flux deletes it and every {kind} object in the cluster goes with it; a revert restores the definition but not those objects",
            describe(change)
        ),
    )
    .with_help("keep the CRD while its custom resources are in use; to stop managing it without deleting it, annotate it `kustomize.toolkit.fluxcd.io/prune: disabled` first")]
}
