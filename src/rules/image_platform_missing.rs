//! `image-platform-missing`: an image lacks a platform the cluster needs.

use crate::finding::{Finding, Location};

declare_rule! {
    /// ## What it checks
    /// With `--platform` (or `platforms:` in `.fluxgate.yaml`), that every
    /// changed image provides each platform: an index must list it, a single
    /// manifest's config must be built for it.
    ///
    /// ## Why it matters
    /// Nodes of a missing architecture pull nothing they can run: `exec
    /// format error`, or `no matching manifest for linux/arm64`.
    ///
    /// ## Example
    /// `ghcr.io/org/app:v2` built only for `linux/amd64` in a cluster with
    /// arm64 nodes.
    ///
    /// ## How to fix
    /// Build and push a multi-platform image (`docker buildx build
    /// --platform linux/amd64,linux/arm64 --push`), or pin the workload to
    /// nodes of the platforms it has.
    IMAGE_PLATFORM_MISSING { id: "image-platform-missing", severity: Error, summary: "an image lacks a required platform" }
}

pub fn finding(location: Location, reference: &str, missing: &str, available: &str) -> Finding {
    Finding::new(
        &IMAGE_PLATFORM_MISSING,
        location,
        format!("image `{reference}` has no {missing} (it has: {available})"),
    )
    .with_help(
        "push a multi-platform image, or keep this workload off nodes of the missing platform",
    )
}
