//! Real git repositories built from `fixtures/<case>/{base,head}/` for the integration tests.
//!
//! Every repository has the same shape: commit 1 on `main` holds the base tree, commit 2 on
//! `feature` (a child of commit 1) holds the head tree, and `HEAD` points at `refs/heads/feature`.
//! Signature and commit times are fixed, so the commit ids of a fixture never change unless its
//! files do; the snapshots can therefore keep the real `base`/`head` shas.
//! Nothing is checked out: fluxgate reads trees, never the working directory.

use std::fs;
use std::path::{Path, PathBuf};

use git2::{Oid, Repository, RepositoryInitOptions, Signature, Time};

/// Seconds since the epoch of the base commit; the head commit is one hour later.
const BASE_TIME: i64 = 1_700_000_000;

/// Directory of one fixture case.
pub fn fixture_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

/// Build a real git repository from `fixtures/<name>/base/` and `fixtures/<name>/head/`.
///
/// A missing `base/` (or `head/`) side is an empty tree.
pub fn repo_from_fixture(name: &str) -> tempfile::TempDir {
    let fixture = fixture_dir(name);
    assert!(
        fixture.is_dir(),
        "fixture {} does not exist",
        fixture.display()
    );
    assert!(
        fixture.join("base").is_dir() || fixture.join("head").is_dir(),
        "fixture {name} has neither base/ nor head/"
    );
    repo_from_dirs(name, &fixture.join("base"), &fixture.join("head"))
}

/// Build a repository from a fixture whose files name placeholders (a
/// loopback server's URL is only known at test time): every `from` in
/// every file is replaced by `to`.
pub fn repo_from_fixture_replacing(name: &str, replacements: &[(&str, &str)]) -> tempfile::TempDir {
    fn copy(from: &Path, to: &Path, replacements: &[(&str, &str)]) {
        fs::create_dir_all(to).expect("create a fixture copy directory");
        let Ok(entries) = fs::read_dir(from) else {
            return;
        };
        for entry in entries {
            let entry = entry.expect("read a fixture directory");
            let target = to.join(entry.file_name());
            if entry.file_type().expect("file type").is_dir() {
                copy(&entry.path(), &target, replacements);
            } else {
                let mut text = fs::read_to_string(entry.path()).expect("read a fixture file");
                for (from, to) in replacements {
                    text = text.replace(from, to);
                }
                fs::write(target, text).expect("write a fixture copy");
            }
        }
    }
    let trees = tempfile::tempdir().expect("create a temporary directory");
    let fixture = fixture_dir(name);
    for side in ["base", "head"] {
        copy(&fixture.join(side), &trees.path().join(side), replacements);
    }
    repo_from_dirs(name, &trees.path().join("base"), &trees.path().join("head"))
}

/// Build a real git repository like [`repo_from_fixture`] from any two directories (for trees
/// a test generates); a missing directory is an empty tree.
pub fn repo_from_dirs(name: &str, base_dir: &Path, head_dir: &Path) -> tempfile::TempDir {
    two_commit_repo(name, |repo| {
        (tree_from_dir(repo, base_dir), tree_from_dir(repo, head_dir))
    })
}

/// The shape every test repository has: `main` holds the base tree, `feature` (a child of it)
/// the head tree, and `HEAD` is `feature`. `trees` writes both trees.
fn two_commit_repo(name: &str, trees: impl FnOnce(&Repository) -> (Oid, Oid)) -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix(&format!("fluxgate-{name}-"))
        .tempdir()
        .expect("create a temporary directory");
    let mut opts = RepositoryInitOptions::new();
    opts.initial_head("main");
    let repo = Repository::init_opts(dir.path(), &opts).expect("git init");
    let (base_tree, head_tree) = trees(&repo);
    let base = commit(&repo, "refs/heads/main", base_tree, None, BASE_TIME, "base");
    commit(
        &repo,
        "refs/heads/feature",
        head_tree,
        Some(base),
        BASE_TIME + 3600,
        "head",
    );
    repo.set_head("refs/heads/feature")
        .expect("point HEAD at feature");
    dir
}

/// The commit id a revision (`main`, `feature`, `HEAD`, ...) resolves to in `repo_dir`.
pub fn rev_sha(repo_dir: &Path, rev: &str) -> String {
    let repo = Repository::open(repo_dir).expect("open the test repository");
    let object = repo.revparse_single(rev).expect("resolve the revision");
    let commit = object.peel_to_commit().expect("revision is a commit");
    commit.id().to_string()
}

