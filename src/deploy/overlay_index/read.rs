//! The reading half of an index update: every tree the store does not know
//! (listed level by level) and the files in them that hold facts, each
//! level and each kind of file read as one batch, on every core. A file
//! that stands unchanged in the same tree of the previous commit, whose
//! summary the store has, is not read: that summary lends its facts.

use super::flux_paths::flux_paths;
use super::store::Store;
use super::{contains, Summary, MAX_TREE_DEPTH};
use crate::git::{is_yaml, EntryKind, GitError, Repo, TreeEntry};
use crate::k8s::kustomize::is_kustomization_file;
use git2::Oid;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

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

/// A tree at the previous commit, at the same path as an unknown one: its
/// summary and entries.
type Lender = (Rc<Summary>, Vec<TreeEntry>);

/// Reads what the store does not know below `root`; `previous` is the root
/// of the commit the change started from, whose trees lend their facts.
pub(super) fn unknown_below(
    repo: &Repo,
    root: Oid,
    previous: Option<Oid>,
    store: &Store,
) -> Result<Read, GitError> {
    let mut read = Read::default();
    let mut lenders: HashMap<Oid, Lender> = HashMap::new();
    // Each unknown tree with the tree at its path in the previous commit.
    let mut level: Vec<(Oid, Option<Oid>)> = Vec::new();
    if store.get(root).is_none() {
        // With nothing kept (a fresh clone) nothing can be lent: the
        // previous trees are not even listed.
        level.push((root, previous.filter(|_| !store.is_empty())));
    }
    let mut seen: HashSet<Oid> = level.iter().map(|(tree, _)| *tree).collect();
    for _depth in 0..=MAX_TREE_DEPTH {
        if level.is_empty() {
            break;
        }
        let trees: Vec<Oid> = level.iter().map(|(tree, _)| *tree).collect();
        // The previous trees are listed (trees, not files) to pair their
        // subtrees by name; only those whose facts are kept can lend them.
        let mut before: Vec<Oid> = level.iter().filter_map(|(_, previous)| *previous).collect();
        before.sort_unstable();
        before.dedup();
        let before: HashMap<Oid, Vec<TreeEntry>> = before
            .iter()
            .copied()
            .zip(repo.tree_entries_of(&before, wanted)?)
            .collect();
        let mut next = Vec::new();
        for ((tree, previous), entries) in level.iter().zip(repo.tree_entries_of(&trees, wanted)?) {
            let old = previous.and_then(|p| before.get(&p));
            for entry in entries.iter().filter(|e| e.kind == EntryKind::Dir) {
                if store.get(entry.id).is_none() && seen.insert(entry.id) {
                    let was = old.and_then(|old| {
                        old.iter()
                            .find(|o| o.kind == EntryKind::Dir && o.name == entry.name)
                            .map(|o| o.id)
                    });
                    next.push((entry.id, was));
                }
            }
            if let (Some(summary), Some(old)) = (previous.and_then(|p| store.get(p)), old) {
                lenders.insert(*tree, (summary, old.clone()));
            }
            read.trees.insert(*tree, entries);
        }
        level = next;
    }
    if !level.is_empty() {
        return Err(super::too_deep(root));
    }
    let lent = lent_facts(&read.trees, &lenders);
    let (kustomizations, manifests) = files_to_scan(&read.trees, &lent);
    // Same cap as any file fluxgate parses: a larger one is reported where
    // it is loaded, and cannot be a layer.
    let limit = crate::load::MAX_FILE_BYTES;
    let facts = repo.scan_blobs(&kustomizations, limit, |bytes| {
        (contains(bytes, b"images:"), contains(bytes, b".."))
    })?;
    read.kustomizations = kustomizations.into_iter().zip(facts).collect();
    read.kustomizations.extend(lent.kustomizations);
    let facts = repo.scan_blobs(&manifests, limit, flux_paths)?;
    read.manifests = manifests.into_iter().zip(facts).collect();
    read.manifests.extend(lent.manifests);
    Ok(read)
}

/// The facts of files that stand unchanged where their previous tree's
/// summary knows them: a manifest's Flux Kustomizations are listed by file
/// name; a kustomization's are the tree's own, when it is the tree's only
/// one. Facts depend only on a file's content, so they hold for its blob
/// wherever else it stands.
#[derive(Default)]
struct Lent {
    kustomizations: HashMap<Oid, Option<(bool, bool)>>,
    manifests: HashMap<Oid, Option<Vec<String>>>,
}

fn lent_facts(trees: &HashMap<Oid, Vec<TreeEntry>>, lenders: &HashMap<Oid, Lender>) -> Lent {
    let mut lent = Lent::default();
    for (tree, entries) in trees {
        let Some((summary, old)) = lenders.get(tree) else {
            continue;
        };
        let chart = is_chart(entries);
        // A chart's files are not summarised: nothing to lend across.
        if chart || is_chart(old) {
            continue;
        }
        let kustomizations = old
            .iter()
            .filter(|o| o.kind == EntryKind::File && is_kustomization_file(&o.name))
            .count();
        for entry in entries.iter().filter(|e| e.kind == EntryKind::File) {
            let unchanged = old
                .iter()
                .any(|o| o.kind == EntryKind::File && o.name == entry.name && o.id == entry.id);
            if !unchanged {
                continue;
            }
            if is_kustomization_file(&entry.name) {
                if kustomizations == 1 {
                    let reaches_out = summary.reaching_out.iter().any(String::is_empty);
                    lent.kustomizations
                        .insert(entry.id, Some((summary.own_rewrites, reaches_out)));
                }
            } else if is_yaml(&entry.name) {
                let builds = summary
                    .flux
                    .iter()
                    .filter(|at| at.file == entry.name)
                    .map(|at| at.builds.clone())
                    .collect();
                lent.manifests.insert(entry.id, Some(builds));
            }
        }
    }
    lent
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
/// outside Helm charts, whose facts were not lent.
fn files_to_scan(trees: &HashMap<Oid, Vec<TreeEntry>>, lent: &Lent) -> (Vec<Oid>, Vec<Oid>) {
    let mut kustomizations = Vec::new();
    let mut manifests = Vec::new();
    for entries in trees.values() {
        let chart = is_chart(entries);
        for entry in entries.iter().filter(|e| e.kind == EntryKind::File) {
            if is_kustomization_file(&entry.name) {
                if !lent.kustomizations.contains_key(&entry.id) {
                    kustomizations.push(entry.id);
                }
            } else if !chart && is_yaml(&entry.name) && !lent.manifests.contains_key(&entry.id) {
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
