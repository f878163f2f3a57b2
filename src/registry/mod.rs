//! Registry verification: does each image manifest exist in its registry?
//!
//! "Can't tell" is never "exists": a lookup is `Exists(digest)` only when
//! the registry answered with the digest, `Missing` only on a 404, and
//! `Unknown(cause)` otherwise. References are deduplicated before any
//! request; all are checked concurrently (bounded), one session per
//! registry host, one token per repository, within one time budget.

pub mod auth;
mod challenge;
mod chart_archive;
pub mod endpoint;
mod fetch;
pub mod helm_index;
mod manifest;
mod once_map;
pub mod platforms;
mod retry;
mod session;
mod tags;
pub mod transport;

use crate::image::ImageRef;
use auth::AuthSources;
pub use chart_archive::{ArchiveQuery, MAX_ARCHIVE_BYTES};
use endpoint::Endpoints;
use once_map::OnceMap;
pub use platforms::{Platform, PlatformReport};
use session::Session;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio::time::Instant;

/// Why a registry could not say whether a manifest exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cause {
    Unauthorized,
    Unreachable,
    RateLimited,
    Timeout,
    ServerError,
    Protocol,
}

impl Cause {
    pub fn as_str(self) -> &'static str {
        match self {
            Cause::Unauthorized => "unauthorized",
            Cause::Unreachable => "unreachable",
            Cause::RateLimited => "rate-limited",
            Cause::Timeout => "timeout",
            Cause::ServerError => "server-error",
            Cause::Protocol => "protocol",
        }
    }
}

/// A failed exchange: its cause and a message that says what happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub cause: Cause,
    pub detail: String,
}

impl Failure {
    pub fn new(cause: Cause, detail: impl Into<String>) -> Self {
        Failure {
            cause,
            detail: detail.into(),
        }
    }
}

/// What the registry said about one manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    Exists { digest: String },
    Missing { detail: String },
    Unknown { cause: Cause, detail: String },
}

/// For `repo:tag@digest`: what the tag points at now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagCheck {
    Same,
    Differs { tag_digest: String },
    TagMissing,
    Unknown { detail: String },
}

/// Everything checked for one unique reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub lookup: Lookup,
    /// With `--platform`, for an existing image.
    pub platforms: Option<Result<PlatformReport, Failure>>,
    pub tag: Option<TagCheck>,
}

/// How the checks run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Requests in flight at once.
    pub jobs: usize,
    /// The time budget of the whole check.
    pub budget: Duration,
    pub platforms: Vec<Platform>,
    /// Show a progress line on standard error (only for a terminal).
    pub progress: bool,
}

/// Checks references against their registries.
pub struct Checker {
    inner: Arc<Inner>,
}

struct Inner {
    endpoints: Endpoints,
    clients: Vec<reqwest::Client>,
    auth: Arc<AuthSources>,
    options: Options,
    /// One session per registry host and trust profile.
    sessions: OnceMap<(String, usize), Result<Arc<Session>, Failure>>,
    /// One index per HTTP Helm repository.
    indexes: OnceMap<String, Result<helm_index::IndexLookup, Failure>>,
    /// One answer per chart query, however many stages ask.
    chart_answers: OnceMap<ChartQuery, ChartLookup>,
}

/// One Helm chart (or OCI artifact) to look up.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ChartQuery {
    /// An OCI artifact by tag or digest.
    Oci { reference: ImageRef },
    /// The highest tag of an OCI repository that meets a version range.
    OciRange { repository: ImageRef, range: String },
    /// A chart in an HTTP(S) Helm repository's index: an exact version, a
    /// range, or the latest (`None`).
    Index {
        url: String,
        chart: String,
        version: Option<String>,
    },
}

/// What the registry or repository said about a chart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChartLookup {
    /// `version`: the version that meets the request (the range's pick).
    Exists {
        version: Option<String>,
        digest: Option<String>,
    },
    Missing {
        detail: String,
    },
    Unknown {
        cause: Cause,
        detail: String,
    },
}

impl Checker {
    /// Builds the HTTP clients (a bad CA file fails here, before any request).
    pub fn new(
        endpoints: Endpoints,
        auth: AuthSources,
        options: Options,
    ) -> Result<Checker, transport::TransportError> {
        let clients = endpoints
            .tls_profiles()
            .iter()
            .map(transport::build_client)
            .collect::<Result<_, _>>()?;
        Ok(Checker {
            inner: Arc::new(Inner {
                endpoints,
                clients,
                auth: Arc::new(auth),
                options,
                sessions: OnceMap::default(),
                indexes: OnceMap::default(),
                chart_answers: OnceMap::default(),
            }),
        })
    }

