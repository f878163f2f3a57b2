//! `fluxgate check` image extraction from workloads and kustomize, and which changes it reports.
//!
//! Each test runs the real binary (`--offline --format json`) on a git repo built from one
//! `fixtures/<case>/`, snapshots the report and pins the crucial facts explicitly.
#![allow(clippy::unwrap_used)]

mod support;

use support::gitrepo::{assert_image, check_json, findings, images, positions, rule_ids, Expect};

#[test]
fn image_bump_deployment() {
    let json = check_json("image-bump-deployment", &[], 0);
    insta::assert_json_snapshot!("image-bump-deployment", json);
    // Only the bumped container: the envoy sidecar and the unchanged files are not reported.
    assert_eq!(images(&json).len(), 1);
    assert_image(
        &json,
        &Expect {
            file: "apps/podinfo/deployment.yaml",
            line: 24,
            column: 18,
            reference: "ghcr.io/stefanprodan/podinfo:6.5.4",
            canonical: Some("ghcr.io/stefanprodan/podinfo:6.5.4"),
            change: "modified",
            status: "skipped",
        },
    );
    let image = &images(&json)[0];
    assert_eq!(image["kind"], "Deployment");
    assert_eq!(image["name"], "podinfo/podinfo");
    assert_eq!(image["field"], "spec.template.spec.containers[0].image");
    assert!(findings(&json).is_empty());
}

#[test]
fn cronjob_init_container() {
    let json = check_json("cronjob-init-container", &[], 0);
    insta::assert_json_snapshot!("cronjob-init-container", json);
    assert_eq!(images(&json).len(), 2);
    let file = "infrastructure/backup/cronjob.yml";
    assert_image(
        &json,
        &Expect {
            file,
            line: 19,
            column: 22,
            reference: "busybox:1.36.1",
            canonical: Some("docker.io/library/busybox:1.36.1"),
            change: "added",
            status: "skipped",
        },
    );
    assert_image(
        &json,
        &Expect {
            file,
            line: 23,
            column: 22,
            reference: "docker.io/library/postgres:16.3-alpine",
            canonical: Some("docker.io/library/postgres:16.3-alpine"),
            change: "modified",
            status: "skipped",
        },
    );
    let fields: Vec<_> = images(&json).iter().map(|i| &i["field"]).collect();
    assert!(fields.contains(&&serde_json::json!(
        "spec.jobTemplate.spec.template.spec.initContainers[0].image"
    )));
    assert!(fields.contains(&&serde_json::json!(
        "spec.jobTemplate.spec.template.spec.containers[0].image"
    )));
    for image in images(&json) {
        assert_eq!(image["kind"], "CronJob");
        assert_eq!(image["name"], "database/postgres-backup");
    }
}

#[test]
fn multi_document_file() {
    let json = check_json("multi-document-file", &[], 0);
    insta::assert_json_snapshot!("multi-document-file", json);
    // Three documents, two with images, only the storefront one changed.
    assert_eq!(images(&json).len(), 1);
    assert_image(
        &json,
        &Expect {
            file: "apps/shop/shop.yaml",
            line: 46,
            // The opening quote of the double-quoted scalar.
            column: 18,
            reference: "registry.gitlab.com/acme/shop/storefront:1.9.0",
            canonical: Some("registry.gitlab.com/acme/shop/storefront:1.9.0"),
            change: "modified",
            status: "skipped",
        },
    );
    assert_eq!(images(&json)[0]["name"], "shop/storefront");
}

