//! No error message and no `Found` debug output may contain a secret: every
//! error path is driven with a planted secret where the secret would be.

use super::super::AuthError;
use super::*;
use std::error::Error;

const SECRET: &str = "PLANTED-s3cr3t-VALUE";

/// The strings that must never appear: the secret, and the base64 forms in
/// which it is planted.
fn forbidden() -> Vec<String> {
    vec![
        SECRET.to_string(),
        "s3cr3t".to_string(),
        encode(format!("user:{SECRET}").as_bytes()),
        encode(SECRET.as_bytes()),
        encode(format!("{SECRET}!").as_bytes()),
    ]
}

/// Display, Debug and the Display of every `source()` in the chain.
fn renderings(error: &AuthError) -> Vec<String> {
    let mut out = vec![
        error.to_string(),
        format!("{error:?}"),
        format!("{error:#?}"),
    ];
    let mut source = error.source();
    while let Some(inner) = source {
        out.push(inner.to_string());
        source = inner.source();
    }
    out
}

fn assert_clean(what: &str, texts: &[String]) {
    for text in texts {
        for secret in forbidden() {
            assert!(
                !text.contains(&secret),
                "{what}: {secret:?} leaked into {text:?}"
            );
        }
    }
}

#[tokio::test]
async fn no_error_contains_a_planted_secret() {
    let b64_pair = encode(format!("user:{SECRET}").as_bytes());
    let b64_bare = encode(SECRET.as_bytes());
    let mut utf8_bad = SECRET.as_bytes().to_vec();
    utf8_bad.extend([b':', 0xff]);
    let b64_utf8_bad = encode(&utf8_bad);
    // Files that fail to load.
    let load_failures = [
        format!(r#"{{"auths": {{"ghcr.io": {{"password": "{SECRET}"}}}}"#),
        format!(r#"{{"auths": {{"ghcr.io": {{"auth": "{b64_pair}"}}}}}} trailing"#),
        format!(r#"{{"auths": {{"ghcr.io": {{"password": "{SECRET}\q"}}}}}}"#),
        format!("{{\"auths\": {{\"ghcr.io\": {{\"password\": \"{SECRET}\u{1}\"}}}}}}"),
        format!(r#""{SECRET}""#),
        format!(r#"{{"auths": "{SECRET}"}}"#),
        format!(r#"{{"auths": {{"ghcr.io": "{SECRET}"}}}}"#),
        format!(r#"{{"auths": {{"ghcr.io": ["{SECRET}"]}}}}"#),
        format!(r#"{{"auths": {{"ghcr.io": {{"password": ["{SECRET}"]}}}}}}"#),
        format!(r#"{{"credsStore": ["{SECRET}"]}}"#),
        format!(r#"{{"credHelpers": ["{SECRET}"]}}"#),
        format!(r#"{{"credHelpers": {{"ghcr.io": {{"x": "{SECRET}"}}}}}}"#),
    ];
    let mut checked = 0;
    for json in &load_failures {
        for slot in 0..3 {
            if slot > 0 && json.contains("cred") {
                continue; // credHelpers/credsStore are Docker-only fields
            }
            let fx = Fixture::new();
            let mut files = [None, None, None];
            files[slot] = Some(json.as_str());
            let error = fx
                .try_sources(files[0], files[1], files[2])
                .expect_err(json);
            assert_clean(json, &renderings(&error));
            checked += 1;
        }
    }
    // Entries that load but fail the lookup they serve.
    let lookup_failures = [
        format!(r#"{{"auth": "{SECRET}!"}}"#),
        format!(r#"{{"auth": "{b64_pair}="}}"#),
        format!(r#"{{"auth": "{b64_bare}"}}"#),
        format!(r#"{{"auth": "{b64_utf8_bad}"}}"#),
        format!(r#"{{"auth": "{b64_bare}", "identitytoken": "{SECRET}"}}"#),
        format!(r#"{{"password": "{SECRET}"}}"#),
    ];
    for entry in &lookup_failures {
        for slot in 0..3 {
            let fx = Fixture::new();
            let json = format!(r#"{{"auths": {{"ghcr.io/org": {entry}}}}}"#);
            let mut files = [None, None, None];
            files[slot] = Some(json.as_str());
            let sources = fx.sources(files[0], files[1], files[2]);
            let error = sources.lookup("ghcr.io", "org/app").await.expect_err(entry);
            assert_clean(entry, &renderings(&error));
            checked += 1;
        }
    }
    // Helpers that fail after (or while) holding the secret.
    let helper_failures = [
        format!(r#"echo '{{"Username":"u","Secret":"{SECRET}"}}'; exit 1"#),
        format!(r#"echo '{{"Username":"u","Secret":"{SECRET}"'"#),
        format!(r#"echo '{{"Username":["{SECRET}"],"Secret":"{SECRET}"}}'"#),
        format!(r#"echo '["{SECRET}"]'"#),
        format!(r#"echo '{SECRET}'; kill -9 $$"#),
        format!(r#"echo '{{"Username":"u","Secret":"{SECRET}"}}'; exec sleep 30"#),
    ];
    for body in &helper_failures {
        let fx = Fixture::new();
        fx.helper("leaky", body);
        let sources = fx
            .sources(Some(r#"{"credsStore": "leaky"}"#), None, None)
            .with_helper_timeout(Duration::from_millis(500));
        let error = sources.lookup("ghcr.io", "org/app").await.expect_err(body);
        assert_clean(body, &renderings(&error));
        checked += 1;
    }
    assert_eq!(checked, (9 * 3 + 3) + 6 * 3 + 6, "every case ran");
}

#[tokio::test]
async fn found_debug_hides_the_secret() {
    let fx = Fixture::new();
    fx.helper("store", &answering("user", SECRET));
    fx.helper("tok", &answering("<token>", SECRET));
    let b64_pair = encode(format!("user:{SECRET}").as_bytes());
    let json = format!(
        r#"{{"credsStore": "store", "credHelpers": {{"tok.io": "tok"}}, "auths": {{
            "basic.io": {{"auth": "{b64_pair}"}},
            "fields.io": {{"username": "user", "password": "{SECRET}"}},
            "token.io": {{"identitytoken": "{SECRET}"}}}}}}"#
    );
    let sources = fx.sources(Some(&json), None, None);
    for registry in ["basic.io", "fields.io", "token.io", "tok.io", "store.io"] {
        let got = found(&sources, registry, "a/b").await.expect(registry);
        let (Credential::Basic { password: s, .. } | Credential::IdentityToken { token: s, .. }) =
            &got.credential;
        assert_eq!(s.expose(), SECRET, "{registry}");
        assert_clean(
            registry,
            &[format!("{got:?}"), format!("{got:#?}"), got.source.clone()],
        );
    }
    assert_clean("sources", &[format!("{sources:?}")]);
}
