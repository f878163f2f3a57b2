//! Tests of the fault-injecting HTTP server itself (`tests/support/fault_server.rs`),
//! driven by `curl` and raw `TcpStream` clients: every `Behaviour`, the
//! response helpers, keep-alive, request recording, cross-host redirects and
//! concurrency.

#[path = "support/fault_server.rs"]
mod fault_server;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Output};
use std::thread;
use std::time::{Duration, Instant};

use fault_server::{Behaviour, FaultServer, Route};

/// Runs `curl -sS <args>`.
fn curl(args: &[&str]) -> Output {
    Command::new("curl")
        .arg("-sS")
        .args(args)
        .output()
        .expect("run curl")
}

/// The HTTP status curl saw (`-w %{http_code}`, body discarded).
fn status_of(url: &str, extra: &[&str]) -> String {
    let out = curl(&[&["-o", "/dev/null", "-w", "%{http_code}", url], extra].concat());
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Status line, headers and body as text (`curl -i`).
fn response_text(url: &str) -> String {
    String::from_utf8_lossy(&curl(&["-i", url]).stdout).into_owned()
}

fn assert_has(text: &str, needle: &str) {
    assert!(text.contains(needle), "{needle:?} not in {text:?}");
}

/// Sends raw bytes on a new connection and reads until EOF (5 s cap).
fn raw(addr: &str, request: &str) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    stream.write_all(request.as_bytes())?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    Ok(String::from_utf8_lossy(&response).into_owned())
}

#[test]
fn responses_statuses_headers_and_helpers() {
    let error = Behaviour::registry_error(404, "MANIFEST_UNKNOWN", "no such manifest");
    let json = Behaviour::json(200, serde_json::json!({"ok": true}));
    let server = FaultServer::start(vec![
        Route::any("/", Behaviour::respond(418, &[("X-Test", "yes")], "teapot")),
        Route::any("/v2/err", error),
        Route::any(
            "/v2/bearer",
            Behaviour::unauthorized_bearer("http://a/t", "reg"),
        ),
        Route::any("/v2/basic", Behaviour::unauthorized_basic("Registry")),
        Route::any("/v2/slow-down", Behaviour::too_many_requests(Some("7"))),
        Route::new("GET", "/v2/json", json),
    ]);
    let text = response_text(&server.url("/x"));
    assert!(text.starts_with("HTTP/1.1 418 "), "{text}");
    assert!(text.ends_with("\r\n\r\nteapot"), "{text}");
    assert_has(&text, "X-Test: yes\r\n");

    let err = curl(&[&server.url("/v2/err")]);
    let value: serde_json::Value = serde_json::from_slice(&err.stdout).unwrap();
    assert_eq!(value["errors"][0]["code"], "MANIFEST_UNKNOWN");
    assert_eq!(value["errors"][0]["message"], "no such manifest");

    let bearer = response_text(&server.url("/v2/bearer"));
    assert!(bearer.starts_with("HTTP/1.1 401 "), "{bearer}");
    assert_has(
        &bearer,
        "WWW-Authenticate: Bearer realm=\"http://a/t\",service=\"reg\"\r\n",
    );
    let basic = response_text(&server.url("/v2/basic"));
    assert_has(&basic, "WWW-Authenticate: Basic realm=\"Registry\"\r\n");
    let limited = response_text(&server.url("/v2/slow-down"));
    assert!(limited.starts_with("HTTP/1.1 429 "), "{limited}");
    assert_has(&limited, "Retry-After: 7\r\n");
    let json = response_text(&server.url("/v2/json"));
    assert!(json.ends_with("{\"ok\":true}"), "{json}");
    assert_has(&json, "Content-Type: application/json\r\n");

    // A method-specific route only takes its method; `/` gets the rest.
    assert_eq!(status_of(&server.url("/v2/json"), &[]), "200");
    assert_eq!(status_of(&server.url("/v2/json"), &["-X", "POST"]), "418");
}

#[test]
fn unmatched_is_404_with_empty_body() {
    let server = FaultServer::start(vec![Route::any("/v2/", Behaviour::status(200))]);
    let text = response_text(&server.url("/other"));
    assert!(text.starts_with("HTTP/1.1 404 "), "{text}");
    assert!(text.ends_with("\r\n\r\n"), "{text}");
    assert_has(&text, "Content-Length: 0\r\n");
}

