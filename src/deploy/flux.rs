//! Flux Kustomizations as build roots: `spec.path`, `spec.images`, and the
//! post-build variables (`spec.postBuild.substitute`, and `substituteFrom`
//! ConfigMaps and Secrets found in the repository; SOPS-encrypted values
//! are not decrypted).

use super::layers::ImageRewrite;
use super::tree::{normalise, HeadTree};
use crate::extract::is_sops_encrypted;
use crate::finding::Location;
use crate::git::GitError;
use crate::k8s::flux::is_flux_kustomization;
use crate::k8s::ObjectId;
use crate::load::LoadedFile;
use crate::yaml::Node;
use std::collections::BTreeMap;

/// A variable's value and where it is written.
#[derive(Debug, Clone, PartialEq)]
pub struct VarValue {
    pub value: String,
    pub location: Location,
}

/// A `substituteFrom` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct VarSource {
    pub kind: String,
    pub name: String,
}

/// A Flux Kustomization: where its build starts and what it adds.
#[derive(Debug)]
pub struct FluxRoot {
    pub id: ObjectId,
    pub dir: String,
    pub images: Vec<ImageRewrite>,
    pub substitute: BTreeMap<String, VarValue>,
    pub substitute_from: Vec<VarSource>,
}

/// A ConfigMap or Secret's string data, by key.
#[derive(Debug)]
pub struct DataObject {
    pub id: ObjectId,
    pub data: BTreeMap<String, VarValue>,
}

/// The Flux roots and the data objects variables can come from.
#[derive(Debug, Default)]
pub struct FluxIndex {
    pub roots: Vec<FluxRoot>,
    pub data: Vec<DataObject>,
}

impl FluxIndex {
    /// Reads every file of the tree that can define a Flux Kustomization,
    /// a ConfigMap or a Secret (a byte search first; only those are parsed).
    pub fn scan(tree: &HeadTree<'_>) -> Result<FluxIndex, GitError> {
        let mut index = FluxIndex::default();
        for blob in tree.files()? {
            if !crate::git::is_yaml(&blob.path) || tree.in_helm_chart(&blob.path)? {
                continue;
            }
            let Some(bytes) = tree.bytes(blob)? else {
                continue;
            };
            let text = String::from_utf8_lossy(&bytes);
            if !(text.contains("kustomize.toolkit.fluxcd.io")
                || text.contains("ConfigMap")
                || text.contains("Secret"))
            {
                continue;
            }
            if let Some(file) = tree.load(&blob.path)? {
                index.add(&file);
            }
        }
        Ok(index)
    }

    /// The roots and data objects of one file.
    pub fn of_file(file: &LoadedFile) -> FluxIndex {
        let mut index = FluxIndex::default();
        index.add(file);
        index
    }

    pub fn extend(&mut self, other: FluxIndex) {
        self.roots.extend(other.roots);
        self.data.extend(other.data);
    }

    pub fn add(&mut self, file: &LoadedFile) {
        for doc in &file.parsed.documents {
            let Some(id) = ObjectId::of(&doc.root) else {
                continue;
            };
            if is_flux_kustomization(&id) {
                if let Some(root) = flux_root(&doc.root, id, file) {
                    self.roots.push(root);
                }
            } else if let Some(data) = data_object(&doc.root, id, file) {
                self.data.push(data);
            }
        }
    }

    /// Adds the data objects of `file` that some root of this index takes
    /// variables from.
    fn add_used_data(&mut self, file: &LoadedFile) {
        for doc in &file.parsed.documents {
            let Some(id) = ObjectId::of(&doc.root) else {
                continue;
            };
            if self.roots.iter().any(|root| self.uses(root, &id)) {
                if let Some(data) = data_object(&doc.root, id, file) {
                    self.data.push(data);
                }
            }
        }
    }

    /// The variables of a root: its `substituteFrom` objects in order,
    /// then its inline `substitute`, which wins (as in Flux).
    pub fn variables(&self, root: &FluxRoot) -> BTreeMap<String, VarValue> {
        let mut variables = BTreeMap::new();
        for from in &root.substitute_from {
            let found = self.data.iter().find(|d| {
                d.id.kind == from.kind
                    && d.id.name == from.name
                    && (d.id.namespace.is_none()
                        || root.id.namespace.is_none()
                        || d.id.namespace == root.id.namespace)
            });
            if let Some(found) = found {
                variables.extend(found.data.clone());
            }
        }
        variables.extend(root.substitute.clone());
        variables
    }

    /// Whether `root` takes variable `name` from the data object `object`.
    pub fn uses(&self, root: &FluxRoot, object: &ObjectId) -> bool {
        root.substitute_from.iter().any(|from| {
            from.kind == object.kind
                && from.name == object.name
                && (object.namespace.is_none()
                    || root.id.namespace.is_none()
                    || object.namespace == root.id.namespace)
        })
    }
}

/// The directory a Flux Kustomization document builds, from the
/// repository root (`spec.path`, `./` when absent).
pub fn built_dir(root: &Node) -> Option<String> {
    let path = root
        .get("spec")?
        .get("path")
        .and_then(Node::scalar_text)
        .unwrap_or("./");
    normalise(path)
}

