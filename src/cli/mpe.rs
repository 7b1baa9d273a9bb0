//! `radix mpe`: the most probable explanation of a case.

use std::path::PathBuf;

use clap::Args;
use radix::analysis::mpe;
use radix::network::Network;

use super::EvidenceArgs;

#[derive(Args)]
pub struct MpeArgs {
    /// The model file (e.g. models/hip_leg_pain.toml).
    model: PathBuf,
    #[command(flatten)]
    evidence: EvidenceArgs,
    /// How many joint assignments of the origins to list, best first.
    #[arg(long, value_name = "K", default_value_t = 5)]
    top: usize,
    /// The single most probable assignment of every unobserved variable (max-product
    /// elimination) instead of the ranked assignments of the origins.
    #[arg(long)]
    all: bool,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(args: &MpeArgs) -> Result<i32, String> {
    let net = super::load(&args.model)?;
    let evidence = args.evidence.parse(&net)?;
    if args.all {
        let best = mpe::mpe(&net, &evidence).map_err(|e| e.to_string())?;
        if args.json {
            super::print_json(&best.to_json(&net));
        } else {
            println!("{}", radix::DISCLAIMER);
            println!();
            println!(
                "Most probable assignment of every unobserved variable (P = {:.4e} given the evidence):",
                best.probability
            );
            let width = best
                .assignment
                .iter()
                .map(|&(v, _)| net.variable(v).id().len())
                .max()
                .unwrap_or(0);
            for &(v, s) in &best.assignment {
                let var = net.variable(v);
                println!("  {:<width$}  {}", var.id(), var.states()[s]);
            }
        }
        return Ok(0);
    }
    let ranked = mpe::origins(&net, &evidence, args.top).map_err(|e| e.to_string())?;
    if args.json {
        super::print_json(&ranked.to_json(&net));
    } else {
        println!("{}", radix::DISCLAIMER);
        println!();
        println!("Most probable joint explanations (P(these origins | evidence)):");
        for a in &ranked.assignments {
            println!("  {:.3}  {}", a.probability, describe(&net, &a.states));
        }
    }
    Ok(0)
}

/// The origins present (not in their negative state), e.g. `disc_herniation (others absent)`.
fn describe(net: &Network, states: &[(usize, usize)]) -> String {
    let present: Vec<String> = states
        .iter()
        .filter(|&&(v, s)| {
            let var = net.variable(v);
            var.cardinality() != 2 || s == var.positive_state()
        })
        .map(|&(v, s)| {
            let var = net.variable(v);
            if var.cardinality() == 2 {
                var.id().to_string()
            } else {
                format!("{}={}", var.id(), var.states()[s])
            }
        })
        .collect();
    if present.is_empty() {
        "none of the origins".to_string()
    } else if present.len() == states.len() {
        present.join(" + ")
    } else {
        format!("{} (others absent)", present.join(" + "))
    }
}
