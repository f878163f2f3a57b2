//! `fluxgate check` image extraction from Flux HelmRelease `spec.values`.
//!
//! Each test runs the real binary (`--offline --format json`) on a git repo built from one
//! `fixtures/<case>/`, snapshots the report and pins the crucial facts explicitly.
#![allow(clippy::unwrap_used)]

mod support;

use support::gitrepo::{assert_image, check_json, findings, image_at, images, Expect};

/// Every image of a HelmRelease report comes from that release.
fn assert_all_from(json: &serde_json::Value, name: &str) {
    for image in images(json) {
        assert_eq!(image["kind"], "HelmRelease", "{image:#}");
        assert_eq!(image["name"], name, "{image:#}");
    }
}

#[test]
fn helmrelease_values_string() {
    let json = check_json("helmrelease-values-string", &[], 0);
    insta::assert_json_snapshot!("helmrelease-values-string", json);
    let file = "apps/worker/helmrelease.yaml";
    assert_eq!(images(&json).len(), 2, "{:#}", json["images"]);
    assert_image(
        &json,
        &Expect {
            file,
            line: 19,
            column: 12,
            reference: "ghcr.io/acme/queue-worker:1.1.0",
            canonical: Some("ghcr.io/acme/queue-worker:1.1.0"),
            change: "modified",
            status: "skipped",
        },
    );
    assert_image(
        &json,
        &Expect {
            file,
            line: 24,
            column: 14,
            reference: "docker.io/library/busybox:1.36.1",
            canonical: Some("docker.io/library/busybox:1.36.1"),
            change: "added",
            status: "skipped",
        },
    );
    assert_all_from(&json, "jobs/queue-worker");
    assert!(findings(&json).is_empty());
}

#[test]
fn helmrelease_values_repository_tag() {
    let json = check_json("helmrelease-values-repository-tag", &[], 0);
    insta::assert_json_snapshot!("helmrelease-values-repository-tag", json);
    let file = "apps/podinfo/release.yaml";
    // `redis` (repository+tag under a key not ending in `image`) is an image by
    // its shape; the lone `backup.repository` is not.
    assert_eq!(images(&json).len(), 3, "{:#}", json["images"]);
    assert_image(
        &json,
        &Expect {
            file,
            line: 25,
            column: 12,
            reference: "docker.io/redis:7.2.4",
            canonical: Some("docker.io/library/redis:7.2.4"),
            change: "modified",
            status: "skipped",
        },
    );
    assert_image(
        &json,
        &Expect {
            file,
            line: 20,
            column: 12,
            reference: "ghcr.io/stefanprodan/podinfo:6.5.4",
            canonical: Some("ghcr.io/stefanprodan/podinfo:6.5.4"),
            change: "modified",
            status: "skipped",
        },
    );
    // Key matched case-insensitively by its `image` suffix; quoted tag positioned at its quote.
    assert_image(
        &json,
        &Expect {
            file,
            line: 30,
            column: 12,
            reference: "docker.io/bitnami/kubectl:1.29",
            canonical: Some("docker.io/bitnami/kubectl:1.29"),
            change: "added",
            status: "skipped",
        },
    );
    assert_all_from(&json, "podinfo/podinfo");
}

#[test]
fn helmrelease_values_registry_repository_tag() {
    let json = check_json("helmrelease-values-registry-repository-tag", &[], 0);
    insta::assert_json_snapshot!("helmrelease-values-registry-repository-tag", json);
    let file = "infrastructure/postgresql/helmrelease.yaml";
    // `global.image` holds only `registry`: not an image. metrics.image is unchanged.
    assert_eq!(images(&json).len(), 2, "{:#}", json["images"]);
    assert_image(
        &json,
        &Expect {
            file,
            line: 23,
            column: 12,
            reference: "docker.io/bitnami/postgresql:16.3.0-debian-12-r4",
            canonical: Some("docker.io/bitnami/postgresql:16.3.0-debian-12-r4"),
            change: "modified",
            status: "skipped",
        },
    );
    assert_image(
        &json,
        &Expect {
            file,
            line: 40,
            column: 14,
            reference: "docker.io/bitnami/os-shell:12-debian-12-r21",
            canonical: Some("docker.io/bitnami/os-shell:12-debian-12-r21"),
            change: "added",
            status: "skipped",
        },
    );
    assert_all_from(&json, "database/postgresql");
    assert!(findings(&json).is_empty(), "{:#}", json["findings"]);
}

