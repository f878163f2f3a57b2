//! The output formats: one pull request (`fixtures/output-formats`: an
//! invalid reference, a `${VAR}` reference, a duplicate key, a resized PVC,
//! a removed CRD on the base side, a suppressed StatefulSet finding, a chart
//! major upgrade note) rendered in all six formats and snapshot-tested;
//! SARIF checked by Microsoft's validator; fingerprint stability; the GitHub
//! job summary; GitLab paths under `CI_PROJECT_DIR`.
#![allow(clippy::unwrap_used)]

mod support;

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use support::gitrepo::{check, fixture_dir, fluxgate, repo_from_dirs, repo_from_fixture, Run};

const FIXTURE: &str = "output-formats";

/// The files one run wrote, besides JSON on standard output.
struct Outputs {
    run: Run,
    sarif: String,
    github: String,
    gitlab: String,
    junit: String,
    _dir: tempfile::TempDir,
}

/// `fluxgate check --offline` with JSON on stdout and the four CI formats in files.
fn run_all_formats(repo: tempfile::TempDir) -> Outputs {
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str| dir.path().join(name);
    let spec = |format: &str, name: &str| format!("{format}={}", file(name).display());
    let output = fluxgate()
        .arg("check")
        .arg("--repo")
        .arg(repo.path())
        .args(["--offline", "--format", "json"])
        .args(["--format", &spec("sarif", "x.sarif")])
        .args(["--format", &spec("github", "gh.txt")])
        .args(["--format", &spec("gitlab", "cq.json")])
        .args(["--format", &spec("junit", "j.xml")])
        .output()
        .unwrap();
    let run = Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        repo,
    };
    assert_eq!(run.code, Some(1), "{}\n{}", run.stdout, run.stderr);
    let read = |name: &str| std::fs::read_to_string(file(name)).unwrap();
    Outputs {
        sarif: read("x.sarif"),
        github: read("gh.txt"),
        gitlab: read("cq.json"),
        junit: read("j.xml"),
        run,
        _dir: dir,
    }
}

/// The SARIF text with the crate version (which moves on every release) replaced.
fn without_version(sarif: &str) -> String {
    let version = env!("CARGO_PKG_VERSION");
    sarif
        .replace(
            &format!("\"version\": \"{version}\""),
            "\"version\": \"[version]\"",
        )
        .replace(
            &format!("\"semanticVersion\": \"{version}\""),
            "\"semanticVersion\": \"[version]\"",
        )
}

