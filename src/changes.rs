//! Pairs each head document with the same object at the base (by API group,
//! kind, namespace and name, so a renamed or moved file is not "added"), and
//! lists every image reference with how the change touched it.

use crate::extract::{self, Change, DocumentImages};
use crate::finding::Location;
use crate::k8s::charts::{chart_site, ChartSite};
use crate::k8s::flux::VALUES_FIELD;
use crate::k8s::{ImageSite, ObjectId};
use crate::load::LoadedFile;
use crate::source::SourceText;
use crate::values_from::{self, ValuesRole};
use std::collections::HashMap;
use std::sync::Arc;

/// One image reference in the head tree and how the change touched it.
#[derive(Clone)]
pub struct ImageUse {
    pub source: Arc<SourceText>,
    pub kind: String,
    pub name: String,
    pub site: ImageSite,
    pub change: Change,
    /// Other places that made the reference what it is (an overlay's
    /// `images:` entry, a variable's value).
    pub related: Vec<(Location, String)>,
    /// Where a finding belongs when that is not the reference itself: the
    /// changed variable value that changed an untouched reference.
    pub blame: Option<Location>,
    /// For Helm values a release takes with `valuesFrom`: the file that
    /// defines the release (its post-renderers apply to them).
    pub release_file: Option<String>,
    /// Where the image sits in its release's values once the release's
    /// `valuesFrom` entries are weighed (a value set with `targetPath`, an
    /// image merged across values documents): the chart's defaults
    /// complete it there, with no further doubt about `valuesFrom`.
    pub values_path: Option<String>,
}

impl ImageUse {
    /// For a Helm values image: the file that defines its release and the
    /// release's name, which together find the release again.
    pub fn release_key(&self) -> (String, String) {
        let file = self
            .release_file
            .clone()
            .unwrap_or_else(|| self.source.path.clone());
        (file, self.name.clone())
    }
}

type SiteMap = HashMap<String, Result<String, String>>;

/// The base side, indexed for matching.
#[derive(Default)]
pub struct BaseIndex {
    /// Where images are written beyond the built-in kinds (configuration).
    pub fields: crate::k8s::custom::ImageFields,
    by_object: HashMap<ObjectId, SiteMap>,
    /// Documents without an identity (kustomization.yaml), by path and index.
    by_position: HashMap<(String, usize), SiteMap>,
    /// Helm values taken with `valuesFrom`, by (head) path and release.
    by_values: HashMap<(String, String), SiteMap>,
    /// The chart each HelmRelease installs (its fingerprint).
    charts: HashMap<ObjectId, String>,
}

impl BaseIndex {
    pub fn add(&mut self, file: &LoadedFile, head_path: Option<&str>) {
        for doc in &file.parsed.documents {
            if extract::is_sops_encrypted(&doc.root) {
                continue;
            }
            let images = extract::document_images(&file.source.path, &doc.root, &self.fields);
            let sites = extract::keyed(&images.sites);
            match ObjectId::of(&doc.root) {
                Some(id) => {
                    if let Some(chart) = chart_site(&doc.root, &id) {
                        self.charts.insert(id.clone(), chart.fingerprint());
                    }
                    self.by_object.insert(id, sites);
                }
                None => {
                    // Index under the head path so a renamed kustomization.yaml still matches.
                    let path = head_path.unwrap_or(&file.source.path).to_string();
                    self.by_position.insert((path, doc.index), sites);
                }
            }
        }
    }

    /// Indexes the Helm values of a base file that the head file at
    /// `head_path` holds for HelmReleases (`roles`, found at head).
    pub fn add_values(&mut self, file: &LoadedFile, head_path: &str, roles: &[ValuesRole]) {
        for role in roles {
            let sites = values_from::image_sites(file, role);
            self.by_values.insert(
                (head_path.to_string(), role_key(role)),
                extract::keyed(&sites),
            );
        }
    }

    fn lookup(&self, path: &str, index: usize, id: Option<&ObjectId>) -> Option<&SiteMap> {
        match id {
            Some(id) => self.by_object.get(id),
            None => self.by_position.get(&(path.to_string(), index)),
        }
    }
}

