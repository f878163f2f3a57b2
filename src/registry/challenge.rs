//! `WWW-Authenticate` challenges (RFC 7235): which scheme a registry wants
//! and, for Bearer, where to get a token.

/// What a registry asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    Basic,
    Bearer {
        realm: String,
        service: Option<String>,
        scope: Option<String>,
        error: Option<String>,
    },
}

/// Parses a header value; `None` when neither Basic nor a Bearer with a realm.
pub fn parse(header: &str) -> Option<Challenge> {
    let header = header.trim();
    let (scheme, rest) = header
        .split_once(char::is_whitespace)
        .unwrap_or((header, ""));
    if scheme.eq_ignore_ascii_case("basic") {
        return Some(Challenge::Basic);
    }
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let params = parse_params(rest);
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    Some(Challenge::Bearer {
        realm: get("realm").filter(|r| !r.is_empty())?,
        service: get("service"),
        scope: get("scope"),
        error: get("error"),
    })
}

/// `key="quoted, value", key2=token` pairs.
fn parse_params(input: &str) -> Vec<(String, String)> {
    let mut params = Vec::new();
    let mut chars = input.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let key: String =
            std::iter::from_fn(|| chars.next_if(|c| *c != '=' && *c != ',')).collect();
        if key.trim().is_empty() {
            break;
        }
        if chars.next() != Some('=') {
            continue;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            value = std::iter::from_fn(|| chars.next_if(|c| *c != ',')).collect();
        }
        params.push((key.trim().to_string(), value.trim().to_string()));
    }
    params
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges() {
        let bearer = |realm: &str, service: Option<&str>, scope: Option<&str>| Challenge::Bearer {
            realm: realm.into(),
            service: service.map(Into::into),
            scope: scope.map(Into::into),
            error: None,
        };
        let cases: &[(&str, Option<Challenge>)] = &[
            ("Basic realm=\"Registry Realm\"", Some(Challenge::Basic)),
            ("basic", Some(Challenge::Basic)),
            (
                "Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\"",
                Some(bearer("https://auth.docker.io/token", Some("registry.docker.io"), None)),
            ),
            (
                "Bearer realm=\"https://ghcr.io/token\",service=\"ghcr.io\",scope=\"repository:org/app:pull\"",
                Some(bearer("https://ghcr.io/token", Some("ghcr.io"), Some("repository:org/app:pull"))),
            ),
            (
                "Bearer realm=https://r.example/token, service=r.example",
                Some(bearer("https://r.example/token", Some("r.example"), None)),
            ),
            ("Bearer realm=\"a\\\"b\"", Some(bearer("a\"b", None, None))),
            ("Bearer service=\"x\"", None),
            ("Bearer realm=\"\"", None),
            ("Negotiate abc", None),
            ("", None),
            ("Bearer", None),
        ];
        for (header, expected) in cases {
            assert_eq!(&parse(header), expected, "{header}");
        }
        let Some(Challenge::Bearer { error, .. }) =
            parse("Bearer realm=\"r\",error=\"insufficient_scope\"")
        else {
            panic!("bearer expected")
        };
        assert_eq!(error.as_deref(), Some("insufficient_scope"));
    }
}
