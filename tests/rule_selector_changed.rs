//! `selector-changed`: a Deployment's and a DaemonSet's selectors change
//! (two findings); labels, template labels, replicas and image do not.
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
