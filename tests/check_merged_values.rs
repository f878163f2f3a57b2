//! A release's values are merged before they deploy: its `valuesFrom`
//! documents in order, then `spec.values` over them. An image split across
//! them is one image, and a value another layer overrides never deploys.
//! Checked against a real registry.
#![allow(clippy::unwrap_used)]

#[path = "support/registry/mod.rs"]
mod registry;
mod support;

use registry::{OciLayout, TestRegistry};
use support::gitrepo::{fleet_repo, local_chart, repo_from_entries, Entry, FLEET_SOURCE};
use support::isolated::{image, image_rows, run_against, Isolated};

/// A release `name` in `apps/<name>/` taking the values block of ConfigMap
/// `<name>-values` (holding `block`) with `values` under `spec.values`.
fn app(name: &str, block: &str, values: &str) -> Vec<Entry> {
    vec![
        Entry::file(
            &format!("apps/{name}/kustomization.yaml"),
            "namespace: apps\nresources:\n  - release.yaml\n  - values.yaml\n",
        ),
        Entry::file(
            &format!("apps/{name}/release.yaml"),
            format!(
                "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: {name}\nspec:\n  interval: 10m\n  chart:\n    spec:\n      chart: podinfo\n      sourceRef:\n        kind: HelmRepository\n        name: charts\n  valuesFrom:\n    - kind: ConfigMap\n      name: {name}-values\n  values:\n{values}"
            ),
        ),
        Entry::file(
            &format!("apps/{name}/values.yaml"),
            format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}-values\ndata:\n  values.yaml: |\n{block}"
            ),
        ),
    ]
}

#[test]
fn an_image_split_across_values_is_checked_whole() {
    let registry = TestRegistry::plain();
    registry.push_all(
        &OciLayout::image("linux", "amd64"),
        &["acme/split:1.0", "acme/registry:1.0", "acme/moved:1.0"],
    );
    let tree = |split_tag: &str, overridden_tag: &str, registry_tag: &str, moved: &str| {
        [
            // The repository in the ConfigMap, the tag in the release.
            app(
                "split",
                "    image:\n      repository: registry.test/acme/split\n",
                &format!("    image:\n      tag: \"{split_tag}\"\n"),
            ),
            // The ConfigMap's tag is overridden by the release's: its
            // change deploys nothing.
            app(
                "overridden",
                &format!("    image:\n      repository: registry.test/acme/overridden\n      tag: \"{overridden_tag}\"\n"),
                "    image:\n      tag: \"2.0\"\n",
            ),
            // The registry in the ConfigMap: the release's image is pulled
            // from there, not from Docker Hub.
            app(
                "registry",
                "    image:\n      registry: registry.test\n",
                &format!("    image:\n      repository: acme/registry\n      tag: \"{registry_tag}\"\n"),
            ),
            // The release empties the ConfigMap's tag: its change deploys
            // nothing (the chart's templates choose the tag).
            app(
                "emptied",
                &format!("    image:\n      repository: registry.test/acme/emptied\n      tag: \"{overridden_tag}\"\n"),
                "    image:\n      tag: \"\"\n",
            ),
            // The ConfigMap moves the repository; the tag is the release's.
            app(
                "moved",
                &format!("    image:\n      repository: {moved}\n"),
                "    image:\n      tag: \"1.0\"\n",
            ),
        ]
        .concat()
    };
    let repo = repo_from_entries(
        "merged-values",
        &tree("0.9", "2.0", "0.9", "registry.test/acme/moved"),
        &tree("1.1", "9.9", "1.0", "registry.test/mirror/moved"),
    );
    let out = run_against(&registry.host(), repo.path());
    let json = &out.json;
    assert_eq!(out.code, 1, "{json:#}\n{}", out.stderr);
    let listed = image_rows(json);
    let row = |r: &str, f: &str, l: u64, s: &str| (r.to_string(), f.to_string(), l, s.to_string());
    assert_eq!(
        listed,
        [
            row(
                "registry.test/mirror/moved:1.0",
                "apps/moved/values.yaml",
                8,
                "missing"
            ),
            row(
                "registry.test/acme/registry:1.0",
                "apps/registry/release.yaml",
                19,
                "exists"
            ),
            row(
                "registry.test/acme/split:1.1",
                "apps/split/release.yaml",
                18,
                "missing"
            ),
        ],
        "{json:#}"
    );
    let env = Isolated::new();
    let human = env.human(repo.path(), &env.config(&registry.host(), None, ""));
    assert!(
        human.contains("repository `registry.test/acme/split` from ConfigMap split-values"),
        "{human}"
    );
    let split = image(json, "acme/split:1.1");
    assert_eq!(split["change"], "modified", "{split:#}");
}

/// A tag-only image in a values document, merged with nothing that names
/// the repository, takes it from the chart's defaults (a chart in this
/// repository, read with `--offline`).
#[test]
fn a_tag_only_document_image_takes_the_charts_repository() {
    let tree = |tag: &str| {
        let mut entries = app(
            "podinfo",
            &format!("    image:\n      tag: \"{tag}\"\n"),
            "    replicaCount: 2\n",
        );
        entries[1] = Entry::file(
            "apps/podinfo/release.yaml",
            "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: podinfo\nspec:\n  interval: 10m\n  chart:\n    spec:\n      chart: ./charts/podinfo\n      sourceRef:\n        kind: GitRepository\n        name: flux-system\n        namespace: flux-system\n  valuesFrom:\n    - kind: ConfigMap\n      name: podinfo-values\n  values:\n    replicaCount: 2\n",
        );
        entries.push(Entry::file("sources.yaml", FLEET_SOURCE));
        entries.extend(local_chart(
            "podinfo",
            "6.5.4",
            "image:\n  repository: registry.test/acme/podinfo\n  tag: \"\"\n",
        ));
        entries
    };
    let repo = fleet_repo("merged-values-chart", &tree("6.5.4"), &tree("6.5.9"));
    let env = Isolated::new();
    let config = env.config("127.0.0.1:9", None, "");
    let out = env.run(repo.path(), &config, &["--offline"]);
    let json = &out.json;
    let completed = image(json, "registry.test/acme/podinfo:6.5.9");
    assert_eq!(completed["status"], "skipped", "{completed:#}");
    assert_eq!(
        completed["file"], "apps/podinfo/values.yaml",
        "{completed:#}"
    );
}