    /// Checks every reference once, concurrently; keyed by canonical form.
    pub fn check_all(&self, references: &[ImageRef]) -> BTreeMap<String, Verdict> {
        let unique: BTreeMap<String, ImageRef> = references
            .iter()
            .map(|r| (r.canonical(), r.clone()))
            .collect();
        if unique.is_empty() {
            return BTreeMap::new();
        }
        let runtime = match runtime() {
            Ok(runtime) => runtime,
            Err(failure) => {
                return unique
                    .into_keys()
                    .map(|k| (k, unknown_verdict(&failure)))
                    .collect();
            }
        };
        let inner = self.inner.clone();
        runtime.block_on(async move {
            let deadline = Instant::now() + inner.options.budget;
            let permits = Arc::new(Semaphore::new(inner.options.jobs.max(1)));
            let mut tasks = tokio::task::JoinSet::new();
            for (canonical, reference) in unique {
                let inner = inner.clone();
                let permits = permits.clone();
                tasks.spawn(async move {
                    let work = async {
                        let _permit = permits.acquire_owned().await;
                        inner.verify(&reference, deadline, true).await
                    };
                    let verdict = tokio::time::timeout_at(deadline, work).await.unwrap_or_else(|_| {
                        unknown_verdict(&Failure::new(Cause::Timeout, "the check's time budget ran out before this reference was answered"))
                    });
                    (canonical, verdict)
                });
            }
            let total = tasks.len();
            let mut progress = Progress::new(inner.options.progress, total);
            let mut verdicts = BTreeMap::new();
            while let Some(joined) = tasks.join_next().await {
                progress.tick();
                // A panicking task loses its reference; the caller marks any
                // reference without a verdict as unverified.
                if let Ok((canonical, verdict)) = joined {
                    verdicts.insert(canonical, verdict);
                }
            }
            progress.finish();
            verdicts
        })
    }
}

impl Checker {
    /// Looks up charts, each unique query once, concurrently; the answers
    /// are in the order of `queries`.
    pub fn check_charts(&self, queries: &[ChartQuery]) -> Vec<ChartLookup> {
        self.each_once(
            queries,
            |inner, query, deadline| async move { inner.chart(&query, deadline).await },
            "this chart was answered",
            |failure| chart_unknown(&failure),
        )
    }

    /// Asks `ask` about each distinct query once, concurrently within the
    /// job limit and the time budget; the answers are in the order of
    /// `queries`. A query that gets no answer (no runtime, the budget ran
    /// out before `done`, a task that panicked) gets `failed`'s.
    fn each_once<Q, A, F, Fut>(
        &self,
        queries: &[Q],
        ask: F,
        done: &'static str,
        failed: fn(Failure) -> A,
    ) -> Vec<A>
    where
        Q: Clone + PartialEq + Send + 'static,
        A: Clone + Send + 'static,
        F: Fn(Arc<Inner>, Q, Instant) -> Fut + Clone + Send + Sync + 'static,
        Fut: std::future::Future<Output = A> + Send + 'static,
    {
        let mut unique: Vec<Q> = Vec::new();
        for query in queries {
            if !unique.contains(query) {
                unique.push(query.clone());
            }
        }
        let answers: Vec<A> = match runtime() {
            Err(failure) => unique.iter().map(|_| failed(failure.clone())).collect(),
            Ok(runtime) => {
                let inner = self.inner.clone();
                let asked = unique.clone();
                runtime.block_on(async move {
                    let deadline = Instant::now() + inner.options.budget;
                    let permits = Arc::new(Semaphore::new(inner.options.jobs.max(1)));
                    let mut tasks = tokio::task::JoinSet::new();
                    for (position, query) in asked.into_iter().enumerate() {
                        let (inner, permits, ask) = (inner.clone(), permits.clone(), ask.clone());
                        tasks.spawn(async move {
                            let work = async {
                                let _permit = permits.acquire_owned().await;
                                ask(inner, query, deadline).await
                            };
                            let answer = tokio::time::timeout_at(deadline, work)
                                .await
                                .unwrap_or_else(|_| {
                                    failed(Failure::new(
                                        Cause::Timeout,
                                        format!("the check's time budget ran out before {done}"),
                                    ))
                                });
                            (position, answer)
                        });
                    }
                    let mut answers: Vec<Option<A>> = vec![None; tasks.len()];
                    while let Some(joined) = tasks.join_next().await {
                        if let Ok((position, answer)) = joined {
                            answers[position] = Some(answer);
                        }
                    }
                    answers
                        .into_iter()
                        .map(|answer| {
                            answer.unwrap_or_else(|| {
                                failed(Failure::new(
                                    Cause::Protocol,
                                    format!("internal: the check ended before {done}"),
                                ))
                            })
                        })
                        .collect()
                })
            }
        };
        queries
            .iter()
            .map(|query| {
                let position = unique
                    .iter()
                    .position(|u| u == query)
                    .expect("every query is in the unique list");
                answers[position].clone()
            })
            .collect()
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    // One thread: the work between requests is small, and on a CI runner's
    // two cores extra workers only switch contexts with each other.
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            Failure::new(
                Cause::Protocol,
                format!("cannot start the async runtime: {e}"),
            )
        })
}

