//! Helm values images that leave a part to the chart: a tag-only map
//! (`values: {image: {tag: "1.2"}}`, the most common override of a chart's
//! image) leaves the repository, a repository-only map or a bare string the
//! tag, a map without `registry` the chart's default registry. The part
//! comes from the chart's own default values: fluxgate reads them from the
//! chart the release installs (its archive from the Helm repository or OCI
//! registry, or its directory when the chart is in this repository) and
//! checks the image that will deploy. A `global` registry the release sets
//! is weighed against the chart's templates ([`global_registry`]). Where it
//! cannot be sure what the chart makes of the values, the reference stays
//! unresolved and says why: a guess could be a false "exists".

pub mod archive;
pub mod defaults;
pub mod global_reads;
pub mod global_registry;

use crate::changes::ImageUse;
use crate::charts::{self, ChartUse, RepoFacts, Resolved, SourceIndex};
use crate::deploy::tree::HeadTree;
use crate::extract::Change;
use crate::finding::Location;
use crate::git::{Blob, EntryKind, GitError};
use crate::helm_path::{follow, parse as parse_path, Step};
use crate::k8s::flux::{is_helm_release, values_from, ValuesFrom, CHART_REPOSITORY, VALUES_FIELD};
use crate::k8s::{part, ChartSupplies, ObjectId};
use crate::load::{LoadedFile, MAX_FILE_BYTES};
use crate::registry::{ArchiveQuery, ChartLookup, ChartQuery, Checker};
use crate::report::ImageStatus;
use crate::values_from::merged::{ReleaseValues, Setting};
use crate::values_from::target::FIELD_MARK as TARGET_MARK;
use crate::yaml::{Limits, Node};
use archive::ChartFiles;
use defaults::Defaults;
use global_reads::GlobalReads;
use global_registry::Outcome;
use std::collections::BTreeMap;
use std::rc::Rc;

/// What chart defaults are read with.
pub struct Context<'a> {
    /// The head tree: a release's file is parsed once, shared with the
    /// stages after this one.
    pub tree: &'a HeadTree<'a>,
    pub facts: &'a RepoFacts<'a>,
    /// `None` with `--offline`: no chart is fetched.
    pub checker: Option<&'a Checker>,
    pub limits: &'a Limits,
}

/// Whether any of `uses` waits for a chart's defaults, or (when charts
/// are fetched) may deploy otherwise than written: from a `global`
/// registry its release sets, or the chart's default registry. Offline
/// nothing is checked, so complete images are not weighed (and a full
/// tree's releases are not parsed again for it).
pub fn wanted(uses: &[ImageUse], online: bool) -> bool {
    uses.iter()
        .any(|u| waits_for_chart(u) || online && is_values_image(u))
}

