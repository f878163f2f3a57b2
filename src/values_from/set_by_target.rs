//! The other side of `targetPath`: an image in a release's `spec.values`
//! that leaves a part (`image: {repository: mirror/app}`) which an entry
//! with `targetPath` sets (`valuesKey: tag`, `targetPath: image.tag`). The
//! deployed image takes that part from the ConfigMap or Secret, not from
//! the chart, so a change to the release's repository is checked with the
//! tag the cluster will use. Read beside the release, where
//! [`super::roles`] finds the values a release takes.

use super::{holders_of, releases_in, single_values_at};
use crate::changes::ImageUse;
use crate::deploy::layers::layer_at;
use crate::deploy::tree::HeadTree;
use crate::finding::Location;
use crate::git::GitError;
use crate::k8s::flux::{CHART_REPOSITORY, VALUES_FIELD};
use crate::k8s::{part, ChartSupplies};

/// Completes the `spec.values` images of `uses` whose missing part an
/// entry with `targetPath` sets, or says why it could not. Others (the
/// part left to the chart) are left as they are.
pub fn complete(uses: &mut [ImageUse], tree: &HeadTree<'_>) -> Result<(), GitError> {
    for image_use in uses.iter_mut() {
        let Some(supplies) = image_use
            .site
            .chart_supplies
            .filter(|_| image_use.site.incomplete.is_some())
        else {
            continue;
        };
        let Some(path) = image_use.site.field.strip_prefix(VALUES_FIELD) else {
            continue;
        };
        if image_use.kind != "HelmRelease" || image_use.values_path.is_some() {
            continue;
        }
        let path = path.to_string();
        match set_part(image_use, tree, &path, supplies)? {
            Outcome::NoEntry => {}
            Outcome::Found {
                text,
                at,
                target,
                registry,
            } => {
                let reference = image_use.site.reference.as_deref().unwrap_or_default();
                let (reference, what) = match supplies {
                    ChartSupplies::Tag if target.ends_with(".digest") => {
                        (format!("{reference}@{text}"), "digest")
                    }
                    ChartSupplies::Tag => (format!("{reference}:{text}"), "tag"),
                    ChartSupplies::Repository => {
                        let suffix = reference
                            .strip_prefix(CHART_REPOSITORY)
                            .unwrap_or(reference);
                        let name = match registry {
                            Some(registry) => format!("{registry}/{text}"),
                            None => text.clone(),
                        };
                        (format!("{name}{suffix}"), "repository")
                    }
                };
                image_use.site.reference = Ok(reference);
                image_use.site.parts.clear();
                image_use.site.incomplete = None;
                image_use.site.chart_supplies = None;
                image_use.related.push((
                    at,
                    format!(
                        "{what} `{text}` set here, at `{target}` (`valuesFrom` with `targetPath`)"
                    ),
                ));
            }
            Outcome::Unknown(why) => {
                if let Some(reason) = &mut image_use.site.incomplete {
                    reason.push_str(&format!("; {why}"));
                }
                // Not the chart's to supply either: it is not asked.
                image_use.site.chart_supplies = None;
            }
        }
    }
    Ok(())
}

enum Outcome {
    /// No entry with `targetPath` sets the part.
    NoEntry,
    Found {
        text: String,
        at: Location,
        target: String,
        /// The release's own `registry` beside the image, if any.
        registry: Option<String>,
    },
    Unknown(String),
}

/// The value of the entry that sets the part `supplies` of the image at
/// `path` in the release's values.
fn set_part(
    image_use: &ImageUse,
    tree: &HeadTree<'_>,
    path: &str,
    supplies: ChartSupplies,
) -> Result<Outcome, GitError> {
    let release_file = image_use
        .release_file
        .as_deref()
        .unwrap_or(&image_use.source.path);
    if !tree.mentions(release_file, "targetPath")? {
        return Ok(Outcome::NoEntry);
    }
    let Some(file) = tree.load(release_file)? else {
        return Ok(Outcome::NoEntry);
    };
    let dir = release_file.rsplit_once('/').map_or("", |(dir, _)| dir);
    let kustomization = layer_at(tree, dir)?;
    let Some(release) = releases_in(&file, kustomization.as_ref())
        .into_iter()
        .find(|r| r.name == image_use.name || r.id.display_name() == image_use.name)
    else {
        return Ok(Outcome::NoEntry);
    };
    // A string image takes its tag from beside it; a map, from within.
    let image = file
        .parsed
        .documents
        .iter()
        .find(|doc| super::ObjectId::of(&doc.root).as_ref() == Some(&release.id))
        .and_then(|doc| doc.root.get_path(&["spec", "values"]))
        .and_then(|values| crate::helm_path::follow_written(values, path));
    let string_image = image.is_some_and(|node| node.scalar_text().is_some());
    // The release's own registry goes before a repository set elsewhere.
    let registry = image
        .and_then(|map| part(map, "registry"))
        .map(|(registry, _)| registry.trim_end_matches('/').to_string());
    let parent = path.rsplit_once('.').map_or("", |(parent, _)| parent);
    let joined = |base: &str, key: &str| match base {
        "" => key.to_string(),
        base => format!("{base}.{key}"),
    };
    let wanted: Vec<String> = match (supplies, string_image) {
        (ChartSupplies::Tag, true) => vec![joined(parent, "imageTag"), joined(parent, "tag")],
        (ChartSupplies::Tag, false) => vec![joined(path, "tag"), joined(path, "digest")],
        (ChartSupplies::Repository, _) => vec![joined(path, "repository")],
    };
    // The last entry setting a path wins, as Flux merges them.
    let Some((index, entry)) = release.entries.iter().enumerate().rev().find(|(_, e)| {
        e.target
            .as_deref()
            .is_some_and(|t| wanted.iter().any(|w| w == t))
    }) else {
        return Ok(Outcome::NoEntry);
    };
    let target = entry.target.clone().unwrap_or_default();
    let describe = format!("{} {}, key `{}`", entry.kind, entry.name, entry.key);
    if let Some(document) = release.entries[index + 1..]
        .iter()
        .find(|e| e.target.is_none())
    {
        return Ok(Outcome::Unknown(format!(
            "`valuesFrom` sets `{target}` ({describe}), and a values document taken after it ({} {}, key `{}`) may set it again",
            document.kind, document.name, document.key
        )));
    }
    let Some(analysed) = release.targets.get(index).and_then(Option::as_ref) else {
        return Ok(Outcome::Unknown(format!(
            "`valuesFrom` sets `{target}` ({describe}), which fluxgate does not read as part of an image"
        )));
    };
    let found = holders_of(
        tree,
        release_file,
        kustomization.as_ref(),
        &release,
        (entry, Some(analysed)),
    )?;
    let mut values = Vec::new();
    for (holder_path, holder, _) in found {
        if let Some((id, key)) = holder {
            values.extend(single_values_at(tree, &holder_path, &id, &key)?);
        }
    }
    Ok(match values.len() {
        1 => {
            let (text, at) = values.remove(0);
            Outcome::Found {
                text,
                at,
                target,
                registry,
            }
        }
        0 => Outcome::Unknown(format!(
            "`valuesFrom` sets `{target}` ({describe}), and no such value is written beside the release"
        )),
        _ => Outcome::Unknown(format!(
            "`valuesFrom` sets `{target}` ({describe}), and more than one such value is written beside the release"
        )),
    })
}
