//! Helm values a HelmRelease takes with `valuesFrom`: a values file that a
//! kustomize `configMapGenerator` turns into the ConfigMap, and a ConfigMap
//! manifest whose key holds the values as a literal block. A change to an
//! image there is checked where it is written; values nothing takes are not.
#![allow(clippy::unwrap_used)]

#[path = "support/registry/mod.rs"]
mod registry;
mod support;

use registry::{OciLayout, TestRegistry};
use support::gitrepo::{places, repo_from_fixture};
use support::isolated::run_against;

fn images(json: &serde_json::Value) -> Vec<(String, String, u64, String, String)> {
    json["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let text = |key: &str| i[key].as_str().unwrap().to_string();
            (
                text("reference"),
                text("file"),
                i["line"].as_u64().unwrap(),
                text("change"),
                text("status"),
            )
        })
        .collect()
}

fn row(
    reference: &str,
    file: &str,
    line: u64,
    change: &str,
    status: &str,
) -> (String, String, u64, String, String) {
    (
        reference.into(),
        file.into(),
        line,
        change.into(),
        status.into(),
    )
}

#[test]
fn images_in_values_from_are_checked_where_they_are_written() {
    let registry = TestRegistry::plain();
    let image = OciLayout::image("linux", "amd64");
    registry.push_all(
        &image,
        &[
            "acme/podinfo:6.5.4",
            "acme/redis:7.2.0",
            "acme/worker:1.0.0",
        ],
    );
    let repo = repo_from_fixture("helmrelease-values-from");
    let out = run_against(&registry.host(), repo.path());
    let json = &out.json;
    assert_eq!(out.code, 1, "{json:#}\n{}", out.stderr);
    assert_eq!(
        places(json),
        [
            ("image-not-found", "apps/podinfo/values.yaml", 5, 8),
            ("image-not-found", "apps/worker/worker.yaml", 10, 12),
        ],
        "{json:#}"
    );
    assert_eq!(
        images(json),
        [
            row(
                "registry.test/acme/podinfo:6.5.5",
                "apps/podinfo/values.yaml",
                5,
                "modified",
                "missing"
            ),
            row(
                "registry.test/acme/worker:1.1.0",
                "apps/worker/worker.yaml",
                10,
                "modified",
                "missing"
            ),
        ],
        "{json:#}"
    );
    let podinfo = &json["images"][0];
    assert_eq!(podinfo["kind"], "HelmRelease", "{podinfo:#}");
    assert_eq!(podinfo["name"], "apps/podinfo", "{podinfo:#}");
    assert_eq!(podinfo["field"], "values.image", "{podinfo:#}");
    let worker = &json["images"][1];
    assert_eq!(worker["field"], "data[values.yaml].image", "{worker:#}");
}

