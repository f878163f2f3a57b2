//! `role-ref-changed`: a ClusterRoleBinding and a RoleBinding point at
//! other roles (two findings); new subjects and a reordered roleRef do not.
#![allow(clippy::unwrap_used)]

mod support;

use support::gitrepo::{assert_explained, check_json, findings, located, messages, rule_ids};

#[test]
fn cluster_role_binding_and_role_binding_role_changes_are_refused() {
    let json = check_json("role-ref-changed", &[], 1);
    assert_eq!(rule_ids(&json), ["role-ref-changed", "role-ref-changed"]);
    let file = "infrastructure/rbac/platform-team.yaml";
    // `name: cluster-admin` in the first document, `kind: Role` in the second.
    assert_eq!(located(&json), [(file, 11, 9), (file, 24, 9)]);
    assert_explained(&json, "error");
    let messages = messages(&json);
    assert!(
        messages[0].contains("from ClusterRole `view` to ClusterRole `cluster-admin`"),
        "{}",
        messages[0]
    );
    assert!(
        messages[1].contains("from ClusterRole `admin` to Role `flux-apps-reconciler`"),
        "{}",
        messages[1]
    );
    insta::assert_json_snapshot!("role-ref-changed", findings(&json));
}

#[test]
fn subjects_change_and_reordered_role_ref_fire_nothing() {
    let json = check_json("role-ref-changed-near-miss", &[], 0);
    assert!(findings(&json).is_empty(), "{:#}", json["findings"]);
}
