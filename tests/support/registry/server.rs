//! `TestRegistry`: a real CNCF distribution 2.8 registry (`docker-registry
//! serve`) on a free 127.0.0.1 port, storing into a temp dir, optionally with
//! TLS (harness-generated CA; or a broken certificate: expired, unknown CA)
//! and htpasswd basic auth or bearer tokens from a harness token server.
//! Killed, waited on and deleted on drop.

use std::fs::{self, File};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use super::config::{config_yaml, AuthConfig, AuthMode, TlsMode};
use super::jwt::SigningKey;
use super::tls::{self, TlsFiles};
use super::token::TokenIssuer;
use super::tools::{CURL, DOCKER_REGISTRY};

const READY_TIMEOUT: Duration = Duration::from_secs(10);
const START_ATTEMPTS: usize = 5;
/// File name (in the temp dir) of the accept-anything skopeo policy.
pub(super) const SKOPEO_POLICY_FILE: &str = "policy.json";

/// A running registry. See the module docs of `registry` for usage.
pub struct TestRegistry {
    child: Child,
    pub(super) port: u16,
    pub(super) tls: Option<TlsFiles>,
    pub(super) credentials: Option<(String, String)>,
    pub(super) stdout_path: PathBuf,
    stderr_path: PathBuf,
    /// The token server of a `token_auth()` registry.
    pub(super) token: Option<TokenIssuer>,
    // Declared last: removed after the process is gone.
    pub(super) dir: TempDir,
}

impl TestRegistry {
    /// Plain HTTP, anonymous access (pull and push).
    pub fn plain() -> TestRegistry {
        Self::start(TlsMode::Off, AuthMode::Anonymous, &mut free_port)
    }

    /// HTTPS with a harness-generated CA (see `ca_pem_path`) and htpasswd
    /// (bcrypt) basic auth for one user.
    pub fn tls_basic(user: &str, password: &str) -> TestRegistry {
        Self::start(
            TlsMode::Valid,
            AuthMode::Basic(user, password),
            &mut free_port,
        )
    }

    /// Plain HTTP with htpasswd basic auth (distribution 2.8 allows this; real
    /// registries never do it, but it keeps auth tests free of TLS).
    pub fn plain_basic(user: &str, password: &str) -> TestRegistry {
        Self::start(
            TlsMode::Off,
            AuthMode::Basic(user, password),
            &mut free_port,
        )
    }

    /// HTTPS (harness CA) with the Docker token flow: `GET /v2/` answers 401
    /// `WWW-Authenticate: Bearer realm="http://127.0.0.1:<port>/token",
    /// service="fluxgate-test"`, and the harness token server there issues
    /// RS256 JWTs for `user`/`password` (see `token_realm`, `token_requests`).
    pub fn token_auth(user: &str, password: &str) -> TestRegistry {
        Self::start(
            TlsMode::Valid,
            AuthMode::Token(user, password),
            &mut free_port,
        )
    }

    /// HTTPS, anonymous, with a server certificate signed by the harness CA
    /// that expired in 2020: verifying clients must fail (curl exit 60).
    pub fn tls_expired() -> TestRegistry {
        Self::start(TlsMode::Expired, AuthMode::Anonymous, &mut free_port)
    }

    /// HTTPS, anonymous, with a server certificate from a CA the harness does
    /// not expose: clients trusting `ca_pem_path()` (a different CA) must fail.
    pub fn tls_unknown_ca() -> TestRegistry {
        Self::start(TlsMode::UnknownCa, AuthMode::Anonymous, &mut free_port)
    }

    /// Like `plain()`, but takes candidate ports from `next_port` (exercises
    /// the retry when another process grabbed the port first).
    pub fn plain_with_ports(mut next_port: impl FnMut() -> u16) -> TestRegistry {
        Self::start(TlsMode::Off, AuthMode::Anonymous, &mut next_port)
    }