#[test]
fn one_pull_request_in_all_six_formats() {
    let out = run_all_formats(repo_from_fixture(FIXTURE));
    let json = out.run.json();
    assert_eq!(json["base"], out.run.sha("main"));
    assert_eq!(json["head"], out.run.sha("feature"));
    insta::assert_snapshot!("output-formats.json", out.run.stdout);
    insta::assert_snapshot!("output-formats.sarif", without_version(&out.sarif));
    insta::assert_snapshot!("output-formats.github", out.github);
    insta::assert_snapshot!("output-formats.gitlab", out.gitlab);
    insta::assert_snapshot!("output-formats.junit", out.junit);

    let human = check(FIXTURE, &["--offline"]);
    assert_eq!(human.code, Some(1), "{}", human.stderr);
    insta::assert_snapshot!("output-formats.human", human.stdout);

    // The fixture covers what it claims to.
    let findings = json["findings"].as_array().unwrap();
    let rules: Vec<&str> = findings
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    for rule in [
        "image-reference-invalid",
        "image-unresolved",
        "yaml-duplicate-key",
        "pvc-resized",
        "crd-removed",
        "helm-chart-major-upgrade",
    ] {
        assert!(rules.contains(&rule), "{rule} in {rules:?}");
    }
    assert_eq!(json["summary"]["suppressed"], 1);
    assert!(findings.iter().any(|f| f["side"] == "base"));
    assert!(findings.iter().any(|f| f["severity"] == "note"));

    // SARIF: one result per finding, at the same place (end exclusive).
    let sarif: Value = serde_json::from_str(&out.sarif).unwrap();
    let run = &sarif["runs"][0];
    assert_eq!(run["columnKind"], "unicodeCodePoints");
    let rules_listed = run["tool"]["driver"]["rules"].as_array().unwrap();
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), findings.len());
    for (result, finding) in results.iter().zip(findings) {
        assert_eq!(result["ruleId"], finding["rule"]);
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules_listed[index]["id"], finding["rule"]);
        let location = &result["locations"][0]["physicalLocation"];
        assert_eq!(location["artifactLocation"]["uri"], finding["file"]);
        assert_eq!(location["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        assert_eq!(location["region"]["startLine"], finding["line"]);
        assert_eq!(location["region"]["startColumn"], finding["column"]);
        let base = finding["side"] == "base";
        assert_eq!(result["properties"]["side"] == "base", base, "{result:#}");
    }
    // The invalid reference's `Acme`: column 39 in code points (`é` before
    // it is one), and SARIF's exclusive end is four characters on.
    let invalid = results
        .iter()
        .find(|r| r["ruleId"] == "image-reference-invalid")
        .unwrap();
    let invalid = &invalid["locations"][0]["physicalLocation"]["region"];
    assert_eq!(invalid["startColumn"], 39);
    assert_eq!(invalid["endColumn"], 43);

    // GitHub: one workflow command per finding.
    assert_eq!(out.github.lines().count(), findings.len());
    assert!(out.github.lines().all(|l| l.starts_with("::")));

    // GitLab: fingerprints unique.
    let gitlab: Value = serde_json::from_str(&out.gitlab).unwrap();
    let issues = gitlab.as_array().unwrap();
    assert_eq!(issues.len(), findings.len());
    let unique: BTreeSet<&str> = issues
        .iter()
        .map(|i| i["fingerprint"].as_str().unwrap())
        .collect();
    assert_eq!(unique.len(), issues.len());

    // JUnit: the counts add up.
    let count = |needle: &str| out.junit.matches(needle).count();
    assert_eq!(count("<testcase "), 3 + ::fluxgate::rules::ALL.len());
    assert!(out.junit.contains(&format!(
        "<testsuites name=\"fluxgate\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\">",
        count("<testcase "),
        count("<failure "),
        count("<skipped ")
    )));
}

// ---------------------------------------------------------------------------------------------
// Microsoft's SARIF validator

/// `@microsoft/sarif-multitool`, installed by `scripts/tools/sarif.sh`.
fn multitool() -> PathBuf {
    let tool = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/tools/sarif/node_modules/.bin/sarif-multitool");
    assert!(
        tool.exists(),
        "the SARIF validator is not installed at {}: run `scripts/install-deps` \
         (or `scripts/tools/sarif.sh`) first",
        tool.display()
    );
    tool
}

/// The validator's own rule URIs would make it fetch every URI in the log
/// (SARIF2006): tests stay off the network.
const VALIDATOR_CONFIG: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<Properties>
  <Properties Key="SARIF2006.UrisShouldBeReachable.Options">
    <Property Key="RuleEnabled" Value="Disabled" Type="Driver.RuleEnabledState" />
  </Properties>
</Properties>
"#;

/// One problem the validator reported.
#[derive(Debug)]
struct Problem {
    level: String,
    rule: String,
    file: String,
}

/// Runs `sarif-multitool validate` on `files` (default rules, then GitHub's
/// ingestion rules) and returns the errors and warnings it reported, with
/// its console output for messages.
fn validate(files: &[&Path]) -> (Vec<Problem>, String) {
    let tool = multitool();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.xml");
    std::fs::write(&config, VALIDATOR_CONFIG).unwrap();
    let mut problems = Vec::new();
    let mut console = String::new();
    for (i, kind) in [None, Some("Gh")].into_iter().enumerate() {
        let log = dir.path().join(format!("validation-{i}.sarif"));
        let mut command = Command::new(&tool);
        // The npm wrapper runs the tool through a shell: no spaces in these paths.
        command
            .arg("validate")
            .args(files)
            .arg("--output")
            .arg(&log);
        command.arg("--config").arg(&config);
        if let Some(kind) = kind {
            command.args(["--rule-kind", kind]);
        }
        let output = command.output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            output.status.success(),
            "sarif-multitool failed to run ({}):\n{text}",
            output.status
        );
        console.push_str(&text);
        let log: Value = serde_json::from_str(&std::fs::read_to_string(&log).unwrap()).unwrap();
        let run = &log["runs"][0];
        assert_eq!(run["invocations"][0]["executionSuccessful"], true, "{text}");
        for result in run["results"].as_array().unwrap() {
            // SARIF's default level is `warning`.
            let level = result["level"].as_str().unwrap_or("warning");
            if level == "error" || level == "warning" {
                problems.push(Problem {
                    level: level.to_string(),
                    rule: result["ruleId"].as_str().unwrap_or_default().to_string(),
                    file: result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                });
            }
        }
    }
    (problems, console)
}

