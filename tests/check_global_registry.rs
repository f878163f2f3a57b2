//! A registry a release sets under `global` (`global.imageRegistry`, the
//! usual way to pull a bitnami chart's images through a mirror): checked
//! where the chart's templates make the cluster pull from, read from the
//! chart itself (an HTTP Helm repository on loopback) against the real
//! registry. Checking the image as written was a false "exists".
#![allow(clippy::unwrap_used)]

#[path = "support/fault_server.rs"]
mod fault_server;
#[path = "support/registry/mod.rs"]
mod registry;
mod support;

use fault_server::{helm_repository, FaultServer};
use registry::{helm_chart_archive_with, OciLayout, TestRegistry};
use support::gitrepo::{fleet_repo, helm_release, Entry};
use support::isolated::run_against;

/// bitnami's image helper, as its `common` library chart ships it.
const BITNAMI_IMAGES_TPL: &str = r#"{{- define "common.images.image" -}}
{{- $registryName := default .imageRoot.registry ((.global).imageRegistry) -}}
{{- $repositoryName := .imageRoot.repository -}}
{{- $termination := .imageRoot.tag | toString -}}
{{- printf "%s/%s:%s" $registryName $repositoryName $termination -}}
{{- end -}}
"#;

const APP_VALUES: &str = "image:\n  registry: registry.test\n  repository: acme/app\n  tag: \"1\"\nmetrics:\n  image:\n    registry: registry.test\n    repository: acme/exporter\n    tag: \"0.1\"\n";

/// Charts `bitnami-app` (templates through bitnami's helper, in a
/// `common` subchart) and `plain-app` (templates that never read
/// `global`), with the same default values, served as an HTTP Helm
/// repository.
fn chart_repository() -> FaultServer {
    let bitnami = helm_chart_archive_with(
        "bitnami-app",
        "apiVersion: v2\nname: bitnami-app\nversion: 1.0.0\ndependencies:\n  - name: common\n    version: 2.x.x\n",
        &[
            ("values.yaml", APP_VALUES.as_bytes()),
            (
                "templates/deployment.yaml",
                br#"image: {{ include "common.images.image" (dict "imageRoot" .Values.image "global" .Values.global) }}"#,
            ),
            (
                "charts/common/Chart.yaml",
                b"apiVersion: v2\nname: common\nversion: 2.20.0\ntype: library\n",
            ),
            ("charts/common/values.yaml", b"exampleValue: common-chart\n"),
            (
                "charts/common/templates/_images.tpl",
                BITNAMI_IMAGES_TPL.as_bytes(),
            ),
        ],
    );
    let plain = helm_chart_archive_with(
        "plain-app",
        "apiVersion: v2\nname: plain-app\nversion: 1.0.0\n",
        &[
            ("values.yaml", APP_VALUES.as_bytes()),
            (
                "templates/deployment.yaml",
                b"image: {{ .Values.image.registry }}/{{ .Values.image.repository }}:{{ .Values.image.tag }}\n",
            ),
        ],
    );
    let pinned = helm_chart_archive_with(
        "pinned-app",
        "apiVersion: v2\nname: pinned-app\nversion: 1.0.0\n",
        &[(
            "values.yaml",
            format!(
                "image:\n  registry: registry.test\n  repository: acme/app\n  tag: \"1\"\n  digest: sha256:{}\n",
                "0".repeat(64)
            )
            .as_bytes(),
        )],
    );
    FaultServer::start(helm_repository(
        "/charts",
        &[
            ("bitnami-app", "1.0.0", bitnami),
            ("plain-app", "1.0.0", plain),
            ("pinned-app", "1.0.0", pinned),
        ],
    ))
}

fn repository(url: &str) -> String {
    format!(
        "apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\nmetadata:\n  name: charts\n  namespace: flux-system\nspec:\n  url: {url}\n"
    )
}

/// A release of `chart` from the repository `charts`, with `more_spec`
/// (`valuesFrom:`) before its `values`.
fn release(name: &str, chart: &str, values: &str, more_spec: &str) -> String {
    helm_release(
        name,
        chart,
        "1.0.0",
        "HelmRepository\n        name: charts\n        namespace: flux-system",
        &format!("{more_spec}  values:\n{values}"),
    )
}

/// The image record at `field` of `file`.
fn record<'a>(json: &'a serde_json::Value, file: &str, field: &str) -> &'a serde_json::Value {
    json["images"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["file"] == file && i["field"] == field)
        .unwrap_or_else(|| panic!("no image at {file} {field}: {json:#}"))
}

