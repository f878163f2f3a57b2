//! `yaml-invalid`: a changed file that is not valid YAML (as go-yaml reads it).

use crate::finding::{Finding, Location};
use crate::source::{SourceText, Span};

declare_rule! {
    /// ## What it checks
    /// A changed `.yaml`/`.yml` file that cannot be parsed: a syntax error,
    /// text that is not UTF-8, or a file past the size, nesting, document or
    /// alias-expansion limits.
    ///
    /// ## Why it matters
    /// Flux cannot apply a file it cannot parse: the Kustomization fails and
    /// nothing under it is reconciled until the file is fixed.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    /// 	replicas: 2   # a tab in indentation
    /// ```
    ///
    /// ## How to fix
    /// Fix the syntax at the reported position. fluxgate reads YAML as libyaml
    /// (and so go-yaml, and so Flux) does, so what it rejects, Flux rejects too.
    YAML_INVALID { id: "yaml-invalid", severity: Error, summary: "a changed YAML file cannot be parsed" }
}

/// The finding for one unreadable file.
pub fn finding(source: &SourceText, span: Span, problem: &str) -> Finding {
    Finding::new(
        &YAML_INVALID,
        Location::new(source, span),
        format!("{} is not valid YAML: {problem}", source.path),
    )
    .with_help("fix the YAML at this position; Flux cannot apply this file as it is")
}

/// The finding for Helm values a HelmRelease takes with `valuesFrom` from a
/// key of a changed file (`what` names them) that do not parse.
pub fn values_finding(source: &SourceText, span: Span, what: &str, problem: &str) -> Finding {
    Finding::new(
        &YAML_INVALID,
        Location::new(source, span),
        format!("{what} in {} are not valid YAML: {problem}", source.path),
    )
    .with_help("fix the YAML inside the block; Flux cannot install the release with these values")
}
