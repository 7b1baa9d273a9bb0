//! The shipped model, `models/hip_leg_pain.toml`: it loads cleanly, every number has a source,
//! the clinical description's own cases rank as it says, and red flags override everything.

use radix::diagnosis::{self, Diagnosis};
use radix::evidence::Evidence;
use radix::format;
use radix::network::{Network, Role};
use radix::triage::TriageLevel;

const MODEL: &str = "models/hip_leg_pain.toml";

fn model() -> Network {
    format::load(MODEL).expect("the shipped model loads")
}

fn case(net: &Network, findings: &[&str]) -> Diagnosis {
    let mut e = Evidence::new();
    for f in findings {
        e.parse_assignment(net, f).unwrap();
    }
    diagnosis::diagnose(net, &e).expect("the case is possible under the model")
}

fn ranking(net: &Network, d: &Diagnosis) -> Vec<(String, f64)> {
    d.origins
        .iter()
        .map(|o| (net.variable(o.variable).id().to_string(), o.probability))
        .collect()
}

/// Asserts `expected` ranks first, ahead of the runner-up by a clear margin.
fn assert_first(findings: &[&str], expected: &str) {
    let net = model();
    let d = case(&net, findings);
    let r = ranking(&net, &d);
    assert_eq!(r[0].0, expected, "for {findings:?} the ranking is {r:?}");
    assert!(
        r[0].1 > 1.2 * r[1].1,
        "for {findings:?} the margin is thin: {r:?}"
    );
    assert_eq!(
        d.triage.level,
        TriageLevel::Routine,
        "no red flag in {findings:?}"
    );
}

#[test]
fn loads_cleanly_with_every_number_sourced() {
    let net = model();
    assert!(net.warnings().is_empty(), "{:?}", net.warnings());
    for v in 0..net.len() {
        assert_eq!(
            net.cpd(v).unsourced_count(),
            0,
            "`{}` has numbers without a source",
            net.variable(v).id()
        );
    }
    let info = net.info();
    assert_eq!(info.name, "hip_leg_pain");
    assert!(
        info.description
            .as_deref()
            .unwrap_or("")
            .contains("not a medical device")
    );
}

#[test]
fn has_the_fixed_ids_roles_and_states() {
    let net = model();
    let check = |id: &str, role: Role, states: &[&str]| {
        let v = net.id_of(id).unwrap_or_else(|| panic!("`{id}` is missing"));
        assert_eq!(net.variable(v).role(), role, "role of `{id}`");
        assert_eq!(net.variable(v).states(), states, "states of `{id}`");
    };
    let pa = ["present", "absent"];
    for id in [
        "disc_herniation",
        "spinal_stenosis",
        "spondylolisthesis",
        "piriformis_syndrome",
        "hip_osteoarthritis",
        "trochanteric_pain_syndrome",
        "labral_tear_fai",
        "cauda_equina_syndrome",
        "spinal_infection",
        "spinal_tumour",
    ] {
        check(id, Role::Origin, &pa);
    }
    assert_eq!(net.with_role(Role::Origin).count(), 10);
    check(
        "age_band",
        Role::Context,
        &["under_40", "40_to_59", "60_and_over"],
    );
    check("history_of_cancer", Role::Context, &pa);
    for id in [
        "pain_below_knee",
        "pain_lateral_leg_dorsum_foot",
        "pain_posterior_leg_calf",
        "radicular_pain_quality",
        "deep_buttock_ache",
        "groin_pain",
        "anterior_thigh_pain",
        "lateral_hip_pain",
        "foot_drop",
        "weak_push_off",
        "reduced_ankle_reflex",
        "rapidly_progressive_weakness",
        "positive_straight_leg_raise",
        "neurogenic_claudication",
        "worse_with_extension",
        "worse_with_sitting",
        "worse_with_hip_rotation",
        "deep_gluteal_tenderness",
        "morning_hip_stiffness",
        "worse_with_activity_better_rest",
        "reduced_hip_internal_rotation",
        "trochanter_tenderness",
        "pain_lying_on_side",
        "hip_clicking_locking",
        "bladder_bowel_dysfunction",
        "saddle_anaesthesia",
        "fever_chills",
        "unexplained_weight_loss",
    ] {
        check(id, Role::Finding, &pa);
    }
    for id in [
        "l5_root_compression",
        "s1_root_compression",
        "sciatic_nerve_irritation",
    ] {
        assert_eq!(
            net.variable(net.id_of(id).unwrap()).role(),
            Role::Intermediate,
            "`{id}`"
        );
    }
}

