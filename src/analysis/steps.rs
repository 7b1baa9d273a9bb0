//! Variable elimination written out step by step, for teaching.
//!
//! [`trace`] answers P(query | evidence) with the real engine
//! ([`VariableElimination::joint_with_steps`]) and records what it did: which variables it
//! pruned and why ([`relevance`]), the evidence it entered, the elimination order and its
//! heuristic, each elimination (the factors multiplied and the factor created) and the final
//! normalisation. The posterior in the trace is the engine's own answer, not a re-computation.
//!
//! ```
//! use radix::analysis::steps::{self, PruneReason};
//! use radix::evidence::Evidence;
//! let net = radix::format::load("tests/data/asia.toml").unwrap();
//! let mut e = Evidence::new();
//! e.parse_assignment(&net, "xray=yes").unwrap();
//! let trace = steps::trace(&net, &e, net.lookup("lung").unwrap()).unwrap();
//! let bronc = net.id_of("bronc").unwrap();
//! assert!(trace.pruned.contains(&(bronc, PruneReason::Barren)));
//! for line in trace.to_text(&net) {
//!     println!("{line}"); // "4. eliminate asia: multiply φ(asia) × φ(tub | asia) ..."
//! }
//! ```

use serde_json::{Map, Value, json};

use crate::evidence::{Evidence, Observation};
use crate::factor::{Factor, VarId};
use crate::inference::{Heuristic, InferenceError, VariableElimination, relevance};
use crate::network::Network;

/// Why a variable's table took no part in the elimination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PruneReason {
    /// Barren: neither an ancestor of the query nor of the evidence; it sums out to 1.
    Barren,
    /// D-separated: an ancestor of the query or the evidence, but not requisite by Bayes-ball
    /// given the evidence; its table cannot change P(query | evidence).
    DSeparated,
}

impl PruneReason {
    /// `barren` or `d-separated`.
    pub fn as_str(self) -> &'static str {
        match self {
            PruneReason::Barren => "barren",
            PruneReason::DSeparated => "d-separated",
        }
    }

    /// A sentence a student can read.
    pub fn explanation(self) -> &'static str {
        match self {
            PruneReason::Barren => {
                "barren: not an ancestor of the query or the evidence, its table sums out to 1"
            }
            PruneReason::DSeparated => {
                "d-separated: not requisite given the evidence (Bayes-ball), its table cannot change the answer"
            }
        }
    }
}

/// How one observation entered the computation.
#[derive(Debug, Clone, PartialEq)]
pub struct EnteredEvidence {
    /// The observed variable.
    pub variable: VarId,
    /// The observation as text (`state`, `!=state` or `w1,w2,...`).
    pub observed: String,
    /// `Some(state)` when it fixes the variable to one state (its axis is cut out of every
    /// table, "reduced"); `None` for a likelihood multiplied in as a factor over the variable.
    pub fixed: Option<usize>,
}

/// A factor as it took part in a step.
#[derive(Debug, Clone, PartialEq)]
pub struct FactorRef {
    /// Its variables, one per axis.
    pub scope: Vec<VarId>,
    /// `Some(n)` when it was created by step `n` (0-based); `None` for a conditional table (or
    /// a likelihood) with the evidence entered.
    pub created_by: Option<usize>,
    /// For a factor of the model (not created): the variable whose conditional table it is
    /// (or whose likelihood vector, see `likelihood`). `None` for a created factor.
    pub table_of: Option<VarId>,
    /// True for a likelihood (soft evidence) vector.
    pub likelihood: bool,
}

/// One elimination.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// The variable summed out.
    pub eliminate: VarId,
    /// The factors that mention it, multiplied together.
    pub factors: Vec<FactorRef>,
    /// The scope of the factor created (the product with `eliminate` summed out).
    pub result: Vec<VarId>,
    /// Its number of entries.
    pub entries: usize,
}

