//! `valuesFrom` entries with `targetPath`: one value of a ConfigMap or
//! Secret key set at a path of the release's values (`valuesKey: tag`,
//! `targetPath: image.tag`). Where that path is a part of an image, a bump
//! of the key changes what deploys, so the key's value is checked as that
//! image, completed from the parts the release writes beside it.
//!
//! Flux merges `valuesFrom` entries in order (a later one wins) and
//! `spec.values` over all of them: a value `spec.values` also sets never
//! deploys, and a values document taken after the entry may replace it.

use crate::finding::Location;
use crate::helm_path::{follow, parse as parse_path, Step};
use crate::k8s::flux::{ValuesFrom, CHART_REPOSITORY};
use crate::k8s::{part, Assembler, ChartSupplies, ImageSite};
use crate::source::SourceText;
use crate::yaml::Node;

/// Which part of an image a value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Part {
    Registry,
    Repository,
    Tag,
    Digest,
    /// A whole reference as one string (`controller.image`).
    Image,
    /// `imageTag`, the tag of a string `image` beside it (old charts).
    ImageTag,
}

impl Part {
    fn of_key(key: &str) -> Option<Part> {
        Some(match key {
            "registry" => Part::Registry,
            "repository" => Part::Repository,
            "tag" => Part::Tag,
            "digest" => Part::Digest,
            "imageTag" => Part::ImageTag,
            _ if key.to_ascii_lowercase().ends_with("image") => Part::Image,
            _ => return None,
        })
    }

    /// The parts beside it that make one image with it, by their keys.
    fn companions(self) -> &'static [(Part, &'static str)] {
        match self {
            Part::Registry | Part::Repository | Part::Tag | Part::Digest => &[
                (Part::Registry, "registry"),
                (Part::Repository, "repository"),
                (Part::Tag, "tag"),
                (Part::Digest, "digest"),
            ],
            Part::Image => &[(Part::ImageTag, "imageTag"), (Part::Tag, "tag")],
            Part::ImageTag => &[(Part::Image, "image")],
        }
    }
}

/// What a release makes of the value an entry with `targetPath` sets,
/// worked out from the release alone (the value itself is read where it is
/// written, on each side of the change).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Target {
    /// As written: `image.tag`.
    pub path: String,
    pub part: Part,
    /// Where the image sits in the values (`image`, or `controller.image`
    /// for a string), for the chart's defaults.
    pub image_path: String,
    /// The image's other parts the release's `spec.values` write.
    pub written: Vec<Written>,
    /// Its other parts set by entries with `targetPath` from other keys of
    /// the same ConfigMap or Secret: (part, key).
    pub siblings: Vec<(Part, String)>,
    /// Why the image cannot be known for sure, when it cannot.
    pub unsure: Option<String>,
    /// A values document the release also takes, which may set the parts
    /// neither the release nor this key set (instead of the chart).
    pub documents: Option<String>,
}

/// A part of the image the release's own values write.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Written {
    pub part: Part,
    pub text: String,
    pub at: Location,
}

