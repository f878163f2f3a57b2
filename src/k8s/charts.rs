//! Where Flux objects name Helm charts: HelmRelease `spec.chart` /
//! `spec.chartRef` (and the legacy `helm.fluxcd.io/v1` shape), and the
//! source objects they point at (HelmRepository, OCIRepository,
//! GitRepository, HelmChart).

use super::ObjectId;
use crate::source::Span;
use crate::yaml::Node;

/// A value as written, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub text: String,
    pub span: Span,
}

impl Written {
    fn at(map: &Node, key: &str) -> Option<Written> {
        let node = map.get(key)?;
        let text = node
            .scalar_text()
            .filter(|t| !t.is_empty() && !node.is_null())?;
        Some(Written {
            text: text.to_string(),
            span: node.span,
        })
    }
}

/// A reference to a source object (`sourceRef`, `chartRef`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRef {
    pub kind: String,
    pub name: String,
    /// `None`: the referring object's namespace.
    pub namespace: Option<String>,
    pub span: Span,
}

impl SourceRef {
    fn of(node: &Node) -> Option<SourceRef> {
        Some(SourceRef {
            kind: node.get("kind")?.scalar_text()?.to_string(),
            name: node.get("name")?.scalar_text()?.to_string(),
            namespace: node
                .get("namespace")
                .and_then(Node::scalar_text)
                .filter(|n| !n.is_empty())
                .map(str::to_string),
            span: node.span,
        })
    }

    /// `HelmRepository/flux-system/bitnami`, for messages.
    pub fn describe(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{} {ns}/{}", self.kind, self.name),
            None => format!("{} {}", self.kind, self.name),
        }
    }
}

/// How an object names the chart it deploys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChartSite {
    /// `spec.chart.spec.{chart, version, sourceRef}` (HelmRelease v2, HelmChart).
    Template {
        chart: Written,
        version: Option<Written>,
        source: SourceRef,
    },
    /// `spec.chartRef` to an OCIRepository or HelmChart.
    ChartRef { source: SourceRef },
    /// `helm.fluxcd.io/v1`: `spec.chart.{repository, name, version}`.
    Legacy {
        repository: Written,
        name: Written,
        version: Option<Written>,
    },
    /// An OCIRepository's own `spec.url` + `spec.ref`.
    Artifact(OciArtifact),
}

impl ChartSite {
    /// What a change to the site is measured by (spans left out).
    pub fn fingerprint(&self) -> String {
        match self {
            ChartSite::Template {
                chart,
                version,
                source,
            } => format!(
                "template|{}|{}|{}|{}|{:?}",
                chart.text,
                version.as_ref().map_or("", |v| &v.text),
                source.kind,
                source.name,
                source.namespace
            ),
            ChartSite::ChartRef { source } => {
                format!("ref|{}|{}|{:?}", source.kind, source.name, source.namespace)
            }
            ChartSite::Legacy {
                repository,
                name,
                version,
            } => format!(
                "legacy|{}|{}|{}",
                repository.text,
                name.text,
                version.as_ref().map_or("", |v| &v.text)
            ),
            ChartSite::Artifact(artifact) => artifact.fingerprint(),
        }
    }
}

/// An OCIRepository: `spec.url` and what `spec.ref` selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OciArtifact {
    pub url: Written,
    pub selector: Option<OciSelector>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OciSelector {
    Tag(Written),
    Semver(Written),
    Digest(Written),
}

impl OciArtifact {
    fn of(root: &Node) -> Option<OciArtifact> {
        let spec = root.get("spec")?;
        let url = Written::at(spec, "url")?;
        let selector = spec.get("ref").and_then(|r| {
            // Flux's precedence: digest, then semver, then tag.
            Written::at(r, "digest")
                .map(OciSelector::Digest)
                .or_else(|| Written::at(r, "semver").map(OciSelector::Semver))
                .or_else(|| Written::at(r, "tag").map(OciSelector::Tag))
        });
        Some(OciArtifact { url, selector })
    }

    fn fingerprint(&self) -> String {
        let selector = match &self.selector {
            None => String::new(),
            Some(OciSelector::Tag(w)) => format!("tag={}", w.text),
            Some(OciSelector::Semver(w)) => format!("semver={}", w.text),
            Some(OciSelector::Digest(w)) => format!("digest={}", w.text),
        };
        format!("artifact|{}|{selector}", self.url.text)
    }
}

/// A source object a chart can come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `spec.url`; `oci` for `type: oci` or an `oci://` URL.
    HelmRepository {
        url: Written,
        oci: bool,
    },
    OciRepository(OciArtifact),
    GitRepository {
        url: Written,
    },
    /// A HelmChart object: a chart template of its own.
    HelmChart(Box<ChartSite>),
}

const SOURCE_GROUP: &str = "source.toolkit.fluxcd.io";

/// The source a document defines, if it is one.
pub fn source_of(root: &Node, id: &ObjectId) -> Option<Source> {
    if id.group != SOURCE_GROUP {
        return None;
    }
    let spec = root.get("spec")?;
    match id.kind.as_str() {
        "HelmRepository" => {
            let url = Written::at(spec, "url")?;
            let oci = spec.get("type").and_then(Node::scalar_text) == Some("oci")
                || url.text.starts_with("oci://");
            Some(Source::HelmRepository { url, oci })
        }
        "OCIRepository" => OciArtifact::of(root).map(Source::OciRepository),
        "GitRepository" => Some(Source::GitRepository {
            url: Written::at(spec, "url")?,
        }),
        "HelmChart" => template(spec).map(|site| Source::HelmChart(Box::new(site))),
        _ => None,
    }
}

/// Where a document names a chart: a HelmRelease's chart, or an
/// OCIRepository's artifact (checked whenever it changes).
pub fn chart_site(root: &Node, id: &ObjectId) -> Option<ChartSite> {
    match (id.group.as_str(), id.kind.as_str()) {
        ("helm.toolkit.fluxcd.io", "HelmRelease") => {
            let spec = root.get("spec")?;
            if let Some(chart_ref) = spec.get("chartRef").and_then(SourceRef::of) {
                return Some(ChartSite::ChartRef { source: chart_ref });
            }
            template(spec.get("chart")?.get("spec")?)
        }
        ("helm.fluxcd.io", "HelmRelease") => {
            let chart = root.get("spec")?.get("chart")?;
            Some(ChartSite::Legacy {
                repository: Written::at(chart, "repository")?,
                name: Written::at(chart, "name")?,
                version: Written::at(chart, "version"),
            })
        }
        (SOURCE_GROUP, "OCIRepository") => OciArtifact::of(root).map(ChartSite::Artifact),
        _ => None,
    }
}

/// `{chart, version, sourceRef}`.
fn template(spec: &Node) -> Option<ChartSite> {
    Some(ChartSite::Template {
        chart: Written::at(spec, "chart")?,
        version: Written::at(spec, "version"),
        source: SourceRef::of(spec.get("sourceRef")?)?,
    })
}
