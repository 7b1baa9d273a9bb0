//! `radix bench`: how fast exact inference is on a user's network, and why.

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use radix::diagnosis;
use radix::evidence::Evidence;
use radix::inference::{CompileOptions, DEFAULT_MAX_TABLE_ENTRIES, JunctionTree};
use radix::network::Network;
use serde_json::{Value, json};

#[derive(Args)]
pub struct BenchArgs {
    /// The network (.toml, .bif, .xml/.xmlbif).
    network: PathBuf,
    /// Scenarios: a JSON file `{"scenarios": [{"evidence": {...}}, ...]}` (the format of
    /// tests/data/bn/reference) or JSON Lines of `{"evidence": {...}}`. Default: no evidence,
    /// then 19 scenarios each observing 10-20% of the variables at the values of one forward
    /// sample (seeded).
    #[arg(long, value_name = "FILE")]
    scenarios: Option<PathBuf>,
    /// Timed repetitions of each scenario after its first query (cold: the tree for its pattern
    /// compiled) and its second (which compresses the tree and keeps its evidence-free pass),
    /// both timed apart; the median is kept.
    #[arg(long, default_value_t = 5)]
    repeat: usize,
    /// Seed for the generated scenarios.
    #[arg(long, default_value_t = 20261124)]
    seed: u64,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
    /// Also write every scenario's posteriors and log10 P(evidence) to this JSON file.
    #[arg(long, value_name = "FILE")]
    posteriors_out: Option<PathBuf>,
    /// Refuse networks whose compiled tables would hold more entries than this.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_TABLE_ENTRIES)]
    max_table_entries: f64,
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

pub fn run(args: &BenchArgs) -> Result<i32, String> {
    let t = Instant::now();
    let net = super::load(&args.network)?;
    let load_ms = t.elapsed().as_secs_f64() * 1e3;
    let scenarios = match &args.scenarios {
        Some(path) => read_scenarios(&net, path)?,
        None => generate_scenarios(&net, args.seed),
    };
    let options = CompileOptions {
        max_table_entries: args.max_table_entries,
        ..CompileOptions::default()
    };
    let t = Instant::now();
    let tree = JunctionTree::compile_with(&net, &options)
        .map_err(|e| format!("{}: {e}", args.network.display()))?;
    let prepare_ms = t.elapsed().as_secs_f64() * 1e3;
    let stats = tree.stats().clone();
    let mut ws = tree.workspace();
    let mut rows = Vec::with_capacity(scenarios.len());
    let mut outputs = Vec::new();
    for evidence in &scenarios {
        // Cold: the tree for this pattern of observed variables is compiled in the query.
        tree.clear_cache();
        let t = Instant::now();
        let post = tree
            .posteriors(&mut ws, evidence)
            .map_err(|e| e.to_string())?;
        let cold_us = t.elapsed().as_secs_f64() * 1e6;
        // The second query of a pattern keeps its evidence-free pass and compresses its tree
        // where that pays: timed on its own, then the warm queries after it.
        let t = Instant::now();
        let p = tree
            .posteriors(&mut ws, evidence)
            .map_err(|e| e.to_string())?;
        let second_us = t.elapsed().as_secs_f64() * 1e6;
        std::hint::black_box(p);
        let mut warm = Vec::with_capacity(args.repeat);
        for _ in 0..args.repeat.max(1) {
            let t = Instant::now();
            let p = tree
                .posteriors(&mut ws, evidence)
                .map_err(|e| e.to_string())?;
            warm.push(t.elapsed().as_secs_f64() * 1e6);
            std::hint::black_box(p);
        }
        let pattern = tree.stats_for(evidence).map_err(|e| e.to_string())?;
        rows.push((evidence.len(), cold_us, second_us, median(warm), pattern));
        if args.posteriors_out.is_some() {
            let mut marginals = serde_json::Map::new();
            for (v, p) in post.iter() {
                let var = net.variable(v);
                let states: serde_json::Map<String, Value> = var
                    .states()
                    .iter()
                    .zip(p)
                    .map(|(s, x)| (s.clone(), json!(x)))
                    .collect();
                marginals.insert(var.id().to_string(), Value::Object(states));
            }
            outputs.push(json!({
                "evidence": diagnosis::evidence_json(&net, evidence),
                "log10_p_evidence": post.log10_p_evidence(),
                "posteriors": marginals,
            }));
        }
    }
    if let Some(path) = &args.posteriors_out {
        let text = serde_json::to_string(&json!({ "network": net.name(), "scenarios": outputs }))
            .expect("JSON");
        std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    let median_cold = median(rows.iter().map(|r| r.1).collect());
    let median_second = median(rows.iter().map(|r| r.2).collect());
    let median_warm = median(rows.iter().map(|r| r.3).collect());
    let median_entries = median(rows.iter().map(|r| r.4.total_entries as f64).collect());
    let median_swept = median(rows.iter().map(|r| r.4.swept_entries as f64).collect());
    let ns_per_entry = median(
        rows.iter()
            .map(|r| r.3 * 1e3 / (r.4.total_entries.max(1) as f64))
            .collect(),
    );
    if args.json {
        let out = json!({
            "network": net.name(),
            "variables": net.len(),
            "load_ms": load_ms,
            "prepare_ms": prepare_ms,
            "tree": {
                "cliques": stats.cliques,
                "total_entries": stats.total_entries,
                "swept_entries": stats.swept_entries,
                "max_clique_entries": stats.max_clique_entries,
                "induced_width": stats.induced_width,
                "heuristic": format!("{:?}", stats.heuristic),
            },
            "scenarios": rows.iter().map(|(n, cold, second, warm, s)| json!({
                "observed": n, "cold_us": cold, "second_us": second, "warm_us": warm,
                "entries": s.total_entries, "swept_entries": s.swept_entries,
                "max_clique_entries": s.max_clique_entries,
            })).collect::<Vec<_>>(),
            "median_cold_us": median_cold,
            "median_second_us": median_second,
            "median_warm_us": median_warm,
            "median_entries": median_entries,
            "median_swept_entries": median_swept,
            "ns_per_entry": ns_per_entry,
        });
        super::print_json(&out);
        return Ok(0);
    }
    println!("{} ({} variables)", args.network.display(), net.len());
    println!("  load              {load_ms:10.2} ms");
    println!(
        "  prepare           {prepare_ms:10.2} ms  (triangulate with 4 heuristics, build the junction tree)"
    );
    println!(
        "  tree, no evidence {} cliques, {} entries in all, largest {}, induced width {} ({:?})",
        stats.cliques,
        stats.total_entries,
        stats.max_clique_entries,
        stats.induced_width,
        stats.heuristic
    );
    println!();
    println!(
        "  scenario  observed   cold µs  second µs     warm µs   tree entries  swept entries  largest clique"
    );
    for (i, (n, cold, second, warm, s)) in rows.iter().enumerate() {
        println!(
            "  {i:>8}  {n:>8}  {cold:>9.1}  {second:>9.1}  {warm:>10.1}  {:>13}  {:>13}  {:>14}",
            s.total_entries, s.swept_entries, s.max_clique_entries
        );
    }
    println!();
    println!(
        "  median per scenario: {median_warm:.1} µs with the tree for its pattern of observed variables compiled and cached (warm), {median_cold:.1} µs as the first query of its pattern (cold), {median_second:.1} µs as the second (which keeps the evidence-free pass and compresses the tree)"
    );
    println!(
        "  median tree entries {median_entries:.0}, swept {median_swept:.0}; {ns_per_entry:.2} ns per tree entry (warm); swept entries: the tree entries less those that banded or compressed cliques skip (0 whatever the evidence)"
    );
    println!("  (all posteriors and P(evidence) per scenario, one thread)");
    Ok(0)
}

fn read_scenarios(net: &Network, path: &PathBuf) -> Result<Vec<Evidence>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    let parse = |v: &Value, where_: String| -> Result<Evidence, String> {
        let e = v.get("evidence").cloned().unwrap_or(json!({}));
        diagnosis::evidence_from_json(net, &e).map_err(|err| format!("{where_}: {err}"))
    };
    if let Ok(doc) = serde_json::from_str::<Value>(&text) {
        if let Some(list) = doc.get("scenarios").and_then(Value::as_array) {
            return list
                .iter()
                .enumerate()
                .map(|(i, s)| parse(s, format!("{} scenario {i}", path.display())))
                .collect();
        }
    }
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            let v: Value = serde_json::from_str(l)
                .map_err(|e| format!("{}:{}: not JSON: {e}", path.display(), i + 1))?;
            parse(&v, format!("{}:{}", path.display(), i + 1))
        })
        .collect()
}