#[test]
fn triage_rules_are_declared_as_specified() {
    let net = model();
    let rule = |id: &str| {
        net.triage_rules()
            .iter()
            .find(|r| r.id == id)
            .unwrap_or_else(|| panic!("rule `{id}` is missing"))
    };
    let triggers = |id: &str| -> Vec<String> {
        rule(id)
            .triggers
            .iter()
            .map(|t| net.variable(t.variable).id().to_string())
            .collect()
    };
    let names = |id: &str| -> Vec<String> {
        rule(id)
            .names
            .iter()
            .map(|&v| net.variable(v).id().to_string())
            .collect()
    };
    assert_eq!(rule("cauda_equina").level, TriageLevel::Emergency);
    assert_eq!(
        triggers("cauda_equina"),
        ["bladder_bowel_dysfunction", "saddle_anaesthesia"]
    );
    assert_eq!(names("cauda_equina"), ["cauda_equina_syndrome"]);
    assert_eq!(rule("progressive_weakness").level, TriageLevel::Emergency);
    assert_eq!(
        triggers("progressive_weakness"),
        ["rapidly_progressive_weakness"]
    );
    assert_eq!(rule("systemic").level, TriageLevel::Urgent);
    assert_eq!(
        triggers("systemic"),
        ["fever_chills", "unexplained_weight_loss"]
    );
    assert_eq!(names("systemic"), ["spinal_infection", "spinal_tumour"]);
}

#[test]
fn no_evidence_ranks_disc_herniation_first() {
    let net = model();
    let d = diagnosis::diagnose(&net, &Evidence::new()).unwrap();
    assert_eq!(ranking(&net, &d)[0].0, "disc_herniation");
    assert!((d.posteriors.log10_p_evidence()).abs() < 1e-12);
}

#[test]
fn young_sharp_pain_below_knee_with_foot_drop_is_disc_herniation() {
    assert_first(
        &[
            "age_band=under_40",
            "radicular_pain_quality=present",
            "pain_below_knee=present",
            "foot_drop=present",
            "pain_lateral_leg_dorsum_foot=present",
        ],
        "disc_herniation",
    );
}

#[test]
fn older_patient_with_neurogenic_claudication_is_stenosis() {
    assert_first(
        &["age_band=60_and_over", "neurogenic_claudication=present"],
        "spinal_stenosis",
    );
    assert_first(
        &[
            "age_band=60_and_over",
            "neurogenic_claudication=present",
            "pain_below_knee=present",
        ],
        "spinal_stenosis",
    );
}

#[test]
fn deep_buttock_pattern_without_back_signs_is_piriformis() {
    for age in ["age_band=under_40", "age_band=40_to_59"] {
        assert_first(
            &[
                age,
                "deep_buttock_ache=present",
                "worse_with_sitting=present",
                "worse_with_hip_rotation=present",
                "deep_gluteal_tenderness=present",
                "positive_straight_leg_raise=absent",
                "worse_with_extension=absent",
                "neurogenic_claudication=absent",
                "foot_drop=absent",
                "reduced_ankle_reflex=absent",
            ],
            "piriformis_syndrome",
        );
    }
}

#[test]
fn older_groin_pain_with_stiffness_and_lost_rotation_is_hip_osteoarthritis() {
    assert_first(
        &[
            "age_band=60_and_over",
            "groin_pain=present",
            "morning_hip_stiffness=present",
            "reduced_hip_internal_rotation=present",
        ],
        "hip_osteoarthritis",
    );
}

#[test]
fn outer_hip_pain_with_trochanter_tenderness_is_gtps_at_any_age() {
    for age in [
        "age_band=under_40",
        "age_band=40_to_59",
        "age_band=60_and_over",
    ] {
        assert_first(
            &[
                age,
                "lateral_hip_pain=present",
                "trochanter_tenderness=present",
                "pain_lying_on_side=present",
            ],
            "trochanteric_pain_syndrome",
        );
    }
}

#[test]
fn young_groin_pain_with_clicking_is_labral_tear() {
    assert_first(
        &[
            "age_band=under_40",
            "groin_pain=present",
            "hip_clicking_locking=present",
        ],
        "labral_tear_fai",
    );
}

