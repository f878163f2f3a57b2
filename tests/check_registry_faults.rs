//! Registry faults a real registry cannot be made to produce, from a
//! fault-injecting HTTP server on a real socket. Every fault ends as
//! `unverified` with the right cause, never `exists`; the run ends within
//! its time budget; planted credentials appear in no output.
#![allow(clippy::unwrap_used)]

#[path = "support/fault_server.rs"]
mod fault_server;
mod support;

use fault_server::{Behaviour, FaultServer, Route};
use std::time::{Duration, Instant};
use support::gitrepo::repo_from_fixture;
use support::isolated::{image, Isolated};

const PASSWORD: &str = "planted-p4ssw0rd-7c1";
const IDENTITY_TOKEN: &str = "planted-identity-t0ken-9b4";
const DIGEST: &str = "sha256:5d8e6f4c0b3a29181706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0";
const MANIFEST: &str = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:5d8e6f4c0b3a29181706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0","size":2},"layers":[]}"#;
const MANIFESTS: &str = "/v2/org/app/manifests/";

fn ping_ok() -> Route {
    Route::new("GET", "/v2/", Behaviour::status(200))
}

fn head(behaviour: Behaviour) -> Route {
    Route::new("HEAD", MANIFESTS, behaviour)
}

fn get(behaviour: Behaviour) -> Route {
    Route::new("GET", MANIFESTS, behaviour)
}

/// A token issuer on its own server, and a registry whose ping sends clients there.
fn with_token_endpoint(token: Behaviour) -> (FaultServer, Vec<Route>) {
    let issuer = FaultServer::start(vec![Route::any("/token", token)]);
    let realm = issuer.url("/token");
    let routes = vec![
        Route::new(
            "GET",
            "/v2/",
            Behaviour::unauthorized_bearer(&realm, "fault"),
        ),
        head(Behaviour::manifest_ok(
            DIGEST,
            "application/vnd.oci.image.manifest.v1+json",
            MANIFEST,
        )),
    ];
    (issuer, routes)
}

/// Runs fluxgate against a fault server answering with `routes`, with Basic
/// credentials planted for it; checks for leaks; returns the image record.
fn run(routes: Vec<Route>, budget: u64) -> serde_json::Value {
    let server = FaultServer::start(routes);
    run_at(&server.addr(), budget)
}

fn run_at(location: &str, budget: u64) -> serde_json::Value {
    run_with(&[], location, budget, false)
}

