//! `action.yml` (a composite GitHub Action) and the README's GitHub workflow.
//!
//! Both are checked by action-validator and check-jsonschema's builtin GitHub
//! schemas, each also shown a broken copy that it must reject, so no pass is
//! vacuous. The action's `check` step is run for real: with a `fluxgate`
//! stand-in (inputs must arrive as data), then with the real binary on a pull
//! request event (annotations, SARIF, the exit code as `fail-on` says). The
//! install step and the build cache key are tested in
//! `check_integrations_github_install.rs`.
#![allow(clippy::unwrap_used)]

mod support;

use serde_json::Value;
use std::process::Command;
use support::integrations::{
    action, action_step, action_validate, assert_accepts, assert_rejects, broken, clear_ci_env,
    gitops_repo, keys, read, readme_block, readme_section, recorded, recorder, root,
    run_action_step, schema_validate, text, write, yaml,
};

#[test]
fn action_yml_is_a_valid_composite_action() {
    let path = root().join("action.yml");
    assert_accepts("action-validator: action.yml", &action_validate(&path));
    assert_accepts(
        "check-jsonschema vendor.github-actions: action.yml",
        &schema_validate("vendor.github-actions", &path),
    );

    // A typo'd key is caught by both: the validators do look.
    let dir = tempfile::tempdir().unwrap();
    let bad = write(
        dir.path(),
        "action.yml", // action-validator tells actions from workflows by this name
        &broken(
            &read("action.yml"),
            "    default: fluxgate.sarif",
            "    defualt: fluxgate.sarif",
        ),
    );
    assert_rejects("action-validator", &action_validate(&bad), "defualt");
    assert_rejects(
        "check-jsonschema",
        &schema_validate("vendor.github-actions", &bad),
        "defualt",
    );

    let action = action();
    assert_eq!(action["runs"]["using"], "composite");
    let mut inputs = keys(&action["inputs"]);
    inputs.sort_unstable();
    assert_eq!(
        inputs,
        [
            "base",
            "config",
            "fail-on",
            "head",
            "platforms",
            "sarif-file",
            "version"
        ]
    );
    assert_eq!(action["inputs"]["fail-on"]["default"], "error");
    assert_eq!(action["inputs"]["sarif-file"]["default"], "fluxgate.sarif");
    assert_eq!(
        action["outputs"]["sarif-file"]["value"],
        "${{ steps.check.outputs.sarif-file }}"
    );
    let cache = action_step(&action, "cache");
    assert_eq!(cache["uses"], "actions/cache@v4");
    assert_eq!(cache["with"]["path"], "~/.cargo/bin/fluxgate");
    // Script injection: no expression is ever pasted into a script; inputs
    // reach the scripts through `env:` only.
    for step in action["runs"]["steps"].as_array().unwrap() {
        if let Some(script) = step["run"].as_str() {
            assert!(
                !script.contains("${{"),
                "step {}: an expression inside `run:`",
                step["name"]
            );
            assert_eq!(step["shell"], "bash", "step {}", step["name"]);
        }
    }
}

#[test]
fn action_check_step_passes_inputs_as_data() {
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("argv");
    let fluxgate = recorder(dir.path(), "fluxgate", &record, 1);
    let fluxgate = fluxgate.to_str().unwrap();
    let github_output = dir.path().join("github_output");
    let pwned = dir.path().join("pwned");
    let hostile_base = format!("$(touch {})", pwned.display());
    let env = [("GITHUB_OUTPUT", github_output.to_str().unwrap())];
    let bin = [("steps.install.outputs.bin", fluxgate)];

    let output = run_action_step(
        "check",
        &[
            ("base", &hostile_base),
            ("head", "--all"),
            ("config", "ci config/fluxgate.yaml"),
            ("platforms", " linux/amd64,\n  linux/arm64 linux/arm/v7\n"),
            ("fail-on", "warning"),
            ("sarif-file", "out dir/fluxgate.sarif"),
        ],
        &bin,
        &env,
    );
    // fluxgate's exit code is the step's.
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert_eq!(
        recorded(&record),
        [
            "check".to_string(),
            "--format=github".into(),
            "--format=sarif=out dir/fluxgate.sarif".into(),
            "--fail-on=warning".into(),
            format!("--base={hostile_base}"),
            "--head=--all".into(),
            "--config=ci config/fluxgate.yaml".into(),
            "--platform=linux/amd64,linux/arm64,linux/arm/v7".into(),
        ]
    );
    assert!(!pwned.exists(), "an input was run as a command");
    assert_eq!(
        std::fs::read_to_string(&github_output).unwrap(),
        "sarif-file=out dir/fluxgate.sarif\n"
    );

    // Defaults: only what was asked for.
    std::fs::remove_file(&github_output).unwrap();
    let output = run_action_step("check", &[], &bin, &env);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert_eq!(
        recorded(&record),
        [
            "check",
            "--format=github",
            "--format=sarif=fluxgate.sarif",
            "--fail-on=error"
        ]
    );
    assert_eq!(
        std::fs::read_to_string(&github_output).unwrap(),
        "sarif-file=fluxgate.sarif\n"
    );

    // Refused before fluxgate runs: an unknown fail-on, and a file name that
    // would write a second line (another output) into GITHUB_OUTPUT.
    for (input, value) in [
        ("fail-on", "sometimes"),
        ("sarif-file", "x.sarif\nbin=/tmp/evil"),
    ] {
        let _ = std::fs::remove_file(&record);
        let _ = std::fs::remove_file(&github_output);
        let output = run_action_step("check", &[(input, value)], &bin, &env);
        assert_eq!(output.status.code(), Some(2), "{input}: {}", text(&output));
        assert!(text(&output).contains(input), "{}", text(&output));
        assert!(!record.exists(), "{input}: fluxgate ran");
        assert!(!github_output.exists(), "{input}: an output was written");
    }
}

