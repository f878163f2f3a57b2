//! The tags of a repository (`GET /v2/<name>/tags/list`, following `Link`
//! pages), for version ranges on OCI charts and artifacts.

use super::fetch::{self, Fetched};
use super::session::Session;
use super::{Cause, Failure};
use reqwest::header::{LINK, WWW_AUTHENTICATE};
use reqwest::{StatusCode, Url};

const PAGE_BYTES: usize = 8 * 1024 * 1024;
/// Enough for any real chart; a repository with more is answered from these.
const MAX_PAGES: usize = 50;

/// Every tag of `repository`; `Ok(None)` when the repository does not exist.
pub async fn list(session: &Session, repository: &str) -> Result<Option<Vec<String>>, Failure> {
    let mut url = session
        .base
        .join(&format!("v2/{repository}/tags/list?n=1000"))
        .map_err(|e| Failure::new(Cause::Protocol, format!("cannot build the tags URL: {e}")))?;
    let what = format!("tags of {}/{repository}", session.host);
    let mut tags = Vec::new();
    let mut challenged = false;
    let mut pages = 0;
    loop {
        let authorization = session.authorization(repository).await?;
        let fetched = fetch::get(
            &session.client,
            &url,
            Some("application/json"),
            authorization.as_ref(),
            session.allow_http,
            PAGE_BYTES,
            session.deadline(),
        )
        .await?;
        let (bytes, headers) = match fetched {
            Fetched::Body { bytes, headers } => (bytes, headers),
            Fetched::Status { status, .. } if status == StatusCode::NOT_FOUND => return Ok(None),
            Fetched::Status { status, headers }
                if status == StatusCode::UNAUTHORIZED
                    && !challenged
                    && session
                        .learn_challenge(headers.get(WWW_AUTHENTICATE), repository)
                        .await =>
            {
                challenged = true;
                continue;
            }
            Fetched::Status { status, .. } => return Err(fetch::status_failure(status, &what)),
        };
        let page: Page = serde_json::from_slice(&bytes)
            .map_err(|e| Failure::new(Cause::Protocol, format!("{what}: not a tag list ({e})")))?;
        tags.extend(page.tags.unwrap_or_default());
        pages += 1;
        match next_page(&headers, &url) {
            Some(next) if pages < MAX_PAGES => url = next,
            _ => return Ok(Some(tags)),
        }
    }
}

#[derive(serde::Deserialize)]
struct Page {
    tags: Option<Vec<String>>,
}

/// `Link: </v2/name/tags/list?n=1000&last=x>; rel="next"`.
fn next_page(headers: &reqwest::header::HeaderMap, current: &Url) -> Option<Url> {
    let link = headers.get(LINK)?.to_str().ok()?;
    let target = link
        .split(',')
        .find(|part| part.contains("rel=\"next\"") || part.contains("rel=next"))?;
    let start = target.find('<')? + 1;
    let end = target.find('>')?;
    let next = current.join(target.get(start..end)?).ok()?;
    // Pages stay on the registry they started on.
    (next.origin() == current.origin()).then_some(next)
}
