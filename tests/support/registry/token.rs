//! A Docker-registry token server (the `realm` of `auth: token`) on a plain
//! HTTP 127.0.0.1 port, served by a std `TcpListener` thread:
//! - `GET /token?service=..&scope=..` with HTTP Basic → `{token, access_token,
//!   expires_in, issued_at}` granting every requested scope; wrong credentials
//!   → 401; no credentials → a token with empty `access` (the registry then
//!   answers 401, as real registries do for private repositories).
//! - `POST /token` (OAuth2 form): `grant_type=password` or
//!   `grant_type=refresh_token` with the identity token → `{access_token,
//!   refresh_token, ...}`.
//!
//! Every request is counted and logged, so tests can assert token reuse.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::{json, Value};

use super::jwt::{rfc3339, unix_now, SigningKey};
use super::mini_http::{read_request, write_response, HttpRequest};

/// `service` (the JWT audience) the registry expects.
pub const TOKEN_SERVICE: &str = "fluxgate-test";
/// `iss` of issued tokens.
pub const TOKEN_ISSUER: &str = "fluxgate-test-issuer";
/// Lifetime of issued tokens (`expires_in`, seconds).
pub const TOKEN_LIFETIME: u64 = 300;

/// One request the token server answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenRequest {
    /// `GET` or `POST`.
    pub method: String,
    /// `basic`, `anonymous`, `password`, `refresh_token` or what was sent.
    pub grant: String,
    /// `scope` values as requested, e.g. `repository:org/app:pull`.
    pub scopes: Vec<String>,
    /// HTTP status answered.
    pub status: u16,
}

struct State {
    user: String,
    password: String,
    identity_token: String,
    key: SigningKey,
    next_jti: AtomicU64,
    log: Mutex<Vec<TokenRequest>>,
}

