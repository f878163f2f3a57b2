//! `chart-not-found`: the Helm repository or registry says the chart
//! version does not exist.

use crate::finding::{Finding, Location};

declare_rule! {
    /// ## What it checks
    /// Every Helm chart a change adds or modifies: a HelmRelease's
    /// `spec.chart.spec.{chart, version}` from its `sourceRef` (an HTTP(S)
    /// HelmRepository's `index.yaml`, or an OCI HelmRepository's registry),
    /// a `spec.chartRef` to an OCIRepository, an OCIRepository's own
    /// `spec.url` + `spec.ref` (tag, semver range or digest), and legacy
    /// `helm.fluxcd.io/v1` charts. An exact version must be listed; a range
    /// (`>=1.0 <2.0`, `6.x`) must be met by at least one version; no version
    /// means the latest, which exists if the chart has any release. A chart
    /// from a GitRepository that is this repository must have its
    /// `Chart.yaml` at head.
    ///
    /// ## Why it matters
    /// helm-controller cannot fetch the chart: the HelmRelease stays not
    /// ready, and an upgrade waiting behind it never happens.
    ///
    /// ## Example
    /// ```yaml
    /// chart:
    ///   spec:
    ///     chart: podinfo
    ///     version: 6.5.40   # 6.5.4 was meant
    /// ```
    ///
    /// ## How to fix
    /// Correct the version (`helm search repo <chart> --versions` lists
    /// them), or publish the chart before merging.
    CHART_NOT_FOUND { id: "chart-not-found", severity: Error, summary: "a Helm chart version does not exist in its repository" }
}

pub fn finding(location: Location, chart: &str, detail: &str) -> Finding {
    Finding::new(
        &CHART_NOT_FOUND,
        location,
        format!("chart {chart} does not exist: {detail}"),
    )
    .with_help("fix the chart name or version, or publish the chart before merging")
}
