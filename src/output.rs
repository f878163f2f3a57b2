//! Where each requested format goes: standard output (at most one) or a
//! file, and how human output may decorate itself there.

use crate::cli::CheckArgs;
use crate::report::{self, Format, Report, Style};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

/// One rendered output's destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub format: Format,
    /// `None`: standard output.
    pub path: Option<PathBuf>,
}

/// The destinations of `--format`/`--output`, checked before anything runs.
pub fn targets(args: &CheckArgs) -> Result<Vec<Target>, String> {
    let mut targets: Vec<Target> = args
        .formats
        .iter()
        .map(|s| Target {
            format: s.format,
            path: s.path.clone(),
        })
        .collect();
    let to_stdout = targets.iter().filter(|t| t.path.is_none()).count();
    if let Some(output) = &args.output {
        match to_stdout {
            1 => {
                if let Some(target) = targets.iter_mut().find(|t| t.path.is_none()) {
                    target.path = Some(output.clone());
                }
            }
            0 => return Err("`--output` names a file, but every `--format` already has its own (`FORMAT=FILE`)".into()),
            _ => return Err("`--output` fits one format; give the others a file of their own (`--format sarif=fluxgate.sarif`)".into()),
        }
    } else if to_stdout > 1 {
        return Err("only one format can go to standard output; give the others a file (`--format sarif=fluxgate.sarif`)".into());
    }
    Ok(targets)
}

/// Whether a human report is being written to a terminal (for progress and colour).
pub fn human_on_terminal(targets: &[Target]) -> bool {
    targets
        .iter()
        .any(|t| t.format == Format::Human && t.path.is_none())
        && std::io::stdout().is_terminal()
}

/// Renders and writes every target. When GitHub annotations are written and
/// `GITHUB_STEP_SUMMARY` names a file, the Markdown job summary is appended
/// to it (once), since GitHub shows only a few annotations per step.
pub fn write(report: &Report, targets: &[Target], verbose: bool) -> Result<(), String> {
    if targets.iter().any(|t| t.format == Format::Github) {
        if let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) {
            append_step_summary(report, std::path::Path::new(&path))?;
        }
    }
    for target in targets {
        let terminal = target.path.is_none() && std::io::stdout().is_terminal();
        let style = Style {
            color: terminal && std::env::var_os("NO_COLOR").is_none(),
            unicode: terminal,
            verbose,
        };
        let text = report::render(report, target.format, style);
        match &target.path {
            Some(path) => std::fs::write(path, text)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?,
            None => std::io::stdout()
                .write_all(text.as_bytes())
                .map_err(|e| format!("cannot write the report: {e}"))?,
        }
    }
    Ok(())
}

/// Appends the job summary to `$GITHUB_STEP_SUMMARY` (created if missing).
fn append_step_summary(report: &Report, path: &std::path::Path) -> Result<(), String> {
    let text = report::github::step_summary(report);
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut file| file.write_all(text.as_bytes()))
        .map_err(|e| format!("cannot append the job summary to {}: {e}", path.display()))
}
