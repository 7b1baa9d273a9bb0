//! A diagnosis as JSON, and evidence read from JSON: the format of `radix query --json` and of
//! every line `radix batch` writes.
//!
//! [`DiagnosisWriter`] writes the text directly rather than building a `serde_json::Value`
//! first, with every name (variable ids, labels, state names) escaped once when the writer is
//! made: a batch of 20,000 cases writes about 100 MB, and formatting must not cost more than
//! the inference.

use serde_json::{Map, Value, json};

use crate::evidence::{Evidence, EvidenceError, Observation};
use crate::network::{Network, Role};
use crate::triage::Triage;

use super::Diagnosis;

/// Writes the diagnoses of one network as one-line JSON objects:
///
/// `{"id"?, "model", "disclaimer", "evidence", "p_evidence", "log10_p_evidence", "conflict",
/// "triage", "origins": [{"id", "label", "probability", "override"?}], "posteriors":
/// {var: {state: p}}}`
///
/// ```
/// # use radix::network::*;
/// # let mut b = NetworkBuilder::new("t");
/// # b.variable(VariableSpec::new("rain", "Rain", Role::Origin, &["present", "absent"]),
/// #            CpdSpec::root(vec![0.2, 0.8], "x"));
/// # b.variable(VariableSpec::new("wet", "Wet", Role::Finding, &["present", "absent"]),
/// #            CpdSpec::noisy_or(0.1, vec![CauseSpec::new("rain", 0.9)], "x"));
/// # let net = b.build().unwrap();
/// use radix::diagnosis::{Diagnoser, DiagnosisWriter};
/// use radix::evidence::Evidence;
///
/// let diagnoser = Diagnoser::new(&net).unwrap();
/// let writer = DiagnosisWriter::new(&net, "rain.toml");
/// let mut e = Evidence::new();
/// e.parse_assignment(&net, "wet=present").unwrap();
/// let d = diagnoser.diagnose(&mut diagnoser.workspace(), &e).unwrap();
/// let mut line = String::new();
/// writer.write(&d, &e, None, &mut line);
/// let v: serde_json::Value = serde_json::from_str(&line).unwrap();
/// assert_eq!(v["origins"][0]["id"], "rain");
/// assert_eq!(v["evidence"]["wet"], "present");
/// ```
#[derive(Debug, Clone)]
pub struct DiagnosisWriter<'n> {
    network: &'n Network,
    model: String,
    /// `"model":"…","disclaimer":"…"`.
    head: String,
    /// Each variable's id as a JSON string.
    ids: Vec<String>,
    /// Each variable's state names as JSON strings.
    states: Vec<Vec<String>>,
    /// For each origin, `{"id":…,"label":…,"probability":` (empty for other variables).
    origins: Vec<String>,
    /// For each variable, what precedes each state's probability in its posterior:
    /// `"var":{"state":` for the first state, `,"state":` for the others (a line holds a
    /// hundred of these: one copy each rather than five).
    posterior_keys: Vec<Vec<String>>,
    /// Whether lines carry the `posteriors` object.
    posteriors: bool,
}

impl<'n> DiagnosisWriter<'n> {
    /// A writer for the diagnoses of `network`, naming `model` (the model file) in each.
    pub fn new(network: &'n Network, model: &str) -> Self {
        let quoted = |s: &str| {
            let mut q = String::new();
            push_str(&mut q, s);
            q
        };
        let head = format!(
            "\"model\":{},\"disclaimer\":{}",
            quoted(model),
            quoted(crate::DISCLAIMER)
        );
        let ids = network.variables().iter().map(|v| quoted(v.id())).collect();
        let states = network
            .variables()
            .iter()
            .map(|v| v.states().iter().map(|s| quoted(s)).collect())
            .collect();
        let origins = network
            .variables()
            .iter()
            .map(|v| match v.role() {
                Role::Origin => format!(
                    "{{\"id\":{},\"label\":{},\"probability\":",
                    quoted(v.id()),
                    quoted(v.label())
                ),
                _ => String::new(),
            })
            .collect();
        let posterior_keys = network
            .variables()
            .iter()
            .map(|v| {
                let states = v.states().iter().map(|s| quoted(s));
                states
                    .enumerate()
                    .map(|(k, state)| match k {
                        0 => format!("{}:{{{state}:", quoted(v.id())),
                        _ => format!(",{state}:"),
                    })
                    .collect()
            })
            .collect();
        DiagnosisWriter {
            network,
            model: model.to_string(),
            head,
            ids,
            states,
            origins,
            posterior_keys,
            posteriors: true,
        }
    }

