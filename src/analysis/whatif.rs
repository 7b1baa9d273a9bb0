//! What-if: every unobserved finding, set to each of its states in turn, and how the origins
//! and the triage would move.

use serde_json::{Map, Value, json};

use crate::diagnosis::{Diagnoser, rank_origins};
use crate::evidence::{Evidence, Observation};
use crate::factor::VarId;
use crate::inference::{InferenceError, Workspace};
use crate::network::{Network, Role};
use crate::triage::{self, TriageLevel};

/// One hypothetical observation and what it would do.
#[derive(Debug, Clone, PartialEq)]
pub struct WhatIfRow {
    /// The finding.
    pub variable: VarId,
    /// The state it is set to.
    pub state: usize,
    /// P(finding = state | current evidence): how likely this result is.
    pub probability: f64,
    /// Each origin's posterior if it were so, in network order (empty if impossible).
    pub origins: Vec<(VarId, f64)>,
    /// The change of each origin's posterior from now, same order.
    pub change: Vec<(VarId, f64)>,
    /// The largest absolute change over the origins (the ranking key).
    pub max_shift: f64,
    /// The triage level the evidence would then have.
    pub triage: TriageLevel,
    /// The rules that would fire that do not fire now.
    pub new_overrides: Vec<String>,
    /// The origin radix would then list first.
    pub top: Option<VarId>,
}

/// The what-if table for a case.
#[derive(Debug, Clone, PartialEq)]
pub struct WhatIf {
    /// The origins' posteriors now.
    pub now: Vec<(VarId, f64)>,
    /// The rows, largest shift first; states that are impossible given the evidence are left
    /// out.
    pub rows: Vec<WhatIfRow>,
}

/// The posterior of each origin's positive state, in network order.
pub(crate) fn origin_posteriors(
    diagnoser: &Diagnoser<'_>,
    ws: &mut Workspace,
    evidence: &Evidence,
) -> Result<(Vec<(VarId, f64)>, f64), InferenceError> {
    let network = diagnoser.tree().network();
    let origins: Vec<VarId> = network.with_role(Role::Origin).collect();
    let post = diagnoser.tree().posteriors_of(ws, evidence, &origins)?;
    let probs = post
        .iter()
        .map(|(v, p)| (v, p[network.variable(v).positive_state()]))
        .collect();
    Ok((probs, post.ln_p_evidence))
}

/// Every unobserved finding and each of its states: the origins' posteriors if it were so.
pub fn what_if(
    diagnoser: &Diagnoser<'_>,
    ws: &mut Workspace,
    evidence: &Evidence,
) -> Result<WhatIf, InferenceError> {
    let network = diagnoser.tree().network();
    let (now, ln_now) = origin_posteriors(diagnoser, ws, evidence)?;
    let fired_now: Vec<String> = triage::assess(network, evidence)
        .fired
        .into_iter()
        .map(|f| f.id)
        .collect();
    let mut rows = Vec::new();
    for f in network
        .with_role(Role::Finding)
        .filter(|&f| !evidence.contains(f))
    {
        for s in 0..network.variable(f).cardinality() {
            let mut e = evidence.clone();
            e.observe(network, f, Observation::Is(s))
                .expect("an unobserved variable and a valid state");
            let (after, ln_after) = match origin_posteriors(diagnoser, ws, &e) {
                Ok(x) => x,
                Err(InferenceError::ImpossibleEvidence { .. }) => continue,
                Err(other) => return Err(other),
            };
            let change: Vec<(VarId, f64)> = after
                .iter()
                .zip(&now)
                .map(|(a, n)| (a.0, a.1 - n.1))
                .collect();
            let max_shift = change.iter().fold(0.0f64, |m, c| m.max(c.1.abs()));
            let t = triage::assess(network, &e);
            let ranking = rank_origins(network, &t, |v| {
                after.iter().find(|(u, _)| *u == v).map_or(0.0, |x| x.1)
            });
            rows.push(WhatIfRow {
                variable: f,
                state: s,
                probability: (ln_after - ln_now).exp(),
                origins: after,
                change,
                max_shift,
                triage: t.level,
                new_overrides: t
                    .fired
                    .iter()
                    .map(|r| r.id.clone())
                    .filter(|id| !fired_now.contains(id))
                    .collect(),
                top: ranking.first().map(|o| o.variable),
            });
        }
    }
    rows.sort_by(|a, b| {
        b.max_shift
            .total_cmp(&a.max_shift)
            .then(a.variable.cmp(&b.variable))
    });
    Ok(WhatIf { now, rows })
}

impl WhatIf {
    /// `{"now": {id: p}, "rows": [{"variable", "state", "probability", "origins": {id: p},
    /// "change": {id: dp}, "max_shift", "triage", "new_overrides", "top"}]}`.
    pub fn to_json(&self, network: &Network) -> Value {
        let map = |xs: &[(VarId, f64)]| -> Value {
            Value::Object(
                xs.iter()
                    .map(|(v, p)| (network.variable(*v).id().to_string(), json!(p)))
                    .collect::<Map<_, _>>(),
            )
        };
        json!({
            "now": map(&self.now),
            "rows": self.rows.iter().map(|r| json!({
                "variable": network.variable(r.variable).id(),
                "state": network.variable(r.variable).states()[r.state],
                "probability": r.probability,
                "origins": map(&r.origins),
                "change": map(&r.change),
                "max_shift": r.max_shift,
                "triage": r.triage.as_str(),
                "new_overrides": r.new_overrides,
                "top": r.top.map(|v| network.variable(v).id()),
            })).collect::<Vec<_>>(),
        })
    }
}
