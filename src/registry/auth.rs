//! Registry credentials, discovered the way `docker` and `podman` discover them.
//!
//! fluxgate checks that image references exist, and private registries only
//! answer authenticated requests, so it reuses whatever the CI job (or the
//! developer) already logged in with. [`AuthSources::lookup`] consults, in this
//! order, and the first step that yields a credential wins; a step that yields
//! nothing falls through to the next:
//!
//! 1. **Docker config**: `$DOCKER_CONFIG/config.json`, else
//!    `$HOME/.docker/config.json`.
//!    1. `credHelpers[<registry>]`: run `docker-credential-<name> get`.
//!    2. `auths[<key>]` where the key designates the registry in any form
//!       Docker writes (`ghcr.io`, `https://ghcr.io`, `http://ghcr.io`,
//!       `https://ghcr.io/v1/`, `https://ghcr.io/v2/`): hosts are compared
//!       after dropping the scheme and any path, ASCII case-insensitively. An
//!       entry holds `identitytoken` (an OAuth2 refresh token: the user name
//!       comes from `username`, else from `auth`, else is `<token>`), else
//!       `auth` (base64 of `user:password`, split at the first `:`), else
//!       `username` + `password`. An entry holding none of these (`{}`, which
//!       Docker writes when `credsStore` keeps the secret) is skipped. When
//!       several keys match, the one spelled exactly as Docker would write it
//!       (`ghcr.io`; `https://index.docker.io/v1/` for Docker Hub) wins, then
//!       the first in key order.
//!    3. `credsStore`: run `docker-credential-<store> get`.
//! 2. **`$REGISTRY_AUTH_FILE`** (containers-auth.json format): its `auths`
//!    keys may also be `registry/namespace[/repo]`; the key that prefixes
//!    `registry/repository` at a path-component boundary with the most
//!    components wins (`quay.io/org` serves `quay.io/org/app` but not
//!    `quay.io/organisation/app`). A key with a scheme counts as its host only,
//!    as in containers/image.
//! 3. **podman**: `$XDG_RUNTIME_DIR/containers/auth.json`, same format as 2.
//!
//! Docker Hub is one registry under several names: `docker.io`,
//! `index.docker.io` and `registry-1.docker.io` all match one another, and
//! credential helpers are asked for `https://index.docker.io/v1/`, as Docker
//! does. Other registries are asked for by host (`ghcr.io`).
//!
//! Credential helpers speak the docker-credential-helpers protocol: the server
//! URL on stdin, `{"ServerURL","Username","Secret"}` on stdout; a Username of
//! `<token>` marks the Secret as an identity token. A helper exiting non-zero
//! with "credentials not found" in its output means no credential; any other
//! failure, or no answer within 10 s, is an error. An answer (including "no
//! credential") is remembered for the life of the [`AuthSources`], so one
//! registry costs one helper run however many repositories are looked up;
//! errors are not remembered. Helpers are looked up only
//! in the absolute directories of `PATH`, so a checkout under test cannot plant
//! one in the working directory.
//!
//! Files that do not exist mean no credentials. A file that exists but cannot
//! be read, is not JSON or has the wrong shape makes [`AuthSources::from_env`]
//! fail, naming the file and the line/column or key at fault; an `auth` value
//! that does not decode fails only the lookups it would have served. Secrets
//! never appear in messages: not the password, not the base64 `auth` value,
//! not a helper's stdout.

mod base64;
mod error;
mod file;
mod helper;
mod keys;
mod secret;
// The tests drive credential helpers written as shell scripts.
#[cfg(all(test, unix))]
mod tests;

pub use error::AuthError;
pub use secret::Secret;

use file::{AuthFile, Format};
use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

/// How long a credential helper may take before it counts as hung.
pub const DEFAULT_HELPER_TIMEOUT: Duration = Duration::from_secs(10);

