//! Loading one file at one side of the change: blob -> UTF-8 text -> parsed
//! YAML, with every way that can fail kept as data (one diagnostic per
//! broken file, never an abort).

use crate::git::{Blob, BlobRef, GitError, Repo};
use crate::source::{Side, SourceText, Span};
use crate::yaml::{self, Limits, ParsedYaml};
use git2::Oid;
use std::sync::Arc;

/// Files larger than this are not parsed (a diagnostic says so).
pub const MAX_FILE_BYTES: usize = 16 * 1024 * 1024;

/// A file read and parsed at one side.
pub struct LoadedFile {
    pub source: Arc<SourceText>,
    pub parsed: ParsedYaml,
    /// Why the file could not be read as YAML at all, if so.
    pub unreadable: Option<(Span, String)>,
}

/// Why a file was passed over without being parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    /// Inside a Helm chart directory: a template, not a manifest.
    HelmChart,
}

/// Reads and parses a blob.
pub fn load(
    repo: &Repo,
    side: Side,
    blob: &BlobRef,
    limits: &Limits,
) -> Result<LoadedFile, GitError> {
    Ok(from_blob(
        side,
        &blob.path,
        repo.read_blob(blob.id, MAX_FILE_BYTES)?,
        limits,
    ))
}

/// Parses a blob already read with [`Repo::read_blob`] (`MAX_FILE_BYTES`):
/// the part of [`load`] that needs no repository, so it can run on any thread.
pub fn from_blob(side: Side, path: &str, blob: Blob, limits: &Limits) -> LoadedFile {
    match blob {
        Blob::Bytes(bytes) => parse_bytes(side, path, bytes, limits),
        Blob::TooLarge(size) => {
            let message = format!(
                "the file is {size} bytes, over the {} MiB limit fluxgate parses",
                MAX_FILE_BYTES / (1024 * 1024)
            );
            unreadable(side, path, String::new(), Span::default(), message)
        }
    }
}

/// Decodes and parses file content.
pub fn parse_bytes(side: Side, path: &str, bytes: Vec<u8>, limits: &Limits) -> LoadedFile {
    match String::from_utf8(bytes) {
        Ok(text) => {
            let parsed = yaml::parse(&text, limits);
            LoadedFile {
                source: SourceText::new(path, side, text),
                parsed,
                unreadable: None,
            }
        }
        Err(err) => {
            let text = String::from_utf8_lossy(err.as_bytes()).into_owned();
            let (span, message) = match unicode_encoding(err.as_bytes()) {
                Some(encoding) => (
                    Span::new(0, 1),
                    format!(
                        "the file is {encoding} text (it starts with that byte order mark), not UTF-8; \
                         fluxgate reads YAML as UTF-8 only: convert it, e.g. `iconv -f {encoding} -t UTF-8`"
                    ),
                ),
                None => {
                    let at = err.utf8_error().valid_up_to();
                    (
                        Span::new(at, at + 1),
                        format!("the file is not UTF-8 text (invalid byte at offset {at}); is it binary or in another encoding?"),
                    )
                }
            };
            unreadable(side, path, text, span, message)
        }
    }
}

/// The encoding a byte order mark other than UTF-8's names, if any.
fn unicode_encoding(bytes: &[u8]) -> Option<&'static str> {
    // UTF-32 first: its little-endian mark begins with UTF-16's.
    match bytes {
        [0xFF, 0xFE, 0, 0, ..] => Some("UTF-32LE"),
        [0, 0, 0xFE, 0xFF, ..] => Some("UTF-32BE"),
        [0xFF, 0xFE, ..] => Some("UTF-16LE"),
        [0xFE, 0xFF, ..] => Some("UTF-16BE"),
        _ => None,
    }
}

fn unreadable(side: Side, path: &str, text: String, span: Span, message: String) -> LoadedFile {
    LoadedFile {
        source: SourceText::new(path, side, text),
        parsed: ParsedYaml::default(),
        unreadable: Some((span, message)),
    }
}

/// Whether a file is to be passed over, and why.
pub fn skip_reason(repo: &Repo, commit: Oid, path: &str) -> Result<Option<Skip>, GitError> {
    Ok(repo.in_helm_chart(commit, path)?.then_some(Skip::HelmChart))
}

#[cfg(test)]
mod encoding_tests {
    use super::unicode_encoding;

    #[test]
    fn byte_order_marks_name_their_encoding() {
        assert_eq!(unicode_encoding(b"\xFF\xFEk\0"), Some("UTF-16LE"));
        assert_eq!(unicode_encoding(b"\xFE\xFF\0k"), Some("UTF-16BE"));
        assert_eq!(unicode_encoding(b"\xFF\xFE\0\0k\0\0\0"), Some("UTF-32LE"));
        assert_eq!(unicode_encoding(b"\0\0\xFE\xFF\0\0\0k"), Some("UTF-32BE"));
        assert_eq!(unicode_encoding(b"caf\xE9"), None);
        assert_eq!(unicode_encoding(b"\xFF"), None);
        assert_eq!(unicode_encoding(b""), None);
    }
}
