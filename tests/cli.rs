//! The `radix` command end to end: output shapes, exit codes, error messages.

use std::process::{Command, Output};

use serde_json::Value;

fn radix(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_radix"))
        .args(args)
        .output()
        .expect("radix runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const ANKLE: &str = "tests/data/ankle.toml";

#[test]
fn help_carries_the_disclaimer() {
    let o = radix(&["--help"]);
    assert!(o.status.success());
    assert!(stdout(&o).contains("not a medical device"));
    let o = radix(&["query", "--help"]);
    assert!(stdout(&o).contains("VAR=STATE"));
}

#[test]
fn query_json_has_the_documented_shape() {
    let o = radix(&["query", ANKLE, "-e", "bone_tenderness=present", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).expect("one JSON object");
    assert_eq!(v["model"], ANKLE);
    assert_eq!(v["evidence"]["bone_tenderness"], "present");
    let pe = v["p_evidence"].as_f64().unwrap();
    assert!((v["log10_p_evidence"].as_f64().unwrap() - pe.log10()).abs() < 1e-12);
    assert_eq!(v["triage"]["level"], "routine");
    assert!(v["triage"]["overrides"].as_array().unwrap().is_empty());
    let origins = v["origins"].as_array().unwrap();
    assert_eq!(origins.len(), 2);
    let probs: Vec<f64> = origins
        .iter()
        .map(|o| o["probability"].as_f64().unwrap())
        .collect();
    assert!(probs[0] >= probs[1], "highest first");
    for o in origins {
        assert!(o["id"].is_string() && o["label"].is_string());
        // The ranked probability is the posterior of `present`.
        let id = o["id"].as_str().unwrap();
        assert_eq!(o["probability"], v["posteriors"][id]["present"]);
    }
    // Every unobserved variable has a posterior that sums to one; the observed one has none.
    let post = v["posteriors"].as_object().unwrap();
    assert_eq!(post.len(), 3);
    assert!(!post.contains_key("bone_tenderness"));
    for dist in post.values() {
        let s: f64 = dist
            .as_object()
            .unwrap()
            .values()
            .map(|x| x.as_f64().unwrap())
            .sum();
        assert!((s - 1.0).abs() < 1e-12);
    }
}

#[test]
fn fired_rule_sets_level_and_lists_its_origin_first() {
    // The sprain is far more probable, but the rule names the fracture.
    let o = radix(&[
        "query",
        ANKLE,
        "-e",
        "unable_to_bear_weight=present",
        "--json",
    ]);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["triage"]["level"], "urgent");
    let rule = &v["triage"]["overrides"][0];
    assert_eq!(rule["id"], "cannot_walk");
    assert_eq!(rule["level"], "urgent");
    assert_eq!(rule["triggered_by"][0], "unable_to_bear_weight");
    assert!(rule["message"].as_str().unwrap().contains("X-ray"));
    assert_eq!(v["origins"][0]["id"], "fracture");
    assert_eq!(v["origins"][0]["override"], "cannot_walk");
    assert!(v["origins"][0]["probability"].as_f64() < v["origins"][1]["probability"].as_f64());
}

#[test]
fn text_output_has_banner_ranking_and_disclaimer() {
    let o = radix(&["query", ANKLE, "-e", "unable_to_bear_weight=present"]);
    assert!(o.status.success());
    let out = stdout(&o);
    let banner = out.find("TRIAGE: URGENT").expect("banner");
    let first = out.find("Ankle fracture").expect("ranking");
    assert!(banner < first, "the banner comes first");
    assert!(out.contains("not a medical device"));
    assert!(out.contains("red flag: cannot_walk"));
    assert!(out.contains("P(evidence) ="));
    assert!(out.contains('█'));
}

#[test]
fn negative_and_likelihood_evidence() {
    let o = radix(&["query", ANKLE, "-e", "bone_tenderness!=absent", "--json"]);
    let neg: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let o = radix(&["query", ANKLE, "-e", "bone_tenderness=present", "--json"]);
    let hard: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(neg["origins"], hard["origins"]);
    assert_eq!(neg["evidence"]["bone_tenderness"]["not"], "absent");
    let o = radix(&[
        "query",
        ANKLE,
        "--likelihood",
        "bone_tenderness=0.9,0.1",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let soft: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let p = |v: &Value| v["posteriors"]["fracture"]["present"].as_f64().unwrap();
    assert!(
        p(&soft) > 0.15 && p(&soft) < p(&hard),
        "soft evidence moves less than hard"
    );
}

#[test]
fn unknown_names_suggest_and_exit_2() {
    let o = radix(&["query", ANKLE, "-e", "bone_tendernes=present"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("unknown variable `bone_tendernes` (did you mean `bone_tenderness`?)")
    );
    let o = radix(&["query", ANKLE, "-e", "bone_tenderness=presnt"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("did you mean `present`?"),
        "{}",
        stderr(&o)
    );
    let o = radix(&["query", ANKLE, "-e", "bone_tenderness"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("VAR=STATE"));
    let o = radix(&["query", ANKLE, "--likelihood", "bone_tenderness=0.9"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("one per state"), "{}", stderr(&o));
}

#[test]
fn impossible_evidence_names_the_conflict_and_keeps_the_triage() {
    // Asia's `either` is a logical OR: tub=yes with either=no cannot happen.
    let o = radix(&[
        "query",
        "tests/data/asia.toml",
        "-e",
        "tub=yes",
        "-e",
        "either=no",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("impossible") && err.contains("`tub=yes`") && err.contains("`either=no`"),
        "{err}"
    );
    assert!(!stdout(&o).contains("NaN"));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["triage"]["level"], "routine");
    assert!(v["error"].as_str().unwrap().contains("impossible"));
}

#[test]
fn check_and_list() {
    let o = radix(&["check", ANKLE]);
    assert!(o.status.success());
    let out = stdout(&o);
    assert!(out.contains("valid"));
    assert!(out.contains("4 (2 origin, 2 finding)"), "{out}");
    assert!(out.contains("every number has a source"));
    assert!(out.contains("cannot_walk -> urgent"));
    let o = radix(&["list", ANKLE]);
    let out = stdout(&o);
    assert!(
        out.contains("Origins (2)")
            && out.contains("bone_tenderness")
            && out.contains("[present, absent]")
    );
    let o = radix(&["list", ANKLE, "--json"]);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["variables"][0]["role"], "origin");
}

#[test]
fn invalid_model_exits_2_with_location() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.toml");
    let text = std::fs::read_to_string(ANKLE)
        .unwrap()
        .replace("p = [0.70, 0.30]", "p = [0.70, 0.20]");
    std::fs::write(&path, text).unwrap();
    let o = radix(&["check", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("broken.toml:"), "{err}");
    assert!(
        err.contains("variable `unable_to_bear_weight`, row 1"),
        "{err}"
    );
    assert!(err.contains("sum to 0.9"), "{err}");
}

#[test]
fn check_strict_fails_on_missing_sources() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("unsourced.toml");
    let text = std::fs::read_to_string(ANKLE).unwrap().replace(
        "cpt = { p = [0.15, 0.85], source = \"expert estimate\" }",
        "cpt = { p = [0.15, 0.85] }",
    );
    std::fs::write(&path, text).unwrap();
    let o = radix(&["check", path.to_str().unwrap()]);
    assert!(o.status.success());
    assert!(
        stdout(&o).contains("2 number(s) without a source: fracture (2)"),
        "{}",
        stdout(&o)
    );
    let o = radix(&["check", "--strict", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn batch_scores_in_input_order_and_reports_bad_lines() {
    let dir = tempfile::tempdir().unwrap();
    let cases = dir.path().join("cases.jsonl");
    let mut text = String::new();
    for i in 0..50 {
        let state = if i % 2 == 0 { "present" } else { "absent" };
        text.push_str(&format!(
            "{{\"id\": {i}, \"evidence\": {{\"bone_tenderness\": \"{state}\"}}}}\n"
        ));
    }
    text.push_str("{\"id\": \"typo\", \"evidence\": {\"bone_tendernes\": \"present\"}}\n");
    text.push_str("this is not json\n");
    text.push_str("{\"id\": \"walk\", \"evidence\": {\"unable_to_bear_weight\": \"present\"}}\n");
    std::fs::write(&cases, &text).unwrap();
    let o = radix(&[
        "batch",
        ANKLE,
        "--cases",
        cases.to_str().unwrap(),
        "--threads",
        "2",
    ]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "some cases failed: {}",
        stderr(&o)
    );
    let err = stderr(&o);
    assert!(
        err.contains("cases.jsonl:51: unknown variable `bone_tendernes`"),
        "{err}"
    );
    assert!(err.contains("cases.jsonl:52: not a JSON object"), "{err}");
    let lines: Vec<Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 53, "one output line per case");
    for (i, line) in lines.iter().take(50).enumerate() {
        assert_eq!(line["id"], i);
        // Each line is the query --json object plus the id.
        let state = if i % 2 == 0 { "present" } else { "absent" };
        let single = radix(&[
            "query",
            ANKLE,
            "-e",
            &format!("bone_tenderness={state}"),
            "--json",
        ]);
        let mut expected: Value = serde_json::from_str(&stdout(&single)).unwrap();
        expected["id"] = Value::from(i);
        expected["model"] = line["model"].clone();
        // Batch reuses a tree compiled for the pattern; a single query may run on another:
        // the same numbers to rounding.
        assert_json_close(line, &expected);
        if i >= 3 {
            break;
        }
    }
    assert_eq!(lines[49]["id"], 49);
    assert!(
        lines[50]["error"]
            .as_str()
            .unwrap()
            .contains("did you mean")
    );
    assert_eq!(lines[52]["triage"]["level"], "urgent");
}

/// `--origins-only` lines are the full lines less their `posteriors` object, with the same
/// numbers (to rounding), and bad lines still get their error line.
#[test]
fn batch_origins_only_leaves_out_the_posteriors() {
    let dir = tempfile::tempdir().unwrap();
    let cases = dir.path().join("cases.jsonl");
    let text = [
        r#"{"id": 1, "evidence": {"age_band": "60_and_over", "foot_drop": "present"}}"#,
        r#"{"id": 2, "evidence": {"bladder_bowel_dysfunction": "present", "sex": "male"}}"#,
        r#"{"id": 3, "evidence": {"pain_below_knee": {"not": "present"}}}"#,
        r#"{"id": 4, "evidence": {"foot_dropp": "present"}}"#,
        r#"{"id": 5, "evidence": {}}"#,
    ]
    .join("\n");
    std::fs::write(&cases, text).unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec!["batch", "models/hip_leg_pain.toml", "--cases"];
        args.push(cases.to_str().unwrap());
        args.extend(extra);
        let o = radix(&args);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        stdout(&o)
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .collect::<Vec<_>>()
    };
    let full = run(&[]);
    let lean = run(&["--origins-only"]);
    assert_eq!(full.len(), 5);
    assert_eq!(lean.len(), 5);
    for (f, l) in full.iter().zip(&lean) {
        assert!(l.get("posteriors").is_none(), "{l}");
        let mut f = f.clone();
        if let Some(object) = f.as_object_mut() {
            object.remove("posteriors");
        }
        assert_json_close(l, &f);
    }
    assert_eq!(lean[1]["triage"]["level"], "emergency");
    assert!(lean[3]["error"].as_str().unwrap().contains("did you mean"));
    assert_eq!(full[0]["posteriors"].as_object().unwrap().len(), 45);
}

#[test]
fn batch_out_never_overwrites_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let cases = dir.path().join("cases.jsonl");
    std::fs::write(&cases, "{\"id\": 1, \"evidence\": {}}\n").unwrap();
    let out = dir.path().join("out.jsonl");
    std::fs::write(&out, "keep me\n").unwrap();
    let o = radix(&[
        "batch",
        ANKLE,
        "--cases",
        cases.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--force"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "keep me\n");
    let o = radix(&[
        "batch",
        ANKLE,
        "--cases",
        cases.to_str().unwrap(),
        "--out",
        cases.to_str().unwrap(),
        "--force",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        std::fs::read_to_string(&cases)
            .unwrap()
            .contains("\"id\": 1")
    );
    let o = radix(&[
        "batch",
        ANKLE,
        "--cases",
        cases.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--force",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let written = std::fs::read_to_string(&out).unwrap();
    assert!(written.starts_with("{\"id\":1,"), "{written}");
}

#[test]
fn query_check_and_list_take_bif() {
    let o = radix(&[
        "query",
        "tests/data/bn/asia.bif",
        "-e",
        "xray=yes",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let tub = v["posteriors"]["tub"]["yes"].as_f64().unwrap();
    assert!(tub > 0.0104, "a positive X-ray raises tuberculosis");
    let o = radix(&["query", "tests/data/bn/asia.bif", "-e", "xray=yes"]);
    assert!(stdout(&o).contains("the posterior of every unobserved variable"));
    let o = radix(&["check", "tests/data/bn/alarm.bif"]);
    assert!(o.status.success());
    assert!(stdout(&o).contains("variables  37"), "{}", stdout(&o));
    let o = radix(&["list", "tests/data/bn/child.bif"]);
    assert!(stdout(&o).contains("Asy/Patch"));
}

#[test]
fn convert_round_trips_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let toml = dir.path().join("asia.toml");
    let xml = dir.path().join("asia.xml");
    let bif = dir.path().join("asia.bif");
    let o = radix(&["convert", "tests/data/bn/asia.bif", toml.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = radix(&["convert", toml.to_str().unwrap(), xml.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = radix(&["convert", xml.to_str().unwrap(), bif.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("BIF keeps the structure and the tables only"));
    // The same answers from the original and the converted network.
    let query = |path: &str| {
        let o = radix(&["query", path, "-e", "dysp=yes", "-e", "smoke=no", "--json"]);
        let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
        (v["posteriors"].clone(), v["log10_p_evidence"].clone())
    };
    assert_eq!(
        query("tests/data/bn/asia.bif"),
        query(bif.to_str().unwrap())
    );
    assert_eq!(
        query("tests/data/bn/asia.bif"),
        query(toml.to_str().unwrap())
    );
    // An existing output is kept unless --force; the input is never the output.
    std::fs::write(&xml, "keep").unwrap();
    let o = radix(&["convert", toml.to_str().unwrap(), xml.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(std::fs::read_to_string(&xml).unwrap(), "keep");
    let o = radix(&[
        "convert",
        toml.to_str().unwrap(),
        toml.to_str().unwrap(),
        "--force",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let o = radix(&[
        "convert",
        toml.to_str().unwrap(),
        dir.path().join("x.csv").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("unknown model format `csv`"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn malformed_bif_reports_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.bif");
    let text = std::fs::read_to_string("tests/data/bn/asia.bif").unwrap();
    let cut = text.find("table").unwrap();
    std::fs::write(&path, &text[..cut + 12]).unwrap();
    let o = radix(&["check", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("broken.bif:"), "{err}");
    let location = err.split("broken.bif:").nth(1).unwrap();
    let mut parts = location.split(':');
    assert!(
        parts.next().unwrap().parse::<usize>().is_ok(),
        "a line number: {err}"
    );
    assert!(
        parts.next().unwrap().parse::<usize>().is_ok(),
        "a column number: {err}"
    );
}

#[test]
fn oversized_networks_are_refused_before_allocating() {
    let o = radix(&[
        "query",
        "tests/data/bn/barley.bif",
        "--max-table-entries",
        "100000",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("would need") && err.contains("GiB") && err.contains("--max-table-entries"),
        "{err}"
    );
    let o = radix(&[
        "batch",
        "tests/data/bn/barley.bif",
        "--cases",
        "/dev/null",
        "--max-table-entries",
        "100000",
    ]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn bench_reports_preparation_queries_and_cliques() {
    let o = radix(&["bench", "tests/data/bn/asia.bif", "--repeat", "1", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["variables"], 8);
    assert_eq!(v["scenarios"].as_array().unwrap().len(), 20);
    assert!(v["tree"]["total_entries"].as_u64().unwrap() > 0);
    assert!(v["median_warm_us"].as_f64().unwrap() > 0.0);
    assert!(v["median_second_us"].as_f64().unwrap() > 0.0);
    for s in v["scenarios"].as_array().unwrap() {
        // Swept entries: the tree's, less what bands and compression skip.
        assert!(s["swept_entries"].as_u64().unwrap() <= s["entries"].as_u64().unwrap());
        assert!(s["second_us"].as_f64().unwrap() > 0.0);
    }
    // On a network whose trees compress, the swept entries are far fewer than the tree's.
    let o = radix(&[
        "bench",
        "tests/data/bn/water.bif",
        "--scenarios",
        "tests/data/bn/reference/water.json",
        "--repeat",
        "1",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let swept = v["median_swept_entries"].as_f64().unwrap();
    assert!(
        swept * 4.0 < v["median_entries"].as_f64().unwrap(),
        "water: {swept} swept entries"
    );
    let o = radix(&[
        "bench",
        "tests/data/bn/asia.bif",
        "--scenarios",
        "tests/data/bn/reference/asia.json",
        "--repeat",
        "1",
    ]);
    assert!(o.status.success());
    assert!(stdout(&o).contains("median per scenario"));
}

/// Asserts two JSON values are equal, numbers to 1e-12.
fn assert_json_close(a: &Value, b: &Value) {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            assert!((x - y).abs() <= 1e-12 * x.abs().max(1.0), "{x} vs {y}");
        }
        (Value::Object(x), Value::Object(y)) => {
            assert_eq!(x.len(), y.len(), "{a} vs {b}");
            for (k, v) in x {
                assert_json_close(
                    v,
                    y.get(k).unwrap_or_else(|| panic!("`{k}` missing in {b}")),
                );
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            assert_eq!(x.len(), y.len());
            for (v, w) in x.iter().zip(y) {
                assert_json_close(v, w);
            }
        }
        _ => assert_eq!(a, b),
    }
}

/// Batch results do not depend on how the cases are shared among threads: the same bytes with
/// one thread as with four, on a cohort whose patterns of findings repeat in shuffled order
/// (so a pattern's first case falls on different threads from run to run), most of whose
/// cases give the age band (a base for their patterns).
#[test]
fn batch_results_are_the_same_bits_whatever_the_threads() {
    let dir = tempfile::tempdir().unwrap();
    let cases = dir.path().join("cases.jsonl");
    let findings = [
        "pain_below_knee",
        "foot_drop",
        "worse_with_sitting",
        "lateral_hip_pain",
        "neurogenic_claudication",
        "deep_buttock_ache",
    ];
    let mut text = String::new();
    let mut state = 12345u64;
    for i in 0..600 {
        // A small linear congruential generator: patterns and values repeat, shuffled.
        let mut evidence = Vec::new();
        // Most cases give the age band: the batch compiles its tree as a base for them.
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        if state >> 62 != 0 {
            let band = ["under_40", "40_to_59", "60_and_over"][(state >> 40) as usize % 3];
            evidence.push(format!("\"age_band\": \"{band}\""));
        }
        for f in findings {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            match state >> 61 {
                0 | 1 => evidence.push(format!("\"{f}\": \"present\"")),
                2 => evidence.push(format!("\"{f}\": \"absent\"")),
                _ => {}
            }
        }
        text.push_str(&format!(
            "{{\"id\": {i}, \"evidence\": {{{}}}}}\n",
            evidence.join(", ")
        ));
    }
    std::fs::write(&cases, &text).unwrap();
    let run = |threads: &str| {
        let o = radix(&[
            "batch",
            "models/hip_leg_pain.toml",
            "--cases",
            cases.to_str().unwrap(),
            "--threads",
            threads,
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        stdout(&o)
    };
    let one = run("1");
    assert_eq!(one.lines().count(), 600);
    for _ in 0..3 {
        assert!(run("4") == one, "results differ between 1 and 4 threads");
    }
}