/// Everything the engine did to answer P(query | evidence).
#[derive(Debug, Clone, PartialEq)]
pub struct Trace {
    /// The query variable.
    pub query: VarId,
    /// The evidence, as entered.
    pub evidence: Vec<EnteredEvidence>,
    /// The variables whose tables were dropped, with the reason, in network order.
    pub pruned: Vec<(VarId, PruneReason)>,
    /// The heuristic that chose the order.
    pub heuristic: Heuristic,
    /// The elimination order (the variable of each step).
    pub order: Vec<VarId>,
    /// The eliminations, in order.
    pub steps: Vec<Step>,
    /// The factors left after the last elimination, multiplied into the result.
    pub remaining: Vec<FactorRef>,
    /// The unnormalised result over the query's states: the product of the remaining factors
    /// (proportional to P(query, evidence); equal to it when nothing observed was pruned).
    pub unnormalised: Vec<f64>,
    /// P(query | evidence), equal to [`VariableElimination::posterior`].
    pub posterior: Vec<f64>,
}

/// Answers P(query | evidence) with the variable-elimination engine (default heuristic) and
/// records every step.
pub fn trace(
    network: &Network,
    evidence: &Evidence,
    query: VarId,
) -> Result<Trace, InferenceError> {
    let ve = VariableElimination::new(network);
    let cards = network.cardinalities();
    let n = network.len();
    let fixed: Vec<Option<usize>> = (0..n)
        .map(|v| evidence.certain_state(v, cards[v]))
        .collect();
    let entered: Vec<EnteredEvidence> = evidence
        .iter()
        .map(|(v, obs)| {
            let what = evidence.describe(network, v).unwrap_or_default();
            EnteredEvidence {
                variable: v,
                observed: match obs {
                    Observation::Likelihood(_) => format!("[{what}]"),
                    _ => what,
                },
                fixed: fixed[v],
            }
        })
        .collect();

    // The pruning the engine applies (the same function, same inputs).
    let hard: Vec<bool> = fixed.iter().map(Option::is_some).collect();
    let soft: Vec<bool> = (0..n)
        .map(|v| evidence.contains(v) && fixed[v].is_none())
        .collect();
    let free: Vec<VarId> = if hard[query] { vec![] } else { vec![query] };
    let req = relevance::requisite(network, &free, &hard, &soft);
    let ancestral =
        network.ancestral_set(std::iter::once(query).chain(evidence.iter().map(|(v, _)| v)));
    let pruned: Vec<(VarId, PruneReason)> = (0..n)
        .filter(|&v| !req.tables[v])
        .map(|v| {
            let reason = if ancestral[v] {
                PruneReason::DSeparated
            } else {
                PruneReason::Barren
            };
            (v, reason)
        })
        .collect();

    // The factors the engine starts from, to name them in the trace: each requisite table
    // with the fixed variables cut out (as the engine does), and the needed likelihoods.
    let mut originals: Vec<(Factor, VarId, bool)> = Vec::new();
    for v in (0..n).filter(|&v| req.tables[v]) {
        let mut f = network.cpd(v).factor().clone();
        for &u in network.cpd(v).factor().scope() {
            if let Some(s) = fixed[u] {
                f = f.reduce(u, s);
            }
        }
        originals.push((f, v, false));
        if req.likelihoods[v] {
            if let Some(w) = evidence.weights(v, cards[v]) {
                originals.push((Factor::unary(v, &w), v, true));
            }
        }
    }

    // The elimination itself, recorded through the engine's hook.
    let mut created: Vec<Factor> = Vec::new();
    let mut steps: Vec<Step> = Vec::new();
    let mut remaining: Vec<FactorRef> = Vec::new();
    let mut unnormalised: Vec<f64> = Vec::new();
    let posterior = {
        let mut on_step = |var: Option<VarId>, inputs: &[Factor], out: &Factor, ln_scale: f64| {
            let refs: Vec<FactorRef> = inputs
                .iter()
                .map(|f| {
                    let created_by = created.iter().position(|c| c == f);
                    let original = match created_by {
                        Some(_) => None,
                        None => originals.iter().find(|(o, _, _)| o == f),
                    };
                    FactorRef {
                        scope: f.scope().to_vec(),
                        created_by,
                        table_of: original.map(|o| o.1),
                        likelihood: original.is_some_and(|o| o.2),
                    }
                })
                .collect();
            match var {
                Some(v) => {
                    steps.push(Step {
                        eliminate: v,
                        factors: refs,
                        result: out.scope().to_vec(),
                        entries: out.len(),
                    });
                    created.push(out.clone());
                }
                None => {
                    remaining = refs;
                    let scale = ln_scale.exp();
                    unnormalised = out.values().iter().map(|x| x * scale).collect();
                }
            }
        };
        ve.joint_with_steps(evidence, &[query], &mut on_step)?
            .values()
    };
    if hard[query] {
        unnormalised = posterior.clone();
    }
    Ok(Trace {
        query,
        evidence: entered,
        pruned,
        heuristic: ve.heuristic(),
        order: steps.iter().map(|s| s.eliminate).collect(),
        steps,
        remaining,
        unnormalised,
        posterior,
    })
}