fn chart_unknown(failure: &Failure) -> ChartLookup {
    ChartLookup::Unknown {
        cause: failure.cause,
        detail: failure.detail.clone(),
    }
}

/// A one-line progress display on standard error, redrawn in place.
struct Progress {
    enabled: bool,
    done: usize,
    total: usize,
}

impl Progress {
    fn new(enabled: bool, total: usize) -> Self {
        let progress = Progress {
            enabled,
            done: 0,
            total,
        };
        progress.draw();
        progress
    }

    fn tick(&mut self) {
        self.done += 1;
        self.draw();
    }

    fn draw(&self) {
        if self.enabled {
            eprint!(
                "\r\x1b[2Kchecking image references in their registries: {}/{}",
                self.done, self.total
            );
        }
    }

    fn finish(&self) {
        if self.enabled {
            eprint!("\r\x1b[2K");
        }
    }
}

fn unknown_verdict(failure: &Failure) -> Verdict {
    Verdict {
        lookup: Lookup::Unknown {
            cause: failure.cause,
            detail: failure.detail.clone(),
        },
        platforms: None,
        tag: None,
    }
}

impl Inner {
    async fn session(
        &self,
        endpoint: &endpoint::Endpoint,
        deadline: Instant,
    ) -> Result<Arc<Session>, Failure> {
        self.sessions
            .get_or_init((endpoint.host.clone(), endpoint.tls_profile), || async {
                let client = self.clients[endpoint.tls_profile].clone();
                Session::establish(endpoint, client, self.auth.clone(), deadline)
                    .await
                    .map(Arc::new)
            })
            .await
    }

    async fn chart(&self, query: &ChartQuery, deadline: Instant) -> ChartLookup {
        self.chart_answers
            .get_or_init(query.clone(), || self.ask_chart(query, deadline))
            .await
    }

    async fn ask_chart(&self, query: &ChartQuery, deadline: Instant) -> ChartLookup {
        match query {
            ChartQuery::Oci { reference } => {
                let verdict = self.verify(reference, deadline, false).await;
                match verdict.lookup {
                    Lookup::Exists { digest } => ChartLookup::Exists {
                        version: None,
                        digest: Some(digest),
                    },
                    Lookup::Missing { detail } => ChartLookup::Missing { detail },
                    Lookup::Unknown { cause, detail } => ChartLookup::Unknown { cause, detail },
                }
            }
            ChartQuery::OciRange { repository, range } => {
                let endpoint = self.endpoints.resolve(repository);
                let session = match self.session(&endpoint, deadline).await {
                    Ok(session) => session,
                    Err(failure) => return chart_unknown(&failure),
                };
                let constraint = match crate::version_range::Constraint::parse(range) {
                    Ok(c) => c,
                    Err(e) => {
                        return ChartLookup::Missing {
                            detail: format!("`{range}` is not a version range Flux accepts: {e}"),
                        }
                    }
                };
                match tags::list(&session, &endpoint.repository).await {
                    Err(failure) => chart_unknown(&failure),
                    Ok(None) => ChartLookup::Missing {
                        detail: format!(
                            "{} has no repository {}",
                            session.host, endpoint.repository
                        ),
                    },
                    Ok(Some(tags)) => {
                        // OCI tags spell a version's `+` as `_`.
                        let versions: Vec<String> =
                            tags.iter().map(|t| t.replace('_', "+")).collect();
                        match constraint.best(versions.iter().map(String::as_str)) {
                            Some(best) => ChartLookup::Exists {
                                version: Some(best.to_string()),
                                digest: None,
                            },
                            None => ChartLookup::Missing {
                                detail: format!(
                                    "no tag of {}/{} meets `{range}` ({} tags listed)",
                                    session.host,
                                    endpoint.repository,
                                    tags.len()
                                ),
                            },
                        }
                    }
                }
            }
            ChartQuery::Index {
                url,
                chart,
                version,
            } => {
                let index = self
                    .indexes
                    .get_or_init(url.clone(), || async {
                        let client = &self.clients[self.endpoints.profile_for_url(url)];
                        helm_index::fetch(client, url, deadline).await
                    })
                    .await;
                match index {
                    Err(failure) => chart_unknown(&failure),
                    Ok(helm_index::IndexLookup::NoIndex { detail }) => {
                        ChartLookup::Missing { detail }
                    }
                    Ok(helm_index::IndexLookup::Found(index)) => {
                        pick_version(&index, url, chart, version.as_deref())
                    }
                }
            }
        }
    }

