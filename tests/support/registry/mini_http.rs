//! Just enough HTTP/1.1 server for the harness token server: read one
//! request (request line, `Authorization`, `Content-Length` body) from a
//! `TcpStream`, decode query strings and forms, write one JSON response and
//! close (`Connection: close`, so clients never reuse the connection).

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;

use serde_json::Value;

use super::jwt::base64_decode;

/// One parsed request.
pub struct HttpRequest {
    /// Upper-cased method.
    pub method: String,
    /// Path without the query string.
    pub path: String,
    /// Decoded query parameters, in order (repeats kept).
    pub query: Vec<(String, String)>,
    pub authorization: Option<String>,
    pub body: Vec<u8>,
}

impl HttpRequest {
    pub fn param(&self, name: &str) -> Option<String> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }

    /// `(user, password)` from `Authorization: Basic`; `("", "")` for a
    /// header that is not valid Basic; `None` without the header.
    pub fn basic_auth(&self) -> Option<(String, String)> {
        let auth = self.authorization.as_deref()?;
        let encoded = auth
            .strip_prefix("Basic ")
            .or_else(|| auth.strip_prefix("basic "));
        let decoded = encoded.and_then(base64_decode).unwrap_or_default();
        let text = String::from_utf8_lossy(&decoded).into_owned();
        let (user, password) = text.split_once(':').unwrap_or(("", ""));
        Some((user.to_string(), password.to_string()))
    }

    /// The body as an `application/x-www-form-urlencoded` form.
    pub fn form(&self) -> Vec<(String, String)> {
        parse_query(&String::from_utf8_lossy(&self.body))
    }
}

/// Writes a JSON response (with a Basic challenge on 401) and closes.
pub fn write_response(mut stream: TcpStream, status: u16, body: &Value) {
    let body = body.to_string();
    let challenge = if status == 401 {
        "WWW-Authenticate: Basic realm=\"fluxgate-token\"\r\n"
    } else {
        ""
    };
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        _ => "Method Not Allowed",
    };
    let response = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n{challenge}\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes());
    let _ = stream.flush();
}

/// Reads one request; `None` when malformed or timed out.
pub fn read_request(stream: &TcpStream) -> Option<HttpRequest> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_ascii_uppercase();
    let target = parts.next()?.to_string();
    let (mut authorization, mut length) = (None, 0usize);
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).ok()? == 0 || header.trim().is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        match name.trim().to_ascii_lowercase().as_str() {
            "authorization" => authorization = Some(value.trim().to_string()),
            "content-length" => length = value.trim().parse().ok()?,
            _ => {}
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    Some(HttpRequest {
        method,
        path: path.to_string(),
        query: parse_query(query),
        authorization,
        body,
    })
}

/// Splits `a=b&c=d` (query string or form body) and percent-decodes.
pub fn parse_query(text: &str) -> Vec<(String, String)> {
    let decode = |s: &str| {
        let bytes = s.as_bytes();
        let hex = |b: u8| char::from(b).to_digit(16);
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            let escaped = match bytes.get(i..i + 3) {
                Some([b'%', h, l]) => hex(*h).zip(hex(*l)).map(|(h, l)| (h * 16 + l) as u8),
                _ => None,
            };
            match (escaped, bytes[i]) {
                (Some(byte), _) => {
                    out.push(byte);
                    i += 3;
                }
                (None, b'+') => {
                    out.push(b' ');
                    i += 1;
                }
                (None, b) => {
                    out.push(b);
                    i += 1;
                }
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    };
    text.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}