#[test]
fn head_has_no_body_and_keep_alive_serves_two_requests_on_one_connection() {
    let body = r#"{"schemaVersion":2}"#;
    let media = "application/vnd.oci.image.manifest.v1+json";
    let manifest = Behaviour::manifest_ok("sha256:abc", media, body);
    let server = FaultServer::start(vec![Route::any("/v2/a/manifests/", manifest)]);
    let request = |method: &str, extra: &str| {
        format!("{method} /v2/a/manifests/v1 HTTP/1.1\r\nHost: x\r\n{extra}\r\n")
    };
    // HEAD then GET on one connection; the GET asks to close, so EOF ends the read.
    let both = request("HEAD", "") + &request("GET", "Connection: close\r\n");
    let response = raw(&server.addr(), &both).unwrap();
    let parts: Vec<&str> = response.split("HTTP/1.1 200 OK\r\n").collect();
    assert_eq!(parts.len(), 3, "{response}");
    let (head, get) = (parts[1], parts[2]);
    assert_has(head, "Docker-Content-Digest: sha256:abc\r\n");
    assert_has(head, &format!("Content-Type: {media}\r\n"));
    assert_has(head, &format!("Content-Length: {}\r\n", body.len()));
    assert!(
        head.ends_with("\r\n\r\n"),
        "HEAD must have no body: {head:?}"
    );
    assert!(get.ends_with(&format!("\r\n\r\n{body}")), "{get}");
    assert_has(get, "Connection: close\r\n");

    // curl reuses the connection for two URLs.
    let url = server.url("/v2/a/manifests/v1");
    let out = curl(&["-v", "-o", "/dev/null", "-o", "/dev/null", &url, &url]);
    assert_has(
        &String::from_utf8_lossy(&out.stderr),
        "Re-using existing connection",
    );
    assert_eq!(server.count("GET", "/v2/a/"), 3);
    assert_eq!(server.count("HEAD", "/v2/a/"), 1);
}

#[test]
fn sequence_answers_in_order_then_repeats_the_last() {
    let seq = Behaviour::Sequence(vec![
        Behaviour::status(503),
        Behaviour::too_many_requests(None),
        Behaviour::status(200),
    ]);
    let server = FaultServer::start(vec![
        Route::new("GET", "/v2/", seq),
        Route::any("/v2/other", Behaviour::status(204)),
    ]);
    let url = server.url("/v2/x");
    let codes: Vec<String> = (0..5).map(|_| status_of(&url, &[])).collect();
    assert_eq!(codes, ["503", "429", "200", "200", "200"]);
    // The longest prefix wins.
    assert_eq!(status_of(&server.url("/v2/other"), &[]), "204");
}

