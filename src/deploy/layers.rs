//! The layers of a kustomize build: each `kustomization.yaml` with the
//! local resources it includes and the `images:` rewrites it applies to
//! everything under it, and how a rewrite changes an image reference (as
//! kustomize's image transformer does).

use super::tree::{join, HeadTree};
use crate::finding::Location;
use crate::git::GitError;
use crate::k8s::kustomize::{
    generated_keys, generated_literals, is_kustomize_config, GeneratedKey, GeneratedLiteral,
};
use crate::yaml::Node;

/// One `images:` entry (kustomize, or a Flux Kustomization's `spec.images`).
#[derive(Debug, Clone, PartialEq)]
pub struct ImageRewrite {
    pub name: String,
    pub new_name: Option<String>,
    pub new_tag: Option<String>,
    pub digest: Option<String>,
    /// The entry, for "rewritten here" labels.
    pub location: Location,
}

impl ImageRewrite {
    pub fn list(images: &Node, source: &crate::source::SourceText) -> Vec<ImageRewrite> {
        let text = |entry: &Node, key: &str| {
            entry
                .get(key)
                .filter(|n| !n.is_null())
                .and_then(Node::scalar_text)
                .filter(|t| !t.is_empty())
                .map(str::to_string)
        };
        images
            .as_sequence()
            .unwrap_or_default()
            .iter()
            .filter_map(|entry| {
                let rewrite = ImageRewrite {
                    name: text(entry, "name")?,
                    new_name: text(entry, "newName"),
                    new_tag: text(entry, "newTag"),
                    digest: text(entry, "digest"),
                    location: Location::new(source, entry.span),
                };
                (rewrite.new_name.is_some()
                    || rewrite.new_tag.is_some()
                    || rewrite.digest.is_some())
                .then_some(rewrite)
            })
            .collect()
    }

    /// The reference after this rewrite, if it applies to `reference`.
    pub fn apply(&self, reference: &str) -> Option<String> {
        let (name, tag, digest) = split(reference);
        if name != self.name {
            return None;
        }
        let name = self.new_name.as_deref().unwrap_or(name);
        Some(match (&self.digest, &self.new_tag) {
            (Some(digest), _) => format!("{name}@{digest}"),
            (None, Some(tag)) => format!("{name}:{tag}"),
            (None, None) => {
                let mut out = name.to_string();
                if let Some(tag) = tag {
                    out.push(':');
                    out.push_str(tag);
                }
                if let Some(digest) = digest {
                    out.push('@');
                    out.push_str(digest);
                }
                out
            }
        })
    }
}

/// `name[:tag][@digest]`, split the way kustomize matches names.
pub fn split(reference: &str) -> (&str, Option<&str>, Option<&str>) {
    let (rest, digest) = match reference.split_once('@') {
        Some((rest, digest)) => (rest, Some(digest)),
        None => (reference, None),
    };
    let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
    match rest[last_slash..].rfind(':') {
        Some(colon) => {
            let at = last_slash + colon;
            (&rest[..at], Some(&rest[at + 1..]), digest)
        }
        None => (rest, None, digest),
    }
}

/// A kustomization file as a build layer.
#[derive(Debug)]
pub struct Layer {
    pub dir: String,
    pub path: String,
    /// Local files and directories it includes (`resources`, `bases`, `components`).
    pub includes: Vec<String>,
    /// Remote resources, which fluxgate does not fetch.
    pub remote: Vec<String>,
    /// Its `namespace:`, which it sets on everything it builds.
    pub namespace: Option<String>,
    /// The keys its `configMapGenerator`/`secretGenerator` fill from files
    /// (`file` from the repository root): Helm values a release may take,
    /// built with it, so Flux's post-build variables reach them.
    pub generated: Vec<GeneratedKey>,
    /// The keys its generators set from `literals:` (single values a
    /// release may take with `targetPath`).
    pub literals: Vec<GeneratedLiteral>,
    pub images: Vec<ImageRewrite>,
}

