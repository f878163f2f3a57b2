//! The chart stage: which Helm charts (and OCI artifacts) a change adds or
//! modifies, where they come from (the source objects in the head tree),
//! and what to ask the registry or Helm repository about each.

use crate::extract::{is_sops_encrypted, Change};
use crate::finding::{Finding, Location};
use crate::image::{contains_flux_variable, ImageRef};
use crate::k8s::charts::{self, ChartSite, OciArtifact, OciSelector, Source, SourceRef, Written};
use crate::k8s::ObjectId;
use crate::load::LoadedFile;
use crate::registry::{ChartLookup, ChartQuery, Checker};
use crate::report::{ChartRecord, ImageStatus};
use crate::rules::{chart_not_found, chart_unresolved, chart_unverified};
use crate::source::SourceText;
use crate::version_range;
use std::collections::HashMap;
use std::sync::Arc;

pub mod moved;

/// The base side's chart sites and HelmRepository addresses, by object,
/// for telling what changed.
#[derive(Default)]
pub struct ChartBase {
    by_object: HashMap<ObjectId, String>,
    repositories: HashMap<ObjectId, String>,
}

impl ChartBase {
    pub fn add(&mut self, file: &LoadedFile) {
        for doc in &file.parsed.documents {
            if is_sops_encrypted(&doc.root) {
                continue;
            }
            let Some(id) = ObjectId::of(&doc.root) else {
                continue;
            };
            if let Some(Source::HelmRepository { url, oci }) = charts::source_of(&doc.root, &id) {
                self.repositories
                    .insert(id.clone(), moved::address(&url, oci));
            }
            if let Some(site) = charts::chart_site(&doc.root, &id) {
                self.by_object.insert(id, site.fingerprint());
            }
        }
    }
}

/// One chart site in the head tree and how the change touched it.
pub struct ChartUse {
    pub source: Arc<SourceText>,
    pub id: ObjectId,
    pub site: ChartSite,
    pub change: Change,
    /// A HelmRepository the change moved or removed, when that (not the
    /// site itself) is why the chart is checked.
    pub moved_by: Option<moved::MovedBy>,
}

/// The chart sites of a head file that the change added or modified (with
/// `all`, every one). `base` is `None` for a file the change did not touch.
pub fn chart_uses(head: &LoadedFile, base: Option<&ChartBase>, all: bool) -> Vec<ChartUse> {
    let mut uses = Vec::new();
    for (id, site) in chart_sites(head) {
        let change = match base.map(|b| b.by_object.get(&id)) {
            None => Change::Unchanged,
            Some(None) => Change::Added,
            Some(Some(before)) if *before == site.fingerprint() => Change::Unchanged,
            Some(Some(_)) => Change::Modified,
        };
        if all || change != Change::Unchanged {
            uses.push(ChartUse {
                source: head.source.clone(),
                id,
                site,
                change,
                moved_by: None,
            });
        }
    }
    uses
}

/// The chart sites of a file's documents (SOPS-encrypted ones left out:
/// their values are ciphertext), with their objects.
pub fn chart_sites(file: &LoadedFile) -> impl Iterator<Item = (ObjectId, ChartSite)> + '_ {
    file.parsed
        .documents
        .iter()
        .filter(|doc| !is_sops_encrypted(&doc.root))
        .filter_map(|doc| {
            let id = ObjectId::of(&doc.root)?;
            let site = charts::chart_site(&doc.root, &id)?;
            Some((id, site))
        })
}

/// A source object found in the head tree.
pub struct FoundSource {
    pub id: ObjectId,
    pub source: Source,
    pub text: Arc<SourceText>,
}

/// The source objects of the head tree, for resolving `sourceRef`s.
#[derive(Default)]
pub struct SourceIndex {
    sources: Vec<FoundSource>,
    /// Every file of the head tree that can define a source was read.
    pub whole_tree: bool,
}

/// Whether a file may define a source object: a cheap test before parsing
/// files the change did not touch.
pub fn may_hold_sources(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes);
    text.contains("source.toolkit.fluxcd.io")
}

/// The source objects a file defines.
pub fn sources_of(file: &LoadedFile) -> Vec<FoundSource> {
    let mut found = Vec::new();
    for doc in &file.parsed.documents {
        let Some(id) = ObjectId::of(&doc.root) else {
            continue;
        };
        if let Some(source) = charts::source_of(&doc.root, &id) {
            found.push(FoundSource {
                id,
                source,
                text: file.source.clone(),
            });
        }
    }
    found
}

