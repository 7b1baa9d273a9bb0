//! Parameter sensitivity and uncertainty analysis: the sensitivity functions against exact
//! re-solving, derivatives against finite differences, ordering, errors; uncertainty sampling
//! reproducibility, the degenerate case, the Beta fitted to an interval, and the TOML round
//! trip of the declarations.

mod common;

use radix::analysis::sensitivity::{self, ParamKind, SensitivityError, SensitivityFunction};
use radix::evidence::Evidence;
use radix::factor::VarId;
use radix::inference::{InferenceError, JunctionTree};
use radix::network::{Network, ParamRef};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const MODEL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/models/hip_leg_pain.toml");

fn shipped() -> Network {
    radix::format::load(std::path::Path::new(MODEL)).expect("shipped model loads")
}

fn case(net: &Network, findings: &[&str]) -> Evidence {
    let mut e = Evidence::new();
    for f in findings {
        e.parse_assignment(net, f).unwrap();
    }
    e
}

/// P(target = state | e) by compiling and solving the network from scratch; `None` when the
/// evidence is impossible.
fn resolve(net: &Network, e: &Evidence, target: VarId, state: usize) -> Option<f64> {
    let tree = JunctionTree::compile(net).unwrap();
    let mut ws = tree.workspace();
    match tree.posteriors_of(&mut ws, e, &[target]) {
        Ok(p) => Some(p.marginal(target).unwrap()[state]),
        Err(InferenceError::ImpossibleEvidence { .. }) => None,
        Err(other) => panic!("{other}"),
    }
}

/// The function matches re-solving at three other values, and its derivative a central
/// finite difference.
fn check_function(
    net: &Network,
    e: &Evidence,
    target: VarId,
    state: usize,
    which: ParamRef,
    f: &SensitivityFunction,
) {
    let theta0 = net.parameter(which).unwrap();
    for theta in [0.07, 0.43, 0.91] {
        let changed = net.with_parameter(which, theta).unwrap();
        if let Some(want) = resolve(&changed, e, target, state) {
            let got = f.eval(theta);
            assert!(
                (got - want).abs() < 1e-10,
                "{which:?} at θ={theta}: function {got} vs re-solve {want}"
            );
        }
    }
    let h = 1e-6;
    let (lo, hi) = ((theta0 - h).max(0.0), (theta0 + h).min(1.0));
    let (Some(p_lo), Some(p_hi)) = (
        resolve(&net.with_parameter(which, lo).unwrap(), e, target, state),
        resolve(&net.with_parameter(which, hi).unwrap(), e, target, state),
    ) else {
        return;
    };
    let fd = (p_hi - p_lo) / (hi - lo);
    let d = f.derivative(theta0);
    assert!(
        (fd - d).abs() < 1e-5 * (1.0 + d.abs()),
        "{which:?}: derivative {d} vs finite difference {fd}"
    );
}

#[test]
fn shipped_model_functions_match_resolving() {
    let net = shipped();
    let e = case(
        &net,
        &[
            "positive_straight_leg_raise=present",
            "pain_below_knee=present",
            "age_band=40_to_59",
        ],
    );
    let report = sensitivity::analyse(&net, &e, "disc_herniation").unwrap();
    let target = net.id_of("disc_herniation").unwrap();
    let state = net.variable(target).positive_state();
    // The top eight, plus the first noisy-OR cause and leak further down.
    let mut picked: Vec<_> = report.parameters.iter().take(8).collect();
    for kind in [ParamKind::NoisyOrCause, ParamKind::Leak, ParamKind::Table] {
        if let Some(p) = report.parameters.iter().skip(8).find(|p| p.kind == kind) {
            picked.push(p);
        }
    }
    assert!(picked.iter().any(|p| p.kind == ParamKind::NoisyOrCause));
    assert!(picked.iter().any(|p| p.kind == ParamKind::Leak));
    for p in picked {
        check_function(&net, &e, target, state, p.parameter, &p.function);
        // The reported range is the function at the interval's ends.
        let (a, b) = (p.function.eval(p.low), p.function.eval(p.high));
        assert!((p.range.0 - a.min(b)).abs() < 1e-15 && (p.range.1 - a.max(b)).abs() < 1e-15);
        // At the model's value the function is the posterior.
        assert!((p.function.eval(p.value) - report.posterior).abs() < 1e-12);
    }
}

