//! `radix uncertainty`: the origins' posteriors under the model's declared parameter
//! uncertainty (mean and 90 % interval over sampled models).

use std::path::PathBuf;

use clap::Args;
use radix::analysis::uncertainty::{self, DEFAULT_SAMPLES};

use super::EvidenceArgs;

#[derive(Args)]
pub struct UncertaintyArgs {
    /// The model file (e.g. models/hip_leg_pain.toml).
    model: PathBuf,
    #[command(flatten)]
    evidence: EvidenceArgs,
    /// How many models to sample.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_SAMPLES)]
    samples: usize,
    /// Seed of the random draws (same seed, same output).
    #[arg(long, value_name = "S", default_value_t = 1)]
    seed: u64,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(args: &UncertaintyArgs) -> Result<i32, String> {
    let net = super::load(&args.model)?;
    let evidence = args.evidence.parse(&net)?;
    let report = uncertainty::analyse(&net, &evidence, args.samples, args.seed)
        .map_err(|e| e.to_string())?;
    if args.json {
        super::print_json(&report.to_json());
        return Ok(0);
    }
    println!("radix uncertainty · {}", net.name());
    println!("{}", radix::DISCLAIMER);
    println!();
    println!(
        "{} sampled models (seed {}){}; {} declared uncertainties sampled, {} numbers held fixed.",
        report.samples,
        report.seed,
        if report.discarded > 0 {
            format!(", {} discarded (evidence impossible)", report.discarded)
        } else {
            String::new()
        },
        report.uncertain.len(),
        report.fixed
    );
    if report.uncertain.is_empty() {
        println!(
            "The model declares no uncertainty (`beta`, `ci` or `ess`): every interval is the point posterior."
        );
    }
    println!();
    let width = report
        .origins
        .iter()
        .map(|o| o.id.len())
        .max()
        .unwrap_or(6)
        .max(6);
    println!(
        "{:width$}  {:>7}  {:>7}  {:>7}  {:>7}",
        "origin", "model", "mean", "p05", "p95"
    );
    let mut rows: Vec<_> = report.origins.iter().collect();
    rows.sort_by(|a, b| b.point.total_cmp(&a.point));
    for o in rows {
        println!(
            "{:width$}  {:>7.4}  {:>7.4}  {:>7.4}  {:>7.4}",
            o.id, o.point, o.mean, o.p05, o.p95
        );
    }
    Ok(0)
}
