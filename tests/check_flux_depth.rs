//! What a change deploys once kustomize and Flux have built it: overlays'
//! `images:` rewrites, `newName`-only entries, post-build variables from
//! `postBuild.substitute` and `substituteFrom` ConfigMaps, `--var`; and the
//! issue's acceptance case on a home-ops shaped repository.
#![allow(clippy::unwrap_used)]

#[path = "support/fault_server.rs"]
mod fault_server;
#[path = "support/registry/mod.rs"]
mod registry;
mod support;

use fault_server::{Behaviour, FaultServer, Route};
use registry::{OciLayout, TestRegistry};
use support::gitrepo::{check_json, repo_from_fixture_replacing};
use support::isolated::{image_rows as images, Isolated};

const PLACEHOLDER: &str = "http://charts.invalid";

const BJW_S_INDEX: &str = r#"apiVersion: v1
entries:
  app-template:
  - {name: app-template, version: 3.5.1}
  - {name: app-template, version: 3.6.0}
"#;

/// The human report of a check in `env`, without colour.
fn row(reference: &str, file: &str, line: u64, status: &str) -> (String, String, u64, String) {
    (reference.into(), file.into(), line, status.into())
}

/// The issue's "done when": a chart bumped to a version that does not
/// exist, an overlay `newTag` to a missing tag, and a `${WORKER_TAG}`
/// variable (in the cluster-settings ConfigMap) to a missing tag: three
/// errors, each at the line a user edits to fix it.
#[test]
fn home_ops_pr_with_three_mistakes() {
    let registry = TestRegistry::plain();
    let image = OciLayout::image("linux", "amd64");
    for reference in [
        "org/web:1.0.0",
        "org/web:1.1.0",
        "org/worker:1.4.0",
        "org/media:2.0.0",
    ] {
        registry.push(&image, reference);
    }
    let charts = FaultServer::start(vec![Route::new(
        "GET",
        "/bjw-s/index.yaml",
        Behaviour::respond(200, &[], BJW_S_INDEX),
    )]);
    let url = charts.url("");
    let repo =
        repo_from_fixture_replacing("flux-home-ops", &[(PLACEHOLDER, url.trim_end_matches('/'))]);
    let env = Isolated::new();
    let config = env.config(&registry.host(), None, "");
    let out = env.run(repo.path(), &config, &["--timeout", "20"]);
    let json = &out.json;
    assert_eq!(out.code, 1, "{json:#}\n{}", out.stderr);
    let found = support::gitrepo::places(json);
    assert_eq!(
        found,
        [
            (
                "chart-not-found",
                "apps/base/media/helmrelease.yaml",
                10,
                16
            ),
            ("image-not-found", "apps/prod/kustomization.yaml", 10, 13),
            (
                "image-not-found",
                "clusters/prod/cluster-settings.yaml",
                8,
                15
            ),
        ],
        "{json:#}"
    );
    let worker = json["findings"][2]["message"].as_str().unwrap();
    assert!(
        worker.contains("registry.test/org/worker:1.5.0"),
        "{worker}"
    );

    // The human report labels where the variable is used.
    let text = env.human(repo.path(), &config);
    assert!(text.contains("`${WORKER_TAG}` is used here"), "{text}");
    assert!(text.contains("apps/base/worker/deployment.yaml"), "{text}");

    let records = images(json);
    assert!(
        records.contains(&row(
            "registry.test/org/worker:1.5.0",
            "apps/base/worker/deployment.yaml",
            16,
            "missing"
        )),
        "{records:#?}"
    );
    assert!(
        records.contains(&row(
            "registry.test/org/web:1.2.0",
            "apps/prod/kustomization.yaml",
            10,
            "missing"
        )),
        "{records:#?}"
    );
    assert_eq!(json["charts"][0]["status"], "missing");
    assert_eq!(json["charts"][0]["version"], "3.9.9");
}

#[test]
fn offline_shows_what_will_be_deployed() {
    let json = check_json("flux-home-ops", &[], 0);
    let records = images(&json);
    assert_eq!(
        records,
        [
            row(
                "registry.test/org/worker:1.5.0",
                "apps/base/worker/deployment.yaml",
                16,
                "skipped"
            ),
            row(
                "registry.test/org/web:1.2.0",
                "apps/prod/kustomization.yaml",
                10,
                "skipped"
            ),
        ],
        "{json:#}"
    );
}

#[test]
fn new_name_only_takes_the_tag_from_the_resources() {
    let json = check_json("kustomize-overlay-new-name", &["--verbose"], 0);
    assert_eq!(
        images(&json),
        [row(
            "registry.example.com/mirror/app:1.4.2",
            "overlays/prod/kustomization.yaml",
            6,
            "skipped"
        )],
        "{json:#}"
    );
}

