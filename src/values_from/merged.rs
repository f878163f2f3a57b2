//! Helm merges a release's values: its `valuesFrom` entries in order (a
//! later one winning), then `spec.values` over them all. An image written
//! across them (the repository in a ConfigMap's `values.yaml`, the tag in
//! `spec.values`) is one image, and a part written twice deploys from the
//! last place. For a release that takes values documents, each of its
//! `{registry, repository, tag, digest}` images is given the reference the
//! merged values make; a value that never deploys (another layer sets it
//! later) is no image. Values are read beside the release, where
//! [`super::roles`] finds them.

use super::target::FIELD_MARK as TARGET_MARK;
use super::{blocks, holders_of, releases_in, single_values_at, Release};
use crate::changes::ImageUse;
use crate::chart_defaults::global_registry::registry_settings;
use crate::deploy::layers::layer_at;
use crate::deploy::tree::HeadTree;
use crate::finding::Location;
use crate::git::GitError;
use crate::k8s::flux::{CHART_REPOSITORY, VALUES_FIELD};
use crate::k8s::{part, ChartSupplies, ObjectId};
use crate::load::LoadedFile;
use crate::source::Span;
use crate::yaml::Node;
use std::collections::BTreeMap;
use std::rc::Rc;

/// The parts of an image map, in the order they make a reference.
const PARTS: [&str; 4] = ["registry", "repository", "tag", "digest"];

/// Gives the Helm values images of `uses` whose release takes values
/// documents the reference its merged values make, and drops those whose
/// own value another layer overrides.
pub fn apply(uses: &mut Vec<ImageUse>, tree: &HeadTree<'_>) -> Result<(), GitError> {
    let mut by_release: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
    for (index, image_use) in uses.iter().enumerate() {
        let vouched = image_use.values_path.is_some() && !is_target_use(image_use);
        if image_use.kind != "HelmRelease" || vouched {
            continue;
        }
        if where_written(image_use).is_some() {
            by_release
                .entry(image_use.release_key())
                .or_default()
                .push(index);
        }
    }
    let mut dropped = Vec::new();
    for ((release_file, name), indices) in by_release {
        let Some(layers) = layers(tree, &release_file, &name)? else {
            continue;
        };
        for index in indices {
            if merge(&mut uses[index], &layers) == Outcome::Overridden {
                dropped.push(index);
            }
        }
    }
    dropped.sort_unstable();
    for index in dropped.into_iter().rev() {
        uses.remove(index);
    }
    Ok(())
}

/// Which layer holds a use's image, and its path in the values (`image`).
#[derive(Debug, Clone, PartialEq)]
enum Layer {
    /// `spec.values`, always the last.
    Spec,
    /// A values document: a generator's file (`key` `None`) or a key.
    Document { path: String, key: Option<String> },
    /// One value an entry with `targetPath` sets.
    Single {
        path: String,
        key: String,
        target: String,
    },
}

/// A value set with `targetPath` (see [`super::target::field`]).
fn is_target_use(image_use: &ImageUse) -> bool {
    image_use.site.field.contains(TARGET_MARK)
}

fn where_written(image_use: &ImageUse) -> Option<(Layer, String)> {
    let field = &image_use.site.field;
    if let Some((holder, target)) = field.split_once(TARGET_MARK) {
        let target = target.strip_suffix(')')?;
        let key = holder
            .strip_prefix("data[")
            .or_else(|| holder.strip_prefix("stringData["))?
            .strip_suffix(']')?;
        // A part of a map image; a whole string is not merged.
        let (path, leaf) = target.rsplit_once('.')?;
        let layer = Layer::Single {
            path: image_use.source.path.clone(),
            key: key.to_string(),
            target: target.to_string(),
        };
        return (PARTS.contains(&leaf) && !path.contains('[')).then(|| (layer, path.to_string()));
    }
    let (layer, path) = if let Some(path) = field.strip_prefix(VALUES_FIELD) {
        (Layer::Spec, path)
    } else if let Some(path) = field.strip_prefix("values.") {
        let layer = Layer::Document {
            path: image_use.source.path.clone(),
            key: None,
        };
        (layer, path)
    } else {
        let rest = field
            .strip_prefix("data[")
            .or_else(|| field.strip_prefix("stringData["))?;
        let (key, path) = rest.split_once("].")?;
        let layer = Layer::Document {
            path: image_use.source.path.clone(),
            key: Some(key.to_string()),
        };
        (layer, path)
    };
    // Lists (`containers[0].image`) are strings kustomize may rewrite; only
    // maps at plain paths are merged.
    (!path.contains('[') && image_use.release_file.is_some() == (layer != Layer::Spec))
        .then(|| (layer, path.to_string()))
}