/// The name of a heuristic as the documentation writes it.
pub fn heuristic_name(h: Heuristic) -> &'static str {
    match h {
        Heuristic::MinFill => "min-fill",
        Heuristic::WeightedMinFill => "weighted min-fill",
        Heuristic::MinWeight => "min-weight",
        Heuristic::MinDegree => "min-degree",
    }
}

impl Trace {
    /// Renders a factor for a student: `ψ3(a, b)` for the one created by step 3,
    /// `φ(child | parents)` for a conditional table (fixed variables written `var=state`),
    /// `λ(var)` for a likelihood vector.
    pub fn factor_name(&self, network: &Network, f: &FactorRef) -> String {
        let id = |v: VarId| network.variable(v).id().to_string();
        let with_state = |v: VarId| match self.evidence.iter().find(|e| e.variable == v) {
            Some(EnteredEvidence { fixed: Some(s), .. }) => {
                format!("{}={}", id(v), network.variable(v).states()[*s])
            }
            _ => id(v),
        };
        let all: Vec<String> = f.scope.iter().map(|&v| id(v)).collect();
        if let Some(step) = f.created_by {
            return format!("ψ{}({})", step + 1, all.join(", "));
        }
        match f.table_of {
            Some(v) if f.likelihood => format!("λ({})", id(v)),
            Some(v) => {
                let parents: Vec<String> =
                    network.parents(v).iter().map(|&p| with_state(p)).collect();
                if parents.is_empty() {
                    format!("φ({})", with_state(v))
                } else {
                    format!("φ({} | {})", with_state(v), parents.join(", "))
                }
            }
            None => format!("φ({})", all.join(", ")),
        }
    }

