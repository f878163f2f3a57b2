//! `pvc-shrunk`: a PersistentVolumeClaim's storage request shrinks.

use super::pvc_resized::sizes;
use super::support::{describe, field_location};
use crate::finding::Finding;
use crate::pairs::ObjectChange;

declare_rule! {
    /// ## What it checks
    /// A PersistentVolumeClaim whose `spec.resources.requests.storage` is
    /// smaller than before.
    ///
    /// ## Why it matters
    /// Kubernetes cannot shrink a volume: the API server refuses the change,
    /// the Flux Kustomization fails, and nothing else in it is applied until
    /// the size is restored.
    ///
    /// ## Example
    /// ```yaml
    /// storage: 5Gi   # was 10Gi
    /// ```
    ///
    /// ## How to fix
    /// Keep the current size. To really use less space, migrate the data to
    /// a new, smaller claim and switch the workload to it.
    PVC_SHRUNK { id: "pvc-shrunk", severity: Error, summary: "a PersistentVolumeClaim shrinks: the API server refuses it" }
}

const STORAGE: [&str; 4] = ["spec", "resources", "requests", "storage"];

pub fn check(change: &ObjectChange) -> Vec<Finding> {
    let Some((before, old, after, new)) = sizes(change) else {
        return Vec::new();
    };
    if new >= old {
        return Vec::new();
    }
    let head = change.head.as_ref().expect("sizes() found a head side");
    vec![Finding::new(
        &PVC_SHRUNK,
        field_location(head, &STORAGE),
        format!(
            "{} shrinks from {before} to {after}: the API server refuses to shrink a claim, so the Kustomization fails on apply; a git revert of this line is the fix",
            describe(change)
        ),
    )
    .with_help("keep the current size; to use less space, migrate to a new, smaller claim")]
}