/// Completes the images of `uses` that wait for their charts' defaults,
/// or says in each one's reason why it could not. `sources` are the Flux
/// sources read so far; `more_sources` reads the rest of the tree's, when
/// a release names one they lack.
pub fn complete(
    uses: &mut [ImageUse],
    cx: &Context<'_>,
    sources: &mut SourceIndex,
    more_sources: &mut dyn FnMut(&mut SourceIndex) -> Result<(), GitError>,
) -> Result<(), GitError> {
    let mut releases: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
    for (index, image_use) in uses.iter_mut().enumerate() {
        let waiting = waits_for_chart(image_use);
        if !(waiting || cx.checker.is_some() && is_values_image(image_use)) {
            continue;
        }
        if image_use.kind == "HelmRelease" && values_path(image_use).is_some() {
            releases
                .entry(image_use.release_key())
                .or_default()
                .push(index);
        } else if waiting {
            give_up(
                image_use,
                "fluxgate reads a chart's defaults only for the release's own `spec.values` \
                 and values set with `targetPath`",
            );
        }
    }
    // What each release installs, where its values come from, and the
    // `global` registries they set. A complete image of a release without
    // one deploys as written: its chart is not read for it.
    let mut found: Vec<(Vec<usize>, Result<Release, String>)> = Vec::new();
    let mut globals: Vec<ReleaseGlobals> = Vec::new();
    for ((path, name), mut indices) in releases {
        let release = release(cx.tree, &path, &name)?;
        let release_globals = match &release {
            Ok(release) => ReleaseGlobals::read(cx.tree, release, &path, &name)?,
            Err(_) => ReleaseGlobals::default(),
        };
        // A complete image waits for its chart when a `global` registry
        // may move it, or when its values leave the registry to the
        // chart's default.
        indices.retain(|&index| {
            let image_use = &uses[index];
            waits_for_chart(image_use)
                || release.as_ref().is_ok_and(|release| {
                    values_map_at(image_use, release.values.as_ref())
                        && (!release_globals.is_empty()
                            || !release_globals.sets_registry(image_use))
                })
        });
        if !indices.is_empty() {
            found.push((indices, release));
            globals.push(release_globals);
        }
    }
    if found.is_empty() {
        return Ok(());
    }
    let chart_uses: Vec<ChartUse> = found
        .iter()
        .filter_map(|(_, release)| release.as_ref().ok())
        .map(Release::chart_use)
        .collect();
    if !sources.resolves_all(&chart_uses) {
        more_sources(sources)?;
    }
    let mut plans: Vec<(Vec<usize>, Result<Plan, String>)> = found
        .into_iter()
        .map(|(indices, release)| (indices, release.and_then(|r| plan(r, sources, cx.facts))))
        .collect();
    let defaults = read_defaults(&mut plans, cx)?;
    for (((indices, plan), values), release_globals) in plans.into_iter().zip(defaults).zip(globals)
    {
        for index in indices {
            let image_use = &mut uses[index];
            let waiting = waits_for_chart(image_use);
            let outcome = match (&plan, &values) {
                // Without a `global` registry, a chart that cannot be read
                // leaves the image as written (as before: flagging every
                // such image would be noise).
                (_, Err(_)) if !waiting && release_globals.is_empty() => Ok((
                    image_use.site.reference.clone().unwrap_or_default(),
                    Vec::new(),
                )),
                (Err(why), _) | (_, Err(why)) if !waiting => Err(format!(
                    "the release sets {}, which its chart's templates may put before the image's own registry, and the chart could not be read to tell: {why}",
                    release_globals.describe()
                )),
                (Err(why), _) | (_, Err(why)) => Err(why.clone()),
                (Ok(plan), Ok(values)) => deploys_as(image_use, plan, values, &release_globals),
            };
            match outcome {
                Ok((reference, labels)) => {
                    if image_use.site.reference.as_deref() != Ok(reference.as_str()) {
                        image_use.site.reference = Ok(reference);
                        image_use.site.parts.clear();
                    }
                    image_use.site.incomplete = None;
                    image_use.related.extend(labels);
                }
                Err(why) if waiting => give_up(image_use, &why),
                Err(why) => unresolve(image_use, &why),
            }
        }
    }
    Ok(())
}

/// The `global` registries a release's values set.
#[derive(Default)]
struct ReleaseGlobals {
    /// The release's values, merged as Helm merges them.
    values: Option<ReleaseValues>,
    /// By path below `global`.
    set: BTreeMap<String, Setting>,
    /// A `valuesFrom` entry that sets one with `targetPath` (not read).
    targeted: Option<String>,
}

impl ReleaseGlobals {
    fn read(
        tree: &HeadTree<'_>,
        release: &Release,
        path: &str,
        name: &str,
    ) -> Result<ReleaseGlobals, GitError> {
        let values = match ReleaseValues::read(tree, path, name)? {
            Some(values) => values,
            None => ReleaseValues::spec_only(&release.file, release.values.as_ref(), name),
        };
        let targeted = release
            .values_from
            .iter()
            .find(|entry| {
                entry.target.as_deref().is_some_and(|target| {
                    target.starts_with("global.")
                        && target.to_ascii_lowercase().ends_with("registry")
                })
            })
            .map(|entry| {
                format!(
                    "`{}` from {} {}, key `{}`",
                    entry.target.as_deref().unwrap_or_default(),
                    entry.kind,
                    entry.name,
                    entry.key
                )
            });
        Ok(ReleaseGlobals {
            set: values.global_registries(),
            values: Some(values),
            targeted,
        })
    }

