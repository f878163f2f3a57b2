//! `fluxgate check` as a command: exit code 2 when it cannot run, revision options, the human
//! format and `--output`; plus the tests of the fixture-repo harness itself.
#![allow(clippy::unwrap_used)]

mod support;

use std::path::Path;

use support::gitrepo::{check, check_json, fixture_dir, fluxgate, images, repo_from_fixture};

// ---------------------------------------------------------------------------------------------
// The harness

#[test]
fn harness_builds_main_and_feature_from_the_fixture() {
    let dir = repo_from_fixture("image-bump-deployment");
    let repo = git2::Repository::open(dir.path()).unwrap();
    let main = repo.find_branch("main", git2::BranchType::Local).unwrap();
    let feature = repo
        .find_branch("feature", git2::BranchType::Local)
        .unwrap();
    let main = main.get().peel_to_commit().unwrap();
    let feature = feature.get().peel_to_commit().unwrap();
    assert_ne!(main.id(), feature.id());
    assert_ne!(main.tree_id(), feature.tree_id());
    assert_eq!(feature.parent_ids().collect::<Vec<_>>(), [main.id()]);
    assert_eq!(main.parent_count(), 0);
    assert_eq!(repo.head().unwrap().name().unwrap(), "refs/heads/feature");

    let path = Path::new("apps/podinfo/deployment.yaml");
    let blob_text = |commit: &git2::Commit<'_>| {
        let entry = commit.tree().unwrap().get_path(path).unwrap();
        assert_eq!(entry.filemode(), 0o100644);
        let blob = repo.find_blob(entry.id()).unwrap();
        String::from_utf8(blob.content().to_vec()).unwrap()
    };
    assert!(blob_text(&main).contains("podinfo:6.5.0"));
    assert!(blob_text(&feature).contains("podinfo:6.5.4"));
    let unchanged = Path::new("apps/podinfo/service.yaml");
    assert_eq!(
        main.tree().unwrap().get_path(unchanged).unwrap().id(),
        feature.tree().unwrap().get_path(unchanged).unwrap().id()
    );
}

#[test]
fn harness_commit_ids_are_deterministic() {
    let sha = |dir: &tempfile::TempDir, rev| support::gitrepo::rev_sha(dir.path(), rev);
    let a = repo_from_fixture("renamed-file");
    let b = repo_from_fixture("renamed-file");
    assert_eq!(sha(&a, "main"), sha(&b, "main"));
    assert_eq!(sha(&a, "feature"), sha(&b, "feature"));
    assert_eq!(sha(&a, "HEAD"), sha(&a, "feature"));
}

#[test]
fn harness_missing_base_is_the_empty_tree() {
    let dir = repo_from_fixture("workload-kinds-new-file");
    let repo = git2::Repository::open(dir.path()).unwrap();
    let main = repo
        .revparse_single("main")
        .unwrap()
        .peel_to_commit()
        .unwrap();
    assert!(main.tree().unwrap().is_empty());
    let feature = repo
        .revparse_single("feature")
        .unwrap()
        .peel_to_commit()
        .unwrap();
    assert!(feature
        .tree()
        .unwrap()
        .get_path(Path::new("apps/platform/workloads.yaml"))
        .is_ok());
}

#[test]
fn every_fixture_is_kebab_case_has_a_head_and_is_used_by_a_test() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let tests_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let mut sources = String::new();
    for entry in std::fs::read_dir(&tests_dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        if (name.starts_with("check_") || name.starts_with("rule_")) && name.ends_with(".rs") {
            sources.push_str(&std::fs::read_to_string(&path).unwrap());
        }
    }
    let mut count = 0;
    for entry in std::fs::read_dir(&fixtures).unwrap() {
        let entry = entry.unwrap();
        if !entry.file_type().unwrap().is_dir() {
            continue;
        }
        let name = entry.file_name().into_string().unwrap();
        count += 1;
        assert!(
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !name.starts_with('-')
                && !name.ends_with('-')
                && !name.contains("--"),
            "fixture directory {name:?} is not kebab-case"
        );
        assert!(
            fixture_dir(&name).join("head").is_dir(),
            "fixture {name} has no head/"
        );
        assert!(
            sources.contains(&format!("\"{name}\"")),
            "fixture {name} is used by no tests/check_*.rs or tests/rule_*.rs"
        );
    }
    assert!(count >= 20, "only {count} fixtures found");
}

// ---------------------------------------------------------------------------------------------
// Could not run: exit 2