#[test]
fn images_are_checked_where_the_charts_templates_pull_them_from() {
    let registry = TestRegistry::plain();
    let layout = OciLayout::image("linux", "amd64");
    // As written, every new tag exists; through the mirror only the
    // exporter's does.
    for reference in [
        "acme/app:2",
        "acme/exporter:0.2",
        "mirror/acme/exporter:0.2",
    ] {
        registry.push(&layout, reference);
    }
    let server = chart_repository();
    let values = |tag: &str, exporter: &str| {
        format!(
            "    global:\n      imageRegistry: registry.test/mirror\n    image:\n      registry: registry.test\n      repository: acme/app\n      tag: \"{tag}\"\n    metrics:\n      image:\n        repository: acme/exporter\n        tag: \"{exporter}\"\n"
        )
    };
    let document = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: mirror-values\n  namespace: apps\ndata:\n  values.yaml: |\n    global:\n      imageRegistry: registry.test/mirror\n";
    let tree = |tag: &str, exporter: &str| {
        let in_document =
            format!("    image:\n      registry: registry.test\n      repository: acme/app\n      tag: \"{tag}\"\n");
        vec![
            Entry::file("sources.yaml", repository(&server.url("/charts"))),
            Entry::file(
                "apps/bitnami.yaml",
                release("bitnami", "bitnami-app", &values(tag, exporter), ""),
            ),
            Entry::file(
                "apps/plain.yaml",
                release("plain", "plain-app", &values(tag, exporter), ""),
            ),
            Entry::file(
                "apps/from-document.yaml",
                release(
                    "from-document",
                    "bitnami-app",
                    &in_document,
                    "  valuesFrom:\n    - kind: ConfigMap\n      name: mirror-values\n",
                ),
            ),
            Entry::file("apps/mirror-values.yaml", document),
        ]
    };
    let repo = fleet_repo("global-registry", &tree("1", "0.1"), &tree("2", "0.2"));
    let out = run_against(&registry.host(), repo.path());
    let json = &out.json;

    // bitnami's helper puts the global registry before the image's own.
    let app = record(json, "apps/bitnami.yaml", "spec.values.image");
    assert_eq!(
        app["reference"], "registry.test/mirror/acme/app:2",
        "{app:#}"
    );
    assert_eq!(app["status"], "missing", "{app:#}");
    // No registry of its own in the release: the chart's default one is
    // the one the global registry replaces.
    let exporter = record(json, "apps/bitnami.yaml", "spec.values.metrics.image");
    assert_eq!(
        exporter["reference"], "registry.test/mirror/acme/exporter:0.2",
        "{exporter:#}"
    );
    assert_eq!(exporter["status"], "exists", "{exporter:#}");

    // A chart whose templates never read it: as written, with the chart's
    // default registry where the release sets none.
    let plain = record(json, "apps/plain.yaml", "spec.values.image");
    assert_eq!(plain["reference"], "registry.test/acme/app:2", "{plain:#}");
    assert_eq!(plain["status"], "exists", "{plain:#}");
    let plain_exporter = record(json, "apps/plain.yaml", "spec.values.metrics.image");
    assert_eq!(
        plain_exporter["reference"], "registry.test/acme/exporter:0.2",
        "{plain_exporter:#}"
    );

    // The global registry set in a values document the release takes.
    let from_document = record(json, "apps/from-document.yaml", "spec.values.image");
    assert_eq!(
        from_document["reference"], "registry.test/mirror/acme/app:2",
        "{from_document:#}"
    );
    assert_eq!(from_document["status"], "missing", "{from_document:#}");

    // Each chart is fetched once.
    assert_eq!(server.count("GET", "/charts/bitnami-app-1.0.0.tgz"), 1);
    assert_eq!(server.count("GET", "/charts/plain-app-1.0.0.tgz"), 1);
    assert_eq!(out.code, 1, "{json:#}");
}

