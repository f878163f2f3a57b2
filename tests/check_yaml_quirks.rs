//! `fluxgate check` on the YAML that real GitOps repos contain: broken files, lenient syntax,
//! Helm chart sources, SOPS files, Flux variables, CRLF/BOM and invalid references.
//!
//! Each test runs the real binary (`--offline --format json`) on a git repo built from one
//! `fixtures/<case>/`, snapshots the report and pins the crucial facts explicitly.
#![allow(clippy::unwrap_used)]

mod support;

use support::gitrepo::{assert_image, check_json, findings, images, rule_ids, Expect};

#[test]
fn invalid_yaml_beside_valid() {
    let json = check_json("invalid-yaml-beside-valid", &[], 1);
    insta::assert_json_snapshot!("invalid-yaml-beside-valid", json);
    assert_eq!(rule_ids(&json), ["yaml-invalid"], "{:#}", json["findings"]);
    let finding = &findings(&json)[0];
    assert_eq!(finding["severity"], "error");
    assert_eq!(finding["file"], "apps/broken/deployment.yaml");
    assert_eq!(json["summary"]["errors"], 1);
    // The other file is still processed.
    assert_eq!(images(&json).len(), 1, "{:#}", json["images"]);
    assert_image(
        &json,
        &Expect {
            file: "apps/ok/deployment.yaml",
            line: 17,
            column: 18,
            reference: "docker.io/grafana/loki:3.0.0",
            canonical: Some("docker.io/grafana/loki:3.0.0"),
            change: "modified",
            status: "skipped",
        },
    );
}

#[test]
fn flow_sequence_libyaml_leniency() {
    // `]` at the indentation of its key: accepted by libyaml and go-yaml, so by Flux.
    let json = check_json("flow-sequence-libyaml-leniency", &[], 0);
    insta::assert_json_snapshot!("flow-sequence-libyaml-leniency", json);
    assert!(findings(&json).is_empty(), "{:#}", json["findings"]);
    assert_image(
        &json,
        &Expect {
            file: "apps/gateway/deployment.yaml",
            line: 18,
            column: 18,
            reference: "ghcr.io/acme/gateway:0.15.0",
            canonical: Some("ghcr.io/acme/gateway:0.15.0"),
            change: "modified",
            status: "skipped",
        },
    );
}

#[test]
fn real_world_quirks() {
    let json = check_json("real-world-quirks", &[], 0);
    insta::assert_json_snapshot!("real-world-quirks", json);
    assert!(findings(&json).is_empty(), "{:#}", json["findings"]);
    assert_eq!(images(&json).len(), 2, "{:#}", json["images"]);
    // Leading `---` and comments, a redefined `&labels` anchor, a trailing `---`, a tab in a
    // quoted string and a trailing `# {"$imagepolicy": ...}` marker comment.
    assert_image(
        &json,
        &Expect {
            file: "apps/notifier/deployment.yaml",
            line: 23,
            column: 18,
            reference: "ghcr.io/acme/notifier:0.9.0",
            canonical: Some("ghcr.io/acme/notifier:0.9.0"),
            change: "modified",
            status: "skipped",
        },
    );
    // `{{ .Release.Name }}` strings in values are data, not templates to parse.
    assert_image(
        &json,
        &Expect {
            file: "apps/notifier/helmrelease.yaml",
            line: 22,
            column: 12,
            reference: "ghcr.io/acme/notifier-bridge:1.3.0",
            canonical: Some("ghcr.io/acme/notifier-bridge:1.3.0"),
            change: "modified",
            status: "skipped",
        },
    );
}

#[test]
fn flow_style_containers() {
    let json = check_json("flow-style-containers", &[], 0);
    insta::assert_json_snapshot!("flow-style-containers", json);
    assert_eq!(images(&json).len(), 2, "{:#}", json["images"]);
    let file = "apps/echo/deployment.yaml";
    assert_image(
        &json,
        &Expect {
            file,
            line: 9,
            column: 40,
            reference: "docker.io/ealen/echo-server:0.9.2",
            canonical: Some("docker.io/ealen/echo-server:0.9.2"),
            change: "modified",
            status: "skipped",
        },
    );
    assert_image(
        &json,
        &Expect {
            file,
            line: 11,
            column: 31,
            reference: "busybox:1.37",
            canonical: Some("docker.io/library/busybox:1.37"),
            change: "modified",
            status: "skipped",
        },
    );
}

