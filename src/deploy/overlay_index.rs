//! What overlay resolution needs to know about the files a change did not
//! touch: which kustomizations reach out of their own directory (`..`, so
//! they may include a changed file from anywhere), whether any rewrites
//! images at all, and where the Flux Kustomizations are and what each
//! builds (their `spec.images` and variables apply to every file below).
//! Those facts depend only on a tree's content, so they are kept by tree id
//! in `<git dir>/fluxgate/` ([`store`]): a later run reads only the trees
//! its change altered (the path from the root to each changed file) and the
//! changed files in them (the others lend their facts from the same tree at
//! the base, when it is kept), instead of every file of the repository. A
//! tree id names its content, so a kept entry can be old but never wrong.

mod flux_paths;
mod read;
mod store;

use crate::git::{is_yaml, EntryKind, GitError, Repo};
use crate::k8s::kustomize::is_kustomization_file;
use git2::Oid;
use read::Read;
use std::rc::Rc;
use store::Store;

/// Git itself refuses trees deeper than this (`core.maxTreeDepth`).
const MAX_TREE_DEPTH: usize = 4096;

/// The facts of a whole commit.
#[derive(Debug, Default)]
pub struct OverlayFacts {
    /// Some kustomization has an `images:` list.
    pub rewrites: bool,
    /// Directories whose kustomization file mentions `..`.
    pub reaching_out: Vec<String>,
    /// Every Flux Kustomization (outside Helm charts), by file.
    pub flux: Vec<FluxAt>,
}

/// The facts of one tree; paths relative to it ("" is the tree itself).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    pub rewrites: bool,
    /// This tree's own kustomization file has an `images:` list (what a
    /// later run needs to reuse the file's facts without reading it).
    pub own_rewrites: bool,
    pub reaching_out: Vec<String>,
    /// Flux Kustomizations in this tree's own files.
    pub flux: Vec<FluxAt>,
    /// Subtrees with Flux Kustomizations below: name and tree id (their
    /// summaries are kept too; listing them here instead of copying their
    /// entries keeps the index in proportion to the tree).
    pub flux_below: Vec<(String, Oid)>,
}

/// A Flux Kustomization: the directory it builds (its `spec.path`, from
/// the repository root) and the file that defines it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FluxAt {
    pub builds: String,
    pub file: String,
}

/// The facts of `commit`, and why the index could not be kept for later
/// runs, if it could not. `previous` (the base of the change) lends the
/// facts of files the change did not touch: a changed tree's unchanged
/// files are known from the same tree at `previous`, when the store has it.
pub fn facts(
    repo: &Repo,
    commit: Oid,
    previous: Option<Oid>,
) -> Result<(OverlayFacts, Option<String>), GitError> {
    let mut store = Store::open(repo.cache_dir());
    let root = repo.root_tree(commit)?;
    let summary = match store.get(root) {
        Some(known) => known,
        None => {
            let previous = previous.map(|c| repo.root_tree(c)).transpose()?;
            let read = read::unknown_below(repo, root, previous, &store)?;
            summarise(root, &read, &mut store, 0)?
        }
    };
    let mut flux = Vec::new();
    flux_below(repo, &summary, "", &mut store, &mut flux)?;
    store.save();
    Ok((
        OverlayFacts {
            rewrites: summary.rewrites,
            reaching_out: summary.reaching_out.clone(),
            flux,
        },
        store.save_error.take(),
    ))
}

/// The summary of `tree`: kept, or read (everything below it the store
/// does not know, at once) and then summarised.
fn summary_of(repo: &Repo, tree: Oid, store: &mut Store) -> Result<Rc<Summary>, GitError> {
    if let Some(known) = store.get(tree) {
        return Ok(known);
    }
    let read = read::unknown_below(repo, tree, None, store)?;
    summarise(tree, &read, store, 0)
}

/// A tree's summary from its children's (kept, or summarised first) and
/// the facts of its own files; no reading.
fn summarise(
    tree: Oid,
    read: &Read,
    store: &mut Store,
    depth: usize,
) -> Result<Rc<Summary>, GitError> {
    if let Some(known) = store.get(tree) {
        return Ok(known);
    }
    if depth > MAX_TREE_DEPTH {
        return Err(too_deep(tree));
    }
    let entries = read.trees.get(&tree).ok_or_else(|| {
        GitError::Git(git2::Error::from_str(&format!(
            "tree {tree} was not read for the overlay index"
        )))
    })?;
    let chart = read::is_chart(entries);
    let mut summary = Summary::default();
    for entry in entries {
        match entry.kind {
            EntryKind::Dir => {
                let child = summarise(entry.id, read, store, depth + 1)?;
                summary.rewrites |= child.rewrites;
                summary
                    .reaching_out
                    .extend(child.reaching_out.iter().map(|dir| {
                        if dir.is_empty() {
                            entry.name.clone()
                        } else {
                            format!("{}/{dir}", entry.name)
                        }
                    }));
                let flux_inside = !child.flux.is_empty() || !child.flux_below.is_empty();
                if flux_inside && !chart {
                    summary.flux_below.push((entry.name.clone(), entry.id));
                }
            }
            EntryKind::File if is_kustomization_file(&entry.name) => {
                let Some(Some((rewrites, reaches_out))) = read.kustomizations.get(&entry.id) else {
                    continue;
                };
                summary.rewrites |= rewrites;
                summary.own_rewrites |= rewrites;
                if *reaches_out && !summary.reaching_out.iter().any(String::is_empty) {
                    summary.reaching_out.insert(0, String::new());
                }
            }
            EntryKind::File if !chart && is_yaml(&entry.name) => {
                let Some(Some(builds)) = read.manifests.get(&entry.id) else {
                    continue;
                };
                summary.flux.extend(builds.iter().map(|dir| FluxAt {
                    builds: dir.clone(),
                    file: entry.name.clone(),
                }));
            }
            _ => {}
        }
    }
    Ok(store.insert(tree, summary))
}

fn too_deep(tree: Oid) -> GitError {
    GitError::Git(git2::Error::from_str(&format!(
        "tree {tree} is nested deeper than {MAX_TREE_DEPTH} directories"
    )))
}

/// Every Flux Kustomization of `summary`'s tree (at `prefix`), with file
/// paths from the repository root. A subtree's summary missing from the
/// store (it started over) is built again. Git trees are finite and
/// acyclic, and each level is a subdirectory: the recursion ends.
fn flux_below(
    repo: &Repo,
    summary: &Summary,
    prefix: &str,
    store: &mut Store,
    out: &mut Vec<FluxAt>,
) -> Result<(), GitError> {
    let path = |name: &str| {
        if prefix.is_empty() {
            name.to_string()
        } else {
            format!("{prefix}/{name}")
        }
    };
    out.extend(summary.flux.iter().map(|at| FluxAt {
        builds: at.builds.clone(),
        file: path(&at.file),
    }));
    for (name, tree) in &summary.flux_below {
        let child = summary_of(repo, *tree, store)?;
        flux_below(repo, &child, &path(name), store, out)?;
    }
    Ok(())
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(haystack, needle).is_some()
}
