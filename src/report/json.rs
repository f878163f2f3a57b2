//! `--format json`: the versioned machine contract. The DTOs below are the
//! contract; internal types are mapped onto them, never serialised directly,
//! so refactoring cannot change the output. Changes are additive only.

use super::Report;
use serde::Serialize;

/// Version 1 of the JSON output, as documented in the README.
pub mod v1 {
    use serde::Serialize;

    #[derive(Serialize)]
    pub struct Output<'a> {
        pub version: u32,
        pub base: Option<&'a str>,
        pub head: &'a str,
        pub images: Vec<Image<'a>>,
        pub charts: Vec<Chart<'a>>,
        pub findings: Vec<Finding<'a>>,
        pub summary: Summary,
    }

    #[derive(Serialize)]
    pub struct Image<'a> {
        pub reference: &'a str,
        pub canonical: Option<&'a str>,
        pub file: &'a str,
        pub line: usize,
        pub column: usize,
        pub kind: &'a str,
        pub name: &'a str,
        pub field: &'a str,
        pub change: &'a str,
        pub status: &'a str,
        pub digest: Option<&'a str>,
        pub detail: Option<&'a str>,
    }

    #[derive(Serialize)]
    pub struct Chart<'a> {
        pub chart: &'a str,
        pub version: Option<&'a str>,
        pub repository: &'a str,
        pub file: &'a str,
        pub line: usize,
        pub column: usize,
        pub kind: &'a str,
        pub name: &'a str,
        pub change: &'a str,
        pub status: &'a str,
        pub detail: Option<&'a str>,
        pub resolved_version: Option<&'a str>,
    }

    #[derive(Serialize)]
    pub struct Finding<'a> {
        pub rule: &'a str,
        pub severity: &'a str,
        pub file: &'a str,
        /// `head`, or `base` for findings about removed objects (the line is
        /// then in the base revision's version of the file).
        pub side: &'a str,
        pub line: usize,
        pub column: usize,
        pub message: &'a str,
        pub help: Option<&'a str>,
    }

    #[derive(Serialize)]
    pub struct Summary {
        pub errors: usize,
        pub warnings: usize,
        pub notes: usize,
        pub suppressed: usize,
    }
}

fn to_v1(report: &Report) -> v1::Output<'_> {
    let summary = report.summary();
    v1::Output {
        version: 1,
        base: report.base.as_deref(),
        head: &report.head,
        images: report
            .images
            .iter()
            .map(|image| v1::Image {
                reference: &image.reference,
                canonical: image.canonical.as_deref(),
                file: &image.location.file,
                line: image.location.start.line,
                column: image.location.start.column,
                kind: &image.kind,
                name: &image.name,
                field: &image.field,
                change: image.change.as_str(),
                status: image.status.as_str(),
                digest: image.digest.as_deref(),
                detail: image.detail.as_deref(),
            })
            .collect(),
        charts: report
            .charts
            .iter()
            .map(|chart| v1::Chart {
                chart: &chart.chart,
                version: chart.version.as_deref(),
                repository: &chart.repository,
                file: &chart.location.file,
                line: chart.location.start.line,
                column: chart.location.start.column,
                kind: &chart.kind,
                name: &chart.name,
                change: chart.change.as_str(),
                status: chart.status.as_str(),
                detail: chart.detail.as_deref(),
                resolved_version: chart.resolved_version.as_deref(),
            })
            .collect(),
        findings: report
            .findings
            .iter()
            .map(|finding| v1::Finding {
                rule: finding.rule.id,
                severity: finding.severity.as_str(),
                file: &finding.primary.file,
                side: match finding.primary.side {
                    crate::source::Side::Base => "base",
                    crate::source::Side::Head => "head",
                },
                line: finding.primary.start.line,
                column: finding.primary.start.column,
                message: &finding.message,
                help: finding.help.as_deref(),
            })
            .collect(),
        summary: v1::Summary {
            errors: summary.errors,
            warnings: summary.warnings,
            notes: summary.notes,
            suppressed: report.suppressed,
        },
    }
}

/// The report as pretty-printed JSON v1, with a trailing newline.
pub fn render(report: &Report) -> String {
    let mut out = serialize(&to_v1(report));
    out.push('\n');
    out
}

fn serialize(value: &impl Serialize) -> String {
    serde_json::to_string_pretty(value).expect("the v1 DTO holds only strings, numbers and options")
}