#[test]
fn overlays_rewrite_a_changed_base_image() {
    let json = check_json("overlay-rewrites-base", &[], 0);
    let mut records = images(&json);
    records.sort();
    assert_eq!(
        records,
        [
            row(
                "ghcr.io/org/app:2.0.0",
                "base/deployment.yaml",
                10,
                "skipped"
            ),
            row(
                "ghcr.io/org/app:2.1.0-rc.1",
                "base/deployment.yaml",
                10,
                "skipped"
            ),
            row(
                "ghcr.io/org/sidecar:0.4.0",
                "base/deployment.yaml",
                12,
                "skipped"
            ),
        ],
        "{json:#}"
    );
}

#[test]
fn variables_without_a_value_stay_unresolved_and_var_fills_them() {
    let json = check_json("flux-variable-missing", &[], 0);
    assert_eq!(
        images(&json),
        [
            row(
                "${REGISTRY}/api:${API_TAG}",
                "apps/api/deployment.yaml",
                10,
                "unresolved"
            ),
            row(
                "ghcr.io/acme/migrate:1.1.0",
                "apps/api/deployment.yaml",
                12,
                "skipped"
            ),
        ],
        "{json:#}"
    );
    let detail = json["images"][0]["detail"].as_str().unwrap();
    assert!(
        detail.contains("${API_TAG} has no value in the Flux Kustomization flux-system/api")
            && detail.contains("--var"),
        "{detail}"
    );
    assert_eq!(json["findings"][0]["rule"], "image-unresolved");
    assert_eq!(json["findings"][0]["severity"], "warning");

    let json = check_json(
        "flux-variable-missing",
        &[
            "--var",
            "API_TAG=2.0.0",
            "--var",
            "REGISTRY=ignored.example",
        ],
        0,
    );
    // `--var` fills what the repository leaves open; it does not override it.
    assert_eq!(
        json["images"][0]["reference"], "ghcr.io/acme/api:2.0.0",
        "{json:#}"
    );
    assert!(json["findings"].as_array().unwrap().is_empty(), "{json:#}");
}

#[test]
fn custom_resources_built_in_and_configured() {
    let json = check_json("custom-resource-images", &[], 0);
    assert_eq!(
        images(&json),
        [
            row(
                "rancher/k3s-upgrade:v1.31.1-k3s1",
                "system/upgrade-plan.yaml",
                8,
                "skipped"
            ),
            row(
                "ghcr.io/acme/shop:1.1.0",
                "system/workloads.yaml",
                10,
                "skipped"
            ),
            row(
                "ghcr.io/acme/hello:1.1.0",
                "system/workloads.yaml",
                20,
                "skipped"
            ),
            row("golang:1.23", "system/workloads.yaml", 29, "skipped"),
            row(
                "ghcr.io/acme/runner:1.1.0",
                "system/workloads.yaml",
                37,
                "skipped"
            ),
        ],
        "{json:#}"
    );
    let fields: Vec<&str> = json["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "spec.upgrade.image",
            "spec.template.spec.containers[0].image",
            "spec.template.spec.containers[0].image",
            "spec.steps[0].image",
            "spec.jobs[0].image",
        ]
    );
}

#[test]
fn a_broken_extra_field_points_into_the_configuration() {
    let repo = support::gitrepo::repo_from_fixture("custom-resource-images");
    let config = repo.path().join("bad.yaml");
    std::fs::write(
        &config,
        "images:\n  extra_fields:\n    - kind: Runner\n      path: spec.jobs[0].image\n",
    )
    .unwrap();
    let out = support::gitrepo::fluxgate()
        .args(["check", "--offline", "--repo"])
        .arg(repo.path())
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("is not a field path"), "{stderr}");
    assert!(stderr.contains("bad.yaml:4:13"), "{stderr}");
}

