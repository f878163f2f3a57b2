//! Orchestration only: revisions -> diff -> load/parse -> extract -> rules
//! -> report. Each stage lives in its own module.

use crate::changes::{self, BaseIndex};
use crate::chart_defaults;
use crate::charts;
use crate::ci;
use crate::cli::CheckArgs;
use crate::config::{self, Config, ConfigError, Level};
use crate::deploy;
use crate::finding::Finding;
use crate::git::{BlobRef, GitError, Repo, Unread};
use crate::images;
use crate::load::{self, Skip, MAX_FILE_BYTES};
use crate::pairs;
use crate::parallel;
use crate::post_render;
use crate::registry::auth::AuthSources;
use crate::registry::endpoint::{Endpoints, RegistryRule};
use crate::registry::{self, Checker};
use crate::report::{Report, Sources};
use crate::rules::{self, yaml_duplicate_key, yaml_invalid};
use crate::source::{Side, SourceText};
use crate::suppress;
use crate::values_from;
use crate::verify;
use crate::yaml::Limits;
use git2::Oid;
use std::collections::HashSet;
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

/// Why a run could not be carried out (exit code 2).
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum AppError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Git(#[from] GitError),

    #[error(transparent)]
    #[diagnostic(transparent)]
    Config(#[from] Box<ConfigError>),

    #[error("cannot read configuration file {path}: {source}")]
    #[diagnostic(
        code(fluxgate::config::unreadable),
        help("check the path given to `--config`")
    )]
    ConfigUnreadable {
        path: String,
        source: std::io::Error,
    },

    #[error(
        "configuration file {path} is {size} bytes, more than the {limit} bytes fluxgate reads"
    )]
    #[diagnostic(
        code(fluxgate::config::too_large),
        help("a configuration is a few lines of YAML: check that {path} is the file you meant")
    )]
    ConfigTooLarge {
        path: String,
        size: usize,
        limit: usize,
    },

    #[error("invalid `--rule-level {given}`: {problem}")]
    #[diagnostic(code(fluxgate::cli::rule_level), help("write `--rule-level <rule-id>=<error|warning|note|off>`; `fluxgate rules` lists the ids"))]
    RuleLevel { given: String, problem: String },

    #[error(transparent)]
    #[diagnostic(transparent)]
    Transport(#[from] crate::registry::transport::TransportError),

    #[error("cannot read credentials: {0}")]
    #[diagnostic(
        code(fluxgate::registry::credentials),
        help("fix or remove the file named above; `--offline` skips registry checks")
    )]
    Credentials(#[from] crate::registry::auth::AuthError),

    #[error("CI detection: {0}")]
    #[diagnostic(code(fluxgate::ci), help("pass `--base` and `--head` explicitly"))]
    Ci(String),

    #[error("cannot read `ca_file` {path}: {problem}")]
    #[diagnostic(
        code(fluxgate::config::ca_file),
        help(
            "`ca_file` is relative to the repository root (or to the `--config` file's directory)"
        )
    )]
    CaFile { path: String, problem: String },
}

