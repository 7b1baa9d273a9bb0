//! `radix batch`: many cases, one compiled network, in parallel, output in input order.

use std::fs::File;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use radix::diagnosis::{self, Diagnoser, DiagnosisWriter};
use radix::evidence::{Evidence, Observation};
use radix::inference::{CompileOptions, DEFAULT_MAX_TABLE_ENTRIES};
use radix::network::Network;
use rayon::prelude::*;
use serde_json::{Map, Value, json};

/// Exit code when some cases failed and the rest were scored.
pub const EXIT_SOME_FAILED: i32 = 1;

/// Cases scored between two writes: bounds memory while keeping threads busy.
const CHUNK: usize = 512;

/// Cases per parallel task.
const BLOCK: usize = 64;

#[derive(Args)]
pub struct BatchArgs {
    /// The model file.
    model: PathBuf,
    /// JSON Lines input: one case per line, `{"id": ..., "evidence": {"VAR": "STATE", ...}}`.
    #[arg(long, value_name = "CASES.jsonl")]
    cases: PathBuf,
    /// Write the results here instead of standard output (an existing file needs --force).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Replace FILE if it exists (never the cases file itself).
    #[arg(long)]
    force: bool,
    /// Worker threads (default: one per core).
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// Leave out each line's `posteriors` object (every variable's distribution): the lines
    /// keep the evidence, P(evidence), the triage and the ranked origins, a third of the text.
    #[arg(long)]
    origins_only: bool,
    /// Refuse networks whose compiled tables would hold more entries than this.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_TABLE_ENTRIES)]
    max_table_entries: f64,
}

