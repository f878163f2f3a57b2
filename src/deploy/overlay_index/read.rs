//! The reading half of an index update: every tree the store does not know
//! (listed level by level) and the files in them that hold facts, each
//! level and each kind of file read as one batch, on every core.

use super::flux_paths::flux_paths;
use super::store::Store;
use super::{contains, MAX_TREE_DEPTH};
use crate::git::{is_yaml, EntryKind, GitError, Repo, TreeEntry};
use crate::k8s::kustomize::is_kustomization_file;
use git2::Oid;
use std::collections::{HashMap, HashSet};

/// What a run read: the trees the store does not know, and the facts of
/// their files (`None`: larger than any file fluxgate parses).
#[derive(Default)]
pub(super) struct Read {
    pub trees: HashMap<Oid, Vec<TreeEntry>>,
    /// A kustomization file's: has an `images:` list; mentions `..`.
    pub kustomizations: HashMap<Oid, Option<(bool, bool)>>,
    /// Another YAML file's: the directories its Flux Kustomizations build.
    pub manifests: HashMap<Oid, Option<Vec<String>>>,
}

/// A Helm chart's directory: its files are templates, which Flux does not
/// apply (the chart's own subdirectories are summarised as any tree).
pub(super) const CHART_FILE: &str = "Chart.yaml";

pub(super) fn unknown_below(repo: &Repo, root: Oid, store: &Store) -> Result<Read, GitError> {
    let mut read = Read::default();
    let mut level = Vec::new();
    if store.get(root).is_none() {
        level.push(root);
    }
    let mut seen: HashSet<Oid> = level.iter().copied().collect();
    for _depth in 0..=MAX_TREE_DEPTH {
        if level.is_empty() {
            break;
        }
        let mut next = Vec::new();
        for (tree, entries) in level.iter().zip(repo.tree_entries_of(&level, wanted)?) {
            next.extend(entries.iter().filter_map(|entry| {
                (entry.kind == EntryKind::Dir
                    && store.get(entry.id).is_none()
                    && seen.insert(entry.id))
                .then_some(entry.id)
            }));
            read.trees.insert(*tree, entries);
        }
        level = next;
    }
    if !level.is_empty() {
        return Err(super::too_deep(root));
    }
    let (kustomizations, manifests) = files_to_scan(&read.trees);
    // Same cap as any file fluxgate parses: a larger one is reported where
    // it is loaded, and cannot be a layer.
    let limit = crate::load::MAX_FILE_BYTES;
    let facts = repo.scan_blobs(&kustomizations, limit, |bytes| {
        (contains(bytes, b"images:"), contains(bytes, b".."))
    })?;
    read.kustomizations = kustomizations.into_iter().zip(facts).collect();
    let facts = repo.scan_blobs(&manifests, limit, flux_paths)?;
    read.manifests = manifests.into_iter().zip(facts).collect();
    Ok(read)
}

/// What a summary needs of a tree: its directories, kustomization files,
/// other YAML files, and whether it is a Helm chart.
fn wanted(name: &[u8], kind: EntryKind) -> bool {
    match kind {
        EntryKind::Dir => true,
        EntryKind::File => std::str::from_utf8(name)
            .is_ok_and(|name| name == CHART_FILE || is_yaml(name) || is_kustomization_file(name)),
        EntryKind::Other => false,
    }
}

/// The distinct blobs of kustomization files, and of the other YAML files
/// outside Helm charts.
fn files_to_scan(trees: &HashMap<Oid, Vec<TreeEntry>>) -> (Vec<Oid>, Vec<Oid>) {
    let mut kustomizations = Vec::new();
    let mut manifests = Vec::new();
    for entries in trees.values() {
        let chart = is_chart(entries);
        for entry in entries.iter().filter(|e| e.kind == EntryKind::File) {
            if is_kustomization_file(&entry.name) {
                kustomizations.push(entry.id);
            } else if !chart && is_yaml(&entry.name) {
                manifests.push(entry.id);
            }
        }
    }
    for ids in [&mut kustomizations, &mut manifests] {
        ids.sort_unstable();
        ids.dedup();
    }
    (kustomizations, manifests)
}

pub(super) fn is_chart(entries: &[TreeEntry]) -> bool {
    entries
        .iter()
        .any(|e| e.kind == EntryKind::File && e.name == CHART_FILE)
}