/// Runs `fluxgate check`.
pub fn check(args: &CheckArgs) -> Result<Report, AppError> {
    let repo = Repo::open(&args.repo)?;
    let revisions = choose_revisions(args)?;
    let head = repo.resolve(&revisions.head)?;
    let mut report = Report {
        head: head.to_string(),
        root: repo.workdir(),
        ..Report::default()
    };
    let base = diff_base(&repo, args, &revisions, head, &mut report.notices)?;
    report.base = base.map(|b| b.to_string());
    let config = load_config(&repo, args, base, head, &mut report.notices)?;

    let changes = match base {
        Some(base) => repo.changed_yaml_files(base, head)?,
        None => Vec::new(),
    };
    let changed_head_paths: HashSet<&str> = changes
        .iter()
        .filter_map(|c| c.head.as_ref())
        .map(|b| b.path.as_str())
        .collect();
    let limits = Limits::default();

    let mut sources = Sources::default();
    let mut base_index = BaseIndex::default();
    base_index.fields = config.image_fields.clone();
    let mut chart_base = charts::ChartBase::default();
    let mut base_files = Vec::new();
    let head_files: Vec<BlobRef> = if args.all {
        repo.yaml_files(head)?
    } else {
        changes.iter().filter_map(|c| c.head.clone()).collect()
    };
    let head_tree = deploy::tree::HeadTree::new(&repo, head);
    let mut values_roles = values_from::roles(&head_tree, &head_files, &mut report.notices)?;
    let mut base_paths = Vec::new();
    if let Some(base) = base {
        for change in &changes {
            let Some(blob) = &change.base else { continue };
            if load::skip_reason(&repo, base, &blob.path)?.is_none() {
                let file = load::load(&repo, Side::Base, blob, &limits)?;
                let head_path = change.head.as_ref().map(|h| h.path.clone());
                base_index.add(&file, head_path.as_deref());
                chart_base.add(&file);
                sources.insert(file.source.clone());
                base_files.push(file);
                base_paths.push(head_path);
            }
        }
    }
    let taken_anew = split_values_taken_anew(
        &head_tree,
        (&head_files, &changed_head_paths),
        (&base_files, &base_paths),
        base.is_some() && !args.all,
        &mut values_roles,
        &mut base_index,
    )?;

    if args.verbose {
        for unread in repo.unread_entries(base.filter(|_| !args.all), head)? {
            report.notices.push(match unread {
                Unread::Symlink(path) => format!("skipped {path}: a symbolic link (not followed)"),
                Unread::Submodule(path) => {
                    format!("skipped {path}: a submodule (its files are not checked)")
                }
            });
        }
    }
    let mut findings = Vec::new();
    let mut suppressions = Vec::new();
    let mut changed_head_files = Vec::new();
    let mut changed_head_flux = deploy::flux::FluxIndex::default();
    let mut whole_tree_flux = deploy::flux::TreeFlux::default();
    let scope = HeadScope {
        args,
        commit: head,
        base_known: base.is_some(),
        changed_paths: &changed_head_paths,
        base_index: &base_index,
        chart_base: &chart_base,
        values_roles: &values_roles,
        limits: &limits,
    };
    let mut image_uses = Vec::new();
    let mut chart_uses = Vec::new();
    let mut chart_sources = charts::SourceIndex::default();
    let mut moved_repositories = Vec::new();
    let mut head_repositories = HashSet::new();
    for file in analyse_head_files(&repo, &scope, &head_files, &mut report.notices)? {
        report.notices.extend(file.notice);
        findings.extend(file.findings);
        suppressions.extend(file.suppressions);
        image_uses.extend(file.image_uses);
        chart_uses.extend(file.chart_uses);
        head_repositories.extend(
            file.chart_sources
                .iter()
                .filter(|s| matches!(s.source, crate::k8s::charts::Source::HelmRepository { .. }))
                .map(|s| s.id.clone()),
        );
        chart_sources.extend(file.chart_sources);
        moved_repositories.extend(file.moved_repositories);
        sources.insert(file.source);
        changed_head_files.extend(file.touched);
        changed_head_flux.extend(file.flux);
        whole_tree_flux.extend(file.tree_flux);
    }
    for (path, roles) in &taken_anew {
        let Some(file) = head_tree.load(path)? else {
            continue;
        };
        let anew = values_taken_anew(&file, roles, args.no_ignores);
        image_uses.extend(anew.image_uses);
        findings.extend(anew.findings);
        suppressions.extend(anew.suppressions);
        sources.insert(file.source.clone());
    }
    let mut base_flux = deploy::flux::FluxIndex::default();
    for file in &base_files {
        base_flux.add(file);
    }
    let changed_variables = deploy::flux::changed_variables(base_flux, changed_head_flux);
    let cli_vars = args.vars.iter().cloned().collect();
    let mut image_uses = deploy::expand(
        &repo,
        (head, base),
        image_uses,
        &changed_variables,
        &cli_vars,
        &config.image_fields,
        args.all.then_some(whole_tree_flux),
        &mut report.notices,
    )?;
    let checker = if args.offline {
        None
    } else {
        Some(registry_checker(
            &repo,
            args,
            &config,
            base.unwrap_or(head),
        )?)
    };
    values_from::merged::apply(&mut image_uses, &head_tree)?;
    values_from::set_by_target::complete(&mut image_uses, &head_tree)?;
    if chart_defaults::wanted(&image_uses, checker.is_some()) {
        let has_chart_at = |dir: &str| repo.has_file(head, &format!("{dir}/Chart.yaml"));
        let cx = chart_defaults::Context {
            tree: &head_tree,
            facts: &repo_facts(&repo, &has_chart_at),
            checker: checker.as_ref(),
            limits: &limits,
        };
        chart_defaults::complete(&mut image_uses, &cx, &mut chart_sources, &mut |sources| {
            add_every_source(&repo, head, &head_files, sources, &limits)
        })?;
    }
    post_render::apply(&mut image_uses, &head_tree)?;
    for image_use in image_uses {
        let (record, finding) = images::record(image_use, args.offline);
        report.images.push(record);
        findings.extend(finding);
    }
    findings.extend(rules::check_changes(&pairs::pair(
        &base_files,
        &changed_head_files,
    )));
    if base.is_some() && !args.all {
        moved_repositories.extend(charts::moved::removed_repositories(
            &chart_base,
            &head_repositories,
        ));
    }
    if !moved_repositories.is_empty() {
        add_charts_of_moved_repositories(
            &repo,
            head,
            &moved_repositories,
            &limits,
            &mut chart_uses,
            &mut sources,
        )?;
    }
    let mut resolved_charts = resolve_charts(
        &repo,
        head,
        &head_files,
        chart_uses,
        &mut chart_sources,
        &limits,
    )?;
    findings.extend(resolved_charts.iter_mut().filter_map(|r| r.finding.take()));
    report.sources = sources;
    match &checker {
        None => charts::mark_offline(&mut resolved_charts),
        Some(checker) => {
            findings.extend(verify::verify(checker, &mut report.images));
            findings.extend(charts::verify(checker, &mut resolved_charts));
        }
    }
    report.charts = resolved_charts.into_iter().map(|r| r.record).collect();
    let applied = suppress::apply(findings, &suppressions);
    report.suppressed = applied.suppressed;
    report.findings = apply_levels(applied.findings, &config);
    report
        .findings
        .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    report.images.sort_by(|a, b| {
        (&a.location.file, a.location.start).cmp(&(&b.location.file, b.location.start))
    });
    report.charts.sort_by(|a, b| {
        (&a.location.file, a.location.start).cmp(&(&b.location.file, b.location.start))
    });
    Ok(report)
}

