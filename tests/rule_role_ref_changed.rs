//! `role-ref-changed`: a ClusterRoleBinding and a RoleBinding point at
//! other roles (two findings); new subjects and a reordered roleRef do not.
#![allow(clippy::unwrap_used)]

mod support;

use support::gitrepo::{check_json, findings, rule_ids};

/// `(file, line, column)` of every finding, in report order.
fn located(json: &serde_json::Value) -> Vec<(&str, u64, u64)> {
    findings(json)
        .iter()
        .map(|f| {
            (
                f["file"].as_str().unwrap(),
                f["line"].as_u64().unwrap(),
                f["column"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// Every finding has the rule's severity, says what a revert does, and says what to do.
fn assert_explained(json: &serde_json::Value, severity: &str) {
    for f in findings(json) {
        assert_eq!(f["severity"], severity, "{f:#}");
        let message = f["message"].as_str().unwrap();
        assert!(
            message.contains("git revert"),
            "the message says what a revert does: {message}"
        );
        assert!(f["help"].as_str().is_some_and(|h| !h.is_empty()), "{f:#}");
    }
}

#[test]
fn cluster_role_binding_and_role_binding_role_changes_are_refused() {
    let json = check_json("role-ref-changed", &[], 1);
    assert_eq!(rule_ids(&json), ["role-ref-changed", "role-ref-changed"]);
    let file = "infrastructure/rbac/platform-team.yaml";
    // `name: cluster-admin` in the first document, `kind: Role` in the second.
    assert_eq!(located(&json), [(file, 11, 9), (file, 24, 9)]);
    assert_explained(&json, "error");
    let messages: Vec<_> = findings(&json)
        .iter()
        .map(|f| f["message"].as_str().unwrap())
        .collect();
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
