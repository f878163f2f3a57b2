//! `helm-chart-major-upgrade`: a HelmRelease chart moves to a new major version.

use super::support::{describe, location, modified, of_kind};
use crate::finding::Finding;
use crate::pairs::{Object, ObjectChange};

declare_rule! {
    /// ## What it checks
    /// A Flux HelmRelease whose `spec.chart.spec.version` moves to a new
    /// major version of the same chart, e.g. `5.2.1` to `6.0.0`. As in
    /// Cargo, for `0.x` versions the minor is the major: `0.9.1` to `0.10.0`
    /// counts. Only plain versions are compared (`1.2.3`, `v1.2.3`,
    /// `2.0.0-rc.1`); ranges such as `>=1.0 <2.0`, `6.x` or `*` are skipped.
    ///
    /// ## Why it matters
    /// A major version of a chart may rename resources, run upgrade hooks or
    /// migrate data. A `git revert` makes Flux install the old version over
    /// the new one, which does not undo hooks or migrations and is not
    /// guaranteed to work. It is a note, to make sure someone read the
    /// chart's upgrade notes.
    ///
    /// ## Example
    /// ```yaml
    /// chart:
    ///   spec:
    ///     chart: podinfo
    ///     version: 6.0.0   # was 5.2.1
    /// ```
    ///
    /// ## How to fix
    /// Read the chart's upgrade notes and changelog, back up the data its
    /// hooks migrate, and plan a forward fix rather than a revert.
    HELM_CHART_MAJOR_UPGRADE { id: "helm-chart-major-upgrade", severity: Note, summary: "a HelmRelease chart moves to a new major version" }
}

const CHART: [&str; 4] = ["spec", "chart", "spec", "chart"];
const VERSION: [&str; 4] = ["spec", "chart", "spec", "version"];

pub fn check(change: &ObjectChange) -> Vec<Finding> {
    let release = of_kind(change, "helm.toolkit.fluxcd.io", "HelmRelease");
    let Some((base, head)) = release.and_then(modified) else {
        return Vec::new();
    };
    let text =
        |o: &'_ Object, path: &[&str]| o.at(path).and_then(|n| n.scalar_text()).map(str::to_owned);
    // Another chart altogether has versions of its own.
    if text(base, &CHART) != text(head, &CHART) {
        return Vec::new();
    }
    let (Some(before), Some(node)) = (text(base, &VERSION), head.at(&VERSION)) else {
        return Vec::new();
    };
    let after = node.scalar_text().unwrap_or_default();
    if !major_upgrade(&before, after) {
        return Vec::new();
    }
    let chart = text(head, &CHART).unwrap_or_default();
    vec![Finding::new(
        &HELM_CHART_MAJOR_UPGRADE,
        location(head, node),
        format!(
            "{} upgrades chart `{chart}` from {before} to {after}, a new major version: its hooks and data migrations are not undone by a git revert, which installs {before} over it and may fail",
            describe(change)
        ),
    )
    .with_help("read the chart's upgrade notes, back up the data it migrates, and plan a forward fix rather than a revert")]
}

/// Whether `after` is a later major version than `before`; false unless
/// both are plain versions.
fn major_upgrade(before: &str, after: &str) -> bool {
    matches!((compatibility(before), compatibility(after)), (Some(b), Some(a)) if a > b)
}

/// The (major, minor) that breaking changes bump, of a plain version
/// `[v]MAJOR.MINOR.PATCH[-pre][+build]`: for 0.x the minor counts as the
/// major (as Cargo does), so the minor is kept only then.
fn compatibility(version: &str) -> Option<(u64, u64)> {
    let version = version.strip_prefix('v').unwrap_or(version);
    let end = version.find(['-', '+']).unwrap_or(version.len());
    let (core, suffix) = version.split_at(end);
    let suffix_ok = suffix
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '+' | '.'));
    let number = |part: &str| {
        part.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| part.parse::<u64>().ok())
            .flatten()
    };
    let numbers = core.split('.').map(number).collect::<Option<Vec<_>>>()?;
    match numbers[..] {
        [0, minor, _] if suffix_ok => Some((0, minor)),
        [major, _, _] if suffix_ok => Some((major, 0)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn major_upgrades_of_plain_versions() {
        let cases = [
            ("1.2.3", "1.9.0", false),
            ("1.2.3", "2.0.0", true),
            ("0.9.1", "0.10.0", true),
            ("0.9.1", "0.9.2", false),
            ("0.10.0", "1.0.0", true),
            ("v1.0.0", "2.0.0-rc.1", true),
            ("1.0.0", "v2.0.0+build.5", true),
            ("2.0.0", "1.9.0", false),
            ("5.2.1", "5.2.1", false),
            (">=1.0 <2.0", "2.0.0", false),
            ("1.2.3", ">=2.0.0", false),
            ("6.x", "7.0.0", false),
            ("1.0.0", "*", false),
            ("1.0", "2.0", false),
            ("1.0.0", "2.0.0 || 3.0.0", false),
            ("1.0.0", "~2.0.0", false),
            ("1.0.0", "2.0.0 - 3.0.0", false),
            ("1.0.0", "2..0", false),
        ];
        for (before, after, expected) in cases {
            assert_eq!(
                major_upgrade(before, after),
                expected,
                "{before} -> {after}"
            );
        }
    }
}