#[test]
fn hang_times_out_the_client_and_drop_unblocks_it() {
    let server = FaultServer::start(vec![Route::any("/", Behaviour::Hang)]);
    let started = Instant::now();
    let out = curl(&["--max-time", "1", &server.url("/v2/")]);
    assert_eq!(out.status.code(), Some(28), "{out:?}"); // CURLE_OPERATION_TIMEDOUT
    assert!(started.elapsed() < Duration::from_secs(3));

    // A raw client waits (5 s read timeout) until the server is dropped.
    let addr = server.addr();
    let client = thread::spawn(move || raw(&addr, "GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n"));
    thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    drop(server);
    assert_eq!(
        client.join().unwrap().unwrap(),
        "",
        "closed without an answer"
    );
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[test]
fn reset_gives_the_client_econnreset() {
    let server = FaultServer::start(vec![Route::any("/", Behaviour::Reset)]);
    let err = raw(&server.addr(), "GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionReset, "{err}");
    let out = curl(&[&server.url("/v2/")]);
    assert_eq!(out.status.code(), Some(56), "{out:?}"); // CURLE_RECV_ERROR
    assert_has(&String::from_utf8_lossy(&out.stderr), "reset by peer");
    assert_eq!(
        server.count("GET", "/v2/"),
        2,
        "reset requests are recorded"
    );
}

#[test]
fn delayed_waits_then_behaves() {
    let slow = Behaviour::status(200).delayed(Duration::from_millis(300));
    let server = FaultServer::start(vec![Route::any("/", slow)]);
    let started = Instant::now();
    assert_eq!(status_of(&server.url("/"), &[]), "200");
    assert!(started.elapsed() >= Duration::from_millis(300));
    let out = curl(&["--max-time", "0.1", &server.url("/")]);
    assert_eq!(out.status.code(), Some(28), "{out:?}");
}

#[test]
fn lying_content_length_truncates_the_body() {
    let short = Behaviour::respond(200, &[("Content-Length", "100")], "only ten b");
    let server = FaultServer::start(vec![Route::any("/", short)]);
    let out = curl(&[&server.url("/blob")]);
    assert_eq!(out.status.code(), Some(18), "{out:?}"); // CURLE_PARTIAL_FILE
    assert_eq!(out.stdout, b"only ten b");
}

#[test]
fn cross_host_redirect_drops_credentials() {
    let b = FaultServer::start(vec![Route::any("/", Behaviour::respond(200, &[], "b"))]);
    let a = FaultServer::start(vec![Route::any("/", Behaviour::redirect(&b.url("/blob")))]);
    let out = curl(&["-L", "-u", "user:secret", &a.url("/v2/app/blobs/sha256:1")]);
    assert_eq!(out.stdout, b"b", "{out:?}");
    let at_a = a.requests();
    assert_eq!(at_a.len(), 1);
    let auth = at_a[0].header("Authorization").unwrap();
    assert!(auth.starts_with("Basic "), "{auth}");
    let at_b = b.requests();
    assert_eq!((at_b.len(), at_b[0].path.as_str()), (1, "/blob"));
    // Observed with curl 7.88: no credentials sent to another host:port.
    assert_eq!(at_b[0].header("authorization"), None);

    // Positive control: with --location-trusted curl forwards them, and B records it.
    let out = curl(&["-L", "--location-trusted", "-u", "u:p", &a.url("/v2/x")]);
    assert!(out.status.success(), "{out:?}");
    assert!(b.requests()[1].has_header("authorization"));
}

#[test]
fn requests_are_recorded_with_query_lowercased_headers_and_body() {
    let token = Behaviour::json(200, serde_json::json!({"token": "t"}));
    let server = FaultServer::start(vec![Route::any("/token", token)]);
    let big = "x".repeat(2000);
    let target = "/token?scope=repository:a:pull&service=reg";
    let (url, expect) = (server.url(target), "Expect: 100-continue");
    let headers = [
        "-H",
        "X-Custom: Value",
        "-H",
        "Authorization: Bearer abc",
        "-H",
        expect,
    ];
    let started = Instant::now();
    let out = curl(&[&headers[..], &["--data-binary", &big, &url]].concat());
    assert!(out.status.success(), "{out:?}");
    // Without a `100 Continue`, curl would wait 1 s before sending the body.
    assert!(started.elapsed() < Duration::from_millis(900));
    let chunked = [
        "-H",
        "Transfer-Encoding: chunked",
        "--data-binary",
        "chunky",
    ];
    let out = curl(&[&chunked[..], &[&server.url("/token")]].concat());
    assert!(out.status.success(), "{out:?}");

    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let first = &requests[0];
    assert_eq!(
        (first.method.as_str(), first.path.as_str()),
        ("POST", target)
    );
    let custom = ("x-custom".to_string(), "Value".to_string());
    assert!(first.headers.contains(&custom), "{:?}", first.headers);
    assert_eq!(first.header("AUTHORIZATION"), Some("Bearer abc"));
    assert_eq!(first.header("expect"), Some("100-continue"));
    assert_eq!(first.body, big.as_bytes());
    assert_eq!(requests[1].body, b"chunky");
    assert_eq!(server.count("POST", "/token"), 2);
    assert_eq!(server.count("*", "/token?"), 1);
    assert_eq!(server.count("GET", "/token"), 0);
}

#[test]
fn twenty_parallel_requests_are_all_answered() {
    let slow = Behaviour::respond(200, &[], "ok").delayed(Duration::from_millis(300));
    let server = FaultServer::start(vec![Route::any("/", slow)]);
    let (started, url) = (Instant::now(), |i| server.url(&format!("/v2/{i}")));
    let codes: Vec<String> = thread::scope(|s| {
        let calls: Vec<_> = (0..20)
            .map(|i| s.spawn(move || status_of(&url(i), &[])))
            .collect();
        calls.into_iter().map(|c| c.join().unwrap()).collect()
    });
    assert!(codes.iter().all(|c| c == "200"), "{codes:?}");
    assert_eq!(server.count("GET", "/v2/"), 20);
    // Served concurrently: one after the other would take 20 × 300 ms.
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
}
