//! Multi-document YAML parsing that keeps every node's byte span.
//!
//! Flux and Kubernetes read YAML with go-yaml, a port of libyaml, which
//! accepts input the YAML 1.2 spec (and saphyr) rejects. We build our tree from
//! the events of `libyaml-safer`, a safe Rust port of libyaml, so a file Flux
//! applies is a file we can read. Scalars keep their source text: `tag: 1.20`
//! stays the string `1.20`. Aliases, nesting and node counts are bounded so a
//! hostile file costs bounded time and memory.

use crate::source::Span;
use libyaml_safer::{Event, EventData, Parser, ScalarStyle};
use std::collections::HashMap;

/// Bounds that keep a hostile file cheap.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Deepest nesting of collections.
    pub max_depth: usize,
    /// Nodes that alias expansion may copy, per file ("billion laughs").
    pub max_alias_nodes: usize,
    /// Nodes in one file, all documents together.
    pub max_nodes: usize,
    /// Documents in one file.
    pub max_documents: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 128,
            max_alias_nodes: 100_000,
            max_nodes: 4_000_000,
            max_documents: 20_000,
        }
    }
}

/// A YAML node with the span of its source text.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub span: Span,
    pub value: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Scalar(Scalar),
    Sequence(Vec<Node>),
    Mapping(Vec<(Node, Node)>),
}

/// A scalar as written: its text and whether it was plain (unquoted), which
/// decides whether `42` is a number or a string.
#[derive(Debug, Clone, PartialEq)]
pub struct Scalar {
    pub text: String,
    pub plain: bool,
    pub tag: Option<String>,
}

/// The type a plain scalar resolves to, as go-yaml v3 resolves it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarKind {
    Null,
    Bool,
    Int,
    Float,
    String,
}

/// One document of a file.
#[derive(Debug, Clone)]
pub struct Document {
    /// 0-based position of the document in its file.
    pub index: usize,
    pub root: Node,
}

/// A parse failure: what went wrong and where.
#[derive(Debug, Clone, PartialEq)]
pub struct YamlError {
    pub message: String,
    pub span: Span,
}

/// A key given twice in one mapping; the last value wins, as in go-yaml's
/// lenient mode.
#[derive(Debug, Clone, PartialEq)]
pub struct DuplicateKey {
    pub key: String,
    pub first: Span,
    pub second: Span,
}

/// Everything read from one file. Documents before a syntax error are kept.
#[derive(Debug, Default)]
pub struct ParsedYaml {
    pub documents: Vec<Document>,
    pub error: Option<YamlError>,
    pub duplicate_keys: Vec<DuplicateKey>,
}

impl Scalar {
    pub fn kind(&self) -> ScalarKind {
        match self.tag.as_deref() {
            Some("tag:yaml.org,2002:str") => return ScalarKind::String,
            Some("tag:yaml.org,2002:null") => return ScalarKind::Null,
            _ => {}
        }
        if !self.plain {
            return ScalarKind::String;
        }
        resolve_plain(&self.text)
    }
}

fn resolve_plain(text: &str) -> ScalarKind {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return ScalarKind::Null,
        "true" | "True" | "TRUE" | "false" | "False" | "FALSE" => return ScalarKind::Bool,
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf" | "-.INF"
        | ".nan" | ".NaN" | ".NAN" => return ScalarKind::Float,
        _ => {}
    }
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    let all = |s: &str, f: fn(char) -> bool| !s.is_empty() && s.chars().all(f);
    if all(unsigned, |c| c.is_ascii_digit())
        || unsigned
            .strip_prefix("0x")
            .is_some_and(|h| all(h, |c| c.is_ascii_hexdigit()))
        || unsigned
            .strip_prefix("0o")
            .is_some_and(|o| all(o, |c| matches!(c, '0'..='7')))
    {
        return ScalarKind::Int;
    }
    if is_float(unsigned) {
        return ScalarKind::Float;
    }
    ScalarKind::String
}

fn is_float(s: &str) -> bool {
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let (int_part, frac_part) = match mantissa.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (mantissa, None),
    };
    let digits = |p: &str| p.chars().all(|c| c.is_ascii_digit());
    let mantissa_ok = digits(int_part)
        && frac_part.is_none_or(digits)
        && (!int_part.is_empty() || frac_part.is_some_and(|f| !f.is_empty()))
        && (frac_part.is_some() || exponent.is_some());
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    mantissa_ok && exponent_ok
}

