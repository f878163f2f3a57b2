//! `fluxgate check` against real registries (CNCF distribution, started on
//! 127.0.0.1 by the harness and seeded with skopeo): exists, missing,
//! platforms, digests, each auth path, TLS trust, deduplication.
#![allow(clippy::unwrap_used)]

#[path = "support/registry/mod.rs"]
mod registry;
mod support;

use registry::{OciLayout, TestRegistry};
use std::path::Path;
use support::gitrepo::{repo_from_dirs, repo_from_fixture};
use support::isolated::{findings, image, Isolated};

/// `.fluxgate.yaml` pointing `registry.test` at the test registry.
fn config(env: &Isolated, registry: &TestRegistry) -> std::path::PathBuf {
    let ca = registry.is_tls().then(|| registry.ca_pem_path());
    env.config(&registry.host(), ca, "")
}

/// Runs fluxgate: (exit code, report, stderr).
fn run(
    env: &Isolated,
    repo: &Path,
    config: &Path,
    extra: &[&str],
) -> (i32, serde_json::Value, String) {
    let mut args = vec!["--timeout", "20"];
    args.extend_from_slice(extra);
    let out = env.run(repo, config, &args);
    (out.code, out.json, out.stderr)
}

/// The issue's acceptance case: a good tag, a typo'd tag and an amd64-only
/// image checked for linux/arm64 exit 1 with exactly two errors.
#[test]
fn good_typo_and_missing_platform() {
    let registry = TestRegistry::plain();
    let good = OciLayout::multi_arch();
    let good_digest = registry.push(&good, "org/app:v2");
    registry.push(&OciLayout::image("linux", "amd64"), "org/exporter:v1");
    let repo = repo_from_fixture("registry-verification");
    let env = Isolated::new();
    let config = config(&env, &registry);
    let mark = registry.mark();
    let (code, json, stderr) = run(&env, repo.path(), &config, &["--platform", "linux/arm64"]);
    assert_eq!(code, 1, "{json:#}\n{stderr}");
    assert_eq!(
        findings(&json),
        [
            ("image-not-found".to_string(), 17, 18),
            ("image-platform-missing".to_string(), 22, 18)
        ]
    );
    let app = image(&json, "org/app:v2");
    assert_eq!(app["status"], "exists");
    assert_eq!(app["digest"], good_digest);
    assert_eq!(
        (app["line"].as_u64(), app["column"].as_u64()),
        (Some(20), Some(18))
    );
    let typo = image(&json, "org/app:v2.0.1");
    assert_eq!(typo["status"], "missing");
    let exporter = image(&json, "org/exporter:v1");
    assert_eq!(exporter["status"], "exists");
    let message = json["findings"][1]["message"].as_str().unwrap();
    assert!(
        message.contains("linux/arm64") && message.contains("linux/amd64"),
        "{message}"
    );
    // One HEAD per unique reference, one ping for the registry.
    assert_eq!(
        registry.count_requests_since(mark, "HEAD", "/manifests/"),
        3
    );
    assert_eq!(
        registry.count_requests_since(mark, "GET", "/v2/"),
        1 + 2 + 1,
        "ping + 2 manifest GETs for platforms + 1 config blob"
    );
}

#[test]
fn every_reference_is_checked_once_however_often_it_appears() {
    let registry = TestRegistry::plain();
    registry.push(&OciLayout::image("linux", "amd64"), "org/app:v1");
    let work = tempfile::tempdir().unwrap();
    let head = work.path().join("head");
    std::fs::create_dir_all(head.join("apps")).unwrap();
    let mut text = String::new();
    for i in 0..200 {
        let tag = if i % 2 == 0 { "v1" } else { "v404" };
        text.push_str(&format!(
            "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: pod-{i}\nspec:\n  containers:\n    - name: c\n      image: registry.test/org/app:{tag}\n"
        ));
    }
    std::fs::write(head.join("apps/pods.yaml"), text).unwrap();
    let repo = repo_from_dirs("dedupe", &work.path().join("base"), &head);
    let env = Isolated::new();
    let config = config(&env, &registry);
    let mark = registry.mark();
    let (code, json, _) = run(&env, repo.path(), &config, &[]);
    assert_eq!(code, 1);
    assert_eq!(json["images"].as_array().unwrap().len(), 200);
    assert_eq!(json["summary"]["errors"], 100);
    assert_eq!(
        registry.count_requests_since(mark, "HEAD", "/v2/org/app/manifests/v1"),
        1
    );
    assert_eq!(
        registry.count_requests_since(mark, "HEAD", "/v2/org/app/manifests/v404"),
        1
    );
    assert_eq!(
        registry.count_requests_since(mark, "GET", "/v2/"),
        1,
        "one ping"
    );
}

