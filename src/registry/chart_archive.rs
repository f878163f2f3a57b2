//! A chart's archive (the `.tgz` Helm installs), fetched to read the
//! chart's default values: from an HTTP Helm repository (the index entry's
//! `urls`, relative ones taken from the repository URL) or an OCI registry
//! (the chart layer of the manifest, its bytes checked against its digest).

use super::fetch::{self, Fetched};
use super::helm_index::{self, IndexLookup};
use super::{Cause, Checker, Failure, Inner};
use crate::image::ImageRef;
use reqwest::Url;
use sha2::{Digest as _, Sha256};
use tokio::time::Instant;

/// Chart archives larger than this are not read (real ones are KiBs to a
/// few MiB; the largest public charts stay under 2 MiB).
pub const MAX_ARCHIVE_BYTES: usize = 16 * 1024 * 1024;

/// `helm push`'s media type for the chart's archive layer.
const HELM_CHART_LAYER: &str = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

/// One chart version whose archive is wanted.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ArchiveQuery {
    /// An exact version listed in an HTTP Helm repository's index.
    Index {
        url: String,
        chart: String,
        version: String,
    },
    /// A chart pushed to an OCI registry, by tag or digest.
    Oci { reference: ImageRef },
}

impl Checker {
    /// The archives of `queries`, in their order; each fetched once,
    /// concurrently (`--all` may want one per chart of the tree).
    pub fn chart_archives(&self, queries: &[ArchiveQuery]) -> Vec<Result<Vec<u8>, Failure>> {
        self.each_once(
            queries,
            |inner, query, deadline| async move { inner.archive(&query, deadline).await },
            "the chart was read",
            Err,
        )
    }
}

impl Inner {
    async fn archive(&self, query: &ArchiveQuery, deadline: Instant) -> Result<Vec<u8>, Failure> {
        match query {
            ArchiveQuery::Index {
                url,
                chart,
                version,
            } => self.index_archive(url, chart, version, deadline).await,
            ArchiveQuery::Oci { reference } => self.oci_archive(reference, deadline).await,
        }
    }

    async fn index_archive(
        &self,
        url: &str,
        chart: &str,
        version: &str,
        deadline: Instant,
    ) -> Result<Vec<u8>, Failure> {
        let index = self
            .indexes
            .get_or_init(url.to_string(), || async {
                let client = &self.clients[self.endpoints.profile_for_url(url)];
                helm_index::fetch(client, url, deadline).await
            })
            .await?;
        let IndexLookup::Found(index) = index else {
            return Err(Failure::new(
                Cause::Protocol,
                format!("{url} has no index.yaml"),
            ));
        };
        let listed = index
            .urls
            .get(&(chart.to_string(), version.to_string()))
            .and_then(|urls| urls.first())
            .ok_or_else(|| {
                Failure::new(
                    Cause::Protocol,
                    format!("the index of {url} gives no archive URL for {chart} {version}"),
                )
            })?;
        // Relative entries are relative to the repository, as Helm reads them.
        let archive_url = helm_index::index_url(url)?
            .join(listed)
            .map_err(|e| {
                // Not echoed: a listed URL may carry a token.
                Failure::new(
                    Cause::Protocol,
                    format!("the index of {url} lists an archive URL for {chart} {version} that is not a URL ({e})"),
                )
            })?;
        let what = format!("{chart} {version} at {}", without_credentials(&archive_url));
        let client = &self.clients[self.endpoints.profile_for_url(archive_url.as_str())];
        match fetch::get(
            client,
            &archive_url,
            None,
            None,
            true,
            MAX_ARCHIVE_BYTES,
            deadline,
        )
        .await?
        {
            Fetched::Body { bytes, .. } => Ok(bytes),
            Fetched::Status { status, .. } => Err(fetch::status_failure(status, &what)),
        }
    }

    async fn oci_archive(
        &self,
        reference: &ImageRef,
        deadline: Instant,
    ) -> Result<Vec<u8>, Failure> {
        let endpoint = self.endpoints.resolve(reference);
        let session = self.session(&endpoint, deadline).await?;
        let repository = &endpoint.repository;
        let name = reference
            .digest
            .clone()
            .or_else(|| reference.tag.clone())
            .unwrap_or_else(|| "latest".to_string());
        let url = |path: String| {
            session
                .base
                .join(&format!("v2/{repository}/{path}"))
                .map_err(|e| Failure::new(Cause::Protocol, e.to_string()))
        };
        let what = format!("{}/{repository}:{name}", session.host).replace(":sha256:", "@sha256:");
        let authorization = session.authorization(repository).await?;
        let manifest = match fetch::get(
            &session.client,
            &url(format!("manifests/{name}"))?,
            Some(OCI_MANIFEST),
            authorization.as_ref(),
            session.allow_http,
            1024 * 1024,
            deadline,
        )
        .await?
        {
            Fetched::Body { bytes, .. } => bytes,
            Fetched::Status { status, .. } => {
                return Err(fetch::status_failure(status, &format!("manifest {what}")))
            }
        };
        let manifest: serde_json::Value = serde_json::from_slice(&manifest).map_err(|_| {
            Failure::new(
                Cause::Protocol,
                format!("the manifest of {what} is not JSON"),
            )
        })?;
        let layer = manifest
            .get("layers")
            .and_then(|layers| layers.as_array())
            .into_iter()
            .flatten()
            .find(|layer| layer.get("mediaType").and_then(|m| m.as_str()) == Some(HELM_CHART_LAYER))
            .and_then(|layer| layer.get("digest")?.as_str())
            .filter(|digest| is_sha256(digest))
            .ok_or_else(|| {
                Failure::new(
                    Cause::Protocol,
                    format!("{what} is not a Helm chart (no `{HELM_CHART_LAYER}` layer)"),
                )
            })?
            .to_string();
        let bytes = match fetch::get(
            &session.client,
            &url(format!("blobs/{layer}"))?,
            None,
            authorization.as_ref(),
            session.allow_http,
            MAX_ARCHIVE_BYTES,
            deadline,
        )
        .await?
        {
            Fetched::Body { bytes, .. } => bytes,
            Fetched::Status { status, .. } => {
                return Err(fetch::status_failure(
                    status,
                    &format!("the chart layer of {what}"),
                ))
            }
        };
        let computed = format!("sha256:{:x}", Sha256::digest(&bytes));
        if computed != layer {
            return Err(Failure::new(
                Cause::Protocol,
                format!("{} sent the chart layer {layer} of {what} with content that hashes to {computed}", session.host),
            ));
        }
        Ok(bytes)
    }
}

fn is_sha256(digest: &str) -> bool {
    digest
        .strip_prefix("sha256:")
        .is_some_and(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// A URL for messages: user, password and query (a presigned URL's
/// token) left out.
fn without_credentials(url: &Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_query(None);
    shown.to_string()
}
