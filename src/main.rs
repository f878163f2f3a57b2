//! The `fluxgate` binary: parse the command line, run, map to an exit code
//! (0 clean, 1 error-level findings, 2 could not run).

use clap::Parser;
use fluxgate::cli::{Cli, Command};
use fluxgate::{app, report, rules};
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check(args) => match app::check(&args) {
            Ok(result) => {
                let to_terminal = args.output.is_none() && std::io::stdout().is_terminal();
                let style = report::Style {
                    color: to_terminal && std::env::var_os("NO_COLOR").is_none(),
                    unicode: to_terminal,
                    verbose: args.verbose,
                };
                let text = report::render(&result, args.format, style);
                let written = match &args.output {
                    Some(path) => std::fs::write(path, text)
                        .map_err(|e| format!("cannot write {}: {e}", path.display())),
                    None => std::io::stdout()
                        .write_all(text.as_bytes())
                        .map_err(|e| format!("cannot write the report: {e}")),
                };
                if let Err(message) = written {
                    eprintln!("fluxgate: {message}");
                    return ExitCode::from(2);
                }
                ExitCode::from(if result.summary().errors > 0 { 1 } else { 0 })
            }
            Err(error) => {
                eprintln!("{:?}", miette::Report::new(error));
                ExitCode::from(2)
            }
        },
        Command::Rules => {
            for rule in rules::ALL {
                println!(
                    "{:<28} {:<8} {}",
                    rule.id,
                    rule.default_severity.as_str(),
                    rule.summary
                );
            }
            ExitCode::SUCCESS
        }
        Command::Explain { id } => match rules::find(&id) {
            Some(rule) => {
                println!(
                    "{} ({}): {}\n\n{}",
                    rule.id,
                    rule.default_severity.as_str(),
                    rule.summary,
                    rule.explanation_text()
                );
                ExitCode::SUCCESS
            }
            None => {
                eprintln!("fluxgate: unknown rule `{id}`; `fluxgate rules` lists them");
                ExitCode::from(2)
            }
        },
    }
}
