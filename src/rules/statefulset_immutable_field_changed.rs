//! `statefulset-immutable-field-changed`: an immutable field of a StatefulSet changes.

use super::support::{changed_location, describe, modified, of_kind};
use crate::finding::Finding;
use crate::pairs::{Object, ObjectChange};

declare_rule! {
    /// ## What it checks
    /// A StatefulSet whose `spec.volumeClaimTemplates`, `spec.serviceName`,
    /// `spec.podManagementPolicy` or `spec.selector` changes. Changes to
    /// `replicas`, `template`, `updateStrategy` and the other mutable fields
    /// are fine.
    ///
    /// ## Why it matters
    /// The API server refuses the update: "updates to statefulset spec for
    /// fields other than 'replicas', 'ordinals', 'template', 'updateStrategy',
    /// 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are
    /// forbidden". The Flux Kustomization fails until someone deletes the
    /// StatefulSet (with `--cascade=orphan`, to keep its pods) and lets Flux
    /// recreate it. A `git revert` is refused the same way and needs the same
    /// surgery again. Existing PersistentVolumeClaims are not resized or
    /// changed by a new claim template either.
    ///
    /// ## Example
    /// ```yaml
    /// volumeClaimTemplates:
    ///   - metadata:
    ///       name: data
    ///     spec:
    ///       resources:
    ///         requests:
    ///           storage: 20Gi   # was 10Gi
    /// ```
    ///
    /// ## How to fix
    /// Plan the recreation: `kubectl delete statefulset <name> --cascade=orphan`,
    /// then reconcile, so the pods and their volumes stay. To grow volumes,
    /// resize each PersistentVolumeClaim itself as well. Do not plan to
    /// revert: a revert needs the same delete and recreate.
    STATEFULSET_IMMUTABLE_FIELD_CHANGED { id: "statefulset-immutable-field-changed", severity: Error, summary: "an immutable field of a StatefulSet changes" }
}

const FIELDS: [&str; 4] = [
    "volumeClaimTemplates",
    "serviceName",
    "podManagementPolicy",
    "selector",
];

pub fn check(change: &ObjectChange) -> Vec<Finding> {
    let Some((base, head)) = of_kind(change, "apps", "StatefulSet").and_then(modified) else {
        return Vec::new();
    };
    FIELDS
        .iter()
        .filter(|field| !unchanged(base, head, field))
        .map(|field| {
            Finding::new(
                &STATEFULSET_IMMUTABLE_FIELD_CHANGED,
                changed_location(base, head, &["spec", field]),
                format!(
                    "{} changes spec.{field}, which the API server refuses to update: applying fails until the StatefulSet is deleted with --cascade=orphan and recreated, and a git revert is refused the same way",
                    describe(change)
                ),
            )
            .with_help("plan the recreation (`kubectl delete statefulset <name> --cascade=orphan`, then reconcile); a revert would need it again")
        })
        .collect()
}

/// Whether a field holds the same value as the API server sees it: an
/// omitted `podManagementPolicy` is `OrderedReady`, an omitted
/// `volumeClaimTemplates` the empty list.
fn unchanged(base: &Object, head: &Object, field: &str) -> bool {
    let path = ["spec", field];
    match (base.at(&path), head.at(&path)) {
        (Some(before), Some(after)) => before.same_value(after),
        (None, None) => true,
        (Some(only), None) | (None, Some(only)) => match field {
            "podManagementPolicy" => only.scalar_text() == Some("OrderedReady"),
            "volumeClaimTemplates" => {
                only.is_null() || only.as_sequence().is_some_and(<[_]>::is_empty)
            }
            _ => false,
        },
    }
}
