//! `image-not-found`: the registry says the manifest does not exist.

use crate::finding::{Finding, Location};

declare_rule! {
    /// ## What it checks
    /// Every image reference the change adds or modifies is looked up in its
    /// registry (`HEAD /v2/<name>/manifests/<tag|digest>`). This rule fires
    /// only when the registry answers 404: the tag, digest or repository does
    /// not exist.
    ///
    /// ## Why it matters
    /// Flux applies the change and the pods never start: `ImagePullBackOff`,
    /// a stuck rollout, and on a Deployment a rollout that blocks the next one.
    ///
    /// ## Example
    /// ```yaml
    /// image: ghcr.io/org/app:v1.2.30   # v1.2.3 was meant; v1.2.30 was never pushed
    /// ```
    ///
    /// ## How to fix
    /// Correct the tag or digest, or push the image before merging. Check the
    /// name with `skopeo inspect docker://<reference>`.
    IMAGE_NOT_FOUND { id: "image-not-found", severity: Error, summary: "an image does not exist in its registry" }
}

pub fn finding(location: Location, reference: &str, detail: &str) -> Finding {
    Finding::new(
        &IMAGE_NOT_FOUND,
        location,
        format!("image `{reference}` does not exist: {detail}"),
    )
    .with_help("fix the tag or digest, or push the image before merging")
}
