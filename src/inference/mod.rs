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

pub use jtree::{CompileOptions, JunctionTree, TreeStats, Workspace};
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
#[derive(Debug, Clone, PartialEq)]
pub struct Posteriors {
    /// ln P(evidence).
    pub ln_p_evidence: f64,
    /// The posterior distribution of each requested variable, in request order.
    pub marginals: Vec<(VarId, Vec<f64>)>,
}

impl Posteriors {
    /// P(evidence) (may underflow to 0 for very unlikely evidence; see [`Self::log10_p_evidence`]).
    pub fn p_evidence(&self) -> f64 {
        self.ln_p_evidence.exp()
    }
    /// log10 P(evidence).
    pub fn log10_p_evidence(&self) -> f64 {
        self.ln_p_evidence / std::f64::consts::LN_10
    }
    /// The posterior of one variable, if it was requested.
    pub fn marginal(&self, var: VarId) -> Option<&[f64]> {
        self.marginals
            .iter()
            .find(|(v, _)| *v == var)
            .map(|(_, p)| p.as_slice())
    }
}
