//! The shipped clinical model: loading, compiling, and a full query (triage, every posterior,
//! P(e)) with the network compiled once.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use radix::diagnosis::Diagnoser;
use radix::evidence::Evidence;
use radix::format;
use radix::inference::VariableElimination;

const MODEL: &str = "models/hip_leg_pain.toml";

fn bench(c: &mut Criterion) {
    c.bench_function("clinical/load_and_validate", |b| {
        b.iter(|| format::load(black_box(MODEL)).unwrap())
    });
    let net = format::load(MODEL).unwrap();
    c.bench_function("clinical/compile", |b| {
        b.iter(|| Diagnoser::new(black_box(&net)).unwrap())
    });
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
    let diagnoser = Diagnoser::new(&net).unwrap();
    let mut ws = diagnoser.workspace();
    c.bench_function("clinical/query_all_posteriors", |b| {
        b.iter(|| diagnoser.diagnose(&mut ws, black_box(&e)).unwrap())
    });
    let tree = diagnoser.tree();
    let mut tws = tree.workspace();
    c.bench_function("clinical/propagate_only", |b| {
        b.iter(|| tree.propagate(&mut tws, black_box(&e), None).unwrap())
    });
    c.bench_function("clinical/posteriors_only", |b| {
        b.iter(|| tree.posteriors(&mut tws, black_box(&e)).unwrap())
    });
    let origins: Vec<usize> = net.with_role(radix::network::Role::Origin).collect();
    c.bench_function("clinical/origins_only", |b| {
        b.iter(|| {
            tree.posteriors_of(&mut tws, black_box(&e), &origins)
                .unwrap()
        })
    });
    // A what-if sweep: every unobserved finding set to each of its states in turn, the
    // origins' posteriors each time.
    let findings: Vec<usize> = net
        .with_role(radix::network::Role::Finding)
        .filter(|&v| !e.contains(v))
        .collect();
    c.bench_function("clinical/whatif_sweep", |b| {
        b.iter(|| {
            for &f in &findings {
                for s in 0..net.variable(f).cardinality() {
                    let mut what_if = e.clone();
                    what_if
                        .observe(&net, f, radix::evidence::Observation::Is(s))
                        .unwrap();
                    black_box(tree.posteriors_of(&mut tws, &what_if, &origins).unwrap());
                }
            }
        })
    });
    // The reasoning tools a clinician runs on a case: the what-if table and the next-finding
    // ranking, the tree compiled once.
    c.bench_function("clinical/whatif_and_next", |b| {
        b.iter(|| {
            black_box(
                radix::analysis::whatif::what_if(&diagnoser, &mut ws, black_box(&e)).unwrap(),
            );
            black_box(
                radix::analysis::next::next_findings(&diagnoser, &mut ws, black_box(&e)).unwrap(),
            );
        })
    });
    c.bench_function("clinical/query_no_evidence", |b| {
        b.iter(|| {
            diagnoser
                .diagnose(&mut ws, black_box(&Evidence::new()))
                .unwrap()
        })
    });
    // Parameter uncertainty: 100 sampled models, each compiled and solved (one thread).
    let one_thread = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    c.bench_function("clinical/uncertainty_100_samples", |b| {
        b.iter(|| {
            one_thread
                .install(|| radix::analysis::uncertainty::analyse(&net, black_box(&e), 100, 7))
                .unwrap()
        })
    });
    // The one-query-at-a-time engine, for comparison: one elimination per posterior.
    let ve = VariableElimination::new(&net);
    let targets: Vec<usize> = (0..net.len()).filter(|&v| !e.contains(v)).collect();
    c.bench_function("clinical/variable_elimination_all_posteriors", |b| {
        b.iter(|| ve.posteriors(black_box(&e), &targets).unwrap())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
