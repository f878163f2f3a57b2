//! `Behaviour` and `Route` of the fault server (see `fault_server.rs`): what
//! to answer, response helpers for common registry answers, and how a request
//! picks its route and steps through `Sequence`/`Delayed`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use super::RecordedRequest;

/// What the server does with a matched request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Behaviour {
    /// Answer. A `Content-Length` is added unless `headers` has one; an
    /// explicit one is sent verbatim (a lying one truncates the body, and the
    /// connection is closed after it). HEAD gets the headers only.
    Respond {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// Read the request and never answer; the socket stays open until the
    /// server is dropped (the client then sees the connection closed).
    Hang,
    /// Read the request, then close the socket while the request bytes are
    /// still unread in the kernel buffer: Linux answers with a real TCP RST,
    /// so the client sees ECONNRESET (curl exit 56). Requests over 256 KiB or
    /// chunked ones are consumed while read; for those this degrades to
    /// `shutdown(Both)` + close (client sees an unexpected EOF).
    Reset,
    /// The first request reaching this sequence gets the first behaviour, the
    /// second the second, ...; the last one repeats forever. (Each `Sequence`
    /// value has its own counter; use `vec![b; n]` for "n times b".)
    Sequence(Vec<Behaviour>),
    /// Wait (interruptibly, on drop), then behave.
    Delayed(Duration, Box<Behaviour>),
}

impl Behaviour {
    pub fn respond(status: u16, headers: &[(&str, &str)], body: impl Into<Vec<u8>>) -> Self {
        let headers = headers.iter().map(|(k, v)| (k.to_string(), v.to_string()));
        Behaviour::Respond {
            status,
            headers: headers.collect(),
            body: body.into(),
        }
    }

    /// `status` with an empty body.
    pub fn status(status: u16) -> Self {
        Self::respond(status, &[], Vec::new())
    }

    /// `status` with `value` as an `application/json` body.
    pub fn json(status: u16, value: serde_json::Value) -> Self {
        let body = value.to_string();
        Self::respond(status, &[("Content-Type", "application/json")], body)
    }

    /// 200 with `Docker-Content-Digest`, `Content-Type` and `Content-Length`
    /// (a HEAD gets the same headers and no body).
    pub fn manifest_ok(digest: &str, media_type: &str, body: impl Into<Vec<u8>>) -> Self {
        let body = body.into();
        let len = body.len().to_string();
        let headers = [
            ("Docker-Content-Digest", digest),
            ("Content-Type", media_type),
            ("Content-Length", len.as_str()),
        ];
        Self::respond(200, &headers, body)
    }

    /// The distribution error envelope `{"errors":[{"code":..,"message":..}]}`.
    pub fn registry_error(status: u16, code: &str, message: &str) -> Self {
        let errors =
            serde_json::json!({"errors": [{"code": code, "message": message, "detail": null}]});
        Self::json(status, errors)
    }

    /// 429 `TOOMANYREQUESTS` (error envelope), with `Retry-After` if given.
    pub fn too_many_requests(retry_after: Option<&str>) -> Self {
        let b = Self::registry_error(429, "TOOMANYREQUESTS", "rate limit exceeded");
        match retry_after {
            Some(value) => b.with_header("Retry-After", value),
            None => b,
        }
    }

    /// 307 to `location` (absolute URL or path).
    pub fn redirect(location: &str) -> Self {
        Self::respond(307, &[("Location", location)], Vec::new())
    }

    /// 401 `UNAUTHORIZED` with `WWW-Authenticate: Bearer realm="..",service=".."`.
    pub fn unauthorized_bearer(realm: &str, service: &str) -> Self {
        let challenge = format!("Bearer realm=\"{realm}\",service=\"{service}\"");
        Self::registry_error(401, "UNAUTHORIZED", "authentication required")
            .with_header("WWW-Authenticate", &challenge)
    }