impl SourceIndex {
    pub fn add(&mut self, file: &LoadedFile) {
        self.sources.extend(sources_of(file));
    }

    pub fn extend(&mut self, found: Vec<FoundSource>) {
        self.sources.extend(found);
    }

    /// The source `reference` names, seen from an object in `namespace`.
    /// A namespace missing on either side (set by kustomize at build
    /// time) matches by kind and name when that is unambiguous.
    pub fn find(
        &self,
        reference: &SourceRef,
        namespace: Option<&str>,
    ) -> Result<&FoundSource, String> {
        let wanted = reference.namespace.as_deref().or(namespace);
        let candidates: Vec<&FoundSource> = self
            .sources
            .iter()
            .filter(|s| s.id.kind == reference.kind && s.id.name == reference.name)
            .collect();
        let exact: Vec<&FoundSource> = candidates
            .iter()
            .copied()
            .filter(|s| wanted.is_some() && s.id.namespace.as_deref() == wanted)
            .collect();
        let loose: Vec<&FoundSource> = candidates
            .iter()
            .copied()
            .filter(|s| wanted.is_none() || s.id.namespace.is_none())
            .collect();
        match (exact.as_slice(), loose.as_slice()) {
            ([one], _) | ([], [one]) => Ok(one),
            ([], []) => Err(format!(
                "its source {} is not defined in this repository at head",
                reference.describe()
            )),
            _ => Err(format!(
                "several objects match its source {}; set `namespace` in the reference",
                reference.describe()
            )),
        }
    }

    /// Whether every reference in `uses` can be looked up without a scan
    /// of the rest of the tree.
    pub fn resolves_all(&self, uses: &[ChartUse]) -> bool {
        self.whole_tree
            || uses.iter().all(|u| match &u.site {
                ChartSite::Template { source, .. } | ChartSite::ChartRef { source } => {
                    self.find(source, u.id.namespace.as_deref()).is_ok()
                }
                _ => true,
            })
    }
}

/// What the stage knows about the repository itself.
pub struct RepoFacts<'a> {
    /// The repository's own remote URLs, normalised (for GitRepository sources).
    pub own_urls: Vec<String>,
    /// Whether a path is a directory holding `Chart.yaml` at head.
    pub has_chart_at: &'a dyn Fn(&str) -> bool,
}

/// A chart use resolved: its record, and what to ask (if anything can be).
pub struct Resolved {
    pub record: ChartRecord,
    pub query: Option<ChartQuery>,
    pub finding: Option<Finding>,
    /// Where a finding about it goes, and its related labels.
    at: Location,
    related: Vec<(Location, String)>,
}

/// Resolves each use against the sources; offline, nothing is queried.
pub fn resolve(uses: Vec<ChartUse>, sources: &SourceIndex, facts: &RepoFacts<'_>) -> Vec<Resolved> {
    uses.into_iter()
        .map(|u| resolve_one(u, sources, facts))
        .collect()
}

fn resolve_one(chart_use: ChartUse, sources: &SourceIndex, facts: &RepoFacts<'_>) -> Resolved {
    let ChartUse {
        source: text,
        id,
        site,
        change,
        moved_by,
    } = chart_use;
    let namespace = id.namespace.clone();
    let mut record = ChartRecord {
        chart: String::new(),
        version: None,
        repository: String::new(),
        location: Location::new(&text, primary_span(&site)),
        kind: id.kind.clone(),
        name: id.display_name(),
        change,
        status: ImageStatus::Skipped,
        detail: None,
        resolved_version: None,
    };
    let mut related = Vec::new();
    let mut target = target_of(
        &site,
        namespace.as_deref(),
        sources,
        &mut record,
        &mut related,
        facts,
        0,
    );
    let (at, related) = match moved_by {
        // Unless another definition of it stands elsewhere in the tree.
        Some(moved::MovedBy::Removed(id))
            if !matches!(&site, ChartSite::Template { source, .. }
                if sources.find(source, namespace.as_deref()).is_ok()) =>
        {
            target = Target::Missing {
                detail: format!(
                    "its source {} {} is removed by this change",
                    id.kind,
                    id.display_name()
                ),
            };
            (record.location.clone(), Vec::new())
        }
        Some(moved::MovedBy::Removed(_)) => (record.location.clone(), related),
        Some(moved::MovedBy::Url(url)) => {
            let used_here = format!(
                "{} {} takes chart {} from it",
                record.kind,
                record.name,
                describe_version(&record)
            );
            (url, vec![(record.location.clone(), used_here)])
        }
        None => (record.location.clone(), related),
    };
    let mut resolved = Resolved {
        record,
        query: None,
        finding: None,
        at,
        related,
    };
    match target {
        Target::Query(query) => resolved.query = Some(query),
        Target::Exists { detail } => {
            resolved.record.status = ImageStatus::Exists;
            resolved.record.detail = Some(detail);
        }
        Target::Missing { detail } => {
            resolved.record.status = ImageStatus::Missing;
            resolved.finding = Some(with_related(
                chart_not_found::finding(resolved.at.clone(), &describe(&resolved.record), &detail),
                &resolved.related,
            ));
            resolved.record.detail = Some(detail);
        }
        Target::Unresolved { detail } => {
            resolved.record.status = ImageStatus::Unresolved;
            resolved.finding = Some(with_related(
                chart_unresolved::finding(
                    resolved.at.clone(),
                    &describe(&resolved.record),
                    &detail,
                ),
                &resolved.related,
            ));
            resolved.record.detail = Some(detail);
        }
    }
    resolved
}

