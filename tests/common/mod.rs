//! Helpers shared by the integration tests: random networks and brute-force enumeration.
#![allow(dead_code)]

use radix::evidence::{Evidence, Observation};
use radix::network::{CauseSpec, CpdSpec, Network, NetworkBuilder, Role, RowSpec, VariableSpec};
use rand::Rng;
use rand::rngs::StdRng;

/// A random DAG of `n` variables with 2-4 states, up to 3 parents each, random tables (some
/// entries exactly zero) and some noisy-ORs on binary variables.
pub fn random_network(rng: &mut StdRng, n: usize) -> Network {
    let mut b = NetworkBuilder::new("random");
    let mut cards = Vec::with_capacity(n);
    for v in 0..n {
        let card = rng.gen_range(2..=4usize);
        cards.push(card);
        let states: Vec<String> = (0..card).map(|s| format!("s{s}")).collect();
        let states: Vec<&str> = states.iter().map(String::as_str).collect();
        let id = format!("v{v}");
        let spec = VariableSpec::new(&id, &id, Role::Other, &states);
        let max_parents = v.min(3);
        let k = rng.gen_range(0..=max_parents);
        let mut parents: Vec<usize> = Vec::new();
        while parents.len() < k {
            let p = rng.gen_range(0..v);
            if !parents.contains(&p) {
                parents.push(p);
            }
        }
        let cpd = if card == 2 && !parents.is_empty() && rng.gen_bool(0.3) {
            let causes = parents
                .iter()
                .map(|&p| {
                    let mut c = CauseSpec::new(&format!("v{p}"), rng.gen_range(0.0..1.0));
                    c.state = Some(format!("s{}", rng.gen_range(0..cards[p])));
                    c
                })
                .collect();
            CpdSpec::noisy_or(rng.gen_range(0.0..0.3), causes, "random")
        } else {
            let configs: usize = parents.iter().map(|&p| cards[p]).product();
            let mut rows = Vec::with_capacity(configs);
            for c in 0..configs {
                let mut rest = c;
                let mut when = vec![String::new(); parents.len()];
                for i in (0..parents.len()).rev() {
                    when[i] = format!("s{}", rest % cards[parents[i]]);
                    rest /= cards[parents[i]];
                }
                let mut p: Vec<f64> = (0..card)
                    .map(|_| {
                        if rng.gen_bool(0.15) {
                            0.0
                        } else {
                            rng.gen_range(0.01..1.0)
                        }
                    })
                    .collect();
                if p.iter().all(|x| *x == 0.0) {
                    p[0] = 1.0;
                }
                let s: f64 = p.iter().sum();
                p.iter_mut().for_each(|x| *x /= s);
                rows.push(RowSpec {
                    when,
                    p,
                    source: None,
                });
            }
            CpdSpec::Table {
                parents: parents.iter().map(|p| format!("v{p}")).collect(),
                rows,
                source: Some("random".into()),
            }
        };
        b.variable(spec, cpd);
    }
    b.build().expect("random network is valid")
}

/// A network of variables `{prefix}0`, `{prefix}1`, ... of `card` states each with the given
/// parents, whose table rows come from `row(parents' states)`, normalised.
fn table_network(
    name: &str,
    prefix: &str,
    card: usize,
    families: &[Vec<usize>],
    mut row: impl FnMut(&[usize]) -> Vec<f64>,
) -> Network {
    let mut b = NetworkBuilder::new(name);
    let states: Vec<String> = (0..card).map(|s| format!("s{s}")).collect();
    let states: Vec<&str> = states.iter().map(String::as_str).collect();
    for (v, parents) in families.iter().enumerate() {
        let id = format!("{prefix}{v}");
        let spec = VariableSpec::new(&id, &id, Role::Other, &states);
        let configs = card.pow(parents.len() as u32);
        let mut rows = Vec::with_capacity(configs);
        for c in 0..configs {
            let mut rest = c;
            let mut at = vec![0; parents.len()];
            for i in (0..parents.len()).rev() {
                at[i] = rest % card;
                rest /= card;
            }
            let mut p = row(&at);
            let total: f64 = p.iter().sum();
            p.iter_mut().for_each(|x| *x /= total);
            rows.push(RowSpec {
                when: at.iter().map(|s| format!("s{s}")).collect(),
                p,
                source: None,
            });
        }
        let cpd = CpdSpec::Table {
            parents: parents.iter().map(|p| format!("{prefix}{p}")).collect(),
            rows,
            source: Some("random".into()),
        };
        b.variable(spec, cpd);
    }
    b.build().expect("the test network is valid")
}

/// A chain of 12 variables of 7 states, each with the three before it as parents, whose
/// tables put mass on a few random states of each row (a third of the entries are nonzero):
/// most entries of its cliques are 0 whatever the evidence, so its junction trees compress.
pub fn sparse_network(rng: &mut StdRng) -> Network {
    const CARD: usize = 7;
    let families: Vec<Vec<usize>> = (0..12usize)
        .map(|v| (v.saturating_sub(3)..v).collect())
        .collect();
    table_network("sparse", "z", CARD, &families, |_| {
        let mut p: Vec<f64> = (0..CARD)
            .map(|_| match rng.gen_bool(0.33) {
                true => rng.gen_range(0.05..1.0),
                false => 0.0,
            })
            .collect();
        if p.iter().all(|x| *x == 0.0) {
            p[rng.gen_range(0..CARD)] = 1.0;
        }
        p
    })
}

