//! `--format gitlab`: a GitLab Code Quality report (a JSON array of issues,
//! the Code Climate subset GitLab reads), from DTOs of its own.
//!
//! - `severity`: error -> `major`, warning -> `minor`, note -> `info`
//!   (GitLab's levels are info, minor, major, critical, blocker; `critical`
//!   and `blocker` are left to security scanners, as ESLint's and ruff's
//!   GitLab formatters do).
//! - `fingerprint`: the same stable hash as SARIF's partial fingerprint
//!   (rule, side, file, text of the line, occurrence index): it survives
//!   unrelated edits above the finding and is unique even for two identical
//!   findings, as GitLab requires.
//! - `location.path` is relative to `CI_PROJECT_DIR`, which GitLab resolves
//!   paths against: when the repository is a subdirectory of it, its path
//!   there is prefixed. Reading that variable is this renderer's business (a
//!   CI quirk), hence [`render_with`] for tests.
//! - A finding about a removed object points into the base revision: it
//!   points at line 1 of the file and names the base line in its description.

use super::{fingerprints, Report};
use crate::finding::Severity;
use crate::source::Side;
use std::path::{Component, Path};

mod dto {
    use serde::Serialize;

    #[derive(Serialize)]
    pub struct Issue<'a> {
        pub description: String,
        pub check_name: &'a str,
        pub fingerprint: String,
        pub severity: &'a str,
        pub location: Location,
    }

    #[derive(Serialize)]
    pub struct Location {
        pub path: String,
        pub lines: Lines,
    }

    #[derive(Serialize)]
    pub struct Lines {
        pub begin: usize,
    }
}

/// The report as a Code Quality JSON array, paths relative to
/// `$CI_PROJECT_DIR` when set.
pub fn render(report: &Report) -> String {
    let project_dir = std::env::var_os("CI_PROJECT_DIR").filter(|d| !d.is_empty());
    render_with(report, project_dir.as_deref().map(Path::new))
}

/// [`render`] with `CI_PROJECT_DIR` given.
pub fn render_with(report: &Report, project_dir: Option<&Path>) -> String {
    let prefix = match (project_dir, &report.root) {
        (Some(project), Some(root)) => prefix_within(root, project),
        _ => None,
    }
    .unwrap_or_default();
    let issues: Vec<dto::Issue<'_>> = report
        .findings
        .iter()
        .zip(fingerprints(report))
        .map(|(finding, fingerprint)| {
            let at = &finding.primary;
            let mut description = finding.message.clone();
            let begin = if at.side == Side::Base {
                description.push_str(&format!(
                    " (in the base revision at line {})",
                    at.start.line
                ));
                1
            } else {
                at.start.line
            };
            dto::Issue {
                description,
                check_name: finding.rule.id,
                fingerprint,
                severity: severity(finding.severity),
                location: dto::Location {
                    path: format!("{prefix}{}", at.file),
                    lines: dto::Lines { begin },
                },
            }
        })
        .collect();
    let mut out = serde_json::to_string_pretty(&issues)
        .expect("the Code Quality DTO holds only strings and numbers");
    out.push('\n');
    out
}

fn severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "major",
        Severity::Warning => "minor",
        Severity::Note => "info",
    }
}

/// The work tree's path inside the project directory, as a `a/b/` prefix
/// (empty when they are the same); `None` when it is not inside. Compared
/// as given first, then with symbolic links resolved.
fn prefix_within(root: &Path, project: &Path) -> Option<String> {
    let relative = match root.strip_prefix(project) {
        Ok(relative) => relative.to_path_buf(),
        Err(_) => {
            let root = root.canonicalize().ok()?;
            let project = project.canonicalize().ok()?;
            root.strip_prefix(&project).ok()?.to_path_buf()
        }
    };
    let mut prefix = String::new();
    for component in relative.components() {
        match component {
            Component::Normal(name) => {
                prefix.push_str(&name.to_string_lossy());
                prefix.push('/');
            }
            Component::CurDir => {}
            _ => return None,
        }
    }
    Some(prefix)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_the_repository_path_inside_the_project_dir() {
        let project = Path::new("/builds/group/project");
        assert_eq!(
            prefix_within(Path::new("/builds/group/project/"), project).as_deref(),
            Some("")
        );
        assert_eq!(
            prefix_within(Path::new("/builds/group/project/deploy/gitops/"), project).as_deref(),
            Some("deploy/gitops/")
        );
        assert_eq!(prefix_within(Path::new("/elsewhere/repo"), project), None);
    }
}
