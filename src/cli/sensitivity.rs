//! `radix sensitivity`: which numbers of the model move an origin's posterior most for a case
//! (one-way sensitivity, the data of a tornado chart).

use std::path::PathBuf;

use clap::Args;
use radix::analysis::sensitivity::{self, ParamKind, ParameterSensitivity};
use radix::network::ParamRef;

use super::EvidenceArgs;

#[derive(Args)]
pub struct SensitivityArgs {
    /// The model file (e.g. models/hip_leg_pain.toml).
    model: PathBuf,
    #[command(flatten)]
    evidence: EvidenceArgs,
    /// The origin whose posterior is analysed (its positive state).
    #[arg(long, value_name = "ORIGIN")]
    origin: String,
    /// How many parameters to list in text (all are in --json).
    #[arg(long, value_name = "N", default_value_t = 15)]
    top: usize,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(args: &SensitivityArgs) -> Result<i32, String> {
    let net = super::load(&args.model)?;
    let evidence = args.evidence.parse(&net)?;
    let report = sensitivity::analyse(&net, &evidence, &args.origin).map_err(|e| e.to_string())?;
    if args.json {
        super::print_json(&report.to_json());
        return Ok(0);
    }
    println!("radix sensitivity · {}", net.name());
    println!("{}", radix::DISCLAIMER);
    println!();
    println!(
        "P({}={} | evidence) = {:.4}",
        report.origin, report.state, report.posterior
    );
    println!(
        "{} parameters move it; {} left out (irrelevant to this case or no effect).",
        report.parameters.len(),
        report.omitted
    );
    println!(
        "Each parameter sweeps its declared interval (*) or ±50 % of min(θ, 1−θ); bar = posterior\nrange, | = now; a binary row is shown once (its other entry is 1 − θ); --json lists all."
    );
    println!();
    const WIDTH: usize = 40;
    // The two entries of a binary row are one number (θ and 1 − θ, same range): show it once.
    let mut seen = std::collections::HashSet::new();
    let shown = report.parameters.iter().filter(|p| match p.parameter {
        ParamRef::Table { variable, row, .. } if net.variable(variable).cardinality() == 2 => {
            seen.insert((variable, row))
        }
        _ => true,
    });
    for p in shown.take(args.top) {
        let lo = (p.range.0 * WIDTH as f64).round() as usize;
        let hi = ((p.range.1 * WIDTH as f64).round() as usize)
            .max(lo + 1)
            .min(WIDTH);
        let mark = (report.posterior * WIDTH as f64).round() as usize;
        let bar: String = (0..WIDTH)
            .map(|i| {
                if i == mark.min(WIDTH - 1) {
                    '|'
                } else if i >= lo && i < hi {
                    '█'
                } else {
                    '·'
                }
            })
            .collect();
        println!("{bar} {:.3}–{:.3}  {}", p.range.0, p.range.1, label(p));
        println!(
            "{:w$} θ={:.4} in [{:.4}, {:.4}]{}  dP/dθ={:+.4}",
            "",
            p.value,
            p.low,
            p.high,
            if p.declared { "*" } else { "" },
            p.derivative,
            w = WIDTH + 1
        );
    }
    Ok(0)
}

fn label(p: &ParameterSensitivity) -> String {
    match p.kind {
        ParamKind::Table => {
            let row = p.row.as_deref().unwrap_or_default();
            if row.is_empty() {
                format!("P({}={})", p.variable, p.state)
            } else {
                let given: Vec<String> = row.iter().map(|(k, v)| format!("{k}={v}")).collect();
                format!("P({}={} | {})", p.variable, p.state, given.join(", "))
            }
        }
        ParamKind::NoisyOrCause => {
            format!("{} cause {}", p.variable, p.cause.as_deref().unwrap_or("?"))
        }
        ParamKind::Leak => format!("{} leak", p.variable),
    }
}