    fn is_empty(&self) -> bool {
        self.set.is_empty() && self.targeted.is_none()
    }

    /// Whether the release's values set the registry of the image (even
    /// empty).
    fn sets_registry(&self, image_use: &ImageUse) -> bool {
        let path = values_path(image_use).unwrap_or_default();
        self.values
            .as_ref()
            .is_some_and(|values| values.sets(&format!("{path}.registry")))
    }

    /// `global.imageRegistry` (`mirror.acme.io`), for messages.
    fn describe(&self) -> String {
        let mut said: Vec<String> = self
            .set
            .iter()
            .map(|(path, setting)| format!("`global.{path}` (`{}`)", setting.text))
            .collect();
        said.extend(self.targeted.clone());
        said.join(" and ")
    }
}

/// Helm values images written whole, `{registry, repository, tag,
/// digest}`: a `global` registry their release sets may move them.
fn is_values_image(image_use: &ImageUse) -> bool {
    image_use.kind == "HelmRelease"
        && image_use.site.incomplete.is_none()
        && image_use.site.chart_supplies.is_none()
        && values_path(image_use).is_some()
        && image_use
            .site
            .reference
            .as_ref()
            .is_ok_and(|text| !text.contains("${") && !text.contains("{{"))
}

/// What `image_use` deploys as, from the chart of `plan` with default
/// values `defaults`, and the labels that say why.
fn deploys_as(
    image_use: &ImageUse,
    plan: &Plan,
    defaults: &Defaults,
    globals: &ReleaseGlobals,
) -> Result<(String, Vec<(Location, String)>), String> {
    let path = values_path(image_use).unwrap_or_default().to_string();
    let mut labels = Vec::new();
    let mut reference = image_use.site.reference.clone().unwrap_or_default();
    if waits_for_chart(image_use) {
        // A value set with `targetPath` was weighed against the release's
        // other entries when it was found.
        if image_use.values_path.is_none() {
            if let Some(why) = values_from_may_set(&plan.values_from, &path) {
                return Err(why);
            }
        }
        // `tag: ""` (or null) in the release's values replaces the
        // chart's default tag: the templates then choose one.
        let supplied = match image_use.site.chart_supplies {
            Some(ChartSupplies::Tag) => "tag",
            _ => "repository",
        };
        let supplied_path = format!("{path}.{supplied}");
        if globals.values.as_ref().is_some_and(|values| {
            values.sets(&supplied_path) && values.last_at(&supplied_path).is_none()
        }) {
            return Err(format!(
                "the release's values set `{supplied_path}` empty, which replaces chart {}'s default: its templates choose the {supplied} (a tag is often the chart's appVersion)",
                plan.chart
            ));
        }
        let (composed, label) = compose(
            &path,
            &reference,
            image_use
                .site
                .chart_supplies
                .unwrap_or(ChartSupplies::Repository),
            plan.release_values.as_ref(),
            defaults,
            &plan.chart,
        )?;
        reference = composed;
        labels.push((plan.chart_at.clone(), label));
    } else if !values_map_at(image_use, plan.release_values.as_ref()) {
        // A string image, or one in a list: charts do not put a `global`
        // registry before those.
        return Ok((reference, labels));
    }
    if let Some(targeted) = &globals.targeted {
        return Err(format!(
            "the release sets {targeted} with `valuesFrom`, which fluxgate does not read, and chart {}'s templates may put it before the image's own registry",
            plan.chart
        ));
    }
    let steps =
        parse_path(&path).ok_or_else(|| format!("`{path}` is not a path fluxgate can follow"))?;
    // The image's own registry: its values' (even empty: that clears the
    // chart's), else the chart's default beside it, since Helm merges the
    // release's values over the chart's.
    let registry_path = format!("{path}.registry");
    let values = globals.values.as_ref();
    // A digest in the chart's defaults that the values leave in place
    // merges into the image too: templates that use it ignore the tag.
    let digest_path = format!("{path}.digest");
    if !waits_for_chart(image_use)
        && !reference.contains('@')
        && !values.is_some_and(|v| v.sets(&digest_path))
        && defaults.at(&steps).part("digest").is_some()
    {
        return Err(format!(
            "chart {}'s values.yaml pins `{digest_path}`, which the release's values leave in place and its templates may use instead of the tag",
            plan.chart
        ));
    }
    let (own, from_defaults) = if values.is_some_and(|v| v.sets(&registry_path)) {
        let own = values.and_then(|v| v.last_at(&registry_path));
        (own.map(|setting| setting.text), false)
    } else {
        let own = defaults.at(&steps).part("registry");
        (own.map(|(registry, _)| registry.to_string()), true)
    };
    let own = own.map(|registry| registry.trim_end_matches('/').to_string());
    let rest = match &own {
        // Written without the chart's default registry (a tag-only image
        // was completed with it).
        Some(own) if from_defaults => reference
            .strip_prefix(own.as_str())
            .and_then(|rest| rest.strip_prefix('/'))
            .filter(|_| waits_for_chart(image_use))
            .unwrap_or(&reference)
            .to_string(),
        Some(own) => reference
            .strip_prefix(own.as_str())
            .and_then(|rest| rest.strip_prefix('/'))
            .ok_or_else(|| {
                format!("`{reference}` does not start with the image's registry `{own}`")
            })?
            .to_string(),
        None => reference.clone(),
    };
    let in_effect = global_registry::in_effect(
        globals.set.clone(),
        defaults.global_registries(&steps),
        &plan.chart,
        &plan.chart_at,
    );
    let outcome = if in_effect.is_empty() {
        Outcome::Keep(None)
    } else {
        global_registry::weigh(
            &rest,
            own.as_deref(),
            &in_effect,
            &defaults.global_reads,
            &plan.chart,
        )
    };
    match outcome {
        Outcome::Keep(note) => {
            let deployed = match &own {
                Some(own) => format!("{own}/{rest}"),
                None => rest,
            };
            if deployed != reference {
                labels.push((
                    plan.chart_at.clone(),
                    format!(
                        "registry `{}` from the default values of chart {} (`{registry_path}`)",
                        own.unwrap_or_default(),
                        plan.chart
                    ),
                ));
            }
            labels.extend(note);
            Ok((deployed, labels))
        }
        Outcome::Becomes(moved, label) => {
            labels.push(label);
            Ok((moved, labels))
        }
        Outcome::Unsure(why) => Err(why),
    }
}

