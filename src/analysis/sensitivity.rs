//! One-way parameter sensitivity: how the posterior of an origin moves with each number of the
//! model.
//!
//! For one parameter θ (a table entry, with the rest of its row rescaled proportionally, or a
//! noisy-OR cause or leak, with the noisy-OR table re-expanded), every entry of the joint
//! distribution is affine in θ, so P(X = x, e) = aθ + b and P(e) = cθ + d, and the posterior is
//! the linear-fractional function
//!
//! ```text
//! P(X = x | e)(θ) = (aθ + b) / (cθ + d)
//! ```
//!
//! Two exact solves (the model's value and one other) give the two lines exactly; the
//! derivative at θ0 is (ad − bc) / (cθ0 + d)², and because the function is monotone in θ the
//! posterior's range over an interval of θ is reached at its ends. The interval is the
//! parameter's declared uncertainty (a `ci` as written; a Beta's or a Dirichlet marginal's
//! central 95 %), else ±50 % of the value (of 1 − value above 0.5, see [`default_interval`]),
//! clipped to [0, 1].
//!
//! Coefficients are scaled so that P(e) at the model's values is 1 (cθ0 + d = 1): the ratio is
//! unchanged and very unlikely evidence does not underflow; [`SensitivityReport::p_evidence`]
//! gives the scale.
//!
//! Parameters of variables that are neither ancestors of the origin nor of an observed
//! variable cannot change the posterior and are not solved; they, and any parameter whose
//! swing is below [`ZERO_SWING`], are left out of the list and counted in
//! [`SensitivityReport::omitted`].
//!
//! ```
//! use radix::analysis::sensitivity;
//! use radix::evidence::Evidence;
//! # use radix::network::*;
//! # let mut b = NetworkBuilder::new("t");
//! # b.variable(VariableSpec::new("rain", "Rain", Role::Origin, &["present", "absent"]),
//! #            CpdSpec::root(vec![0.2, 0.8], "x"));
//! # b.variable(VariableSpec::new("wet", "Wet", Role::Finding, &["present", "absent"]),
//! #            CpdSpec::noisy_or(0.1, vec![CauseSpec::new("rain", 0.9)], "x"));
//! # let net = b.build().unwrap();
//! let mut e = Evidence::new();
//! e.parse_assignment(&net, "wet=present").unwrap();
//! let report = sensitivity::analyse(&net, &e, "rain").unwrap();
//! assert!((report.posterior - 0.182 / 0.262).abs() < 1e-12);
//! // The prior of rain moves the posterior most.
//! assert_eq!(report.parameters[0].variable, "rain");
//! ```

use serde_json::{Value, json};

use crate::evidence::Evidence;
use crate::factor::VarId;
use crate::inference::{InferenceError, VariableElimination};
use crate::network::{Network, NetworkError, ParamRef, Parameterisation, Role, UnknownName};

/// Swings below this are treated as zero and the parameter is left out.
pub const ZERO_SWING: f64 = 1e-12;

/// Relative half-width of the default interval when a parameter declares no uncertainty.
pub const DEFAULT_RELATIVE_SPREAD: f64 = 0.5;

/// Why a sensitivity analysis could not run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SensitivityError {
    /// The origin is not a variable of the network.
    #[error(transparent)]
    Unknown(#[from] UnknownName),
    /// The variable exists but is not an origin.
    #[error("`{0}` is not an origin (its role is {1}); pick one of the origins `radix list` shows")]
    NotAnOrigin(String, Role),
    /// The origin is itself observed.
    #[error("`{0}` is in the evidence; its posterior does not depend on any parameter")]
    Observed(String),
    /// Exact inference failed (impossible evidence at the model's values, or too large).
    #[error(transparent)]
    Inference(#[from] InferenceError),
    /// A parameter edit was refused.
    #[error(transparent)]
    Network(#[from] NetworkError),
}

/// What kind of number a parameter is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    /// An entry of a table row.
    Table,
    /// A noisy-OR cause's `p`.
    NoisyOrCause,
    /// A noisy-OR's leak.
    Leak,
}

impl ParamKind {
    /// The name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ParamKind::Table => "table",
            ParamKind::NoisyOrCause => "noisy_or_cause",
            ParamKind::Leak => "leak",
        }
    }
}