/// What the head files are analysed against.
struct HeadScope<'a> {
    args: &'a CheckArgs,
    commit: Oid,
    /// Without a base, every file counts as touched.
    base_known: bool,
    changed_paths: &'a HashSet<&'a str>,
    base_index: &'a BaseIndex,
    chart_base: &'a charts::ChartBase,
    values_roles: &'a values_from::Roles,
    limits: &'a Limits,
}

/// What one head file contributes to the report.
struct HeadFile {
    source: Arc<SourceText>,
    /// The parsed file, kept for the rollback rules if the change touched it
    /// and there is a base to compare it with.
    touched: Option<load::LoadedFile>,
    /// Its Flux roots and variable sources, if it is compared with a base.
    flux: deploy::flux::FluxIndex,
    /// Its Flux roots and where its ConfigMaps and Secrets are, when every
    /// file is read (`--all`).
    tree_flux: deploy::flux::TreeFlux,
    notice: Option<String>,
    findings: Vec<Finding>,
    suppressions: Vec<suppress::Suppression>,
    image_uses: Vec<changes::ImageUse>,
    chart_uses: Vec<charts::ChartUse>,
    chart_sources: Vec<charts::FoundSource>,
    /// HelmRepositories whose address the change set or altered.
    moved_repositories: Vec<charts::moved::MovedRepository>,
}

