//! kustomize `images:` entries, in `kustomization.yaml` files and in Flux
//! Kustomization `spec.images` (the same shape).

use super::{part, Assembler, ImageSite};
use crate::source::Span;
use crate::yaml::{Node, Scalar, Value};

/// Whether a file is a kustomize config, by name as kustomize finds it.
pub fn is_kustomization_file(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    matches!(
        name,
        "kustomization.yaml" | "kustomization.yml" | "Kustomization"
    )
}

/// Whether a document in a kustomization file is a kustomize config (its
/// apiVersion is `kustomize.config.k8s.io/*`, or it has none).
pub fn is_kustomize_config(root: &Node) -> bool {
    match root.get("apiVersion").and_then(Node::scalar_text) {
        None => root.as_mapping().is_some(),
        Some(v) => v.starts_with("kustomize.config.k8s.io/"),
    }
}

/// A ConfigMap or Secret key that a kustomize generator fills from a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedKey {
    /// `ConfigMap` or `Secret`.
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
    pub key: String,
    /// The file, as written (relative to the kustomization's directory).
    pub file: String,
}

/// One generator of a kustomize config: the kind it makes, its name and
/// namespace, and the entries of one of its lists (`files`, `literals`).
struct Generator<'a> {
    kind: &'static str,
    name: String,
    namespace: Option<String>,
    entries: &'a [Node],
}

fn non_empty(node: &Node, key: &str) -> Option<String> {
    node.get(key)
        .and_then(Node::scalar_text)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
}

/// The `configMapGenerator` and `secretGenerator` entries of a kustomize
/// config, with their `list` entries.
fn generators<'a>(root: &'a Node, list: &str) -> Vec<Generator<'a>> {
    let default_namespace = non_empty(root, "namespace");
    let mut found = Vec::new();
    for (field, kind) in [
        ("configMapGenerator", "ConfigMap"),
        ("secretGenerator", "Secret"),
    ] {
        for generator in root
            .get(field)
            .and_then(Node::as_sequence)
            .unwrap_or_default()
        {
            let Some(name) = non_empty(generator, "name") else {
                continue;
            };
            found.push(Generator {
                kind,
                name,
                namespace: non_empty(generator, "namespace").or_else(|| default_namespace.clone()),
                entries: generator
                    .get(list)
                    .and_then(Node::as_sequence)
                    .unwrap_or_default(),
            });
        }
    }
    found
}

/// The keys that `configMapGenerator` and `secretGenerator` fill from
/// `files:` (`path`, or `key=path`) in a kustomize config.
pub fn generated_keys(root: &Node) -> Vec<GeneratedKey> {
    let mut keys = Vec::new();
    for generator in generators(root, "files") {
        for entry in generator.entries {
            let Some(written) = entry.scalar_text() else {
                continue;
            };
            let (key, file) = match written.split_once('=') {
                Some((key, file)) => (key.to_string(), file.to_string()),
                None => (
                    written.rsplit('/').next().unwrap_or(written).to_string(),
                    written.to_string(),
                ),
            };
            keys.push(GeneratedKey {
                kind: generator.kind.to_string(),
                name: generator.name.clone(),
                namespace: generator.namespace.clone(),
                key,
                file,
            });
        }
    }
    keys
}

/// A ConfigMap or Secret key that a kustomize generator sets from a literal
/// (`literals: [tag=1.2.3]`).
#[derive(Debug, Clone, PartialEq)]
pub struct GeneratedLiteral {
    /// `ConfigMap` or `Secret`.
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
    pub key: String,
    /// The value, at its place inside the literal where the literal is
    /// written as is (plain, or quoted without escapes); else at the whole
    /// literal.
    pub value: Node,
}

/// The keys that `configMapGenerator` and `secretGenerator` set from
/// `literals:` in a kustomize config whose text is `text`.
pub fn generated_literals(root: &Node, text: &str) -> Vec<GeneratedLiteral> {
    let mut literals = Vec::new();
    for generator in generators(root, "literals") {
        for entry in generator.entries {
            let Some(written) = entry.scalar_text() else {
                continue;
            };
            let Some((key, value)) = written.split_once('=') else {
                continue;
            };
            literals.push(GeneratedLiteral {
                kind: generator.kind.to_string(),
                name: generator.name.clone(),
                namespace: generator.namespace.clone(),
                key: key.trim().to_string(),
                value: literal_value(entry, text, key.len() + 1, value),
            });
        }
    }
    literals
}

