//! Variable elimination against brute-force enumeration of the joint, on many random networks
//! (mixed arities, random tables with zeros, noisy-ORs) and random evidence of all three kinds.

mod common;

use approx::assert_abs_diff_eq;
use radix::inference::{Heuristic, InferenceError, VariableElimination};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

#[test]
fn posteriors_and_evidence_probability_match_enumeration() {
    let mut rng = StdRng::seed_from_u64(20261124);
    let mut checked = 0;
    let mut impossible = 0;
    for case in 0..400 {
        let n = rng.gen_range(2..=8);
        let net = common::random_network(&mut rng, n);
        let evidence = common::random_evidence(&mut rng, &net);
        let (pe, marginals) = common::brute_force(&net, &evidence);
        let heuristic = [
            Heuristic::MinFill,
            Heuristic::WeightedMinFill,
            Heuristic::MinWeight,
            Heuristic::MinDegree,
        ][case % 4];
        let ve = VariableElimination::new(&net).with_heuristic(heuristic);
        let targets: Vec<usize> = (0..net.len()).collect();
        match (marginals, ve.posteriors(&evidence, &targets)) {
            (Some(expected), Ok(got)) => {
                assert!(
                    (got.ln_p_evidence - pe.ln()).abs() <= 1e-12 * pe.ln().abs().max(1.0),
                    "case {case}: ln P(e) {} vs {}",
                    got.ln_p_evidence,
                    pe.ln()
                );
                for v in 0..net.len() {
                    let p = got.marginal(v).unwrap();
                    for (a, b) in p.iter().zip(&expected[v]) {
                        assert_abs_diff_eq!(*a, *b, epsilon = 1e-12);
                    }
                }
                checked += 1;
            }
            (None, Err(InferenceError::ImpossibleEvidence { conflict })) => {
                assert!(
                    !conflict.is_empty(),
                    "case {case}: an impossible set names its findings"
                );
                impossible += 1;
            }
            (expected, got) => panic!("case {case}: enumeration {expected:?} but engine {got:?}"),
        }
    }
    assert!(checked > 300, "only {checked} possible cases");
    assert!(
        impossible > 0,
        "the generator should produce some impossible evidence"
    );
}

#[test]
fn joint_posteriors_match_enumeration() {
    let mut rng = StdRng::seed_from_u64(7);
    for case in 0..150 {
        let n = rng.gen_range(3..=7);
        let net = common::random_network(&mut rng, n);
        let evidence = common::random_evidence(&mut rng, &net);
        let joint = common::enumerate(&net, &evidence);
        let pe: f64 = joint.iter().map(|(_, p)| p).sum();
        if pe == 0.0 {
            continue;
        }
        let a = rng.gen_range(0..n);
        let b = (a + 1 + rng.gen_range(0..n - 1)) % n;
        let f = VariableElimination::new(&net)
            .joint(&evidence, &[a, b])
            .unwrap();
        let cards = net.cardinalities();
        for sa in 0..cards[a] {
            for sb in 0..cards[b] {
                let expected: f64 = joint
                    .iter()
                    .filter(|(x, _)| x[a] == sa && x[b] == sb)
                    .map(|(_, p)| p / pe)
                    .sum();
                assert_abs_diff_eq!(f.get(&[sa, sb]), expected, epsilon = 1e-12);
            }
        }
        let _ = case;
    }
}

