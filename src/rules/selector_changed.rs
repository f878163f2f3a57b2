//! `selector-changed`: a workload's selector changes.

use super::support::{changed_location, describe, differs, modified, of_kind};
use crate::finding::Finding;
use crate::pairs::ObjectChange;

declare_rule! {
    /// ## What it checks
    /// A Deployment, DaemonSet or ReplicaSet (`apps/v1`) whose
    /// `spec.selector` changes. StatefulSets are covered by
    /// `statefulset-immutable-field-changed`.
    ///
    /// ## Why it matters
    /// The selector is immutable in `apps/v1`: the API server refuses the
    /// update (`field is immutable`) and the Flux Kustomization fails. Forcing
    /// it by deleting and recreating the object either restarts every pod or,
    /// with `--cascade=orphan`, leaves the old pods running unmanaged beside
    /// the new ones. A `git revert` is refused the same way and needs the same
    /// recreation.
    ///
    /// ## Example
    /// ```yaml
    /// selector:
    ///   matchLabels:
    ///     app.kubernetes.io/name: web   # was app: web
    /// ```
    ///
    /// ## How to fix
    /// Keep the selector and change only the pod template's labels (they may
    /// gain labels, as long as they still match the selector). If the
    /// selector must change, deploy the workload under a new name and delete
    /// the old one once the new one is ready.
    SELECTOR_CHANGED { id: "selector-changed", severity: Error, summary: "a workload's selector changes: the API server refuses it" }
}

const SELECTOR: [&str; 2] = ["spec", "selector"];

pub fn check(change: &ObjectChange) -> Vec<Finding> {
    let workload = ["Deployment", "DaemonSet", "ReplicaSet"]
        .iter()
        .find_map(|kind| of_kind(change, "apps", kind));
    let Some((base, head)) = workload.and_then(modified) else {
        return Vec::new();
    };
    if !differs(base, head, &SELECTOR) {
        return Vec::new();
    }
    vec![Finding::new(
        &SELECTOR_CHANGED,
        changed_location(base, head, &SELECTOR),
        format!(
            "{} changes spec.selector, which is immutable: the API server refuses the apply, recreating the object to force it restarts or orphans its pods, and a git revert is refused the same way",
            describe(change)
        ),
    )
    .with_help("keep the selector (change only template labels), or deploy under a new name and remove the old workload")]
}