/// One layer of a release's values, read.
struct Values {
    layer: Layer,
    /// For messages: `ConfigMap apps/x, key `values.yaml``.
    describe: String,
    /// What it holds: a document (with the file its spans are in, and where
    /// in it the document starts), or one value set at a path.
    content: Content,
}

enum Content {
    Document {
        file: Rc<LoadedFile>,
        root: Node,
        offset: usize,
    },
    Single {
        target: String,
        text: String,
        at: Location,
    },
    /// Not found beside the release (or found twice).
    Unknown,
}

/// The layers of the release `name` of `release_file`, in merge order, if
/// it takes at least one values document.
fn layers(
    tree: &HeadTree<'_>,
    release_file: &str,
    name: &str,
) -> Result<Option<Vec<Values>>, GitError> {
    // Most releases take no `valuesFrom`: their file is not parsed again.
    if !tree.mentions(release_file, "valuesFrom")? {
        return Ok(None);
    }
    let Some(file) = tree.load(release_file)? else {
        return Ok(None);
    };
    let dir = release_file.rsplit_once('/').map_or("", |(dir, _)| dir);
    let kustomization = layer_at(tree, dir)?;
    let Some(release) = releases_in(&file, kustomization.as_ref())
        .into_iter()
        .find(|r| r.name == name || r.id.display_name() == name)
    else {
        return Ok(None);
    };
    if release.entries.iter().all(|e| e.target.is_some()) {
        return Ok(None);
    }
    let mut layers = Vec::new();
    for (index, entry) in release.entries.iter().enumerate() {
        let describe = format!("{} {}, key `{}`", entry.kind, entry.name, entry.key);
        let target = release.targets.get(index).and_then(Option::as_ref);
        if entry.target.is_some() && target.is_none() {
            // Not a part of an image: it changes none.
            continue;
        }
        let found = holders_of(
            tree,
            release_file,
            kustomization.as_ref(),
            &release,
            (entry, target),
        )?;
        let content = match (found.as_slice(), &entry.target) {
            ([(path, holder, _)], None) => document(tree, path, holder.as_ref())?,
            ([(path, Some((id, key)), _)], Some(target)) => single(tree, path, id, key, target)?,
            _ => None,
        };
        let layer = match (found.first(), &entry.target) {
            (Some((path, Some((_, key)), _)), Some(target)) => Layer::Single {
                path: path.clone(),
                key: key.clone(),
                target: target.clone(),
            },
            (Some((path, holder, _)), _) => Layer::Document {
                path: path.clone(),
                key: holder.as_ref().map(|(_, key)| key.clone()),
            },
            (None, _) => Layer::Document {
                path: String::new(),
                key: None,
            },
        };
        layers.push(Values {
            layer,
            describe,
            content: content.unwrap_or(Content::Unknown),
        });
    }
    layers.push(spec_layer(&file, &release));
    Ok(Some(layers))
}

fn document(
    tree: &HeadTree<'_>,
    path: &str,
    holder: Option<&(ObjectId, String)>,
) -> Result<Option<Content>, GitError> {
    let Some(file) = tree.load(path)? else {
        return Ok(None);
    };
    Ok(match holder {
        None => file
            .parsed
            .documents
            .first()
            .map(|doc| doc.root.clone())
            .map(|root| Content::Document {
                file: file.clone(),
                root,
                offset: 0,
            }),
        Some((id, key)) => {
            let block = blocks(&file, id, key).next();
            block
                .filter(|b| b.parsed.error.is_none() && b.parsed.documents.len() == 1)
                .map(|b| Content::Document {
                    file: file.clone(),
                    root: b.parsed.documents[0].root.clone(),
                    offset: b.start,
                })
        }
    })
}

