//! `job-template-changed`: a Job's pod template or selector changes.

use super::support::{changed_location, describe, differs, modified, of_kind};
use crate::finding::Finding;
use crate::pairs::ObjectChange;

declare_rule! {
    /// ## What it checks
    /// A Job (`batch/v1`) whose `spec.template` or `spec.selector` changes.
    /// CronJobs are not checked: their `jobTemplate` may change, and only
    /// later runs use it.
    ///
    /// ## Why it matters
    /// A Job's pod template and selector are immutable: the API server
    /// refuses the update (`field is immutable`) and the Flux Kustomization
    /// fails, unless the Job is recreated: by Flux's force (`spec.force:
    /// true` on the Kustomization, or the annotation
    /// `kustomize.toolkit.fluxcd.io/force: enabled` on the Job), or under a
    /// new name. A recreated Job runs again, and so does the old one when a
    /// `git revert` recreates it in turn. It is a warning, not an error: a
    /// Job already removed by `ttlSecondsAfterFinished` is simply created
    /// anew.
    ///
    /// ## Example
    /// ```yaml
    /// template:
    ///   spec:
    ///     containers:
    ///       - name: migrate
    ///         image: ghcr.io/acme/migrate:1.5.0   # was 1.4.0
    /// ```
    ///
    /// ## How to fix
    /// Give the changed Job a new name (e.g. with a version suffix), or
    /// annotate it `kustomize.toolkit.fluxcd.io/force: enabled` so Flux
    /// recreates it. Make the Job safe to run twice, since a revert runs the
    /// old one again.
    JOB_TEMPLATE_CHANGED { id: "job-template-changed", severity: Warning, summary: "a Job's pod template or selector changes: it is immutable" }
}

pub fn check(change: &ObjectChange) -> Vec<Finding> {
    let Some((base, head)) = of_kind(change, "batch", "Job").and_then(modified) else {
        return Vec::new();
    };
    ["template", "selector"]
        .into_iter()
        .filter(|field| differs(base, head, &["spec", field]))
        .map(|field| {
            Finding::new(
                &JOB_TEMPLATE_CHANGED,
                changed_location(base, head, &["spec", field]),
                format!(
                    "{} changes spec.{field}, which is immutable: the apply fails unless the Job is recreated (Flux `force: true` or a new name), which runs it again, and a git revert needs the same recreation and reruns the old Job",
                    describe(change)
                ),
            )
            .with_help("give the changed Job a new name, or annotate it `kustomize.toolkit.fluxcd.io/force: enabled` so Flux recreates it; make it safe to run twice")
        })
        .collect()
}
