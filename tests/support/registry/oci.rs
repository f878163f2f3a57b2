//! `OciLayout`: writes real OCI image layout directories (`oci-layout`,
//! `index.json`, `blobs/sha256/...`) from scratch, to be pushed into a
//! `TestRegistry`: single-arch images, multi-arch indexes and a Helm chart
//! artifact. Content is deterministic, so equal inputs give equal digests.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use tempfile::TempDir;

use super::archive::{gzip_stored, sha256_digest, tar};
use super::media;

/// A content descriptor (`mediaType`, `digest`, `size`, optional platform).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Descriptor {
    pub media_type: String,
    pub digest: String,
    pub size: u64,
    /// `(os, architecture, variant)` for entries of an index.
    pub platform: Option<(String, String, Option<String>)>,
}

impl Descriptor {
    fn to_json(&self) -> Value {
        let mut v =
            json!({ "mediaType": self.media_type, "digest": self.digest, "size": self.size });
        if let Some((os, arch, variant)) = &self.platform {
            let mut p = json!({ "architecture": arch, "os": os });
            if let Some(variant) = variant {
                p["variant"] = json!(variant);
            }
            v["platform"] = p;
        }
        v
    }
}

/// An OCI image layout on disk (removed on drop) and what its top-level
/// manifest is. `digest()` is what a registry reports for the tag after a
/// digest-preserving push (`TestRegistry::push`).
#[derive(Debug)]
pub struct OciLayout {
    dir: TempDir,
    top: Descriptor,
    children: Vec<Descriptor>,
}

/// Tag under which the top-level manifest is recorded in `index.json`
/// (annotation `org.opencontainers.image.ref.name`).
pub const LAYOUT_REF: &str = "latest";

impl OciLayout {
    /// A single-arch OCI image: one uncompressed tar layer holding
    /// `/etc/fluxgate-test` with text naming the platform.
    pub fn image(os: &str, arch: &str) -> OciLayout {
        let text = format!("fluxgate test image {os}/{arch}\n");
        Self::image_with_file(os, arch, "etc/fluxgate-test", text.as_bytes())
    }

    /// A single-arch OCI image whose layer holds one file `path` (relative,
    /// no leading `/`) with `contents`; use different contents for images
    /// that must have different digests.
    pub fn image_with_file(os: &str, arch: &str, path: &str, contents: &[u8]) -> OciLayout {
        let layout = Writer::new();
        let top = layout.image(os, arch, None, path, contents);
        layout.finish(top, Vec::new())
    }

    /// A multi-arch OCI image index for linux/amd64 and linux/arm64 (variant v8).
    pub fn multi_arch() -> OciLayout {
        Self::index(&[("linux", "amd64", None), ("linux", "arm64", Some("v8"))])
    }

    /// An OCI image index with one image per `(os, arch, variant)`.
    pub fn index(platforms: &[(&str, &str, Option<&str>)]) -> OciLayout {
        let layout = Writer::new();
        let children: Vec<Descriptor> = platforms
            .iter()
            .map(|&(os, arch, variant)| {
                let plat = match variant {
                    Some(v) => format!("{os}/{arch}/{v}"),
                    None => format!("{os}/{arch}"),
                };
                let text = format!("fluxgate test image {plat}\n");
                layout.image(os, arch, variant, "etc/fluxgate-test", text.as_bytes())
            })
            .collect();
        let manifests: Vec<Value> = children.iter().map(Descriptor::to_json).collect();
        let index = json!({
            "schemaVersion": 2,
            "mediaType": media::OCI_INDEX,
            "manifests": manifests,
        });
        let top = layout.json_blob(media::OCI_INDEX, &index);
        layout.finish(top, children)
    }

    /// A Helm chart pushed as an OCI artifact, the way `helm push` does:
    /// config `application/vnd.cncf.helm.config.v1+json`, one layer
    /// `application/vnd.cncf.helm.chart.content.v1.tar+gzip` (a real .tgz
    /// holding `<name>/Chart.yaml`).
    pub fn helm_chart(name: &str, version: &str) -> OciLayout {
        Self::helm_chart_with_values(name, version, None)
    }

    /// [`helm_chart`](Self::helm_chart) whose archive also holds
    /// `<name>/values.yaml` (the chart's default values), when given.
    pub fn helm_chart_with_values(name: &str, version: &str, values: Option<&str>) -> OciLayout {
        let layout = Writer::new();
        let config =
            json!({ "apiVersion": "v2", "name": name, "version": version, "type": "application" });
        let config = layout.json_blob(media::HELM_CONFIG, &config);
        let chart_yaml =
            format!("apiVersion: v2\nname: {name}\nversion: {version}\ntype: application\n");
        let tgz = helm_chart_archive(name, &chart_yaml, values);
        let layer = layout.blob(media::HELM_CHART_LAYER, &tgz);
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": media::OCI_MANIFEST,
            "config": config.to_json(),
            "layers": [layer.to_json()],
            "annotations": {
                "org.opencontainers.image.title": name,
                "org.opencontainers.image.version": version,
            },
        });
        let top = layout.json_blob(media::OCI_MANIFEST, &manifest);
        layout.finish(top, Vec::new())
    }

    /// Layout directory (the thing `skopeo copy oci:<dir>` reads).
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// skopeo source reference, e.g. `oci:/tmp/.tmpX:latest`.
    pub fn skopeo_ref(&self) -> String {
        format!("oci:{}:{LAYOUT_REF}", self.path().display())
    }

    /// Digest of the top-level manifest or index (`sha256:...`).
    pub fn digest(&self) -> &str {
        &self.top.digest
    }

    /// Media type of the top-level manifest (OCI manifest or OCI index).
    pub fn media_type(&self) -> &str {
        &self.top.media_type
    }

    /// Descriptor of the top-level manifest as recorded in `index.json`.
    pub fn descriptor(&self) -> &Descriptor {
        &self.top
    }

    /// True when the top level is an image index (multi-arch).
    pub fn is_index(&self) -> bool {
        self.top.media_type == media::OCI_INDEX
    }

    /// Per-platform image manifests of an index (empty for single images).
    pub fn children(&self) -> &[Descriptor] {
        &self.children
    }

    /// Raw bytes of any blob in the layout, e.g. the top-level manifest.
    pub fn blob(&self, digest: &str) -> Vec<u8> {
        fs::read(blob_path(self.path(), digest)).expect("read blob from OCI layout")
    }
}

