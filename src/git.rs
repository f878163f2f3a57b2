//! Git access with git2: resolve revisions, find the merge-base, diff two
//! trees (renames detected) and read blobs from the object database. No work
//! tree is checked out or read, so a bare clone works as well as any.

use git2::{
    Delta, DiffFindOptions, DiffOptions, ErrorCode, ObjectType, Oid, Repository, TreeWalkMode,
    TreeWalkResult,
};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

mod batch;
mod packs;
#[cfg(test)]
mod test_git;

use packs::Packs;

const SHALLOW_HELP: &str = "this clone is shallow and lacks that commit: fetch the full history \
(GitHub Actions: `actions/checkout` with `fetch-depth: 0`; GitLab CI: `GIT_DEPTH: 0`; locally: `git fetch --unshallow`)";

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum GitError {
    #[error("{path} is not in a git repository")]
    #[diagnostic(
        code(fluxgate::git::not_a_repository),
        help("run fluxgate inside a clone, or point `--repo` at one")
    )]
    NotARepository {
        path: String,
        #[source]
        source: git2::Error,
    },

    #[error("revision `{rev}` is not in this repository")]
    #[diagnostic(code(fluxgate::git::unknown_revision), help("{help}"))]
    UnknownRevision { rev: String, help: String },

    #[error("no base revision given and none found (tried {tried})")]
    #[diagnostic(
        code(fluxgate::git::no_default_base),
        help("pass `--base <rev>`, or fetch the remote default branch (`git fetch origin`)")
    )]
    NoDefaultBase { tried: String },

    #[error("`{base}` and `{head}` have no common ancestor in this clone")]
    #[diagnostic(code(fluxgate::git::no_merge_base), help("{help}"))]
    NoMergeBase {
        base: String,
        head: String,
        help: String,
    },

    #[error("the repository's object database is damaged: {message}")]
    #[diagnostic(
        code(fluxgate::git::damaged),
        help(
            "`git fsck --full` names the damaged objects; a fresh clone, or fetching them again, \
             repairs it"
        )
    )]
    Damaged { message: String },

    #[error("git: {0}")]
    #[diagnostic(code(fluxgate::git::error))]
    Git(git2::Error),
}

impl From<git2::Error> for GitError {
    fn from(error: git2::Error) -> Self {
        if is_damage(&error) {
            GitError::Damaged {
                message: error.message().to_string(),
            }
        } else {
            GitError::Git(error)
        }
    }
}

/// Whether libgit2 failed because stored objects are unreadable (cut
/// short, not zlib, not parseable), as opposed to missing or misused.
fn is_damage(error: &git2::Error) -> bool {
    use git2::ErrorClass;
    match error.class() {
        ErrorClass::Zlib => true,
        ErrorClass::Object | ErrorClass::Odb => {
            error.code() != ErrorCode::NotFound
                && [
                    "loose object",
                    "packfile",
                    "corrupt",
                    "malformed",
                    "inflate",
                ]
                .iter()
                .any(|sign| error.message().contains(sign))
        }
        _ => false,
    }
}

/// A changed file: its blob at either side (`None` where it does not exist).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    pub base: Option<BlobRef>,
    pub head: Option<BlobRef>,
}

/// A regular file at one side: its path and blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobRef {
    pub path: String,
    pub id: Oid,
}

/// A changed entry that is not a regular file, so fluxgate does not read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unread {
    /// A symbolic link named like a YAML file: not followed, since it may
    /// point outside the repository or in a loop.
    Symlink(String),
    /// A submodule: its files belong to another repository.
    Submodule(String),
}

/// What reading a file gave.
#[derive(Debug)]
pub enum Blob {
    Bytes(Vec<u8>),
    TooLarge(usize),
}

pub struct Repo {
    inner: Repository,
    /// Directories of a commit already read for [`Repo::in_helm_chart`]
    /// (`None`: no such directory), so each tree is read once per commit:
    /// libgit2 does not cache large trees, and reading `apps/` (thousands of
    /// entries) once per changed file made a big pull request quadratic.
    chart_dirs: std::cell::RefCell<DirCache>,
    /// For batch reads ([`Repo::scan_blobs`]), opened on the first;
    /// objects it cannot give come from libgit2. Single reads go to
    /// libgit2, whose delta base cache suits reads in path order.
    packs: std::cell::RefCell<Option<Packs>>,
}

