//! Where a reference is fetched from: registry rewrites from the
//! `registries:` configuration (modelled on containers-registries.conf),
//! Docker Hub's API host, and whether plain HTTP is allowed.

use crate::image::ImageRef;

/// One `registries:` entry, validated.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RegistryRule {
    /// `host` or `host/path`: matches references under it, at a path-component boundary.
    pub prefix: String,
    /// Replaces `prefix` when fetching (a mirror, or a test registry).
    pub location: Option<String>,
    /// Allows plain HTTP and unverified TLS for this registry.
    pub insecure: bool,
    /// Extra trust roots (PEM) for this registry.
    pub ca_pem: Option<Vec<u8>>,
    /// Where `ca_pem` came from, for messages.
    pub ca_file: Option<String>,
}

/// Where one reference is fetched from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `host[:port]` the API requests go to.
    pub host: String,
    /// The repository path on that host.
    pub repository: String,
    /// The registry name credentials are looked up for (`docker.io`, not its API host).
    pub auth_registry: String,
    /// Plain HTTP may be tried (loopback, or marked insecure).
    pub allow_http: bool,
    /// TLS certificates are not verified (marked insecure).
    pub insecure: bool,
    /// Which TLS profile (trust roots) to use: an index into [`Endpoints::tls_profiles`].
    pub tls_profile: usize,
}

/// The registries configuration, ready to resolve references.
#[derive(Debug, Clone, Default)]
pub struct Endpoints {
    rules: Vec<RegistryRule>,
}

/// Trust settings of one HTTP client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsProfile {
    pub ca_pem: Option<Vec<u8>>,
    pub ca_file: Option<String>,
    pub insecure: bool,
}

impl Endpoints {
    pub fn new(rules: Vec<RegistryRule>) -> Self {
        Endpoints { rules }
    }

    /// The TLS profiles: 0 is the default (system roots); then one per rule.
    pub fn tls_profiles(&self) -> Vec<TlsProfile> {
        std::iter::once(TlsProfile {
            ca_pem: None,
            ca_file: None,
            insecure: false,
        })
        .chain(self.rules.iter().map(|r| TlsProfile {
            ca_pem: r.ca_pem.clone(),
            ca_file: r.ca_file.clone(),
            insecure: r.insecure,
        }))
        .collect()
    }

    pub fn resolve(&self, reference: &ImageRef) -> Endpoint {
        let name = format!("{}/{}", reference.registry, reference.repository);
        let matched = self
            .rules
            .iter()
            .enumerate()
            .filter(|(_, rule)| under_prefix(&name, &rule.prefix))
            .max_by_key(|(_, rule)| rule.prefix.len());
        let (rewritten, rule_index) = match matched {
            Some((index, rule)) => {
                let rest = &name[rule.prefix.len()..];
                let location = rule.location.as_deref().unwrap_or(&rule.prefix);
                (
                    format!("{}{rest}", location.trim_end_matches('/')),
                    Some(index),
                )
            }
            None => (name, None),
        };
        let (registry, repository) = rewritten
            .split_once('/')
            .map_or((rewritten.as_str(), ""), |(h, r)| (h, r));
        let rule = rule_index.map(|i| &self.rules[i]);
        let insecure = rule.is_some_and(|r| r.insecure);
        Endpoint {
            host: api_host(registry).to_string(),
            repository: repository.to_string(),
            auth_registry: registry.to_string(),
            allow_http: insecure || is_loopback(registry),
            insecure,
            tls_profile: rule_index.map_or(0, |i| i + 1),
        }
    }
}

impl Endpoints {
    /// The TLS profile for a URL outside the registry API (a Helm
    /// repository): the rule whose prefix names the URL's host, if any.
    pub fn profile_for_url(&self, url: &str) -> usize {
        let host = url
            .split_once("://")
            .map_or(url, |(_, rest)| rest)
            .split('/')
            .next()
            .unwrap_or_default();
        self.rules
            .iter()
            .position(|rule| rule.prefix.split('/').next() == Some(host))
            .map_or(0, |i| i + 1)
    }
}

fn under_prefix(name: &str, prefix: &str) -> bool {
    let prefix = prefix.trim_end_matches('/');
    name == prefix || (name.starts_with(prefix) && name[prefix.len()..].starts_with('/'))
}

/// Docker Hub serves its API from another host than its name.
fn api_host(registry: &str) -> &str {
    match registry {
        "docker.io" | "index.docker.io" => "registry-1.docker.io",
        other => other,
    }
}

/// Whether a registry host is on this machine: plain HTTP is allowed there
/// without configuration, as Docker allows it.
pub fn is_loopback(host_port: &str) -> bool {
    let host = if let Some(rest) = host_port.strip_prefix('[') {
        rest.split(']').next().unwrap_or_default()
    } else {
        host_port.rsplit_once(':').map_or(host_port, |(h, _)| h)
    };
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(rules: Vec<RegistryRule>, reference: &str) -> Endpoint {
        Endpoints::new(rules).resolve(&ImageRef::parse(reference).unwrap())
    }

    #[test]
    fn docker_hub_uses_its_api_host_and_keeps_its_name_for_credentials() {
        let e = endpoint(vec![], "nginx:1.25");
        assert_eq!(e.host, "registry-1.docker.io");
        assert_eq!(e.repository, "library/nginx");
        assert_eq!(e.auth_registry, "docker.io");
        assert!(!e.allow_http);
    }

    #[test]
    fn rules_rewrite_by_longest_prefix_at_component_boundaries() {
        let rules = vec![
            RegistryRule {
                prefix: "docker.io".into(),
                location: Some("mirror.example.com/hub".into()),
                ..Default::default()
            },
            RegistryRule {
                prefix: "docker.io/library".into(),
                location: Some("127.0.0.1:5000/lib".into()),
                ..Default::default()
            },
        ];
        let e = endpoint(rules.clone(), "nginx");
        assert_eq!(
            (e.host.as_str(), e.repository.as_str()),
            ("127.0.0.1:5000", "lib/nginx")
        );
        assert!(e.allow_http);
        assert_eq!(e.tls_profile, 2);
        let e = endpoint(rules.clone(), "bitnami/redis");
        assert_eq!(
            (e.host.as_str(), e.repository.as_str()),
            ("mirror.example.com", "hub/bitnami/redis")
        );
        // `docker.io/libraryx` is not under `docker.io/library`.
        let e = endpoint(rules, "docker.io/libraryx/app");
        assert_eq!(e.repository, "hub/libraryx/app");
    }

    #[test]
    fn loopback_hosts_allow_plain_http() {
        for (host, loopback) in [
            ("127.0.0.1:5000", true),
            ("127.1.2.3", true),
            ("localhost:5000", true),
            ("[::1]:5000", true),
            ("localhost.example.com", false),
            ("10.0.0.1:5000", false),
            ("ghcr.io", false),
        ] {
            assert_eq!(is_loopback(host), loopback, "{host}");
        }
    }
}
