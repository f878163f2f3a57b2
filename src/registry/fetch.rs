//! A GET with the registry stage's manners: retries on 429/5xx/timeouts
//! within the deadline, a size limit on the body, and every other answer
//! classified. Used for tag lists and Helm repository indexes.

use super::retry::{self, Retry};
use super::transport::{self, Request};
use super::{Cause, Failure};
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Client, Method, StatusCode, Url};
use tokio::time::Instant;

/// What a GET ended with, before the caller reads meaning into a status.
pub enum Fetched {
    Body {
        bytes: Vec<u8>,
        headers: HeaderMap,
    },
    Status {
        status: StatusCode,
        headers: HeaderMap,
    },
}

/// GETs `url`; 2xx bodies are read up to `limit` bytes. Other statuses
/// (after retries for 429/5xx) are returned for the caller to classify.
pub async fn get(
    client: &Client,
    url: &Url,
    accept: Option<&'static str>,
    authorization: Option<&HeaderValue>,
    allow_http: bool,
    limit: usize,
    deadline: Instant,
) -> Result<Fetched, Failure> {
    let mut retry = Retry::new(deadline);
    loop {
        let request = Request {
            method: Method::GET,
            url: url.clone(),
            accept,
            authorization,
            form: None,
            allow_http,
        };
        let response = match transport::send(client, request, deadline).await {
            Err(failure) if failure.cause == Cause::Timeout && retry.wait(None).await => continue,
            other => other?,
        };
        let status = response.status();
        let headers = response.headers().clone();
        if (status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error())
            && retry.wait(retry::retry_after(&headers)).await
        {
            continue;
        }
        if !status.is_success() {
            return Ok(Fetched::Status { status, headers });
        }
        let bytes = read_limited(response, limit, url).await?;
        return Ok(Fetched::Body { bytes, headers });
    }
}

/// The failure a non-success status means, for statuses the caller does
/// not handle itself.
pub fn status_failure(status: StatusCode, what: &str) -> Failure {
    match status {
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Failure::new(
            Cause::Unauthorized,
            format!("{what}: access refused (HTTP {})", status.as_u16()),
        ),
        StatusCode::TOO_MANY_REQUESTS => Failure::new(
            Cause::RateLimited,
            format!("{what}: kept answering 429 Too Many Requests"),
        ),
        s if s.is_server_error() => {
            Failure::new(Cause::ServerError, format!("{what}: HTTP {}", s.as_u16()))
        }
        s => Failure::new(Cause::Protocol, format!("{what}: HTTP {}", s.as_u16())),
    }
}

async fn read_limited(
    mut response: reqwest::Response,
    limit: usize,
    url: &Url,
) -> Result<Vec<u8>, Failure> {
    let host = transport::host_of(url);
    if response
        .content_length()
        .is_some_and(|length| length > limit as u64)
    {
        return Err(too_large(&host, limit));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| {
        Failure::new(
            Cause::Unreachable,
            format!("reading from {host}: {}", transport::error_text(&e)),
        )
    })? {
        body.extend_from_slice(&chunk);
        if body.len() > limit {
            return Err(too_large(&host, limit));
        }
    }
    Ok(body)
}

fn too_large(host: &str, limit: usize) -> Failure {
    Failure::new(
        Cause::Protocol,
        format!(
            "{host} sent more than {} MiB; not read further",
            limit / (1024 * 1024)
        ),
    )
}
