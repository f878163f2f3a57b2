//! The registry stage: checks every resolvable reference once and turns
//! each verdict into a status on the record and, where due, a finding.
//! A record without a verdict is `unverified`, never `exists`.

use crate::finding::Finding;
use crate::image::ImageRef;
use crate::registry::{Checker, Lookup, TagCheck, Verdict};
use crate::report::{ImageRecord, ImageStatus};
use crate::rules::{
    image_digest_mismatch, image_not_found, image_platform_missing, image_unverified,
};
use std::collections::BTreeMap;

/// Checks the records that can be checked; returns the findings.
pub fn verify(checker: &Checker, records: &mut [ImageRecord]) -> Vec<Finding> {
    let references: Vec<ImageRef> = checkable(records)
        .filter_map(|r| ImageRef::parse(r.canonical.as_deref()?).ok())
        .collect();
    let verdicts = checker.check_all(&references);
    apply(records, &verdicts)
}

fn checkable(records: &[ImageRecord]) -> impl Iterator<Item = &ImageRecord> {
    records
        .iter()
        .filter(|r| r.status == ImageStatus::Skipped && r.canonical.is_some())
}

/// Applies verdicts (keyed by canonical reference) to the records.
pub fn apply(records: &mut [ImageRecord], verdicts: &BTreeMap<String, Verdict>) -> Vec<Finding> {
    let mut findings = Vec::new();
    for record in records
        .iter_mut()
        .filter(|r| r.status == ImageStatus::Skipped)
    {
        let Some(canonical) = record.canonical.clone() else {
            continue;
        };
        let location = record.location.clone();
        let first_new = findings.len();
        apply_one(record, verdicts, &canonical, location, &mut findings);
        for finding in &mut findings[first_new..] {
            *finding = crate::images::place(finding.clone(), record);
        }
    }
    findings
}

fn apply_one(
    record: &mut ImageRecord,
    verdicts: &BTreeMap<String, Verdict>,
    canonical: &str,
    location: crate::finding::Location,
    findings: &mut Vec<Finding>,
) {
    {
        let Some(verdict) = verdicts.get(canonical) else {
            record.status = ImageStatus::Unverified;
            record.detail =
                Some("internal: the check ended without an answer for this reference".into());
            findings.push(image_unverified::finding(
                location,
                &record.reference,
                "protocol",
                record.detail.as_deref().unwrap_or_default(),
            ));
            return;
        };
        match &verdict.lookup {
            Lookup::Exists { digest } => {
                record.status = ImageStatus::Exists;
                record.digest = Some(digest.clone());
                record.detail = None;
            }
            Lookup::Missing { detail } => {
                record.status = ImageStatus::Missing;
                record.detail = Some(detail.clone());
                findings.push(image_not_found::finding(
                    location.clone(),
                    &record.reference,
                    detail,
                ));
            }
            Lookup::Unknown { cause, detail } => {
                record.status = ImageStatus::Unverified;
                record.detail = Some(format!("{}: {detail}", cause.as_str()));
                findings.push(image_unverified::finding(
                    location.clone(),
                    &record.reference,
                    cause.as_str(),
                    detail,
                ));
            }
        }
        // An image volume may hold any OCI artifact: it has no platforms.
        let platforms = verdict
            .platforms
            .as_ref()
            .filter(|_| !crate::k8s::workloads::is_image_volume(&record.field));
        match platforms {
            Some(Ok(report)) if !report.missing.is_empty() => {
                let list = |platforms: &[crate::registry::Platform]| {
                    if platforms.is_empty() {
                        "no platform listed".to_string()
                    } else {
                        platforms
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    }
                };
                findings.push(image_platform_missing::finding(
                    location.clone(),
                    &record.reference,
                    &list(&report.missing),
                    &list(&report.available),
                ));
            }
            Some(Err(failure)) => {
                let detail = format!("its platforms could not be read: {}", failure.detail);
                findings.push(image_unverified::finding(
                    location.clone(),
                    &record.reference,
                    failure.cause.as_str(),
                    &detail,
                ));
            }
            _ => {}
        }
        let tag = ImageRef::parse(canonical)
            .ok()
            .and_then(|r| r.tag)
            .unwrap_or_default();
        match &verdict.tag {
            Some(TagCheck::Differs { tag_digest }) => {
                findings.push(image_digest_mismatch::finding(
                    location.clone(),
                    &record.reference,
                    &format!("tag `{tag}` now points at {tag_digest}, not at the pinned digest"),
                ))
            }
            Some(TagCheck::TagMissing) => findings.push(image_digest_mismatch::finding(
                location.clone(),
                &record.reference,
                &format!("tag `{tag}` no longer exists; only the pinned digest does"),
            )),
            _ => {}
        }
    }
}