    async fn verify(
        &self,
        reference: &ImageRef,
        deadline: Instant,
        with_platforms: bool,
    ) -> Verdict {
        let endpoint = self.endpoints.resolve(reference);
        let session = match self.session(&endpoint, deadline).await {
            Ok(session) => session,
            Err(failure) => return unknown_verdict(&failure),
        };
        let repository = &endpoint.repository;
        let (lookup, tag) = match (&reference.digest, &reference.tag) {
            (Some(digest), tag) => {
                let lookup = manifest::lookup(&session, repository, digest, Some(digest)).await;
                let tag = match tag {
                    Some(tag) if matches!(lookup, Lookup::Exists { .. }) => Some(
                        match manifest::lookup(&session, repository, tag, None).await {
                            Lookup::Exists { digest: now } if now == *digest => TagCheck::Same,
                            Lookup::Exists { digest: now } => TagCheck::Differs { tag_digest: now },
                            Lookup::Missing { .. } => TagCheck::TagMissing,
                            Lookup::Unknown { detail, .. } => TagCheck::Unknown { detail },
                        },
                    ),
                    _ => None,
                };
                (lookup, tag)
            }
            (None, Some(tag)) => (
                manifest::lookup(&session, repository, tag, None).await,
                None,
            ),
            (None, None) => (
                manifest::lookup(&session, repository, "latest", None).await,
                None,
            ),
        };
        let platforms = match &lookup {
            Lookup::Exists { digest } if with_platforms && !self.options.platforms.is_empty() => {
                Some(platforms::check(&session, repository, digest, &self.options.platforms).await)
            }
            _ => None,
        };
        Verdict {
            lookup,
            platforms,
            tag,
        }
    }
}

/// The version of `chart` in an index that meets `version` (exact, a range,
/// or the latest when `None`).
fn pick_version(
    index: &helm_index::Index,
    url: &str,
    chart: &str,
    version: Option<&str>,
) -> ChartLookup {
    use crate::version_range::{is_exact, Constraint, Version};
    let Some(listed) = index.versions.get(chart).filter(|v| !v.is_empty()) else {
        return ChartLookup::Missing {
            detail: format!("the repository {url} has no chart `{chart}`"),
        };
    };
    let exists = |v: &str| ChartLookup::Exists {
        version: Some(v.to_string()),
        digest: None,
    };
    let wanted = version
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .unwrap_or("*");
    if is_exact(wanted) {
        let target = Version::parse(wanted);
        return match listed
            .iter()
            .find(|v| v.as_str() == wanted || (target.is_some() && Version::parse(v) == target))
        {
            Some(found) => exists(found),
            None => ChartLookup::Missing {
                detail: format!(
                    "the repository {url} lists no version {wanted} of `{chart}` (newest: {})",
                    newest(listed)
                ),
            },
        };
    }
    match Constraint::parse(wanted) {
        Err(e) => ChartLookup::Missing {
            detail: format!("`{wanted}` is not a version or range Helm accepts: {e}"),
        },
        Ok(constraint) => match constraint.best(listed.iter().map(String::as_str)) {
            Some(best) => exists(best),
            None => ChartLookup::Missing {
                detail: format!(
                    "no version of `{chart}` in {url} meets `{wanted}` (newest: {})",
                    newest(listed)
                ),
            },
        },
    }
}

/// The highest listed release (a prerelease only if there is no
/// release), for messages.
fn newest(listed: &[String]) -> String {
    use crate::version_range::Version;
    listed
        .iter()
        .filter_map(|v| Some((Version::parse(v)?, v)))
        .max_by(|a, b| (a.0.pre.is_empty(), &a.0).cmp(&(b.0.pre.is_empty(), &b.0)))
        .map_or_else(|| "none readable".to_string(), |(_, v)| v.clone())
}
