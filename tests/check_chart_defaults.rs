//! Tag-only chart images (`values: {image: {tag: ..}}`): the repository is
//! read from the chart's own `values.yaml`, in a chart pushed to the real
//! registry (TLS, basic auth), in an HTTP Helm repository (a loopback
//! server serving `index.yaml` and the archive), and in this repository.
#![allow(clippy::unwrap_used)]

#[path = "support/fault_server.rs"]
mod fault_server;
#[path = "support/registry/mod.rs"]
mod registry;
mod support;

use fault_server::{helm_repository, Behaviour, FaultServer, Route};
use registry::{base64_std, helm_chart_archive, helm_chart_archive_with, OciLayout, TestRegistry};
use support::gitrepo::{fleet_repo, helm_release, local_chart, repo_from_entries, Entry};
use support::isolated::{findings, image, Isolated};

const CHART_VALUES: &str = "replicaCount: 1\nimage:\n  repository: registry.test/acme/podinfo\n  tag: \"\"\n  pullPolicy: IfNotPresent\n";

/// The same defaults, split the bitnami way.
const SPLIT_VALUES: &str =
    "image:\n  registry: registry.test\n  repository: acme/podinfo\n  tag: 6.5.0\n";

fn release(name: &str, chart: &str, source: &str, values: &str) -> String {
    helm_release(
        name,
        chart,
        "6.5.4",
        &format!("{source}\n        namespace: flux-system"),
        &format!("  values:\n{values}"),
    )
}

fn sources(index_url: &str) -> String {
    format!(
        "apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: oci-charts
  namespace: flux-system
spec:
  type: oci
  url: oci://registry.test/charts
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: http-charts
  namespace: flux-system
spec:
  url: {index_url}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: flux-system
  namespace: flux-system
spec:
  url: https://git.example.invalid/platform/fleet.git
  ref: {{branch: main}}
"
    )
}

/// Base and head of a PR that bumps three tag-only images: one chart from
/// the OCI registry, one from an HTTP repository, one in this repository.
fn pr(index_url: &str, tags: [&str; 3]) -> Vec<Entry> {
    let tag = |t: &str| format!("    image:\n      tag: \"{t}\"\n");
    vec![
        Entry::file("sources.yaml", sources(index_url)),
        Entry::file(
            "apps/api.yaml",
            release(
                "api",
                "podinfo",
                "HelmRepository\n        name: oci-charts",
                &tag(tags[0]),
            ),
        ),
        Entry::file(
            "apps/web.yaml",
            release(
                "web",
                "podinfo",
                "HelmRepository\n        name: http-charts",
                &tag(tags[1]),
            ),
        ),
        Entry::file(
            "apps/local.yaml",
            release(
                "local",
                "./charts/podinfo",
                "GitRepository\n        name: flux-system",
                &tag(tags[2]),
            ),
        ),
        Entry::file(
            "charts/podinfo/Chart.yaml",
            "apiVersion: v2\nname: podinfo\nversion: 6.5.4\n",
        ),
        Entry::file("charts/podinfo/values.yaml", CHART_VALUES),
    ]
}

/// The image record of `file` (one per file in these tests).
fn record<'a>(json: &'a serde_json::Value, file: &str) -> &'a serde_json::Value {
    json["images"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["file"] == file)
        .unwrap_or_else(|| panic!("no image in {file}: {json:#}"))
}

fn index_server() -> FaultServer {
    let archive = helm_chart_archive(
        "podinfo",
        "apiVersion: v2\nname: podinfo\nversion: 6.5.4\n",
        Some(SPLIT_VALUES),
    );
    FaultServer::start(helm_repository("/charts", &[("podinfo", "6.5.4", archive)]))
}

