//! Many objects read at once, on every core. The first overlay index of a
//! fresh clone reads every tree and every kustomization: thousands of
//! objects of a few hundred bytes, each costing one inflate, which is most
//! of a one-file pull request's time there. libgit2 reads under a
//! process-wide lock, so threads only help with the pack reader.

use super::packs::{Packed, Packs};
use super::{malformed_tree, parse_tree_keeping, EntryKind, GitError, Repo, TreeEntry};
use git2::{ObjectType, Oid};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Fewer objects than this per thread: a thread costs more than it saves.
const PER_THREAD: usize = 128;
/// Objects a thread takes at a time.
const PER_TAKE: usize = 16;

enum Outcome<T> {
    Done(T),
    TooLarge,
    /// Not in a pack, or not of the kind asked for: libgit2 reads it (and
    /// says what is wrong).
    Elsewhere,
}

impl Repo {
    /// The entries of each tree (those `keep` wants, by name and kind), in
    /// the order given.
    pub fn tree_entries_of(
        &self,
        trees: &[Oid],
        keep: impl Fn(&[u8], EntryKind) -> bool + Sync,
    ) -> Result<Vec<Vec<TreeEntry>>, GitError> {
        let parse = |bytes: &[u8]| parse_tree_keeping(bytes, &keep);
        let outcomes = self.read_many(trees, ObjectType::Tree, usize::MAX, parse);
        trees
            .iter()
            .zip(outcomes)
            .map(|(&tree, outcome)| match outcome {
                Outcome::Done(parsed) => {
                    parsed.ok_or_else(|| malformed_tree(tree, "malformed entries"))
                }
                Outcome::TooLarge | Outcome::Elsewhere => self.tree_entries_keeping(tree, &keep),
            })
            .collect()
    }

    /// `scan` of each blob in the order given; `None` for a blob larger
    /// than `limit`.
    pub fn scan_blobs<T: Send>(
        &self,
        blobs: &[Oid],
        limit: usize,
        scan: impl Fn(&[u8]) -> T + Sync,
    ) -> Result<Vec<Option<T>>, GitError> {
        let outcomes = self.read_many(blobs, ObjectType::Blob, limit, &scan);
        blobs
            .iter()
            .zip(outcomes)
            .map(|(&blob, outcome)| match outcome {
                Outcome::Done(value) => Ok(Some(value)),
                Outcome::TooLarge => Ok(None),
                Outcome::Elsewhere => self.scan_blob(blob, limit, &scan),
            })
            .collect()
    }

