//! Reading Docker `config.json` and containers-auth.json files.
//!
//! Files are parsed into a `serde_json::Value` and walked by hand instead of
//! deserialised into structs: serde's type errors quote the offending value
//! ("invalid type: string \"hunter2\" ..."), and these values are secrets.
//! Field names are matched case-insensitively, as Go's encoding/json (which
//! Docker and podman use) does, and unknown fields are ignored.

use super::keys::{docker_key_rank, scoped_key_rank};
use super::{base64, AuthError, Credential, Secret};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

/// Which of the two file formats a file is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Format {
    /// Docker's config.json: `auths`, `credHelpers`, `credsStore`.
    DockerConfig,
    /// containers-auth.json (`REGISTRY_AUTH_FILE`, podman): `auths` only.
    ContainersAuth,
}

/// One `auths` entry, kept undecoded so a bad `auth` value only fails the
/// lookups it would have served.
#[derive(Debug, Default)]
pub(super) struct Entry {
    auth: Option<Secret>,
    username: Option<String>,
    password: Option<Secret>,
    identity_token: Option<Secret>,
}

/// A credentials file as read from disk.
#[derive(Debug)]
pub(super) struct AuthFile {
    /// Where it is, for error messages.
    pub(super) path: PathBuf,
    /// How to name it in [`super::Found::source`], e.g. `~/.docker/config.json`.
    pub(super) label: String,
    auths: BTreeMap<String, Entry>,
    cred_helpers: BTreeMap<String, String>,
    pub(super) creds_store: Option<String>,
}

/// The field `name` of `object`: an exact match first, else a
/// case-insensitive one. JSON `null` counts as absent, as in Go.
fn field<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    let value = object.get(name).or_else(|| {
        object
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value)
    });
    value.filter(|value| !value.is_null())
}

impl AuthFile {
    /// Reads `path`; `Ok(None)` when it does not exist.
    pub(super) fn load(
        path: PathBuf,
        label: String,
        format: Format,
    ) -> Result<Option<AuthFile>, AuthError> {
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(AuthError::Read { path, source }),
        };
        let mut file = AuthFile {
            path,
            label,
            auths: BTreeMap::new(),
            cred_helpers: BTreeMap::new(),
            creds_store: None,
        };
        // Docker accepts an empty file (it writes one before the first login).
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Some(file));
        }
        let root: Value =
            serde_json::from_slice(&bytes).map_err(|error| json_error(&file.path, &error))?;
        let Value::Object(root) = root else {
            return Err(file.format_error("the top level is not a JSON object"));
        };
        if let Some(auths) = field(&root, "auths") {
            let Value::Object(auths) = auths else {
                return Err(file.format_error("`auths` is not an object"));
            };
            for (key, entry) in auths {
                let entry = file.entry(key, entry)?;
                file.auths.insert(key.clone(), entry);
            }
        }
        if format == Format::DockerConfig {
            if let Some(helpers) = field(&root, "credHelpers") {
                let Value::Object(helpers) = helpers else {
                    return Err(file.format_error("`credHelpers` is not an object"));
                };
                for (key, name) in helpers {
                    let what = format!("credHelpers[{key}]");
                    let name = file.string(Some(name), &what)?.unwrap_or_default();
                    file.cred_helpers.insert(key.clone(), name);
                }
            }
            file.creds_store = file.string(field(&root, "credsStore"), "`credsStore`")?;
            // Docker treats `"credsStore": ""` as no store.
            file.creds_store = file.creds_store.take().filter(|store| !store.is_empty());
        }
        Ok(Some(file))
    }

    fn format_error(&self, problem: impl Into<String>) -> AuthError {
        AuthError::Format {
            path: self.path.clone(),
            problem: problem.into(),
        }
    }

    /// `value` as a string; `what` names it (never its value) in the error.
    fn string(&self, value: Option<&Value>, what: &str) -> Result<Option<String>, AuthError> {
        match value {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text.clone())),
            Some(_) => Err(self.format_error(format!("{what} is not a string"))),
        }
    }

    fn entry(&self, key: &str, value: &Value) -> Result<Entry, AuthError> {
        let Value::Object(object) = value else {
            return Err(self.format_error(format!("auths[{key}] is not an object")));
        };
        // Empty strings mean "not set", as in Docker.
        let text = |name: &str| -> Result<Option<String>, AuthError> {
            let value = self.string(field(object, name), &format!("auths[{key}].{name}"))?;
            Ok(value.filter(|text| !text.is_empty()))
        };
        Ok(Entry {
            auth: text("auth")?.map(Secret::new),
            username: text("username")?,
            password: text("password")?.map(Secret::new),
            identity_token: text("identitytoken")?.map(Secret::new),
        })
    }

    /// The helper `credHelpers` names for `canonical`, and its key.
    pub(super) fn cred_helper(&self, canonical: &str) -> Option<(&str, &str)> {
        self.cred_helpers
            .iter()
            .filter_map(|(key, name)| Some((docker_key_rank(key, canonical)?, key, name)))
            .min_by_key(|(rank, _, _)| *rank)
            .map(|(_, key, name)| (key.as_str(), name.as_str()))
    }

    /// The best Docker-style `auths` entry holding a credential for `canonical`.
    pub(super) fn docker_entry(&self, canonical: &str) -> Option<(&str, &Entry)> {
        self.best(|key| docker_key_rank(key, canonical).map(|rank| usize::MAX - usize::from(rank)))
    }

    /// The most specific containers-auth.json entry holding a credential for
    /// `canonical`/`repository`.
    pub(super) fn scoped_entry(&self, canonical: &str, repository: &str) -> Option<(&str, &Entry)> {
        self.best(|key| scoped_key_rank(key, canonical, repository))
    }

    /// The non-empty entry with the highest `score`, the first in key order
    /// on a tie. Empty entries are skipped: they only say that a credential
    /// store holds the secret.
    fn best(&self, score: impl Fn(&str) -> Option<usize>) -> Option<(&str, &Entry)> {
        let mut best: Option<(usize, &str, &Entry)> = None;
        for (key, entry) in self.auths.iter().filter(|(_, entry)| !entry.is_empty()) {
            if let Some(rank) = score(key) {
                if best.is_none_or(|(top, _, _)| rank > top) {
                    best = Some((rank, key, entry));
                }
            }
        }
        best.map(|(_, key, entry)| (key, entry))
    }
}

