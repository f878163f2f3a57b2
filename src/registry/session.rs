//! One session per registry host: which scheme answers, which
//! authentication the registry asks for (learned from one `GET /v2/`), and
//! the tokens, fetched once per repository and shared by every request.

use super::auth::{AuthSources, Credential, Found};
use super::challenge::{self, Challenge};
use super::endpoint::Endpoint;
use super::once_map::OnceMap;
use super::retry::{self, Retry};
use super::transport::{self, Request};
use super::{Cause, Failure};
use base64::Engine as _;
use reqwest::header::{HeaderValue, WWW_AUTHENTICATE};
use reqwest::{Client, Method, StatusCode, Url};
use std::sync::Arc;
use tokio::time::Instant;

/// How a registry wants requests authenticated.
#[derive(Debug, Clone)]
enum Scheme {
    Anonymous,
    Basic,
    Bearer {
        realm: String,
        service: Option<String>,
    },
}

/// A registry host, reached and understood.
pub struct Session {
    pub base: Url,
    pub client: Client,
    pub host: String,
    pub allow_http: bool,
    auth_registry: String,
    auth: Arc<AuthSources>,
    scheme: std::sync::Mutex<Scheme>,
    /// `Authorization` per repository, computed once.
    authorizations: OnceMap<String, Result<Option<HeaderValue>, Failure>>,
    deadline: Instant,
}

impl Session {
    /// Pings the registry. Loopback: plain HTTP first (a ping carries no
    /// credentials, and a plain server may never answer a TLS hello), then
    /// HTTPS. Marked insecure: HTTPS first, then plain HTTP. Else HTTPS only.
    pub async fn establish(
        endpoint: &Endpoint,
        client: Client,
        auth: Arc<AuthSources>,
        deadline: Instant,
    ) -> Result<Session, Failure> {
        let schemes: &[&str] = if super::endpoint::is_loopback(&endpoint.host) {
            &["http", "https"]
        } else if endpoint.allow_http {
            &["https", "http"]
        } else {
            &["https"]
        };
        let mut last = None;
        for scheme in schemes {
            let base = Url::parse(&format!("{scheme}://{}/", endpoint.host)).map_err(|e| {
                Failure::new(
                    Cause::Protocol,
                    format!("invalid registry host {}: {e}", endpoint.host),
                )
            })?;
            match ping(&client, &base, endpoint.allow_http, deadline).await {
                Ok(auth_scheme) => {
                    return Ok(Session {
                        base,
                        client,
                        host: endpoint.host.clone(),
                        allow_http: endpoint.allow_http,
                        auth_registry: endpoint.auth_registry.clone(),
                        auth,
                        scheme: std::sync::Mutex::new(auth_scheme),
                        authorizations: OnceMap::default(),
                        deadline,
                    });
                }
                // A server that presents a certificate speaks TLS: plain HTTP is no answer.
                Err(failure)
                    if transport::is_certificate_failure(&failure)
                        || failure.cause != Cause::Unreachable =>
                {
                    return Err(failure)
                }
                Err(failure) => last = Some(failure),
            }
        }
        Err(last.unwrap_or_else(|| {
            Failure::new(
                Cause::Unreachable,
                format!("{} cannot be reached", endpoint.host),
            )
        }))
    }

    /// When the whole check must be over.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// The `Authorization` header for a repository (`None`: anonymous).
    pub async fn authorization(&self, repository: &str) -> Result<Option<HeaderValue>, Failure> {
        self.authorizations
            .get_or_init(repository.to_string(), || {
                self.compute_authorization(repository)
            })
            .await
    }

    /// Learns a challenge met on a repository request (a registry whose
    /// `/v2/` is open but whose repositories are not). True if it is new.
    pub async fn learn_challenge(&self, header: Option<&HeaderValue>, repository: &str) -> bool {
        let Some(found) = header
            .and_then(|h| h.to_str().ok())
            .and_then(challenge::parse)
        else {
            return false;
        };
        let learned = match found {
            Challenge::Basic => Scheme::Basic,
            Challenge::Bearer { realm, service, .. } => Scheme::Bearer { realm, service },
        };
        {
            let mut scheme = self.scheme.lock().unwrap_or_else(|p| p.into_inner());
            if !matches!(*scheme, Scheme::Anonymous) {
                return false;
            }
            *scheme = learned;
        }
        self.authorizations.forget(&repository.to_string()).await;
        true
    }

