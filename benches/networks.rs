//! The standard networks of tests/data/bn with pyAgrum's reference scenarios: preparation
//! (compiling the junction tree) and, per scenario, every posterior and P(evidence) with the
//! tree for the scenario's observed variables compiled ("warm") and compiled inside the query
//! ("cold"). Throughput is in scenarios.
//!
//! `cargo bench --bench networks` (all) or `cargo bench --bench networks -- alarm` (one).

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use radix::evidence::Evidence;
use radix::format;
use radix::inference::JunctionTree;
use radix::network::Network;

const NETWORKS: [&str; 10] = [
    "alarm",
    "child",
    "insurance",
    "hepar2",
    "win95pts",
    "water",
    "mildew",
    "barley",
    "pigs",
    "munin2",
];

fn scenarios(net: &Network, name: &str) -> Vec<Evidence> {
    let text = std::fs::read_to_string(format!("tests/data/bn/reference/{name}.json")).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    doc["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| radix::diagnosis::evidence_from_json(net, &s["evidence"]).unwrap())
        .collect()
}

fn bench(c: &mut Criterion) {
    for name in NETWORKS {
        let net = format::load(format!("tests/data/bn/{name}.bif")).unwrap();
        let cases = scenarios(&net, name);
        let big = net.len() > 40 || name == "water";
        let mut group = c.benchmark_group(name);
        if big {
            group
                .sample_size(10)
                .measurement_time(Duration::from_secs(8));
        }
        group.bench_function("prepare", |b| {
            b.iter(|| JunctionTree::compile(black_box(&net)).unwrap())
        });
        let tree = JunctionTree::compile(&net).unwrap();
        let mut ws = tree.workspace();
        group.throughput(Throughput::Elements(cases.len() as u64));
        group.bench_function("all_marginals_warm", |b| {
            b.iter(|| {
                for e in &cases {
                    black_box(tree.posteriors(&mut ws, e).unwrap());
                }
            })
        });
        group.bench_function("all_marginals_cold", |b| {
            b.iter(|| {
                for e in &cases {
                    tree.clear_cache();
                    black_box(tree.posteriors(&mut ws, e).unwrap());
                }
            })
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
