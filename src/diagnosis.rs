//! One case's answer: the triage, the origins ranked, every posterior, P(evidence).
//!
//! This is where the two halves of radix meet: the probability engine ranks the origins, and
//! the triage rules override the ranking. An origin named by a fired rule is listed first,
//! marked with the rule, whatever its probability; the triage is reported even when the
//! evidence is impossible under the model and no probability can be computed.

use serde_json::{Map, Value, json};

use crate::evidence::{Evidence, EvidenceError, Observation};
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
}

impl<'n> Diagnoser<'n> {
    /// Compiles the network.
    pub fn new(network: &'n Network) -> Result<Self, InferenceError> {
        Self::from_tree(JunctionTree::compile(network)?)
    }

    fn from_tree(tree: JunctionTree<'n>) -> Result<Self, InferenceError> {
        let mut ws = tree.workspace();
        let prior = tree.posteriors(&mut ws, &Evidence::new())?;
        let priors = prior.marginals.into_iter().map(|(_, p)| p).collect();
        Ok(Diagnoser { tree, priors })
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
        for (v, _) in evidence.iter() {
            let prior = &self.priors[v];
            let w = evidence.weights(v, prior.len()).expect("observed");
            ln_independent += prior.iter().zip(&w).map(|(p, x)| p * x).sum::<f64>().ln();
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
        let network = self.tree.network();
        let triage = triage::assess(network, evidence);
        let posteriors = match self.tree.posteriors(ws, evidence) {
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

/// The evidence as JSON: `{var: state}` for hard evidence, `{var: {"not": state}}` for negative
/// evidence, `{var: {"likelihood": [w...]}}` for soft evidence.
pub fn evidence_json(network: &Network, evidence: &Evidence) -> Value {
    let mut map = Map::new();
    for (v, obs) in evidence.iter() {
        let var = network.variable(v);
        let value = match obs {
            Observation::Is(s) => json!(var.states()[*s]),
            Observation::IsNot(s) => json!({ "not": var.states()[*s] }),
            Observation::Likelihood(w) => json!({ "likelihood": w }),
        };
        map.insert(var.id().to_string(), value);
    }
    Value::Object(map)
}

/// Appends a JSON string literal.
fn push_str(out: &mut String, s: &str) {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push('"');
        out.push_str(s);
        out.push('"');
    } else {
        out.push_str(&Value::from(s).to_string());
    }
}

/// Appends a JSON number: the shortest form that reads back to the same f64 (`0.25`,
/// `1.5e-7`), formatted by zmij (serde_json's formatter; a batch writes ~130 numbers per case,
/// and `{:?}` took a tenth of its time); `null` for a non-finite value, which JSON cannot carry.
fn push_f64(out: &mut String, x: f64) {
    if x.is_finite() {
        out.push_str(zmij::Buffer::new().format_finite(x));
    } else {
        out.push_str("null");
    }
}

/// Reads evidence written as [`evidence_json`] writes it: `{var: "state"}`,
/// `{var: {"not": "state"}}` or `{var: {"likelihood": [w, ...]}}`.
pub fn evidence_from_json(network: &Network, value: &Value) -> Result<Evidence, EvidenceError> {
    let syntax = |text: String, expected: &'static str| EvidenceError::Syntax { text, expected };
    let map = value.as_object().ok_or_else(|| {
        syntax(
            value.to_string(),
            "`evidence` must be an object {\"VAR\": \"STATE\", ...}",
        )
    })?;
    let mut e = Evidence::new();
    for (name, obs) in map {
        let var = network.lookup(name)?;
        let observation = match obs {
            Value::String(state) => Observation::Is(network.lookup_state(var, state)?),
            Value::Object(o) if o.len() == 1 && o.contains_key("not") => match &o["not"] {
                Value::String(state) => Observation::IsNot(network.lookup_state(var, state)?),
                other => return Err(syntax(other.to_string(), "`not` takes a state name")),
            },
            Value::Object(o) if o.len() == 1 && o.contains_key("likelihood") => {
                let weights = o["likelihood"]
                    .as_array()
                    .and_then(|a| a.iter().map(Value::as_f64).collect::<Option<Vec<f64>>>())
                    .ok_or_else(|| {
                        syntax(
                            o["likelihood"].to_string(),
                            "`likelihood` takes an array of numbers",
                        )
                    })?;
                Observation::Likelihood(weights)
            }
            other => {
                return Err(syntax(
                    format!("{name}: {other}"),
                    "give a state name, {\"not\": STATE} or {\"likelihood\": [w, ...]}",
                ));
            }
        };
        e.observe(network, var, observation)?;
    }
    Ok(e)
}

/// The triage as JSON: `{"level", "overrides": [{"id", "level", "message", "triggered_by"}]}`.
pub fn triage_json(network: &Network, triage: &Triage) -> Value {
    json!({
        "level": triage.level.as_str(),
        "overrides": triage.fired.iter().map(|f| json!({
            "id": f.id,
            "level": f.level.as_str(),
            "message": f.message,
            "triggered_by": f.triggered_by.iter().map(|&v| network.variable(v).id()).collect::<Vec<_>>(),
            "names": f.names.iter().map(|&v| network.variable(v).id()).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

impl Diagnosis {
    /// The documented JSON object of `radix query --json`.
    pub fn to_json(&self, network: &Network, evidence: &Evidence, model: &str) -> Value {
        let mut text = String::new();
        self.write_json(network, evidence, model, None, &mut text);
        serde_json::from_str(&text).expect("write_json writes valid JSON")
    }

    /// Appends the JSON object of [`Self::to_json`] to `out` as one line without building it
    /// in memory first (what `radix batch` writes per case), with `id` as its first field when
    /// given.
    pub fn write_json(
        &self,
        network: &Network,
        evidence: &Evidence,
        model: &str,
        id: Option<&Value>,
        out: &mut String,
    ) {
        out.push('{');
        if let Some(id) = id {
            out.push_str("\"id\":");
            out.push_str(&id.to_string());
            out.push(',');
        }
        out.push_str("\"model\":");
        push_str(out, model);
        out.push_str(",\"disclaimer\":");
        push_str(out, crate::DISCLAIMER);
        out.push_str(",\"evidence\":");
        out.push_str(&evidence_json(network, evidence).to_string());
        out.push_str(",\"p_evidence\":");
        push_f64(out, self.posteriors.p_evidence());
        out.push_str(",\"log10_p_evidence\":");
        push_f64(out, self.posteriors.log10_p_evidence());
        out.push_str(",\"conflict\":");
        push_f64(out, self.conflict);
        out.push_str(",\"triage\":");
        out.push_str(&triage_json(network, &self.triage).to_string());
        out.push_str(",\"origins\":[");
        for (i, o) in self.origins.iter().enumerate() {
            let var = network.variable(o.variable);
            if i > 0 {
                out.push(',');
            }
            out.push_str("{\"id\":");
            push_str(out, var.id());
            out.push_str(",\"label\":");
            push_str(out, var.label());
            out.push_str(",\"probability\":");
            push_f64(out, o.probability);
            if let Some(rule) = &o.overridden_by {
                out.push_str(",\"override\":");
                push_str(out, rule);
            }
            out.push('}');
        }
        out.push_str("],\"posteriors\":{");
        for (i, (v, p)) in self.posteriors.marginals.iter().enumerate() {
            let var = network.variable(*v);
            if i > 0 {
                out.push(',');
            }
            push_str(out, var.id());
            out.push_str(":{");
            for (k, (state, x)) in var.states().iter().zip(p).enumerate() {
                if k > 0 {
                    out.push(',');
                }
                push_str(out, state);
                out.push(':');
                push_f64(out, *x);
            }
            out.push('}');
        }
        out.push_str("}}");
    }

    /// The triage level.
    pub fn level(&self) -> TriageLevel {
        self.triage.level
    }
}
