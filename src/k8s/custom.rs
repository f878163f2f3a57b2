//! Images in custom resources: built-in field paths for the common
//! controllers (system-upgrade-controller Plans, Tekton), and the paths a
//! repository adds in `.fluxgate.yaml` (`images: { extra_fields: [...] }`).
//! Custom resources with a whole pod template (Argo Rollouts, Knative,
//! KEDA, OpenKruise) are read as workloads.

use super::{part, Assembler, ImageSite, ObjectId};
use crate::yaml::{Node, Value};

/// One step of a field path: a key, or every item of a list (`[]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Key(String),
    Each,
}

/// A configured image field: `{ kind, apiVersion, path }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtraField {
    pub kind: String,
    /// The API group (from `apiVersion`); `None` matches any group.
    pub group: Option<String>,
    pub path: Vec<Step>,
}

/// Where else images are written, from the configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageFields {
    pub extra: Vec<ExtraField>,
}

/// `spec.steps[].image` -> `[Key(spec), Key(steps), Each, Key(image)]`.
pub fn parse_path(text: &str) -> Result<Vec<Step>, String> {
    let mut steps = Vec::new();
    for part in text.split('.') {
        let (key, lists) = match part.find("[]") {
            Some(at) => (&part[..at], &part[at..]),
            None => (part, ""),
        };
        if key.is_empty() || key.contains(['[', ']']) || !lists.replace("[]", "").is_empty() {
            return Err(format!(
                "`{text}` is not a field path (write keys separated by dots, `[]` after a list: `spec.steps[].image`)"
            ));
        }
        steps.push(Step::Key(key.to_string()));
        steps.extend(std::iter::repeat_n(Step::Each, lists.len() / 2));
    }
    Ok(steps)
}

/// The built-in image fields of a custom resource, and the configured ones.
pub fn image_sites(root: &Node, id: &ObjectId, fields: &ImageFields) -> Option<Vec<ImageSite>> {
    let mut sites = builtin(root, id);
    for extra in fields
        .extra
        .iter()
        .filter(|f| f.kind == id.kind && f.group.as_ref().is_none_or(|g| *g == id.group))
    {
        sites
            .get_or_insert_with(Vec::new)
            .extend(strings_at(root, &extra.path, String::new()));
    }
    sites
}

fn builtin(root: &Node, id: &ObjectId) -> Option<Vec<ImageSite>> {
    let paths: &[&str] = match (id.group.as_str(), id.kind.as_str()) {
        ("upgrade.cattle.io", "Plan") => return Some(plan_sites(root)),
        ("tekton.dev", "Task" | "ClusterTask") => &[
            "spec.steps[].image",
            "spec.sidecars[].image",
            "spec.stepTemplate.image",
        ],
        ("tekton.dev", "TaskRun") => &[
            "spec.taskSpec.steps[].image",
            "spec.taskSpec.sidecars[].image",
        ],
        ("tekton.dev", "Pipeline") => &[
            "spec.tasks[].taskSpec.steps[].image",
            "spec.finally[].taskSpec.steps[].image",
        ],
        _ => return None,
    };
    let mut sites = Vec::new();
    for path in paths {
        let steps = parse_path(path).expect("built-in paths are valid");
        sites.extend(strings_at(root, &steps, String::new()));
    }
    Some(sites)
}

/// Every string at a path, with its field name.
fn strings_at(node: &Node, steps: &[Step], field: String) -> Vec<ImageSite> {
    let Some((step, rest)) = steps.split_first() else {
        return match node.as_str().filter(|t| !t.is_empty()) {
            Some(text) => vec![site(text, node, field)],
            None => Vec::new(),
        };
    };
    match (step, &node.value) {
        (Step::Key(key), Value::Mapping(_)) => match node.get(key) {
            Some(child) => {
                let field = if field.is_empty() {
                    key.clone()
                } else {
                    format!("{field}.{key}")
                };
                strings_at(child, rest, field)
            }
            None => Vec::new(),
        },
        (Step::Each, Value::Sequence(items)) => items
            .iter()
            .enumerate()
            .flat_map(|(i, item)| strings_at(item, rest, format!("{field}[{i}]")))
            .collect(),
        _ => Vec::new(),
    }
}

fn site(text: &str, node: &Node, field: String) -> ImageSite {
    ImageSite {
        reference: Ok(text.to_string()),
        incomplete: None,
        chart_supplies: None,
        span: node.span,
        related: Vec::new(),
        parts: vec![(0..text.len(), node.span)],
        key: field.clone(),
        field,
    }
}

/// A Plan's `spec.upgrade.image` (and `spec.prepare.image`); without a tag,
/// system-upgrade-controller tags it with `spec.version` (`+` written `-`).
fn plan_sites(root: &Node) -> Vec<ImageSite> {
    let mut sites = Vec::new();
    let version = root.get("spec").and_then(|spec| part(spec, "version"));
    for stage in ["upgrade", "prepare"] {
        let Some(container) = root.get("spec").and_then(|s| s.get(stage)) else {
            continue;
        };
        let Some((image, image_node)) = part(container, "image") else {
            continue;
        };
        let field = format!("spec.{stage}.image");
        let tagged = image.contains('@')
            || image
                .rsplit_once('/')
                .map_or(image, |(_, last)| last)
                .contains(':');
        match version.filter(|_| !tagged) {
            Some((version, version_node)) => {
                let mut reference = Assembler::default();
                reference.push("", image, image_node);
                reference.push(":", &version.replace('+', "-"), version_node);
                sites.push(ImageSite {
                    reference: Ok(reference.text),
                    incomplete: None,
                    chart_supplies: None,
                    span: version_node.span,
                    related: vec![(image_node.span, "image set here".to_string())],
                    parts: reference.parts,
                    key: field.clone(),
                    field,
                });
            }
            None => sites.push(site(image, image_node, field)),
        }
    }
    sites
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_paths_parse() {
        assert_eq!(
            parse_path("spec.steps[].image"),
            Ok(vec![
                Step::Key("spec".into()),
                Step::Key("steps".into()),
                Step::Each,
                Step::Key("image".into())
            ])
        );
        assert_eq!(parse_path("spec.upgrade.image").unwrap().len(), 3);
        for bad in [
            "",
            "spec..image",
            "spec.[]",
            "spec.steps[0].image",
            "spec.steps[]x",
        ] {
            assert!(parse_path(bad).is_err(), "{bad}");
        }
    }
}