#[test]
fn all_lists_every_image_a_release_takes_from_values() {
    let out = support::gitrepo::check_json("helmrelease-values-from", &["--all"], 0);
    let listed: Vec<(String, String)> = out["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["reference"].as_str().unwrap().to_string(),
                i["change"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        [
            (
                "registry.test/acme/podinfo:6.5.5".to_string(),
                "modified".to_string()
            ),
            (
                "registry.test/acme/redis:7.2.0".to_string(),
                "unchanged".to_string()
            ),
            (
                "registry.test/acme/worker:1.1.0".to_string(),
                "modified".to_string()
            ),
        ],
        "{out:#}"
    );
}

/// A hostile file (5,000 literal blocks, all taken by a release) stays
/// cheap: the first 100 blocks are read as values, and the report says so.
#[test]
fn many_literal_blocks_are_capped_with_a_notice() {
    use support::gitrepo::Entry;
    let keys = 5_000;
    let file = |tag: &str| {
        let mut text = String::from(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: many, namespace: apps}\ndata:\n",
        );
        for n in 0..keys {
            text.push_str(&format!("  k{n}: |\n    image: registry.test/x{n}:{tag}\n"));
        }
        text.push_str("---\napiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: r, namespace: apps}\nspec:\n  valuesFrom:\n");
        for n in 0..keys {
            text.push_str(&format!(
                "    - {{kind: ConfigMap, name: many, valuesKey: k{n}}}\n"
            ));
        }
        text
    };
    let repo = support::gitrepo::repo_from_entries(
        "values-from-many-blocks",
        &[Entry::file("apps/many.yaml", file("1"))],
        &[Entry::file("apps/many.yaml", file("2"))],
    );
    let (code, stdout, stderr) = support::gitrepo::check_dir(repo.path(), &[]);
    assert_eq!(code, Some(0), "{stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["images"].as_array().unwrap().len(), 100);
    let human = support::gitrepo::fluxgate()
        .args(["check", "--offline", "--repo"])
        .arg(repo.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(
        text.contains("apps/many.yaml: more than 100 ConfigMap/Secret keys hold literal blocks"),
        "{text}"
    );
}

/// Values a release takes that do not parse fail the release in Flux: a
/// `yaml-invalid` at the place inside the block, naming the values and the
/// release. The same block taken by no release is only text.
#[test]
fn values_that_do_not_parse_are_reported_inside_the_block() {
    use support::gitrepo::Entry;
    let file = |values: &str, taken: bool| {
        let mut text = format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: broken-values, namespace: apps}}\ndata:\n  values.yaml: |\n    image:\n      repository: registry.test/acme/app\n{values}"
        );
        if taken {
            text.push_str("---\napiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: broken, namespace: apps}\nspec:\n  valuesFrom:\n    - {kind: ConfigMap, name: broken-values}\n");
        }
        text
    };
    let good = "      tag: \"1.0\"\n";
    // A tab where the block's YAML wants spaces (line 8 of the file).
    let bad = "      tag: \"1.1\"\n    \tresources: {}\n";
    for taken in [true, false] {
        let repo = support::gitrepo::repo_from_entries(
            "values-from-broken",
            &[Entry::file("apps/app.yaml", file(good, taken))],
            &[Entry::file("apps/app.yaml", file(bad, taken))],
        );
        let (code, stdout, stderr) = support::gitrepo::check_dir(repo.path(), &[]);
        let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        if !taken {
            assert_eq!(code, Some(0), "{stdout}\n{stderr}");
            assert!(places(&json).is_empty(), "{json:#}");
            continue;
        }
        assert_eq!(code, Some(1), "{stdout}\n{stderr}");
        assert_eq!(
            places(&json),
            [("yaml-invalid", "apps/app.yaml", 9, 5)],
            "{json:#}"
        );
        let message = json["findings"][0]["message"].as_str().unwrap();
        assert!(
            message.starts_with(
                "the Helm values at key `values.yaml` of ConfigMap apps/broken-values (taken by HelmRelease apps/broken) in apps/app.yaml are not valid YAML:"
            ),
            "{message}"
        );
    }
}