pub fn run(args: &BatchArgs) -> Result<i32, String> {
    let net = super::load(&args.model)?;
    // Cases are scored in whatever order the threads take them: results must not depend on it.
    let options = CompileOptions {
        max_table_entries: args.max_table_entries,
        reproducible: true,
        ..CompileOptions::default()
    };
    let diagnoser = Diagnoser::with_options(&net, &options)
        .map_err(|e| format!("{}: {e}", args.model.display()))?;
    let text = std::fs::read_to_string(&args.cases)
        .map_err(|e| format!("{}: cannot read the cases file: {e}", args.cases.display()))?;
    let lines: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| (i + 1, l))
        .collect();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads.unwrap_or(0))
        .build()
        .map_err(|e| format!("cannot start worker threads: {e}"))?;

    // Results are written a block of 64 cases (about 300 kB) at a time: no buffering needed.
    let (mut out, temp): (Box<dyn Write + Send>, Option<(PathBuf, PathBuf)>) = match &args.out {
        None => (Box::new(std::io::stdout()), None),
        Some(path) => {
            let (file, temp) = open_output(path, &args.cases, args.force)?;
            (Box::new(file), Some((temp, path.clone())))
        }
    };

    // After the output is opened: a refused --out fails before any work. Every line is read
    // once, here: the patterns of the cases choose the trees compiled up front.
    let cases: Vec<Case> = pool.install(|| {
        lines
            .par_iter()
            .map(|&(number, line)| {
                let (id, evidence) = read_case(&net, line);
                Case {
                    number,
                    id,
                    evidence,
                }
            })
            .collect()
    });
    // Trees for the patterns that recur and bases for the commonly observed variables, chosen
    // from the whole file (lines that cannot be read are reported when scored): no answer
    // depends on the threads.
    let known: Vec<&Evidence> = cases
        .iter()
        .filter_map(|c| c.evidence.as_ref().ok())
        .collect();
    pool.install(|| diagnoser.tree().prepare_cohort(&known));

    let progress = if std::io::stderr().is_terminal() {
        let pb =
            ProgressBar::with_draw_target(Some(cases.len() as u64), ProgressDrawTarget::stderr());
        pb.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} cases  {per_sec}  eta {eta}")
                .expect("a valid template"),
        );
        pb
    } else {
        ProgressBar::hidden()
    };

    let model = args.model.display().to_string();
    let writer = match args.origins_only {
        false => DiagnosisWriter::new(&net, &model),
        true => DiagnosisWriter::new(&net, &model).without_posteriors(),
    };
    let cases_name = args.cases.display().to_string();
    // Writing runs on its own thread, beside the scoring workers: a chunk is written (the
    // kernel copying ~2.5 MB into the file) while the next one is scored. Written blocks' text
    // buffers come back for reuse: fresh ones of this size would be mapped and unmapped by the
    // allocator each time, and every page faulted in again.
    type Scored = (usize, Vec<(String, Vec<(usize, String)>)>);
    let (to_writer, scored) = std::sync::mpsc::sync_channel::<Scored>(1);
    let (give_back, spare) = std::sync::mpsc::channel::<String>();
    let failed = std::thread::scope(|scope| {
        let progress = &progress;
        let cases_name = &cases_name;
        let writing = scope.spawn(move || -> Result<usize, String> {
            let mut failed = 0usize;
            for (count, results) in scored {
                for (mut text, errors) in results {
                    for (number, e) in errors {
                        failed += 1;
                        progress.suspend(|| eprintln!("error: {cases_name}:{number}: {e}"));
                    }
                    out.write_all(text.as_bytes())
                        .map_err(|e| format!("cannot write the results: {e}"))?;
                    text.clear();
                    // The scoring side may have finished: then the buffer is simply dropped.
                    let _ = give_back.send(text);
                }
                progress.inc(count as u64);
            }
            out.flush()
                .map_err(|e| format!("cannot write the results: {e}"))?;
            Ok(failed)
        });
        for chunk in cases.chunks(CHUNK) {
            let blocks = chunk.len().div_ceil(BLOCK);
            let texts: Vec<String> = (0..blocks)
                .map(|_| {
                    spare
                        .try_recv()
                        .unwrap_or_else(|_| String::with_capacity(BLOCK * 6144))
                })
                .collect();
            let results: Vec<(String, Vec<(usize, String)>)> = pool.install(|| {
                chunk
                    .par_chunks(BLOCK)
                    .zip(texts)
                    // One workspace per worker, reused across its blocks: its buffers stay
                    // sized.
                    .map_init(
                        || diagnoser.workspace(),
                        |ws, (cases, mut text)| {
                            let mut errors = Vec::new();
                            for case in cases {
                                if let Some(e) = score(&diagnoser, &writer, ws, case, &mut text) {
                                    errors.push((case.number, e));
                                }
                                text.push('\n');
                            }
                            (text, errors)
                        },
                    )
                    .collect()
            });
            if to_writer.send((chunk.len(), results)).is_err() {
                // Writing failed: its error is reported below.
                break;
            }
        }
        drop(to_writer);
        writing.join().expect("the writing thread does not panic")
    })?;
    progress.finish_and_clear();
    if let Some((temp, path)) = temp {
        std::fs::rename(&temp, &path)
            .map_err(|e| format!("cannot move the results to {}: {e}", path.display()))?;
    }
    eprintln!("{} case(s) scored, {failed} failed", cases.len() - failed);
    Ok(if failed > 0 { EXIT_SOME_FAILED } else { 0 })
}

/// Scores one input line, appending its output line (without the newline) to `out`; returns
/// the error of a case that could not be scored. A line that cannot be read gets an error
/// object with its id (if any) so that output lines stay aligned with input cases.
fn score(
    diagnoser: &Diagnoser<'_>,
    writer: &DiagnosisWriter<'_>,
    ws: &mut radix::inference::Workspace,
    case: &Case,
    out: &mut String,
) -> Option<String> {
    let net = writer.network();
    let id = &case.id;
    let evidence = match &case.evidence {
        Ok(e) => e,
        Err(message) => {
            out.push_str(&json!({ "id": id, "error": message }).to_string());
            return Some(message.clone());
        }
    };
    // Lines without every variable's posterior need the origins' alone.
    let diagnosis = match writer.writes_posteriors() {
        true => diagnoser.diagnose(ws, evidence),
        false => diagnoser.diagnose_origins(ws, evidence),
    };
    match diagnosis {
        Ok(d) => {
            writer.write(&d, evidence, Some(id), out);
            None
        }
        Err(failure) => {
            let body = json!({
                "model": writer.model(),
                "evidence": diagnosis::evidence_json(net, evidence),
                "triage": diagnosis::triage_json(net, &failure.triage),
                "error": failure.error.to_string(),
            });
            out.push_str(&with_id(id.clone(), body).to_string());
            Some(failure.error.to_string())
        }
    }
}

/// One input line, read.
struct Case {
    /// Its line number in the file.
    number: usize,
    /// Its id, or null.
    id: Value,
    /// Its evidence, or why it cannot be scored.
    evidence: Result<Evidence, String>,
}

