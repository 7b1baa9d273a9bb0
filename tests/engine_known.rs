//! Known results: the Asia network, and numerical safety on long chains.

use approx::assert_relative_eq;
use radix::evidence::{Evidence, Observation};
use radix::format;
use radix::inference::{InferenceError, VariableElimination};
use radix::network::{CpdSpec, NetworkBuilder, Role, RowSpec, VariableSpec};

fn asia() -> radix::network::Network {
    format::load("tests/data/asia.toml").expect("asia loads")
}

fn posterior_yes(net: &radix::network::Network, e: &Evidence, var: &str) -> f64 {
    VariableElimination::new(net)
        .posterior(e, net.id_of(var).unwrap())
        .unwrap()[0]
}

#[test]
fn asia_prior_marginals() {
    // Lauritzen & Spiegelhalter (1988), Figure 2 (the initial marginals).
    let net = asia();
    let e = Evidence::new();
    assert_relative_eq!(posterior_yes(&net, &e, "tub"), 0.0104, epsilon = 1e-12);
    assert_relative_eq!(posterior_yes(&net, &e, "lung"), 0.055, epsilon = 1e-12);
    assert_relative_eq!(posterior_yes(&net, &e, "bronc"), 0.45, epsilon = 1e-12);
    assert_relative_eq!(posterior_yes(&net, &e, "either"), 0.064828, epsilon = 1e-12);
    assert_relative_eq!(posterior_yes(&net, &e, "xray"), 0.11029004, epsilon = 1e-12);
    assert_relative_eq!(posterior_yes(&net, &e, "dysp"), 0.4359706, epsilon = 1e-12);
}

#[test]
fn asia_with_evidence_matches_pyagrum() {
    // pyAgrum 3.3.1 LazyPropagation, from ../shared/bn/reference/asia.json (scenario xray=no).
    let net = asia();
    let mut e = Evidence::new();
    e.parse_assignment(&net, "xray=no").unwrap();
    assert_relative_eq!(
        posterior_yes(&net, &e, "tub"),
        0.0002337840525017839,
        max_relative = 1e-12
    );
    assert_relative_eq!(
        posterior_yes(&net, &e, "lung"),
        0.0012363579699613569,
        max_relative = 1e-12
    );
    assert_relative_eq!(
        posterior_yes(&net, &e, "smoke"),
        0.47672569609089244,
        max_relative = 1e-12
    );
    let ln = VariableElimination::new(&net).ln_p_evidence(&e).unwrap();
    assert_relative_eq!(
        ln / std::f64::consts::LN_10,
        -0.05075154762570153,
        max_relative = 1e-12
    );
}

#[test]
fn asia_explaining_away_and_impossible_evidence() {
    let net = asia();
    let mut e = Evidence::new();
    e.parse_assignment(&net, "either=yes").unwrap();
    let lung_given_either = posterior_yes(&net, &e, "lung");
    e.parse_assignment(&net, "tub=yes").unwrap();
    // Tuberculosis explains `either` away: lung cancer falls back to its prior.
    assert!(posterior_yes(&net, &e, "lung") < lung_given_either);
    assert_relative_eq!(posterior_yes(&net, &e, "lung"), 0.055, epsilon = 1e-12);
    // `either` is a logical OR: tub=yes with either=no is impossible.
    let mut bad = Evidence::new();
    bad.parse_assignment(&net, "tub=yes").unwrap();
    bad.parse_assignment(&net, "either=no").unwrap();
    bad.parse_assignment(&net, "smoke=yes").unwrap();
    match VariableElimination::new(&net).posteriors(&bad, &[0]) {
        Err(InferenceError::ImpossibleEvidence { conflict }) => {
            assert_eq!(
                conflict,
                vec!["tub=yes".to_string(), "either=no".to_string()]
            );
        }
        other => panic!("expected impossible evidence, got {other:?}"),
    }
}

#[test]
fn negative_and_soft_evidence_on_asia() {
    let net = asia();
    // Negative evidence on a binary variable is hard evidence on the other state.
    let mut neg = Evidence::new();
    neg.parse_assignment(&net, "xray!=yes").unwrap();
    let mut hard = Evidence::new();
    hard.parse_assignment(&net, "xray=no").unwrap();
    assert_relative_eq!(
        posterior_yes(&net, &neg, "tub"),
        posterior_yes(&net, &hard, "tub"),
        max_relative = 1e-14
    );
    // A likelihood (1, 0) is hard evidence; (0.5, 0.5) is no evidence.
    let mut soft = Evidence::new();
    let xray = net.id_of("xray").unwrap();
    soft.observe(&net, xray, Observation::Likelihood(vec![0.5, 0.5]))
        .unwrap();
    assert_relative_eq!(
        posterior_yes(&net, &soft, "tub"),
        0.0104,
        max_relative = 1e-12
    );
    // Soft evidence 0.8:0.2 for an X-ray: P(tub) = sum over xray of P(tub, xray) w(xray) / norm.
    let mut soft = Evidence::new();
    soft.observe(&net, xray, Observation::Likelihood(vec![0.8, 0.2]))
        .unwrap();
    let mut xy = Evidence::new();
    xy.parse_assignment(&net, "xray=yes").unwrap();
    let p_x = 0.11029004;
    let expected = (0.8 * p_x * posterior_yes(&net, &xy, "tub")
        + 0.2 * (1.0 - p_x) * posterior_yes(&net, &hard, "tub"))
        / (0.8 * p_x + 0.2 * (1.0 - p_x));
    assert_relative_eq!(
        posterior_yes(&net, &soft, "tub"),
        expected,
        max_relative = 1e-12
    );
}

