//! Tests of the registry test harness itself (`tests/support/registry`):
//! real `docker-registry` servers, real pushes with skopeo, exact digests.

#[path = "support/registry/mod.rs"]
mod registry;

/// Token auth and TLS faults (own file to keep this one short).
#[path = "support/registry/selftests/auth_and_tls.rs"]
mod auth_and_tls;

use std::net::TcpListener;
use std::process::Command;

use registry::media;
use registry::{
    access_log_parse, gzip_stored, sha256_digest, tar, Auth, OciLayout, Request, TestRegistry,
    Tool, Trust,
};

/// HEAD with the full Accept list: 200, the expected digest and media type.
fn assert_serves(reg: &TestRegistry, reference: &str, digest: &str, media_type: &str) {
    let head = reg.head_manifest(reference);
    assert_eq!(head.status, 200, "HEAD {reference}: {head:?}");
    assert_eq!(
        head.header("Docker-Content-Digest"),
        Some(digest),
        "{reference}"
    );
    assert_eq!(head.header("Content-Type"), Some(media_type), "{reference}");
    // The digest is the sha256 of exactly the bytes a GET returns.
    let get = reg.get_manifest(reference);
    assert_eq!(get.status, 200);
    assert_eq!(sha256_digest(&get.body), digest, "{reference}");
}

#[test]
fn plain_registry_serves_pushed_oci_image_with_layout_digest() {
    let reg = TestRegistry::plain();
    assert!(reg.host().starts_with("127.0.0.1:"), "{}", reg.host());
    assert!(!reg.is_tls() && reg.credentials().is_none());
    let image = OciLayout::image("linux", "amd64");
    assert!(!image.is_index());
    assert_eq!(image.media_type(), media::OCI_MANIFEST);

    let digest = reg.push(&image, "org/app:v1");
    assert_eq!(digest, image.digest());
    assert_serves(&reg, "org/app:v1", image.digest(), media::OCI_MANIFEST);
    let by_digest = format!("org/app@{}", image.digest());
    assert_eq!(
        reg.manifest_digest(&by_digest).as_deref(),
        Some(image.digest())
    );

    // Missing tag, missing repository, missing digest: 404.
    assert_eq!(reg.head_manifest("org/app:v2").status, 404);
    assert_eq!(reg.head_manifest("org/nope:v1").status, 404);
    assert_eq!(
        reg.manifest_digest(&format!("org/app@{}", sha256_digest(b"x"))),
        None
    );

    // Retag, then delete by digest: every tag of it disappears.
    assert_eq!(reg.tag("org/app:v1", "org/app:stable"), image.digest());
    assert_eq!(reg.delete_manifest("org/app", image.digest()), 202);
    assert_eq!(reg.head_manifest("org/app:v1").status, 404);
    assert_eq!(reg.head_manifest("org/app:stable").status, 404);
}

#[test]
fn multi_arch_index_oci_and_docker_manifest_list() {
    let reg = TestRegistry::plain();
    let index = OciLayout::multi_arch();
    assert!(index.is_index());
    assert_eq!(index.children().len(), 2);

    let digest = reg.push(&index, "org/multi:v1");
    assert_eq!(digest, index.digest());
    assert_serves(&reg, "org/multi:v1", index.digest(), media::OCI_INDEX);
    let expected: Vec<(String, String)> = vec![
        ("linux/amd64".into(), index.children()[0].digest.clone()),
        ("linux/arm64/v8".into(), index.children()[1].digest.clone()),
    ];
    assert_eq!(reg.platform_digests("org/multi:v1"), expected);
    for (_, child) in &expected {
        let child_ref = format!("org/multi@{child}");
        assert_serves(&reg, &child_ref, child, media::OCI_MANIFEST);
    }

    // Same content as a Docker manifest list of schema2 manifests.
    let list_digest = reg.push_docker(&index, "org/list:v1");
    assert_ne!(list_digest, index.digest());
    assert_serves(
        &reg,
        "org/list:v1",
        &list_digest,
        media::DOCKER_MANIFEST_LIST,
    );
    let platforms = reg.platform_digests("org/list:v1");
    assert_eq!(platforms.len(), 2);
    assert_eq!(platforms[0].0, "linux/amd64");
    assert_eq!(platforms[1].0, "linux/arm64/v8");
    for (_, child) in &platforms {
        assert_serves(
            &reg,
            &format!("org/list@{child}"),
            child,
            media::DOCKER_MANIFEST,
        );
    }
}