pub const FILE_NAMES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// The kustomization file of `dir`, if it has one.
pub fn layer_at(tree: &HeadTree<'_>, dir: &str) -> Result<Option<Layer>, GitError> {
    for name in FILE_NAMES {
        let path = join(dir, name).unwrap_or_else(|| name.to_string());
        let Some(file) = tree.load(&path)? else {
            continue;
        };
        let Some(doc) = file
            .parsed
            .documents
            .iter()
            .find(|d| is_kustomize_config(&d.root))
        else {
            return Ok(None);
        };
        let mut layer = Layer {
            dir: dir.to_string(),
            path,
            includes: Vec::new(),
            remote: Vec::new(),
            namespace: doc
                .root
                .get("namespace")
                .and_then(Node::scalar_text)
                .filter(|n| !n.is_empty())
                .map(str::to_string),
            generated: generated_keys(&doc.root)
                .into_iter()
                .filter_map(|key| {
                    Some(GeneratedKey {
                        file: join(dir, &key.file)?,
                        ..key
                    })
                })
                .collect(),
            literals: generated_literals(&doc.root, file.source.text()),
            images: doc
                .root
                .get("images")
                .map(|images| ImageRewrite::list(images, &file.source))
                .unwrap_or_default(),
        };
        for key in ["resources", "bases", "components"] {
            for entry in doc
                .root
                .get(key)
                .and_then(Node::as_sequence)
                .unwrap_or_default()
            {
                let Some(text) = entry.scalar_text() else {
                    continue;
                };
                if is_remote(text) {
                    layer.remote.push(text.to_string());
                } else if let Some(path) = join(dir, text) {
                    layer.includes.push(path);
                }
            }
        }
        return Ok(Some(layer));
    }
    Ok(None)
}

/// Whether a kustomize resource is remote (a URL or a `host/org/repo` Git path).
fn is_remote(resource: &str) -> bool {
    resource.contains("://")
        || resource.starts_with("git@")
        || resource.starts_with("github.com/")
        || resource.contains("?ref=")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{Side, SourceText, Span};

    fn rewrite(
        name: &str,
        new_name: Option<&str>,
        tag: Option<&str>,
        digest: Option<&str>,
    ) -> ImageRewrite {
        let source = SourceText::new("k.yaml", Side::Head, "x".into());
        ImageRewrite {
            name: name.into(),
            new_name: new_name.map(Into::into),
            new_tag: tag.map(Into::into),
            digest: digest.map(Into::into),
            location: Location::new(&source, Span::new(0, 1)),
        }
    }

    #[test]
    fn rewrites_like_kustomize() {
        let d = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
        let table = [
            (
                rewrite("app", None, Some("2.0"), None),
                "app:1.0",
                Some("app:2.0".to_string()),
            ),
            (
                rewrite("app", Some("ghcr.io/org/app"), None, None),
                "app:1.0",
                Some("ghcr.io/org/app:1.0".into()),
            ),
            (
                rewrite("app", Some("ghcr.io/org/app"), Some("3"), None),
                "app",
                Some("ghcr.io/org/app:3".into()),
            ),
            (
                rewrite("app", None, None, Some(d)),
                "app:1.0",
                Some(format!("app@{d}")),
            ),
            (
                rewrite("app", None, Some("2.0"), None),
                "other/app:1.0",
                None,
            ),
            (
                rewrite("localhost:5000/app", None, Some("2"), None),
                "localhost:5000/app:1",
                Some("localhost:5000/app:2".into()),
            ),
            (
                rewrite("localhost:5000/app", None, Some("2"), None),
                "localhost:5000/app",
                Some("localhost:5000/app:2".into()),
            ),
        ];
        for (rewrite, input, expected) in table {
            assert_eq!(rewrite.apply(input), expected, "{input} with {rewrite:?}");
        }
    }
}
