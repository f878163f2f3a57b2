//! `selector-changed`: a Deployment's and a DaemonSet's selectors change
//! (two findings); labels, template labels, replicas and image do not.
#![allow(clippy::unwrap_used)]

mod support;

use support::gitrepo::{assert_explained, check_json, findings, located, rule_ids};

#[test]
fn deployment_and_daemonset_selector_changes_are_refused() {
    let json = check_json("selector-changed", &[], 1);
    assert_eq!(rule_ids(&json), ["selector-changed", "selector-changed"]);
    // The key that is new in each selector's matchLabels.
    assert_eq!(
        located(&json),
        [
            ("apps/web/deployment.yaml", 12, 7),
            ("apps/web/log-shipper.yaml", 10, 7)
        ]
    );
    assert_explained(&json, "error");
    assert!(findings(&json)[0]["message"]
        .as_str()
        .unwrap()
        .starts_with("Deployment shop/web changes spec.selector"));
    assert!(findings(&json)[1]["message"]
        .as_str()
        .unwrap()
        .starts_with("DaemonSet shop/log-shipper changes spec.selector"));
    insta::assert_json_snapshot!("selector-changed", findings(&json));
}

#[test]
fn label_template_and_replica_changes_fire_nothing() {
    let json = check_json("selector-changed-near-miss", &[], 0);
    assert!(findings(&json).is_empty(), "{:#}", json["findings"]);
}
