//! The registry benchmark's fixture: a loopback registry (the test
//! harness's `TestRegistry::plain()`) holding 400 tags, 100 references it
//! does not hold, and a git repository whose pull request adds Deployments
//! using all 500.

use std::fmt::Write as _;
use std::path::Path;

use crate::generate::{write_repo, CommitSpec, Rng};
use crate::registry::{OciLayout, Request, TestRegistry};

/// Repositories the 400 existing tags are spread over.
const REPOSITORIES: usize = 8;
/// Deployments per file of the pull request.
const PER_FILE: usize = 50;

/// The 500 references (`name:tag`, without the registry host): 400 exist.
pub struct References {
    pub existing: Vec<String>,
    pub missing: Vec<String>,
}

impl References {
    pub fn new(existing: usize, missing: usize) -> References {
        let per_repo = existing.div_ceil(REPOSITORIES);
        let existing = (0..existing)
            .map(|i| format!("bench/app-{}:v{}", i / per_repo, i % per_repo))
            .collect();
        // Most missing references are absent tags of existing repositories,
        // a fifth are repositories that do not exist at all.
        let missing = (0..missing)
            .map(|i| match i % 5 {
                4 => format!("bench/gone-{i}:v1"),
                _ => format!("bench/app-{}:absent-{i}", i % REPOSITORIES),
            })
            .collect();
        References { existing, missing }
    }

    /// All references in a fixed shuffled order (missing ones interleaved).
    pub fn all(&self, seed: u64) -> Vec<String> {
        let mut all: Vec<String> = self.existing.iter().chain(&self.missing).cloned().collect();
        let mut rng = Rng::new(seed);
        for i in (1..all.len()).rev() {
            let j = rng.range(0, i);
            all.swap(i, j);
        }
        all
    }
}

/// Pushes one small image per repository with skopeo, then points every
/// other tag at the same manifest with a `PUT` (what `docker tag` + push of
/// an existing image costs a registry).
pub fn seed(registry: &TestRegistry, references: &References) {
    let layout = OciLayout::image("linux", "amd64");
    let mut first_of_repo: Vec<(String, crate::registry::HttpResponse)> = Vec::new();
    for reference in &references.existing {
        let (name, _) = crate::registry::split_reference(reference);
        match first_of_repo.iter().find(|(repo, _)| repo == name) {
            Some((_, manifest)) => {
                let (name, tag) = crate::registry::split_reference(reference);
                let content_type = manifest
                    .header("Content-Type")
                    .expect("manifest Content-Type");
                let put = registry.send(
                    &Request::new("PUT", &format!("/v2/{name}/manifests/{tag}"))
                        .header("Content-Type", content_type)
                        .body(manifest.body.clone()),
                );
                assert_eq!(put.status, 201, "PUT manifest {reference}: {put:?}");
            }
            None => {
                registry.push(&layout, reference);
                let manifest = registry.get_manifest(reference);
                assert_eq!(manifest.status, 200, "GET {reference}: {manifest:?}");
                first_of_repo.push((name.to_string(), manifest));
            }
        }
    }
}

/// A repository whose pull request (`main` -> `feature`) adds files of
/// Deployments, one container each, using every reference once.
pub fn write_pr_repo(dir: &Path, host: &str, references: &[String]) {
    let base = vec![(
        "apps/bench/namespace.yaml".to_string(),
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: bench\n".to_string(),
    )];
    let head: Vec<(String, String)> = references
        .chunks(PER_FILE)
        .enumerate()
        .map(|(file, chunk)| {
            let mut text = String::new();
            for (index, reference) in chunk.iter().enumerate() {
                if index > 0 {
                    text.push_str("---\n");
                }
                let _ = write!(
                    text,
                    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-{file}-{index}\n  namespace: bench\nspec:\n  selector:\n    matchLabels:\n      app: app-{file}-{index}\n  template:\n    metadata:\n      labels:\n        app: app-{file}-{index}\n    spec:\n      containers:\n        - name: app\n          image: {host}/{reference}\n"
                );
            }
            (format!("apps/bench/deploy-{file:02}.yaml"), text)
        })
        .collect();
    write_repo(
        dir,
        &[
            CommitSpec {
                branch: "main",
                parent: None,
                files: &base,
                message: "namespace",
            },
            CommitSpec {
                branch: "feature",
                parent: Some(0),
                files: &head,
                message: "deploy 500 images",
            },
        ],
    );
}
