//! `--format github`: GitHub Actions workflow commands, one annotation per
//! finding (`::error file=…,line=…,col=…,endLine=…,endColumn=…,title=<rule>::<message>`),
//! and [`step_summary`], the Markdown job summary. GitHub shows only the
//! first few annotations of a step on the pull request, so the summary
//! (written to `$GITHUB_STEP_SUMMARY` by `output`) is the full picture.
//!
//! Columns count Unicode code points and `endColumn` is the character after
//! the span, as SARIF's (and ruff's GitHub output) are. A multi-line span
//! drops `col`/`endColumn` (GitHub ignores them across lines). A finding
//! about a removed object points into the base revision, whose lines the
//! head file may not have: it annotates the file only and names the line in
//! its message.

use super::{ImageRecord, ImageStatus, Report};
use crate::finding::{Finding, Severity};
use crate::source::Side;
use std::fmt::Write;

/// One workflow command per finding, each on its own line.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    for finding in &report.findings {
        out.push_str(&annotation(finding));
        out.push('\n');
    }
    out
}

fn annotation(finding: &Finding) -> String {
    let command = match finding.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "notice",
    };
    let at = &finding.primary;
    let mut properties = vec![("file", at.file.clone())];
    let mut message = finding.message.clone();
    if at.side == Side::Base {
        let _ = write!(message, " (in the base revision at line {})", at.start.line);
    } else {
        properties.push(("line", at.start.line.to_string()));
        let one_line = at.start.line == at.end.line;
        if one_line {
            properties.push(("col", at.start.column.to_string()));
        }
        properties.push(("endLine", at.end.line.to_string()));
        if one_line {
            properties.push(("endColumn", at.end.column.to_string()));
        }
    }
    properties.push(("title", finding.rule.id.to_string()));
    if let Some(help) = &finding.help {
        let _ = write!(message, "\nhelp: {help}");
    }
    let properties: Vec<String> = properties
        .into_iter()
        .map(|(key, value)| format!("{key}={}", escape_property(&value)))
        .collect();
    format!(
        "::{command} {}::{}",
        properties.join(","),
        escape_data(&message)
    )
}

/// Escapes a workflow command's message (GitHub's `escapeData`).
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow command's property value (GitHub's `escapeProperty`).
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// The Markdown job summary: result, counts, the images and the findings.
pub fn step_summary(report: &Report) -> String {
    let s = report.summary();
    let mut out = String::new();
    let verdict = if s.errors > 0 { "❌" } else { "✅" };
    let _ = writeln!(out, "## {verdict} fluxgate\n");
    let _ = write!(
        out,
        "{}",
        report.counts_sentence(|count| format!("**{count}**"))
    );
    let short = |sha: &str| sha.chars().take(12).collect::<String>();
    match &report.base {
        Some(base) => {
            let _ = writeln!(out, " (`{}`..`{}`).\n", short(base), short(&report.head));
        }
        None => {
            let _ = writeln!(out, " (`{}`).\n", short(&report.head));
        }
    }

    if report.images.is_empty() {
        out.push_str("No changed image references.\n\n");
    } else {
        let _ = writeln!(out, "### Images\n");
        out.push_str("| status | reference | digest | file |\n|---|---|---|---|\n");
        for image in &report.images {
            let mut status = format!("{} {}", status_icon(image.status), image.status.as_str());
            if let Some(detail) = &image.detail {
                let _ = write!(status, ": {detail}");
            }
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                cell(&status),
                code(&image.reference),
                image.digest.as_deref().map_or(String::new(), short_digest),
                code(&place(image)),
            );
        }
        out.push('\n');
    }

    if !report.findings.is_empty() {
        let _ = writeln!(out, "### Findings\n");
        out.push_str("| severity | rule | file | message |\n|---|---|---|---|\n");
        for finding in &report.findings {
            let at = &finding.primary;
            let mut file = format!("{}:{}", at.file, at.start.line);
            if at.side == Side::Base {
                file.push_str(" (base)");
            }
            let mut message = finding.message.clone();
            if let Some(help) = &finding.help {
                let _ = write!(message, "\nhelp: {help}");
            }
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                severity_cell(finding.severity),
                code(finding.rule.id),
                code(&file),
                cell(&message),
            );
        }
        out.push('\n');
    }
    out
}