#[test]
fn docker_schema2_image() {
    let reg = TestRegistry::plain();
    let image = OciLayout::image("linux", "arm64");
    let digest = reg.push_docker(&image, "org/docker:v1");
    assert_ne!(digest, image.digest());
    assert_serves(&reg, "org/docker:v1", &digest, media::DOCKER_MANIFEST);
    let manifest: serde_json::Value =
        serde_json::from_slice(&reg.get_manifest("org/docker:v1").body).expect("JSON");
    assert_eq!(manifest["config"]["mediaType"], media::DOCKER_CONFIG);
    // Deterministic conversion: pushing again yields the same digest.
    assert_eq!(reg.push_docker(&image, "org/docker:v2"), digest);
}

#[test]
fn helm_chart_artifact() {
    let reg = TestRegistry::plain();
    let chart = OciLayout::helm_chart("podinfo", "6.5.0");
    let digest = reg.push(&chart, "charts/podinfo:6.5.0");
    assert_eq!(digest, chart.digest());
    assert_serves(
        &reg,
        "charts/podinfo:6.5.0",
        chart.digest(),
        media::OCI_MANIFEST,
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&reg.get_manifest("charts/podinfo:6.5.0").body).expect("JSON");
    assert_eq!(manifest["config"]["mediaType"], media::HELM_CONFIG);
    assert_eq!(manifest["layers"][0]["mediaType"], media::HELM_CHART_LAYER);

    // The chart layer is a real .tgz holding podinfo/Chart.yaml.
    let layer_digest = manifest["layers"][0]["digest"].as_str().expect("digest");
    let tgz = reg.dir().join("chart.tgz");
    std::fs::write(&tgz, chart.blob(layer_digest)).expect("write tgz");
    let out = Command::new("tar")
        .arg("-xzOf")
        .arg(&tgz)
        .output()
        .expect("run tar");
    assert!(out.status.success(), "{out:?}");
    let chart_yaml = String::from_utf8_lossy(&out.stdout);
    assert!(chart_yaml.contains("name: podinfo") && chart_yaml.contains("version: 6.5.0"));
}

#[test]
fn tls_basic_registry_requires_ca_and_password() {
    let reg = TestRegistry::tls_basic("alice", "s3cret-pw");
    assert!(reg.is_tls());
    assert_eq!(reg.credentials(), Some(("alice", "s3cret-pw")));
    assert!(reg.base_url().starts_with("https://127.0.0.1:"));
    let pem = std::fs::read_to_string(reg.ca_pem_path()).expect("read CA");
    assert!(pem.contains("BEGIN CERTIFICATE"));

    let image = OciLayout::image("linux", "amd64");
    assert_eq!(reg.push(&image, "org/app:v1"), image.digest());
    let index = OciLayout::multi_arch();
    assert_eq!(reg.push(&index, "org/multi:v1"), index.digest());
    let list = reg.push_docker(&index, "org/list:v1");
    assert_serves(&reg, "org/app:v1", image.digest(), media::OCI_MANIFEST);
    assert_serves(&reg, "org/multi:v1", index.digest(), media::OCI_INDEX);
    assert_serves(&reg, "org/list:v1", &list, media::DOCKER_MANIFEST_LIST);
    assert_eq!(reg.head_manifest("org/app:missing").status, 404);

    let head = |auth: Auth, trust: Trust| {
        reg.try_send(
            &Request::new("HEAD", "/v2/org/app/manifests/v1")
                .accept_all_manifests()
                .auth(auth)
                .trust(trust),
        )
    };
    let wrong = Auth::Basic("alice".into(), "wrong".into());
    assert_eq!(head(wrong, Trust::HarnessCa).expect("response").status, 401);
    let anonymous = head(Auth::Anonymous, Trust::HarnessCa).expect("response");
    assert_eq!(anonymous.status, 401);
    let challenge = anonymous.header("WWW-Authenticate").unwrap_or_default();
    assert!(challenge.starts_with("Basic"), "{challenge}");
    // Without the harness CA the TLS handshake fails (curl exit 60).
    let untrusted = head(Auth::Registry, Trust::SystemRoots).expect_err("must not trust");
    assert_eq!(untrusted.exit_code, Some(60), "{untrusted:?}");
    assert_eq!(
        head(Auth::Registry, Trust::Insecure)
            .expect("response")
            .status,
        200
    );

    // The certificate also names `localhost`.
    let out = reg
        .curl()
        .args([
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "-u",
            "alice:s3cret-pw",
        ])
        .arg(format!("https://localhost:{}/v2/", reg.port()))
        .output()
        .expect("curl");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "200", "{out:?}");
}