/// Reads one input line: the case's id (null when it has none or the line is not a JSON
/// object) and its evidence, or why the line cannot be scored.
///
/// The usual line (`{"id": ..., "evidence": {"VAR": "STATE", ...}}` with plain names, each
/// variable once) is read straight into the evidence, without building JSON values; anything
/// else, and every error, goes through [`read_case_value`], which gives the same evidence and
/// the error messages.
fn read_case(net: &Network, line: &str) -> (Value, Result<Evidence, String>) {
    match read_case_fast(net, line) {
        Some((id, evidence)) => (id, Ok(evidence)),
        None => read_case_value(net, line),
    }
}

/// [`read_case`]'s fast path: the id and evidence of a usual line, or `None`.
fn read_case_fast(net: &Network, line: &str) -> Option<(Value, Evidence)> {
    // (Serde would also read a struct from an array.)
    if !line.trim_start().starts_with('{') {
        return None;
    }
    let case: FastCase<'_> = serde_json::from_str(line).ok()?;
    let evidence = case.evidence(net)?;
    Some((case.id, evidence))
}

/// A case line as [`read_case`]'s fast path reads it: names borrowed from the line.
#[derive(serde::Deserialize)]
struct FastCase<'a> {
    #[serde(default)]
    id: Value,
    /// Absent: no evidence (`null` is an error, for the slow path).
    #[serde(borrow, default)]
    evidence: FastEvidence<'a>,
}

/// The evidence object, in file order.
#[derive(Default)]
struct FastEvidence<'a>(Vec<(&'a str, FastObservation<'a>)>);

/// One observation: `"STATE"`, `{"not": "STATE"}` or `{"likelihood": [w, ...]}`.
enum FastObservation<'a> {
    Is(&'a str),
    IsNot(&'a str),
    Likelihood(Vec<f64>),
}

impl FastCase<'_> {
    /// The evidence, or `None` for anything the slow path must read (or reject).
    fn evidence(&self, net: &Network) -> Option<Evidence> {
        let entries = &self.evidence.0;
        let mut e = Evidence::with_capacity(entries.len());
        for (i, (name, obs)) in entries.iter().enumerate() {
            // A repeated name: JSON objects keep the last value; leave that to the slow path.
            if entries[..i].iter().any(|(n, _)| n == name) {
                return None;
            }
            let var = net.id_of(name)?;
            let state = |s: &str| net.variable(var).state_index(s);
            let observation = match obs {
                FastObservation::Is(s) => Observation::Is(state(s)?),
                FastObservation::IsNot(s) => Observation::IsNot(state(s)?),
                FastObservation::Likelihood(w) => Observation::Likelihood(w.clone()),
            };
            e.observe(net, var, observation).ok()?;
        }
        Some(e)
    }
}

impl<'de: 'a, 'a> serde::Deserialize<'de> for FastEvidence<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Entries;
        impl<'de> serde::de::Visitor<'de> for Entries {
            type Value = FastEvidence<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an evidence object")
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(
                self,
                mut m: M,
            ) -> Result<Self::Value, M::Error> {
                let mut entries = Vec::new();
                while let Some(name) = m.next_key::<&'de str>()? {
                    entries.push((name, m.next_value::<FastObservation<'de>>()?));
                }
                Ok(FastEvidence(entries))
            }
        }
        d.deserialize_map(Entries)
    }
}

impl<'de: 'a, 'a> serde::Deserialize<'de> for FastObservation<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Observed;
        impl<'de> serde::de::Visitor<'de> for Observed {
            type Value = FastObservation<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a state name, {\"not\": STATE} or {\"likelihood\": [w, ...]}")
            }
            fn visit_borrowed_str<E: serde::de::Error>(
                self,
                s: &'de str,
            ) -> Result<Self::Value, E> {
                Ok(FastObservation::Is(s))
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(
                self,
                mut m: M,
            ) -> Result<Self::Value, M::Error> {
                use serde::de::Error;
                let observation = match m.next_key::<&'de str>()? {
                    Some("not") => FastObservation::IsNot(m.next_value()?),
                    Some("likelihood") => FastObservation::Likelihood(m.next_value()?),
                    _ => return Err(M::Error::custom("not a fast-path observation")),
                };
                match m.next_key::<&'de str>()? {
                    None => Ok(observation),
                    Some(_) => Err(M::Error::custom("not a fast-path observation")),
                }
            }
        }
        d.deserialize_any(Observed)
    }
}