/// [`run_at`] started through `wrapper` (`&[]`: directly); with `identity`, an identity token
/// is planted beside the Basic credentials (and is then what fluxgate uses). Planted secrets are
/// searched in stdout (the JSON report), stderr (with `RUST_LOG=trace`) and a SARIF report.
fn run_with(wrapper: &[&str], location: &str, budget: u64, identity: bool) -> serde_json::Value {
    let env = Isolated::new();
    let auth = base64(&format!("robot:{PASSWORD}"));
    let token = if identity {
        format!(r#", "identitytoken": "{IDENTITY_TOKEN}""#)
    } else {
        String::new()
    };
    env.docker_config(&format!(
        r#"{{"auths": {{"{location}": {{"auth": "{auth}"{token}}}}}}}"#
    ));
    let config = env.config(location, None, "");
    let repo = repo_from_fixture("registry-faults");
    let sarif = env.path("report.sarif");
    let sarif_format = format!("sarif={}", sarif.display());
    let started = Instant::now();
    let out = env.run_via(
        wrapper,
        repo.path(),
        &config,
        &["--timeout", &budget.to_string(), "--format", &sarif_format],
    );
    // A liveness bound, not a speed claim: the budget must end the run.
    assert!(
        started.elapsed() < Duration::from_secs(budget + 15),
        "ran {:?} with a {budget}s budget",
        started.elapsed()
    );
    let sarif = std::fs::read_to_string(&sarif).expect("the SARIF report was written");
    for secret in [PASSWORD, auth.as_str(), IDENTITY_TOKEN] {
        for (name, text) in [
            ("stdout", &out.stdout),
            ("stderr", &out.stderr),
            ("SARIF", &sarif),
        ] {
            assert!(!text.contains(secret), "secret leaked in {name}:\n{text}");
        }
    }
    let record = image(&out.json, "org/app:v1").clone();
    let expected_code = if record["status"] == "exists" { 0 } else { 1 };
    assert_eq!(out.code, expected_code, "{:#}", out.json);
    record
}

/// Asserts `unverified` with `cause`; never `exists`, never a digest.
fn assert_unverified(record: &serde_json::Value, cause: &str) {
    assert_eq!(record["status"], "unverified", "{record:#}");
    assert!(record["digest"].is_null(), "{record:#}");
    let detail = record["detail"].as_str().unwrap();
    assert!(
        detail.starts_with(&format!("{cause}: ")),
        "expected cause {cause}: {detail}"
    );
}

macro_rules! fault_table {
    ($($name:ident: [$($route:expr),* $(,)?], budget $budget:literal => $cause:literal;)*) => {$(
        #[test]
        fn $name() {
            assert_unverified(&run(vec![$($route),*], $budget), $cause);
        }
    )*};
}

fault_table! {
    http_500: [ping_ok(), head(Behaviour::status(500))], budget 20 => "server-error";
    http_502: [ping_ok(), head(Behaviour::status(502))], budget 20 => "server-error";
    http_503: [ping_ok(), head(Behaviour::status(503))], budget 20 => "server-error";
    ping_500: [Route::new("GET", "/v2/", Behaviour::status(500))], budget 20 => "server-error";
    rate_limited_with_retry_after: [ping_ok(), head(Behaviour::too_many_requests(Some("1")))], budget 20 => "rate-limited";
    rate_limited_without_retry_after: [ping_ok(), head(Behaviour::too_many_requests(None))], budget 20 => "rate-limited";
    rate_limited_with_huge_retry_after: [ping_ok(), head(Behaviour::too_many_requests(Some("86400")))], budget 8 => "rate-limited";
    hang: [ping_ok(), head(Behaviour::Hang)], budget 3 => "timeout";
    ping_hangs: [Route::new("GET", "/v2/", Behaviour::Hang)], budget 3 => "timeout";
    connection_reset: [ping_ok(), head(Behaviour::Reset)], budget 20 => "unreachable";
    forbidden: [ping_ok(), head(Behaviour::status(403))], budget 20 => "unauthorized";
    unauthorized_basic_refused: [Route::new("GET", "/v2/", Behaviour::unauthorized_basic("r")), head(Behaviour::unauthorized_basic("r"))], budget 20 => "unauthorized";
    unexpected_status: [ping_ok(), head(Behaviour::status(418))], budget 20 => "protocol";
    not_a_registry: [Route::new("GET", "/v2/", Behaviour::status(404))], budget 20 => "protocol";
    challenge_missing: [Route::new("GET", "/v2/", Behaviour::status(401))], budget 20 => "protocol";
    malformed_digest_header: [ping_ok(), head(Behaviour::status(200).with_header("Docker-Content-Digest", "sha256:xyz"))], budget 20 => "protocol";
    no_digest_and_html_body: [ping_ok(), head(Behaviour::status(200)), get(Behaviour::respond(200, &[("Content-Type", "text/html")], "<html>hello</html>"))], budget 20 => "protocol";
    no_digest_and_malformed_json: [ping_ok(), head(Behaviour::status(200)), get(Behaviour::respond(200, &[("Content-Type", "application/json")], "{\"schemaVersion\": 2,"))], budget 20 => "protocol";
    wrong_digest_for_content: [ping_ok(), head(Behaviour::status(200)), get(Behaviour::respond(200, &[("Docker-Content-Digest", DIGEST)], MANIFEST))], budget 20 => "protocol";
    redirect_loop: [ping_ok(), head(Behaviour::redirect(MANIFESTS))], budget 20 => "protocol";
}

/// The token endpoint rows, with Basic credentials and then with an identity token (which
/// the token request must carry, or planting it would prove nothing).
fn run_token_rows(token: Behaviour, cause: &str) {
    for identity in [false, true] {
        let (issuer, routes) = with_token_endpoint(token.clone());
        let server = FaultServer::start(routes);
        assert_unverified(&run_with(&[], &server.addr(), 20, identity), cause);
        let sent = issuer
            .requests()
            .iter()
            .any(|r| String::from_utf8_lossy(&r.body).contains(IDENTITY_TOKEN));
        assert_eq!(sent, identity, "{:?}", issuer.requests());
    }
}

#[test]
fn token_endpoint_failing() {
    run_token_rows(Behaviour::status(500), "server-error");
}

#[test]
fn token_endpoint_malformed_json() {
    let malformed =
        Behaviour::respond(200, &[("Content-Type", "application/json")], "{\"token\": ");
    run_token_rows(malformed, "protocol");
}

#[test]
fn token_endpoint_refusing_credentials() {
    run_token_rows(Behaviour::status(401), "unauthorized");
}

/// DNS failure: a host no resolver knows, looked up inside a network namespace of its own
/// (`unshare -rn`: only a loopback interface, down), so the lookup fails here and no test ever
/// reaches the internet. `unshare -rn` needs no root where unprivileged user namespaces are
/// allowed (the default on Debian; `kernel.apparmor_restrict_unprivileged_userns=1` on Ubuntu
/// 24.04 forbids them); without it this test fails, it never skips.
#[test]
fn dns_failure_unknown_host() {
    let probe = std::process::Command::new("unshare")
        .args(["-rn", "true"])
        .output();
    match &probe {
        Ok(out) if out.status.success() => {}
        _ => panic!(
            "this test runs fluxgate in a network namespace of its own with `unshare -rn` \
             (util-linux), which does not work here: {probe:?}"
        ),
    }
    let record = run_with(
        &["unshare", "-rn"],
        "registry.fluxgate-test.invalid",
        20,
        true,
    );
    assert_unverified(&record, "unreachable");
    let detail = record["detail"].as_str().unwrap();
    assert!(
        detail.contains("cannot resolve registry.fluxgate-test.invalid"),
        "{detail}"
    );
}

#[test]
fn connection_refused() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    assert_unverified(&run_at(&format!("127.0.0.1:{port}"), 20), "unreachable");
}

