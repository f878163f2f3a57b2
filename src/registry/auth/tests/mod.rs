//! Tests for credential discovery, with shared fixtures: every file and
//! credential helper lives in a temporary directory, and helpers are found
//! through an injected search path, so tests never see the real `$HOME` or
//! `PATH` and can run in parallel.

mod files;
mod helpers;
mod lookup;
mod secrets;

use super::base64::encode;
use super::{AuthSources, Credential, Found, Secret};
use std::path::PathBuf;
use std::time::Duration;
use tempfile::TempDir;

/// A temporary home for credential files and helpers.
struct Fixture {
    dir: TempDir,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(dir.path().join("bin")).expect("bin dir");
        Fixture { dir }
    }

    /// Writes `content` to `name` in the fixture directory.
    fn file(&self, name: &str, content: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, content).expect("write fixture file");
        path
    }

    /// Installs `docker-credential-<name>` as a shell script with `body`.
    fn helper(&self, name: &str, body: &str) {
        use std::os::unix::fs::PermissionsExt;
        let path = self.bin().join(format!("docker-credential-{name}"));
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("write helper");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }

    fn bin(&self) -> PathBuf {
        self.dir.path().join("bin")
    }

    /// Sources from the given file contents (docker config.json,
    /// REGISTRY_AUTH_FILE, podman auth.json), helpers from [`Self::bin`].
    fn sources(
        &self,
        docker: Option<&str>,
        registry_auth_file: Option<&str>,
        podman: Option<&str>,
    ) -> AuthSources {
        self.try_sources(docker, registry_auth_file, podman)
            .expect("sources load")
    }

    fn try_sources(
        &self,
        docker: Option<&str>,
        registry_auth_file: Option<&str>,
        podman: Option<&str>,
    ) -> Result<AuthSources, super::AuthError> {
        let docker = docker.map(|json| self.file("config.json", json));
        let raf = registry_auth_file.map(|json| self.file("registry-auth.json", json));
        let podman = podman.map(|json| self.file("podman-auth.json", json));
        Ok(AuthSources::from_paths(docker, raf, podman)?
            .with_helper_path(self.bin())
            .with_helper_timeout(Duration::from_secs(20)))
    }
}

/// `{"auths": {<key>: {"auth": base64(<user>:<password>)}}}`.
fn auths_basic(key: &str, user: &str, password: &str) -> String {
    let auth = encode(format!("{user}:{password}").as_bytes());
    format!(r#"{{"auths": {{"{key}": {{"auth": "{auth}"}}}}}}"#)
}

fn basic(username: &str, password: &str) -> Credential {
    Credential::Basic {
        username: username.to_string(),
        password: Secret::new(password),
    }
}

fn token(username: &str, token: &str) -> Credential {
    Credential::IdentityToken {
        username: username.to_string(),
        token: Secret::new(token),
    }
}

/// Looks up `registry`/`repository`, expecting success.
async fn found(sources: &AuthSources, registry: &str, repository: &str) -> Option<Found> {
    sources
        .lookup(registry, repository)
        .await
        .expect("lookup succeeds")
}

/// A helper body answering with `user`/`secret`, echoing the server URL.
fn answering(user: &str, secret: &str) -> String {
    format!(
        r#"read -r url
printf '{{"ServerURL":"%s","Username":"{user}","Secret":"{secret}"}}' "$url""#
    )
}

#[test]
fn secret_is_never_printed() {
    let secret = Secret::new("hunter2");
    assert_eq!(format!("{secret:?}"), "Secret(***)");
    assert_eq!(format!("{secret}"), "***");
    assert_eq!(secret.expose(), "hunter2");
    let credential = basic("me", "hunter2");
    assert!(!format!("{credential:?}").contains("hunter2"));
}

#[test]
fn sources_can_be_shared_between_tasks() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>(_: &T) {}
    send_sync::<AuthSources>();
    let sources = AuthSources::from_paths(None, None, None).expect("no files");
    send(&sources.lookup("ghcr.io", "a/b"));
}
