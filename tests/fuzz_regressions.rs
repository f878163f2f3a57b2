//! Replays the fuzz seeds and every input the fuzzers ever failed on
//! (`fuzz/seeds/<target>/`, `fuzz/regressions/<target>/`) through the code
//! the `cargo fuzz` targets run, so they are part of the ordinary stable
//! `cargo test`. Running the fuzzers themselves: `scripts/fuzz`.

use std::fs;
use std::panic;
use std::path::{Path, PathBuf};

type Target = fn(&[u8]);

const TARGETS: &[(&str, Target)] = &[
    ("image_reference", fluxgate::fuzzing::image_reference),
    ("yaml_document", fluxgate::fuzzing::yaml_document),
    (
        "suppression_comment",
        fluxgate::fuzzing::suppression_comment,
    ),
    ("config", fluxgate::fuzzing::config),
    ("git_pack", fluxgate::fuzzing::git_pack),
    ("chart_archive", fluxgate::fuzzing::chart_archive),
];

fn inputs(kind: &str, target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz")
        .join(kind)
        .join(target);
    let Ok(entries) = fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("a readable directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

fn replay(kind: &str) -> usize {
    let mut failures = Vec::new();
    let mut count = 0;
    for &(target, run) in TARGETS {
        for path in inputs(kind, target) {
            let data = fs::read(&path).expect("a readable input file");
            count += 1;
            if panic::catch_unwind(|| run(&data)).is_err() {
                failures.push(path.display().to_string());
            }
        }
    }
    assert!(failures.is_empty(), "failed on:\n{}", failures.join("\n"));
    count
}

#[test]
fn seeds_pass() {
    assert!(replay("seeds") >= TARGETS.len(), "every target has seeds");
}

#[test]
fn regressions_stay_fixed() {
    replay("regressions");
}

#[test]
fn every_fuzz_target_is_replayed() {
    let listed = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/Cargo.toml"))
        .expect("fuzz/Cargo.toml");
    let bins = listed.matches("[[bin]]").count();
    assert_eq!(bins, TARGETS.len(), "a fuzz target without a replay here");
    for (target, _) in TARGETS {
        assert!(listed.contains(&format!("name = \"{target}\"")), "{target}");
    }
}

/// The panics fuzzing found in libyaml-safer 0.3.0 (patched in
/// `vendor/libyaml-safer`): the values are libyaml's own, as PyYAML's C
/// loader gives them, so the fixes read what Flux reads.
#[test]
fn libyaml_safer_panics_parse_as_libyaml_does() {
    use fluxgate::yaml::{parse, Limits};
    let value = |text: &str, key: &str| {
        let parsed = parse(text, &Limits::default());
        assert!(parsed.error.is_none(), "{text:?}: {:?}", parsed.error);
        let root = &parsed.documents[0].root;
        root.get(key)
            .and_then(|n| n.scalar_text())
            .map(str::to_string)
    };
    assert_eq!(value("a: |\n  x", "a").as_deref(), Some("x"));
    assert_eq!(value("a: |\n  x\n", "a").as_deref(), Some("x\n"));
    assert_eq!(value("a: |+\n  x\n  y", "a").as_deref(), Some("x\ny"));
    assert_eq!(value("a: >\n  x\n  y", "a").as_deref(), Some("x y"));
    assert_eq!(value("a: |\n  x\n   ", "a").as_deref(), Some("x\n "));

    let flow = parse("[!!str, b]", &Limits::default());
    assert!(flow.error.is_none(), "{:?}", flow.error);
    let items = flow.documents[0].root.as_sequence().expect("a sequence");
    let texts: Vec<_> = items.iter().map(|n| n.scalar_text()).collect();
    assert_eq!(texts, [Some(""), Some("b")]);

    let quoted = parse("a: \"x\\", &Limits::default());
    let error = quoted.error.expect("an unfinished escape is an error");
    assert!(
        error.message.contains("unknown escape character"),
        "{error:?}"
    );
}

/// The pack seeds are real packs (offset deltas; named deltas): the reader
/// gives every one of their 15 objects, so the fuzzer starts from inputs
/// that reach the delta code.
#[test]
fn pack_seeds_give_every_object() {
    for seed in ["offset-deltas", "named-deltas"] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fuzz/seeds/git_pack")
            .join(seed);
        let data = fs::read(&path).expect("a seed");
        assert_eq!(fluxgate::fuzzing::git_pack_objects(&data), 15, "{seed}");
    }
}

/// The archive seeds are charts GNU tar packed (GNU and PAX headers, a
/// subchart's values and a long path named `values.yaml` before the
/// chart's own): each gives the chart's own values.
#[test]
fn archive_seeds_give_the_charts_own_values() {
    for seed in ["gnu.tgz", "pax.tgz"] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fuzz/seeds/chart_archive")
            .join(seed);
        let data = fs::read(&path).expect("a seed");
        let values = fluxgate::chart_defaults::archive::values_yaml(&data, 1 << 16).unwrap();
        assert!(
            String::from_utf8(values)
                .unwrap()
                .contains("repository: ghcr.io/stefanprodan/podinfo"),
            "{seed}"
        );
    }
}