/// A release without a `global` registry: complete images that name their
/// registry are checked as written, without fetching the chart; one that
/// leaves it to the chart takes the chart's default registry (Helm merges
/// the release's values over the chart's).
#[test]
fn without_a_global_registry_only_the_charts_default_registry_counts() {
    let registry = TestRegistry::plain();
    registry.push(&OciLayout::image("linux", "amd64"), "acme/app:2");
    registry.push(&OciLayout::image("linux", "amd64"), "acme/other:1");
    let server = chart_repository();
    let tree = |tag: &str| {
        vec![
            Entry::file("sources.yaml", repository(&server.url("/charts"))),
            Entry::file(
                "apps/bitnami.yaml",
                release(
                    "bitnami",
                    "bitnami-app",
                    &format!("    image:\n      registry: registry.test\n      repository: acme/app\n      tag: \"{tag}\"\n"),
                    "",
                ),
            ),
            Entry::file(
                "apps/plain.yaml",
                release(
                    "plain",
                    "plain-app",
                    &format!("    image:\n      repository: acme/app\n      tag: \"{tag}\"\n"),
                    "",
                ),
            ),
            // A repository-only override: the chart's tag and registry.
            Entry::file(
                "apps/repository-only.yaml",
                release(
                    "repository-only",
                    "plain-app",
                    &format!("    image:\n      repository: acme/{}\n", if tag == "1" { "app" } else { "other" }),
                    "",
                ),
            ),
        ]
    };
    let repo = fleet_repo("global-registry-none", &tree("1"), &tree("2"));
    let out = run_against(&registry.host(), repo.path());
    let app = record(&out.json, "apps/bitnami.yaml", "spec.values.image");
    assert_eq!(app["reference"], "registry.test/acme/app:2", "{app:#}");
    assert_eq!(app["status"], "exists", "{app:#}");
    assert_eq!(server.count("GET", "/charts/bitnami-app-1.0.0.tgz"), 0);
    // As written it is `docker.io/acme/app:2`.
    let plain = record(&out.json, "apps/plain.yaml", "spec.values.image");
    assert_eq!(plain["reference"], "registry.test/acme/app:2", "{plain:#}");
    assert_eq!(plain["status"], "exists", "{plain:#}");
    let other = record(&out.json, "apps/repository-only.yaml", "spec.values.image");
    assert_eq!(
        other["reference"], "registry.test/acme/other:1",
        "{other:#}"
    );
    assert_eq!(other["status"], "exists", "{other:#}");
    assert_eq!(server.count("GET", "/charts/plain-app-1.0.0.tgz"), 1);
    assert_eq!(out.code, 0, "{:#}", out.json);
}

/// A `global` registry set with `targetPath` (not read) leaves the image
/// unresolved, as does a digest the chart's defaults pin beside a tag the
/// release sets; with `--offline` (no chart is read, nothing is checked) the
/// image keeps the reference it is written with.
#[test]
fn what_cannot_be_weighed_is_said() {
    let registry = TestRegistry::plain();
    registry.push(&OciLayout::image("linux", "amd64"), "acme/app:2");
    let server = chart_repository();
    let image = |tag: &str| {
        format!("    image:\n      registry: registry.test\n      repository: acme/app\n      tag: \"{tag}\"\n")
    };
    let versions = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: versions\n  namespace: apps\ndata:\n  mirror: registry.test/mirror\n";
    let tree = |tag: &str| {
        vec![
            Entry::file("sources.yaml", repository(&server.url("/charts"))),
            Entry::file(
                "apps/targeted.yaml",
                release(
                    "targeted",
                    "bitnami-app",
                    &image(tag),
                    "  valuesFrom:\n    - kind: ConfigMap\n      name: versions\n      valuesKey: mirror\n      targetPath: global.imageRegistry\n",
                ),
            ),
            Entry::file("apps/versions.yaml", versions),
            Entry::file(
                "apps/pinned.yaml",
                release(
                    "pinned",
                    "pinned-app",
                    &format!("    image:\n      repository: acme/app\n      tag: \"{tag}\"\n"),
                    "",
                ),
            ),
            Entry::file(
                "apps/offline.yaml",
                release(
                    "offline",
                    "bitnami-app",
                    &format!("    global:\n      imageRegistry: registry.test/mirror\n{}", image(tag)),
                    "",
                ),
            ),
        ]
    };
    let repo = fleet_repo("global-registry-unsure", &tree("1"), &tree("2"));
    let out = run_against(&registry.host(), repo.path());
    let targeted = record(&out.json, "apps/targeted.yaml", "spec.values.image");
    assert_eq!(targeted["status"], "unresolved", "{targeted:#}");
    let detail = targeted["detail"].as_str().unwrap();
    assert!(
        detail.contains("`global.imageRegistry` from ConfigMap versions, key `mirror`"),
        "{detail}"
    );

    let pinned = record(&out.json, "apps/pinned.yaml", "spec.values.image");
    assert_eq!(pinned["status"], "unresolved", "{pinned:#}");
    let detail = pinned["detail"].as_str().unwrap();
    assert!(detail.contains("pins `image.digest`"), "{detail}");

    let env = support::isolated::Isolated::new();
    let config = env.config(&registry.host(), None, "");
    let offline = env.run(repo.path(), &config, &["--offline"]);
    let kept = record(&offline.json, "apps/offline.yaml", "spec.values.image");
    assert_eq!(kept["reference"], "registry.test/acme/app:2", "{kept:#}");
    assert_eq!(kept["status"], "skipped", "{kept:#}");
    assert_eq!(offline.code, 0, "{:#}", offline.json);
}
