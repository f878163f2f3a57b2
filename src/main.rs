//! The `fluxgate` binary: parse the command line, run, map to an exit code
//! (0 clean, 1 error-level findings, 2 could not run).

use clap::Parser;
use fluxgate::cli::{CheckArgs, Cli, Command, HookCommand, PrePushArgs};
use fluxgate::{app, hook, output, prepush, rules};
use std::io::Read;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check(args) => check(&args),
        Command::PrePush(args) => pre_push(&args),
        Command::Hook(HookCommand::Install {
            repo,
            force,
            options,
        }) => match hook::install(&repo, force, &options) {
            Ok(path) => {
                println!("installed {}", path.display());
                ExitCode::SUCCESS
            }
            Err(message) => {
                eprintln!("fluxgate: {message}");
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

fn check(args: &CheckArgs) -> ExitCode {
    let targets = match output::targets(args) {
        Ok(targets) => targets,
        Err(message) => return usage_error(&message),
    };
    match app::check(args) {
        Ok(report) => match output::write(&report, &targets, args.verbose) {
            Ok(()) => ExitCode::from(app::exit_code(&report, args.fail_on)),
            Err(message) => usage_error(&message),
        },
        Err(error) => could_not_run(error),
    }
}

fn pre_push(args: &PrePushArgs) -> ExitCode {
    let targets = match output::targets(&args.check) {
        Ok(targets) => targets,
        Err(message) => return usage_error(&message),
    };
    let var = |name: &str| std::env::var(name).ok();
    let ranges = match prepush::pre_commit_range(&var) {
        Some(range) => vec![range],
        // Under pre-commit without refs (a first push with the root commit, or
        // `pre-commit run --hook-stage pre-push`): check HEAD against the
        // default branch rather than nothing.
        None if var("PRE_COMMIT").as_deref() == Some("1") => vec![prepush::Range {
            local_ref: "HEAD".into(),
            head: "HEAD".into(),
            remote: None,
        }],
        None => {
            let mut input = String::new();
            if let Err(e) = std::io::stdin().read_to_string(&mut input) {
                return usage_error(&format!(
                    "cannot read the pushed refs from standard input: {e}"
                ));
            }
            match prepush::parse_input(&input) {
                Ok(ranges) => ranges,
                Err(message) => return usage_error(&message),
            }
        }
    };
    match prepush::run(args, &ranges) {
        Ok(reports) => {
            let mut code = 0;
            for (range, report) in &reports {
                eprintln!("fluxgate pre-push: {}", range.local_ref);
                if let Err(message) = output::write(report, &targets, args.check.verbose) {
                    return usage_error(&message);
                }
                code = code.max(app::exit_code(report, args.check.fail_on));
            }
            if code != 0 {
                eprintln!("fluxgate pre-push: push blocked; fix the findings above, or push with --no-verify to skip this check");
            }
            ExitCode::from(code)
        }
        Err(error) => could_not_run(error),
    }
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("fluxgate: {message}");
    ExitCode::from(2)
}

fn could_not_run(error: app::AppError) -> ExitCode {
    eprintln!("{:?}", miette::Report::new(error));
    ExitCode::from(2)
}
