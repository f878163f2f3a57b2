//! `namespace-removed`: a Namespace is deleted, and everything in it.

use super::support::{describe, name_location, of_kind, removed};
use crate::finding::Finding;
use crate::pairs::ObjectChange;

declare_rule! {
    /// ## What it checks
    /// A Namespace that is in the base but gone from the head (moving it to
    /// another file is not a deletion).
    ///
    /// ## Why it matters
    /// With `prune: true`, Flux deletes the Namespace, and Kubernetes then
    /// deletes everything in it: workloads, Secrets created at run time,
    /// claims and (with the usual `Delete` reclaim policy) their data, and
    /// objects nobody manages from Git. A `git revert` recreates only what
    /// Git holds, once the old Namespace has finished terminating.
    ///
    /// ## Example
    /// ```yaml
    /// # infrastructure/namespaces/monitoring.yaml, deleted by the pull request
    /// apiVersion: v1
    /// kind: Namespace
    /// metadata:
    ///   name: monitoring
    /// ```
    ///
    /// ## How to fix
    /// Move or back up what must survive first. To stop managing the
    /// Namespace from Git without deleting it, merge the annotation
    /// `kustomize.toolkit.fluxcd.io/prune: disabled` on it, then remove it.
    NAMESPACE_REMOVED { id: "namespace-removed", severity: Error, summary: "a Namespace is deleted, and everything in it" }
}

pub fn check(change: &ObjectChange) -> Vec<Finding> {
    let Some(change) = of_kind(change, "", "Namespace") else {
        return Vec::new();
    };
    let Some(base) = removed(change) else {
        return Vec::new();
    };
    vec![Finding::new(
        &NAMESPACE_REMOVED,
        name_location(base),
        format!(
            "{} is deleted: with pruning, Flux deletes it and Kubernetes deletes everything in it, the data of its volumes included; a revert recreates only what Git holds, not data or objects created at run time",
            describe(change)
        ),
    )
    .with_help("move or back up what must survive first, or annotate the Namespace `kustomize.toolkit.fluxcd.io/prune: disabled` before removing it")]
}