#[test]
fn basic_auth_from_docker_config_over_tls() {
    let registry = TestRegistry::tls_basic("robot", "s3cr3t-basic");
    let digest = registry.push(&OciLayout::image("linux", "amd64"), "org/app:v2");
    let repo = repo_from_fixture("registry-verification");
    let env = Isolated::new();
    let config = config(&env, &registry);
    let auth = base64_std(b"robot:s3cr3t-basic");
    env.docker_config(&format!(
        r#"{{"auths": {{"{}": {{"auth": "{auth}"}}}}}}"#,
        registry.host()
    ));
    let (_, json, stderr) = run(&env, repo.path(), &config, &[]);
    assert_eq!(image(&json, "org/app:v2")["status"], "exists");
    assert_eq!(image(&json, "org/app:v2")["digest"], digest);
    assert_eq!(image(&json, "org/app:v2.0.1")["status"], "missing");
    // A repository that was never pushed is missing too (NAME_UNKNOWN).
    assert_eq!(image(&json, "org/exporter:v1")["status"], "missing");
    for leak in ["s3cr3t-basic", auth.as_str()] {
        assert!(!json.to_string().contains(leak) && !stderr.contains(leak));
    }

    // Wrong password: unverified (unauthorized), never missing.
    env.docker_config(&format!(
        r#"{{"auths": {{"{}": {{"auth": "{}"}}}}}}"#,
        registry.host(),
        base64_std(b"robot:wrong")
    ));
    let (code, json, _) = run(&env, repo.path(), &config, &[]);
    assert_eq!(code, 1);
    for suffix in ["org/app:v2", "org/app:v2.0.1", "org/exporter:v1"] {
        let image = image(&json, suffix);
        assert_eq!(image["status"], "unverified", "{image:#}");
        assert!(
            image["detail"]
                .as_str()
                .unwrap()
                .starts_with("unauthorized"),
            "{image:#}"
        );
    }
    assert!(findings(&json)
        .iter()
        .all(|(rule, _, _)| rule == "image-unverified"));
}

#[test]
fn tls_without_the_ca_is_unreachable_with_a_hint() {
    let registry = TestRegistry::tls_basic("robot", "pw");
    let repo = repo_from_fixture("registry-verification");
    let env = Isolated::new();
    let config = env.path("no-ca.yaml");
    std::fs::write(
        &config,
        format!(
            "registries:\n  - prefix: registry.test\n    location: {}\n",
            registry.host()
        ),
    )
    .unwrap();
    let (code, json, _) = run(&env, repo.path(), &config, &[]);
    assert_eq!(code, 1);
    let detail = image(&json, "org/app:v2")["detail"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        detail.starts_with("unreachable: TLS certificate"),
        "{detail}"
    );
    assert!(detail.contains("ca_file"), "{detail}");
}

#[test]
fn bearer_token_flow_reuses_one_token_per_repository() {
    let registry = TestRegistry::token_auth("robot", "s3cr3t-token");
    registry.push(&OciLayout::image("linux", "amd64"), "org/app:v2");
    registry.push(&OciLayout::image("linux", "amd64"), "org/exporter:v1");
    let repo = repo_from_fixture("registry-verification");
    let env = Isolated::new();
    let config = config(&env, &registry);
    env.docker_config(&format!(
        r#"{{"auths": {{"{}": {{"username": "robot", "password": "s3cr3t-token"}}}}}}"#,
        registry.host()
    ));
    let before = registry.token_requests();
    let (code, json, stderr) = run(&env, repo.path(), &config, &[]);
    assert_eq!(code, 1, "{json:#}\n{stderr}");
    assert_eq!(image(&json, "org/app:v2")["status"], "exists");
    assert_eq!(image(&json, "org/app:v2.0.1")["status"], "missing");
    assert_eq!(image(&json, "org/exporter:v1")["status"], "exists");
    assert_eq!(
        registry.token_requests() - before,
        2,
        "one token for org/app, one for org/exporter"
    );
    assert!(!json.to_string().contains("s3cr3t-token") && !stderr.contains("s3cr3t-token"));
}

