//! `image-digest-mismatch`: a `tag@digest` whose tag moved elsewhere.

use crate::finding::{Finding, Location};

declare_rule! {
    /// ## What it checks
    /// A reference with both a tag and a digest (`app:1.2@sha256:...`) whose
    /// tag no longer points at that digest, or no longer exists.
    ///
    /// ## Why it matters
    /// The kubelet pulls by digest and ignores the tag, so what runs is not
    /// what the tag says. Reviewers read the tag.
    ///
    /// ## Example
    /// Renovate pinned `1.2@sha256:aaa`, then `1.2` was re-pushed as `sha256:bbb`.
    ///
    /// ## How to fix
    /// Update the digest to what the tag points at now, or the tag to one
    /// that names the pinned digest.
    IMAGE_DIGEST_MISMATCH { id: "image-digest-mismatch", severity: Warning, summary: "a pinned digest and its tag disagree" }
}

pub fn finding(location: Location, reference: &str, problem: &str) -> Finding {
    Finding::new(
        &IMAGE_DIGEST_MISMATCH,
        location,
        format!("image `{reference}`: {problem}"),
    )
    .with_help("make the tag and the digest agree; the digest is what runs")
}
