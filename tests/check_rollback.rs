//! The rollback-safety acceptance case: a PR that deletes a CRD, grows a
//! PVC and edits a StatefulSet's volumeClaimTemplates; then the same PR
//! with a reasoned ignore comment on the PVC.
#![allow(clippy::unwrap_used)]

mod support;

use support::gitrepo::{check, check_json, places};

#[test]
fn crd_deleted_pvc_grown_statefulset_templates_edited() {
    let json = check_json("rollback-unsafe-pr", &[], 1);
    assert_eq!(
        places(&json),
        [
            ("pvc-resized", "apps/db/pvc.yaml", 11, 16),
            (
                "statefulset-immutable-field-changed",
                "apps/db/statefulset.yaml",
                27,
                22
            ),
            ("crd-removed", "infrastructure/crds/backups.yaml", 4, 9),
        ]
    );
    for f in json["findings"].as_array().unwrap() {
        let message = f["message"].as_str().unwrap();
        assert!(
            message.contains("revert"),
            "every message says what a revert does: {message}"
        );
    }
    insta::assert_json_snapshot!("rollback-unsafe-pr", json["findings"]);
}

#[test]
fn a_reasoned_ignore_comment_suppresses_the_pvc_finding() {
    let json = check_json("rollback-unsafe-pr-suppressed", &[], 1);
    let rules: Vec<&str> = places(&json).into_iter().map(|f| f.0).collect();
    assert_eq!(
        rules,
        ["statefulset-immutable-field-changed", "crd-removed"]
    );
    assert_eq!(json["summary"]["suppressed"], 1);
    assert_eq!(json["summary"]["errors"], 2);
    // --no-ignores reports it again.
    let json = check_json("rollback-unsafe-pr-suppressed", &["--no-ignores"], 1);
    assert_eq!(places(&json).len(), 3);
    assert_eq!(json["summary"]["suppressed"], 0);
}

#[test]
fn human_output_shows_base_side_removals_with_their_snippet() {
    let run = check("rollback-unsafe-pr", &["--offline"]);
    assert_eq!(run.code, Some(1));
    assert!(
        run.stdout
            .contains("infrastructure/crds/backups.yaml:4:9 (base)"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("name: backups.db.example.com"),
        "{}",
        run.stdout
    );
}
