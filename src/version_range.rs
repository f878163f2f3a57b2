//! Chart versions and version constraints as Helm and Flux read them (the
//! Masterminds semver rules): `1.2.3`, `v1.2`, `>=1.0 <2.0`, `6.x`, `~1.2`,
//! `^0.3`, `1.2 - 1.4`, `>=1 || 0.9.x`. A constraint without a prerelease
//! never matches a prerelease version, as in Helm.

use std::cmp::Ordering;
use std::fmt;

/// A version: `major.minor.patch[-pre][+build]`, a leading `v` and missing
/// minor/patch allowed (Helm coerces `1.2` to `1.2.0`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
    pub pre: Vec<Identifier>,
}

/// One dot-separated part of a prerelease: numbers sort below text.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Identifier {
    Number(u64),
    Text(String),
}

impl Version {
    pub fn parse(text: &str) -> Option<Version> {
        let partial = Partial::parse(text)?;
        Some(Version {
            major: partial.major?,
            minor: partial.minor.unwrap_or(0),
            patch: partial.patch.unwrap_or(0),
            pre: partial.pre,
        })
    }

    fn new(major: u64, minor: u64, patch: u64) -> Version {
        Version {
            major,
            minor,
            patch,
            pre: Vec::new(),
        }
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(other.major, other.minor, other.patch))
            .then_with(|| match (self.pre.is_empty(), other.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                // A prerelease comes before its release.
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => self.pre.cmp(&other.pre),
            })
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        for (i, id) in self.pre.iter().enumerate() {
            f.write_str(if i == 0 { "-" } else { "." })?;
            match id {
                Identifier::Number(n) => write!(f, "{n}")?,
                Identifier::Text(t) => f.write_str(t)?,
            }
        }
        Ok(())
    }
}

/// A version as written in a constraint: parts may be missing or wildcards.
#[derive(Debug, Clone, Default)]
struct Partial {
    major: Option<u64>,
    minor: Option<u64>,
    patch: Option<u64>,
    pre: Vec<Identifier>,
}

impl Partial {
    fn parse(text: &str) -> Option<Partial> {
        let text = text.trim();
        let text = text.strip_prefix(['v', 'V']).unwrap_or(text);
        let text = text
            .split_once('+')
            .map_or(text, |(version, _build)| version);
        let (core, pre) = match text.split_once('-') {
            Some((core, pre)) => (core, Some(pre)),
            None => (text, None),
        };
        let mut numbers = core.split('.');
        let mut next = || -> Option<Option<u64>> {
            match numbers.next() {
                None => Some(None),
                Some("x" | "X" | "*") => Some(None),
                Some(n) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
                    n.parse().ok().map(Some)
                }
                Some(_) => None,
            }
        };
        let major = next()?;
        let minor = next()?;
        let patch = next()?;
        if numbers.next().is_some() {
            return None;
        }
        // A wildcard ends the version: `1.x.3` is not a version.
        if (major.is_none() && minor.is_some()) || (minor.is_none() && patch.is_some()) {
            return None;
        }
        let pre = match pre {
            None => Vec::new(),
            Some(pre) => pre
                .split('.')
                .map(|id| {
                    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    {
                        None
                    } else if id.bytes().all(|b| b.is_ascii_digit()) {
                        id.parse().ok().map(Identifier::Number)
                    } else {
                        Some(Identifier::Text(id.to_string()))
                    }
                })
                .collect::<Option<Vec<_>>>()?,
        };
        if major.is_none() && !pre.is_empty() {
            return None;
        }
        Some(Partial {
            major,
            minor,
            patch,
            pre,
        })
    }

    fn floor(&self) -> Version {
        Version {
            major: self.major.unwrap_or(0),
            minor: self.minor.unwrap_or(0),
            patch: self.patch.unwrap_or(0),
            pre: self.pre.clone(),
        }
    }

    /// The first version above every version this partial stands for
    /// (`1.2` -> `1.3.0`); `None` for `*`.
    fn ceiling(&self) -> Option<Version> {
        match (self.major, self.minor, self.patch) {
            (None, _, _) => None,
            (Some(major), None, _) => Some(Version::new(major + 1, 0, 0)),
            (Some(major), Some(minor), None) => Some(Version::new(major, minor + 1, 0)),
            (Some(major), Some(minor), Some(patch)) => {
                let mut exact = Version::new(major, minor, patch + 1);
                if !self.pre.is_empty() {
                    // `<=1.2.3-rc.1` is met by exactly up to that prerelease.
                    exact = self.floor();
                }
                Some(exact)
            }
        }
    }
}

