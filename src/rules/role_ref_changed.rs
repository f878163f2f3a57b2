//! `role-ref-changed`: a RoleBinding or ClusterRoleBinding points at another role.

use super::support::{changed_location, describe, differs, modified, of_kind};
use crate::finding::Finding;
use crate::pairs::{Object, ObjectChange};

declare_rule! {
    /// ## What it checks
    /// A RoleBinding or ClusterRoleBinding whose `roleRef` changes. Changes
    /// to `subjects` are fine.
    ///
    /// ## Why it matters
    /// `roleRef` is immutable: the API server refuses the update (`cannot
    /// change roleRef`) and the Flux Kustomization fails. The binding must be
    /// deleted and recreated, and its subjects lose the access it grants in
    /// between. A `git revert` is refused the same way and needs the same
    /// recreation.
    ///
    /// ## Example
    /// ```yaml
    /// roleRef:
    ///   apiGroup: rbac.authorization.k8s.io
    ///   kind: ClusterRole
    ///   name: edit   # was view
    /// ```
    ///
    /// ## How to fix
    /// Create a new binding under a new name for the new role and delete the
    /// old one, in the same pull request: both are then created and deleted,
    /// never updated, and a revert works the same way.
    ROLE_REF_CHANGED { id: "role-ref-changed", severity: Error, summary: "a role binding's roleRef changes: the API server refuses it" }
}

pub fn check(change: &ObjectChange) -> Vec<Finding> {
    const GROUP: &str = "rbac.authorization.k8s.io";
    let binding = of_kind(change, GROUP, "RoleBinding")
        .or_else(|| of_kind(change, GROUP, "ClusterRoleBinding"));
    let Some((base, head)) = binding.and_then(modified) else {
        return Vec::new();
    };
    if !differs(base, head, &["roleRef"]) {
        return Vec::new();
    }
    vec![Finding::new(
        &ROLE_REF_CHANGED,
        changed_location(base, head, &["roleRef"]),
        format!(
            "{} changes roleRef from {} to {}, which is immutable: the API server refuses the apply until the binding is deleted and recreated, and a git revert needs the same recreation",
            describe(change),
            role(base),
            role(head)
        ),
    )
    .with_help("bind the new role under a new binding name and delete the old binding")]
}

/// `ClusterRole view`, for messages.
fn role(object: &Object) -> String {
    let text = |key| {
        object
            .at(&["roleRef", key])
            .and_then(|n| n.scalar_text())
            .unwrap_or("?")
    };
    format!("{} `{}`", text("kind"), text("name"))
}
