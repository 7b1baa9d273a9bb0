//! The most probable explanation of a case.
//!
//! Two exact questions, both "which joint assignment is most probable given the evidence":
//! - [`map`] / [`origins`] (maximum a posteriori over a few variables, by default the
//!   origins): the other unobserved variables are summed out, the chosen ones maximised. It
//!   reads the normalised joint posterior of the chosen variables from
//!   [`VariableElimination::joint`] and lists its entries best first, so it is limited to
//!   joints of at most [`MAX_JOINT_ENTRIES`] entries;
//! - [`mpe`] (most probable explanation of everything): every unobserved variable maximised,
//!   by max-product variable elimination with a min-fill order ([`order::plan`]) and a trace
//!   back through the tables of each elimination.
//!
//! Probabilities are conditional on the evidence: P(assignment | e).
//!
//! ```
//! use radix::analysis::mpe;
//! use radix::evidence::Evidence;
//! let net = radix::format::load("tests/data/asia.toml").unwrap();
//! let mut e = Evidence::new();
//! e.parse_assignment(&net, "dysp=yes").unwrap();
//! let ranked = mpe::origins(&net, &e, 3).unwrap();
//! assert_eq!(ranked.assignments.len(), 3);
//! assert!(ranked.assignments[0].probability >= ranked.assignments[1].probability);
//! let best = mpe::mpe(&net, &e).unwrap(); // every unobserved variable
//! assert!(best.probability > 0.0 && best.probability <= 1.0);
//! ```

use serde_json::{Map, Value, json};

use crate::evidence::Evidence;
use crate::factor::{Factor, VarId};
use crate::inference::{
    DEFAULT_MAX_TABLE_ENTRIES, Heuristic, InferenceError, VariableElimination, order,
};
use crate::network::{Network, Role};

/// The largest joint posterior [`map`] will enumerate: 2^22 entries.
pub const MAX_JOINT_ENTRIES: f64 = 4_194_304.0;

/// Why an explanation could not be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MpeError {
    /// Inference failed (impossible evidence, oversized elimination).
    #[error(transparent)]
    Inference(#[from] InferenceError),
    /// The joint over the unobserved chosen variables is too large to enumerate.
    #[error(
        "the joint posterior of the {variables} unobserved variables has {entries:.3e} entries, above the limit of {limit:.3e}; ask for fewer variables or use --all (max-product elimination)"
    )]
    TooManyCombinations {
        /// How many chosen variables are unobserved.
        variables: usize,
        /// The entries of their joint.
        entries: f64,
        /// The limit ([`MAX_JOINT_ENTRIES`]).
        limit: f64,
    },
    /// The network has no variable with the role `origin`.
    #[error(
        "the model has no variable with the role `origin`; use --all for the most probable assignment of every variable"
    )]
    NoOrigins,
}

/// One joint assignment and its posterior probability.
#[derive(Debug, Clone, PartialEq)]
pub struct Assignment {
    /// (variable, state index), in the order the variables were asked for.
    pub states: Vec<(VarId, usize)>,
    /// P(these states | evidence).
    pub probability: f64,
}

impl Assignment {
    /// `{"states": {var: state}, "probability": p}`.
    pub fn to_json(&self, network: &Network) -> Value {
        json!({
            "states": states_json(network, &self.states),
            "probability": self.probability,
        })
    }
}

/// The `k` most probable joint assignments of some variables, best first.
#[derive(Debug, Clone, PartialEq)]
pub struct Explanations {
    /// The variables explained, in request order.
    pub variables: Vec<VarId>,
    /// The best assignments, best first (ties in state order).
    pub assignments: Vec<Assignment>,
}

impl Explanations {
    /// `{"assignments": [{"states": {var: state}, "probability": p}, ...]}`, best first.
    pub fn to_json(&self, network: &Network) -> Value {
        json!({
            "assignments": self
                .assignments
                .iter()
                .map(|a| a.to_json(network))
                .collect::<Vec<_>>(),
        })
    }
}