#[test]
fn action_check_step_runs_fluxgate_on_a_pull_request() {
    // The real binary, on a pull_request event payload: annotations on
    // standard output, the SARIF file, the exit code as fail-on says.
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    let (base, head) = gitops_repo(&repo);
    let event = write(
        dir.path(),
        "event.json",
        &serde_json::json!({"pull_request": {"base": {"sha": base}, "head": {"sha": head}}})
            .to_string(),
    );
    let github_output = dir.path().join("github_output");
    let summary = dir.path().join("step_summary");
    let fluxgate = env!("CARGO_BIN_EXE_fluxgate");
    let run = |fail_on: &str| {
        let action = action();
        let step = action_step(&action, "check");
        let mut command = Command::new("bash");
        clear_ci_env(&mut command);
        command
            .args(["--noprofile", "--norc", "-eo", "pipefail", "-c"])
            .arg(step["run"].as_str().unwrap())
            .current_dir(&repo)
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_EVENT_NAME", "pull_request")
            .env("GITHUB_EVENT_PATH", &event)
            .env("GITHUB_OUTPUT", &github_output)
            .env("GITHUB_STEP_SUMMARY", &summary)
            .env("FLUXGATE", fluxgate)
            .env("FLUXGATE_FAIL_ON", fail_on)
            .env("FLUXGATE_SARIF", "fluxgate.sarif");
        for name in [
            "FLUXGATE_BASE",
            "FLUXGATE_HEAD",
            "FLUXGATE_CONFIG",
            "FLUXGATE_PLATFORMS",
        ] {
            command.env(name, "");
        }
        command.output().unwrap()
    };

    let output = run("error");
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("::error file=pvc.yaml,line=10,"),
        "{}",
        text(&output)
    );
    let sarif: Value =
        serde_json::from_str(&std::fs::read_to_string(repo.join("fluxgate.sarif")).unwrap())
            .unwrap();
    assert_eq!(sarif["runs"][0]["results"][0]["ruleId"], "pvc-shrunk");

    std::fs::remove_file(repo.join("fluxgate.sarif")).unwrap();
    let output = run("never");
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(repo.join("fluxgate.sarif").is_file());
}

#[test]
fn readme_github_workflow_is_valid() {
    let workflow = readme_block("pull_request");
    let dir = tempfile::tempdir().unwrap();
    // Not named action.yml: action-validator reads it as a workflow.
    let path = write(dir.path(), "fluxgate.yml", &workflow);
    assert_accepts("action-validator: README workflow", &action_validate(&path));
    assert_accepts(
        "check-jsonschema vendor.github-workflows: README workflow",
        &schema_validate("vendor.github-workflows", &path),
    );
    let bad = write(
        dir.path(),
        "broken.yml",
        &broken(&workflow, "runs-on:", "runs_on:"),
    );
    assert_rejects("action-validator", &action_validate(&bad), "runs_on");
    assert_rejects(
        "check-jsonschema",
        &schema_validate("vendor.github-workflows", &bad),
        "runs-on",
    );

    let workflow = yaml(&path);
    // PyYAML reads the key `on` as YAML 1.1's boolean true.
    let on = if workflow["on"].is_null() {
        &workflow["true"]
    } else {
        &workflow["on"]
    };
    assert!(keys(on).contains(&"pull_request"), "{on}");
    assert_eq!(workflow["permissions"]["contents"], "read");
    assert_eq!(workflow["permissions"]["security-events"], "write");
    let jobs = workflow["jobs"].as_object().unwrap();
    assert_eq!(jobs.len(), 1);
    let steps = jobs.values().next().unwrap()["steps"].as_array().unwrap();
    let uses = |prefix: &str| -> &Value {
        steps
            .iter()
            .find(|s| s["uses"].as_str().is_some_and(|u| u.starts_with(prefix)))
            .unwrap_or_else(|| panic!("README workflow: no step uses {prefix}"))
    };
    assert_eq!(uses("actions/checkout@")["uses"], "actions/checkout@v4");
    assert_eq!(uses("actions/checkout@")["with"]["fetch-depth"], 0);
    let fluxgate = steps
        .iter()
        .find(|s| s["uses"].as_str().is_some_and(|u| u.contains("/fluxgate@")))
        .expect("README workflow: no fluxgate step");
    let id = fluxgate["id"]
        .as_str()
        .expect("the fluxgate step needs an id");
    let action = action();
    for input in keys(&fluxgate["with"]) {
        assert!(
            !action["inputs"][input].is_null(),
            "README workflow: `{input}` is not an input of action.yml"
        );
    }
    let upload = uses("github/codeql-action/upload-sarif@");
    assert_eq!(upload["uses"], "github/codeql-action/upload-sarif@v3");
    assert!(upload["if"].as_str().unwrap().contains("always()"));
    assert_eq!(
        upload["with"]["sarif_file"],
        format!("${{{{ steps.{id}.outputs.sarif-file }}}}")
    );
    // The private-registry note.
    assert!(readme_section().contains("docker/login-action"));
}
