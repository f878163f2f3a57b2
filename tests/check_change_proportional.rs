//! Cost in proportion to the change: once a clone has its overlay index
//! (the first run builds it: where the Flux Kustomizations are is a fact of
//! every YAML file), a pull request that edits one file of a large tree
//! reads and parses that file only. Shown structurally, without timing: an
//! unchanged file whose blob is gone from the object database (reading it
//! would fail the run) and an unchanged file of broken YAML (parsing it
//! would raise `yaml-invalid`) leave the check clean; with `--all`, which
//! must read them, the same probes fire.
#![allow(clippy::unwrap_used)]

mod support;

use std::fs;
use std::path::Path;
use support::gitrepo::{check_dir, images, repo_from_dirs, rule_ids};

const APPS: usize = 200;

fn deployment(app: usize, tag: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-{app}\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          image: registry.test/app-{app}:{tag}\n"
    )
}

/// `apps/app-N/deployment.yaml` for every app, plus a broken file beside
/// app 0's; the head bumps app 0's tag only.
fn write_tree(dir: &Path, bumped: bool) {
    for app in 0..APPS {
        let app_dir = dir.join(format!("apps/app-{app}"));
        fs::create_dir_all(&app_dir).unwrap();
        let tag = if app == 0 && bumped { "v2" } else { "v1" };
        fs::write(app_dir.join("deployment.yaml"), deployment(app, tag)).unwrap();
    }
    fs::write(
        dir.join("apps/app-0/broken.yaml"),
        "kind: [unclosed\n  image: x\n",
    )
    .unwrap();
}

/// Removes the loose object of `path`'s blob at `rev` (same at both sides).
fn remove_blob(repo_dir: &Path, rev: &str, path: &str) {
    let repo = git2::Repository::open(repo_dir).unwrap();
    let tree = repo.revparse_single(rev).unwrap().peel_to_tree().unwrap();
    let id = tree.get_path(Path::new(path)).unwrap().id().to_string();
    let object = repo_dir.join(".git/objects").join(&id[..2]).join(&id[2..]);
    fs::remove_file(&object).unwrap();
    assert!(repo.find_blob(id.parse().unwrap()).is_err());
}

#[test]
fn a_one_file_change_reads_and_parses_only_that_file() {
    let trees = tempfile::tempdir().unwrap();
    let (base, head) = (trees.path().join("base"), trees.path().join("head"));
    write_tree(&base, false);
    write_tree(&head, true);
    let repo = repo_from_dirs("change-proportional", &base, &head);
    let first = check_dir(repo.path(), &["--base", "main"]);
    remove_blob(repo.path(), "main", "apps/app-7/deployment.yaml");

    let (code, stdout, stderr) = check_dir(repo.path(), &["--base", "main", "--verbose"]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let files: Vec<&str> = images(&json)
        .iter()
        .map(|i| i["file"].as_str().unwrap())
        .collect();
    assert_eq!(files, ["apps/app-0/deployment.yaml"]);
    assert_eq!(images(&json)[0]["reference"], "registry.test/app-0:v2");
    assert!(rule_ids(&json).is_empty(), "{json:#}");
    assert_eq!(first.0, Some(0), "{}\n{}", first.1, first.2);
    let first: serde_json::Value = serde_json::from_str(&first.1).unwrap();
    assert_eq!(images(&first), images(&json));

    // The probes work: `--all` parses the broken file, and reading the
    // removed blob stops the run.
    let (code, stdout, stderr) = check_dir(repo.path(), &["--base", "main", "--all"]);
    assert_eq!(code, Some(2), "{stdout}\n{stderr}");
    remove_probe_and_check_broken_file_is_reported(&base, &head);
}

/// With only the broken-YAML probe, `--all` reports it: parsing it is what
/// the one-file check above avoided.
fn remove_probe_and_check_broken_file_is_reported(base: &Path, head: &Path) {
    let repo = repo_from_dirs("change-proportional-all", base, head);
    let (code, stdout, stderr) = check_dir(repo.path(), &["--base", "main", "--all"]);
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(rule_ids(&json), ["yaml-invalid"], "{json:#}");
    assert_eq!(images(&json).len(), APPS);
}