#[test]
fn not_a_git_repository_exits_2_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let output = fluxgate()
        .args(["check", "--offline", "--format", "json", "--repo"])
        .arg(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "stderr: {stderr}");
    let lower = stderr.to_lowercase();
    assert!(
        lower.contains("git") || lower.contains("repositor"),
        "stderr should say it is not a git repository: {stderr}"
    );
    assert!(
        serde_json::from_slice::<serde_json::Value>(&output.stdout).is_err(),
        "no report when it could not run"
    );
}

#[test]
fn unknown_base_revision_exits_2_naming_it() {
    let run = check(
        "image-bump-deployment",
        &[
            "--offline",
            "--format",
            "json",
            "--base",
            "no-such-branch-3f9c",
        ],
    );
    assert_eq!(run.code, Some(2), "stderr: {}", run.stderr);
    assert!(
        run.stderr.contains("no-such-branch-3f9c"),
        "stderr should name the revision: {}",
        run.stderr
    );
}

#[test]
fn unknown_head_revision_exits_2_naming_it() {
    let run = check(
        "image-bump-deployment",
        &[
            "--offline",
            "--format",
            "json",
            "--head",
            "refs/heads/nope-77a1",
        ],
    );
    assert_eq!(run.code, Some(2), "stderr: {}", run.stderr);
    assert!(
        run.stderr.contains("nope-77a1"),
        "stderr should name the revision: {}",
        run.stderr
    );
}

#[test]
fn unknown_format_exits_2() {
    let run = check("image-bump-deployment", &["--offline", "--format", "xml"]);
    assert_eq!(run.code, Some(2), "stderr: {}", run.stderr);
}

// ---------------------------------------------------------------------------------------------
// Revisions

#[test]
fn explicit_base_and_head_match_the_defaults() {
    let default = check_json("image-bump-deployment", &[], 0);
    let explicit = check_json(
        "image-bump-deployment",
        &["--base", "main", "--head", "feature"],
        0,
    );
    assert_eq!(default, explicit);
}

#[test]
fn head_equal_to_base_reports_nothing() {
    let run = check(
        "image-bump-deployment",
        &["--offline", "--format", "json", "--head", "main"],
    );
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let json = run.json();
    assert_eq!(json["base"], run.sha("main"));
    assert_eq!(json["head"], run.sha("main"));
    assert!(images(&json).is_empty(), "{:#}", json["images"]);
}

// ---------------------------------------------------------------------------------------------
// Output

#[test]
fn human_format_prints_the_finding_with_its_location() {
    let run = check(
        "invalid-reference-uppercase",
        &["--offline", "--format", "human"],
    );
    assert_eq!(run.code, Some(1), "stderr: {}", run.stderr);
    let all = format!("{}{}", run.stdout, run.stderr);
    assert!(all.contains("image-reference-invalid"), "{all}");
    assert!(all.contains("apps/app/deployment.yaml:17"), "{all}");
    assert!(all.contains("ghcr.io/Org/App:v1"), "{all}");
    assert!(
        !all.contains('\u{1b}'),
        "NO_COLOR=1 but output has escapes: {all}"
    );
}

#[test]
fn human_format_snapshots() {
    for (fixture, code) in [
        ("invalid-reference-uppercase", 1),
        ("invalid-yaml-beside-valid", 1),
        ("flux-variable-tag", 0),
    ] {
        let run = check(fixture, &["--offline", "--format", "human"]);
        assert_eq!(run.code, Some(code), "{fixture}: stderr: {}", run.stderr);
        insta::assert_snapshot!(format!("human-{fixture}"), run.stdout);
    }
}

