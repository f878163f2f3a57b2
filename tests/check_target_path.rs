//! `valuesFrom` entries with `targetPath`: a ConfigMap key set at a part
//! of an image (`targetPath: image.tag`). A bump of the key changes what
//! deploys, so its value is checked as the image it completes, at the line
//! of the value, against a real registry.
#![allow(clippy::unwrap_used)]

#[path = "support/registry/mod.rs"]
mod registry;
mod support;

use registry::{OciLayout, TestRegistry};
use support::gitrepo::{fleet_repo, local_chart, repo_from_entries, Entry, FLEET_SOURCE};

/// The chart's defaults: a repository and an empty tag.
const PODINFO_VALUES: &str = "image:\n  repository: registry.test/acme/podinfo\n  tag: \"\"\n";
use support::isolated::{findings, image, run_against, Isolated};

/// A HelmRelease `app` in namespace `apps` taking `entries` (`key ->
/// targetPath` from ConfigMap `app-versions`, or a bare name: a values
/// document of that ConfigMap) with `values` under `spec.values`.
fn release(chart: &str, entries: &[&str], values: &str) -> String {
    let mut text = format!(
        "apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: app
spec:
  interval: 10m
  chart:
    spec:
      chart: {chart}
      sourceRef:
        kind: GitRepository
        name: flux-system
        namespace: flux-system
  valuesFrom:
"
    );
    for entry in entries {
        match entry.split_once(" -> ") {
            Some((key, target)) => text.push_str(&format!(
                "    - kind: ConfigMap\n      name: app-versions\n      valuesKey: {key}\n      targetPath: {target}\n"
            )),
            None => text.push_str(&format!(
                "    - kind: ConfigMap\n      name: app-versions\n      valuesKey: {entry}\n"
            )),
        }
    }
    if !values.is_empty() {
        text.push_str(&format!("  values:\n{values}"));
    }
    text
}

fn versions(data: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-versions\ndata:\n{data}")
}

const KUSTOMIZATION: &str = "namespace: apps\nresources:\n  - release.yaml\n  - versions.yaml\n";

/// The one release of these tests, its ConfigMap and kustomization.
fn app(release: String, data: &str) -> Vec<Entry> {
    vec![
        Entry::file("apps/app/kustomization.yaml", KUSTOMIZATION),
        Entry::file("apps/app/release.yaml", release),
        Entry::file("apps/app/versions.yaml", versions(data)),
    ]
}

#[test]
fn a_bumped_tag_is_checked_as_the_image_it_completes() {
    let registry = TestRegistry::plain();
    registry.push_all(
        &OciLayout::image("linux", "amd64"),
        &["acme/app:1.0", "acme/web:2.0"],
    );
    let entries = [
        "app_tag -> image.tag",
        "cpu -> resources.limits.cpu",
        "web_tag -> web.image.tag",
    ];
    // `web.image.tag` is also in `spec.values`, merged over it: the
    // ConfigMap's value never deploys.
    let values = "    image:\n      repository: registry.test/acme/app\n    web:\n      image:\n        repository: registry.test/acme/web\n        tag: \"2.0\"\n";
    let data = |tag: &str, cpu: &str, web: &str| {
        format!("  app_tag: \"{tag}\"\n  cpu: {cpu}\n  web_tag: \"{web}\"\n")
    };
    let repo = repo_from_entries(
        "target-path-bump",
        &app(
            release("podinfo", &entries, values),
            &data("1.0", "100m", "2.0"),
        ),
        &app(
            release("podinfo", &entries, values),
            &data("1.1", "200m", "9.9"),
        ),
    );
    let out = run_against(&registry.host(), repo.path());
    let json = &out.json;
    assert_eq!(out.code, 1, "{json:#}\n{}", out.stderr);
    let images = json["images"].as_array().unwrap();
    assert_eq!(images.len(), 1, "only the tag that deploys: {json:#}");
    let bumped = image(json, "registry.test/acme/app:1.1");
    assert_eq!(bumped["status"], "missing", "{bumped:#}");
    assert_eq!(bumped["change"], "modified", "{bumped:#}");
    assert_eq!(bumped["file"], "apps/app/versions.yaml", "{bumped:#}");
    assert_eq!(bumped["line"], 6, "at the value: {bumped:#}");
    assert_eq!(bumped["kind"], "HelmRelease", "{bumped:#}");
    assert_eq!(bumped["name"], "apps/app", "{bumped:#}");
    assert_eq!(
        bumped["field"], "data[app_tag] (targetPath image.tag)",
        "{bumped:#}"
    );
    assert_eq!(
        findings(json),
        [("image-not-found".to_string(), 6, 12)],
        "{json:#}"
    );
    // The repository it completes is labelled where the release writes it.
    let env = Isolated::new();
    let human = env.human(repo.path(), &env.config(&registry.host(), None, ""));
    assert!(
        human.contains("release.yaml:29:19")
            && human.contains("`registry.test/acme/app` of the same image, in HelmRelease apps/app's `spec.values`"),
        "{human}"
    );
}

