//! `immutable-config-changed`: an immutable ConfigMap's data changes and an
//! immutable Secret is set `immutable: false` (two findings); a mutable
//! ConfigMap's data change, even one that becomes immutable, does not.
#![allow(clippy::unwrap_used)]

mod support;

use support::gitrepo::{assert_explained, check_json, findings, located, messages, rule_ids};

#[test]
fn immutable_data_change_and_dropped_flag_are_refused() {
    let json = check_json("immutable-config-changed", &[], 1);
    let id = "immutable-config-changed";
    assert_eq!(rule_ids(&json), [id, id]);
    // The changed `FEATURE_CHECKOUT_V2: "true"` value, then `immutable: false`.
    assert_eq!(
        located(&json),
        [
            ("apps/api/config.yaml", 9, 24),
            ("apps/api/registry-mirror.yaml", 7, 12)
        ]
    );
    assert_explained(&json, "error");
    let messages = messages(&json);
    assert!(
        messages[0].starts_with("ConfigMap api/api-config is immutable and its data changes"),
        "{}",
        messages[0]
    );
    assert!(
        messages[1].starts_with("Secret api/registry-mirror is no longer marked `immutable: true`"),
        "{}",
        messages[1]
    );
    insta::assert_json_snapshot!("immutable-config-changed", findings(&json));
}

#[test]
fn mutable_config_changes_fire_nothing() {
    let json = check_json("immutable-config-changed-near-miss", &[], 0);
    assert!(findings(&json).is_empty(), "{:#}", json["findings"]);
}