#[test]
fn shipped_model_sorted_by_swing() {
    let net = shipped();
    let e = case(
        &net,
        &["neurogenic_claudication=present", "age_band=60_and_over"],
    );
    let report = sensitivity::analyse(&net, &e, "spinal_stenosis").unwrap();
    assert!(!report.parameters.is_empty());
    assert_eq!(
        report.parameters.len() + report.omitted,
        net.parameters().len()
    );
    for w in report.parameters.windows(2) {
        assert!(w[0].swing() >= w[1].swing());
    }
    for p in &report.parameters {
        assert!(p.swing() >= sensitivity::ZERO_SWING);
        assert!(p.low <= p.value + 1e-12 && p.value <= p.high + 1e-12 || p.declared);
        assert!(p.range.0 <= report.posterior + 1e-12 && report.posterior <= p.range.1 + 1e-12);
    }
    // The JSON shape.
    let json = report.to_json();
    assert_eq!(json["origin"], "spinal_stenosis");
    let first = &json["parameters"][0];
    for key in [
        "variable",
        "kind",
        "state",
        "value",
        "source",
        "derivative",
        "low",
        "high",
        "range",
        "coefficients",
    ] {
        assert!(first.get(key).is_some(), "missing {key}");
    }
    assert_eq!(first["coefficients"].as_array().unwrap().len(), 4);
}

#[test]
fn random_networks_functions_match_resolving() {
    let mut rng = StdRng::seed_from_u64(20261124);
    let mut checked = 0;
    for _ in 0..25 {
        let n = rng.gen_range(3..=7);
        let net = common::random_network(&mut rng, n);
        let e = common::random_evidence(&mut rng, &net);
        let free: Vec<VarId> = (0..n).filter(|&v| !e.contains(v)).collect();
        if free.is_empty() {
            continue;
        }
        let target = free[rng.gen_range(0..free.len())];
        let state = rng.gen_range(0..net.variable(target).cardinality());
        if resolve(&net, &e, target, state).is_none() {
            continue;
        }
        let params = net.parameters();
        for _ in 0..4 {
            let which = params[rng.gen_range(0..params.len())];
            let f = sensitivity::sensitivity_function(&net, &e, target, state, which).unwrap();
            check_function(&net, &e, target, state, which, &f);
            checked += 1;
        }
    }
    assert!(checked >= 40, "only {checked} parameters checked");
}

#[test]
fn origin_errors_name_the_problem() {
    let net = shipped();
    let e = Evidence::new();
    let err = sensitivity::analyse(&net, &e, "disc_herniaton").unwrap_err();
    assert!(matches!(err, SensitivityError::Unknown(_)));
    assert!(
        err.to_string().contains("did you mean `disc_herniation`"),
        "{err}"
    );
    let err = sensitivity::analyse(&net, &e, "foot_drop").unwrap_err();
    assert!(
        err.to_string().contains("`foot_drop` is not an origin"),
        "{err}"
    );
    let e = case(&net, &["disc_herniation=present"]);
    let err = sensitivity::analyse(&net, &e, "disc_herniation").unwrap_err();
    assert!(err.to_string().contains("in the evidence"), "{err}");
}

#[test]
fn default_interval_is_symmetric_for_binary_rows() {
    let (lo, hi) = sensitivity::default_interval(0.2);
    assert!((lo - 0.1).abs() < 1e-15 && (hi - 0.3).abs() < 1e-15);
    let (lo, hi) = sensitivity::default_interval(0.8);
    assert!((lo - 0.7).abs() < 1e-12 && (hi - 0.9).abs() < 1e-12);
}

