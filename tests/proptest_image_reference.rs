//! Property tests for image references: references generated from the
//! grammar (`github.com/distribution/reference`) parse to what a small model
//! of the normalisation says, the canonical form is a fixed point, Docker
//! Hub spellings agree, and no string makes the parser panic.

use fluxgate::image::{ImageRef, DEFAULT_REGISTRY, DEFAULT_TAG};
use proptest::prelude::*;

/// A reference as written, before normalisation.
#[derive(Debug, Clone)]
struct Written {
    host: Option<String>,
    path: Vec<String>,
    tag: Option<String>,
    digest: Option<String>,
}

impl Written {
    /// The text a user would write: `[host/]path[:tag][@digest]`.
    fn format(&self) -> String {
        let mut out = String::new();
        if let Some(host) = &self.host {
            out.push_str(host);
            out.push('/');
        }
        out.push_str(&self.path.join("/"));
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

    /// What parsing must give, by the normalisation rules stated plainly.
    fn model(&self) -> ImageRef {
        let registry = match self.host.as_deref() {
            None | Some("index.docker.io") => DEFAULT_REGISTRY.to_string(),
            Some(host) => host.to_string(),
        };
        let mut repository = self.path.join("/");
        if registry == DEFAULT_REGISTRY && self.path.len() == 1 {
            repository = format!("library/{repository}");
        }
        let tag = match (&self.tag, &self.digest) {
            (None, None) => Some(DEFAULT_TAG.to_string()),
            (tag, _) => tag.clone(),
        };
        ImageRef {
            registry,
            repository,
            tag,
            digest: self.digest.clone(),
        }
    }
}

fn component() -> impl Strategy<Value = String> {
    "[a-z0-9]{1,8}((\\.|_|__|-{1,3})[a-z0-9]{1,8}){0,2}"
}

/// A host that reads as a registry: it has a dot or a port, or is
/// `localhost`, or is a bracketed IPv6 address.
fn host() -> impl Strategy<Value = String> {
    let label = "[a-zA-Z0-9]([a-zA-Z0-9-]{0,6}[a-zA-Z0-9])?";
    let dns = prop::collection::vec(label, 2..4).prop_map(|labels| labels.join("."));
    let name = prop_oneof![
        4 => dns,
        1 => Just("localhost".to_string()),
        1 => "[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}",
        // Without a ':' a bracketed "host" is a Hub path, as in distribution.
        1 => "\\[[0-9a-fA-F]{0,4}(:[0-9a-fA-F]{0,4}){1,7}\\]",
        1 => Just("index.docker.io".to_string()),
        1 => Just("docker.io".to_string()),
    ];
    (name, prop::option::of("[0-9]{1,5}")).prop_map(|(name, port)| match port {
        Some(port) => format!("{name}:{port}"),
        None => name,
    })
}

fn tag() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
}

fn digest() -> impl Strategy<Value = String> {
    "[0-9a-f]{64}".prop_map(|hex| format!("sha256:{hex}"))
}

/// A valid reference with an explicit registry.
fn written() -> impl Strategy<Value = Written> {
    (
        host(),
        prop::collection::vec(component(), 1..4),
        prop::option::of(tag()),
        prop::option::of(digest()),
    )
        .prop_map(|(host, path, tag, digest)| Written {
            host: Some(host),
            path,
            tag,
            digest,
        })
}

/// A Docker Hub path written without a registry: its first component must
/// not read as a host (no '.', not `localhost`).
fn hub_path() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(component(), 1..3).prop_filter("first component reads as a host", |p| {
        !p[0].contains('.') && p[0] != "localhost"
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn written_references_parse_to_the_model(w in written()) {
        let text = w.format();
        let parsed = ImageRef::parse(&text);
        prop_assert_eq!(parsed, Ok(w.model()), "{}", text);
    }

    #[test]
    fn parse_of_canonical_is_identity(w in written()) {
        let r = ImageRef::parse(&w.format()).expect("a generated reference is valid");
        let canonical = r.canonical();
        prop_assert_eq!(ImageRef::parse(&canonical), Ok(r.clone()), "{}", canonical);
        prop_assert_eq!(r.to_string(), canonical);
    }

    #[test]
    fn canonical_is_idempotent(w in written()) {
        let once = ImageRef::parse(&w.format()).expect("valid").canonical();
        let twice = ImageRef::parse(&once).expect("canonical parses").canonical();
        prop_assert_eq!(twice, once);
    }

    #[test]
    fn docker_hub_spellings_agree(
        path in hub_path(),
        tag in prop::option::of(tag()),
        digest in prop::option::of(digest()),
    ) {
        let hosts = [None, Some("docker.io"), Some("index.docker.io")];
        let mut spellings: Vec<Written> = hosts
            .iter()
            .map(|host| Written {
                host: host.map(str::to_string),
                path: path.clone(),
                tag: tag.clone(),
                digest: digest.clone(),
            })
            .collect();
        if path.len() == 1 {
            // `nginx` is `library/nginx`, but only on Docker Hub.
            let mut library = spellings[1].clone();
            library.path.insert(0, "library".to_string());
            spellings.push(library);
        }
        let first = ImageRef::parse(&spellings[0].format()).expect("a hub reference is valid");
        prop_assert_eq!(first.registry.as_str(), DEFAULT_REGISTRY);
        prop_assert_eq!(first.repository.starts_with("library/"), path.len() == 1);
        for w in &spellings {
            prop_assert_eq!(ImageRef::parse(&w.format()), Ok(first.clone()), "{}", w.format());
        }
    }

    #[test]
    fn arbitrary_strings_never_panic(input in any::<String>()) {
        check_any(&input)?;
    }

    #[test]
    fn reference_like_strings_never_panic(input in "[a-zA-Z0-9._:/@\\[\\]-]{0,40}") {
        check_any(&input)?;
    }
}

/// An error points at a char range of the input; a success round-trips.
fn check_any(input: &str) -> Result<(), TestCaseError> {
    match ImageRef::parse(input) {
        Ok(r) => {
            let canonical = r.canonical();
            prop_assert_eq!(ImageRef::parse(&canonical), Ok(r), "{:?}", input);
        }
        Err(e) => {
            prop_assert!(
                input.get(e.offset.clone()).is_some(),
                "{:?}: {:?}",
                input,
                e
            );
        }
    }
    Ok(())
}
