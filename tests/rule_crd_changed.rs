//! `crd-changed`: any other change of a CRD's spec is a warning at the first field that
//! differs; metadata-only changes and reordered keys are not changes.
#![allow(clippy::unwrap_used)]

mod support;

use support::gitrepo::{check_json, findings, places};

#[test]
fn a_schema_field_swap_and_a_new_conversion_webhook_are_warnings() {
    let json = check_json("crd-changed", &[], 0);
    assert_eq!(
        places(&json),
        [
            // The added `conversion` key.
            (
                "crd-changed",
                "infrastructure/crds/externalsecrets.yaml",
                25,
                3
            ),
            // `method` replaces `immediate`: the first field of head that differs.
            (
                "crd-changed",
                "infrastructure/crds/scheduledbackups.yaml",
                34,
                17
            ),
        ]
    );
    let f = findings(&json);
    assert!(f.iter().all(|f| f["severity"] == "warning"));
    let conversion = f[0]["message"].as_str().unwrap();
    assert!(
        conversion.contains("externalsecrets.external-secrets.io changes spec.conversion:"),
        "{conversion}"
    );
    let schema = f[1]["message"].as_str().unwrap();
    assert!(
        schema.contains(
            "changes spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.method:"
        ),
        "{schema}"
    );
    for finding in f {
        let message = finding["message"].as_str().unwrap();
        assert!(
            message.contains("revert restores the definition but not fields"),
            "{message}"
        );
    }
    assert_eq!(json["summary"]["warnings"], 2);
    insta::assert_json_snapshot!("crd-changed", json["findings"]);
}

#[test]
fn labels_annotations_and_reordered_spec_keys_are_not_a_change() {
    let json = check_json("crd-changed-near-miss", &[], 0);
    assert!(findings(&json).is_empty(), "{:#}", json["findings"]);
}
