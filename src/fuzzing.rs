//! What each `cargo fuzz` target in `fuzz/` does with one input.
//!
//! The targets are one-line wrappers around these functions, and
//! `tests/fuzz_regressions.rs` replays every seed and every crash found so
//! far through them on stable Rust, so a regression fails the normal
//! `cargo test` without cargo-fuzz or libFuzzer. Each function panics when
//! the code under test panics or breaks an invariant checked here.

use crate::app::parse_findings;
use crate::changes::{self, BaseIndex};
use crate::config::Config;
use crate::extract;
use crate::image::{flux_variables, ImageRef};
use crate::load::{self, LoadedFile};
use crate::source::{Side, Span};
use crate::yaml::{Limits, Node, Value};
use crate::{images, pairs, rules, suppress};

/// `image_reference`: parse, then check that the canonical form is a fixed point.
pub fn image_reference(data: &[u8]) {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    for name in flux_variables(input) {
        assert!(input.contains(&name), "{input:?}: variable {name:?}");
    }
    let reference = match ImageRef::parse(input) {
        Ok(reference) => reference,
        Err(error) => {
            assert!(
                input.get(error.offset.clone()).is_some(),
                "{input:?}: error offset {:?} is not a char range of the input",
                error.offset
            );
            return;
        }
    };
    assert!(
        reference.tag.is_some() || reference.digest.is_some(),
        "{input:?}: neither tag nor digest"
    );
    let canonical = reference.canonical();
    assert_eq!(reference.to_string(), canonical);
    assert!(canonical.starts_with(&reference.name()), "{input:?}");
    let reparsed = ImageRef::parse(&canonical)
        .unwrap_or_else(|e| panic!("{input:?}: canonical {canonical:?} does not parse: {e}"));
    assert_eq!(reparsed, reference, "{input:?}: canonical {canonical:?}");
    assert_eq!(reparsed.canonical(), canonical, "{input:?}");
}

/// Where the `yaml_document` input is split into the base and head files.
/// libyaml rejects NUL, so no valid YAML is lost to the split.
pub const BASE_HEAD_SEPARATOR: u8 = 0;

/// `yaml_document`: one changed file the way `app::check` handles it.
///
/// Input without a NUL byte is a new head file; `base\0head` is a file
/// modified by the change. Both are read and parsed as blobs are, then go
/// through the syntax findings, suppression comments, the base index, image
/// extraction and records (offline), pairing, every rollback rule and the
/// application of suppressions. The head's documents are also extracted as
/// if the file were a `kustomization.yaml`.
pub fn yaml_document(data: &[u8]) {
    let (base, head) = match data.iter().position(|&b| b == BASE_HEAD_SEPARATOR) {
        Some(at) => (Some(&data[..at]), &data[at + 1..]),
        None => (None, data),
    };
    let limits = Limits::default();
    let path = "apps/app.yaml";
    let base_files: Vec<LoadedFile> = base
        .map(|b| load::parse_bytes(Side::Base, path, b.to_vec(), &limits))
        .into_iter()
        .collect();
    let head = load::parse_bytes(Side::Head, path, head.to_vec(), &limits);
    for file in base_files.iter().chain([&head]) {
        check_spans(file);
    }

    // Every ConfigMap/Secret key, and the file itself, as values some
    // HelmRelease takes with `valuesFrom`.
    let roles = every_values_role(&head);
    let mut base_index = BaseIndex::default();
    for file in &base_files {
        base_index.add(file, Some(path));
        base_index.add_values(file, path, &roles);
    }
    let text = head.source.text();
    for role in &roles {
        for site in crate::values_from::image_sites(&head, role) {
            for span in [site.span]
                .into_iter()
                .chain(site.related.iter().map(|(span, _)| *span))
                .chain(site.parts.iter().map(|(_, span)| *span))
            {
                assert!(
                    span.start <= span.end
                        && span.end <= text.len()
                        && text.is_char_boundary(span.start)
                        && text.is_char_boundary(span.end),
                    "values site span {span:?} outside the text"
                );
            }
        }
    }
    let mut findings = parse_findings(&head);
    let suppressions = suppress::collect(&head);
    let touched = base.is_some().then_some(&base_index);
    let fields = crate::k8s::custom::ImageFields::default();
    for image_use in changes::image_uses(&head, touched, true, &fields, &roles) {
        let (_, finding) = images::record(image_use, true);
        findings.extend(finding);
    }
    for doc in &head.parsed.documents {
        let _ = extract::document_images("kustomization.yaml", &doc.root, &fields);
        for literal in crate::k8s::kustomize::generated_literals(&doc.root, text) {
            let span = literal.value.span;
            assert!(
                span.start <= span.end && text.get(span.start..span.end).is_some(),
                "literal span {span:?} outside the text"
            );
        }
    }
    let _ = crate::charts::chart_uses(&head, None, true);
    let _ = crate::charts::sources_of(&head);
    let head_files = [head];
    findings.extend(rules::check_changes(&pairs::pair(&base_files, &head_files)));
    let _ = suppress::apply(findings, &suppressions);
}

