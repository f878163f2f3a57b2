//! `service-cluster-ip-changed`: an existing Service asks for another cluster IP.

use super::support::{describe, location, modified, of_kind};
use crate::finding::Finding;
use crate::pairs::{Object, ObjectChange};
use crate::yaml::Node;

declare_rule! {
    /// ## What it checks
    /// An existing Service whose `spec.clusterIP` or `spec.clusterIPs` asks
    /// for another address than before, including setting one where the base
    /// had none (the API server had allocated one) and switching to or from
    /// headless (`None`). Removing the field is fine: the allocated address
    /// is kept. Adding a second address for dual-stack is fine, and so is a
    /// switch to or from `type: ExternalName`, which has no cluster IP.
    ///
    /// ## Why it matters
    /// A Service's cluster IP cannot change once allocated: the API server
    /// refuses the update (`field is immutable`) and the Flux Kustomization
    /// fails. The Service must be deleted and recreated, which gives it a new
    /// address that clients and DNS caches learn late. A `git revert` is
    /// refused the same way and needs the same recreation.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   clusterIP: None   # was not set: the Service becomes headless
    /// ```
    ///
    /// ## How to fix
    /// Leave `clusterIP` out unless you must pin it. To make a Service
    /// headless, create a new Service under another name and move clients
    /// to it.
    SERVICE_CLUSTER_IP_CHANGED { id: "service-cluster-ip-changed", severity: Error, summary: "a Service's cluster IP changes: the API server refuses it" }
}

pub fn check(change: &ObjectChange) -> Vec<Finding> {
    let Some((base, head)) = of_kind(change, "", "Service").and_then(modified) else {
        return Vec::new();
    };
    let external =
        |o: &Object| o.at(&["spec", "type"]).and_then(Node::scalar_text) == Some("ExternalName");
    if external(base) || external(head) {
        return Vec::new();
    }
    let before = addresses(base);
    let old_at = |index| {
        before
            .iter()
            .find(|b| b.0 == index)
            .and_then(|b| b.2.scalar_text())
    };
    let changed = addresses(head)
        .into_iter()
        .find(|&(index, _, node)| match old_at(index) {
            Some(old) => Some(old) != node.scalar_text(),
            // Only the first address is immutable; a second one may be added (dual-stack).
            None => index == 0,
        });
    let Some((index, field, node)) = changed else {
        return Vec::new();
    };
    let old = old_at(index).map_or_else(
        || "the allocated address".to_string(),
        |ip| format!("`{ip}`"),
    );
    let new = node.scalar_text().unwrap_or_default();
    vec![Finding::new(
        &SERVICE_CLUSTER_IP_CHANGED,
        location(head, node),
        format!(
            "{} changes {field} from {old} to `{new}`: a cluster IP is immutable, so the API server refuses the apply until the Service is deleted and recreated with a new address, and a git revert needs the same recreation",
            describe(change)
        ),
    )
    .with_help("leave the cluster IP as it is (or out); to change it, create a new Service and move clients to it")]
}

/// The addresses a side asks for, by position (`clusterIP` is the first):
/// empty and null values ask for nothing.
fn addresses(object: &Object) -> Vec<(usize, String, &Node)> {
    let single = object
        .at(&["spec", "clusterIP"])
        .map(|n| (0, "spec.clusterIP".to_string(), n));
    let list = object
        .at(&["spec", "clusterIPs"])
        .and_then(Node::as_sequence)
        .unwrap_or_default();
    let listed = list
        .iter()
        .enumerate()
        .map(|(i, n)| (i, format!("spec.clusterIPs[{i}]"), n));
    single
        .into_iter()
        .chain(listed)
        .filter(|(_, _, n)| !n.is_null() && n.scalar_text().is_some_and(|t| !t.is_empty()))
        .collect()
}
