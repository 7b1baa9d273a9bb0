//! `radix whatif`, `radix next` and `radix explain`: the reasoning tools.

use std::path::PathBuf;

use clap::Args;
use radix::analysis::{explain, next, whatif};
use radix::diagnosis::Diagnoser;
use radix::evidence::Evidence;
use radix::network::{Network, Role};

use super::EvidenceArgs;

/// The options every reasoning command takes.
#[derive(Args)]
pub struct CaseArgs {
    /// The model file.
    model: PathBuf,
    #[command(flatten)]
    evidence: EvidenceArgs,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct WhatIfArgs {
    #[command(flatten)]
    case: CaseArgs,
    /// Rows to print in text (all are in --json).
    #[arg(long, default_value_t = 20)]
    top: usize,
}

#[derive(Args)]
pub struct NextArgs {
    #[command(flatten)]
    case: CaseArgs,
    /// Findings to print in text (all are in --json).
    #[arg(long, default_value_t = 15)]
    top: usize,
}

#[derive(Args)]
pub struct ExplainArgs {
    #[command(flatten)]
    case: CaseArgs,
    /// The origin to explain (default: the one radix lists first).
    #[arg(long, value_name = "ORIGIN")]
    origin: Option<String>,
}

impl CaseArgs {
    /// The model and the case's evidence, checked against it.
    fn open(&self) -> Result<(Network, Evidence), String> {
        let net = super::load(&self.model)?;
        let evidence = self.evidence.parse(&net)?;
        Ok((net, evidence))
    }
}

fn header(net: &Network) {
    println!(
        "radix · {}",
        net.info().title.as_deref().unwrap_or(net.name())
    );
    println!("{}", radix::DISCLAIMER);
    println!();
}

fn short(net: &Network, v: usize) -> &str {
    net.variable(v).id()
}

pub fn run_whatif(args: &WhatIfArgs) -> Result<i32, String> {
    let (net, evidence) = args.case.open()?;
    let d = Diagnoser::new(&net).map_err(|e| e.to_string())?;
    let mut ws = d.workspace();
    let table = whatif::what_if(&d, &mut ws, &evidence).map_err(|e| e.to_string())?;
    if args.case.json {
        super::print_json(&table.to_json(&net));
        return Ok(0);
    }
    header(&net);
    println!(
        "What if: each unobserved finding set to each state, largest shift of an origin first."
    );
    println!();
    println!(
        "  {:<44} {:>7}  {:>9}  {:<28} triage",
        "finding = state", "P(now)", "max shift", "origin moved most"
    );
    for r in table.rows.iter().take(args.top) {
        let var = net.variable(r.variable);
        let (who, by) = r
            .change
            .iter()
            .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
            .map(|(v, c)| (short(&net, *v).to_string(), *c))
            .unwrap_or_default();
        let mut triage = r.triage.as_str().to_string();
        if !r.new_overrides.is_empty() {
            triage = format!(
                "{} (fires {})",
                triage.to_uppercase(),
                r.new_overrides.join(", ")
            );
        }
        println!(
            "  {:<44} {:>6.1}%  {:>+8.1}%  {:<28} {triage}",
            format!("{}={}", var.id(), var.states()[r.state]),
            r.probability * 100.0,
            by * 100.0,
            who,
        );
    }
    Ok(0)
}

pub fn run_next(args: &NextArgs) -> Result<i32, String> {
    let (net, evidence) = args.case.open()?;
    let d = Diagnoser::new(&net).map_err(|e| e.to_string())?;
    let mut ws = d.workspace();
    let ranking = next::next_findings(&d, &mut ws, &evidence).map_err(|e| e.to_string())?;
    if args.case.json {
        super::print_json(&ranking.to_json(&net));
        return Ok(0);
    }
    header(&net);
    if let Some(top) = ranking.top {
        println!("Listed first now: {}", net.variable(top).label());
    }
    println!("What to examine next: expected information about the origins (bits, the sum over");
    println!(
        "origins of the mutual information with the finding), and the chance the first-listed"
    );
    println!("origin changes.");
    println!();
    println!(
        "  {:<36} {:>8}  {:>14}  most likely",
        "finding", "bits", "P(top changes)"
    );
    for c in ranking.ranking.iter().take(args.top) {
        let var = net.variable(c.variable);
        let p = c
            .outcomes
            .iter()
            .find(|o| o.state == c.most_likely)
            .map_or(0.0, |o| o.probability);
        println!(
            "  {:<36} {:>8.4}  {:>13.1}%  {} ({:.0}%)",
            var.id(),
            c.information,
            c.p_changes_top * 100.0,
            var.states()[c.most_likely],
            p * 100.0
        );
    }
    Ok(0)
}

pub fn run_explain(args: &ExplainArgs) -> Result<i32, String> {
    let (net, evidence) = args.case.open()?;
    let d = Diagnoser::new(&net).map_err(|e| e.to_string())?;
    let mut ws = d.workspace();
    let origin = match &args.origin {
        Some(name) => {
            let v = net.lookup(name).map_err(|e| e.to_string())?;
            if net.variable(v).role() != Role::Origin {
                return Err(format!(
                    "`{name}` is not an origin; explain takes one of: {}",
                    origins(&net)
                ));
            }
            v
        }
        None => {
            let diagnosis = d.diagnose(&mut ws, &evidence).map_err(|e| e.to_string())?;
            diagnosis
                .origins
                .first()
                .map(|o| o.variable)
                .ok_or_else(|| "the model has no origins to explain".to_string())?
        }
    };
    let x = explain::explain(&d, &mut ws, &evidence, origin).map_err(|e| e.to_string())?;
    if args.case.json {
        super::print_json(&x.to_json(&net));
        return Ok(0);
    }
    header(&net);
    let label = net.variable(origin).label();
    println!(
        "Why {label} ({}) is at {:.1}%:",
        net.variable(origin).id(),
        x.posterior * 100.0
    );
    println!();
    println!(
        "  prior (context only)      {:>6.2}%   log10 odds {:+.3}",
        x.prior * 100.0,
        x.log10_prior_odds()
    );
    for w in &x.findings {
        println!(
            "  {:<25} {:>+7.3}   (leave-one-out {:+.3})   {}",
            format!("{}={}", net.variable(w.variable).id(), w.observed),
            w.log10_lr,
            w.leave_one_out,
            x.sentence(&net, w)
        );
    }
    println!(
        "  posterior                 {:>6.2}%   log10 odds {:+.3}",
        x.posterior * 100.0,
        x.log10_posterior_odds()
    );
    println!();
    println!(
        "The weights (log10 likelihood ratios, each given the findings above it) add up to the"
    );
    println!("change in log10 odds from prior to posterior.");
    Ok(0)
}

fn origins(net: &Network) -> String {
    net.with_role(Role::Origin)
        .map(|v| net.variable(v).id().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