/// Every image reference of a head file with its change; with `all`, the
/// unchanged ones too. `base` is `None` for a file the change did not touch.
pub fn image_uses(
    head: &LoadedFile,
    base: Option<&BaseIndex>,
    all: bool,
    fields: &crate::k8s::custom::ImageFields,
    roles: &[ValuesRole],
) -> Vec<ImageUse> {
    let mut uses = Vec::new();
    let mut add = |kind: &str,
                   name: &str,
                   role: Option<&ValuesRole>,
                   sites: Vec<ImageSite>,
                   before: Option<Option<&SiteMap>>,
                   chart_moved: Option<&(Location, String)>| {
        for site in sites {
            let mut change = match before {
                Some(before) => extract::change_of(&site, before),
                None => Change::Unchanged,
            };
            let mut related = role.map(written_elsewhere).unwrap_or_default();
            // Only parts the chart supplies change with it: an image
            // written whole deployed before as it does now.
            let from_chart = site.chart_supplies.is_some() && site.field.starts_with(VALUES_FIELD);
            if let Some(moved) = chart_moved.filter(|_| from_chart) {
                if change == Change::Unchanged {
                    change = Change::Modified;
                    related.push(moved.clone());
                }
            }
            if all || change != Change::Unchanged {
                uses.push(ImageUse {
                    source: head.source.clone(),
                    kind: kind.to_string(),
                    name: name.to_string(),
                    site,
                    change,
                    related,
                    blame: None,
                    release_file: role.map(|r| r.release_file.clone()),
                    values_path: role
                        .and_then(|r| r.target.as_ref())
                        .map(|t| t.image_path.clone()),
                });
            }
        }
    };
    for doc in &head.parsed.documents {
        if extract::is_sops_encrypted(&doc.root) {
            continue;
        }
        let DocumentImages { kind, name, sites } =
            extract::document_images(&head.source.path, &doc.root, fields);
        let id = ObjectId::of(&doc.root);
        let before = base.map(|b| b.lookup(&head.source.path, doc.index, id.as_ref()));
        // A release whose chart changes deploys the values images its
        // chart completes anew (a repository that moved between chart
        // versions).
        let moved = base
            .zip(id.as_ref())
            .and_then(|(base, id)| chart_moved(base, &doc.root, id, &head.source));
        add(&kind, &name, None, sites, before, moved.as_ref());
    }
    for role in roles {
        let before = base.map(|b| b.by_values.get(&(head.source.path.clone(), role_key(role))));
        add(
            "HelmRelease",
            &role.release,
            Some(role),
            values_from::image_sites(head, role),
            before,
            None,
        );
    }
    uses
}

/// Where a release's chart changes from the base, with a label saying so:
/// its values images then deploy with the new chart.
fn chart_moved(
    base: &BaseIndex,
    root: &crate::yaml::Node,
    id: &ObjectId,
    source: &Arc<SourceText>,
) -> Option<(Location, String)> {
    let before = base.charts.get(id)?;
    let chart = chart_site(root, id)?;
    if &chart.fingerprint() == before {
        return None;
    }
    let span = match &chart {
        ChartSite::Template { chart, version, .. } => version.as_ref().unwrap_or(chart).span,
        _ => return None,
    };
    Some((
        Location::new(source, span),
        "the release's chart changes here: the new chart's defaults complete this image"
            .to_string(),
    ))
}

/// Which values of a file a role means, for matching base and head.
fn role_key(role: &ValuesRole) -> String {
    let target = role.target.as_ref().map(|t| &t.path);
    format!("{}|{:?}|{target:?}", role.release, role.holder)
}

/// The parts of an image the release writes itself, when a value an entry
/// with `targetPath` sets completes it: labels in the release's file.
pub fn written_elsewhere(role: &ValuesRole) -> Vec<(Location, String)> {
    role.target
        .iter()
        .flat_map(|target| &target.written)
        .map(|written| {
            (
                written.at.clone(),
                format!(
                    "`{}` of the same image, in HelmRelease {}'s `spec.values`",
                    written.text, role.release
                ),
            )
        })
        .collect()
}
