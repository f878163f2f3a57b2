//! The command line (clap derive).

use crate::report::Format;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "fluxgate",
    version,
    about = "Guards GitOps repositories before merge: changed image references, registry existence, rollback safety"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check what a change (base..head) does to the repository.
    Check(CheckArgs),
    /// List every rule with its id, default level and summary.
    Rules,
    /// Explain a rule: what it checks, why it matters, how to fix it.
    Explain {
        /// The rule id, e.g. `image-reference-invalid`.
        id: String,
    },
    /// Check every range a `git push` sends (git's pre-push hook protocol:
    /// `<remote> <url>` as arguments, pushed refs on standard input).
    PrePush(PrePushArgs),
    /// Manage the git hook.
    #[command(subcommand)]
    Hook(HookCommand),
}

#[derive(Debug, Subcommand)]
pub enum HookCommand {
    /// Write `.git/hooks/pre-push` (or under `core.hooksPath`) to run `fluxgate pre-push`.
    Install {
        /// The repository.
        #[arg(long, default_value = ".")]
        repo: PathBuf,
        /// Replace an existing pre-push hook.
        #[arg(long)]
        force: bool,
        /// Options the hook passes to `fluxgate pre-push` (after `--`), e.g. `-- --offline`.
        #[arg(last = true)]
        options: Vec<String>,
    },
}

#[derive(Debug, Args)]
pub struct PrePushArgs {
    /// The remote's name, as git passes it to the hook.
    pub remote: Option<String>,
    /// The remote's URL, as git passes it to the hook.
    pub url: Option<String>,
    #[command(flatten)]
    pub check: CheckArgs,
}

/// Which findings fail the check (exit code 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    /// Error-level findings.
    Error,
    /// Error- and warning-level findings.
    Warning,
    /// Nothing: report only (exit 0 unless the check could not run).
    Never,
}

#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// The repository (any directory inside it; bare clones work).
    #[arg(long, default_value = ".")]
    pub repo: PathBuf,
    /// The revision the change is merged into [default: from the CI
    /// environment, else origin/HEAD, origin/main, origin/master, main, master].
    #[arg(long)]
    pub base: Option<String>,
    /// The revision under review [default: from the CI environment (GitHub
    /// Actions, GitLab CI), else HEAD].
    #[arg(long)]
    pub head: Option<String>,
    /// Which findings make the exit code 1.
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    pub fail_on: FailOn,
    /// Report every image reference in the head tree, not only changed ones.
    #[arg(long)]
    pub all: bool,
    /// Do not contact registries: image references get status `skipped`.
    #[arg(long)]
    pub offline: bool,
    /// Output format, repeatable, each to standard output or its own file:
    /// `--format human --format sarif=fluxgate.sarif`. Formats: human, json,
    /// sarif, github, gitlab, junit.
    #[arg(long = "format", value_name = "FORMAT[=FILE]", default_value = "human", value_parser = parse_format_spec)]
    pub formats: Vec<FormatSpec>,
    /// Write the (one) format given without a file here instead of standard output.
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// Configuration file [default: .fluxgate.yaml at the base revision].
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Override a rule's level: `--rule-level image-unresolved=off`.
    #[arg(long = "rule-level", value_name = "ID=LEVEL")]
    pub rule_levels: Vec<String>,
    /// Ignore `# fluxgate: ignore[...]` comments: report everything.
    #[arg(long)]
    pub no_ignores: bool,
    /// Registry requests in flight at once.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub jobs: u16,
    /// Time budget of all registry checks together, in seconds; what is not
    /// answered by then is `unverified: timeout`, never `exists`.
    #[arg(long, default_value_t = 60, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,
    /// Platforms every changed image must provide: `linux/amd64,linux/arm64`
    /// (adds to `platforms:` in the configuration).
    #[arg(long, value_delimiter = ',', value_name = "OS/ARCH[/VARIANT]")]
    pub platform: Vec<crate::registry::Platform>,
    /// A Flux post-build variable for references no Flux Kustomization in
    /// the repository gives a value: `--var CLUSTER=prod` (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = parse_var)]
    pub vars: Vec<(String, String)>,
    /// Say more: files passed over and why.
    #[arg(short, long)]
    pub verbose: bool,
}

fn parse_var(text: &str) -> Result<(String, String), String> {
    let (name, value) = text
        .split_once('=')
        .ok_or_else(|| format!("expected NAME=VALUE, found `{text}`"))?;
    let valid = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return Err(format!(
            "`{name}` is not a variable name (letters, digits, `_`)"
        ));
    }
    Ok((name.to_string(), value.to_string()))
}

/// One `--format` value: a format, and the file it goes to (else standard output).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatSpec {
    pub format: Format,
    pub path: Option<PathBuf>,
}

fn parse_format_spec(value: &str) -> Result<FormatSpec, String> {
    use clap::ValueEnum;
    let (name, path) = match value.split_once('=') {
        Some((name, path)) if !path.is_empty() => (name, Some(PathBuf::from(path))),
        Some(_) => return Err(format!("`{value}`: a file name must follow `=`")),
        None => (value, None),
    };
    let format = Format::from_str(name, true).map_err(|_| {
        let known: Vec<String> = Format::value_variants()
            .iter()
            .filter_map(|f| f.to_possible_value().map(|v| v.get_name().to_string()))
            .collect();
        format!("unknown format `{name}` (known: {})", known.join(", "))
    })?;
    Ok(FormatSpec { format, path })
}
