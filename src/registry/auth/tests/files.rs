//! Reading credential files: entry decoding, malformed files, and which
//! files the environment selects.

use super::super::{AuthError, AuthSources};
use super::*;
use std::collections::HashMap;
use std::ffi::OsString;

#[tokio::test]
async fn auth_field_decodes_at_the_first_colon() {
    let cases = [
        ("user", "pass", basic("user", "pass")),
        ("user", "pa:ss:", basic("user", "pa:ss:")),
        ("", "tokenonly", basic("", "tokenonly")),
        ("ünï", "pässwörd", basic("ünï", "pässwörd")),
    ];
    for (user, password, want) in cases {
        let fx = Fixture::new();
        let sources = fx.sources(Some(&auths_basic("ghcr.io", user, password)), None, None);
        let got = found(&sources, "ghcr.io", "org/app").await.expect("found");
        assert_eq!(got.credential, want, "{user}:{password}");
        assert!(
            got.source.ends_with("config.json auths[ghcr.io]"),
            "{}",
            got.source
        );
    }
}

#[tokio::test]
async fn username_and_password_fields() {
    let fx = Fixture::new();
    let json = r#"{"auths": {"ghcr.io": {"username": "me", "password": "pw"}}}"#;
    let sources = fx.sources(Some(json), None, None);
    let got = found(&sources, "ghcr.io", "a/b").await.expect("found");
    assert_eq!(got.credential, basic("me", "pw"));
    // Go's encoding/json matches field names case-insensitively; so do we.
    let json = r#"{"AUTHS": {"ghcr.io": {"Username": "me", "Password": "pw"}}}"#;
    let sources = fx.sources(Some(json), None, None);
    let got = found(&sources, "ghcr.io", "a/b").await.expect("found");
    assert_eq!(got.credential, basic("me", "pw"));
}

