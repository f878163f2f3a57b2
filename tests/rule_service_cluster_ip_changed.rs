//! `service-cluster-ip-changed`: a Service turned headless and a pinned
//! address changed (two findings); a port change, a dropped pinned address
//! and a switch to `type: ExternalName` do not.
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
fn headless_switch_and_new_pinned_address_are_refused() {
    let json = check_json("service-cluster-ip-changed", &[], 1);
    let id = "service-cluster-ip-changed";
    assert_eq!(rule_ids(&json), [id, id]);
    // `clusterIP: None`, then `clusterIP: 10.96.0.54`: one finding per Service, though
    // `clusterIPs` changes with it.
    assert_eq!(
        located(&json),
        [
            ("apps/db/service.yaml", 7, 14),
            ("infrastructure/dns/service.yaml", 10, 14)
        ]
    );
    assert_explained(&json, "error");
    let messages: Vec<_> = findings(&json)
        .iter()
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert!(
        messages[0].contains("from the allocated address to `None`"),
        "{}",
        messages[0]
    );
    assert!(
        messages[1].contains("from `10.96.0.53` to `10.96.0.54`"),
        "{}",
        messages[1]
    );
    insta::assert_json_snapshot!("service-cluster-ip-changed", findings(&json));
}

#[test]
fn port_change_dropped_address_and_external_name_fire_nothing() {
    let json = check_json("service-cluster-ip-changed-near-miss", &[], 0);
    assert!(findings(&json).is_empty(), "{:#}", json["findings"]);
}