    async fn compute_authorization(
        &self,
        repository: &str,
    ) -> Result<Option<HeaderValue>, Failure> {
        let scheme = self
            .scheme
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if matches!(scheme, Scheme::Anonymous) {
            return Ok(None);
        }
        let found = self
            .auth
            .lookup(&self.auth_registry, repository)
            .await
            .map_err(|e| {
                Failure::new(
                    Cause::Unauthorized,
                    format!("credentials for {}: {e}", self.auth_registry),
                )
            })?;
        match scheme {
            Scheme::Anonymous => Ok(None),
            Scheme::Basic => match found.map(|f| f.credential) {
                Some(Credential::Basic { username, password }) => {
                    if self.base.scheme() == "http" && !self.allow_http {
                        return Err(Failure::new(Cause::Unauthorized, "refusing to send credentials over plain HTTP"));
                    }
                    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{username}:{}", password.expose()));
                    Ok(Some(sensitive(&format!("Basic {encoded}"))?))
                }
                Some(Credential::IdentityToken { .. }) => Err(Failure::new(
                    Cause::Unauthorized,
                    format!("{} asks for a password (Basic auth), but only an identity token is configured for it", self.host),
                )),
                None => Err(Failure::new(
                    Cause::Unauthorized,
                    format!("{} requires credentials and none are configured (run `docker login {}`)", self.host, self.auth_registry),
                )),
            },
            Scheme::Bearer { realm, service } => self.bearer_token(&realm, service.as_deref(), repository, found.as_ref()).await.map(Some),
        }
    }

    /// A token for pulling from one repository (Docker token auth spec).
    async fn bearer_token(
        &self,
        realm: &str,
        service: Option<&str>,
        repository: &str,
        found: Option<&Found>,
    ) -> Result<HeaderValue, Failure> {
        let realm_url = Url::parse(realm).map_err(|e| {
            Failure::new(
                Cause::Protocol,
                format!("invalid token realm `{realm}`: {e}"),
            )
        })?;
        let realm_host = transport::host_of(&realm_url);
        if found.is_some()
            && realm_url.scheme() != "https"
            && !(self.allow_http || super::endpoint::is_loopback(&realm_host))
        {
            return Err(Failure::new(
                Cause::Unauthorized,
                format!(
                    "token realm {realm_host} is plain HTTP; refusing to send credentials there"
                ),
            ));
        }
        let scope = format!("repository:{repository}:pull");
        let mut url = realm_url.clone();
        let (basic, form);
        let mut form_fields: Vec<(&str, &str)> = Vec::new();
        let method = match found.map(|f| &f.credential) {
            Some(Credential::IdentityToken { token, .. }) => {
                form_fields.extend([
                    ("grant_type", "refresh_token"),
                    ("refresh_token", token.expose()),
                    ("client_id", "fluxgate"),
                    ("scope", scope.as_str()),
                ]);
                if let Some(service) = service {
                    form_fields.push(("service", service));
                }
                basic = None;
                Method::POST
            }
            credential => {
                {
                    let mut query = url.query_pairs_mut();
                    if let Some(service) = service {
                        query.append_pair("service", service);
                    }
                    query.append_pair("scope", &scope);
                }
                basic = match credential {
                    Some(Credential::Basic { username, password }) => {
                        let encoded = base64::engine::general_purpose::STANDARD
                            .encode(format!("{username}:{}", password.expose()));
                        Some(sensitive(&format!("Basic {encoded}"))?)
                    }
                    _ => None,
                };
                Method::GET
            }
        };
        form = (!form_fields.is_empty()).then_some(form_fields.as_slice());
        let mut retry = Retry::new(self.deadline);
        loop {
            let request = Request {
                method: method.clone(),
                url: url.clone(),
                accept: None,
                authorization: basic.as_ref(),
                form,
                allow_http: self.allow_http,
            };
            let response = transport::send(&self.client, request, self.deadline).await?;
            let status = response.status();
            if status == StatusCode::OK {
                let body = response.bytes().await.map_err(|e| {
                    Failure::new(
                        Cause::Unreachable,
                        format!("token endpoint {realm_host}: {}", transport::error_text(&e)),
                    )
                })?;
                let parsed: serde_json::Value = serde_json::from_slice(&body).map_err(|_| {
                    Failure::new(
                        Cause::Protocol,
                        format!("token endpoint {realm_host} answered malformed JSON"),
                    )
                })?;
                let token = parsed
                    .get("token")
                    .or_else(|| parsed.get("access_token"))
                    .and_then(|t| t.as_str())
                    .filter(|t| !t.is_empty())
                    .ok_or_else(|| {
                        Failure::new(
                            Cause::Protocol,
                            format!("token endpoint {realm_host} answered without a token"),
                        )
                    })?;
                return sensitive(&format!("Bearer {token}"));
            }
            if (status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error())
                && retry.wait(retry::retry_after(response.headers())).await
            {
                continue;
            }
            let source = found.map_or("anonymous access".to_string(), |f| {
                format!("the credentials from {}", f.source)
            });
            return Err(match status {
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Failure::new(
                    Cause::Unauthorized,
                    format!(
                        "token endpoint {realm_host} refused {source} (HTTP {})",
                        status.as_u16()
                    ),
                ),
                StatusCode::TOO_MANY_REQUESTS => Failure::new(
                    Cause::RateLimited,
                    format!("token endpoint {realm_host} kept answering 429"),
                ),
                s if s.is_server_error() => Failure::new(
                    Cause::ServerError,
                    format!("token endpoint {realm_host} answered HTTP {}", s.as_u16()),
                ),
                s => Failure::new(
                    Cause::Protocol,
                    format!("token endpoint {realm_host} answered HTTP {}", s.as_u16()),
                ),
            });
        }
    }
}

