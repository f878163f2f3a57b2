//! The shell inside the YAML and the README's YAML examples: every `run:`
//! step of `action.yml`, the GitLab job script and
//! `scripts/tools/ci-validators.sh` pass shellcheck (which must also flag an
//! input expanded unquoted); every fenced `yaml` block of the README's CI
//! section parses, and its `.pre-commit-config.yaml` example passes
//! `pre-commit validate-config`.
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;
use support::integrations::{
    action, assert_accepts, assert_rejects, broken, gitlab_job_lines, offline, pre_commit,
    readme_yaml_blocks, root, run, shellcheck, write, yaml,
};

fn shellcheck_script(dir: &Path, name: &str, shell: &str, script: &str) -> Output {
    let path = write(dir, name, &format!("#!/bin/{shell}\n{script}"));
    let mut command = offline(&shellcheck());
    command.arg(&path);
    run(command)
}

#[test]
fn scripts_pass_shellcheck() {
    let dir = tempfile::tempdir().unwrap();
    // action.yml: every `run:` step as the bash it runs as.
    let action = action();
    let mut check_step = String::new();
    for step in action["runs"]["steps"].as_array().unwrap() {
        if let Some(script) = step["run"].as_str() {
            let id = step["id"].as_str().unwrap();
            assert_accepts(
                &format!("shellcheck: action.yml step {id}"),
                &shellcheck_script(dir.path(), &format!("{id}.bash"), "bash", script),
            );
            if id == "check" {
                check_step = script.to_string();
            }
        }
    }
    // The GitLab job, as the one POSIX sh script the runner makes of it.
    let lines = gitlab_job_lines();
    assert_accepts(
        "shellcheck: the GitLab job",
        &shellcheck_script(dir.path(), "gitlab.sh", "sh", &lines.join("\n")),
    );
    let mut command = offline(&shellcheck());
    command.arg(root().join("scripts/tools/ci-validators.sh"));
    assert_accepts("shellcheck: ci-validators.sh", &run(command));

    // An input expanded unquoted is what shellcheck is here for.
    let bad = broken(
        &check_step,
        "args+=(\"--base=$FLUXGATE_BASE\")",
        "args+=(--base=$FLUXGATE_BASE)",
    );
    assert_rejects(
        "shellcheck",
        &shellcheck_script(dir.path(), "bad.bash", "bash", &bad),
        "SC2206",
    );
}

#[test]
fn readme_yaml_blocks_are_yaml() {
    // Every ```yaml block in the section parses (the pre-commit config too).
    let dir = tempfile::tempdir().unwrap();
    let blocks = readme_yaml_blocks();
    assert!(blocks.len() >= 3, "{blocks:?}");
    let mut seen = BTreeMap::new();
    for (i, block) in blocks.iter().enumerate() {
        let path = write(dir.path(), &format!("block{i}.yaml"), block);
        seen.insert(i, yaml(&path));
    }
    let (i, config) = seen
        .iter()
        .find(|(_, v)| !v["repos"].is_null())
        .expect("README: a .pre-commit-config.yaml example");
    assert_eq!(config["repos"][0]["hooks"][0]["id"], "fluxgate");
    let mut command = offline(&pre_commit());
    command
        .arg("validate-config")
        .arg(dir.path().join(format!("block{i}.yaml")));
    assert_accepts("pre-commit validate-config: README example", &run(command));
}
