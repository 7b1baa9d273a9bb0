//! `radix list`: the ids and states to type.

use std::path::PathBuf;

use clap::Args;
use radix::network::Role;
use serde_json::json;

#[derive(Args)]
pub struct ListArgs {
    /// The model file.
    model: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(args: &ListArgs) -> Result<i32, String> {
    let net = super::load(&args.model)?;
    let roles = [
        Role::Origin,
        Role::Context,
        Role::Finding,
        Role::Intermediate,
        Role::Other,
    ];
    if args.json {
        let vars: Vec<_> = roles
            .iter()
            .flat_map(|&r| net.with_role(r))
            .map(|v| {
                let var = net.variable(v);
                json!({
                    "id": var.id(),
                    "label": var.label(),
                    "role": var.role().as_str(),
                    "states": var.states(),
                    "parents": net.parents(v).iter().map(|&p| net.variable(p).id()).collect::<Vec<_>>(),
                })
            })
            .collect();
        super::print_json(&json!({ "variables": vars }));
        return Ok(0);
    }
    for role in roles {
        let vars: Vec<usize> = net.with_role(role).collect();
        if vars.is_empty() {
            continue;
        }
        println!("{} ({}):", role_heading(role), vars.len());
        let width = vars
            .iter()
            .map(|&v| net.variable(v).id().len())
            .max()
            .unwrap_or(0);
        for v in vars {
            let var = net.variable(v);
            println!(
                "  {:<width$}  [{}]  {}",
                var.id(),
                var.states().join(", "),
                var.label()
            );
        }
        println!();
    }
    println!(
        "Evidence: -e VAR=STATE, -e VAR!=STATE, --likelihood VAR=w1,w2 (weights in the state order above)."
    );
    Ok(0)
}

fn role_heading(role: Role) -> &'static str {
    match role {
        Role::Origin => "Origins",
        Role::Context => "Context",
        Role::Finding => "Findings",
        Role::Intermediate => "Intermediate (hidden mechanisms)",
        Role::Other => "Variables",
    }
}