const HIP_OA_PICTURE: [&str; 7] = [
    "age_band=60_and_over",
    "groin_pain=present",
    "morning_hip_stiffness=present",
    "reduced_hip_internal_rotation=present",
    "worse_with_activity_better_rest=present",
    "pain_below_knee=absent",
    "positive_straight_leg_raise=absent",
];

#[test]
fn saddle_anaesthesia_is_an_emergency_whatever_else_points_to() {
    let net = model();
    let mut findings = HIP_OA_PICTURE.to_vec();
    let without = case(&net, &findings);
    findings.push("saddle_anaesthesia=present");
    let d = case(&net, &findings);
    assert_eq!(d.triage.level, TriageLevel::Emergency);
    assert_eq!(d.triage.fired[0].id, "cauda_equina");
    let first = &d.origins[0];
    assert_eq!(net.variable(first.variable).id(), "cauda_equina_syndrome");
    assert_eq!(first.overridden_by.as_deref(), Some("cauda_equina"));
    // Listed first by the override, not by its probability...
    let top_probability = d.origins.iter().map(|o| o.probability).fold(0.0, f64::max);
    assert!(
        first.probability < top_probability,
        "{:?}",
        ranking(&net, &d)
    );
    // ...though the finding does raise it sharply.
    let ces = |d: &Diagnosis| {
        d.origins
            .iter()
            .find(|o| o.variable == first.variable)
            .unwrap()
            .probability
    };
    assert!(ces(&d) > 10.0 * ces(&without));
}

#[test]
fn bladder_dysfunction_and_progressive_weakness_are_emergencies() {
    let net = model();
    let d = case(&net, &["bladder_bowel_dysfunction=present"]);
    assert_eq!(d.triage.level, TriageLevel::Emergency);
    assert_eq!(
        net.variable(d.origins[0].variable).id(),
        "cauda_equina_syndrome"
    );
    let d = case(
        &net,
        &["rapidly_progressive_weakness=present", "age_band=under_40"],
    );
    assert_eq!(d.triage.level, TriageLevel::Emergency);
    assert_eq!(d.triage.fired[0].id, "progressive_weakness");
    // Negative evidence that leaves only `present` fires the rule too.
    let d = case(&net, &["saddle_anaesthesia!=absent"]);
    assert_eq!(d.triage.level, TriageLevel::Emergency);
}

#[test]
fn systemic_symptoms_are_urgent_and_emergency_outranks_urgent() {
    let net = model();
    let d = case(&net, &["fever_chills=present"]);
    assert_eq!(d.triage.level, TriageLevel::Urgent);
    let first_two: Vec<&str> = d.origins[..2]
        .iter()
        .map(|o| net.variable(o.variable).id())
        .collect();
    assert!(
        first_two.contains(&"spinal_infection") && first_two.contains(&"spinal_tumour"),
        "{first_two:?}"
    );
    let d = case(
        &net,
        &[
            "unexplained_weight_loss=present",
            "saddle_anaesthesia=present",
        ],
    );
    assert_eq!(d.triage.level, TriageLevel::Emergency);
    assert_eq!(d.triage.fired.len(), 2);
    assert_eq!(d.triage.fired[0].id, "cauda_equina");
    assert_eq!(d.triage.fired[1].id, "systemic");
    let order: Vec<&str> = d.origins[..3]
        .iter()
        .map(|o| net.variable(o.variable).id())
        .collect();
    assert_eq!(order[0], "cauda_equina_syndrome");
}

#[test]
fn red_flag_findings_move_the_right_origins() {
    let net = model();
    let p = |d: &Diagnosis, id: &str| {
        let v = net.id_of(id).unwrap();
        d.origins
            .iter()
            .find(|o| o.variable == v)
            .unwrap()
            .probability
    };
    let prior = case(&net, &[]);
    let fever = case(&net, &["fever_chills=present"]);
    assert!(p(&fever, "spinal_infection") > 5.0 * p(&prior, "spinal_infection"));
    let cancer = case(&net, &["history_of_cancer=present"]);
    assert!(p(&cancer, "spinal_tumour") > 5.0 * p(&prior, "spinal_tumour"));
    let no_claudication = case(
        &net,
        &["age_band=60_and_over", "neurogenic_claudication=absent"],
    );
    let old = case(&net, &["age_band=60_and_over"]);
    assert!(p(&no_claudication, "spinal_stenosis") < p(&old, "spinal_stenosis"));
}