#[test]
fn reported_conflicts_are_impossible_and_minimal() {
    let mut rng = StdRng::seed_from_u64(99);
    let mut seen = 0;
    for _ in 0..3000 {
        let n = rng.gen_range(2..=6);
        let net = common::random_network(&mut rng, n);
        let evidence = common::random_evidence(&mut rng, &net);
        let Err(InferenceError::ImpossibleEvidence { conflict }) =
            VariableElimination::new(&net).ln_p_evidence(&evidence)
        else {
            continue;
        };
        seen += 1;
        // Rebuild the conflicting subset and check it by enumeration.
        let mut core = evidence.clone();
        for (v, _) in evidence.iter() {
            let id = net.variable(v).id();
            if !conflict
                .iter()
                .any(|c| c.starts_with(&format!("{id}=")) || c.starts_with(&format!("{id}!=")))
            {
                core.remove(v);
            }
        }
        assert_eq!(core.len(), conflict.len());
        assert_eq!(
            common::brute_force(&net, &core).0,
            0.0,
            "the conflict is impossible"
        );
        for (v, _) in core.iter() {
            let mut smaller = core.clone();
            smaller.remove(v);
            assert!(
                common::brute_force(&net, &smaller).0 > 0.0,
                "the conflict is minimal"
            );
        }
        if seen >= 40 {
            break;
        }
    }
    assert!(seen >= 10, "too few impossible cases generated ({seen})");
}

#[test]
fn junction_tree_matches_enumeration_and_reuses_its_workspace() {
    use radix::inference::JunctionTree;
    let mut rng = StdRng::seed_from_u64(424242);
    let mut checked = 0;
    for case in 0..300 {
        let n = rng.gen_range(2..=8);
        let net = common::random_network(&mut rng, n);
        let tree = JunctionTree::compile(&net).unwrap();
        let mut ws = tree.workspace();
        // Several queries through one workspace: nothing may leak from one to the next.
        for _ in 0..3 {
            let evidence = common::random_evidence(&mut rng, &net);
            let (pe, marginals) = common::brute_force(&net, &evidence);
            // The first query of a pattern runs on the tree without evidence; the second
            // compiles a tree for the pattern (checked below). Both must be exact.
            match (&marginals, tree.posteriors(&mut ws, &evidence)) {
                (Some(expected), Ok(got)) => {
                    assert_exact(&net, &evidence, pe, expected, &got, case)
                }
                (None, Err(InferenceError::ImpossibleEvidence { .. })) => {}
                (expected, got) => panic!("case {case}: enumeration {expected:?} but tree {got:?}"),
            }
            match (marginals, tree.posteriors(&mut ws, &evidence)) {
                (Some(expected), Ok(got)) => {
                    assert_exact(&net, &evidence, pe, &expected, &got, case);
                    // A targeted query (distributing only towards the targets) gives the same.
                    let targets: Vec<usize> =
                        (0..net.len()).filter(|_| rng.gen_bool(0.4)).collect();
                    let some = tree.posteriors_of(&mut ws, &evidence, &targets).unwrap();
                    assert!(
                        (some.ln_p_evidence - got.ln_p_evidence).abs()
                            <= 1e-12 * got.ln_p_evidence.abs().max(1.0)
                    );
                    for &v in &targets {
                        for (a, b) in some.marginal(v).unwrap().iter().zip(&expected[v]) {
                            assert_abs_diff_eq!(*a, *b, epsilon = 1e-12);
                        }
                    }
                    checked += 1;
                }
                (None, Err(InferenceError::ImpossibleEvidence { .. })) => {}
                (expected, got) => panic!("case {case}: enumeration {expected:?} but tree {got:?}"),
            }
        }
    }
    assert!(checked > 600, "only {checked} possible cases");
}