fn commit(
    repo: &Repository,
    refname: &str,
    tree: Oid,
    parent: Option<Oid>,
    time: i64,
    message: &str,
) -> Oid {
    let sig = Signature::new(
        "fluxgate tests",
        "tests@fluxgate.invalid",
        &Time::new(time, 0),
    )
    .expect("signature");
    let tree = repo.find_tree(tree).expect("tree just written");
    let parent = parent.map(|p| repo.find_commit(p).expect("parent commit just written"));
    let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
    repo.commit(Some(refname), &sig, &sig, message, &tree, &parents)
        .expect("commit")
}

/// Write `dir` as a tree (recursively); a missing directory is the empty tree.
/// Empty subdirectories are left out, as git itself would.
fn tree_from_dir(repo: &Repository, dir: &Path) -> Oid {
    let mut builder = repo.treebuilder(None).expect("treebuilder");
    if dir.is_dir() {
        let mut entries: Vec<_> = fs::read_dir(dir)
            .expect("read fixture directory")
            .map(|e| e.expect("fixture directory entry").path())
            .collect();
        entries.sort();
        for path in entries {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .expect("fixture file names are UTF-8")
                .to_owned();
            if path.is_dir() {
                let sub = tree_from_dir(repo, &path);
                let sub_tree = repo.find_tree(sub).expect("subtree just written");
                if sub_tree.is_empty() {
                    continue;
                }
                builder
                    .insert(&name, sub, 0o040000)
                    .expect("insert subtree");
            } else {
                let bytes = fs::read(&path).expect("read fixture file");
                let blob = repo.blob(&bytes).expect("write blob");
                builder.insert(&name, blob, 0o100644).expect("insert blob");
            }
        }
    }
    builder.write().expect("write tree")
}

/// One entry of a tree written by [`repo_from_entries`], for what a directory of fixture files
/// cannot hold: symbolic links, submodules, generated content.
#[derive(Clone)]
pub enum Entry {
    /// A regular file and its bytes.
    File(String, Vec<u8>),
    /// A symbolic link and its target (never resolved).
    Symlink(String, String),
    /// A submodule (gitlink) at a commit of another repository, which need not exist.
    Submodule(String, Oid),
}

impl Entry {
    pub fn file(path: &str, content: impl Into<Vec<u8>>) -> Entry {
        Entry::File(path.to_string(), content.into())
    }
}

/// Build a real git repository shaped like [`repo_from_fixture`]'s (`main` holds `base`,
/// `feature` holds `head`, `HEAD` is `feature`) from lists of entries.
pub fn repo_from_entries(name: &str, base: &[Entry], head: &[Entry]) -> tempfile::TempDir {
    two_commit_repo(name, |repo| {
        (tree_from_entries(repo, base), tree_from_entries(repo, head))
    })
}

/// A repository built from `base` and `head` whose remote is the fleet
/// repository a GitRepository `https://git.example.invalid/platform/fleet.git`
/// names (so the charts it holds are "here").
pub fn fleet_repo(name: &str, base: &[Entry], head: &[Entry]) -> tempfile::TempDir {
    let repo = repo_from_entries(name, base, head);
    Repository::open(repo.path())
        .unwrap()
        .remote("origin", "git@git.example.invalid:platform/fleet.git")
        .unwrap();
    repo
}

/// The GitRepository `flux-system/flux-system` that names the fleet
/// repository of [`fleet_repo`].
pub const FLEET_SOURCE: &str = "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: flux-system\n  namespace: flux-system\nspec:\n  url: https://git.example.invalid/platform/fleet.git\n";

/// A HelmRelease `name` in namespace `apps` installing `chart` at
/// `version` from `source` (its `sourceRef` lines after `kind: `, as
/// `HelmRepository\n        name: charts`), then `rest` (the spec's other
/// fields, indented two spaces: `values:`, `valuesFrom:`).
pub fn helm_release(name: &str, chart: &str, version: &str, source: &str, rest: &str) -> String {
    format!(
        "apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: {name}
  namespace: apps
spec:
  interval: 10m
  chart:
    spec:
      chart: {chart}
      version: {version}
      sourceRef:
        kind: {source}
{rest}"
    )
}

/// A chart in `charts/<name>/` of the repository, with `values` as its
/// `values.yaml`.
pub fn local_chart(name: &str, version: &str, values: &str) -> [Entry; 2] {
    [
        Entry::file(
            &format!("charts/{name}/Chart.yaml"),
            format!("apiVersion: v2\nname: {name}\nversion: {version}\n"),
        ),
        Entry::file(&format!("charts/{name}/values.yaml"), values),
    ]
}

