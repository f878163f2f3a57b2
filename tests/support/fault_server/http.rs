//! Wire-level HTTP/1.1 for the fault server: reads one request at a time
//! while leaving it in the kernel receive buffer (`TcpStream::peek`), so that
//! `Behaviour::Reset` can close the socket with unread data — Linux then sends
//! a real RST (RFC 2525 §2.17), all with std only. Also writes responses.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Requests (head + body) up to this size are peeked whole; larger ones are
/// consumed as they are read (a `Reset` then degrades to a plain close).
const PEEK_CAP: usize = 256 * 1024;

/// One request as the server received it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecordedRequest {
    pub method: String,
    /// The request target as sent: path and query, e.g. `/v2/a/tags/list?n=5`.
    pub path: String,
    /// `HTTP/1.1` or `HTTP/1.0`.
    pub version: String,
    /// In arrival order, names lowercased, values trimmed.
    pub headers: Vec<(String, String)>,
    /// The decoded body (`Content-Length` or chunked).
    pub body: Vec<u8>,
}

impl RecordedRequest {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        let mut values = self.headers.iter().filter(|(k, _)| *k == name);
        values.next().map(|(_, v)| v.as_str())
    }

    pub fn has_header(&self, name: &str) -> bool {
        self.header(name).is_some()
    }

    /// Whether the client asked to close the connection after this request.
    pub fn wants_close(&self) -> bool {
        let connection = self.header("connection").unwrap_or("").to_ascii_lowercase();
        let has = |token: &str| connection.split(',').any(|t| t.trim() == token);
        has("close") || (self.version == "HTTP/1.0" && !has("keep-alive"))
    }
}

/// A parsed request and how many of its bytes are still unread in the socket.
pub struct Incoming {
    pub request: RecordedRequest,
    pub unread: usize,
}

/// Reads the next request; `Ok(None)` at end of stream or when `stop` is set.
pub fn read_request(stream: &TcpStream, stop: &AtomicBool) -> io::Result<Option<Incoming>> {
    let mut buf = vec![0u8; PEEK_CAP];
    let head_end = |b: &[u8]| b.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4);
    let Some(head_len) = peek_until(stream, &mut buf, stop, head_end)? else {
        return Ok(None);
    };
    let mut request = parse_head(&String::from_utf8_lossy(&buf[..head_len]))?;
    let expects_continue = request
        .header("expect")
        .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"));
    if expects_continue {
        (&mut &*stream).write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
    }
    let chunked = request
        .header("transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    if chunked {
        consume(stream, head_len)?;
        request.body = read_chunked(&mut &*stream)?;
        return Ok(Some(Incoming { request, unread: 0 }));
    }
    let len: usize = match request.header("content-length") {
        Some(v) => v.parse().map_err(|_| invalid("bad Content-Length"))?,
        None => 0,
    };
    let total = head_len + len;
    if total <= PEEK_CAP {
        let whole = |b: &[u8]| (b.len() >= total).then_some(total);
        if peek_until(stream, &mut buf, stop, whole)?.is_none() {
            return Ok(None);
        }
        request.body = buf[head_len..total].to_vec();
        return Ok(Some(Incoming {
            request,
            unread: total,
        }));
    }
    consume(stream, head_len)?;
    request.body = vec![0; len];
    (&mut &*stream).read_exact(&mut request.body)?;
    Ok(Some(Incoming { request, unread: 0 }))
}

/// Peeks until `done` finds the wanted length in the buffered bytes.
fn peek_until(
    stream: &TcpStream,
    buf: &mut [u8],
    stop: &AtomicBool,
    done: impl Fn(&[u8]) -> Option<usize>,
) -> io::Result<Option<usize>> {
    let mut seen = 0;
    loop {
        if stop.load(Ordering::SeqCst) {
            return Ok(None);
        }
        let n = stream.peek(buf)?;
        if n == 0 {
            return Ok(None);
        }
        if let Some(len) = done(&buf[..n]) {
            return Ok(Some(len));
        }
        if n == buf.len() {
            return Err(invalid("request head too large"));
        }
        if n == seen {
            // Partial request: peek does not block while data is queued.
            std::thread::sleep(Duration::from_millis(1));
        }
        seen = n;
    }
}

fn parse_head(head: &str) -> io::Result<RecordedRequest> {
    let mut lines = head.trim_start_matches("\r\n").split("\r\n");
    let request_line = lines.next().unwrap_or("");
    let parts: Vec<&str> = request_line.split(' ').collect();
    let [method, path, version] = parts[..] else {
        return Err(invalid("bad request line"));
    };
    let mut headers = Vec::new();
    for line in lines.filter(|l| !l.is_empty()) {
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| invalid("bad header line"))?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    Ok(RecordedRequest {
        method: method.to_string(),
        path: path.to_string(),
        version: version.to_string(),
        headers,
        body: Vec::new(),
    })
}

/// Reads and discards `n` bytes.
pub fn consume(stream: &TcpStream, n: usize) -> io::Result<()> {
    let mut sink = vec![0; n];
    (&mut &*stream).read_exact(&mut sink)
}

/// Decodes a chunked body, reading byte by byte so nothing after it is taken.
fn read_chunked(r: &mut impl Read) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line = read_line(r)?;
        let size = line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size, 16).map_err(|_| invalid("bad chunk size"))?;
        if size == 0 {
            while !read_line(r)?.is_empty() {} // trailers
            return Ok(body);
        }
        let start = body.len();
        body.resize(start + size, 0);
        r.read_exact(&mut body[start..])?;
        read_line(r)?;
    }
}

fn read_line(r: &mut impl Read) -> io::Result<String> {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while byte[0] != b'\n' {
        r.read_exact(&mut byte)?;
        line.push(byte[0]);
    }
    Ok(String::from_utf8_lossy(&line).trim().to_string())
}

/// Writes a response; returns whether the connection must close afterwards.
///
/// A `Content-Length` is added unless `headers` has one (an explicit one is
/// sent verbatim, so a lying length truncates the body — the connection is
/// then closed). HEAD responses and 204/304 carry no body.
pub fn write_response(
    stream: &TcpStream,
    request: &RecordedRequest,
    status: u16,
    headers: &[(String, String)],
    body: &[u8],
) -> io::Result<bool> {
    let bodiless = status < 200 || status == 204 || status == 304;
    let find = |name: &str| headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name));
    let declared = find("content-length").map(|(_, v)| v.trim().to_string());
    let server_close = find("connection").is_some_and(|(_, v)| v.eq_ignore_ascii_case("close"));
    let mut close = request.wants_close() || server_close;
    close |= declared
        .as_ref()
        .is_some_and(|d| *d != body.len().to_string());

    let mut out = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    if declared.is_none() && !bodiless {
        out.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    if close && !server_close {
        out.push_str("Connection: close\r\n");
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    if request.method != "HEAD" && !bodiless {
        bytes.extend_from_slice(body);
    }
    let mut writer = stream;
    writer.write_all(&bytes)?;
    writer.flush()?;
    Ok(close)
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

fn invalid(message: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.to_string())
}