/// Reads the head files on this thread (a git repository handle is not
/// shared between threads) while every core parses and analyses them; the
/// results come back in `blobs` order, so the report does not depend on
/// scheduling.
fn analyse_head_files(
    repo: &Repo,
    scope: &HeadScope<'_>,
    blobs: &[BlobRef],
    notices: &mut Vec<String>,
) -> Result<Vec<HeadFile>, AppError> {
    let read = blobs.iter().filter_map(|blob| {
        match load::skip_reason(repo, scope.commit, &blob.path) {
            Err(e) => return Some(Err(e)),
            Ok(Some(Skip::HelmChart)) => {
                if scope.args.verbose {
                    notices.push(format!(
                        "skipped {}: inside a Helm chart (a template, not a manifest)",
                        blob.path
                    ));
                }
                return None;
            }
            Ok(None) => {}
        }
        Some(
            repo.read_blob(blob.id, MAX_FILE_BYTES)
                .map(|content| (blob, content)),
        )
    });
    let threads = if blobs.len() > 1 {
        parallel::cores()
    } else {
        1
    };
    let analysed = parallel::ordered_map(threads, read, |(blob, content)| {
        analyse_head_file(scope, blob, content)
    })?;
    Ok(analysed)
}

/// Parses one head file and collects its findings, suppressions and images.
fn analyse_head_file(scope: &HeadScope<'_>, blob: &BlobRef, content: crate::git::Blob) -> HeadFile {
    let args = scope.args;
    let file = load::from_blob(Side::Head, &blob.path, content, scope.limits);
    let encrypted = |d: &crate::yaml::Document| crate::extract::is_sops_encrypted(&d.root);
    let notice = (args.verbose && file.parsed.documents.iter().any(encrypted)).then(|| {
        format!(
            "skipped {}: SOPS-encrypted (its values are ciphertext)",
            blob.path
        )
    });
    let suppressions = if args.no_ignores {
        Vec::new()
    } else {
        suppress::collect(&file)
    };
    // A file the change did not touch (only listed with `--all`) is unchanged.
    let touched = !scope.base_known || scope.changed_paths.contains(blob.path.as_str());
    let roles = scope
        .values_roles
        .get(&blob.path)
        .map_or(&[][..], Vec::as_slice);
    let image_uses = changes::image_uses(
        &file,
        touched.then_some(scope.base_index),
        args.all,
        &scope.base_index.fields,
        roles,
    );
    let mut findings = parse_findings(&file);
    for role in roles {
        if let Some((span, problem)) = values_from::values_error(&file, role) {
            findings.push(yaml_invalid::values_finding(
                &file.source,
                span,
                &role.describe(),
                &problem,
            ));
        }
    }
    let chart_uses = charts::chart_uses(&file, touched.then_some(scope.chart_base), args.all);
    let chart_sources = charts::sources_of(&file);
    // Without a base (`--all` where no base revision exists) there is
    // nothing to compare with: no rule can fire and no variable value
    // "changed" (every reference is listed anyway); keeping every parsed
    // file would only hold the whole tree in memory.
    let compared = touched && scope.base_known;
    HeadFile {
        source: file.source.clone(),
        notice,
        findings,
        suppressions,
        image_uses,
        chart_uses,
        chart_sources,
        // With `--all` every chart is checked anyway.
        moved_repositories: if compared && !args.all {
            charts::moved::moved_repositories(&file, scope.chart_base)
        } else {
            Vec::new()
        },
        flux: if compared {
            deploy::flux::FluxIndex::of_file(&file)
        } else {
            deploy::flux::FluxIndex::default()
        },
        tree_flux: if args.all {
            deploy::flux::TreeFlux::of_file(&file)
        } else {
            deploy::flux::TreeFlux::default()
        },
        touched: compared.then_some(file),
    }
}

