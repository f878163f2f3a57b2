//! Where a YAML file's Flux Kustomizations point: the directories they
//! build (`spec.path`), found without parsing the documents that cannot be
//! one.

use super::contains;
use crate::k8s::flux::is_flux_kustomization;
use crate::k8s::ObjectId;

/// The directories the Flux Kustomizations of a YAML file build (none for
/// a file that does not parse: it is reported where it is loaded). Only the
/// documents that mention Flux's API group are parsed: a `---` line always
/// starts a document (YAML forbids it inside any content), so splitting
/// there first is exact, and spares parsing a large file to find one
/// Kustomization in it.
pub(super) fn flux_paths(bytes: &[u8]) -> Vec<String> {
    const MARKER: &[u8] = b"kustomize.toolkit.fluxcd.io";
    if !contains(bytes, MARKER) {
        return Vec::new();
    }
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Vec::new();
    };
    let limits = crate::yaml::Limits::default();
    let mut builds: Vec<String> = documents(text)
        .filter(|document| contains(document.as_bytes(), MARKER))
        .flat_map(|document| crate::yaml::parse(document, &limits).documents)
        .filter_map(|doc| {
            let id = ObjectId::of(&doc.root)?;
            is_flux_kustomization(&id).then(|| crate::deploy::flux::built_dir(&doc.root))?
        })
        .collect();
    builds.sort();
    builds.dedup();
    builds
}

/// `text` cut before each line that starts a document (`---` alone, or
/// followed by a space or tab).
fn documents(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let mut at = 0;
        let cut = loop {
            let line_end = rest[at..].find('\n').map_or(rest.len(), |n| at + n + 1);
            if line_end == rest.len() {
                break rest.len();
            }
            if starts_document(&rest[line_end..]) {
                break line_end;
            }
            at = line_end;
        };
        let (document, tail) = rest.split_at(cut);
        rest = tail;
        Some(document)
    })
}

fn starts_document(line: &str) -> bool {
    line.strip_prefix("---")
        .is_some_and(|after| after.is_empty() || after.starts_with([' ', '\t', '\r', '\n']))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_cut_before_each_document_start() {
        let text = "a: 1\n---\nb: 2\n--- # c\nc: 3\n----\nd: 4\n---\r\ne: 5\n---";
        let parts: Vec<&str> = documents(text).collect();
        assert_eq!(
            parts,
            [
                "a: 1\n",
                "---\nb: 2\n",
                "--- # c\nc: 3\n----\nd: 4\n",
                "---\r\ne: 5\n",
                "---"
            ]
        );
        assert_eq!(parts.concat(), text);
        assert_eq!(documents("").count(), 0);
    }

    #[test]
    fn flux_paths_come_from_flux_kustomizations_only() {
        let text = "\
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: apps}
spec: {path: ./apps/prod/}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: x}
data: {note: kustomize.toolkit.fluxcd.io}
---
# Flux's own default: the root.
apiVersion: kustomize.toolkit.fluxcd.io/v1beta2
kind: Kustomization
metadata: {name: all}
spec: {interval: 1m}
--- {apiVersion: kustomize.toolkit.fluxcd.io/v1, kind: Kustomization, metadata: {name: flow}, spec: {path: infra}}
---
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources: [kustomize.toolkit.fluxcd.io.yaml]
";
        assert_eq!(flux_paths(text.as_bytes()), ["", "apps/prod", "infra"]);
        assert!(flux_paths(b"kind: [unclosed kustomize.toolkit.fluxcd.io").is_empty());
        assert!(flux_paths(b"\xff\xfe kustomize.toolkit.fluxcd.io").is_empty());
    }
}
