//! Registry verification: does each image manifest exist in its registry?
//!
//! "Can't tell" is never "exists": a lookup is `Exists(digest)` only when
//! the registry answered with the digest, `Missing` only on a 404, and
//! `Unknown(cause)` otherwise. References are deduplicated before any
//! request; all are checked concurrently (bounded), one session per
//! registry host, one token per repository, within one time budget.

pub mod auth;
mod challenge;
pub mod endpoint;
mod manifest;
mod once_map;
pub mod platforms;
mod retry;
mod session;
pub mod transport;

use crate::image::ImageRef;
use auth::AuthSources;
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
        let runtime = match tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime,
            Err(e) => {
                let failure = Failure::new(
                    Cause::Protocol,
                    format!("cannot start the async runtime: {e}"),
                );
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
                        inner.verify(&reference, deadline).await
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

    async fn verify(&self, reference: &ImageRef, deadline: Instant) -> Verdict {
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
            Lookup::Exists { digest } if !self.options.platforms.is_empty() => {
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
