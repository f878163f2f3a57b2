//! Helpers shared by the CI and push integration tests
//! (`tests/check_integrations_*.rs`): the pinned validators, YAML and README
//! access, the action's steps run as scripts, stand-in programs, and small git
//! and file helpers.
//!
//! The validators (action-validator, check-jsonschema's builtin GitHub and
//! GitLab schemas, pre-commit, shellcheck) are pinned and installed under
//! `target/tools` by `scripts/tools/ci-validators.sh` (run by
//! `scripts/install-deps`). A missing tool fails the test and says so.
//! Validators run without network (in a network namespace of their own where
//! the machine allows it).

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

const INSTALL_HINT: &str =
    "run scripts/install-deps (scripts/tools/ci-validators.sh installs the pinned validators)";

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A pinned tool under `target/tools`; a missing one fails the test.
pub fn tool(relative: &str) -> PathBuf {
    let path = root().join(relative);
    assert!(
        path.is_file(),
        "{} is missing: {INSTALL_HINT}",
        path.display()
    );
    path
}

pub fn action_validator() -> PathBuf {
    tool("target/tools/ci/node_modules/.bin/action-validator")
}

pub fn check_jsonschema() -> PathBuf {
    tool("target/tools/venv/bin/check-jsonschema")
}

pub fn pre_commit() -> PathBuf {
    tool("target/tools/venv/bin/pre-commit")
}

pub fn shellcheck() -> PathBuf {
    tool("target/tools/venv/bin/shellcheck")
}

pub fn python() -> PathBuf {
    tool("target/tools/venv/bin/python")
}

/// `program` without network: in a new network namespace when the machine
/// lets us make one (root, or user namespaces), else as it is (the
/// validators make no requests; the namespace proves it where it can).
pub fn offline(program: &Path) -> Command {
    static UNSHARE: OnceLock<bool> = OnceLock::new();
    let unshare = *UNSHARE.get_or_init(|| {
        Command::new("unshare")
            .args(["-n", "true"])
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if unshare {
        let mut command = Command::new("unshare");
        command.arg("-n").arg(program);
        command
    } else {
        Command::new(program)
    }
}

pub fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

pub fn run(mut command: Command) -> Output {
    command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e} ({INSTALL_HINT})"))
}

pub fn assert_accepts(what: &str, output: &Output) {
    assert!(
        output.status.success(),
        "{what} rejected:\n{}",
        text(output)
    );
}

/// The validator must fail, and its message must name what is wrong.
pub fn assert_rejects(what: &str, output: &Output, needle: &str) {
    let message = text(output);
    assert!(
        !output.status.success(),
        "{what}: a broken file was accepted:\n{message}"
    );
    assert!(
        message.contains(needle),
        "{what}: the rejection does not mention `{needle}`:\n{message}"
    );
}

pub fn action_validate(path: &Path) -> Output {
    let mut command = offline(&action_validator());
    command.arg(path);
    run(command)
}

/// check-jsonschema with one of its builtin (vendored) schemas.
pub fn schema_validate(schema: &str, path: &Path) -> Output {
    let mut command = offline(&check_jsonschema());
    command.args(["--builtin-schema", schema]);
    if schema == "vendor.gitlab-ci" {
        // As check-jsonschema's own GitLab hook does (`!reference` tags).
        command.args(["--data-transform", "gitlab-ci"]);
    }
    command.arg(path);
    run(command)
}

/// A YAML file as JSON, read with PyYAML from the tools' venv.
pub fn yaml(path: &Path) -> Value {
    let mut command = Command::new(python());
    command
        .args([
            "-c",
            "import json, sys, yaml; json.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout)",
        ])
        .arg(path);
    let output = run(command);
    assert_accepts(&format!("PyYAML on {}", path.display()), &output);
    serde_json::from_slice(&output.stdout).unwrap()
}

pub fn read(relative: &str) -> String {
    std::fs::read_to_string(root().join(relative)).unwrap()
}

/// `text` with `from` replaced once; `from` must occur.
pub fn broken(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "`{from}` not found to break");
    text.replacen(from, to, 1)
}

pub fn write(dir: &Path, name: &str, content: &str) -> PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&path, content).unwrap();
    path
}

pub fn executable(dir: &Path, name: &str, script: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = write(dir, name, script);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// The README section the integration tests check.
pub fn readme_section() -> String {
    let readme = read("README.md");
    let start = readme
        .find("\n## Running in CI and before push\n")
        .expect("README: section `## Running in CI and before push`");
    let rest = &readme[start + 1..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |i| i + 3);
    rest[..end].to_string()
}

/// The section's fenced ```yaml blocks.
pub fn readme_yaml_blocks() -> Vec<String> {
    let section = readme_section();
    let mut blocks = Vec::new();
    let mut rest = section.as_str();
    while let Some(start) = rest.find("```yaml\n") {
        let body = &rest[start + "```yaml\n".len()..];
        let end = body.find("```").expect("unterminated ```yaml block");
        blocks.push(body[..end].to_string());
        rest = &body[end + 3..];
    }
    blocks
}

pub fn readme_block(containing: &str) -> String {
    let blocks: Vec<String> = readme_yaml_blocks()
        .into_iter()
        .filter(|b| b.contains(containing))
        .collect();
    assert_eq!(
        blocks.len(),
        1,
        "README: expected one ```yaml block with `{containing}` in the CI section"
    );
    blocks.into_iter().next().unwrap()
}

pub fn keys(value: &Value) -> Vec<&str> {
    value
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default()
}

pub fn action() -> Value {
    yaml(&root().join("action.yml"))
}

pub fn action_step<'a>(action: &'a Value, id: &str) -> &'a Value {
    action["runs"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id)
        .unwrap_or_else(|| panic!("action.yml: no step with id `{id}`"))
}