/// One bound of a range.
#[derive(Debug, Clone)]
enum Bound {
    AtLeast(Version),
    Above(Version),
    Below(Version),
    AtMost(Version),
    Not(Version),
}

impl Bound {
    fn admits(&self, v: &Version) -> bool {
        match self {
            Bound::AtLeast(b) => v >= b,
            Bound::Above(b) => v > b,
            Bound::Below(b) => v < b,
            Bound::AtMost(b) => v <= b,
            Bound::Not(b) => v != b,
        }
    }
}

/// A parsed constraint: any of several all-of groups.
#[derive(Debug, Clone)]
pub struct Constraint {
    groups: Vec<Vec<Bound>>,
    /// Prereleases named in the constraint: only those `major.minor.patch`
    /// may match a prerelease version.
    prerelease_cores: Vec<(u64, u64, u64)>,
}

/// Why a constraint does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConstraintError(pub String);

impl fmt::Display for ConstraintError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether `text` names one exact version (no operator, no wildcard).
pub fn is_exact(text: &str) -> bool {
    Partial::parse(text)
        .is_some_and(|p| p.major.is_some() && p.minor.is_some() && p.patch.is_some())
}

impl Constraint {
    pub fn parse(text: &str) -> Result<Constraint, ConstraintError> {
        let mut constraint = Constraint {
            groups: Vec::new(),
            prerelease_cores: Vec::new(),
        };
        for group in text.split("||") {
            let mut bounds = Vec::new();
            let terms = tokens(group);
            if terms.is_empty() {
                return Err(ConstraintError(format!("empty constraint in `{text}`")));
            }
            let mut index = 0;
            while index < terms.len() {
                // A hyphen range: `1.2 - 1.4.5`.
                if terms.get(index + 1).map(String::as_str) == Some("-") {
                    let low = partial(&terms[index], text)?;
                    let high = partial(
                        terms.get(index + 2).ok_or_else(|| {
                            ConstraintError(format!("unfinished range in `{text}`"))
                        })?,
                        text,
                    )?;
                    constraint.note_prerelease(&low);
                    constraint.note_prerelease(&high);
                    bounds.push(Bound::AtLeast(low.floor()));
                    if let Some(ceiling) = high.ceiling() {
                        bounds.push(if high.patch.is_some() && high.pre.is_empty() {
                            Bound::AtMost(high.floor())
                        } else {
                            Bound::Below(ceiling)
                        });
                    }
                    index += 3;
                    continue;
                }
                let term = &terms[index];
                let (operator, rest) = split_operator(term);
                let version = partial(rest, text)?;
                constraint.note_prerelease(&version);
                bounds.extend(bounds_of(operator, &version, text)?);
                index += 1;
            }
            constraint.groups.push(bounds);
        }
        Ok(constraint)
    }

    fn note_prerelease(&mut self, partial: &Partial) {
        if !partial.pre.is_empty() {
            let v = partial.floor();
            self.prerelease_cores.push((v.major, v.minor, v.patch));
        }
    }

    pub fn matches(&self, version: &Version) -> bool {
        if !version.pre.is_empty()
            && !self
                .prerelease_cores
                .contains(&(version.major, version.minor, version.patch))
        {
            return false;
        }
        self.groups
            .iter()
            .any(|group| group.iter().all(|bound| bound.admits(version)))
    }

