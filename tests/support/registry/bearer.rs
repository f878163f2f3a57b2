//! The bearer-token side of a `TestRegistry::token_auth` registry: its token
//! server's realm, request count and log, identity (refresh) token, and
//! tokens minted in-process for the harness's own requests (which therefore
//! never show up in `token_requests()`).

use super::server::TestRegistry;
use super::token::{TokenIssuer, TokenRequest, TOKEN_SERVICE};

impl TestRegistry {
    /// The token server (only for `token_auth()` registries).
    fn issuer(&self) -> &TokenIssuer {
        self.token
            .as_ref()
            .expect("token API on a registry without token auth (use TestRegistry::token_auth)")
    }

    /// True for `token_auth()` registries.
    pub fn is_token_auth(&self) -> bool {
        self.token.is_some()
    }

    /// `http://127.0.0.1:<port>/token`: the `realm` of the Bearer challenge.
    pub fn token_realm(&self) -> String {
        self.issuer().realm()
    }

    /// `fluxgate-test`: the `service` of the Bearer challenge (JWT `aud`).
    pub fn token_service(&self) -> &'static str {
        TOKEN_SERVICE
    }

    /// Requests the token server has answered (any method, any outcome):
    /// lets tests assert that a client reuses its tokens.
    pub fn token_requests(&self) -> usize {
        self.issuer().log().len()
    }

    /// Every token server request so far: method, grant, scopes, status.
    pub fn token_log(&self) -> Vec<TokenRequest> {
        self.issuer().log()
    }

    /// Refresh token accepted by `POST /token` `grant_type=refresh_token`
    /// (what `docker login` stores as `identitytoken` in config.json).
    pub fn identity_token(&self) -> String {
        self.issuer().identity_token().to_string()
    }

    /// A valid token for the registry's user granting `scopes` (e.g.
    /// `repository:org/app:pull`), minted without an HTTP request.
    pub fn bearer_token(&self, scopes: &[&str]) -> String {
        self.issuer().mint(scopes)
    }

    /// For the harness's own requests with `user`/`password`: a full-access
    /// token for the repository `path` names, or `None` for wrong credentials
    /// (the request then goes out anonymous and gets 401).
    pub(super) fn harness_bearer(&self, user: &str, password: &str, path: &str) -> Option<String> {
        let issuer = self.token.as_ref()?;
        if !issuer.accepts(user, password) {
            return None;
        }
        Some(match scope_for_path(path) {
            Some(scope) => issuer.mint(&[&scope]),
            None => issuer.mint(&[]),
        })
    }
}

/// The scope a registry API path needs, with all actions:
/// `/v2/org/app/manifests/v1` → `repository:org/app:pull,push,delete`.
pub fn scope_for_path(path: &str) -> Option<String> {
    let path = path.split('?').next().unwrap_or_default();
    let rest = path.strip_prefix("/v2/")?;
    if rest.starts_with("_catalog") {
        return Some("registry:catalog:*".to_string());
    }
    ["/manifests/", "/blobs/", "/tags/"]
        .iter()
        .find_map(|marker| rest.find(marker))
        .map(|end| format!("repository:{}:pull,push,delete", &rest[..end]))
}
