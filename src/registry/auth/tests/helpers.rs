//! Credential helpers: real shell scripts in a temporary directory.

use super::super::helper::find_executable;
use super::super::AuthError;
use super::*;
use std::time::Instant;

/// Sources whose Docker config sends every lookup to credsStore `name`.
fn store(fx: &Fixture, name: &str) -> AuthSources {
    fx.sources(Some(&format!(r#"{{"credsStore": "{name}"}}"#)), None, None)
}

#[tokio::test]
async fn helper_answer_and_server_url() {
    let fx = Fixture::new();
    // Echo the server URL back as the user name, to see what was asked.
    fx.helper(
        "echo",
        r#"read -r url
printf '{"ServerURL":"%s","Username":"%s","Secret":"s3"}\n' "$url" "$url""#,
    );
    let sources = store(&fx, "echo");
    let cases = [
        ("ghcr.io", "ghcr.io"),
        ("127.0.0.1:5000", "127.0.0.1:5000"),
        ("docker.io", "https://index.docker.io/v1/"),
        ("registry-1.docker.io", "https://index.docker.io/v1/"),
    ];
    for (registry, server_url) in cases {
        let got = found(&sources, registry, "a/b").await.expect(registry);
        assert_eq!(got.credential, basic(server_url, "s3"), "{registry}");
        assert_eq!(
            got.source,
            format!(
                "credential helper docker-credential-echo (credsStore in {})",
                fx.dir.path().join("config.json").display()
            )
        );
    }
}

#[tokio::test]
async fn helper_answers_are_remembered_per_server() {
    let fx = Fixture::new();
    let log = fx.dir.path().join("runs.log");
    let body = format!(
        "read -r url\necho \"$url\" >> '{}'\n{}",
        log.display(),
        answering("u", "s")
    );
    fx.helper("count", &body);
    let sources = store(&fx, "count");
    for (registry, repository) in [("ghcr.io", "a/b"), ("ghcr.io", "c/d"), ("quay.io", "a/b")] {
        let got = found(&sources, registry, repository).await.expect(registry);
        assert_eq!(got.credential, basic("u", "s"));
    }
    let runs = std::fs::read_to_string(&log).expect("log");
    assert_eq!(runs, "ghcr.io\nquay.io\n");
}

#[tokio::test]
async fn token_username_means_identity_token() {
    let fx = Fixture::new();
    fx.helper("tok", &answering("<token>", "refresh"));
    let got = found(&store(&fx, "tok"), "ghcr.io", "a/b")
        .await
        .expect("found");
    assert_eq!(got.credential, token("<token>", "refresh"));
}

#[tokio::test]
async fn not_found_and_empty_answers_mean_no_credential() {
    let bodies = [
        "echo 'credentials not found in native keychain'; exit 1",
        "echo 'Credentials not found' >&2; exit 1",
        r#"echo '{"ServerURL":"","Username":"","Secret":""}'"#,
        r#"echo '{"Username":null}'"#,
    ];
    for body in bodies {
        let fx = Fixture::new();
        fx.helper("none", body);
        assert_eq!(
            found(&store(&fx, "none"), "ghcr.io", "a/b").await,
            None,
            "{body}"
        );
        // ... and the next source is consulted.
        let sources = fx.sources(
            Some(r#"{"credsStore": "none"}"#),
            Some(&auths_basic("ghcr.io", "raf", "p")),
            None,
        );
        let got = found(&sources, "ghcr.io", "a/b").await.expect("raf");
        assert_eq!(got.credential, basic("raf", "p"), "{body}");
    }
}

#[tokio::test]
async fn crashing_helper_is_an_error_quoting_stderr_only() {
    let fx = Fixture::new();
    fx.helper(
        "crash",
        "echo 'stdout secret'; printf '\\n  keyring is locked\\tnow\\nsecond line\\n' >&2; exit 3",
    );
    let error = store(&fx, "crash")
        .lookup("ghcr.io", "a/b")
        .await
        .expect_err("crash");
    assert!(matches!(error, AuthError::HelperFailed { .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        "credential helper docker-credential-crash failed (exit status: 3): keyring is locked now"
    );
    // Long lines are cut to 200 characters; no stderr, no colon.
    fx.helper("long", &format!("printf '{}' >&2; exit 2", "x".repeat(500)));
    let error = store(&fx, "long")
        .lookup("ghcr.io", "a/b")
        .await
        .expect_err("long");
    let AuthError::HelperFailed { stderr, .. } = &error else {
        panic!("{error:?}")
    };
    assert_eq!(stderr.as_deref(), Some("x".repeat(200).as_str()));
    fx.helper("silent", "kill -9 $$");
    let error = store(&fx, "silent")
        .lookup("ghcr.io", "a/b")
        .await
        .expect_err("killed");
    let message = error.to_string();
    assert!(
        message.starts_with("credential helper docker-credential-silent failed (signal: 9"),
        "{message}"
    );
    assert!(message.ends_with(')'), "{message}");
}

#[tokio::test]
async fn hanging_helper_times_out() {
    let fx = Fixture::new();
    fx.helper("hang", "exec sleep 30");
    let sources = store(&fx, "hang").with_helper_timeout(Duration::from_millis(300));
    let started = Instant::now();
    let error = sources.lookup("ghcr.io", "a/b").await.expect_err("timeout");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert!(
        matches!(error, AuthError::HelperTimeout { .. }),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "credential helper docker-credential-hang did not answer within 0.3 s"
    );
}

#[tokio::test]
async fn malformed_answers_are_errors() {
    let bodies = [
        "echo 'not json'",
        "echo '[1, 2]'",
        r#"echo '{"Username": "u", "Secret": 5}'"#,
    ];
    for body in bodies {
        let fx = Fixture::new();
        fx.helper("odd", body);
        let error = store(&fx, "odd")
            .lookup("ghcr.io", "a/b")
            .await
            .expect_err(body);
        assert!(matches!(error, AuthError::HelperOutput { .. }), "{error:?}");
        assert!(error
            .to_string()
            .starts_with("credential helper docker-credential-odd printed "));
    }
}

#[tokio::test]
async fn missing_or_misnamed_helpers() {
    let fx = Fixture::new();
    let error = store(&fx, "absent")
        .lookup("ghcr.io", "a/b")
        .await
        .expect_err("absent");
    assert!(
        matches!(error, AuthError::HelperNotFound { ref helper } if helper == "docker-credential-absent"),
        "{error:?}"
    );
    for name in ["../../bin/sh", "a\\\\b"] {
        let error = store(&fx, name)
            .lookup("ghcr.io", "a/b")
            .await
            .expect_err(name);
        assert!(matches!(error, AuthError::HelperName { .. }), "{error:?}");
    }
    let json = r#"{"credHelpers": {"ghcr.io": ""}}"#;
    let sources = fx.sources(Some(json), None, None);
    let error = sources
        .lookup("ghcr.io", "a/b")
        .await
        .expect_err("empty name");
    assert!(matches!(error, AuthError::HelperName { .. }), "{error:?}");
}

#[test]
fn helpers_only_come_from_absolute_executable_entries() {
    let fx = Fixture::new();
    fx.helper("found", "exit 0");
    let plain = fx.dir.path().join("plain");
    std::fs::create_dir(&plain).expect("mkdir");
    std::fs::write(plain.join("docker-credential-found"), "not executable").expect("write");
    let search =
        std::env::join_paths([PathBuf::from("relative/bin"), plain, fx.bin()]).expect("join");
    assert_eq!(
        find_executable("docker-credential-found", &search),
        Some(fx.bin().join("docker-credential-found"))
    );
    // A relative entry pointing at the very same directory is not searched.
    let cwd = std::env::current_dir().expect("cwd");
    let relative = pathdiff(&fx.bin(), &cwd);
    assert_eq!(
        find_executable("docker-credential-found", relative.as_os_str()),
        None
    );
    assert_eq!(
        find_executable("docker-credential-found", "".as_ref()),
        None
    );
}

/// `path` relative to `base` (both absolute), via `..` components.
fn pathdiff(path: &std::path::Path, base: &std::path::Path) -> PathBuf {
    let ups = base.components().count() - 1;
    let mut out: PathBuf = std::iter::repeat_n("..", ups).collect();
    out.extend(path.components().skip(1));
    out
}