    /// A writer that leaves out the `posteriors` object (every variable's distribution): the
    /// lines keep the evidence, P(evidence), the triage and the ranked origins, about a third
    /// of the text on the clinical model. The diagnoses need then hold only the origins'
    /// posteriors (see [`Diagnoser::diagnose_origins`](super::Diagnoser::diagnose_origins)).
    pub fn without_posteriors(mut self) -> Self {
        self.posteriors = false;
        self
    }

    /// Whether the lines carry the `posteriors` object (see [`Self::without_posteriors`]).
    pub fn writes_posteriors(&self) -> bool {
        self.posteriors
    }

    /// Appends the diagnosis of `evidence` to `out` as one line (without the newline), with
    /// `id` as its first field when given.
    pub fn write(
        &self,
        diagnosis: &Diagnosis,
        evidence: &Evidence,
        id: Option<&Value>,
        out: &mut String,
    ) {
        out.push('{');
        if let Some(id) = id {
            out.push_str("\"id\":");
            push_value(out, id);
            out.push(',');
        }
        out.push_str(&self.head);
        out.push_str(",\"evidence\":");
        self.write_evidence(evidence, out);
        let posteriors = &diagnosis.posteriors;
        out.push_str(",\"p_evidence\":");
        push_f64(out, posteriors.p_evidence());
        out.push_str(",\"log10_p_evidence\":");
        push_f64(out, posteriors.log10_p_evidence());
        out.push_str(",\"conflict\":");
        push_f64(out, diagnosis.conflict);
        out.push_str(",\"triage\":");
        self.write_triage(&diagnosis.triage, out);
        out.push_str(",\"origins\":[");
        for (i, o) in diagnosis.origins.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&self.origins[o.variable]);
            push_f64(out, o.probability);
            if let Some(rule) = &o.overridden_by {
                out.push_str(",\"override\":");
                push_str(out, rule);
            }
            out.push('}');
        }
        out.push(']');
        if !self.posteriors {
            out.push('}');
            return;
        }
        out.push_str(",\"posteriors\":{");
        for (i, (v, p)) in posteriors.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            for (key, x) in self.posterior_keys[v].iter().zip(p) {
                out.push_str(key);
                push_f64(out, *x);
            }
            out.push('}');
        }
        out.push_str("}}");
    }

    /// Appends the evidence as [`evidence_json`] gives it.
    fn write_evidence(&self, evidence: &Evidence, out: &mut String) {
        out.push('{');
        for (i, (v, obs)) in evidence.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&self.ids[v]);
            out.push(':');
            match obs {
                Observation::Is(s) => out.push_str(&self.states[v][*s]),
                Observation::IsNot(s) => {
                    out.push_str("{\"not\":");
                    out.push_str(&self.states[v][*s]);
                    out.push('}');
                }
                Observation::Likelihood(w) => {
                    out.push_str("{\"likelihood\":[");
                    for (k, x) in w.iter().enumerate() {
                        if k > 0 {
                            out.push(',');
                        }
                        push_f64(out, *x);
                    }
                    out.push_str("]}");
                }
            }
        }
        out.push('}');
    }

    /// Appends the triage as [`triage_json`] gives it.
    fn write_triage(&self, triage: &Triage, out: &mut String) {
        out.push_str("{\"level\":\"");
        out.push_str(triage.level.as_str());
        out.push_str("\",\"overrides\":[");
        for (i, f) in triage.fired.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str("{\"id\":");
            push_str(out, &f.id);
            out.push_str(",\"level\":\"");
            out.push_str(f.level.as_str());
            out.push_str("\",\"message\":");
            push_str(out, &f.message);
            for (key, vars) in [("triggered_by", &f.triggered_by), ("names", &f.names)] {
                out.push_str(",\"");
                out.push_str(key);
                out.push_str("\":[");
                for (k, &v) in vars.iter().enumerate() {
                    if k > 0 {
                        out.push(',');
                    }
                    out.push_str(&self.ids[v]);
                }
                out.push(']');
            }
            out.push('}');
        }
        out.push_str("]}");
    }

    /// The model file named in each diagnosis.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// The network whose diagnoses this writes.
    pub fn network(&self) -> &'n Network {
        self.network
    }
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

/// The triage as JSON: `{"level", "overrides": [{"id", "level", "message", "triggered_by",
/// "names"}]}`.
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