/// No evidence, then 19 scenarios observing 10-20% of the variables at a forward sample.
fn generate_scenarios(net: &Network, seed: u64) -> Vec<Evidence> {
    let mut rng = SplitMix(seed);
    let mut out = vec![Evidence::new()];
    for _ in 0..19 {
        let mut x = vec![0usize; net.len()];
        for &v in net.topological_order() {
            let f = net.cpd(v).factor();
            let card = net.variable(v).cardinality();
            let mut offset = 0;
            for &p in net.parents(v) {
                offset = offset * net.variable(p).cardinality() + x[p];
            }
            let row =
                &f.table().as_slice().expect("contiguous")[offset * card..(offset + 1) * card];
            let u = rng.unit();
            let mut acc = 0.0;
            x[v] = card - 1;
            for (s, p) in row.iter().enumerate() {
                acc += p;
                if u < acc {
                    x[v] = s;
                    break;
                }
            }
        }
        let share = 0.10 + 0.10 * rng.unit();
        let k = ((net.len() as f64 * share).round() as usize).max(1);
        let mut vars: Vec<usize> = (0..net.len()).collect();
        for i in 0..k {
            let j = i + (rng.next() as usize) % (vars.len() - i);
            vars.swap(i, j);
        }
        let mut e = Evidence::new();
        for &v in &vars[..k] {
            let _ = e.observe(net, v, radix::evidence::Observation::Is(x[v]));
        }
        out.push(e);
    }
    out
}

/// A small seeded generator (SplitMix64): enough for sampling benchmark scenarios.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}
