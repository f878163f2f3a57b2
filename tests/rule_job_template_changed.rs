//! `job-template-changed`: a migration Job's image changes (a warning, so
//! the check passes); a Job's labels and TTL and a CronJob's template do not.
#![allow(clippy::unwrap_used)]

mod support;

use support::gitrepo::{assert_explained, check_json, findings, located, rule_ids};

#[test]
fn job_image_bump_is_a_warning() {
    let json = check_json("job-template-changed", &[], 0);
    assert_eq!(rule_ids(&json), ["job-template-changed"]);
    // The changed `image:` value inside the pod template.
    assert_eq!(located(&json), [("apps/api/db-migrate.yaml", 13, 18)]);
    assert_explained(&json, "warning");
    let message = findings(&json)[0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("Job api/db-migrate changes spec.template"),
        "{message}"
    );
    assert!(message.contains("force: true"), "{message}");
    assert_eq!(json["summary"]["warnings"], 1);
    insta::assert_json_snapshot!("job-template-changed", findings(&json));
}

#[test]
fn job_metadata_and_cronjob_template_changes_fire_nothing() {
    let json = check_json("job-template-changed-near-miss", &[], 0);
    assert!(findings(&json).is_empty(), "{:#}", json["findings"]);
}