fn flux_root(root: &Node, id: ObjectId, file: &LoadedFile) -> Option<FluxRoot> {
    let spec = root.get("spec")?;
    let post_build = spec.get("postBuild");
    Some(FluxRoot {
        id,
        dir: built_dir(root)?,
        images: spec
            .get("images")
            .map(|images| ImageRewrite::list(images, &file.source))
            .unwrap_or_default(),
        substitute: post_build
            .and_then(|p| p.get("substitute"))
            .map(|map| string_map(map, file))
            .unwrap_or_default(),
        substitute_from: post_build
            .and_then(|p| p.get("substituteFrom"))
            .and_then(Node::as_sequence)
            .unwrap_or_default()
            .iter()
            .filter_map(|entry| {
                Some(VarSource {
                    kind: entry.get("kind")?.scalar_text()?.to_string(),
                    name: entry.get("name")?.scalar_text()?.to_string(),
                })
            })
            .collect(),
    })
}

/// A ConfigMap's `data`, or a plain Secret's `stringData` (a SOPS-encrypted
/// one holds ciphertext: left out).
fn data_object(root: &Node, id: ObjectId, file: &LoadedFile) -> Option<DataObject> {
    let key = match (id.group.as_str(), id.kind.as_str()) {
        ("", "ConfigMap") => "data",
        ("", "Secret") if !is_sops_encrypted(root) => "stringData",
        _ => return None,
    };
    Some(DataObject {
        data: root
            .get(key)
            .map(|m| string_map(m, file))
            .unwrap_or_default(),
        id,
    })
}

fn string_map(map: &Node, file: &LoadedFile) -> BTreeMap<String, VarValue> {
    map.as_mapping()
        .unwrap_or_default()
        .iter()
        .filter_map(|(key, value)| {
            Some((
                key.scalar_text()?.to_string(),
                VarValue {
                    value: value.scalar_text()?.to_string(),
                    location: Location::new(&file.source, value.span),
                },
            ))
        })
        .collect()
}

/// Variables whose value a change sets differently: in a Flux
/// Kustomization's `substitute`, or in a ConfigMap/Secret's data.
#[derive(Debug, Clone)]
pub struct ChangedVariable {
    pub name: String,
    pub value: VarValue,
    /// The object that holds it.
    pub holder: ObjectId,
}

/// Compares the variables of the base and head versions of the changed
/// files, given as their Flux indexes.
pub fn changed_variables(base: FluxIndex, head: FluxIndex) -> Vec<ChangedVariable> {
    let collect = |index: FluxIndex| {
        let mut by_holder: BTreeMap<ObjectId, BTreeMap<String, VarValue>> = BTreeMap::new();
        for root in index.roots {
            by_holder.insert(root.id, root.substitute);
        }
        for data in index.data {
            by_holder.insert(data.id, data.data);
        }
        by_holder
    };
    let before = collect(base);
    let after = collect(head);
    let mut changed = Vec::new();
    for (holder, variables) in after {
        let old = before.get(&holder);
        for (name, value) in variables {
            let same = old
                .and_then(|old| old.get(&name))
                .is_some_and(|v| v.value == value.value);
            if !same {
                changed.push(ChangedVariable {
                    name,
                    value,
                    holder: holder.clone(),
                });
            }
        }
    }
    changed
}

/// A whole tree's Flux Kustomizations, and where its ConfigMaps and Secrets
/// are: their data (often large, and mostly no root's variables) is read
/// again only for those a root takes variables from.
#[derive(Debug, Default)]
pub struct TreeFlux {
    roots: Vec<FluxRoot>,
    data_at: Vec<(ObjectId, String)>,
}

impl TreeFlux {
    pub fn of_file(file: &LoadedFile) -> TreeFlux {
        let mut found = TreeFlux::default();
        for doc in &file.parsed.documents {
            let Some(id) = ObjectId::of(&doc.root) else {
                continue;
            };
            if is_flux_kustomization(&id) {
                found.roots.extend(flux_root(&doc.root, id, file));
            } else if id.group.is_empty() && matches!(id.kind.as_str(), "ConfigMap" | "Secret") {
                found.data_at.push((id, file.source.path.clone()));
            }
        }
        found
    }

    pub fn extend(&mut self, other: TreeFlux) {
        self.roots.extend(other.roots);
        self.data_at.extend(other.data_at);
    }

    pub fn has_roots(&self) -> bool {
        !self.roots.is_empty()
    }

    pub fn retain_roots(&mut self, keep: impl Fn(&FluxRoot) -> bool) {
        self.roots.retain(keep);
    }

    /// Some root's `spec.images` writes a variable (`newTag: ${TAG}`),
    /// which post-build substitution then fills in.
    pub fn images_use_variables(&self) -> bool {
        self.roots
            .iter()
            .flat_map(|root| &root.images)
            .any(|rewrite| {
                [&rewrite.new_name, &rewrite.new_tag, &rewrite.digest]
                    .into_iter()
                    .flatten()
                    .any(|value| !crate::image::flux_variables(value).is_empty())
            })
    }

    /// The index, with the data of the objects the roots use.
    pub fn into_index(self, tree: &HeadTree<'_>) -> Result<FluxIndex, GitError> {
        let mut index = FluxIndex {
            roots: self.roots,
            data: Vec::new(),
        };
        let mut paths: Vec<String> = self
            .data_at
            .into_iter()
            .filter(|(id, _)| index.roots.iter().any(|root| index.uses(root, id)))
            .map(|(_, path)| path)
            .collect();
        paths.sort();
        paths.dedup();
        for path in paths {
            if let Some(file) = tree.load(&path)? {
                index.add_used_data(&file);
            }
        }
        Ok(index)
    }
}
