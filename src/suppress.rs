//! Inline suppressions: `# fluxgate: ignore[rule-id, other-id] reason`.
//!
//! A suppression covers findings on its own line; written alone on a line,
//! the line below too; written in a document's header (before or on its
//! first line), the whole document. A reason is required. A suppression
//! without one, or naming an unknown rule, is `suppression-invalid` and
//! suppresses nothing; one that matched nothing is `suppression-unused`.

use crate::finding::{Finding, Location};
use crate::load::LoadedFile;
use crate::rules::{self, suppression_invalid, suppression_unused};
use crate::source::{Side, SourceText, Span};
use crate::yaml::{Node, Value};
use regex::Regex;
use std::sync::{Arc, LazyLock};

/// What a comment says, before it is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    pub rules: Vec<String>,
    pub reason: Option<String>,
}

static PATTERN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^#\s*fluxgate:\s*ignore\[([^\]]*)\](.*)$")
        .expect("the suppression pattern is valid")
});

/// Parses the comment text starting at `#`; `None` if it is not a suppression.
pub fn parse_comment(comment: &str) -> Option<Comment> {
    let captures = PATTERN.captures(comment.trim_end())?;
    let rules = captures[1]
        .split(',')
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_string)
        .collect();
    let reason = Some(captures[2].trim())
        .filter(|r| !r.is_empty())
        .map(str::to_string);
    Some(Comment { rules, reason })
}

/// Which lines a suppression covers (1-based, inclusive).
#[derive(Debug, Clone)]
pub struct Suppression {
    pub source: Arc<SourceText>,
    pub span: Span,
    pub comment: Comment,
    pub first_line: usize,
    pub last_line: usize,
}

/// The suppressions written in a head file.
pub fn collect(file: &LoadedFile) -> Vec<Suppression> {
    let source = &file.source;
    let text = source.text();
    // Every suppression names fluxgate: most files can be passed over
    // without looking at their comments.
    if !text.contains("fluxgate") {
        return Vec::new();
    }
    let mut scalars = Vec::new();
    for doc in &file.parsed.documents {
        scalar_spans(&doc.root, &mut scalars);
    }
    // Documents by line range: a header comment covers its document.
    let documents: Vec<(usize, usize)> = file
        .parsed
        .documents
        .iter()
        .filter(|d| !d.root.is_null())
        .map(|d| {
            (
                source.position(d.root.span.start).line,
                source.position(d.root.span.end.saturating_sub(1)).line,
            )
        })
        .collect();
    let mut found = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        for (at, _) in line.match_indices('#') {
            let start = offset + at;
            let starts_comment = at == 0 || line[..at].ends_with([' ', '\t']);
            if !starts_comment
                || scalars
                    .iter()
                    .any(|s: &Span| s.start <= start && start < s.end)
            {
                continue;
            }
            let Some(comment) = parse_comment(line[at..].trim_end_matches(['\n', '\r'])) else {
                break;
            };
            let line_number = source.position(start).line;
            let alone = line[..at].trim().is_empty();
            let previous_end = documents
                .iter()
                .filter(|(_, last)| *last < line_number)
                .map(|(_, last)| *last)
                .max()
                .unwrap_or(0);
            let header_of = documents.iter().find(|(first, _)| {
                alone && *first >= line_number && previous_end < line_number
                    || *first == line_number
            });
            let (first_line, last_line) = match header_of {
                Some(&(first, last)) if alone || first == line_number => {
                    (line_number.min(first), last)
                }
                _ if alone => (line_number, line_number + 1),
                _ => (line_number, line_number),
            };
            found.push(Suppression {
                source: source.clone(),
                span: Span::new(start, offset + line.trim_end_matches(['\n', '\r']).len()),
                comment,
                first_line,
                last_line,
            });
            break;
        }
        offset += line.len();
    }
    found
}

fn scalar_spans(node: &Node, out: &mut Vec<Span>) {
    match &node.value {
        Value::Scalar(_) => out.push(node.span),
        Value::Sequence(items) => items.iter().for_each(|n| scalar_spans(n, out)),
        Value::Mapping(entries) => entries.iter().for_each(|(k, v)| {
            scalar_spans(k, out);
            scalar_spans(v, out);
        }),
    }
}

/// What applying suppressions left.
pub struct Applied {
    pub findings: Vec<Finding>,
    pub suppressed: usize,
}

/// Removes suppressed findings and reports invalid and unused suppressions.
pub fn apply(findings: Vec<Finding>, suppressions: &[Suppression]) -> Applied {
    let valid: Vec<bool> = suppressions.iter().map(|s| problem(s).is_none()).collect();
    let mut used = vec![false; suppressions.len()];
    let mut kept = Vec::new();
    let mut suppressed = 0;
    for finding in findings {
        let at = &finding.primary;
        let matched = suppressions.iter().enumerate().position(|(i, s)| {
            valid[i]
                && at.side == Side::Head
                && at.file == s.source.path
                && (s.first_line..=s.last_line).contains(&at.start.line)
                && s.comment.rules.iter().any(|r| r == finding.rule.id)
        });
        match matched {
            Some(i) => {
                used[i] = true;
                suppressed += 1;
            }
            None => kept.push(finding),
        }
    }
    for (i, suppression) in suppressions.iter().enumerate() {
        let location = Location::new(&suppression.source, suppression.span);
        if let Some(problem) = problem(suppression) {
            kept.push(suppression_invalid::finding(location, &problem));
        } else if !used[i] {
            kept.push(suppression_unused::finding(
                location,
                &suppression.comment.rules.join(", "),
            ));
        }
    }
    Applied {
        findings: kept,
        suppressed,
    }
}

/// Why a suppression is not valid, if it is not.
fn problem(suppression: &Suppression) -> Option<String> {
    let comment = &suppression.comment;
    if comment.rules.is_empty() {
        return Some("it names no rule".to_string());
    }
    if let Some(unknown) = comment.rules.iter().find(|r| rules::find(r).is_none()) {
        return Some(format!(
            "`{unknown}` is not a rule id (`fluxgate rules` lists them)"
        ));
    }
    if comment.reason.is_none() {
        return Some("it gives no reason; write one after the `]`".to_string());
    }
    None
}

#[cfg(test)]
mod tests;
