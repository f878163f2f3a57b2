//! Tests of the harness's token-auth registry (Docker token flow, driven with
//! curl) and TLS-fault registries (expired certificate, unknown CA). Part of
//! the `registry_harness` test crate (`tests/registry_harness.rs` includes it
//! with `#[path]`); `registry/mod.rs` does not, so other tests never compile it.

use super::assert_serves;
use super::registry::{self, media, Auth, OciLayout, Request, TestRegistry, Trust};

/// curl to an absolute URL (the token server); returns (status, body).
fn curl_url(reg: &TestRegistry, args: &[&str], url: &str) -> (u16, String) {
    let out = reg
        .curl()
        .args(["-w", "\n%{http_code}"])
        .args(args)
        .arg(url)
        .output()
        .expect("curl");
    assert!(out.status.success(), "curl {url}: {out:?}");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').expect("status line");
    (code.parse().expect("status"), body.to_string())
}

fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

#[test]
fn token_auth_registry_runs_the_docker_token_flow() {
    let reg = TestRegistry::token_auth("carol", "t0ken-pw");
    assert!(reg.is_tls() && reg.is_token_auth());
    assert_eq!(reg.credentials(), Some(("carol", "t0ken-pw")));
    let image = OciLayout::image("linux", "amd64");
    // skopeo runs the token flow itself with --dest-creds.
    assert_eq!(reg.push(&image, "org/app:v1"), image.digest());
    let pushed = reg.token_log();
    assert!(!pushed.is_empty(), "skopeo fetched no token");
    assert!(
        pushed.iter().all(|r| r.status == 200 && r.grant == "basic"),
        "{pushed:?}"
    );
    assert!(pushed.iter().any(|r| r
        .scopes
        .iter()
        .any(|s| s.starts_with("repository:org/app:"))));
    // The harness's own requests use minted tokens: not counted.
    let before = reg.token_requests();
    assert_serves(&reg, "org/app:v1", image.digest(), media::OCI_MANIFEST);
    let ping = reg.send(&Request::new("GET", "/v2/"));
    assert_eq!(ping.status, 200, "{ping:?}");
    assert_eq!(reg.tag("org/app:v1", "org/app:stable"), image.digest());
    assert_eq!(reg.token_requests(), before);

    // Ping and an anonymous HEAD: 401 with the Bearer challenge.
    let realm = reg.token_realm();
    assert!(realm.starts_with("http://127.0.0.1:") && realm.ends_with("/token"));
    let ping = reg.send(&Request::new("GET", "/v2/").auth(Auth::Anonymous));
    assert_eq!(ping.status, 401);
    let expected = format!("Bearer realm=\"{realm}\",service=\"fluxgate-test\"");
    assert_eq!(ping.header("WWW-Authenticate"), Some(expected.as_str()));
    let head = |auth: Auth, name: &str| {
        reg.send(
            &Request::new("HEAD", &format!("/v2/{name}/manifests/v1"))
                .accept_all_manifests()
                .auth(auth),
        )
    };
    let anonymous = head(Auth::Anonymous, "org/app");
    assert_eq!(anonymous.status, 401);
    let challenge = anonymous.header("WWW-Authenticate").unwrap_or_default();
    assert!(
        challenge.contains("scope=\"repository:org/app:pull\""),
        "{challenge}"
    );

    // GET /token with Basic credentials, as docker and skopeo do.
    let pull = format!("{realm}?service=fluxgate-test&scope=repository%3Aorg%2Fapp%3Apull");
    let (status, body) = curl_url(&reg, &["-u", "carol:t0ken-pw"], &pull);
    assert_eq!(status, 200, "{body}");
    let doc = json(&body);
    let token = doc["token"].as_str().expect("token").to_string();
    assert_eq!(doc["access_token"], token.as_str());
    assert_eq!(doc["expires_in"], 300);
    assert!(doc["issued_at"].as_str().is_some_and(|t| t.ends_with('Z')));
    let header = registry::jwt_header(&token);
    assert_eq!(
        (
            header["alg"].as_str(),
            header["x5c"].as_array().map(Vec::len)
        ),
        (Some("RS256"), Some(1))
    );
    let claims = registry::jwt_claims(&token);
    assert_eq!(
        (claims["aud"].as_str(), claims["sub"].as_str()),
        (Some("fluxgate-test"), Some("carol"))
    );
    assert_eq!(claims["iss"], registry::TOKEN_ISSUER);
    let access =
        serde_json::json!([{"type": "repository", "name": "org/app", "actions": ["pull"]}]);
    assert_eq!(claims["access"], access);
    // The registry accepts it for that repository only.
    let ok = head(Auth::Bearer(token.clone()), "org/app");
    assert_eq!(ok.status, 200, "{ok:?}\n{}", reg.stderr());
    assert_eq!(ok.header("Docker-Content-Digest"), Some(image.digest()));
    assert_eq!(head(Auth::Bearer(token), "org/other").status, 401);

    // Wrong password: 401 at the token server.
    let (status, _) = curl_url(&reg, &["-u", "carol:nope"], &pull);
    assert_eq!(status, 401);
    // Anonymous: a token without access, which the registry refuses.
    let (status, body) = curl_url(&reg, &[], &pull);
    assert_eq!(status, 200);
    let anon_token = json(&body)["token"].as_str().expect("token").to_string();
    assert_eq!(
        registry::jwt_claims(&anon_token)["access"],
        serde_json::json!([])
    );
    assert_eq!(head(Auth::Bearer(anon_token), "org/app").status, 401);

    // OAuth2 POST: password grant, then refresh_token grant.
    let form = |fields: &str| {
        let data = format!(
            "{fields}&service=fluxgate-test&scope=repository:org/app:pull&client_id=fluxgate"
        );
        curl_url(&reg, &["-X", "POST", "--data", &data], &realm)
    };
    let (status, body) = form("grant_type=password&username=carol&password=t0ken-pw");
    assert_eq!(status, 200, "{body}");
    assert_eq!(json(&body)["refresh_token"], reg.identity_token().as_str());
    let (status, _) = form("grant_type=password&username=carol&password=bad");
    assert_eq!(status, 401);
    let (status, body) = form(&format!(
        "grant_type=refresh_token&refresh_token={}",
        reg.identity_token()
    ));
    assert_eq!(status, 200, "{body}");
    let refreshed = json(&body)["access_token"]
        .as_str()
        .expect("access_token")
        .to_string();
    assert_eq!(head(Auth::Bearer(refreshed), "org/app").status, 200);
    let (status, _) = form("grant_type=refresh_token&refresh_token=forged");
    assert_eq!(status, 401);

    // Every token request above was counted and logged.
    assert_eq!(reg.token_requests(), before + 7);
    let grants: Vec<_> = reg.token_log()[before..]
        .iter()
        .map(|r| (r.grant.clone(), r.status))
        .collect();
    let expected: Vec<(String, u16)> = [
        ("basic", 200),
        ("basic", 401),
        ("anonymous", 200),
        ("password", 200),
        ("password", 401),
        ("refresh_token", 200),
        ("refresh_token", 401),
    ]
    .iter()
    .map(|&(g, s)| (g.to_string(), s))
    .collect();
    assert_eq!(grants, expected);
}

