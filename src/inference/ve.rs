//! Variable elimination over ndarray factors.

use crate::evidence::Evidence;
use crate::factor::{Factor, VarId};
use crate::network::Network;

use super::order::{self, Heuristic};
use super::relevance;
use super::{InferenceError, Posteriors};

/// The default limit on the largest intermediate table: 2^28 entries (2 GiB of f64).
pub const DEFAULT_MAX_TABLE_ENTRIES: f64 = 268_435_456.0;

/// Exact inference by variable elimination, one query at a time.
///
/// ```
/// use radix::inference::VariableElimination;
/// use radix::evidence::Evidence;
/// # use radix::network::*;
/// # let mut b = NetworkBuilder::new("t");
/// # b.variable(VariableSpec::new("rain", "Rain", Role::Origin, &["present", "absent"]),
/// #            CpdSpec::root(vec![0.2, 0.8], "x"));
/// # b.variable(VariableSpec::new("wet", "Wet", Role::Finding, &["present", "absent"]),
/// #            CpdSpec::noisy_or(0.1, vec![CauseSpec::new("rain", 0.9)], "x"));
/// # let net = b.build().unwrap();
/// let mut e = Evidence::new();
/// e.parse_assignment(&net, "wet=present").unwrap();
/// let ve = VariableElimination::new(&net);
/// let p = ve.posterior(&e, net.id_of("rain").unwrap()).unwrap();
/// // P(rain | wet) = 0.2*0.91 / (0.2*0.91 + 0.8*0.1)
/// assert!((p[0] - 0.182 / 0.262).abs() < 1e-12);
/// ```
#[derive(Debug, Clone)]
pub struct VariableElimination<'n> {
    network: &'n Network,
    heuristic: Heuristic,
    max_table_entries: f64,
}

/// What [`VariableElimination::joint_with_steps`] calls at each step.
type OnStep<'a> = dyn FnMut(Option<VarId>, &[Factor], &Factor, f64) + 'a;

/// Evidence split into what elimination needs.
struct Prepared {
    /// Variables fixed to one state, with that state.
    hard: Vec<Option<usize>>,
    /// Likelihood vectors of the other observed variables.
    soft: Vec<Option<Vec<f64>>>,
    /// ln of the weights of the fixed states (1 for plain hard evidence).
    ln_hard_weight: f64,
}

impl<'n> VariableElimination<'n> {
    /// An engine on a network with the default heuristic and table limit.
    pub fn new(network: &'n Network) -> Self {
        VariableElimination {
            network,
            heuristic: Heuristic::default(),
            max_table_entries: DEFAULT_MAX_TABLE_ENTRIES,
        }
    }

    /// Uses another elimination heuristic.
    pub fn with_heuristic(mut self, heuristic: Heuristic) -> Self {
        self.heuristic = heuristic;
        self
    }

    /// Refuses queries whose elimination would build a larger table.
    pub fn with_max_table_entries(mut self, limit: f64) -> Self {
        self.max_table_entries = limit;
        self
    }

