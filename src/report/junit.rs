//! `--format junit`: JUnit XML, for GitLab's test report (and other CI test
//! views), written by hand.
//!
//! Two suites:
//! - `fluxgate images`: one test case per image reference checked (name:
//!   reference and `file:line`, class name `images.<kind>`); it fails when
//!   the image is `missing`, `unverified` or `invalid`, is skipped when
//!   `skipped` (`--offline`) or `unresolved`, and passes when it `exists`.
//! - `fluxgate rules`: one test case per rule fluxgate has (class name
//!   `rules`); a rule with findings fails with one `<failure>` (JUnit allows
//!   one per test case) whose message is the first finding and whose body
//!   lists every finding with its `file:line:column`, severity and help;
//!   `type` is the highest severity. A rule without findings passes.
//!
//! Text and attributes are escaped (`& < > " '`, and line breaks and tabs
//! in attributes as character references), and characters XML 1.0 forbids
//! (most C0 controls, U+FFFE, U+FFFF) are dropped.

use super::{ImageRecord, ImageStatus, Report};
use crate::finding::Finding;
use crate::rules::ALL;
use crate::source::Side;
use std::fmt::Write;

struct Case {
    name: String,
    classname: String,
    outcome: Outcome,
}

enum Outcome {
    Pass,
    Skipped(String),
    Failure {
        kind: String,
        message: String,
        body: String,
    },
}

/// The report as a JUnit XML document.
pub fn render(report: &Report) -> String {
    let images: Vec<Case> = report.images.iter().map(image_case).collect();
    let rules: Vec<Case> = ALL
        .iter()
        .map(|rule| {
            let findings: Vec<&Finding> = report
                .findings
                .iter()
                .filter(|f| f.rule.id == rule.id)
                .collect();
            Case {
                name: rule.id.to_string(),
                classname: "rules".to_string(),
                outcome: rule_outcome(&findings),
            }
        })
        .collect();
    let suites = [("fluxgate images", images), ("fluxgate rules", rules)];
    let (tests, failures, skipped) = suites.iter().fold((0, 0, 0), |acc, (_, cases)| {
        let (t, f, s) = counts(cases);
        (acc.0 + t, acc.1 + f, acc.2 + s)
    });
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"fluxgate\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\">"
    );
    for (name, cases) in &suites {
        let (tests, failures, skipped) = counts(cases);
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\">",
            attribute(name)
        );
        for case in cases {
            write_case(&mut out, case);
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

fn counts(cases: &[Case]) -> (usize, usize, usize) {
    let failures = cases
        .iter()
        .filter(|c| matches!(c.outcome, Outcome::Failure { .. }))
        .count();
    let skipped = cases
        .iter()
        .filter(|c| matches!(c.outcome, Outcome::Skipped(_)))
        .count();
    (cases.len(), failures, skipped)
}

fn write_case(out: &mut String, case: &Case) {
    let _ = write!(
        out,
        "    <testcase name=\"{}\" classname=\"{}\"",
        attribute(&case.name),
        attribute(&case.classname)
    );
    match &case.outcome {
        Outcome::Pass => out.push_str("/>\n"),
        Outcome::Skipped(message) => {
            let _ = writeln!(
                out,
                ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                attribute(message)
            );
        }
        Outcome::Failure {
            kind,
            message,
            body,
        } => {
            let _ = writeln!(
                out,
                ">\n      <failure type=\"{}\" message=\"{}\">{}</failure>\n    </testcase>",
                attribute(kind),
                attribute(message),
                text(body)
            );
        }
    }
}

fn image_case(image: &ImageRecord) -> Case {
    let at = &image.location;
    let place = format!("{}:{}", at.file, at.start.line);
    let status = image.status.as_str();
    let message = match &image.detail {
        Some(detail) => format!("{status}: {detail}"),
        None => status.to_string(),
    };
    let outcome = match image.status {
        ImageStatus::Exists => Outcome::Pass,
        ImageStatus::Skipped | ImageStatus::Unresolved => Outcome::Skipped(message),
        ImageStatus::Missing | ImageStatus::Unverified | ImageStatus::Invalid => {
            let mut body = format!(
                "{}:{}:{}: {} {} {}\n{}: {message}",
                at.file,
                at.start.line,
                at.start.column,
                image.kind,
                image.name,
                image.field,
                image.reference
            );
            if let Some(digest) = &image.digest {
                let _ = write!(body, " ({digest})");
            }
            Outcome::Failure {
                kind: status.to_string(),
                message,
                body,
            }
        }
    };
    Case {
        name: format!("{} ({place})", image.reference),
        classname: format!("images.{}", image.kind),
        outcome,
    }
}

fn rule_outcome(findings: &[&Finding]) -> Outcome {
    let Some(first) = findings.first() else {
        return Outcome::Pass;
    };
    let worst = findings
        .iter()
        .map(|f| f.severity)
        .min()
        .unwrap_or(first.severity);
    let mut body = String::new();
    for finding in findings {
        let at = &finding.primary;
        let _ = write!(
            body,
            "{}:{}:{}{}: {}: {}",
            at.file,
            at.start.line,
            at.start.column,
            if at.side == Side::Base {
                " (in the base revision)"
            } else {
                ""
            },
            finding.severity.as_str(),
            finding.message
        );
        if let Some(help) = &finding.help {
            let _ = write!(body, "\n  help: {help}");
        }
        body.push('\n');
    }
    let message = if findings.len() == 1 {
        first.message.clone()
    } else {
        format!("{} findings; first: {}", findings.len(), first.message)
    };
    Outcome::Failure {
        kind: worst.as_str().to_string(),
        message,
        body,
    }
}

/// Whether XML 1.0 allows the character at all.
fn allowed(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Escapes character data.
pub fn text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars().filter(|&c| allowed(c)) {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes an attribute value (double-quoted); line breaks and tabs become
/// character references so parsers keep them.
pub fn attribute(value: &str) -> String {
    text(value).replace('\n', "&#10;").replace('\t', "&#9;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_drops_what_xml_forbids() {
        assert_eq!(
            text(r#"a & b < c > d "e" 'f'"#),
            "a &amp; b &lt; c &gt; d &quot;e&quot; &apos;f&apos;"
        );
        assert_eq!(text("bell\u{7}nul\u{0}esc\u{1b}end"), "bellnulescend");
        assert_eq!(text("\u{FFFE}\u{FFFF}ok\u{FFFD}"), "ok\u{FFFD}");
        assert_eq!(text("café 🚀\tx\ny"), "café 🚀\tx\ny");
        assert_eq!(text("crlf\r\n"), "crlf&#13;\n");
        assert_eq!(
            attribute("a\nb\tc\r\"d\""),
            "a&#10;b&#9;c&#13;&quot;d&quot;"
        );
        assert_eq!(text("&amp;"), "&amp;amp;");
    }
}
