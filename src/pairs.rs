//! Pairs the objects of the changed files across the two sides, by API
//! group, kind, namespace and name: a modified object is a (base, head)
//! pair, an added one has no base, a removed one no head. A file that was
//! renamed or split keeps its objects paired.

use crate::extract;
use crate::k8s::ObjectId;
use crate::load::LoadedFile;
use crate::source::SourceText;
use crate::yaml::Node;
use std::collections::BTreeMap;
use std::sync::Arc;

/// One object at one side.
#[derive(Debug, Clone)]
pub struct Object {
    pub source: Arc<SourceText>,
    pub root: Node,
}

impl Object {
    /// The value at a path of mapping keys.
    pub fn at(&self, path: &[&str]) -> Option<&Node> {
        self.root.get_path(path)
    }
}

/// An object the change touches.
#[derive(Debug, Clone)]
pub struct ObjectChange {
    pub id: ObjectId,
    pub base: Option<Object>,
    pub head: Option<Object>,
}

/// Pairs a removed and an added object that differ only in whether the
/// manifest names the namespace: moving `namespace:` into a kustomization
/// (or out of it) moves no object, and must not read as a deletion.
fn join_namespace_moves(changes: &mut BTreeMap<ObjectId, ObjectChange>) {
    let unmatched =
        |c: &ObjectChange, base: bool| c.base.is_some() == base && c.head.is_some() != base;
    let removed: Vec<ObjectId> = changes
        .values()
        .filter(|c| unmatched(c, true))
        .map(|c| c.id.clone())
        .collect();
    for id in removed {
        let same_object = |other: &ObjectId| {
            other.group == id.group
                && other.kind == id.kind
                && other.name == id.name
                && (other.namespace.is_none() != id.namespace.is_none())
        };
        let added: Vec<ObjectId> = changes
            .values()
            .filter(|c| unmatched(c, false) && same_object(&c.id))
            .map(|c| c.id.clone())
            .collect();
        // Only an unambiguous match: one candidate.
        if let [added] = added.as_slice() {
            let head = changes.remove(added).and_then(|c| c.head);
            if let Some(change) = changes.get_mut(&id) {
                change.head = head;
            }
        }
    }
}

/// Every object of the changed files, paired; identical pairs left out.
pub fn pair(base_files: &[LoadedFile], head_files: &[LoadedFile]) -> Vec<ObjectChange> {
    let mut changes: BTreeMap<ObjectId, ObjectChange> = BTreeMap::new();
    for (files, is_base) in [(base_files, true), (head_files, false)] {
        for file in files {
            for doc in &file.parsed.documents {
                if extract::is_sops_encrypted(&doc.root) {
                    continue;
                }
                let Some(id) = ObjectId::of(&doc.root) else {
                    continue;
                };
                let object = Object {
                    source: file.source.clone(),
                    root: doc.root.clone(),
                };
                let entry = changes.entry(id.clone()).or_insert_with(|| ObjectChange {
                    id,
                    base: None,
                    head: None,
                });
                if is_base {
                    entry.base = Some(object);
                } else {
                    entry.head = Some(object);
                }
            }
        }
    }
    join_namespace_moves(&mut changes);
    changes
        .into_values()
        .filter(|c| match (&c.base, &c.head) {
            (Some(base), Some(head)) => !base.root.same_value(&head.root),
            _ => true,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::parse_bytes;
    use crate::source::Side;
    use crate::yaml::Limits;

    fn file(side: Side, path: &str, text: &str) -> LoadedFile {
        parse_bytes(side, path, text.as_bytes().to_vec(), &Limits::default())
    }

    #[test]
    fn moving_the_namespace_into_a_kustomization_is_no_removal() {
        let claim = "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: data\n";
        let base = file(
            Side::Base,
            "pvc.yaml",
            &format!("{claim}  namespace: monitoring\nspec: {{}}\n"),
        );
        let head = file(Side::Head, "pvc.yaml", &format!("{claim}spec:\n  a: 1\n"));
        let changes = pair(&[base], &[head]);
        assert_eq!(changes.len(), 1);
        assert!(changes[0].base.is_some() && changes[0].head.is_some());

        // Two explicit, different namespaces are two objects.
        let base = file(Side::Base, "pvc.yaml", &format!("{claim}  namespace: a\n"));
        let head = file(Side::Head, "pvc.yaml", &format!("{claim}  namespace: b\n"));
        assert_eq!(pair(&[base], &[head]).len(), 2);
    }
}
