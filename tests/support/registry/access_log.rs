//! Parsing the registry's HTTP access log. distribution 2.8 writes one
//! Apache "combined" line per request to its stdout (independent of
//! `log.level`), e.g.
//! `127.0.0.1 - - [22/Nov/2026:03:03:12 +0000] "HEAD /v2/foo/manifests/x HTTP/1.1" 404 91 "" "curl/7.88.1"`.
//! The logging handler is the server's outermost handler, so the line is
//! written before a small response (manifest HEAD/GET, errors) is flushed:
//! once such a request has returned, its line is in the file. For large
//! bodies (blob GETs) use `wait_for_requests`, which polls briefly.

use std::fs;
use std::time::{Duration, Instant};

use super::server::TestRegistry;

/// Position in the access log, for counting only later requests.
#[derive(Clone, Copy, Debug)]
pub struct LogMark(usize);

impl TestRegistry {
    /// Everything the registry wrote to stdout: its access log.
    pub fn access_log(&self) -> String {
        fs::read_to_string(&self.stdout_path).unwrap_or_default()
    }

    /// All requests served so far (readiness probes included).
    pub fn requests(&self) -> Vec<AccessLogEntry> {
        parse(&self.access_log())
    }

    /// Number of requests with `method` (e.g. `"HEAD"`) whose path contains
    /// `path_contains` (e.g. `"/v2/org/app/manifests/"`), since start.
    pub fn count_requests(&self, method: &str, path_contains: &str) -> usize {
        self.count_requests_since(LogMark(0), method, path_contains)
    }

    /// The current end of the access log; pass it to `count_requests_since`
    /// to ignore e.g. the requests made while seeding.
    pub fn mark(&self) -> LogMark {
        LogMark(self.requests().len())
    }

    pub fn count_requests_since(&self, mark: LogMark, method: &str, path_contains: &str) -> usize {
        self.requests()
            .iter()
            .skip(mark.0)
            .filter(|entry| entry.matches(method, path_contains))
            .count()
    }

    /// Polls (up to 5 s) until at least `at_least` matching requests were
    /// logged after `mark`; returns the count then seen (which may be less
    /// than `at_least` on timeout, so assert on the result).
    pub fn wait_for_requests(
        &self,
        mark: LogMark,
        method: &str,
        path_contains: &str,
        at_least: usize,
    ) -> usize {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let count = self.count_requests_since(mark, method, path_contains);
            if count >= at_least || Instant::now() >= deadline {
                return count;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// One request as recorded in the access log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessLogEntry {
    pub method: String,
    /// Request URI as sent (path plus query string), e.g. `/v2/org/app/manifests/v1`.
    pub uri: String,
    pub status: u16,
    pub user_agent: String,
}

impl AccessLogEntry {
    /// Path part of the URI (without `?query`).
    pub fn path(&self) -> &str {
        self.uri.split('?').next().unwrap_or_default()
    }

    /// True when the method matches (case-insensitively) and the path
    /// contains `path_contains`.
    pub fn matches(&self, method: &str, path_contains: &str) -> bool {
        self.method.eq_ignore_ascii_case(method) && self.path().contains(path_contains)
    }
}

/// Parses every complete (newline-terminated) access-log line in `text`;
/// other lines (and a partially written last line) are ignored.
pub fn parse(text: &str) -> Vec<AccessLogEntry> {
    let complete = match text.rfind('\n') {
        Some(end) => &text[..end],
        None => "",
    };
    complete.lines().filter_map(parse_line).collect()
}

/// Parses one combined-format line.
pub fn parse_line(line: &str) -> Option<AccessLogEntry> {
    // `... [date] "METHOD URI PROTO" STATUS SIZE "referer" "user agent"`
    let after_date = &line[line.find("] \"")? + 3..];
    let request_end = after_date.find('"')?;
    let mut request = after_date[..request_end].split(' ');
    let method = request.next()?.to_string();
    let uri = request.next()?.to_string();
    if !request.next()?.starts_with("HTTP/") {
        return None;
    }
    let rest = after_date[request_end + 1..].trim_start();
    let status = rest.split(' ').next()?.parse().ok()?;
    let user_agent = rest
        .rsplit_once("\" \"")
        .map(|(_, ua)| ua.trim_end().trim_end_matches('"').to_string())
        .unwrap_or_default();
    Some(AccessLogEntry {
        method,
        uri,
        status,
        user_agent,
    })
}
