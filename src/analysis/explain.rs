//! Why: how each observed finding moved one origin, in weights of evidence that add up.
//!
//! For an origin X (its positive state against the rest), radix takes the prior P(X | context)
//! (the evidence on `context` variables only) and adds the other observations one at a time, in
//! the order given. Each finding's weight of evidence is the log10 likelihood ratio
//! `log10 [P(f | X, e<) / P(f | ¬X, e<)]`, where `e<` is the context and the findings before
//! it; by Bayes' rule it equals the change in log10 odds of X that the finding makes at that
//! point, so the weights add up exactly to log10 posterior odds minus log10 prior odds. Each
//! finding's leave-one-out impact is the log10 odds of X with every observation minus the log10
//! odds without that one (it does not add up; it shows what each finding contributes given all
//! the others).

use serde_json::{Value, json};

use crate::diagnosis::Diagnoser;
use crate::evidence::Evidence;
use crate::factor::VarId;
use crate::inference::{InferenceError, Workspace};
use crate::network::{Network, Role};

/// One observed finding's contribution.
#[derive(Debug, Clone, PartialEq)]
pub struct Weight {
    /// The observed variable.
    pub variable: VarId,
    /// Its observation as text (`state`, `!=state` or the weights).
    pub observed: String,
    /// log10 likelihood ratio at its place in the order (the weights add up).
    pub log10_lr: f64,
    /// log10 odds with all evidence minus log10 odds without this observation.
    pub leave_one_out: f64,
}

/// The explanation of one origin's posterior.
#[derive(Debug, Clone, PartialEq)]
pub struct Explanation {
    /// The origin.
    pub origin: VarId,
    /// P(X | context evidence only).
    pub prior: f64,
    /// P(X | all evidence).
    pub posterior: f64,
    /// The observations that are not context, in the order they were added.
    pub findings: Vec<Weight>,
}

fn log10_odds(p: f64) -> f64 {
    (p / (1.0 - p)).log10()
}

/// P(origin's positive state | evidence).
fn probability(
    diagnoser: &Diagnoser<'_>,
    ws: &mut Workspace,
    evidence: &Evidence,
    origin: VarId,
) -> Result<f64, InferenceError> {
    let network = diagnoser.tree().network();
    let var = network.variable(origin);
    if evidence.contains(origin) {
        let w = evidence
            .weights(origin, var.cardinality())
            .expect("observed");
        return Ok(w[var.positive_state()] / w.iter().sum::<f64>());
    }
    let post = diagnoser.tree().posteriors_of(ws, evidence, &[origin])?;
    Ok(post.marginal(origin).expect("requested")[var.positive_state()])
}

/// Explains the posterior of `origin` given `evidence`.
pub fn explain(
    diagnoser: &Diagnoser<'_>,
    ws: &mut Workspace,
    evidence: &Evidence,
    origin: VarId,
) -> Result<Explanation, InferenceError> {
    let network = diagnoser.tree().network();
    let mut context = Evidence::new();
    let mut findings = Vec::new();
    for (v, obs) in evidence.iter() {
        if network.variable(v).role() == Role::Context {
            context
                .observe(network, v, obs.clone())
                .expect("valid evidence");
        } else if v != origin {
            findings.push((v, obs.clone()));
        }
    }
    let prior = probability(diagnoser, ws, &context, origin)?;
    let posterior = probability(diagnoser, ws, evidence, origin)?;
    let mut so_far = context.clone();
    let mut before = prior;
    let mut weights = Vec::with_capacity(findings.len());
    for (v, obs) in &findings {
        so_far
            .observe(network, *v, obs.clone())
            .expect("valid evidence");
        let after = probability(diagnoser, ws, &so_far, origin)?;
        let mut without = evidence.clone();
        without.remove(*v);
        let loo = probability(diagnoser, ws, &without, origin)?;
        weights.push(Weight {
            variable: *v,
            observed: evidence.describe(network, *v).unwrap_or_default(),
            log10_lr: log10_odds(after) - log10_odds(before),
            leave_one_out: log10_odds(posterior) - log10_odds(loo),
        });
        before = after;
    }
    Ok(Explanation {
        origin,
        prior,
        posterior,
        findings: weights,
    })
}

impl Explanation {
    /// log10 prior odds.
    pub fn log10_prior_odds(&self) -> f64 {
        log10_odds(self.prior)
    }

    /// log10 posterior odds.
    pub fn log10_posterior_odds(&self) -> f64 {
        log10_odds(self.posterior)
    }

    /// A sentence a student can read for one finding, e.g. "foot drop (present) raises the odds
    /// of lumbar disc herniation 4.1-fold".
    pub fn sentence(&self, network: &Network, w: &Weight) -> String {
        let finding = network.variable(w.variable).label().to_lowercase();
        let origin = network.variable(self.origin).label().to_lowercase();
        let factor = 10f64.powf(w.log10_lr);
        let what = format!("{finding} ({})", w.observed);
        if !factor.is_finite() || factor == 0.0 {
            return format!("{what} settles {origin} outright");
        }
        if (factor - 1.0).abs() < 0.005 {
            format!("{what} leaves the odds of {origin} unchanged")
        } else if factor > 1.0 {
            format!("{what} raises the odds of {origin} {factor:.1}-fold")
        } else {
            format!(
                "{what} lowers the odds of {origin} {:.1}-fold",
                1.0 / factor
            )
        }
    }

    /// `{"origin", "prior", "posterior", "log10_prior_odds", "log10_posterior_odds",
    /// "findings": [{"variable", "state", "log10_lr", "leave_one_out", "text"}]}`.
    pub fn to_json(&self, network: &Network) -> Value {
        json!({
            "origin": network.variable(self.origin).id(),
            "prior": self.prior,
            "posterior": self.posterior,
            "log10_prior_odds": self.log10_prior_odds(),
            "log10_posterior_odds": self.log10_posterior_odds(),
            "findings": self.findings.iter().map(|w| json!({
                "variable": network.variable(w.variable).id(),
                "state": w.observed,
                "log10_lr": w.log10_lr,
                "leave_one_out": w.leave_one_out,
                "text": self.sentence(network, w),
            })).collect::<Vec<_>>(),
        })
    }
}