#[test]
fn a_tag_only_override_is_checked_with_the_charts_repository() {
    let registry = TestRegistry::tls_basic("robot", "chart-pw");
    registry.push(&OciLayout::image("linux", "amd64"), "acme/podinfo:6.5.4");
    registry.push(
        &OciLayout::helm_chart_with_values("podinfo", "6.5.4", Some(CHART_VALUES)),
        "charts/podinfo:6.5.4",
    );
    let server = index_server();
    let index_url = server.url("/charts");
    // api: exists; web: a typo; local: missing; mirror: a repository
    // without the chart's default tag.
    let mut head = pr(&index_url, ["6.5.4", "6.5.40", "6.5.5"]);
    head.push(Entry::file(
        "apps/mirror.yaml",
        release(
            "mirror",
            "podinfo",
            "HelmRepository\n        name: http-charts",
            "    image:\n      repository: registry.test/mirror/podinfo\n",
        ),
    ));
    let repo = fleet_repo(
        "chart-defaults",
        &pr(&index_url, ["6.5.3", "6.5.3", "6.5.3"]),
        &head,
    );
    let env = Isolated::new();
    let auth = base64_std(b"robot:chart-pw");
    env.docker_config(&format!(
        r#"{{"auths": {{"{}": {{"auth": "{auth}"}}}}}}"#,
        registry.host()
    ));
    let config = env.config(&registry.host(), Some(registry.ca_pem_path()), "");
    let mark = registry.mark();
    let out = env.run(repo.path(), &config, &["--timeout", "20"]);
    let json = &out.json;
    assert_eq!(out.code, 1, "{json:#}\n{}", out.stderr);
    // The chart is looked up, its manifest and archive read, once each.
    for (method, path) in [
        ("HEAD", "/v2/charts/podinfo/manifests/"),
        ("GET", "/v2/charts/podinfo/manifests/"),
        ("GET", "/v2/charts/podinfo/blobs/"),
    ] {
        assert_eq!(
            registry.count_requests_since(mark, method, path),
            1,
            "{method} {path}"
        );
    }

    let api = image(json, "registry.test/acme/podinfo:6.5.4");
    assert_eq!(api["status"], "exists", "{api:#}");
    assert_eq!(api["file"], "apps/api.yaml");
    let web = image(json, "registry.test/acme/podinfo:6.5.40");
    assert_eq!(web["status"], "missing", "{web:#}");
    assert_eq!(web["file"], "apps/web.yaml");
    let mirror = image(json, "registry.test/mirror/podinfo:6.5.0");
    assert_eq!(mirror["status"], "missing", "{mirror:#}");
    let local = image(json, "registry.test/acme/podinfo:6.5.5");
    assert_eq!(local["status"], "missing", "{local:#}");
    assert_eq!(local["file"], "apps/local.yaml");
    // At the tag the release writes, where the fix goes.
    assert_eq!(
        findings(json),
        [
            ("image-not-found".to_string(), 18, 12),
            ("image-not-found".to_string(), 18, 19),
            ("image-not-found".to_string(), 18, 12)
        ],
        "{json:#}"
    );
    assert_eq!(server.count("GET", "/charts/podinfo-6.5.4.tgz"), 1);
    assert_eq!(server.count("GET", "/charts/index.yaml"), 1);
    for leak in ["chart-pw", auth.as_str()] {
        assert!(!json.to_string().contains(leak) && !out.stderr.contains(leak));
    }
    // The finding says where the repository came from.
    let text = env.human(repo.path(), &config);
    assert!(
        text.contains("repository `registry.test/acme/podinfo` from the default values of chart podinfo 6.5.4 (`image.repository`)"),
        "{text}"
    );
    assert!(
        text.contains("tag `6.5.0` from the default values of chart podinfo 6.5.4 (`image.tag`)"),
        "{text}"
    );

    // Offline, only the chart in this repository is read.
    let out = env.run(repo.path(), &config, &["--offline"]);
    let json = &out.json;
    assert_eq!(
        image(json, "registry.test/acme/podinfo:6.5.5")["status"],
        "skipped"
    );
    for file in ["apps/api.yaml", "apps/web.yaml"] {
        let record = record(json, file);
        assert_eq!(record["status"], "unresolved", "{record:#}");
        assert!(
            record["detail"]
                .as_str()
                .unwrap()
                .ends_with("charts are not read with `--offline`"),
            "{record:#}"
        );
    }
}

