//! Container image references: parsing, validation and normalisation.
//!
//! fluxgate compares the image references a change introduces, so two spellings
//! of the same image (`nginx`, `docker.io/library/nginx:latest`) must compare
//! equal, and a reference the container runtime would reject must be reported
//! before merge, pointing at the bytes at fault. The grammar follows
//! `github.com/distribution/reference` (`reference.go`, `normalize.go`), which
//! is what Docker, containerd and the kubelet use.

use std::fmt;
use std::ops::Range;
use std::str::FromStr;

/// Registry assumed when a reference names none.
pub const DEFAULT_REGISTRY: &str = "docker.io";
/// Old spelling of Docker Hub, normalised to [`DEFAULT_REGISTRY`].
const LEGACY_DEFAULT_REGISTRY: &str = "index.docker.io";
/// Docker Hub namespace for single-component ("official") repositories.
const OFFICIAL_NAMESPACE: &str = "library";
/// Tag assumed when a reference has neither tag nor digest.
pub const DEFAULT_TAG: &str = "latest";
const NAME_TOTAL_LENGTH_MAX: usize = 255;
const TAG_LENGTH_MAX: usize = 128;

/// A parsed, normalised image reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ImageRef {
    /// Normalised registry host, with port if any: "docker.io", "ghcr.io", "127.0.0.1:5000".
    pub registry: String,
    /// Normalised repository path: "library/nginx", "org/app".
    pub repository: String,
    /// The tag; `None` only when a digest is given without a tag.
    pub tag: Option<String>,
    /// The digest, e.g. "sha256:<64 hex>".
    pub digest: Option<String>,
}

/// Why a reference is invalid, and which bytes of the input are at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ReferenceError {
    /// Plain, specific description of the problem.
    pub message: String,
    /// Byte range within the input of the offending part (the whole input when
    /// nothing narrower applies). Always on `char` boundaries.
    pub offset: Range<usize>,
}

fn fail<T>(message: impl Into<String>, offset: Range<usize>) -> Result<T, ReferenceError> {
    Err(ReferenceError {
        message: message.into(),
        offset,
    })
}

impl ImageRef {
    /// Parses and normalises `input`, e.g. `nginx` -> `docker.io/library/nginx:latest`.
    pub fn parse(input: &str) -> Result<ImageRef, ReferenceError> {
        if input.is_empty() {
            return fail("empty image reference", 0..0);
        }
        // Kubernetes passes `image:` verbatim to the runtime, so whitespace left
        // by YAML editing fails the pull instead of being trimmed.
        let leading = input.len() - input.trim_start().len();
        if leading > 0 {
            let msg = "image reference has leading whitespace (Kubernetes does not trim it)";
            return fail(msg, 0..leading);
        }
        let trimmed_end = input.trim_end().len();
        if trimmed_end < input.len() {
            let msg = "image reference has trailing whitespace (Kubernetes does not trim it)";
            return fail(msg, trimmed_end..input.len());
        }
        // normalize.go rejects a bare image ID so it is not mistaken for a Hub repository.
        if input.len() == 64 && input.bytes().all(is_lower_hex) {
            let msg = "a 64-character hex image ID is not a repository name";
            return fail(msg, 0..64);
        }

        // Neither names nor tags may contain '@', so the first one starts the digest.
        let (name_and_tag_end, digest_range) = match input.find('@') {
            Some(at) => (at, Some(at + 1..input.len())),
            None => (input.len(), None),
        };
        let name_and_tag = &input[..name_and_tag_end];
        // A ':' before the last '/' belongs to a registry port, not a tag.
        let last_slash = name_and_tag.rfind('/');
        let (name_end, tag_range) = match name_and_tag.rfind(':') {
            Some(colon) if last_slash.is_none_or(|slash| colon > slash) => {
                (colon, Some(colon + 1..name_and_tag_end))
            }
            _ => (name_and_tag_end, None),
        };

        let (registry, repository) = parse_name(input, name_end)?;
        // distribution measures the normalised name: `nginx` counts as `docker.io/library/nginx`.
        let len = registry.len() + 1 + repository.len();
        if len > NAME_TOTAL_LENGTH_MAX {
            let msg = format!(
                "repository name is {len} characters long, longer than the {NAME_TOTAL_LENGTH_MAX} allowed"
            );
            return fail(msg, 0..name_end);
        }
        let tag = tag_range.map(|r| check_tag(input, r)).transpose()?;
        let digest = digest_range.map(|r| check_digest(input, r)).transpose()?;
        let tag = tag.or_else(|| digest.is_none().then(|| DEFAULT_TAG.to_string()));
        Ok(ImageRef {
            registry,
            repository,
            tag,
            digest,
        })
    }

