//! Throw-away PKI for TLS registries: a CA and a server certificate for
//! `127.0.0.1` / `localhost` signed by it (or, on purpose, an expired one or
//! one from a hidden CA), generated with the `openssl` CLI, plus an
//! `htpasswd` bcrypt file for basic auth.

use std::fs;
use std::path::{Path, PathBuf};

use super::config::TlsMode;
use super::tools::{self, HTPASSWD, OPENSSL};

/// Files of a generated CA + server certificate (all PEM).
#[derive(Clone, Debug)]
pub struct TlsFiles {
    /// CA certificate; what clients must trust (for `TlsMode::UnknownCa` a
    /// decoy CA that did not sign the server certificate).
    pub ca_pem: PathBuf,
    /// Server certificate (SAN `IP:127.0.0.1, DNS:localhost`), signed by the CA.
    pub server_cert: PathBuf,
    /// Server private key.
    pub server_key: PathBuf,
    /// Directory holding only `ca.crt` (a copy of the CA), in the layout
    /// skopeo/containers-image `--*-cert-dir` and docker `certs.d` expect.
    pub cert_dir: PathBuf,
}

/// Generates a fresh CA and a server certificate into `dir`.
pub fn generate(dir: &Path) -> TlsFiles {
    generate_for(dir, TlsMode::Valid).expect("TLS files for TlsMode::Valid")
}

/// TLS files for `mode` (`None` for `TlsMode::Off`):
/// - `Valid`: server certificate signed by the CA, valid for 30 days;
/// - `Expired`: signed by the CA, valid only in January 2020 (`openssl ca`
///   with `-startdate`/`-enddate`: OpenSSL 3.0 `x509` has no `-not_after`);
/// - `UnknownCa`: signed by a second, hidden CA; `ca_pem` is the first.
pub fn generate_for(dir: &Path, mode: TlsMode) -> Option<TlsFiles> {
    if mode == TlsMode::Off {
        return None;
    }
    fs::create_dir_all(dir).expect("create tls dir");
    let (ca_key, ca_pem) = make_ca(dir, "ca", "fluxgate-test-CA");
    let server_key = dir.join("server.key");
    let server_csr = dir.join("server.csr");
    let server_cert = dir.join("server.pem");
    let ext = dir.join("server.ext");
    tools::run(
        OPENSSL
            .command()
            .current_dir(dir)
            .args(format!("req -new {EC} -subj /CN=localhost -keyout").split(' '))
            .arg(&server_key)
            .arg("-out")
            .arg(&server_csr),
        "openssl: generate server key and CSR",
    );
    fs::write(
        &ext,
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n\
         basicConstraints=critical,CA:FALSE\n\
         keyUsage=critical,digitalSignature,keyEncipherment\n\
         extendedKeyUsage=serverAuth\n",
    )
    .expect("write openssl extension file");
    let (signer_key, signer_pem) = match mode {
        TlsMode::UnknownCa => make_ca(dir, "hidden-ca", "fluxgate-hidden-CA"),
        _ => (ca_key, ca_pem.clone()),
    };
    let mut cmd = OPENSSL.command();
    cmd.current_dir(dir);
    if mode == TlsMode::Expired {
        fs::write(dir.join("index.txt"), "").expect("write CA database");
        fs::write(dir.join("serial"), "1000\n").expect("write CA serial");
        fs::write(
            dir.join("ca.cnf"),
            "[ca]\ndefault_ca = d\n[d]\ndatabase = index.txt\nnew_certs_dir = .\n\
             serial = serial\npolicy = p\ndefault_md = sha256\nunique_subject = no\n\
             [p]\ncommonName = supplied\n",
        )
        .expect("write openssl ca config");
        cmd.args(["ca", "-batch", "-notext", "-config", "ca.cnf"])
            .args([
                "-startdate",
                "20200101000000Z",
                "-enddate",
                "20200201000000Z",
            ]);
    } else {
        cmd.args(["x509", "-req", "-sha256", "-days", "30", "-set_serial"])
            .arg(serial());
    }
    cmd.arg(if mode == TlsMode::Expired {
        "-cert"
    } else {
        "-CA"
    })
    .arg(&signer_pem)
    .arg(if mode == TlsMode::Expired {
        "-keyfile"
    } else {
        "-CAkey"
    })
    .arg(&signer_key)
    .arg("-in")
    .arg(&server_csr)
    .arg("-extfile")
    .arg(&ext)
    .arg("-out")
    .arg(&server_cert);
    tools::run(&mut cmd, "openssl: sign server certificate");

    let cert_dir = dir.join("certs.d");
    fs::create_dir_all(&cert_dir).expect("create cert dir");
    fs::copy(&ca_pem, cert_dir.join("ca.crt")).expect("copy CA into cert dir");
    Some(TlsFiles {
        ca_pem,
        server_cert,
        server_key,
        cert_dir,
    })
}

/// EC P-256 keys: generated in milliseconds, understood by Go, curl and rustls.
const EC: &str = "-nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -sha256";

/// A self-signed CA `<stem>.key` / `<stem>.pem` in `dir`.
fn make_ca(dir: &Path, stem: &str, common_name: &str) -> (PathBuf, PathBuf) {
    let key = dir.join(format!("{stem}.key"));
    let pem = dir.join(format!("{stem}.pem"));
    tools::run(
        OPENSSL
            .command()
            .current_dir(dir)
            .args(format!("req -x509 -new {EC} -days 30 -subj /CN={common_name}").split(' '))
            .args(["-addext", "basicConstraints=critical,CA:TRUE"])
            .args(["-addext", "keyUsage=critical,keyCertSign,cRLSign"])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&pem),
        "openssl: generate test CA",
    );
    (key, pem)
}

/// Writes a bcrypt htpasswd file (`htpasswd -Bbn`) with one user.
pub fn write_htpasswd(path: &Path, user: &str, password: &str) {
    let out = tools::run(
        HTPASSWD.command().args(["-Bbn", user, password]),
        "htpasswd: create bcrypt entry",
    );
    fs::write(path, out.stdout).expect("write htpasswd file");
}

/// A positive, practically unique serial number (hex, 64 bits).
fn serial() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("0x{:x}", (nanos as u64 ^ u64::from(std::process::id())) | 1)
}