#[test]
fn helmrelease_values_digest_only() {
    let json = check_json("helmrelease-values-digest-only", &[], 0);
    insta::assert_json_snapshot!("helmrelease-values-digest-only", json);
    assert_eq!(images(&json).len(), 1, "{:#}", json["images"]);
    let digest = "sha256:4c39cd749aac2b3a0a906fe3e0099862731f23db2d84b54282637fd673d3c85c";
    let reference = format!("ghcr.io/acme/api@{digest}");
    assert_image(
        &json,
        &Expect {
            file: "apps/api/helmrelease.yaml",
            line: 19,
            column: 15,
            reference: &reference,
            canonical: Some(&reference),
            change: "modified",
            status: "skipped",
        },
    );
    assert_all_from(&json, "api/api");
}

#[test]
fn helmrelease_values_tag_with_digest() {
    let json = check_json("helmrelease-values-tag-with-digest", &[], 0);
    insta::assert_json_snapshot!("helmrelease-values-tag-with-digest", json);
    assert_eq!(images(&json).len(), 1, "{:#}", json["images"]);
    let reference = "ghcr.io/onedr0p/sonarr:4.0.9.2244@sha256:9b7ca880ac9018cf5f5922edb66cd18d3d095741039e6ed887b682774d870a23";
    assert_image(
        &json,
        &Expect {
            file: "kubernetes/apps/media/sonarr/app/helmrelease.yaml",
            line: 24,
            column: 20,
            reference,
            canonical: Some(reference),
            change: "modified",
            status: "skipped",
        },
    );
    // No metadata.namespace (set by the parent kustomization): the name alone.
    assert_all_from(&json, "sonarr");
}

#[test]
fn helmrelease_values_app_template() {
    let json = check_json("helmrelease-values-app-template", &[], 0);
    insta::assert_json_snapshot!("helmrelease-values-app-template", json);
    let file = "kubernetes/apps/default/paperless/app/helmrelease.yaml";
    // main/main bumped, exporter/main added; main/redis unchanged.
    assert_eq!(images(&json).len(), 2, "{:#}", json["images"]);
    assert_image(
        &json,
        &Expect {
            file,
            line: 33,
            column: 20,
            reference: "ghcr.io/paperless-ngx/paperless-ngx:2.11.6",
            canonical: Some("ghcr.io/paperless-ngx/paperless-ngx:2.11.6"),
            change: "modified",
            status: "skipped",
        },
    );
    assert_image(
        &json,
        &Expect {
            file,
            line: 56,
            column: 20,
            reference: "ghcr.io/paperless-ngx/paperless-ngx:2.11.6",
            canonical: Some("ghcr.io/paperless-ngx/paperless-ngx:2.11.6"),
            change: "added",
            status: "skipped",
        },
    );
    assert_all_from(&json, "paperless");
    let main = image_at(&json, file, 33)["field"]
        .as_str()
        .unwrap()
        .to_owned();
    let exporter = image_at(&json, file, 56)["field"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        main.starts_with("spec.values.controllers.main.containers.main.image"),
        "{main}"
    );
    assert!(
        exporter.starts_with("spec.values.controllers.exporter.containers.main.image"),
        "{exporter}"
    );
}

#[test]
fn helmrelease_patch_without_chart() {
    let json = check_json("helmrelease-patch-without-chart", &[], 0);
    insta::assert_json_snapshot!("helmrelease-patch-without-chart", json);
    assert_eq!(images(&json).len(), 1, "{:#}", json["images"]);
    assert_image(
        &json,
        &Expect {
            file: "apps/staging/podinfo-values.yaml",
            line: 11,
            column: 12,
            reference: "ghcr.io/stefanprodan/podinfo:6.7.0",
            canonical: Some("ghcr.io/stefanprodan/podinfo:6.7.0"),
            change: "modified",
            status: "skipped",
        },
    );
    assert_all_from(&json, "podinfo/podinfo");
}

