//! Pod templates of workload kinds and their container images.

use super::{ImageSite, ObjectId};
use crate::yaml::Node;

/// Where the pod spec sits in each workload kind (by API group and kind).
fn pod_spec_path(group: &str, kind: &str) -> Option<&'static [&'static str]> {
    const TEMPLATE: &[&str] = &["spec", "template", "spec"];
    match (group, kind) {
        ("", "Pod") => Some(&["spec"]),
        ("", "ReplicationController")
        | ("apps" | "extensions", "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet")
        | ("batch", "Job") => Some(TEMPLATE),
        ("batch", "CronJob") => Some(&["spec", "jobTemplate", "spec", "template", "spec"]),
        _ => None,
    }
}

const CONTAINER_LISTS: [&str; 3] = ["initContainers", "containers", "ephemeralContainers"];

/// Every container image of a workload's pod template; `None` when the
/// document is not a workload.
pub fn image_sites(root: &Node, id: &ObjectId) -> Option<Vec<ImageSite>> {
    let path = pod_spec_path(&id.group, &id.kind)?;
    let mut sites = Vec::new();
    let Some(pod_spec) = root.get_path(path) else {
        return Some(sites);
    };
    let prefix = path.join(".");
    for list_name in CONTAINER_LISTS {
        let Some(list) = pod_spec.get(list_name).and_then(Node::as_sequence) else {
            continue;
        };
        for (index, container) in list.iter().enumerate() {
            let Some(image) = container.get("image") else {
                continue;
            };
            let field = format!("{prefix}.{list_name}[{index}].image");
            let name = container.get("name").and_then(Node::scalar_text);
            let key = match name {
                Some(name) => format!("{prefix}.{list_name}[name={name}].image"),
                None => field.clone(),
            };
            let reference = match image.as_str() {
                Some(text) => Ok(text.to_string()),
                None if image.is_null() => Err("the image is empty".to_string()),
                None => Err(format!("expected a string, found {}", image.type_name())),
            };
            sites.push(ImageSite {
                reference,
                incomplete: None,
                span: image.span,
                related: Vec::new(),
                parts: vec![(0..image.scalar_text().map_or(0, str::len), image.span)],
                field,
                key,
            });
        }
    }
    Some(sites)
}