    fn start(
        tls_mode: TlsMode,
        auth: AuthMode,
        next_port: &mut dyn FnMut() -> u16,
    ) -> TestRegistry {
        let registry_bin = DOCKER_REGISTRY.path();
        CURL.path(); // fail early (naming the package) rather than on first request
        let mut dir = tempfile::Builder::new()
            .prefix("fluxgate-registry-")
            .tempdir()
            .expect("create registry temp dir");
        let tls = tls::generate_for(&dir.path().join("tls"), tls_mode);
        let mut token = None;
        let auth_config = match auth {
            AuthMode::Anonymous => AuthConfig::None,
            AuthMode::Basic(user, password) => {
                let path = dir.path().join("htpasswd");
                tls::write_htpasswd(&path, user, password);
                AuthConfig::Htpasswd(path)
            }
            AuthMode::Token(user, password) => {
                let key = SigningKey::generate(&dir.path().join("token"));
                let issuer = TokenIssuer::start(user, password, key);
                let config = AuthConfig::Token {
                    realm: issuer.realm(),
                    bundle: issuer.root_cert_bundle().to_path_buf(),
                };
                token = Some(issuer);
                config
            }
        };
        fs::write(
            dir.path().join(SKOPEO_POLICY_FILE),
            r#"{"default":[{"type":"insecureAcceptAnything"}]}"#,
        )
        .expect("write skopeo policy");
        let credentials = auth.credentials();
        let stdout_path = dir.path().join("registry.stdout.log");
        let stderr_path = dir.path().join("registry.stderr.log");

        for attempt in 1..=START_ATTEMPTS {
            let port = next_port();
            let config = dir.path().join("config.yml");
            fs::write(
                &config,
                config_yaml(dir.path(), port, tls.as_ref(), &auth_config),
            )
            .expect("write registry config");
            let child = std::process::Command::new(&registry_bin)
                .arg("serve")
                .arg(&config)
                // The registry shares this machine's cores with the client
                // under test (a real one does not): Go's default collector
                // was a third of its CPU per request; collect less often.
                .env("GOGC", "400")
                .stdin(Stdio::null())
                .stdout(File::create(&stdout_path).expect("create stdout log"))
                .stderr(File::create(&stderr_path).expect("create stderr log"))
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {}: {e}", registry_bin.display()));
            let mut registry = TestRegistry {
                child,
                port,
                tls: tls.clone(),
                credentials: credentials.clone(),
                stdout_path: stdout_path.clone(),
                stderr_path: stderr_path.clone(),
                token: token.take(),
                dir,
            };
            match registry.wait_ready() {
                Ok(()) => return registry,
                Err(reason) => {
                    let stderr = registry.stderr();
                    let lost_race = stderr.contains("address already in use");
                    if !lost_race || attempt == START_ATTEMPTS {
                        panic!(
                            "docker-registry on 127.0.0.1:{port} did not become ready: {reason}\n\
                             --- registry stderr ---\n{stderr}\n--- registry stdout ---\n{}",
                            registry.access_log()
                        );
                    }
                    registry.stop();
                    token = registry.token.take();
                    dir = registry.take_dir();
                }
            }
        }
        unreachable!("start loop returns or panics")
    }

    /// Polls `GET /v2/` until it answers 200 or 401, the process dies, or
    /// the timeout passes.
    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + READY_TIMEOUT;
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        loop {
            if let Some(status) = self.child.try_wait().expect("poll registry process") {
                return Err(format!("process exited early with {status}"));
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                let mut cmd = self.curl();
                // Short timeout: whatever holds the port may never answer.
                // `--insecure`: broken certificates (tls_expired) are on purpose.
                cmd.args(["--max-time", "1", "--insecure", "-o", "/dev/null"])
                    .args(["-w", "%{http_code}"])
                    .arg(self.url("/v2/"));
                let out = cmd.output().expect("run curl");
                let code = String::from_utf8_lossy(&out.stdout).to_string();
                if code == "200" || code == "401" {
                    return Ok(());
                }
            }
            if Instant::now() >= deadline {
                return Err(format!("no 200/401 from GET /v2/ within {READY_TIMEOUT:?}"));
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// `host:port` to put in image references, e.g. `127.0.0.1:41234`.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Process id of the registry server.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// `http://127.0.0.1:<port>` or `https://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        let scheme = if self.is_tls() { "https" } else { "http" };
        format!("{scheme}://{}", self.host())
    }

    /// `base_url()` + `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url())
    }

    /// PEM file of the harness CA: it signed the server certificate, except
    /// for `tls_unknown_ca()` (TLS only).
    pub fn ca_pem_path(&self) -> &Path {
        &self
            .tls
            .as_ref()
            .expect("ca_pem_path() on a registry without TLS")
            .ca_pem
    }

    /// Directory containing only `ca.crt`, for skopeo's `--*-cert-dir` (TLS only).
    pub fn cert_dir(&self) -> &Path {
        &self
            .tls
            .as_ref()
            .expect("cert_dir() on a registry without TLS")
            .cert_dir
    }

    /// `(user, password)` for registries with basic auth.
    pub fn credentials(&self) -> Option<(&str, &str)> {
        self.credentials
            .as_ref()
            .map(|(u, p)| (u.as_str(), p.as_str()))
    }

    /// The temp dir holding config, storage, certificates and logs.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The registry's own (error-level) log.
    pub fn stderr(&self) -> String {
        fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Moves the temp dir out of a registry that failed to start, replacing
    /// it with an empty placeholder that is removed with it.
    fn take_dir(mut self) -> TempDir {
        let placeholder = tempfile::tempdir().expect("create placeholder temp dir");
        std::mem::replace(&mut self.dir, placeholder)
    }
}

impl Drop for TestRegistry {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A port that was free a moment ago (bind port 0, read it, release it).
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local addr").port()
}
