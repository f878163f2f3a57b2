//! `service-cluster-ip-changed`: a Service turned headless and a pinned
//! address changed (two findings); a port change, a dropped pinned address
//! and a switch to `type: ExternalName` do not.
#![allow(clippy::unwrap_used)]

mod support;

use support::gitrepo::{assert_explained, check_json, findings, located, messages, rule_ids};

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
    let messages = messages(&json);
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
