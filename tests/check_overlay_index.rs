//! The overlay index (`<git dir>/fluxgate/overlay-index`): overlay
//! resolution must know which kustomizations anywhere in the tree reach out
//! of their directory, and a later run learns that without reading the
//! kustomizations its change did not touch. Shown structurally, like
//! `check_change_proportional.rs`: a kustomization blob removed from the
//! object database after the first run would stop a run that reads it.
#![allow(clippy::unwrap_used)]

mod support;

use std::fs;
use std::path::Path;
use support::gitrepo::{check_dir, fluxgate, images, repo_from_dirs};

const APPS: usize = 60;

/// `base/app-N/` (a Deployment and a kustomization with an `images:`
/// rewrite) for every app, and overlays elsewhere that include app 0 with
/// `../..`: `overlays/prod` always, `overlays/staging` when `staging`.
fn write_tree(dir: &Path, tag: &str, staging: bool) {
    for app in 0..APPS {
        let app_dir = dir.join(format!("base/app-{app}"));
        fs::create_dir_all(&app_dir).unwrap();
        let tag = if app == 0 { tag } else { "v1" };
        fs::write(
            app_dir.join("deployment.yaml"),
            format!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-{app}\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          image: registry.test/app-{app}:{tag}\n          args: [--port, \"80\"]\n"
            ),
        )
        .unwrap();
        fs::write(
            app_dir.join("kustomization.yaml"),
            format!(
                "resources:\n  - deployment.yaml\n  - settings.yaml\nimages:\n  - name: registry.test/sidecar-{app}\n    newTag: v9\n"
            ),
        )
        .unwrap();
        fs::write(
            app_dir.join("settings.yaml"),
            format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-{app}\ndata:\n  level: info\n"),
        )
        .unwrap();
    }
    let mut overlays = vec![("prod", "registry.test/prod/app-0")];
    if staging {
        overlays.push(("staging", "registry.test/staging/app-0"));
    }
    for (name, new_name) in overlays {
        let overlay = dir.join(format!("overlays/{name}"));
        fs::create_dir_all(&overlay).unwrap();
        fs::write(
            overlay.join("kustomization.yaml"),
            format!(
                "resources:\n  - ../../base/app-0\nimages:\n  - name: registry.test/app-0\n    newName: {new_name}\n"
            ),
        )
        .unwrap();
    }
}

fn repo(name: &str, staging_at_head: bool) -> (tempfile::TempDir, tempfile::TempDir) {
    let trees = tempfile::tempdir().unwrap();
    let (base, head) = (trees.path().join("base"), trees.path().join("head"));
    write_tree(&base, "v1", false);
    write_tree(&head, "v2", staging_at_head);
    (repo_from_dirs(name, &base, &head), trees)
}

