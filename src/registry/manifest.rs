//! Does a manifest exist? One `HEAD /v2/<name>/manifests/<ref>` with the
//! full Accept list; GET only where HEAD gives no answer (no digest header,
//! or HEAD not allowed). Every answer is classified: only a 404 is
//! "missing", and nothing but a digest from the registry is "exists".

use super::retry::{self, Retry};
use super::session::Session;
use super::transport::{self, Request, ACCEPT_MANIFESTS};
use super::{Cause, Failure, Lookup};
use reqwest::header::{HeaderMap, CONTENT_TYPE, WWW_AUTHENTICATE};
use reqwest::{Method, StatusCode, Url};
use sha2::{Digest as _, Sha256};

/// Manifests larger than this are not read (real ones are a few KiB).
const MAX_MANIFEST_BYTES: usize = 4 * 1024 * 1024;

/// Looks up `reference` (a tag or a digest) in `repository`. With
/// `expected`, the registry's digest must match it.
pub async fn lookup(
    session: &Session,
    repository: &str,
    reference: &str,
    expected: Option<&str>,
) -> Lookup {
    match head(session, repository, reference, expected).await {
        Ok(lookup) => lookup,
        Err(failure) => Lookup::Unknown {
            cause: failure.cause,
            detail: failure.detail,
        },
    }
}

fn manifest_url(session: &Session, repository: &str, reference: &str) -> Result<Url, Failure> {
    session
        .base
        .join(&format!("v2/{repository}/manifests/{reference}"))
        .map_err(|e| {
            Failure::new(
                Cause::Protocol,
                format!("cannot build the manifest URL: {e}"),
            )
        })
}

async fn head(
    session: &Session,
    repository: &str,
    reference: &str,
    expected: Option<&str>,
) -> Result<Lookup, Failure> {
    let url = manifest_url(session, repository, reference)?;
    let what = format!("{}/{repository}:{reference}", session.host).replace(":sha256:", "@sha256:");
    let mut retry = Retry::new(session.deadline());
    let mut challenged = false;
    loop {
        let authorization = session.authorization(repository).await?;
        let request = Request {
            method: Method::HEAD,
            url: url.clone(),
            accept: Some(ACCEPT_MANIFESTS),
            authorization: authorization.as_ref(),
            form: None,
            allow_http: session.allow_http,
        };
        let response = match transport::send(&session.client, request, session.deadline()).await {
            Err(failure) if failure.cause == Cause::Timeout && retry.wait(None).await => continue,
            other => other?,
        };
        let status = response.status();
        let headers = response.headers().clone();
        match status {
            StatusCode::OK => {
                return match digest_header(&headers)? {
                    Some(digest) => verified(digest, expected, &what),
                    None => get(session, &url, repository, expected, &what).await,
                };
            }
            StatusCode::NOT_FOUND => {
                return Ok(Lookup::Missing {
                    detail: format!("the registry has no manifest {what}"),
                });
            }
            StatusCode::METHOD_NOT_ALLOWED | StatusCode::NOT_IMPLEMENTED => {
                return get(session, &url, repository, expected, &what).await;
            }
            StatusCode::UNAUTHORIZED
                if !challenged
                    && session
                        .learn_challenge(headers.get(WWW_AUTHENTICATE), repository)
                        .await =>
            {
                challenged = true;
                continue;
            }
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                let how = if authorization.is_some() {
                    "with the configured credentials"
                } else {
                    "anonymously"
                };
                return Ok(unknown(
                    Cause::Unauthorized,
                    format!("{} refused access to {repository} {how} (HTTP {}); a private or misspelled repository looks the same from outside", session.host, status.as_u16()),
                ));
            }
            s if (s == StatusCode::TOO_MANY_REQUESTS || s.is_server_error())
                && retry.wait(retry::retry_after(&headers)).await =>
            {
                continue
            }
            StatusCode::TOO_MANY_REQUESTS => {
                return Ok(unknown(
                    Cause::RateLimited,
                    format!("{} kept answering 429 Too Many Requests", session.host),
                ));
            }
            s if s.is_server_error() => {
                return Ok(unknown(
                    Cause::ServerError,
                    format!("{} answered HTTP {} for {what}", session.host, s.as_u16()),
                ));
            }
            s => {
                return Ok(unknown(
                    Cause::Protocol,
                    format!("{} answered HTTP {} for {what}", session.host, s.as_u16()),
                ))
            }
        }
    }
}