    /// The network.
    pub fn network(&self) -> &'n Network {
        self.network
    }

    /// The elimination heuristic in use.
    pub fn heuristic(&self) -> Heuristic {
        self.heuristic
    }

    fn prepare(&self, evidence: &Evidence) -> Prepared {
        let n = self.network.len();
        let mut hard = vec![None; n];
        let mut soft = vec![None; n];
        let mut ln_hard_weight = 0.0;
        for (v, _) in evidence.iter() {
            let card = self.network.variable(v).cardinality();
            let w = evidence.weights(v, card).expect("observed");
            match evidence.certain_state(v, card) {
                Some(s) => {
                    hard[v] = Some(s);
                    ln_hard_weight += w[s].ln();
                }
                None => soft[v] = Some(w),
            }
        }
        Prepared {
            hard,
            soft,
            ln_hard_weight,
        }
    }

    /// ln P(evidence).
    pub fn ln_p_evidence(&self, evidence: &Evidence) -> Result<f64, InferenceError> {
        let prep = self.prepare(evidence);
        let ln = self.ln_p(&prep, evidence)?;
        if ln == f64::NEG_INFINITY {
            return Err(self.conflict(evidence));
        }
        Ok(ln)
    }

    /// ln P(e) over the ancestral set of the evidence (the barren rest sums to one).
    fn ln_p(&self, prep: &Prepared, evidence: &Evidence) -> Result<f64, InferenceError> {
        let keep = self.network.ancestral_set(evidence.iter().map(|(v, _)| v));
        let (_, ln_total) = self.eliminate(
            prep,
            &keep,
            &vec![true; self.network.len()],
            &[],
            &mut |_, _, _, _| {},
        )?;
        Ok(ln_total + prep.ln_hard_weight)
    }

    /// The posterior distribution of one variable given the evidence.
    pub fn posterior(&self, evidence: &Evidence, var: VarId) -> Result<Vec<f64>, InferenceError> {
        let joint = self.joint(evidence, &[var])?;
        Ok(joint.values())
    }

    /// The joint posterior of several distinct variables, as a normalised factor with the
    /// given scope order.
    pub fn joint(&self, evidence: &Evidence, vars: &[VarId]) -> Result<Factor, InferenceError> {
        let prep = self.prepare(evidence);
        // Check the evidence once on its own: a pruned query could otherwise normalise a
        // sub-product and hide an impossible observation elsewhere.
        if self.ln_p(&prep, evidence)? == f64::NEG_INFINITY {
            return Err(self.conflict(evidence));
        }
        Ok(self.joint_prepared(&prep, vars, &mut |_, _, _, _| {})?.0)
    }

    /// [`Self::joint`], reporting each step of the elimination as the engine performs it (for
    /// teaching; the result is the same).
    ///
    /// `on_step(var, multiplied, created, ln_scale)` is called once per eliminated variable, in
    /// the order of elimination, with `var = Some(v)`, the factors that mention `v` (evidence
    /// entered) and the factor created by multiplying them and summing `v` out (after
    /// rescaling); then once with `var = None`, the factors left and their product, before
    /// normalisation. `ln_scale` is the ln of all the scales divided out so far: the true
    /// values of `created` are its entries times `exp(ln_scale)`. A query variable fixed by
    /// hard evidence needs no elimination and reports nothing.
    pub fn joint_with_steps(
        &self,
        evidence: &Evidence,
        vars: &[VarId],
        mut on_step: impl FnMut(Option<VarId>, &[Factor], &Factor, f64),
    ) -> Result<Factor, InferenceError> {
        let prep = self.prepare(evidence);
        if self.ln_p(&prep, evidence)? == f64::NEG_INFINITY {
            return Err(self.conflict(evidence));
        }
        Ok(self.joint_prepared(&prep, vars, &mut on_step)?.0)
    }

    fn joint_prepared(
        &self,
        prep: &Prepared,
        vars: &[VarId],
        on_step: &mut OnStep<'_>,
    ) -> Result<(Factor, f64), InferenceError> {
        let cards = self.network.cardinalities();
        // Hard-observed query variables are handled outside the elimination.
        let free: Vec<VarId> = vars
            .iter()
            .copied()
            .filter(|&v| prep.hard[v].is_none())
            .collect();
        let hard_mask: Vec<bool> = prep.hard.iter().map(Option::is_some).collect();
        let soft_mask: Vec<bool> = prep.soft.iter().map(Option::is_some).collect();
        let req = relevance::requisite(self.network, &free, &hard_mask, &soft_mask);
        let (mut result, ln_total) = if free.is_empty() {
            (Factor::unit(), 0.0)
        } else {
            self.eliminate(prep, &req.tables, &req.likelihoods, &free, on_step)?
        };
        let total = result.total();
        if total > 0.0 {
            result.divide(total);
        }
        // Put the observed query variables back as indicators, then order the axes as asked.
        for &v in vars {
            if let Some(s) = prep.hard[v] {
                let mut w = vec![0.0; cards[v]];
                w[s] = 1.0;
                result = result.product(&Factor::unary(v, &w));
            }
        }
        Ok((result.permuted(vars), ln_total))
    }

    /// Posteriors of many variables and P(evidence), by one elimination per variable.
    pub fn posteriors(
        &self,
        evidence: &Evidence,
        targets: &[VarId],
    ) -> Result<Posteriors, InferenceError> {
        let prep = self.prepare(evidence);
        let ln = self.ln_p(&prep, evidence)?;
        if ln == f64::NEG_INFINITY {
            return Err(self.conflict(evidence));
        }
        let mut post = Posteriors::new(ln);
        for &t in targets {
            let (f, _) = self.joint_prepared(&prep, &[t], &mut |_, _, _, _| {})?;
            post.push(t, &f.values());
        }
        Ok(post)
    }

    /// Sums every variable but `keep_vars` out of the requisite tables (with the evidence
    /// entered) and returns the product over `keep_vars` (rescaled) and the ln of its total.
    fn eliminate(
        &self,
        prep: &Prepared,
        tables: &[bool],
        likelihoods: &[bool],
        keep_vars: &[VarId],
        on_step: &mut OnStep<'_>,
    ) -> Result<(Factor, f64), InferenceError> {
        let net = self.network;
        let mut factors: Vec<Factor> = Vec::new();
        for v in 0..net.len() {
            if tables[v] {
                let mut f = net.cpd(v).factor().clone();
                for &u in net.cpd(v).factor().scope() {
                    if let Some(s) = prep.hard[u] {
                        f = f.reduce(u, s);
                    }
                }
                factors.push(f);
                if likelihoods[v] {
                    if let Some(w) = &prep.soft[v] {
                        factors.push(Factor::unary(v, w));
                    }
                }
            }
        }
        let cards = net.cardinalities();
        let mut in_scope = vec![false; net.len()];
        for f in &factors {
            for &v in f.scope() {
                in_scope[v] = true;
            }
        }
        let eliminate: Vec<VarId> = (0..net.len())
            .filter(|&v| in_scope[v] && !keep_vars.contains(&v))
            .collect();
        let scopes: Vec<&[VarId]> = factors.iter().map(Factor::scope).collect();
        let plan = order::plan(&scopes, &eliminate, &cards, self.heuristic);
        if plan.max_table > self.max_table_entries {
            return Err(InferenceError::TooLarge {
                entries: plan.max_table,
                gib: plan.max_table * 8.0 / f64::from(1u32 << 30),
                limit: self.max_table_entries,
            });
        }
        let mut ln_scale = 0.0;
        for &v in &plan.order {
            let (with, without): (Vec<Factor>, Vec<Factor>) =
                factors.into_iter().partition(|f| f.scope().contains(&v));
            factors = without;
            let mut joined = with
                .iter()
                .fold(Factor::unit(), |acc, f| acc.product(f))
                .sum_out(v);
            ln_scale += joined.rescale().ln();
            on_step(Some(v), &with, &joined, ln_scale);
            factors.push(joined);
        }
        let mut result = factors.iter().fold(Factor::unit(), |acc, f| acc.product(f));
        ln_scale += result.rescale().ln();
        on_step(None, &factors, &result, ln_scale);
        let total = result.total();
        let ln_total = if total > 0.0 {
            total.ln() + ln_scale
        } else {
            f64::NEG_INFINITY
        };
        // Variables asked for but not in any requisite table are independent of the evidence
        // and have no table here; that cannot happen for a query variable (its own table is
        // always requisite), so the result's scope is `keep_vars`.
        Ok((result, ln_total))
    }

    /// Finds a smallest set of observations that is impossible on its own, by dropping one
    /// observation at a time while the rest stays impossible.
    fn conflict(&self, evidence: &Evidence) -> InferenceError {
        let mut core = evidence.clone();
        let vars: Vec<VarId> = evidence.iter().map(|(v, _)| v).collect();
        for v in vars {
            let mut trial = core.clone();
            trial.remove(v);
            let prep = self.prepare(&trial);
            if matches!(self.ln_p(&prep, &trial), Ok(ln) if ln == f64::NEG_INFINITY) {
                core = trial;
            }
        }
        InferenceError::ImpossibleEvidence {
            conflict: core
                .iter()
                .map(|(v, _)| {
                    let id = self.network.variable(v).id();
                    let what = core.describe(self.network, v).unwrap_or_default();
                    match what.strip_prefix("!=") {
                        Some(state) => format!("{id}!={state}"),
                        None => format!("{id}={what}"),
                    }
                })
                .collect(),
        }
    }
}