fn with_related(mut finding: Finding, related: &[(Location, String)]) -> Finding {
    for (location, message) in related {
        finding = finding.with_related(location.clone(), message.clone());
    }
    finding
}

/// `podinfo 6.5.4`, for labels.
fn describe_version(record: &ChartRecord) -> String {
    match &record.version {
        Some(version) => format!("{} {version}", record.chart),
        None => record.chart.clone(),
    }
}

/// `podinfo 6.5.4 from https://...`, for messages.
pub fn describe(record: &ChartRecord) -> String {
    let mut out = describe_version(record);
    // An unresolved chart's detail names its source already.
    if !record.repository.is_empty() && record.status != ImageStatus::Unresolved {
        out.push_str(&format!(" from {}", record.repository));
    }
    out
}

/// The value a user edits: the version where there is one.
fn primary_span(site: &ChartSite) -> crate::source::Span {
    match site {
        ChartSite::Template { chart, version, .. } => version.as_ref().unwrap_or(chart).span,
        ChartSite::ChartRef { source } => source.span,
        ChartSite::Legacy { name, version, .. } => version.as_ref().unwrap_or(name).span,
        ChartSite::Artifact(artifact) => selector_span(artifact),
    }
}

fn selector_span(artifact: &OciArtifact) -> crate::source::Span {
    match &artifact.selector {
        Some(OciSelector::Tag(w) | OciSelector::Semver(w) | OciSelector::Digest(w)) => w.span,
        None => artifact.url.span,
    }
}

enum Target {
    Query(ChartQuery),
    Exists { detail: String },
    Missing { detail: String },
    Unresolved { detail: String },
}

fn unresolved(detail: impl Into<String>) -> Target {
    Target::Unresolved {
        detail: detail.into(),
    }
}

