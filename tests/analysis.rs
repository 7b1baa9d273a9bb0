//! The reasoning tools: what-if, what next, explain, and the conflict measure.

use std::process::Command;

use radix::analysis::{explain, next, whatif};
use radix::diagnosis::Diagnoser;
use radix::evidence::{Evidence, Observation};
use radix::format;
use radix::inference::VariableElimination;
use radix::network::{Network, Role};
use radix::triage::TriageLevel;
use serde_json::Value;

const MODEL: &str = "models/hip_leg_pain.toml";

fn case(net: &Network, findings: &[&str]) -> Evidence {
    let mut e = Evidence::new();
    for f in findings {
        e.parse_assignment(net, f).unwrap();
    }
    e
}

const CASE: [&str; 3] = [
    "age_band=40_to_59",
    "pain_below_knee=present",
    "worse_with_sitting=present",
];

#[test]
fn whatif_rows_match_direct_queries_and_flag_red_flags() {
    let net = format::load(MODEL).unwrap();
    let d = Diagnoser::new(&net).unwrap();
    let mut ws = d.workspace();
    let e = case(&net, &CASE);
    let table = whatif::what_if(&d, &mut ws, &e).unwrap();
    assert!(
        table
            .rows
            .windows(2)
            .all(|w| w[0].max_shift >= w[1].max_shift),
        "sorted by shift"
    );
    let unobserved_findings = net
        .with_role(Role::Finding)
        .filter(|&f| !e.contains(f))
        .count();
    assert_eq!(
        table.rows.len(),
        2 * unobserved_findings,
        "every state of every unobserved finding"
    );
    // Each finding's states are a distribution.
    for f in net.with_role(Role::Finding).filter(|&f| !e.contains(f)) {
        let total: f64 = table
            .rows
            .iter()
            .filter(|r| r.variable == f)
            .map(|r| r.probability)
            .sum();
        assert!((total - 1.0).abs() < 1e-12, "{total}");
    }
    // A row equals a direct query with that finding added.
    for row in table.rows.iter().step_by(7) {
        let mut e2 = e.clone();
        e2.observe(&net, row.variable, Observation::Is(row.state))
            .unwrap();
        let direct = d.diagnose(&mut ws, &e2).unwrap();
        for (v, p) in &row.origins {
            let q = direct
                .origins
                .iter()
                .find(|o| o.variable == *v)
                .unwrap()
                .probability;
            assert!((p - q).abs() < 1e-12);
        }
        assert_eq!(row.triage, direct.triage.level);
    }
    let saddle = net.id_of("saddle_anaesthesia").unwrap();
    let row = table
        .rows
        .iter()
        .find(|r| r.variable == saddle && r.state == 0)
        .unwrap();
    assert_eq!(row.triage, TriageLevel::Emergency);
    assert_eq!(row.new_overrides, vec!["cauda_equina".to_string()]);
    assert_eq!(row.top, net.id_of("cauda_equina_syndrome"));
}

#[test]
fn expected_posterior_over_outcomes_equals_todays_posterior() {
    let net = format::load(MODEL).unwrap();
    let d = Diagnoser::new(&net).unwrap();
    let mut ws = d.workspace();
    for findings in [
        &CASE[..],
        &["age_band=60_and_over", "neurogenic_claudication=present"][..],
        &[][..],
    ] {
        let e = case(&net, findings);
        let now = d.diagnose(&mut ws, &e).unwrap();
        let ranking = next::next_findings(&d, &mut ws, &e).unwrap();
        assert!(!ranking.ranking.is_empty());
        for c in &ranking.ranking {
            assert!(c.information >= 0.0 && (0.0..=1.0 + 1e-12).contains(&c.p_changes_top));
            let total: f64 = c.outcomes.iter().map(|o| o.probability).sum();
            assert!((total - 1.0).abs() < 1e-12);
            for o in &now.origins {
                let expected: f64 = c
                    .outcomes
                    .iter()
                    .map(|out| {
                        out.probability
                            * out
                                .origins
                                .iter()
                                .find(|(v, _)| *v == o.variable)
                                .unwrap()
                                .1
                    })
                    .sum();
                assert!(
                    (expected - o.probability).abs() < 1e-12,
                    "{expected} vs {}",
                    o.probability
                );
            }
        }
        assert!(
            ranking
                .ranking
                .windows(2)
                .all(|w| w[0].information >= w[1].information)
        );
    }
}

