//! The GitLab template `ci/gitlab/fluxgate.gitlab-ci.yml` and the README's
//! GitLab snippet: valid pipelines by check-jsonschema's builtin GitLab schema
//! (shown a broken copy too, which it must reject), and the `.fluxgate` job's
//! script run for real: with `fluxgate` and `cargo` stand-ins (install modes,
//! variables passed as data, registry credentials), then with the real binary
//! in a merge request pipeline (code quality and JUnit reports).
#![allow(clippy::unwrap_used)]

mod support;

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};
use support::integrations::{
    assert_accepts, assert_rejects, broken, clear_ci_env, executable, gitlab_job_lines,
    gitops_repo, keys, read, readme_block, recorded, root, schema_validate, text, write, yaml,
};

#[test]
fn gitlab_template_and_readme_snippet_are_valid_pipelines() {
    let template = root().join("ci/gitlab/fluxgate.gitlab-ci.yml");
    assert_accepts(
        "check-jsonschema vendor.gitlab-ci: the template",
        &schema_validate("vendor.gitlab-ci", &template),
    );
    // The schema does not look into hidden jobs (`.name`): validate the
    // `.fluxgate` job's body again as a job of its own.
    let dir = tempfile::tempdir().unwrap();
    let exposed =
        read("ci/gitlab/fluxgate.gitlab-ci.yml").replace("\n.fluxgate:\n", "\nfluxgate-body:\n");
    assert!(exposed.contains("\nfluxgate-body:\n"));
    let exposed_path = write(dir.path(), "exposed.gitlab-ci.yml", &exposed);
    assert_accepts(
        "check-jsonschema vendor.gitlab-ci: the .fluxgate job as a job",
        &schema_validate("vendor.gitlab-ci", &exposed_path),
    );
    let snippet = readme_block("include:");
    let snippet_path = write(dir.path(), ".gitlab-ci.yml", &snippet);
    assert_accepts(
        "check-jsonschema vendor.gitlab-ci: the README snippet",
        &schema_validate("vendor.gitlab-ci", &snippet_path),
    );
    let bad = write(
        dir.path(),
        "broken.gitlab-ci.yml",
        &broken(&exposed, "  interruptible: true", "  interruptable: true"),
    );
    assert_rejects(
        "check-jsonschema",
        &schema_validate("vendor.gitlab-ci", &bad),
        "interruptable",
    );

    let pipeline = yaml(&template);
    let job = &pipeline[".fluxgate"];
    assert_eq!(job["image"], "rust:1-bookworm");
    assert_eq!(job["variables"]["GIT_DEPTH"], "0");
    assert_eq!(
        job["rules"][0]["if"],
        "$CI_PIPELINE_SOURCE == \"merge_request_event\""
    );
    assert_eq!(job["artifacts"]["when"], "always");
    assert_eq!(
        job["artifacts"]["reports"]["codequality"],
        "gl-code-quality-report.json"
    );
    assert_eq!(job["artifacts"]["reports"]["junit"], "fluxgate-junit.xml");
    assert_eq!(pipeline["fluxgate"]["extends"], ".fluxgate");
    assert_eq!(keys(&pipeline["fluxgate"]), ["extends"]);

    let snippet = yaml(&snippet_path);
    let include = &snippet["include"][0];
    assert_eq!(include["file"], "ci/gitlab/fluxgate.gitlab-ci.yml");
}

