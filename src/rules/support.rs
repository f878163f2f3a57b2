//! Small helpers rollback rules share: locations of fields, and whether a
//! field differs between the two sides of an object.

use crate::finding::Location;
use crate::pairs::{Object, ObjectChange};
use crate::yaml::Node;

/// The location of a node of an object.
pub fn location(object: &Object, node: &Node) -> Location {
    Location::new(&object.source, node.span)
}

/// Where an object is named (`metadata.name`), else its start: the place a
/// finding about the whole object points at.
pub fn name_location(object: &Object) -> Location {
    let node = object.at(&["metadata", "name"]).unwrap_or(&object.root);
    location(object, node)
}

/// The location of a field if it is there; else the key of its nearest
/// ancestor that is (`spec:` for a dropped `spec.podManagementPolicy`: a
/// mapping's own span starts at its first key, an unrelated line); else the
/// object's name.
pub fn field_location(object: &Object, path: &[&str]) -> Location {
    if let Some(node) = object.at(path) {
        return location(object, node);
    }
    (1..path.len())
        .rev()
        .find_map(|n| object.at(&path[..n - 1])?.key_node(path[n - 1]))
        .map_or_else(|| name_location(object), |key| location(object, key))
}

/// Whether a field holds different values on the two sides (present on one
/// side only counts as different).
pub fn differs(base: &Object, head: &Object, path: &[&str]) -> bool {
    match (base.at(path), head.at(path)) {
        (None, None) => false,
        (Some(a), Some(b)) => !a.same_value(b),
        _ => true,
    }
}

/// The change if it is of this API group and kind.
pub fn of_kind<'c>(change: &'c ObjectChange, group: &str, kind: &str) -> Option<&'c ObjectChange> {
    (change.id.group == group && change.id.kind == kind).then_some(change)
}

/// Both sides, for a modified object.
pub fn modified(change: &ObjectChange) -> Option<(&Object, &Object)> {
    Some((change.base.as_ref()?, change.head.as_ref()?))
}

/// The base side, for a removed object.
pub fn removed(change: &ObjectChange) -> Option<&Object> {
    match (&change.base, &change.head) {
        (Some(base), None) => Some(base),
        _ => None,
    }
}

/// `kind namespace/name` for messages.
pub fn describe(change: &ObjectChange) -> String {
    format!("{} {}", change.id.kind, change.id.display_name())
}

/// Where a field changed on the head side: the deepest differing value
/// under `path` when the field is on both sides, else the field (or its
/// nearest ancestor).
pub fn changed_location(base: &Object, head: &Object, path: &[&str]) -> Location {
    match (base.at(path), head.at(path)) {
        (Some(before), Some(after)) => location(head, changed_node(before, after).unwrap_or(after)),
        _ => field_location(head, path),
    }
}

/// The deepest node of `head` whose value differs from `base`, following
/// mapping keys and sequence positions (a key only `head` has is the node
/// itself); `None` when they hold the same value.
pub fn changed_node<'h>(base: &Node, head: &'h Node) -> Option<&'h Node> {
    if base.same_value(head) {
        return None;
    }
    if let (Some(_), Some(entries)) = (base.as_mapping(), head.as_mapping()) {
        let differing = entries.iter().find_map(|(key, _)| {
            let text = key.scalar_text()?;
            match (base.get(text), head.get(text)?) {
                (Some(before), after) => changed_node(before, after),
                (None, _) => Some(key),
            }
        });
        // Only keys removed on head: point at the mapping that lost them.
        return Some(differing.unwrap_or(head));
    }
    if let (Some(before), Some(after)) = (base.as_sequence(), head.as_sequence()) {
        let differing = before
            .iter()
            .zip(after)
            .find_map(|(b, a)| changed_node(b, a));
        return Some(
            differing
                .or_else(|| after.get(before.len()))
                .unwrap_or(head),
        );
    }
    Some(head)
}
