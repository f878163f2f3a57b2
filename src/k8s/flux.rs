//! Flux objects: HelmRelease `spec.values` images and Kustomization
//! `spec.images`.

use super::{part, Assembler, ChartSupplies, ImageSite, ObjectId};
use crate::yaml::{Node, Value};

/// Whether an object is a Flux HelmRelease (v2 API or the legacy v1 one).
pub fn is_helm_release(id: &ObjectId) -> bool {
    id.kind == "HelmRelease"
        && matches!(
            id.group.as_str(),
            "helm.toolkit.fluxcd.io" | "helm.fluxcd.io"
        )
}

/// Whether an object is a Flux Kustomization (not a kustomize config).
pub fn is_flux_kustomization(id: &ObjectId) -> bool {
    id.kind == "Kustomization" && id.group == "kustomize.toolkit.fluxcd.io"
}

/// How the fields of `spec.values` images start (`spec.values.image`).
pub const VALUES_FIELD: &str = "spec.values.";

/// Image references in a HelmRelease's `spec.values`, wherever they sit.
pub fn values_image_sites(root: &Node) -> Vec<ImageSite> {
    root.get_path(&["spec", "values"])
        .map(|values| values_sites(values, VALUES_FIELD.trim_end_matches('.')))
        .unwrap_or_default()
}

/// The `images:` entries of a HelmRelease's kustomize post-renderers
/// (`spec.postRenderers[].kustomize.images`): each sets what the images it
/// names in the rendered chart deploy as, like a kustomization's entries.
pub fn post_renderer_sites(root: &Node) -> Vec<ImageSite> {
    let renderers = root
        .get_path(&["spec", "postRenderers"])
        .and_then(Node::as_sequence)
        .unwrap_or_default();
    let mut sites = Vec::new();
    for (index, renderer) in renderers.iter().enumerate() {
        let prefix = format!("spec.postRenderers[{index}].kustomize");
        let Some(images) = renderer.get_path(&["kustomize", "images"]) else {
            continue;
        };
        for mut site in super::kustomize::image_sites(images, &format!("{prefix}.images")) {
            // Entries are keyed by name; two renderers may name one image.
            if site.key.starts_with("images[") {
                site.key = format!("{prefix}.{}", site.key);
            }
            sites.push(site);
        }
    }
    sites
}

/// Image references in a tree of Helm values at `prefix` (`spec.values`,
/// or a values file a HelmRelease takes with `valuesFrom`).
pub fn values_sites(values: &Node, prefix: &str) -> Vec<ImageSite> {
    let mut sites = Vec::new();
    walk(values, prefix, &mut sites);
    // An alias can repeat a site at the same span; report each place once.
    sites.dedup_by(|a, b| a.span == b.span && a.reference == b.reference);
    sites
}

/// A `spec.valuesFrom` entry: values from a key of a ConfigMap or Secret.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ValuesFrom {
    pub kind: String,
    pub name: String,
    /// `valuesKey`, `values.yaml` when absent.
    pub key: String,
    /// `targetPath`: the key holds one value, set at this path of the
    /// values; `None`: it holds a values document, merged at the root.
    pub target: Option<String>,
}

/// The `spec.valuesFrom` entries of a HelmRelease, in order (Flux merges
/// them in order, then `spec.values` over them).
pub fn values_from(root: &Node) -> Vec<ValuesFrom> {
    root.get_path(&["spec", "valuesFrom"])
        .and_then(Node::as_sequence)
        .unwrap_or_default()
        .iter()
        .filter_map(|entry| {
            let text = |key: &str| entry.get(key).and_then(Node::scalar_text);
            let kind = text("kind").filter(|k| matches!(*k, "ConfigMap" | "Secret"))?;
            Some(ValuesFrom {
                kind: kind.to_string(),
                name: text("name")?.to_string(),
                key: text("valuesKey")
                    .filter(|k| !k.is_empty())
                    .unwrap_or("values.yaml")
                    .to_string(),
                target: entry
                    .get("targetPath")
                    .filter(|path| !path.is_null())
                    .and_then(Node::scalar_text)
                    .filter(|path| !path.is_empty())
                    .map(str::to_string),
            })
        })
        .collect()
}

fn walk(node: &Node, path: &str, sites: &mut Vec<ImageSite>) {
    match &node.value {
        Value::Mapping(entries) => {
            for (key, value) in entries {
                let Some(key) = key.scalar_text() else {
                    continue;
                };
                let field = format!("{path}.{key}");
                if let Some(site) = image_at(key, value, &field, node) {
                    sites.push(site);
                } else {
                    walk(value, &field, sites);
                }
            }
        }
        Value::Sequence(items) => {
            for (index, item) in items.iter().enumerate() {
                walk(item, &format!("{path}[{index}]"), sites);
            }
        }
        Value::Scalar(_) => {}
    }
}