/// The posterior of one state as a linear-fractional function of one parameter:
/// P(x | e)(θ) = (aθ + b) / (cθ + d).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SensitivityFunction {
    /// Slope of P(x, e).
    pub a: f64,
    /// Intercept of P(x, e).
    pub b: f64,
    /// Slope of P(e).
    pub c: f64,
    /// Intercept of P(e).
    pub d: f64,
}

impl SensitivityFunction {
    /// The posterior at θ. Where P(e) vanishes the limit a/c is used (0/0 as θ → the root);
    /// the result is clamped to [0, 1].
    pub fn eval(&self, theta: f64) -> f64 {
        let num = self.a * theta + self.b;
        let den = self.c * theta + self.d;
        let scale = self.c.abs().max(self.d.abs());
        let p = if den.abs() > 1e-13 * scale && den != 0.0 {
            num / den
        } else if self.c != 0.0 {
            self.a / self.c
        } else {
            0.0
        };
        p.clamp(0.0, 1.0)
    }

    /// dP(x | e)/dθ at θ.
    pub fn derivative(&self, theta: f64) -> f64 {
        let den = self.c * theta + self.d;
        if den == 0.0 {
            return 0.0;
        }
        (self.a * self.d - self.b * self.c) / (den * den)
    }
}

/// One parameter's effect on the origin's posterior.
#[derive(Debug, Clone, PartialEq)]
pub struct ParameterSensitivity {
    /// Which number.
    pub parameter: ParamRef,
    /// The variable whose distribution holds it.
    pub variable: String,
    /// Table entry, noisy-OR cause or leak.
    pub kind: ParamKind,
    /// For a table entry: the parent states of its row, `(parent, state)` (empty for a prior).
    pub row: Option<Vec<(String, String)>>,
    /// For a noisy-OR cause: `parent=state`.
    pub cause: Option<String>,
    /// The state of the variable the number is the probability of.
    pub state: String,
    /// The model's value.
    pub value: f64,
    /// Its source.
    pub source: Option<String>,
    /// dP/dθ at the model's value.
    pub derivative: f64,
    /// The low end of the interval θ sweeps.
    pub low: f64,
    /// The high end.
    pub high: f64,
    /// True when `low`/`high` come from a declared uncertainty, false for the ±50 % default.
    pub declared: bool,
    /// The posterior's minimum and maximum over `[low, high]`.
    pub range: (f64, f64),
    /// The function itself.
    pub function: SensitivityFunction,
}

impl ParameterSensitivity {
    /// max − min of the posterior over the interval.
    pub fn swing(&self) -> f64 {
        self.range.1 - self.range.0
    }
}

/// The tornado data for one origin under one case.
#[derive(Debug, Clone, PartialEq)]
pub struct SensitivityReport {
    /// The origin's id.
    pub origin: String,
    /// The state whose probability is analysed (the origin's positive state).
    pub state: String,
    /// P(origin = state | e) at the model's values.
    pub posterior: f64,
    /// P(e) at the model's values (the coefficients are relative to it).
    pub p_evidence: f64,
    /// Parameters with a nonzero swing, largest swing first.
    pub parameters: Vec<ParameterSensitivity>,
    /// Parameters left out: irrelevant to the query, or with zero swing.
    pub omitted: usize,
}

