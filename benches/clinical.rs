//! The shipped clinical model: loading, and a full query (triage, every posterior, P(e)).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use radix::diagnosis;
use radix::evidence::Evidence;
use radix::format;

const MODEL: &str = "models/hip_leg_pain.toml";

fn bench(c: &mut Criterion) {
    c.bench_function("clinical/load_and_validate", |b| {
        b.iter(|| format::load(black_box(MODEL)).unwrap())
    });
    let net = format::load(MODEL).unwrap();
    let mut e = Evidence::new();
    for a in [
        "age_band=40_to_59",
        "pain_below_knee=present",
        "foot_drop=present",
        "radicular_pain_quality=present",
        "worse_with_sitting=present",
    ] {
        e.parse_assignment(&net, a).unwrap();
    }
    c.bench_function("clinical/query_all_posteriors", |b| {
        b.iter(|| diagnosis::diagnose(&net, black_box(&e)).unwrap())
    });
    c.bench_function("clinical/query_no_evidence", |b| {
        b.iter(|| diagnosis::diagnose(&net, black_box(&Evidence::new())).unwrap())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
