//! `statefulset-immutable-field-changed`: a StatefulSet's service name and
//! claim template storage class change (two findings); a scale-out, an image
//! bump, a rolling-update switch and a defaulted or reformatted field do not.
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
fn service_name_and_claim_template_changes_are_refused() {
    let json = check_json("statefulset-immutable-field-changed", &[], 1);
    let id = "statefulset-immutable-field-changed";
    assert_eq!(rule_ids(&json), [id, id]);
    let file = "apps/db/statefulset.yaml";
    // `serviceName: postgres`, then the claim template's `storageClassName: fast-ssd`;
    // the replicas and image changes beside them fire nothing.
    assert_eq!(located(&json), [(file, 9, 16), (file, 33, 27)]);
    assert_explained(&json, "error");
    let messages: Vec<_> = findings(&json)
        .iter()
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert!(messages[0].contains("spec.serviceName"), "{}", messages[0]);
    assert!(
        messages[1].contains("spec.volumeClaimTemplates"),
        "{}",
        messages[1]
    );
    insta::assert_json_snapshot!("statefulset-immutable-field-changed", findings(&json));
}

#[test]
fn replicas_template_update_strategy_and_defaults_fire_nothing() {
    // Also: `podManagementPolicy: OrderedReady` (the default) is added, and the claim
    // template is only rewritten (block `accessModes`, quoted `"2Gi"`).
    let json = check_json("statefulset-immutable-field-changed-near-miss", &[], 0);
    assert!(findings(&json).is_empty(), "{:#}", json["findings"]);
}
