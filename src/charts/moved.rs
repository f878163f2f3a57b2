//! A HelmRepository whose address a change sets or alters moves every chart
//! taken from it, though no HelmRelease changed: the cluster fetches those
//! charts from the new address at the next reconcile. They are checked again
//! there, and a chart missing at the new address is reported at the URL that
//! moved it, with a label at the release that uses it.

use super::{ChartBase, ChartUse};
use crate::extract::Change;
use crate::finding::Location;
use crate::k8s::charts::{self, ChartSite, Source, Written};
use crate::k8s::ObjectId;
use crate::load::LoadedFile;
use std::collections::HashSet;

/// A HelmRepository the change points somewhere new, or removes.
#[derive(Debug, Clone)]
pub struct MovedRepository {
    pub id: ObjectId,
    /// Its `spec.url` at head: where findings about its charts go; `None`
    /// when the change removed it (they go to each release, whose source
    /// is then not found).
    pub url: Option<Location>,
}

/// Why a chart is checked though its release did not change.
#[derive(Debug, Clone)]
pub enum MovedBy {
    /// Its repository's new `spec.url`: findings go there.
    Url(Location),
    /// Its repository, which the change removed: the chart cannot be fetched.
    Removed(ObjectId),
}

/// What a HelmRepository's charts are fetched by: its URL and protocol.
pub fn address(url: &Written, oci: bool) -> String {
    format!("{}|{oci}", url.text)
}

/// The HelmRepositories of a changed head file whose address differs from
/// the base side's, or that the base side lacks (a repository moved to this
/// file, or one a release already named and now finds).
pub fn moved_repositories(head: &LoadedFile, base: &ChartBase) -> Vec<MovedRepository> {
    let mut moved = Vec::new();
    for doc in &head.parsed.documents {
        let Some(id) = ObjectId::of(&doc.root) else {
            continue;
        };
        let Some(Source::HelmRepository { url, oci }) = charts::source_of(&doc.root, &id) else {
            continue;
        };
        if base.repositories.get(&id) != Some(&address(&url, oci)) {
            moved.push(MovedRepository {
                url: Some(Location::new(&head.source, url.span)),
                id,
            });
        }
    }
    moved
}

/// The HelmRepositories of the changed files at the base that none of them
/// defines at head (`head`: the ids they define): removed by the change,
/// so a release still using one fails to fetch its chart.
pub fn removed_repositories(base: &ChartBase, head: &HashSet<ObjectId>) -> Vec<MovedRepository> {
    let mut removed: Vec<MovedRepository> = base
        .repositories
        .keys()
        .filter(|id| !head.contains(*id))
        .map(|id| MovedRepository {
            id: id.clone(),
            url: None,
        })
        .collect();
    removed.sort_by(|a, b| a.id.cmp(&b.id));
    removed
}

/// Whether a file can take a chart from one of `moved`: a cheap test before
/// parsing a file the change did not touch.
pub fn may_use(bytes: &[u8], moved: &[MovedRepository]) -> bool {
    let text = String::from_utf8_lossy(bytes);
    text.contains("HelmRepository") && moved.iter().any(|m| text.contains(m.id.name.as_str()))
}

/// The chart templates of `file` (HelmReleases, HelmCharts) that take their
/// chart from one of `moved`, as uses to check again.
pub fn uses_of(file: &LoadedFile, moved: &[MovedRepository]) -> Vec<ChartUse> {
    let mut uses = Vec::new();
    for (id, site) in super::chart_sites(file) {
        let ChartSite::Template { source, .. } = &site else {
            continue;
        };
        let wanted = source.namespace.as_deref().or(id.namespace.as_deref());
        let from = moved.iter().find(|m| {
            m.id.kind == source.kind
                && m.id.name == source.name
                && (wanted.is_none()
                    || m.id.namespace.is_none()
                    || m.id.namespace.as_deref() == wanted)
        });
        if let Some(from) = from {
            uses.push(ChartUse {
                source: file.source.clone(),
                id,
                site,
                change: Change::Unchanged,
                moved_by: Some(match &from.url {
                    Some(url) => MovedBy::Url(url.clone()),
                    None => MovedBy::Removed(from.id.clone()),
                }),
            });
        }
    }
    uses
}
