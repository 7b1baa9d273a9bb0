//! Exact inference: posteriors and the probability of the evidence.
//!
//! Two engines, which agree to rounding:
//! - [`JunctionTree`] compiles a network once and then answers each query (every posterior and
//!   P(evidence)) in two passes over flat buffers: the engine for repeated queries;
//! - [`VariableElimination`] answers one query at a time with no preparation, pruning what the
//!   query does not need: the engine for single targets, joints and step-by-step teaching.
//!
//! [`VariableElimination`] takes a validated [`Network`](crate::network::Network) and
//! [`Evidence`](crate::evidence::Evidence) and returns exact posteriors. It prunes barren and
//! d-separated variables per query ([`relevance`]), orders eliminations with a greedy
//! heuristic ([`order`]) and rescales every intermediate table, keeping the logarithm of the
//! scale, so that P(evidence) is exact in relative terms even when it is 1e-300.

pub mod jtree;
pub mod order;
pub mod relevance;
mod ve;

pub use jtree::{CohortTrees, CompileOptions, JunctionTree, TreeStats, Workspace};
pub use order::{EliminationPlan, Heuristic};
pub use ve::{DEFAULT_MAX_TABLE_ENTRIES, VariableElimination};

use crate::factor::VarId;

/// Why a query has no answer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InferenceError {
    /// The evidence has probability zero under the model.
    #[error("the evidence is impossible under the model (P(evidence) = 0): {} cannot all hold together; check for a data-entry error, or give the model a nonzero leak for these findings", conflict.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", "))]
    ImpossibleEvidence {
        /// A smallest set of observations that is impossible on its own, as `var=state`
        /// (or `var!=state`, `var=w1,w2`).
        conflict: Vec<String>,
    },
    /// Exact inference would need more table entries than allowed.
    #[error(
        "exact inference on this network would need {entries:.3e} table entries (about {gib:.2} GiB), above the limit of {limit:.3e}; raise --max-table-entries if the machine has the memory"
    )]
    TooLarge {
        /// The entries the plan needs (the largest table for elimination; all cliques for a
        /// junction tree).
        entries: f64,
        /// The memory that would take, in GiB.
        gib: f64,
        /// The configured limit.
        limit: f64,
    },
}

/// Posterior marginals and the probability of the evidence.
///
/// The distributions lie end to end in one buffer: a query allocates once, not once per
/// variable.
///
/// ```
/// use radix::inference::Posteriors;
/// let mut post = Posteriors::new(-1.5);
/// post.push(3, &[0.25, 0.75]);
/// post.push(0, &[1.0, 0.0, 0.0]);
/// assert_eq!(post.marginal(0), Some(&[1.0, 0.0, 0.0][..]));
/// assert_eq!(post.iter().map(|(v, _)| v).collect::<Vec<_>>(), vec![3, 0]);
/// assert_eq!(post.marginal(1), None);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Posteriors {
    /// ln P(evidence).
    pub ln_p_evidence: f64,
    /// Each requested variable, in request order, with where its distribution ends in
    /// `values` (it starts where the previous one ends).
    ends: Vec<(VarId, usize)>,
    values: Vec<f64>,
}

impl Posteriors {
    /// No marginals yet.
    pub fn new(ln_p_evidence: f64) -> Self {
        Posteriors {
            ln_p_evidence,
            ends: Vec::new(),
            values: Vec::new(),
        }
    }

    /// Room for `vars` marginals of `values` entries in all.
    pub fn with_capacity(ln_p_evidence: f64, vars: usize, values: usize) -> Self {
        Posteriors {
            ln_p_evidence,
            ends: Vec::with_capacity(vars),
            values: Vec::with_capacity(values),
        }
    }

    /// Appends the posterior distribution of a variable.
    pub fn push(&mut self, var: VarId, distribution: &[f64]) {
        self.push_with(var, distribution.iter().copied());
    }

    /// Appends the posterior distribution of a variable, entry by entry.
    pub fn push_with(&mut self, var: VarId, distribution: impl IntoIterator<Item = f64>) {
        self.values.extend(distribution);
        self.ends.push((var, self.values.len()));
    }

    /// P(evidence) (may underflow to 0 for very unlikely evidence; see [`Self::log10_p_evidence`]).
    pub fn p_evidence(&self) -> f64 {
        self.ln_p_evidence.exp()
    }

    /// log10 P(evidence).
    pub fn log10_p_evidence(&self) -> f64 {
        self.ln_p_evidence / std::f64::consts::LN_10
    }

    /// The number of marginals.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Each variable with its posterior distribution, in request order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (VarId, &[f64])> + '_ {
        self.ends.iter().enumerate().map(|(i, &(v, end))| {
            let start = if i == 0 { 0 } else { self.ends[i - 1].1 };
            (v, &self.values[start..end])
        })
    }

    /// The posterior of one variable, if it was requested.
    pub fn marginal(&self, var: VarId) -> Option<&[f64]> {
        self.iter().find(|&(v, _)| v == var).map(|(_, p)| p)
    }
}
