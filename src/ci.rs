//! CI auto-detection: which base and head a CI job is about, when
//! `--base`/`--head` are not given. GitHub Actions: the event payload
//! (`pull_request.base.sha`/`head.sha`; on `push`, `before`/`after`).
//! GitLab CI: `CI_MERGE_REQUEST_DIFF_BASE_SHA` and `CI_COMMIT_SHA`.

/// Revisions found in the environment, and where they came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detected {
    /// `None` on a push that creates a branch (no "before").
    pub base: Option<String>,
    pub head: String,
    pub why: String,
}

/// Looks at the environment through `var`, so tests need not change it.
pub fn detect(var: &dyn Fn(&str) -> Option<String>) -> Result<Option<Detected>, String> {
    if var("GITHUB_ACTIONS").as_deref() == Some("true") {
        if let Some(path) = var("GITHUB_EVENT_PATH") {
            let event = var("GITHUB_EVENT_NAME").unwrap_or_default();
            return github(&path, &event);
        }
    }
    if var("GITLAB_CI").as_deref() == Some("true") {
        if let (Some(base), Some(head)) =
            (var("CI_MERGE_REQUEST_DIFF_BASE_SHA"), var("CI_COMMIT_SHA"))
        {
            return Ok(Some(Detected {
                base: Some(base),
                head,
                why: "GitLab merge request (CI_MERGE_REQUEST_DIFF_BASE_SHA..CI_COMMIT_SHA)".into(),
            }));
        }
    }
    Ok(None)
}

fn github(path: &str, event: &str) -> Result<Option<Detected>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read GITHUB_EVENT_PATH {path}: {e}"))?;
    let payload: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| format!("GITHUB_EVENT_PATH {path} is not JSON: {e}"))?;
    let text_at = |pointer: &str| {
        payload
            .pointer(pointer)
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    match event {
        "pull_request" | "pull_request_target" => {
            let (Some(base), Some(head)) = (
                text_at("/pull_request/base/sha"),
                text_at("/pull_request/head/sha"),
            ) else {
                return Err(format!(
                    "the {event} event payload has no pull_request.base.sha / head.sha"
                ));
            };
            Ok(Some(Detected {
                base: Some(base),
                head,
                why: format!("GitHub {event} event (base.sha..head.sha)"),
            }))
        }
        "push" => {
            let Some(head) = text_at("/after") else {
                return Err("the push event payload has no `after`".into());
            };
            // A new branch has no "before": an all-zero id.
            let base = text_at("/before").filter(|b| !b.chars().all(|c| c == '0'));
            Ok(Some(Detected {
                base,
                head,
                why: "GitHub push event (before..after)".into(),
            }))
        }
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn detect_with(vars: &[(&str, &str)]) -> Result<Option<Detected>, String> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        detect(&|name| map.get(name).cloned())
    }

    #[test]
    fn github_pull_request_push_and_other_events() {
        let dir = tempfile::tempdir().unwrap();
        let event = dir.path().join("event.json");
        let path = event.to_str().unwrap();
        std::fs::write(
            &event,
            r#"{"pull_request": {"base": {"sha": "b1"}, "head": {"sha": "h1"}}}"#,
        )
        .unwrap();
        let found = detect_with(&[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_EVENT_PATH", path),
            ("GITHUB_EVENT_NAME", "pull_request"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(
            (found.base.as_deref(), found.head.as_str()),
            (Some("b1"), "h1")
        );

        std::fs::write(
            &event,
            r#"{"before": "0000000000000000000000000000000000000000", "after": "a2"}"#,
        )
        .unwrap();
        let found = detect_with(&[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_EVENT_PATH", path),
            ("GITHUB_EVENT_NAME", "push"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!((found.base, found.head.as_str()), (None, "a2"));

        let none = detect_with(&[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_EVENT_PATH", path),
            ("GITHUB_EVENT_NAME", "schedule"),
        ])
        .unwrap();
        assert_eq!(none, None);

        std::fs::write(&event, "{").unwrap();
        assert!(detect_with(&[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_EVENT_PATH", path),
            ("GITHUB_EVENT_NAME", "push")
        ])
        .is_err());
    }

    #[test]
    fn gitlab_merge_requests_only_and_nothing_outside_ci() {
        let found = detect_with(&[
            ("GITLAB_CI", "true"),
            ("CI_MERGE_REQUEST_DIFF_BASE_SHA", "b"),
            ("CI_COMMIT_SHA", "h"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(
            (found.base.as_deref(), found.head.as_str()),
            (Some("b"), "h")
        );
        assert_eq!(
            detect_with(&[("GITLAB_CI", "true"), ("CI_COMMIT_SHA", "h")]).unwrap(),
            None
        );
        assert_eq!(detect_with(&[]).unwrap(), None);
    }
}
