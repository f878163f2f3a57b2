//! Does an image exist for every requested platform? An index lists its
//! platforms; a single manifest's config names its one.

use super::session::Session;
use super::transport::{self, Request, ACCEPT_MANIFESTS};
use super::{Cause, Failure};
use reqwest::{Method, StatusCode};

/// `os/architecture[/variant]`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

impl std::str::FromStr for Platform {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let parts: Vec<&str> = s.split('/').collect();
        let valid = |p: &&str| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        };
        match parts.as_slice() {
            [os, arch] if valid(os) && valid(arch) => Ok(Platform {
                os: os.to_string(),
                architecture: arch.to_string(),
                variant: None,
            }),
            [os, arch, variant] if valid(os) && valid(arch) && valid(variant) => Ok(Platform {
                os: os.to_string(),
                architecture: arch.to_string(),
                variant: Some(variant.to_string()),
            }),
            _ => Err(format!(
                "`{s}` is not a platform (expected os/arch or os/arch/variant, e.g. linux/arm64)"
            )),
        }
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(variant) = &self.variant {
            write!(f, "/{variant}")?;
        }
        Ok(())
    }
}

impl Platform {
    /// Whether an available platform satisfies this requested one (a
    /// request without a variant accepts any variant).
    fn satisfied_by(&self, available: &Platform) -> bool {
        self.os == available.os
            && self.architecture == available.architecture
            && (self.variant.is_none() || self.variant == available.variant)
    }
}

/// The requested platforms an image lacks, and what it has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformReport {
    pub missing: Vec<Platform>,
    pub available: Vec<Platform>,
}

/// Reads the platforms of the manifest `digest` and compares.
pub async fn check(
    session: &Session,
    repository: &str,
    digest: &str,
    wanted: &[Platform],
) -> Result<PlatformReport, Failure> {
    let manifest = fetch_json(
        session,
        repository,
        &format!("manifests/{digest}"),
        Some(ACCEPT_MANIFESTS),
    )
    .await?;
    let available: Vec<Platform> =
        if let Some(entries) = manifest.get("manifests").and_then(|m| m.as_array()) {
            entries
                .iter()
                .filter_map(|entry| platform_of(entry.get("platform")?))
                .collect()
        } else {
            let config_digest = manifest
                .pointer("/config/digest")
                .and_then(|d| d.as_str())
                .ok_or_else(|| {
                    Failure::new(
                        Cause::Protocol,
                        "the manifest has no config to read its platform from",
                    )
                })?;
            let config =
                fetch_json(session, repository, &format!("blobs/{config_digest}"), None).await?;
            platform_of(&config).into_iter().collect()
        };
    let missing = wanted
        .iter()
        .filter(|w| !available.iter().any(|a| w.satisfied_by(a)))
        .cloned()
        .collect();
    Ok(PlatformReport { missing, available })
}

fn platform_of(value: &serde_json::Value) -> Option<Platform> {
    let text = |key: &str| value.get(key).and_then(|v| v.as_str()).map(str::to_string);
    let os = text("os")?;
    let architecture = text("architecture")?;
    // Attestation manifests in BuildKit indexes are listed as unknown/unknown.
    (os != "unknown").then(|| Platform {
        os,
        architecture,
        variant: text("variant").filter(|v| !v.is_empty()),
    })
}

async fn fetch_json(
    session: &Session,
    repository: &str,
    path: &str,
    accept: Option<&'static str>,
) -> Result<serde_json::Value, Failure> {
    let url = session
        .base
        .join(&format!("v2/{repository}/{path}"))
        .map_err(|e| Failure::new(Cause::Protocol, e.to_string()))?;
    let authorization = session.authorization(repository).await?;
    let request = Request {
        method: Method::GET,
        url,
        accept,
        authorization: authorization.as_ref(),
        form: None,
        allow_http: session.allow_http,
    };
    let response = transport::send(&session.client, request, session.deadline()).await?;
    if response.status() != StatusCode::OK {
        return Err(Failure::new(
            Cause::Protocol,
            format!(
                "reading {path} for its platforms: HTTP {}",
                response.status().as_u16()
            ),
        ));
    }
    let body = response
        .bytes()
        .await
        .map_err(|e| Failure::new(Cause::Unreachable, transport::error_text(&e)))?;
    serde_json::from_slice(&body)
        .map_err(|_| Failure::new(Cause::Protocol, format!("{path} is not valid JSON")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platforms_parse_and_match() {
        let arm64: Platform = "linux/arm64".parse().unwrap();
        let arm64_v8: Platform = "linux/arm64/v8".parse().unwrap();
        assert!(arm64.satisfied_by(&arm64_v8));
        assert!(!arm64_v8.satisfied_by(&arm64));
        assert!(!"linux/amd64"
            .parse::<Platform>()
            .unwrap()
            .satisfied_by(&arm64));
        for bad in [
            "linux",
            "linux/",
            "/amd64",
            "linux/amd64/v8/x",
            "linux amd64",
        ] {
            assert!(bad.parse::<Platform>().is_err(), "{bad}");
        }
        assert_eq!(arm64_v8.to_string(), "linux/arm64/v8");
    }
}