impl Node {
    pub fn as_mapping(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            Value::Mapping(entries) => Some(entries),
            _ => None,
        }
    }

    pub fn as_sequence(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Sequence(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_scalar(&self) -> Option<&Scalar> {
        match &self.value {
            Value::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// The text of a scalar that resolves to a string (not null, bool or number).
    pub fn as_str(&self) -> Option<&str> {
        self.as_scalar()
            .filter(|s| s.kind() == ScalarKind::String)
            .map(|s| s.text.as_str())
    }

    /// The text of any scalar, whatever it resolves to: for keys and names
    /// where `1.20` and `"1.20"` mean the same.
    pub fn scalar_text(&self) -> Option<&str> {
        self.as_scalar().map(|s| s.text.as_str())
    }

    pub fn is_null(&self) -> bool {
        self.as_scalar()
            .is_some_and(|s| s.kind() == ScalarKind::Null)
    }

    /// A short name for the node's type, for messages ("expected a string, found a sequence").
    pub fn type_name(&self) -> &'static str {
        match &self.value {
            Value::Sequence(_) => "a sequence",
            Value::Mapping(_) => "a mapping",
            Value::Scalar(s) => match s.kind() {
                ScalarKind::Null => "null",
                ScalarKind::Bool => "a boolean",
                ScalarKind::Int => "an integer",
                ScalarKind::Float => "a number",
                ScalarKind::String => "a string",
            },
        }
    }

    /// The value of `key` in a mapping. The last of duplicate keys wins; keys
    /// merged in with `<<` count when the mapping does not set them itself.
    pub fn get(&self, key: &str) -> Option<&Node> {
        let entries = self.as_mapping()?;
        let direct = entries
            .iter()
            .rev()
            .find(|(k, _)| k.scalar_text() == Some(key))
            .map(|(_, v)| v);
        direct.or_else(|| {
            let merged = entries
                .iter()
                .rev()
                .find(|(k, _)| k.as_scalar().is_some_and(|s| s.plain && s.text == "<<"))?;
            match &merged.1.value {
                Value::Mapping(_) => merged.1.get(key),
                Value::Sequence(maps) => maps.iter().find_map(|m| m.get(key)),
                Value::Scalar(_) => None,
            }
        })
    }

    /// Whether two nodes hold the same value, wherever they are written:
    /// scalars by text, mappings by keys (in any order), sequences in order.
    pub fn same_value(&self, other: &Node) -> bool {
        match (&self.value, &other.value) {
            (Value::Scalar(a), Value::Scalar(b)) => {
                a.text == b.text || (a.kind() == ScalarKind::Null && b.kind() == ScalarKind::Null)
            }
            (Value::Sequence(a), Value::Sequence(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.same_value(y))
            }
            (Value::Mapping(a), Value::Mapping(b)) => {
                let (keys_a, keys_b) = (scalar_keys(a), scalar_keys(b));
                keys_a == keys_b
                    && keys_a
                        .into_iter()
                        .all(|key| match (self.get(key), other.get(key)) {
                            (Some(x), Some(y)) => x.same_value(y),
                            _ => false,
                        })
            }
            _ => false,
        }
    }

    /// The key node of `key` in a mapping (the last, if given twice): where
    /// to point at a field as a whole.
    pub fn key_node(&self, key: &str) -> Option<&Node> {
        self.as_mapping()?
            .iter()
            .rev()
            .find(|(k, _)| k.scalar_text() == Some(key))
            .map(|(k, _)| k)
    }

    /// Follows a path of mapping keys.
    pub fn get_path(&self, path: &[&str]) -> Option<&Node> {
        path.iter().try_fold(self, |node, key| node.get(key))
    }
}

fn scalar_keys(entries: &[(Node, Node)]) -> std::collections::BTreeSet<&str> {
    entries
        .iter()
        .filter_map(|(k, _)| k.scalar_text())
        .collect()
}

/// Parses every document of `text`. Never panics; a syntax error ends the
/// file (as it does for libyaml) and keeps the documents read before it.
pub fn parse(text: &str, limits: &Limits) -> ParsedYaml {
    // libyaml skips a BOM itself, but its marks would then be off by three bytes.
    let bom = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let mut input = &text.as_bytes()[bom..];
    let mut parser = Parser::new();
    parser.set_input_string(&mut input);
    let mut builder = Builder::new(limits, bom);
    loop {
        let event = match parser.parse() {
            Ok(event) => event,
            Err(err) => {
                let (offset, message) = locate_error(text, bom, &err);
                builder.fail(YamlError {
                    message,
                    span: Span::new(offset, offset),
                });
                break;
            }
        };
        match builder.event(event) {
            Ok(true) => {}
            Ok(false) => break,
            Err(error) => {
                builder.fail(error);
                break;
            }
        }
    }
    builder.parsed
}

/// Where a libyaml error points and what it says, made useful: libyaml's
/// reader errors carry no position, and an error at the end of the input is
/// about what was left open, not about the end.
fn locate_error(text: &str, bom: usize, err: &libyaml_safer::Error) -> (usize, String) {
    if err.kind() == libyaml_safer::ErrorKind::Reader {
        // The text is valid UTF-8, so the reader can only have refused a
        // character YAML does not allow; it is the first such one.
        if let Some((at, c)) = text[bom..]
            .char_indices()
            .find(|&(_, c)| !yaml_printable(c))
        {
            return (
                bom + at,
                format!(
                    "control character U+{:04X} is not allowed in YAML (is this a binary file?)",
                    u32::from(c)
                ),
            );
        }
    }
    let offset = err
        .problem_mark()
        .map_or(0, |m| m.index as usize + bom)
        .min(text.len());
    let problem = err.problem();
    // Marks fall on character boundaries; `get` keeps a surprise from panicking.
    let rest = text.get(offset..).unwrap_or_default();
    // Where the input or the document ends inside a construct, what is wrong
    // is that it was never closed: point at where it starts.
    let ended = rest.trim().is_empty() || problem == "found unexpected document indicator";
    match (err.context(), err.context_mark()) {
        (Some(context), Some(mark)) if ended => (
            (mark.index as usize + bom).min(offset),
            format!("{problem} ({context} that starts here)"),
        ),
        (context, _) => {
            let mut message = match context {
                Some(context) => format!("{problem} ({context})"),
                None => problem.to_string(),
            };
            if rest.starts_with('\t') {
                message.push_str(": a tab, and YAML indents with spaces only");
            }
            (offset, message)
        }
    }
}

/// The characters YAML 1.1 allows in a stream (libyaml's reader check).
fn yaml_printable(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{7E}' | '\u{85}' | '\u{A0}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

enum Frame {
    Sequence {
        start: usize,
        anchor: Option<String>,
        items: Vec<Node>,
    },
    Mapping {
        start: usize,
        anchor: Option<String>,
        entries: Vec<(Node, Node)>,
        key: Option<Node>,
    },
}

struct Builder<'l> {
    limits: &'l Limits,
    offset: usize,
    stack: Vec<Frame>,
    root: Option<Node>,
    anchors: HashMap<String, Node>,
    alias_budget: usize,
    nodes: usize,
    parsed: ParsedYaml,
}

impl<'l> Builder<'l> {
    fn new(limits: &'l Limits, offset: usize) -> Self {
        Builder {
            limits,
            offset,
            stack: Vec::new(),
            root: None,
            anchors: HashMap::new(),
            alias_budget: limits.max_alias_nodes,
            nodes: 0,
            parsed: ParsedYaml::default(),
        }
    }

    fn fail(&mut self, error: YamlError) {
        self.parsed.error = Some(error);
    }

    fn span(&self, event: &Event) -> Span {
        Span::new(
            event.start_mark.index as usize + self.offset,
            event.end_mark.index as usize + self.offset,
        )
    }

    fn error(&self, message: String, span: Span) -> YamlError {
        YamlError { message, span }
    }

    /// Feeds one event; `Ok(false)` at the end of the stream.
    fn event(&mut self, event: Event) -> Result<bool, YamlError> {
        let span = self.span(&event);
        match event.data {
            EventData::StreamStart { .. } => {}
            EventData::StreamEnd => return Ok(false),
            EventData::DocumentStart { .. } => {
                if self.parsed.documents.len() >= self.limits.max_documents {
                    return Err(self.error(
                        format!(
                            "more than {} documents in one file",
                            self.limits.max_documents
                        ),
                        span,
                    ));
                }
                // Anchors are scoped to their document.
                self.anchors.clear();
            }
            EventData::DocumentEnd { .. } => {
                let index = self.parsed.documents.len();
                if let Some(root) = self.root.take().filter(|r| !r.is_null()) {
                    self.parsed.documents.push(Document { index, root });
                } else {
                    // Keep numbering stable: an empty document still counts.
                    self.parsed.documents.push(Document {
                        index,
                        root: Node {
                            span,
                            value: Value::Scalar(Scalar {
                                text: String::new(),
                                plain: true,
                                tag: None,
                            }),
                        },
                    });
                }
            }
            EventData::Scalar {
                anchor,
                tag,
                value,
                style,
                ..
            } => {
                let node = Node {
                    span,
                    value: Value::Scalar(Scalar {
                        text: value,
                        plain: style == ScalarStyle::Plain,
                        tag,
                    }),
                };
                self.finish(node, anchor)?;
            }
            EventData::Alias { anchor } => {
                let Some(target) = self.anchors.get(&anchor) else {
                    return Err(self.error(format!("unknown anchor `{anchor}`"), span));
                };
                let mut budget = self.alias_budget;
                let copy = clone_bounded(target, &mut budget).ok_or_else(|| {
                    self.error(
                        format!(
                            "aliases expand to more than {} nodes (an alias bomb?)",
                            self.limits.max_alias_nodes
                        ),
                        span,
                    )
                })?;
                self.nodes += self.alias_budget - budget;
                self.alias_budget = budget;
                self.finish(copy, None)?;
            }
            EventData::SequenceStart { anchor, .. } => {
                self.enter(span)?;
                self.stack.push(Frame::Sequence {
                    start: span.start,
                    anchor,
                    items: Vec::new(),
                });
            }
            EventData::MappingStart { anchor, .. } => {
                self.enter(span)?;
                self.stack.push(Frame::Mapping {
                    start: span.start,
                    anchor,
                    entries: Vec::new(),
                    key: None,
                });
            }
            EventData::SequenceEnd | EventData::MappingEnd => {
                let (node, anchor) = match self.stack.pop() {
                    Some(Frame::Sequence {
                        start,
                        anchor,
                        items,
                    }) => (
                        Node {
                            span: Span::new(start, span.end),
                            value: Value::Sequence(items),
                        },
                        anchor,
                    ),
                    Some(Frame::Mapping {
                        start,
                        anchor,
                        entries,
                        ..
                    }) => {
                        self.note_duplicate_keys(&entries);
                        (
                            Node {
                                span: Span::new(start, span.end),
                                value: Value::Mapping(entries),
                            },
                            anchor,
                        )
                    }
                    None => return Err(self.error("unbalanced collection end".into(), span)),
                };
                self.finish(node, anchor)?;
            }
        }
        Ok(true)
    }

    fn enter(&self, span: Span) -> Result<(), YamlError> {
        if self.stack.len() >= self.limits.max_depth {
            return Err(self.error(
                format!("nesting deeper than {} levels", self.limits.max_depth),
                span,
            ));
        }
        Ok(())
    }

    /// Places a completed node in its parent (or as the document root).
    fn finish(&mut self, node: Node, anchor: Option<String>) -> Result<(), YamlError> {
        self.nodes += 1;
        if self.nodes > self.limits.max_nodes {
            return Err(self.error(
                format!("more than {} nodes in one file", self.limits.max_nodes),
                node.span,
            ));
        }
        if let Some(anchor) = anchor {
            // A later anchor of the same name replaces the earlier one, as in libyaml.
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Sequence { items, .. }) => items.push(node),
            Some(Frame::Mapping { entries, key, .. }) => match key.take() {
                None => *key = Some(node),
                Some(k) => entries.push((k, node)),
            },
        }
        Ok(())
    }

    fn note_duplicate_keys(&mut self, entries: &[(Node, Node)]) {
        let mut seen: HashMap<&str, Span> = HashMap::new();
        for (key, _) in entries {
            let Some(text) = key.scalar_text() else {
                continue;
            };
            if text == "<<" {
                continue;
            }
            if let Some(first) = seen.insert(text, key.span) {
                self.parsed.duplicate_keys.push(DuplicateKey {
                    key: text.to_string(),
                    first,
                    second: key.span,
                });
            }
        }
    }
}

/// Copies an anchored node for an alias, spending one unit of budget per node.
fn clone_bounded(node: &Node, budget: &mut usize) -> Option<Node> {
    *budget = budget.checked_sub(1)?;
    let value = match &node.value {
        Value::Scalar(s) => Value::Scalar(s.clone()),
        Value::Sequence(items) => Value::Sequence(
            items
                .iter()
                .map(|n| clone_bounded(n, budget))
                .collect::<Option<_>>()?,
        ),
        Value::Mapping(entries) => Value::Mapping(
            entries
                .iter()
                .map(|(k, v)| Some((clone_bounded(k, budget)?, clone_bounded(v, budget)?)))
                .collect::<Option<_>>()?,
        ),
    };
    Some(Node {
        span: node.span,
        value,
    })
}

#[cfg(test)]
mod tests;
