//! The lookup order: within the Docker config, and across the three files.

use super::*;

#[tokio::test]
async fn every_docker_key_form_serves_the_registry() {
    let keys = [
        "ghcr.io",
        "https://ghcr.io",
        "http://ghcr.io",
        "https://ghcr.io/v1/",
        "https://ghcr.io/v2/",
    ];
    for key in keys {
        let fx = Fixture::new();
        let sources = fx.sources(Some(&auths_basic(key, "u", "p")), None, None);
        let got = found(&sources, "ghcr.io", "org/app").await.expect(key);
        assert_eq!(got.credential, basic("u", "p"));
        assert!(
            got.source.ends_with(&format!("auths[{key}]")),
            "{}",
            got.source
        );
        assert_eq!(found(&sources, "ghcr.io.example", "org/app").await, None);
    }
}

#[tokio::test]
async fn docker_hub_is_found_under_all_its_names() {
    let keys = [
        "https://index.docker.io/v1/",
        "index.docker.io",
        "registry-1.docker.io",
        "docker.io",
    ];
    for key in keys {
        let fx = Fixture::new();
        let sources = fx.sources(Some(&auths_basic(key, "hub", "p")), None, None);
        for registry in ["docker.io", "index.docker.io"] {
            let got = found(&sources, registry, "library/nginx").await.expect(key);
            assert_eq!(got.credential, basic("hub", "p"), "{key} for {registry}");
        }
    }
}

#[tokio::test]
async fn exact_spelling_wins_then_key_order() {
    let fx = Fixture::new();
    let json = format!(
        r#"{{"auths": {{"https://ghcr.io": {{"auth": "{}"}}, "ghcr.io": {{"auth": "{}"}}}}}}"#,
        encode(b"scheme:1"),
        encode(b"exact:2")
    );
    let sources = fx.sources(Some(&json), None, None);
    let got = found(&sources, "ghcr.io", "a/b").await.expect("found");
    assert_eq!(got.credential, basic("exact", "2"));
    let json = format!(
        r#"{{"auths": {{"https://ghcr.io/v2/": {{"auth": "{}"}}, "http://ghcr.io": {{"auth": "{}"}}}}}}"#,
        encode(b"v2:1"),
        encode(b"http:2")
    );
    let sources = fx.sources(Some(&json), None, None);
    let got = found(&sources, "ghcr.io", "a/b").await.expect("found");
    assert_eq!(got.credential, basic("http", "2"));
}

#[tokio::test]
async fn empty_entry_defers_to_creds_store() {
    let fx = Fixture::new();
    fx.helper("store", &answering("from-store", "s"));
    let json = r#"{"auths": {"ghcr.io": {}}, "credsStore": "store"}"#;
    let sources = fx.sources(Some(json), None, None);
    let got = found(&sources, "ghcr.io", "a/b").await.expect("found");
    assert_eq!(got.credential, basic("from-store", "s"));
    assert!(
        got.source
            .starts_with("credential helper docker-credential-store (credsStore in "),
        "{}",
        got.source
    );
    // An inline credential under another spelling beats the empty entry.
    let json = format!(
        r#"{{"auths": {{"ghcr.io": {{}}, "https://ghcr.io": {{"auth": "{}"}}}}, "credsStore": "store"}}"#,
        encode(b"inline:p")
    );
    let sources = fx.sources(Some(&json), None, None);
    let got = found(&sources, "ghcr.io", "a/b").await.expect("found");
    assert_eq!(got.credential, basic("inline", "p"));
}

#[tokio::test]
async fn empty_entry_without_store_falls_through() {
    let fx = Fixture::new();
    let docker = r#"{"auths": {"ghcr.io": {}}}"#;
    let sources = fx.sources(Some(docker), None, None);
    assert_eq!(found(&sources, "ghcr.io", "a/b").await, None);
    let raf = auths_basic("ghcr.io", "raf", "p");
    let sources = fx.sources(Some(docker), Some(&raf), None);
    let got = found(&sources, "ghcr.io", "a/b").await.expect("found");
    assert_eq!(got.credential, basic("raf", "p"));
}