#[test]
fn plain_basic_registry_checks_password_without_tls() {
    let reg = TestRegistry::plain_basic("bob", "pw");
    let image = OciLayout::image("linux", "amd64");
    assert_eq!(reg.push(&image, "org/app:v1"), image.digest());
    let req = Request::new("GET", "/v2/").auth(Auth::Anonymous);
    assert_eq!(reg.send(&req).status, 401);
    assert_eq!(reg.send(&Request::new("GET", "/v2/")).status, 200);
}

#[test]
fn request_counting_sees_exactly_the_heads_made() {
    let reg = TestRegistry::plain();
    let image = OciLayout::image_with_file("linux", "amd64", "app/version", b"1\n");
    reg.push(&image, "org/app:v1");
    let pushes = reg.count_requests("PUT", "/v2/org/app/manifests/v1");
    assert_eq!(pushes, 1, "{}", reg.access_log());

    let mark = reg.mark();
    for _ in 0..3 {
        assert_eq!(reg.head_manifest("org/app:v1").status, 200);
    }
    assert_eq!(reg.head_manifest("org/app:v9").status, 404);
    assert_eq!(reg.get_manifest("org/app:v1").status, 200);
    let path = "/v2/org/app/manifests/";
    assert_eq!(reg.count_requests_since(mark, "HEAD", path), 4);
    assert_eq!(reg.count_requests_since(mark, "head", "/manifests/v1"), 3);
    assert_eq!(reg.count_requests_since(mark, "GET", path), 1);
    assert_eq!(reg.count_requests_since(mark, "HEAD", "/v2/other/"), 0);
    assert_eq!(reg.wait_for_requests(mark, "HEAD", path, 4), 4);
    // Totals include the HEAD that read the digest back after the push.
    assert_eq!(reg.count_requests("HEAD", "/manifests/v1"), 4);

    let tail: Vec<_> = reg
        .requests()
        .into_iter()
        .skip(reg.requests().len() - 2)
        .collect();
    assert_eq!((tail[0].method.as_str(), tail[0].status), ("HEAD", 404));
    assert_eq!(tail[0].uri, "/v2/org/app/manifests/v9");
    assert!(tail[1].user_agent.starts_with("curl/"), "{:?}", tail[1]);
}

#[test]
fn access_log_parser_handles_real_and_partial_lines() {
    let log = "127.0.0.1 - - [22/Nov/2026:03:03:12 +0000] \"GET /v2/ HTTP/1.1\" 200 2 \"\" \"curl/7.88.1\"\n\
        time=\"2026\" level=error msg=\"not an access line\"\n\
        127.0.0.1 - alice [22/Nov/2026:03:03:12 +0000] \"PUT /v2/a/b/blobs/uploads/x?_state=q&digest=sha256%3A00 HTTP/1.1\" 201 0 \"\" \"skopeo/1.9.3 go\"\n\
        127.0.0.1 - - [22/Nov/2026:03:03:12 +0000] \"HEAD /v2/a/man";
    let entries = access_log_parse(log);
    assert_eq!(entries.len(), 2, "{entries:?}");
    assert_eq!(entries[1].method, "PUT");
    assert_eq!(entries[1].path(), "/v2/a/b/blobs/uploads/x");
    assert_eq!(entries[1].status, 201);
    assert_eq!(entries[1].user_agent, "skopeo/1.9.3 go");
    assert!(entries[1].matches("put", "/blobs/uploads/"));
    assert!(!entries[1].matches("PUT", "digest=")); // query strings are not matched
}

