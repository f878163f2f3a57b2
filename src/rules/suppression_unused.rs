//! `suppression-unused`: an ignore comment that matched no finding.

use crate::finding::{Finding, Location};

declare_rule! {
    /// ## What it checks
    /// A valid `# fluxgate: ignore[...]` comment that matched no finding on
    /// the lines it covers.
    ///
    /// ## Why it matters
    /// A stale suppression hides the next real finding at that place, long
    /// after its reason stopped being true.
    ///
    /// ## Example
    /// An ignore for `pvc-resized` left behind after the resize merged.
    ///
    /// ## How to fix
    /// Delete the comment (or move it to the line of the finding it was
    /// meant for).
    SUPPRESSION_UNUSED { id: "suppression-unused", severity: Warning, summary: "an ignore comment matched no finding" }
}

pub fn finding(location: Location, rules: &str) -> Finding {
    Finding::new(
        &SUPPRESSION_UNUSED,
        location,
        format!("this ignore comment for `{rules}` matched no finding"),
    )
    .with_help("delete the comment, or move it to the line of the finding it is for")
}