/// Values releases take anew (a new release, an entry added to a
/// `valuesFrom` list) are new to them whatever their file's history: in a
/// changed file they join its roles and are left out of the base it is
/// compared with; files the change did not touch are returned with them.
/// Every other role of a changed file is compared with its base.
fn split_values_taken_anew(
    head_tree: &deploy::tree::HeadTree<'_>,
    (head_files, changed): (&[BlobRef], &HashSet<&str>),
    (base_files, base_paths): (&[load::LoadedFile], &[Option<String>]),
    compared: bool,
    values_roles: &mut values_from::Roles,
    base_index: &mut BaseIndex,
) -> Result<Vec<(String, Vec<values_from::ValuesRole>)>, GitError> {
    let newly_taken = if compared {
        values_from::newly_taken(
            head_tree,
            head_files,
            &values_from::taken_before(base_files),
        )?
    } else {
        values_from::Roles::new()
    };
    for (file, head_path) in base_files.iter().zip(base_paths) {
        if let Some(path) = head_path {
            let roles: Vec<values_from::ValuesRole> = values_roles
                .get(path)
                .into_iter()
                .flatten()
                .filter(|role| !newly_taken.get(path).is_some_and(|new| new.contains(role)))
                .cloned()
                .collect();
            base_index.add_values(file, path, &roles);
        }
    }
    let mut untouched = Vec::new();
    for (path, roles) in newly_taken {
        if changed.contains(path.as_str()) {
            let known = values_roles.entry(path).or_default();
            for role in roles {
                if !known.contains(&role) {
                    known.push(role);
                }
            }
        } else {
            untouched.push((path, roles));
        }
    }
    Ok(untouched)
}

/// What a file the change did not touch contributes when a release takes
/// its values anew.
struct TakenAnew {
    image_uses: Vec<changes::ImageUse>,
    findings: Vec<Finding>,
    suppressions: Vec<suppress::Suppression>,
}

/// Every image of the values `roles` name in `file` is new to its release;
/// values that do not parse are `yaml-invalid`. Only the suppression
/// comments around those images count (the rest of the file is not part
/// of the change, so an unused one there is none of its business).
fn values_taken_anew(
    file: &load::LoadedFile,
    roles: &[values_from::ValuesRole],
    no_ignores: bool,
) -> TakenAnew {
    let mut image_uses = Vec::new();
    let mut findings = Vec::new();
    for role in roles {
        for site in values_from::image_sites(file, role) {
            image_uses.push(changes::ImageUse {
                source: file.source.clone(),
                kind: "HelmRelease".to_string(),
                name: role.release.clone(),
                site,
                change: crate::extract::Change::Added,
                related: changes::written_elsewhere(role),
                blame: None,
                release_file: Some(role.release_file.clone()),
                values_path: role.target.as_ref().map(|t| t.image_path.clone()),
            });
        }
        if let Some((span, problem)) = values_from::values_error(file, role) {
            findings.push(yaml_invalid::values_finding(
                &file.source,
                span,
                &role.describe(),
                &problem,
            ));
        }
    }
    let lines: Vec<usize> = image_uses
        .iter()
        .map(|u| file.source.position(u.site.span.start).line)
        .chain(findings.iter().map(|f| f.primary.start.line))
        .collect();
    let suppressions = if no_ignores {
        Vec::new()
    } else {
        suppress::collect(file)
            .into_iter()
            .filter(|s| {
                lines
                    .iter()
                    .any(|line| (s.first_line..=s.last_line).contains(line))
            })
            .collect()
    };
    TakenAnew {
        image_uses,
        findings,
        suppressions,
    }
}