#[test]
fn credential_helper_on_path() {
    let registry = TestRegistry::tls_basic("robot", "helper-pw");
    registry.push(&OciLayout::image("linux", "amd64"), "org/app:v2");
    let repo = repo_from_fixture("registry-verification");
    let env = Isolated::new();
    let config = config(&env, &registry);
    let helper = env.path("bin/docker-credential-fluxgatetest");
    std::fs::write(&helper, "#!/bin/sh\nread server\necho '{\"ServerURL\":\"'$server'\",\"Username\":\"robot\",\"Secret\":\"helper-pw\"}'\n").unwrap();
    std::process::Command::new("chmod")
        .arg("+x")
        .arg(&helper)
        .status()
        .unwrap();
    env.docker_config(&format!(
        r#"{{"credHelpers": {{"{}": "fluxgatetest"}}}}"#,
        registry.host()
    ));
    let (_, json, stderr) = run(&env, repo.path(), &config, &[]);
    assert_eq!(
        image(&json, "org/app:v2")["status"],
        "exists",
        "{json:#}\n{stderr}"
    );
    assert!(!json.to_string().contains("helper-pw") && !stderr.contains("helper-pw"));
}

#[test]
fn digests_and_tag_digest_mismatch() {
    let registry = TestRegistry::plain();
    let v1 = registry.push(&OciLayout::image("linux", "amd64"), "org/app:v1");
    let v2 = registry.push(&OciLayout::image("linux", "arm64"), "org/app:v2");
    let missing = format!("sha256:{}", "0".repeat(64));
    let work = tempfile::tempdir().unwrap();
    let head = work.path().join("head");
    std::fs::create_dir_all(&head).unwrap();
    let pod = |name: &str, image: &str| {
        format!("---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n  containers:\n    - name: c\n      image: {image}\n")
    };
    let text = [
        pod("by-digest", &format!("registry.test/org/app@{v1}")),
        pod(
            "missing-digest",
            &format!("registry.test/org/app@{missing}"),
        ),
        pod("pinned-ok", &format!("registry.test/org/app:v1@{v1}")),
        pod("pinned-moved", &format!("registry.test/org/app:v2@{v1}")),
    ]
    .concat();
    std::fs::write(head.join("pods.yaml"), text).unwrap();
    let repo = repo_from_dirs("digests", &work.path().join("base"), &head);
    let env = Isolated::new();
    let config = config(&env, &registry);
    let (code, json, _) = run(&env, repo.path(), &config, &[]);
    assert_eq!(code, 1);
    let statuses: Vec<(&str, &str)> = json["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["name"].as_str().unwrap(), i["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        statuses,
        [
            ("by-digest", "exists"),
            ("missing-digest", "missing"),
            ("pinned-ok", "exists"),
            ("pinned-moved", "exists")
        ]
    );
    let rules: Vec<String> = findings(&json).into_iter().map(|(r, _, _)| r).collect();
    assert_eq!(rules, ["image-not-found", "image-digest-mismatch"]);
    let mismatch = json["findings"][1]["message"].as_str().unwrap();
    assert!(mismatch.contains(&v2), "{mismatch}");
}

#[test]
fn docker_schema2_and_manifest_list_exist() {
    let registry = TestRegistry::plain();
    let list = registry.push_docker(&OciLayout::multi_arch(), "org/app:v2");
    registry.push_docker(&OciLayout::image("linux", "amd64"), "org/exporter:v1");
    let repo = repo_from_fixture("registry-verification");
    let env = Isolated::new();
    let config = config(&env, &registry);
    let (_, json, _) = run(
        &env,
        repo.path(),
        &config,
        &["--platform", "linux/amd64,linux/arm64"],
    );
    assert_eq!(image(&json, "org/app:v2")["digest"], list);
    assert_eq!(image(&json, "org/exporter:v1")["status"], "exists");
    let rules: Vec<String> = findings(&json).into_iter().map(|(r, _, _)| r).collect();
    assert_eq!(
        rules,
        ["image-not-found", "image-platform-missing"],
        "{json:#}"
    );
}

fn base64_std(bytes: &[u8]) -> String {
    registry::base64_std(bytes)
}

#[test]
fn expired_and_unknown_ca_certificates_are_unreachable_never_exists() {
    for registry in [TestRegistry::tls_expired(), TestRegistry::tls_unknown_ca()] {
        let repo = repo_from_fixture("registry-verification");
        let env = Isolated::new();
        let config = config(&env, &registry);
        let (code, json, _) = run(&env, repo.path(), &config, &[]);
        assert_eq!(code, 1);
        for suffix in ["org/app:v2", "org/app:v2.0.1", "org/exporter:v1"] {
            let image = image(&json, suffix);
            assert_eq!(image["status"], "unverified", "{image:#}");
            let detail = image["detail"].as_str().unwrap();
            assert!(
                detail.starts_with("unreachable: TLS certificate"),
                "{detail}"
            );
        }
    }
}