    /// The numbered steps as lines of text.
    pub fn to_text(&self, network: &Network) -> Vec<String> {
        let name = |v: VarId| network.variable(v).id().to_string();
        let query = network.variable(self.query);
        let mut out = Vec::new();
        let mut n = 0;
        let mut num = || {
            n += 1;
            n
        };
        out.push(format!("Query: P({} | evidence)", query.id()));
        if self.evidence.is_empty() {
            out.push(format!("{}. evidence: none", num()));
        } else {
            let items: Vec<String> = self
                .evidence
                .iter()
                .map(|e| {
                    let how = if e.fixed.is_some() {
                        "fixed: its axis is cut out of every table"
                    } else {
                        "likelihood: multiplied in as a factor"
                    };
                    format!("{}={} ({how})", name(e.variable), e.observed)
                })
                .collect();
            out.push(format!(
                "{}. enter the evidence: {}",
                num(),
                items.join("; ")
            ));
        }
        if self.pruned.is_empty() {
            out.push(format!("{}. prune: nothing (every table is needed)", num()));
        } else {
            out.push(format!(
                "{}. prune the tables that cannot change the answer:",
                num()
            ));
            for (v, reason) in &self.pruned {
                let observed = if self.evidence.iter().any(|e| e.variable == *v) {
                    " (it is observed: its own table would only scale the result)"
                } else {
                    ""
                };
                out.push(format!(
                    "     - {}: {}{observed}",
                    name(*v),
                    reason.explanation()
                ));
            }
        }
        let order: Vec<String> = self.order.iter().map(|&v| name(v)).collect();
        out.push(format!(
            "{}. elimination order ({}): {}",
            num(),
            heuristic_name(self.heuristic),
            if order.is_empty() {
                "nothing to eliminate".to_string()
            } else {
                order.join(", ")
            }
        ));
        for (i, s) in self.steps.iter().enumerate() {
            let factors: Vec<String> = s
                .factors
                .iter()
                .map(|f| self.factor_name(network, f))
                .collect();
            let result = self.factor_name(
                network,
                &FactorRef {
                    scope: s.result.clone(),
                    created_by: Some(i),
                    table_of: None,
                    likelihood: false,
                },
            );
            out.push(format!(
                "{}. eliminate {}: multiply {} and sum out {} → {} [{} entries]",
                num(),
                name(s.eliminate),
                factors.join(" × "),
                name(s.eliminate),
                result,
                s.entries
            ));
        }
        let states = query.states();
        let unnorm: Vec<String> = states
            .iter()
            .zip(&self.unnormalised)
            .map(|(s, x)| format!("{s}: {x:.6e}"))
            .collect();
        let remaining: Vec<String> = self
            .remaining
            .iter()
            .map(|f| self.factor_name(network, f))
            .collect();
        if !remaining.is_empty() {
            out.push(format!(
                "{}. multiply what is left: {} → unnormalised {}",
                num(),
                remaining.join(" × "),
                unnorm.join(", ")
            ));
        }
        let total: f64 = self.unnormalised.iter().sum();
        let post: Vec<String> = states
            .iter()
            .zip(&self.posterior)
            .map(|(s, p)| format!("{s}: {p:.6}"))
            .collect();
        out.push(format!(
            "{}. normalise (divide by the sum, {total:.6e}): P({} | evidence) = {}",
            num(),
            query.id(),
            post.join(", ")
        ));
        out
    }

    /// `{"query", "evidence", "pruned": [{"variable", "reason"}], "heuristic", "order",
    /// "steps": [{"eliminate", "factors": [[ids]], "result": [ids], "entries"}],
    /// "unnormalised", "posterior": {state: p}}`.
    pub fn to_json(&self, network: &Network, evidence: &Evidence) -> Value {
        let id = |v: VarId| network.variable(v).id().to_string();
        let ids = |vs: &[VarId]| vs.iter().map(|&v| id(v)).collect::<Vec<_>>();
        let mut posterior = Map::new();
        for (s, p) in network
            .variable(self.query)
            .states()
            .iter()
            .zip(&self.posterior)
        {
            posterior.insert(s.clone(), json!(p));
        }
        json!({
            "query": id(self.query),
            "evidence": crate::diagnosis::evidence_json(network, evidence),
            "pruned": self.pruned.iter().map(|(v, r)| json!({
                "variable": id(*v),
                "reason": r.as_str(),
            })).collect::<Vec<_>>(),
            "heuristic": heuristic_name(self.heuristic),
            "order": ids(&self.order),
            "steps": self.steps.iter().map(|s| json!({
                "eliminate": id(s.eliminate),
                "factors": s.factors.iter().map(|f| ids(&f.scope)).collect::<Vec<_>>(),
                "result": ids(&s.result),
                "entries": s.entries,
            })).collect::<Vec<_>>(),
            "unnormalised": self.unnormalised,
            "posterior": Value::Object(posterior),
        })
    }
}