    /// The highest of `versions` that matches, as Flux and Helm pick it.
    pub fn best<'a>(&self, versions: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
        versions
            .into_iter()
            .filter_map(|text| Some((Version::parse(text)?, text)))
            .filter(|(version, _)| self.matches(version))
            .max_by(|a, b| a.0.cmp(&b.0))
            .map(|(_, text)| text)
    }
}

/// Splits a group into terms; an operator alone (`>= 1.2`) joins the next.
fn tokens(group: &str) -> Vec<String> {
    let mut terms: Vec<String> = Vec::new();
    let mut pending = String::new();
    for word in group.split([' ', ',', '\t']).filter(|w| !w.is_empty()) {
        if !pending.is_empty() {
            pending.push_str(word);
            terms.push(std::mem::take(&mut pending));
        } else if word != "-" && word.bytes().all(|b| b"<>=!~^".contains(&b)) {
            pending.push_str(word);
        } else {
            terms.push(word.to_string());
        }
    }
    if !pending.is_empty() {
        terms.push(pending);
    }
    terms
}

fn split_operator(term: &str) -> (&str, &str) {
    let end = term
        .find(|c: char| !"<>=!~^".contains(c))
        .unwrap_or(term.len());
    (&term[..end], &term[end..])
}

fn partial(text: &str, whole: &str) -> Result<Partial, ConstraintError> {
    Partial::parse(text)
        .ok_or_else(|| ConstraintError(format!("`{text}` in `{whole}` is not a version")))
}

fn bounds_of(operator: &str, v: &Partial, whole: &str) -> Result<Vec<Bound>, ConstraintError> {
    let floor = v.floor();
    let ceiling = v.ceiling();
    let mut bounds = Vec::new();
    match operator {
        "" | "=" | "==" => {
            if v.major.is_some() && v.minor.is_some() && v.patch.is_some() {
                bounds.push(Bound::AtLeast(floor.clone()));
                bounds.push(Bound::AtMost(floor));
            } else {
                bounds.push(Bound::AtLeast(floor));
                bounds.extend(ceiling.map(Bound::Below));
            }
        }
        "!=" => match ceiling {
            _ if v.patch.is_some() => bounds.push(Bound::Not(floor)),
            // `!=1.2` excludes the whole 1.2.x line: keep the group's other bounds.
            _ => {
                return Err(ConstraintError(format!(
                    "`!=` needs a full version in `{whole}`"
                )))
            }
        },
        ">" => match ceiling {
            Some(_) if v.patch.is_some() => bounds.push(Bound::Above(floor)),
            Some(ceiling) => bounds.push(Bound::AtLeast(ceiling)),
            // `>*` admits nothing.
            None => bounds.push(Bound::Below(Version::new(0, 0, 0))),
        },
        ">=" | "=>" => bounds.push(Bound::AtLeast(floor)),
        "<" => bounds.push(Bound::Below(floor)),
        "<=" | "=<" => match ceiling {
            Some(_) if v.patch.is_some() => bounds.push(Bound::AtMost(floor)),
            Some(ceiling) => bounds.push(Bound::Below(ceiling)),
            None => {}
        },
        "~" | "~>" => {
            bounds.push(Bound::AtLeast(floor));
            match (v.major, v.minor) {
                (Some(major), None) => bounds.push(Bound::Below(Version::new(major + 1, 0, 0))),
                (Some(major), Some(minor)) => {
                    bounds.push(Bound::Below(Version::new(major, minor + 1, 0)))
                }
                (None, _) => {}
            }
        }
        "^" => {
            bounds.push(Bound::AtLeast(floor));
            let upper = match (v.major, v.minor, v.patch) {
                (None, _, _) => None,
                (Some(0), None, _) => Some(Version::new(1, 0, 0)),
                (Some(0), Some(0), None) => Some(Version::new(0, 1, 0)),
                (Some(0), Some(0), Some(patch)) => Some(Version::new(0, 0, patch + 1)),
                (Some(0), Some(minor), _) => Some(Version::new(0, minor + 1, 0)),
                (Some(major), _, _) => Some(Version::new(major + 1, 0, 0)),
            };
            bounds.extend(upper.map(Bound::Below));
        }
        other => {
            return Err(ConstraintError(format!(
                "unknown operator `{other}` in `{whole}`"
            )))
        }
    }
    Ok(bounds)
}

