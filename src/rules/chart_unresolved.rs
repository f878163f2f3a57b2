//! `chart-unresolved`: the chart cannot be resolved from this repository.

use crate::finding::{Finding, Location};

declare_rule! {
    /// ## What it checks
    /// A chart that fluxgate cannot follow to a place it can ask: the
    /// HelmRelease's `sourceRef` (or `chartRef`) names a source that is not
    /// defined in this repository at head, the source is another Git
    /// repository, or the chart name, version or repository URL uses a Flux
    /// post-build variable without a value.
    ///
    /// ## Why it matters
    /// The chart version is not checked at all. That is often fine (sources
    /// kept in a platform repository), so this is a warning, like
    /// `image-unresolved`; raise it to an error to require every chart to be
    /// checkable.
    ///
    /// ## Example
    /// ```yaml
    /// sourceRef:
    ///   kind: HelmRepository
    ///   name: platform-charts   # defined in another repository
    /// ```
    ///
    /// ## How to fix
    /// Define the source in this repository, set the variable, or accept the
    /// gap (`rules: { chart-unresolved: off }` in .fluxgate.yaml).
    CHART_UNRESOLVED { id: "chart-unresolved", severity: Warning, summary: "a Helm chart cannot be resolved from this repository" }
}

pub fn finding(location: Location, chart: &str, detail: &str) -> Finding {
    Finding::new(
        &CHART_UNRESOLVED,
        location,
        format!("chart {chart} was not checked: {detail}"),
    )
    .with_help("define the chart's source in this repository, or lower `chart-unresolved` in .fluxgate.yaml if it lives elsewhere")
}