/// A credential for one registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// Username + password (or a registry access token used as password).
    Basic { username: String, password: Secret },
    /// A Docker identity token (OAuth2 refresh token) for the Bearer token endpoint.
    IdentityToken { username: String, token: Secret },
}

/// A credential and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The credential.
    pub credential: Credential,
    /// Where it came from, for messages (never the secret itself), e.g.
    /// `~/.docker/config.json auths[ghcr.io]` or
    /// `credential helper docker-credential-pass (credsStore in ~/.docker/config.json)`.
    pub source: String,
}

/// The credential sources of this process, read once.
#[derive(Debug)]
pub struct AuthSources {
    docker: Option<AuthFile>,
    registry_auth_file: Option<AuthFile>,
    podman: Option<AuthFile>,
    /// Directories searched for `docker-credential-*`, in `PATH` syntax.
    helper_path: Option<OsString>,
    helper_timeout: Duration,
    /// Helper answers by (helper, server URL): registry clients look up per
    /// repository, and one process per helper and server is enough.
    helper_answers: Mutex<HashMap<(String, String), Option<Credential>>>,
}

impl AuthSources {
    /// From the environment: `DOCKER_CONFIG` (a directory) else
    /// `$HOME/.docker/config.json`; `REGISTRY_AUTH_FILE`;
    /// `$XDG_RUNTIME_DIR/containers/auth.json`; helpers from `PATH`.
    pub fn from_env() -> Result<AuthSources, AuthError> {
        Self::from_vars(|name| std::env::var_os(name))
    }

    /// As [`from_env`](Self::from_env), with the environment given by `var`,
    /// so the file selection can be tested without touching the process env.
    fn from_vars(var: impl Fn(&str) -> Option<OsString>) -> Result<AuthSources, AuthError> {
        // Empty variables count as unset, as in Docker and containers/image.
        let var = |name: &str| var(name).filter(|value| !value.is_empty());
        let docker = match (var("DOCKER_CONFIG"), var("HOME")) {
            (Some(dir), _) => Some((
                PathBuf::from(dir).join("config.json"),
                "$DOCKER_CONFIG/config.json",
            )),
            (None, Some(home)) => Some((
                PathBuf::from(home).join(".docker").join("config.json"),
                "~/.docker/config.json",
            )),
            (None, None) => None,
        };
        let registry_auth_file =
            var("REGISTRY_AUTH_FILE").map(|path| (PathBuf::from(path), "$REGISTRY_AUTH_FILE"));
        let podman = var("XDG_RUNTIME_DIR").map(|dir| {
            let path = PathBuf::from(dir).join("containers").join("auth.json");
            (path, "$XDG_RUNTIME_DIR/containers/auth.json")
        });
        let load = |location: Option<(PathBuf, &str)>, format| match location {
            Some((path, label)) => AuthFile::load(path, label.to_string(), format),
            None => Ok(None),
        };
        Ok(AuthSources::new(
            load(docker, Format::DockerConfig)?,
            load(registry_auth_file, Format::ContainersAuth)?,
            load(podman, Format::ContainersAuth)?,
            var("PATH"),
        ))
    }

    /// From explicit files (each may be absent or not exist): the Docker
    /// `config.json` itself (not its directory), the `REGISTRY_AUTH_FILE` and
    /// the podman `auth.json`. Helpers are still found on the process `PATH`
    /// unless [`with_helper_path`](Self::with_helper_path) says otherwise.
    pub fn from_paths(
        docker_config: Option<PathBuf>,
        registry_auth_file: Option<PathBuf>,
        podman_auth: Option<PathBuf>,
    ) -> Result<AuthSources, AuthError> {
        let load = |path: Option<PathBuf>, format| match path {
            Some(path) => {
                let label = path.display().to_string();
                AuthFile::load(path, label, format)
            }
            None => Ok(None),
        };
        Ok(AuthSources::new(
            load(docker_config, Format::DockerConfig)?,
            load(registry_auth_file, Format::ContainersAuth)?,
            load(podman_auth, Format::ContainersAuth)?,
            std::env::var_os("PATH"),
        ))
    }

