//! Second-order uncertainty: how sure the origins' posteriors are, given how sure the model's
//! numbers are.
//!
//! Every number (or table row) that declares its uncertainty in the model (`beta`, `ci`, `ess`;
//! see `docs/model-format.md`) is drawn afresh for each of N sampled models; every other number
//! stays at its value. Each sampled model is solved exactly and the posterior of each
//! unobserved origin's positive state is summarised by its mean and its 5th and 95th
//! percentiles (linear interpolation between order statistics).
//!
//! - a cause, a leak, or a table row's `beta`/`ci`: θ ~ Beta(α, β) (for a `ci`, the Beta fitted
//!   by [`crate::network::beta_from_interval`]); in a row the other entries are rescaled
//!   proportionally;
//! - a table row's `ess = N`: the row ~ Dirichlet(N × row), drawn as normalised Gamma(N pᵢ, 1)
//!   variables (entries that are zero stay zero).
//!
//! Sampling is reproducible: sample *i* draws from a ChaCha8 stream seeded by the `i`-th value
//! of a ChaCha8 stream seeded by `seed`, so the result does not depend on the number of
//! threads. Samples whose drawn model makes the evidence impossible are discarded and counted.
//!
//! ```
//! use radix::analysis::uncertainty;
//! use radix::evidence::Evidence;
//! # use radix::network::*;
//! # let mut b = NetworkBuilder::new("t");
//! # b.variable(VariableSpec::new("rain", "Rain", Role::Origin, &["present", "absent"]),
//! #            CpdSpec::root(vec![0.2, 0.8], "x"));
//! # b.variable(VariableSpec::new("wet", "Wet", Role::Finding, &["present", "absent"]),
//! #            CpdSpec::noisy_or(0.1, vec![CauseSpec::new("rain", 0.9)], "x"));
//! # b.uncertainty("rain", UncertainAt::Row { row: 0, state: None }, UncertaintySpec::Ess(50.0));
//! # let net = b.build().unwrap();
//! let mut e = Evidence::new();
//! e.parse_assignment(&net, "wet=present").unwrap();
//! let report = uncertainty::analyse(&net, &e, 200, 7).unwrap();
//! let rain = &report.origins[0];
//! assert!(rain.p05 < rain.point && rain.point < rain.p95);
//! ```

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde_json::{Value, json};
use statrs::distribution::{Beta, Gamma};

use crate::evidence::Evidence;
use crate::factor::VarId;
use crate::inference::{InferenceError, JunctionTree};
use crate::network::{
    Network, NetworkError, ParamRef, Parameterisation, Role, Uncertainty, rescale_row,
};

/// The default number of sampled models.
pub const DEFAULT_SAMPLES: usize = 1000;