/// An entry added to `valuesFrom` deploys its value anew although the
/// ConfigMap did not change; two keys of one ConfigMap make one image.
#[test]
fn an_added_entry_checks_the_value_it_now_takes() {
    let registry = TestRegistry::plain();
    registry.push(&OciLayout::image("linux", "amd64"), "acme/app:1.0");
    let data = "  repo: registry.test/acme/app\n  tag: \"1.0\"\n  other: \"registry.test/acme/unused:0\"\n";
    let repo = repo_from_entries(
        "target-path-added",
        &app(release("podinfo", &[], ""), data),
        &app(
            release(
                "podinfo",
                &["repo -> image.repository", "tag -> image.tag"],
                "",
            ),
            data,
        ),
    );
    let out = run_against(&registry.host(), repo.path());
    let json = &out.json;
    assert_eq!(out.code, 0, "{json:#}\n{}", out.stderr);
    let images = json["images"].as_array().unwrap();
    // One image, reported at each value that is part of it.
    assert_eq!(images.len(), 2, "{json:#}");
    for (line, found) in [(6, &images[0]), (7, &images[1])] {
        assert_eq!(
            found["reference"], "registry.test/acme/app:1.0",
            "{found:#}"
        );
        assert_eq!(found["status"], "exists", "{found:#}");
        assert_eq!(found["change"], "added", "{found:#}");
        assert_eq!(found["line"], line, "{found:#}");
    }
}

/// Without a repository in the release, the chart's defaults supply it (a
/// chart in this repository, read with `--offline`). With a values
/// document the release also takes, the values are merged in Flux's order:
/// the document's repository wins over the chart's, and a document taken
/// after the entry that sets the tag again makes the entry's value moot.
#[test]
fn the_chart_supplies_what_the_release_leaves() {
    let chart = |release_text: String, tag: &str, block: &str| {
        let mut entries = app(
            release_text,
            &format!("  tag: \"{tag}\"\n  values.yaml: |\n    replicaCount: 2\n{block}"),
        );
        entries.push(Entry::file("sources.yaml", FLEET_SOURCE));
        entries.extend(local_chart("podinfo", "6.5.4", PODINFO_VALUES));
        entries
    };
    let env = Isolated::new();
    let config = env.config("127.0.0.1:9", None, "");
    let run = |name: &str, entries: &[&str], block: &str| {
        let text = release("./charts/podinfo", entries, "");
        let repo = fleet_repo(
            name,
            &chart(text.clone(), "6.5.4", block),
            &chart(text, "6.5.9", block),
        );
        env.run(repo.path(), &config, &["--offline"]).json
    };
    let json = run("target-path-chart-defaults", &["tag -> image.tag"], "");
    let completed = image(&json, "registry.test/acme/podinfo:6.5.9");
    assert_eq!(completed["status"], "skipped", "{completed:#}");
    assert_eq!(completed["line"], 6, "{completed:#}");

    // A document that leaves the repository: still the chart's.
    let json = run(
        "target-path-document-without-image",
        &["values.yaml", "tag -> image.tag"],
        "",
    );
    let completed = image(&json, "registry.test/acme/podinfo:6.5.9");
    assert_eq!(completed["status"], "skipped", "{completed:#}");

    // A document that moves the repository to a mirror.
    let json = run(
        "target-path-document-mirror",
        &["values.yaml", "tag -> image.tag"],
        "    image:\n      repository: registry.test/mirror/podinfo\n",
    );
    let mirrored = image(&json, "registry.test/mirror/podinfo:6.5.9");
    assert_eq!(mirrored["status"], "skipped", "{mirrored:#}");
    assert_eq!(json["images"].as_array().unwrap().len(), 1, "{json:#}");

    // A document taken after the entry sets the tag again: the bumped
    // value never deploys.
    let json = run(
        "target-path-document-after",
        &["tag -> image.tag", "values.yaml"],
        "    image:\n      tag: \"6.5.4\"\n",
    );
    assert_eq!(json["images"], serde_json::json!([]), "{json:#}");

    // One taken after it that is not found may do the same: no guess.
    let json = run(
        "target-path-document-after-missing",
        &["tag -> image.tag", "elsewhere.yaml"],
        "",
    );
    let unsure = image(&json, ":6.5.9");
    assert_eq!(unsure["status"], "unresolved", "{unsure:#}");
    assert!(
        unsure["detail"]
            .as_str()
            .unwrap()
            .contains("(ConfigMap app-versions, key `elsewhere.yaml`) that fluxgate did not find beside it, which may set it again"),
        "{unsure:#}"
    );
}