/// A hidden chain of 600 binary states, each with an observed noisy child: P(evidence) is about
/// 1e-200 or smaller, far beyond what unscaled products keep, and is checked against a scaled
/// forward recursion.
#[test]
fn long_chain_keeps_log_evidence_exact() {
    let n = 600;
    let mut b = NetworkBuilder::new("chain");
    let yes_no = ["yes", "no"];
    let table = |parents: Vec<String>, rows: Vec<(Vec<&str>, [f64; 2])>| CpdSpec::Table {
        parents,
        rows: rows
            .into_iter()
            .map(|(w, p)| RowSpec {
                when: w.into_iter().map(String::from).collect(),
                p: p.to_vec(),
                source: None,
            })
            .collect(),
        source: Some("test".into()),
    };
    for i in 0..n {
        let x = format!("x{i}");
        let cpd = if i == 0 {
            CpdSpec::root(vec![0.3, 0.7], "test")
        } else {
            table(
                vec![format!("x{}", i - 1)],
                vec![(vec!["yes"], [0.9, 0.1]), (vec!["no"], [0.2, 0.8])],
            )
        };
        b.variable(VariableSpec::new(&x, &x, Role::Other, &yes_no), cpd);
        b.variable(
            VariableSpec::new(&format!("y{i}"), "obs", Role::Finding, &yes_no),
            table(
                vec![x.clone()],
                vec![(vec!["yes"], [0.7, 0.3]), (vec!["no"], [0.1, 0.9])],
            ),
        );
    }
    let net = b.build().unwrap();
    let mut e = Evidence::new();
    let mut obs = Vec::new();
    for i in 0..n {
        let yes = (i * 7919) % 3 == 0;
        obs.push(yes);
        e.parse_assignment(&net, &format!("y{i}={}", if yes { "yes" } else { "no" }))
            .unwrap();
    }
    // Forward algorithm with per-step normalisation.
    let emit = |state: usize, yes: bool| match (state, yes) {
        (0, true) => 0.7,
        (0, false) => 0.3,
        (_, true) => 0.1,
        (_, false) => 0.9,
    };
    let mut alpha: [f64; 2] = [0.3 * emit(0, obs[0]), 0.7 * emit(1, obs[0])];
    let mut ln = 0.0f64;
    for (i, &yes) in obs.iter().enumerate() {
        if i > 0 {
            alpha = [
                (alpha[0] * 0.9 + alpha[1] * 0.2) * emit(0, yes),
                (alpha[0] * 0.1 + alpha[1] * 0.8) * emit(1, yes),
            ];
        }
        let s: f64 = alpha[0] + alpha[1];
        ln += s.ln();
        alpha = [alpha[0] / s, alpha[1] / s];
    }
    let ve = VariableElimination::new(&net);
    let got = ve.ln_p_evidence(&e).unwrap();
    assert!(
        got < -300.0 * std::f64::consts::LN_10 / 2.0,
        "P(e) is tiny: ln = {got}"
    );
    assert_relative_eq!(got, ln, max_relative = 1e-12);
    // The last hidden state's posterior is the normalised forward message.
    let last = net.id_of(&format!("x{}", n - 1)).unwrap();
    let p = ve.posterior(&e, last).unwrap();
    assert_relative_eq!(p[0], alpha[0], max_relative = 1e-10);
}

/// A workspace moved from one network's tree to another's (and back) sizes its buffers for
/// the tree it is given: the same answers as a fresh workspace, no panic.
#[test]
fn a_workspace_moves_between_trees_of_different_networks() {
    use radix::inference::{CompileOptions, JunctionTree};
    let small = asia();
    let large = format::load("tests/data/bn/alarm.bif").expect("alarm loads");
    // Answers that do not depend on the queries before them, to compare to the bit.
    let options = CompileOptions {
        reproducible: true,
        ..CompileOptions::default()
    };
    let (ts, tl) = (
        JunctionTree::compile_with(&small, &options).unwrap(),
        JunctionTree::compile_with(&large, &options).unwrap(),
    );
    let mut e = Evidence::new();
    e.parse_assignment(&small, "smoke=yes").unwrap();
    let mut ws = ts.workspace();
    let first = ts.posteriors(&mut ws, &e).unwrap();
    let on_large = tl.posteriors(&mut ws, &Evidence::new()).unwrap();
    assert_eq!(
        on_large,
        tl.posteriors(&mut tl.workspace(), &Evidence::new())
            .unwrap()
    );
    assert_eq!(ts.posteriors(&mut ws, &e).unwrap(), first);
}
