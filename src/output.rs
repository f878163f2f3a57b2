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

/// Renders and writes every target.
pub fn write(report: &Report, targets: &[Target], verbose: bool) -> Result<(), String> {
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