#[test]
fn sarif_passes_microsofts_validator() {
    let started = std::time::Instant::now();
    let out = run_all_formats(repo_from_fixture(FIXTURE));
    let dir = tempfile::tempdir().unwrap();
    let with_findings = dir.path().join("findings.sarif");
    std::fs::write(&with_findings, &out.sarif).unwrap();
    // A clean run (no results) must be valid too.
    let clean = check("labels-only-change", &["--offline", "--format", "sarif"]);
    assert_eq!(clean.code, Some(0), "{}", clean.stderr);
    let without = dir.path().join("clean.sarif");
    std::fs::write(&without, &clean.stdout).unwrap();

    let (problems, console) = validate(&[&with_findings, &without]);
    assert!(
        problems.is_empty(),
        "the validator reported {problems:#?}\n{console}"
    );
    eprintln!("validated in {:?}", started.elapsed());
}

#[test]
fn the_validator_rejects_a_broken_sarif() {
    let out = run_all_formats(repo_from_fixture(FIXTURE));
    let dir = tempfile::tempdir().unwrap();
    let mut log: Value = serde_json::from_str(&out.sarif).unwrap();
    log["version"] = "1.0".into();
    let wrong_version = dir.path().join("version.sarif");
    std::fs::write(&wrong_version, serde_json::to_string(&log).unwrap()).unwrap();
    let mut log: Value = serde_json::from_str(&out.sarif).unwrap();
    log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] =
        0.into();
    let line_zero = dir.path().join("line.sarif");
    std::fs::write(&line_zero, serde_json::to_string(&log).unwrap()).unwrap();

    let (problems, console) = validate(&[&wrong_version, &line_zero]);
    let errors = |file: &str| -> Vec<&str> {
        problems
            .iter()
            .filter(|p| p.level == "error" && p.file.ends_with(file))
            .map(|p| p.rule.as_str())
            .collect()
    };
    // JSON1019: a value outside the schema's enum; JSON1008: below a minimum.
    assert!(
        errors("version.sarif").contains(&"JSON1019"),
        "{problems:#?}\n{console}"
    );
    assert!(
        errors("line.sarif").contains(&"JSON1008"),
        "{problems:#?}\n{console}"
    );
}

// ---------------------------------------------------------------------------------------------
// Fingerprints

/// Copies `from` into `to`, putting `line` at the top of every YAML file.
fn copy_with_line_on_top(from: &Path, to: &Path, line: &str) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_with_line_on_top(&path, &target, line);
        } else {
            let text = std::fs::read_to_string(&path).unwrap();
            std::fs::write(&target, format!("{line}\n{text}")).unwrap();
        }
    }
}

