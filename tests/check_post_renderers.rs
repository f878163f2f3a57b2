//! Flux HelmRelease `spec.postRenderers[].kustomize.images`: kustomize's
//! image transformer over the rendered chart. The release's values images
//! are checked as the post-renderers rewrite them (a mirror that lacks a
//! tag the upstream has is `missing`, not a false "exists"), and the
//! entries themselves are images.
#![allow(clippy::unwrap_used)]

#[path = "support/registry/mod.rs"]
mod registry;
mod support;

use registry::{OciLayout, TestRegistry};
use support::gitrepo::{
    fleet_repo, helm_release, local_chart, places, repo_from_entries, Entry, FLEET_SOURCE,
};
use support::isolated::{run_against, Isolated};

fn release(name: &str, tag: &str, renderers: &str) -> String {
    helm_release(
        name,
        "app",
        "1.0.0",
        "HelmRepository\n        name: charts",
        &format!(
            "  values:\n    image:\n      repository: registry.test/upstream/{name}\n      tag: \"{tag}\"\n  postRenderers:\n    - kustomize:\n        images:\n{renderers}"
        ),
    )
}

fn images(json: &serde_json::Value) -> Vec<(String, String, String)> {
    let mut out: Vec<(String, String, String)> = json["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let text = |key: &str| i[key].as_str().unwrap().to_string();
            (text("reference"), text("field"), text("status"))
        })
        .collect();
    out.sort();
    out
}

#[test]
fn values_images_are_checked_as_post_renderers_rewrite_them() {
    let registry = TestRegistry::plain();
    let image = OciLayout::image("linux", "amd64");
    // The upstream has every tag; the mirror lacks web:2.0.
    registry.push_all(
        &image,
        &[
            "upstream/web:1.0",
            "upstream/web:2.0",
            "mirror/web:1.0",
            "upstream/api:1.0",
            "mirror/api:1.0",
            "sidecar:3",
        ],
    );
    let mirror_web = "          - name: registry.test/upstream/web\n            newName: registry.test/mirror/web\n";
    let mirror_api = "          - name: registry.test/upstream/api\n            newName: registry.test/mirror/api\n";
    let sidecar = |tag: &str| {
        format!("          - name: registry.test/sidecar\n            newTag: \"{tag}\"\n")
    };
    let repo = repo_from_entries(
        "post-renderers",
        &[
            Entry::file("apps/web.yaml", release("web", "1.0", mirror_web)),
            Entry::file("apps/api.yaml", release("api", "1.0", &sidecar("2"))),
        ],
        &[
            // The values bump: checked at the mirror, where 2.0 is missing.
            Entry::file("apps/web.yaml", release("web", "2.0", mirror_web)),
            // A new mirror entry (values unchanged) and a sidecar bump.
            Entry::file(
                "apps/api.yaml",
                release("api", "1.0", &format!("{mirror_api}{}", sidecar("3"))),
            ),
        ],
    );
    let out = run_against(&registry.host(), repo.path());
    let json = &out.json;
    assert_eq!(out.code, 1, "{json:#}\n{}", out.stderr);
    assert_eq!(
        images(json),
        [
            (
                "registry.test/mirror/api:1.0".to_string(),
                "spec.postRenderers[0].kustomize.images[0]".to_string(),
                "exists".to_string()
            ),
            (
                "registry.test/mirror/web:2.0".to_string(),
                "spec.values.image".to_string(),
                "missing".to_string()
            ),
            (
                "registry.test/sidecar:3".to_string(),
                "spec.postRenderers[0].kustomize.images[1]".to_string(),
                "exists".to_string()
            ),
        ],
        "{json:#}"
    );
    // At the tag the release writes.
    assert_eq!(
        places(json),
        [("image-not-found", "apps/web.yaml", 18, 12)],
        "{json:#}"
    );
}

/// Values the release takes with `valuesFrom` render through the same
/// post-renderers.
#[test]
fn values_from_values_are_rewritten_too() {
    let registry = TestRegistry::plain();
    registry.push(&OciLayout::image("linux", "amd64"), "upstream/worker:2.0");
    let file = |tag: &str| {
        format!(
            "apiVersion: v1
kind: ConfigMap
metadata:
  name: worker-values
  namespace: apps
data:
  values.yaml: |
    image:
      repository: registry.test/upstream/worker
      tag: \"{tag}\"
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: worker
  namespace: apps
spec:
  interval: 10m
  valuesFrom:
    - kind: ConfigMap
      name: worker-values
  postRenderers:
    - kustomize:
        images:
          - name: registry.test/upstream/worker
            newName: registry.test/mirror/worker
"
        )
    };
    let repo = repo_from_entries(
        "post-renderers-values-from",
        &[Entry::file("apps/worker.yaml", file("1.0"))],
        &[Entry::file("apps/worker.yaml", file("2.0"))],
    );
    let out = run_against(&registry.host(), repo.path());
    let json = &out.json;
    assert_eq!(out.code, 1, "{json:#}\n{}", out.stderr);
    assert_eq!(
        images(json),
        [(
            "registry.test/mirror/worker:2.0".to_string(),
            "data[values.yaml].image".to_string(),
            "missing".to_string()
        )],
        "{json:#}"
    );
    assert_eq!(
        places(json),
        [("image-not-found", "apps/worker.yaml", 10, 12)],
        "{json:#}"
    );
}

/// A tag-only image takes its repository from the chart's defaults first,
/// and the post-renderers rewrite that (here the chart is in this
/// repository, so this runs offline).
#[test]
fn chart_defaults_come_before_post_renderers() {
    let release = |tag: &str| {
        format!(
            "apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: app
  namespace: apps
spec:
  chart:
    spec:
      chart: ./charts/app
      sourceRef:
        kind: GitRepository
        name: flux-system
        namespace: flux-system
  values:
    image:
      tag: \"{tag}\"
  postRenderers:
    - kustomize:
        images:
          - name: registry.test/upstream/app
            newName: registry.test/mirror/app
"
        )
    };
    let entries = |tag: &str| {
        let mut entries = vec![
            Entry::file("sources.yaml", FLEET_SOURCE),
            Entry::file("apps/app.yaml", release(tag)),
        ];
        entries.extend(local_chart(
            "app",
            "1.0.0",
            "image:\n  repository: registry.test/upstream/app\n  tag: \"\"\n",
        ));
        entries
    };
    let repo = fleet_repo(
        "post-renderers-chart-defaults",
        &entries("1"),
        &entries("2"),
    );
    let env = Isolated::new();
    let config = env.config("127.0.0.1:9", None, "");
    let out = env.run(repo.path(), &config, &["--offline"]);
    assert_eq!(
        images(&out.json),
        [(
            "registry.test/mirror/app:2".to_string(),
            "spec.values.image".to_string(),
            "skipped".to_string()
        )],
        "{:#}",
        out.json
    );
}