/// Follows a site to what can be asked about it, filling the record.
fn target_of(
    site: &ChartSite,
    namespace: Option<&str>,
    sources: &SourceIndex,
    record: &mut ChartRecord,
    related: &mut Vec<(Location, String)>,
    facts: &RepoFacts<'_>,
    depth: usize,
) -> Target {
    match site {
        ChartSite::Template {
            chart,
            version,
            source,
        } => {
            record.chart = chart.text.clone();
            record.version = version.as_ref().map(|v| v.text.clone());
            if let Some(variable) = variable_in(&[Some(chart), version.as_ref()]) {
                return unresolved(format!("uses Flux post-build variable {variable}"));
            }
            let found = match sources.find(source, namespace) {
                Ok(found) => found,
                Err(why) => {
                    record.repository = source.describe();
                    return unresolved(why);
                }
            };
            match &found.source {
                Source::HelmRepository { url, oci } => {
                    related.push((
                        Location::new(&found.text, url.span),
                        "repository URL set here".into(),
                    ));
                    record.repository = url.text.clone();
                    if contains_flux_variable(&url.text) {
                        return unresolved("the repository URL uses a Flux post-build variable");
                    }
                    if *oci {
                        oci_chart_query(
                            &url.text,
                            &chart.text,
                            version.as_ref().map(|v| v.text.as_str()),
                        )
                    } else {
                        Target::Query(ChartQuery::Index {
                            url: url.text.clone(),
                            chart: chart.text.clone(),
                            version: version.as_ref().map(|v| v.text.clone()),
                        })
                    }
                }
                Source::GitRepository { url } => {
                    record.repository = url.text.clone();
                    git_chart(&url.text, &chart.text, facts)
                }
                Source::OciRepository(_) | Source::HelmChart(_) => unresolved(format!(
                    "a chart template cannot take its chart from a {}",
                    found.id.kind
                )),
            }
        }
        ChartSite::ChartRef { source } => {
            let found = match sources.find(source, namespace) {
                Ok(found) => found,
                Err(why) => {
                    record.chart = source.name.clone();
                    record.repository = source.describe();
                    return unresolved(why);
                }
            };
            match &found.source {
                Source::OciRepository(artifact) => {
                    related.push((
                        Location::new(&found.text, selector_span(artifact)),
                        "the chart's version is selected here".into(),
                    ));
                    artifact_target(artifact, record)
                }
                Source::HelmChart(inner) if depth == 0 => target_of(
                    inner,
                    found.id.namespace.as_deref().or(namespace),
                    sources,
                    record,
                    related,
                    facts,
                    depth + 1,
                ),
                _ => unresolved(format!("`chartRef` cannot point at a {}", found.id.kind)),
            }
        }
        ChartSite::Legacy {
            repository,
            name,
            version,
        } => {
            record.chart = name.text.clone();
            record.version = version.as_ref().map(|v| v.text.clone());
            record.repository = repository.text.clone();
            if let Some(variable) = variable_in(&[Some(repository), Some(name), version.as_ref()]) {
                return unresolved(format!("uses Flux post-build variable {variable}"));
            }
            Target::Query(ChartQuery::Index {
                url: repository.text.clone(),
                chart: name.text.clone(),
                version: version.as_ref().map(|v| v.text.clone()),
            })
        }
        ChartSite::Artifact(artifact) => artifact_target(artifact, record),
    }
}

fn variable_in(values: &[Option<&Written>]) -> Option<String> {
    values
        .iter()
        .flatten()
        .find(|w| contains_flux_variable(&w.text))
        .map(|w| format!("in `{}`", w.text))
}

/// `oci://host/path` + chart + version: an OCI artifact by tag, or the
/// best tag for a range (latest when no version).
fn oci_chart_query(url: &str, chart: &str, version: Option<&str>) -> Target {
    let name = format!(
        "{}/{chart}",
        url.trim_start_matches("oci://").trim_end_matches('/')
    );
    oci_target(
        &name,
        version.map_or(Selector::Range("*"), |v| {
            if version_range::is_exact(v) {
                Selector::Tag(v)
            } else {
                Selector::Range(v)
            }
        }),
    )
}

