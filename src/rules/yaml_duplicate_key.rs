//! `yaml-duplicate-key`: a mapping that sets the same key twice.

use crate::finding::{Finding, Location};
use crate::source::SourceText;
use crate::yaml::DuplicateKey;

declare_rule! {
    /// ## What it checks
    /// A mapping in a changed file that gives the same key more than once.
    ///
    /// ## Why it matters
    /// Tools disagree on what it means: go-yaml's strict mode (used by
    /// `kubectl` and the API server's field validation) rejects the object,
    /// lenient readers keep the last value. What you reviewed may not be what
    /// is applied.
    ///
    /// ## Example
    /// ```yaml
    /// image: ghcr.io/org/app:v1
    /// image: ghcr.io/org/app:v2
    /// ```
    ///
    /// ## How to fix
    /// Delete one of the two keys.
    YAML_DUPLICATE_KEY { id: "yaml-duplicate-key", severity: Warning, summary: "a mapping sets the same key twice" }
}

pub fn finding(source: &SourceText, duplicate: &DuplicateKey) -> Finding {
    Finding::new(
        &YAML_DUPLICATE_KEY,
        Location::new(source, duplicate.second),
        format!(
            "key `{}` is set twice in the same mapping; fluxgate uses this last value",
            duplicate.key
        ),
    )
    .with_related(Location::new(source, duplicate.first), "first set here")
    .with_help("remove one of the two keys")
}
