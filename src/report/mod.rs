//! Reports: the result of a run and one formatter per output format.
//! Reporters only format; every decision was made before they run.

pub mod github;
pub mod gitlab;
pub mod human;
pub mod json;
pub mod junit;
pub mod sarif;

use crate::extract::Change;
use crate::finding::{Finding, Location, Severity};
use crate::source::{Side, SourceText};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;

/// What fluxgate knows about one image reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageStatus {
    /// The registry confirmed the manifest.
    Exists,
    /// The registry said it does not exist.
    Missing,
    /// The registry could not be asked or did not answer clearly.
    Unverified,
    /// The reference is not complete in the repository (`${VAR}`, chart default).
    Unresolved,
    /// The reference does not follow the grammar.
    Invalid,
    /// Not checked (`--offline`).
    Skipped,
}

impl ImageStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ImageStatus::Exists => "exists",
            ImageStatus::Missing => "missing",
            ImageStatus::Unverified => "unverified",
            ImageStatus::Unresolved => "unresolved",
            ImageStatus::Invalid => "invalid",
            ImageStatus::Skipped => "skipped",
        }
    }
}

/// One image reference in the report.
#[derive(Debug, Clone)]
pub struct ImageRecord {
    /// As it will be deployed (assembled from its parts where split).
    pub reference: String,
    /// Normalised (`docker.io/library/nginx:latest`); `None` if it cannot be.
    pub canonical: Option<String>,
    pub location: Location,
    pub kind: String,
    pub name: String,
    pub field: String,
    pub change: Change,
    pub status: ImageStatus,
    pub digest: Option<String>,
    pub detail: Option<String>,
    /// Places that made the reference what it is, for findings' labels.
    pub related: Vec<(Location, String)>,
    /// Where findings about it point, when not at `location` (a changed
    /// variable value).
    pub blame: Option<Location>,
}

/// One Helm chart (or OCI artifact) in the report. Statuses as for images.
#[derive(Debug, Clone)]
pub struct ChartRecord {
    /// The chart's name (or the artifact's last path component).
    pub chart: String,
    /// As written: an exact version, a range, a tag or digest; `None` = latest.
    pub version: Option<String>,
    /// The repository URL, or the source reference when it was not found.
    pub repository: String,
    pub location: Location,
    pub kind: String,
    pub name: String,
    pub change: Change,
    pub status: ImageStatus,
    pub detail: Option<String>,
    /// The version that meets `version` (a range's pick), once checked.
    pub resolved_version: Option<String>,
}

/// The texts findings point into, by side and path.
#[derive(Debug, Default)]
pub struct Sources(HashMap<(Side, String), Arc<SourceText>>);

impl Sources {
    pub fn insert(&mut self, source: Arc<SourceText>) {
        self.0.insert((source.side, source.path.clone()), source);
    }

    pub fn get(&self, location: &Location) -> Option<&Arc<SourceText>> {
        self.0.get(&(location.side, location.file.clone()))
    }
}

/// Everything a run found, ready to format.
#[derive(Debug, Default)]
pub struct Report {
    pub base: Option<String>,
    pub head: String,
    pub images: Vec<ImageRecord>,
    pub charts: Vec<ChartRecord>,
    pub findings: Vec<Finding>,
    pub suppressed: usize,
    /// Remarks for people (which base was chosen and why, skipped files).
    pub notices: Vec<String>,
    pub sources: Sources,
    /// The repository's work tree, when it has one (GitLab wants paths
    /// relative to `CI_PROJECT_DIR`, which may be above it).
    pub root: Option<std::path::PathBuf>,
}

/// Counts of findings by severity.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub errors: usize,
    pub warnings: usize,
    pub notes: usize,
}

/// `1 error` / `2 errors`.
pub fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

impl Report {
    /// "2 errors, 1 warning, 0 notes (1 suppressed); 6 image references
    /// checked", each count passed through `emphasis` (bold in Markdown).
    pub fn counts_sentence(&self, emphasis: impl Fn(String) -> String) -> String {
        let s = self.summary();
        let mut sentence = format!(
            "{}, {}, {}",
            emphasis(plural(s.errors, "error")),
            emphasis(plural(s.warnings, "warning")),
            emphasis(plural(s.notes, "note"))
        );
        if self.suppressed > 0 {
            sentence.push_str(&format!(" ({} suppressed)", self.suppressed));
        }
        sentence.push_str(&format!(
            "; {} checked",
            plural(self.images.len(), "image reference")
        ));
        if !self.charts.is_empty() {
            sentence.push_str(&format!(", {}", plural(self.charts.len(), "chart")));
        }
        sentence
    }