    /// `use_bytes` of each object the pack reader gives, on up to one
    /// thread per core (each with its own reader over the shared packs);
    /// results in the order of `ids`.
    fn read_many<T: Send>(
        &self,
        ids: &[Oid],
        kind: ObjectType,
        limit: usize,
        use_bytes: impl Fn(&[u8]) -> T + Sync,
    ) -> Vec<Outcome<T>> {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let threads = cores.min(ids.len() / PER_THREAD).max(1);
        let mut packs = self.packs.borrow_mut();
        let main = packs.get_or_insert_with(|| self.open_packs());
        let read = |packs: &mut Packs, id: Oid, at: Option<(usize, usize)>| match at
            .and_then(|at| packs.read_at(id, at, limit))
        {
            Some(Packed::Object(found, bytes)) if found == kind => Outcome::Done(use_bytes(&bytes)),
            Some(Packed::TooLarge(_)) => Outcome::TooLarge,
            _ => Outcome::Elsewhere,
        };
        let read = &read;
        // In pack order: bases come before their deltas, and the pages of
        // the pack are touched front to back.
        let mut order: Vec<(Option<(usize, usize)>, usize)> = ids
            .iter()
            .enumerate()
            .map(|(at, &id)| (main.locate(id), at))
            .collect();
        order.sort_unstable();
        let read_part = |packs: &mut Packs, part: &[(Option<(usize, usize)>, usize)]| {
            part.iter()
                .map(|&(location, at)| (at, read(packs, ids[at], location)))
                .collect::<Vec<_>>()
        };
        let done: Vec<(usize, Outcome<T>)> = if threads == 1 {
            read_part(main, &order)
        } else {
            // Threads take the next few objects in pack order as they go:
            // as local as one sequential pass, and no thread idles while
            // another still has a long stretch of large files.
            let next = AtomicUsize::new(0);
            let take = |packs: &mut Packs| {
                let mut done = Vec::new();
                loop {
                    let start = next.fetch_add(PER_TAKE, Ordering::Relaxed);
                    let Some(part) = order.get(start..(start + PER_TAKE).min(order.len())) else {
                        return done;
                    };
                    done.extend(read_part(packs, part));
                }
            };
            let take = &take;
            std::thread::scope(|scope| {
                let workers: Vec<_> = (1..threads)
                    .map(|_| {
                        let mut packs = main.fork();
                        scope.spawn(move || take(&mut packs))
                    })
                    .collect();
                let mut done = take(main);
                for worker in workers {
                    match worker.join() {
                        Ok(part) => done.extend(part),
                        Err(panic) => std::panic::resume_unwind(panic),
                    }
                }
                done
            })
        };
        let mut outcomes: Vec<Option<Outcome<T>>> = (0..ids.len()).map(|_| None).collect();
        for (at, outcome) in done {
            outcomes[at] = Some(outcome);
        }
        outcomes
            .into_iter()
            .map(|outcome| outcome.unwrap_or(Outcome::Elsewhere))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::test_git::git;

    /// Enough objects for every core, packed (and a few left loose): the
    /// batch reads give what one-by-one libgit2 reads give, in order.
    #[test]
    fn batches_read_on_every_core_match_libgit2() {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path();
        git(root, &["init", "-q", "-b", "main"]);
        for app in 0..700 {
            let app_dir = root.join(format!("apps/app-{app}"));
            std::fs::create_dir_all(&app_dir).expect("mkdir");
            std::fs::write(app_dir.join("deploy.yaml"), format!("name: app-{app}\n"))
                .expect("write");
        }
        git(root, &["add", "-A"]);
        git(root, &["commit", "-q", "-m", "apps"]);
        git(root, &["repack", "-a", "-d", "-q"]);
        std::fs::write(root.join("apps/app-3/deploy.yaml"), "loose: yes\n").expect("write");
        git(root, &["commit", "-q", "-a", "-m", "one loose"]);

        let listing = git(root, &["ls-tree", "-r", "-t", "HEAD"]);
        let ids = |kind: &str| -> Vec<Oid> {
            listing
                .lines()
                .filter(|line| line.split_whitespace().nth(1) == Some(kind))
                .map(|line| Oid::from_str(line.split_whitespace().nth(2).expect("id")).expect("id"))
                .collect()
        };
        let (trees, blobs) = (ids("tree"), ids("blob"));
        assert!(trees.len() > 2 * PER_THREAD && blobs.len() > 2 * PER_THREAD);

        let repo = Repo::open(root).expect("open");
        let libgit2 = git2::Repository::open(root).expect("open");
        let odb = libgit2.odb().expect("odb");
        let scanned = repo
            .scan_blobs(&blobs, usize::MAX, <[u8]>::to_vec)
            .expect("read");
        for (id, bytes) in blobs.iter().zip(scanned) {
            assert_eq!(bytes.as_deref(), Some(odb.read(*id).expect("read").data()));
        }
        let listed = repo.tree_entries_of(&trees, |_, _| true).expect("read");
        for (id, entries) in trees.iter().zip(listed) {
            assert_eq!(entries, repo.tree_entries(*id).expect("read"), "{id}");
        }
        // Over the limit: `None`, without reading it.
        let small = repo.scan_blobs(&blobs, 3, <[u8]>::len).expect("read");
        assert!(small.iter().all(Option::is_none));
        // A blob asked for as a tree: the error libgit2's reading gives.
        assert!(repo.tree_entries_of(&blobs[..1], |_, _| true).is_err());
    }
}
