//! The most probable explanation (`analysis::mpe`) and the elimination trace
//! (`analysis::steps`): against brute-force enumeration on random networks, against the engine,
//! and on the Asia network and the shipped clinical model.

mod common;

use std::collections::HashMap;

use radix::analysis::mpe::{self, MpeError};
use radix::analysis::steps::{self, PruneReason};
use radix::evidence::Evidence;
use radix::factor::VarId;
use radix::inference::{InferenceError, VariableElimination};
use radix::network::{CpdSpec, Network, NetworkBuilder, Role, VariableSpec};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn evidence(net: &Network, items: &[&str]) -> Evidence {
    let mut e = Evidence::new();
    for item in items {
        e.parse_assignment(net, item).unwrap();
    }
    e
}

fn load(path: &str) -> Network {
    radix::format::load(format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

#[test]
fn mpe_of_every_variable_matches_enumeration() {
    let mut rng = StdRng::seed_from_u64(7_2026);
    let mut checked = 0;
    for _ in 0..250 {
        let n = rng.gen_range(2..=7);
        let net = common::random_network(&mut rng, n);
        let e = common::random_evidence(&mut rng, &net);
        let joint = common::enumerate(&net, &e);
        let pe: f64 = joint.iter().map(|(_, p)| p).sum();
        let result = mpe::mpe(&net, &e);
        if pe == 0.0 {
            assert!(matches!(
                result,
                Err(MpeError::Inference(
                    InferenceError::ImpossibleEvidence { .. }
                ))
            ));
            continue;
        }
        let best = result.unwrap();
        let max = joint.iter().map(|(_, p)| *p).fold(0.0, f64::max) / pe;
        assert!(
            (best.probability - max).abs() < 1e-12,
            "{} vs {max}",
            best.probability
        );
        // The decoded assignment reaches the maximum (ties may pick another maximiser).
        let cards = net.cardinalities();
        let fixed: Vec<Option<usize>> = (0..n).map(|v| e.certain_state(v, cards[v])).collect();
        let mut x: Vec<Option<usize>> = fixed.clone();
        for &(v, s) in &best.assignment {
            assert!(fixed[v].is_none(), "observed variables are not assigned");
            x[v] = Some(s);
        }
        let x: Vec<usize> = x.into_iter().map(|s| s.expect("every variable")).collect();
        let weight = joint.iter().find(|(y, _)| *y == x).unwrap().1 / pe;
        assert!((weight - max).abs() < 1e-12, "{weight} vs {max}");
        checked += 1;
    }
    assert!(checked > 120, "only {checked} possible cases");
}

#[test]
fn map_over_some_variables_matches_enumeration() {
    let mut rng = StdRng::seed_from_u64(11_2026);
    let mut checked = 0;
    for _ in 0..250 {
        let n = rng.gen_range(2..=7);
        let net = common::random_network(&mut rng, n);
        let e = common::random_evidence(&mut rng, &net);
        let joint = common::enumerate(&net, &e);
        let pe: f64 = joint.iter().map(|(_, p)| p).sum();
        let mut vars: Vec<VarId> = Vec::new();
        for _ in 0..rng.gen_range(1..=3usize.min(n)) {
            let v = rng.gen_range(0..n);
            if !vars.contains(&v) {
                vars.push(v);
            }
        }
        let k = rng.gen_range(1..=6);
        let result = mpe::map(&net, &e, &vars, k);
        if pe == 0.0 {
            assert!(result.is_err());
            continue;
        }
        let got = result.unwrap();
        // Brute force: marginalise the enumerated joint onto `vars`.
        let mut marginal: HashMap<Vec<usize>, f64> = HashMap::new();
        for (x, p) in &joint {
            let key: Vec<usize> = vars.iter().map(|&v| x[v]).collect();
            *marginal.entry(key).or_default() += p / pe;
        }
        let mut expected: Vec<f64> = marginal.values().copied().filter(|p| *p > 0.0).collect();
        expected.sort_by(|a, b| b.total_cmp(a));
        assert!(got.assignments.len() <= k);
        assert_eq!(got.variables, vars);
        for (i, a) in got.assignments.iter().enumerate() {
            let key: Vec<usize> = a
                .states
                .iter()
                .zip(&vars)
                .map(|(&(v, s), &w)| {
                    assert_eq!(v, w);
                    s
                })
                .collect();
            let truth = marginal.get(&key).copied().unwrap_or(0.0);
            assert!((a.probability - truth).abs() < 1e-12);
            let rank = expected.get(i).copied().unwrap_or(0.0);
            assert!((a.probability - rank).abs() < 1e-12, "rank {i}");
        }
        assert!(
            got.assignments
                .windows(2)
                .all(|w| w[0].probability >= w[1].probability)
        );
        let sum: f64 = got.assignments.iter().map(|a| a.probability).sum();
        assert!(sum <= 1.0 + 1e-12);
        checked += 1;
    }
    assert!(checked > 120, "only {checked} possible cases");
}

#[test]
fn map_lists_everything_when_k_is_large_and_guards_huge_joints() {
    let net = load("tests/data/asia.toml");
    let all = mpe::origins(&net, &evidence(&net, &["dysp=yes"]), 1000).unwrap();
    assert_eq!(all.assignments.len(), 8); // three binary origins
    let sum: f64 = all.assignments.iter().map(|a| a.probability).sum();
    assert!((sum - 1.0).abs() < 1e-12);

    // An observed origin keeps its state in every assignment.
    let fixed = mpe::origins(&net, &evidence(&net, &["dysp=yes", "tub=yes"]), 10).unwrap();
    assert_eq!(fixed.assignments.len(), 4);
    let tub = net.id_of("tub").unwrap();
    for a in &fixed.assignments {
        assert!(a.states.contains(&(tub, 0)));
    }

    // 23 binary variables: a 2^23-entry joint is refused before any inference.
    let mut b = NetworkBuilder::new("wide");
    for i in 0..23 {
        let id = format!("o{i}");
        b.variable(
            VariableSpec::new(&id, &id, Role::Origin, &["present", "absent"]),
            CpdSpec::root(vec![0.5, 0.5], "x"),
        );
    }
    let wide = b.build().unwrap();
    assert!(matches!(
        mpe::origins(&wide, &Evidence::new(), 5),
        Err(MpeError::TooManyCombinations { variables: 23, .. })
    ));
    // ... and max-product elimination handles it.
    let best = mpe::mpe(&wide, &Evidence::new()).unwrap();
    assert_eq!(best.assignment.len(), 23);
    assert!((best.probability - 0.5f64.powi(23)).abs() < 1e-15);

    // A network without origins says so.
    let mut rng = StdRng::seed_from_u64(1);
    let plain = common::random_network(&mut rng, 3);
    assert_eq!(
        mpe::origins(&plain, &Evidence::new(), 5),
        Err(MpeError::NoOrigins)
    );
}

#[test]
fn young_patient_with_foot_drop_is_explained_by_a_disc_herniation() {
    let net = load("models/hip_leg_pain.toml");
    let e = evidence(
        &net,
        &[
            "age_band=under_40",
            "radicular_pain_quality=present",
            "pain_below_knee=present",
            "foot_drop=present",
            "pain_lateral_leg_dorsum_foot=present",
        ],
    );
    let disc = net.id_of("disc_herniation").unwrap();
    let present = net.variable(disc).state_index("present").unwrap();
    let ranked = mpe::origins(&net, &e, 5).unwrap();
    assert_eq!(ranked.assignments.len(), 5);
    assert!(ranked.assignments[0].states.contains(&(disc, present)));
    let json = ranked.to_json(&net);
    assert_eq!(
        json["assignments"][0]["states"]["disc_herniation"],
        "present"
    );
    assert!(json["assignments"][0]["probability"].as_f64().unwrap() > 0.5);

    let best = mpe::mpe(&net, &e).unwrap();
    assert!(best.assignment.contains(&(disc, present)));
    assert!(best.probability > 0.0 && best.probability <= ranked.assignments[0].probability);
    assert_eq!(
        best.to_json(&net)["assignment"]["disc_herniation"],
        "present"
    );
}

#[test]
fn trace_posterior_is_the_engines_on_random_networks() {
    let mut rng = StdRng::seed_from_u64(3_2026);
    for _ in 0..200 {
        let n = rng.gen_range(2..=9);
        let net = common::random_network(&mut rng, n);
        let e = common::random_evidence(&mut rng, &net);
        let query = rng.gen_range(0..n);
        let ve = VariableElimination::new(&net);
        let expected = ve.posterior(&e, query);
        let trace = steps::trace(&net, &e, query);
        let (expected, trace) = match (expected, trace) {
            (Ok(p), Ok(t)) => (p, t),
            (Err(a), Err(b)) => {
                assert_eq!(a, b);
                continue;
            }
            (a, b) => panic!("engine {a:?} but trace {b:?}"),
        };
        assert_eq!(trace.posterior, expected);
        assert_eq!(trace.steps.len(), trace.order.len());
        let cards = net.cardinalities();
        for (step, &v) in trace.steps.iter().zip(&trace.order) {
            assert_eq!(step.eliminate, v);
            assert!(!step.result.contains(&v));
            assert_eq!(
                step.entries,
                step.result.iter().map(|&u| cards[u]).product::<usize>()
            );
            assert!(step.factors.iter().all(|f| f.scope.contains(&v)));
        }
        // Normalising the unnormalised result gives the posterior.
        let total: f64 = trace.unnormalised.iter().sum();
        for (u, p) in trace.unnormalised.iter().zip(&trace.posterior) {
            assert!((u / total - p).abs() < 1e-12);
        }
        // Nothing pruned is eliminated.
        for (v, _) in &trace.pruned {
            assert!(!trace.order.contains(v));
        }
    }
}

#[test]
fn asia_trace_prunes_the_barren_branch() {
    let net = load("tests/data/asia.toml");
    let e = evidence(&net, &["xray=yes"]);
    let lung = net.id_of("lung").unwrap();
    let trace = steps::trace(&net, &e, lung).unwrap();
    let id = |v: VarId| net.variable(v).id().to_string();
    let pruned: Vec<(String, PruneReason)> =
        trace.pruned.iter().map(|&(v, r)| (id(v), r)).collect();
    // Neither bronchitis nor dyspnoea is an ancestor of lung or xray.
    assert_eq!(
        pruned,
        vec![
            ("bronc".to_string(), PruneReason::Barren),
            ("dysp".to_string(), PruneReason::Barren),
        ]
    );
    assert_eq!(
        trace.posterior,
        VariableElimination::new(&net).posterior(&e, lung).unwrap()
    );
    assert_eq!(trace.steps.len(), trace.order.len());
    assert_eq!(trace.order.len(), 4); // asia, smoke, tub, either
    let cards = net.cardinalities();
    for s in &trace.steps {
        assert_eq!(
            s.entries,
            s.result.iter().map(|&u| cards[u]).product::<usize>()
        );
    }
    // Without pruned observations the unnormalised result is P(lung, xray=yes).
    assert!((trace.unnormalised[0] - 0.055 * 0.98).abs() < 1e-12);

    let json = trace.to_json(&net, &e);
    assert_eq!(json["query"], "lung");
    assert_eq!(json["evidence"]["xray"], "yes");
    assert_eq!(json["pruned"][0]["variable"], "bronc");
    assert_eq!(json["pruned"][0]["reason"], "barren");
    assert_eq!(json["steps"].as_array().unwrap().len(), 4);
    assert!(json["steps"][0]["factors"][0].is_array());
    assert!(json["posterior"]["yes"].as_f64().unwrap() > 0.4);

    let text = trace.to_text(&net).join("\n");
    assert!(text.contains("bronc: barren"));
    assert!(text.contains("φ(xray=yes | either)"));
    assert!(text.contains("normalise"));

    // An observed ancestor whose table cannot matter is d-separated, not barren.
    let e = evidence(&net, &["xray=yes", "smoke=yes"]);
    let trace = steps::trace(&net, &e, lung).unwrap();
    let smoke = net.id_of("smoke").unwrap();
    assert!(trace.pruned.contains(&(smoke, PruneReason::DSeparated)));
    // A query fixed by the evidence needs no elimination.
    let e = evidence(&net, &["lung=yes"]);
    let trace = steps::trace(&net, &e, lung).unwrap();
    assert!(trace.steps.is_empty());
    assert_eq!(trace.posterior, vec![1.0, 0.0]);
}

#[test]
fn unknown_query_names_suggest_the_nearest() {
    let net = load("tests/data/asia.toml");
    let err = net.lookup("lugn").unwrap_err();
    assert_eq!(err.suggestion.as_deref(), Some("lung"));
}
