use super::*;
use crate::source::{Side, SourceText};

fn parse_ok(text: &str) -> ParsedYaml {
    let parsed = parse(text, &Limits::default());
    assert!(parsed.error.is_none(), "{:?}", parsed.error);
    parsed
}

fn at(text: &str, needle: &str) -> usize {
    text.find(needle).expect("needle in text")
}

#[test]
fn scalar_spans_are_byte_offsets_of_the_value() {
    let text = "a: 1\nb:\n  c: \"héllo\"\n  d: wörld\n";
    let parsed = parse_ok(text);
    let root = &parsed.documents[0].root;
    let c = root.get_path(&["b", "c"]).unwrap();
    assert_eq!(c.span.start, at(text, "\"héllo\""));
    let d = root.get_path(&["b", "d"]).unwrap();
    assert_eq!(&text[d.span.start..d.span.end], "wörld");
}

#[test]
fn bom_and_crlf_keep_positions_right() {
    let text = "\u{feff}kind: Pod\r\nspec:\r\n  image: nginx\r\n";
    let parsed = parse_ok(text);
    let image = parsed.documents[0]
        .root
        .get_path(&["spec", "image"])
        .unwrap();
    assert_eq!(&text[image.span.start..image.span.end], "nginx");
    let src = SourceText::new("f.yaml", Side::Head, text.to_string());
    let pos = src.position(image.span.start);
    assert_eq!((pos.line, pos.column), (3, 10));
}

#[test]
fn numeric_looking_tags_keep_their_text() {
    let parsed = parse_ok("tag: 1.20\nother: \"1.20\"\n");
    let root = &parsed.documents[0].root;
    let tag = root.get("tag").unwrap();
    assert_eq!(tag.scalar_text(), Some("1.20"));
    assert_eq!(tag.as_scalar().unwrap().kind(), ScalarKind::Float);
    assert_eq!(root.get("other").unwrap().as_str(), Some("1.20"));
}

#[test]
fn scalar_kinds_follow_go_yaml() {
    for (text, kind) in [
        ("~", ScalarKind::Null),
        ("null", ScalarKind::Null),
        ("true", ScalarKind::Bool),
        ("yes", ScalarKind::String),
        ("42", ScalarKind::Int),
        ("-0x1F", ScalarKind::Int),
        ("1e3", ScalarKind::Float),
        (".5", ScalarKind::Float),
        ("1.", ScalarKind::Float),
        ("1.2.3", ScalarKind::String),
        ("v1", ScalarKind::String),
        ("e3", ScalarKind::String),
        (".", ScalarKind::String),
    ] {
        assert_eq!(resolve_plain(text), kind, "{text}");
    }
}

#[test]
fn multi_document_files_keep_document_indexes() {
    let text = "---\n# only a comment\n---\na: 1\n---\nb: 2\n";
    let parsed = parse_ok(text);
    let non_empty: Vec<usize> = parsed
        .documents
        .iter()
        .filter(|d| !d.root.is_null())
        .map(|d| d.index)
        .collect();
    assert_eq!(non_empty, vec![1, 2]);
}

#[test]
fn accepts_flow_sequence_closed_at_key_indentation_like_libyaml() {
    let text = "spec:\n  args: [\n    \"x\",\n    \"y\"\n  ]\n  other: 1\n";
    let parsed = parse_ok(text);
    let args = parsed.documents[0]
        .root
        .get_path(&["spec", "args"])
        .unwrap();
    assert_eq!(args.as_sequence().unwrap().len(), 2);
}

#[test]
fn same_anchor_twice_uses_the_latest() {
    let text = "a: &x 1\nb: *x\nc: &x 2\nd: *x\n";
    let root = &parse_ok(text).documents[0].root;
    assert_eq!(root.get("b").unwrap().scalar_text(), Some("1"));
    assert_eq!(root.get("d").unwrap().scalar_text(), Some("2"));
}

#[test]
fn merge_keys_are_followed_by_get() {
    let text = "base: &b {image: nginx, tag: '1'}\nderived:\n  <<: *b\n  tag: '2'\n";
    let root = &parse_ok(text).documents[0].root;
    let derived = root.get("derived").unwrap();
    assert_eq!(derived.get("image").unwrap().as_str(), Some("nginx"));
    assert_eq!(derived.get("tag").unwrap().as_str(), Some("2"));
}

#[test]
fn duplicate_keys_are_reported_and_last_wins() {
    let parsed = parse_ok("a: 1\na: 2\n");
    assert_eq!(parsed.duplicate_keys.len(), 1);
    assert_eq!(
        parsed.documents[0].root.get("a").unwrap().scalar_text(),
        Some("2")
    );
}

#[test]
fn alias_bomb_is_rejected() {
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        let p = i - 1;
        text.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    let parsed = parse(&text, &Limits::default());
    let err = parsed.error.expect("bomb rejected");
    assert!(err.message.contains("alias"), "{}", err.message);
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let text = "[".repeat(10_000) + &"]".repeat(10_000);
    let parsed = parse(&text, &Limits::default());
    assert!(parsed.error.unwrap().message.contains("nesting"));
    let text = (0..10_000)
        .map(|i| format!("{}k:\n", " ".repeat(i)))
        .collect::<String>();
    let parsed = parse(&text, &Limits::default());
    assert!(parsed.error.is_some());
}

#[test]
fn syntax_errors_have_a_position_and_keep_earlier_documents() {
    let text = "a: 1\n---\nb: \"unclosed\n";
    let parsed = parse(text, &Limits::default());
    assert_eq!(parsed.documents.len(), 1);
    let err = parsed.error.unwrap();
    assert!(err.span.start >= at(text, "b:"), "{err:?}");
}

#[test]
fn tabs_in_indentation_are_errors_and_in_strings_are_fine() {
    assert!(parse("a:\n\tb: 1\n", &Limits::default()).error.is_some());
    parse_ok("a: \"x\ty\"\n");
}

#[test]
fn binary_garbage_is_an_error_not_a_panic() {
    let parsed = parse("a: \u{0}\u{1}\u{2}", &Limits::default());
    assert!(parsed.error.is_some());
}

#[test]
fn same_value_ignores_position_order_of_keys_and_quoting() {
    let a = parse_ok("a: 1\nb: [x, {c: \"d\"}]\n");
    let b = parse_ok("b:\n  - 'x'\n  - c: d\na: \"1\"\n");
    assert!(a.documents[0].root.same_value(&b.documents[0].root));
    let c = parse_ok("a: 1\nb: [{c: d}, x]\n");
    assert!(!a.documents[0].root.same_value(&c.documents[0].root));
    let d = parse_ok("a: 1\n");
    assert!(!a.documents[0].root.same_value(&d.documents[0].root));
}