fn single(
    tree: &HeadTree<'_>,
    path: &str,
    id: &ObjectId,
    key: &str,
    target: &str,
) -> Result<Option<Content>, GitError> {
    let found = single_values_at(tree, path, id, key)?.into_iter().next();
    Ok(found.map(|(text, at)| Content::Single {
        target: target.to_string(),
        text,
        at,
    }))
}

fn spec_layer(file: &Rc<LoadedFile>, release: &Release) -> Values {
    let root = file
        .parsed
        .documents
        .iter()
        .find(|doc| ObjectId::of(&doc.root).as_ref() == Some(&release.id))
        .and_then(|doc| doc.root.get_path(&["spec", "values"]))
        .cloned();
    Values {
        layer: Layer::Spec,
        describe: format!("HelmRelease {}'s `spec.values`", release.name),
        content: match root {
            Some(root) => Content::Document {
                file: file.clone(),
                root,
                offset: 0,
            },
            None => Content::Unknown,
        },
    }
}

#[derive(Debug, PartialEq)]
enum Outcome {
    Kept,
    Overridden,
}

/// One part of the merged image: its text, where it is written, and the
/// layer (by index) that wrote it last.
struct Found {
    text: String,
    at: Location,
    layer: usize,
}

fn merge(image_use: &mut ImageUse, layers: &[Values]) -> Outcome {
    let Some((own_layer, path)) = where_written(image_use) else {
        return Outcome::Kept;
    };
    let Some(own) = layers.iter().position(|v| v.layer == own_layer) else {
        return Outcome::Kept;
    };
    let mut found: BTreeMap<&str, Found> = BTreeMap::new();
    // Parts a layer sets empty or null: Helm takes that over what came
    // before (the chart's templates then choose).
    let mut emptied: BTreeMap<&str, usize> = BTreeMap::new();
    let mut unknown = None;
    for (index, values) in layers.iter().enumerate() {
        match &values.content {
            Content::Unknown
                if index > own && values.layer != Layer::Spec && is_target_use(image_use) =>
            {
                // Taken after the value, it may set it again. (A document's
                // image is checked as the layers found make it, as before:
                // a Secret of passwords taken last is the common case.)
                give_up(
                    image_use,
                    &format!(
                        "the release takes values with `valuesFrom` after it ({}) that fluxgate did not find beside it, which may set it again",
                        values.describe
                    ),
                );
                return Outcome::Kept;
            }
            Content::Unknown if values.layer != Layer::Spec => {
                unknown.get_or_insert(values.describe.clone());
            }
            Content::Unknown => {}
            Content::Single { target, text, at } => {
                if let Some(key) = PARTS.iter().find(|key| *target == format!("{path}.{key}")) {
                    if text.is_empty() {
                        found.remove(key);
                        emptied.insert(key, index);
                        continue;
                    }
                    emptied.remove(key);
                    found.insert(
                        key,
                        Found {
                            text: text.clone(),
                            at: at.clone(),
                            layer: index,
                        },
                    );
                }
            }
            Content::Document { file, root, offset } => {
                let Some(node) =
                    crate::helm_path::follow_written(root, &path).filter(|n| !n.is_null())
                else {
                    continue;
                };
                if node.as_mapping().is_none() {
                    // A string where a map stands: merged differently;
                    // the use is left as extraction made it.
                    return Outcome::Kept;
                }
                for key in PARTS {
                    let written = part(node, key)
                        .or_else(|| (key == "repository").then(|| part(node, "image")).flatten());
                    if written.is_none() && node.get(key).is_some() {
                        found.remove(key);
                        emptied.insert(key, index);
                    }
                    if let Some((text, node)) = written {
                        emptied.remove(key);
                        let span = Span::new(node.span.start + offset, node.span.end + offset);
                        found.insert(
                            key,
                            Found {
                                text: text.to_string(),
                                at: Location::new(&file.source, span),
                                layer: index,
                            },
                        );
                    }
                }
            }
        }
    }
    if found.values().any(|f| f.text.contains("${")) {
        // Post-build variables were filled in before this stage; the raw
        // values would undo that.
        return Outcome::Kept;
    }
    // The value the use stands at deploys only if no later layer sets it
    // (even empty).
    let own_part = own_key(&layers[own], &path, image_use.site.span);
    if own_part.is_some_and(|key| emptied.contains_key(key))
        || own_part
            .and_then(|key| found.get(key))
            .is_some_and(|f| f.layer != own)
    {
        return Outcome::Overridden;
    }
    let complete = found.contains_key("repository")
        && (found.contains_key("tag") || found.contains_key("digest"));
    if let Some(describe) = unknown.filter(|_| !complete || image_use.site.incomplete.is_some()) {
        give_up(
            image_use,
            &format!("the release also takes values with `valuesFrom` ({describe}) that fluxgate did not find beside it, which may set the rest of the image"),
        );
        return Outcome::Kept;
    }
    let mut reference = String::new();
    match (found.get("registry"), found.get("repository")) {
        (Some(registry), Some(repository)) => {
            reference.push_str(registry.text.trim_end_matches('/'));
            reference.push('/');
            reference.push_str(&repository.text);
        }
        (None, Some(repository)) => reference.push_str(&repository.text),
        (Some(_), None) => {
            give_up(
                image_use,
                "the merged values set a registry for a repository the chart supplies, which charts combine in their own ways",
            );
            return Outcome::Kept;
        }
        (None, None) => reference.push_str(CHART_REPOSITORY),
    }
    let tag = found.get("tag");
    if let Some(tag) = tag {
        reference.push(':');
        reference.push_str(&tag.text);
    }
    if let Some(digest) = found
        .get("digest")
        .filter(|_| !tag.is_some_and(|t| t.text.contains('@')))
    {
        reference.push('@');
        reference.push_str(&digest.text);
    }
    let supplies = if !found.contains_key("repository") {
        Some(ChartSupplies::Repository)
    } else if !found.contains_key("tag") && !found.contains_key("digest") {
        Some(ChartSupplies::Tag)
    } else {
        None
    };
    if image_use.site.reference.as_deref() != Ok(reference.as_str()) {
        image_use.site.reference = Ok(reference);
        image_use.site.parts.clear();
    }
    image_use.site.chart_supplies = supplies;
    image_use.site.incomplete = supplies.map(|s| match s {
        ChartSupplies::Repository => {
            "no repository in the release's merged values: the chart's default values supply it"
                .to_string()
        }
        ChartSupplies::Tag => {
            "no tag in the release's merged values: the chart's default values supply it"
                .to_string()
        }
    });
    image_use.values_path = Some(path.clone());
    for (key, part) in &found {
        if part.layer != own {
            image_use.related.push((
                part.at.clone(),
                format!(
                    "{key} `{}` from {}, merged with it",
                    part.text, layers[part.layer].describe
                ),
            ));
        }
    }
    Outcome::Kept
}

