//! `statefulset-immutable-field-changed`: a StatefulSet's service name and
//! claim template storage class change (two findings); a scale-out, an image
//! bump, a rolling-update switch and a defaulted or reformatted field do not.
#![allow(clippy::unwrap_used)]

mod support;

use support::gitrepo::{assert_explained, check_json, findings, located, messages, rule_ids};

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
    let messages = messages(&json);
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