/// A string under `image`, or an image map under a key ending in `image`.
fn image_at(key: &str, value: &Node, field: &str, map: &Node) -> Option<ImageSite> {
    if key == "image" {
        if let Some(text) = value.as_str().filter(|t| !t.is_empty()) {
            return Some(string_image_site(text, value, field, map));
        }
    }
    value.as_mapping()?;
    let named_image = key.to_ascii_lowercase().ends_with("image");
    // Under any other key, `repository` with a `tag` or `digest` beside it is
    // still an image (podinfo's `redis:`); a lone `repository` is not.
    let shaped_like_image = value.get("repository").is_some()
        && (part(value, "tag").is_some() || part(value, "digest").is_some());
    if !named_image && !shaped_like_image {
        return None;
    }
    image_map_site(value, field)
        .or_else(|| named_image.then(|| tag_only_site(value, field)).flatten())
}

/// `image: "repo:tag"`. Without a tag or digest in the string, the chart
/// composes one: from a sibling `imageTag`/`tag` (old `stable/` charts
/// write `image: bitnami/redis` and `imageTag: 6.0`), or its own choice,
/// which `latest` would only guess at (unresolved).
fn string_image_site(text: &str, value: &Node, field: &str, map: &Node) -> ImageSite {
    let name_end = text.rfind('/').map_or(0, |slash| slash + 1);
    let pinned = text.contains('@') || text[name_end..].contains(':');
    let mut site = ImageSite {
        reference: Ok(text.to_string()),
        incomplete: None,
        chart_supplies: None,
        span: value.span,
        related: Vec::new(),
        parts: vec![(0..text.len(), value.span)],
        field: field.to_string(),
        key: field.to_string(),
    };
    if pinned {
        return site;
    }
    match part(map, "imageTag").or_else(|| part(map, "tag")) {
        Some((tag, node)) => {
            let mut reference = Assembler::default();
            reference.push("", text, value);
            reference.push(":", tag, node);
            site.reference = Ok(reference.text);
            site.parts = reference.parts;
            site.span = node.span;
            site.related
                .push((value.span, "image set here".to_string()));
        }
        None => {
            site.incomplete = Some(
                "no tag in the values: the chart supplies one, or deploys `latest`".to_string(),
            );
            site.chart_supplies = Some(ChartSupplies::Tag);
        }
    }
    site
}

/// Where the written text of a tag-only image stands for the repository.
pub const CHART_REPOSITORY: &str = "<repository from the chart>";

/// `image: {tag: "1.2"}`: the most common override of a chart's image, the
/// repository left to the chart's defaults. The tag still deploys, so it is
/// an image (unresolved: the repository is not in this repository) rather
/// than nothing, which would pass a typo'd tag in silence.
fn tag_only_site(map: &Node, field: &str) -> Option<ImageSite> {
    let tag = part(map, "tag");
    let digest = part(map, "digest");
    let (_, primary) = tag.or(digest)?;
    let mut reference = Assembler::default();
    reference.text.push_str(CHART_REPOSITORY);
    if let Some((tag, node)) = tag {
        reference.push(":", tag, node);
    }
    if let Some((digest, node)) = digest.filter(|_| !tag.is_some_and(|(t, _)| t.contains('@'))) {
        reference.push("@", digest, node);
    }
    let mut related = Vec::new();
    if let (Some(_), Some((_, node))) = (tag, digest) {
        related.push((node.span, "digest set here".to_string()));
    }
    Some(ImageSite {
        reference: Ok(reference.text),
        incomplete: Some("no repository here: the chart's default values supply it".to_string()),
        chart_supplies: Some(ChartSupplies::Repository),
        span: primary.span,
        related,
        parts: reference.parts,
        field: field.to_string(),
        key: field.to_string(),
    })
}

/// `{registry, repository, tag, digest}`: the common chart shape
/// (ingress-nginx names the repository `image`). A map without a repository
/// (a global `registry` override) is not an image.
fn image_map_site(map: &Node, field: &str) -> Option<ImageSite> {
    let (repository, repository_node) = part(map, "repository").or_else(|| part(map, "image"))?;
    let registry = part(map, "registry");
    let tag = part(map, "tag");
    let digest = part(map, "digest");
    let mut reference = Assembler::default();
    if let Some((registry, node)) = registry {
        reference.push("", registry.trim_end_matches('/'), node);
        reference.push("/", repository, repository_node);
    } else {
        reference.push("", repository, repository_node);
    }
    if let Some((tag, node)) = tag {
        reference.push(":", tag, node);
    }
    // A tag that already pins a digest (`1.2@sha256:..`) is kept as written.
    if let Some((digest, node)) = digest.filter(|_| !tag.is_some_and(|(t, _)| t.contains('@'))) {
        reference.push("@", digest, node);
    }
    let chart_supplies = (tag.is_none() && digest.is_none()).then_some(ChartSupplies::Tag);
    let incomplete =
        chart_supplies.map(|_| "no tag or digest: the chart supplies the tag".to_string());
    let primary = tag.or(digest).map_or(repository_node, |(_, node)| node);
    let mut related = Vec::new();
    if !std::ptr::eq(primary, repository_node) {
        related.push((repository_node.span, "repository set here".to_string()));
    }
    Some(ImageSite {
        reference: Ok(reference.text),
        incomplete,
        chart_supplies,
        span: primary.span,
        related,
        parts: reference.parts,
        field: field.to_string(),
        key: field.to_string(),
    })
}