#[test]
fn layouts_are_deterministic_and_well_formed() {
    let a = OciLayout::image("linux", "amd64");
    assert_eq!(a.digest(), OciLayout::image("linux", "amd64").digest());
    assert_ne!(a.digest(), OciLayout::image("linux", "arm64").digest());
    let other = OciLayout::image_with_file("linux", "amd64", "etc/x", b"other");
    assert_ne!(a.digest(), other.digest());
    assert_eq!(sha256_digest(&a.blob(a.digest())), a.digest());
    let layout = std::fs::read_to_string(a.path().join("oci-layout")).expect("oci-layout");
    assert_eq!(layout, r#"{"imageLayoutVersion":"1.0.0"}"#);
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(a.path().join("index.json")).expect("index"))
            .expect("JSON");
    assert_eq!(index["manifests"][0]["digest"], a.digest());

    let manifest: serde_json::Value = serde_json::from_slice(&a.blob(a.digest())).expect("JSON");
    let config_digest = manifest["config"]["digest"]
        .as_str()
        .expect("config digest");
    let config: serde_json::Value = serde_json::from_slice(&a.blob(config_digest)).expect("JSON");
    assert_eq!(
        (config["os"].as_str(), config["architecture"].as_str()),
        (Some("linux"), Some("amd64"))
    );
    assert_eq!(manifest["layers"][0]["mediaType"], media::OCI_LAYER_TAR);

    // tar + gzip writers are readable by the system tar.
    let dir = tempfile::tempdir().expect("tempdir");
    let tgz = dir.path().join("t.tgz");
    let big = vec![b'z'; 70_000]; // spans two stored deflate blocks
    std::fs::write(
        &tgz,
        gzip_stored(&tar(&[("a.txt", b"hi\n"), ("d/big", &big)])),
    )
    .expect("write");
    let out = Command::new("tar")
        .arg("-tzvf")
        .arg(&tgz)
        .output()
        .expect("run tar");
    assert!(out.status.success(), "{out:?}");
    let listing = String::from_utf8_lossy(&out.stdout);
    assert!(listing.contains("a.txt") && listing.contains("70000") && listing.contains("d/big"));
}

#[test]
fn lost_port_race_is_retried_on_another_port() {
    let squatter = TcpListener::bind("127.0.0.1:0").expect("bind");
    let taken = squatter.local_addr().expect("addr").port();
    let mut ports = vec![registry::free_port(), taken];
    let reg =
        TestRegistry::plain_with_ports(move || ports.pop().unwrap_or_else(registry::free_port));
    assert_ne!(reg.port(), taken);
    assert_eq!(reg.send(&Request::new("GET", "/v2/")).status, 200);
}

#[test]
fn drop_kills_the_server_and_removes_the_temp_dir() {
    let reg = TestRegistry::plain();
    let pid = reg.pid();
    let dir = reg.dir().to_path_buf();
    assert!(std::path::Path::new(&format!("/proc/{pid}")).exists());
    drop(reg);
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "pid {pid} still there"
    );
    assert!(!dir.exists(), "{} still there", dir.display());
}

#[test]
#[should_panic(expected = "install the Debian package `fluxgate-no-such-package`")]
fn missing_binary_panics_naming_the_debian_package() {
    let tool = Tool {
        bin: "fluxgate-no-such-binary",
        package: "fluxgate-no-such-package",
    };
    tool.path();
}