/// The single most probable assignment of every unobserved variable.
#[derive(Debug, Clone, PartialEq)]
pub struct FullExplanation {
    /// (variable, state index) for every variable not fixed to one state by the evidence, in
    /// network order. Variables with likelihood (or non-binary negative) evidence are included.
    pub assignment: Vec<(VarId, usize)>,
    /// P(assignment | evidence).
    pub probability: f64,
}

impl FullExplanation {
    /// `{"assignment": {var: state}, "probability": p}`.
    pub fn to_json(&self, network: &Network) -> Value {
        json!({
            "assignment": states_json(network, &self.assignment),
            "probability": self.probability,
        })
    }
}

fn states_json(network: &Network, states: &[(VarId, usize)]) -> Value {
    let mut map = Map::new();
    for &(v, s) in states {
        let var = network.variable(v);
        map.insert(var.id().to_string(), json!(var.states()[s]));
    }
    Value::Object(map)
}

/// The `k` most probable joint assignments of the network's origins given the evidence
/// (MAP over the origins: every other unobserved variable summed out).
pub fn origins(network: &Network, evidence: &Evidence, k: usize) -> Result<Explanations, MpeError> {
    let vars: Vec<VarId> = network.with_role(Role::Origin).collect();
    if vars.is_empty() {
        return Err(MpeError::NoOrigins);
    }
    map(network, evidence, &vars, k)
}

/// The `k` most probable joint assignments of `vars` (distinct) given the evidence, best
/// first: exact MAP, every other unobserved variable summed out. Variables fixed to one state by
/// the evidence keep that state in every assignment.
pub fn map(
    network: &Network,
    evidence: &Evidence,
    vars: &[VarId],
    k: usize,
) -> Result<Explanations, MpeError> {
    let fixed: Vec<Option<usize>> = vars
        .iter()
        .map(|&v| evidence.certain_state(v, network.variable(v).cardinality()))
        .collect();
    let free: Vec<VarId> = vars
        .iter()
        .zip(&fixed)
        .filter(|(_, f)| f.is_none())
        .map(|(&v, _)| v)
        .collect();
    let entries: f64 = free
        .iter()
        .map(|&v| network.variable(v).cardinality() as f64)
        .product();
    if entries > MAX_JOINT_ENTRIES {
        return Err(MpeError::TooManyCombinations {
            variables: free.len(),
            entries,
            limit: MAX_JOINT_ENTRIES,
        });
    }
    let ve = VariableElimination::new(network);
    let joint = if free.is_empty() {
        // Still check the evidence: it may be impossible.
        ve.ln_p_evidence(evidence)?;
        Factor::unit()
    } else {
        ve.joint(evidence, &free)?
    };
    let cards = joint.cardinalities().to_vec();
    let values = joint.values();
    let mut ranked: Vec<usize> = (0..values.len()).collect();
    // Stable: ties keep row-major (state) order.
    ranked.sort_by(|&a, &b| values[b].total_cmp(&values[a]));
    ranked.truncate(k);
    let assignments = ranked
        .into_iter()
        .map(|index| {
            // Decode the row-major index (last variable fastest).
            let mut free_states = vec![0usize; cards.len()];
            let mut rest = index;
            for i in (0..cards.len()).rev() {
                free_states[i] = rest % cards[i];
                rest /= cards[i];
            }
            let mut next = free_states.into_iter();
            let states = vars
                .iter()
                .zip(&fixed)
                .map(|(&v, f)| (v, f.unwrap_or_else(|| next.next().expect("one per free"))))
                .collect();
            Assignment {
                states,
                probability: values[index],
            }
        })
        .collect();
    Ok(Explanations {
        variables: vars.to_vec(),
        assignments,
    })
}