/// Leaves out what the CI running these tests would set: the scripts under
/// test get only what each test gives them.
pub fn clear_ci_env(command: &mut Command) {
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name.starts_with("GITHUB_")
            || name.starts_with("RUNNER_")
            || name.starts_with("CI_")
            || name.starts_with("FLUXGATE")
            || ["CI", "GITLAB_CI"].contains(&name.as_ref())
        {
            command.env_remove(name.as_ref());
        }
    }
}

pub const PVC: &str = "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: data\n  namespace: db\nspec:\n  accessModes: [ReadWriteOnce]\n  resources:\n    requests:\n      storage: 10Gi\n";

/// A GitOps repository at `dir` whose branch `shrink` shrinks a claim (rule
/// `pvc-shrunk`, an error) on top of `main`; returns (main, shrink) commits.
pub fn gitops_repo(dir: &Path) -> (String, String) {
    git_ok(
        dir.parent().unwrap(),
        &["init", "--quiet", dir.to_str().unwrap()],
    );
    write(dir, "pvc.yaml", PVC);
    git_ok(dir, &["add", "-A"]);
    git_ok(dir, &["commit", "--quiet", "-m", "base"]);
    let base = git_ok(dir, &["rev-parse", "HEAD"]);
    git_ok(dir, &["checkout", "--quiet", "-b", "shrink"]);
    write(dir, "pvc.yaml", &PVC.replace("10Gi", "5Gi"));
    git_ok(dir, &["commit", "--quiet", "-am", "shrink the claim"]);
    (base, git_ok(dir, &["rev-parse", "HEAD"]))
}

/// Runs one step of action.yml: its script, with its `env:` evaluated the way
/// the runner would (inputs, else their defaults; `steps.*` from `outputs`).
pub fn run_action_step(
    id: &str,
    inputs: &[(&str, &str)],
    steps: &[(&str, &str)],
    env: &[(&str, &str)],
) -> Output {
    let action = action();
    let step = action_step(&action, id);
    let mut command = Command::new("bash");
    command
        .args(["--noprofile", "--norc", "-eo", "pipefail", "-c"])
        .arg(step["run"].as_str().unwrap());
    clear_ci_env(&mut command);
    let expression = |template: &str| -> String {
        let inner = template
            .trim()
            .strip_prefix("${{")
            .and_then(|t| t.strip_suffix("}}"))
            .unwrap_or_else(|| panic!("step {id}: env value `{template}` is not one expression"))
            .trim()
            .to_string();
        if let Some(name) = inner.strip_prefix("inputs.") {
            inputs
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_string())
                .unwrap_or_else(|| {
                    action["inputs"][name]["default"]
                        .as_str()
                        .unwrap_or_else(|| panic!("no input `{name}`"))
                        .to_string()
                })
        } else {
            steps
                .iter()
                .find(|(n, _)| *n == inner)
                .map(|(_, v)| (*v).to_string())
                .unwrap_or_default()
        }
    };
    if let Some(vars) = step["env"].as_object() {
        for (name, template) in vars {
            command.env(name, expression(template.as_str().unwrap()));
        }
    }
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().unwrap()
}

/// A stand-in program that writes its arguments, NUL-separated, to `record`,
/// then exits with `code`.
pub fn recorder(dir: &Path, name: &str, record: &Path, code: i32) -> PathBuf {
    executable(
        dir,
        name,
        &format!(
            "#!/bin/sh\nprintf '%s\\0' \"$@\" >'{}'\nexit {code}\n",
            record.display()
        ),
    )
}

pub fn recorded(record: &Path) -> Vec<String> {
    let bytes =
        std::fs::read(record).unwrap_or_else(|e| panic!("{} was not run: {e}", record.display()));
    let text = String::from_utf8(bytes).unwrap();
    text.strip_suffix('\0')
        .unwrap_or(&text)
        .split('\0')
        .map(str::to_string)
        .collect()
}

pub fn git(dir: &Path, args: &[&str]) -> Output {
    Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
        .args([
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .output()
        .unwrap()
}

pub fn git_ok(dir: &Path, args: &[&str]) -> String {
    let output = git(dir, args);
    assert!(output.status.success(), "git {args:?}: {}", text(&output));
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// The GitLab template's `.fluxgate` job as the runner runs it: `before_script`
/// then `script`, one shell line each.
pub fn gitlab_job_lines() -> Vec<String> {
    let pipeline = yaml(&root().join("ci/gitlab/fluxgate.gitlab-ci.yml"));
    let job = &pipeline[".fluxgate"];
    ["before_script", "script"]
        .iter()
        .flat_map(|part| {
            job[*part]
                .as_array()
                .expect("a list of script lines")
                .clone()
        })
        .map(|line| line.as_str().expect("a script line").to_string())
        .collect()
}
