//! The bad-input corpus (issue 8), one table: every row is a real git repository whose head
//! commit adds the bad input *and* bumps the image of a valid Deployment elsewhere. Each row
//! runs `fluxgate check --offline` twice, as JSON and as human output with `--verbose`, and pins:
//! the exit code (1 for error findings, 2 only when the run cannot proceed, never a panic),
//! exactly the findings expected (rule, file, line, column, message), the skip notice for input
//! that is passed over on purpose, and that the valid file's bumped image is still reported.
//!
//! Big inputs (50 MB, 100,000 documents, 4,000,001 nodes, 10,000 levels, 5,000 files) are
//! generated here, never committed. Rows that an existing fixture covers run that fixture; rows
//! covered by another test file are listed as comments where they belong in the table.
//!
//! Command-line and configuration rows (exit 2) are the second and third tables.
#![allow(clippy::unwrap_used)]

mod support;

use serde_json::Value;
use std::path::Path;
use std::time::Duration;
use support::gitrepo::{
    fluxgate, images, places, repo_from_entries, repo_from_fixture, rev_sha, Entry,
};

const OK_FILE: &str = "apps/ok/deployment.yaml";
const OK_IMAGE: &str = "ghcr.io/acme/ok:1.1.0";

/// A Deployment whose (only) image is on line 17, column 18.
fn deployment(name: &str, image: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  namespace: apps\n\
         spec:\n  selector:\n    matchLabels:\n      app: {name}\n  template:\n    metadata:\n\
         \x20     labels:\n        app: {name}\n    spec:\n      containers:\n\
         \x20       - name: {name}\n          image: {image}\n"
    )
}

/// A Deployment named `bad` whose `spec:` is `spec` (written from column 1).
fn deployment_spec(spec: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: bad\n  namespace: apps\n{spec}"
    )
}

/// A Deployment named `bad` whose one container's `image:` value is `value` (line 11, column 18).
fn deployment_image(value: &str) -> String {
    deployment_spec(&format!(
        "spec:\n  template:\n    spec:\n      containers:\n        - name: bad\n          image: {value}\n"
    ))
}