    /// 401 `UNAUTHORIZED` with `WWW-Authenticate: Basic realm=".."`.
    pub fn unauthorized_basic(realm: &str) -> Self {
        let challenge = format!("Basic realm=\"{realm}\"");
        Self::registry_error(401, "UNAUTHORIZED", "authentication required")
            .with_header("WWW-Authenticate", &challenge)
    }

    /// Adds a response header (to every `Respond` inside, for composites).
    pub fn with_header(self, name: &str, value: &str) -> Self {
        match self {
            Behaviour::Respond {
                status,
                mut headers,
                body,
            } => {
                headers.push((name.to_string(), value.to_string()));
                Behaviour::Respond {
                    status,
                    headers,
                    body,
                }
            }
            Behaviour::Sequence(items) => Behaviour::Sequence(
                items
                    .into_iter()
                    .map(|b| b.with_header(name, value))
                    .collect(),
            ),
            Behaviour::Delayed(d, inner) => {
                Behaviour::Delayed(d, Box::new(inner.with_header(name, value)))
            }
            other => other,
        }
    }

    /// `Delayed(delay, self)`.
    pub fn delayed(self, delay: Duration) -> Self {
        Behaviour::Delayed(delay, Box::new(self))
    }
}

/// A routing rule; see the module docs for how one is chosen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    pub method: Option<String>,
    pub path_prefix: String,
    pub behaviour: Behaviour,
}

impl Route {
    pub fn new(method: &str, path_prefix: &str, behaviour: Behaviour) -> Self {
        Route {
            method: Some(method.to_string()),
            path_prefix: path_prefix.to_string(),
            behaviour,
        }
    }

    /// Any method.
    pub fn any(path_prefix: &str, behaviour: Behaviour) -> Self {
        Route {
            method: None,
            path_prefix: path_prefix.to_string(),
            behaviour,
        }
    }

    pub(super) fn matches(&self, request: &RecordedRequest) -> bool {
        let method_ok = self
            .method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(&request.method));
        method_ok && request.path.starts_with(&self.path_prefix)
    }
}

/// A resolved behaviour (no `Sequence`/`Delayed` left).
pub(super) enum Action<'a> {
    Respond(u16, &'a [(String, String)], &'a [u8]),
    Hang,
    Reset,
}

/// Picks the route for `request` and unwraps `Sequence`/`Delayed` down to an
/// action plus the total delay. `hits` holds one counter per `Sequence`,
/// keyed by the node's address (routes never move while the server runs).
pub(super) fn resolve<'a>(
    routes: &'a [Route],
    hits: &Mutex<HashMap<usize, usize>>,
    request: &RecordedRequest,
) -> (Action<'a>, Duration) {
    const NOT_FOUND: Action<'static> = Action::Respond(404, &[], &[]);
    let candidates = routes
        .iter()
        .enumerate()
        .filter(|(_, r)| r.matches(request));
    let best =
        candidates.max_by_key(|(i, r)| (r.path_prefix.len(), r.method.is_some(), usize::MAX - i));
    let Some((_, route)) = best else {
        return (NOT_FOUND, Duration::ZERO);
    };
    let (mut behaviour, mut delay) = (&route.behaviour, Duration::ZERO);
    loop {
        match behaviour {
            Behaviour::Respond {
                status,
                headers,
                body,
            } => return (Action::Respond(*status, headers, body), delay),
            Behaviour::Hang => return (Action::Hang, delay),
            Behaviour::Reset => return (Action::Reset, delay),
            Behaviour::Delayed(d, inner) => (behaviour, delay) = (inner, delay.saturating_add(*d)),
            Behaviour::Sequence(items) if items.is_empty() => return (NOT_FOUND, delay),
            Behaviour::Sequence(items) => {
                let mut hits = hits.lock().unwrap_or_else(|e| e.into_inner());
                let hit = hits
                    .entry(std::ptr::from_ref(behaviour) as usize)
                    .or_insert(0);
                behaviour = &items[(*hit).min(items.len() - 1)];
                *hit += 1;
            }
        }
    }
}
