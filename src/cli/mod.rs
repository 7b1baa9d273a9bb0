//! The command-line face of radix: argument parsing and text/JSON rendering only; every
//! answer comes from the library.

mod batch;
mod bench;
mod check;
mod convert;
mod list;
mod mpe;
mod query;
mod reasoning;
mod sensitivity;
mod steps;
mod uncertainty;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use radix::evidence::Evidence;
use radix::network::Network;

/// Exit code for a failed command (bad input, invalid model, impossible evidence).
pub const EXIT_ERROR: i32 = 2;

const ABOUT: &str = "Exact probabilistic diagnostic reasoning over hand-parameterised Bayesian networks.\n\n\
radix is a research and teaching tool, not a medical device: its output is not medical advice.";

#[derive(Parser)]
#[command(name = "radix", version, about = ABOUT, long_about = ABOUT,
          after_help = "Research and teaching tool, not a medical device.")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Rank the origins for a case: triage banner, ranked origins, P(evidence).
    Query(query::QueryArgs),
    /// Validate a model and summarise it (variables by role, parameters, missing sources).
    Check(check::CheckArgs),
    /// List the variables with their roles, states and labels.
    List(list::ListArgs),
    /// Score many cases (JSON Lines) in parallel; one output line per case, in input order.
    Batch(batch::BatchArgs),
    /// Convert a model between formats (.toml, .bif, .xml/.xmlbif), chosen by extension.
    Convert(convert::ConvertArgs),
    /// Time exact inference on a network: preparation, per-query time, clique sizes.
    Bench(bench::BenchArgs),
    /// Each unobserved finding set to each state: how the origins and the triage would move.
    Whatif(reasoning::WhatIfArgs),
    /// What to examine next: findings ranked by the information they would give.
    Next(reasoning::NextArgs),
    /// Why an origin is where it is: each finding's weight of evidence.
    Explain(reasoning::ExplainArgs),
    /// The most probable explanation: the likeliest joint assignments of the origins.
    Mpe(mpe::MpeArgs),
    /// Variable elimination written out step by step, for teaching.
    Steps(steps::StepsArgs),
    /// One-way parameter sensitivity of an origin's posterior for a case (tornado data).
    Sensitivity(sensitivity::SensitivityArgs),
    /// Posterior intervals of the origins under the model's declared parameter uncertainty.
    Uncertainty(uncertainty::UncertaintyArgs),
}

/// Evidence options shared by the commands that take a case.
#[derive(Args, Debug, Clone, Default)]
pub struct EvidenceArgs {
    /// Evidence: VAR=STATE (hard) or VAR!=STATE (any state but that one). Repeatable.
    #[arg(short = 'e', long = "evidence", value_name = "VAR=STATE")]
    pub evidence: Vec<String>,
    /// Likelihood (soft) evidence: one weight per state, in the order `radix list` shows.
    /// Repeatable.
    #[arg(long = "likelihood", value_name = "VAR=W1,W2,...")]
    pub likelihood: Vec<String>,
}

impl EvidenceArgs {
    /// The evidence, checked against the network.
    pub fn parse(&self, network: &Network) -> Result<Evidence, String> {
        let mut e = Evidence::new();
        for text in &self.evidence {
            e.parse_assignment(network, text)
                .map_err(|err| err.to_string())?;
        }
        for text in &self.likelihood {
            e.parse_likelihood(network, text)
                .map_err(|err| err.to_string())?;
        }
        Ok(e)
    }
}

/// Loads a model or reports why not.
/// Prints a JSON document (the `--json` output of every command), pretty.
pub fn print_json(value: &serde_json::Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).expect("a JSON value always serialises")
    );
}

pub fn load(path: &PathBuf) -> Result<Network, String> {
    let net = radix::format::load(path).map_err(|e| e.to_string())?;
    for w in net.warnings() {
        eprintln!("warning: {}: {w}", path.display());
    }
    Ok(net)
}

/// Prints an error the way every command does.
pub fn report_error(message: &str) -> i32 {
    eprintln!("error: {message}");
    EXIT_ERROR
}

/// Parses the arguments, runs the command and returns the exit code.
pub fn run() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_ERROR } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    let result = match cli.command {
        Command::Query(args) => query::run(&args),
        Command::Check(args) => check::run(&args),
        Command::List(args) => list::run(&args),
        Command::Batch(args) => batch::run(&args),
        Command::Convert(args) => convert::run(&args),
        Command::Bench(args) => bench::run(&args),
        Command::Whatif(args) => reasoning::run_whatif(&args),
        Command::Next(args) => reasoning::run_next(&args),
        Command::Explain(args) => reasoning::run_explain(&args),
        Command::Mpe(args) => mpe::run(&args),
        Command::Steps(args) => steps::run(&args),
        Command::Sensitivity(args) => sensitivity::run(&args),
        Command::Uncertainty(args) => uncertainty::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(message) => report_error(&message),
    }
}