// ---------------------------------------------------------------------------------------------
// Uncertainty

mod uncertainty_tests {
    use super::*;
    use radix::analysis::uncertainty;
    use radix::network::{Parameterisation, Uncertainty, beta_from_interval};
    use statrs::distribution::{Beta, ContinuousCDF};

    /// The shipped model's text with its own uncertainty declarations (`ci = [lo, hi], ` on
    /// prior rows) removed.
    fn undeclared_text() -> String {
        let text = std::fs::read_to_string(MODEL).unwrap();
        let mut out = String::with_capacity(text.len());
        let mut rest = text.as_str();
        while let Some(i) = rest.find("ci = [") {
            out.push_str(&rest[..i]);
            let end = rest[i..]
                .find("], ")
                .expect("a ci declaration ends with `], `");
            rest = &rest[i + end + 3..];
        }
        out.push_str(rest);
        out
    }

    /// A model without uncertainty declarations.
    fn undeclared_model() -> Network {
        radix::format::toml::from_str(&undeclared_text(), "undeclared.toml").unwrap()
    }

    /// The shipped model, its own declarations removed and others added: a `ci` on a noisy-OR
    /// cause, an `ess` on a table row and a `beta` on a leak.
    fn declared_text() -> String {
        let text = undeclared_text();
        let edits = [
            (
                "neurogenic claudication sens 0.82 spec 0.78; (s-L)/(1-L)\" }",
                "neurogenic claudication sens 0.82 spec 0.78; (s-L)/(1-L)\", ci = [0.7, 0.9] }",
            ),
            (
                "Suri 2010 age >65 LR+ 2.5; interval: Jensen 2020 primary-care prevalence 25% (95% CI 19-32%), scaled to this row\" }",
                "Suri 2010 age >65 LR+ 2.5\", ess = 50 }",
            ),
            (
                "(false positives split between leak and modelled competitors)\" }",
                "(false positives split between leak and modelled competitors)\", beta = [7, 93] }",
            ),
        ];
        let mut text = text;
        for (from, to) in edits {
            assert_eq!(text.matches(from).count(), 1, "{from}");
            text = text.replacen(from, to, 1);
        }
        text
    }

    fn declared_model() -> Network {
        radix::format::toml::from_str(&declared_text(), "declared.toml").unwrap()
    }

    #[test]
    fn seeded_runs_are_reproducible() {
        let net = declared_model();
        let e = case(
            &net,
            &["neurogenic_claudication=present", "age_band=60_and_over"],
        );
        let a = uncertainty::analyse(&net, &e, 40, 11).unwrap();
        let b = uncertainty::analyse(&net, &e, 40, 11).unwrap();
        let c = uncertainty::analyse(&net, &e, 40, 12).unwrap();
        assert_eq!(a, b);
        assert_ne!(a.origins, c.origins);
        assert_eq!(a.uncertain.len(), 3);
        let stenosis = a
            .origins
            .iter()
            .find(|o| o.id == "spinal_stenosis")
            .unwrap();
        assert!(stenosis.p05 < stenosis.point && stenosis.point < stenosis.p95);
        assert!(stenosis.p05 <= stenosis.mean && stenosis.mean <= stenosis.p95);
        let json = a.to_json();
        assert_eq!(json["samples"], 40);
        assert_eq!(json["seed"], 11);
        assert!(json["origins"][0]["p05"].is_number());
    }

