//! What kind of `TestRegistry` to start (TLS mode, auth mode) and the
//! distribution 2.8 `config.yml` for it.

use std::path::{Path, PathBuf};

use super::tls::TlsFiles;
use super::token::{TOKEN_ISSUER, TOKEN_SERVICE};

/// Which server certificate a registry presents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsMode {
    /// Plain HTTP.
    Off,
    /// Valid certificate signed by the harness CA.
    Valid,
    /// Signed by the harness CA, but expired long ago.
    Expired,
    /// Signed by a CA the harness never exposes; `ca_pem_path()` is another CA.
    UnknownCa,
}

/// How a registry authenticates clients.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthMode<'a> {
    Anonymous,
    /// htpasswd (bcrypt) HTTP Basic for one user.
    Basic(&'a str, &'a str),
    /// Bearer tokens from a harness token server that knows one user.
    Token(&'a str, &'a str),
}

impl AuthMode<'_> {
    pub fn credentials(self) -> Option<(String, String)> {
        match self {
            AuthMode::Anonymous => None,
            AuthMode::Basic(u, p) | AuthMode::Token(u, p) => Some((u.to_string(), p.to_string())),
        }
    }
}

/// The `auth:` section, with paths/URLs resolved.
#[derive(Clone, Debug)]
pub enum AuthConfig {
    None,
    Htpasswd(PathBuf),
    Token { realm: String, bundle: PathBuf },
}

pub fn config_yaml(dir: &Path, port: u16, tls: Option<&TlsFiles>, auth: &AuthConfig) -> String {
    let quote = |p: &Path| serde_json::to_string(&p.display().to_string()).expect("quote path");
    let mut yaml = format!(
        "version: 0.1\n\
         log:\n  level: error\n  formatter: text\n  accesslog:\n    disabled: false\n\
         storage:\n  filesystem:\n    rootdirectory: {storage}\n  delete:\n    enabled: true\n\
         \x20 maintenance:\n    uploadpurging:\n      enabled: false\n\
         http:\n  addr: 127.0.0.1:{port}\n  secret: fluxgate-test-secret\n",
        storage = quote(&dir.join("storage")),
    );
    if let Some(tls) = tls {
        yaml += &format!(
            "  tls:\n    certificate: {}\n    key: {}\n",
            quote(&tls.server_cert),
            quote(&tls.server_key)
        );
    }
    match auth {
        AuthConfig::None => {}
        AuthConfig::Htpasswd(path) => {
            yaml += &format!(
                "auth:\n  htpasswd:\n    realm: fluxgate-test\n    path: {}\n",
                quote(path)
            );
        }
        AuthConfig::Token { realm, bundle } => {
            yaml += &format!(
                "auth:\n  token:\n    realm: {realm}\n    service: {TOKEN_SERVICE}\n    \
                 issuer: {TOKEN_ISSUER}\n    rootcertbundle: {}\n",
                quote(bundle)
            );
        }
    }
    yaml
}