/// Whether the image stands at a `{registry, repository, tag}` map of the
/// release's values (not a string).
fn values_map_at(image_use: &ImageUse, release_values: Option<&Node>) -> bool {
    if image_use.values_path.is_some() {
        // Set with `targetPath` at a part of a map, or merged across
        // layers (only maps are).
        return match image_use.site.field.split_once(TARGET_MARK) {
            Some((_, target)) => {
                target
                    .trim_end_matches(')')
                    .rsplit_once('.')
                    .is_some_and(|(_, leaf)| {
                        ["registry", "repository", "tag", "digest"].contains(&leaf)
                    })
            }
            None => true,
        };
    }
    let path = values_path(image_use).unwrap_or_default();
    release_values
        .and_then(|values| crate::helm_path::follow_written(values, path))
        .is_some_and(|node| node.as_mapping().is_some())
}

/// Marks a complete reference unresolved: fluxgate cannot tell what
/// deploys.
fn unresolve(image_use: &mut ImageUse, why: &str) {
    match &mut image_use.site.incomplete {
        Some(reason) => reason.push_str(&format!("; {why}")),
        None => image_use.site.incomplete = Some(why.to_string()),
    }
}

/// A reference a part of which the chart supplies, not yet completed (one
/// that still holds a variable without a value keeps that reason: it is
/// the one to fix first).
fn waits_for_chart(image_use: &ImageUse) -> bool {
    image_use.site.incomplete.is_some()
        && image_use.site.chart_supplies.is_some()
        && image_use
            .site
            .reference
            .as_ref()
            .is_ok_and(|text| !text.contains("${"))
}

