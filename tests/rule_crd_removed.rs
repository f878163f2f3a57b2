//! `crd-removed`: deleting a CustomResourceDefinition is reported on the base side, where its
//! name was; moving one to another file, or editing it, is not a deletion.
#![allow(clippy::unwrap_used)]

mod support;

use support::gitrepo::{check_json, findings, places, rule_ids};

#[test]
fn a_crd_dropped_from_a_multi_document_file_is_an_error_at_its_base_name() {
    let json = check_json("crd-removed", &[], 1);
    // `schedules.velero.io` was the second document; `backups.velero.io` stays.
    assert_eq!(
        places(&json),
        [("crd-removed", "infrastructure/crds/velero.yaml", 43, 9)]
    );
    let finding = &findings(&json)[0];
    assert_eq!(finding["severity"], "error");
    let message = finding["message"].as_str().unwrap();
    assert!(
        message.contains("CustomResourceDefinition schedules.velero.io"),
        "{message}"
    );
    assert!(
        message.contains("`Schedule`"),
        "names the kind users know: {message}"
    );
    assert!(
        message.contains("revert"),
        "says what a revert cannot undo: {message}"
    );
    assert!(finding["help"]
        .as_str()
        .unwrap()
        .contains("kustomize.toolkit.fluxcd.io/prune: disabled"));
    assert_eq!(json["summary"]["errors"], 1);
    insta::assert_json_snapshot!("crd-removed", json["findings"]);
}

#[test]
fn a_moved_crd_is_not_removed_and_a_description_edit_is_only_a_change() {
    // ingressroutes.traefik.io moves to another file unchanged; backups.velero.io only gets a
    // new description: a warning of crd-changed, and nothing of the other CRD rules.
    let json = check_json("crd-removed-near-miss", &[], 0);
    assert_eq!(rule_ids(&json), ["crd-changed"]);
    assert_eq!(
        places(&json),
        [("crd-changed", "infrastructure/crds/backups.yaml", 25, 32)]
    );
    let message = findings(&json)[0]["message"].as_str().unwrap();
    assert!(
        message.contains(
            "spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.ttl.description"
        ),
        "{message}"
    );
}
