//! Flux HelmRelease `spec.postRenderers[].kustomize.images`: kustomize's
//! image transformer run over the rendered chart. It rewrites the images
//! the release's values make (a mirror's `newName`, a pinned `newTag`), so
//! those are checked as rewritten: checking the values as written could
//! say "exists" for an image the cluster never pulls. An entry with only
//! `newName` takes its tags from the values images it renames.

use crate::changes::ImageUse;
use crate::deploy::layers::{split, ImageRewrite};
use crate::deploy::tree::HeadTree;
use crate::finding::Location;
use crate::git::GitError;
use crate::k8s::flux::{is_helm_release, values_image_sites, VALUES_FIELD};
use crate::k8s::ObjectId;
use crate::source::{SourceText, Span};
use crate::yaml::Node;
use std::collections::BTreeMap;
use std::sync::Arc;

const RENDERERS_FIELD: &str = "spec.postRenderers[";

/// Rewrites the values images of each release by its post-renderers (its
/// own `spec.values` and what it takes with `valuesFrom`), and completes
/// its `newName`-only post-renderer entries.
pub fn apply(uses: &mut Vec<ImageUse>, tree: &HeadTree<'_>) -> Result<(), GitError> {
    let mut releases: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
    for (index, image_use) in uses.iter().enumerate() {
        if image_use.kind != "HelmRelease" {
            continue;
        }
        let field = &image_use.site.field;
        let file = match &image_use.release_file {
            Some(file) => file.clone(),
            None if (field.starts_with(VALUES_FIELD) || field.starts_with(RENDERERS_FIELD))
                && image_use.source.text().contains("postRenderers") =>
            {
                image_use.source.path.clone()
            }
            None => continue,
        };
        releases
            .entry((file, image_use.name.clone()))
            .or_default()
            .push(index);
    }
    let mut added = Vec::new();
    let mut replaced = Vec::new();
    for ((path, name), indices) in releases {
        let Some(release) = Release::find(tree, &path, &name)? else {
            continue;
        };
        if release.rewrites.is_empty() {
            continue;
        }
        for index in indices {
            let image_use = &mut uses[index];
            if image_use.site.field.starts_with(RENDERERS_FIELD) && image_use.release_file.is_none()
            {
                if let Some(completed) = release.complete_new_name(image_use) {
                    replaced.push(index);
                    added.extend(completed);
                }
            } else {
                release.rewrite(image_use);
            }
        }
    }
    // Each completed entry stands for the references it makes.
    replaced.sort_unstable();
    for index in replaced.into_iter().rev() {
        uses.remove(index);
    }
    uses.extend(added);
    Ok(())
}

/// A release's post-renderer rewrites, in the order Flux runs them, and
/// the images of its own values.
struct Release {
    rewrites: Vec<Vec<ImageRewrite>>,
    /// Complete references, with where each is written.
    values: Vec<(String, Span)>,
    source: Arc<SourceText>,
}

impl Release {
    fn find(tree: &HeadTree<'_>, path: &str, name: &str) -> Result<Option<Release>, GitError> {
        let Some(file) = tree.load(path)? else {
            return Ok(None);
        };
        let source = &file.source;
        let Some(root) = file.parsed.documents.iter().map(|d| &d.root).find(|root| {
            ObjectId::of(root)
                .filter(is_helm_release)
                .is_some_and(|id| id.display_name() == name || id.name == name)
        }) else {
            return Ok(None);
        };
        let rewrites = root
            .get_path(&["spec", "postRenderers"])
            .and_then(Node::as_sequence)
            .unwrap_or_default()
            .iter()
            .filter_map(|renderer| renderer.get_path(&["kustomize", "images"]))
            .map(|images| ImageRewrite::list(images, source))
            .filter(|list| !list.is_empty())
            .collect();
        let values = values_image_sites(root)
            .into_iter()
            .filter(|site| site.incomplete.is_none())
            .filter_map(|site| Some((site.reference.ok()?, site.span)))
            .collect();
        Ok(Some(Release {
            rewrites,
            values,
            source: source.clone(),
        }))
    }

    /// A values image as the post-renderers leave it.
    fn rewrite(&self, image_use: &mut ImageUse) {
        if image_use.site.incomplete.is_some() {
            return;
        }
        let Ok(mut reference) = image_use.site.reference.clone() else {
            return;
        };
        for list in &self.rewrites {
            let Some((rewrite, new)) = list
                .iter()
                .find_map(|rw| rw.apply(&reference).map(|new| (rw, new)))
            else {
                continue;
            };
            if new != reference {
                image_use.related.push((
                    rewrite.location.clone(),
                    format!("rewritten to `{new}` by this `postRenderers` images entry"),
                ));
                reference = new;
            }
        }
        if image_use.site.reference.as_deref() != Ok(reference.as_str()) {
            image_use.site.parts.clear();
            image_use.site.reference = Ok(reference);
        }
    }

    /// A `newName`-only entry: one use per tag of the values images it
    /// renames; `None` when it names none (it stays unresolved).
    fn complete_new_name(&self, image_use: &ImageUse) -> Option<Vec<ImageUse>> {
        image_use.site.incomplete.as_ref()?;
        let new_name = image_use.site.reference.as_ref().ok()?;
        let rewrite = self
            .rewrites
            .iter()
            .flatten()
            .find(|rw| rw.new_name.as_deref() == Some(new_name.as_str()))?;
        let mut found: BTreeMap<String, ImageUse> = BTreeMap::new();
        for (value, span) in &self.values {
            let (name, tag, digest) = split(value);
            if name != rewrite.name || (tag.is_none() && digest.is_none()) {
                continue;
            }
            let Some(effective) = rewrite.apply(value) else {
                continue;
            };
            let mut completed = image_use.clone();
            completed.site.incomplete = None;
            completed.site.parts.clear();
            completed.site.reference = Ok(effective.clone());
            completed.related.push((
                Location::new(&self.source, *span),
                format!("the tag comes from `{value}` in the release's values"),
            ));
            found.entry(effective).or_insert(completed);
        }
        (!found.is_empty()).then(|| found.into_values().collect())
    }
}
