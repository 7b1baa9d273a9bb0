//! `radix check`: validate and summarise a model.

use std::path::PathBuf;

use clap::Args;
use radix::network::{Parameterisation, Role};

use super::EXIT_ERROR;

#[derive(Args)]
pub struct CheckArgs {
    /// The model file.
    model: PathBuf,
    /// Fail (exit 2) when any number has no source.
    #[arg(long)]
    strict: bool,
}

pub fn run(args: &CheckArgs) -> Result<i32, String> {
    let net = super::load(&args.model)?;
    let info = net.info();
    println!("{}: valid", args.model.display());
    println!(
        "  model      {}{}{}",
        info.name,
        info.version
            .as_deref()
            .map(|v| format!(" {v}"))
            .unwrap_or_default(),
        info.title
            .as_deref()
            .map(|t| format!(" · {t}"))
            .unwrap_or_default()
    );
    let roles = [
        Role::Origin,
        Role::Context,
        Role::Intermediate,
        Role::Finding,
        Role::Other,
    ];
    let counts: Vec<String> = roles
        .iter()
        .map(|&r| (r, net.with_role(r).count()))
        .filter(|&(_, n)| n > 0)
        .map(|(r, n)| format!("{n} {r}"))
        .collect();
    println!("  variables  {} ({})", net.len(), counts.join(", "));
    let mut numbers = 0;
    let mut entries = 0;
    let mut noisy = 0;
    let mut unsourced: Vec<(String, usize)> = Vec::new();
    for v in 0..net.len() {
        let cpd = net.cpd(v);
        numbers += cpd.parameter_count();
        entries += cpd.factor().len();
        if matches!(cpd.parameterisation(), Parameterisation::NoisyOr { .. }) {
            noisy += 1;
        }
        let missing = cpd.unsourced_count();
        if missing > 0 {
            unsourced.push((net.variable(v).id().to_string(), missing));
        }
    }
    println!(
        "  parameters {numbers} numbers written ({noisy} noisy-OR, {} tables), {entries} table entries after expansion",
        net.len() - noisy
    );
    let arcs: usize = (0..net.len()).map(|v| net.parents(v).len()).sum();
    println!("  arcs       {arcs}");
    if unsourced.is_empty() {
        println!("  sources    every number has a source");
    } else {
        let total: usize = unsourced.iter().map(|(_, n)| n).sum();
        let list: Vec<String> = unsourced
            .iter()
            .map(|(id, n)| format!("{id} ({n})"))
            .collect();
        println!(
            "  sources    {total} number(s) without a source: {}",
            list.join(", ")
        );
    }
    let rules = net.triage_rules();
    println!("  triage     {} rule(s)", rules.len());
    for r in rules {
        let triggers: Vec<String> = r
            .triggers
            .iter()
            .map(|t| {
                let var = net.variable(t.variable);
                format!("{}={}", var.id(), var.states()[t.state])
            })
            .collect();
        println!(
            "             {} -> {}: when any of {}",
            r.id,
            r.level,
            triggers.join(", ")
        );
    }
    for w in net.warnings() {
        println!("  warning    {w}");
    }
    if args.strict && !unsourced.is_empty() {
        eprintln!(
            "error: {}: numbers without a source (see above); add a `source` to each",
            args.model.display()
        );
        return Ok(EXIT_ERROR);
    }
    Ok(0)
}