fn blob_path(root: &Path, digest: &str) -> PathBuf {
    let hex = digest.strip_prefix("sha256:").expect("sha256 digest");
    root.join("blobs").join("sha256").join(hex)
}

/// Writes blobs into a fresh layout directory.
struct Writer {
    dir: TempDir,
}

impl Writer {
    fn new() -> Writer {
        let dir = tempfile::Builder::new()
            .prefix("fluxgate-oci-")
            .tempdir()
            .expect("create OCI layout dir");
        fs::create_dir_all(dir.path().join("blobs/sha256")).expect("create blobs dir");
        Writer { dir }
    }

    fn blob(&self, media_type: &str, bytes: &[u8]) -> Descriptor {
        let digest = sha256_digest(bytes);
        fs::write(blob_path(self.dir.path(), &digest), bytes).expect("write blob");
        Descriptor {
            media_type: media_type.to_string(),
            digest,
            size: bytes.len() as u64,
            platform: None,
        }
    }

    fn json_blob(&self, media_type: &str, value: &Value) -> Descriptor {
        self.blob(
            media_type,
            &serde_json::to_vec(value).expect("serialize JSON"),
        )
    }

    /// Layer + config + manifest of one image; returns the manifest descriptor
    /// with its platform set.
    fn image(
        &self,
        os: &str,
        arch: &str,
        variant: Option<&str>,
        path: &str,
        contents: &[u8],
    ) -> Descriptor {
        let layer = self.blob(media::OCI_LAYER_TAR, &tar(&[(path, contents)]));
        let mut config = json!({
            "created": "1970-01-01T00:00:00Z",
            "architecture": arch,
            "os": os,
            "config": { "Env": ["PATH=/usr/local/bin:/usr/bin:/bin"] },
            "rootfs": { "type": "layers", "diff_ids": [layer.digest] },
            "history": [{ "created": "1970-01-01T00:00:00Z", "created_by": "fluxgate test harness" }],
        });
        if let Some(variant) = variant {
            config["variant"] = json!(variant);
        }
        let config = self.json_blob(media::OCI_CONFIG, &config);
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": media::OCI_MANIFEST,
            "config": config.to_json(),
            "layers": [layer.to_json()],
        });
        let mut desc = self.json_blob(media::OCI_MANIFEST, &manifest);
        desc.platform = Some((
            os.to_string(),
            arch.to_string(),
            variant.map(str::to_string),
        ));
        desc
    }

    fn finish(self, top: Descriptor, children: Vec<Descriptor>) -> OciLayout {
        let mut entry = Descriptor {
            platform: None,
            ..top.clone()
        }
        .to_json();
        entry["annotations"] = json!({ "org.opencontainers.image.ref.name": LAYOUT_REF });
        let index =
            json!({ "schemaVersion": 2, "mediaType": media::OCI_INDEX, "manifests": [entry] });
        let root = self.dir.path();
        fs::write(
            root.join("oci-layout"),
            br#"{"imageLayoutVersion":"1.0.0"}"#,
        )
        .expect("write oci-layout");
        fs::write(
            root.join("index.json"),
            serde_json::to_vec(&index).expect("serialize index.json"),
        )
        .expect("write index.json");
        OciLayout {
            dir: self.dir,
            top: Descriptor {
                platform: None,
                ..top
            },
            children,
        }
    }
}

/// A chart's `.tgz` as `helm package` lays it out: `<name>/Chart.yaml`
/// and, when given, `<name>/values.yaml`.
pub fn helm_chart_archive(name: &str, chart_yaml: &str, values: Option<&str>) -> Vec<u8> {
    let values = values.map(|v| ("values.yaml", v.as_bytes()));
    helm_chart_archive_with(name, chart_yaml, values.as_slice())
}

/// The same with more files (`values.yaml`, `charts/redis-1.0.0.tgz`),
/// named inside the chart's directory.
pub fn helm_chart_archive_with(name: &str, chart_yaml: &str, more: &[(&str, &[u8])]) -> Vec<u8> {
    let names: Vec<String> = more
        .iter()
        .map(|(path, _)| format!("{name}/{path}"))
        .collect();
    let chart_entry = format!("{name}/Chart.yaml");
    let mut files: Vec<(&str, &[u8])> = vec![(&chart_entry, chart_yaml.as_bytes())];
    files.extend(
        names
            .iter()
            .zip(more)
            .map(|(path, (_, data))| (path.as_str(), *data)),
    );
    gzip_stored(&tar(&files))
}