/// Where the image sits in its release's values (`image`), when it is in
/// them: written in `spec.values`, or completed by a value set there with
/// `targetPath`.
fn values_path(image_use: &ImageUse) -> Option<&str> {
    match &image_use.values_path {
        Some(path) => Some(path),
        None => image_use.site.field.strip_prefix(VALUES_FIELD),
    }
}

/// Why the release's `valuesFrom` entries may set the part of the image at
/// `path` that its `spec.values` leave to the chart, if they may.
fn values_from_may_set(entries: &[ValuesFrom], path: &str) -> Option<String> {
    for entry in entries {
        let describe = format!("{} {}, key `{}`", entry.kind, entry.name, entry.key);
        match &entry.target {
            None => {
                return Some(format!(
                    "the release also takes a values document with `valuesFrom` ({describe}), which may set the rest of the image"
                ))
            }
            Some(target)
                if target == path
                    || target.strip_prefix(path).is_some_and(|rest| {
                        [".registry", ".repository", ".tag", ".digest"].contains(&rest)
                    }) =>
            {
                return Some(format!(
                    "`valuesFrom` ({describe}) sets `{target}`, part of the same image, which fluxgate does not combine with the chart's defaults"
                ))
            }
            Some(_) => {}
        }
    }
    None
}

fn give_up(image_use: &mut ImageUse, why: &str) {
    if let Some(reason) = &mut image_use.site.incomplete {
        reason.push_str(&format!("; {why}"));
    }
}

/// One release: its chart, where the chart's values are, and its own
/// values (re-read from its file: only files with such images are).
struct Plan {
    /// `podinfo 6.5.4`, for labels.
    chart: String,
    chart_at: Location,
    source: ValuesSource,
    /// `spec.values`, if the release has them.
    release_values: Option<Node>,
    values_from: Vec<ValuesFrom>,
}

enum ValuesSource {
    Query(ChartQuery),
    /// A chart directory in this repository, at head.
    Here(String),
}

/// A release with images that wait for its chart, found again in its file.
struct Release {
    file: Rc<LoadedFile>,
    id: ObjectId,
    site: crate::k8s::charts::ChartSite,
    values: Option<Node>,
    values_from: Vec<ValuesFrom>,
}

impl Release {
    fn chart_use(&self) -> ChartUse {
        ChartUse {
            source: self.file.source.clone(),
            id: self.id.clone(),
            site: self.site.clone(),
            change: Change::Unchanged,
            moved_by: None,
        }
    }
}

fn release(
    tree: &HeadTree<'_>,
    path: &str,
    name: &str,
) -> Result<Result<Release, String>, GitError> {
    let Some(file) = tree.load(path)? else {
        return Ok(Err("the release's file is not in the head tree".into()));
    };
    Ok(release_in(file, name))
}

fn release_in(file: Rc<LoadedFile>, name: &str) -> Result<Release, String> {
    let (id, root) = file
        .parsed
        .documents
        .iter()
        .find_map(|doc| {
            let id = ObjectId::of(&doc.root).filter(is_helm_release)?;
            // A release without a namespace is named with its
            // kustomization's where its values are found.
            let named = id.display_name() == name
                || id.name == name
                || id.namespace.is_none()
                    && name.rsplit_once('/').is_some_and(|(_, n)| n == id.name);
            named.then(|| (id, doc.root.clone()))
        })
        .ok_or("the release was not found again in its file")?;
    let values = root.get_path(&["spec", "values"]).cloned();
    let site = crate::k8s::charts::chart_site(&root, &id)
        .ok_or("the release names no chart fluxgate can read")?;
    Ok(Release {
        file,
        id,
        site,
        values,
        values_from: values_from(&root),
    })
}