/// The target of entry `index` of a release's `entries`, when the value it
/// sets is a part of an image that deploys.
pub fn analyse(
    root: &Node,
    entries: &[ValuesFrom],
    index: usize,
    source: &SourceText,
) -> Option<Target> {
    let entry = entries.get(index)?;
    let path = entry.target.as_deref()?;
    let steps = parse_path(path)?;
    let (Step::Key(leaf), parent) = steps.split_last()? else {
        return None;
    };
    let own = Part::of_key(leaf)?;
    let values = root.get_path(&["spec", "values"]);
    // `spec.values` is merged over every entry; a later entry replaces it.
    if values
        .and_then(|v| follow(v, &steps))
        .is_some_and(sets_value)
    {
        return None;
    }
    let later = &entries[index + 1..];
    if later
        .iter()
        .any(|e| e.target.as_deref().and_then(parse_path).as_deref() == Some(&steps[..]))
    {
        return None;
    }
    let parent_map = values.and_then(|v| follow(v, parent));
    let mut written = Vec::new();
    let mut siblings = Vec::new();
    let mut unsure = None;
    for &(companion, key) in own.companions() {
        if let Some((text, node)) = parent_map.and_then(|map| part(map, key)) {
            written.push(Written {
                part: companion,
                text: text.to_string(),
                at: Location::new(source, node.span),
            });
            continue;
        }
        let mut sibling_path = parent.to_vec();
        sibling_path.push(Step::Key(key.to_string()));
        // The last entry setting the path is the one that counts.
        let setter = entries.iter().enumerate().rev().find(|(_, e)| {
            e.target.as_deref().and_then(parse_path).as_deref() == Some(&sibling_path[..])
        });
        match setter {
            Some((_, other)) if other.kind == entry.kind && other.name == entry.name => {
                siblings.push((companion, other.key.clone()));
            }
            Some((_, other)) => {
                unsure = Some(format!(
                    "its `{key}` comes from another valuesFrom entry ({} {}, key `{}`), not read with it",
                    other.kind, other.name, other.key
                ));
            }
            None => {}
        }
    }
    let has = |wanted: Part| {
        written.iter().any(|w| w.part == wanted) || siblings.iter().any(|(p, _)| *p == wanted)
    };
    let named_image = parent.last().is_some_and(|step| match step {
        Step::Key(key) => key.to_ascii_lowercase().ends_with("image"),
        Step::Index(_) => false,
    });
    let is_image = match own {
        Part::Image => true,
        Part::ImageTag => has(Part::Image),
        _ => named_image || has(Part::Repository) || own == Part::Repository && has(Part::Tag),
    };
    if !is_image {
        return None;
    }
    if let Some(document) = later.iter().find(|e| e.target.is_none()) {
        unsure = Some(format!(
            "the values document the release takes after it ({} {}, key `{}`) may set `{path}` again",
            document.kind, document.name, document.key
        ));
    }
    let documents = entries
        .iter()
        .find(|e| e.target.is_none())
        .map(|e| format!("{} {}, key `{}`", e.kind, e.name, e.key));
    let image_path = match own {
        Part::Image => path.to_string(),
        _ => path.rsplit_once('.').map_or("", |(p, _)| p).to_string(),
    };
    Some(Target {
        path: path.to_string(),
        part: own,
        image_path,
        written,
        siblings,
        unsure,
        documents,
    })
}

fn sets_value(node: &Node) -> bool {
    !node.is_null() && node.scalar_text().is_none_or(|t| !t.is_empty())
}