#[test]
fn a_404_is_missing() {
    let record = run(vec![ping_ok(), head(Behaviour::status(404))], 20);
    assert_eq!(record["status"], "missing", "{record:#}");
}

/// Control rows: the same server shapes answer `exists` when they should.
#[test]
fn retries_recover_from_a_transient_503() {
    let manifest = Behaviour::manifest_ok(
        DIGEST,
        "application/vnd.oci.image.manifest.v1+json",
        MANIFEST,
    );
    let server = FaultServer::start(vec![
        ping_ok(),
        head(Behaviour::Sequence(vec![Behaviour::status(503), manifest])),
    ]);
    let record = run_at(&server.addr(), 20);
    assert_eq!(
        (record["status"].as_str(), record["digest"].as_str()),
        (Some("exists"), Some(DIGEST))
    );
    assert_eq!(server.count("HEAD", MANIFESTS), 2);
}

#[test]
fn head_without_digest_falls_back_to_get_and_digests_the_content() {
    let computed = sha256_hex(MANIFEST);
    let record = run(
        vec![
            ping_ok(),
            head(Behaviour::status(200)),
            get(Behaviour::respond(
                200,
                &[("Content-Type", "application/vnd.oci.image.manifest.v1+json")],
                MANIFEST,
            )),
        ],
        20,
    );
    assert_eq!(record["status"], "exists");
    assert_eq!(record["digest"], format!("sha256:{computed}"));
}

/// A redirect to another host is followed, without the credentials.
#[test]
fn credentials_do_not_follow_a_redirect_to_another_host() {
    let other = FaultServer::start(vec![head(Behaviour::manifest_ok(
        DIGEST,
        "application/vnd.oci.image.manifest.v1+json",
        MANIFEST,
    ))]);
    let target = other.url(&format!("{MANIFESTS}v1"));
    let origin = FaultServer::start(vec![
        Route::new("GET", "/v2/", Behaviour::unauthorized_basic("r")),
        head(Behaviour::redirect(&target)),
    ]);
    let record = run_at(&origin.addr(), 20);
    assert_eq!(record["status"], "exists", "{record:#}");
    let sent = |server: &FaultServer| {
        server
            .requests()
            .iter()
            .filter(|r| r.method == "HEAD")
            .map(|r| r.has_header("authorization"))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        sent(&origin),
        [true],
        "the registry itself gets the credentials"
    );
    assert_eq!(sent(&other), [false], "the other host must not");
}

fn base64(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text)
}

fn sha256_hex(text: &str) -> String {
    use sha2::Digest;
    format!("{:x}", sha2::Sha256::digest(text.as_bytes()))
}
