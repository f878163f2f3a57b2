//! `crd-version-removed`: a CRD version dropped from `spec.versions`, or no longer served, is
//! an error, one per version; adding a version or moving storage is only `crd-changed`.
#![allow(clippy::unwrap_used)]

mod support;

use support::gitrepo::{check_json, messages, places, rule_ids};

#[test]
fn unserved_and_removed_versions_are_each_reported() {
    let json = check_json("crd-version-removed", &[], 1);
    let cert_manager = "infrastructure/crds/cert-manager.yaml";
    let image_reflector = "infrastructure/crds/image-reflector.yaml";
    assert_eq!(
        places(&json),
        [
            // certificates: v1alpha2 and v1beta1 flip to `served: false`, at each flag.
            ("crd-version-removed", cert_manager, 18, 15),
            ("crd-version-removed", cert_manager, 25, 15),
            // issuers: the unserved v1alpha2 entry is deleted, at the head's `spec.versions`.
            ("crd-version-removed", cert_manager, 54, 5),
            // imagepolicies: v1beta1 and the storage version v1beta2 are deleted.
            ("crd-version-removed", image_reflector, 16, 5),
            ("crd-version-removed", image_reflector, 16, 5),
        ]
    );
    // crd-changed leaves these CRDs to crd-version-removed.
    assert!(!rule_ids(&json).contains(&"crd-changed"));
    let m = messages(&json);
    assert!(
        m[0].contains("stops serving version v1alpha2")
            && m[0].contains("cert-manager.io/v1alpha2"),
        "{}",
        m[0]
    );
    assert!(m[1].contains("stops serving version v1beta1"), "{}", m[1]);
    // Nothing could use a version the base did not serve: only the storedVersions risk.
    assert!(
        m[2].contains(
            "removes version v1alpha2, which may still be listed in status.storedVersions"
        ),
        "{}",
        m[2]
    );
    assert!(!m[2].contains("if not"), "{}", m[2]);
    assert!(
        m[3].contains("removes version v1beta1, which may") && m[3].contains("if not"),
        "{}",
        m[3]
    );
    assert!(m[4].contains("v1beta2, its storage version"), "{}", m[4]);
    for message in m {
        assert!(
            message.contains("revert"),
            "says what a revert does: {message}"
        );
    }
    insta::assert_json_snapshot!("crd-version-removed", json["findings"]);
}

#[test]
fn an_added_version_or_an_already_unserved_one_is_only_a_change() {
    // imagepolicies adds v1 and moves storage to it; issuers keeps its unserved v1alpha2 and
    // adds a status schema to v1.
    let json = check_json("crd-version-removed-near-miss", &[], 0);
    assert_eq!(
        places(&json),
        [
            (
                "crd-changed",
                "infrastructure/crds/cert-manager.yaml",
                36,
                13
            ),
            (
                "crd-changed",
                "infrastructure/crds/image-reflector.yaml",
                18,
                16
            ),
        ]
    );
    let m = messages(&json);
    assert!(
        m[0].contains("changes spec.versions[1].schema.openAPIV3Schema.properties.status"),
        "{}",
        m[0]
    );
    assert!(
        m[1].contains("changes spec.versions[0].storage"),
        "{}",
        m[1]
    );
}
