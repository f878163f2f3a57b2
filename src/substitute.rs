//! Flux post-build substitution, as kustomize-controller does it after the
//! build: `${VAR}`, `${VAR:=default}` / `${VAR:-default}` (also without the
//! colon), defaults that hold variables themselves, and `$${VAR}` for a
//! literal `${VAR}`. Other envsubst operators are not guessed at.

use std::collections::BTreeMap;

/// Variables by name.
pub type Variables = BTreeMap<String, String>;

/// Why a text could not be substituted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unresolved {
    /// Variables without a value or a default.
    Missing(Vec<String>),
    /// An operator fluxgate does not evaluate (`${VAR/a/b}`).
    Unsupported(String),
}

/// `text` with every variable replaced.
pub fn substitute(text: &str, variables: &Variables) -> Result<String, Unresolved> {
    let mut missing = Vec::new();
    let out = expand(text, variables, &mut missing, 0)?;
    if missing.is_empty() {
        Ok(out)
    } else {
        missing.dedup();
        Err(Unresolved::Missing(missing))
    }
}

fn expand(
    text: &str,
    variables: &Variables,
    missing: &mut Vec<String>,
    depth: usize,
) -> Result<String, Unresolved> {
    if depth > 8 {
        return Err(Unresolved::Unsupported(text.to_string()));
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at..];
        if let Some(escaped) = after.strip_prefix("$${") {
            out.push_str("${");
            rest = escaped;
            continue;
        }
        let Some(body_start) = after.strip_prefix("${") else {
            out.push('$');
            rest = &after[1..];
            continue;
        };
        let Some(end) = closing_brace(body_start) else {
            out.push_str(after);
            rest = "";
            continue;
        };
        let body = &body_start[..end];
        rest = &body_start[end + 1..];
        let name_end = body
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(body.len());
        let (name, operator) = body.split_at(name_end);
        if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
            return Err(Unresolved::Unsupported(format!("${{{body}}}")));
        }
        let value = variables.get(name);
        let default = [":=", ":-", "=", "-"]
            .iter()
            .find_map(|op| operator.strip_prefix(op));
        match (value, default) {
            _ if !operator.is_empty() && default.is_none() => {
                return Err(Unresolved::Unsupported(format!("${{{body}}}")))
            }
            (Some(value), _) => out.push_str(value),
            (None, Some(default)) => out.push_str(&expand(default, variables, missing, depth + 1)?),
            (None, None) => missing.push(name.to_string()),
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// The index of the `}` closing a `${` body, counting nested `${`.
fn closing_brace(body: &str) -> Option<usize> {
    let bytes = body.as_bytes();
    let mut depth = 1;
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'{' if i > 0 && bytes[i - 1] == b'$' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Variables {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn substitutes_like_kustomize_controller() {
        let v = vars(&[("TAG", "1.2.3"), ("REGISTRY", "ghcr.io/org")]);
        let table: &[(&str, Result<&str, Unresolved>)] = &[
            ("app:${TAG}", Ok("app:1.2.3")),
            ("${REGISTRY}/app:${TAG}", Ok("ghcr.io/org/app:1.2.3")),
            ("app:${MISSING:=0.1.0}", Ok("app:0.1.0")),
            ("app:${MISSING:-0.1.0}", Ok("app:0.1.0")),
            ("app:${TAG:=0.1.0}", Ok("app:1.2.3")),
            ("app:${MISSING:-${TAG}}", Ok("app:1.2.3")),
            ("app:$${TAG}", Ok("app:${TAG}")),
            ("app:$TAG", Ok("app:$TAG")),
            ("app:${TAG", Ok("app:${TAG")),
            (
                "app:${MISSING}",
                Err(Unresolved::Missing(vec!["MISSING".into()])),
            ),
            (
                "${A}:${B}",
                Err(Unresolved::Missing(vec!["A".into(), "B".into()])),
            ),
            (
                "app:${TAG/1/2}",
                Err(Unresolved::Unsupported("${TAG/1/2}".into())),
            ),
        ];
        for (text, expected) in table {
            assert_eq!(
                substitute(text, &v).as_deref().map_err(Clone::clone),
                expected.clone(),
                "{text}"
            );
        }
    }
}