    /// `registry/repository`, without tag or digest: `docker.io/library/nginx`.
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// `docker.io/library/nginx:latest`, `ghcr.io/org/app:v1@sha256:...`
    pub fn canonical(&self) -> String {
        let mut out = self.name();
        if let Some(tag) = &self.tag {
            out.push(':');
            out.push_str(tag);
        }
        if let Some(digest) = &self.digest {
            out.push('@');
            out.push_str(digest);
        }
        out
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.canonical())
    }
}

impl FromStr for ImageRef {
    type Err = ReferenceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ImageRef::parse(s)
    }
}

fn is_lower_hex(b: u8) -> bool {
    b.is_ascii_digit() || (b'a'..=b'f').contains(&b)
}

fn is_lower_alnum(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

/// Fails on the first char of `s` (which sits at byte `start` of the input) that `ok` rejects.
/// Once this passes, `s` is whatever `ok` allows, which callers keep ASCII so bytes are chars.
fn check_chars(
    what: &str,
    s: &str,
    start: usize,
    ok: impl Fn(char) -> bool,
) -> Result<(), ReferenceError> {
    match s.char_indices().find(|&(_, c)| !ok(c)) {
        Some((i, c)) => fail(
            format!("{what} `{s}` contains an invalid character {c:?}"),
            start + i..start + i + c.len_utf8(),
        ),
        None => Ok(()),
    }
}

/// `s` must be lowercase-alnum runs joined by separators `sep_ok` accepts: the shape
/// shared by path components and digest algorithms. `s` is ASCII and non-empty.
fn check_runs(
    what: &str,
    s: &str,
    start: usize,
    sep_ok: fn(&str) -> bool,
) -> Result<(), ReferenceError> {
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if is_lower_alnum(bytes[i]) {
            i += 1;
            continue;
        }
        let sep_start = i;
        while i < bytes.len() && !is_lower_alnum(bytes[i]) {
            i += 1;
        }
        let at = start + sep_start..start + i;
        if sep_start == 0 {
            let msg = format!("{what} `{s}` must start with a lowercase letter or digit");
            return fail(msg, at);
        }
        if i == bytes.len() {
            let msg = format!("{what} `{s}` must end with a lowercase letter or digit");
            return fail(msg, at);
        }
        let sep = &s[sep_start..i];
        if !sep_ok(sep) {
            return fail(format!("{what} `{s}` has an invalid separator `{sep}`"), at);
        }
    }
    Ok(())
}

/// Splits `input[..end]` into a normalised (registry, repository).
fn parse_name(input: &str, end: usize) -> Result<(String, String), ReferenceError> {
    let name = &input[..end];
    if name.is_empty() {
        return fail("image reference has no repository name", 0..input.len());
    }
    // splitDockerDomain: only these shapes can be a host; anything else is a Hub path.
    let domain = name.find('/').map(|i| &name[..i]).filter(|first| {
        first.contains(['.', ':']) || *first == "localhost" || first.contains(char::is_uppercase)
    });
    let path_start = match domain {
        Some(domain) => {
            check_domain(domain)?;
            domain.len() + 1
        }
        None => 0,
    };
    let path = &name[path_start..];
    let mut start = path_start;
    for component in path.split('/') {
        check_path_component(component, start)?;
        start += component.len() + 1;
    }

    let registry = match domain {
        None | Some(LEGACY_DEFAULT_REGISTRY) => DEFAULT_REGISTRY,
        Some(domain) => domain,
    };
    let repository = if registry == DEFAULT_REGISTRY && !path.contains('/') {
        format!("{OFFICIAL_NAMESPACE}/{path}")
    } else {
        path.to_string()
    };
    Ok((registry.to_string(), repository))
}

