//! `radix convert`: a model from one format to another, formats chosen by extension.

use std::path::{Path, PathBuf};

use clap::Args;

#[derive(Args)]
pub struct ConvertArgs {
    /// The model to read (.toml, .bif, .xml, .xmlbif).
    input: PathBuf,
    /// The file to write (.toml, .bif, .xml, .xmlbif); an existing file needs --force.
    output: PathBuf,
    /// Replace OUTPUT if it exists (never INPUT itself).
    #[arg(long)]
    force: bool,
}

pub fn run(args: &ConvertArgs) -> Result<i32, String> {
    let net = super::load(&args.input)?;
    if let (Ok(a), Ok(b)) = (args.input.canonicalize(), args.output.canonicalize()) {
        if a == b {
            return Err(format!(
                "{} is the input file; choose another output",
                args.output.display()
            ));
        }
    }
    if args.output.exists() && !args.force {
        return Err(format!(
            "{} exists; choose another file or pass --force to replace it",
            args.output.display()
        ));
    }
    // Write beside the target, then rename, so a failed write leaves nothing half-written.
    let temp = partial_path(&args.output);
    radix::format::save(&net, &temp).map_err(|e| {
        let _ = std::fs::remove_file(&temp);
        e.to_string().replace(
            &temp.display().to_string(),
            &args.output.display().to_string(),
        )
    })?;
    std::fs::rename(&temp, &args.output)
        .map_err(|e| format!("cannot move the result to {}: {e}", args.output.display()))?;
    if let Some(lost) = lost_in(&args.output) {
        eprintln!("note: {lost}");
    }
    eprintln!(
        "wrote {} ({} variables) from {}",
        args.output.display(),
        net.len(),
        args.input.display()
    );
    Ok(0)
}

/// `dir/.name.partial.ext`: a temporary name with the same extension.
fn partial_path(path: &Path) -> PathBuf {
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("model");
    let ext = path.extension().and_then(|s| s.to_str()).unwrap_or("");
    path.with_file_name(format!(".{stem}.radix-partial.{ext}"))
}

/// What the output format cannot carry, if anything.
fn lost_in(path: &Path) -> Option<&'static str> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    match ext.as_str() {
        "bif" => Some(
            "BIF keeps the structure and the tables only: labels, roles, descriptions, sources, noisy-OR parameters and triage rules are not written",
        ),
        "xml" | "xmlbif" => Some(
            "XMLBIF keeps the structure, tables, labels, roles and descriptions: sources, noisy-OR parameters and triage rules are not written",
        ),
        _ => None,
    }
}
