//! A diagnosis as JSON, and evidence read from JSON: the format of `radix query --json` and of
//! every line `radix batch` writes.
//!
//! [`DiagnosisWriter`] writes the text directly rather than building a `serde_json::Value`
//! first, with every name (variable ids, labels, state names) escaped once when the writer is
//! made: a batch of 20,000 cases writes about 100 MB, and formatting must not cost more than
//! the inference. Lines are appended to a [`LineBuffer`], which copies the few-byte pieces a
//! line is made of as fixed-size blocks.

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
    /// Every piece of text the writer copies into lines, escaped, one after the other, and
    /// [`SLACK`] bytes of padding: a piece is copied as a block of `SLACK` bytes read from its
    /// start (see [`LineBuffer`]).
    text: Vec<u8>,
    /// `"model":"…","disclaimer":"…"`.
    head: Piece,
    /// Each variable's id as a JSON string.
    ids: Vec<Piece>,
    /// Each variable's state names as JSON strings.
    states: Vec<Vec<Piece>>,
    /// For each origin, `{"id":…,"label":…,"probability":` (empty for other variables).
    origins: Vec<Piece>,
    /// For each variable, what precedes each state's probability in its posterior:
    /// `"var":{"state":` for the first state, `,"state":` for the others (a line holds a
    /// hundred of these: one copy each rather than five).
    posterior_keys: Vec<Vec<Piece>>,
    /// For each variable, its rank among the origins in file order (`None` for others).
    origin_index: Vec<Option<usize>>,
    /// Whether lines carry the `posteriors` object.
    posteriors: bool,
}

/// Where a piece of a writer's text is: `text[start..start + len]`.
#[derive(Debug, Clone, Copy, Default)]
struct Piece {
    start: usize,
    len: usize,
}