    /// Evidence impossible at the model's own numbers is exact inference's error, naming the
    /// conflicting findings, not a sampling summary.
    #[test]
    fn impossible_evidence_names_the_conflict() {
        let net = radix::format::load("tests/data/asia.toml").unwrap();
        let e = case(&net, &["tub=yes", "either=no"]);
        match uncertainty::analyse(&net, &e, 5, 1) {
            Err(uncertainty::UncertaintyError::Inference(InferenceError::ImpossibleEvidence {
                ..
            })) => {}
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn no_declarations_collapse_to_the_point() {
        let net = undeclared_model();
        let e = case(&net, &["pain_below_knee=present"]);
        let report = uncertainty::analyse(&net, &e, 5, 1).unwrap();
        assert!(report.uncertain.is_empty());
        assert_eq!(report.fixed, 246);
        for o in &report.origins {
            assert_eq!(o.mean, o.point);
            assert_eq!(o.p05, o.point);
            assert_eq!(o.p95, o.point);
        }
        assert!(uncertainty::analyse(&net, &e, 0, 1).is_err());
    }

    #[test]
    fn beta_from_interval_matches_mean_and_width() {
        // The last two: near 0, where the smallest concentrations give U-shaped Betas (the
        // search must not stop at the end of its range).
        for (mean, lo, hi) in [
            (0.91, 0.82, 0.94),
            (0.25, 0.19, 0.32),
            (0.5, 0.3, 0.7),
            (0.002, 0.001, 0.004),
            (0.0004, 0.0001, 0.001),
        ] {
            let (a, b) = beta_from_interval(mean, lo, hi).unwrap();
            assert!((a / (a + b) - mean).abs() < 1e-12);
            let d = Beta::new(a, b).unwrap();
            let (q_lo, q_hi) = (d.inverse_cdf(0.025), d.inverse_cdf(0.975));
            assert!(((q_hi - q_lo) - (hi - lo)).abs() < 1e-6, "{q_lo}..{q_hi}");
            // Roughly the interval itself (exactly when it is symmetric about the mean).
            assert!(
                (q_lo - lo).abs() < 0.03 && (q_hi - hi).abs() < 0.03,
                "{q_lo}..{q_hi}"
            );
        }
        assert!(beta_from_interval(0.95, 0.82, 0.94).is_err());
        assert!(beta_from_interval(0.5, 0.6, 0.4).is_err());
    }

    #[test]
    fn declarations_round_trip_through_toml() {
        let net = declared_model();
        let text = radix::format::toml_writer::to_string(&net);
        let back = radix::format::toml::from_str(&text, "back.toml").unwrap();
        let (a, b) = (uncertainty::declared(&net), uncertainty::declared(&back));
        assert_eq!(a.len(), 3);
        assert_eq!(a, b);
        assert!(a.iter().any(|d| matches!(
            d.distribution,
            Uncertainty::Interval { low, high, .. } if low == 0.7 && high == 0.9
        )));
        // A `ci` on the second state of a prior is written with `for_state`.
        let text = "[model]\nname = \"t\"\n[[variable]]\nid = \"a\"\nlabel = \"A\"\nrole = \"origin\"\n\
                    states = [\"present\", \"absent\"]\n\
                    cpt = { p = [0.25, 0.75], source = \"x\", ci = [0.68, 0.81], for_state = \"absent\" }\n";
        let net = radix::format::toml::from_str(text, "t.toml").unwrap();
        let written = radix::format::toml_writer::to_string(&net);
        assert!(
            written.contains("ci = [0.68, 0.81], for_state = \"absent\""),
            "{written}"
        );
        let back = radix::format::toml::from_str(&written, "t.toml").unwrap();
        let Parameterisation::Table(rows) = back.cpd(0).parameterisation() else {
            panic!("table")
        };
        let u = rows[0].uncertainty.unwrap();
        assert_eq!(u.state, 1);
    }

    #[test]
    fn bad_declarations_are_named() {
        let base = "[model]\nname = \"t\"\n[[variable]]\nid = \"a\"\nlabel = \"A\"\nrole = \"origin\"\n\
                    states = [\"present\", \"absent\"]\n";
        for (cpt, want) in [
            (
                "cpt = { p = [0.25, 0.75], ci = [0.3, 0.4] }",
                "outside its interval",
            ),
            ("cpt = { p = [0.25, 0.75], beta = [0, 2] }", "above 0"),
            (
                "cpt = { p = [0.25, 0.75], ess = 10, ci = [0.2, 0.3] }",
                "at most one",
            ),
            (
                "cpt = { p = [0.25, 0.75], ci = [0.2, 0.3], for_state = \"maybe\" }",
                "no state `maybe`",
            ),
        ] {
            let err = radix::format::toml::from_str(&format!("{base}{cpt}\n"), "t.toml")
                .unwrap_err()
                .to_string();
            assert!(err.contains(want), "{cpt}: {err}");
            assert!(err.contains("`a`"), "{err}");
        }
    }

    #[test]
    fn sensitivity_uses_declared_intervals() {
        let net = declared_model();
        let e = case(
            &net,
            &["neurogenic_claudication=present", "age_band=60_and_over"],
        );
        let report = sensitivity::analyse(&net, &e, "spinal_stenosis").unwrap();
        let cause = report
            .parameters
            .iter()
            .find(|p| p.cause.as_deref() == Some("spinal_stenosis=present"))
            .unwrap();
        assert!(cause.declared && cause.low == 0.7 && cause.high == 0.9);
    }
}

/// `with_parameter` gives the network the builder makes from the edited numbers.
#[test]
fn with_parameter_matches_building_the_edited_model() {
    use radix::network::{CauseSpec, CpdSpec, NetworkBuilder, Role, VariableSpec};
    let build = |prior: Vec<f64>, p: f64, leak: f64| {
        let mut b = NetworkBuilder::new("t");
        b.variable(
            VariableSpec::new("a", "A", Role::Origin, &["present", "absent", "unknown"]),
            CpdSpec::root(prior, "x"),
        );
        b.variable(
            VariableSpec::new("c", "C", Role::Origin, &["present", "absent"]),
            CpdSpec::root(vec![0.4, 0.6], "x"),
        );
        let mut by_a = CauseSpec::new("a", p);
        by_a.state = Some("unknown".into());
        b.variable(
            VariableSpec::new("e", "E", Role::Finding, &["present", "absent"]),
            CpdSpec::noisy_or(leak, vec![by_a, CauseSpec::new("c", 0.5)], "x"),
        );
        b.build().unwrap()
    };
    let net = build(vec![0.2, 0.3, 0.5], 0.3, 0.05);
    let same = |x: &Network, y: &Network| {
        for v in 0..x.len() {
            let (fx, fy) = (x.cpd(v).factor().values(), y.cpd(v).factor().values());
            for (a, b) in fx.iter().zip(&fy) {
                assert!((a - b).abs() < 1e-15, "variable {v}: {fx:?} vs {fy:?}");
            }
        }
    };
    let edited = net
        .with_parameter(
            ParamRef::Table {
                variable: 0,
                row: 0,
                state: 0,
            },
            0.6,
        )
        .unwrap();
    same(&edited, &build(vec![0.6, 0.15, 0.25], 0.3, 0.05));
    let edited = net
        .with_parameter(
            ParamRef::Cause {
                variable: 2,
                cause: 0,
            },
            0.8,
        )
        .unwrap();
    same(&edited, &build(vec![0.2, 0.3, 0.5], 0.8, 0.05));
    let edited = net
        .with_parameter(ParamRef::Leak { variable: 2 }, 0.1)
        .unwrap();
    same(&edited, &build(vec![0.2, 0.3, 0.5], 0.3, 0.1));
    // References that do not fit, and values out of range, are errors.
    assert!(
        net.with_parameter(ParamRef::Leak { variable: 0 }, 0.1)
            .is_err()
    );
    assert!(
        net.with_parameter(
            ParamRef::Cause {
                variable: 2,
                cause: 5
            },
            0.1
        )
        .is_err()
    );
    assert!(
        net.with_parameter(ParamRef::Leak { variable: 9 }, 0.1)
            .is_err()
    );
    assert!(
        net.with_parameter(ParamRef::Leak { variable: 2 }, 1.5)
            .is_err()
    );
}