/// The running token server; stopped (thread joined) on drop.
pub struct TokenIssuer {
    port: u16,
    state: Arc<State>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl TokenIssuer {
    /// Binds a free port and serves tokens for `user`/`password`, signed by `key`.
    pub fn start(user: &str, password: &str, key: SigningKey) -> TokenIssuer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind token server");
        let port = listener.local_addr().expect("token server addr").port();
        let state = Arc::new(State {
            user: user.to_string(),
            password: password.to_string(),
            identity_token: format!("fluxgate-refresh-{:x}-{port}", unix_now() ^ 0x5eed),
            key,
            next_jti: AtomicU64::new(1),
            log: Mutex::new(Vec::new()),
        });
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (state, stop) = (state.clone(), stop.clone());
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    if let Ok(stream) = stream {
                        let state = state.clone();
                        std::thread::spawn(move || serve(stream, &state));
                    }
                }
            })
        };
        TokenIssuer {
            port,
            state,
            stop,
            thread: Some(thread),
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:<port>/token`, the registry's `realm`.
    pub fn realm(&self) -> String {
        format!("http://127.0.0.1:{}/token", self.port)
    }

    /// The refresh token accepted by `grant_type=refresh_token` (what
    /// `docker login` stores as `identitytoken`).
    pub fn identity_token(&self) -> &str {
        &self.state.identity_token
    }

    /// Path of the signing certificate (the registry's `rootcertbundle`).
    pub fn root_cert_bundle(&self) -> &std::path::Path {
        &self.state.key.cert
    }

    /// Requests answered so far, in order.
    pub fn log(&self) -> Vec<TokenRequest> {
        self.state.log.lock().expect("token log").clone()
    }

    /// True when `user`/`password` are the configured credentials.
    pub fn accepts(&self, user: &str, password: &str) -> bool {
        self.state.user == user && self.state.password == password
    }

    /// A token for the configured user granting every scope in `scopes`,
    /// minted in-process (not counted as a request).
    pub fn mint(&self, scopes: &[&str]) -> String {
        let scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
        self.state.token(&self.state.user, &access(&scopes))
    }
}

impl Drop for TokenIssuer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept() so the loop sees the flag.
        let _ = TcpStream::connect_timeout(
            &SocketAddr::from(([127, 0, 0, 1], self.port)),
            Duration::from_secs(1),
        );
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl State {
    fn token(&self, subject: &str, access: &Value) -> String {
        let now = unix_now();
        let jti = self.next_jti.fetch_add(1, Ordering::SeqCst);
        self.key.sign(&json!({
            "iss": TOKEN_ISSUER,
            "sub": subject,
            "aud": TOKEN_SERVICE,
            "exp": now + TOKEN_LIFETIME,
            "nbf": now - 5,
            "iat": now,
            "jti": format!("fluxgate-{jti}"),
            "access": access,
        }))
    }

    /// Decides on one request: `(status, grant label, JSON body)`.
    fn answer(&self, req: &HttpRequest, scopes: &[String]) -> (u16, String, Value) {
        let denied = |grant: &str| {
            (
                401,
                grant.to_string(),
                json!({"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]}),
            )
        };
        let now = unix_now();
        let mut body = json!({ "expires_in": TOKEN_LIFETIME, "issued_at": rfc3339(now) });
        match req.method.as_str() {
            "GET" => {
                let (grant, subject) = match req.basic_auth() {
                    None => ("anonymous", None),
                    Some((u, p)) if u == self.user && p == self.password => ("basic", Some(u)),
                    Some(_) => return denied("basic"),
                };
                let access = subject.as_ref().map_or(json!([]), |_| access(scopes));
                let token = self.token(subject.as_deref().unwrap_or(""), &access);
                body["token"] = json!(token);
                body["access_token"] = json!(token);
                if subject.is_some() && req.param("offline_token").as_deref() == Some("true") {
                    body["refresh_token"] = json!(self.identity_token);
                }
                (200, grant.to_string(), body)
            }
            "POST" => {
                let form = req.form();
                let field = |name: &str| {
                    form.iter()
                        .find(|(k, _)| k == name)
                        .map(|(_, v)| v.as_str())
                };
                let grant = field("grant_type").unwrap_or("").to_string();
                let ok = match grant.as_str() {
                    "password" => {
                        field("username") == Some(&self.user)
                            && field("password") == Some(&self.password)
                    }
                    "refresh_token" => field("refresh_token") == Some(&self.identity_token),
                    _ => return (400, grant, json!({"error": "unsupported_grant_type"})),
                };
                if !ok {
                    return denied(&grant);
                }
                body["access_token"] = json!(self.token(&self.user, &access(scopes)));
                body["refresh_token"] = json!(self.identity_token);
                body["scope"] = json!(scopes.join(" "));
                (200, grant, body)
            }
            _ => (
                405,
                req.method.clone(),
                json!({"error": "method not allowed"}),
            ),
        }
    }
}

/// The `access` claim granting everything each scope asks for.
fn access(scopes: &[String]) -> Value {
    let entries: Vec<Value> = scopes
        .iter()
        .filter_map(|scope| {
            let (kind, rest) = scope.split_once(':')?;
            let (name, actions) = rest.rsplit_once(':')?;
            let actions: Vec<&str> = actions.split(',').filter(|a| !a.is_empty()).collect();
            Some(json!({ "type": kind, "name": name, "actions": actions }))
        })
        .collect();
    Value::Array(entries)
}

/// Handles one connection: one request, one response, close.
fn serve(stream: TcpStream, state: &State) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let Some(req) = read_request(&stream) else {
        return;
    };
    // GET: one `scope` parameter each; POST (OAuth2 form): space-separated.
    let scopes: Vec<String> = if req.method == "POST" {
        let form = req.form();
        let scope = form.iter().filter(|(k, _)| k == "scope");
        scope
            .flat_map(|(_, v)| v.split(' ').map(str::to_string))
            .collect()
    } else {
        let scope = req.query.iter().filter(|(k, _)| k == "scope");
        scope.map(|(_, v)| v.clone()).collect()
    };
    if req.path != "/token" {
        return write_response(stream, 404, &json!({"error": "not found"}));
    }
    let (status, grant, body) = state.answer(&req, &scopes);
    state.log.lock().expect("token log").push(TokenRequest {
        method: req.method.clone(),
        grant,
        scopes,
        status,
    });
    write_response(stream, status, &body);
}
