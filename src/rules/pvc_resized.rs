//! `pvc-resized`: a PersistentVolumeClaim's storage request grows.

use super::support::{describe, field_location, modified, of_kind};
use crate::finding::Finding;
use crate::k8s::quantity;
use crate::pairs::ObjectChange;

declare_rule! {
    /// ## What it checks
    /// A PersistentVolumeClaim whose `spec.resources.requests.storage` grows.
    ///
    /// ## Why it matters
    /// Volume expansion is one-way. Once applied, the volume is resized; a
    /// `git revert` then asks for the smaller size, which the API server
    /// refuses (`spec.resources.requests.storage: Forbidden: field can not be
    /// less than previous value`), and the Kustomization stays failed until
    /// someone fixes it by hand.
    ///
    /// ## Example
    /// ```yaml
    /// resources:
    ///   requests:
    ///     storage: 20Gi   # was 10Gi
    /// ```
    ///
    /// ## How to fix
    /// Resize in a pull request of its own, and keep the old size out of any
    /// later revert (revert other changes by hand). Check that the
    /// StorageClass has `allowVolumeExpansion: true`.
    PVC_RESIZED { id: "pvc-resized", severity: Warning, summary: "a PersistentVolumeClaim grows: the resize cannot be reverted" }
}

const STORAGE: [&str; 4] = ["spec", "resources", "requests", "storage"];

/// The storage request on both sides, when both parse.
pub(super) fn sizes(change: &ObjectChange) -> Option<(String, f64, String, f64)> {
    let change = of_kind(change, "", "PersistentVolumeClaim")?;
    let (base, head) = modified(change)?;
    let before = base.at(&STORAGE)?.scalar_text()?;
    let after = head.at(&STORAGE)?.scalar_text()?;
    Some((
        before.to_string(),
        quantity::parse(before)?,
        after.to_string(),
        quantity::parse(after)?,
    ))
}

pub fn check(change: &ObjectChange) -> Vec<Finding> {
    let Some((before, old, after, new)) = sizes(change) else {
        return Vec::new();
    };
    if new <= old {
        return Vec::new();
    }
    let head = change.head.as_ref().expect("sizes() found a head side");
    vec![Finding::new(
        &PVC_RESIZED,
        field_location(head, &STORAGE),
        format!(
            "{} grows from {before} to {after}: applying resizes the volume for good, and a revert to {before} will be refused by the API server",
            describe(change)
        ),
    )
    .with_help("resize in a pull request of its own; never revert the size (revert other changes by hand)")]
}