/// Runs the template's `.fluxgate` job script (before_script, then script,
/// in one shell as the runner does) with POSIX `sh`, stand-ins first on PATH.
fn run_gitlab_job(dir: &Path, vars: &[(&str, &str)]) -> Output {
    let lines = gitlab_job_lines();
    let project = dir.join("project");
    std::fs::create_dir_all(&project).unwrap();
    let mut command = Command::new("sh");
    clear_ci_env(&mut command);
    command
        .arg("-c")
        .arg(lines.join("\n"))
        .current_dir(&project)
        .env(
            "PATH",
            format!(
                "{}:{}",
                dir.join("stubs").display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .env("HOME", dir.join("home"))
        .env("CI_PROJECT_DIR", &project);
    for name in ["DOCKER_CONFIG", "DOCKER_AUTH_CONFIG"] {
        command.env_remove(name);
    }
    for (name, value) in vars {
        command.env(name, value);
    }
    command.output().unwrap()
}

#[test]
fn gitlab_job_script_installs_and_runs_fluxgate() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let stubs = dir.join("stubs");
    let argv = dir.join("fluxgate-argv");
    // The stand-in fluxgate also shows which registry credentials it was given.
    executable(
        &stubs,
        "fluxgate",
        &format!(
            "#!/bin/sh\n[ \"$1\" = --version ] && {{ echo fluxgate stub; exit 0; }}\nprintf '%s\\0' \"$@\" >'{}'\ncat \"$DOCKER_CONFIG/config.json\" >'{}' 2>/dev/null\nexit 1\n",
            argv.display(),
            dir.join("docker-config").display()
        ),
    );
    let cargo_argv = dir.join("cargo-argv");
    executable(
        &stubs,
        "cargo",
        &format!(
            "#!/bin/sh\nprintf '%s\\0' \"$@\" >'{}'\nroot=\nprev=\nfor a in \"$@\"; do [ \"$prev\" = --root ] && root=$a; prev=$a; done\nmkdir -p \"$root/bin\"\nln -sf '{}' \"$root/bin/fluxgate\"\n",
            cargo_argv.display(),
            stubs.join("fluxgate").display()
        ),
    );

    // Without FLUXGATE_INSTALL: a clear stop.
    let output = run_gitlab_job(dir, &[]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("set FLUXGATE_INSTALL"));

    // `none`: the image's fluxgate, every variable passed as data; fluxgate's
    // exit code is the job's; DOCKER_AUTH_CONFIG becomes its config.json.
    let output = run_gitlab_job(
        dir,
        &[
            ("FLUXGATE_INSTALL", "none"),
            ("FLUXGATE_FAIL_ON", "warning"),
            ("FLUXGATE_PLATFORMS", "linux/amd64,linux/arm64"),
            ("FLUXGATE_CONFIG", "ci/flux gate.yaml"),
            ("FLUXGATE_ARGS", "--timeout 120 *"),
            ("DOCKER_AUTH_CONFIG", r#"{"auths":{"registry.example":{}}}"#),
        ],
    );
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert_eq!(
        recorded(&argv),
        [
            "check",
            "--format=human",
            "--format=gitlab=gl-code-quality-report.json",
            "--format=junit=fluxgate-junit.xml",
            "--fail-on=warning",
            "--config=ci/flux gate.yaml",
            "--platform=linux/amd64,linux/arm64",
            "--timeout",
            "120",
            "*",
        ]
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("docker-config")).unwrap(),
        r#"{"auths":{"registry.example":{}}}"#
    );
    assert!(!cargo_argv.exists());

    // A git URL at a tag: cargo install --locked into a cached root per
    // source; the job token logs in to the project's registry.
    let output = run_gitlab_job(
        dir,
        &[
            (
                "FLUXGATE_INSTALL",
                "https://gitlab.example/tools/fluxgate.git",
            ),
            ("FLUXGATE_VERSION", "v0.2.0"),
            ("CI_REGISTRY", "registry.gitlab.example"),
            ("CI_REGISTRY_USER", "gitlab-ci-token"),
            ("CI_REGISTRY_PASSWORD", "job-token"),
        ],
    );
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let cargo = recorded(&cargo_argv);
    assert_eq!(cargo[..3], ["install", "--locked", "--root"]);
    assert!(
        cargo[3].starts_with(&format!("{}/.fluxgate/", dir.join("project").display())),
        "{cargo:?}"
    );
    assert_eq!(
        cargo[4..],
        [
            "--git",
            "https://gitlab.example/tools/fluxgate.git",
            "--tag",
            "v0.2.0",
            "fluxgate"
        ]
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("docker-config")).unwrap(),
        // base64("gitlab-ci-token:job-token")
        r#"{"auths":{"registry.gitlab.example":{"auth":"Z2l0bGFiLWNpLXRva2VuOmpvYi10b2tlbg=="}}}"#
    );
    assert_eq!(
        recorded(&argv)[..5],
        [
            "check",
            "--format=human",
            "--format=gitlab=gl-code-quality-report.json",
            "--format=junit=fluxgate-junit.xml",
            "--fail-on=error"
        ]
    );

    // A commit id pins with --rev; a directory builds with --path.
    let commit = "0123456789abcdef0123456789abcdef01234567";
    run_gitlab_job(
        dir,
        &[
            (
                "FLUXGATE_INSTALL",
                "https://gitlab.example/tools/fluxgate.git",
            ),
            ("FLUXGATE_VERSION", commit),
        ],
    );
    assert_eq!(recorded(&cargo_argv)[6..], ["--rev", commit, "fluxgate"]);
    run_gitlab_job(dir, &[("FLUXGATE_INSTALL", "tools/fluxgate")]);
    let cargo = recorded(&cargo_argv);
    assert_eq!(cargo[..3], ["install", "--locked", "--root"]);
    assert_eq!(cargo[4..], ["--path", "tools/fluxgate"]);
}

#[test]
fn gitlab_job_runs_fluxgate_on_a_merge_request() {
    // The real binary (FLUXGATE_INSTALL=none: the image has it) in a merge
    // request pipeline: both reports written, the job fails on the error.
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let (base, head) = gitops_repo(&dir.join("project"));
    std::fs::create_dir_all(dir.join("stubs")).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_fluxgate"), dir.join("stubs/fluxgate")).unwrap();
    let output = run_gitlab_job(
        dir,
        &[
            ("GITLAB_CI", "true"),
            ("CI_PIPELINE_SOURCE", "merge_request_event"),
            ("CI_MERGE_REQUEST_DIFF_BASE_SHA", &base),
            ("CI_COMMIT_SHA", &head),
            ("FLUXGATE_INSTALL", "none"),
            ("FLUXGATE_ARGS", "--offline"),
        ],
    );
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(text(&output).contains("pvc-shrunk"), "{}", text(&output));
    let quality: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("project/gl-code-quality-report.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(quality[0]["check_name"], "pvc-shrunk");
    assert_eq!(quality[0]["location"]["path"], "pvc.yaml");
    let junit = std::fs::read_to_string(dir.join("project/fluxgate-junit.xml")).unwrap();
    assert!(junit.contains("pvc-shrunk"), "{junit}");
}