/// The references the check reports (`file reference`), sorted.
fn references(repo_dir: &Path) -> Vec<String> {
    let (code, stdout, stderr) = check_dir(repo_dir, &["--base", "main"]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let mut out: Vec<String> = images(&json)
        .iter()
        .map(|i| {
            format!(
                "{} {}",
                i["file"].as_str().unwrap(),
                i["reference"].as_str().unwrap()
            )
        })
        .collect();
    out.sort();
    out
}

const PROD: &str = "base/app-0/deployment.yaml registry.test/prod/app-0:v2";
const STAGING: [&str; 3] = [
    PROD,
    "base/app-0/deployment.yaml registry.test/staging/app-0:v2",
    "overlays/staging/kustomization.yaml registry.test/staging/app-0:v2",
];

fn remove_blob(repo_dir: &Path, rev: &str, path: &str) {
    let repo = git2::Repository::open(repo_dir).unwrap();
    let tree = repo.revparse_single(rev).unwrap().peel_to_tree().unwrap();
    let id = tree.get_path(Path::new(path)).unwrap().id().to_string();
    fs::remove_file(repo_dir.join(".git/objects").join(&id[..2]).join(&id[2..])).unwrap();
}

fn index_file(repo_dir: &Path) -> std::path::PathBuf {
    repo_dir.join(".git/fluxgate/overlay-index")
}

#[test]
fn a_second_run_reads_only_the_trees_its_change_altered() {
    let (repo, _trees) = repo("overlay-index-warm", false);
    let first = references(repo.path());
    assert_eq!(first, [PROD]);
    assert!(index_file(repo.path()).is_file());

    // Unchanged kustomizations the first run read: gone now.
    remove_blob(repo.path(), "main", "base/app-7/kustomization.yaml");
    remove_blob(repo.path(), "main", "base/app-59/kustomization.yaml");
    assert_eq!(references(repo.path()), first);

    // The probe works: without the index, the run must read them and fails.
    fs::remove_dir_all(repo.path().join(".git/fluxgate")).unwrap();
    let (code, stdout, stderr) = check_dir(repo.path(), &["--base", "main"]);
    assert_eq!(code, Some(2), "{stdout}\n{stderr}");
}

#[test]
fn an_index_from_an_older_tree_still_finds_a_new_overlay() {
    let (older, _t1) = repo("overlay-index-older", false);
    assert_eq!(references(older.path()), [PROD]);

    // Same base, and a head that also adds overlays/staging: the index the
    // older repository built is valid here (tree ids name content).
    let (newer, _t2) = repo("overlay-index-newer", true);
    fs::create_dir_all(newer.path().join(".git/fluxgate")).unwrap();
    fs::copy(index_file(older.path()), index_file(newer.path())).unwrap();
    remove_blob(newer.path(), "main", "base/app-7/kustomization.yaml");
    // The Deployment as both overlays deploy it, and the new overlay's own
    // `newName` entry (a changed file) with the tag it takes from the base.
    assert_eq!(references(newer.path()), STAGING);
}

#[test]
fn a_damaged_index_is_rebuilt_and_changes_nothing() {
    let (repo, _trees) = repo("overlay-index-damaged", true);
    let expected = STAGING;
    assert_eq!(references(repo.path()), expected);
    let good = fs::read(index_file(repo.path())).unwrap();

    // One flipped bit in a record (the summary of some tree): the file's
    // checksum no longer holds, so none of it is trusted.
    let mut bad = good.clone();
    let middle = bad.len() / 2;
    bad[middle] ^= 0x04;
    fs::write(index_file(repo.path()), &bad).unwrap();
    assert_eq!(references(repo.path()), expected);
    assert_eq!(fs::read(index_file(repo.path())).unwrap().len(), good.len());

    fs::write(index_file(repo.path()), b"not an index").unwrap();
    assert_eq!(references(repo.path()), expected);
}

#[test]
fn an_index_that_cannot_be_written_is_said_and_changes_nothing() {
    let (repo, _trees) = repo("overlay-index-unwritable", false);
    // A file where the index directory would go.
    fs::write(repo.path().join(".git/fluxgate"), b"in the way").unwrap();
    assert_eq!(references(repo.path()), [PROD]);
    let output = fluxgate()
        .args([
            "check",
            "--offline",
            "--format",
            "human",
            "--base",
            "main",
            "--repo",
        ])
        .arg(repo.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("could not keep the overlay index in"),
        "{stdout}"
    );
}

/// A commit on `from` that sets `path` to `text`, as branch `branch`.
fn commit_on(repo_dir: &Path, from: &str, branch: &str, path: &str, text: &str) {
    let repo = git2::Repository::open(repo_dir).unwrap();
    let parent = repo
        .revparse_single(from)
        .unwrap()
        .peel_to_commit()
        .unwrap();
    let mut index = git2::Index::new().unwrap();
    index.read_tree(&parent.tree().unwrap()).unwrap();
    let blob = repo.blob(text.as_bytes()).unwrap();
    let mut entry = index.get_path(Path::new(path), 0).unwrap();
    entry.id = blob;
    index.add(&entry).unwrap();
    let tree = repo.find_tree(index.write_tree_to(&repo).unwrap()).unwrap();
    let who = git2::Signature::now("t", "t@example.invalid").unwrap();
    let commit = repo
        .commit(None, &who, &who, "another change", &tree, &[&parent])
        .unwrap();
    repo.branch(branch, &repo.find_commit(commit).unwrap(), true)
        .unwrap();
}

/// A later change in a directory the index knows from an earlier run (the
/// same tree at the base): the files beside the changed one lend their
/// facts from that tree's summary, so they are not read.
#[test]
fn files_beside_a_change_are_known_from_the_base_tree() {
    let (repo, _trees) = repo("overlay-index-beside", false);
    assert_eq!(references(repo.path()), [PROD]);
    commit_on(
        repo.path(),
        "main",
        "other-change",
        "base/app-1/deployment.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-1\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          image: registry.test/app-1:v3\n",
    );
    // The first run kept base/app-1 (unchanged there); its files beside
    // the new change: gone now.
    remove_blob(repo.path(), "main", "base/app-1/settings.yaml");
    let (code, stdout, stderr) =
        check_dir(repo.path(), &["--base", "main", "--head", "other-change"]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("registry.test/app-1:v3"), "{stdout}");

    // The probe works: without the index, the run must read it and fails.
    fs::remove_dir_all(repo.path().join(".git/fluxgate")).unwrap();
    let (code, stdout, stderr) =
        check_dir(repo.path(), &["--base", "main", "--head", "other-change"]);
    assert_eq!(code, Some(2), "{stdout}\n{stderr}");
}
