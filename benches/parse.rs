//! Criterion micro-benchmarks of the hot pieces a whole-tree run spends its
//! time in (see the README's Performance section): YAML parsing, parsing
//! plus image extraction, per MiB of generated manifests; image reference
//! parsing and normalisation, per reference.
//!
//! `cargo bench --bench parse`

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use fluxgate::changes;
use fluxgate::image::ImageRef;
use fluxgate::images;
use fluxgate::load;
use fluxgate::source::Side;
use fluxgate::yaml::{self, Limits};
use std::hint::black_box;

#[path = "peers/generate.rs"]
#[allow(dead_code)]
mod generate;

/// 40 generated apps: 1,000 resources in 200 files, about 0.6 MiB.
fn corpus() -> generate::Tree {
    generate::gitops_tree(40, 7)
}

fn yaml_and_extraction(c: &mut Criterion) {
    let tree = corpus();
    let bytes: usize = tree.iter().map(|(_, text)| text.len()).sum();
    let limits = Limits::default();
    let mut group = c.benchmark_group("manifests");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.bench_function("yaml_parse", |b| {
        b.iter(|| {
            for (_, text) in &tree {
                black_box(yaml::parse(black_box(text), &limits));
            }
        })
    });
    group.bench_function("parse_and_extract_images", |b| {
        b.iter(|| {
            let mut records = 0;
            for (path, text) in &tree {
                let file = load::parse_bytes(Side::Head, path, text.clone().into_bytes(), &limits);
                for image_use in changes::image_uses(&file, None, true, &Default::default(), &[]) {
                    black_box(images::record(image_use, true));
                    records += 1;
                }
            }
            records
        })
    });
    group.finish();
}

fn image_references(c: &mut Criterion) {
    let references = [
        "nginx",
        "nginx:1.27",
        "docker.io/library/nginx:1.27.0-alpine",
        "ghcr.io/acme/svc-0001:1.2.3",
        "registry.example.com:5000/platform/team/app:v2@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com/svc-0002-migrations:3.14.1",
        "quay.io/prometheus/statsd-exporter@sha256:fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210",
        "localhost/app",
    ];
    let mut group = c.benchmark_group("image_reference");
    group.throughput(Throughput::Elements(references.len() as u64));
    group.bench_function("parse_and_canonical", |b| {
        b.iter(|| {
            for reference in &references {
                if let Ok(parsed) = ImageRef::parse(black_box(reference)) {
                    black_box(parsed.canonical());
                }
            }
        })
    });
    group.finish();
}

criterion_group!(benches, yaml_and_extraction, image_references);
criterion_main!(benches);
