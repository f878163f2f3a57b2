//! HTTP(S) Helm repositories: `<url>/index.yaml`, fetched once per
//! repository per run, size-limited, and read event by event for the one
//! thing needed (`entries.<chart>[].version`) without building a tree:
//! large public indexes hold tens of thousands of entries.

use super::fetch::{self, Fetched};
use super::{Cause, Failure};
use libyaml_safer::{EventData, Parser};
use reqwest::{Client, StatusCode, Url};
use std::collections::HashMap;
use tokio::time::Instant;

/// The largest index read (public ones reach tens of MiB).
pub const MAX_INDEX_BYTES: usize = 64 * 1024 * 1024;

/// A repository's charts and their versions, as its index lists them.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Index {
    pub versions: HashMap<String, Vec<String>>,
    /// Where each version's archive is (`urls`, maybe relative to the
    /// repository), by chart and version.
    pub urls: HashMap<(String, String), Vec<String>>,
}

/// What fetching an index ended with.
#[derive(Debug, Clone)]
pub enum IndexLookup {
    Found(std::sync::Arc<Index>),
    /// The server answered 404 for `index.yaml`: no repository at that URL.
    NoIndex {
        detail: String,
    },
}

/// The URL of a repository's index (`https://host/path` -> `.../path/index.yaml`).
pub fn index_url(repository_url: &str) -> Result<Url, Failure> {
    let base = format!("{}/", repository_url.trim_end_matches('/'));
    Url::parse(&base)
        .and_then(|u| u.join("index.yaml"))
        .map_err(|e| {
            Failure::new(
                Cause::Protocol,
                format!("`{repository_url}` is not a URL ({e})"),
            )
        })
}

/// Fetches and reads the index of the repository at `repository_url`.
pub async fn fetch(
    client: &Client,
    repository_url: &str,
    deadline: Instant,
) -> Result<IndexLookup, Failure> {
    let url = index_url(repository_url)?;
    let host = super::transport::host_of(&url);
    let what = format!("{host}: index.yaml of {repository_url}");
    let fetched = fetch::get(client, &url, None, None, true, MAX_INDEX_BYTES, deadline).await?;
    let bytes = match fetched {
        Fetched::Body { bytes, .. } => bytes,
        Fetched::Status { status, .. } if status == StatusCode::NOT_FOUND => {
            return Ok(IndexLookup::NoIndex {
                detail: format!("{host} has no index.yaml at {url} (HTTP 404): no Helm repository at that URL"),
            })
        }
        Fetched::Status { status, .. }
            if matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) =>
        {
            return Err(Failure::new(
                Cause::Unauthorized,
                format!("{what}: access refused (HTTP {}); a repository behind `spec.secretRef` needs credentials fluxgate does not read from the cluster", status.as_u16()),
            ))
        }
        Fetched::Status { status, .. } => return Err(fetch::status_failure(status, &what)),
    };
    let index = read(&bytes).map_err(|problem| {
        Failure::new(
            Cause::Protocol,
            format!("{what} is not a Helm repository index: {problem}"),
        )
    })?;
    Ok(IndexLookup::Found(std::sync::Arc::new(index)))
}

/// Where the reader is in the document, as far as it matters.
#[derive(Debug, Clone, PartialEq)]
enum Frame {
    /// A mapping; `key` is the pending key once read, `None` while a key is expected.
    Mapping {
        key: Option<String>,
    },
    Sequence,
}