#[test]
fn what_the_chart_may_do_otherwise_stays_unresolved() {
    let base = pr("http://127.0.0.1:9/charts", ["1", "1", "1"]);
    let mut head = base.clone();
    // A `global` registry in the release that the chart's templates read
    // beside the image's own; `valuesFrom` beside the values; a chart whose
    // default values pin a digest.
    head[3] = Entry::file(
        "apps/local.yaml",
        release(
            "local",
            "./charts/mirrored",
            "GitRepository\n        name: flux-system",
            "    global:\n      imageRegistry: mirror.test\n    image:\n      tag: \"2\"\n",
        ),
    );
    head.push(Entry::file(
        "apps/more.yaml",
        release(
            "more",
            "./charts/podinfo",
            "GitRepository\n        name: flux-system",
            "    image:\n      tag: \"2\"\n  valuesFrom:\n    - kind: ConfigMap\n      name: more-values\n",
        ),
    ));
    head.push(Entry::file(
        "apps/pinned.yaml",
        release(
            "pinned",
            "./charts/pinned",
            "GitRepository\n        name: flux-system",
            "    image:\n      tag: \"2\"\n",
        ),
    ));
    head.extend(local_chart("mirrored", "1.0.0", SPLIT_VALUES));
    // `tag: ""` replaces the chart's default tag (6.5.0 there).
    head.push(Entry::file(
        "apps/emptied.yaml",
        release(
            "emptied",
            "./charts/mirrored",
            "GitRepository\n        name: flux-system",
            "    image:\n      repository: acme/podinfo\n      tag: \"\"\n",
        ),
    ));
    head.push(Entry::file(
        "charts/mirrored/templates/deployment.yaml",
        "image: {{ .Values.global.imageRegistry | default .Values.image.registry }}/{{ .Values.image.repository }}\n",
    ));
    head.extend(local_chart(
        "pinned",
        "1.0.0",
        "image:\n  repository: registry.test/acme/pinned\n  digest: sha256:0000000000000000000000000000000000000000000000000000000000000000\n",
    ));
    let repo = fleet_repo("chart-defaults-unsure", &base, &head);
    let env = Isolated::new();
    let config = env.config("127.0.0.1:9", None, "");
    let out = env.run(repo.path(), &config, &["--offline"]);
    let json = &out.json;
    let detail = |file: &str| -> String {
        let record = record(json, file);
        assert_eq!(record["status"], "unresolved", "{record:#}");
        record["detail"].as_str().unwrap().to_string()
    };
    let local = detail("apps/local.yaml");
    assert!(
        local.contains("read `global.imageRegistry` (`mirror.test`")
            && local.contains("has its own registry `registry.test`"),
        "{local}"
    );
    assert!(detail("apps/more.yaml").contains("`valuesFrom`"));
    assert!(detail("apps/pinned.yaml").contains("also pins `image.digest`"));
    assert!(findings(json)
        .iter()
        .all(|(rule, _, _)| rule == "image-unresolved"));
    let emptied = detail("apps/emptied.yaml");
    assert!(emptied.contains("set `image.tag` empty"), "{emptied}");
    assert_eq!(findings(json).len(), 4, "{json:#}");
}

/// An index may list archive URLs that carry a token (a presigned query):
/// when the archive cannot be read, the message names the archive without
/// its query.
#[test]
fn a_token_in_an_archive_url_never_reaches_the_output() {
    let index = "apiVersion: v1\nentries:\n  podinfo:\n  - name: podinfo\n    version: 6.5.4\n    urls: [podinfo-6.5.4.tgz?X-Amz-Signature=SECRET-TOKEN-123]\n";
    let server = FaultServer::start(vec![
        Route::new(
            "GET",
            "/charts/index.yaml",
            Behaviour::respond(200, &[], index),
        ),
        Route::new("GET", "/charts/podinfo-6.5.4.tgz", Behaviour::status(404)),
    ]);
    let index_url = server.url("/charts");
    let repo = repo_from_entries(
        "chart-defaults-token",
        &pr(&index_url, ["1", "1", "1"]),
        &pr(&index_url, ["1", "2", "1"]),
    );
    let env = Isolated::new();
    let config = env.config("127.0.0.1:9", None, "");
    let out = env.run(repo.path(), &config, &["--timeout", "20"]);
    let web = record(&out.json, "apps/web.yaml");
    assert_eq!(web["status"], "unresolved", "{web:#}");
    let detail = web["detail"].as_str().unwrap();
    assert!(detail.contains("HTTP 404"), "{detail}");
    assert_eq!(server.count("GET", "/charts/podinfo-6.5.4.tgz"), 1);
    let text = env.human(repo.path(), &config);
    for output in [out.stdout.as_str(), out.stderr.as_str(), text.as_str()] {
        assert!(!output.contains("SECRET-TOKEN"), "{output}");
    }
}

