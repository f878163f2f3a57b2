//! Helm chart versions: HTTP Helm repositories (a loopback server serving a
//! real `index.yaml`, a 404, a malformed and an oversized index), OCI
//! HelmRepositories and OCIRepositories in the real registry (charts pushed
//! as `helm push` does), and a GitRepository that is this repository.
#![allow(clippy::unwrap_used)]

#[path = "support/fault_server.rs"]
mod fault_server;
#[path = "support/registry/mod.rs"]
mod registry;
mod support;

use fault_server::{Behaviour, FaultServer, Route};
use registry::{OciLayout, TestRegistry};
use support::gitrepo::repo_from_fixture_replacing;
use support::isolated::{findings, Isolated};

const PLACEHOLDER: &str = "http://charts.invalid";

const PODINFO_INDEX: &str = r#"apiVersion: v1
entries:
  podinfo:
  - apiVersion: v2
    name: podinfo
    version: 6.5.4
    urls: [podinfo-6.5.4.tgz]
  - apiVersion: v2
    name: podinfo
    version: 6.5.3
    urls: [podinfo-6.5.3.tgz]
  - apiVersion: v2
    name: podinfo
    version: 7.0.0-rc.1
    urls: [podinfo-7.0.0-rc.1.tgz]
generated: "2026-11-01T00:00:00Z"
"#;

fn index_server() -> FaultServer {
    let huge = vec![b'#'; 65 * 1024 * 1024];
    FaultServer::start(vec![
        Route::new(
            "GET",
            "/podinfo/index.yaml",
            Behaviour::respond(200, &[("content-type", "text/yaml")], PODINFO_INDEX),
        ),
        Route::new(
            "GET",
            "/broken/index.yaml",
            Behaviour::respond(200, &[], "entries:\n  broken: [unclosed\n"),
        ),
        Route::new(
            "GET",
            "/huge/index.yaml",
            Behaviour::respond(200, &[], huge),
        ),
    ])
}

fn chart<'a>(json: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    json["charts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no chart record for {name} in {json:#}"))
}