#[cfg(test)]
mod tests {
    use super::*;

    const VERSIONS: &[&str] = &[
        "0.2.9",
        "0.3.0",
        "0.3.5",
        "1.0.0",
        "1.2.0",
        "1.2.3",
        "1.3.0-rc.1",
        "1.3.0",
        "1.4.5",
        "2.0.0",
        "v6.2.1",
        "6.5.0",
    ];

    fn best(constraint: &str) -> Option<&'static str> {
        Constraint::parse(constraint)
            .unwrap_or_else(|e| panic!("{constraint}: {e}"))
            .best(VERSIONS.iter().copied())
    }

    #[test]
    fn picks_the_highest_match_as_helm_does() {
        let table: &[(&str, Option<&str>)] = &[
            ("1.2.3", Some("1.2.3")),
            ("v1.2.3", Some("1.2.3")),
            ("=1.2.3", Some("1.2.3")),
            ("1.2.4", None),
            (">=1.0 <2.0", Some("1.4.5")),
            (">=1.0, <2.0", Some("1.4.5")),
            (">= 1.0, < 2.0", Some("1.4.5")),
            ("6.x", Some("6.5.0")),
            ("6.2.x", Some("v6.2.1")),
            ("1.X", Some("1.4.5")),
            ("*", Some("6.5.0")),
            ("~1.2", Some("1.2.3")),
            ("~1.2.0", Some("1.2.3")),
            ("~1", Some("1.4.5")),
            ("^1.2", Some("1.4.5")),
            ("^0.3", Some("0.3.5")),
            ("^0.2.3", Some("0.2.9")),
            ("^0.0.3", None),
            ("1.2 - 1.3", Some("1.3.0")),
            ("1.2 - 1.3.0", Some("1.3.0")),
            (">1.2", Some("6.5.0")),
            ("<=1.2", Some("1.2.3")),
            ("<1.3.0", Some("1.2.3")),
            (">=7", None),
            ("<1 || >=6.3", Some("6.5.0")),
            ("<1 || 7.x", Some("0.3.5")),
            ("!=6.5.0, >=6", Some("v6.2.1")),
            (">=1.3.0-rc.0 <1.3.0", Some("1.3.0-rc.1")),
        ];
        for (constraint, expected) in table {
            assert_eq!(best(constraint), *expected, "constraint `{constraint}`");
        }
    }

    #[test]
    fn prereleases_only_when_asked_for() {
        let c = Constraint::parse(">=1.2").unwrap();
        assert!(!c.matches(&Version::parse("1.3.0-rc.1").unwrap()));
        let c = Constraint::parse(">=1.3.0-rc.0").unwrap();
        assert!(c.matches(&Version::parse("1.3.0-rc.1").unwrap()));
        assert!(!c.matches(&Version::parse("1.4.0-rc.1").unwrap()));
    }

    #[test]
    fn exact_versions_and_rejects() {
        assert!(is_exact("1.2.3"));
        assert!(is_exact("v1.2.3-rc.1+build.5"));
        assert!(!is_exact("1.2"));
        assert!(!is_exact(">=1.2.3"));
        assert!(!is_exact("6.x"));
        for bad in [
            "", "abc", ">=", "1.2.3.4", "1.x.3", "~>", "1.2 -", "=~1", "!=1.2",
        ] {
            assert!(Constraint::parse(bad).is_err(), "`{bad}` should not parse");
        }
    }

    #[test]
    fn orders_prereleases_below_releases() {
        let v = |t| Version::parse(t).unwrap();
        assert!(v("1.0.0-alpha") < v("1.0.0-alpha.1"));
        assert!(v("1.0.0-alpha.1") < v("1.0.0-beta"));
        assert!(v("1.0.0-2") < v("1.0.0-11"));
        assert!(v("1.0.0-rc.1") < v("1.0.0"));
        assert_eq!(v("v1.2").to_string(), "1.2.0");
    }
}
