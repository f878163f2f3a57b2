//! `pvc-resized`: a claim that grows is a warning at its storage request; the same size
//! written in other units is not a change.
#![allow(clippy::unwrap_used)]

mod support;

use support::gitrepo::{check_json, findings, places};

#[test]
fn growing_claims_are_warnings_in_binary_and_decimal_units() {
    // prometheus 50Gi -> 100Gi; loki 10Gi -> 12G (12e9 bytes, more than 10Gi).
    let json = check_json("pvc-resized", &[], 0);
    assert_eq!(
        places(&json),
        [
            ("pvc-resized", "apps/loki/pvc.yaml", 14, 16),
            ("pvc-resized", "apps/prometheus/pvc.yaml", 14, 16),
        ]
    );
    let f = findings(&json);
    assert!(f.iter().all(|f| f["severity"] == "warning"));
    let loki = f[0]["message"].as_str().unwrap();
    assert!(
        loki.contains("logging/loki-storage grows from 10Gi to 12G"),
        "{loki}"
    );
    assert!(loki.contains("a revert to 10Gi will be refused"), "{loki}");
    assert_eq!(json["summary"]["warnings"], 2);
    insta::assert_json_snapshot!("pvc-resized", json["findings"]);
}

#[test]
fn the_same_size_in_other_units_and_a_label_change_are_not_resizes() {
    // prometheus 10Gi -> 10240Mi (equal); loki only changes a label.
    let json = check_json("pvc-resized-near-miss", &[], 0);
    assert!(findings(&json).is_empty(), "{:#}", json["findings"]);
}
