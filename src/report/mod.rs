//! Reports: the result of a run and one formatter per output format.
//! Reporters only format; every decision was made before they run.

pub mod human;
pub mod json;

use crate::extract::Change;
use crate::finding::{Finding, Location, Severity};
use crate::source::{Side, SourceText};
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

impl Report {
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
    }
}
