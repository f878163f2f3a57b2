//! The `fluxgate` binary: parse the command line, run, map to an exit code
//! (0 clean, 1 error-level findings, 2 could not run).

use clap::Parser;
use fluxgate::cli::{Cli, Command};
use fluxgate::{app, output, rules};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check(args) => {
            let targets = match output::targets(&args) {
                Ok(targets) => targets,
                Err(message) => {
                    eprintln!("fluxgate: {message}");
                    return ExitCode::from(2);
                }
            };
            match app::check(&args) {
                Ok(result) => {
                    if let Err(message) = output::write(&result, &targets, args.verbose) {
                        eprintln!("fluxgate: {message}");
                        return ExitCode::from(2);
                    }
                    ExitCode::from(if result.summary().errors > 0 { 1 } else { 0 })
                }
                Err(error) => {
                    eprintln!("{:?}", miette::Report::new(error));
                    ExitCode::from(2)
                }
            }
        }
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
