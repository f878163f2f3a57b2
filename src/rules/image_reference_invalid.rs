//! `image-reference-invalid`: an image reference that no registry can serve.

use crate::finding::{Finding, Location};
use crate::source::{SourceText, Span};

declare_rule! {
    /// ## What it checks
    /// An image reference that does not follow the reference grammar
    /// (`[registry/]repository[:tag][@digest]`): an uppercase repository, a
    /// bad tag or digest, surrounding spaces, or a value that is not a string.
    ///
    /// ## Why it matters
    /// The kubelet cannot pull it: the Pod stays in `InvalidImageName` or
    /// `ImagePullBackOff`, and a rollout that needs it never completes.
    ///
    /// ## Example
    /// ```yaml
    /// image: ghcr.io/MyOrg/app:v1   # repository names must be lowercase
    /// ```
    ///
    /// ## How to fix
    /// Write the reference as the registry lists it: lowercase repository,
    /// tag of at most 128 characters from `[A-Za-z0-9_.-]`, digest as
    /// `sha256:` and 64 lowercase hex characters.
    IMAGE_REFERENCE_INVALID { id: "image-reference-invalid", severity: Error, summary: "an image reference is not valid" }
}

pub fn finding(source: &SourceText, span: Span, reference: &str, problem: &str) -> Finding {
    let message = if reference.is_empty() {
        format!("invalid image reference: {problem}")
    } else {
        format!("invalid image reference `{reference}`: {problem}")
    };
    Finding::new(&IMAGE_REFERENCE_INVALID, Location::new(source, span), message)
        .with_help("write the reference as `[registry/]repository[:tag][@sha256:<digest>]`, repository in lowercase")
}
