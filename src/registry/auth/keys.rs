//! Which `auths` / `credHelpers` keys designate a registry.
//!
//! `docker login` has written keys in several spellings over the years
//! (`ghcr.io`, `https://ghcr.io/v1/`, ...), and containers-auth.json adds
//! repository-scoped keys (`quay.io/org/app`), so keys are compared after
//! normalisation rather than as strings.

/// The Docker Hub host that image references are normalised to.
const DOCKER_HUB: &str = "docker.io";
/// Other hosts that are Docker Hub too.
const DOCKER_HUB_ALIASES: [&str; 2] = ["index.docker.io", "registry-1.docker.io"];
/// What Docker stores Docker Hub credentials under and asks helpers for.
pub(super) const DOCKER_HUB_SERVER: &str = "https://index.docker.io/v1/";

/// `host` lower-cased (host names are case-insensitive), with Docker Hub's
/// aliases folded to `docker.io`.
pub(super) fn canonical_host(host: &str) -> String {
    let host = host.to_ascii_lowercase();
    if DOCKER_HUB_ALIASES.contains(&host.as_str()) {
        DOCKER_HUB.to_string()
    } else {
        host
    }
}

/// The server URL a credential helper is asked for, as Docker asks it.
pub(super) fn helper_server_url(canonical: &str) -> String {
    if canonical == DOCKER_HUB {
        DOCKER_HUB_SERVER.to_string()
    } else {
        canonical.to_string()
    }
}

/// `key` without a leading `http://` or `https://`, and whether it had one.
fn strip_scheme(key: &str) -> (&str, bool) {
    for scheme in ["https://", "http://"] {
        if let Some(head) = key.get(..scheme.len()) {
            if head.eq_ignore_ascii_case(scheme) {
                return (&key[scheme.len()..], true);
            }
        }
    }
    (key, false)
}

/// How well a Docker config.json key matches the `canonical` registry host:
/// `Some(0)` for the exact spelling Docker writes, `Some(1)` for another
/// spelling of the same host, `None` for another registry. Docker compares
/// hosts only, so any path in the key (`/v1/`, `/v2/`, even `/org`) is ignored.
pub(super) fn docker_key_rank(key: &str, canonical: &str) -> Option<u8> {
    let key = key.trim();
    if key == helper_server_url(canonical) {
        return Some(0);
    }
    let (rest, _) = strip_scheme(key);
    let host = rest.split('/').next().unwrap_or_default();
    (canonical_host(host) == canonical).then_some(1)
}

/// How specifically a containers-auth.json key matches `canonical` +
/// `repository`: `Some(n)` with `n` the number of repository path components
/// in the key (0 for a host-only key), `None` when it does not match. As in
/// containers/image, a key with a scheme is a legacy host-only key.
pub(super) fn scoped_key_rank(key: &str, canonical: &str, repository: &str) -> Option<usize> {
    let (rest, had_scheme) = strip_scheme(key.trim());
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    if canonical_host(host) != canonical {
        return None;
    }
    let path = if had_scheme {
        ""
    } else {
        path.trim_end_matches('/')
    };
    if path.is_empty() {
        return Some(0);
    }
    // A prefix only counts at a component boundary: `org` must not serve
    // `organisation/app`.
    let scoped = repository == path
        || repository
            .strip_prefix(path)
            .is_some_and(|tail| tail.starts_with('/'));
    scoped.then(|| path.split('/').count())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_keys_in_every_form_docker_writes() {
        let cases: &[(&str, &str, Option<u8>)] = &[
            ("ghcr.io", "ghcr.io", Some(0)),
            ("https://ghcr.io", "ghcr.io", Some(1)),
            ("http://ghcr.io", "ghcr.io", Some(1)),
            ("https://ghcr.io/v1/", "ghcr.io", Some(1)),
            ("https://ghcr.io/v2/", "ghcr.io", Some(1)),
            ("HTTPS://GHCR.IO/v2/", "ghcr.io", Some(1)),
            ("ghcr.io/org", "ghcr.io", Some(1)),
            (" ghcr.io ", "ghcr.io", Some(0)),
            ("ghcr.io.evil.example", "ghcr.io", None),
            ("https://notghcr.io", "ghcr.io", None),
            ("https://ghcr.io:443", "ghcr.io", None),
            ("quay.io", "ghcr.io", None),
            ("", "ghcr.io", None),
            ("https://", "ghcr.io", None),
            ("http://127.0.0.1:5000", "127.0.0.1:5000", Some(1)),
            ("127.0.0.1:5000", "127.0.0.1:5000", Some(0)),
            ("127.0.0.1", "127.0.0.1:5000", None),
            ("localhost:5000", "127.0.0.1:5000", None),
        ];
        for (key, registry, want) in cases {
            assert_eq!(docker_key_rank(key, registry), *want, "{key} vs {registry}");
        }
    }

    #[test]
    fn docker_hub_aliases() {
        let hub = canonical_host("docker.io");
        let cases: &[(&str, Option<u8>)] = &[
            ("https://index.docker.io/v1/", Some(0)),
            ("index.docker.io", Some(1)),
            ("registry-1.docker.io", Some(1)),
            ("https://registry-1.docker.io/v2/", Some(1)),
            ("docker.io", Some(1)),
            ("https://docker.io", Some(1)),
            ("hub.docker.com", None),
            ("docker.com", None),
            ("index.docker.io.example", None),
        ];
        for (key, want) in cases {
            assert_eq!(docker_key_rank(key, &hub), *want, "{key}");
        }
        assert_eq!(canonical_host("Index.Docker.IO"), "docker.io");
        assert_eq!(canonical_host("registry-1.docker.io"), "docker.io");
        assert_eq!(helper_server_url("docker.io"), DOCKER_HUB_SERVER);
        assert_eq!(helper_server_url("ghcr.io"), "ghcr.io");
    }

    #[test]
    fn scoped_keys_match_at_component_boundaries() {
        let repo = "organisation/app";
        let cases: &[(&str, &str, &str, Option<usize>)] = &[
            ("quay.io", "quay.io", repo, Some(0)),
            ("quay.io/organisation", "quay.io", repo, Some(1)),
            ("quay.io/organisation/", "quay.io", repo, Some(1)),
            ("quay.io/organisation/app", "quay.io", repo, Some(2)),
            ("quay.io/org", "quay.io", repo, None),
            ("quay.io/organisation/ap", "quay.io", repo, None),
            ("quay.io/organisation/app2", "quay.io", repo, None),
            ("quay.io/organisation/app/sub", "quay.io", repo, None),
            ("quay.io/app", "quay.io", repo, None),
            ("ghcr.io/organisation", "quay.io", repo, None),
            ("https://quay.io/org", "quay.io", repo, Some(0)),
            ("http://quay.io", "quay.io", repo, Some(0)),
            (
                "docker.io/library/nginx",
                "docker.io",
                "library/nginx",
                Some(2),
            ),
            (
                "registry-1.docker.io/library",
                "docker.io",
                "library/nginx",
                Some(1),
            ),
            (
                "https://index.docker.io/v1/",
                "docker.io",
                "library/nginx",
                Some(0),
            ),
            ("docker.io/library", "docker.io", "libraryx/nginx", None),
            ("localhost:5000/team", "localhost:5000", "team/app", Some(1)),
            ("localhost/team", "localhost:5000", "team/app", None),
        ];
        for (key, registry, repository, want) in cases {
            assert_eq!(
                scoped_key_rank(key, registry, repository),
                *want,
                "{key} vs {registry}/{repository}"
            );
        }
    }
}
