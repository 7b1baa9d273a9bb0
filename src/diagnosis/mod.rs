//! One case's answer: the triage, the origins ranked, every posterior, P(evidence).
//!
//! This is where the two halves of radix meet: the probability engine ranks the origins, and
//! the triage rules override the ranking. An origin named by a fired rule is listed first,
//! marked with the rule, whatever its probability; the triage is reported even when the
//! evidence is impossible under the model and no probability can be computed.

mod json;

pub use json::{DiagnosisWriter, evidence_from_json, evidence_json, triage_json};

use serde_json::Value;

use crate::evidence::{Evidence, Observation};
use crate::factor::VarId;
use crate::inference::{CompileOptions, InferenceError, JunctionTree, Posteriors, Workspace};
use crate::network::{Network, Role};
use crate::triage::{self, Triage, TriageLevel};

/// An origin in the differential.
#[derive(Debug, Clone, PartialEq)]
pub struct RankedOrigin {
    /// The origin variable.
    pub variable: VarId,
    /// Its posterior probability of being present (of its positive state).
    pub probability: f64,
    /// The fired rule that put it first, if any.
    pub overridden_by: Option<String>,
}

/// The answer for one case.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnosis {
    /// The triage (the level and the fired rules).
    pub triage: Triage,
    /// The origins, overridden ones first, then by probability, highest first.
    pub origins: Vec<RankedOrigin>,
    /// The posterior of every unobserved variable, and P(evidence).
    pub posteriors: Posteriors,
    /// Hugin's conflict measure, log10 of the product of the observations' prior probabilities
    /// over their joint probability: positive when the findings fit together less well than
    /// independent ones would (a data-entry error, or a case the model has no origin for); 0
    /// with fewer than two observations.
    pub conflict: f64,
}

/// A case whose probabilities cannot be computed; its triage still stands.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{error}")]
pub struct DiagnosisError {
    /// The triage, which needs no probabilities.
    pub triage: Triage,
    /// Why inference failed.
    pub error: InferenceError,
}

/// Diagnoses one case (compiles the network first; to diagnose many cases, compile once with
/// [`Diagnoser::new`]).
pub fn diagnose(network: &Network, evidence: &Evidence) -> Result<Diagnosis, DiagnosisError> {
    match Diagnoser::new(network) {
        Ok(d) => d.diagnose(&mut d.workspace(), evidence),
        Err(error) => Err(DiagnosisError {
            triage: triage::assess(network, evidence),
            error,
        }),
    }
}

/// A network compiled for diagnosing many cases. Share it across threads; give each thread
/// its own [`Workspace`].
#[derive(Debug)]
pub struct Diagnoser<'n> {
    tree: JunctionTree<'n>,
    /// The prior marginal of every variable (for the conflict measure).
    priors: Vec<Vec<f64>>,
    /// Their logarithms: a hard finding's term of the conflict measure, read, not computed,
    /// for every case.
    ln_priors: Vec<Vec<f64>>,
}

impl<'n> Diagnoser<'n> {
    /// Compiles the network.
    pub fn new(network: &'n Network) -> Result<Self, InferenceError> {
        Self::from_tree(JunctionTree::compile(network)?)
    }

    fn from_tree(tree: JunctionTree<'n>) -> Result<Self, InferenceError> {
        let mut ws = tree.workspace();
        let prior = tree.posteriors(&mut ws, &Evidence::new())?;
        let priors: Vec<Vec<f64>> = prior.iter().map(|(_, p)| p.to_vec()).collect();
        let ln_priors = priors
            .iter()
            .map(|p| p.iter().map(|x| x.ln()).collect())
            .collect();
        Ok(Diagnoser {
            tree,
            priors,
            ln_priors,
        })
    }

    /// The origins without evidence of their own.
    fn unobserved_origins(&self, evidence: &Evidence) -> Vec<VarId> {
        let network = self.tree.network();
        network
            .with_role(Role::Origin)
            .filter(|&v| !evidence.contains(v))
            .collect()
    }

    /// The prior marginal of a variable.
    pub fn prior(&self, v: VarId) -> &[f64] {
        &self.priors[v]
    }

