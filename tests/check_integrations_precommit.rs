//! `.pre-commit-hooks.yaml`: a valid manifest by `pre-commit
//! validate-manifest` (shown a broken copy too, which it must reject), and the
//! hook end to end: pre-commit builds fluxgate from this tree (a release
//! build: minutes the first time, kept in `target/pre-commit`; offline) and
//! blocks a real `git push` to a bare remote until the fix.
#![allow(clippy::unwrap_used)]

mod support;

use std::path::Path;
use std::process::{Command, Output};
use support::integrations::{
    assert_accepts, assert_rejects, broken, clear_ci_env, copy_tree, git, git_ok, offline,
    pre_commit, read, root, run, text, write, yaml, PVC,
};

#[test]
fn pre_commit_manifest_is_valid() {
    let path = root().join(".pre-commit-hooks.yaml");
    let mut command = offline(&pre_commit());
    command.arg("validate-manifest").arg(&path);
    assert_accepts("pre-commit validate-manifest", &run(command));

    let dir = tempfile::tempdir().unwrap();
    let bad = write(
        dir.path(),
        ".pre-commit-hooks.yaml",
        &broken(
            &read(".pre-commit-hooks.yaml"),
            "stages: [pre-push]",
            "stages: [prepush]",
        ),
    );
    let mut command = offline(&pre_commit());
    command.arg("validate-manifest").arg(&bad);
    assert_rejects("pre-commit validate-manifest", &run(command), "prepush");

    let hooks = yaml(&path);
    let hooks = hooks.as_array().unwrap();
    assert_eq!(hooks.len(), 1);
    let hook = &hooks[0];
    assert_eq!(hook["id"], "fluxgate");
    assert!(!hook["name"].as_str().unwrap().is_empty());
    assert_eq!(hook["entry"], "fluxgate pre-push");
    assert_eq!(hook["language"], "rust");
    assert_eq!(hook["stages"], serde_json::json!(["pre-push"]));
    assert_eq!(hook["pass_filenames"], false);
    assert_eq!(hook["always_run"], true);
}

/// pre-commit, run in `dir`.
fn pre_commit_in(dir: &Path, work: &Path, args: &[&str]) -> Output {
    let mut command = Command::new(pre_commit());
    command.args(args);
    pre_commit_env(&mut command, work);
    command.current_dir(dir).output().unwrap()
}

/// pre-commit's environment: a store under `work`, fluxgate built in
/// `target/pre-commit` (kept: later runs do not compile again), and nothing
/// of the caller's git, pre-commit or CI state.
fn pre_commit_env(command: &mut Command, work: &Path) {
    clear_ci_env(command);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("PRE_COMMIT") {
            command.env_remove(name);
        }
    }
    command
        .env("PRE_COMMIT_HOME", work.join("pre-commit-home"))
        .env("PRE_COMMIT_COLOR", "never")
        .env("CARGO_TARGET_DIR", root().join("target/pre-commit"))
        // pre-commit runs `cargo install` without `--locked`; offline, cargo
        // resolves from the crates already downloaded: no test reaches the internet.
        .env("CARGO_NET_OFFLINE", "true")
        .env_remove("SKIP")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE");
}

#[test]
fn pre_commit_hook_blocks_a_push_then_lets_the_fix_through() {
    pre_commit(); // installed, else fail now rather than after a build
    let work = tempfile::tempdir().unwrap();
    let work = work.path();

    // fluxgate as pre-commit sees a repository: this tree's sources and hook
    // manifest, committed (uncommitted work included).
    let source = work.join("fluxgate");
    for file in ["Cargo.toml", "Cargo.lock", ".pre-commit-hooks.yaml"] {
        write(&source, file, &read(file));
    }
    // Everything Cargo.toml names: the sources, the vendored parser and the
    // bench targets (cargo reads their manifest entries even to install).
    for dir in ["src", "vendor", "benches"] {
        copy_tree(&root().join(dir), &source.join(dir));
    }
    git_ok(&source, &["init", "--quiet"]);
    git_ok(&source, &["add", "-A"]);
    git_ok(&source, &["commit", "--quiet", "-m", "fluxgate"]);
    let rev = git_ok(&source, &["rev-parse", "HEAD"]);

    // A GitOps repository with a bare remote; its pre-commit configuration
    // uses the hook (offline: no registry here).
    let remote = work.join("remote.git");
    git_ok(
        work,
        &["init", "--quiet", "--bare", remote.to_str().unwrap()],
    );
    let clone = work.join("clone");
    git_ok(work, &["init", "--quiet", clone.to_str().unwrap()]);
    let pvc = PVC;
    write(&clone, "pvc.yaml", pvc);
    write(
        &clone,
        ".pre-commit-config.yaml",
        &format!(
            "repos:\n  - repo: {}\n    rev: {rev}\n    hooks:\n      - id: fluxgate\n        args: [--offline]\n",
            source.display()
        ),
    );
    git_ok(&clone, &["add", "-A"]);
    git_ok(&clone, &["commit", "--quiet", "-m", "base"]);
    git_ok(
        &clone,
        &["remote", "add", "origin", remote.to_str().unwrap()],
    );
    git_ok(&clone, &["push", "--quiet", "origin", "main"]);
    let base = git_ok(&clone, &["rev-parse", "HEAD"]);

    let installed = pre_commit_in(&clone, work, &["install", "--hook-type", "pre-push"]);
    assert_accepts("pre-commit install", &installed);

    // Shrinking the claim is refused by the API server: the push is blocked.
    git_ok(&clone, &["checkout", "--quiet", "-b", "shrink"]);
    write(&clone, "pvc.yaml", &pvc.replace("10Gi", "5Gi"));
    git_ok(&clone, &["commit", "--quiet", "-am", "shrink the claim"]);
    let mut push = Command::new("git");
    push.current_dir(&clone).args(["push", "origin", "shrink"]);
    pre_commit_env(&mut push, work);
    let pushed = push.output().unwrap();
    let message = text(&pushed);
    assert!(
        !pushed.status.success(),
        "the push went through:\n{message}"
    );
    assert!(message.contains("pvc-shrunk"), "{message}");
    assert!(
        git(
            &remote,
            &["rev-parse", "--verify", "--quiet", "refs/heads/shrink"]
        )
        .stdout
        .is_empty(),
        "the remote got the branch"
    );

    // The same through `pre-commit try-repo`, with the range given by hand.
    let head = git_ok(&clone, &["rev-parse", "HEAD"]);
    let tried = pre_commit_in(
        &clone,
        work,
        &[
            "try-repo",
            source.to_str().unwrap(),
            "fluxgate",
            "--hook-stage",
            "pre-push",
            "--from-ref",
            &base,
            "--to-ref",
            &head,
        ],
    );
    assert_eq!(tried.status.code(), Some(1), "{}", text(&tried));
    assert!(text(&tried).contains("pvc-shrunk"), "{}", text(&tried));

    // Put back: the push goes through.
    write(&clone, "pvc.yaml", pvc);
    git_ok(&clone, &["commit", "--quiet", "-am", "keep the size"]);
    let mut push = Command::new("git");
    push.current_dir(&clone).args(["push", "origin", "shrink"]);
    pre_commit_env(&mut push, work);
    let pushed = push.output().unwrap();
    assert!(pushed.status.success(), "{}", text(&pushed));
    assert_eq!(
        git_ok(&remote, &["rev-parse", "refs/heads/shrink"]),
        git_ok(&clone, &["rev-parse", "HEAD"])
    );
}