impl Entry {
    fn is_empty(&self) -> bool {
        self.auth.is_none()
            && self.username.is_none()
            && self.password.is_none()
            && self.identity_token.is_none()
    }

    /// The credential this entry (`auths[key]` of the file at `path`) holds.
    pub(super) fn credential(
        &self,
        path: &Path,
        key: &str,
    ) -> Result<Option<Credential>, AuthError> {
        let invalid = |problem| AuthError::InvalidAuth {
            path: path.to_path_buf(),
            key: key.to_string(),
            problem,
        };
        let decoded = match &self.auth {
            None => None,
            Some(auth) => {
                let bytes =
                    base64::decode(auth.expose()).map_err(|_| invalid("is not valid base64"))?;
                let text = String::from_utf8(bytes)
                    .map_err(|_| invalid("does not decode to UTF-8 text"))?;
                let (username, password) = text
                    .split_once(':')
                    .ok_or_else(|| invalid("does not decode to `user:password` (no ':')"))?;
                Some((username.to_string(), Secret::new(password)))
            }
        };
        if let Some(token) = &self.identity_token {
            let username = self
                .username
                .clone()
                .or_else(|| decoded.map(|(username, _)| username))
                .filter(|username| !username.is_empty())
                .unwrap_or_else(|| "<token>".to_string());
            let token = token.clone();
            return Ok(Some(Credential::IdentityToken { username, token }));
        }
        if let Some((username, password)) = decoded {
            return Ok(Some(Credential::Basic { username, password }));
        }
        match (&self.username, &self.password) {
            (Some(username), Some(password)) => Ok(Some(Credential::Basic {
                username: username.clone(),
                password: password.clone(),
            })),
            (Some(_), None) => Err(AuthError::Format {
                path: path.to_path_buf(),
                problem: format!("auths[{key}] has a `username` but no `password`"),
            }),
            (None, Some(_)) => Err(AuthError::Format {
                path: path.to_path_buf(),
                problem: format!("auths[{key}] has a `password` but no `username`"),
            }),
            (None, None) => Ok(None),
        }
    }
}

/// An [`AuthError::Json`] for `error`. serde_json's syntax messages are fixed
/// strings plus the position; data errors, which could quote the input, are
/// not passed through (they cannot arise when parsing into a `Value`).
fn json_error(path: &Path, error: &serde_json::Error) -> AuthError {
    use serde_json::error::Category;
    let problem = match error.classify() {
        Category::Syntax | Category::Eof => {
            let message = error.to_string();
            let suffix = format!(" at line {} column {}", error.line(), error.column());
            message
                .strip_suffix(&suffix)
                .unwrap_or(&message)
                .to_string()
        }
        Category::Data => "unexpected data".to_string(),
        Category::Io => "read error".to_string(),
    };
    AuthError::Json {
        path: path.to_path_buf(),
        problem,
        line: error.line(),
        column: error.column(),
    }
}