#[test]
fn tls_expired_registry_fails_certificate_verification() {
    let reg = TestRegistry::tls_expired();
    let ping = |trust: Trust| reg.try_send(&Request::new("GET", "/v2/").trust(trust));
    let err = ping(Trust::HarnessCa).expect_err("expired certificate must fail");
    assert_eq!(err.exit_code, Some(60), "{err:?}");
    assert!(err.stderr.contains("expired"), "{err:?}");
    assert_eq!(ping(Trust::Insecure).expect("server is up").status, 200);
}

#[test]
fn tls_unknown_ca_registry_is_not_trusted_with_the_harness_ca() {
    let reg = TestRegistry::tls_unknown_ca();
    let ping = |trust: Trust| reg.try_send(&Request::new("GET", "/v2/").trust(trust));
    let err = ping(Trust::HarnessCa).expect_err("unknown CA must fail");
    assert_eq!(err.exit_code, Some(60), "{err:?}");
    assert!(err.stderr.contains("issuer certificate"), "{err:?}");
    assert_eq!(ping(Trust::Insecure).expect("server is up").status, 200);
}

#[test]
fn token_helpers_encode_and_parse() {
    assert_eq!(registry::base64_std(b"carol:pw"), "Y2Fyb2w6cHc=");
    assert_eq!(registry::base64url(&[0xfb, 0xff]), "-_8");
    assert_eq!(
        registry::base64_decode("-_8").as_deref(),
        Some(&[0xfb, 0xff][..])
    );
    assert_eq!(
        registry::base64_decode("Y2Fyb2w6cHc=").as_deref(),
        Some(&b"carol:pw"[..])
    );
    assert_eq!(registry::base64_decode("a"), None);
    assert_eq!(registry::rfc3339(0), "1970-01-01T00:00:00Z");
    assert_eq!(registry::rfc3339(1_795_921_392), "2026-11-29T03:03:12Z");
    assert_eq!(registry::rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    let scope = registry::scope_for_path("/v2/org/app/manifests/v1?x=1");
    assert_eq!(
        scope.as_deref(),
        Some("repository:org/app:pull,push,delete")
    );
    assert_eq!(registry::scope_for_path("/v2/"), None);
}