/// One pattern of observed variables queried again and again with other values: from its
/// second query the tree keeps its evidence-free collect pass and recomputes only what the
/// evidence changes (dividing the new messages by the kept ones), and every answer must still
/// be exact, whatever the values and whichever tree (with or without the observed variables)
/// answers.
#[test]
fn repeated_patterns_with_changing_values_stay_exact() {
    use radix::evidence::{Evidence, Observation};
    use radix::inference::JunctionTree;
    let mut rng = StdRng::seed_from_u64(97531);
    let mut checked = 0;
    for case in 0..150 {
        let n = rng.gen_range(3..=8);
        let net = common::random_network(&mut rng, n);
        let tree = JunctionTree::compile(&net).unwrap();
        let mut ws = tree.workspace();
        let observed: Vec<usize> = (0..n).filter(|_| rng.gen_bool(0.4)).collect();
        for _ in 0..6 {
            let mut evidence = Evidence::new();
            for &v in &observed {
                let card = net.variable(v).cardinality();
                // Mostly hard values (the pattern's tree), now and then a likelihood.
                let obs = if rng.gen_bool(0.8) {
                    Observation::Is(rng.gen_range(0..card))
                } else {
                    Observation::Likelihood((0..card).map(|_| rng.gen_range(0.0..2.0)).collect())
                };
                evidence.observe(&net, v, obs).unwrap();
            }
            let (pe, marginals) = common::brute_force(&net, &evidence);
            match (marginals, tree.posteriors(&mut ws, &evidence)) {
                (Some(expected), Ok(got)) => {
                    assert_exact(&net, &evidence, pe, &expected, &got, case);
                    checked += 1;
                }
                (None, Err(InferenceError::ImpossibleEvidence { .. })) => {}
                (expected, got) => panic!("case {case}: enumeration {expected:?} but tree {got:?}"),
            }
        }
    }
    assert!(checked > 500, "only {checked} possible cases");
}

/// With `reproducible`, an answer does not depend on the queries before it: the same evidence
/// queried on a fresh tree, and again after other queries on a tree that has seen them, gives
/// the same bits (and the answer is exact), with one pattern prepared (given a tree of its
/// own) on both. Without it, the second answer may come from another tree than the first.
#[test]
fn reproducible_answers_do_not_depend_on_history() {
    use radix::inference::{CompileOptions, JunctionTree};
    let options = CompileOptions {
        reproducible: true,
        ..CompileOptions::default()
    };
    let mut rng = StdRng::seed_from_u64(8642);
    let mut checked = 0;
    for case in 0..100 {
        let n = rng.gen_range(3..=8);
        let net = common::random_network(&mut rng, n);
        let queries: Vec<_> = (0..6)
            .map(|_| common::random_evidence(&mut rng, &net))
            .collect();
        let seasoned = JunctionTree::compile_with(&net, &options).unwrap();
        seasoned.prepare(&queries[0]).unwrap();
        let mut ws = seasoned.workspace();
        // Every query twice, in a shuffled order, through one workspace.
        for q in common::twice_shuffled(&mut rng, queries.len()) {
            let fresh = JunctionTree::compile_with(&net, &options).unwrap();
            fresh.prepare(&queries[0]).unwrap();
            let alone = fresh.posteriors(&mut fresh.workspace(), &queries[q]);
            let after = seasoned.posteriors(&mut ws, &queries[q]);
            match (alone, after) {
                (Ok(a), Ok(b)) => {
                    assert_eq!(a, b, "case {case}: the same bits");
                    let (pe, expected) = common::brute_force(&net, &queries[q]);
                    assert_exact(&net, &queries[q], pe, &expected.unwrap(), &b, case);
                    checked += 1;
                }
                (Err(a), Err(b)) => assert_eq!(a, b),
                (a, b) => panic!("case {case}: {a:?} then {b:?}"),
            }
        }
    }
    assert!(checked > 800, "only {checked} possible cases");
}