/// Why an uncertainty analysis could not run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum UncertaintyError {
    /// Exact inference failed at the model's values.
    #[error(transparent)]
    Inference(#[from] InferenceError),
    /// A drawn number was refused (should not happen with valid declarations).
    #[error(transparent)]
    Network(#[from] NetworkError),
    /// `--samples 0`, or every sample was discarded.
    #[error("{0}")]
    NoSamples(String),
}

/// One declared uncertainty of a network: what it is about and its distribution.
#[derive(Debug, Clone, PartialEq)]
pub struct Declared {
    /// The number a Beta is about (for a Dirichlet: the row's first entry).
    pub parameter: ParamRef,
    /// The declaration.
    pub distribution: Uncertainty,
    /// A readable name, e.g. `spinal_stenosis row 2 (age_band=60_and_over)` or
    /// `neurogenic_claudication cause spinal_stenosis=present`.
    pub label: String,
}

/// Every declared uncertainty of the network, in variable order.
pub fn declared(net: &Network) -> Vec<Declared> {
    let mut out = Vec::new();
    for v in 0..net.len() {
        let var = net.variable(v);
        let cpd = net.cpd(v);
        match cpd.parameterisation() {
            Parameterisation::Table(rows) => {
                for (r, row) in rows.iter().enumerate() {
                    if let Some(u) = &row.uncertainty {
                        out.push(Declared {
                            parameter: ParamRef::Table {
                                variable: v,
                                row: r,
                                state: u.state,
                            },
                            distribution: u.distribution,
                            label: row_label(net, v, r),
                        });
                    }
                }
            }
            Parameterisation::NoisyOr { leak, causes } => {
                for (c, cause) in causes.iter().enumerate() {
                    if let Some(u) = cause.p.uncertainty {
                        let parent = net.variable(cause.parent);
                        out.push(Declared {
                            parameter: ParamRef::Cause {
                                variable: v,
                                cause: c,
                            },
                            distribution: u,
                            label: format!(
                                "{} cause {}={}",
                                var.id(),
                                parent.id(),
                                parent.states()[cause.state]
                            ),
                        });
                    }
                }
                if let Some(u) = leak.uncertainty {
                    out.push(Declared {
                        parameter: ParamRef::Leak { variable: v },
                        distribution: u,
                        label: format!("{} leak", var.id()),
                    });
                }
            }
        }
    }
    out
}

fn row_label(net: &Network, v: VarId, row: usize) -> String {
    let parents = net.parents(v);
    if parents.is_empty() {
        return format!("{} prior", net.variable(v).id());
    }
    let mut rest = row;
    let mut parts = vec![String::new(); parents.len()];
    for i in (0..parents.len()).rev() {
        let p = net.variable(parents[i]);
        parts[i] = format!("{}={}", p.id(), p.states()[rest % p.cardinality()]);
        rest /= p.cardinality();
    }
    format!("{} row ({})", net.variable(v).id(), parts.join(", "))
}

/// A copy of the network with every declared number drawn from its distribution.
pub fn sample_network<R: Rng + ?Sized>(
    net: &Network,
    declared: &[Declared],
    rng: &mut R,
) -> Result<Network, NetworkError> {
    let mut out = net.clone();
    for d in declared {
        match (d.distribution, d.parameter) {
            (Uncertainty::Dirichlet { ess }, ParamRef::Table { variable, row, .. }) => {
                let Parameterisation::Table(rows) = net.cpd(variable).parameterisation() else {
                    continue;
                };
                let current = &rows[row].probabilities;
                let mut draw: Vec<f64> = current
                    .iter()
                    .map(|&p| {
                        if p > 0.0 {
                            Gamma::new(ess * p, 1.0)
                                .map(|g| rng.sample(g))
                                .unwrap_or(0.0)
                        } else {
                            0.0
                        }
                    })
                    .collect();
                let sum: f64 = draw.iter().sum();
                if !(sum > 0.0 && sum.is_finite()) {
                    continue; // every draw underflowed: keep the model's row
                }
                draw.iter_mut().for_each(|x| *x /= sum);
                out.set_row(variable, row, draw)?;
            }
            (u, which) => {
                let Some((a, b)) = u.beta() else { continue };
                let theta = match Beta::new(a, b) {
                    Ok(beta) => rng.sample(beta).clamp(0.0, 1.0),
                    Err(_) => continue,
                };
                match which {
                    ParamRef::Table {
                        variable,
                        row,
                        state,
                    } => {
                        let Parameterisation::Table(rows) = net.cpd(variable).parameterisation()
                        else {
                            continue;
                        };
                        let new = rescale_row(&rows[row].probabilities, state, theta);
                        out.set_row(variable, row, new)?;
                    }
                    other => out.set_parameter(other, theta)?,
                }
            }
        }
    }
    Ok(out)
}

/// One origin's posterior under parameter uncertainty.
#[derive(Debug, Clone, PartialEq)]
pub struct OriginInterval {
    /// The origin's id.
    pub id: String,
    /// The posterior of its positive state at the model's values.
    pub point: f64,
    /// The mean over the sampled models.
    pub mean: f64,
    /// The 5th percentile.
    pub p05: f64,
    /// The 95th percentile.
    pub p95: f64,
}

/// The result of [`analyse`].
#[derive(Debug, Clone, PartialEq)]
pub struct UncertaintyReport {
    /// Samples requested.
    pub samples: usize,
    /// Samples whose model made the evidence impossible (left out of the summaries).
    pub discarded: usize,
    /// The seed.
    pub seed: u64,
    /// The unobserved origins, in file order.
    pub origins: Vec<OriginInterval>,
    /// The declared uncertainties that were sampled.
    pub uncertain: Vec<String>,
    /// How many of the model's numbers stayed fixed (no declaration).
    pub fixed: usize,
}

impl UncertaintyReport {
    /// The JSON shape: `{"samples", "seed", "discarded", "fixed_parameters",
    /// "uncertain_parameters": [label], "origins": [{"id", "point", "mean", "p05", "p95"}]}`.
    pub fn to_json(&self) -> Value {
        json!({
            "samples": self.samples,
            "seed": self.seed,
            "discarded": self.discarded,
            "fixed_parameters": self.fixed,
            "uncertain_parameters": self.uncertain,
            "origins": self.origins.iter().map(|o| json!({
                "id": o.id, "point": o.point, "mean": o.mean, "p05": o.p05, "p95": o.p95,
            })).collect::<Vec<_>>(),
        })
    }
}

/// The posterior of each origin's positive state.
fn origin_posteriors(
    tree: &JunctionTree,
    evidence: &Evidence,
    origins: &[VarId],
) -> Result<Vec<f64>, InferenceError> {
    let net = tree.network();
    let p = tree.posteriors_of(&mut tree.workspace(), evidence, origins)?;
    Ok(origins
        .iter()
        .map(|&o| {
            p.marginal(o)
                .map(|m| m[net.variable(o).positive_state()])
                .unwrap_or(0.0)
        })
        .collect())
}

/// The q-quantile of sorted values (linear interpolation between order statistics).
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let pos = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let i = pos.floor() as usize;
    let frac = pos - i as f64;
    match sorted.get(i + 1) {
        Some(next) => sorted[i] + frac * (next - sorted[i]),
        None => sorted[i],
    }
}