/// The image the value `value` (at a key of a ConfigMap or Secret whose
/// other keys are `data`) makes for the release, `None` for an empty value
/// (the chart's default then deploys, as when `spec.values` leaves it).
pub fn site(value: &Node, data: Option<&Node>, target: &Target, field: &str) -> Option<ImageSite> {
    let text = value.scalar_text().filter(|_| !value.is_null())?;
    if text.is_empty() {
        return None;
    }
    let mut parts = Parts::default();
    parts.add(target.part, text, Some(value));
    for written in &target.written {
        parts.add(written.part, &written.text, None);
    }
    for (part, key) in &target.siblings {
        let node = data.and_then(|d| d.get(key));
        if let Some(text) = node.and_then(|n| n.scalar_text()).filter(|t| !t.is_empty()) {
            parts.add(*part, text, node);
        }
    }
    let mut reference = Assembler::default();
    let mut missing = None;
    match target.part {
        Part::Image | Part::ImageTag => {
            let Some((image, node)) = parts.get(Part::Image) else {
                return Some(unsure_site(
                    value,
                    text,
                    field,
                    format!(
                        "`{}` tags an `image` that is not set beside it",
                        target.path
                    ),
                ));
            };
            parts.push(&mut reference, "", image, node);
            let name_end = image.rfind('/').map_or(0, |slash| slash + 1);
            let pinned = image.contains('@') || image[name_end..].contains(':');
            if !pinned {
                match parts.get(Part::ImageTag).or_else(|| parts.get(Part::Tag)) {
                    Some((tag, node)) => parts.push(&mut reference, ":", tag, node),
                    None => missing = Some(ChartSupplies::Tag),
                }
            }
        }
        _ => {
            let tag = parts.get(Part::Tag);
            let digest = parts.get(Part::Digest);
            match (parts.get(Part::Repository), parts.get(Part::Registry)) {
                (Some((repository, repository_node)), registry) => {
                    if let Some((registry, registry_node)) = registry {
                        let registry = registry.trim_end_matches('/');
                        parts.push(&mut reference, "", registry, registry_node);
                        parts.push(&mut reference, "/", repository, repository_node);
                    } else {
                        parts.push(&mut reference, "", repository, repository_node);
                    }
                    if tag.is_none() && digest.is_none() {
                        missing = Some(ChartSupplies::Tag);
                    }
                }
                (None, Some(_)) => {
                    return Some(unsure_site(
                        value,
                        text,
                        field,
                        format!(
                            "`{}` sets a registry for a repository the chart supplies, which charts combine in their own ways",
                            target.path
                        ),
                    ))
                }
                (None, None) => {
                    reference.text.push_str(CHART_REPOSITORY);
                    missing = Some(ChartSupplies::Repository);
                }
            }
            if let Some((tag, node)) = tag {
                parts.push(&mut reference, ":", tag, node);
            }
            if let Some((digest, node)) =
                digest.filter(|_| !tag.is_some_and(|(t, _)| t.contains('@')))
            {
                parts.push(&mut reference, "@", digest, node);
            }
        }
    }
    let mut related = Vec::new();
    for (_, _, node) in &parts.found {
        if let Some(node) = node.filter(|n| n.span != value.span) {
            related.push((node.span, "part of the same image".to_string()));
        }
    }
    let incomplete = match (&target.unsure, missing, &target.documents) {
        (Some(why), _, _) => Some(why.clone()),
        (None, Some(_), Some(document)) => Some(format!(
            "the release's values document ({document}) may set the rest of the image, or the chart does"
        )),
        (None, Some(ChartSupplies::Repository), None) => {
            Some("no repository here: the chart's default values supply it".to_string())
        }
        (None, Some(ChartSupplies::Tag), None) => {
            Some("no tag here: the chart's default values supply it".to_string())
        }
        (None, None, _) => None,
    };
    let chart_supplies = missing.filter(|_| target.unsure.is_none() && target.documents.is_none());
    Some(ImageSite {
        reference: Ok(reference.text),
        incomplete,
        chart_supplies,
        span: value.span,
        related,
        parts: reference.parts,
        field: field.to_string(),
        key: field.to_string(),
    })
}

/// A value that is part of an image fluxgate cannot compose for sure.
fn unsure_site(value: &Node, text: &str, field: &str, why: String) -> ImageSite {
    ImageSite {
        reference: Ok(text.to_string()),
        incomplete: Some(why),
        chart_supplies: None,
        span: value.span,
        related: Vec::new(),
        parts: Vec::new(),
        field: field.to_string(),
        key: field.to_string(),
    }
}

/// The parts of one image, the first found for each winning.
#[derive(Default)]
struct Parts<'a> {
    found: Vec<(Part, &'a str, Option<&'a Node>)>,
}

impl<'a> Parts<'a> {
    fn add(&mut self, part: Part, text: &'a str, node: Option<&'a Node>) {
        if self.get(part).is_none() {
            self.found.push((part, text, node));
        }
    }

    fn get(&self, part: Part) -> Option<(&'a str, Option<&'a Node>)> {
        self.found
            .iter()
            .find(|(p, _, _)| *p == part)
            .map(|(_, text, node)| (*text, *node))
    }

    /// Appends a part, remembering where it is written when that is in
    /// this file (parts from the release's file are labelled elsewhere).
    fn push(&self, reference: &mut Assembler, separator: &str, text: &str, node: Option<&Node>) {
        match node {
            Some(node) => reference.push(separator, text, node),
            None => {
                reference.text.push_str(separator);
                reference.text.push_str(text);
            }
        }
    }
}

/// Where the value lands in a holder's key, for messages and matching:
/// `data[tag] (targetPath image.tag)`.
pub fn field(prefix: &str, target: &Target) -> String {
    format!("{prefix}{FIELD_MARK}{})", target.path)
}

/// What [`field`] puts between the key and the path.
pub const FIELD_MARK: &str = " (targetPath ";

#[cfg(test)]
mod tests;