/// Directories read, by commit and path; `None`: no such directory.
type DirCache = HashMap<(Oid, String), Option<Arc<DirEntries>>>;

/// What [`Repo::in_helm_chart`] needs of one directory.
#[derive(Debug)]
struct DirEntries {
    has_chart: bool,
    subdirs: HashMap<String, Oid>,
}

/// One entry of a tree: a regular file, a directory, or anything else
/// (symbolic link, submodule), which fluxgate does not follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeEntry {
    pub name: String,
    pub id: Oid,
    pub kind: EntryKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    File,
    Dir,
    Other,
}

fn tree_entry(entry: &git2::TreeEntry<'_>) -> TreeEntry {
    let kind = match entry.kind() {
        Some(ObjectType::Tree) => EntryKind::Dir,
        Some(ObjectType::Blob) if matches!(entry.filemode(), 0o100644 | 0o100755) => {
            EntryKind::File
        }
        _ => EntryKind::Other,
    };
    TreeEntry {
        name: String::from_utf8_lossy(entry.name_bytes()).into_owned(),
        id: entry.id(),
        kind,
    }
}

/// The entries of a tree object (`<octal mode> <name>\0<object id>` each)
/// that `keep` wants (by name and kind); the others are checked but not
/// copied. `None`: the tree is malformed.
fn parse_tree_keeping(
    mut data: &[u8],
    keep: impl Fn(&[u8], EntryKind) -> bool,
) -> Option<Vec<TreeEntry>> {
    const ID_LEN: usize = 20;
    let mut entries = Vec::new();
    while !data.is_empty() {
        let space = memchr::memchr(b' ', data)?;
        let mode = std::str::from_utf8(&data[..space]).ok()?;
        let mode = u32::from_str_radix(mode, 8).ok()?;
        let rest = &data[space + 1..];
        let nul = memchr::memchr(0, rest)?;
        let id = rest.get(nul + 1..nul + 1 + ID_LEN)?;
        // By the type bits, as libgit2 normalises modes old gits wrote
        // (`100664` is a regular file).
        let kind = match mode & 0o170000 {
            0o040000 => EntryKind::Dir,
            0o100000 => EntryKind::File,
            _ => EntryKind::Other,
        };
        let name = &rest[..nul];
        if keep(name, kind) {
            entries.push(TreeEntry {
                name: String::from_utf8_lossy(name).into_owned(),
                id: Oid::from_bytes(id).ok()?,
                kind,
            });
        }
        data = &rest[nul + 1 + ID_LEN..];
    }
    Some(entries)
}

fn malformed_tree(tree: Oid, what: &str) -> GitError {
    GitError::Git(git2::Error::from_str(&format!(
        "object {tree} cannot be read as a tree: {what}"
    )))
}

/// For the `git_pack` fuzz target: reads every object the indexes under
/// `objects/pack` list with fluxgate's pack reader (no libgit2), and checks
/// each object it gives against its id. Returns how many it gave.
#[doc(hidden)]
pub fn read_every_packed_object(objects: &Path, limit: usize) -> usize {
    let mut packs = Packs::open(objects);
    let mut given = 0;
    for id in packs.ids() {
        let Some(at) = packs.locate(id) else {
            continue;
        };
        if let Some(packs::Packed::Object(kind, bytes)) = packs.read_at(id, at, limit) {
            let named = git2::Oid::hash_object(kind, &bytes).expect("an object id");
            assert_eq!(named, id, "the pack reader gave another object");
            given += 1;
        }
    }
    given
}

/// Whether a path is a YAML file fluxgate reads.
pub fn is_yaml(path: &str) -> bool {
    path.ends_with(".yaml") || path.ends_with(".yml")
}

impl Repo {
    pub fn open(dir: &Path) -> Result<Repo, GitError> {
        // Like git itself, trust the object database's names instead of
        // re-hashing every object read (SHA-1 with collision detection was
        // a tenth of a whole-tree `--all` run).
        git2::opts::strict_hash_verification(false);
        let inner = Repository::discover(dir).map_err(|source| GitError::NotARepository {
            path: dir.display().to_string(),
            source,
        })?;
        Ok(Repo {
            inner,
            chart_dirs: Default::default(),
            packs: Default::default(),
        })
    }

