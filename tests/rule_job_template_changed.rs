//! `job-template-changed`: a migration Job's image changes (a warning, so
//! the check passes); a Job's labels and TTL and a CronJob's template do not.
#![allow(clippy::unwrap_used)]

mod support;

use support::gitrepo::{check_json, findings, rule_ids};

/// `(file, line, column)` of every finding, in report order.
fn located(json: &serde_json::Value) -> Vec<(&str, u64, u64)> {
    findings(json)
        .iter()
        .map(|f| {
            (
                f["file"].as_str().unwrap(),
                f["line"].as_u64().unwrap(),
                f["column"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// Every finding has the rule's severity, says what a revert does, and says what to do.
fn assert_explained(json: &serde_json::Value, severity: &str) {
    for f in findings(json) {
        assert_eq!(f["severity"], severity, "{f:#}");
        let message = f["message"].as_str().unwrap();
        assert!(
            message.contains("git revert"),
            "the message says what a revert does: {message}"
        );
        assert!(f["help"].as_str().is_some_and(|h| !h.is_empty()), "{f:#}");
    }
}

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