#[test]
fn fingerprints_survive_an_unrelated_line_above() {
    let before = run_all_formats(repo_from_fixture(FIXTURE));
    let moved = tempfile::tempdir().unwrap();
    for side in ["base", "head"] {
        copy_with_line_on_top(
            &fixture_dir(FIXTURE).join(side),
            &moved.path().join(side),
            "# an unrelated comment",
        );
    }
    let after = run_all_formats(repo_from_dirs(
        "output-formats-moved",
        &moved.path().join("base"),
        &moved.path().join("head"),
    ));

    let sarif = |text: &str| -> Vec<(String, u64, String)> {
        let log: Value = serde_json::from_str(text).unwrap();
        log["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["ruleId"].as_str().unwrap().to_string(),
                    r["locations"][0]["physicalLocation"]["region"]["startLine"]
                        .as_u64()
                        .unwrap(),
                    r["partialFingerprints"]["fluxgateFinding/v1"]
                        .as_str()
                        .unwrap()
                        .to_string(),
                )
            })
            .collect()
    };
    let (before_sarif, after_sarif) = (sarif(&before.sarif), sarif(&after.sarif));
    assert_eq!(before_sarif.len(), after_sarif.len());
    for (b, a) in before_sarif.iter().zip(&after_sarif) {
        assert_eq!(a.0, b.0);
        assert_eq!(a.1, b.1 + 1, "{} moved down a line", a.0);
        assert_eq!(a.2, b.2, "{} keeps its fingerprint", a.0);
    }
    let gitlab = |text: &str| -> Vec<String> {
        let issues: Value = serde_json::from_str(text).unwrap();
        issues
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["fingerprint"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(gitlab(&before.gitlab), gitlab(&after.gitlab));
    let sarif_prints: Vec<String> = before_sarif.into_iter().map(|r| r.2).collect();
    assert_eq!(
        gitlab(&before.gitlab),
        sarif_prints,
        "one fingerprint per finding"
    );
}

// ---------------------------------------------------------------------------------------------
// GitHub job summary

#[test]
fn github_job_summary_is_appended_to_github_step_summary() {
    let repo = repo_from_fixture(FIXTURE);
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("summary.md");
    std::fs::write(&summary, "## an earlier step\n\n").unwrap();
    let run = |format: &str, summary: &Path| {
        fluxgate()
            .args(["check", "--offline", "--format", format, "--repo"])
            .arg(repo.path())
            .env("GITHUB_STEP_SUMMARY", summary)
            .output()
            .unwrap()
    };

    let output = run("github", &summary);
    assert_eq!(output.status.code(), Some(1));
    let text = std::fs::read_to_string(&summary).unwrap();
    let appended = text
        .strip_prefix("## an earlier step\n\n")
        .expect("what was there is kept");
    insta::assert_snapshot!("output-formats.step-summary", appended);
    // GitHub shows few annotations; the summary lists every finding.
    let annotations = String::from_utf8(output.stdout).unwrap();
    assert_eq!(
        appended.matches("\n| ").count(),
        2 + 3 + annotations.lines().count(),
        "a header per table, a row per image and per finding"
    );

    // A missing file is created.
    let fresh = dir.path().join("fresh.md");
    run("github", &fresh);
    assert_eq!(std::fs::read_to_string(&fresh).unwrap(), appended);

    // Without GitHub output, the summary is left alone.
    let untouched = dir.path().join("untouched.md");
    run("json", &untouched);
    assert!(!untouched.exists());
}

// ---------------------------------------------------------------------------------------------
// GitLab paths

#[test]
fn gitlab_paths_are_relative_to_ci_project_dir() {
    let repo = repo_from_fixture(FIXTURE);
    let paths = |project_dir: Option<&Path>| -> Vec<String> {
        let mut command = fluxgate();
        command
            .args(["check", "--offline", "--format", "gitlab", "--repo"])
            .arg(repo.path());
        if let Some(dir) = project_dir {
            command.env("CI_PROJECT_DIR", dir);
        }
        let output = command.output().unwrap();
        let issues: Value = serde_json::from_slice(&output.stdout).unwrap();
        issues
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["location"]["path"].as_str().unwrap().to_string())
            .collect()
    };
    let plain = paths(None);
    assert!(plain.contains(&"apps/db/pvc.yaml".to_string()), "{plain:?}");

    // The repository is a subdirectory of the project: its path is prefixed.
    let parent = repo.path().parent().unwrap();
    let name = repo.path().file_name().unwrap().to_str().unwrap();
    let prefixed: Vec<String> = plain.iter().map(|p| format!("{name}/{p}")).collect();
    assert_eq!(paths(Some(parent)), prefixed);
    // The repository is the project, or is not inside it: paths as they are.
    assert_eq!(paths(Some(repo.path())), plain);
    let elsewhere = tempfile::tempdir().unwrap();
    assert_eq!(paths(Some(elsewhere.path())), plain);
}