    /// log10 of Hugin's conflict measure for evidence of probability `ln_p_evidence`.
    pub fn conflict(&self, evidence: &Evidence, ln_p_evidence: f64) -> f64 {
        if evidence.len() < 2 {
            return 0.0;
        }
        let mut ln_independent = 0.0;
        for (v, observation) in evidence.iter() {
            ln_independent += match observation {
                // The weighted sum below is exactly the state's prior.
                Observation::Is(s) => self.ln_priors[v][*s],
                _ => {
                    let prior = &self.priors[v];
                    let w = evidence.weights(v, prior.len()).expect("observed");
                    prior.iter().zip(&w).map(|(p, x)| p * x).sum::<f64>().ln()
                }
            };
        }
        (ln_independent - ln_p_evidence) / std::f64::consts::LN_10
    }

    /// Compiles the network with options (e.g. a memory limit).
    pub fn with_options(
        network: &'n Network,
        options: &CompileOptions,
    ) -> Result<Self, InferenceError> {
        Self::from_tree(JunctionTree::compile_with(network, options)?)
    }

    /// The compiled tree.
    pub fn tree(&self) -> &JunctionTree<'n> {
        &self.tree
    }

    /// Fresh buffers for [`Self::diagnose`].
    pub fn workspace(&self) -> Workspace {
        self.tree.workspace()
    }

    /// Diagnoses one case.
    pub fn diagnose(
        &self,
        ws: &mut Workspace,
        evidence: &Evidence,
    ) -> Result<Diagnosis, DiagnosisError> {
        self.diagnose_with(ws, evidence, false)
    }

    /// Diagnoses one case with the posteriors of the unobserved origins only (the distribute
    /// pass visits the paths to their cliques alone): what a differential needs, for callers
    /// that do not show every variable.
    pub fn diagnose_origins(
        &self,
        ws: &mut Workspace,
        evidence: &Evidence,
    ) -> Result<Diagnosis, DiagnosisError> {
        self.diagnose_with(ws, evidence, true)
    }

    fn diagnose_with(
        &self,
        ws: &mut Workspace,
        evidence: &Evidence,
        origins_only: bool,
    ) -> Result<Diagnosis, DiagnosisError> {
        let network = self.tree.network();
        let triage = triage::assess(network, evidence);
        let answer = match origins_only {
            false => self.tree.posteriors(ws, evidence),
            true => self
                .tree
                .posteriors_of(ws, evidence, &self.unobserved_origins(evidence)),
        };
        let posteriors = match answer {
            Ok(p) => p,
            Err(error) => return Err(DiagnosisError { triage, error }),
        };
        let conflict = self.conflict(evidence, posteriors.ln_p_evidence);
        let origins = rank_origins(network, &triage, |v| {
            let var = network.variable(v);
            match posteriors.marginal(v) {
                Some(p) => p[var.positive_state()],
                // An observed origin: its evidence decides.
                None => {
                    let w = evidence.weights(v, var.cardinality()).expect("observed");
                    w[var.positive_state()] / w.iter().sum::<f64>()
                }
            }
        });
        Ok(Diagnosis {
            triage,
            origins,
            posteriors,
            conflict,
        })
    }
}

/// Ranks the origins as radix shows them: those named by fired rules first (in the order of
/// the rules, most severe first), then by probability of their positive state, ties by file
/// order. `probability` gives that probability for each origin.
pub fn rank_origins(
    network: &Network,
    triage: &Triage,
    probability: impl Fn(VarId) -> f64,
) -> Vec<RankedOrigin> {
    let mut origins: Vec<RankedOrigin> = network
        .with_role(Role::Origin)
        .map(|v| RankedOrigin {
            variable: v,
            probability: probability(v),
            overridden_by: triage.override_for(v).map(|f| f.id.clone()),
        })
        .collect();
    let rank = |o: &RankedOrigin| -> usize {
        triage
            .fired
            .iter()
            .position(|f| f.names.contains(&o.variable))
            .unwrap_or(usize::MAX)
    };
    origins.sort_by(|a, b| {
        rank(a)
            .cmp(&rank(b))
            .then(b.probability.total_cmp(&a.probability))
            .then(a.variable.cmp(&b.variable))
    });
    origins
}

impl Diagnosis {
    /// The documented JSON object of `radix query --json` (see [`DiagnosisWriter`]; to write
    /// many diagnoses, make one writer and reuse it).
    pub fn to_json(&self, network: &Network, evidence: &Evidence, model: &str) -> Value {
        let mut text = String::new();
        DiagnosisWriter::new(network, model).write(self, evidence, None, &mut text);
        serde_json::from_str(&text).expect("the writer writes valid JSON")
    }

    /// The triage level.
    pub fn level(&self) -> TriageLevel {
        self.triage.level
    }
}
