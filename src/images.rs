//! From an image use to a report record: parse and normalise the
//! reference, decide what can be checked, and raise the findings that follow
//! from the reference alone (invalid, unresolved).

use crate::changes::ImageUse;
use crate::finding::{Finding, Location};
use crate::image::{flux_variables, ImageRef};
use crate::k8s::ImageSite;
use crate::report::{ImageRecord, ImageStatus};
use crate::rules::{image_reference_invalid, image_unresolved};
use crate::source::{SourceText, Span};
use std::ops::Range;

/// The record for one image use, and the finding it raises, if any.
pub fn record(image_use: ImageUse, offline: bool) -> (ImageRecord, Option<Finding>) {
    let related = image_use.related.clone();
    let blame = image_use.blame.clone();
    let (mut record, finding) = record_at_site(image_use, offline);
    record.related = related;
    record.blame = blame;
    let finding = finding.map(|finding| place(finding, &record));
    (record, finding)
}

/// Moves a finding to where the record says findings belong, with its labels.
pub fn place(mut finding: Finding, record: &ImageRecord) -> Finding {
    if let Some(blame) = &record.blame {
        finding.primary = blame.clone();
    }
    let related = record.related.clone();
    for (location, message) in related {
        if !finding.related.iter().any(|l| l.location == location) {
            finding = finding.with_related(location, message);
        }
    }
    finding
}

fn record_at_site(image_use: ImageUse, offline: bool) -> (ImageRecord, Option<Finding>) {
    let ImageUse {
        source,
        kind,
        name,
        site,
        change,
        ..
    } = image_use;
    let location = Location::new(&source, site.span);
    let mut record = ImageRecord {
        reference: String::new(),
        canonical: None,
        location,
        kind,
        name,
        field: site.field.clone(),
        change,
        status: ImageStatus::Invalid,
        digest: None,
        detail: None,
        related: Vec::new(),
        blame: None,
    };
    let text = match &site.reference {
        Err(problem) => {
            let written = &source.text()[site.span.start..site.span.end];
            // A block collection written where a reference belongs is no
            // reference to repeat on one line.
            if !written.contains('\n') {
                record.reference = written.to_string();
            }
            record.detail = Some(problem.clone());
            let finding =
                image_reference_invalid::finding(&source, site.span, &record.reference, problem);
            return (record, Some(finding));
        }
        Ok(text) => text.clone(),
    };
    record.reference = text.clone();
    let variables = flux_variables(&text);
    let unresolved = if let (false, Some(why)) = (variables.is_empty(), &site.incomplete) {
        Some(why.clone())
    } else if !variables.is_empty() {
        let names: Vec<String> = variables.iter().map(|v| format!("${{{v}}}")).collect();
        Some(format!(
            "uses Flux post-build variable {} (not substituted by fluxgate yet)",
            names.join(", ")
        ))
    } else if text.contains("{{") {
        Some("contains a Helm template expression".to_string())
    } else {
        site.incomplete.clone()
    };
    if let Some(why) = unresolved {
        record.status = ImageStatus::Unresolved;
        let mut finding = image_unresolved::finding(&source, site.span, &text, &why);
        for (span, message) in &site.related {
            finding = finding.with_related(Location::new(&source, *span), message.clone());
        }
        record.detail = Some(why);
        return (record, Some(finding));
    }
    match ImageRef::parse(&text) {
        Err(error) => {
            record.detail = Some(error.message.clone());
            let span = narrow(&source, &site, error.offset.clone());
            let mut finding =
                image_reference_invalid::finding(&source, span, &text, &error.message);
            // A label around the very value at fault would only repeat it.
            for (related, message) in site
                .related
                .iter()
                .filter(|(r, _)| !(r.start <= span.start && span.end <= r.end))
            {
                finding = finding.with_related(Location::new(&source, *related), message.clone());
            }
            (record, Some(finding))
        }
        Ok(reference) => {
            record.canonical = Some(reference.canonical());
            // Stays `skipped` only offline; the registry stage decides otherwise.
            record.status = ImageStatus::Skipped;
            if offline {
                record.detail = Some("--offline".to_string());
            }
            (record, None)
        }
    }
}

/// The span in the source of `range` (bytes of the reference): inside the
/// value it was copied from, exactly when that value is written verbatim
/// (plain or simply quoted), else the whole value; the site's span if no
/// part holds it.
fn narrow(source: &SourceText, site: &ImageSite, range: Range<usize>) -> Span {
    let Some((part, span)) = site.parts.iter().find(|(part, _)| {
        part.contains(&range.start) || (part.is_empty() && part.start == range.start)
    }) else {
        return site.span;
    };
    let Ok(text) = site.reference.as_deref() else {
        return site.span;
    };
    let value = &text[part.clone()];
    let written = source.text().get(span.start..span.end).unwrap_or_default();
    let value_start = if written == value {
        span.start
    } else if written.len() == value.len() + 2 && written.get(1..written.len() - 1) == Some(value) {
        span.start + 1
    } else {
        return *span;
    };
    let end = range.end.clamp(range.start, part.end);
    Span::new(
        value_start + range.start - part.start,
        value_start + end - part.start,
    )
}