#[test]
fn information_is_zero_for_an_irrelevant_finding_and_positive_for_a_relevant_one() {
    // Asia: with `either` observed, the X-ray says nothing more about tuberculosis or cancer.
    let net = format::load("tests/data/asia.toml").unwrap();
    let d = Diagnoser::new(&net).unwrap();
    let mut ws = d.workspace();
    let e = case(&net, &["either=yes"]);
    let ranking = next::next_findings(&d, &mut ws, &e).unwrap();
    let xray = ranking
        .ranking
        .iter()
        .find(|c| net.variable(c.variable).id() == "xray")
        .unwrap();
    assert!(xray.information.abs() < 1e-12, "{}", xray.information);
    let dysp = ranking
        .ranking
        .iter()
        .find(|c| net.variable(c.variable).id() == "dysp")
        .unwrap();
    assert!(
        dysp.information > 1e-3,
        "dyspnoea still informs about bronchitis"
    );
}

#[test]
fn weights_of_evidence_add_up_to_the_change_in_log_odds() {
    let net = format::load(MODEL).unwrap();
    let d = Diagnoser::new(&net).unwrap();
    let mut ws = d.workspace();
    let e = case(
        &net,
        &[
            "age_band=60_and_over",
            "neurogenic_claudication=present",
            "pain_below_knee=present",
            "foot_drop=absent",
        ],
    );
    let ve = VariableElimination::new(&net);
    for origin in net.with_role(Role::Origin) {
        let x = explain::explain(&d, &mut ws, &e, origin).unwrap();
        let total: f64 = x.findings.iter().map(|w| w.log10_lr).sum();
        assert!((total - (x.log10_posterior_odds() - x.log10_prior_odds())).abs() < 1e-9);
        assert_eq!(
            x.findings.len(),
            3,
            "the age band is context, not a finding"
        );
        // The prior is P(X | context only).
        let context = case(&net, &["age_band=60_and_over"]);
        let prior = ve.posterior(&context, origin).unwrap()[0];
        assert!((prior - x.prior).abs() < 1e-12);
        // Leave-one-out against a direct query without that finding.
        let w = &x.findings[0];
        let mut without = e.clone();
        without.remove(w.variable);
        let p = ve.posterior(&without, origin).unwrap()[0];
        let odds = |p: f64| (p / (1.0 - p)).log10();
        assert!((w.leave_one_out - (odds(x.posterior) - odds(p))).abs() < 1e-9);
    }
    let stenosis = net.id_of("spinal_stenosis").unwrap();
    let x = explain::explain(&d, &mut ws, &e, stenosis).unwrap();
    let claudication = x
        .findings
        .iter()
        .find(|w| net.variable(w.variable).id() == "neurogenic_claudication")
        .unwrap();
    assert!(claudication.log10_lr > 0.3);
    assert!(
        x.sentence(&net, claudication)
            .contains("raises the odds of lumbar spinal stenosis")
    );
}

#[test]
fn conflict_measure_is_hugins() {
    let net = format::load("tests/data/asia.toml").unwrap();
    let d = Diagnoser::new(&net).unwrap();
    let mut ws = d.workspace();
    let ve = VariableElimination::new(&net);
    for findings in [
        &["xray=yes", "dysp=no"][..],
        &["xray=yes", "either=yes"][..],
        &["smoke=no", "lung=yes", "xray=no"][..],
    ] {
        let e = case(&net, findings);
        let got = d.diagnose(&mut ws, &e).unwrap().conflict;
        let mut ln_single = 0.0;
        for (v, _) in e.iter() {
            let mut one = Evidence::new();
            one.observe(&net, v, e.get(v).unwrap().clone()).unwrap();
            ln_single += ve.ln_p_evidence(&one).unwrap();
        }
        let expected = (ln_single - ve.ln_p_evidence(&e).unwrap()) / std::f64::consts::LN_10;
        assert!(
            (got - expected).abs() < 1e-12,
            "{findings:?}: {got} vs {expected}"
        );
    }
    // Findings that explain each other have negative conflict; contradicting ones positive.
    assert!(
        d.diagnose(&mut ws, &case(&net, &["xray=yes", "either=yes"]))
            .unwrap()
            .conflict
            < 0.0
    );
    assert!(
        d.diagnose(&mut ws, &case(&net, &["xray=no", "either=yes"]))
            .unwrap()
            .conflict
            > 0.0
    );
}