/// A header value marked sensitive, so no debug output of the request shows it.
fn sensitive(value: &str) -> Result<HeaderValue, Failure> {
    let mut header = HeaderValue::from_str(value).map_err(|_| {
        Failure::new(
            Cause::Protocol,
            "credential or token is not a valid header value",
        )
    })?;
    header.set_sensitive(true);
    Ok(header)
}

/// `GET /v2/`: is this a registry, and what authentication does it want?
async fn ping(
    client: &Client,
    base: &Url,
    allow_http: bool,
    deadline: Instant,
) -> Result<Scheme, Failure> {
    let url = base
        .join("v2/")
        .map_err(|e| Failure::new(Cause::Protocol, e.to_string()))?;
    let host = transport::host_of(base);
    let mut retry = Retry::new(deadline);
    loop {
        let request = Request {
            method: Method::GET,
            url: url.clone(),
            accept: None,
            authorization: None,
            form: None,
            allow_http,
        };
        let response = match transport::send(client, request, deadline).await {
            Err(failure) if failure.cause == Cause::Timeout && retry.wait(None).await => continue,
            other => other?,
        };
        let status = response.status();
        match status {
            StatusCode::OK => return Ok(Scheme::Anonymous),
            StatusCode::UNAUTHORIZED => {
                let header = response
                    .headers()
                    .get(WWW_AUTHENTICATE)
                    .and_then(|h| h.to_str().ok());
                return match header.and_then(challenge::parse) {
                    Some(Challenge::Basic) => Ok(Scheme::Basic),
                    Some(Challenge::Bearer { realm, service, .. }) => {
                        Ok(Scheme::Bearer { realm, service })
                    }
                    None => Err(Failure::new(
                        Cause::Protocol,
                        format!("{host} answered 401 without a usable WWW-Authenticate challenge"),
                    )),
                };
            }
            s if (s == StatusCode::TOO_MANY_REQUESTS || s.is_server_error())
                && retry.wait(retry::retry_after(response.headers())).await =>
            {
                continue
            }
            StatusCode::TOO_MANY_REQUESTS => {
                return Err(Failure::new(
                    Cause::RateLimited,
                    format!("{host} kept answering 429 Too Many Requests"),
                ))
            }
            s if s.is_server_error() => {
                return Err(Failure::new(
                    Cause::ServerError,
                    format!("{host} answered HTTP {} to GET /v2/", s.as_u16()),
                ))
            }
            // A TLS-only server answers plain HTTP with 400: let HTTPS be tried.
            StatusCode::BAD_REQUEST if base.scheme() == "http" => {
                return Err(Failure::new(
                    Cause::Unreachable,
                    format!("{host} answered plain HTTP with 400 (it may speak only TLS)"),
                ))
            }
            s => {
                return Err(Failure::new(
                    Cause::Protocol,
                    format!(
                        "{host} does not serve the registry API: GET /v2/ answered HTTP {}",
                        s.as_u16()
                    ),
                ))
            }
        }
    }
}
