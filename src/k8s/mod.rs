//! Typed views of Kubernetes, kustomize and Flux documents: what an object
//! is (its identity) and where its image references are written.

pub mod charts;
pub mod custom;
pub mod flux;
pub mod kustomize;
pub mod quantity;
pub mod workloads;

use crate::source::Span;
use crate::yaml::Node;
use std::ops::Range;

/// The identity of an object across both sides of a change: a renamed file
/// keeps its objects.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectId {
    /// The API group (`apps`, `helm.toolkit.fluxcd.io`); empty for the core group.
    pub group: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
}

impl ObjectId {
    /// The identity of a document, when it has `kind` and `metadata.name`.
    pub fn of(root: &Node) -> Option<ObjectId> {
        let kind = root.get("kind")?.as_str()?;
        let name = root.get_path(&["metadata", "name"])?.scalar_text()?;
        let api_version = root
            .get("apiVersion")
            .and_then(Node::as_str)
            .unwrap_or_default();
        Some(ObjectId {
            group: api_group(api_version).to_string(),
            kind: kind.to_string(),
            namespace: root
                .get_path(&["metadata", "namespace"])
                .and_then(Node::scalar_text)
                .filter(|ns| !ns.is_empty())
                .map(str::to_string),
            name: name.to_string(),
        })
    }

    /// `namespace/name`, or `name` when the manifest sets no namespace (it is
    /// then given by kustomize or Flux at apply time, so we do not guess one).
    pub fn display_name(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{ns}/{}", self.name),
            None => self.name.clone(),
        }
    }
}

/// The group of an `apiVersion`: `apps/v1` -> `apps`, `v1` -> `` (core).
pub fn api_group(api_version: &str) -> &str {
    api_version
        .rsplit_once('/')
        .map_or("", |(group, _version)| group)
}

/// Where one image reference is written in a document.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageSite {
    /// The reference as it will be deployed, assembled from its parts where
    /// it is split (`repository` + `tag`); `Err` says why there is none.
    pub reference: Result<String, String>,
    /// Why the reference is incomplete in the repository, if it is.
    pub incomplete: Option<String>,
    /// The part of a Helm values image the chart's own defaults supply.
    pub chart_supplies: Option<ChartSupplies>,
    /// The value a user edits to fix it: the tag or digest when present.
    pub span: Span,
    /// Other values that took part, e.g. the `repository` beside a `tag`.
    pub related: Vec<(Span, String)>,
    /// Which value each byte range of `reference` was copied from, so an
    /// error inside an assembled reference points at the value at fault.
    pub parts: Vec<(Range<usize>, Span)>,
    /// Where it is, for people: `spec.template.spec.containers[0].image`.
    pub field: String,
    /// Where it is, for matching base and head: stable under reordering
    /// (containers by name, not index).
    pub key: String,
}

/// What a Helm values image leaves to the chart's default values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChartSupplies {
    /// `image: {tag: "1.2"}`: the repository (and maybe the registry).
    Repository,
    /// `image: {repository: r}`: the tag.
    Tag,
}

/// Reads a `{registry, repository, tag, digest}` or kustomize
/// `{name, newName, newTag, digest}` shape: the text of an optional part,
/// ignoring nulls and empty strings (a chart's way of saying "default").
pub(crate) fn part<'a>(map: &'a Node, key: &str) -> Option<(&'a str, &'a Node)> {
    let node = map.get(key)?;
    let text = node.scalar_text().filter(|_| !node.is_null())?;
    (!text.is_empty()).then_some((text, node))
}

/// Builds a reference from values, remembering where each part came from.
#[derive(Default)]
pub(crate) struct Assembler {
    pub text: String,
    pub parts: Vec<(Range<usize>, Span)>,
}

impl Assembler {
    pub fn push(&mut self, separator: &str, value: &str, node: &Node) {
        self.text.push_str(separator);
        let start = self.text.len();
        self.text.push_str(value);
        self.parts.push((start..self.text.len(), node.span));
    }
}