fn tree_from_entries(repo: &Repository, entries: &[Entry]) -> Oid {
    let mut index = git2::Index::new().expect("an in-memory index");
    for entry in entries {
        let (path, mode, id) = match entry {
            Entry::File(path, bytes) => (path, 0o100644, repo.blob(bytes).expect("write blob")),
            Entry::Symlink(path, target) => (
                path,
                0o120000,
                repo.blob(target.as_bytes()).expect("write link blob"),
            ),
            Entry::Submodule(path, commit) => (path, 0o160000, *commit),
        };
        let time = git2::IndexTime::new(0, 0);
        index
            .add(&git2::IndexEntry {
                ctime: time,
                mtime: time,
                dev: 0,
                ino: 0,
                mode,
                uid: 0,
                gid: 0,
                file_size: 0,
                id,
                flags: u16::try_from(path.len().min(0xfff)).expect("at most 0xfff"),
                flags_extended: 0,
                path: path.as_bytes().to_vec(),
            })
            .expect("add the entry to the index");
    }
    index.write_tree_to(repo).expect("write the tree")
}

/// The fluxgate binary, with an environment free of CI detection and colours.
pub fn fluxgate() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::new(env!("CARGO_BIN_EXE_fluxgate"));
    scrub_env(&mut cmd);
    cmd
}

/// [`fluxgate`] started through another program, e.g. `["unshare", "-rn"]` (the binary's path
/// is appended to `wrapper`), with the same environment.
pub fn fluxgate_via(wrapper: &[&str]) -> assert_cmd::Command {
    let (program, args) = wrapper.split_first().expect("a wrapper program");
    let mut cmd = assert_cmd::Command::new(program);
    cmd.args(args).arg(env!("CARGO_BIN_EXE_fluxgate"));
    scrub_env(&mut cmd);
    cmd
}

fn scrub_env(cmd: &mut assert_cmd::Command) {
    for (key, _) in std::env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        if key == "CI"
            || key.starts_with("GITHUB_")
            || key.starts_with("GITLAB_")
            || key.starts_with("CI_")
            || key.starts_with("FLUXGATE_")
            || key.starts_with("GIT_")
        {
            cmd.env_remove(key);
        }
    }
    cmd.env("NO_COLOR", "1");
}

/// What one `fluxgate check` run produced.
pub struct Run {
    /// Process exit code (`None` if killed by a signal).
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// The repository the run checked; kept alive as long as the run.
    pub repo: tempfile::TempDir,
}

impl Run {
    /// stdout parsed as the JSON report (panics with both streams if it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not a JSON report ({e})\n--- stdout\n{}\n--- stderr\n{}",
                self.stdout, self.stderr
            )
        })
    }

    /// Commit id of a revision of the checked repository.
    pub fn sha(&self, rev: &str) -> String {
        rev_sha(self.repo.path(), rev)
    }
}

/// Run `fluxgate check --repo <repo built from the fixture> <args...>`.
pub fn check(fixture: &str, args: &[&str]) -> Run {
    let repo = repo_from_fixture(fixture);
    let output = fluxgate()
        .arg("check")
        .arg("--repo")
        .arg(repo.path())
        .args(args)
        .output()
        .expect("run fluxgate");
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        repo,
    }
}

/// `fluxgate check --offline --format json` on a fixture: asserts the exit code and returns the
/// report, after checking that its `base`/`head` are the fixture's `main`/`feature` commits.
pub fn check_json(fixture: &str, extra: &[&str], expected_code: i32) -> serde_json::Value {
    let mut args = vec!["--offline", "--format", "json"];
    args.extend_from_slice(extra);
    let run = check(fixture, &args);
    assert_eq!(
        run.code,
        Some(expected_code),
        "exit code of fluxgate check on {fixture}\n--- stdout\n{}\n--- stderr\n{}",
        run.stdout,
        run.stderr
    );
    let json = run.json();
    assert_eq!(json["version"], 1, "report version");
    assert_eq!(
        json["base"],
        run.sha("main"),
        "base is the merge-base (main)"
    );
    assert_eq!(json["head"], run.sha("feature"), "head is HEAD (feature)");
    json
}

/// The reported images.
pub fn images(json: &serde_json::Value) -> &Vec<serde_json::Value> {
    json["images"].as_array().expect("`images` is an array")
}

/// The reported findings.
pub fn findings(json: &serde_json::Value) -> &Vec<serde_json::Value> {
    json["findings"].as_array().expect("`findings` is an array")
}

