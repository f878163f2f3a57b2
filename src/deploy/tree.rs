//! The head tree as the deploy stage sees it: files looked up along their
//! path (or, when Flux needs every file, listed by one tree walk), and read
//! and parsed on demand, once.

use crate::git::{BlobRef, EntryKind, GitError, Repo};
use crate::load::{self, LoadedFile};
use crate::source::Side;
use crate::yaml::Limits;
use git2::Oid;
use std::cell::{OnceCell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

pub struct HeadTree<'r> {
    repo: &'r Repo,
    commit: Oid,
    limits: Limits,
    files: OnceCell<Vec<BlobRef>>,
    loaded: RefCell<HashMap<String, Option<Rc<LoadedFile>>>>,
}

impl<'r> HeadTree<'r> {
    pub fn new(repo: &'r Repo, commit: Oid) -> Self {
        HeadTree {
            repo,
            commit,
            limits: Limits::default(),
            files: OnceCell::new(),
            loaded: RefCell::default(),
        }
    }

    pub fn repo(&self) -> &'r Repo {
        self.repo
    }

    pub fn commit(&self) -> Oid {
        self.commit
    }

    /// Every regular file, sorted by path.
    pub fn files(&self) -> Result<&[BlobRef], GitError> {
        if self.files.get().is_none() {
            let files = self.repo.file_paths(self.commit)?;
            let _ = self.files.set(files);
        }
        Ok(self.files.get().map(Vec::as_slice).unwrap_or_default())
    }

    /// Whether `path` is a regular file. Looked up along its own path
    /// unless every file is listed already, so an overlay walk reads only
    /// the trees it goes through.
    pub fn is_file(&self, path: &str) -> Result<bool, GitError> {
        Ok(self.blob(path)?.is_some())
    }

    /// The file at `path`, if there is one.
    pub fn blob(&self, path: &str) -> Result<Option<BlobRef>, GitError> {
        if let Some(files) = self.files.get() {
            return Ok(files
                .binary_search_by(|f| f.path.as_str().cmp(path))
                .ok()
                .map(|i| files[i].clone()));
        }
        Ok(self
            .repo
            .entry_at(self.commit, path)?
            .filter(|e| e.kind == EntryKind::File)
            .map(|e| BlobRef {
                path: path.to_string(),
                id: e.id,
            }))
    }

    /// The files under `dir` ("" is the root), at any depth.
    pub fn files_under(&self, dir: &str) -> Result<&[BlobRef], GitError> {
        let files = self.files()?;
        if dir.is_empty() {
            return Ok(files);
        }
        let prefix = format!("{dir}/");
        let start = files.partition_point(|f| f.path.as_str() < prefix.as_str());
        let len = files[start..].partition_point(|f| f.path.starts_with(&prefix));
        Ok(&files[start..start + len])
    }

    pub fn is_dir(&self, dir: &str) -> Result<bool, GitError> {
        if dir.is_empty() || self.files.get().is_some() {
            return Ok(!self.files_under(dir)?.is_empty());
        }
        Ok(self
            .repo
            .entry_at(self.commit, dir)?
            .is_some_and(|e| e.kind == EntryKind::Dir))
    }

    /// A file read and parsed (cached); `None` if there is no such file.
    pub fn load(&self, path: &str) -> Result<Option<Rc<LoadedFile>>, GitError> {
        if let Some(known) = self.loaded.borrow().get(path) {
            return Ok(known.clone());
        }
        let loaded = match self.blob(path)? {
            Some(blob) => Some(Rc::new(load::load(
                self.repo,
                Side::Head,
                &blob,
                &self.limits,
            )?)),
            None => None,
        };
        self.loaded
            .borrow_mut()
            .insert(path.to_string(), loaded.clone());
        Ok(loaded)
    }

    /// Whether the file at `path` holds `needle`: a look at its text if it
    /// was parsed already, else at its bytes (not parsed for this).
    pub fn mentions(&self, path: &str, needle: &str) -> Result<bool, GitError> {
        if let Some(Some(known)) = self.loaded.borrow().get(path) {
            return Ok(known.source.text().contains(needle));
        }
        let Some(blob) = self.blob(path)? else {
            return Ok(false);
        };
        Ok(self
            .bytes(&blob)?
            .is_some_and(|bytes| memchr::memmem::find(&bytes, needle.as_bytes()).is_some()))
    }

    /// A file's bytes without parsing (for a cheap look before parsing).
    pub fn bytes(&self, blob: &BlobRef) -> Result<Option<Vec<u8>>, GitError> {
        Ok(match self.repo.read_blob(blob.id, load::MAX_FILE_BYTES)? {
            crate::git::Blob::Bytes(bytes) => Some(bytes),
            crate::git::Blob::TooLarge(_) => None,
        })
    }

    /// Whether a file sits in a Helm chart (a template, not a manifest).
    pub fn in_helm_chart(&self, path: &str) -> Result<bool, GitError> {
        self.repo.in_helm_chart(self.commit, path)
    }
}

/// `a/b/../c/./d` -> `a/c/d`; `None` if it climbs out of the repository.
pub fn normalise(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            other => parts.push(other),
        }
    }
    Some(parts.join("/"))
}

/// `dir` joined with a relative `path`.
pub fn join(dir: &str, path: &str) -> Option<String> {
    if dir.is_empty() {
        normalise(path)
    } else {
        normalise(&format!("{dir}/{path}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_normalise_inside_the_repository() {
        assert_eq!(join("apps/prod", "../base").as_deref(), Some("apps/base"));
        assert_eq!(join("apps", "./x.yaml").as_deref(), Some("apps/x.yaml"));
        assert_eq!(
            join("", "./clusters/prod").as_deref(),
            Some("clusters/prod")
        );
        assert_eq!(join("apps", "../../etc"), None);
    }
}
