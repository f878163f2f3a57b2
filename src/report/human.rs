//! `--format human`: miette diagnostics with the YAML snippet and a label on
//! the exact value, a table of the images, and a summary line. Colour and
//! box drawing only on a terminal; plain ASCII in CI logs.

use super::{ImageRecord, Report, Style};
use crate::finding::{Finding, Severity};
use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteDiagnostic, NamedSource};
use std::fmt::Write;

pub fn render(report: &Report, style: Style) -> String {
    let theme = match (style.unicode, style.color) {
        (true, true) => GraphicalTheme::unicode(),
        (true, false) => GraphicalTheme::unicode_nocolor(),
        (false, true) => GraphicalTheme::ascii(),
        (false, false) => GraphicalTheme::none(),
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_links(false)
        .with_urls(false)
        // miette counts columns in bytes; the header names our own position
        // (code points, as in every other format) instead.
        .without_primary_span_start()
        .with_width(110);
    let mut out = String::new();
    for notice in &report.notices {
        let _ = writeln!(out, "{notice}");
    }
    if !report.notices.is_empty() {
        out.push('\n');
    }
    for finding in &report.findings {
        render_finding(&mut out, &handler, report, finding);
    }
    render_images(&mut out, &report.images);
    render_summary(&mut out, report);
    out
}

fn render_finding(
    out: &mut String,
    handler: &GraphicalReportHandler,
    report: &Report,
    finding: &Finding,
) {
    let severity = match finding.severity {
        Severity::Error => miette::Severity::Error,
        Severity::Warning => miette::Severity::Warning,
        Severity::Note => miette::Severity::Advice,
    };
    let primary = &finding.primary;
    let mut labels = vec![LabeledSpan::new_primary_with_span(
        Some(finding.rule.summary.to_string()),
        (primary.span.start, primary.span.len()),
    )];
    let mut elsewhere = Vec::new();
    for label in &finding.related {
        let at = &label.location;
        if at.file == primary.file && at.side == primary.side {
            labels.push(LabeledSpan::new_with_span(
                Some(label.message.clone()),
                (at.span.start, at.span.len()),
            ));
        } else {
            elsewhere.push(format!(
                "{}: {}:{}:{}",
                label.message, at.file, at.start.line, at.start.column
            ));
        }
    }
    let mut help = finding.help.clone().unwrap_or_default();
    for line in elsewhere {
        help.push_str(&format!("\n{line}"));
    }
    let mut text = report
        .sources
        .get(primary)
        .map(|s| s.text().to_string())
        .unwrap_or_default();
    let mut message = finding.message.clone();
    if !showable(&text, primary.span) {
        // Binary content or an endless line: name the place, never print
        // the bytes (they may hold terminal escape sequences).
        text.clear();
        labels.clear();
        message = format!(
            "{}:{}:{}: {message} (the line is not shown: it holds control characters or is over {MAX_SHOWN_LINE} characters long)",
            primary.file, primary.start.line, primary.start.column
        );
    }
    let mut diagnostic = MietteDiagnostic::new(message)
        .with_code(finding.rule.id)
        .with_severity(severity)
        .with_labels(labels);
    if !help.is_empty() {
        diagnostic = diagnostic.with_help(help);
    }
    let name = format!(
        "{}:{}:{}{}",
        primary.file,
        primary.start.line,
        primary.start.column,
        if primary.side == crate::source::Side::Base {
            " (base)"
        } else {
            ""
        }
    );
    let rendered = miette::Report::new(diagnostic).with_source_code(NamedSource::new(name, text));
    if handler.render_report(out, rendered.as_ref()).is_err() {
        // A snippet that cannot be drawn still leaves a usable line.
        let _ = writeln!(
            out,
            "{}: {}:{}:{}: {}",
            finding.rule.id,
            primary.file,
            primary.start.line,
            primary.start.column,
            finding.message
        );
    }
    out.push('\n');
}

/// Longest source line a snippet shows.
const MAX_SHOWN_LINE: usize = 400;

/// Whether the lines miette would show around `span` (one of context either
/// side) are fit for a terminal: no control characters, no endless line.
fn showable(text: &str, span: crate::source::Span) -> bool {
    // A span into a file that is not UTF-8 may end inside a replacement character.
    let end = (span.end..=text.len()).find(|&i| text.is_char_boundary(i));
    let (Some(before), Some(end)) = (text.get(..span.start), end) else {
        return false;
    };
    let after = &text[end..];
    let from = before
        .rfind('\n')
        .and_then(|i| before[..i].rfind('\n'))
        .map_or(0, |i| i + 1);
    let to = after
        .match_indices('\n')
        .nth(1)
        .map_or(text.len(), |(i, _)| end + i);
    text[from..to].split('\n').all(|line| {
        line.chars().count() <= MAX_SHOWN_LINE
            && !line
                .chars()
                .any(|c| c.is_control() && !matches!(c, '\t' | '\r'))
    })
}

fn render_images(out: &mut String, images: &[ImageRecord]) {
    if images.is_empty() {
        out.push_str("No changed image references.\n");
        return;
    }
    let _ = writeln!(out, "Images ({}):", images.len());
    let place = |i: &ImageRecord| {
        format!(
            "{}:{}:{}",
            i.location.file, i.location.start.line, i.location.start.column
        )
    };
    let width = images.iter().map(|i| place(i).len()).max().unwrap_or(0);
    for image in images {
        let mut line = format!(
            "  {:<10} {:<9} {:<width$}  {}",
            image.status.as_str(),
            image.change.as_str(),
            place(image),
            image.reference,
        );
        if let Some(digest) = &image.digest {
            let _ = write!(line, "  {digest}");
        }
        if let Some(detail) = &image.detail {
            let _ = write!(line, "  ({detail})");
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
}

fn render_summary(out: &mut String, report: &Report) {
    let _ = writeln!(out, "\nfluxgate: {}", report.counts_sentence(|count| count));
}
