//! HTTP: one client per trust profile (built once, shared by every
//! request), redirects followed by hand so credentials never follow a
//! redirect to another host, and transport errors classified.

use super::endpoint::TlsProfile;
use super::{Cause, Failure};
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, LOCATION};
use reqwest::{Client, Method, Response, StatusCode, Url};
use std::error::Error as _;
use std::time::Duration;
use tokio::time::Instant;

/// The longest a single request may take (the run's deadline may cut it shorter).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const MAX_REDIRECTS: usize = 5;

/// Every manifest type a registry may hold for an image. Without all four
/// a registry answers 404 for content it has: a false "missing".
pub const ACCEPT_MANIFESTS: &str = "application/vnd.oci.image.index.v1+json, \
application/vnd.docker.distribution.manifest.list.v2+json, \
application/vnd.oci.image.manifest.v1+json, \
application/vnd.docker.distribution.manifest.v2+json";

/// Why an HTTP client could not be built (exit 2: a bad CA file is an
/// error, never a silent fallback to no extra roots).
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum TransportError {
    #[error("`ca_file` {file}: {problem}")]
    #[diagnostic(
        code(fluxgate::registry::ca_file),
        help("point `ca_file` at a PEM file holding the registry's CA certificate")
    )]
    CaFile { file: String, problem: String },
    #[error("cannot build the HTTP client: {0}")]
    #[diagnostic(code(fluxgate::registry::client))]
    Client(String),
}

/// Builds the client of one trust profile.
pub fn build_client(profile: &TlsProfile) -> Result<Client, TransportError> {
    let mut builder = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(CONNECT_TIMEOUT)
        .user_agent(concat!("fluxgate/", env!("CARGO_PKG_VERSION")));
    if let Some(pem) = &profile.ca_pem {
        let file = profile.ca_file.clone().unwrap_or_default();
        let certs =
            reqwest::Certificate::from_pem_bundle(pem).map_err(|e| TransportError::CaFile {
                file: file.clone(),
                problem: e.to_string(),
            })?;
        if certs.is_empty() {
            return Err(TransportError::CaFile {
                file,
                problem: "no PEM certificate in the file".into(),
            });
        }
        builder = builder.tls_certs_merge(certs);
    }
    if profile.insecure {
        builder = builder.danger_accept_invalid_certs(true);
    }
    builder
        .build()
        .map_err(|e| TransportError::Client(e.to_string()))
}

/// One request to send.
pub struct Request<'a> {
    pub method: Method,
    pub url: Url,
    pub accept: Option<&'static str>,
    /// Sent only to the origin of `url`, never after a redirect elsewhere.
    pub authorization: Option<&'a HeaderValue>,
    pub form: Option<&'a [(&'a str, &'a str)]>,
    pub allow_http: bool,
}

/// Sends a request, following up to five redirects.
pub async fn send(
    client: &Client,
    request: Request<'_>,
    deadline: Instant,
) -> Result<Response, Failure> {
    let origin = request.url.clone();
    let mut url = request.url.clone();
    for _ in 0..=MAX_REDIRECTS {
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(Failure::new(
                Cause::Timeout,
                "the check's time budget ran out",
            ));
        }
        let mut builder = client
            .request(request.method.clone(), url.clone())
            .timeout(remaining.min(REQUEST_TIMEOUT));
        if let Some(accept) = request.accept {
            builder = builder.header(ACCEPT, accept);
        }
        if let Some(authorization) = request.authorization.filter(|_| same_origin(&url, &origin)) {
            builder = builder.header(AUTHORIZATION, authorization.clone());
        }
        if let Some(form) = request.form {
            builder = builder.form(form);
        }
        let response = builder.send().await.map_err(|e| classify(&e, &url))?;
        if !response.status().is_redirection() || response.status() == StatusCode::NOT_MODIFIED {
            return Ok(response);
        }
        let next = location(response.headers(), &url).ok_or_else(|| {
            Failure::new(
                Cause::Protocol,
                format!("{} redirect without a usable Location", response.status()),
            )
        })?;
        if next.scheme() == "http" && url.scheme() == "https" && !request.allow_http {
            return Err(Failure::new(
                Cause::Protocol,
                format!(
                    "refusing a redirect from HTTPS to plain HTTP ({})",
                    host_of(&next)
                ),
            ));
        }
        url = next;
    }
    Err(Failure::new(
        Cause::Protocol,
        format!("more than {MAX_REDIRECTS} redirects"),
    ))
}

fn location(headers: &HeaderMap, base: &Url) -> Option<Url> {
    base.join(headers.get(LOCATION)?.to_str().ok()?).ok()
}

fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

pub fn host_of(url: &Url) -> String {
    match url.port() {
        Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
        None => url.host_str().unwrap_or_default().to_string(),
    }
}

/// A reqwest error for a message, without the URL reqwest appends: an
/// index may list archive URLs that carry a token (a presigned query).
pub fn error_text(error: &reqwest::Error) -> String {
    let text = error.to_string();
    match error.url() {
        Some(url) => text.replace(&format!(" for url ({url})"), ""),
        None => text,
    }
}

/// Classifies a transport error. The message names the host and the
/// innermost cause, never the URL (see [`error_text`]).
fn classify(error: &reqwest::Error, url: &Url) -> Failure {
    let host = host_of(url);
    let mut innermost = error_text(error);
    let mut source = error.source();
    while let Some(cause) = source {
        innermost = cause.to_string();
        source = cause.source();
    }
    if error.is_timeout() {
        return Failure::new(Cause::Timeout, format!("{host} did not answer in time"));
    }
    let lower = innermost.to_lowercase();
    let detail = if lower.contains("certificate")
        || lower.contains("unknownissuer")
        || lower.contains("expired")
    {
        format!("TLS certificate of {host} not accepted ({innermost}); if the registry uses a private CA, set `ca_file` for it under `registries:` in .fluxgate.yaml")
    } else if lower.contains("dns")
        || lower.contains("lookup")
        || lower.contains("resolve")
        || lower.contains("name or service not known")
    {
        format!("cannot resolve {host} ({innermost})")
    } else if lower.contains("refused") {
        format!("connection to {host} refused")
    } else {
        format!("{host}: {innermost}")
    };
    Failure::new(Cause::Unreachable, detail)
}

/// Whether a failure was TLS refusing the server's certificate: then plain
/// HTTP must not be tried instead (the server does speak TLS).
pub fn is_certificate_failure(failure: &Failure) -> bool {
    failure.cause == Cause::Unreachable && failure.detail.starts_with("TLS certificate")
}
