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
        // Custom resources that carry a whole pod template.
        ("argoproj.io", "Rollout")
        | ("serving.knative.dev", "Service" | "Configuration")
        | ("apps.kruise.io", "CloneSet" | "StatefulSet" | "DaemonSet") => Some(TEMPLATE),
        ("keda.sh", "ScaledJob") => Some(&["spec", "jobTargetRef", "template", "spec"]),
        _ => None,
    }
}

const CONTAINER_LISTS: [&str; 3] = ["initContainers", "containers", "ephemeralContainers"];

/// Every container image of a workload's pod template; `None` when the
/// document is not a workload. Where the template is malformed (a string
/// where the pod spec or a container should be), the images cannot be read:
/// that place is reported as a site without a reference, never passed over.
pub fn image_sites(root: &Node, id: &ObjectId) -> Option<Vec<ImageSite>> {
    let path = pod_spec_path(&id.group, &id.kind)?;
    let mut sites = Vec::new();
    let mut pod_spec = root;
    for (depth, key) in path.iter().enumerate() {
        match pod_spec.get(key) {
            None => return Some(sites),
            Some(node) if node.is_null() => return Some(sites),
            Some(node) if node.as_mapping().is_none() => {
                sites.push(unreadable(node, path[..=depth].join("."), "a mapping"));
                return Some(sites);
            }
            Some(node) => pod_spec = node,
        }
    }
    let prefix = path.join(".");
    for list_name in CONTAINER_LISTS {
        let Some(list) = pod_spec.get(list_name).filter(|l| !l.is_null()) else {
            continue;
        };
        let Some(list) = list.as_sequence() else {
            let field = format!("{prefix}.{list_name}");
            sites.push(unreadable(list, field, "a list of containers"));
            continue;
        };
        for (index, container) in list.iter().enumerate() {
            let field = format!("{prefix}.{list_name}[{index}].image");
            if container.as_mapping().is_none() {
                let field = format!("{prefix}.{list_name}[{index}]");
                sites.push(unreadable(container, field, "a container (a mapping)"));
                continue;
            }
            let Some(image) = container.get("image") else {
                continue;
            };
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
                chart_supplies: None,
                span: image.span,
                related: Vec::new(),
                parts: vec![(0..image.scalar_text().map_or(0, str::len), image.span)],
                field,
                key,
            });
        }
    }
    sites.extend(image_volume_sites(pod_spec, &prefix));
    Some(sites)
}

/// Image volumes (`volumes[].image.reference`, Kubernetes 1.31+): an image
/// or artifact the kubelet pulls like a container's, so it must exist too.
/// A volume of another type, or an image volume without a reference (left
/// for a workload controller to fill in), has none.
fn image_volume_sites(pod_spec: &Node, prefix: &str) -> Vec<ImageSite> {
    let volumes = pod_spec
        .get("volumes")
        .and_then(Node::as_sequence)
        .unwrap_or_default();
    let mut sites = Vec::new();
    for (index, volume) in volumes.iter().enumerate() {
        let Some(reference) = volume.get("image").and_then(|image| image.get("reference")) else {
            continue;
        };
        let Some(text) = reference.as_str().filter(|t| !t.is_empty()) else {
            continue;
        };
        let field = format!("{prefix}.volumes[{index}].image.reference");
        let key = match volume.get("name").and_then(Node::scalar_text) {
            Some(name) => format!("{prefix}.volumes[name={name}].image.reference"),
            None => field.clone(),
        };
        sites.push(ImageSite {
            reference: Ok(text.to_string()),
            incomplete: None,
            chart_supplies: None,
            span: reference.span,
            related: Vec::new(),
            parts: vec![(0..text.len(), reference.span)],
            field,
            key,
        });
    }
    sites
}

/// Whether an image site is an image volume's reference: an image or any
/// OCI artifact, so it has no platforms to check.
pub fn is_image_volume(field: &str) -> bool {
    field.ends_with(".image.reference") && field.contains(".volumes[")
}

/// A place in the pod template that should hold images but has the wrong
/// shape, so the images in it cannot be read.
fn unreadable(node: &Node, field: String, expected: &str) -> ImageSite {
    ImageSite {
        reference: Err(format!(
            "`{field}` must be {expected}, found {}, so its images cannot be read",
            node.type_name()
        )),
        incomplete: None,
        chart_supplies: None,
        span: node.span,
        related: Vec::new(),
        parts: Vec::new(),
        key: field.clone(),
        field,
    }
}
