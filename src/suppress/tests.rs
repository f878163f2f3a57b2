use super::*;
use crate::load::parse_bytes;
use crate::yaml::Limits;

#[test]
fn comment_parser_with_near_misses() {
    let some = |rules: &[&str], reason: Option<&str>| {
        Some(Comment {
            rules: rules.iter().map(|r| r.to_string()).collect(),
            reason: reason.map(str::to_string),
        })
    };
    let cases: &[(&str, Option<Comment>)] = &[
        (
            "# fluxgate: ignore[pvc-resized] planned resize, ticket OPS-12",
            some(&["pvc-resized"], Some("planned resize, ticket OPS-12")),
        ),
        (
            "#fluxgate:ignore[pvc-resized]reason",
            some(&["pvc-resized"], Some("reason")),
        ),
        (
            "# fluxgate: ignore[crd-changed, pvc-resized] both planned",
            some(&["crd-changed", "pvc-resized"], Some("both planned")),
        ),
        (
            "# fluxgate: ignore[ crd-changed ,, ] spaces",
            some(&["crd-changed"], Some("spaces")),
        ),
        (
            "# fluxgate: ignore[pvc-resized]",
            some(&["pvc-resized"], None),
        ),
        (
            "# fluxgate: ignore[pvc-resized]   ",
            some(&["pvc-resized"], None),
        ),
        ("# fluxgate: ignore[] why", some(&[], Some("why"))),
        ("#   fluxgate:   ignore[x] y", some(&["x"], Some("y"))),
        ("# fluxgate ignore[pvc-resized] no colon", None),
        ("# fluxgate: ignores[pvc-resized] plural", None),
        ("# fluxgate: ignore(pvc-resized) parens", None),
        ("# fluxgate: ignore[pvc-resized unclosed", None),
        ("# FLUXGATE: ignore[pvc-resized] shouting", None),
        ("# flux: ignore[pvc-resized] other tool", None),
        ("# zizmor: ignore[pvc-resized] other tool", None),
        ("# see fluxgate: ignore[pvc-resized] mid-comment", None),
        ("fluxgate: ignore[pvc-resized] no hash", None),
    ];
    for (text, expected) in cases {
        assert_eq!(&parse_comment(text), expected, "{text}");
    }
}

fn suppressions(text: &str) -> Vec<(usize, usize, Vec<String>)> {
    let file = parse_bytes(
        Side::Head,
        "f.yaml",
        text.as_bytes().to_vec(),
        &Limits::default(),
    );
    collect(&file)
        .into_iter()
        .map(|s| (s.first_line, s.last_line, s.comment.rules))
        .collect()
}

#[test]
fn scopes_trailing_line_above_and_document_header() {
    let text = "\
# fluxgate: ignore[pvc-removed] header of the first document
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: a
spec:
  resources:
    requests:
      storage: 20Gi # fluxgate: ignore[pvc-resized] trailing
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: b
data:
  # fluxgate: ignore[immutable-config-changed] line above
  key: value
  text: \"# fluxgate: ignore[pvc-resized] inside a string is not a comment\"
  block: |
    # fluxgate: ignore[pvc-resized] inside a block scalar is not a comment
";
    let rule = |s: &str| vec![s.to_string()];
    assert_eq!(
        suppressions(text),
        vec![
            (1, 9, rule("pvc-removed")),
            (9, 9, rule("pvc-resized")),
            (16, 17, rule("immutable-config-changed"))
        ]
    );
}