/// What a row expects of one finding: rule, file, line, column, a part of the message.
type Finding = (&'static str, &'static str, u64, u64, &'static str);

/// What a row expects of one image: file, line, column, reference, status.
type Image = (String, u64, u64, String, &'static str);

fn image(file: &str, line: u64, column: u64, reference: &str, status: &'static str) -> Image {
    (file.into(), line, column, reference.into(), status)
}

/// The valid Deployment's bumped image, which every generated row must still report.
fn ok() -> Image {
    image(OK_FILE, 17, 18, OK_IMAGE, "skipped")
}

enum Tree {
    /// Base: the valid Deployment; head: its image bumped, plus these entries.
    Bad(Vec<Entry>),
    /// An existing fixture that already is such a pair.
    Fixture(&'static str),
}

struct Row {
    tree: Tree,
    /// Files the base holds besides the valid Deployment (and the head does not).
    base: Vec<Entry>,
    code: i32,
    /// Every finding, in report order.
    findings: Vec<Finding>,
    /// What `--verbose` says about input passed over on purpose.
    notices: Vec<&'static str>,
    /// Every image, in report order.
    images: Vec<Image>,
    /// More checks on the repository and the JSON report.
    extra: Option<fn(&Path, &Value)>,
}

impl Default for Row {
    fn default() -> Row {
        Row {
            tree: Tree::Bad(Vec::new()),
            base: Vec::new(),
            code: 0,
            findings: Vec::new(),
            notices: Vec::new(),
            images: vec![ok()],
            extra: None,
        }
    }
}

fn bad(entries: Vec<Entry>) -> Tree {
    Tree::Bad(entries)
}

fn bad_file(path: &str, content: impl Into<Vec<u8>>) -> Tree {
    Tree::Bad(vec![Entry::file(path, content)])
}

struct Output {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Far beyond any row's run; a run still going then is stuck (it gets killed and its row fails
/// on the exit code) rather than holding the test suite, as a stuck check holds a merge.
const STUCK: Duration = Duration::from_secs(300);

fn run(repo: &Path, args: &[&str]) -> Output {
    let output = fluxgate()
        .args(["check", "--offline", "--repo"])
        .arg(repo)
        .args(args)
        .timeout(STUCK)
        .output()
        .unwrap();
    let out = Output {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    assert!(
        !out.stderr.contains("panicked"),
        "fluxgate panicked:\n{}",
        out.stderr
    );
    out
}

/// The words of a text, for finding a message that miette wrapped (continued after `|`/`│`).
fn words(text: &str) -> String {
    let words: Vec<&str> = text
        .split_whitespace()
        .filter(|w| !matches!(*w, "|" | "│"))
        .collect();
    words.join(" ")
}

fn check_row(name: &str, row: Row) {
    let repo = match row.tree {
        Tree::Fixture(fixture) => repo_from_fixture(fixture),
        Tree::Bad(mut entries) => {
            entries.push(Entry::file(OK_FILE, deployment("ok", OK_IMAGE)));
            let mut base = row.base;
            base.push(Entry::file(
                OK_FILE,
                deployment("ok", "ghcr.io/acme/ok:1.0.0"),
            ));
            repo_from_entries(name, &base, &entries)
        }
    };

    let out = run(repo.path(), &["--format", "json"]);
    assert_eq!(
        out.code,
        Some(row.code),
        "{name}: exit code\n--- stdout\n{}\n--- stderr\n{}",
        out.stdout,
        out.stderr
    );
    let json: Value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("{name}: not JSON ({e}):\n{}", out.stderr));
    assert_eq!(json["version"], 1);
    assert_eq!(json["base"], rev_sha(repo.path(), "main"));
    assert_eq!(json["head"], rev_sha(repo.path(), "feature"));

    let expected: Vec<_> = row.findings.iter().map(|f| (f.0, f.1, f.2, f.3)).collect();
    assert_eq!(places(&json), expected, "{name}: {:#}", json["findings"]);
    for (finding, (.., part)) in json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .zip(&row.findings)
    {
        let message = finding["message"].as_str().unwrap();
        assert!(
            message.contains(part),
            "{name}: message {message:?} lacks {part:?}"
        );
    }
    let reported: Vec<Image> = images(&json)
        .iter()
        .map(|i| {
            let text = |key: &str| i[key].as_str().unwrap().to_string();
            let status = match i["status"].as_str().unwrap() {
                "skipped" => "skipped",
                "invalid" => "invalid",
                other => panic!("{name}: unexpected status {other} offline"),
            };
            (
                text("file"),
                i["line"].as_u64().unwrap(),
                i["column"].as_u64().unwrap(),
                text("reference"),
                status,
            )
        })
        .collect();
    assert_eq!(reported, row.images, "{name}: images");

    let human = run(repo.path(), &["--format", "human", "--verbose"]);
    assert_eq!(human.code, Some(row.code), "{name}: {}", human.stderr);
    let unwrapped = words(&human.stdout);
    for (rule, file, line, column, part) in &row.findings {
        let place = format!("{file}:{line}:{column}");
        for needle in [*rule, place.as_str(), part] {
            assert!(
                unwrapped.contains(&words(needle)),
                "{name}: human output lacks {needle:?}:\n{}",
                human.stdout
            );
        }
    }
    for notice in &row.notices {
        assert!(
            human.stdout.lines().any(|l| l == *notice),
            "{name}: --verbose does not say {notice:?}:\n{}",
            human.stdout
        );
    }
    if row.images.contains(&ok()) {
        let line = format!("skipped    modified  {OK_FILE}:17:18");
        assert!(human.stdout.contains(&line), "{name}: {}", human.stdout);
    }
    // Binary input never reaches the terminal: no control characters, no endless lines.
    assert!(
        !human.stdout.chars().any(|c| c.is_control() && c != '\n'),
        "{name}: control characters in the human output"
    );
    assert!(
        human.stdout.lines().all(|l| l.chars().count() < 1000),
        "{name}: an endless line in the human output"
    );
    if let Some(extra) = row.extra {
        extra(repo.path(), &json);
    }
}

macro_rules! corpus {
    ($($(#[$meta:meta])* $name:ident: $row:expr;)*) => {$(
        $(#[$meta])*
        #[test]
        fn $name() {
            check_row(stringify!($name), $row);
        }
    )*};
}

// ---------------------------------------------------------------------------------------------
// The corpus

corpus! {
    // Invalid YAML: one `yaml-invalid` at the place to fix.
    tab_indentation: Row {
        tree: bad_file("apps/tabs/deployment.yaml", "spec:\n\treplicas: 2\n"),
        code: 1,
        findings: vec![("yaml-invalid", "apps/tabs/deployment.yaml", 2, 1, "a tab, and YAML indents with spaces only")],
        ..Row::default()
    };
    unclosed_quote_points_at_the_opening_quote: Row {
        tree: bad_file("apps/quote/deployment.yaml", deployment_image("\"ghcr.io/acme/q:1\n---\nkind: x")),
        code: 1,
        findings: vec![("yaml-invalid", "apps/quote/deployment.yaml", 11, 18, "while scanning a quoted scalar that starts here")],
        ..Row::default()
    };
    unclosed_flow_sequence_points_at_its_bracket: Row {
        tree: bad_file("apps/flow/deployment.yaml", "spec:\n  args: [a, b\n\n"),
        code: 1,
        findings: vec![("yaml-invalid", "apps/flow/deployment.yaml", 2, 9, "while parsing a flow sequence that starts here")],
        ..Row::default()
    };
    bad_indentation: Row {
        // The fixture of `check_yaml_quirks::invalid_yaml_beside_valid`.
        tree: Tree::Fixture("invalid-yaml-beside-valid"),
        code: 1,
        findings: vec![("yaml-invalid", "apps/broken/deployment.yaml", 18, 10, "did not find expected '-' indicator")],
        images: vec![image("apps/ok/deployment.yaml", 17, 18, "docker.io/grafana/loki:3.0.0", "skipped")],
        ..Row::default()
    };

    // Limits: one `yaml-invalid` naming the limit, at the place it was crossed.
    alias_bomb: Row {
        tree: bad_file("apps/lol/configmap.yaml", billion_laughs()),
        code: 1,
        findings: vec![("yaml-invalid", "apps/lol/configmap.yaml", 9, 14, "aliases expand to more than 100000 nodes")],
        ..Row::default()
    };
    file_of_50_mb: Row {
        tree: bad_file(BIG, fifty_megabytes(b"")),
        // A deleted file makes the big one a candidate for rename detection, which must not
        // read it either.
        base: vec![Entry::file("apps/old/configmap.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: old}\n")],
        code: 1,
        findings: vec![("yaml-invalid", BIG, 1, 1, "the file is 52428800 bytes, over the 16 MiB limit")],
        extra: Some(|repo, json| big_blob_is_never_read(repo, BIG, json)),
        ..Row::default()
    };
    big_file_of_another_type_beside_a_deletion: Row {
        tree: bad_file("assets/demo.mp4", fifty_megabytes(b"\0\0\0\x18ftypmp42")),
        base: vec![Entry::file("apps/old/configmap.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: old}\n")],
        extra: Some(|repo, json| big_blob_is_never_read(repo, "assets/demo.mp4", json)),
        ..Row::default()
    };
    file_of_100_000_documents: Row {
        tree: bad_file("apps/many/configmaps.yaml", documents(100_000)),
        code: 1,
        findings: vec![("yaml-invalid", "apps/many/configmaps.yaml", 20_000 * 4 + 1, 1, "more than 20000 documents in one file")],
        ..Row::default()
    };
    file_of_4_000_001_nodes: Row {
        tree: bad_file("apps/nodes/configmap.yaml", format!("data: [{}]\n", vec!["0"; 4_000_001].join(","))),
        code: 1,
        findings: vec![("yaml-invalid", "apps/nodes/configmap.yaml", 1, 8 + 2 * 4_000_000 - 2, "more than 4000000 nodes in one file")],
        ..Row::default()
    };
    nesting_10_000_levels: Row {
        tree: bad_file("apps/deep/configmap.yaml", format!("data: {}{}\n", "[".repeat(10_000), "]".repeat(10_000))),
        code: 1,
        // The mapping is level 1, so the 128th `[` is the 129th level.
        findings: vec![("yaml-invalid", "apps/deep/configmap.yaml", 1, 7 + 127, "nesting deeper than 128 levels")],
        ..Row::default()
    };

    // Not text: one `yaml-invalid` at the first offending byte.
    binary_png: Row {
        tree: bad_file("apps/logo/logo.yaml", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\x01\0".to_vec()),
        code: 1,
        findings: vec![("yaml-invalid", "apps/logo/logo.yaml", 1, 1, "not UTF-8 text (invalid byte at offset 0)")],
        ..Row::default()
    };
    control_characters_in_utf8: Row {
        tree: bad_file("apps/nul/configmap.yaml", "data:\n  key: a\0b \x1b[31m\n"),
        code: 1,
        findings: vec![("yaml-invalid", "apps/nul/configmap.yaml", 2, 9, "control character U+0000 is not allowed")],
        ..Row::default()
    };
    latin1_bytes: Row {
        tree: bad_file("apps/latin1/configmap.yaml", b"data:\n  greeting: caf\xe9\n".to_vec()),
        code: 1,
        findings: vec![("yaml-invalid", "apps/latin1/configmap.yaml", 2, 16, "not UTF-8 text (invalid byte at offset 21)")],
        ..Row::default()
    };
    utf16_with_bom: Row {
        // As PowerShell 5 writes `kubectl get -o yaml > file.yaml`.
        tree: bad_file("apps/utf16/configmap.yaml", utf16le("\u{feff}kind: ConfigMap\n")),
        code: 1,
        findings: vec![("yaml-invalid", "apps/utf16/configmap.yaml", 1, 1, "the file is UTF-16LE text (it starts with that byte order mark), not UTF-8; fluxgate reads YAML as UTF-8 only: convert it, e.g. `iconv -f UTF-16LE -t UTF-8`")],
        ..Row::default()
    };

    // BOM and CRLF: positions count neither.
    crlf_and_bom_valid: Row {
        // The fixture of `check_yaml_quirks::crlf_line_endings_bom`.
        tree: Tree::Fixture("crlf-line-endings-bom"),
        images: vec![image("apps/timesheet/deployment.yaml", 17, 18, "acme.azurecr.io/office/timesheet:2024.05.1", "skipped")],
        ..Row::default()
    };
    crlf_error_position: Row {
        tree: bad_file("apps/crlf/deployment.yaml", deployment_image("ghcr.io/acme/crlf:1\n      ports: [80").replace('\n', "\r\n")),
        code: 1,
        findings: vec![("yaml-invalid", "apps/crlf/deployment.yaml", 12, 14, "while parsing a flow sequence that starts here")],
        ..Row::default()
    };
    bom_error_position: Row {
        tree: bad_file("apps/bom/deployment.yaml", "\u{feff}kind: \"Deployment\n"),
        code: 1,
        findings: vec![("yaml-invalid", "apps/bom/deployment.yaml", 1, 7, "while scanning a quoted scalar that starts here")],
        ..Row::default()
    };
    bom_crlf_tab: Row {
        tree: bad_file("apps/bomtab/deployment.yaml", "\u{feff}kind: Deployment\r\nspec:\r\n\treplicas: 1\r\n"),
        code: 1,
        findings: vec![("yaml-invalid", "apps/bomtab/deployment.yaml", 3, 1, "a tab")],
        ..Row::default()
    };

    // Duplicate keys: a warning at the second key; the last value is the one checked.
    duplicate_keys: Row {
        tree: bad_file("apps/dup/deployment.yaml", deployment_image("ghcr.io/acme/dup:1\n          image: ghcr.io/acme/dup:2")),
        findings: vec![("yaml-duplicate-key", "apps/dup/deployment.yaml", 12, 11, "key `image` is set twice")],
        images: vec![image("apps/dup/deployment.yaml", 12, 18, "ghcr.io/acme/dup:2", "skipped"), ok()],
        ..Row::default()
    };

    // A scalar (or the wrong collection) where a Deployment needs a mapping or a list: the
    // images there cannot be read, which is an error, never a silent pass.
    spec_is_a_string: Row {
        tree: bad_file("apps/bad/deployment.yaml", deployment_spec("spec: oops\n")),
        code: 1,
        findings: vec![("image-reference-invalid", "apps/bad/deployment.yaml", 6, 7, "`spec` must be a mapping, found a string")],
        images: vec![image("apps/bad/deployment.yaml", 6, 7, "oops", "invalid"), ok()],
        ..Row::default()
    };
    template_is_a_list: Row {
        tree: bad_file("apps/bad/deployment.yaml", deployment_spec("spec:\n  template: [oops]\n")),
        code: 1,
        findings: vec![("image-reference-invalid", "apps/bad/deployment.yaml", 7, 13, "`spec.template` must be a mapping, found a sequence")],
        images: vec![image("apps/bad/deployment.yaml", 7, 13, "[oops]", "invalid"), ok()],
        ..Row::default()
    };
    pod_spec_is_a_number: Row {
        tree: bad_file("apps/bad/deployment.yaml", deployment_spec("spec:\n  template:\n    spec: 42\n")),
        code: 1,
        findings: vec![("image-reference-invalid", "apps/bad/deployment.yaml", 8, 11, "`spec.template.spec` must be a mapping, found an integer")],
        images: vec![image("apps/bad/deployment.yaml", 8, 11, "42", "invalid"), ok()],
        ..Row::default()
    };
    containers_is_a_string: Row {
        tree: bad_file("apps/bad/deployment.yaml", deployment_spec("spec:\n  template:\n    spec:\n      containers: \"oops\"\n")),
        code: 1,
        findings: vec![("image-reference-invalid", "apps/bad/deployment.yaml", 9, 19, "`spec.template.spec.containers` must be a list of containers, found a string")],
        images: vec![image("apps/bad/deployment.yaml", 9, 19, "\"oops\"", "invalid"), ok()],
        ..Row::default()
    };
    containers_without_the_dash: Row {
        // `containers:` followed by a mapping: the commonest way to write the wrong shape.
        tree: bad_file("apps/bad/deployment.yaml", deployment_spec("spec:\n  template:\n    spec:\n      containers:\n        name: bad\n        image: ghcr.io/acme/bad:1\n")),
        code: 1,
        findings: vec![("image-reference-invalid", "apps/bad/deployment.yaml", 10, 9, "must be a list of containers, found a mapping")],
        images: vec![image("apps/bad/deployment.yaml", 10, 9, "", "invalid"), ok()],
        ..Row::default()
    };
    container_is_a_string: Row {
        tree: bad_file("apps/bad/deployment.yaml", deployment_spec("spec:\n  template:\n    spec:\n      initContainers: null\n      containers:\n        - oops\n")),
        code: 1,
        findings: vec![("image-reference-invalid", "apps/bad/deployment.yaml", 11, 11, "`spec.template.spec.containers[0]` must be a container (a mapping), found a string")],
        images: vec![image("apps/bad/deployment.yaml", 11, 11, "oops", "invalid"), ok()],
        ..Row::default()
    };
    image_is_a_sequence: Row {
        tree: bad_file("apps/bad/deployment.yaml", deployment_image("[1, 2]")),
        code: 1,
        findings: vec![("image-reference-invalid", "apps/bad/deployment.yaml", 11, 18, "expected a string, found a sequence")],
        images: vec![image("apps/bad/deployment.yaml", 11, 18, "[1, 2]", "invalid"), ok()],
        ..Row::default()
    };
    image_is_a_number: Row {
        tree: bad_file("apps/bad/deployment.yaml", deployment_image("42")),
        code: 1,
        findings: vec![("image-reference-invalid", "apps/bad/deployment.yaml", 11, 18, "expected a string, found an integer")],
        images: vec![image("apps/bad/deployment.yaml", 11, 18, "42", "invalid"), ok()],
        ..Row::default()
    };
    image_is_null: Row {
        tree: bad_file("apps/bad/deployment.yaml", deployment_image("null")),
        code: 1,
        findings: vec![("image-reference-invalid", "apps/bad/deployment.yaml", 11, 18, "the image is empty")],
        images: vec![image("apps/bad/deployment.yaml", 11, 18, "null", "invalid"), ok()],
        ..Row::default()
    };
    image_is_an_empty_string: Row {
        tree: bad_file("apps/bad/deployment.yaml", deployment_image("\"\"")),
        code: 1,
        // The finding narrows to the (empty) text inside the quotes.
        findings: vec![("image-reference-invalid", "apps/bad/deployment.yaml", 11, 19, "empty image reference")],
        images: vec![image("apps/bad/deployment.yaml", 11, 18, "", "invalid"), ok()],
        ..Row::default()
    };
    metadata_is_a_string: Row {
        // Not applicable as it is, but its images are still the change's: they are checked.
        tree: bad_file("apps/bad/deployment.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: oops\nspec:\n  template:\n    spec:\n      containers:\n        - name: bad\n          image: ghcr.io/acme/unnamed:1\n"),
        images: vec![image("apps/bad/deployment.yaml", 9, 18, "ghcr.io/acme/unnamed:1", "skipped"), ok()],
        extra: Some(|_, json| {
            let unnamed = &images(json)[0];
            assert_eq!((unnamed["kind"].as_str(), unnamed["name"].as_str()), (Some("Deployment"), Some("")));
        }),
        ..Row::default()
    };

    // Passed over on purpose: no finding, a notice with `--verbose`.
    helm_templates: Row {
        // The fixture of `check_yaml_quirks::helm_chart_directory_skipped`.
        tree: Tree::Fixture("helm-chart-directory-skipped"),
        notices: vec![
            "skipped charts/internal-api/templates/deployment.yaml: inside a Helm chart (a template, not a manifest)",
            "skipped charts/internal-api/values.yaml: inside a Helm chart (a template, not a manifest)",
        ],
        images: vec![image("apps/internal-api/deployment.yaml", 18, 18, "docker.io/swaggerapi/swagger-ui:v5.17.14", "skipped")],
        ..Row::default()
    };
    sops_encrypted: Row {
        // The fixture of `check_yaml_quirks::sops_file_skipped`.
        tree: Tree::Fixture("sops-file-skipped"),
        notices: vec!["skipped apps/payments/helmrelease.sops.yaml: SOPS-encrypted (its values are ciphertext)"],
        images: vec![image("apps/payments/deployment.yaml", 18, 18, "ghcr.io/acme/payments-ledger:4.2.1", "skipped")],
        ..Row::default()
    };
    symlink_outside_the_repository: Row {
        tree: bad(vec![
            Entry::Symlink("apps/escape/deployment.yaml".into(), "../../../../../../etc/passwd".into()),
            Entry::Symlink("apps/escape/absolute.yml".into(), "/etc/hostname".into()),
        ]),
        notices: vec![
            "skipped apps/escape/absolute.yml: a symbolic link (not followed)",
            "skipped apps/escape/deployment.yaml: a symbolic link (not followed)",
        ],
        ..Row::default()
    };
    symlink_loop: Row {
        tree: bad(vec![
            Entry::Symlink("apps/loop/a.yaml".into(), "b.yaml".into()),
            Entry::Symlink("apps/loop/b.yaml".into(), "a.yaml".into()),
            Entry::Symlink("apps/loop/self.yaml".into(), "self.yaml".into()),
        ]),
        notices: vec![
            "skipped apps/loop/a.yaml: a symbolic link (not followed)",
            "skipped apps/loop/b.yaml: a symbolic link (not followed)",
            "skipped apps/loop/self.yaml: a symbolic link (not followed)",
        ],
        ..Row::default()
    };
    submodule: Row {
        tree: bad(vec![
            Entry::Submodule("vendor/platform".into(), git2::Oid::from_str("0123456789abcdef0123456789abcdef01234567").unwrap()),
            Entry::file(".gitmodules", "[submodule \"platform\"]\n\tpath = vendor/platform\n\turl = https://git.invalid/platform.git\n"),
        ]),
        notices: vec!["skipped vendor/platform: a submodule (its files are not checked)"],
        ..Row::default()
    };

    // Paths: reported as they are, columns in code points.
    path_with_spaces_and_unicode: Row {
        tree: bad_file("apps/my app/déploiement ✓.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: café\nspec:\n  containers:\n    - {name: \"café-☕\", image: ghcr.io/acme/cafe:2.0}\n"),
        images: vec![image("apps/my app/déploiement ✓.yaml", 7, 31, "ghcr.io/acme/cafe:2.0", "skipped"), ok()],
        ..Row::default()
    };

    // Size of the change: every file of a 5,000-file pull request is read.
    pull_request_of_5000_files: Row {
        tree: bad((0..5000).map(|i| Entry::file(&format!("apps/svc-{i:04}/deployment.yaml"), deployment(&format!("svc-{i}"), &format!("ghcr.io/acme/svc-{i:04}:1.0.{i}")))).collect()),
        images: [ok()]
            .into_iter()
            .chain((0..5000).map(|i| image(&format!("apps/svc-{i:04}/deployment.yaml"), 17, 18, &format!("ghcr.io/acme/svc-{i:04}:1.0.{i}"), "skipped")))
            .collect(),
        ..Row::default()
    };

    // Registry: an unknown host (DNS failure) ends `unverified`, cause `unreachable`, never
    // `exists`, no credential in any output: `check_registry_faults::dns_failure_unknown_host`
    // (run in a network namespace of its own, so no test reaches the internet).
}

// ---------------------------------------------------------------------------------------------
// Bad command lines: exit 2, no report, a message naming what is wrong.
// Elsewhere: `check_cli::not_a_git_repository_exits_2_with_a_message`,
// `unknown_base_revision_exits_2_naming_it`, `unknown_head_revision_exits_2_naming_it`,
// `unknown_format_exits_2`, `shallow_clone_without_the_base_commit_says_how_to_fetch_it`.

/// A repository whose head bumps the valid Deployment's image: nothing wrong in it.
fn good_repo(name: &str, base_extra: Vec<Entry>, head_extra: Vec<Entry>) -> tempfile::TempDir {
    let mut base = vec![Entry::file(
        OK_FILE,
        deployment("ok", "ghcr.io/acme/ok:1.0.0"),
    )];
    base.extend(base_extra);
    let mut head = vec![Entry::file(OK_FILE, deployment("ok", OK_IMAGE))];
    head.extend(head_extra);
    repo_from_entries(name, &base, &head)
}

/// Asserts the run could not proceed: exit 2, nothing on stdout, `parts` on stderr.
fn assert_could_not_run(what: &str, out: &Output, parts: &[&str]) {
    assert_eq!(out.code, Some(2), "{what}: {}", out.stderr);
    assert!(out.stdout.is_empty(), "{what}: no report: {}", out.stdout);
    for part in parts {
        assert!(
            words(&out.stderr).contains(&words(part)),
            "{what}: stderr lacks {part:?}:\n{}",
            out.stderr
        );
    }
}

/// A loose object cut short at any length (a disk fault, an interrupted copy) ends the run with
/// exit 2 and says the repository is damaged. libgit2 1.9.7 looped forever at some lengths of
/// every kind of object (vendor/libgit2-sys/FLUXGATE.md): a required check that never ends.
#[test]
fn damaged_loose_objects_exit_2_and_never_hang() {
    let repo = good_repo("damaged-loose-objects", Vec::new(), Vec::new());
    let git = git2::Repository::open(repo.path()).unwrap();
    let commit = git
        .revparse_single("feature")
        .unwrap()
        .peel_to_commit()
        .unwrap();
    let tree = commit.tree().unwrap();
    let blob = tree.get_path(Path::new(OK_FILE)).unwrap().id();
    for (kind, id) in [("commit", commit.id()), ("tree", tree.id()), ("blob", blob)] {
        let hex = id.to_string();
        let file = repo
            .path()
            .join(".git/objects")
            .join(&hex[..2])
            .join(&hex[2..]);
        let whole = std::fs::read(&file).unwrap();
        for length in 0..whole.len() {
            // Loose objects are read-only; the directory is not.
            std::fs::remove_file(&file).unwrap();
            std::fs::write(&file, &whole[..length]).unwrap();
            let out = run(repo.path(), &[]);
            let what = format!("head {kind} cut to {length} of {} bytes", whole.len());
            assert_could_not_run(
                &what,
                &out,
                &[
                    "the repository's object database is damaged",
                    "git fsck --full",
                ],
            );
        }
        std::fs::remove_file(&file).unwrap();
        std::fs::write(&file, &whole).unwrap();
    }
    let out = run(repo.path(), &[]);
    assert_eq!(out.code, Some(0), "repaired: {}", out.stderr);
}

#[test]
fn bad_command_lines_exit_2_naming_the_problem() {
    let repo = good_repo("bad-command-lines", Vec::new(), Vec::new());
    let dir = tempfile::tempdir().unwrap();
    let sarif = dir.path().join("report.sarif");
    let sarif = format!("sarif={}", sarif.display());
    let rows: &[(&[&str], &[&str])] = &[
        (&["--frobnicate"], &["unexpected argument '--frobnicate'"]),
        (&["--base"], &["a value is required for '--base <BASE>'"]),
        (&["--jobs", "0"], &["'0' for '--jobs <JOBS>'", "1..=256"]),
        (&["--jobs", "many"], &["'many' for '--jobs <JOBS>'"]),
        (&["--timeout", "0"], &["'0' for '--timeout <SECONDS>'"]),
        (&["--timeout", "1e3"], &["'1e3' for '--timeout <SECONDS>'"]),
        (
            &["--fail-on", "sometimes"],
            &["'sometimes' for '--fail-on", "error, warning, never"],
        ),
        (&["--platform", "linux"], &["`linux` is not a platform"]),
        (
            &["--format", "sarif="],
            &["`sarif=`: a file name must follow `=`"],
        ),
        (
            &["--format", "json", "--format", "sarif"],
            &["only one format can go to standard output"],
        ),
        (
            &["--format", &sarif, "--output", "x.json"],
            &["`--output` names a file, but every `--format` already has its own"],
        ),
        (
            &[
                "--format",
                "json",
                "--output",
                "/nonexistent-dir/report.json",
            ],
            &["cannot write /nonexistent-dir/report.json"],
        ),
        (
            &["--rule-level", "yaml-invalid"],
            &["invalid `--rule-level yaml-invalid`: expected ID=LEVEL"],
        ),
        (
            &["--rule-level", "no-such-rule=off"],
            &["unknown rule `no-such-rule`"],
        ),
        (
            &["--rule-level", "yaml-invalid=loud"],
            &["unknown level `loud`"],
        ),
        (
            &["--config", "/nonexistent-dir/fluxgate.yaml"],
            &["cannot read configuration file /nonexistent-dir/fluxgate.yaml"],
        ),
    ];
    for (args, parts) in rows {
        let out = run(repo.path(), args);
        assert_could_not_run(&args.join(" "), &out, parts);
    }
    // An argument that is not UTF-8.
    use std::os::unix::ffi::OsStrExt;
    let output = fluxgate()
        .args(["check", "--offline", "--repo"])
        .arg(repo.path())
        .arg("--base")
        .arg(std::ffi::OsStr::from_bytes(b"ma\xffin"))
        .output()
        .unwrap();
    let out = Output {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    assert_could_not_run("--base <not UTF-8>", &out, &["invalid UTF-8"]);
}

// ---------------------------------------------------------------------------------------------
// A broken configuration: exit 2, the error points into the file.

#[test]
fn broken_configuration_points_into_the_file() {
    let rows: &[(&str, &str, &str)] = &[
        (
            "rules:\n\timage-unresolved: {level: off}\n",
            ".fluxgate.yaml:2:1",
            "a tab",
        ),
        (
            "rules:\n  image-unresolved:\n    level: loud\n",
            ".fluxgate.yaml:3:12",
            "unknown level `loud`",
        ),
        (
            "rules:\n  no-such-rule: {level: off}\n",
            ".fluxgate.yaml:2:3",
            "unknown rule `no-such-rule`",
        ),
        (
            "rules: [image-unresolved]\n",
            ".fluxgate.yaml:1:8",
            "`rules` must be a mapping, found a sequence",
        ),
        (
            "registries:\n  - prefix: docker.io\n    mirror: x\n",
            ".fluxgate.yaml:3:5",
            "unknown key `mirror` for a registry",
        ),
        (
            "registries:\n  - insecure: true\n",
            ".fluxgate.yaml:2:5",
            "needs a `prefix`",
        ),
        (
            "platforms: [linux]\n",
            ".fluxgate.yaml:1:13",
            "`linux` is not a platform",
        ),
        (
            "rules: {a: &a [*a]}\n",
            ".fluxgate.yaml:1:16",
            "unknown anchor `a`",
        ),
        (
            "mirrors: \"unclosed\n",
            ".fluxgate.yaml:1:10",
            "quoted scalar that starts here",
        ),
        (
            "\u{feff}rules:\r\n  nope: {level: off}\r\n",
            ".fluxgate.yaml:2:3",
            "unknown rule `nope`",
        ),
    ];
    for (text, place, part) in rows {
        let config = || vec![Entry::file(".fluxgate.yaml", *text)];
        let repo = good_repo("broken-config", config(), config());
        let out = run(repo.path(), &["--format", "json"]);
        assert_could_not_run(
            text,
            &out,
            &["invalid configuration in .fluxgate.yaml", place, part],
        );
        // The same text given with `--config`.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fluxgate config.yaml");
        std::fs::write(&path, text).unwrap();
        let out = run(
            repo.path(),
            &["--format", "json", "--config", path.to_str().unwrap()],
        );
        let place = place.replace(".fluxgate.yaml", &path.display().to_string());
        assert_could_not_run(text, &out, &[&place, part]);
    }
}

/// A change that breaks `.fluxgate.yaml` runs under the base's version, and the broken file is
/// a finding like any other YAML file: the next change could not run.
#[test]
fn a_change_breaking_the_configuration_is_a_finding() {
    let repo = good_repo(
        "config-broken-by-the-change",
        vec![Entry::file(
            ".fluxgate.yaml",
            "rules:\n  image-unresolved: {level: note}\n",
        )],
        vec![Entry::file(
            ".fluxgate.yaml",
            "rules:\n\timage-unresolved: {level: off}\n",
        )],
    );
    let out = run(repo.path(), &["--format", "json"]);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    let json: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(places(&json), [("yaml-invalid", ".fluxgate.yaml", 2, 1)]);
    assert_eq!(
        support::gitrepo::positions(&json),
        [format!("{OK_FILE}:17")]
    );
    let human = run(repo.path(), &["--format", "human"]);
    assert!(
        human
            .stdout
            .contains("this change edits .fluxgate.yaml: the base revision's version applies"),
        "{}",
        human.stdout
    );
}

/// The classic "billion laughs", 9 levels of 9 aliases; the expansion crosses the limit at
/// the first alias of the sixth level (`lol6`: line 9, column 14).
fn billion_laughs() -> String {
    let mut text = String::from("apiVersion: v1\nkind: ConfigMap\nlol0: &lol0 \"lol\"\n");
    for level in 1..=9 {
        let aliases = vec![format!("*lol{}", level - 1); 9].join(",");
        text.push_str(&format!("lol{level}: &lol{level} [{aliases}]\n"));
    }
    text
}

const BIG: &str = "apps/big/deployment.yaml";

/// `prefix`, a valid Deployment (image `ghcr.io/acme/hidden:1`), comments up to 50 MiB.
fn fifty_megabytes(prefix: &[u8]) -> Vec<u8> {
    let mut text = prefix.to_vec();
    text.extend_from_slice(deployment("hidden", "ghcr.io/acme/hidden:1").as_bytes());
    let line = format!("# {}\n", "padding ".repeat(12));
    while text.len() < 50 * 1024 * 1024 {
        text.extend_from_slice(line.as_bytes());
    }
    text.truncate(50 * 1024 * 1024);
    text
}

/// Over the size limit, the blob is never read: with its loose object's zlib data garbled
/// after the first 4 KiB (the header stays readable), the report is the same, while reading
/// the blob whole now fails.
fn big_blob_is_never_read(repo: &Path, path: &str, json: &Value) {
    use std::io::{Seek, SeekFrom, Write};
    let git = git2::Repository::open(repo).unwrap();
    let id = git
        .revparse_single(&format!("feature:{path}"))
        .unwrap()
        .id();
    let hex = id.to_string();
    let object = repo.join(".git/objects").join(&hex[..2]).join(&hex[2..]);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .open(&object)
        .unwrap();
    assert!(
        file.metadata().unwrap().len() > 8192,
        "the object is loose and compressed"
    );
    file.seek(SeekFrom::Start(4096)).unwrap();
    file.write_all(&[0xff; 4096]).unwrap();
    drop(file);
    assert!(git.find_blob(id).is_err(), "the blob cannot be read now");
    let out = run(repo, &["--format", "json"]);
    assert!(matches!(out.code, Some(0 | 1)), "{}", out.stderr);
    let again: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(&again, json, "the report did not need the blob's content");
}

/// `count` ConfigMaps, four lines each.
fn documents(count: usize) -> String {
    (0..count)
        .map(|i| format!("---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cm-{i}}}\n"))
        .collect()
}

fn utf16le(text: &str) -> Vec<u8> {
    text.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// A configuration over the size limit is not silently replaced by the defaults: the check
/// would run without the rules the repository set for itself.
#[test]
fn an_oversized_configuration_is_refused() {
    let huge = format!("# {}\nrules: {{}}\n", "x".repeat(17 * 1024 * 1024));
    let config = || vec![Entry::file(".fluxgate.yaml", huge.as_str())];
    let repo = good_repo("oversized-config", config(), config());
    let out = run(repo.path(), &["--format", "json"]);
    assert_could_not_run(
        "oversized .fluxgate.yaml",
        &out,
        &[
            "configuration file .fluxgate.yaml (revision",
            "is 17825805 bytes, more than the 16777216 bytes fluxgate reads",
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fluxgate.yaml");
    std::fs::write(&path, &huge).unwrap();
    let out = run(
        repo.path(),
        &["--format", "json", "--config", path.to_str().unwrap()],
    );
    assert_could_not_run(
        "oversized --config",
        &out,
        &[&format!(
            "configuration file {} is 17825805 bytes",
            path.display()
        )],
    );
}
