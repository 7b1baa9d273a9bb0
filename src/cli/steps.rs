//! `radix steps`: variable elimination written out for teaching.

use std::path::PathBuf;

use clap::Args;
use radix::analysis::steps;

use super::EvidenceArgs;

#[derive(Args)]
pub struct StepsArgs {
    /// The model file (e.g. models/hip_leg_pain.toml).
    model: PathBuf,
    #[command(flatten)]
    evidence: EvidenceArgs,
    /// The variable whose posterior is computed.
    #[arg(long, value_name = "VAR")]
    query: String,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(args: &StepsArgs) -> Result<i32, String> {
    let net = super::load(&args.model)?;
    let evidence = args.evidence.parse(&net)?;
    let query = net.lookup(&args.query).map_err(|e| e.to_string())?;
    let trace = steps::trace(&net, &evidence, query).map_err(|e| e.to_string())?;
    if args.json {
        super::print_json(&trace.to_json(&net, &evidence));
    } else {
        println!("{}", radix::DISCLAIMER);
        println!();
        for line in trace.to_text(&net) {
            println!("{line}");
        }
    }
    Ok(0)
}
