//! Agreement with a reference engine on the standard networks.
//!
//! `tests/data/bn/reference/NET.json` holds, for each network of `tests/data/bn/`, 20 evidence
//! scenarios with the exact posterior of every unobserved variable and log10 P(evidence) from
//! pyAgrum 3.3.1's LazyPropagation, computed from the files' float64 numbers with every CPT row
//! divided by its sum (see the README there). radix reads the same numbers in full precision and
//! normalises rows the same way, and must agree to 1e-9: every posterior absolutely, log10
//! P(evidence) relatively.
//!
//! This is the slowest test of the suite (the large networks: munin2, pigs, barley, mildew);
//! CI runs it in release mode.

use std::path::Path;

use radix::evidence::Evidence;
use radix::format;
use radix::inference::JunctionTree;
use serde_json::Value;

const NETWORKS: [&str; 15] = [
    "asia",
    "cancer",
    "earthquake",
    "sachs",
    "survey",
    "alarm",
    "child",
    "insurance",
    "water",
    "mildew",
    "hepar2",
    "win95pts",
    "barley",
    "pigs",
    "munin2",
];

fn check(name: &str) {
    let dir = Path::new("tests/data/bn");
    let net = format::load(dir.join(format!("{name}.bif"))).unwrap_or_else(|e| panic!("{e}"));
    let reference: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join(format!("reference/{name}.json"))).unwrap(),
    )
    .unwrap();
    assert_eq!(
        reference["n_variables"].as_u64().unwrap() as usize,
        net.len(),
        "{name}: variable count"
    );
    let tree = JunctionTree::compile(&net).unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut ws = tree.workspace();
    let scenarios = reference["scenarios"].as_array().unwrap();
    assert!(scenarios.len() >= 11, "{name}: scenarios");
    for (i, scenario) in scenarios.iter().enumerate() {
        let mut evidence = Evidence::new();
        for (var, state) in scenario["evidence"].as_object().unwrap() {
            evidence
                .parse_assignment(&net, &format!("{var}={}", state.as_str().unwrap()))
                .unwrap_or_else(|e| panic!("{name} scenario {i}: {e}"));
        }
        // The first query of a pattern runs on its tree as compiled, the second compresses it
        // where most entries are 0 whatever the evidence, the third reuses its kept
        // evidence-free pass: all three must agree with the reference.
        for round in 0..3 {
            let got = tree
                .posteriors(&mut ws, &evidence)
                .unwrap_or_else(|e| panic!("{name} scenario {i} round {round}: {e}"));
            let expected_log10 = scenario["log10_p_evidence"].as_f64().unwrap();
            let log10 = got.log10_p_evidence();
            assert!(
                (log10 - expected_log10).abs() <= 1e-9 * expected_log10.abs().max(1e-300)
                    || (log10 - expected_log10).abs() < 1e-13,
                "{name} scenario {i} round {round}: log10 P(e) {log10} vs {expected_log10}"
            );
            let posteriors = scenario["posteriors"].as_object().unwrap();
            assert_eq!(
                posteriors.len(),
                got.len(),
                "{name} scenario {i} round {round}: unobserved variables"
            );
            for (var, dist) in posteriors {
                let v = net
                    .id_of(var)
                    .unwrap_or_else(|| panic!("{name}: unknown `{var}`"));
                let p = got.marginal(v).unwrap_or_else(|| {
                    panic!("{name} scenario {i} round {round}: no posterior for `{var}`")
                });
                for (state, expected) in dist.as_object().unwrap() {
                    let s = net.variable(v).state_index(state).unwrap();
                    let e = expected.as_f64().unwrap();
                    assert!(
                        (p[s] - e).abs() <= 1e-9,
                        "{name} scenario {i} round {round}: P({var}={state}) = {} vs {e}",
                        p[s]
                    );
                }
            }
        }
    }
}

macro_rules! agreement_tests {
    ($($name:ident),*) => {
        $(
            #[test]
            fn $name() {
                check(stringify!($name));
            }
        )*
        #[test]
        fn every_shared_network_is_covered() {
            let listed: Vec<&str> = vec![$(stringify!($name)),*];
            assert_eq!(listed, NETWORKS);
            for entry in std::fs::read_dir("tests/data/bn").unwrap() {
                let path = entry.unwrap().path();
                if path.extension().is_some_and(|e| e == "bif") {
                    let stem = path.file_stem().unwrap().to_str().unwrap().to_string();
                    assert!(NETWORKS.contains(&stem.as_str()), "{stem}.bif has no agreement test");
                }
            }
        }
    };
}

agreement_tests!(
    asia, cancer, earthquake, sachs, survey, alarm, child, insurance, water, mildew, hepar2,
    win95pts, barley, pigs, munin2
);