#[test]
fn crlf_line_endings_bom() {
    let json = check_json("crlf-line-endings-bom", &[], 0);
    insta::assert_json_snapshot!("crlf-line-endings-bom", json);
    assert!(findings(&json).is_empty(), "{:#}", json["findings"]);
    assert_eq!(images(&json).len(), 1, "{:#}", json["images"]);
    // No `\r` in the reference; CRLF counts as one line break.
    assert_image(
        &json,
        &Expect {
            file: "apps/timesheet/deployment.yaml",
            line: 17,
            column: 18,
            reference: "acme.azurecr.io/office/timesheet:2024.05.1",
            canonical: Some("acme.azurecr.io/office/timesheet:2024.05.1"),
            change: "modified",
            status: "skipped",
        },
    );
}

#[test]
fn helm_chart_directory_skipped() {
    let json = check_json("helm-chart-directory-skipped", &[], 0);
    insta::assert_json_snapshot!("helm-chart-directory-skipped", json);
    // charts/internal-api/templates/deployment.yaml is a Go template, not YAML: no finding.
    assert!(findings(&json).is_empty(), "{:#}", json["findings"]);
    assert_eq!(images(&json).len(), 1, "{:#}", json["images"]);
    assert_image(
        &json,
        &Expect {
            file: "apps/internal-api/deployment.yaml",
            line: 18,
            column: 18,
            reference: "docker.io/swaggerapi/swagger-ui:v5.17.14",
            canonical: Some("docker.io/swaggerapi/swagger-ui:v5.17.14"),
            change: "modified",
            status: "skipped",
        },
    );
}

#[test]
fn sops_file_skipped() {
    let json = check_json("sops-file-skipped", &[], 0);
    insta::assert_json_snapshot!("sops-file-skipped", json);
    // The encrypted HelmRelease's `image: ENC[...]` is neither reported nor invalid.
    assert!(findings(&json).is_empty(), "{:#}", json["findings"]);
    assert_eq!(images(&json).len(), 1, "{:#}", json["images"]);
    assert_image(
        &json,
        &Expect {
            file: "apps/payments/deployment.yaml",
            line: 18,
            column: 18,
            reference: "ghcr.io/acme/payments-ledger:4.2.1",
            canonical: Some("ghcr.io/acme/payments-ledger:4.2.1"),
            change: "modified",
            status: "skipped",
        },
    );
}

#[test]
fn flux_variable_tag() {
    // The Flux Kustomization that builds the file gives `${APP_TAG}` its
    // value: the reference is checked as it will be deployed.
    let json = check_json("flux-variable-tag", &[], 0);
    insta::assert_json_snapshot!("flux-variable-tag", json);
    assert_eq!(images(&json).len(), 1, "{:#}", json["images"]);
    let file = "apps/checkout/deployment.yaml";
    assert_image(
        &json,
        &Expect {
            file,
            line: 18,
            column: 18,
            reference: "ghcr.io/acme/checkout:1.5.0",
            canonical: Some("ghcr.io/acme/checkout:1.5.0"),
            change: "modified",
            status: "skipped",
        },
    );
    assert_eq!(images(&json)[0]["name"], "${TENANT_NAMESPACE}/checkout");
    assert!(findings(&json).is_empty(), "{:#}", json["findings"]);
}

#[test]
fn invalid_reference_uppercase() {
    let json = check_json("invalid-reference-uppercase", &[], 1);
    insta::assert_json_snapshot!("invalid-reference-uppercase", json);
    let file = "apps/app/deployment.yaml";
    assert_image(
        &json,
        &Expect {
            file,
            line: 17,
            column: 18,
            reference: "ghcr.io/Org/App:v1",
            canonical: None,
            change: "modified",
            status: "invalid",
        },
    );
    assert_eq!(
        rule_ids(&json),
        ["image-reference-invalid"],
        "{:#}",
        json["findings"]
    );
    let finding = &findings(&json)[0];
    assert_eq!(finding["severity"], "error");
    assert_eq!(finding["file"], file);
    assert_eq!(finding["line"], 17);
    // The finding is narrowed to the offending part of the value: `Org` (the value starts at
    // column 18, `ghcr.io/` is 8 characters long).
    assert_eq!(finding["column"], 26);
    assert!(
        finding["message"].as_str().unwrap().contains("`Org`"),
        "{finding:#}"
    );
    assert_eq!(json["summary"]["errors"], 1);
}

/// With `--all` every file of the head tree is read: chart sources and SOPS files stay skipped.
#[test]
fn skipped_files_stay_skipped_with_all() {
    let json = check_json("helm-chart-directory-skipped", &["--all"], 0);
    assert!(findings(&json).is_empty(), "{:#}", json["findings"]);
    assert_eq!(
        support::gitrepo::positions(&json),
        ["apps/internal-api/deployment.yaml:18"]
    );
    let json = check_json("sops-file-skipped", &["--all"], 0);
    assert!(findings(&json).is_empty(), "{:#}", json["findings"]);
    assert_eq!(
        support::gitrepo::positions(&json),
        ["apps/payments/deployment.yaml:18"]
    );
}
