//! `immutable-config-changed`: an immutable ConfigMap's data changes and an
//! immutable Secret is set `immutable: false` (two findings); a mutable
//! ConfigMap's data change, even one that becomes immutable, does not.
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
fn immutable_data_change_and_dropped_flag_are_refused() {
    let json = check_json("immutable-config-changed", &[], 1);
    let id = "immutable-config-changed";
    assert_eq!(rule_ids(&json), [id, id]);
    // The changed `FEATURE_CHECKOUT_V2: "true"` value, then `immutable: false`.
    assert_eq!(
        located(&json),
        [
            ("apps/api/config.yaml", 9, 24),
            ("apps/api/registry-mirror.yaml", 7, 12)
        ]
    );
    assert_explained(&json, "error");
    let messages: Vec<_> = findings(&json)
        .iter()
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert!(
        messages[0].starts_with("ConfigMap api/api-config is immutable and its data changes"),
        "{}",
        messages[0]
    );
    assert!(
        messages[1].starts_with("Secret api/registry-mirror is no longer marked `immutable: true`"),
        "{}",
        messages[1]
    );
    insta::assert_json_snapshot!("immutable-config-changed", findings(&json));
}

#[test]
fn mutable_config_changes_fire_nothing() {
    let json = check_json("immutable-config-changed-near-miss", &[], 0);
    assert!(findings(&json).is_empty(), "{:#}", json["findings"]);
}