#[tokio::test]
async fn cred_helpers_take_precedence_over_auths_and_store() {
    let fx = Fixture::new();
    fx.helper("gh", &answering("from-gh", "g"));
    fx.helper("store", &answering("from-store", "s"));
    let json = format!(
        r#"{{"credHelpers": {{"ghcr.io": "gh"}}, "credsStore": "store",
            "auths": {{"ghcr.io": {{"auth": "{0}"}}, "quay.io": {{"auth": "{0}"}}}}}}"#,
        encode(b"inline:p")
    );
    let sources = fx.sources(Some(&json), None, None);
    let got = found(&sources, "ghcr.io", "a/b").await.expect("ghcr");
    assert_eq!(got.credential, basic("from-gh", "g"));
    assert!(
        got.source
            .contains("docker-credential-gh (credHelpers[ghcr.io] in "),
        "{}",
        got.source
    );
    let got = found(&sources, "quay.io", "a/b").await.expect("quay");
    assert_eq!(got.credential, basic("inline", "p"));
    let got = found(&sources, "docker.io", "library/x")
        .await
        .expect("hub");
    assert_eq!(got.credential, basic("from-store", "s"));
}

#[tokio::test]
async fn helper_with_nothing_falls_through_to_auths() {
    let fx = Fixture::new();
    fx.helper(
        "empty",
        "echo 'credentials not found in native keychain'; exit 1",
    );
    let json = format!(
        r#"{{"credHelpers": {{"https://ghcr.io": "empty"}}, "auths": {{"ghcr.io": {{"auth": "{}"}}}}}}"#,
        encode(b"inline:p")
    );
    let sources = fx.sources(Some(&json), None, None);
    let got = found(&sources, "ghcr.io", "a/b").await.expect("found");
    assert_eq!(got.credential, basic("inline", "p"));
}

#[tokio::test]
async fn docker_config_then_registry_auth_file_then_podman() {
    let docker = auths_basic("quay.io", "docker", "1");
    let raf = auths_basic("quay.io/org/app", "raf", "2");
    let podman = auths_basic("quay.io/org/app", "podman", "3");
    let other = auths_basic("elsewhere.io", "x", "y");
    let cases = [
        (
            Some(&docker),
            Some(&raf),
            Some(&podman),
            Some(basic("docker", "1")),
        ),
        (
            Some(&other),
            Some(&raf),
            Some(&podman),
            Some(basic("raf", "2")),
        ),
        (
            None,
            Some(&other),
            Some(&podman),
            Some(basic("podman", "3")),
        ),
        (Some(&other), None, None, None),
    ];
    for (i, (d, r, p, want)) in cases.into_iter().enumerate() {
        let fx = Fixture::new();
        let sources = fx.sources(
            d.map(String::as_str),
            r.map(String::as_str),
            p.map(String::as_str),
        );
        let got = found(&sources, "quay.io", "org/app").await;
        assert_eq!(got.map(|f| f.credential), want, "case {i}");
    }
}

#[tokio::test]
async fn most_specific_auth_file_key_wins() {
    let entry = |user: &str| {
        format!(
            r#"{{"auth": "{}"}}"#,
            encode(format!("{user}:p").as_bytes())
        )
    };
    let json = format!(
        r#"{{"auths": {{"quay.io": {}, "quay.io/org": {}, "quay.io/organisation/app": {}, "quay.io/organisation/app/": {{}}}}}}"#,
        entry("host"),
        entry("org"),
        entry("app")
    );
    let fx = Fixture::new();
    let sources = fx.sources(None, Some(&json), None);
    let cases = [
        ("organisation/app", "app", "quay.io/organisation/app"),
        ("organisation/app/sub", "app", "quay.io/organisation/app"),
        ("organisation/other", "host", "quay.io"),
        ("org/app", "org", "quay.io/org"),
        ("orgx/app", "host", "quay.io"),
    ];
    for (repository, user, key) in cases {
        let got = found(&sources, "quay.io", repository)
            .await
            .expect(repository);
        assert_eq!(got.credential, basic(user, "p"), "{repository}");
        assert!(
            got.source.ends_with(&format!("auths[{key}]")),
            "{}",
            got.source
        );
    }
    assert_eq!(found(&sources, "ghcr.io", "organisation/app").await, None);
}

#[tokio::test]
async fn docker_config_ignores_key_paths_like_docker() {
    let fx = Fixture::new();
    let sources = fx.sources(Some(&auths_basic("ghcr.io/org", "u", "p")), None, None);
    let got = found(&sources, "ghcr.io", "other/app")
        .await
        .expect("host match");
    assert_eq!(got.credential, basic("u", "p"));
}