#[test]
fn workload_kinds_new_file() {
    // No base/ directory: the base commit is the empty tree, so everything is added.
    let json = check_json("workload-kinds-new-file", &[], 0);
    insta::assert_json_snapshot!("workload-kinds-new-file", json);
    let file = "apps/platform/workloads.yaml";
    let expected = [
        (19, 18, "StatefulSet", "platform/nats", "docker.io/library/nats:2.10.16-alpine", "docker.io/library/nats:2.10.16-alpine"),
        (38, 18, "DaemonSet", "platform/node-exporter",
         "quay.io/prometheus/node-exporter@sha256:e3f0cf3b266953e2e93369459bc75869f3c2518f3a8c85ffaf472b12fdedca75",
         "quay.io/prometheus/node-exporter@sha256:e3f0cf3b266953e2e93369459bc75869f3c2518f3a8c85ffaf472b12fdedca75"),
        (51, 18, "Job", "platform/db-migrate", "migrate/migrate:v4.17.1", "docker.io/migrate/migrate:v4.17.1"),
        (60, 14, "Pod", "debug", "alpine", "docker.io/library/alpine:latest"),
        (63, 14, "Pod", "debug", "nicolaka/netshoot:v0.13", "docker.io/nicolaka/netshoot:v0.13"),
        (82, 18, "ReplicaSet", "platform/legacy-frontend",
         "registry.acme.io:5000/legacy/frontend:2019.11", "registry.acme.io:5000/legacy/frontend:2019.11"),
        (100, 18, "ReplicationController", "platform/echo", "localhost:5000/echo:1.0", "localhost:5000/echo:1.0"),
    ];
    // The Flux ImageRepository's `spec.image` (line 108) is not a deployed image.
    assert_eq!(images(&json).len(), expected.len(), "{:#}", json["images"]);
    for (line, column, kind, name, reference, canonical) in expected {
        assert_image(
            &json,
            &Expect {
                file,
                line,
                column,
                reference,
                canonical: Some(canonical),
                change: "added",
                status: "skipped",
            },
        );
        let image = support::gitrepo::image_at(&json, file, line);
        assert_eq!(image["kind"], kind, "{image:#}");
        assert_eq!(image["name"], name, "{image:#}");
    }
    assert_eq!(
        support::gitrepo::image_at(&json, file, 63)["field"],
        "spec.ephemeralContainers[0].image"
    );
}

#[test]
fn kustomize_overlay_new_tag() {
    let json = check_json("kustomize-overlay-new-tag", &[], 0);
    insta::assert_json_snapshot!("kustomize-overlay-new-tag", json);
    let file = "apps/web/overlays/production/kustomization.yaml";
    // The unchanged nginx entry and the base Deployment are not reported.
    assert_eq!(images(&json).len(), 2, "{:#}", json["images"]);
    assert_image(
        &json,
        &Expect {
            file,
            line: 8,
            column: 13,
            reference: "ghcr.io/acme/web:v1.5.0",
            canonical: Some("ghcr.io/acme/web:v1.5.0"),
            change: "modified",
            status: "skipped",
        },
    );
    assert_image(
        &json,
        &Expect {
            file,
            line: 13,
            column: 13,
            reference: "busybox@sha256:2ec454c7f844741214cd4a22ac228379845ec98c2535d78bcf5ce249a4cffa54",
            canonical: Some(
                "docker.io/library/busybox@sha256:2ec454c7f844741214cd4a22ac228379845ec98c2535d78bcf5ce249a4cffa54",
            ),
            change: "added",
            status: "skipped",
        },
    );
    for image in images(&json) {
        assert_eq!(image["kind"], "Kustomization");
        assert_eq!(image["name"], "apps/web/overlays/production");
    }
    assert!(findings(&json).is_empty());
}

#[test]
fn flux_kustomization_images() {
    let json = check_json("flux-kustomization-images", &[], 0);
    insta::assert_json_snapshot!("flux-kustomization-images", json);
    let file = "clusters/production/apps.yaml";
    assert_eq!(images(&json).len(), 2, "{:#}", json["images"]);
    assert_image(
        &json,
        &Expect {
            file,
            line: 21,
            column: 15,
            reference: "ghcr.io/acme/api:2.4.0",
            canonical: Some("ghcr.io/acme/api:2.4.0"),
            change: "modified",
            status: "skipped",
        },
    );
    // newName without newTag: kustomize keeps the tag of the image it rewrites, which this
    // entry does not know, so the reference is unresolved (not `:latest`); positioned at newName.
    assert_image(
        &json,
        &Expect {
            file,
            line: 26,
            column: 16,
            reference: "registry.acme.io/worker",
            canonical: None,
            change: "added",
            status: "unresolved",
        },
    );
    for image in images(&json) {
        assert_eq!(image["kind"], "Kustomization");
        assert_eq!(image["name"], "flux-system/apps");
    }
    assert_eq!(
        rule_ids(&json),
        ["image-unresolved"],
        "{:#}",
        json["findings"]
    );
    let finding = &findings(&json)[0];
    assert_eq!(finding["severity"], "warning");
    assert_eq!(finding["line"], 26);
    assert_eq!(finding["column"], 16);
}

#[test]
fn renamed_file() {
    let json = check_json("renamed-file", &[], 0);
    insta::assert_json_snapshot!("renamed-file", json);
    // api moved and bumped: modified (not added); worker moved unchanged: not reported.
    assert_eq!(images(&json).len(), 1, "{:#}", json["images"]);
    assert_image(
        &json,
        &Expect {
            file: "apps/backend/api/deployment.yaml",
            line: 22,
            column: 18,
            reference: "ghcr.io/acme/api:1.1.0",
            canonical: Some("ghcr.io/acme/api:1.1.0"),
            change: "modified",
            status: "skipped",
        },
    );
}