#[test]
fn chart_versions_are_checked_where_flux_fetches_them() {
    let registry = TestRegistry::plain();
    registry.push(
        &OciLayout::helm_chart("redis", "19.0.1"),
        "charts/redis:19.0.1",
    );
    registry.push(&OciLayout::helm_chart("app", "1.0.0"), "charts/app:1.0.0");
    for version in ["1.4.0", "2.1.0", "2.2.0-rc.1", "3.0.0"] {
        registry.push(
            &OciLayout::helm_chart("worker", version),
            &format!("charts/worker:{version}"),
        );
    }
    let server = index_server();
    let url = server.url("");
    let url = url.trim_end_matches('/');
    let repo = repo_from_fixture_replacing("chart-versions", &[(PLACEHOLDER, url)]);
    // This repository is the one the GitRepository source names.
    git2::Repository::open(repo.path())
        .unwrap()
        .remote("origin", "git@git.example.invalid:platform/home-ops.git")
        .unwrap();
    let env = Isolated::new();
    let config = env.config(&registry.host(), None, "");
    let out = env.run(repo.path(), &config, &["--timeout", "20"]);
    let json = &out.json;
    assert_eq!(out.code, 1, "{json:#}\n{}", out.stderr);

    let located = support::gitrepo::places(json);
    let expected = [
        ("chart-not-found", "apps/others.yaml", 26, 16), // 404 for the repository's index
        ("chart-unverified", "apps/others.yaml", 41, 16), // malformed index
        ("chart-unresolved", "apps/others.yaml", 56, 16), // source not in the repository
        ("chart-not-found", "apps/others.yaml", 84, 14), // no Chart.yaml at that path
        ("chart-unverified", "apps/others.yaml", 99, 16), // index over the size limit
        ("chart-not-found", "apps/podinfo.yaml", 11, 16), // 6.5.40 is not in the index
        (
            "chart-not-found",
            "infrastructure/sources/app-chart.yaml",
            10,
            10,
        ), // tag 1.1.0 not pushed
    ];
    assert_eq!(located, expected, "{json:#}");
    for finding in json["findings"].as_array().unwrap() {
        let expected = if finding["rule"] == "chart-unresolved" {
            "warning"
        } else {
            "error"
        };
        assert_eq!(finding["severity"], expected, "{finding:#}");
    }

    let podinfo = chart(json, "apps/podinfo");
    assert_eq!(podinfo["status"], "missing");
    assert_eq!(podinfo["chart"], "podinfo");
    assert_eq!(podinfo["version"], "6.5.40");
    assert_eq!(podinfo["repository"], format!("{url}/podinfo"));
    assert!(
        podinfo["detail"]
            .as_str()
            .unwrap()
            .contains("newest: 6.5.4"),
        "{podinfo:#}"
    );
    let canary = chart(json, "apps/podinfo-canary");
    assert_eq!(canary["status"], "exists");
    assert_eq!(
        canary["resolved_version"], "6.5.4",
        "prereleases are not picked"
    );
    let redis = chart(json, "apps/redis");
    assert_eq!(redis["status"], "exists");
    assert_eq!(redis["resolved_version"], "19.0.1");
    let worker = chart(json, "flux-system/worker-chart");
    assert_eq!(worker["status"], "exists");
    assert_eq!(worker["resolved_version"], "2.1.0");
    let app = chart(json, "flux-system/app-chart");
    assert_eq!(app["status"], "missing");
    assert_eq!(app["version"], "1.1.0");
    let local = chart(json, "apps/local");
    assert_eq!(local["status"], "exists");
    let elsewhere = chart(json, "apps/elsewhere");
    assert_eq!(elsewhere["status"], "unresolved");
    assert!(
        elsewhere["detail"]
            .as_str()
            .unwrap()
            .contains("HelmRepository flux-system/platform-charts is not defined"),
        "{elsewhere:#}"
    );
    assert!(chart(json, "apps/huge-app")["detail"]
        .as_str()
        .unwrap()
        .contains("more than 64 MiB"));
    assert!(chart(json, "apps/broken-app")["detail"]
        .as_str()
        .unwrap()
        .contains("not a Helm repository index"));
    assert_eq!(json["charts"].as_array().unwrap().len(), 11, "{json:#}");

    // One index per repository, however many releases use it.
    assert_eq!(server.count("GET", "/podinfo/index.yaml"), 1);
    // The message names what is wrong and where the repository is.
    let message = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["file"] == "apps/podinfo.yaml")
        .unwrap()["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        message.contains("podinfo 6.5.40") && message.contains("lists no version 6.5.40"),
        "{message}"
    );
}

/// The podinfo index of a mirror that lacks 6.5.4.
const MIRROR_INDEX: &str = r#"apiVersion: v1
entries:
  podinfo:
  - apiVersion: v2
    name: podinfo
    version: 6.5.3
    urls: [podinfo-6.5.3.tgz]
"#;