/// A base (a tree prepared for a few observed variables) answers every new pattern that
/// includes it, the other observations entered as indicators, exactly; patterns that do not
/// include it run on the tree without evidence. With `reproducible` the answers do not depend
/// on the queries before them; by default a pattern seen twice still gets a tree of its own.
#[test]
fn bases_answer_larger_patterns_exactly() {
    use radix::evidence::Observation;
    use radix::inference::{CompileOptions, JunctionTree};
    let mut rng = StdRng::seed_from_u64(24680);
    let (mut on_base, mut elsewhere, mut bases) = (0, 0, 0);
    for case in 0..60 {
        let reproducible = case % 2 == 0;
        let options = CompileOptions {
            reproducible,
            ..CompileOptions::default()
        };
        let n = rng.gen_range(5..=9);
        let net = common::random_network(&mut rng, n);
        let mut base_vars = vec![rng.gen_range(0..n)];
        if rng.gen_bool(0.5) {
            let other = rng.gen_range(0..n);
            if !base_vars.contains(&other) {
                base_vars.push(other);
            }
        }
        base_vars.sort();
        let tree = JunctionTree::compile_with(&net, &options).unwrap();
        let fresh_tree = || {
            let t = JunctionTree::compile_with(&net, &options).unwrap();
            t.prepare_base(&common::hard_evidence(
                &mut StdRng::seed_from_u64(1),
                &net,
                &base_vars,
            ))
            .unwrap();
            t
        };
        let (base_stats, is_base) = tree
            .prepare_base(&common::hard_evidence(&mut rng, &net, &base_vars))
            .unwrap();
        if !is_base {
            continue;
        }
        bases += 1;
        let mut ws = tree.workspace();
        for _ in 0..8 {
            // Random evidence, with the base's variables observed (hard) in most queries.
            let mut evidence = common::random_evidence(&mut rng, &net);
            let includes = rng.gen_bool(0.75);
            if includes {
                for &v in &base_vars {
                    evidence.remove(v);
                    let state = rng.gen_range(0..net.variable(v).cardinality());
                    evidence.observe(&net, v, Observation::Is(state)).unwrap();
                }
            }
            let pattern = tree.pattern(&evidence);
            let includes = base_vars.iter().all(|v| pattern.contains(v));
            if reproducible && pattern != base_vars {
                // The tree it runs on: the base exactly when its pattern includes the base.
                let stats = tree.stats_for(&evidence).unwrap();
                assert_eq!(stats == base_stats, includes, "case {case}: {pattern:?}");
            }
            let answer = tree.posteriors(&mut ws, &evidence);
            let (pe, expected) = common::brute_force(&net, &evidence);
            match (&answer, expected) {
                (Ok(got), Some(expected)) => {
                    assert_exact(&net, &evidence, pe, &expected, got, case);
                    if includes {
                        on_base += 1;
                    } else {
                        elsewhere += 1;
                    }
                }
                (Err(_), None) => {}
                (got, expected) => panic!("case {case}: {got:?}, expected {expected:?}"),
            }
            if reproducible {
                let fresh = fresh_tree();
                let alone = fresh.posteriors(&mut fresh.workspace(), &evidence);
                assert_eq!(alone, answer, "case {case}: the same bits");
            }
        }
    }
    assert!(
        bases >= 40,
        "only {bases} bases smaller than the tree without evidence"
    );
    assert!(
        on_base >= 150 && elsewhere >= 30,
        "{on_base} on bases, {elsewhere} elsewhere"
    );
}