impl SensitivityReport {
    /// The JSON shape: `{"origin", "state", "posterior", "p_evidence", "omitted",
    /// "parameters": [{"variable", "kind", "row" | "cause", "state", "value", "source",
    /// "derivative", "low", "high", "declared", "range": [lo, hi], "coefficients": [a, b, c, d]}]}`.
    pub fn to_json(&self) -> Value {
        let params: Vec<Value> = self
            .parameters
            .iter()
            .map(|p| {
                let mut o = serde_json::Map::new();
                o.insert("variable".into(), json!(p.variable));
                o.insert("kind".into(), json!(p.kind.as_str()));
                if let Some(row) = &p.row {
                    let m: serde_json::Map<String, Value> =
                        row.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
                    o.insert("row".into(), Value::Object(m));
                }
                if let Some(cause) = &p.cause {
                    o.insert("cause".into(), json!(cause));
                }
                o.insert("state".into(), json!(p.state));
                o.insert("value".into(), json!(p.value));
                o.insert("source".into(), json!(p.source));
                o.insert("derivative".into(), json!(p.derivative));
                o.insert("low".into(), json!(p.low));
                o.insert("high".into(), json!(p.high));
                o.insert("declared".into(), json!(p.declared));
                o.insert("range".into(), json!([p.range.0, p.range.1]));
                let f = &p.function;
                o.insert("coefficients".into(), json!([f.a, f.b, f.c, f.d]));
                Value::Object(o)
            })
            .collect();
        json!({
            "origin": self.origin,
            "state": self.state,
            "posterior": self.posterior,
            "p_evidence": self.p_evidence,
            "omitted": self.omitted,
            "parameters": params,
        })
    }
}

/// Resolves `--origin`: an origin of the network that is not observed.
pub fn resolve_origin(
    net: &Network,
    evidence: &Evidence,
    origin: &str,
) -> Result<VarId, SensitivityError> {
    let v = net.lookup(origin)?;
    let var = net.variable(v);
    if var.role() != Role::Origin {
        return Err(SensitivityError::NotAnOrigin(
            origin.to_string(),
            var.role(),
        ));
    }
    if evidence.contains(v) {
        return Err(SensitivityError::Observed(origin.to_string()));
    }
    Ok(v)
}

