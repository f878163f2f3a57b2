//! The pre-push hook for real: `fluxgate hook install` in a clone, then
//! `git push` to a local bare remote is blocked by an unsafe change and
//! allowed once it is fixed. Also CI auto-detection and `--fail-on`.
#![allow(clippy::unwrap_used)]

mod support;

use std::path::Path;
use std::process::Command;
use support::gitrepo::{fluxgate, repo_from_fixture, rev_sha};

fn git(dir: &Path, args: &[&str]) -> std::process::Output {
    let output = Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
        .args(args)
        .env_remove("GIT_DIR")
        .output()
        .unwrap();
    output
}

fn ok(dir: &Path, args: &[&str]) {
    let output = git(dir, args);
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn push_is_blocked_by_the_hook_then_allowed() {
    let work = tempfile::tempdir().unwrap();
    let remote = work.path().join("remote.git");
    ok(
        work.path(),
        &[
            "init",
            "--quiet",
            "--bare",
            "-b",
            "main",
            remote.to_str().unwrap(),
        ],
    );
    let clone = work.path().join("clone");
    ok(
        work.path(),
        &["init", "--quiet", "-b", "main", clone.to_str().unwrap()],
    );
    let pvc = "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: data\n  namespace: db\nspec:\n  accessModes: [ReadWriteOnce]\n  resources:\n    requests:\n      storage: 10Gi\n";
    std::fs::write(clone.join("pvc.yaml"), pvc).unwrap();
    ok(&clone, &["add", "-A"]);
    ok(&clone, &["commit", "--quiet", "-m", "base"]);
    ok(
        &clone,
        &["remote", "add", "origin", remote.to_str().unwrap()],
    );
    ok(&clone, &["push", "--quiet", "origin", "main"]);

    let installed = fluxgate()
        .args(["hook", "install", "--repo"])
        .arg(&clone)
        .args(["--", "--offline"])
        .output()
        .unwrap();
    assert!(
        installed.status.success(),
        "{}",
        String::from_utf8_lossy(&installed.stderr)
    );
    let again = fluxgate()
        .args(["hook", "install", "--repo"])
        .arg(&clone)
        .output()
        .unwrap();
    assert_eq!(
        again.status.code(),
        Some(2),
        "an existing hook is not replaced without --force"
    );

    // Shrinking a claim: the API server would refuse it (pvc-shrunk, an error).
    std::fs::write(clone.join("pvc.yaml"), pvc.replace("10Gi", "5Gi")).unwrap();
    ok(&clone, &["commit", "--quiet", "-am", "shrink"]);
    let blocked = git(&clone, &["push", "origin", "main"]);
    assert!(!blocked.status.success(), "the push must be blocked");
    let said = String::from_utf8_lossy(&blocked.stderr).to_string()
        + &String::from_utf8_lossy(&blocked.stdout);
    assert!(said.contains("pvc-shrunk"), "{said}");
    let remote_main = git(&remote, &["rev-parse", "main"]);
    assert_eq!(
        String::from_utf8_lossy(&remote_main.stdout).trim(),
        rev_sha(&clone, "HEAD~1"),
        "the remote did not move"
    );

    // Fixed: the push goes through.
    std::fs::write(
        clone.join("pvc.yaml"),
        pvc.replace("10Gi", "10Gi\n      # sized for a year of data"),
    )
    .unwrap();
    ok(&clone, &["commit", "--quiet", "-am", "keep the size"]);
    let allowed = git(&clone, &["push", "origin", "main"]);
    assert!(
        allowed.status.success(),
        "{}",
        String::from_utf8_lossy(&allowed.stderr)
    );

    // A new branch is checked against the remote's default branch.
    ok(&clone, &["checkout", "--quiet", "-b", "shrink-again"]);
    std::fs::write(clone.join("pvc.yaml"), pvc.replace("10Gi", "1Gi")).unwrap();
    ok(&clone, &["commit", "--quiet", "-am", "shrink again"]);
    assert!(!git(&clone, &["push", "origin", "shrink-again"])
        .status
        .success());
    // Deleting a remote branch checks nothing.
    ok(
        &clone,
        &["push", "--quiet", "--no-verify", "origin", "shrink-again"],
    );
    ok(
        &clone,
        &["push", "--quiet", "origin", "--delete", "shrink-again"],
    );
}

#[test]
fn github_and_gitlab_environments_choose_base_and_head() {
    let repo = repo_from_fixture("image-bump-deployment");
    let base = rev_sha(repo.path(), "main");
    let head = rev_sha(repo.path(), "feature");
    // Leave HEAD on main: only the environment can name the head.
    ok(repo.path(), &["symbolic-ref", "HEAD", "refs/heads/main"]);
    let dir = tempfile::tempdir().unwrap();
    let event = dir.path().join("event.json");
    std::fs::write(
        &event,
        format!(
            r#"{{"pull_request": {{"base": {{"sha": "{base}"}}, "head": {{"sha": "{head}"}}}}}}"#
        ),
    )
    .unwrap();
    let run = |envs: &[(&str, &str)]| {
        let output = fluxgate()
            .args(["check", "--offline", "--format", "json", "--repo"])
            .arg(repo.path())
            .envs(envs.iter().copied())
            .output()
            .unwrap();
        let json: serde_json::Value = serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&output.stderr)));
        (
            json["base"].as_str().unwrap_or_default().to_string(),
            json["head"].as_str().unwrap().to_string(),
            json["images"].as_array().unwrap().len(),
        )
    };
    let github = [
        ("GITHUB_ACTIONS", "true"),
        ("GITHUB_EVENT_NAME", "pull_request"),
        ("GITHUB_EVENT_PATH", event.to_str().unwrap()),
    ];
    assert_eq!(run(&github), (base.clone(), head.clone(), 1));
    let gitlab = [
        ("GITLAB_CI", "true"),
        ("CI_MERGE_REQUEST_DIFF_BASE_SHA", base.as_str()),
        ("CI_COMMIT_SHA", head.as_str()),
    ];
    assert_eq!(run(&gitlab), (base.clone(), head.clone(), 1));
    // Outside CI: HEAD (main) against main, nothing to report.
    assert_eq!(run(&[]), (base.clone(), base, 0));
}

#[test]
fn fail_on_decides_which_findings_fail() {
    // image-unresolved is a warning: exit 0 by default, 1 with --fail-on warning.
    let repo = repo_from_fixture("flux-variable-missing");
    let code = |extra: &[&str]| {
        fluxgate()
            .args(["check", "--offline", "--repo"])
            .arg(repo.path())
            .args(extra)
            .output()
            .unwrap()
            .status
            .code()
    };
    assert_eq!(code(&[]), Some(0));
    assert_eq!(code(&["--fail-on", "warning"]), Some(1));
    let errors = repo_from_fixture("invalid-reference-uppercase");
    let code = |extra: &[&str]| {
        fluxgate()
            .args(["check", "--offline", "--repo"])
            .arg(errors.path())
            .args(extra)
            .output()
            .unwrap()
            .status
            .code()
    };
    assert_eq!(code(&[]), Some(1));
    assert_eq!(code(&["--fail-on", "never"]), Some(0));
}
