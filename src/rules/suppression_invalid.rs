//! `suppression-invalid`: an ignore comment that cannot be honoured.

use crate::finding::{Finding, Location};

declare_rule! {
    /// ## What it checks
    /// A `# fluxgate: ignore[...]` comment that gives no reason, names no
    /// rule, or names a rule that does not exist.
    ///
    /// ## Why it matters
    /// A suppression switches a required check off for one place; the
    /// reason is what a reviewer (and the next engineer) reads to trust it.
    /// Such a comment suppresses nothing.
    ///
    /// ## Example
    /// ```yaml
    /// storage: 20Gi # fluxgate: ignore[pvc-resized]
    /// ```
    ///
    /// ## How to fix
    /// Name the rule ids (`fluxgate rules` lists them) and write the reason
    /// after the `]`: `# fluxgate: ignore[pvc-resized] planned resize, OPS-12`.
    SUPPRESSION_INVALID { id: "suppression-invalid", severity: Warning, summary: "an ignore comment is not valid and suppresses nothing" }
}

pub fn finding(location: Location, problem: &str) -> Finding {
    Finding::new(
        &SUPPRESSION_INVALID,
        location,
        format!("this ignore comment suppresses nothing: {problem}"),
    )
    .with_help("write `# fluxgate: ignore[<rule-id>] <reason>`")
}