/// The one image reported at `file:line`, panicking with the whole list otherwise.
pub fn image_at<'a>(json: &'a serde_json::Value, file: &str, line: u64) -> &'a serde_json::Value {
    let found: Vec<_> = images(json)
        .iter()
        .filter(|i| i["file"] == file && i["line"] == line)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "expected exactly one image at {file}:{line}, report images: {:#}",
        json["images"]
    );
    found[0]
}

/// What an integration test pins down about one reported image, beyond its snapshot.
pub struct Expect<'a> {
    pub file: &'a str,
    pub line: u64,
    pub column: u64,
    pub reference: &'a str,
    /// `None` means JSON `null`.
    pub canonical: Option<&'a str>,
    pub change: &'a str,
    pub status: &'a str,
}

/// Assert the image at `e.file:e.line` has exactly the expected position, reference and state.
pub fn assert_image(json: &serde_json::Value, e: &Expect<'_>) {
    let image = image_at(json, e.file, e.line);
    let what = format!("image at {}:{}: {image:#}", e.file, e.line);
    assert_eq!(image["column"], e.column, "column of {what}");
    assert_eq!(image["reference"], e.reference, "reference of {what}");
    match e.canonical {
        Some(c) => assert_eq!(image["canonical"], c, "canonical of {what}"),
        None => assert!(image["canonical"].is_null(), "canonical of {what}"),
    }
    assert_eq!(image["change"], e.change, "change of {what}");
    assert_eq!(image["status"], e.status, "status of {what}");
}

/// The rule ids of all findings, in report order.
pub fn rule_ids(json: &serde_json::Value) -> Vec<&str> {
    findings(json)
        .iter()
        .map(|f| f["rule"].as_str().expect("rule is a string"))
        .collect()
}

/// `file:line` of every reported image, sorted.
pub fn positions(json: &serde_json::Value) -> Vec<String> {
    let mut all: Vec<String> = images(json)
        .iter()
        .map(|i| format!("{}:{}", i["file"].as_str().expect("file"), i["line"]))
        .collect();
    all.sort();
    all
}

/// Point `refname` (e.g. `refs/remotes/origin/main`) at the commit `rev` resolves to.
pub fn set_ref(repo_dir: &Path, refname: &str, rev: &str) {
    let repo = Repository::open(repo_dir).expect("open the test repository");
    let id = repo
        .revparse_single(rev)
        .expect("resolve the revision")
        .peel_to_commit()
        .expect("revision is a commit")
        .id();
    repo.reference(refname, id, true, "fluxgate tests")
        .expect("write the reference");
}

/// Delete a reference (e.g. `refs/heads/main`).
pub fn delete_ref(repo_dir: &Path, refname: &str) {
    let repo = Repository::open(repo_dir).expect("open the test repository");
    repo.find_reference(refname)
        .expect("the reference exists")
        .delete()
        .expect("delete the reference");
}

/// Run `fluxgate check --offline --format json <args>` on an existing repository directory.
pub fn check_dir(repo_dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let output = fluxgate()
        .args(["check", "--offline", "--format", "json", "--repo"])
        .arg(repo_dir)
        .args(args)
        .output()
        .expect("run fluxgate");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// `(rule, file, line, column)` of every finding, in report order.
pub fn places(json: &serde_json::Value) -> Vec<(&str, &str, u64, u64)> {
    findings(json)
        .iter()
        .map(|f| {
            let text = |key: &str| f[key].as_str().expect("a string field");
            (
                text("rule"),
                text("file"),
                f["line"].as_u64().expect("line"),
                f["column"].as_u64().expect("column"),
            )
        })
        .collect()
}

/// `(file, line, column)` of every finding, in report order.
pub fn located(json: &serde_json::Value) -> Vec<(&str, u64, u64)> {
    places(json)
        .into_iter()
        .map(|(_, file, line, column)| (file, line, column))
        .collect()
}

/// Every finding has this severity, says what a `git revert` does, and says what to do.
pub fn assert_explained(json: &serde_json::Value, severity: &str) {
    for f in findings(json) {
        assert_eq!(f["severity"], severity, "{f:#}");
        let message = f["message"].as_str().expect("a message");
        assert!(
            message.contains("git revert"),
            "the message says what a revert does: {message}"
        );
        assert!(f["help"].as_str().is_some_and(|h| !h.is_empty()), "{f:#}");
    }
}

/// The message of every finding, in report order.
pub fn messages(json: &serde_json::Value) -> Vec<&str> {
    findings(json)
        .iter()
        .map(|f| f["message"].as_str().expect("a message"))
        .collect()
}
