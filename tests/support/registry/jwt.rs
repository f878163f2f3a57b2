//! JWTs the way a Docker registry token server makes them: RS256 over
//! `base64url(header).base64url(claims)`, signed with `openssl dgst -sha256
//! -sign` by a self-signed RSA certificate that is also the registry's
//! `rootcertbundle` and travels in the header's `x5c`. Plus the small codecs
//! this needs (base64 / base64url, RFC 3339 UTC timestamps).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use super::tools::{self, OPENSSL};

/// The token signing key and its self-signed certificate.
#[derive(Clone, Debug)]
pub struct SigningKey {
    /// RSA private key (PEM).
    pub key: PathBuf,
    /// Self-signed certificate (PEM): the registry's `rootcertbundle`.
    pub cert: PathBuf,
    /// Standard base64 of the certificate's DER, the single `x5c` entry.
    pub x5c: String,
}

impl SigningKey {
    /// Generates an RSA-2048 key and a self-signed certificate into `dir`.
    pub fn generate(dir: &Path) -> SigningKey {
        std::fs::create_dir_all(dir).expect("create token key dir");
        let key = dir.join("token-signing.key");
        let cert = dir.join("token-signing.pem");
        tools::run(
            OPENSSL
                .command()
                .args(["req", "-x509", "-new", "-nodes", "-newkey", "rsa:2048"])
                .args([
                    "-sha256",
                    "-days",
                    "30",
                    "-subj",
                    "/CN=fluxgate-token-signer",
                ])
                .arg("-keyout")
                .arg(&key)
                .arg("-out")
                .arg(&cert),
            "openssl: generate token signing key and certificate",
        );
        let der = tools::run(
            OPENSSL
                .command()
                .args(["x509", "-outform", "DER", "-in"])
                .arg(&cert),
            "openssl: certificate to DER",
        )
        .stdout;
        SigningKey {
            key,
            cert,
            x5c: base64(&der, STANDARD),
        }
    }

    /// A signed compact JWT with these `claims`.
    pub fn sign(&self, claims: &Value) -> String {
        let header = json!({ "alg": "RS256", "typ": "JWT", "x5c": [self.x5c] });
        let input = format!(
            "{}.{}",
            base64url(header.to_string().as_bytes()),
            base64url(claims.to_string().as_bytes())
        );
        let mut child = OPENSSL
            .command()
            .args(["dgst", "-sha256", "-sign"])
            .arg(&self.key)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn openssl dgst");
        let mut stdin = child.stdin.take().expect("openssl stdin");
        stdin.write_all(input.as_bytes()).expect("write to openssl");
        drop(stdin);
        let out = child.wait_with_output().expect("wait for openssl dgst");
        assert!(out.status.success(), "openssl dgst -sign failed: {out:?}");
        format!("{input}.{}", base64url(&out.stdout))
    }
}

/// The claims (payload) of a compact JWT, decoded but NOT verified.
pub fn jwt_claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).expect("JWT has three parts");
    let bytes = base64_decode(payload).expect("JWT payload is base64url");
    serde_json::from_slice(&bytes).expect("JWT payload is JSON")
}

/// The header of a compact JWT, decoded but NOT verified.
pub fn jwt_header(jwt: &str) -> Value {
    let header = jwt.split('.').next().unwrap_or_default();
    let bytes = base64_decode(header).expect("JWT header is base64url");
    serde_json::from_slice(&bytes).expect("JWT header is JSON")
}

const STANDARD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL_SAFE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// base64url without padding (JWT segments).
pub fn base64url(bytes: &[u8]) -> String {
    base64(bytes, URL_SAFE).trim_end_matches('=').to_string()
}

/// Standard base64 with padding (HTTP Basic, `x5c`).
pub fn base64_std(bytes: &[u8]) -> String {
    base64(bytes, STANDARD)
}

fn base64(bytes: &[u8], alphabet: &[u8; 64]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(alphabet[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes standard or url-safe base64, padded or not; `None` if malformed.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let text = text.trim().trim_end_matches('=');
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    (bits < 6).then_some(out)
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// `secs` since the epoch as RFC 3339 UTC, e.g. `2026-11-22T03:03:12Z`.
pub fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil-from-days (H. Hinnant), valid for all dates after 1970.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}