fn radix(args: &[&str]) -> Value {
    let o = Command::new(env!("CARGO_BIN_EXE_radix"))
        .args(args)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn json_shapes() {
    let v = radix(&["whatif", MODEL, "-e", "pain_below_knee=present", "--json"]);
    let row = &v["rows"][0];
    assert!(row["variable"].is_string() && row["state"].is_string() && row["triage"].is_string());
    assert!(row["origins"]["disc_herniation"].is_number());
    let v = radix(&["next", MODEL, "-e", "pain_below_knee=present", "--json"]);
    let first = &v["ranking"][0];
    assert!(
        first["variable"].is_string()
            && first["information"].is_number()
            && first["p_changes_top"].is_number()
    );
    let v = radix(&[
        "explain",
        MODEL,
        "-e",
        "age_band=under_40",
        "-e",
        "foot_drop=present",
        "--json",
    ]);
    assert_eq!(v["origin"], "disc_herniation");
    assert!(v["prior"].is_number() && v["posterior"].is_number());
    assert_eq!(v["findings"][0]["variable"], "foot_drop");
    assert!(
        v["findings"][0]["log10_lr"].is_number() && v["findings"][0]["leave_one_out"].is_number()
    );
    let v = radix(&[
        "query",
        MODEL,
        "-e",
        "foot_drop=present",
        "-e",
        "groin_pain=present",
        "--json",
    ]);
    assert!(v["conflict"].is_number());
}

#[test]
fn mpe_and_steps_commands() {
    let v = radix(&[
        "mpe",
        MODEL,
        "-e",
        "age_band=under_40",
        "-e",
        "foot_drop=present",
        "-e",
        "pain_below_knee=present",
        "--json",
    ]);
    let best = &v["assignments"][0];
    assert_eq!(best["states"]["disc_herniation"], "present");
    let probs: Vec<f64> = v["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["probability"].as_f64().unwrap())
        .collect();
    assert!(probs.windows(2).all(|w| w[0] >= w[1]) && probs.iter().sum::<f64>() <= 1.0 + 1e-12);
    let v = radix(&[
        "steps",
        "tests/data/asia.toml",
        "-e",
        "xray=yes",
        "--query",
        "lung",
        "--json",
    ]);
    assert_eq!(v["query"], "lung");
    let posterior = v["posterior"]["yes"].as_f64().unwrap();
    let net = format::load("tests/data/asia.toml").unwrap();
    let e = case(&net, &["xray=yes"]);
    let expected = VariableElimination::new(&net)
        .posterior(&e, net.id_of("lung").unwrap())
        .unwrap()[0];
    assert!((posterior - expected).abs() < 1e-12);
    assert!(!v["steps"].as_array().unwrap().is_empty());
}

#[test]
fn sensitivity_and_uncertainty_commands() {
    let v = radix(&[
        "sensitivity",
        MODEL,
        "-e",
        "foot_drop=present",
        "--origin",
        "disc_herniation",
        "--json",
    ]);
    assert_eq!(v["origin"], "disc_herniation");
    let params = v["parameters"].as_array().unwrap();
    assert!(!params.is_empty());
    let swing = |p: &Value| p["range"][1].as_f64().unwrap() - p["range"][0].as_f64().unwrap();
    assert!(
        params
            .windows(2)
            .all(|w| swing(&w[0]) >= swing(&w[1]) - 1e-15),
        "sorted by swing"
    );
    // The rational function at the model's value gives the posterior.
    let p = &params[0];
    let c: Vec<f64> = p["coefficients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    let theta = p["value"].as_f64().unwrap();
    let at = (c[0] * theta + c[1]) / (c[2] * theta + c[3]);
    assert!((at - v["posterior"].as_f64().unwrap()).abs() < 1e-10);
    let seeded = || {
        radix(&[
            "uncertainty",
            MODEL,
            "-e",
            "foot_drop=present",
            "--samples",
            "60",
            "--seed",
            "5",
            "--json",
        ])
    };
    let (a, b) = (seeded(), seeded());
    assert_eq!(a, b, "seeded runs are reproducible");
    let o = &a["origins"][0];
    assert!(
        o["id"].is_string()
            && o["mean"].is_number()
            && o["p05"].is_number()
            && o["p95"].is_number()
    );
}
