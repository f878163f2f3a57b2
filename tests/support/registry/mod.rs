//! Registry test harness: real OCI registries and real images for integration
//! tests, all on 127.0.0.1 and in temp dirs that vanish on drop.
//!
//! Include it from an integration test (`tests/<name>.rs`) with
//!
//! ```ignore
//! #[path = "support/registry/mod.rs"]
//! mod registry;
//! use registry::{OciLayout, TestRegistry};
//!
//! #[test]
//! fn finds_pushed_image() {
//!     let reg = TestRegistry::plain(); // or TestRegistry::tls_basic("user", "secret")
//!     let image = OciLayout::image("linux", "amd64");
//!     let digest = reg.push(&image, "org/app:v1"); // skopeo copy, digests preserved
//!     assert_eq!(digest, image.digest());
//!     let image_ref = format!("{}/org/app:v1", reg.host()); // 127.0.0.1:PORT/org/app:v1
//!     // ... run fluxgate against image_ref (for TLS: trust reg.ca_pem_path()) ...
//!     let mark = reg.mark();
//!     assert_eq!(reg.head_manifest("org/app:v1").status, 200);
//!     assert_eq!(reg.count_requests_since(mark, "HEAD", "/v2/org/app/manifests/"), 1);
//! }
//!
//! #[test]
//! fn reuses_bearer_tokens() {
//!     let reg = TestRegistry::token_auth("user", "secret"); // TLS + Bearer realm
//!     reg.push(&OciLayout::image("linux", "amd64"), "org/app:v1");
//!     let before = reg.token_requests(); // the harness's own requests don't count
//!     // ... run fluxgate (CA: reg.ca_pem_path(), creds: user/secret) ...
//!     assert_eq!(reg.token_requests() - before, 1);
//! }
//! ```
//!
//! Pieces:
//! - [`TestRegistry`] (`server.rs`, `config.rs`): `docker-registry serve` (CNCF
//!   distribution 2.8) — `plain()`, `tls_basic(user, pw)`, `plain_basic(user,
//!   pw)`, `token_auth(user, pw)`, and the TLS faults `tls_expired()`,
//!   `tls_unknown_ca()` (`tls.rs`); access log parsing for request counting
//!   (`access_log.rs`).
//! - Bearer tokens (`token.rs`, `jwt.rs`, `bearer.rs`): a Docker token server
//!   on plain HTTP 127.0.0.1 issuing RS256 JWTs (x5c = a self-signed cert that
//!   is the registry's `rootcertbundle`); `token_realm()`, `token_requests()`,
//!   `token_log()`, `identity_token()`, `bearer_token(scopes)`.
//! - [`OciLayout`] (`oci.rs`): OCI layout dirs built in Rust — `image(os, arch)`,
//!   `multi_arch()`, `index(..)`, `helm_chart(name, version)`.
//! - Seeding (`push.rs`): `push` (OCI, digest-preserving), `push_docker`
//!   (schema2 / manifest list), `manifest_digest`, `head_manifest`.
//! - HTTP (`http.rs`): `send(&Request)` via curl with the harness CA/creds.
//!
//! Needs `docker-registry`, `skopeo`, `apache2-utils`, `openssl` and `curl`
//! (Debian packages); a missing binary panics naming its package.
#![allow(dead_code, unused_imports)]

mod access_log;
mod archive;
mod bearer;
mod config;
mod http;
mod jwt;
pub mod media;
mod mini_http;
mod oci;
mod push;
mod server;
mod tls;
mod token;
mod tools;

pub use access_log::{parse as access_log_parse, AccessLogEntry, LogMark};
pub use archive::{gzip_stored, sha256_digest, tar};
pub use bearer::scope_for_path;
pub use http::{Auth, CurlError, HttpResponse, Request, Trust};
pub use jwt::{base64_decode, base64_std, base64url, jwt_claims, jwt_header, rfc3339};
pub use oci::{helm_chart_archive, helm_chart_archive_with, Descriptor, OciLayout};
pub use push::{split_reference, PushFormat};
pub use server::{free_port, TestRegistry};
pub use token::{TokenRequest, TOKEN_ISSUER, TOKEN_LIFETIME, TOKEN_SERVICE};
pub use tools::Tool;