/// The other way round: the release's own repository changes, and the tag
/// comes from the ConfigMap (not from the chart, which is not asked).
#[test]
fn a_moved_repository_is_checked_with_the_tag_a_config_map_sets() {
    let registry = TestRegistry::plain();
    registry.push(&OciLayout::image("linux", "amd64"), "acme/app:1.0");
    let entries = ["tag -> image.tag"];
    let values = |repository: &str| format!("    image:\n      repository: {repository}\n");
    let data = "  tag: \"1.0\"\n";
    let repo = repo_from_entries(
        "target-path-moved-repository",
        &app(
            release("podinfo", &entries, &values("registry.test/acme/app")),
            data,
        ),
        &app(
            release("podinfo", &entries, &values("registry.test/mirror/app")),
            data,
        ),
    );
    let out = run_against(&registry.host(), repo.path());
    let json = &out.json;
    assert_eq!(out.code, 1, "{json:#}\n{}", out.stderr);
    let moved = image(json, "registry.test/mirror/app:1.0");
    assert_eq!(moved["status"], "missing", "{moved:#}");
    assert_eq!(moved["file"], "apps/app/release.yaml", "{moved:#}");
    assert_eq!(moved["line"], 21, "at the repository: {moved:#}");
    assert_eq!(json["images"].as_array().unwrap().len(), 1, "{json:#}");
    let env = Isolated::new();
    let human = env.human(repo.path(), &env.config(&registry.host(), None, ""));
    assert!(
        human.contains("tag `1.0` set here, at `image.tag`") && human.contains("versions.yaml:6:"),
        "{human}"
    );
}

/// A repository set with `targetPath` completes a tag-only image of the
/// release, after the release's own registry.
#[test]
fn a_repository_set_elsewhere_completes_a_tag_only_image() {
    let registry = TestRegistry::plain();
    registry.push(&OciLayout::image("linux", "amd64"), "acme/app:1.0");
    let entries = ["repo -> image.repository"];
    let values =
        |tag: &str| format!("    image:\n      registry: registry.test\n      tag: \"{tag}\"\n");
    let data = "  repo: acme/app\n";
    let repo = repo_from_entries(
        "target-path-repository",
        &app(release("podinfo", &entries, &values("0.9")), data),
        &app(release("podinfo", &entries, &values("1.0")), data),
    );
    let out = run_against(&registry.host(), repo.path());
    let json = &out.json;
    assert_eq!(out.code, 0, "{json:#}\n{}", out.stderr);
    let completed = image(json, "registry.test/acme/app:1.0");
    assert_eq!(completed["status"], "exists", "{completed:#}");
    assert_eq!(completed["file"], "apps/app/release.yaml", "{completed:#}");
}

/// A value a kustomize generator sets from a literal (`literals:
/// [app_tag=1.1]`) is checked the same way, at its place in the literal.
#[test]
fn a_generator_literal_is_checked_at_its_value() {
    let registry = TestRegistry::plain();
    registry.push(&OciLayout::image("linux", "amd64"), "acme/app:1.0");
    let entries = LITERAL_ENTRIES;
    let values = "    image:\n      repository: registry.test/acme/app\n";
    let tree = |tag: &str| {
        vec![
            Entry::file(
                "apps/app/kustomization.yaml",
                format!("namespace: apps\nresources:\n  - release.yaml\nconfigMapGenerator:\n  - name: app-versions\n    literals:\n      - app_tag={tag}\n      - \"cpu=100m\"\ngeneratorOptions:\n  disableNameSuffixHash: true\n"),
            ),
            Entry::file("apps/app/release.yaml", release("podinfo", &entries, values)),
        ]
    };
    let repo = repo_from_entries("target-path-literal", &tree("1.0"), &tree("1.1"));
    let out = run_against(&registry.host(), repo.path());
    let json = &out.json;
    assert_eq!(out.code, 1, "{json:#}\n{}", out.stderr);
    let bumped = image(json, "registry.test/acme/app:1.1");
    assert_eq!(bumped["status"], "missing", "{bumped:#}");
    assert_eq!(bumped["file"], "apps/app/kustomization.yaml", "{bumped:#}");
    assert_eq!(
        findings(json),
        [("image-not-found".to_string(), 7, 17)],
        "at the value inside the literal: {json:#}"
    );
    assert_eq!(json["images"].as_array().unwrap().len(), 1, "{json:#}");

    // The release's repository moves; the literal's tag completes it.
    let moved = |repository: &str| {
        let mut entries = tree("1.0");
        entries[1] = Entry::file(
            "apps/app/release.yaml",
            release(
                "podinfo",
                &LITERAL_ENTRIES,
                &format!("    image:\n      repository: {repository}\n"),
            ),
        );
        entries
    };
    let repo = repo_from_entries(
        "target-path-literal-moved",
        &moved("registry.test/acme/app"),
        &moved("registry.test/mirror/app"),
    );
    let out = run_against(&registry.host(), repo.path());
    let json = &out.json;
    let mirrored = image(json, "registry.test/mirror/app:1.0");
    assert_eq!(mirrored["status"], "missing", "{mirrored:#}");
    assert_eq!(mirrored["file"], "apps/app/release.yaml", "{mirrored:#}");
}

/// The entry of the literal tests: the tag from the generator's `app_tag`.
const LITERAL_ENTRIES: [&str; 1] = ["app_tag -> image.tag"];