fn plan(release: Release, sources: &SourceIndex, facts: &RepoFacts<'_>) -> Result<Plan, String> {
    let mut resolved: Vec<Resolved> = charts::resolve(vec![release.chart_use()], sources, facts);
    let resolved = resolved.pop().ok_or("the chart was not resolved")?;
    let record = &resolved.record;
    let chart = match &record.version {
        Some(version) => format!("{} {version}", record.chart),
        None => record.chart.clone(),
    };
    let chart_at = record.location.clone();
    let source = match (resolved.query, record.status) {
        (Some(query), _) => ValuesSource::Query(query),
        (None, ImageStatus::Exists) if looks_like_path(&record.chart) => ValuesSource::Here(
            record
                .chart
                .trim_start_matches("./")
                .trim_end_matches('/')
                .to_string(),
        ),
        (None, _) => {
            return Err(format!(
                "its chart cannot be read: {}",
                record
                    .detail
                    .as_deref()
                    .unwrap_or("its source is not known")
            ))
        }
    };
    Ok(Plan {
        chart,
        chart_at,
        source,
        release_values: release.values,
        values_from: release.values_from,
    })
}

fn looks_like_path(chart: &str) -> bool {
    chart.starts_with("./") || chart.contains('/')
}

/// The chart default values of each plan, parsed (fetched in two rounds:
/// versions, then archives).
fn read_defaults(
    plans: &mut [(Vec<usize>, Result<Plan, String>)],
    cx: &Context<'_>,
) -> Result<Vec<Result<Defaults, String>>, GitError> {
    let queries: Vec<ChartQuery> = plans
        .iter()
        .filter_map(|(_, plan)| match plan {
            Ok(Plan {
                source: ValuesSource::Query(query),
                ..
            }) => Some(query.clone()),
            _ => None,
        })
        .collect();
    let mut archives = match (cx.checker, queries.is_empty()) {
        (_, true) => Vec::new(),
        (None, false) => queries
            .iter()
            .map(|_| Err("charts are not read with `--offline`".to_string()))
            .collect(),
        (Some(checker), false) => {
            let lookups = checker.check_charts(&queries);
            let wanted: Vec<Result<ArchiveQuery, String>> = queries
                .iter()
                .zip(lookups)
                .map(|(query, lookup)| archive_query(query, lookup))
                .collect();
            let asked: Vec<ArchiveQuery> = wanted.iter().filter_map(|w| w.clone().ok()).collect();
            let mut fetched = checker.chart_archives(&asked).into_iter();
            wanted
                .into_iter()
                .map(|w| {
                    w.and_then(|_| {
                        let bytes = fetched
                            .next()
                            .ok_or("the chart was not fetched")?
                            .map_err(|failure| failure.detail)?;
                        archive::chart_files(&bytes, MAX_FILE_BYTES)
                    })
                })
                .collect()
        }
    }
    .into_iter();
    let mut out = Vec::new();
    for (_, plan) in plans.iter() {
        let files = match plan {
            Err(why) => Err(why.clone()),
            Ok(Plan {
                source: ValuesSource::Query(_),
                ..
            }) => archives
                .next()
                .unwrap_or_else(|| Err("the chart was not fetched".into())),
            Ok(Plan {
                source: ValuesSource::Here(dir),
                ..
            }) => local_files(cx, dir)?,
        };
        out.push(files.and_then(|files| Defaults::parse(files, cx.limits)));
    }
    Ok(out)
}

/// What to fetch for a chart the registry or index found.
fn archive_query(query: &ChartQuery, lookup: ChartLookup) -> Result<ArchiveQuery, String> {
    let version = match lookup {
        ChartLookup::Exists { version, .. } => version,
        ChartLookup::Missing { detail } | ChartLookup::Unknown { detail, .. } => {
            return Err(format!("its chart cannot be read: {detail}"))
        }
    };
    Ok(match query {
        ChartQuery::Index {
            url,
            chart,
            version: asked,
        } => ArchiveQuery::Index {
            url: url.clone(),
            chart: chart.clone(),
            version: version
                .or_else(|| asked.clone())
                .ok_or("the index named no version")?,
        },
        ChartQuery::Oci { reference } => ArchiveQuery::Oci {
            reference: reference.clone(),
        },
        ChartQuery::OciRange { repository, .. } => {
            let mut reference = repository.clone();
            // OCI tags spell a version's `+` as `_`.
            reference.tag = Some(
                version
                    .ok_or("the registry named no version")?
                    .replace('+', "_"),
            );
            ArchiveQuery::Oci { reference }
        }
    })
}

