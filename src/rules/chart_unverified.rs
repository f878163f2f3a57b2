//! `chart-unverified`: a chart's existence could not be established.

use crate::finding::{Finding, Location};

declare_rule! {
    /// ## What it checks
    /// A chart fluxgate could not confirm: its Helm repository or registry
    /// refused access (`unauthorized`), could not be reached
    /// (`unreachable`), rate-limited or failed, did not answer in time
    /// (`timeout`), answered something that is not an index or registry
    /// (`protocol`). A chart that cannot be followed to its repository at
    /// all is `chart-unresolved` instead.
    ///
    /// ## Why it matters
    /// A required check fails closed: a chart nobody could verify is not let
    /// through silently.
    ///
    /// ## Example
    /// A private Helm repository behind `spec.secretRef`, or a registry
    /// behind a firewall.
    ///
    /// ## How to fix
    /// Give the check access to the repository, raise `--timeout`, or, if
    /// you accept the gap, lower this rule's level in `.fluxgate.yaml`.
    CHART_UNVERIFIED { id: "chart-unverified", severity: Error, summary: "a Helm chart could not be verified in its repository" }
}

pub fn finding(location: Location, chart: &str, cause: &str, detail: &str) -> Finding {
    Finding::new(
        &CHART_UNVERIFIED,
        location,
        format!("chart {chart} could not be verified ({cause}): {detail}"),
    )
    .with_help(match cause {
        "unauthorized" => {
            "give fluxgate access to this repository, or lower `chart-unverified` for it"
        }
        "timeout" => "raise `--timeout`",
        _ => "check the repository URL and try again",
    })
}