/// A random network of 6 variables with 8 states whose tables are banded: roots `b0`-`b2`,
/// `b3 | b0 b1 b2`, `b4 | b1 b2 b3`, `b5 | b3 b4`, each child nonzero only on a few states
/// around its parents' mean (like a quantity that can only move a little from one time step to
/// the next). Its cliques of 4 variables hold 4,096 entries, mostly 0: banded sweeps.
pub fn banded_network(rng: &mut StdRng) -> Network {
    const CARD: usize = 8;
    let families = [
        vec![],
        vec![],
        vec![],
        vec![0, 1, 2],
        vec![1, 2, 3],
        vec![3, 4],
    ];
    table_network("banded", "b", CARD, &families, |parents| {
        let (centre, width) = match parents.len() {
            0 => (CARD / 2, CARD),
            n => (parents.iter().sum::<usize>() / n, rng.gen_range(1..=3)),
        };
        let lo = centre.saturating_sub(width / 2);
        let mut p: Vec<f64> = (0..CARD)
            .map(|s| {
                if s >= lo && s < lo + width && rng.gen_bool(0.9) {
                    rng.gen_range(0.05..1.0)
                } else {
                    0.0
                }
            })
            .collect();
        if p.iter().all(|x| *x == 0.0) {
            p[centre.min(CARD - 1)] = 1.0;
        }
        p
    })
}

/// Hard evidence on the given variables, each at a random state.
pub fn hard_evidence(rng: &mut StdRng, net: &Network, vars: &[usize]) -> Evidence {
    let mut e = Evidence::new();
    for &v in vars {
        let state = rng.gen_range(0..net.variable(v).cardinality());
        e.observe(net, v, Observation::Is(state)).unwrap();
    }
    e
}

/// Random evidence of all three kinds on about a third of the variables.
pub fn random_evidence(rng: &mut StdRng, net: &Network) -> Evidence {
    let mut e = Evidence::new();
    for v in 0..net.len() {
        if !rng.gen_bool(0.35) {
            continue;
        }
        let card = net.variable(v).cardinality();
        let obs = match rng.gen_range(0..3) {
            0 => Observation::Is(rng.gen_range(0..card)),
            1 => Observation::IsNot(rng.gen_range(0..card)),
            _ => Observation::Likelihood((0..card).map(|_| rng.gen_range(0.0..2.0)).collect()),
        };
        e.observe(net, v, obs).unwrap();
    }
    e
}

/// The unnormalised joint weight of every full assignment (with evidence weights applied),
/// by enumeration.
pub fn enumerate(net: &Network, evidence: &Evidence) -> Vec<(Vec<usize>, f64)> {
    let cards = net.cardinalities();
    let total: usize = cards.iter().product();
    let weights: Vec<Option<Vec<f64>>> = (0..net.len())
        .map(|v| evidence.weights(v, cards[v]))
        .collect();
    let mut out = Vec::with_capacity(total);
    let mut x = vec![0usize; net.len()];
    for _ in 0..total {
        let mut p = 1.0;
        for v in 0..net.len() {
            let f = net.cpd(v).factor();
            let idx: Vec<usize> = f.scope().iter().map(|&u| x[u]).collect();
            p *= f.get(&idx);
            if let Some(w) = &weights[v] {
                p *= w[x[v]];
            }
        }
        out.push((x.clone(), p));
        // Next assignment (last variable fastest).
        for v in (0..net.len()).rev() {
            x[v] += 1;
            if x[v] < cards[v] {
                break;
            }
            x[v] = 0;
        }
    }
    out
}

/// P(evidence) and every variable's posterior by enumeration (None when P(e) = 0).
pub fn brute_force(net: &Network, evidence: &Evidence) -> (f64, Option<Vec<Vec<f64>>>) {
    let cards = net.cardinalities();
    let joint = enumerate(net, evidence);
    let pe: f64 = joint.iter().map(|(_, p)| p).sum();
    if pe == 0.0 {
        return (0.0, None);
    }
    let mut marg: Vec<Vec<f64>> = cards.iter().map(|&c| vec![0.0; c]).collect();
    for (x, p) in &joint {
        for v in 0..net.len() {
            marg[v][x[v]] += p / pe;
        }
    }
    (pe, Some(marg))
}

/// Each of `n` indices twice, shuffled (Fisher-Yates): the order in which a test asks its
/// queries, each once on a fresh tree and once after others.
pub fn twice_shuffled(rng: &mut StdRng, n: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).chain(0..n).collect();
    for i in (1..order.len()).rev() {
        order.swap(i, rng.gen_range(0..=i));
    }
    order
}