/// Adds the uses of HelmReleases (and HelmCharts) that take a chart from a
/// repository the change moved and are not checked already. Every head
/// file is considered, but only those naming such a repository are parsed:
/// a moved repository is rare, and any release in the tree may use it.
fn add_charts_of_moved_repositories(
    repo: &Repo,
    head: Oid,
    moved: &[charts::moved::MovedRepository],
    limits: &Limits,
    uses: &mut Vec<charts::ChartUse>,
    sources: &mut Sources,
) -> Result<(), AppError> {
    for blob in repo.yaml_files(head)? {
        if load::skip_reason(repo, head, &blob.path)?.is_some() {
            continue;
        }
        let crate::git::Blob::Bytes(bytes) = repo.read_blob(blob.id, MAX_FILE_BYTES)? else {
            continue;
        };
        if !charts::moved::may_use(&bytes, moved) {
            continue;
        }
        let file = load::parse_bytes(Side::Head, &blob.path, bytes, limits);
        let checked = |new: &charts::ChartUse| {
            uses.iter()
                .any(|u| u.source.path == new.source.path && u.id == new.id)
        };
        let new: Vec<_> = charts::moved::uses_of(&file, moved)
            .into_iter()
            .filter(|u| !checked(u))
            .collect();
        if !new.is_empty() {
            sources.insert(file.source.clone());
            uses.extend(new);
        }
    }
    Ok(())
}

/// Resolves the changed charts' sources. Sources are looked up in the
/// files already loaded; only when one is missing are the other head
/// files read, and only those that can define a Flux source are parsed.
fn resolve_charts(
    repo: &Repo,
    head: Oid,
    loaded: &[BlobRef],
    uses: Vec<charts::ChartUse>,
    sources: &mut charts::SourceIndex,
    limits: &Limits,
) -> Result<Vec<charts::Resolved>, AppError> {
    if uses.is_empty() {
        return Ok(Vec::new());
    }
    if !sources.resolves_all(&uses) {
        add_every_source(repo, head, loaded, sources, limits)?;
    }
    let has_chart_at = |dir: &str| repo.has_file(head, &format!("{dir}/Chart.yaml"));
    let facts = repo_facts(repo, &has_chart_at);
    Ok(charts::resolve(uses, sources, &facts))
}

/// Reads the head files not `loaded` yet for Flux sources (only those
/// that can define one are parsed).
fn add_every_source(
    repo: &Repo,
    head: Oid,
    loaded: &[BlobRef],
    sources: &mut charts::SourceIndex,
    limits: &Limits,
) -> Result<(), GitError> {
    if sources.whole_tree {
        return Ok(());
    }
    let seen: HashSet<&str> = loaded.iter().map(|b| b.path.as_str()).collect();
    for blob in repo.yaml_files(head)? {
        if seen.contains(blob.path.as_str()) {
            continue;
        }
        let crate::git::Blob::Bytes(bytes) = repo.read_blob(blob.id, MAX_FILE_BYTES)? else {
            continue;
        };
        if charts::may_hold_sources(&bytes) {
            sources.add(&load::parse_bytes(Side::Head, &blob.path, bytes, limits));
        }
    }
    sources.whole_tree = true;
    Ok(())
}

fn repo_facts<'a>(repo: &Repo, has_chart_at: &'a dyn Fn(&str) -> bool) -> charts::RepoFacts<'a> {
    charts::RepoFacts {
        own_urls: repo
            .remote_urls()
            .iter()
            .map(|u| charts::normalise_git_url(u))
            .collect(),
        has_chart_at,
    }
}

/// The exit code a report earns under `--fail-on`.
pub fn exit_code(report: &Report, fail_on: crate::cli::FailOn) -> u8 {
    use crate::cli::FailOn;
    let summary = report.summary();
    let failing = match fail_on {
        FailOn::Error => summary.errors,
        FailOn::Warning => summary.errors + summary.warnings,
        FailOn::Never => 0,
    };
    u8::from(failing > 0)
}