#[test]
fn deleted_file() {
    let json = check_json("deleted-file", &[], 0);
    insta::assert_json_snapshot!("deleted-file", json);
    assert!(images(&json).is_empty(), "{:#}", json["images"]);
    assert!(findings(&json).is_empty(), "{:#}", json["findings"]);
}

#[test]
fn labels_only_change() {
    let json = check_json("labels-only-change", &[], 0);
    insta::assert_json_snapshot!("labels-only-change", json);
    assert!(images(&json).is_empty(), "{:#}", json["images"]);
    assert!(findings(&json).is_empty(), "{:#}", json["findings"]);
}

#[test]
fn non_yaml_files_ignored() {
    // README, JSON and `.yaml.tmpl` changes mention images; only *.yaml/*.yml are read.
    let json = check_json("non-yaml-files-ignored", &[], 0);
    insta::assert_json_snapshot!("non-yaml-files-ignored", json);
    assert!(images(&json).is_empty(), "{:#}", json["images"]);
    assert!(findings(&json).is_empty(), "{:#}", json["findings"]);
}

#[test]
fn all_flag_reports_unchanged_images() {
    let json = check_json("all-flag", &["--all"], 0);
    insta::assert_json_snapshot!("all-flag", json);
    // The root kustomization's `images:` entry gives the backend its tag:
    // it is checked as deployed, `ghcr.io/acme/backend:5.0.1`.
    assert_eq!(images(&json).len(), 5, "{:#}", json["images"]);
    let unchanged = |file, line, column, reference, canonical| Expect {
        file,
        line,
        column,
        reference,
        canonical: Some(canonical),
        change: "unchanged",
        status: "skipped",
    };
    assert_image(
        &json,
        &Expect {
            change: "modified",
            ..unchanged(
                "apps/frontend/deployment.yaml",
                17,
                18,
                "ghcr.io/acme/frontend:2.1.0",
                "ghcr.io/acme/frontend:2.1.0",
            )
        },
    );
    assert_image(
        &json,
        &unchanged(
            "apps/backend/deployment.yaml",
            17,
            18,
            "ghcr.io/acme/backend:5.0.1",
            "ghcr.io/acme/backend:5.0.1",
        ),
    );
    assert_image(
        &json,
        &unchanged(
            "apps/backend/deployment.yaml",
            21,
            18,
            "ghcr.io/acme/backend:5.0.1",
            "ghcr.io/acme/backend:5.0.1",
        ),
    );
    assert_image(
        &json,
        &unchanged(
            "infrastructure/redis/helmrelease.yaml",
            21,
            12,
            "docker.io/bitnami/redis:7.2.5-debian-12-r0",
            "docker.io/bitnami/redis:7.2.5-debian-12-r0",
        ),
    );
    assert_image(
        &json,
        &unchanged(
            "kustomization.yaml",
            9,
            13,
            "ghcr.io/acme/backend:5.0.1",
            "ghcr.io/acme/backend:5.0.1",
        ),
    );
    // A kustomization.yaml at the repository root has an empty name.
    let root = support::gitrepo::image_at(&json, "kustomization.yaml", 9);
    assert_eq!(root["kind"], "Kustomization");
    assert_eq!(root["name"], "");
}

#[test]
fn all_flag_fixture_without_all_reports_only_the_change() {
    let json = check_json("all-flag", &[], 0);
    assert_eq!(images(&json).len(), 1, "{:#}", json["images"]);
    assert_eq!(images(&json)[0]["reference"], "ghcr.io/acme/frontend:2.1.0");
    assert_eq!(images(&json)[0]["change"], "modified");
}

/// The demo pull request (`scripts/demo`): every shape of problem the core reports, at once.
#[test]
fn demo_pull_request() {
    let json = check_json("demo", &[], 1);
    assert_eq!(
        positions(&json),
        [
            "apps/shop/canary.yaml:17",
            "apps/shop/deployment.yaml:18",
            "apps/shop/deployment.yaml:21",
            "apps/shop/kustomization.yaml:9",
            "infrastructure/redis.yaml:19",
            "infrastructure/redis.yaml:25",
        ]
    );
    assert_eq!(
        rule_ids(&json),
        [
            "image-unresolved",
            "yaml-invalid",
            "image-reference-invalid"
        ]
    );
    let invalid = &findings(&json)[2];
    assert_eq!(
        (invalid["line"].as_u64(), invalid["column"].as_u64()),
        (Some(24), Some(21))
    );
    assert_eq!(json["summary"]["errors"], 2);
}