/// ln P(e) and P(target = state | e), or `None` when the evidence is impossible.
///
/// Variable elimination with barren-node pruning: two eliminations over the relevant part of
/// the network (P(e) and P(target = state, e)) are much cheaper than compiling a junction tree
/// for each edited network, and exact all the same.
fn solve(
    net: &Network,
    evidence: &Evidence,
    target: VarId,
    state: usize,
) -> Result<Option<(f64, f64)>, InferenceError> {
    let ve = VariableElimination::new(net);
    let ln_pe = match ve.ln_p_evidence(evidence) {
        Ok(x) => x,
        Err(InferenceError::ImpossibleEvidence { .. }) => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut joint = evidence.clone();
    if joint
        .observe(net, target, crate::evidence::Observation::Is(state))
        .is_err()
    {
        // Callers check that the target is unobserved and the state exists.
        return Ok(None);
    }
    let ln_joint = match ve.ln_p_evidence(&joint) {
        Ok(x) => x,
        Err(InferenceError::ImpossibleEvidence { .. }) => f64::NEG_INFINITY,
        Err(e) => return Err(e),
    };
    Ok(Some((ln_pe, (ln_joint - ln_pe).exp())))
}

/// The sensitivity function of P(target = state | e) in one parameter, from the base solve
/// `(ln P(e), posterior)` at the model's values and one more solve.
fn function_from(
    net: &Network,
    evidence: &Evidence,
    target: VarId,
    state: usize,
    which: ParamRef,
    base: (f64, f64),
) -> Result<SensitivityFunction, SensitivityError> {
    let theta0 = net
        .parameter(which)
        .ok_or_else(|| SensitivityError::Network(missing(net, which)))?;

    let theta1 = if theta0 <= 0.5 {
        theta0 + 0.5
    } else {
        theta0 - 0.5
    };
    let changed = net.with_parameter(which, theta1)?;
    // P(e) relative to its value at θ0, and P(x, e) on the same scale.
    let (pe0, joint0) = (1.0, base.1);
    let (pe1, joint1) = match solve(&changed, evidence, target, state)? {
        Some((ln_pe, post)) => {
            let pe = (ln_pe - base.0).exp();
            (pe, post * pe)
        }
        None => (0.0, 0.0),
    };
    let dt = theta1 - theta0;
    let c = (pe1 - pe0) / dt;
    let d = pe0 - c * theta0;
    let a = (joint1 - joint0) / dt;
    let b = joint0 - a * theta0;
    Ok(SensitivityFunction { a, b, c, d })
}

/// The error for a reference that does not fit the network (`with_parameter` names it).
fn missing(net: &Network, which: ParamRef) -> NetworkError {
    match net.with_parameter(which, 0.0) {
        Err(e) => e,
        Ok(_) => NetworkError {
            item: crate::network::Item::Model,
            part: None,
            kind: Box::new(crate::network::NetworkErrorKind::NoSuchParameter(format!(
                "parameter reference {which:?} does not fit the network"
            ))),
        },
    }
}

/// P(target = state | e) as a function of one parameter (two exact solves).
pub fn sensitivity_function(
    net: &Network,
    evidence: &Evidence,
    target: VarId,
    state: usize,
    which: ParamRef,
) -> Result<SensitivityFunction, SensitivityError> {
    let var = net.variable(target);
    if evidence.contains(target) {
        return Err(SensitivityError::Observed(var.id().to_string()));
    }
    if state >= var.cardinality() {
        return Err(SensitivityError::Unknown(UnknownName {
            kind: "state",
            name: format!("#{state}` of `{}", var.id()),
            suggestion: Some(var.states().join("`, `")),
        }));
    }
    let base = solve(net, evidence, target, state)?.ok_or_else(|| impossible(net, evidence))?;
    function_from(net, evidence, target, state, which, base)
}

/// The error exact inference gives for the evidence (computed again to name the conflict).
fn impossible(net: &Network, evidence: &Evidence) -> SensitivityError {
    match VariableElimination::new(net).ln_p_evidence(evidence) {
        Err(e) => SensitivityError::Inference(e),
        Ok(_) => SensitivityError::Inference(InferenceError::ImpossibleEvidence {
            conflict: Vec::new(),
        }),
    }
}

/// The default interval of an undeclared number θ: ±50 % of θ when θ ≤ 0.5, else ±50 % of
/// 1 − θ (so that the two entries of a binary row sweep the same interval), clipped to [0, 1].
pub fn default_interval(value: f64) -> (f64, f64) {
    let s = DEFAULT_RELATIVE_SPREAD;
    let (lo, hi) = if value <= 0.5 {
        (value * (1.0 - s), value * (1.0 + s))
    } else {
        let q = 1.0 - value;
        (1.0 - q * (1.0 + s), 1.0 - q * (1.0 - s))
    };
    (lo.clamp(0.0, 1.0), hi.clamp(0.0, 1.0))
}

/// The interval a parameter sweeps and whether it was declared.
pub fn parameter_interval(net: &Network, which: ParamRef) -> (f64, f64, bool) {
    let value = net.parameter(which).unwrap_or(0.0);
    let (lo, hi) = default_interval(value);
    let default = (lo, hi, false);
    let cpd = net.cpd(which.variable());
    match (which, cpd.parameterisation()) {
        (ParamRef::Table { row, state, .. }, Parameterisation::Table(rows)) => {
            let Some(r) = rows.get(row) else {
                return default;
            };
            let Some(u) = &r.uncertainty else {
                return default;
            };
            if u.distribution.beta().is_none() || u.state == state {
                let (lo, hi) = u.distribution.interval(value);
                return (lo, hi, true);
            }
            // Another state carries the declaration: this entry follows it proportionally.
            let v0 = r.probabilities[u.state];
            if v0 >= 1.0 {
                return default;
            }
            let (lo, hi) = u.distribution.interval(v0);
            let a = value * (1.0 - hi) / (1.0 - v0);
            let b = value * (1.0 - lo) / (1.0 - v0);
            (a.min(b).clamp(0.0, 1.0), a.max(b).clamp(0.0, 1.0), true)
        }
        (ParamRef::Cause { cause, .. }, Parameterisation::NoisyOr { causes, .. }) => {
            match causes.get(cause).and_then(|c| c.p.uncertainty) {
                Some(u) => {
                    let (lo, hi) = u.interval(value);
                    (lo, hi, true)
                }
                None => default,
            }
        }
        (ParamRef::Leak { .. }, Parameterisation::NoisyOr { leak, .. }) => match leak.uncertainty {
            Some(u) => {
                let (lo, hi) = u.interval(value);
                (lo, hi, true)
            }
            None => default,
        },
        _ => default,
    }
}

/// The one-way sensitivity of the origin's positive state to every parameter, largest swing
/// first.
pub fn analyse(
    net: &Network,
    evidence: &Evidence,
    origin: &str,
) -> Result<SensitivityReport, SensitivityError> {
    let target = resolve_origin(net, evidence, origin)?;
    let state = net.variable(target).positive_state();
    let base = solve(net, evidence, target, state)?.ok_or_else(|| impossible(net, evidence))?;
    let relevant =
        net.ancestral_set(std::iter::once(target).chain(evidence.iter().map(|(v, _)| v)));
    let all = net.parameters();
    let mut omitted = 0;
    let mut out = Vec::new();
    for which in all {
        let v = which.variable();
        if !relevant[v] || net.variable(v).cardinality() < 2 {
            omitted += 1;
            continue;
        }
        let function = function_from(net, evidence, target, state, which, base)?;
        let value = net.parameter(which).unwrap_or(0.0);
        let (low, high, declared) = parameter_interval(net, which);
        let (p_lo, p_hi) = (function.eval(low), function.eval(high));
        let range = (p_lo.min(p_hi), p_lo.max(p_hi));
        if range.1 - range.0 < ZERO_SWING {
            omitted += 1;
            continue;
        }
        out.push(describe(
            net, which, value, function, low, high, declared, range,
        ));
    }
    out.sort_by(|x, y| {
        y.swing()
            .total_cmp(&x.swing())
            .then_with(|| x.variable.cmp(&y.variable))
    });
    Ok(SensitivityReport {
        origin: net.variable(target).id().to_string(),
        state: net.variable(target).states()[state].clone(),
        posterior: base.1,
        p_evidence: base.0.exp(),
        parameters: out,
        omitted,
    })
}

#[allow(clippy::too_many_arguments)]
fn describe(
    net: &Network,
    which: ParamRef,
    value: f64,
    function: SensitivityFunction,
    low: f64,
    high: f64,
    declared: bool,
    range: (f64, f64),
) -> ParameterSensitivity {
    let v = which.variable();
    let var = net.variable(v);
    let cpd = net.cpd(v);
    let (kind, row, cause, state, source) = match (which, cpd.parameterisation()) {
        (ParamRef::Table { row, state, .. }, Parameterisation::Table(rows)) => {
            let parents = cpd.parents();
            let mut rest = row;
            let mut states = vec![(String::new(), String::new()); parents.len()];
            for i in (0..parents.len()).rev() {
                let p = net.variable(parents[i]);
                states[i] = (
                    p.id().to_string(),
                    p.states()[rest % p.cardinality()].clone(),
                );
                rest /= p.cardinality();
            }
            (
                ParamKind::Table,
                Some(states),
                None,
                var.states()[state].clone(),
                rows[row].source.clone(),
            )
        }
        (ParamRef::Cause { cause, .. }, Parameterisation::NoisyOr { causes, .. }) => {
            let c = &causes[cause];
            let p = net.variable(c.parent);
            (
                ParamKind::NoisyOrCause,
                None,
                Some(format!("{}={}", p.id(), p.states()[c.state])),
                var.states()[0].clone(),
                c.p.source.clone(),
            )
        }
        (_, Parameterisation::NoisyOr { leak, .. }) => (
            ParamKind::Leak,
            None,
            None,
            var.states()[0].clone(),
            leak.source.clone(),
        ),
        _ => (ParamKind::Table, None, None, String::new(), None),
    };
    ParameterSensitivity {
        parameter: which,
        variable: var.id().to_string(),
        kind,
        row,
        cause,
        state,
        value,
        source,
        derivative: function.derivative(value),
        low,
        high,
        declared,
        range,
        function,
    }
}