/// The commit the diff starts from: the merge-base of base and head.
fn diff_base(
    repo: &Repo,
    args: &CheckArgs,
    revisions: &Revisions,
    head: Oid,
    notices: &mut Vec<String>,
) -> Result<Option<Oid>, AppError> {
    let (base, why) = match &revisions.base {
        Some((rev, why)) => (repo.resolve(rev)?, why.clone()),
        None => match repo.default_base() {
            Ok((name, oid)) => (oid, format!("the default branch `{name}`")),
            // `--all` needs no base: every reference is listed as added.
            Err(_) if args.all => {
                notices.push(format!(
                    "head {} ({}); no base found, every reference counts as added",
                    short(head),
                    revisions.head_why
                ));
                return Ok(None);
            }
            Err(e) => return Err(e.into()),
        },
    };
    let merge_base = repo.merge_base(base, head)?;
    notices.push(format!(
        "base {} (merge-base of {why} and head), head {} ({})",
        short(merge_base),
        short(head),
        revisions.head_why
    ));
    Ok(Some(merge_base))
}

/// The revisions to compare and why: flags first, then the CI environment.
struct Revisions {
    base: Option<(String, String)>,
    head: String,
    head_why: String,
}

fn choose_revisions(args: &CheckArgs) -> Result<Revisions, AppError> {
    let explicit_base = args
        .base
        .as_ref()
        .map(|rev| (rev.clone(), format!("`--base {rev}`")));
    if let Some(head) = &args.head {
        return Ok(Revisions {
            base: explicit_base,
            head: head.clone(),
            head_why: format!("`--head {head}`"),
        });
    }
    if explicit_base.is_none() {
        if let Some(found) = ci::detect(&|name| std::env::var(name).ok()).map_err(AppError::Ci)? {
            return Ok(Revisions {
                base: found.base.map(|base| (base, found.why.clone())),
                head: found.head,
                head_why: found.why,
            });
        }
    }
    Ok(Revisions {
        base: explicit_base,
        head: "HEAD".into(),
        head_why: "`HEAD`".into(),
    })
}

fn short(oid: Oid) -> String {
    oid.to_string()[..12].to_string()
}

/// The configuration: `--config`, else `.fluxgate.yaml` at the base, so a
/// change cannot relax its own check. CLI rule levels override both.
fn load_config(
    repo: &Repo,
    args: &CheckArgs,
    base: Option<Oid>,
    head: Oid,
    notices: &mut Vec<String>,
) -> Result<Config, AppError> {
    let mut config = match &args.config {
        Some(path) => {
            let unreadable = |source| AppError::ConfigUnreadable {
                path: path.display().to_string(),
                source,
            };
            let size = std::fs::metadata(path).map_err(unreadable)?.len();
            if size > MAX_FILE_BYTES as u64 {
                return Err(AppError::ConfigTooLarge {
                    path: path.display().to_string(),
                    size: usize::try_from(size).unwrap_or(usize::MAX),
                    limit: MAX_FILE_BYTES,
                });
            }
            let text = std::fs::read_to_string(path).map_err(unreadable)?;
            Config::parse(&path.display().to_string(), text)?
        }
        None => {
            let at = base.unwrap_or(head);
            let read = |commit| -> Result<Option<Vec<u8>>, AppError> {
                match repo.read_path(commit, config::FILE_NAME, MAX_FILE_BYTES)? {
                    Some(crate::git::Blob::Bytes(bytes)) => Ok(Some(bytes)),
                    // Ignoring it would run the check without the rules
                    // the repository set for itself.
                    Some(crate::git::Blob::TooLarge(size)) => Err(AppError::ConfigTooLarge {
                        path: format!("{} (revision {})", config::FILE_NAME, short(commit)),
                        size,
                        limit: MAX_FILE_BYTES,
                    }),
                    None => Ok(None),
                }
            };
            let base_bytes = read(at)?;
            if base.is_some() && read(head).ok().flatten() != base_bytes {
                notices.push(format!(
                    "this change edits {}: the base revision's version applies (a change cannot relax its own check)",
                    config::FILE_NAME
                ));
            }
            match base_bytes {
                Some(bytes) => Config::parse(
                    config::FILE_NAME,
                    String::from_utf8_lossy(&bytes).into_owned(),
                )?,
                None => Config::default(),
            }
        }
    };
    for given in &args.rule_levels {
        let invalid = |problem: String| AppError::RuleLevel {
            given: given.clone(),
            problem,
        };
        let (id, level) = given
            .split_once('=')
            .ok_or_else(|| invalid("expected ID=LEVEL".into()))?;
        if rules::find(id).is_none() {
            return Err(invalid(format!("unknown rule `{id}`")));
        }
        let level = level.parse::<Level>().map_err(invalid)?;
        config.levels.insert(id.to_string(), level);
    }
    Ok(config)
}

