//! Extraction: which image references a document writes, and which of them
//! a change adds or modifies compared with the same document at the base.

use crate::k8s::custom::{self, ImageFields};
use crate::k8s::{flux, kustomize, workloads, ImageSite, ObjectId};
use crate::yaml::Node;
use std::collections::HashMap;

/// The image references of one document.
#[derive(Debug, Clone)]
pub struct DocumentImages {
    pub kind: String,
    pub name: String,
    pub sites: Vec<ImageSite>,
}

/// Whether a document is SOPS-encrypted: its values are ciphertext.
pub fn is_sops_encrypted(root: &Node) -> bool {
    root.get("sops").is_some_and(|s| s.as_mapping().is_some())
}

/// The image references in a document of the file at `path`.
pub fn document_images(path: &str, root: &Node, fields: &ImageFields) -> DocumentImages {
    let id = ObjectId::of(root);
    if kustomize::is_kustomization_file(path) && kustomize::is_kustomize_config(root) {
        let dir = path.rsplit_once('/').map_or("", |(dir, _)| dir);
        return DocumentImages {
            kind: "Kustomization".into(),
            name: id
                .as_ref()
                .map_or_else(|| dir.to_string(), |id| id.display_name()),
            sites: root
                .get("images")
                .map(|images| kustomize::image_sites(images, "images"))
                .unwrap_or_default(),
        };
    }
    // A document with a kind but no usable `metadata.name` cannot be applied,
    // but the images it names are still the change's: they are checked too.
    let Some(id) = id.or_else(|| unnamed(root)) else {
        return DocumentImages {
            kind: String::new(),
            name: String::new(),
            sites: Vec::new(),
        };
    };
    let sites = if flux::is_helm_release(&id) {
        let mut sites = flux::values_image_sites(root);
        sites.extend(flux::post_renderer_sites(root));
        sites
    } else if flux::is_flux_kustomization(&id) {
        root.get_path(&["spec", "images"])
            .map(|images| kustomize::image_sites(images, "spec.images"))
            .unwrap_or_default()
    } else {
        workloads::image_sites(root, &id)
            .or_else(|| custom::image_sites(root, &id, fields))
            .unwrap_or_default()
    };
    DocumentImages {
        kind: id.kind.clone(),
        name: id.display_name(),
        sites,
    }
}

/// The identity of a document without a usable `metadata.name`: its kind only.
fn unnamed(root: &Node) -> Option<ObjectId> {
    let kind = root.get("kind")?.as_str()?;
    let api_version = root
        .get("apiVersion")
        .and_then(Node::as_str)
        .unwrap_or_default();
    Some(ObjectId {
        group: crate::k8s::api_group(api_version).to_string(),
        kind: kind.to_string(),
        namespace: None,
        name: String::new(),
    })
}

/// How a reference relates to the base side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Change {
    Added,
    Modified,
    Unchanged,
}

impl Change {
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Added => "added",
            Change::Modified => "modified",
            Change::Unchanged => "unchanged",
        }
    }
}

/// Compares a head site with the sites of the same document at the base
/// (`None` when the document is new).
pub fn change_of(
    site: &ImageSite,
    base: Option<&HashMap<String, Result<String, String>>>,
) -> Change {
    match base.and_then(|sites| sites.get(&site.key)) {
        None => Change::Added,
        Some(before) if *before == site.reference => Change::Unchanged,
        Some(_) => Change::Modified,
    }
}

/// The base side's sites keyed for [`change_of`].
pub fn keyed(sites: &[ImageSite]) -> HashMap<String, Result<String, String>> {
    sites
        .iter()
        .map(|s| (s.key.clone(), s.reference.clone()))
        .collect()
}
