//! Which parts of the network a query needs.
//!
//! Two prunings, both exact:
//! - **barren nodes**: a variable that is neither queried nor observed and has no queried or
//!   observed descendant sums out to 1 and can be dropped with its table; what is left is the
//!   ancestral set of the query and the evidence;
//! - **d-separation** (Shachter's Bayes-ball, 1998): of that, only the tables of the "requisite"
//!   variables affect P(query | evidence). Observations behind an observed variable, and whole
//!   branches the query cannot see given the evidence, are dropped.
//!
//! Likelihood (soft) evidence on a variable is treated as an observed virtual child of it.

use crate::factor::VarId;
use crate::network::Network;

/// The result of a Bayes-ball pass.
#[derive(Debug, Clone, PartialEq)]
pub struct Requisite {
    /// Variables whose conditional tables are needed.
    pub tables: Vec<bool>,
    /// Soft-evidence variables whose likelihood vectors are needed.
    pub likelihoods: Vec<bool>,
}

/// Runs Bayes-ball from the query variables.
///
/// `hard[v]` marks variables fixed to one state; `soft[v]` marks variables with a likelihood
/// vector (not fixed). Query variables must not be hard-observed.
pub fn requisite(network: &Network, query: &[VarId], hard: &[bool], soft: &[bool]) -> Requisite {
    let n = network.len();
    let mut top = vec![false; n];
    let mut bottom = vec![false; n];
    let mut likelihoods = vec![false; n];
    // (variable, arrived from a child?)
    let mut schedule: Vec<(VarId, bool)> = query.iter().map(|&q| (q, true)).collect();
    while let Some((j, from_child)) = schedule.pop() {
        if hard[j] {
            // An observed variable passes a ball from a parent back up to its parents and blocks
            // one from a child.
            if !from_child && !top[j] {
                top[j] = true;
                schedule.extend(network.parents(j).iter().map(|&p| (p, true)));
            }
            continue;
        }
        if from_child && !top[j] {
            top[j] = true;
            schedule.extend(network.parents(j).iter().map(|&p| (p, true)));
        }
        if !bottom[j] {
            bottom[j] = true;
            schedule.extend(network.children(j).iter().map(|&c| (c, false)));
            if soft[j] {
                // The virtual observed child receives the ball and bounces it back to `j`.
                likelihoods[j] = true;
                schedule.push((j, true));
            }
        }
    }
    Requisite {
        tables: top,
        likelihoods,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::*;

    /// a -> b -> c, a -> d
    fn chain() -> Network {
        let mut b = NetworkBuilder::new("t");
        let bin = |id: &str| VariableSpec::new(id, id, Role::Other, &["y", "n"]);
        b.variable(bin("a"), CpdSpec::root(vec![0.5, 0.5], "x"));
        b.variable(
            bin("b"),
            CpdSpec::noisy_or(0.1, vec![CauseSpec::new("a", 0.5)], "x"),
        );
        b.variable(
            bin("c"),
            CpdSpec::noisy_or(0.1, vec![CauseSpec::new("b", 0.5)], "x"),
        );
        b.variable(
            bin("d"),
            CpdSpec::noisy_or(0.1, vec![CauseSpec::new("a", 0.5)], "x"),
        );
        b.build().unwrap()
    }

    #[test]
    fn observed_middle_blocks_the_chain() {
        let net = chain();
        let hard = [false, true, false, false];
        let r = requisite(&net, &[2], &hard, &[false; 4]);
        // P(c | b) needs only c's table (b is observed, its own table is not needed).
        assert_eq!(r.tables, vec![false, false, true, false]);
    }

    #[test]
    fn evidence_below_is_needed() {
        let net = chain();
        let hard = [false, false, true, false];
        let r = requisite(&net, &[0], &hard, &[false; 4]);
        // P(a | c) needs a, b and c; d is barren.
        assert_eq!(r.tables, vec![true, true, true, false]);
    }

    #[test]
    fn soft_evidence_is_a_virtual_child() {
        let net = chain();
        let soft = [false, false, false, true];
        let r = requisite(&net, &[2], &[false; 4], &soft);
        assert!(r.likelihoods[3]);
        assert!(r.tables[3] && r.tables[0]);
    }
}