/// host (DNS labels or a bracketed IPv6 literal) with an optional `:port`; `domain` starts at byte 0.
fn check_domain(domain: &str) -> Result<(), ReferenceError> {
    let port_start = if let Some(inner) = domain.strip_prefix('[') {
        let Some(close) = inner.find(']').filter(|&i| i > 0).map(|i| i + 1) else {
            let msg = format!("registry `{domain}` must be a bracketed IPv6 address like `[::1]`");
            return fail(msg, 0..domain.len());
        };
        let is_v6 = |c: char| c.is_ascii_hexdigit() || c == ':';
        check_chars("registry IPv6 address", &domain[1..close], 1, is_v6)?;
        match domain[close + 1..].chars().next() {
            None => None,
            Some(':') => Some(close + 2),
            Some(c) => {
                let msg =
                    format!("registry `{domain}` has {c:?} after the IPv6 address, not ':port'");
                return fail(msg, close + 1..close + 1 + c.len_utf8());
            }
        }
    } else {
        let host_end = domain.find(':').unwrap_or(domain.len());
        check_host(domain, host_end)?;
        (host_end < domain.len()).then_some(host_end + 1)
    };
    if let Some(start) = port_start {
        let port = &domain[start..];
        if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
            let msg = format!("registry port `{port}` must be one or more digits");
            return fail(msg, start - 1..domain.len());
        }
    }
    Ok(())
}

/// DNS-ish host `domain[..end]`: labels `[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?` joined by '.'.
fn check_host(domain: &str, end: usize) -> Result<(), ReferenceError> {
    let host = &domain[..end];
    if host.is_empty() {
        let msg = format!("registry `{domain}` has an empty host name");
        return fail(msg, 0..domain.len());
    }
    let is_host = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '.';
    check_chars("registry host", host, 0, is_host)?;
    let mut start = 0;
    for label in host.split('.') {
        let range = start..start + label.len();
        if label.is_empty() {
            // Point at the dot that leaves the label empty.
            let dot = if start < host.len() { start } else { start - 1 };
            let msg = format!("registry host `{host}` has an empty label");
            return fail(msg, dot..dot + 1);
        }
        if label.starts_with('-') || label.ends_with('-') {
            let msg = format!("registry host label `{label}` must not start or end with '-'");
            return fail(msg, range);
        }
        start = range.end + 1;
    }
    Ok(())
}

/// path-component := `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`, found at byte `start` of the input.
fn check_path_component(component: &str, start: usize) -> Result<(), ReferenceError> {
    if component.is_empty() {
        // Point at a neighbouring '/' since the component itself has no bytes.
        let slash = if start > 0 { start - 1..start } else { 0..1 };
        let msg = "repository path has an empty component (a leading, trailing or doubled '/')";
        return fail(msg, slash);
    }
    // normalize.go checks case before the grammar, so this wins over other faults.
    if component.contains(|c: char| c.is_ascii_uppercase()) {
        let msg = format!("repository names must be lowercase: `{component}`");
        return fail(msg, start..start + component.len());
    }
    check_chars("repository name", component, start, |c| {
        c.is_ascii() && (is_lower_alnum(c as u8) || matches!(c, '.' | '_' | '-'))
    })?;
    let sep_ok = |sep: &str| matches!(sep, "." | "_" | "__") || sep.bytes().all(|b| b == b'-');
    check_runs("repository name", component, start, sep_ok)
}

/// tag := `[\w][\w.-]{0,127}` at `input[range]`.
fn check_tag(input: &str, range: Range<usize>) -> Result<String, ReferenceError> {
    let tag = &input[range.clone()];
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let Some(first) = tag.chars().next() else {
        let msg = "tag is empty: remove the trailing ':' or give a tag";
        return fail(msg, range.start - 1..range.start);
    };
    check_chars("tag", tag, range.start, |c| {
        is_word(c) || c == '.' || c == '-'
    })?;
    if !is_word(first) {
        let msg = format!("tag `{tag}` must start with a letter, digit or '_', not {first:?}");
        return fail(msg, range.start..range.start + 1);
    }
    if tag.len() > TAG_LENGTH_MAX {
        return fail("tag longer than 128 characters", range);
    }
    Ok(tag.to_string())
}

