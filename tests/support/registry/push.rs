//! Seeding a `TestRegistry` from `OciLayout`s with `skopeo copy`, as OCI
//! (digests preserved) or converted to Docker schema2 / manifest list, and
//! reading back the digest the registry serves for a reference.

use std::path::PathBuf;

use serde_json::Value;

use super::http::{HttpResponse, Request};
use super::oci::OciLayout;
use super::server::{TestRegistry, SKOPEO_POLICY_FILE};
use super::tools::{self, SKOPEO};

/// Manifest format written to the registry by `TestRegistry::push_as`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PushFormat {
    /// Byte-for-byte the layout's OCI manifest / index (`--preserve-digests`):
    /// the registry serves `layout.digest()`.
    Oci,
    /// Docker schema2 manifest (`--format v2s2`), and for an index a Docker
    /// manifest list. Layers get gzipped, so digests differ from the layout's.
    DockerV2s2,
}

/// Splits `name:tag` or `name@sha256:...` into `(name, tag-or-digest)`.
pub fn split_reference(reference: &str) -> (&str, &str) {
    if let Some((name, digest)) = reference.split_once('@') {
        return (name, digest);
    }
    match reference.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => (name, tag),
        _ => (reference, "latest"),
    }
}

impl TestRegistry {
    /// Pushes `layout` unchanged to `reference` (`org/app:v1`), all platforms
    /// of an index included; returns the digest the registry now serves for
    /// it, which equals `layout.digest()`.
    pub fn push(&self, layout: &OciLayout, reference: &str) -> String {
        self.push_as(layout, reference, PushFormat::Oci)
    }

    /// Pushes `layout` under each of `references`.
    pub fn push_all(&self, layout: &OciLayout, references: &[&str]) {
        for reference in references {
            self.push(layout, reference);
        }
    }

    /// Pushes `layout` as a Docker schema2 image (single-arch layout) or
    /// Docker manifest list (index layout); returns the served digest.
    pub fn push_docker(&self, layout: &OciLayout, reference: &str) -> String {
        self.push_as(layout, reference, PushFormat::DockerV2s2)
    }

    /// Pushes with `skopeo copy` in the given format; returns the digest the
    /// registry serves for `reference` afterwards.
    pub fn push_as(&self, layout: &OciLayout, reference: &str, format: PushFormat) -> String {
        let mut cmd = SKOPEO.command();
        cmd.args(["copy", "--quiet", "--retry-times", "0", "--policy"])
            .arg(self.skopeo_policy());
        if layout.is_index() {
            cmd.arg("--all");
        }
        match format {
            PushFormat::Oci => cmd.args(["--preserve-digests", "--format", "oci"]),
            PushFormat::DockerV2s2 => cmd.args(["--format", "v2s2"]),
        };
        cmd.args(self.skopeo_dest_args())
            .arg(layout.skopeo_ref())
            .arg(format!("docker://{}/{reference}", self.host()));
        tools::run(&mut cmd, &format!("skopeo: push {reference} as {format:?}"));
        self.manifest_digest(reference)
            .unwrap_or_else(|| panic!("registry does not serve {reference} right after pushing it"))
    }

    /// skopeo flags to use this registry as a destination: TLS trust
    /// (`--dest-cert-dir`) or `--dest-tls-verify=false`, and credentials.
    pub fn skopeo_dest_args(&self) -> Vec<String> {
        self.skopeo_args("dest")
    }

    /// Same as `skopeo_dest_args` for a source (`--src-...`).
    pub fn skopeo_src_args(&self) -> Vec<String> {
        self.skopeo_args("src")
    }

    fn skopeo_args(&self, side: &str) -> Vec<String> {
        let mut args = Vec::new();
        match &self.tls {
            Some(tls) => {
                args.push(format!("--{side}-cert-dir={}", tls.cert_dir.display()));
                args.push(format!("--{side}-tls-verify=true"));
            }
            None => args.push(format!("--{side}-tls-verify=false")),
        }
        match self.credentials() {
            Some((user, password)) => args.push(format!("--{side}-creds={user}:{password}")),
            None => args.push(format!("--{side}-no-creds")),
        }
        args
    }