/// The value of a literal `key=value` (`value` from `offset` in the
/// literal's text), kustomize's surrounding quotes removed.
fn literal_value(entry: &Node, text: &str, offset: usize, value: &str) -> Node {
    let raw = text
        .get(entry.span.start..entry.span.end)
        .unwrap_or_default();
    let written = entry.scalar_text().unwrap_or_default();
    // Where the literal's text starts in the file, if it is written as is.
    let start = if raw == written {
        Some(entry.span.start)
    } else if raw.len() == written.len() + 2 && raw.get(1..raw.len() - 1) == Some(written) {
        Some(entry.span.start + 1)
    } else {
        None
    };
    let quoted = value.len() >= 2
        && (value.starts_with('"') && value.ends_with('"')
            || value.starts_with('\'') && value.ends_with('\''));
    let (value, skip) = if quoted {
        (&value[1..value.len() - 1], 1)
    } else {
        (value, 0)
    };
    let span = match start {
        Some(start) => Span::new(start + offset + skip, start + offset + skip + value.len()),
        None => entry.span,
    };
    Node {
        span,
        value: Value::Scalar(Scalar {
            text: value.to_string(),
            plain: false,
            tag: None,
        }),
    }
}

/// The effective reference of each entry of an `images:` list at `prefix`.
pub fn image_sites(images: &Node, prefix: &str) -> Vec<ImageSite> {
    let Some(entries) = images.as_sequence() else {
        return Vec::new();
    };
    entries
        .iter()
        .enumerate()
        .filter_map(|(index, entry)| entry_site(entry, &format!("{prefix}[{index}]")))
        .collect()
}

fn entry_site(entry: &Node, field: &str) -> Option<ImageSite> {
    let name = part(entry, "name");
    let new_name = part(entry, "newName");
    let new_tag = part(entry, "newTag");
    let digest = part(entry, "digest");
    if new_name.is_none() && new_tag.is_none() && digest.is_none() {
        // An entry that only names an image changes nothing.
        return None;
    }
    let (repository, repository_node) = new_name.or(name)?;
    let mut reference = Assembler::default();
    reference.push("", repository, repository_node);
    if let Some((tag, node)) = new_tag {
        reference.push(":", tag, node);
    }
    if let Some((digest, node)) = digest {
        reference.push("@", digest, node);
    }
    let incomplete = (new_tag.is_none() && digest.is_none()).then(|| {
        "the entry sets only `newName`; the tag comes from the resources it rewrites".to_string()
    });
    let primary = digest.or(new_tag).map_or(repository_node, |(_, node)| node);
    let mut related = Vec::new();
    if !std::ptr::eq(primary, repository_node) {
        related.push((repository_node.span, "image name set here".to_string()));
    }
    let key = match name {
        Some((name, _)) => format!("images[name={name}]"),
        None => field.to_string(),
    };
    Some(ImageSite {
        reference: Ok(reference.text),
        incomplete,
        chart_supplies: None,
        span: primary.span,
        related,
        parts: reference.parts,
        field: field.to_string(),
        key,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::Limits;

    /// Each literal's key, value, and the text at the value's span.
    fn literals(text: &str) -> Vec<(String, String, String)> {
        let parsed = crate::yaml::parse(text, &Limits::default());
        generated_literals(&parsed.documents[0].root, text)
            .into_iter()
            .map(|l| {
                let at = text[l.value.span.start..l.value.span.end].to_string();
                (l.key, l.value.scalar_text().unwrap().to_string(), at)
            })
            .collect()
    }

    #[test]
    fn literal_values_keep_their_place() {
        let text = "configMapGenerator:\n  - name: v\n    literals:\n      - tag=1.2\n      - \"quoted=2.0\"\n      - 'inner=\"3.0\"'\n      - \"esc=\\u0034\"\n      - novalue\n";
        assert_eq!(
            literals(text),
            [
                ("tag".into(), "1.2".into(), "1.2".into()),
                ("quoted".into(), "2.0".into(), "2.0".into()),
                ("inner".into(), "3.0".into(), "3.0".into()),
                // Escapes move the text: the whole literal is the place.
                ("esc".into(), "4".into(), "\"esc=\\u0034\"".into()),
            ]
        );
    }
}