/// digest := algorithm ":" encoded at `input[range]`.
fn check_digest(input: &str, range: Range<usize>) -> Result<String, ReferenceError> {
    let digest = &input[range.clone()];
    if digest.is_empty() {
        let msg = "digest is empty: remove the trailing '@' or give a digest";
        return fail(msg, range.start - 1..range.start);
    }
    let Some(colon) = digest.find(':') else {
        let msg = format!(
            "digest `{digest}` must have the form `algorithm:encoded`, e.g. `sha256:<64 hex>`"
        );
        return fail(msg, range);
    };
    let (algorithm, encoded) = (&digest[..colon], &digest[colon + 1..]);
    if algorithm.is_empty() {
        return fail("digest algorithm is empty", range.start..range.start + 1);
    }
    check_chars("digest algorithm", algorithm, range.start, |c| {
        c.is_ascii() && (is_lower_alnum(c as u8) || matches!(c, '+' | '.' | '_' | '-'))
    })?;
    check_runs("digest algorithm", algorithm, range.start, |sep| {
        sep.len() == 1
    })?;
    // Registered algorithms have a fixed-length lowercase hex encoding (go-digest);
    // others get the OCI image-spec's looser encoding.
    let hex_len = match algorithm {
        "sha256" => Some(64),
        "sha384" => Some(96),
        "sha512" => Some(128),
        _ => None,
    };
    let encoded_start = range.start + colon + 1;
    let found = encoded.len();
    if let Some(want) = hex_len {
        let is_hex = |c: char| c.is_ascii_digit() || ('a'..='f').contains(&c);
        check_chars("digest hex", encoded, encoded_start, is_hex).map_err(|mut e| {
            e.message += &format!(" (`{algorithm}` digests are lowercase hex)");
            e
        })?;
        if found != want {
            let msg = format!("digest `{digest}` must have {want} hex characters, found {found}");
            return fail(msg, range);
        }
    } else {
        let is_encoded = |c: char| c.is_ascii_alphanumeric() || matches!(c, '=' | '_' | '-');
        check_chars("digest encoding", encoded, encoded_start, is_encoded)?;
        if found < 32 {
            let msg = format!(
                "digest `{digest}` must have at least 32 encoded characters, found {found}"
            );
            return fail(msg, range);
        }
    }
    Ok(digest.to_string())
}

/// The Flux post-build substitution variables in `input`, in order:
/// `"${TAG}"` -> `["TAG"]`, `"${TAG:=1.0}"` -> `["TAG"]`, `"${A:-x}"` -> `["A"]`.
///
/// Only the braced `${NAME...}` form counts: Flux's strict substitution does not
/// expand `$NAME`, and `$${NAME}` is its escape for a literal `${NAME}`.
/// Variables nested in a default (`${A:-${B}}`) are reported too.
pub fn flux_variables(input: &str) -> Vec<String> {
    let bytes = input.as_bytes();
    let mut names = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], bytes.get(i + 1)) {
            (b'$', Some(b'$')) => i += 2,
            (b'$', Some(b'{')) => match variable_at(bytes, i + 2) {
                Some(name_range) => {
                    names.push(input[name_range.clone()].to_string());
                    // Resume inside the braces so nested defaults are seen.
                    i = name_range.end;
                }
                None => i += 2,
            },
            _ => i += 1,
        }
    }
    names
}

/// True when `input` contains at least one Flux post-build variable (see [`flux_variables`]).
pub fn contains_flux_variable(input: &str) -> bool {
    !flux_variables(input).is_empty()
}