    /// A signature policy accepting anything (so a missing or strict
    /// /etc/containers/policy.json does not matter); written at start.
    pub fn skopeo_policy(&self) -> PathBuf {
        self.dir.path().join(SKOPEO_POLICY_FILE)
    }

    /// `HEAD /v2/<name>/manifests/<ref>` with all four manifest media types
    /// accepted, the registry's credentials and CA.
    pub fn head_manifest(&self, reference: &str) -> HttpResponse {
        let (name, tag) = split_reference(reference);
        self.send(
            &Request::new("HEAD", &format!("/v2/{name}/manifests/{tag}")).accept_all_manifests(),
        )
    }

    /// Same as `head_manifest` with GET (body = the manifest bytes).
    pub fn get_manifest(&self, reference: &str) -> HttpResponse {
        let (name, tag) = split_reference(reference);
        self.send(
            &Request::new("GET", &format!("/v2/{name}/manifests/{tag}")).accept_all_manifests(),
        )
    }

    /// `Docker-Content-Digest` the registry serves for `reference`, or `None`
    /// when it answers 404.
    pub fn manifest_digest(&self, reference: &str) -> Option<String> {
        let response = self.head_manifest(reference);
        match response.status {
            200 => Some(
                response
                    .header("Docker-Content-Digest")
                    .expect("HEAD manifest without Docker-Content-Digest")
                    .to_string(),
            ),
            404 => None,
            other => panic!("HEAD manifest {reference}: unexpected status {other}: {response:?}"),
        }
    }

    /// For an index / manifest list: `("os/arch[/variant]", digest)` of each
    /// entry, as served. Empty for a single image.
    pub fn platform_digests(&self, reference: &str) -> Vec<(String, String)> {
        let response = self.get_manifest(reference);
        assert_eq!(
            response.status, 200,
            "GET manifest {reference}: {response:?}"
        );
        let doc: Value = serde_json::from_slice(&response.body).expect("manifest is JSON");
        let entries = doc["manifests"].as_array().cloned().unwrap_or_default();
        entries
            .iter()
            .map(|m| {
                let p = &m["platform"];
                let mut platform = format!(
                    "{}/{}",
                    p["os"].as_str().unwrap_or("?"),
                    p["architecture"].as_str().unwrap_or("?")
                );
                if let Some(variant) = p["variant"].as_str() {
                    platform = format!("{platform}/{variant}");
                }
                (
                    platform,
                    m["digest"].as_str().expect("entry digest").to_string(),
                )
            })
            .collect()
    }

    /// Points tag `new_reference` (`name:tag`, same or other repository in
    /// which the blobs exist) at the manifest served for `reference`; returns
    /// the digest, which is unchanged.
    pub fn tag(&self, reference: &str, new_reference: &str) -> String {
        let manifest = self.get_manifest(reference);
        assert_eq!(
            manifest.status, 200,
            "GET manifest {reference}: {manifest:?}"
        );
        let content_type = manifest
            .header("Content-Type")
            .expect("manifest Content-Type");
        let (name, tag) = split_reference(new_reference);
        let put = self.send(
            &Request::new("PUT", &format!("/v2/{name}/manifests/{tag}"))
                .header("Content-Type", content_type)
                .body(manifest.body.clone()),
        );
        assert_eq!(put.status, 201, "PUT manifest {new_reference}: {put:?}");
        self.manifest_digest(new_reference)
            .expect("tag just written")
    }

    /// Deletes the manifest `name@sha256:...` (and so every tag pointing to
    /// it); returns the HTTP status (202 when deleted).
    pub fn delete_manifest(&self, name: &str, digest: &str) -> u16 {
        self.send(&Request::new(
            "DELETE",
            &format!("/v2/{name}/manifests/{digest}"),
        ))
        .status
    }
}
