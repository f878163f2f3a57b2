//! `namespace-removed`: deleting a Namespace is an error at its base-side name; splitting a
//! file of Namespaces, or relabelling one, is not a deletion.
#![allow(clippy::unwrap_used)]

mod support;

use support::gitrepo::{check_json, findings, places};

#[test]
fn a_namespace_dropped_from_a_multi_document_file_is_an_error() {
    let json = check_json("namespace-removed", &[], 1);
    assert_eq!(
        places(&json),
        [(
            "namespace-removed",
            "infrastructure/namespaces/namespaces.yaml",
            12,
            9
        )]
    );
    let message = findings(&json)[0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("Namespace logging is deleted"),
        "{message}"
    );
    assert!(
        message.contains("a revert recreates only what Git holds"),
        "{message}"
    );
    insta::assert_json_snapshot!("namespace-removed", json["findings"]);
}

#[test]
fn namespaces_moved_to_their_own_files_and_relabelled_are_not_removed() {
    let json = check_json("namespace-removed-near-miss", &[], 0);
    assert!(findings(&json).is_empty(), "{:#}", json["findings"]);
}