/// A tree recompiled for other numbers on the same graph answers as a tree compiled afresh,
/// to the bit, whether it reuses the plan (the new tables 0 wherever the old ones are) or
/// compiles again (a number that was 0 no longer is), and exactly.
#[test]
fn recompiled_trees_answer_like_fresh_ones() {
    use radix::inference::JunctionTree;
    let mut rng = StdRng::seed_from_u64(13579);
    let (mut checked, mut zero_to_nonzero) = (0, 0);
    for case in 0..60 {
        let n = rng.gen_range(4..=8);
        let net = common::random_network(&mut rng, n);
        let tree = JunctionTree::compile(&net).unwrap();
        let params = net.parameters();
        for _ in 0..4 {
            // One or a few numbers moved: to 0 sometimes (zeros added), else anywhere in
            // (0, 1), which may make a 0 nonzero (the plan cannot serve then).
            let mut other = net.clone();
            for _ in 0..rng.gen_range(1..=3) {
                let which = params[rng.gen_range(0..params.len())];
                let value = if rng.gen_bool(0.2) {
                    0.0
                } else {
                    rng.gen_range(0.01..0.99)
                };
                let was_zero = other.parameter(which) == Some(0.0);
                if other.set_parameter(which, value).is_ok() && was_zero && value > 0.0 {
                    zero_to_nonzero += 1;
                }
            }
            let again = tree.recompile(&other).unwrap();
            let fresh = JunctionTree::compile(&other).unwrap();
            let (mut ws_again, mut ws_fresh) = (again.workspace(), fresh.workspace());
            for _ in 0..3 {
                let evidence = common::random_evidence(&mut rng, &other);
                let got = again.posteriors(&mut ws_again, &evidence);
                assert_eq!(
                    got,
                    fresh.posteriors(&mut ws_fresh, &evidence),
                    "case {case}: the same bits as a fresh tree"
                );
                match (got, common::brute_force(&other, &evidence)) {
                    (Ok(got), (pe, Some(expected))) => {
                        assert_exact(&other, &evidence, pe, &expected, &got, case);
                        checked += 1;
                    }
                    (Err(_), (_, None)) => {}
                    (got, (_, expected)) => panic!("case {case}: {got:?}, expected {expected:?}"),
                }
            }
        }
    }
    assert!(checked >= 400, "only {checked} answers checked");
    assert!(
        zero_to_nonzero >= 5,
        "only {zero_to_nonzero} zeros made nonzero"
    );
}

/// On a network whose trees skip entries that are 0 (bands, compression), a recompiled tree
/// must not keep a plan that skips an entry the new numbers make nonzero; added zeros keep it.
#[test]
fn recompiled_trees_follow_new_nonzeros() {
    use radix::evidence::Evidence;
    use radix::inference::JunctionTree;
    use radix::network::ParamRef;
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/bn/mildew.bif");
    let net = radix::format::load(path).unwrap();
    let tree = JunctionTree::compile(&net).unwrap();
    // Warm the tree with a query, so its kept passes exist and must not be carried over.
    tree.posteriors(&mut tree.workspace(), &Evidence::new())
        .unwrap();
    // The largest table: the zeros its bands skip.
    let big = (0..net.len())
        .max_by_key(|&v| net.cpd(v).factor().table().len())
        .unwrap();
    let params: Vec<ParamRef> = net
        .parameters()
        .into_iter()
        .filter(|p| p.variable() == big)
        .collect();
    let zero = *params
        .iter()
        .find(|&&p| net.parameter(p) == Some(0.0))
        .expect("a zero in the largest table");
    let nonzero = *params
        .iter()
        .find(|&&p| net.parameter(p).is_some_and(|x| x > 0.0 && x < 1.0))
        .expect("a number strictly between 0 and 1");
    for (which, value) in [(zero, 0.5), (nonzero, 0.0), (nonzero, 0.25)] {
        let other = net.with_parameter(which, value).unwrap();
        let again = tree.recompile(&other).unwrap();
        let fresh = JunctionTree::compile(&other).unwrap();
        let a = again.posteriors(&mut again.workspace(), &Evidence::new());
        let f = fresh.posteriors(&mut fresh.workspace(), &Evidence::new());
        assert_eq!(a, f, "{which:?} = {value}");
    }
}