/// Edits the numbers of one variable's block in the model text.
fn edit_block(text: &str, id: &str, edit: impl Fn(&str) -> String) -> String {
    let marker = format!("id = \"{id}\"");
    let start = text
        .find(&marker)
        .unwrap_or_else(|| panic!("`{id}` not in the model"));
    let start = text[..start].rfind("[[variable]]").unwrap();
    let end = text[start + 12..]
        .find("[[")
        .map_or(text.len(), |i| start + 12 + i);
    format!(
        "{}{}{}",
        &text[..start],
        edit(&text[start..end]),
        &text[end..]
    )
}

/// Replaces every probability written as `p = x` (scalar) in a block by `value`.
fn zero_scalars(block: &str) -> String {
    let mut out = String::new();
    let mut rest = block;
    while let Some(i) = rest.find("p = ") {
        out.push_str(&rest[..i + 4]);
        rest = &rest[i + 4..];
        if rest.starts_with('[') {
            continue;
        }
        let end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == 'e' || c == '-'))
            .unwrap_or(rest.len());
        out.push_str("0.0");
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[test]
fn no_parameter_can_silence_a_red_flag() {
    let text = std::fs::read_to_string(MODEL).unwrap();
    // A model in which saddle anaesthesia can never occur: the evidence becomes impossible, the
    // probabilities cannot be computed, and still the triage is an emergency.
    let silenced = edit_block(&text, "saddle_anaesthesia", zero_scalars);
    assert_ne!(silenced, text, "the edit must change the model");
    let net =
        format::toml::from_str(&silenced, "silenced.toml").expect("the edited model is valid");
    let mut e = Evidence::new();
    e.parse_assignment(&net, "saddle_anaesthesia=present")
        .unwrap();
    let failure =
        diagnosis::diagnose(&net, &e).expect_err("the finding is impossible in this model");
    assert!(
        failure
            .error
            .to_string()
            .contains("saddle_anaesthesia=present")
    );
    assert_eq!(failure.triage.level, TriageLevel::Emergency);
    assert_eq!(failure.triage.fired[0].id, "cauda_equina");
}

#[test]
fn junction_tree_and_elimination_agree_on_the_model() {
    use radix::inference::VariableElimination;
    let net = model();
    let cases: [&[&str]; 3] = [
        &[],
        &[
            "age_band=60_and_over",
            "neurogenic_claudication=present",
            "pain_below_knee=present",
        ],
        &[
            "saddle_anaesthesia=present",
            "groin_pain=absent",
            "fever_chills=present",
            "history_of_cancer=present",
        ],
    ];
    let ve = VariableElimination::new(&net);
    for findings in cases {
        let d = case(&net, findings);
        let mut e = Evidence::new();
        for f in findings {
            e.parse_assignment(&net, f).unwrap();
        }
        let targets: Vec<usize> = d.posteriors.iter().map(|(v, _)| v).collect();
        let reference = ve.posteriors(&e, &targets).unwrap();
        assert!((reference.ln_p_evidence - d.posteriors.ln_p_evidence).abs() < 1e-12);
        for ((v, a), (_, b)) in d.posteriors.iter().zip(reference.iter()) {
            for (x, y) in a.iter().zip(b) {
                assert!(
                    (x - y).abs() < 1e-12,
                    "`{}`: {x} vs {y}",
                    net.variable(v).id()
                );
            }
        }
    }
}

#[test]
fn declared_uncertainty_gives_posterior_intervals() {
    use radix::analysis::uncertainty;
    let net = model();
    let declared = uncertainty::declared(&net);
    assert!(
        declared.len() >= 20,
        "priors with intervals from the sources are declared"
    );
    let e = {
        let mut e = Evidence::new();
        e.parse_assignment(&net, "age_band=60_and_over").unwrap();
        e.parse_assignment(&net, "neurogenic_claudication=present")
            .unwrap();
        e
    };
    let report = uncertainty::analyse(&net, &e, 200, 3).unwrap();
    let stenosis = report
        .origins
        .iter()
        .find(|o| o.id == "spinal_stenosis")
        .unwrap();
    assert!(
        stenosis.p05 < stenosis.point && stenosis.point < stenosis.p95,
        "{stenosis:?}"
    );
}
