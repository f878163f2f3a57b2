//! A small curl-driven HTTP client bound to a `TestRegistry`: trusts the
//! harness CA and sends the registry's credentials unless told otherwise, so
//! tests can make exact requests (HEAD with an Accept list, wrong password,
//! no CA, ...) and inspect status and headers.

use std::io::Write as _;
use std::process::{Command, Stdio};

use super::media::ACCEPT_ALL_MANIFESTS;
use super::server::TestRegistry;
use super::tools::CURL;

/// Which credentials a request sends.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Auth {
    /// The registry's own credentials, if it has any. On a `token_auth()`
    /// registry: a bearer token for them, minted by the harness.
    #[default]
    Registry,
    Anonymous,
    /// HTTP Basic; on a `token_auth()` registry a minted bearer token when
    /// these are the right credentials, else nothing.
    Basic(String, String),
    /// `Authorization: Bearer <token>`, e.g. one fetched from `token_realm()`.
    Bearer(String),
}

/// Which certificates a TLS request trusts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Trust {
    /// The harness CA (`--cacert`).
    #[default]
    HarnessCa,
    /// Only the system trust store, which lacks the harness CA.
    SystemRoots,
    /// No verification (`--insecure`).
    Insecure,
}

/// A request to send with `TestRegistry::send`/`try_send`.
#[derive(Clone, Debug, Default)]
pub struct Request {
    pub method: String,
    /// Path (and query) starting with `/`, e.g. `/v2/org/app/manifests/v1`.
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub auth: Auth,
    pub trust: Trust,
    pub body: Option<Vec<u8>>,
}

impl Request {
    pub fn new(method: &str, path: &str) -> Request {
        Request {
            method: method.to_string(),
            path: path.to_string(),
            ..Request::default()
        }
    }
    pub fn header(mut self, name: &str, value: &str) -> Request {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }
    /// Adds `Accept:` with all four manifest media types.
    pub fn accept_all_manifests(self) -> Request {
        self.header("Accept", ACCEPT_ALL_MANIFESTS)
    }
    pub fn auth(mut self, auth: Auth) -> Request {
        self.auth = auth;
        self
    }
    pub fn trust(mut self, trust: Trust) -> Request {
        self.trust = trust;
        self
    }
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Request {
        self.body = Some(body.into());
        self
    }
}

/// Status, headers and body of a response.
#[derive(Clone, Debug)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// First header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// curl failed before getting an HTTP response (TLS failure, refused, ...).
#[derive(Clone, Debug)]
pub struct CurlError {
    /// curl's exit code: 60 = certificate not trusted, 7 = cannot connect.
    pub exit_code: Option<i32>,
    pub stderr: String,
}

impl TestRegistry {
    /// A curl command with `-sS`, a timeout, no proxy and (for TLS) the
    /// harness CA; no credentials. Append arguments and the URL.
    pub fn curl(&self) -> Command {
        let mut cmd = CURL.command();
        cmd.args(["-sS", "--max-time", "10", "--noproxy", "*"]);
        if let Some(tls) = &self.tls {
            cmd.arg("--cacert").arg(&tls.ca_pem);
        }
        cmd
    }

    /// Sends `req`; `Err` when no HTTP response was received.
    pub fn try_send(&self, req: &Request) -> Result<HttpResponse, CurlError> {
        let mut cmd = CURL.command();
        cmd.args([
            "-sS",
            "-i",
            "--max-time",
            "10",
            "--noproxy",
            "*",
            "-H",
            "Expect:",
        ]);
        match (req.trust, &self.tls) {
            (Trust::HarnessCa, Some(tls)) => {
                cmd.arg("--cacert").arg(&tls.ca_pem);
            }
            (Trust::Insecure, _) => {
                cmd.arg("--insecure");
            }
            _ => {}
        }
        let creds = match &req.auth {
            Auth::Registry => self.credentials.clone(),
            Auth::Anonymous | Auth::Bearer(_) => None,
            Auth::Basic(u, p) => Some((u.clone(), p.clone())),
        };
        let bearer = match (&req.auth, creds) {
            (Auth::Bearer(token), _) => Some(token.clone()),
            (_, Some((user, password))) if self.is_token_auth() => {
                self.harness_bearer(&user, &password, &req.path)
            }
            (_, Some((user, password))) => {
                cmd.arg("-u").arg(format!("{user}:{password}"));
                None
            }
            (_, None) => None,
        };
        if let Some(token) = bearer {
            cmd.arg("-H").arg(format!("Authorization: Bearer {token}"));
        }
        if req.method.eq_ignore_ascii_case("HEAD") {
            cmd.arg("-I");
        } else {
            cmd.args(["-X", &req.method]);
        }
        for (name, value) in &req.headers {
            cmd.arg("-H").arg(format!("{name}: {value}"));
        }
        if req.body.is_some() {
            cmd.args(["--data-binary", "@-"]);
        }
        cmd.arg(self.url(&req.path));
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn curl");
        let mut stdin = child.stdin.take().expect("curl stdin");
        if let Some(body) = &req.body {
            stdin.write_all(body).expect("write request body to curl");
        }
        drop(stdin);
        let out = child.wait_with_output().expect("wait for curl");
        if !out.status.success() {
            return Err(CurlError {
                exit_code: out.status.code(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            });
        }
        Ok(parse_response(&out.stdout))
    }

    /// Sends `req`; panics when no HTTP response was received.
    pub fn send(&self, req: &Request) -> HttpResponse {
        self.try_send(req).unwrap_or_else(|err| {
            panic!(
                "{} {}: curl failed: {err:?}",
                req.method,
                self.url(&req.path)
            )
        })
    }
}

/// Splits curl `-i` output into the final header block and the body.
fn parse_response(raw: &[u8]) -> HttpResponse {
    let mut rest = raw;
    loop {
        let split = rest
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map_or(rest.len(), |i| i + 4);
        let head = String::from_utf8_lossy(&rest[..split]).into_owned();
        rest = &rest[split..];
        let mut lines = head.lines();
        let status_line = lines.next().unwrap_or_default();
        let status: u16 = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("unparseable HTTP status line {status_line:?}"));
        if (100..200).contains(&status) && !rest.is_empty() {
            continue;
        }
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
            .collect();
        return HttpResponse {
            status,
            headers,
            body: rest.to_vec(),
        };
    }
}