    fn missing_help(&self) -> String {
        if self.inner.is_shallow() {
            SHALLOW_HELP.to_string()
        } else {
            "check the name, or fetch it first (`git fetch origin <branch>`)".to_string()
        }
    }

    /// The work tree's root, if the repository has one (not bare).
    pub fn workdir(&self) -> Option<std::path::PathBuf> {
        self.inner.workdir().map(std::path::Path::to_path_buf)
    }

    /// The commit a revision names.
    pub fn resolve(&self, rev: &str) -> Result<Oid, GitError> {
        self.inner
            .revparse_single(rev)
            .and_then(|object| object.peel_to_commit())
            .map(|commit| commit.id())
            .map_err(|error| {
                if is_damage(&error) {
                    GitError::from(error)
                } else {
                    GitError::UnknownRevision {
                        rev: rev.to_string(),
                        help: self.missing_help(),
                    }
                }
            })
    }

    /// The remote default branch, else a local main/master: what a PR targets.
    pub fn default_base(&self) -> Result<(String, Oid), GitError> {
        self.default_base_of("origin")
    }

    /// The default branch of `remote`, else a local main/master.
    pub fn default_base_of(&self, remote: &str) -> Result<(String, Oid), GitError> {
        let candidates = [
            format!("{remote}/HEAD"),
            format!("{remote}/main"),
            format!("{remote}/master"),
            "main".to_string(),
            "master".to_string(),
        ];
        for name in &candidates {
            match self.resolve(name) {
                Ok(oid) => return Ok((name.clone(), oid)),
                // A damaged commit must not quietly move the base to the next name.
                Err(damaged @ GitError::Damaged { .. }) => return Err(damaged),
                Err(_) => {}
            }
        }
        Err(GitError::NoDefaultBase {
            tried: candidates.join(", "),
        })
    }

    /// Where git looks for hooks: `core.hooksPath` (relative to the work
    /// tree), else `hooks/` in the git directory.
    pub fn hooks_dir(&self) -> std::path::PathBuf {
        let configured = self
            .inner
            .config()
            .ok()
            .and_then(|c| c.get_path("core.hooksPath").ok());
        match (configured, self.inner.workdir()) {
            (Some(path), Some(workdir)) if path.is_relative() => workdir.join(path),
            (Some(path), _) => path,
            (None, _) => self.inner.path().join("hooks"),
        }
    }

    pub fn merge_base(&self, base: Oid, head: Oid) -> Result<Oid, GitError> {
        self.inner
            .merge_base(base, head)
            .map_err(|e| match e.code() {
                ErrorCode::NotFound => GitError::NoMergeBase {
                    base: base.to_string(),
                    head: head.to_string(),
                    help: if self.inner.is_shallow() {
                        SHALLOW_HELP.to_string()
                    } else {
                        "pass a `--base` that shares history with the head".to_string()
                    },
                },
                _ => GitError::from(e),
            })
    }