/// Samples `samples` models from the declared uncertainties and summarises the origins'
/// posteriors (see the module documentation).
pub fn analyse(
    net: &Network,
    evidence: &Evidence,
    samples: usize,
    seed: u64,
) -> Result<UncertaintyReport, UncertaintyError> {
    if samples == 0 {
        return Err(UncertaintyError::NoSamples(
            "--samples must be at least 1".into(),
        ));
    }
    let origins: Vec<VarId> = net
        .with_role(Role::Origin)
        .filter(|&o| !evidence.contains(o))
        .collect();
    let tree = JunctionTree::compile(net)?;
    // Impossible evidence at the model's own numbers: the error names the conflict.
    let point = origin_posteriors(&tree, evidence, &origins)?;
    let declared = declared(net);
    let total: usize = (0..net.len()).map(|v| net.cpd(v).parameter_count()).sum();
    let covered: usize = declared
        .iter()
        .map(|d| match d.parameter {
            ParamRef::Table { variable, .. } => net.variable(variable).cardinality(),
            _ => 1,
        })
        .sum();
    let mut master = ChaCha8Rng::seed_from_u64(seed);
    let seeds: Vec<u64> = (0..samples).map(|_| master.r#gen()).collect();
    let draws: Vec<Option<Vec<f64>>> = if declared.is_empty() {
        vec![Some(point.clone()); samples]
    } else {
        seeds
            .par_iter()
            .map(|&s| {
                let mut rng = ChaCha8Rng::seed_from_u64(s);
                let sampled = sample_network(net, &declared, &mut rng)?;
                // The model's graph, and its zeros: the model's tree serves again.
                let tree = tree.recompile(&sampled)?;
                // A sampled model that makes the evidence impossible is left out.
                match origin_posteriors(&tree, evidence, &origins) {
                    Ok(p) => Ok(Some(p)),
                    Err(InferenceError::ImpossibleEvidence { .. }) => Ok(None),
                    Err(e) => Err(e.into()),
                }
            })
            .collect::<Result<_, UncertaintyError>>()?
    };
    let kept: Vec<&Vec<f64>> = draws.iter().flatten().collect();
    if kept.is_empty() {
        return Err(UncertaintyError::NoSamples(format!(
            "all {samples} sampled models made the evidence impossible"
        )));
    }
    let mut out = Vec::with_capacity(origins.len());
    for (i, &o) in origins.iter().enumerate() {
        let mut values: Vec<f64> = kept.iter().map(|d| d[i]).collect();
        values.sort_by(f64::total_cmp);
        // Summing deviations from the point keeps the mean exact when nothing varies.
        let mean =
            point[i] + values.iter().map(|x| x - point[i]).sum::<f64>() / values.len() as f64;
        out.push(OriginInterval {
            id: net.variable(o).id().to_string(),
            point: point[i],
            mean,
            p05: quantile(&values, 0.05),
            p95: quantile(&values, 0.95),
        });
    }
    Ok(UncertaintyReport {
        samples,
        discarded: samples - kept.len(),
        seed,
        origins: out,
        uncertain: declared.iter().map(|d| d.label.clone()).collect(),
        fixed: total - covered,
    })
}