/// The files of a chart in this repository, at head: its `values.yaml`,
/// `Chart.yaml` and its subcharts' (directories or archives in `charts/`).
fn local_files(cx: &Context<'_>, dir: &str) -> Result<Result<ChartFiles, String>, GitError> {
    let path = format!("{dir}/values.yaml");
    let Some(values) = local_file(cx, &path, MAX_FILE_BYTES)? else {
        return Ok(Err(format!("the chart at {dir} has no values.yaml")));
    };
    let Ok(values) = values else {
        return Ok(Err(format!("{path} is too large to read")));
    };
    let mut files = ChartFiles {
        values,
        chart_yaml: local_file(cx, &format!("{dir}/Chart.yaml"), MAX_FILE_BYTES)?
            .and_then(Result::ok),
        subcharts: Vec::new(),
        global_reads: GlobalReads::default(),
    };
    let mut budget = MAX_TEMPLATE_BYTES;
    local_templates(
        cx,
        &format!("{dir}/templates"),
        &mut files.global_reads,
        &mut budget,
    )?;
    let repo = cx.tree.repo();
    let charts = format!("{dir}/charts");
    let Some(entry) = repo
        .entry_at(cx.tree.commit(), &charts)?
        .filter(|e| e.kind == EntryKind::Dir)
    else {
        return Ok(Ok(files));
    };
    for sub in repo.tree_entries(entry.id)? {
        match sub.kind {
            EntryKind::Dir => {
                let path = format!("{charts}/{}/values.yaml", sub.name);
                let templates = format!("{charts}/{}/templates", sub.name);
                local_templates(cx, &templates, &mut files.global_reads, &mut budget)?;
                if let Some(Ok(values)) = local_file(cx, &path, MAX_FILE_BYTES)? {
                    files.subcharts.push((sub.name, values));
                }
            }
            EntryKind::File if sub.name.ends_with(".tgz") => {
                let path = format!("{charts}/{}", sub.name);
                if let Some(Ok(bytes)) =
                    local_file(cx, &path, archive::MAX_SUBCHART_ARCHIVE_BYTES as usize)?
                {
                    // A broken subchart archive costs only its values.
                    match archive::subchart(&bytes, MAX_FILE_BYTES) {
                        Ok((name, sub)) => {
                            files.subcharts.push((name, sub.values));
                            files.global_reads.merge(sub.global_reads);
                        }
                        Err(_) => files.global_reads.mark_partial(),
                    }
                }
            }
            _ => {}
        }
    }
    Ok(Ok(files))
}

/// Template bytes read of a chart in this repository at most, as for an
/// archive's unpacked bytes.
const MAX_TEMPLATE_BYTES: usize = 64 * 1024 * 1024;