/// Which part of the image at `path` the layer `values` writes at `span`
/// (where a use stands: its tag, digest or repository).
fn own_key(values: &Values, path: &str, span: Span) -> Option<&'static str> {
    let (root, offset) = match &values.content {
        Content::Document { root, offset, .. } => (root, offset),
        Content::Single { target, .. } => {
            return PARTS
                .into_iter()
                .find(|key| *target == format!("{path}.{key}"));
        }
        Content::Unknown => return None,
    };
    let map = crate::helm_path::follow_written(root, path)?;
    let at = |key: &str| {
        map.get(key)
            .is_some_and(|node| node.span.start + offset == span.start)
    };
    PARTS
        .into_iter()
        .find(|key| at(key))
        .or_else(|| at("image").then_some("repository"))
}

fn give_up(image_use: &mut ImageUse, why: &str) {
    match &mut image_use.site.incomplete {
        Some(reason) => reason.push_str(&format!("; {why}")),
        None => image_use.site.incomplete = Some(why.to_string()),
    }
    image_use.site.chart_supplies = None;
}

/// A value the release's merged values set: its text, where it is written,
/// and which layer wrote it last (for messages).
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    pub text: String,
    pub at: Location,
    pub from: String,
}

/// A release's values in merge order, for questions about the values as
/// Helm will see them.
pub struct ReleaseValues {
    layers: Vec<Values>,
}