#[test]
fn kustomizations_that_include_each_other_end() {
    // a includes b includes a: the walk is bounded, the rewrite still applies.
    let json = check_json("kustomize-cycle", &[], 0);
    let references: Vec<&str> = json["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["reference"].as_str().unwrap())
        .collect();
    assert_eq!(references, ["ghcr.io/org/app:1.1.0"], "{json:#}");
}

/// `--all` reads every file, so every Flux Kustomization applies: its `spec.images` and its
/// variables, from `substituteFrom` ConfigMaps read again only when a root uses them. Where no
/// base revision exists every reference is listed as added and resolved the same way; no
/// variable counts as "changed" (there is nothing to compare with), so nothing is blamed on a
/// value and the rollback rules have nothing to pair.
#[test]
fn all_applies_every_flux_kustomization_with_or_without_a_base() {
    use support::gitrepo::Entry;
    // A Flux Kustomization that rewrites an image and takes variables from a ConfigMap; one
    // reference uses a variable, one does not.
    let tree = vec![
        Entry::file(
            "clusters/production/apps.yaml",
            r#"apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: apps, namespace: flux-system}
spec:
  path: ./apps
  images:
    - name: ghcr.io/acme/api
      newName: registry.acme.io/api
  postBuild:
    substituteFrom:
      - {kind: ConfigMap, name: settings}
"#,
        ),
        Entry::file(
            "apps/settings.yaml",
            r#"apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: flux-system}
data:
  WORKER_TAG: 3.1.0
  UNUSED: x
"#,
        ),
        Entry::file(
            "apps/deployment.yaml",
            r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  template:
    spec:
      containers:
        - {name: api, image: ghcr.io/acme/api:1.0.0}
        - {name: worker, image: "ghcr.io/acme/worker:${WORKER_TAG}"}
"#,
        ),
    ];
    let repo = support::gitrepo::repo_from_entries("all-without-base", &tree, &tree);
    let run = |extra: &[&str]| {
        let output = support::gitrepo::fluxgate()
            .args(["check", "--all", "--offline", "--format", "json", "--repo"])
            .arg(repo.path())
            .args(extra)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{output:?}");
        serde_json::from_slice::<serde_json::Value>(&output.stdout).unwrap()
    };
    let with_base = run(&[]);
    let git = git2::Repository::open(repo.path()).unwrap();
    git.find_branch("main", git2::BranchType::Local)
        .unwrap()
        .delete()
        .unwrap();
    let without = run(&["--verbose"]);
    let listed = |json: &serde_json::Value| -> Vec<(String, u64, String)> {
        json["images"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                (
                    i["file"].as_str().unwrap().to_string(),
                    i["line"].as_u64().unwrap(),
                    i["reference"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect()
    };
    let deployed = |line: u64, reference: &str| {
        (
            "apps/deployment.yaml".to_string(),
            line,
            reference.to_string(),
        )
    };
    let listed_with_base = listed(&with_base);
    assert!(
        listed_with_base.contains(&deployed(8, "registry.acme.io/api:1.0.0")),
        "{listed_with_base:?}"
    );
    assert!(
        listed_with_base.contains(&deployed(9, "ghcr.io/acme/worker:3.1.0")),
        "{listed_with_base:?}"
    );
    assert_eq!(listed(&without), listed_with_base);
    assert!(without["base"].is_null(), "{:#}", without["base"]);
    for image in without["images"].as_array().unwrap() {
        assert_eq!(image["change"], "added", "{image:#}");
        assert_ne!(
            image["file"], "apps/settings.yaml",
            "nothing blamed on a value: {image:#}"
        );
    }
    let rules = |json: &serde_json::Value| support::gitrepo::rule_ids(json).join(" ");
    assert_eq!(rules(&without), rules(&with_base));
}

/// A Flux Kustomization's `spec.images` moves an image to a mirror; an
/// ordinary pull request bumps the tag in a Deployment it builds. The tag
/// exists where the manifest names the image, not in the mirror the
/// cluster pulls from: fluxgate must check the mirror (no `--all`, no
/// variables involved). Flux Kustomizations that do not build the file,
/// and one in a Helm chart's templates, do not apply.
#[test]
fn flux_spec_images_apply_to_an_ordinary_change() {
    use support::gitrepo::Entry;
    let registry = TestRegistry::plain();
    let image = OciLayout::image("linux", "amd64");
    registry.push(&image, "acme/api:1.0.0");
    registry.push(&image, "acme/api:1.1.0");
    registry.push(&image, "mirror/api:1.0.0");
    let flux_kustomization = |name: &str, path: &str, new_name: &str| {
        format!(
            "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {{name: {name}, namespace: flux-system}}\nspec:\n  path: {path}\n  images:\n    - name: registry.test/acme/api\n      newName: {new_name}\n"
        )
    };
    let deployment = |tag: &str| {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: api}}\nspec:\n  template:\n    spec:\n      containers:\n        - name: api\n          image: registry.test/acme/api:{tag}\n"
        )
    };
    let tree = |tag: &str| {
        vec![
            Entry::file(
                "clusters/production/apps.yaml",
                format!(
                    "{}---\n{}",
                    flux_kustomization("apps", "./apps/production", "registry.test/mirror/api"),
                    flux_kustomization("other", "./other", "registry.test/wrong/api"),
                ),
            ),
            Entry::file(
                "charts/platform/Chart.yaml",
                "apiVersion: v2\nname: platform\nversion: 1.0.0\n",
            ),
            Entry::file(
                "charts/platform/templates/apps.yaml",
                flux_kustomization("templated", "./apps/production", "registry.test/chart/api"),
            ),
            Entry::file("apps/production/deployment.yaml", deployment(tag)),
        ]
    };
    let repo =
        support::gitrepo::repo_from_entries("flux-images-ordinary", &tree("1.0.0"), &tree("1.1.0"));
    let env = Isolated::new();
    let config = env.config(&registry.host(), None, "");
    // First run builds the overlay index; the second reads it; the third
    // builds it again from a packed repository (as a clone is).
    for run in ["fresh", "index kept", "packed, fresh"] {
        if run == "packed, fresh" {
            let repacked = std::process::Command::new("git")
                .args(["repack", "-a", "-d", "-q"])
                .current_dir(repo.path())
                .status()
                .unwrap();
            assert!(repacked.success());
            std::fs::remove_dir_all(repo.path().join(".git/fluxgate")).unwrap();
        }
        let out = env.run(repo.path(), &config, &["--timeout", "20"]);
        let json = &out.json;
        assert_eq!(out.code, 1, "{run}: {json:#}\n{}", out.stderr);
        assert_eq!(
            images(json),
            [row(
                "registry.test/mirror/api:1.1.0",
                "apps/production/deployment.yaml",
                9,
                "missing"
            )],
            "{run}: {json:#}"
        );
        assert_eq!(
            support::gitrepo::places(json),
            [("image-not-found", "apps/production/deployment.yaml", 9, 18)],
            "{run}: {json:#}"
        );
    }
    let text = env.human(repo.path(), &config);
    assert!(
        text.contains("rewritten to `registry.test/mirror/api:1.1.0` by this `images:` entry"),
        "{text}"
    );
    // The label is wrapped to the terminal's width.
    let unwrapped: String = text
        .split('\n')
        .map(|line| line.trim_start_matches([' ', '|']).trim_end())
        .collect();
    assert!(
        unwrapped.contains("clusters/production/apps.yaml:7:7"),
        "{text}"
    );
}

/// kustomize `images:` and Flux `spec.images` rewrite what kustomize's image
/// transformer rewrites: a string `image` in a `containers`/`initContainers`
/// list, wherever it is (HelmRelease values included). An image map in
/// HelmRelease values is deployed as written: checking the rewritten
/// reference there would check an image the cluster never pulls.
#[test]
fn images_entries_rewrite_only_what_kustomize_rewrites() {
    use support::gitrepo::Entry;
    let tree = |tag: &str| {
        vec![
            Entry::file(
                "clusters/prod/apps.yaml",
                "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: apps, namespace: flux-system}\nspec:\n  path: ./app\n  images:\n    - name: registry.test/b\n      newName: registry.test/mirror/b\n",
            ),
            Entry::file(
                "app/kustomization.yaml",
                "resources: [release.yaml, deployment.yaml]\nimages:\n  - name: registry.test/a\n    newTag: \"2\"\n",
            ),
            Entry::file(
                "app/release.yaml",
                format!("apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {{name: r, namespace: apps}}\nspec:\n  values:\n    image:\n      repository: registry.test/a\n      tag: \"{tag}\"\n    sidecar:\n      containers:\n        - name: s\n          image: registry.test/a:{tag}\n    otherImage:\n      repository: registry.test/b\n      tag: \"{tag}\"\n"),
            ),
            Entry::file(
                "app/deployment.yaml",
                format!("apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: d, namespace: apps}}\nspec:\n  template:\n    spec:\n      containers:\n        - name: a\n          image: registry.test/a:{tag}\n        - name: b\n          image: registry.test/b:{tag}\n"),
            ),
        ]
    };
    let repo = support::gitrepo::repo_from_entries("images-rewrite-fields", &tree("1"), &tree("3"));
    let (code, stdout, stderr) = support::gitrepo::check_dir(repo.path(), &[]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let row = |reference: &str, file: &str, line: u64| row(reference, file, line, "skipped");
    assert_eq!(
        images(&json),
        [
            row("registry.test/a:2", "app/deployment.yaml", 9),
            row("registry.test/mirror/b:3", "app/deployment.yaml", 11),
            row("registry.test/a:3", "app/release.yaml", 8),
            row("registry.test/a:2", "app/release.yaml", 12),
            row("registry.test/b:3", "app/release.yaml", 15),
        ],
        "{json:#}"
    );
}