/// GET the manifest and digest its bytes, for registries whose HEAD gives no digest.
async fn get(
    session: &Session,
    url: &Url,
    repository: &str,
    expected: Option<&str>,
    what: &str,
) -> Result<Lookup, Failure> {
    let authorization = session.authorization(repository).await?;
    let request = Request {
        method: Method::GET,
        url: url.clone(),
        accept: Some(ACCEPT_MANIFESTS),
        authorization: authorization.as_ref(),
        form: None,
        allow_http: session.allow_http,
    };
    let response = transport::send(&session.client, request, session.deadline()).await?;
    let status = response.status();
    if status == StatusCode::NOT_FOUND {
        return Ok(Lookup::Missing {
            detail: format!("the registry has no manifest {what}"),
        });
    }
    if status != StatusCode::OK {
        return Ok(unknown(
            Cause::Protocol,
            format!(
                "{} answered HTTP {} to GET {what} after a HEAD without a digest",
                session.host,
                status.as_u16()
            ),
        ));
    }
    let header_digest = digest_header(response.headers())?;
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let body = read_limited(response, MAX_MANIFEST_BYTES).await?;
    let parsed: Result<serde_json::Value, _> = serde_json::from_slice(&body);
    let is_manifest = parsed.as_ref().is_ok_and(|v| {
        v.get("schemaVersion").is_some()
            && (v.get("manifests").is_some()
                || v.get("layers").is_some()
                || v.get("config").is_some())
    });
    if !is_manifest {
        return Ok(unknown(Cause::Protocol, format!("{} answered {what} with a body that is not a manifest (Content-Type `{content_type}`)", session.host)));
    }
    let computed = format!("sha256:{:x}", Sha256::digest(&body));
    if let Some(header) = header_digest.filter(|h| h.starts_with("sha256:") && *h != computed) {
        return Ok(unknown(
            Cause::Protocol,
            format!(
                "{} sent digest {header} for content that hashes to {computed}",
                session.host
            ),
        ));
    }
    verified(computed, expected, what)
}

async fn read_limited(mut response: reqwest::Response, limit: usize) -> Result<Vec<u8>, Failure> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| {
        Failure::new(
            Cause::Unreachable,
            format!("reading the manifest: {}", transport::error_text(&e)),
        )
    })? {
        body.extend_from_slice(&chunk);
        if body.len() > limit {
            return Err(Failure::new(
                Cause::Protocol,
                format!("manifest larger than {limit} bytes"),
            ));
        }
    }
    Ok(body)
}

/// The registry's digest, checked against the one asked for.
fn verified(digest: String, expected: Option<&str>, what: &str) -> Result<Lookup, Failure> {
    match expected {
        Some(expected) if expected != digest => Ok(unknown(
            Cause::Protocol,
            format!("asked for {what} but the registry answered with digest {digest}"),
        )),
        _ => Ok(Lookup::Exists { digest }),
    }
}

/// `Docker-Content-Digest`, if present; a malformed one is a protocol error.
fn digest_header(headers: &HeaderMap) -> Result<Option<String>, Failure> {
    let Some(value) = headers.get("docker-content-digest") else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or_default().trim();
    let valid = text.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    }) || text
        .strip_prefix("sha512:")
        .is_some_and(|hex| hex.len() == 128 && hex.bytes().all(|b| b.is_ascii_hexdigit()));
    if !valid {
        return Err(Failure::new(
            Cause::Protocol,
            "the registry sent a malformed Docker-Content-Digest header",
        ));
    }
    Ok(Some(text.to_string()))
}

fn unknown(cause: Cause, detail: String) -> Lookup {
    Lookup::Unknown { cause, detail }
}