impl ReleaseValues {
    /// The layers of release `name` of `release_file`, when it takes
    /// values documents.
    pub fn read(
        tree: &HeadTree<'_>,
        release_file: &str,
        name: &str,
    ) -> Result<Option<ReleaseValues>, GitError> {
        Ok(layers(tree, release_file, name)?.map(|layers| ReleaseValues { layers }))
    }

    /// A release's own `spec.values` (`values`, read from `file`), alone.
    pub fn spec_only(file: &Rc<LoadedFile>, values: Option<&Node>, name: &str) -> ReleaseValues {
        let content = match values {
            Some(root) => Content::Document {
                file: file.clone(),
                root: root.clone(),
                offset: 0,
            },
            None => Content::Unknown,
        };
        ReleaseValues {
            layers: vec![Values {
                layer: Layer::Spec,
                describe: format!("HelmRelease {name}'s `spec.values`"),
                content,
            }],
        }
    }

    /// The scalar the last layer that sets `path` (`image.registry`) gives
    /// it; empty and null values set nothing (charts read them as unset).
    pub fn last_at(&self, path: &str) -> Option<Setting> {
        let (parent, key) = path.rsplit_once('.').unwrap_or(("", path));
        for values in self.layers.iter().rev() {
            let setting = |text: &str, at: Location| Setting {
                text: text.to_string(),
                at,
                from: values.describe.clone(),
            };
            match &values.content {
                Content::Single { target, text, at } if target == path => {
                    return (!text.is_empty()).then(|| setting(text, at.clone()));
                }
                Content::Document { file, root, offset } => {
                    let map = if parent.is_empty() {
                        Some(root)
                    } else {
                        crate::helm_path::follow_written(root, parent)
                    };
                    // Set here, even empty: it hides the layers before.
                    if map.and_then(|m| m.get(key)).is_none() {
                        continue;
                    }
                    let (text, node) = part(map?, key)?;
                    let span = Span::new(node.span.start + offset, node.span.end + offset);
                    return Some(setting(text, Location::new(&file.source, span)));
                }
                _ => {}
            }
        }
        None
    }

    /// Whether some layer sets `path`, even empty or null (which hides
    /// the chart's default).
    pub fn sets(&self, path: &str) -> bool {
        let (parent, key) = path.rsplit_once('.').unwrap_or(("", path));
        self.layers.iter().any(|values| match &values.content {
            Content::Single { target, .. } => target == path,
            Content::Document { root, .. } => {
                let map = if parent.is_empty() {
                    Some(root)
                } else {
                    crate::helm_path::follow_written(root, parent)
                };
                map.and_then(|m| m.get(key)).is_some()
            }
            Content::Unknown => false,
        })
    }

    /// Every registry the values set under `global` (`imageRegistry`,
    /// `image.registry`), by its path below `global`, the last layer
    /// winning.
    pub fn global_registries(&self) -> BTreeMap<String, Setting> {
        let mut paths = std::collections::BTreeSet::new();
        for values in &self.layers {
            if let Content::Document { root, .. } = &values.content {
                if let Some(global) = root.get("global") {
                    paths.extend(registry_settings(global).into_iter().map(|(path, _)| path));
                }
            }
        }
        paths
            .into_iter()
            .filter_map(|path| {
                let setting = self.last_at(&format!("global.{path}"))?;
                Some((path, setting))
            })
            .collect()
    }
}
