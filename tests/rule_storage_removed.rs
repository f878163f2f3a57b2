//! `storage-removed`: a deleted PersistentVolume or StorageClass, and a change to an immutable
//! StorageClass field, are errors; mutable fields, defaults written out and moves are not.
#![allow(clippy::unwrap_used)]

mod support;

use support::gitrepo::{check_json, findings, places};

#[test]
fn deleted_volume_and_class_and_immutable_class_fields_are_errors() {
    let json = check_json("storage-removed", &[], 1);
    let classes = "infrastructure/storage/storageclasses.yaml";
    assert_eq!(
        places(&json),
        [
            // The deleted PersistentVolume, at its base-side name.
            (
                "storage-removed",
                "infrastructure/storage/nfs-media.yaml",
                4,
                9
            ),
            // gp3: new parameters and another reclaimPolicy, on the head side.
            ("storage-removed", classes, 10, 3),
            ("storage-removed", classes, 14, 16),
            // gp2 dropped from the same file: on the base side, where it was.
            ("storage-removed", classes, 19, 9),
        ]
    );
    let messages: Vec<&str> = findings(&json)
        .iter()
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert!(
        messages[0].starts_with("PersistentVolume nfs-media is deleted"),
        "{}",
        messages[0]
    );
    assert!(
        messages[1].starts_with("StorageClass gp3 changes parameters;"),
        "{}",
        messages[1]
    );
    assert!(
        messages[2].contains("changes reclaimPolicy from `Delete` to `Retain`"),
        "{}",
        messages[2]
    );
    assert!(
        messages[3].starts_with("StorageClass gp2 is deleted"),
        "{}",
        messages[3]
    );
    for message in messages {
        assert!(message.contains("revert"), "{message}");
    }
    insta::assert_json_snapshot!("storage-removed", json["findings"]);
}

#[test]
fn mutable_fields_defaults_labels_and_a_moved_volume_are_not_reported() {
    // allowVolumeExpansion flips, reclaimPolicy/volumeBindingMode defaults are written out,
    // parameters are reordered, a label is added; the PersistentVolume moves to another file.
    let json = check_json("storage-removed-near-miss", &[], 0);
    assert!(findings(&json).is_empty(), "{:#}", json["findings"]);
}