#[test]
fn identity_token_uses_the_refresh_token_grant() {
    let registry = TestRegistry::token_auth("robot", "pw");
    registry.push(&OciLayout::image("linux", "amd64"), "org/app:v2");
    let repo = repo_from_fixture("registry-verification");
    let env = Isolated::new();
    let config = config(&env, &registry);
    let token = registry.identity_token();
    env.docker_config(&format!(
        r#"{{"auths": {{"{}": {{"auth": "{}", "identitytoken": "{token}"}}}}}}"#,
        registry.host(),
        base64_std(b"<token>:")
    ));
    let (_, json, stderr) = run(&env, repo.path(), &config, &[]);
    assert_eq!(
        image(&json, "org/app:v2")["status"],
        "exists",
        "{json:#}\n{stderr}"
    );
    assert!(
        registry
            .token_log()
            .iter()
            .any(|t| t.grant.contains("refresh_token")),
        "{:?}",
        registry.token_log()
    );
    assert!(!json.to_string().contains(&token) && !stderr.contains(&token));
}

#[test]
fn docker_hub_names_are_normalised_before_a_registries_rewrite() {
    let registry = TestRegistry::plain();
    let digest = registry.push(&OciLayout::image("linux", "amd64"), "library/nginx:1.27");
    let work = tempfile::tempdir().unwrap();
    let head = work.path().join("head");
    std::fs::create_dir_all(&head).unwrap();
    let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n    - name: web\n      image: nginx:1.27\n    - name: old\n      image: index.docker.io/library/nginx:1.26\n";
    std::fs::write(head.join("pod.yaml"), pod).unwrap();
    let repo = repo_from_dirs("docker-hub", &work.path().join("base"), &head);
    let env = Isolated::new();
    let config = env.path("hub.yaml");
    std::fs::write(
        &config,
        format!(
            "registries:\n  - prefix: docker.io\n    location: {}\n",
            registry.host()
        ),
    )
    .unwrap();
    let (_, json, _) = run(&env, repo.path(), &config, &[]);
    let web = image(&json, "nginx:1.27");
    assert_eq!(
        (web["canonical"].as_str(), web["status"].as_str()),
        (Some("docker.io/library/nginx:1.27"), Some("exists"))
    );
    assert_eq!(web["digest"], digest);
    assert_eq!(image(&json, "nginx:1.26")["status"], "missing");
}

/// Image volumes (`volumes[].image.reference`) are pulled like container
/// images, so they must exist; they may hold any OCI artifact (here a Helm
/// chart's), which has no platform: `--platform` does not apply to them.
#[test]
fn image_volumes_must_exist_and_have_no_platform() {
    use support::gitrepo::Entry;
    let registry = TestRegistry::plain();
    registry.push(
        &OciLayout::helm_chart("models", "1.0.0"),
        "org/models:1.0.0",
    );
    registry.push(&OciLayout::image("linux", "arm64"), "org/app:v1");
    let pod = |models: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec:\n  containers:\n    - name: app\n      image: registry.test/org/app:v1\n  volumes:\n    - name: models\n      image:\n        reference: registry.test/org/models:{models}\n    - name: weights\n      image:\n        reference: registry.test/org/weights:{models}\n    - name: scratch\n      emptyDir: {{}}\n"
        )
    };
    let repo = support::gitrepo::repo_from_entries(
        "image-volumes",
        &[Entry::file("apps/pod.yaml", pod("0.9.0"))],
        &[Entry::file("apps/pod.yaml", pod("1.0.0"))],
    );
    let env = Isolated::new();
    let config = config(&env, &registry);
    let (code, json, stderr) = run(&env, repo.path(), &config, &["--platform", "linux/arm64"]);
    assert_eq!(code, 1, "{json:#}\n{stderr}");
    // The artifact exists and gets no platform finding; the missing one is reported.
    assert_eq!(
        findings(&json),
        [("image-not-found".to_string(), 14, 20)],
        "{json:#}"
    );
    let models = image(&json, "org/models:1.0.0");
    assert_eq!(models["status"], "exists", "{models:#}");
    assert_eq!(models["field"], "spec.volumes[0].image.reference");
    assert_eq!(image(&json, "org/weights:1.0.0")["status"], "missing");
}
