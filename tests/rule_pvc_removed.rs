//! `pvc-removed`: deleting a PersistentVolumeClaim is an error at its base-side name; moving it
//! to another file is not a deletion.
#![allow(clippy::unwrap_used)]

mod support;

use support::gitrepo::{check_json, findings, places};

#[test]
fn a_deleted_claim_is_an_error() {
    let json = check_json("pvc-removed", &[], 1);
    assert_eq!(
        places(&json),
        [("pvc-removed", "apps/uptime-kuma/pvc.yaml", 5, 9)]
    );
    let message = findings(&json)[0]["message"].as_str().unwrap();
    assert!(
        message.contains("PersistentVolumeClaim monitoring/uptime-kuma-data is deleted"),
        "{message}"
    );
    assert!(
        message.contains("a revert creates a new, empty claim"),
        "{message}"
    );
    insta::assert_json_snapshot!("pvc-removed", json["findings"]);
}

#[test]
fn a_claim_moved_to_another_file_is_not_removed() {
    // Same claim, new path, keys reordered and accessModes in flow style.
    let json = check_json("pvc-removed-near-miss", &[], 0);
    assert!(findings(&json).is_empty(), "{:#}", json["findings"]);
}