/// Old `stable/` charts take `image: repo` and `imageTag:` side by side: the
/// tag beside the string completes it, in the release's values or, failing
/// that, in the chart's; a string with neither stays unresolved rather than
/// being checked as `latest`.
#[test]
fn a_string_image_takes_the_tag_beside_it() {
    let chart_values = "image: registry.test/acme/redis\nimageTag: 6.0.1\nsidecar:\n  image: registry.test/acme/busybox\n";
    let entries = |tag: &str, sidecar: &str| {
        vec![
            Entry::file("sources.yaml", sources("http://127.0.0.1:9/charts")),
            Entry::file(
                "apps/redis.yaml",
                release(
                    "redis",
                    "./charts/redis",
                    "GitRepository\n        name: flux-system",
                    &format!("    image: registry.test/acme/redis\n    imageTag: \"{tag}\"\n    sidecar:\n      image: {sidecar}\n    exporter:\n      image: registry.test/acme/exporter\n"),
                ),
            ),
            Entry::file(
                "charts/redis/Chart.yaml",
                "apiVersion: v2\nname: redis\nversion: 6.5.4\n",
            ),
            Entry::file("charts/redis/values.yaml", chart_values),
        ]
    };
    let repo = fleet_repo(
        "chart-defaults-string-image",
        &entries("6.0.1", "registry.test/acme/busybox"),
        &entries("6.0.9", "registry.test/mirror/busybox"),
    );
    let env = Isolated::new();
    let config = env.config("127.0.0.1:9", None, "");
    let out = env.run(repo.path(), &config, &["--offline"]);
    let json = &out.json;
    let redis = image(json, "registry.test/acme/redis:6.0.9");
    assert_eq!(redis["status"], "skipped", "{redis:#}");
    assert_eq!(redis["line"], 18, "at the tag: {redis:#}");
    // The chart has no tag beside `sidecar.image`: no guess.
    let sidecar = image(json, "registry.test/mirror/busybox");
    assert_eq!(sidecar["status"], "unresolved", "{sidecar:#}");
    assert!(
        sidecar["detail"]
            .as_str()
            .unwrap()
            .contains("no `imageTag` or `tag` beside `sidecar.image`"),
        "{sidecar:#}"
    );
    // The unchanged exporter is not reported.
    assert_eq!(json["images"].as_array().unwrap().len(), 2, "{json:#}");
}