/// A generator's values file is built with its kustomization, so the Flux
/// Kustomization that builds it fills in `${VAR}` there as anywhere else.
#[test]
fn post_build_variables_reach_a_generators_values_file() {
    use support::gitrepo::Entry;
    let tree = |tag: &str| {
        vec![
            Entry::file(
                "clusters/prod/apps.yaml",
                "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: apps, namespace: flux-system}\nspec:\n  path: ./apps/podinfo\n  postBuild:\n    substitute:\n      PODINFO_TAG: 6.5.4\n",
            ),
            Entry::file(
                "apps/podinfo/kustomization.yaml",
                "namespace: apps\nresources: [release.yaml]\nconfigMapGenerator:\n  - name: podinfo-values\n    files: [values.yaml]\n",
            ),
            Entry::file(
                "apps/podinfo/release.yaml",
                "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: podinfo}\nspec:\n  valuesFrom:\n    - {kind: ConfigMap, name: podinfo-values}\n",
            ),
            Entry::file(
                "apps/podinfo/values.yaml",
                format!("image:\n  repository: registry.test/acme/podinfo\n  tag: {tag}\n"),
            ),
        ]
    };
    let repo = support::gitrepo::repo_from_entries(
        "values-from-variables",
        &tree("6.5.3"),
        &tree("${PODINFO_TAG}"),
    );
    let (code, stdout, stderr) = support::gitrepo::check_dir(repo.path(), &[]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let listed: Vec<&str> = json["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["reference"].as_str().unwrap())
        .collect();
    assert_eq!(listed, ["registry.test/acme/podinfo:6.5.4"], "{json:#}");
    assert!(places(&json).is_empty(), "{json:#}");
}

/// A change to the `valuesFrom` list itself: values a release takes anew
/// (a ConfigMap's literal block, a generator's file) deploy anew though
/// their files did not change, so each of their images is checked; an
/// entry it took before, and a list only reordered, check nothing.
#[test]
fn values_a_release_takes_anew_are_checked() {
    use support::gitrepo::{repo_from_entries, Entry};
    let registry = TestRegistry::plain();
    registry.push(&OciLayout::image("linux", "amd64"), "acme/more:1.0");
    let release = |name: &str, entries: &[&str]| {
        let mut text = format!(
            "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: {name}\nspec:\n  interval: 30m\n  valuesFrom:\n"
        );
        for entry in entries {
            text.push_str(&format!("    - kind: ConfigMap\n      name: {entry}\n"));
        }
        text
    };
    let shared = [
        Entry::file(
            "apps/api/kustomization.yaml",
            "namespace: apps\nresources:\n  - release.yaml\n  - extra.yaml\n  - other.yaml\nconfigMapGenerator:\n  - name: api-more\n    files:\n      - values.yaml=more-values.yaml\n",
        ),
        Entry::file(
            "apps/api/extra.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: api-extra\ndata:\n  values.yaml: |\n    image:\n      repository: registry.test/acme/extra\n      tag: 9.9.9\n  notes: |\n    image: registry.test/acme/not-values:0\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: api-values\ndata:\n  values.yaml: |\n    image: registry.test/acme/taken-before:1\n",
        ),
        Entry::file(
            "apps/api/more-values.yaml",
            "image:\n  repository: registry.test/acme/more\n  tag: \"1.0\"\n",
        ),
    ];
    let with = |api: &[&str], other: &[&str]| {
        let mut entries: Vec<Entry> = shared.to_vec();
        entries.push(Entry::file("apps/api/release.yaml", release("api", api)));
        entries.push(Entry::file("apps/api/other.yaml", release("other", other)));
        entries
    };
    let repo = repo_from_entries(
        "values-from-taken-anew",
        &with(&["api-values"], &["api-values", "api-extra"]),
        &with(
            &["api-values", "api-extra", "api-more"],
            &["api-extra", "api-values"],
        ),
    );
    let out = run_against(&registry.host(), repo.path());
    let json = &out.json;
    assert_eq!(out.code, 1, "{json:#}\n{}", out.stderr);
    assert_eq!(
        images(json),
        [
            row(
                "registry.test/acme/extra:9.9.9",
                "apps/api/extra.yaml",
                9,
                "added",
                "missing"
            ),
            row(
                "registry.test/acme/more:1.0",
                "apps/api/more-values.yaml",
                3,
                "added",
                "exists"
            ),
        ],
        "{json:#}"
    );
    assert_eq!(
        places(json),
        [("image-not-found", "apps/api/extra.yaml", 9, 12)],
        "{json:#}"
    );
    assert_eq!(json["images"][0]["name"], "apps/api", "{json:#}");
}

/// The same when the file holding the values changes too (elsewhere): the
/// images a release takes anew are new to it, not compared with the base.
#[test]
fn values_taken_anew_from_a_changed_file_are_all_checked() {
    use support::gitrepo::{repo_from_entries, Entry};
    let file = |values_from: &str, note: &str| {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-values\n  namespace: apps\ndata:\n  note: {note}\n  values.yaml: |\n    image: registry.test/acme/web:1\n---\napiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: web\n  namespace: apps\nspec:\n  interval: 30m\n{values_from}"
        )
    };
    let taking = "  valuesFrom:\n    - kind: ConfigMap\n      name: web-values\n";
    let repo = repo_from_entries(
        "values-from-taken-anew-changed",
        &[Entry::file("apps/web.yaml", file("", "a"))],
        &[Entry::file("apps/web.yaml", file(taking, "b"))],
    );
    let out = support::gitrepo::check_dir(repo.path(), &["--base", "main"]);
    let json: serde_json::Value = serde_json::from_str(&out.1).unwrap();
    assert_eq!(
        images(&json),
        [row(
            "registry.test/acme/web:1",
            "apps/web.yaml",
            9,
            "added",
            "skipped"
        )],
        "{json:#}"
    );
}
