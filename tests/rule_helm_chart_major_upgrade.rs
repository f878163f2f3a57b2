//! `helm-chart-major-upgrade`: a 57.x to 58.0 and a 0.9 to 0.10 chart
//! upgrade (two notes, so the check passes); a minor bump and version ranges
//! do not.
#![allow(clippy::unwrap_used)]

mod support;

use support::gitrepo::{assert_explained, check_json, findings, located, messages, rule_ids};

#[test]
fn major_and_zero_minor_upgrades_are_notes() {
    let json = check_json("helm-chart-major-upgrade", &[], 0);
    let id = "helm-chart-major-upgrade";
    assert_eq!(rule_ids(&json), [id, id]);
    // The head's `version:` values (the first one quoted).
    assert_eq!(
        located(&json),
        [
            ("infrastructure/controllers/external-secrets.yaml", 11, 16),
            (
                "infrastructure/monitoring/kube-prometheus-stack.yaml",
                11,
                16
            ),
        ]
    );
    assert_explained(&json, "note");
    let messages = messages(&json);
    assert!(
        messages[0].contains("from 0.9.20 to 0.10.0"),
        "{}",
        messages[0]
    );
    assert!(
        messages[1].contains("from 57.2.0 to 58.0.0"),
        "{}",
        messages[1]
    );
    assert_eq!(json["summary"]["notes"], 2);
    insta::assert_json_snapshot!("helm-chart-major-upgrade", findings(&json));
}

#[test]
fn minor_bump_and_version_ranges_fire_nothing() {
    // ingress-nginx 4.10.1 -> 4.11.2; loki `>=5.0.0 <6.0.0` -> `>=6.0.0 <7.0.0`;
    // promtail `6.x` -> `7.0.0` (one side is a range, so nothing is compared).
    let json = check_json("helm-chart-major-upgrade-near-miss", &[], 0);
    assert!(findings(&json).is_empty(), "{:#}", json["findings"]);
}
