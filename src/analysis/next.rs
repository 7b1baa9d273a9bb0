//! What to examine next: the value of information of every unobserved finding.
//!
//! For a finding F and the current evidence e, radix reports:
//!
//! - **information**: the expected information F gives about the origins, in bits, defined as
//!   the sum over origins O of the mutual information between O's presence and F given e:
//!   `Σ_O Σ_f P(f | e) Σ_o P(o | e, f) log2[P(o | e, f) / P(o | e)]`. (Origins are separate
//!   variables that can co-exist, so this sums what F tells about each; it is not the
//!   information about their joint state.)
//! - **p_changes_top**: the probability that observing F changes the origin radix lists
//!   first (with the triage overrides taken into account), `Σ_f P(f | e) [top(e, f) ≠ top(e)]`.
//! - **most_likely**: the result of F with the highest probability given e.
//!
//! All exact: each result's posteriors come from the junction tree.

use serde_json::{Value, json};

use super::whatif::origin_posteriors;
use crate::diagnosis::{Diagnoser, rank_origins};
use crate::evidence::{Evidence, Observation};
use crate::factor::VarId;
use crate::inference::{InferenceError, Workspace};
use crate::network::{Network, Role};
use crate::triage;

/// One candidate finding.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// The finding.
    pub variable: VarId,
    /// Expected information about the origins, in bits (see the module docs).
    pub information: f64,
    /// Probability that observing it changes the top-ranked origin.
    pub p_changes_top: f64,
    /// Its most likely result.
    pub most_likely: usize,
    /// P(state | evidence) for each state, and the origins' posteriors after each.
    pub outcomes: Vec<Outcome>,
}

/// One possible result of a finding.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The state.
    pub state: usize,
    /// P(state | evidence).
    pub probability: f64,
    /// The origins' posteriors after observing it (empty if impossible).
    pub origins: Vec<(VarId, f64)>,
}

/// The ranking of unobserved findings, most informative first.
#[derive(Debug, Clone, PartialEq)]
pub struct NextFindings {
    /// The origin listed first now.
    pub top: Option<VarId>,
    /// The candidates, by information, then by probability of changing the top origin.
    pub ranking: Vec<Candidate>,
}

/// Ranks every unobserved finding by the information it would give about the origins.
pub fn next_findings(
    diagnoser: &Diagnoser<'_>,
    ws: &mut Workspace,
    evidence: &Evidence,
) -> Result<NextFindings, InferenceError> {
    let network = diagnoser.tree().network();
    let (now, ln_now) = origin_posteriors(diagnoser, ws, evidence)?;
    let top_of = |e: &Evidence, probs: &[(VarId, f64)]| {
        let t = triage::assess(network, e);
        rank_origins(network, &t, |v| {
            probs.iter().find(|(u, _)| *u == v).map_or(0.0, |x| x.1)
        })
        .first()
        .map(|o| o.variable)
    };
    let top = top_of(evidence, &now);
    let mut ranking = Vec::new();
    for f in network
        .with_role(Role::Finding)
        .filter(|&f| !evidence.contains(f))
    {
        let mut outcomes = Vec::new();
        let mut information = 0.0;
        let mut p_changes_top = 0.0;
        for s in 0..network.variable(f).cardinality() {
            let mut e = evidence.clone();
            e.observe(network, f, Observation::Is(s))
                .expect("an unobserved variable and a valid state");
            match origin_posteriors(diagnoser, ws, &e) {
                Ok((after, ln_after)) => {
                    let p = (ln_after - ln_now).exp();
                    for ((_, q), (_, q0)) in after.iter().zip(&now) {
                        information += p * (kl_bit(*q, *q0) + kl_bit(1.0 - q, 1.0 - q0));
                    }
                    if top_of(&e, &after) != top {
                        p_changes_top += p;
                    }
                    outcomes.push(Outcome {
                        state: s,
                        probability: p,
                        origins: after,
                    });
                }
                Err(InferenceError::ImpossibleEvidence { .. }) => outcomes.push(Outcome {
                    state: s,
                    probability: 0.0,
                    origins: Vec::new(),
                }),
                Err(other) => return Err(other),
            }
        }
        let most_likely = outcomes
            .iter()
            .max_by(|a, b| a.probability.total_cmp(&b.probability))
            .map_or(0, |o| o.state);
        ranking.push(Candidate {
            variable: f,
            information,
            p_changes_top,
            most_likely,
            outcomes,
        });
    }
    ranking.sort_by(|a, b| {
        b.information
            .total_cmp(&a.information)
            .then(b.p_changes_top.total_cmp(&a.p_changes_top))
            .then(a.variable.cmp(&b.variable))
    });
    Ok(NextFindings { top, ranking })
}

/// `q log2(q / q0)`, with 0 log 0 = 0.
fn kl_bit(q: f64, q0: f64) -> f64 {
    if q <= 0.0 || q0 <= 0.0 {
        0.0
    } else {
        q * (q / q0).log2()
    }
}

impl NextFindings {
    /// `{"top", "ranking": [{"variable", "information", "p_changes_top", "most_likely",
    /// "outcomes": [{"state", "probability"}]}]}`.
    pub fn to_json(&self, network: &Network) -> Value {
        json!({
            "top": self.top.map(|v| network.variable(v).id()),
            "information_unit": "bits (sum over origins of the mutual information with the finding)",
            "ranking": self.ranking.iter().map(|c| {
                let var = network.variable(c.variable);
                json!({
                    "variable": var.id(),
                    "label": var.label(),
                    "information": c.information,
                    "p_changes_top": c.p_changes_top,
                    "most_likely": var.states()[c.most_likely],
                    "outcomes": c.outcomes.iter().map(|o| json!({
                        "state": var.states()[o.state],
                        "probability": o.probability,
                    })).collect::<Vec<_>>(),
                })
            }).collect::<Vec<_>>(),
        })
    }
}