    pub fn summary(&self) -> Summary {
        let count = |s: Severity| self.findings.iter().filter(|f| f.severity == s).count();
        Summary {
            errors: count(Severity::Error),
            warnings: count(Severity::Warning),
            notes: count(Severity::Note),
        }
    }
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Diagnostics with source snippets, for people.
    Human,
    /// The stable machine contract (version 1).
    Json,
    /// SARIF 2.1.0, for GitHub code scanning and SARIF viewers.
    Sarif,
    /// GitHub Actions workflow commands (annotations on the pull request).
    Github,
    /// GitLab Code Quality report (JSON).
    Gitlab,
    /// JUnit XML, for GitLab's test report (and other CI test views).
    Junit,
}

/// How human output may decorate itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    pub color: bool,
    pub unicode: bool,
    pub verbose: bool,
}

/// Renders a report in a format.
pub fn render(report: &Report, format: Format, style: Style) -> String {
    match format {
        Format::Human => human::render(report, style),
        Format::Json => json::render(report),
        Format::Sarif => sarif::render(report),
        Format::Github => github::render(report),
        Format::Gitlab => gitlab::render(report),
        Format::Junit => junit::render(report),
    }
}

/// `head` or `base`, as the machine formats name a side.
pub fn side_name(side: Side) -> &'static str {
    match side {
        Side::Base => "base",
        Side::Head => "head",
    }
}

/// The text of the line a location starts on, without its line break.
pub fn line_text<'a>(report: &'a Report, location: &Location) -> Option<&'a str> {
    let text = report.sources.get(location)?.text();
    let mut at = location.span.start.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let end = text[at..].find('\n').map_or(text.len(), |i| at + i);
    Some(text[start..end].trim_end_matches('\r'))
}

/// One stable identity per finding, in report order (SARIF
/// `partialFingerprints`, GitLab `fingerprint`): the SHA-256 (hex) of the
/// rule id, the side, the file, the trimmed text of the primary location's
/// line, and how many findings with that same key came before this one.
/// Line numbers are left out, so adding or removing unrelated lines does not
/// change it; the occurrence index makes it unique even for two identical
/// findings.
pub fn fingerprints(report: &Report) -> Vec<String> {
    let mut seen: HashMap<(&str, Side, &str, &str), usize> = HashMap::new();
    report
        .findings
        .iter()
        .map(|finding| {
            let at = &finding.primary;
            let line = line_text(report, at).unwrap_or("").trim();
            let count = seen
                .entry((finding.rule.id, at.side, &at.file, line))
                .or_default();
            let index = *count;
            *count += 1;
            let mut hash = Sha256::new();
            for part in [
                "fluxgate-finding/v1",
                finding.rule.id,
                side_name(at.side),
                &at.file,
                line,
                &index.to_string(),
            ] {
                hash.update(part.as_bytes());
                hash.update([0]);
            }
            format!("{:x}", hash.finalize())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Span;

    /// A report with one finding of the same rule at each `needle` in `text`.
    fn report_at(text: &str, needles: &[&str]) -> Report {
        let source = SourceText::new("apps/db/pvc.yaml", Side::Head, text.to_string());
        let mut report = Report::default();
        let mut from = 0;
        for needle in needles {
            let start = from + text[from..].find(needle).expect("needle in text");
            from = start + needle.len();
            let location = Location::new(&source, Span::new(start, from));
            report.findings.push(Finding::new(
                &crate::rules::pvc_resized::PVC_RESIZED,
                location,
                "grows",
            ));
        }
        report.sources.insert(source);
        report
    }

    #[test]
    fn fingerprints_survive_unrelated_lines_and_tell_twins_apart() {
        let text = "a:\n  storage: 1Gi\nb:\n  storage: 1Gi\n";
        let before = fingerprints(&report_at(text, &["1Gi", "1Gi"]));
        assert_ne!(before[0], before[1], "identical findings stay distinct");
        let moved = format!("# a comment\nc: 1\n{}", text.replace("b:\n", "b:\n\n"));
        let after = fingerprints(&report_at(&moved, &["1Gi", "1Gi"]));
        assert_eq!(before, after);
        let edited = fingerprints(&report_at(&text.replacen("1Gi", "2Gi", 1), &["2Gi", "1Gi"]));
        assert_ne!(
            before[0], edited[0],
            "a change on the line is a new finding"
        );
    }

    #[test]
    fn line_text_is_the_whole_line_without_its_break() {
        let report = report_at("a: 1\r\nimage: x:y\r\n", &["x"]);
        assert_eq!(
            line_text(&report, &report.findings[0].primary),
            Some("image: x:y")
        );
    }
}
