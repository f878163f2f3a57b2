//! Routes that make a [`super::FaultServer`] an HTTP Helm repository.

use super::{Behaviour, Route};
use std::collections::BTreeMap;

/// An HTTP Helm repository at `prefix` (`/charts`): its `index.yaml` lists
/// each `(name, version, archive)`, served as `<prefix>/<name>-<version>.tgz`.
pub fn helm_repository(prefix: &str, charts: &[(&str, &str, Vec<u8>)]) -> Vec<Route> {
    let mut entries: BTreeMap<&str, String> = BTreeMap::new();
    for (name, version, _) in charts {
        entries.entry(name).or_default().push_str(&format!(
            "  - name: {name}\n    version: {version}\n    urls: [{name}-{version}.tgz]\n"
        ));
    }
    let mut index = String::from("apiVersion: v1\nentries:\n");
    for (name, versions) in entries {
        index.push_str(&format!("  {name}:\n{versions}"));
    }
    let mut routes = vec![Route::new(
        "GET",
        &format!("{prefix}/index.yaml"),
        Behaviour::respond(200, &[], index),
    )];
    for (name, version, archive) in charts {
        routes.push(Route::new(
            "GET",
            &format!("{prefix}/{name}-{version}.tgz"),
            Behaviour::respond(
                200,
                &[("content-type", "application/gzip")],
                archive.clone(),
            ),
        ));
    }
    routes
}