/// The most probable assignment of every unobserved variable given the evidence (MPE), by
/// max-product elimination, refusing eliminations over [`DEFAULT_MAX_TABLE_ENTRIES`].
pub fn mpe(network: &Network, evidence: &Evidence) -> Result<FullExplanation, MpeError> {
    mpe_with_limit(network, evidence, DEFAULT_MAX_TABLE_ENTRIES)
}

/// [`mpe`] with another limit on the largest table.
pub fn mpe_with_limit(
    network: &Network,
    evidence: &Evidence,
    max_table_entries: f64,
) -> Result<FullExplanation, MpeError> {
    let ve = VariableElimination::new(network).with_max_table_entries(max_table_entries);
    let ln_pe = ve.ln_p_evidence(evidence)?;
    let cards = network.cardinalities();
    let n = network.len();
    // Enter the evidence: every observation as a weight vector, then fix the certain ones.
    let fixed: Vec<Option<usize>> = (0..n)
        .map(|v| evidence.certain_state(v, cards[v]))
        .collect();
    let mut factors: Vec<Factor> = Vec::with_capacity(n + evidence.len());
    for (v, &card) in cards.iter().enumerate() {
        factors.push(network.cpd(v).factor().clone());
        if let Some(w) = evidence.weights(v, card) {
            factors.push(Factor::unary(v, &w));
        }
    }
    for f in &mut factors {
        for &u in f.scope().to_vec().iter() {
            if let Some(s) = fixed[u] {
                *f = f.reduce(u, s);
            }
        }
    }
    let eliminate: Vec<VarId> = (0..n).filter(|&v| fixed[v].is_none()).collect();
    let scopes: Vec<&[VarId]> = factors.iter().map(Factor::scope).collect();
    let plan = order::plan(&scopes, &eliminate, &cards, Heuristic::MinFill);
    if plan.max_table > max_table_entries {
        return Err(InferenceError::TooLarge {
            entries: plan.max_table,
            gib: plan.max_table * 8.0 / f64::from(1u32 << 30),
            limit: max_table_entries,
        }
        .into());
    }
    // Max-product elimination, keeping each joined table to decode the argmax afterwards.
    let mut ln_scale = 0.0;
    let mut joined_tables: Vec<(VarId, Factor)> = Vec::with_capacity(plan.order.len());
    for &v in &plan.order {
        let (with, without): (Vec<Factor>, Vec<Factor>) =
            factors.into_iter().partition(|f| f.scope().contains(&v));
        factors = without;
        let joined = with.iter().fold(Factor::unit(), |acc, f| acc.product(f));
        let mut maxed = joined.max_out(v);
        ln_scale += maxed.rescale().ln();
        factors.push(maxed);
        joined_tables.push((v, joined));
    }
    let rest = factors.iter().fold(Factor::unit(), |acc, f| acc.product(f));
    let best = rest.total(); // a scalar: the scope is empty
    let probability = if best > 0.0 {
        (best.ln() + ln_scale - ln_pe).exp()
    } else {
        0.0
    };
    // Trace back: a joined table's other variables are all eliminated later, so decided.
    let mut state: Vec<Option<usize>> = fixed.clone();
    for (v, table) in joined_tables.iter().rev() {
        let axis = table
            .axis_of(*v)
            .expect("the variable is in its joined table");
        let mut index: Vec<usize> = table
            .scope()
            .iter()
            .map(|&u| {
                if u == *v {
                    0
                } else {
                    state[u].expect("decided")
                }
            })
            .collect();
        let mut best_state = 0;
        let mut best_value = f64::NEG_INFINITY;
        for s in 0..cards[*v] {
            index[axis] = s;
            let x = table.get(&index);
            if x > best_value {
                best_value = x;
                best_state = s;
            }
        }
        state[*v] = Some(best_state);
    }
    let assignment = (0..n)
        .filter(|&v| fixed[v].is_none())
        .map(|v| (v, state[v].expect("every unobserved variable decided")))
        .collect();
    Ok(FullExplanation {
        assignment,
        probability,
    })
}