/// With `reproducible` on a network whose trees compress, a prepared pattern's tree is
/// compressed before its first query and other patterns' trees never are, so an answer still
/// does not depend on the queries before it, and stays exact.
#[test]
fn reproducible_answers_on_compressed_trees() {
    use radix::inference::{CompileOptions, JunctionTree};
    let options = CompileOptions {
        reproducible: true,
        ..CompileOptions::default()
    };
    let mut rng = StdRng::seed_from_u64(97531);
    let (mut checked, mut compressed) = (0, 0);
    for case in 0..8 {
        let net = common::sparse_network(&mut rng);
        // Near the ends of the chain, so that the pattern's tree stays large enough to compress.
        let observed = [rng.gen_range(0..2), rng.gen_range(10..12)];
        let mut queries: Vec<_> = (0..4)
            .map(|_| common::hard_evidence(&mut rng, &net, &observed))
            .collect();
        queries.extend((0..2).map(|_| common::random_evidence(&mut rng, &net)));
        let seasoned = JunctionTree::compile_with(&net, &options).unwrap();
        seasoned.prepare(&queries[0]).unwrap();
        let mut ws = seasoned.workspace();
        let ve = VariableElimination::new(&net);
        let targets: Vec<usize> = (0..net.len()).collect();
        for q in common::twice_shuffled(&mut rng, queries.len()) {
            let fresh = JunctionTree::compile_with(&net, &options).unwrap();
            fresh.prepare(&queries[0]).unwrap();
            let alone = fresh.posteriors(&mut fresh.workspace(), &queries[q]);
            let after = seasoned.posteriors(&mut ws, &queries[q]);
            match (alone, after, ve.posteriors(&queries[q], &targets)) {
                (Ok(a), Ok(b), Ok(expected)) => {
                    assert_eq!(a, b, "case {case}: the same bits");
                    assert_matches(&queries[q], &expected, &b, &format!("case {case}"));
                    checked += 1;
                }
                (Err(a), Err(b), Err(_)) => assert_eq!(a, b),
                (a, b, c) => panic!("case {case}: {a:?} then {b:?}, elimination {c:?}"),
            }
        }
        let prepared = seasoned.stats_for(&queries[0]).unwrap();
        compressed += usize::from(prepared.swept_entries < prepared.total_entries);
    }
    assert!(checked >= 30, "only {checked} possible cases");
    assert!(
        compressed >= 6,
        "only {compressed} prepared trees compressed"
    );
}

/// Networks whose tables are mostly 0 along a clique's innermost variable are swept over the
/// bands where they can be nonzero only: on every tree (without evidence, a pattern's own, a
/// pattern queried again with other values, observed banded variables included) the answers
/// stay exact.
#[test]
fn banded_cliques_stay_exact() {
    use radix::inference::JunctionTree;
    let mut rng = StdRng::seed_from_u64(777);
    let (mut checked, mut banded) = (0, 0);
    for case in 0..12 {
        let net = common::banded_network(&mut rng);
        let tree = JunctionTree::compile(&net).unwrap();
        let stats = tree.stats();
        banded += usize::from(stats.swept_entries < stats.total_entries);
        let mut ws = tree.workspace();
        let observed: Vec<usize> = (0..net.len()).filter(|_| rng.gen_bool(0.3)).collect();
        for round in 0..4 {
            // A fixed pattern with new values (its own tree from the second query, then its
            // kept evidence-free pass), and every other round random evidence of all kinds.
            let evidence = if round % 2 == 0 {
                common::hard_evidence(&mut rng, &net, &observed)
            } else {
                common::random_evidence(&mut rng, &net)
            };
            let (pe, marginals) = common::brute_force(&net, &evidence);
            match (marginals, tree.posteriors(&mut ws, &evidence)) {
                (Some(expected), Ok(got)) => {
                    assert_exact(&net, &evidence, pe, &expected, &got, case);
                    let pattern = tree.stats_for(&evidence).unwrap();
                    banded += usize::from(pattern.swept_entries < pattern.total_entries);
                    checked += 1;
                }
                (None, Err(InferenceError::ImpossibleEvidence { .. })) => {}
                (expected, got) => panic!("case {case}: enumeration {expected:?} but tree {got:?}"),
            }
        }
    }
    assert!(checked >= 20, "only {checked} possible cases");
    assert!(banded >= 20, "only {banded} banded trees");
}