/// An umbrella chart leaves a subchart's image to that subchart's own
/// defaults: read from the subchart archive inside the chart's archive
/// (HTTP repository), and from a subchart directory (a chart in this
/// repository), under the alias `Chart.yaml` gives it.
#[test]
fn a_subcharts_defaults_complete_a_tag_only_override() {
    let registry = TestRegistry::plain();
    registry.push(&OciLayout::image("linux", "amd64"), "acme/grafana:10.1.0");
    let grafana = helm_chart_archive_with(
        "grafana",
        "apiVersion: v2\nname: grafana\nversion: 7.0.0\n",
        &[(
            "values.yaml",
            b"image:\n  repository: registry.test/acme/grafana\n  tag: 10.0.0\n",
        )],
    );
    let stack = helm_chart_archive_with(
        "stack",
        "apiVersion: v2\nname: stack\nversion: 1.0.0\ndependencies:\n  - name: grafana\n    version: 7.0.0\n",
        &[
            ("values.yaml", b"grafana:\n  adminUser: admin\n"),
            ("charts/grafana-7.0.0.tgz", &grafana),
        ],
    );
    let server = FaultServer::start(helm_repository("/charts", &[("stack", "1.0.0", stack)]));
    let stack_release = |tag: &str| {
        release(
            "stack",
            "stack",
            "HelmRepository\n        name: http-charts",
            &format!("    grafana:\n      image:\n        tag: \"{tag}\"\n"),
        )
        .replace("version: 6.5.4", "version: 1.0.0")
    };
    let local_release = |tag: &str| {
        release(
            "local",
            "./charts/umbrella",
            "GitRepository\n        name: flux-system",
            &format!("    cache:\n      image:\n        tag: \"{tag}\"\n"),
        )
    };
    let tree = |grafana: &str, cache: &str| {
        let mut entries = vec![
            Entry::file("sources.yaml", sources(&server.url("/charts"))),
            Entry::file("apps/stack.yaml", stack_release(grafana)),
            Entry::file("apps/local.yaml", local_release(cache)),
            Entry::file(
                "charts/umbrella/charts/redis/values.yaml",
                "image:\n  repository: registry.test/acme/redis\n  tag: 7.0.0\n",
            ),
        ];
        entries.push(Entry::file(
            "charts/umbrella/values.yaml",
            "cache:\n  replicas: 1\n",
        ));
        // `cache` is the alias of the `redis` subchart.
        entries.push(Entry::file(
            "charts/umbrella/Chart.yaml",
            "apiVersion: v2\nname: umbrella\nversion: 2.0.0\ndependencies:\n  - name: redis\n    alias: cache\n",
        ));
        entries
    };
    let repo = fleet_repo(
        "chart-defaults-subcharts",
        &tree("10.0.0", "7.0.0"),
        &tree("10.1.0", "7.9.9"),
    );
    let out = support::isolated::run_against(&registry.host(), repo.path());
    let json = &out.json;
    let grafana = image(json, "registry.test/acme/grafana:10.1.0");
    assert_eq!(grafana["status"], "exists", "{grafana:#}");
    assert_eq!(grafana["file"], "apps/stack.yaml", "{grafana:#}");
    let cache = image(json, "registry.test/acme/redis:7.9.9");
    assert_eq!(cache["status"], "missing", "{cache:#}");
    assert_eq!(server.count("GET", "/charts/stack-1.0.0.tgz"), 1);
}

/// A chart version bump with the release's values unchanged: the new
/// chart's defaults complete the tag-only image (the repository moved
/// between versions), so it deploys anew and is checked.
#[test]
fn a_chart_bump_checks_the_images_its_defaults_complete() {
    let registry = TestRegistry::plain();
    registry.push(&OciLayout::image("linux", "amd64"), "acme/old:1.0");
    let chart = |version: &str, repository: &str| {
        helm_chart_archive(
            "podinfo",
            &format!("apiVersion: v2\nname: podinfo\nversion: {version}\n"),
            Some(&format!(
                "image:\n  repository: registry.test/acme/{repository}\n  tag: \"\"\n"
            )),
        )
    };
    let server = FaultServer::start(helm_repository(
        "/charts",
        &[
            ("podinfo", "6.5.4", chart("6.5.4", "old")),
            ("podinfo", "7.0.0", chart("7.0.0", "new")),
        ],
    ));
    let tree = |version: &str| {
        vec![
            Entry::file("sources.yaml", sources(&server.url("/charts"))),
            Entry::file(
                "apps/web.yaml",
                release(
                    "web",
                    "podinfo",
                    "HelmRepository\n        name: http-charts",
                    "    image:\n      tag: \"1.0\"\n",
                )
                .replace("version: 6.5.4", &format!("version: {version}")),
            ),
        ]
    };
    let repo = fleet_repo("chart-defaults-bump", &tree("6.5.4"), &tree("7.0.0"));
    let out = support::isolated::run_against(&registry.host(), repo.path());
    let json = &out.json;
    let web = record(json, "apps/web.yaml");
    assert_eq!(web["reference"], "registry.test/acme/new:1.0", "{web:#}");
    assert_eq!(web["status"], "missing", "{web:#}");
    assert_eq!(web["change"], "modified", "{web:#}");
    assert_eq!(server.count("GET", "/charts/podinfo-7.0.0.tgz"), 1);
    assert_eq!(out.code, 1, "{json:#}");
}