/// Reads `entries.<chart>[].version` (and `.urls`) from an index's bytes.
pub fn read(bytes: &[u8]) -> Result<Index, String> {
    let mut input = bytes;
    let mut parser = Parser::new();
    parser.set_input_string(&mut input);
    let mut stack: Vec<Frame> = Vec::new();
    let mut index = Index::default();
    let mut saw_entries = false;
    // The entry being read: its version and urls, in whichever order.
    let mut entry_version: Option<String> = None;
    let mut entry_urls: Vec<String> = Vec::new();
    loop {
        let event = parser.parse().map_err(|e| {
            let at = e
                .problem_mark()
                .map(|m| format!(" at line {}", m.line + 1))
                .unwrap_or_default();
            format!("{}{at}", e.problem())
        })?;
        match event.data {
            EventData::StreamEnd => break,
            EventData::MappingStart { .. } | EventData::SequenceStart { .. } => {
                if stack.len() == 1 && key_at(&stack, 0) == Some("entries") {
                    saw_entries = true;
                }
                if stack.len() > 64 {
                    return Err("nested too deeply".into());
                }
                let frame = if matches!(event.data, EventData::MappingStart { .. }) {
                    Frame::Mapping { key: None }
                } else {
                    Frame::Sequence
                };
                stack.push(frame);
            }
            EventData::MappingEnd | EventData::SequenceEnd => {
                if in_entry(&stack) && stack.len() == 4 {
                    if let (Some(chart), Some(version)) = (key_at(&stack, 1), entry_version.take())
                    {
                        let urls = std::mem::take(&mut entry_urls);
                        if !urls.is_empty() {
                            index.urls.insert((chart.to_string(), version), urls);
                        }
                    }
                    entry_urls.clear();
                }
                stack.pop();
                value_done(&mut stack);
            }
            EventData::Scalar { value, .. } => {
                if let Some(Frame::Mapping { key }) = stack.last_mut() {
                    if key.is_none() {
                        *key = Some(value);
                        continue;
                    }
                }
                // A value: `entries` / <chart> / [i] / `version`.
                if stack.len() == 4
                    && key_at(&stack, 0) == Some("entries")
                    && stack[2] == Frame::Sequence
                    && key_at(&stack, 3) == Some("version")
                {
                    if let Some(chart) = key_at(&stack, 1) {
                        entry_version = Some(value.clone());
                        index
                            .versions
                            .entry(chart.to_string())
                            .or_default()
                            .push(value);
                    }
                } else if stack.len() == 5
                    && in_entry(&stack)
                    && key_at(&stack, 3) == Some("urls")
                    && stack[4] == Frame::Sequence
                {
                    entry_urls.push(value);
                    continue;
                }
                value_done(&mut stack);
            }
            EventData::Alias { .. } => value_done(&mut stack),
            _ => {}
        }
    }
    if !saw_entries {
        return Err("it has no `entries` map".into());
    }
    Ok(index)
}

/// Inside one entry of `entries.<chart>[]`.
fn in_entry(stack: &[Frame]) -> bool {
    stack.len() >= 4 && key_at(stack, 0) == Some("entries") && stack[2] == Frame::Sequence
}

fn key_at(stack: &[Frame], depth: usize) -> Option<&str> {
    match stack.get(depth)? {
        Frame::Mapping { key } => key.as_deref(),
        Frame::Sequence => None,
    }
}

/// After a value in a mapping, the next scalar is a key again.
fn value_done(stack: &mut [Frame]) {
    if let Some(Frame::Mapping { key }) = stack.last_mut() {
        *key = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_versions_per_chart() {
        let index = read(
            br#"apiVersion: v1
entries:
  podinfo:
  - apiVersion: v2
    name: podinfo
    version: 6.5.4
    urls: [https://example.invalid/podinfo-6.5.4.tgz]
    maintainers:
    - name: someone
      version: not-this-one
  - version: "6.5.3"
    name: podinfo
  redis:
  - {version: 1.0.0, name: redis}
generated: "2024-01-01T00:00:00Z"
"#,
        )
        .unwrap();
        assert_eq!(index.versions["podinfo"], vec!["6.5.4", "6.5.3"]);
        assert_eq!(index.versions["redis"], vec!["1.0.0"]);
        assert_eq!(index.versions.len(), 2);
        assert_eq!(
            index.urls[&("podinfo".to_string(), "6.5.4".to_string())],
            vec!["https://example.invalid/podinfo-6.5.4.tgz"]
        );
        assert_eq!(index.urls.len(), 1, "entries without urls have none");
    }

    #[test]
    fn rejects_what_is_not_an_index() {
        assert!(read(b"<html>not found</html>").is_err());
        assert!(read(b"entries: [unclosed").is_err());
        assert!(read(b"").is_err());
        assert!(read(b"entries: {}").unwrap().versions.is_empty());
    }

    #[test]
    fn index_url_keeps_the_path() {
        assert_eq!(
            index_url("https://charts.example.com/stable")
                .unwrap()
                .as_str(),
            "https://charts.example.com/stable/index.yaml"
        );
        assert_eq!(
            index_url("http://127.0.0.1:8080/").unwrap().as_str(),
            "http://127.0.0.1:8080/index.yaml"
        );
    }
}