fn place(image: &ImageRecord) -> String {
    format!("{}:{}", image.location.file, image.location.start.line)
}

fn status_icon(status: ImageStatus) -> &'static str {
    match status {
        ImageStatus::Exists => "✅",
        ImageStatus::Missing | ImageStatus::Invalid | ImageStatus::Unverified => "❌",
        ImageStatus::Unresolved => "⚠️",
        ImageStatus::Skipped => "⏭️",
    }
}

fn severity_cell(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "❌ error",
        Severity::Warning => "⚠️ warning",
        Severity::Note => "ℹ️ note",
    }
}

/// `sha256:0123456789ab…`.
fn short_digest(digest: &str) -> String {
    match digest.split_once(':') {
        Some((algorithm, hex)) if hex.len() > 12 => {
            format!("`{algorithm}:{}…`", &hex[..12])
        }
        _ => code(digest),
    }
}

/// Text for a table cell: HTML-escaped, `|` escaped, line breaks as `<br>`.
pub fn cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '|' => out.push_str("\\|"),
            '\n' => out.push_str("<br>"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// A code span in a table cell (`|` still needs its backslash there); text
/// a code span cannot hold (backticks, line breaks) becomes a plain cell.
fn code(text: &str) -> String {
    if text.is_empty() || text.contains(['`', '\n', '\r']) {
        return cell(text);
    }
    format!("`{}`", text.replace('|', "\\|"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_follows_github() {
        // (input, as data, as property)
        let table = [
            ("plain text", "plain text", "plain text"),
            ("100%", "100%25", "100%25"),
            ("%0A literal", "%250A literal", "%250A literal"),
            ("a\nb", "a%0Ab", "a%0Ab"),
            ("a\r\nb", "a%0D%0Ab", "a%0D%0Ab"),
            ("ghcr.io/a:v1", "ghcr.io/a:v1", "ghcr.io/a%3Av1"),
            ("a,b", "a,b", "a%2Cb"),
            ("::error::x", "::error::x", "%3A%3Aerror%3A%3Ax"),
            ("café `x` <y>", "café `x` <y>", "café `x` <y>"),
        ];
        for (input, data, property) in table {
            assert_eq!(escape_data(input), data, "data: {input:?}");
            assert_eq!(escape_property(input), property, "property: {input:?}");
        }
    }

    fn finding(side: Side, text: &str, needle: &str) -> Finding {
        let source = crate::source::SourceText::new("a,b:c.yaml", side, text.to_string());
        let start = text.find(needle).expect("needle in text");
        let span = crate::source::Span::new(start, start + needle.len());
        Finding::new(
            &crate::rules::crd_removed::CRD_REMOVED,
            crate::finding::Location::new(&source, span),
            "100% gone\nfor good",
        )
    }

    #[test]
    fn annotations_escape_and_place_by_side() {
        let one_line = finding(Side::Head, "a: 1\nname: x\n", "x");
        assert_eq!(
            annotation(&one_line),
            "::error file=a%2Cb%3Ac.yaml,line=2,col=7,endLine=2,endColumn=8,title=crd-removed::100%25 gone%0Afor good"
        );
        let multi_line = finding(Side::Head, "a: |\n  x\n  y\n", "x\n  y");
        assert_eq!(
            annotation(&multi_line),
            "::error file=a%2Cb%3Ac.yaml,line=2,endLine=3,title=crd-removed::100%25 gone%0Afor good"
        );
        let base = finding(Side::Base, "a: 1\nname: x\n", "x").with_help("keep it");
        assert_eq!(
            annotation(&base),
            "::error file=a%2Cb%3Ac.yaml,title=crd-removed::100%25 gone%0Afor good (in the base revision at line 2)%0Ahelp: keep it"
        );
    }

    #[test]
    fn cells_escape_pipes_html_and_line_breaks() {
        assert_eq!(cell("a | b\nc <d> & e"), "a \\| b<br>c &lt;d&gt; &amp; e");
        assert_eq!(code("a|b"), "`a\\|b`");
        assert_eq!(code("a`b"), "a`b");
        assert_eq!(
            short_digest(&format!("sha256:{}", "ab".repeat(32))),
            "`sha256:abababababab…`"
        );
    }
}