/// Trees whose cliques are mostly 0 whatever the evidence are compressed from a pattern's
/// second query on: their sweeps skip those entries, and their separators between compressed
/// cliques keep their possible states only. Every query of a pattern (the first, dense; the
/// second, which compresses; the later ones, on the kept pass) must agree with variable
/// elimination, for hard evidence and evidence of all kinds.
#[test]
fn compressed_cliques_stay_exact() {
    use radix::evidence::Observation;
    use radix::inference::JunctionTree;
    let mut rng = StdRng::seed_from_u64(4242);
    let (mut checked, mut compressed) = (0, 0);
    for case in 0..6 {
        let net = common::sparse_network(&mut rng);
        let tree = JunctionTree::compile(&net).unwrap();
        let ve = VariableElimination::new(&net);
        let targets: Vec<usize> = (0..net.len()).collect();
        let mut ws = tree.workspace();
        let observed: Vec<usize> = (0..2).map(|_| rng.gen_range(0..net.len())).collect();
        for round in 0..8 {
            let evidence = if round % 4 == 3 {
                common::random_evidence(&mut rng, &net)
            } else {
                let mut e = common::hard_evidence(&mut rng, &net, &observed);
                if round % 2 == 1 {
                    // Soft evidence on a variable left in the tree.
                    let v = rng.gen_range(0..net.len());
                    if !e.contains(v) {
                        let w = (0..7).map(|_| rng.gen_range(0.0..2.0)).collect();
                        e.observe(&net, v, Observation::Likelihood(w)).unwrap();
                    }
                }
                e
            };
            let expected = ve.posteriors(&evidence, &targets);
            let got = tree.posteriors(&mut ws, &evidence);
            match (expected, got) {
                (Ok(expected), Ok(got)) => {
                    let what = format!("case {case} round {round}");
                    assert_matches(&evidence, &expected, &got, &what);
                    let stats = tree.stats_for(&evidence).unwrap();
                    compressed += usize::from(stats.swept_entries < stats.total_entries);
                    checked += 1;
                }
                (Err(InferenceError::ImpossibleEvidence { .. }), Err(e)) => {
                    assert!(
                        matches!(e, InferenceError::ImpossibleEvidence { .. }),
                        "case {case} round {round}: {e}"
                    );
                }
                (expected, got) => panic!("case {case} round {round}: {expected:?} vs {got:?}"),
            }
        }
    }
    assert!(checked >= 20, "only {checked} possible cases");
    assert!(compressed >= 10, "only {compressed} compressed trees");
}

/// Asserts a tree's posteriors and P(evidence) equal variable elimination's (to 1e-12).
fn assert_matches(
    evidence: &radix::evidence::Evidence,
    expected: &radix::inference::Posteriors,
    got: &radix::inference::Posteriors,
    what: &str,
) {
    assert!(
        (got.ln_p_evidence - expected.ln_p_evidence).abs()
            <= 1e-12 * expected.ln_p_evidence.abs().max(1.0),
        "{what}: ln P(e) {} vs {}",
        got.ln_p_evidence,
        expected.ln_p_evidence
    );
    for (v, want) in expected.iter().filter(|(v, _)| !evidence.contains(*v)) {
        let have = got.marginal(v).unwrap();
        for (a, b) in have.iter().zip(want) {
            assert_abs_diff_eq!(*a, *b, epsilon = 1e-12);
        }
    }
}

/// Asserts a tree's posteriors and P(evidence) equal enumeration's.
fn assert_exact(
    net: &radix::network::Network,
    evidence: &radix::evidence::Evidence,
    pe: f64,
    expected: &[Vec<f64>],
    got: &radix::inference::Posteriors,
    case: usize,
) {
    assert!(
        (got.ln_p_evidence - pe.ln()).abs() <= 1e-12 * pe.ln().abs().max(1.0),
        "case {case}: ln P(e) {} vs {}",
        got.ln_p_evidence,
        pe.ln()
    );
    for v in (0..net.len()).filter(|&v| !evidence.contains(v)) {
        for (a, b) in got.marginal(v).unwrap().iter().zip(&expected[v]) {
            assert_abs_diff_eq!(*a, *b, epsilon = 1e-12);
        }
    }
}