    fn new(
        docker: Option<AuthFile>,
        registry_auth_file: Option<AuthFile>,
        podman: Option<AuthFile>,
        helper_path: Option<OsString>,
    ) -> AuthSources {
        AuthSources {
            docker,
            registry_auth_file,
            podman,
            helper_path,
            helper_timeout: DEFAULT_HELPER_TIMEOUT,
            helper_answers: Mutex::default(),
        }
    }

    /// Searches `path` (in `PATH` syntax) instead of `PATH` for credential
    /// helpers; tests use it rather than mutating the shared process env.
    pub fn with_helper_path(mut self, path: impl Into<OsString>) -> Self {
        self.helper_path = Some(path.into());
        self
    }

    /// Gives credential helpers `timeout` instead of [`DEFAULT_HELPER_TIMEOUT`].
    pub fn with_helper_timeout(mut self, timeout: Duration) -> Self {
        self.helper_timeout = timeout;
        self
    }

    /// The credential for `registry` (normalised `host[:port]`: "docker.io",
    /// "ghcr.io", "127.0.0.1:5000") and `repository` ("org/app"), following
    /// the order in the module documentation; `None` means anonymous access.
    pub async fn lookup(
        &self,
        registry: &str,
        repository: &str,
    ) -> Result<Option<Found>, AuthError> {
        let host = keys::canonical_host(registry.trim());
        if let Some(config) = &self.docker {
            if let Some(found) = self.lookup_docker(config, &host).await? {
                return Ok(Some(found));
            }
        }
        for file in [&self.registry_auth_file, &self.podman]
            .into_iter()
            .flatten()
        {
            if let Some((key, entry)) = file.scoped_entry(&host, repository) {
                if let Some(credential) = entry.credential(&file.path, key)? {
                    let source = format!("{} auths[{key}]", file.label);
                    return Ok(Some(Found { credential, source }));
                }
            }
        }
        Ok(None)
    }

    /// Steps 1.1 to 1.3 of the module documentation.
    async fn lookup_docker(
        &self,
        config: &AuthFile,
        host: &str,
    ) -> Result<Option<Found>, AuthError> {
        if let Some((key, helper)) = config.cred_helper(host) {
            let why = format!("credHelpers[{key}] in {}", config.label);
            if let Some(found) = self.ask_helper(helper, host, why).await? {
                return Ok(Some(found));
            }
        }
        if let Some((key, entry)) = config.docker_entry(host) {
            if let Some(credential) = entry.credential(&config.path, key)? {
                let source = format!("{} auths[{key}]", config.label);
                return Ok(Some(Found { credential, source }));
            }
        }
        if let Some(store) = &config.creds_store {
            let why = format!("credsStore in {}", config.label);
            return self.ask_helper(store, host, why).await;
        }
        Ok(None)
    }

    async fn ask_helper(
        &self,
        name: &str,
        host: &str,
        why: String,
    ) -> Result<Option<Found>, AuthError> {
        let server_url = keys::helper_server_url(host);
        let cache_key = (name.to_string(), server_url.clone());
        // A poisoned lock only means another lookup panicked; the map is fine.
        let answers = || {
            self.helper_answers
                .lock()
                .unwrap_or_else(|p| p.into_inner())
        };
        let cached = answers().get(&cache_key).cloned();
        let credential = match cached {
            Some(credential) => credential,
            None => {
                let search_path = self.helper_path.as_deref().unwrap_or(OsStr::new(""));
                let timeout = self.helper_timeout;
                // Errors are not cached: a locked keyring may be unlocked later.
                let credential = helper::get(name, &server_url, search_path, timeout).await?;
                answers().insert(cache_key, credential.clone());
                credential
            }
        };
        Ok(credential.map(|credential| Found {
            credential,
            source: format!("credential helper {}{name} ({why})", helper::PREFIX),
        }))
    }
}