    /// YAML files that differ between two commits, tree to tree, with renames.
    pub fn changed_yaml_files(&self, from: Oid, to: Oid) -> Result<Vec<FileChange>, GitError> {
        let old = self.inner.find_commit(from)?.tree()?;
        let new = self.inner.find_commit(to)?.tree()?;
        // libgit2 diffs two trees by walking every entry of both, also in
        // subtrees that are the same object; a one-file change in a tree of
        // thousands of directories would cost them all. So find the paths
        // that differ here first, then let libgit2 diff (and find renames
        // among) only those paths.
        let mut differing = Vec::new();
        self.differing_paths(&old, &new, &mut Vec::new(), &mut differing)?;
        if differing.is_empty() {
            return Ok(Vec::new());
        }
        let mut options = DiffOptions::new();
        options
            .include_typechange(true)
            .disable_pathspec_match(true);
        for path in differing {
            options.pathspec(path);
        }
        let mut diff = self
            .inner
            .diff_tree_to_tree(Some(&old), Some(&new), Some(&mut options))?;
        let mut find = DiffFindOptions::new();
        find.renames(true);
        // Pairing renames by similarity reads every added and deleted file
        // whole: with one over the size limit among them (of any type), only
        // renames of the very same content are paired.
        if self.big_rename_candidate(&diff)? {
            find.exact_match_only(true);
        }
        diff.find_similar(Some(&mut find))?;
        let mut changes = Vec::new();
        for delta in diff.deltas() {
            let side = |file: git2::DiffFile<'_>, exists: bool| -> Option<BlobRef> {
                let path = String::from_utf8_lossy(file.path_bytes()?).into_owned();
                let regular = matches!(
                    file.mode(),
                    git2::FileMode::Blob | git2::FileMode::BlobExecutable
                );
                (exists && regular && is_yaml(&path)).then_some(BlobRef {
                    path,
                    id: file.id(),
                })
            };
            let status = delta.status();
            let base = side(
                delta.old_file(),
                !matches!(status, Delta::Added | Delta::Untracked),
            );
            let head = side(delta.new_file(), !matches!(status, Delta::Deleted));
            if base.is_some() || head.is_some() {
                changes.push(FileChange { base, head });
            }
        }
        Ok(changes)
    }

    /// Whether rename detection would read a blob over the size limit: an
    /// added or deleted regular file that large, beside a candidate to pair
    /// it with. Sizes come from object headers.
    fn big_rename_candidate(&self, diff: &git2::Diff<'_>) -> Result<bool, GitError> {
        let regular = |file: &git2::DiffFile<'_>| {
            matches!(
                file.mode(),
                git2::FileMode::Blob | git2::FileMode::BlobExecutable
            )
        };
        let (mut added, mut deleted) = (Vec::new(), Vec::new());
        for delta in diff.deltas() {
            match delta.status() {
                Delta::Added if regular(&delta.new_file()) => added.push(delta.new_file().id()),
                Delta::Deleted if regular(&delta.old_file()) => deleted.push(delta.old_file().id()),
                _ => {}
            }
        }
        if added.is_empty() || deleted.is_empty() {
            return Ok(false);
        }
        let odb = self.inner.odb()?;
        for id in added.into_iter().chain(deleted) {
            if odb.read_header(id)?.0 > crate::load::MAX_FILE_BYTES {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The symbolic links named like YAML files and the submodules that
    /// `to` adds or changes since `from` (every one in `to` without `from`),
    /// which fluxgate passes over; for `--verbose`.
    pub fn unread_entries(&self, from: Option<Oid>, to: Oid) -> Result<Vec<Unread>, GitError> {
        let classify = |path: String, mode: i32| match mode {
            0o120000 if is_yaml(&path) => Some(Unread::Symlink(path)),
            0o160000 => Some(Unread::Submodule(path)),
            _ => None,
        };
        let new = self.inner.find_commit(to)?.tree()?;
        let mut unread = Vec::new();
        match from {
            Some(from) => {
                let old = self.inner.find_commit(from)?.tree()?;
                let mut options = DiffOptions::new();
                options.include_typechange(true);
                let diff =
                    self.inner
                        .diff_tree_to_tree(Some(&old), Some(&new), Some(&mut options))?;
                for delta in diff.deltas().filter(|d| d.status() != Delta::Deleted) {
                    let file = delta.new_file();
                    let Some(path) = file.path_bytes() else {
                        continue;
                    };
                    let path = String::from_utf8_lossy(path).into_owned();
                    unread.extend(classify(path, i32::from(file.mode())));
                }
            }
            None => new.walk(TreeWalkMode::PreOrder, |dir, entry| {
                let path = format!("{dir}{}", String::from_utf8_lossy(entry.name_bytes()));
                unread.extend(classify(path, entry.filemode()));
                TreeWalkResult::Ok
            })?,
        }
        Ok(unread)
    }

    /// Paths (below `prefix`) where two trees differ, without entering
    /// subtrees that are the same object: a file or directory added,
    /// deleted, changed in content, mode or type. A directory on one side
    /// only is one path (everything below it differs).
    fn differing_paths(
        &self,
        old: &git2::Tree<'_>,
        new: &git2::Tree<'_>,
        prefix: &mut Vec<u8>,
        out: &mut Vec<Vec<u8>>,
    ) -> Result<(), GitError> {
        let path = |name: &[u8]| [prefix.as_slice(), name].concat();
        let mut subtrees = Vec::new();
        for old_entry in old.iter() {
            let name = old_entry.name_bytes();
            let Some(new_entry) = new.get_name_bytes(name) else {
                out.push(path(name));
                continue;
            };
            if old_entry.id() == new_entry.id() && old_entry.filemode() == new_entry.filemode() {
                continue;
            }
            let both_trees = old_entry.kind() == Some(ObjectType::Tree)
                && new_entry.kind() == Some(ObjectType::Tree);
            if both_trees {
                subtrees.push((name.to_vec(), old_entry.id(), new_entry.id()));
            } else {
                out.push(path(name));
            }
        }
        for new_entry in new.iter() {
            if old.get_name_bytes(new_entry.name_bytes()).is_none() {
                out.push(path(new_entry.name_bytes()));
            }
        }
        for (name, old_id, new_id) in subtrees {
            let depth = prefix.len();
            prefix.extend_from_slice(&name);
            prefix.push(b'/');
            let result = self.differing_paths(
                &self.inner.find_tree(old_id)?,
                &self.inner.find_tree(new_id)?,
                prefix,
                out,
            );
            prefix.truncate(depth);
            result?;
        }
        Ok(())
    }

    /// The path of every regular file of a commit, sorted (names only; no
    /// blob is read).
    pub fn file_paths(&self, commit: Oid) -> Result<Vec<BlobRef>, GitError> {
        let tree = self.inner.find_commit(commit)?.tree()?;
        let mut files = Vec::new();
        tree.walk(TreeWalkMode::PreOrder, |dir, entry| {
            if entry.kind() == Some(ObjectType::Blob)
                && matches!(entry.filemode(), 0o100644 | 0o100755)
            {
                files.push(BlobRef {
                    path: format!("{dir}{}", String::from_utf8_lossy(entry.name_bytes())),
                    id: entry.id(),
                });
            }
            TreeWalkResult::Ok
        })?;
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(files)
    }

    /// Every YAML file of a commit (for `--all`).
    pub fn yaml_files(&self, commit: Oid) -> Result<Vec<BlobRef>, GitError> {
        let tree = self.inner.find_commit(commit)?.tree()?;
        let mut files = Vec::new();
        tree.walk(TreeWalkMode::PreOrder, |dir, entry| {
            let regular = matches!(entry.filemode(), 0o100644 | 0o100755);
            if entry.kind() == Some(ObjectType::Blob) && regular {
                let path = format!("{dir}{}", String::from_utf8_lossy(entry.name_bytes()));
                if is_yaml(&path) {
                    files.push(BlobRef {
                        path,
                        id: entry.id(),
                    });
                }
            }
            TreeWalkResult::Ok
        })?;
        Ok(files)
    }

    /// A blob's bytes, unless it is larger than `limit` (checked from the
    /// object header, before the blob is loaded).
    pub fn read_blob(&self, id: Oid, limit: usize) -> Result<Blob, GitError> {
        Ok(match self.with_blob(id, limit, <[u8]>::to_vec)? {
            Ok(bytes) => Blob::Bytes(bytes),
            Err(size) => Blob::TooLarge(size),
        })
    }

    /// Runs `scan` over a blob's bytes in place (no copy), unless it is
    /// larger than `limit`: then `None`.
    pub fn scan_blob<T>(
        &self,
        id: Oid,
        limit: usize,
        scan: impl FnOnce(&[u8]) -> T,
    ) -> Result<Option<T>, GitError> {
        Ok(self.with_blob(id, limit, scan)?.ok())
    }

    /// `use_bytes` of a blob read straight from the object database, or its
    /// size when that is over `limit` (known from the object header, so an
    /// oversized blob is never loaded).
    fn with_blob<T>(
        &self,
        id: Oid,
        limit: usize,
        use_bytes: impl FnOnce(&[u8]) -> T,
    ) -> Result<Result<T, usize>, GitError> {
        let odb = self.inner.odb()?;
        let (size, _) = odb.read_header(id)?;
        if size > limit {
            return Ok(Err(size));
        }
        let object = odb.read(id)?;
        if object.kind() != ObjectType::Blob {
            return Err(GitError::Git(git2::Error::from_str(&format!(
                "object {id} is a {}, not a file's blob",
                object.kind().str()
            ))));
        }
        Ok(Ok(use_bytes(object.data())))
    }

    fn open_packs(&self) -> Packs {
        Packs::open(&self.inner.commondir().join("objects"))
    }

    /// The bytes of the file at `path` in `commit`, if it is a regular file.
    pub fn read_path(
        &self,
        commit: Oid,
        path: &str,
        limit: usize,
    ) -> Result<Option<Blob>, GitError> {
        let tree = self.inner.find_commit(commit)?.tree()?;
        match tree.get_path(Path::new(path)) {
            Ok(entry) if entry.kind() == Some(ObjectType::Blob) => {
                self.read_blob(entry.id(), limit).map(Some)
            }
            Ok(_) => Ok(None),
            Err(e) if e.code() == ErrorCode::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The URLs of the repository's remotes (for recognising itself in a
    /// Flux GitRepository).
    pub fn remote_urls(&self) -> Vec<String> {
        let Ok(names) = self.inner.remotes() else {
            return Vec::new();
        };
        names
            .iter()
            .flatten()
            .flatten()
            .filter_map(|name| self.inner.find_remote(name).ok())
            .filter_map(|remote| remote.url().ok().map(str::to_string))
            .collect()
    }

    /// The root tree of a commit.
    pub fn root_tree(&self, commit: Oid) -> Result<Oid, GitError> {
        Ok(self.inner.find_commit(commit)?.tree_id())
    }

    /// The entries of one tree, in git's order.
    pub fn tree_entries(&self, tree: Oid) -> Result<Vec<TreeEntry>, GitError> {
        self.tree_entries_keeping(tree, |_, _| true)
    }

    /// The entries of one tree that `keep` wants (by name and kind).
    fn tree_entries_keeping(
        &self,
        tree: Oid,
        keep: impl Fn(&[u8], EntryKind) -> bool,
    ) -> Result<Vec<TreeEntry>, GitError> {
        // Straight from the object database, parsed here: libgit2's tree
        // objects (parsed, then kept in its object cache) cost more than
        // the read itself when a fresh clone's every tree is listed once.
        let odb = self.inner.odb()?;
        let object = odb.read(tree)?;
        if object.kind() != ObjectType::Tree {
            return Err(malformed_tree(tree, "not a tree"));
        }
        parse_tree_keeping(object.data(), keep)
            .ok_or_else(|| malformed_tree(tree, "malformed entries"))
    }

    /// The entry at `path` in `commit` (reads only the trees on the way).
    pub fn entry_at(&self, commit: Oid, path: &str) -> Result<Option<TreeEntry>, GitError> {
        let tree = self.inner.find_commit(commit)?.tree()?;
        match tree.get_path(Path::new(path)) {
            Ok(entry) => Ok(Some(tree_entry(&entry))),
            Err(e) if matches!(e.code(), ErrorCode::NotFound | ErrorCode::InvalidSpec) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Where fluxgate may keep derived data about this repository's
    /// objects (shared by its worktrees).
    pub fn cache_dir(&self) -> std::path::PathBuf {
        self.inner.commondir().join("fluxgate")
    }

    /// Whether `path` is a file in `commit`.
    pub fn has_file(&self, commit: Oid, path: &str) -> bool {
        self.inner
            .find_commit(commit)
            .and_then(|c| c.tree())
            .and_then(|tree| tree.get_path(Path::new(path)))
            .is_ok_and(|entry| entry.kind() == Some(ObjectType::Blob))
    }

    /// Whether a file sits inside a Helm chart (an ancestor directory holds
    /// `Chart.yaml`): such files are templates, not manifests.
    pub fn in_helm_chart(&self, commit: Oid, path: &str) -> Result<bool, GitError> {
        let mut dir = path;
        while let Some((parent, _)) = dir.rsplit_once('/') {
            dir = parent;
            if self.dir_entries(commit, dir)?.is_some_and(|d| d.has_chart) {
                return Ok(true);
            }
        }
        Ok(self.dir_entries(commit, "")?.is_some_and(|d| d.has_chart))
    }

    /// The entries of directory `dir` (`""`: the root) of `commit`, read
    /// through its parent's cached entries.
    fn dir_entries(&self, commit: Oid, dir: &str) -> Result<Option<Arc<DirEntries>>, GitError> {
        let key = (commit, dir.to_string());
        if let Some(known) = self.chart_dirs.borrow().get(&key) {
            return Ok(known.clone());
        }
        let tree_id = if dir.is_empty() {
            Some(self.inner.find_commit(commit)?.tree_id())
        } else {
            let (parent, name) = dir.rsplit_once('/').unwrap_or(("", dir));
            self.dir_entries(commit, parent)?
                .and_then(|p| p.subdirs.get(name).copied())
        };
        let entries = match tree_id {
            None => None,
            Some(id) => {
                let tree = self.inner.find_tree(id)?;
                let mut entries = DirEntries {
                    has_chart: false,
                    subdirs: HashMap::new(),
                };
                for entry in tree.iter() {
                    let name = String::from_utf8_lossy(entry.name_bytes());
                    match entry.kind() {
                        Some(ObjectType::Tree) => {
                            entries.subdirs.insert(name.into_owned(), entry.id());
                        }
                        _ if name == "Chart.yaml" => entries.has_chart = true,
                        _ => {}
                    }
                }
                Some(Arc::new(entries))
            }
        };
        self.chart_dirs.borrow_mut().insert(key, entries.clone());
        Ok(entries)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_tree(data: &[u8]) -> Option<Vec<TreeEntry>> {
        parse_tree_keeping(data, |_, _| true)
    }

    /// A tree with every kind of entry, written by libgit2 itself.
    fn sample_tree(repo: &Repository) -> Oid {
        let blob = repo.blob(b"kind: Kustomization\n").unwrap();
        let mut inner = repo.treebuilder(None).unwrap();
        inner.insert("deployment.yaml", blob, 0o100644).unwrap();
        let inner = inner.write().unwrap();
        let mut outer = repo.treebuilder(None).unwrap();
        outer.insert("kustomization.yaml", blob, 0o100644).unwrap();
        outer.insert("run.sh", blob, 0o100755).unwrap();
        outer.insert("link.yaml", blob, 0o120000).unwrap();
        outer.insert("submodule", blob, 0o160000).unwrap();
        outer.insert("base", inner, 0o040000).unwrap();
        outer.insert("naïve dir", inner, 0o040000).unwrap();
        outer.write().unwrap()
    }

    #[test]
    fn raw_tree_entries_match_libgit2() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repo {
            inner: Repository::init_bare(dir.path()).unwrap(),
            chart_dirs: Default::default(),
            packs: Default::default(),
        };
        let tree = sample_tree(&repo.inner);
        let expected: Vec<TreeEntry> = repo
            .inner
            .find_tree(tree)
            .unwrap()
            .iter()
            .map(|e| tree_entry(&e))
            .collect();
        assert_eq!(repo.tree_entries(tree).unwrap(), expected);
        let kinds: Vec<EntryKind> = expected.iter().map(|e| e.kind).collect();
        assert_eq!(kinds.iter().filter(|k| **k == EntryKind::Dir).count(), 2);
        assert_eq!(kinds.iter().filter(|k| **k == EntryKind::File).count(), 2);
        assert_eq!(kinds.iter().filter(|k| **k == EntryKind::Other).count(), 2);
        let blob = repo.inner.blob(b"x").unwrap();
        assert!(repo.tree_entries(blob).is_err(), "a blob is not a tree");
    }

    #[test]
    fn malformed_trees_are_errors_not_panics() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init_bare(dir.path()).unwrap();
        let tree = sample_tree(&repo);
        let odb = repo.odb().unwrap();
        let raw = odb.read(tree).unwrap().data().to_vec();
        for cut in 0..raw.len() {
            // Every truncation either ends between entries or is refused.
            let _ = parse_tree(&raw[..cut]);
        }
        assert!(parse_tree(&raw[..raw.len() - 1]).is_none());
        assert!(parse_tree(b"100644 name").is_none(), "no NUL");
        assert!(parse_tree(b"10a644 name\0aaaaaaaaaaaaaaaaaaaa").is_none());
        assert!(
            parse_tree(b"name\0aaaaaaaaaaaaaaaaaaaa").is_none(),
            "no mode"
        );
        assert_eq!(parse_tree(b"").map(|e| e.len()), Some(0));
        let old_mode = parse_tree(b"100664 k.yaml\0aaaaaaaaaaaaaaaaaaaa").unwrap();
        assert_eq!(old_mode[0].kind, EntryKind::File, "a group-writable file");
    }
}