#[test]
fn output_file_receives_the_json_report() {
    let out_dir = tempfile::tempdir().unwrap();
    let out = out_dir.path().join("report.json");
    let run = check(
        "image-bump-deployment",
        &[
            "--offline",
            "--format",
            "json",
            "--output",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(written["version"], 1);
    assert_eq!(written["base"], run.sha("main"));
    assert_eq!(written["head"], run.sha("feature"));
    assert_eq!(images(&written).len(), 1);
    assert_eq!(
        images(&written)[0]["reference"],
        "ghcr.io/stefanprodan/podinfo:6.5.4"
    );
    // The report went to the file, not (also) to stdout.
    assert!(
        serde_json::from_str::<serde_json::Value>(&run.stdout).is_err(),
        "stdout: {}",
        run.stdout
    );
}

#[test]
fn output_file_keeps_exit_code_of_findings() {
    let out_dir = tempfile::tempdir().unwrap();
    let out = out_dir.path().join("report.json");
    let run = check(
        "invalid-reference-uppercase",
        &[
            "--offline",
            "--format",
            "json",
            "--output",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, Some(1), "stderr: {}", run.stderr);
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(written["summary"]["errors"], 1);
}

// ---------------------------------------------------------------------------------------------
// Default base: merge-base of HEAD with origin/HEAD, origin/main, origin/master, main, master

fn report(repo_dir: &Path, args: &[&str], code: i32) -> serde_json::Value {
    let (got, stdout, stderr) = support::gitrepo::check_dir(repo_dir, args);
    assert_eq!(got, Some(code), "stdout: {stdout}\nstderr: {stderr}");
    serde_json::from_str(&stdout).unwrap()
}

#[test]
fn default_base_prefers_origin_main_over_main() {
    // The remote's main already has the change (merged): nothing left to review.
    let dir = repo_from_fixture("image-bump-deployment");
    support::gitrepo::set_ref(dir.path(), "refs/remotes/origin/main", "feature");
    let json = report(dir.path(), &[], 0);
    let feature = support::gitrepo::rev_sha(dir.path(), "feature");
    assert_eq!(json["base"], feature);
    assert_eq!(json["head"], feature);
    assert!(images(&json).is_empty(), "{:#}", json["images"]);
}

#[test]
fn default_base_falls_back_to_master() {
    let dir = repo_from_fixture("image-bump-deployment");
    let main = support::gitrepo::rev_sha(dir.path(), "main");
    support::gitrepo::set_ref(dir.path(), "refs/heads/master", "main");
    support::gitrepo::delete_ref(dir.path(), "refs/heads/main");
    let json = report(dir.path(), &[], 0);
    assert_eq!(json["base"], main);
    assert_eq!(images(&json).len(), 1, "{:#}", json["images"]);
}

#[test]
fn repo_may_be_any_directory_inside_the_repository() {
    let dir = repo_from_fixture("image-bump-deployment");
    let sub = dir.path().join("apps").join("podinfo");
    std::fs::create_dir_all(&sub).unwrap();
    let json = report(&sub, &[], 0);
    assert_eq!(images(&json).len(), 1, "{:#}", json["images"]);
    // Paths stay relative to the repository root.
    assert_eq!(images(&json)[0]["file"], "apps/podinfo/deployment.yaml");
}

// ---------------------------------------------------------------------------------------------
// `fluxgate rules` and `fluxgate explain`

#[test]
fn every_rule_is_listed_once_and_explained() {
    let output = fluxgate().arg("rules").output().unwrap();
    assert!(output.status.success());
    let listing = String::from_utf8(output.stdout).unwrap();
    let listed: Vec<&str> = listing
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    let ids: Vec<&str> = fluxgate::rules::ALL.iter().map(|r| r.id).collect();
    assert_eq!(listed, ids, "`fluxgate rules` lists every rule, in order");
    let unique: std::collections::HashSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "rule ids are unique");
    for id in ids {
        let output = fluxgate().args(["explain", id]).output().unwrap();
        assert!(output.status.success(), "explain {id}");
        let text = String::from_utf8(output.stdout).unwrap();
        assert!(
            text.starts_with(id) && text.contains("## How to fix"),
            "{text}"
        );
        assert!(!text.contains("SKELETON"), "rule {id} is not written yet");
    }
    let output = fluxgate()
        .args(["explain", "no-such-rule"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn shallow_clone_without_the_base_commit_says_how_to_fetch_it() {
    let origin = repo_from_fixture("image-bump-deployment");
    let base = support::gitrepo::rev_sha(origin.path(), "main");
    let clone = tempfile::tempdir().unwrap();
    let url = format!("file://{}", origin.path().display());
    let status = std::process::Command::new("git")
        .args([
            "clone", "--quiet", "--depth", "1", "--branch", "feature", &url,
        ])
        .arg(clone.path().join("shallow"))
        .status()
        .unwrap();
    assert!(status.success());
    let output = fluxgate()
        .args(["check", "--offline", "--repo"])
        .arg(clone.path().join("shallow"))
        .args(["--base", &base])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(&base), "names the missing commit: {stderr}");
    for hint in ["fetch-depth: 0", "GIT_DEPTH: 0"] {
        assert!(
            stderr.contains(hint),
            "says how to fix it ({hint}): {stderr}"
        );
    }
}