/// Appends any JSON value (a case's id: usually a number or a short string).
fn push_value(out: &mut String, value: &Value) {
    match value {
        Value::String(s) => push_str(out, s),
        // Without a string in between: a case's id is written once a line.
        Value::Number(n) => {
            use std::fmt::Write;
            write!(out, "{n}").expect("writing to a String does not fail");
        }
        other => out.push_str(&other.to_string()),
    }
}

/// Appends a JSON number: the shortest form that reads back to the same f64 (`0.25`,
/// `1.5e-7`), formatted by zmij (serde_json's formatter, so a number reads the same here as in
/// any `Value`); `null` for a non-finite value, which JSON cannot carry.
fn push_f64(out: &mut String, x: f64) {
    if x.is_finite() {
        out.push_str(zmij::Buffer::new().format_finite(x));
    } else {
        out.push_str("null");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnosis::Diagnoser;

    /// The written line against the same object built as a `Value` from the diagnosis's
    /// fields, on a case with every kind of evidence and a fired rule.
    #[test]
    fn written_lines_match_the_documented_object() {
        let net = crate::format::load(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/models/hip_leg_pain.toml"
        ))
        .unwrap();
        let diagnoser = Diagnoser::new(&net).unwrap();
        let writer = DiagnosisWriter::new(&net, "dir/\"odd\" name.toml");
        let mut evidence = Evidence::new();
        let triggers: Vec<usize> = net
            .triage_rules()
            .iter()
            .flat_map(|r| r.triggers.iter().map(|t| t.variable))
            .collect();
        let names: Vec<(usize, usize)> = net
            .variables()
            .iter()
            .enumerate()
            .filter(|(i, v)| v.role() != Role::Origin && !triggers.contains(i))
            .map(|(i, v)| (i, v.cardinality()))
            .take(3)
            .collect();
        assert_eq!(
            names.len(),
            3,
            "the model has three findings outside its rules"
        );
        evidence
            .observe(&net, names[0].0, Observation::Is(0))
            .unwrap();
        evidence
            .observe(&net, names[1].0, Observation::IsNot(0))
            .unwrap();
        let w: Vec<f64> = (0..names[2].1).map(|i| 0.25 + i as f64 * 0.5).collect();
        evidence
            .observe(&net, names[2].0, Observation::Likelihood(w))
            .unwrap();
        // Fire every rule the model has, to exercise the overrides.
        for rule in net.triage_rules() {
            for t in &rule.triggers {
                if !evidence.contains(t.variable) {
                    evidence
                        .observe(&net, t.variable, Observation::Is(t.state))
                        .unwrap();
                }
            }
        }
        let d = diagnoser
            .diagnose(&mut diagnoser.workspace(), &evidence)
            .unwrap();
        assert!(!d.triage.fired.is_empty(), "the case fires a rule");
        let id = json!("case \"7\"");
        let mut line = String::new();
        writer.write(&d, &evidence, Some(&id), &mut line);
        assert!(!line.contains('\n'));
        let written: Value = serde_json::from_str(&line).unwrap();

        let number = |x: f64| serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number);
        let origins: Vec<Value> = d
            .origins
            .iter()
            .map(|o| {
                let var = net.variable(o.variable);
                let mut m = Map::new();
                m.insert("id".into(), json!(var.id()));
                m.insert("label".into(), json!(var.label()));
                m.insert("probability".into(), number(o.probability));
                if let Some(rule) = &o.overridden_by {
                    m.insert("override".into(), json!(rule));
                }
                Value::Object(m)
            })
            .collect();
        let mut posteriors = Map::new();
        for (v, p) in d.posteriors.iter() {
            let var = net.variable(v);
            let states: Map<String, Value> = var
                .states()
                .iter()
                .zip(p)
                .map(|(s, &x)| (s.clone(), number(x)))
                .collect();
            posteriors.insert(var.id().to_string(), Value::Object(states));
        }
        let expected = json!({
            "id": id,
            "model": "dir/\"odd\" name.toml",
            "disclaimer": crate::DISCLAIMER,
            "evidence": evidence_json(&net, &evidence),
            "p_evidence": number(d.posteriors.p_evidence()),
            "log10_p_evidence": number(d.posteriors.log10_p_evidence()),
            "conflict": number(d.conflict),
            "triage": triage_json(&net, &d.triage),
            "origins": origins,
            "posteriors": posteriors,
        });
        assert_eq!(written, expected);
        // The same order of fields as documented (`preserve_order` keeps it when parsed).
        let keys: Vec<&String> = written.as_object().unwrap().keys().collect();
        let expected_keys: Vec<&String> = expected.as_object().unwrap().keys().collect();
        assert_eq!(keys, expected_keys);
    }
}
