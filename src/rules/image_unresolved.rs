//! `image-unresolved`: a reference fluxgate cannot complete from the repo.

use crate::finding::{Finding, Location};
use crate::source::{SourceText, Span};

declare_rule! {
    /// ## What it checks
    /// An image reference that is not complete in the repository: it uses a
    /// Flux post-build variable (`${TAG}`), a Helm template expression, or
    /// leaves the tag (or, where the chart cannot be read, the repository)
    /// to a chart, or to the resources a kustomize `images:` entry rewrites.
    ///
    /// ## Why it matters
    /// fluxgate cannot check that such an image exists, so a typo in it can
    /// still reach the cluster.
    ///
    /// ## Example
    /// ```yaml
    /// image: ghcr.io/org/app:${APP_TAG}
    /// ```
    ///
    /// ## How to fix
    /// Write the full reference where you can. Otherwise review it by hand, or
    /// lower this rule's level in `.fluxgate.yaml` if you accept the gap.
    IMAGE_UNRESOLVED { id: "image-unresolved", severity: Warning, summary: "an image reference cannot be resolved from the repository" }
}

pub fn finding(source: &SourceText, span: Span, reference: &str, why: &str) -> Finding {
    Finding::new(
        &IMAGE_UNRESOLVED,
        Location::new(source, span),
        format!("image `{reference}` cannot be checked: {why}"),
    )
    .with_help("write the full reference, or verify this image by hand")
}