/// [`read_case`] through a JSON value: every form the evidence may take, and the errors.
fn read_case_value(net: &Network, line: &str) -> (Value, Result<Evidence, String>) {
    let case: Value = match serde_json::from_str(line) {
        Ok(v) => v,
        Err(e) => return (Value::Null, Err(format!("not a JSON object: {e}"))),
    };
    let Some(obj) = case.as_object() else {
        return (Value::Null, Err("not a JSON object".to_string()));
    };
    let id = obj.get("id").cloned().unwrap_or(Value::Null);
    let evidence = match obj.get("evidence") {
        None => Ok(Evidence::new()),
        Some(e) => diagnosis::evidence_from_json(net, e).map_err(|e| e.to_string()),
    };
    (id, evidence)
}

/// `{"id": ..., ...rest}` with the id first.
fn with_id(id: Value, body: Value) -> Value {
    let mut map = Map::new();
    map.insert("id".to_string(), id);
    if let Value::Object(rest) = body {
        map.extend(rest);
    }
    Value::Object(map)
}

/// Opens a temporary file beside `path`, refusing to replace the cases file or (without
/// `force`) any existing file. The caller renames it into place when all is written.
fn open_output(path: &Path, cases: &Path, force: bool) -> Result<(File, PathBuf), String> {
    if let (Ok(a), Ok(b)) = (path.canonicalize(), cases.canonicalize()) {
        if a == b {
            return Err(format!(
                "--out {} is the cases file; choose another file",
                path.display()
            ));
        }
    }
    if path.exists() && !force {
        return Err(format!(
            "{} exists; choose another file or pass --force to replace it",
            path.display()
        ));
    }
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("results");
    let temp = path.with_file_name(format!(".{name}.radix-partial"));
    let file = File::create(&temp).map_err(|e| format!("cannot create {}: {e}", temp.display()))?;
    Ok((file, temp))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every line, read on the fast path or not, gives what the JSON value path gives: the
    /// same id and evidence, or the same error.
    #[test]
    fn case_lines_read_the_same_on_the_fast_path() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/models/hip_leg_pain.toml");
        let net = radix::format::load(path).unwrap();
        let lines = [
            r#"{"id": 1, "evidence": {"age_band": "under_40", "sex": "male"}}"#,
            r#"{"evidence": {"sex": {"not": "male"}}, "id": "a\"b"}"#,
            r#"{"id": [1, 2], "evidence": {"history_of_cancer": {"likelihood": [0.2, 1]}}}"#,
            r#"{"id": 3}"#,
            r#"{"id": 4, "evidence": {}, "note": {"x": [1, "y"]}}"#,
            r#"{"id": 5, "evidence": null}"#,
            r#"{"id": 6, "evidence": {"sex": "male", "sex": "female"}}"#,
            r#"{"id": 7, "evidence": {"se\u0078": "male"}}"#,
            r#"{"id": 8, "evidence": {"sexx": "male"}}"#,
            r#"{"id": 9, "evidence": {"sex": "mail"}}"#,
            r#"{"id": 10, "evidence": {"sex": {"not": "male", "x": 1}}}"#,
            r#"{"id": 11, "evidence": {"sex": {"likelihood": [1, "a"]}}}"#,
            r#"{"id": 12, "evidence": {"sex": {"likelihood": [0, 0]}}}"#,
            r#"{"id": 13, "evidence": {"sex": 1}}"#,
            r#"{"id": 14, "id": 15, "evidence": {"sex": "male"}}"#,
            r#"[14, {"sex": "male"}]"#,
            r#"{"id": 16, "evidence": {"sex": "male"}"#,
            r#"  {"id": 17, "evidence": {"age_band": "60_and_over"}}  "#,
        ];
        let mut fast = 0;
        for line in lines {
            let (id, evidence) = read_case(&net, line);
            let (id_value, evidence_value) = read_case_value(&net, line);
            assert_eq!(id, id_value, "{line}");
            assert_eq!(evidence, evidence_value, "{line}");
            fast += usize::from(read_case_fast(&net, line).is_some());
        }
        // The usual lines (the first five and the last) did take the fast path.
        assert_eq!(fast, 6, "lines on the fast path");
    }
}
