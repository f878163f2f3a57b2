//! What overlay resolution needs to know about the kustomizations a change
//! did not touch: which of them reach out of their own directory (`..`, so
//! they may include a changed file from anywhere) and whether any rewrites
//! images at all. Those facts depend only on a tree's content, so they are
//! kept by tree id in `<git dir>/fluxgate/` ([`store`]): a later run reads
//! only the trees its change altered (the path from the root to each
//! changed file) instead of every kustomization of the repository. A tree
//! id names its content, so a kept entry can be old but never wrong.

mod store;

use crate::git::{EntryKind, GitError, Repo};
use crate::k8s::kustomize::is_kustomization_file;
use git2::Oid;
use std::rc::Rc;
use store::Store;

/// Git itself refuses trees deeper than this (`core.maxTreeDepth`).
const MAX_TREE_DEPTH: usize = 4096;

/// The kustomization facts of a whole commit.
#[derive(Debug, Default)]
pub struct OverlayFacts {
    /// Some kustomization has an `images:` list.
    pub rewrites: bool,
    /// Directories whose kustomization file mentions `..`.
    pub reaching_out: Vec<String>,
}

/// The facts of one tree; paths relative to it ("" is the tree itself).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    pub rewrites: bool,
    pub reaching_out: Vec<String>,
}

/// How a run got its facts, for `--verbose` and the tests.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Work {
    pub trees_read: usize,
    pub kustomizations_read: usize,
    pub trees_known: usize,
    /// Why the index could not be kept for later runs.
    pub save_error: Option<String>,
}

pub fn facts(repo: &Repo, commit: Oid) -> Result<(OverlayFacts, Work), GitError> {
    let mut store = Store::open(repo.cache_dir());
    let mut work = Work::default();
    let root = repo.root_tree(commit)?;
    let summary = summarise(repo, root, &mut store, &mut work, 0)?;
    store.save();
    work.trees_known = store.len();
    work.save_error = store.save_error.take();
    Ok((
        OverlayFacts {
            rewrites: summary.rewrites,
            reaching_out: summary.reaching_out.clone(),
        },
        work,
    ))
}

fn summarise(
    repo: &Repo,
    tree: Oid,
    store: &mut Store,
    work: &mut Work,
    depth: usize,
) -> Result<Rc<Summary>, GitError> {
    if let Some(known) = store.get(tree) {
        return Ok(known);
    }
    if depth > MAX_TREE_DEPTH {
        return Err(GitError::Git(git2::Error::from_str(&format!(
            "tree {tree} is nested deeper than {MAX_TREE_DEPTH} directories"
        ))));
    }
    work.trees_read += 1;
    let mut summary = Summary::default();
    for entry in repo.tree_entries(tree)? {
        match entry.kind {
            EntryKind::Dir => {
                let child = summarise(repo, entry.id, store, work, depth + 1)?;
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
            }
            EntryKind::File if is_kustomization_file(&entry.name) => {
                work.kustomizations_read += 1;
                // Same cap as any file fluxgate parses: a larger one is
                // reported where it is loaded, and cannot be a layer.
                let facts = repo.scan_blob(entry.id, crate::load::MAX_FILE_BYTES, |bytes| {
                    (contains(bytes, b"images:"), contains(bytes, b".."))
                })?;
                let Some((rewrites, reaches_out)) = facts else {
                    continue;
                };
                summary.rewrites |= rewrites;
                if reaches_out && !summary.reaching_out.iter().any(String::is_empty) {
                    summary.reaching_out.insert(0, String::new());
                }
            }
            _ => {}
        }
    }
    Ok(store.insert(tree, summary))
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(haystack, needle).is_some()
}
