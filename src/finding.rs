//! Findings: what a rule found, how serious it is, and where, on which side
//! of the change. A finding cannot be built without its primary location.

use crate::rules::Rule;
use crate::source::{Position, Side, SourceText, Span};
use serde::Serialize;

/// How serious a finding is. Only `Error` fails the check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Note,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        }
    }
}

/// A place in a file at one side of the change.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Location {
    pub file: String,
    pub side: Side,
    pub span: Span,
    pub start: Position,
    pub end: Position,
}

impl Location {
    pub fn new(source: &SourceText, span: Span) -> Self {
        Location {
            file: source.path.clone(),
            side: source.side,
            span,
            start: source.position(span.start),
            end: source.position(span.end),
        }
    }
}

/// A secondary location that explains the primary one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub location: Location,
    pub message: String,
}

#[derive(Debug, Clone)]
pub struct Finding {
    pub rule: &'static Rule,
    pub severity: Severity,
    pub message: String,
    pub help: Option<String>,
    pub primary: Location,
    pub related: Vec<Label>,
}

impl Finding {
    /// A finding at the rule's default severity; levels from config are
    /// applied later, in one place.
    pub fn new(rule: &'static Rule, primary: Location, message: impl Into<String>) -> Self {
        Finding {
            rule,
            severity: rule.default_severity,
            message: message.into(),
            help: None,
            primary,
            related: Vec::new(),
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn with_related(mut self, location: Location, message: impl Into<String>) -> Self {
        self.related.push(Label {
            location,
            message: message.into(),
        });
        self
    }

    /// The order findings are reported in: by file, then position, then rule.
    pub fn sort_key(&self) -> (&str, usize, usize, &str) {
        (
            &self.primary.file,
            self.primary.start.line,
            self.primary.start.column,
            self.rule.id,
        )
    }
}