enum Selector<'a> {
    Tag(&'a str),
    Range(&'a str),
    Digest(&'a str),
}

fn oci_target(name: &str, selector: Selector<'_>) -> Target {
    let text = match &selector {
        // Helm writes a version's `+` as `_` in OCI tags.
        Selector::Tag(tag) => format!("{name}:{}", tag.replace('+', "_")),
        Selector::Digest(digest) => format!("{name}@{digest}"),
        Selector::Range(_) => name.to_string(),
    };
    let reference = match ImageRef::parse(&text) {
        Ok(reference) => reference,
        Err(e) => {
            return Target::Missing {
                detail: format!("`{text}` is not a valid OCI reference: {}", e.message),
            }
        }
    };
    match selector {
        Selector::Range(range) => {
            if let Err(e) = version_range::Constraint::parse(range) {
                return Target::Missing {
                    detail: format!("`{range}` is not a version range Flux accepts: {e}"),
                };
            }
            Target::Query(ChartQuery::OciRange {
                repository: reference,
                range: range.to_string(),
            })
        }
        _ => Target::Query(ChartQuery::Oci { reference }),
    }
}

fn artifact_target(artifact: &OciArtifact, record: &mut ChartRecord) -> Target {
    let url = &artifact.url.text;
    record.repository = url.clone();
    record.chart = url
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_string();
    let selector_text = match &artifact.selector {
        Some(OciSelector::Tag(w) | OciSelector::Semver(w) | OciSelector::Digest(w)) => {
            Some(&w.text)
        }
        None => None,
    };
    record.version = selector_text.cloned();
    if contains_flux_variable(url) || selector_text.is_some_and(|t| contains_flux_variable(t)) {
        return unresolved("uses a Flux post-build variable");
    }
    let Some(name) = url.strip_prefix("oci://") else {
        return Target::Missing {
            detail: format!("`{url}` is not an `oci://` URL"),
        };
    };
    let name = name.trim_end_matches('/');
    match &artifact.selector {
        None => oci_target(name, Selector::Tag("latest")),
        Some(OciSelector::Tag(w)) => oci_target(name, Selector::Tag(&w.text)),
        Some(OciSelector::Semver(w)) => oci_target(name, Selector::Range(&w.text)),
        Some(OciSelector::Digest(w)) => oci_target(name, Selector::Digest(&w.text)),
    }
}

/// A chart from a GitRepository: checkable only when it is this repository.
fn git_chart(url: &str, path: &str, facts: &RepoFacts<'_>) -> Target {
    let normalised = normalise_git_url(url);
    if !facts.own_urls.contains(&normalised) {
        return unresolved(format!(
            "the chart comes from the GitRepository {url}, which is not this repository; fluxgate does not fetch other repositories"
        ));
    }
    let dir = path.trim_start_matches("./").trim_end_matches('/');
    if (facts.has_chart_at)(dir) {
        Target::Exists {
            detail: format!("chart directory {dir} holds Chart.yaml at head"),
        }
    } else {
        Target::Missing {
            detail: format!("this repository has no chart at {dir} (no {dir}/Chart.yaml at head)"),
        }
    }
}

/// `git@github.com:org/repo.git`, `ssh://git@github.com/org/repo`,
/// `https://github.com/org/repo.git` -> `github.com/org/repo`.
pub fn normalise_git_url(url: &str) -> String {
    let mut rest = url.trim();
    if let Some((_, after)) = rest.split_once("://") {
        rest = after;
    } else if let Some((user_host, path)) = rest.split_once(':') {
        // scp-like `git@host:path`.
        return normalise_git_url(&format!("ssh://{user_host}/{path}"));
    }
    let rest = rest
        .rsplit_once('@')
        .filter(|(user, _)| !user.contains('/'))
        .map_or(rest, |(_, r)| r);
    let rest = rest.trim_end_matches('/');
    let rest = rest.strip_suffix(".git").unwrap_or(rest);
    match rest.split_once('/') {
        Some((host, path)) => format!("{}/{path}", host.to_ascii_lowercase()),
        None => rest.to_ascii_lowercase(),
    }
}

/// Asks the registry and repositories, and applies the answers.
pub fn verify(checker: &Checker, resolved: &mut [Resolved]) -> Vec<Finding> {
    let queries: Vec<ChartQuery> = resolved.iter().filter_map(|r| r.query.clone()).collect();
    let mut answers = checker.check_charts(&queries).into_iter();
    let mut findings = Vec::new();
    for item in resolved.iter_mut().filter(|r| r.query.is_some()) {
        let Some(answer) = answers.next() else { break };
        let (at, related) = (&item.at, &item.related);
        let record = &mut item.record;
        match answer {
            ChartLookup::Exists { version, digest } => {
                record.status = ImageStatus::Exists;
                record.resolved_version = version.or_else(|| record.version.clone());
                record.detail = digest;
            }
            ChartLookup::Missing { detail } => {
                record.status = ImageStatus::Missing;
                findings.push(with_related(
                    chart_not_found::finding(at.clone(), &describe(record), &detail),
                    related,
                ));
                record.detail = Some(detail);
            }
            ChartLookup::Unknown { cause, detail } => {
                record.status = ImageStatus::Unverified;
                findings.push(with_related(
                    chart_unverified::finding(
                        at.clone(),
                        &describe(record),
                        cause.as_str(),
                        &detail,
                    ),
                    related,
                ));
                record.detail = Some(format!("{}: {detail}", cause.as_str()));
            }
        }
    }
    findings
}

/// Offline: queries stay unasked, and the records say so.
pub fn mark_offline(resolved: &mut [Resolved]) {
    for item in resolved.iter_mut().filter(|r| r.query.is_some()) {
        item.record.detail = Some("--offline".into());
    }
}

#[cfg(test)]
mod tests {
    use super::normalise_git_url;

    #[test]
    fn git_urls_normalise_to_host_and_path() {
        for url in [
            "https://github.com/Org/repo.git",
            "https://github.com/Org/repo",
            "ssh://git@github.com/Org/repo.git",
            "git@github.com:Org/repo.git",
            "https://GitHub.com/Org/repo/",
        ] {
            assert_eq!(normalise_git_url(url), "github.com/Org/repo", "{url}");
        }
        assert_eq!(
            normalise_git_url("file:///srv/git/repo.git"),
            "/srv/git/repo"
        );
    }
}