impl<'n> DiagnosisWriter<'n> {
    /// A writer for the diagnoses of `network`, naming `model` (the model file) in each.
    pub fn new(network: &'n Network, model: &str) -> Self {
        let mut text = Vec::new();
        let mut piece = |s: &str| {
            let start = text.len();
            text.extend_from_slice(s.as_bytes());
            Piece {
                start,
                len: s.len(),
            }
        };
        let quoted = |s: &str| {
            let mut q = String::new();
            push_json_str(&mut q, s);
            q
        };
        let head = piece(&format!(
            "\"model\":{},\"disclaimer\":{}",
            quoted(model),
            quoted(crate::DISCLAIMER)
        ));
        let variables = network.variables();
        let ids = variables.iter().map(|v| piece(&quoted(v.id()))).collect();
        let states = variables
            .iter()
            .map(|v| v.states().iter().map(|s| piece(&quoted(s))).collect())
            .collect();
        let origins = variables
            .iter()
            .map(|v| match v.role() {
                Role::Origin => piece(&format!(
                    "{{\"id\":{},\"label\":{},\"probability\":",
                    quoted(v.id()),
                    quoted(v.label())
                )),
                _ => Piece::default(),
            })
            .collect();
        let posterior_keys = variables
            .iter()
            .map(|v| {
                let states = v.states().iter().map(|s| quoted(s));
                states
                    .enumerate()
                    .map(|(k, state)| match k {
                        0 => piece(&format!("{}:{{{state}:", quoted(v.id()))),
                        _ => piece(&format!(",{state}:")),
                    })
                    .collect()
            })
            .collect();
        let mut origin_count = 0;
        let origin_index = variables
            .iter()
            .map(|v| {
                (v.role() == Role::Origin).then(|| {
                    origin_count += 1;
                    origin_count - 1
                })
            })
            .collect();
        text.resize(text.len() + SLACK, b' ');
        DiagnosisWriter {
            network,
            model: model.to_string(),
            text,
            head,
            ids,
            states,
            origins,
            posterior_keys,
            origin_index,
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
        let mut line = LineBuffer::new();
        self.write_line(diagnosis, evidence, id, &mut line);
        out.push_str(line.as_str());
    }

    /// [`Self::write`] into a [`LineBuffer`], as `radix batch` writes its lines.
    pub fn write_line(
        &self,
        diagnosis: &Diagnosis,
        evidence: &Evidence,
        id: Option<&Value>,
        out: &mut LineBuffer,
    ) {
        out.push_str("{");
        if let Some(id) = id {
            out.push_str("\"id\":");
            push_value(out, id);
            out.push_str(",");
        }
        out.piece(&self.text, self.head);
        out.push_str(",\"evidence\":");
        self.write_evidence(evidence, out);
        let posteriors = &diagnosis.posteriors;
        out.push_str(",\"p_evidence\":");
        out.number(posteriors.p_evidence());
        out.push_str(",\"log10_p_evidence\":");
        out.number(posteriors.log10_p_evidence());
        out.push_str(",\"conflict\":");
        out.number(diagnosis.conflict);
        out.push_str(",\"triage\":");
        self.write_triage(&diagnosis.triage, out);
        out.push_str(",\"origins\":[");
        // Where each origin's probability was written, by its rank in file order: the same
        // number in its posterior is copied from there rather than formatted again.
        let mut written = [(0u64, Piece::default()); 32];
        for (i, o) in diagnosis.origins.iter().enumerate() {
            if i > 0 {
                out.push_str(",");
            }
            out.piece(&self.text, self.origins[o.variable]);
            let at = out.len();
            out.number(o.probability);
            if let Some(k) = self.origin_index[o.variable].filter(|&k| k < written.len()) {
                let piece = Piece {
                    start: at,
                    len: out.len() - at,
                };
                written[k] = (o.probability.to_bits(), piece);
            }
            if let Some(rule) = &o.overridden_by {
                out.push_str(",\"override\":");
                push_json_str(out, rule);
            }
            out.push_str("}");
        }
        out.push_str("]");
        if !self.posteriors {
            out.push_str("}");
            return;
        }
        out.push_str(",\"posteriors\":{");
        for (i, (v, p)) in posteriors.iter().enumerate() {
            if i > 0 {
                out.push_str(",");
            }
            let again = self.origin_index[v]
                .and_then(|k| written.get(k))
                .filter(|(_, piece)| piece.len > 0);
            for (key, &x) in self.posterior_keys[v].iter().zip(p) {
                out.piece(&self.text, *key);
                match again {
                    Some(&(bits, piece)) if bits == x.to_bits() => out.repeat(piece),
                    _ => out.number(x),
                }
            }
            out.push_str("}");
        }
        out.push_str("}}");
    }

    /// Appends the evidence as [`evidence_json`] gives it.
    fn write_evidence(&self, evidence: &Evidence, out: &mut LineBuffer) {
        out.push_str("{");
        for (i, (v, obs)) in evidence.iter().enumerate() {
            if i > 0 {
                out.push_str(",");
            }
            out.piece(&self.text, self.ids[v]);
            out.push_str(":");
            match obs {
                Observation::Is(s) => out.piece(&self.text, self.states[v][*s]),
                Observation::IsNot(s) => {
                    out.push_str("{\"not\":");
                    out.piece(&self.text, self.states[v][*s]);
                    out.push_str("}");
                }
                Observation::Likelihood(w) => {
                    out.push_str("{\"likelihood\":[");
                    for (k, x) in w.iter().enumerate() {
                        if k > 0 {
                            out.push_str(",");
                        }
                        out.number(*x);
                    }
                    out.push_str("]}");
                }
            }
        }
        out.push_str("}");
    }

    /// Appends the triage as [`triage_json`] gives it.
    fn write_triage(&self, triage: &Triage, out: &mut LineBuffer) {
        out.push_str("{\"level\":\"");
        out.push_str(triage.level.as_str());
        out.push_str("\",\"overrides\":[");
        for (i, f) in triage.fired.iter().enumerate() {
            if i > 0 {
                out.push_str(",");
            }
            out.push_str("{\"id\":");
            push_json_str(out, &f.id);
            out.push_str(",\"level\":\"");
            out.push_str(f.level.as_str());
            out.push_str("\",\"message\":");
            push_json_str(out, &f.message);
            for (key, vars) in [("triggered_by", &f.triggered_by), ("names", &f.names)] {
                out.push_str(",\"");
                out.push_str(key);
                out.push_str("\":[");
                for (k, &v) in vars.iter().enumerate() {
                    if k > 0 {
                        out.push_str(",");
                    }
                    out.piece(&self.text, self.ids[v]);
                }
                out.push_str("]");
            }
            out.push_str("}");
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

/// Text that JSON is appended to: a `String`, or a [`LineBuffer`].
trait Text: std::fmt::Write {
    fn push_text(&mut self, s: &str);
}

impl Text for String {
    fn push_text(&mut self, s: &str) {
        self.push_str(s);
    }
}

impl Text for LineBuffer {
    fn push_text(&mut self, s: &str) {
        self.push_str(s);
    }
}

/// Appends a JSON string literal.
fn push_json_str(out: &mut impl Text, s: &str) {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push_text("\"");
        out.push_text(s);
        out.push_text("\"");
    } else {
        out.push_text(&Value::from(s).to_string());
    }
}

/// Appends any JSON value (a case's id: usually a number or a short string).
fn push_value(out: &mut impl Text, value: &Value) {
    match value {
        Value::String(s) => push_json_str(out, s),
        // Without a string in between: a case's id is written once a line.
        Value::Number(n) => {
            write!(out, "{n}").expect("appending text does not fail");
        }
        other => out.push_text(&other.to_string()),
    }
}

/// How many bytes past its text a [`LineBuffer`] keeps, and a writer's pieces are padded
/// with: the size of the blocks short pieces are copied in.
const SLACK: usize = 32;

/// Text that [`DiagnosisWriter`] appends lines to (one or many: `radix batch` fills one with
/// a block of 64 lines).
///
/// A line is made of about 300 short pieces (keys, state names, numbers); copied with
/// `push_str`, each is a call into `memcpy`, whose dispatch on the length costs more than the
/// copy. The buffer keeps [`SLACK`] bytes past its text, so that a piece is copied as a block
/// of fixed size (a few vector moves, inlined) and the text's length then advanced by the
/// piece's own.
///
/// ```
/// use radix::diagnosis::LineBuffer;
///
/// let mut text = LineBuffer::new();
/// text.push_str("{\"p\":");
/// text.number(0.25);
/// text.push_str("}");
/// assert_eq!(text.as_str(), "{\"p\":0.25}");
/// ```
#[derive(Debug, Clone, Default)]
pub struct LineBuffer {
    /// The text is `bytes[..len]`, whole UTF-8 pieces only; the rest is slack.
    bytes: Vec<u8>,
    len: usize,
}

impl LineBuffer {
    /// An empty buffer.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty buffer with room for `bytes` bytes of text.
    pub fn with_capacity(bytes: usize) -> Self {
        LineBuffer {
            bytes: vec![0; bytes + SLACK],
            len: 0,
        }
    }

    /// The text.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    /// The text as a `str` (checked: every piece appended was whole UTF-8).
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(self.as_bytes()).expect("whole UTF-8 pieces only")
    }

    /// The length of the text in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the text is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Empties the text, keeping the memory.
    pub fn clear(&mut self) {
        self.len = 0;
    }

    /// Appends `s`.
    #[inline]
    pub fn push_str(&mut self, s: &str) {
        self.reserve(s.len());
        self.bytes[self.len..self.len + s.len()].copy_from_slice(s.as_bytes());
        self.len += s.len();
    }

    /// Appends a JSON number: the shortest form that reads back to the same f64 (`0.25`,
    /// `1.5e-7`), formatted by zmij (serde_json's formatter, so a number reads the same here
    /// as in any `Value`); `null` for a non-finite value, which JSON cannot carry.
    #[inline]
    pub fn number(&mut self, x: f64) {
        if x.is_finite() {
            self.short(zmij::Buffer::new().format_finite(x).as_bytes());
        } else {
            self.push_str("null");
        }
    }

    /// Makes room for `n` more bytes of text and the slack after them.
    #[inline]
    fn reserve(&mut self, n: usize) {
        let need = self.len + n + SLACK;
        if self.bytes.len() < need {
            self.grow(need);
        }
    }

    #[cold]
    fn grow(&mut self, need: usize) {
        self.bytes.resize(need.max(2 * self.bytes.len()), 0);
    }

    /// Appends `text[piece]`, where `text` holds at least `SLACK` bytes from the piece's start.
    #[inline]
    fn piece(&mut self, text: &[u8], piece: Piece) {
        if piece.len <= SLACK {
            self.reserve(SLACK);
            self.bytes[self.len..self.len + SLACK]
                .copy_from_slice(&text[piece.start..piece.start + SLACK]);
            self.len += piece.len;
        } else {
            self.long(&text[piece.start..piece.start + piece.len]);
        }
    }

    /// Appends again the text at `piece`, written earlier into this buffer.
    #[inline]
    fn repeat(&mut self, piece: Piece) {
        if piece.len <= SLACK {
            self.reserve(SLACK);
            // The block may run into text written since, or into the slack: only `len` of
            // it counts.
            self.bytes
                .copy_within(piece.start..piece.start + SLACK, self.len);
            self.len += piece.len;
        } else {
            self.reserve(piece.len);
            self.bytes
                .copy_within(piece.start..piece.start + piece.len, self.len);
            self.len += piece.len;
        }
    }

    /// Appends `s`, at most `SLACK` bytes, as two overlapping blocks of fixed size.
    #[inline]
    fn short(&mut self, s: &[u8]) {
        let n = s.len();
        if n > SLACK {
            return self.long(s);
        }
        self.reserve(SLACK);
        let d = &mut self.bytes[self.len..self.len + SLACK];
        if n >= 16 {
            d[..16].copy_from_slice(&s[..16]);
            d[n - 16..n].copy_from_slice(&s[n - 16..]);
        } else if n >= 8 {
            d[..8].copy_from_slice(&s[..8]);
            d[n - 8..n].copy_from_slice(&s[n - 8..]);
        } else if n >= 4 {
            d[..4].copy_from_slice(&s[..4]);
            d[n - 4..n].copy_from_slice(&s[n - 4..]);
        } else {
            d[..n].copy_from_slice(s);
        }
        self.len += n;
    }

    fn long(&mut self, s: &[u8]) {
        self.reserve(s.len());
        self.bytes[self.len..self.len + s.len()].copy_from_slice(s);
        self.len += s.len();
    }
}

impl std::fmt::Write for LineBuffer {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.push_str(s);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnosis::Diagnoser;

    /// Every way a `LineBuffer` copies (blocks of every length up to past `SLACK`, numbers,
    /// repeats of earlier text, growth from empty) gives the text `String` appends give.
    #[test]
    fn line_buffers_hold_what_strings_would() {
        let mut line = LineBuffer::new();
        let mut expected = String::new();
        let alphabet: Vec<char> = ('a'..='z').chain('A'..='Z').collect();
        for n in 0..=SLACK + 9 {
            let s: String = (0..n)
                .map(|i| alphabet[(i * 7 + n) % alphabet.len()])
                .collect();
            line.short(s.as_bytes());
            expected.push_str(&s);
            line.push_str(",");
            expected.push(',');
        }
        assert_eq!(line.as_str(), expected);

        // Pieces of a padded text, as a writer holds them.
        let words = [
            "x",
            "\"state\":",
            "a key of exactly thirty-two byte",
            "é ü",
            "",
        ];
        let mut text = Vec::new();
        let pieces: Vec<Piece> = words
            .iter()
            .map(|w| {
                let start = text.len();
                text.extend_from_slice(w.as_bytes());
                Piece {
                    start,
                    len: w.len(),
                }
            })
            .collect();
        text.resize(text.len() + SLACK, b' ');
        for (w, &p) in words.iter().zip(&pieces) {
            line.piece(&text, p);
            expected.push_str(w);
        }
        let long = "a label longer than the slack, copied whole".repeat(3);
        line.push_str(&long);
        expected.push_str(&long);
        assert_eq!(line.as_str(), expected);

        for x in [
            0.0,
            -0.0,
            1.0,
            0.25,
            0.1,
            1.0 / 3.0,
            0.837_055_133_691_129_5,
            0.95,
            1e-7,
            1.5e-7,
            2.5e-300,
            5e-324,
            -1.7976931348623157e308,
            123456789.0,
            1e21,
            f64::MIN_POSITIVE,
        ] {
            let at = line.len();
            line.number(x);
            let written = line.as_str()[at..].to_string();
            assert_eq!(written, zmij::Buffer::new().format_finite(x));
            assert_eq!(written.parse::<f64>().unwrap().to_bits(), x.to_bits());
            let piece = Piece {
                start: at,
                len: line.len() - at,
            };
            line.repeat(piece);
            expected.push_str(&written);
            expected.push_str(&written);
        }
        line.number(f64::NAN);
        expected.push_str("null");
        assert_eq!(line.as_str(), expected);
        line.clear();
        assert!(line.is_empty());
        line.push_str("again");
        assert_eq!(line.as_str(), "again");
    }

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
