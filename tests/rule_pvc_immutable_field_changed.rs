//! `pvc-immutable-field-changed`: one error per immutable claim field that changes, is set or
//! is removed; explicit defaults, reordering and metadata are not changes.
#![allow(clippy::unwrap_used)]

mod support;

use support::gitrepo::{check_json, findings, places};

#[test]
fn storage_class_access_modes_volume_name_and_data_source_changes_are_errors() {
    let json = check_json("pvc-immutable-field-changed", &[], 1);
    let rule = "pvc-immutable-field-changed";
    assert_eq!(
        places(&json),
        [
            // dataSource is gone from the head: the finding points at the `spec:` key.
            (rule, "apps/jellyfin/pvc.yaml", 6, 1),
            // volumeName was unset: setting it binds the claim to a given volume.
            (rule, "apps/jellyfin/pvc.yaml", 9, 15),
            (rule, "apps/postgres/pvc.yaml", 9, 21),
            (rule, "apps/postgres/pvc.yaml", 11, 5),
        ]
    );
    let messages: Vec<&str> = findings(&json)
        .iter()
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert!(
        messages[0].contains("media/jellyfin-config removes spec.dataSource"),
        "{}",
        messages[0]
    );
    assert!(
        messages[1].contains("sets spec.volumeName to `jellyfin-config-nfs`"),
        "{}",
        messages[1]
    );
    assert!(
        messages[2].contains(
            "database/data-postgres changes spec.storageClassName from `standard` to `fast-ssd`"
        ),
        "{}",
        messages[2]
    );
    assert!(
        messages[3].contains("changes spec.accessModes"),
        "{}",
        messages[3]
    );
    for message in messages {
        assert!(
            message.contains("refuses the update") && message.contains("reverted"),
            "{message}"
        );
        assert!(
            message.contains("force: true"),
            "warns about forced recreation: {message}"
        );
    }
    insta::assert_json_snapshot!("pvc-immutable-field-changed", json["findings"]);
}

#[test]
fn labels_explicit_default_volume_mode_and_rewritten_values_are_not_changes() {
    // Labels and an annotation added, `volumeMode: Filesystem` (the default) written out,
    // accessModes in flow style, storageClassName quoted, keys reordered.
    let json = check_json("pvc-immutable-field-changed-near-miss", &[], 0);
    assert!(findings(&json).is_empty(), "{:#}", json["findings"]);
}
