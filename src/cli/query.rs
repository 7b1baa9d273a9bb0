//! `radix query`: one case.

use std::path::PathBuf;

use clap::Args;
use radix::diagnosis::{self, Diagnoser, Diagnosis, DiagnosisError};
use radix::evidence::Evidence;
use radix::inference::{CompileOptions, DEFAULT_MAX_TABLE_ENTRIES};
use radix::network::Network;
use radix::triage::{Triage, TriageLevel};

use super::{EXIT_ERROR, EvidenceArgs};

#[derive(Args)]
pub struct QueryArgs {
    /// The model file (e.g. models/hip_leg_pain.toml).
    model: PathBuf,
    #[command(flatten)]
    evidence: EvidenceArgs,
    /// Also show the posterior of this variable (repeatable; all are in --json).
    #[arg(long = "show", value_name = "VAR")]
    show: Vec<String>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// Refuse networks whose compiled tables would hold more entries than this (8 bytes each).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_TABLE_ENTRIES)]
    max_table_entries: f64,
}

pub fn run(args: &QueryArgs) -> Result<i32, String> {
    let net = super::load(&args.model)?;
    let evidence = args.evidence.parse(&net)?;
    let shown: Vec<usize> = args
        .show
        .iter()
        .map(|name| net.lookup(name).map_err(|e| e.to_string()))
        .collect::<Result<_, _>>()?;
    let model = args.model.display().to_string();
    let options = CompileOptions {
        max_table_entries: args.max_table_entries,
        ..CompileOptions::default()
    };
    let outcome = match Diagnoser::with_options(&net, &options) {
        Ok(d) => d.diagnose(&mut d.workspace(), &evidence),
        Err(error) => Err(DiagnosisError {
            triage: radix::triage::assess(&net, &evidence),
            error,
        }),
    };
    match outcome {
        Ok(d) => {
            if args.json {
                super::print_json(&d.to_json(&net, &evidence, &model));
            } else {
                print_text(&net, &evidence, &d, &shown);
            }
            Ok(0)
        }
        Err(failure) => {
            // The triage needs no probabilities: report it before the error, always.
            if args.json {
                let out = serde_json::json!({
                    "model": model,
                    "disclaimer": radix::DISCLAIMER,
                    "evidence": diagnosis::evidence_json(&net, &evidence),
                    "triage": diagnosis::triage_json(&net, &failure.triage),
                    "error": failure.error.to_string(),
                });
                super::print_json(&out);
            } else {
                print_header(&net);
                print_triage(&net, &failure.triage);
            }
            eprintln!("error: {}", failure.error);
            Ok(EXIT_ERROR)
        }
    }
}

fn print_header(net: &Network) {
    let info = net.info();
    let title = info.title.as_deref().unwrap_or(&info.name);
    match &info.version {
        Some(v) => println!("radix · {title} ({} {v})", info.name),
        None => println!("radix · {title}"),
    }
    println!("{}", radix::DISCLAIMER);
    println!();
}

fn print_triage(net: &Network, triage: &Triage) {
    let banner = match triage.level {
        TriageLevel::Emergency => "EMERGENCY",
        TriageLevel::Urgent => "URGENT",
        TriageLevel::Routine => "routine",
    };
    println!("TRIAGE: {banner}");
    if triage.fired.is_empty() {
        println!("  no red-flag rule fired");
    }
    for f in &triage.fired {
        let by: Vec<&str> = f
            .triggered_by
            .iter()
            .map(|&v| net.variable(v).id())
            .collect();
        println!(
            "  !! {} [{}]: {}",
            f.level.as_str().to_uppercase(),
            f.id,
            f.message
        );
        println!("     triggered by: {}", by.join(", "));
    }
    println!();
}

/// The label cut to `max` characters, with an ellipsis when cut.
fn clip(label: &str, max: usize) -> String {
    if label.chars().count() <= max {
        label.to_string()
    } else {
        let mut s: String = label.chars().take(max - 1).collect();
        s.push('…');
        s
    }
}

fn bar(p: f64, width: usize) -> String {
    let filled = (p.clamp(0.0, 1.0) * width as f64).round() as usize;
    format!("{}{}", "█".repeat(filled), "·".repeat(width - filled))
}

fn print_text(net: &Network, evidence: &Evidence, d: &Diagnosis, shown: &[usize]) {
    print_header(net);
    print_triage(net, &d.triage);
    if evidence.is_empty() {
        println!("Evidence: none (prior probabilities)");
    } else {
        let items: Vec<String> = evidence
            .iter()
            .map(|(v, _)| {
                let what = evidence.describe(net, v).unwrap_or_default();
                let id = net.variable(v).id();
                if let Some(state) = what.strip_prefix("!=") {
                    format!("{id}!={state}")
                } else if matches!(
                    evidence.get(v),
                    Some(radix::evidence::Observation::Likelihood(_))
                ) {
                    format!("{id}~[{what}]")
                } else {
                    format!("{id}={what}")
                }
            })
            .collect();
        println!("Evidence: {}", items.join(", "));
    }
    println!();
    let mut shown = shown.to_vec();
    if d.origins.is_empty() {
        // A network without diagnostic roles (e.g. read from BIF): show every posterior.
        println!("No variable has the role `origin`; the posterior of every unobserved variable:");
        shown = d.posteriors.iter().map(|(v, _)| v).collect();
    } else {
        println!("Origins, ranked (posterior probability the origin is present):");
    }
    const MAX_LABEL: usize = 44;
    let width = d
        .origins
        .iter()
        .map(|o| {
            net.variable(o.variable)
                .label()
                .chars()
                .count()
                .min(MAX_LABEL)
        })
        .max()
        .unwrap_or(10);
    for (i, o) in d.origins.iter().enumerate() {
        let var = net.variable(o.variable);
        let mark = match &o.overridden_by {
            Some(rule) => format!("  << red flag: {rule}"),
            None => String::new(),
        };
        println!(
            "  {:>2}. {:<width$}  {:>7.2}%  {}  {}{mark}",
            i + 1,
            clip(var.label(), MAX_LABEL),
            o.probability * 100.0,
            bar(o.probability, 24),
            var.id(),
        );
    }
    for &v in &shown {
        let var = net.variable(v);
        println!();
        match d.posteriors.marginal(v) {
            Some(p) => {
                println!("{} ({}):", var.label(), var.id());
                for (s, x) in var.states().iter().zip(p) {
                    println!("  {s:<16} {:>7.2}%  {}", x * 100.0, bar(*x, 24));
                }
            }
            None => println!("{} ({}): observed", var.label(), var.id()),
        }
    }
    println!();
    println!(
        "P(evidence) = {:.4e}  (log10 = {:.4})",
        d.posteriors.p_evidence(),
        d.posteriors.log10_p_evidence()
    );
    if d.conflict > 0.0 {
        println!(
            "Conflict measure {:+.3}: these findings fit together less well than independent ones would;\n  check for a data-entry error, or a case the model has no origin for.",
            d.conflict
        );
    } else if evidence.len() >= 2 {
        println!(
            "Conflict measure {:+.3} (the findings support each other).",
            d.conflict
        );
    }
}