/// Reads the templates in the directory `dir` of the head tree (and below
/// it) for what they read under `global`, within `budget` bytes.
fn local_templates(
    cx: &Context<'_>,
    dir: &str,
    reads: &mut GlobalReads,
    budget: &mut usize,
) -> Result<(), GitError> {
    let repo = cx.tree.repo();
    let Some(entry) = repo
        .entry_at(cx.tree.commit(), dir)?
        .filter(|e| e.kind == EntryKind::Dir)
    else {
        return Ok(());
    };
    let mut pending = vec![entry.id];
    while let Some(id) = pending.pop() {
        for entry in repo.tree_entries(id)? {
            match entry.kind {
                EntryKind::Dir => pending.push(entry.id),
                EntryKind::File => {
                    match repo.read_blob(entry.id, (*budget).min(MAX_FILE_BYTES))? {
                        Blob::Bytes(bytes) => {
                            *budget = budget.saturating_sub(bytes.len());
                            reads.scan(&String::from_utf8_lossy(&bytes));
                        }
                        Blob::TooLarge(_) => reads.mark_partial(),
                    }
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// A file of the head tree: `None` if there is none, `Err` if it is larger
/// than `limit`.
fn local_file(
    cx: &Context<'_>,
    path: &str,
    limit: usize,
) -> Result<Option<Result<Vec<u8>, ()>>, GitError> {
    let repo = cx.tree.repo();
    let Some(entry) = repo
        .entry_at(cx.tree.commit(), path)?
        .filter(|e| e.kind == EntryKind::File)
    else {
        return Ok(None);
    };
    Ok(Some(match repo.read_blob(entry.id, limit)? {
        Blob::Bytes(bytes) => Ok(bytes),
        Blob::TooLarge(_) => Err(()),
    }))
}

/// The reference that deploys: what the release writes (`written`) with
/// the part the chart's default values supply, and a label saying so.
fn compose(
    field: &str,
    written: &str,
    supplies: ChartSupplies,
    release_values: Option<&Node>,
    defaults: &Defaults,
    chart: &str,
) -> Result<(String, String), String> {
    let path =
        parse_path(field).ok_or_else(|| format!("`{field}` is not a path fluxgate can follow"))?;
    let from = |sub: bool| match (sub, path.first()) {
        (true, Some(Step::Key(key))) => format!("chart {chart}'s subchart `{key}`"),
        _ => format!("chart {chart}"),
    };
    let here = defaults.at(&path);
    // `image: repo` as a string: the chart's tag sits beside it.
    if supplies == ChartSupplies::Tag && here.node().is_some_and(|n| n.scalar_text().is_some()) {
        let beside = defaults.at(&path[..path.len() - 1]);
        let (tag, sub) = beside
            .part("imageTag")
            .or_else(|| beside.part("tag"))
            .ok_or_else(|| {
                format!("chart {chart}'s values.yaml has no `imageTag` or `tag` beside `{field}`")
            })?;
        let reference = format!("{written}:{tag}");
        if reference.contains("{{") || reference.contains("${") {
            return Err(format!(
                "chart {chart}'s default values make `{reference}`, a template expression"
            ));
        }
        return Ok((
            reference,
            format!(
                "tag `{tag}` from the default values of {} (beside `{field}`)",
                from(sub)
            ),
        ));
    }
    if !here.is_map() {
        return Err(format!("chart {chart}'s values.yaml has no `{field}` map"));
    }
    let pinned = here.part("digest").is_some();
    let (reference, label) = match supplies {
        ChartSupplies::Repository => {
            if pinned && !written.contains('@') {
                return Err(format!(
                    "chart {chart}'s values.yaml also pins `{field}.digest`, which its templates may prefer to the tag"
                ));
            }
            let (repository, sub) = here
                .part("repository")
                .or_else(|| here.part("image"))
                .ok_or_else(|| {
                    format!("chart {chart}'s values.yaml has no `{field}.repository`")
                })?;
            // The release's own `registry`, even empty (which clears the
            // chart's), else the chart's.
            let registry = match release_values
                .and_then(|values| follow(values, &path))
                .filter(|map| map.get("registry").is_some())
            {
                Some(map) => part(map, "registry").map(|(registry, _)| registry),
                None => here.part("registry").map(|(registry, _)| registry),
            }
            .map(|registry| registry.trim_end_matches('/'));
            let name = match registry {
                Some(registry) => format!("{registry}/{repository}"),
                None => repository.to_string(),
            };
            let suffix = written.strip_prefix(CHART_REPOSITORY).unwrap_or(written);
            (
                format!("{name}{suffix}"),
                format!(
                    "repository `{name}` from the default values of {} (`{field}.repository`)",
                    from(sub)
                ),
            )
        }
        ChartSupplies::Tag => {
            if pinned {
                return Err(format!(
                    "chart {chart}'s values.yaml pins `{field}.digest`, which its templates may use instead of a tag"
                ));
            }
            let (tag, sub) = here.part("tag").ok_or_else(|| {
                format!(
                    "chart {chart}'s values.yaml leaves `{field}.tag` empty: its templates choose the tag (often the chart's appVersion)"
                )
            })?;
            (
                format!("{written}:{tag}"),
                format!(
                    "tag `{tag}` from the default values of {} (`{field}.tag`)",
                    from(sub)
                ),
            )
        }
    };
    if reference.contains("{{") || reference.contains("${") {
        return Err(format!(
            "chart {chart}'s default values make `{reference}`, a template expression"
        ));
    }
    Ok((reference, label))
}

#[cfg(test)]
mod tests;