#[tokio::test]
async fn identity_tokens() {
    let auth = encode(b"from-auth:ignored");
    let cases = [
        (
            r#"{"identitytoken": "tok"}"#.to_string(),
            token("<token>", "tok"),
        ),
        (
            r#"{"identitytoken": "tok", "username": "me"}"#.to_string(),
            token("me", "tok"),
        ),
        (
            format!(r#"{{"identitytoken": "tok", "auth": "{auth}"}}"#),
            token("from-auth", "tok"),
        ),
        (
            r#"{"identitytoken": "", "username": "u", "password": "p"}"#.to_string(),
            basic("u", "p"),
        ),
    ];
    for (entry, want) in cases {
        let fx = Fixture::new();
        let json = format!(r#"{{"auths": {{"https://ghcr.io": {entry}}}}}"#);
        let sources = fx.sources(Some(&json), None, None);
        let got = found(&sources, "ghcr.io", "a/b").await.expect("found");
        assert_eq!(got.credential, want, "{entry}");
    }
}

#[tokio::test]
async fn bad_auth_values_name_the_file_and_key() {
    let cases: [(String, &str); 5] = [
        ("not base64!".to_string(), "is not valid base64"),
        ("dXNlcjpwYXNz=".to_string(), "is not valid base64"),
        (encode(b"no-colon-here"), "no ':'"),
        (encode(&[0xff, b':', b'x']), "UTF-8"),
        (encode(b"user"), "no ':'"),
    ];
    for (auth, problem) in cases {
        let fx = Fixture::new();
        let json = format!(r#"{{"auths": {{"https://ghcr.io/v1/": {{"auth": "{auth}"}}}}}}"#);
        let sources = fx.sources(Some(&json), None, None);
        // Other registries are unaffected by the bad entry.
        assert_eq!(found(&sources, "quay.io", "a/b").await, None);
        let error = sources
            .lookup("ghcr.io", "a/b")
            .await
            .expect_err("bad auth");
        assert!(matches!(error, AuthError::InvalidAuth { .. }), "{error:?}");
        let message = error.to_string();
        assert!(message.contains("config.json"), "{message}");
        assert!(
            message.contains("auths[https://ghcr.io/v1/].auth"),
            "{message}"
        );
        assert!(message.contains(problem), "{message}");
        assert!(!message.contains(&auth), "{message}");
    }
}

#[tokio::test]
async fn incomplete_entries_are_errors() {
    for entry in [r#"{"username": "me"}"#, r#"{"password": "pw"}"#] {
        let fx = Fixture::new();
        let json = format!(r#"{{"auths": {{"ghcr.io": {entry}}}}}"#);
        let sources = fx.sources(Some(&json), None, None);
        let error = sources
            .lookup("ghcr.io", "a/b")
            .await
            .expect_err("incomplete");
        assert!(
            error.to_string().contains("auths[ghcr.io] has a `"),
            "{error}"
        );
    }
}

#[tokio::test]
async fn missing_and_empty_files_mean_no_credentials() {
    let fx = Fixture::new();
    let gone = |name: &str| Some(fx.dir.path().join(name));
    let sources = AuthSources::from_paths(gone("a.json"), gone("b.json"), gone("c.json"))
        .expect("missing files are fine")
        .with_helper_path(fx.bin());
    assert_eq!(found(&sources, "ghcr.io", "a/b").await, None);
    let sources = fx.sources(Some(""), Some("  \n"), Some("{}"));
    assert_eq!(found(&sources, "ghcr.io", "a/b").await, None);
    let sources = fx.sources(Some(r#"{"auths": null, "credsStore": ""}"#), None, None);
    assert_eq!(found(&sources, "ghcr.io", "a/b").await, None);
}

#[test]
fn malformed_json_reports_position_not_content() {
    let fx = Fixture::new();
    let json = "{\n  \"auths\": {\n    \"ghcr.io\": {\"auth\": \"abc\"}\n  ,\n}";
    let error = fx
        .try_sources(Some(json), None, None)
        .expect_err("bad JSON");
    let AuthError::Json { line, column, .. } = &error else {
        panic!("{error:?}");
    };
    assert_eq!((*line, *column), (5, 1));
    let message = error.to_string();
    assert!(
        message.contains("config.json is not valid JSON"),
        "{message}"
    );
    assert!(message.contains("at line 5 column 1"), "{message}");
    assert!(!message.contains("abc"), "{message}");
    let error = fx
        .try_sources(None, Some("{\"auths\": "), None)
        .expect_err("EOF");
    assert!(
        error
            .to_string()
            .contains("registry-auth.json is not valid JSON: EOF"),
        "{error}"
    );
}

#[test]
fn wrong_shapes_name_the_key() {
    let cases = [
        (r#"[]"#, "the top level is not a JSON object"),
        (r#"{"auths": []}"#, "`auths` is not an object"),
        (
            r#"{"auths": {"ghcr.io": "x"}}"#,
            "auths[ghcr.io] is not an object",
        ),
        (
            r#"{"auths": {"ghcr.io": {"auth": 1}}}"#,
            "auths[ghcr.io].auth is not a string",
        ),
        (r#"{"credHelpers": "x"}"#, "`credHelpers` is not an object"),
        (
            r#"{"credHelpers": {"ghcr.io": 2}}"#,
            "credHelpers[ghcr.io] is not a string",
        ),
        (r#"{"credsStore": {}}"#, "`credsStore` is not a string"),
    ];
    for (json, problem) in cases {
        let fx = Fixture::new();
        let error = fx.try_sources(Some(json), None, None).expect_err(json);
        assert!(matches!(error, AuthError::Format { .. }), "{error:?}");
        assert!(
            error
                .to_string()
                .ends_with(&format!("config.json: {problem}")),
            "{error}"
        );
    }
}

#[test]
fn unreadable_file_is_an_error_naming_it() {
    let fx = Fixture::new();
    let dir = fx.dir.path().join("config.json");
    std::fs::create_dir(&dir).expect("dir");
    let error = AuthSources::from_paths(Some(dir), None, None).expect_err("a directory");
    assert!(matches!(error, AuthError::Read { .. }), "{error:?}");
    assert!(error.to_string().contains("config.json"), "{error}");
}

#[tokio::test]
async fn environment_selects_files() {
    let fx = Fixture::new();
    for dir in ["dockercfg", "home/.docker", "xdg/containers"] {
        std::fs::create_dir_all(fx.dir.path().join(dir)).expect("mkdir");
    }
    fx.file("dockercfg/config.json", &auths_basic("a.io", "dc", "1"));
    fx.file(
        "home/.docker/config.json",
        &auths_basic("a.io", "home", "2"),
    );
    fx.file("raf.json", &auths_basic("b.io", "raf", "3"));
    fx.file(
        "xdg/containers/auth.json",
        &auths_basic("c.io", "podman", "4"),
    );
    let root = fx.dir.path();
    let env = |pairs: &[(&str, PathBuf)]| {
        let vars: HashMap<String, OsString> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone().into()))
            .collect();
        AuthSources::from_vars(move |name| vars.get(name).cloned()).expect("loads")
    };
    let all = env(&[
        ("DOCKER_CONFIG", root.join("dockercfg")),
        ("HOME", root.join("home")),
        ("REGISTRY_AUTH_FILE", root.join("raf.json")),
        ("XDG_RUNTIME_DIR", root.join("xdg")),
        ("PATH", fx.bin()),
    ]);
    assert_eq!(all.helper_path, Some(fx.bin().into()));
    let expect = [
        (
            "a.io",
            "$DOCKER_CONFIG/config.json auths[a.io]",
            basic("dc", "1"),
        ),
        ("b.io", "$REGISTRY_AUTH_FILE auths[b.io]", basic("raf", "3")),
        (
            "c.io",
            "$XDG_RUNTIME_DIR/containers/auth.json auths[c.io]",
            basic("podman", "4"),
        ),
    ];
    for (registry, source, credential) in expect {
        let got = found(&all, registry, "x/y").await.expect(registry);
        assert_eq!((got.source.as_str(), got.credential), (source, credential));
    }
    // Without DOCKER_CONFIG (or with it empty), $HOME/.docker is used.
    let home = env(&[
        ("DOCKER_CONFIG", PathBuf::new()),
        ("HOME", root.join("home")),
    ]);
    let got = found(&home, "a.io", "x/y").await.expect("home");
    assert_eq!(got.source, "~/.docker/config.json auths[a.io]");
    assert_eq!(got.credential, basic("home", "2"));
    let none = env(&[]);
    assert!(none.docker.is_none() && none.registry_auth_file.is_none() && none.podman.is_none());
}