/// The name range of a `${...}` body starting at `start`, if it is a complete variable.
fn variable_at(bytes: &[u8], start: usize) -> Option<Range<usize>> {
    // `${#NAME}` is envsubst's length operator; the variable is still NAME.
    let name_start = start + usize::from(bytes.get(start) == Some(&b'#'));
    let first = *bytes.get(name_start)?;
    if !(first.is_ascii_alphabetic() || first == b'_') {
        return None;
    }
    let mut end = name_start + 1;
    while bytes
        .get(end)
        .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
    {
        end += 1;
    }
    // The operators envsubst understands after a name; anything else is not a variable.
    if !b"}:-=?+^,#%/".contains(bytes.get(end)?) {
        return None;
    }
    let mut depth = 1usize;
    let mut j = end;
    while j < bytes.len() {
        match bytes[j] {
            b'{' if j > 0 && bytes[j - 1] == b'$' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(name_start..end);
                }
            }
            _ => {}
        }
        j += 1;
    }
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    macro_rules! hex64 {
        () => {
            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
        };
    }

    /// input -> Ok(canonical) or Err(fragment of the message).
    const CASES: &[(&str, Result<&str, &str>)] = &[
        ("nginx", Ok("docker.io/library/nginx:latest")),
        ("nginx:1.25", Ok("docker.io/library/nginx:1.25")),
        ("library/nginx", Ok("docker.io/library/nginx:latest")),
        ("docker.io/nginx", Ok("docker.io/library/nginx:latest")),
        ("index.docker.io/nginx", Ok("docker.io/library/nginx:latest")),
        ("index.docker.io/org/app:v2", Ok("docker.io/org/app:v2")),
        ("docker.io/library/nginx:latest", Ok("docker.io/library/nginx:latest")),
        ("bitnami/redis:7.2", Ok("docker.io/bitnami/redis:7.2")),
        ("ghcr.io/org/app:v1.2.3", Ok("ghcr.io/org/app:v1.2.3")),
        ("ghcr.io/app", Ok("ghcr.io/app:latest")),
        ("localhost/app", Ok("localhost/app:latest")),
        ("localhost", Ok("docker.io/library/localhost:latest")),
        ("localhost:5000", Ok("docker.io/library/localhost:5000")),
        ("localhost:5000/app:1", Ok("localhost:5000/app:1")),
        ("127.0.0.1:5000/a/b/c:tag", Ok("127.0.0.1:5000/a/b/c:tag")),
        ("[::1]:5000/app", Ok("[::1]:5000/app:latest")),
        ("[fe80::1]/app:1", Ok("[fe80::1]/app:1")),
        ("ghcr.io:443/app", Ok("ghcr.io:443/app:latest")),
        ("My.Registry.io/app", Ok("My.Registry.io/app:latest")),
        ("Org/app", Ok("Org/app:latest")),
        ("foo.com", Ok("docker.io/library/foo.com:latest")),
        ("app:1.20", Ok("docker.io/library/app:1.20")),
        ("app:_x", Ok("docker.io/library/app:_x")),
        ("app:V1.0-RC_1", Ok("docker.io/library/app:V1.0-RC_1")),
        ("a__b", Ok("docker.io/library/a__b:latest")),
        ("a_b", Ok("docker.io/library/a_b:latest")),
        ("a.b", Ok("docker.io/library/a.b:latest")),
        ("a-b", Ok("docker.io/library/a-b:latest")),
        ("a--b", Ok("docker.io/library/a--b:latest")),
        ("0", Ok("docker.io/library/0:latest")),
        (concat!("nginx@sha256:", hex64!()), Ok(concat!("docker.io/library/nginx@sha256:", hex64!()))),
        (concat!("nginx:1.2@sha256:", hex64!()), Ok(concat!("docker.io/library/nginx:1.2@sha256:", hex64!()))),
        (concat!("localhost:5000/app@sha256:", hex64!()), Ok(concat!("localhost:5000/app@sha256:", hex64!()))),
        (concat!("app@sha512:", hex64!(), hex64!()), Ok(concat!("docker.io/library/app@sha512:", hex64!(), hex64!()))),
        ("app@multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8", Ok("docker.io/library/app@multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8")),
        // Near misses.
        ("", Err("empty image reference")),
        (" app", Err("leading whitespace")),
        ("app ", Err("trailing whitespace")),
        ("app\n", Err("trailing whitespace")),
        ("Nginx", Err("repository names must be lowercase: `Nginx`")),
        ("docker.io/Nginx", Err("repository names must be lowercase: `Nginx`")),
        ("ghcr.io/Org/app", Err("repository names must be lowercase: `Org`")),
        ("app:", Err("tag is empty")),
        ("app@", Err("digest is empty")),
        (":tag", Err("no repository name")),
        ("app@sha256:abc", Err("digest `sha256:abc` must have 64 hex characters, found 3")),
        (concat!("app@sha256:", hex64!(), "0"), Err("must have 64 hex characters, found 65")),
        ("app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde", Err("found 63")),
        ("app@sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", Err("invalid character 'A'")),
        ("app@sha256", Err("must have the form `algorithm:encoded`")),
        (concat!("app@SHA256:", hex64!()), Err("digest algorithm `SHA256` contains an invalid character 'S'")),
        (concat!("app@sha256+:", hex64!()), Err("digest algorithm `sha256+` must end with a lowercase letter or digit")),
        (concat!("app@sha+-256:", hex64!()), Err("digest algorithm `sha+-256` has an invalid separator `+-`")),
        ("app@foo:short", Err("at least 32 encoded characters, found 5")),
        ("app:-bad", Err("must start with a letter, digit or '_'")),
        ("app:.bad", Err("must start with a letter, digit or '_'")),
        ("app:v1 2", Err("tag `v1 2` contains an invalid character ' '")),
        ("app:v1/2", Err("registry port `v1` must be one or more digits")),
        ("a//b", Err("empty component")),
        ("/app", Err("empty component")),
        ("app/", Err("empty component")),
        ("a___b", Err("invalid separator `___`")),
        ("a.-b", Err("invalid separator `.-`")),
        ("a..b", Err("invalid separator `..`")),
        ("-a", Err("must start with a lowercase letter or digit")),
        ("a-", Err("must end with a lowercase letter or digit")),
        ("a b", Err("invalid character ' '")),
        ("foo_bar.com/app", Err("registry host `foo_bar.com` contains an invalid character '_'")),
        ("-foo.com/app", Err("must not start or end with '-'")),
        ("foo..com/app", Err("empty label")),
        ("host:port/app", Err("registry port `port` must be one or more digits")),
        ("host:/app", Err("registry port `` must be one or more digits")),
        (":5000/app", Err("empty host name")),
        ("[::1/app", Err("must be a bracketed IPv6 address")),
        ("[]:5000/app", Err("must be a bracketed IPv6 address")),
        ("[]/app", Err("repository name `[]` contains an invalid character '['")),
        ("[::g]/app", Err("invalid character 'g'")),
        ("[::1]x/app", Err("has 'x' after the IPv6 address, not ':port'")),
        ("ghcr.io/аpp", Err("repository name `аpp` contains an invalid character 'а'")),
        ("gh€r.io/app", Err("invalid character '€'")),
        ("app:ü", Err("invalid character 'ü'")),
        (hex64!(), Err("64-character hex image ID")),
        ("app:1:2", Err("invalid character ':'")),
        ("a@b@c", Err("must have the form")),
    ];

    #[test]
    fn table() {
        let mut failures = Vec::new();
        for &(input, expected) in CASES {
            let got = ImageRef::parse(input);
            let ok = match (&got, expected) {
                (Ok(r), Ok(want)) => r.canonical() == want && r.to_string() == want,
                (Err(e), Err(fragment)) => {
                    e.message.contains(fragment)
                        && e.offset.start <= e.offset.end
                        && input.get(e.offset.clone()).is_some()
                }
                _ => false,
            };
            if !ok {
                failures.push(format!("{input:?}: expected {expected:?}, got {got:?}"));
            }
        }
        assert!(CASES.len() >= 40);
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn error_offsets() {
        let cases: &[(&str, &str)] = &[
            ("ghcr.io/Org/app", "Org"),
            ("Nginx", "Nginx"),
            (" app", " "),
            ("app  ", "  "),
            ("app:v1 2", " "),
            ("app:-bad", "-"),
            ("a___b", "___"),
            ("foo_bar.com/app", "_"),
            ("ghcr.io/аpp", "а"),
            ("app@sha256:abc", "sha256:abc"),
            ("app:", ":"),
            ("a//b", "/"),
            ("host:x/app", ":x"),
            (
                "app@sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
                "A",
            ),
        ];
        for &(input, at_fault) in cases {
            let err = ImageRef::parse(input).expect_err(input);
            assert_eq!(&input[err.offset.clone()], at_fault, "{input:?}: {err:?}");
        }
        assert_eq!(ImageRef::parse("").unwrap_err().offset, 0..0);
        assert_eq!(
            ImageRef::parse("ghcr.io/Org/app").unwrap_err().offset,
            8..11
        );
    }

    #[test]
    fn fields() {
        let r = ImageRef::parse("nginx").unwrap();
        assert_eq!(
            r,
            ImageRef {
                registry: "docker.io".into(),
                repository: "library/nginx".into(),
                tag: Some("latest".into()),
                digest: None,
            }
        );
        assert_eq!(r.name(), "docker.io/library/nginx");
        let d = ImageRef::parse(concat!("ghcr.io/org/app@sha256:", hex64!())).unwrap();
        assert_eq!(d.tag, None);
        assert_eq!(d.digest.as_deref(), Some(concat!("sha256:", hex64!())));
        assert_eq!(
            "nginx".parse::<ImageRef>().unwrap(),
            ImageRef::parse("docker.io/library/nginx:latest").unwrap()
        );
    }

    #[test]
    fn tag_length_limit() {
        let ok = format!("app:{}", "a".repeat(128));
        assert!(ImageRef::parse(&ok).is_ok());
        let long = format!("app:{}", "a".repeat(129));
        let err = ImageRef::parse(&long).unwrap_err();
        assert_eq!(err.message, "tag longer than 128 characters");
        assert_eq!(err.offset, 4..long.len());
    }

    #[test]
    fn name_length_limit() {
        // "ghcr.io/" is 8 bytes, so 247 more reach the 255 limit exactly.
        let at_limit = format!("ghcr.io/{}", "a".repeat(247));
        assert!(ImageRef::parse(&at_limit).is_ok());
        let over = format!("ghcr.io/{}:v1", "a".repeat(248));
        let err = ImageRef::parse(&over).unwrap_err();
        assert!(err.message.contains("256 characters long"), "{err:?}");
        assert_eq!(err.offset, 0..256);
        // The limit applies to the normalised name, as in distribution.
        let hub = "a".repeat(255 - "docker.io/library/".len());
        assert!(ImageRef::parse(&hub).is_ok());
        assert!(ImageRef::parse(&format!("{hub}b")).is_err());
    }

    #[test]
    fn never_panics_and_offsets_are_char_boundaries() {
        let inputs = [
            "é",
            "é:é",
            "é@é",
            "a@é:é",
            "[",
            "[]",
            "[]/a",
            "[é]/a",
            "]",
            ":",
            "@",
            ":@",
            "/",
            "//",
            "a:b@",
            "é/a",
            "a/é",
            "a.é/b",
            "a:é/b",
            "\u{a0}a",
            "a\u{3000}",
            "a:\u{0}",
            "€€€€",
            "a@sha256:ééé",
            "a@é",
            "Ä/b",
            "x/Ä",
            "${TAG}",
            "app:${TAG}",
            "💥/💥:💥@💥:💥",
        ];
        for input in inputs {
            if let Err(e) = ImageRef::parse(input) {
                assert!(input.get(e.offset.clone()).is_some(), "{input:?}: {e:?}");
            }
            let _ = flux_variables(input);
        }
    }

    #[test]
    fn random_inputs_never_panic_and_canonical_round_trips() {
        let alphabet: Vec<char> = "aZ09._-:/@[]é€ $}{#".chars().collect();
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as usize
        };
        for _ in 0..50_000 {
            let len = next() % 14;
            let input: String = (0..len)
                .map(|_| alphabet[next() % alphabet.len()])
                .collect();
            match ImageRef::parse(&input) {
                Ok(r) => assert_eq!(
                    ImageRef::parse(&r.canonical()).as_ref(),
                    Ok(&r),
                    "{input:?}"
                ),
                Err(e) => assert!(input.get(e.offset.clone()).is_some(), "{input:?}: {e:?}"),
            }
            let _ = flux_variables(&input);
        }
    }

    #[test]
    fn flux_variable_names() {
        let cases: &[(&str, &[&str])] = &[
            ("${TAG}", &["TAG"]),
            ("${TAG:=1.0}", &["TAG"]),
            ("${A:-x}", &["A"]),
            ("${A-x}", &["A"]),
            ("${A:?missing}", &["A"]),
            ("${#A}", &["A"]),
            ("${REGISTRY}/app:${TAG}", &["REGISTRY", "TAG"]),
            ("ghcr.io/org/app:${_v2}", &["_v2"]),
            ("${A:-${B}}", &["A", "B"]),
            ("$TAG", &[]),
            ("$${TAG}", &[]),
            ("$$${TAG}", &["TAG"]),
            ("${TAG", &[]),
            ("${}", &[]),
            ("${1}", &[]),
            ("${ TAG}", &[]),
            ("${TAG.x}", &[]),
            ("nginx:1.25", &[]),
            ("é${É}${ok}", &["ok"]),
            ("$", &[]),
            ("${", &[]),
        ];
        for &(input, want) in cases {
            assert_eq!(flux_variables(input), want, "{input:?}");
            assert_eq!(contains_flux_variable(input), !want.is_empty(), "{input:?}");
        }
    }
}