#[test]
fn numeric_looking_tag() {
    let json = check_json("numeric-looking-tag", &[], 0);
    insta::assert_json_snapshot!("numeric-looking-tag", json);
    assert_eq!(images(&json).len(), 2, "{:#}", json["images"]);
    // `tag: 1.20` is the string "1.20", not the float 1.2.
    assert_image(
        &json,
        &Expect {
            file: "infrastructure/ingress-nginx/helmrelease.yaml",
            line: 25,
            column: 14,
            reference: "registry.acme.io/mirror/nginx-unprivileged:1.20",
            canonical: Some("registry.acme.io/mirror/nginx-unprivileged:1.20"),
            change: "modified",
            status: "skipped",
        },
    );
    // Likewise kustomize `newTag: 1.10`.
    assert_image(
        &json,
        &Expect {
            file: "infrastructure/ingress-nginx/kustomization.yaml",
            line: 7,
            column: 13,
            reference: "docker.io/library/busybox:1.10",
            canonical: Some("docker.io/library/busybox:1.10"),
            change: "modified",
            status: "skipped",
        },
    );
}

/// ingress-nginx style `image: {registry, image, tag, digest}`: the repository sits under a
/// key named `image` inside the image map (ingress-nginx, kube-webhook-certgen, ...).
/// The inner `image:` string is the repository, not a reference of its own.
#[test]

fn helmrelease_values_registry_image_tag() {
    let json = check_json("helmrelease-values-registry-image-tag", &[], 0);
    insta::assert_json_snapshot!("helmrelease-values-registry-image-tag", json);
    assert_eq!(images(&json).len(), 1, "{:#}", json["images"]);
    let reference = "registry.k8s.io/ingress-nginx/controller:v1.11.0@sha256:2ec454c7f844741214cd4a22ac228379845ec98c2535d78bcf5ce249a4cffa54";
    assert_image(
        &json,
        &Expect {
            file: "infrastructure/controllers/ingress-nginx.yaml",
            line: 21,
            column: 14,
            reference,
            canonical: Some(reference),
            change: "modified",
            status: "skipped",
        },
    );
    // The inner `image:` string is a repository, not a reference of its own.
    let all = check_json("helmrelease-values-registry-image-tag", &["--all"], 0);
    assert_eq!(images(&all).len(), 1, "{:#}", all["images"]);
    assert_eq!(images(&all)[0]["reference"], reference);
}

/// With `--all`, unchanged values are reported too: what is not an image must still stay out.
#[test]
fn values_that_are_not_images_stay_out_with_all() {
    // podinfo's `redis: {repository, tag}` is an image by shape; `backup.repository` is not.
    let json = check_json("helmrelease-values-repository-tag", &["--all"], 0);
    assert_eq!(
        support::gitrepo::positions(&json),
        [
            "apps/podinfo/release.yaml:20",
            "apps/podinfo/release.yaml:25",
            "apps/podinfo/release.yaml:30"
        ]
    );
    // `global.image` with only `registry`; the unchanged metrics image is now reported.
    let json = check_json("helmrelease-values-registry-repository-tag", &["--all"], 0);
    let file = "infrastructure/postgresql/helmrelease.yaml";
    assert_eq!(
        support::gitrepo::positions(&json),
        [23, 34, 40].map(|line| format!("{file}:{line}"))
    );
    assert_image(
        &json,
        &Expect {
            file,
            line: 34,
            column: 14,
            reference: "docker.io/bitnami/postgres-exporter:0.15.0-debian-12-r7",
            canonical: Some("docker.io/bitnami/postgres-exporter:0.15.0-debian-12-r7"),
            change: "unchanged",
            status: "skipped",
        },
    );
    assert!(findings(&json).is_empty(), "{:#}", json["findings"]);
}