/// The registry checker, from the configuration (CA files read here, so a
/// bad one stops the run before any request) and the environment's credentials.
fn registry_checker(
    repo: &Repo,
    args: &CheckArgs,
    config: &Config,
    config_commit: Oid,
) -> Result<Checker, AppError> {
    let mut rules = Vec::new();
    for entry in &config.registries {
        let ca_pem = match &entry.ca_file {
            None => None,
            Some(file) => Some(read_ca(repo, args, file, config_commit)?),
        };
        rules.push(RegistryRule {
            prefix: entry.prefix.clone(),
            location: entry.location.clone(),
            insecure: entry.insecure,
            ca_pem,
            ca_file: entry.ca_file.clone(),
        });
    }
    let mut platforms = config.platforms.clone();
    platforms.extend(args.platform.iter().cloned());
    platforms.sort();
    platforms.dedup();
    let options = registry::Options {
        jobs: usize::from(args.jobs),
        budget: Duration::from_secs(args.timeout),
        platforms,
        // Only for people: never in CI logs or machine formats.
        progress: args
            .formats
            .iter()
            .any(|f| f.format == crate::report::Format::Human && f.path.is_none())
            && std::io::stderr().is_terminal(),
    };
    Ok(Checker::new(
        Endpoints::new(rules),
        AuthSources::from_env()?,
        options,
    )?)
}

/// A `ca_file`: beside `--config`, else in the tree the configuration came from.
fn read_ca(
    repo: &Repo,
    args: &CheckArgs,
    file: &str,
    config_commit: Oid,
) -> Result<Vec<u8>, AppError> {
    let failed = |problem: String| AppError::CaFile {
        path: file.to_string(),
        problem,
    };
    match &args.config {
        Some(config_path) => {
            let dir = config_path.parent().unwrap_or(std::path::Path::new("."));
            std::fs::read(dir.join(file)).map_err(|e| failed(e.to_string()))
        }
        None => {
            match repo.read_path(config_commit, file.trim_start_matches("./"), MAX_FILE_BYTES)? {
                Some(crate::git::Blob::Bytes(bytes)) => Ok(bytes),
                Some(crate::git::Blob::TooLarge(size)) => {
                    Err(failed(format!("{size} bytes is too large for a CA file")))
                }
                None => Err(failed("not in the repository at the base revision".into())),
            }
        }
    }
}

/// Findings about a head file's syntax.
pub fn parse_findings(file: &load::LoadedFile) -> Vec<Finding> {
    let mut findings = Vec::new();
    if let Some((span, message)) = &file.unreadable {
        findings.push(yaml_invalid::finding(&file.source, *span, message));
    }
    if let Some(error) = &file.parsed.error {
        findings.push(yaml_invalid::finding(
            &file.source,
            error.span,
            &error.message,
        ));
    }
    for duplicate in &file.parsed.duplicate_keys {
        findings.push(yaml_duplicate_key::finding(&file.source, duplicate));
    }
    findings
}

/// Applies configured levels: the one place a finding's severity changes.
fn apply_levels(findings: Vec<Finding>, config: &Config) -> Vec<Finding> {
    findings
        .into_iter()
        .filter_map(|mut finding| match config.level(finding.rule.id) {
            Some(Level::Off) => None,
            Some(Level::Severity(severity)) => {
                finding.severity = severity;
                Some(finding)
            }
            None => Some(finding),
        })
        .collect()
}