/// A PR that only points a HelmRepository at another URL moves every chart the
/// cluster takes from it: each release using it is checked at the new URL,
/// and a chart missing there is reported at the URL, labelled at the release.
#[test]
fn a_moved_helm_repository_checks_the_releases_that_use_it() {
    let server = FaultServer::start(vec![
        Route::new(
            "GET",
            "/podinfo/index.yaml",
            Behaviour::respond(200, &[], PODINFO_INDEX),
        ),
        Route::new(
            "GET",
            "/mirror/index.yaml",
            Behaviour::respond(200, &[], MIRROR_INDEX),
        ),
    ]);
    let url = server.url("");
    let url = url.trim_end_matches('/');
    let repo = repo_from_fixture_replacing("helm-repository-moved", &[(PLACEHOLDER, url)]);
    let env = Isolated::new();
    let config = env.config("127.0.0.1:9", None, "");
    let human = env.path("report.txt");
    let human_to = format!("human={}", human.display());
    let out = env.run(repo.path(), &config, &["--format", &human_to]);
    let json = &out.json;
    assert_eq!(out.code, 1, "{json:#}\n{}", out.stderr);
    assert_eq!(
        support::gitrepo::places(json),
        [(
            "chart-not-found",
            "infrastructure/sources/helm-repositories.yaml",
            8,
            8
        )],
        "{json:#}"
    );
    let message = json["findings"][0]["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("podinfo 6.5.4 from {url}/mirror")),
        "{message}"
    );
    let text = std::fs::read_to_string(&human).unwrap();
    assert!(
        text.contains("HelmRelease apps/podinfo takes chart podinfo 6.5.4 from it"),
        "{text}"
    );
    assert!(text.contains("apps/podinfo.yaml:11:16"), "{text}");

    let podinfo = chart(json, "apps/podinfo");
    assert_eq!(podinfo["status"], "missing");
    assert_eq!(podinfo["change"], "unchanged");
    assert_eq!(podinfo["repository"], format!("{url}/mirror"));
    let previous = chart(json, "apps/podinfo-previous");
    assert_eq!(previous["status"], "exists", "{previous:#}");
    // The release on the other repository is not checked again.
    assert_eq!(json["charts"].as_array().unwrap().len(), 2, "{json:#}");
    assert_eq!(server.count("GET", "/mirror/index.yaml"), 1);
    assert_eq!(server.count("GET", "/podinfo/index.yaml"), 0);
}

/// A PR that removes a HelmRepository a release still takes its chart from
/// breaks that release at the next reconcile: `chart-not-found` at the
/// release, offline too (nothing to ask: the source is gone).
#[test]
fn a_removed_helm_repository_still_in_use_is_reported_at_its_releases() {
    use support::gitrepo::Entry;
    let fixture = support::gitrepo::fixture_dir("helm-repository-moved").join("base");
    let read = |path: &str| std::fs::read_to_string(fixture.join(path)).unwrap();
    let sources = "infrastructure/sources/helm-repositories.yaml";
    let tree = |sources_text: String| {
        vec![
            Entry::file(sources, sources_text),
            Entry::file("apps/podinfo.yaml", read("apps/podinfo.yaml")),
            Entry::file("apps/stable.yaml", read("apps/stable.yaml")),
        ]
    };
    let base = tree(read(sources));
    // Only the `podinfo` repository is left; `stable` is removed.
    let head = tree(read(sources).split("---\n").next().unwrap().to_string());
    let repo = support::gitrepo::repo_from_entries("helm-repository-removed", &base, &head);
    let (code, stdout, stderr) = support::gitrepo::check_dir(repo.path(), &[]);
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        support::gitrepo::places(&json),
        [("chart-not-found", "apps/stable.yaml", 13, 16)],
        "{json:#}"
    );
    let message = json["findings"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("its source HelmRepository flux-system/stable is removed by this change"),
        "{message}"
    );
    // The releases on the repository that stays are not checked again.
    assert_eq!(json["charts"].as_array().unwrap().len(), 1, "{json:#}");
}

#[test]
fn offline_lists_charts_without_asking() {
    let repo =
        repo_from_fixture_replacing("chart-versions", &[(PLACEHOLDER, "http://127.0.0.1:9")]);
    let env = Isolated::new();
    let config = env.config("127.0.0.1:9", None, "");
    let out = env.run(repo.path(), &config, &["--offline"]);
    let json = &out.json;
    assert_eq!(out.code, 0, "warnings only: {json:#}");
    // Offline, only what needs no network is reported: the source that is
    // not in the tree, and the GitRepository charts (without a remote, this
    // repository cannot be recognised as theirs).
    assert_eq!(
        findings(json),
        [
            ("chart-unresolved".to_string(), 56, 16),
            ("chart-unresolved".to_string(), 70, 14),
            ("chart-unresolved".to_string(), 84, 14),
        ],
        "{json:#}"
    );
    assert_eq!(chart(json, "apps/podinfo")["status"], "skipped");
    assert_eq!(chart(json, "apps/podinfo")["detail"], "--offline");
}