fn every_values_role(file: &LoadedFile) -> Vec<crate::values_from::ValuesRole> {
    let release = "apps/fuzz".to_string();
    // What each `targetPath` entry of the file's releases makes of a value.
    let mut targets = vec![None];
    for doc in &file.parsed.documents {
        let entries = crate::k8s::flux::values_from(&doc.root);
        for index in 0..entries.len().min(16) {
            let target =
                crate::values_from::target::analyse(&doc.root, &entries, index, &file.source);
            targets.extend(target.map(Some));
        }
    }
    let mut roles = vec![crate::values_from::ValuesRole {
        holder: None,
        release: release.clone(),
        release_file: "apps/fuzz.yaml".into(),
        target: None,
    }];
    for doc in &file.parsed.documents {
        let Some(id) = crate::k8s::ObjectId::of(&doc.root) else {
            continue;
        };
        for data in ["data", "stringData"] {
            for (key, _) in doc
                .root
                .get(data)
                .and_then(Node::as_mapping)
                .unwrap_or_default()
            {
                let Some(key) = key.scalar_text() else {
                    continue;
                };
                for target in &targets {
                    roles.push(crate::values_from::ValuesRole {
                        holder: Some((id.clone(), key.to_string())),
                        release: release.clone(),
                        release_file: "apps/fuzz.yaml".into(),
                        target: target.clone(),
                    });
                }
            }
        }
    }
    roles.truncate(64);
    roles
}

/// Every node span lies inside the text and starts on a char boundary, so
/// the positions reported from it are real.
fn check_spans(file: &LoadedFile) {
    let text = file.source.text();
    let in_text = |span: Span| {
        span.start <= span.end && span.end <= text.len() && text.is_char_boundary(span.start)
    };
    fn walk(node: &Node, ok: &dyn Fn(Span) -> bool) {
        assert!(ok(node.span), "node span {:?} outside the text", node.span);
        match &node.value {
            Value::Scalar(_) => {}
            Value::Sequence(items) => items.iter().for_each(|n| walk(n, ok)),
            Value::Mapping(entries) => entries.iter().for_each(|(k, v)| {
                walk(k, ok);
                walk(v, ok);
            }),
        }
    }
    for doc in &file.parsed.documents {
        walk(&doc.root, &in_text);
    }
    if let Some(error) = &file.parsed.error {
        assert!(error.span.end <= text.len(), "error span {:?}", error.span);
    }
}

/// `git_pack`: a pack and its index, as git stores them (input: the
/// index's length as 4 big-endian bytes, the index, then the pack), read by
/// fluxgate's own pack reader. Every object either comes back as exactly
/// what its id names or is left to libgit2 (`None`); nothing panics.
pub fn git_pack(data: &[u8]) {
    git_pack_objects(data);
}

/// [`git_pack`], saying how many objects the reader gave.
pub fn git_pack_objects(data: &[u8]) -> usize {
    let Some((length, rest)) = data.split_first_chunk::<4>() else {
        return 0;
    };
    let Some((index, pack)) = rest.split_at_checked(u32::from_be_bytes(*length) as usize) else {
        return 0;
    };
    // A directory of its own per call (tests replay inputs on several
    // threads), written afresh: the reader maps the files.
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let objects =
        std::env::temp_dir().join(format!("fluxgate-fuzz-pack-{}-{call}", std::process::id()));
    let dir = objects.join("pack");
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    std::fs::write(dir.join("fuzz.idx"), index).expect("write the index");
    std::fs::write(dir.join("fuzz.pack"), pack).expect("write the pack");
    let given = crate::git::read_every_packed_object(&objects, 1 << 20);
    let _ = std::fs::remove_dir_all(&objects);
    given
}

/// `chart_archive`: a chart's `.tgz`, read for its own `values.yaml`, and
/// with its subcharts' (nested archives too) and what its templates read
/// under `global`, as fluxgate reads archives from Helm repositories and
/// registries. What comes back is never larger
/// than asked for, both readings agree on the chart's own values, and no
/// input panics.
pub fn chart_archive(data: &[u8]) {
    const LIMIT: usize = 1 << 16;
    let own = crate::chart_defaults::archive::values_yaml(data, LIMIT);
    if let Ok(values) = &own {
        assert!(values.len() <= LIMIT, "{} bytes", values.len());
    }
    // With its subcharts: the same own values, each file within bounds.
    if let Ok(files) = crate::chart_defaults::archive::chart_files(data, LIMIT) {
        assert_eq!(own.as_ref().ok(), Some(&files.values), "own values differ");
        for (_, values) in &files.subcharts {
            assert!(values.len() <= LIMIT, "{} bytes", values.len());
        }
        // What templates read under `global` is asked of any text.
        for key in ["imageRegistry", "image.registry", "a..b", ""] {
            let _ = files.global_reads.read(key);
        }
        let limits = crate::yaml::Limits::default();
        if let Ok(defaults) = crate::chart_defaults::defaults::Defaults::parse(files, &limits) {
            let _ = defaults.global_registries(&[]);
        }
    }
}

/// `suppression_comment`: parse, then check the parts come back trimmed.
pub fn suppression_comment(data: &[u8]) {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let Some(comment) = suppress::parse_comment(input) else {
        return;
    };
    for rule in &comment.rules {
        assert!(!rule.is_empty() && !rule.contains([',', ']']), "{input:?}");
        assert_eq!(rule.trim(), rule, "{input:?}");
    }
    if let Some(reason) = &comment.reason {
        assert!(!reason.is_empty() && reason.trim() == reason, "{input:?}");
    }
    // Trailing whitespace never changes what a comment says.
    assert_eq!(
        suppress::parse_comment(&format!("{input} \t")),
        Some(comment)
    );
}

/// `config`: validate `.fluxgate.yaml` text read from a blob, and render an
/// error the way the binary does, which checks its span against the text.
pub fn config(data: &[u8]) {
    let text = String::from_utf8_lossy(data).into_owned();
    let len = text.len();
    let Err(error) = Config::parse(".fluxgate.yaml", text) else {
        return;
    };
    let span = error.span;
    assert!(span.offset() + span.len() <= len, "error span {span:?}");
    let mut out = String::new();
    miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
        .render_report(&mut out, error.as_ref())
        .expect("rendering to a String cannot fail");
}
