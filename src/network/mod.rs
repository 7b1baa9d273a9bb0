//! The Bayesian network: variables, their conditional distributions and the model's triage
//! rules, validated once.
//!
//! A [`Network`] can only be made by [`NetworkBuilder::build`], which checks everything a
//! hand-written model can get wrong (unknown names, duplicate ids, cycles, missing or extra rows,
//! probabilities out of range, rows not summing to one, noisy-ORs on non-binary variables,
//! triage rules naming unknown findings). Code that holds a `Network` may rely on all of it.
//! File formats (see [`crate::format`]) parse text into the builder's specs and nothing else.
//!
//! ```
//! use radix::network::*;
//! let mut b = NetworkBuilder::new("two");
//! b.variable(
//!     VariableSpec::new("rain", "Rain", Role::Origin, &["present", "absent"]),
//!     CpdSpec::root(vec![0.2, 0.8], "expert estimate"),
//! );
//! b.variable(
//!     VariableSpec::new("wet", "Wet grass", Role::Finding, &["present", "absent"]),
//!     CpdSpec::noisy_or(0.1, vec![CauseSpec::new("rain", 0.9)], "expert estimate"),
//! );
//! let net = b.build().unwrap();
//! assert_eq!(net.len(), 2);
//! // P(wet | rain) = 1 - (1 - 0.1)(1 - 0.9); P(wet | no rain) = the leak.
//! let table = net.cpd(net.id_of("wet").unwrap()).factor().values();
//! for (got, want) in table.iter().zip([0.91, 0.09, 0.1, 0.9]) {
//!     assert!((got - want).abs() < 1e-15);
//! }
//! ```

pub mod graph;

use rustc_hash::FxHashMap;
use std::fmt;

use crate::factor::{Factor, VarId};
use crate::suggest;
use crate::triage::{TriageLevel, TriageRule, Trigger};

/// What a variable is for in a diagnostic model.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A candidate cause the tool ranks.
    Origin,
    /// Something observed in the history or the examination.
    Finding,
    /// Background such as the age band.
    Context,
    /// A hidden mechanism, e.g. L5 root compression.
    Intermediate,
    /// No diagnostic role (e.g. a variable of a network read from BIF).
    Other,
}

impl Role {
    /// The name used in files and output.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Origin => "origin",
            Role::Finding => "finding",
            Role::Context => "context",
            Role::Intermediate => "intermediate",
            Role::Other => "other",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A discrete variable of a validated network.
#[derive(Debug, Clone)]
pub struct Variable {
    id: String,
    label: String,
    description: Option<String>,
    role: Role,
    states: Vec<String>,
    positive_state: usize,
}

impl Variable {
    /// The identifier typed on the command line.
    pub fn id(&self) -> &str {
        &self.id
    }
    /// The human name.
    pub fn label(&self) -> &str {
        &self.label
    }
    /// Optional free text.
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }
    /// The variable's role.
    pub fn role(&self) -> Role {
        self.role
    }
    /// The state names, in table order.
    pub fn states(&self) -> &[String] {
        &self.states
    }
    /// The number of states.
    pub fn cardinality(&self) -> usize {
        self.states.len()
    }
    /// The index of a state name.
    pub fn state_index(&self, name: &str) -> Option<usize> {
        self.states.iter().position(|s| s == name)
    }
    /// For an origin, the state whose probability ranks it (`present` by default); for other
    /// variables, the first state.
    pub fn positive_state(&self) -> usize {
        self.positive_state
    }
}

/// One number of the model and where it comes from.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    /// The probability.
    pub value: f64,
    /// A citation, or `expert estimate`; `None` when the file gave none.
    pub source: Option<String>,
    /// How uncertain the number is, when the model declares it (see [`Uncertainty`]).
    pub uncertainty: Option<Uncertainty>,
}

/// One row of a conditional probability table.
#[derive(Debug, Clone, PartialEq)]
pub struct TableRow {
    /// The distribution over the child's states (normalised).
    pub probabilities: Vec<f64>,
    /// Where the row's numbers come from.
    pub source: Option<String>,
    /// How uncertain the row is, when the model declares it (see [`RowUncertainty`]).
    pub uncertainty: Option<RowUncertainty>,
}

/// One cause of a noisy-OR.
#[derive(Debug, Clone, PartialEq)]
pub struct NoisyCause {
    /// The parent variable.
    pub parent: VarId,
    /// The parent state that activates the cause.
    pub state: usize,
    /// The probability that this cause alone turns the effect on.
    pub p: Param,
}

/// How a conditional distribution was written by its author.
#[derive(Debug, Clone, PartialEq)]
pub enum Parameterisation {
    /// A full table, one row per parent configuration in row-major order (last parent fastest).
    Table(Vec<TableRow>),
    /// A noisy-OR with leak over a binary effect whose first state is "on".
    NoisyOr {
        /// The probability of the effect with no cause active.
        leak: Param,
        /// The causes.
        causes: Vec<NoisyCause>,
    },
}

/// The conditional distribution of one variable given its parents.
#[derive(Debug, Clone)]
pub struct Cpd {
    parents: Vec<VarId>,
    parameterisation: Parameterisation,
    factor: Factor,
}

impl Cpd {
    /// The parents, in table order.
    pub fn parents(&self) -> &[VarId] {
        &self.parents
    }
    /// How the author wrote it.
    pub fn parameterisation(&self) -> &Parameterisation {
        &self.parameterisation
    }
    /// The full table as a factor over `parents..., child` (the child's axis last).
    pub fn factor(&self) -> &Factor {
        &self.factor
    }
    /// The number of free numbers the author wrote (rows × states, or causes + leak).
    pub fn parameter_count(&self) -> usize {
        match &self.parameterisation {
            Parameterisation::Table(rows) => rows.iter().map(|r| r.probabilities.len()).sum(),
            Parameterisation::NoisyOr { causes, .. } => causes.len() + 1,
        }
    }
    /// How many of those numbers have no source.
    pub fn unsourced_count(&self) -> usize {
        match &self.parameterisation {
            Parameterisation::Table(rows) => rows
                .iter()
                .filter(|r| r.source.is_none())
                .map(|r| r.probabilities.len())
                .sum(),
            Parameterisation::NoisyOr { leak, causes } => {
                usize::from(leak.source.is_none())
                    + causes.iter().filter(|c| c.p.source.is_none()).count()
            }
        }
    }
}

/// Descriptive metadata of a model.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ModelInfo {
    /// Short name.
    pub name: String,
    /// Human title.
    pub title: Option<String>,
    /// Version string.
    pub version: Option<String>,
    /// Free text.
    pub description: Option<String>,
}

/// A validated discrete Bayesian network with its triage rules.
#[derive(Debug, Clone)]
pub struct Network {
    info: ModelInfo,
    variables: Vec<Variable>,
    cpds: Vec<Cpd>,
    children: Vec<Vec<VarId>>,
    topological: Vec<VarId>,
    /// Looked up for every name in every case a batch reads: a fast hash, not a keyed one.
    index: FxHashMap<String, VarId>,
    triage: Vec<TriageRule>,
    warnings: Vec<String>,
}

impl Network {
    /// Metadata.
    pub fn info(&self) -> &ModelInfo {
        &self.info
    }
    /// The model's name.
    pub fn name(&self) -> &str {
        &self.info.name
    }
    /// The number of variables.
    pub fn len(&self) -> usize {
        self.variables.len()
    }
    /// True for a network with no variables.
    pub fn is_empty(&self) -> bool {
        self.variables.is_empty()
    }
    /// All variables, indexed by [`VarId`].
    pub fn variables(&self) -> &[Variable] {
        &self.variables
    }
    /// One variable.
    pub fn variable(&self, v: VarId) -> &Variable {
        &self.variables[v]
    }
    /// The conditional distribution of a variable.
    pub fn cpd(&self, v: VarId) -> &Cpd {
        &self.cpds[v]
    }
    /// The parents of a variable.
    pub fn parents(&self, v: VarId) -> &[VarId] {
        &self.cpds[v].parents
    }
    /// The children of a variable.
    pub fn children(&self, v: VarId) -> &[VarId] {
        &self.children[v]
    }
    /// All variables, parents before children.
    pub fn topological_order(&self) -> &[VarId] {
        &self.topological
    }
    /// The id of a variable name, if it exists.
    pub fn id_of(&self, name: &str) -> Option<VarId> {
        self.index.get(name).copied()
    }
    /// The id of a variable name, or an error that suggests the nearest name.
    pub fn lookup(&self, name: &str) -> Result<VarId, UnknownName> {
        self.id_of(name).ok_or_else(|| UnknownName {
            kind: "variable",
            name: name.to_string(),
            suggestion: suggest::nearest(name, self.variables.iter().map(|v| v.id.as_str()))
                .map(str::to_string),
        })
    }
    /// The index of a state of a variable, or an error listing the states.
    pub fn lookup_state(&self, v: VarId, state: &str) -> Result<usize, UnknownName> {
        let var = &self.variables[v];
        var.state_index(state).ok_or_else(|| UnknownName {
            kind: "state",
            name: format!("{state}` of `{}", var.id),
            suggestion: suggest::nearest(state, var.states.iter().map(String::as_str))
                .map(str::to_string)
                .or_else(|| Some(var.states.join("`, `"))),
        })
    }
    /// The variables with a given role, in file order.
    pub fn with_role(&self, role: Role) -> impl Iterator<Item = VarId> + '_ {
        (0..self.len()).filter(move |&v| self.variables[v].role == role)
    }
    /// The cardinality of every variable, indexed by [`VarId`].
    pub fn cardinalities(&self) -> Vec<usize> {
        self.variables.iter().map(Variable::cardinality).collect()
    }
    /// The given variables and all their ancestors, as a membership mask.
    pub fn ancestral_set(&self, nodes: impl IntoIterator<Item = VarId>) -> Vec<bool> {
        let mut keep = vec![false; self.len()];
        let mut stack: Vec<VarId> = nodes.into_iter().collect();
        while let Some(v) = stack.pop() {
            if !keep[v] {
                keep[v] = true;
                stack.extend(self.cpds[v].parents.iter().copied());
            }
        }
        keep
    }
    /// The model's triage rules.
    pub fn triage_rules(&self) -> &[TriageRule] {
        &self.triage
    }
    /// Notes from building the network (e.g. rows renormalised within tolerance).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }
}

/// A name that is not in the network.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("unknown {kind} `{name}`{}", suggest::hint(suggestion))]
pub struct UnknownName {
    /// `variable` or `state`.
    pub kind: &'static str,
    /// What was typed.
    pub name: String,
    /// The nearest known name.
    pub suggestion: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Parameter uncertainty and single-parameter edits

/// How uncertain one number of the model is, as declared in the model file.
///
/// Declarations are kept as written (so that a model written back says `ci`, not the fitted
/// Beta); [`Uncertainty::beta`] gives the Beta that sampling and sensitivity use.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Uncertainty {
    /// `beta = [a, b]`: the number is Beta(a, b).
    Beta {
        /// First shape (a > 0).
        alpha: f64,
        /// Second shape (b > 0).
        beta: f64,
    },
    /// `ci = [low, high]`: a 95 % confidence interval from a study. radix fits the Beta whose
    /// mean is the model's value and whose central 95 % interval is as wide as `high - low`.
    Interval {
        /// Lower bound of the interval as written.
        low: f64,
        /// Upper bound of the interval as written.
        high: f64,
        /// First shape of the fitted Beta.
        alpha: f64,
        /// Second shape of the fitted Beta.
        beta: f64,
    },
    /// `ess = N` (table rows only): the row is Dirichlet(N × row), N an equivalent sample size.
    Dirichlet {
        /// The equivalent sample size (> 0).
        ess: f64,
    },
}

impl Uncertainty {
    /// The Beta shapes of a single probability (`None` for a Dirichlet).
    pub fn beta(&self) -> Option<(f64, f64)> {
        match *self {
            Uncertainty::Beta { alpha, beta } | Uncertainty::Interval { alpha, beta, .. } => {
                Some((alpha, beta))
            }
            Uncertainty::Dirichlet { .. } => None,
        }
    }

    /// The central 95 % interval of a number whose value is `value` under this declaration: a
    /// declared `ci` as written, else the 2.5 % and 97.5 % quantiles of the Beta (for a
    /// Dirichlet, of the number's Beta marginal).
    pub fn interval(&self, value: f64) -> (f64, f64) {
        use statrs::distribution::ContinuousCDF;
        let (a, b) = match *self {
            Uncertainty::Interval { low, high, .. } => return (low, high),
            Uncertainty::Beta { alpha, beta } => (alpha, beta),
            Uncertainty::Dirichlet { ess } => (ess * value, ess * (1.0 - value)),
        };
        if a <= 0.0 || b <= 0.0 {
            return (value, value);
        }
        match statrs::distribution::Beta::new(a, b) {
            Ok(d) => (d.inverse_cdf(0.025), d.inverse_cdf(0.975)),
            Err(_) => (value, value),
        }
    }
}

/// The declared uncertainty of a table row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RowUncertainty {
    /// For `beta` and `ci`: the state whose probability the declaration is about (the row's
    /// other entries follow it, rescaled proportionally). Unused for a Dirichlet.
    pub state: usize,
    /// The declaration.
    pub distribution: Uncertainty,
}

/// An uncertainty declaration as written, before validation.
#[derive(Debug, Clone, PartialEq)]
pub enum UncertaintySpec {
    /// `beta = [a, b]`.
    Beta(f64, f64),
    /// `ci = [low, high]` (95 %).
    Interval(f64, f64),
    /// `ess = N` (rows only).
    Ess(f64),
}

/// Which number of a variable's distribution an [`UncertaintySpec`] is about.
#[derive(Debug, Clone, PartialEq)]
pub enum UncertainAt {
    /// A table row, by its position in the file (0-based), and for `beta`/`ci` the state named
    /// (default: the first state).
    Row {
        /// Row index in file order.
        row: usize,
        /// The state a `beta` or `ci` is about.
        state: Option<String>,
    },
    /// A noisy-OR cause, by its position in the file (0-based).
    Cause(usize),
    /// A noisy-OR's leak.
    Leak,
}

/// One number of a network's distributions, for sensitivity analysis and sampling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ParamRef {
    /// Entry `state` of table row `row` (parent configurations in row-major order, last parent
    /// fastest) of `variable`'s table. Changing it rescales the row's other entries
    /// proportionally.
    Table {
        /// The variable.
        variable: VarId,
        /// The row (parent configuration offset).
        row: usize,
        /// The state.
        state: usize,
    },
    /// The `p` of cause `cause` of `variable`'s noisy-OR.
    Cause {
        /// The variable.
        variable: VarId,
        /// The cause index.
        cause: usize,
    },
    /// The leak of `variable`'s noisy-OR.
    Leak {
        /// The variable.
        variable: VarId,
    },
}

impl ParamRef {
    /// The variable whose distribution holds the number.
    pub fn variable(&self) -> VarId {
        match *self {
            ParamRef::Table { variable, .. }
            | ParamRef::Cause { variable, .. }
            | ParamRef::Leak { variable } => variable,
        }
    }
}

/// Row `row` with entry `state` set to `value` and the others rescaled proportionally, so that
/// the row still sums to one (when the others are all zero they share `1 - value` equally).
/// Every entry is affine in `value`.
pub fn rescale_row(row: &[f64], state: usize, value: f64) -> Vec<f64> {
    let old = row[state];
    let rest = 1.0 - old;
    let others = row.len().saturating_sub(1).max(1) as f64;
    row.iter()
        .enumerate()
        .map(|(j, &p)| {
            if j == state {
                value
            } else if rest > 0.0 && old < 1.0 {
                p * (1.0 - value) / rest
            } else {
                (1.0 - value) / others
            }
        })
        .collect()
}

/// Fits Beta(α, β) with mean `mean` whose central 95 % interval is as wide as `high - low`.
///
/// The concentration α + β is found on its logarithm (the interval narrows as it grows),
/// between 1e-3 and 1e9, by regula falsi (Illinois).
pub fn beta_from_interval(mean: f64, low: f64, high: f64) -> Result<(f64, f64), String> {
    use statrs::distribution::{Beta, ContinuousCDF};
    if !(low.is_finite() && high.is_finite() && 0.0 <= low && low < high && high <= 1.0) {
        return Err(format!(
            "interval [{low}, {high}] must satisfy 0 <= low < high <= 1"
        ));
    }
    if !(mean > 0.0 && mean < 1.0) {
        return Err(format!(
            "the value {mean} must be strictly between 0 and 1 to carry an interval"
        ));
    }
    if mean < low || mean > high {
        return Err(format!(
            "the value {mean} lies outside its interval [{low}, {high}]"
        ));
    }
    let target = high - low;
    let width = |ln_k: f64| -> f64 {
        let k = ln_k.exp();
        match Beta::new(mean * k, (1.0 - mean) * k) {
            Ok(d) => d.inverse_cdf(0.975) - d.inverse_cdf(0.025),
            Err(_) => f64::NAN,
        }
    };
    // Root of g(ln k) = ln width - ln target, which falls as k grows (the ends of the range
    // may not bracket it: for tiny k the Beta is U-shaped). Bisection until both ends of the
    // bracket have been evaluated, then the Illinois variant of regula falsi: as safe (the root
    // stays bracketed) but superlinear, so a model with a few dozen intervals loads in about a
    // millisecond rather than several (each step costs two Beta quantiles).
    let g = |ln_k: f64| -> Result<f64, String> {
        let w = width(ln_k);
        if w.is_nan() {
            Err("could not fit a Beta to the interval".into())
        } else {
            Ok(w.ln() - target.ln())
        }
    };
    let (mut lo, mut hi) = (1e-3f64.ln(), 1e9f64.ln());
    let (mut g_lo, mut g_hi): (Option<f64>, Option<f64>) = (None, None);
    let mut side = 0i8;
    for _ in 0..200 {
        if hi - lo < 1e-10 {
            break;
        }
        let mid = match (g_lo, g_hi) {
            (Some(a), Some(b)) if a.is_finite() && b.is_finite() && a > b => {
                let m = (lo * b - hi * a) / (b - a);
                if m > lo && m < hi { m } else { 0.5 * (lo + hi) }
            }
            _ => 0.5 * (lo + hi),
        };
        let g_mid = g(mid)?;
        if g_mid.abs() < 1e-12 {
            lo = mid;
            hi = mid;
            break;
        }
        if g_mid > 0.0 {
            lo = mid;
            g_lo = Some(g_mid);
            if side == 1 {
                g_hi = g_hi.map(|x| x / 2.0);
            }
            side = 1;
        } else {
            hi = mid;
            g_hi = Some(g_mid);
            if side == -1 {
                g_lo = g_lo.map(|x| x / 2.0);
            }
            side = -1;
        }
    }
    let k = (0.5 * (lo + hi)).exp();
    Ok((mean * k, (1.0 - mean) * k))
}

impl Network {
    /// The value of one number, or `None` if the reference does not fit the network.
    pub fn parameter(&self, which: ParamRef) -> Option<f64> {
        let cpd = self.cpds.get(which.variable())?;
        match (which, &cpd.parameterisation) {
            (ParamRef::Table { row, state, .. }, Parameterisation::Table(rows)) => {
                rows.get(row)?.probabilities.get(state).copied()
            }
            (ParamRef::Cause { cause, .. }, Parameterisation::NoisyOr { causes, .. }) => {
                causes.get(cause).map(|c| c.p.value)
            }
            (ParamRef::Leak { .. }, Parameterisation::NoisyOr { leak, .. }) => Some(leak.value),
            _ => None,
        }
    }

    /// Every free number of the model's distributions, in variable order.
    pub fn parameters(&self) -> Vec<ParamRef> {
        let mut out = Vec::new();
        for (v, cpd) in self.cpds.iter().enumerate() {
            match &cpd.parameterisation {
                Parameterisation::Table(rows) => {
                    for (r, row) in rows.iter().enumerate() {
                        for s in 0..row.probabilities.len() {
                            out.push(ParamRef::Table {
                                variable: v,
                                row: r,
                                state: s,
                            });
                        }
                    }
                }
                Parameterisation::NoisyOr { causes, .. } => {
                    for c in 0..causes.len() {
                        out.push(ParamRef::Cause {
                            variable: v,
                            cause: c,
                        });
                    }
                    out.push(ParamRef::Leak { variable: v });
                }
            }
        }
        out
    }

    /// A copy of the network with one number changed (a table entry rescales the rest of its
    /// row proportionally, see [`rescale_row`]; a noisy-OR is re-expanded).
    pub fn with_parameter(&self, which: ParamRef, value: f64) -> Result<Network, NetworkError> {
        let mut net = self.clone();
        net.set_parameter(which, value)?;
        Ok(net)
    }

    /// Changes one number in place, as [`Self::with_parameter`].
    pub fn set_parameter(&mut self, which: ParamRef, value: f64) -> Result<(), NetworkError> {
        let v = which.variable();
        if v >= self.len() {
            return Err(err(
                Item::Model,
                None,
                NetworkErrorKind::NoSuchParameter(format!("no variable with index {v}")),
            ));
        }
        let item = Item::Variable(self.variables[v].id.clone());
        check_probabilities(&[value]).map_err(|kind| err(item.clone(), None, kind))?;
        match which {
            ParamRef::Table { row, state, .. } => {
                let current = match &self.cpds[v].parameterisation {
                    Parameterisation::Table(rows) if row < rows.len() => {
                        rows[row].probabilities.clone()
                    }
                    _ => return Err(bad_ref(item, "no such table row")),
                };
                if state >= current.len() {
                    return Err(bad_ref(item, "no such state"));
                }
                self.set_row(v, row, rescale_row(&current, state, value))
            }
            ParamRef::Cause { cause, .. } => {
                match &mut self.cpds[v].parameterisation {
                    Parameterisation::NoisyOr { causes, .. } if cause < causes.len() => {
                        causes[cause].p.value = value;
                    }
                    _ => return Err(bad_ref(item, "no such noisy-OR cause")),
                }
                self.refresh_noisy_or(v);
                Ok(())
            }
            ParamRef::Leak { .. } => {
                match &mut self.cpds[v].parameterisation {
                    Parameterisation::NoisyOr { leak, .. } => leak.value = value,
                    _ => return Err(bad_ref(item, "not a noisy-OR")),
                }
                self.refresh_noisy_or(v);
                Ok(())
            }
        }
    }

    /// Replaces one table row (row-major parent configuration `row` of `variable`'s table).
    /// The row must have one probability per state, each in [0, 1], summing to 1 within
    /// [`ROW_SUM_TOLERANCE`]; it is divided by its sum.
    pub fn set_row(
        &mut self,
        variable: VarId,
        row: usize,
        probabilities: Vec<f64>,
    ) -> Result<(), NetworkError> {
        let Some(var) = self.variables.get(variable) else {
            return Err(bad_ref(
                Item::Model,
                &format!("no variable with index {variable}"),
            ));
        };
        let item = Item::Variable(var.id.clone());
        let k = var.cardinality();
        if probabilities.len() != k {
            return Err(err(
                item,
                Some(Part::Row(row)),
                NetworkErrorKind::RowLength {
                    expected: k,
                    found: probabilities.len(),
                },
            ));
        }
        check_probabilities(&probabilities)
            .map_err(|kind| err(item.clone(), Some(Part::Row(row)), kind))?;
        let sum: f64 = probabilities.iter().sum();
        if (sum - 1.0).abs() > ROW_SUM_TOLERANCE || sum <= 0.0 {
            return Err(err(
                item,
                Some(Part::Row(row)),
                NetworkErrorKind::RowSum {
                    sum,
                    tolerance: ROW_SUM_TOLERANCE,
                },
            ));
        }
        let probabilities: Vec<f64> = if (sum - 1.0).abs() > 1e-15 {
            probabilities.iter().map(|x| x / sum).collect()
        } else {
            probabilities
        };
        let cpd = &mut self.cpds[variable];
        match &mut cpd.parameterisation {
            Parameterisation::Table(rows) if row < rows.len() => {
                rows[row].probabilities = probabilities;
                let values: Vec<f64> = rows
                    .iter()
                    .flat_map(|r| r.probabilities.iter().copied())
                    .collect();
                let scope = cpd.factor.scope().to_vec();
                let cards = cpd.factor.cardinalities().to_vec();
                cpd.factor = Factor::new(scope, &cards, values).expect("same shape");
                Ok(())
            }
            _ => Err(bad_ref(item, "no such table row")),
        }
    }

    fn refresh_noisy_or(&mut self, v: VarId) {
        let cards: Vec<usize> = self.cpds[v]
            .parents
            .iter()
            .map(|&p| self.variables[p].cardinality())
            .collect();
        let cpd = &mut self.cpds[v];
        if let Parameterisation::NoisyOr { leak, causes } = &cpd.parameterisation {
            let values = noisy_or_values(&cpd.parents, &cards, leak.value, causes);
            let scope = cpd.factor.scope().to_vec();
            let all = cpd.factor.cardinalities().to_vec();
            cpd.factor = Factor::new(scope, &all, values).expect("same shape");
        }
    }
}

/// The parents of a table spec, resolved (the spec was validated by then).
fn cpds_parents(spec: &CpdSpec, index: &FxHashMap<String, VarId>) -> Vec<VarId> {
    match spec {
        CpdSpec::Table { parents, .. } => parents
            .iter()
            .filter_map(|p| index.get(p).copied())
            .collect(),
        CpdSpec::NoisyOr { .. } => Vec::new(),
    }
}

fn bad_ref(item: Item, what: &str) -> NetworkError {
    err(
        item,
        None,
        NetworkErrorKind::NoSuchParameter(what.to_string()),
    )
}

// ---------------------------------------------------------------------------------------------
// Building

/// A variable as written in a model file, before validation.
#[derive(Debug, Clone)]
pub struct VariableSpec {
    /// Identifier.
    pub id: String,
    /// Human name.
    pub label: String,
    /// Free text.
    pub description: Option<String>,
    /// Role.
    pub role: Role,
    /// State names.
    pub states: Vec<String>,
    /// For origins: the ranked state (default `present`).
    pub positive_state: Option<String>,
}

impl VariableSpec {
    /// A variable with no description and the default positive state.
    pub fn new(id: &str, label: &str, role: Role, states: &[&str]) -> Self {
        VariableSpec {
            id: id.to_string(),
            label: label.to_string(),
            description: None,
            role,
            states: states.iter().map(|s| s.to_string()).collect(),
            positive_state: None,
        }
    }
}

/// One table row as written: the parents' states (in the order of the CPD's `parents`) and the
/// probabilities of the child's states.
#[derive(Debug, Clone)]
pub struct RowSpec {
    /// Parent state names, one per parent, in order.
    pub when: Vec<String>,
    /// Probabilities of the child's states.
    pub p: Vec<f64>,
    /// Source of the row's numbers.
    pub source: Option<String>,
}

/// One noisy-OR cause as written.
#[derive(Debug, Clone)]
pub struct CauseSpec {
    /// Parent id.
    pub parent: String,
    /// The activating state (default: the parent's first state).
    pub state: Option<String>,
    /// Probability that this cause alone turns the effect on.
    pub p: f64,
    /// Source.
    pub source: Option<String>,
}

impl CauseSpec {
    /// A cause activated by the parent's first state, with no source of its own.
    pub fn new(parent: &str, p: f64) -> Self {
        CauseSpec {
            parent: parent.to_string(),
            state: None,
            p,
            source: None,
        }
    }
}

/// A conditional distribution as written.
#[derive(Debug, Clone)]
pub enum CpdSpec {
    /// A full table.
    Table {
        /// Parent ids, in table order.
        parents: Vec<String>,
        /// One row per parent configuration, in any order.
        rows: Vec<RowSpec>,
        /// Source for rows that give none.
        source: Option<String>,
    },
    /// A noisy-OR with leak.
    NoisyOr {
        /// Leak probability.
        leak: f64,
        /// Source of the leak.
        leak_source: Option<String>,
        /// The causes.
        causes: Vec<CauseSpec>,
        /// Source for causes (and the leak) that give none.
        source: Option<String>,
    },
}

impl CpdSpec {
    /// The prior of a root variable.
    pub fn root(p: Vec<f64>, source: &str) -> Self {
        CpdSpec::Table {
            parents: vec![],
            rows: vec![RowSpec {
                when: vec![],
                p,
                source: None,
            }],
            source: Some(source.to_string()),
        }
    }
    /// A noisy-OR whose numbers all share one source.
    pub fn noisy_or(leak: f64, causes: Vec<CauseSpec>, source: &str) -> Self {
        CpdSpec::NoisyOr {
            leak,
            leak_source: None,
            causes,
            source: Some(source.to_string()),
        }
    }
}

/// A triage rule as written.
#[derive(Debug, Clone)]
pub struct TriageRuleSpec {
    /// Identifier.
    pub id: String,
    /// Level set when the rule fires.
    pub level: TriageLevel,
    /// What to tell the user.
    pub message: String,
    /// (variable, state) pairs; the rule fires when any is observed.
    pub when_any: Vec<(String, String)>,
    /// Origins to list first.
    pub names: Vec<String>,
    /// Where the rule comes from.
    pub source: Option<String>,
}

/// Where in the model an error is.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// A variable, by id.
    Variable(String),
    /// A triage rule, by id.
    TriageRule(String),
    /// The model as a whole.
    Model,
}

impl fmt::Display for Item {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Item::Variable(id) => write!(f, "variable `{id}`"),
            Item::TriageRule(id) => write!(f, "triage rule `{id}`"),
            Item::Model => f.write_str("model"),
        }
    }
}

/// A numbered part of an item (0-based, in file order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// A row of a conditional probability table.
    Row(usize),
    /// A cause of a noisy-OR.
    Cause(usize),
    /// A trigger of a triage rule.
    Trigger(usize),
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Part::Row(i) => write!(f, "row {}", i + 1),
            Part::Cause(i) => write!(f, "cause {}", i + 1),
            Part::Trigger(i) => write!(f, "trigger {}", i + 1),
        }
    }
}

/// A model that cannot be built: where, and what is wrong.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{item}{}: {kind}", part.map(|p| format!(", {p}")).unwrap_or_default())]
pub struct NetworkError {
    /// The variable or rule at fault.
    pub item: Item,
    /// The row, cause or trigger at fault, if any.
    pub part: Option<Part>,
    /// What is wrong (boxed: errors travel in `Result`s on hot paths).
    pub kind: Box<NetworkErrorKind>,
}

/// What is wrong with a model. Each message says what to fix.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NetworkErrorKind {
    /// An id with characters the command line cannot carry.
    #[error("`{0}` is not a valid id: use a non-empty name without spaces, `=`, `!` or `,`")]
    InvalidId(String),
    /// The same id twice.
    #[error("the id is used by another variable; ids must be unique")]
    DuplicateVariable,
    /// Fewer than two states.
    #[error("has {0} state(s); a variable needs at least two")]
    TooFewStates(usize),
    /// A state name used twice, or empty.
    #[error("state `{0}` is empty or listed twice; state names must be distinct and non-empty")]
    BadState(String),
    /// A parent that is not a variable.
    #[error("unknown parent `{name}`{}", suggest::hint(suggestion))]
    UnknownParent {
        /// The name given.
        name: String,
        /// The nearest id.
        suggestion: Option<String>,
    },
    /// A variable that is not in the model (in a triage rule).
    #[error("unknown variable `{name}`{}", suggest::hint(suggestion))]
    UnknownVariable {
        /// The name given.
        name: String,
        /// The nearest id.
        suggestion: Option<String>,
    },
    /// A state a variable does not have.
    #[error(
        "`{variable}` has no state `{state}`{}; its states are {}",
        suggest::hint(suggestion),
        list(known)
    )]
    UnknownState {
        /// The variable whose state was named.
        variable: String,
        /// The name given.
        state: String,
        /// The nearest state.
        suggestion: Option<String>,
        /// All its states.
        known: Vec<String>,
    },
    /// A parent listed twice.
    #[error("parent `{0}` is listed twice")]
    RepeatedParent(String),
    /// A cycle of parent links.
    #[error("the parent links form a cycle: {}; a Bayesian network must be acyclic, so remove one of these links", cycle.join(" -> "))]
    Cycle {
        /// The cycle, closing back to its first element.
        cycle: Vec<String>,
    },
    /// A parent configuration with no row.
    #[error("no row for {0}; give one row for every combination of parent states")]
    MissingRow(String),
    /// A parent configuration with two rows.
    #[error("a second row for {0}; give each combination of parent states once")]
    DuplicateRow(String),
    /// A row whose key does not match the parents.
    #[error("{0}")]
    RowKey(String),
    /// A row with the wrong number of probabilities.
    #[error("has {found} probabilities; give one per state ({expected})")]
    RowLength {
        /// The number of states.
        expected: usize,
        /// The number given.
        found: usize,
    },
    /// A probability outside [0, 1] or not finite.
    #[error("probability {0} is not a number in [0, 1]")]
    BadProbability(f64),
    /// A row that does not sum to one.
    #[error("probabilities sum to {}, not 1 (tolerance {tolerance:e}); correct the row", short(*.sum))]
    RowSum {
        /// The sum.
        sum: f64,
        /// The tolerance applied.
        tolerance: f64,
    },
    /// A noisy-OR on a variable that is not binary.
    #[error(
        "a noisy-OR needs a binary effect, but this variable has {0} states; use a `cpt` instead"
    )]
    NoisyOrNotBinary(usize),
    /// The positive state of an origin does not exist.
    #[error("positive state `{0}` is not one of its states{hint}", hint = positive_hint(.0))]
    PositiveState(String),
    /// A triage rule without triggers.
    #[error("has no triggers; list at least one finding state in `when_any`")]
    NoTriggers,
    /// A triage rule names a variable that is not an origin.
    #[error("names `{0}`, which is not an origin")]
    NotAnOrigin(String),
    /// Two triage rules with one id.
    #[error("the id is used by another triage rule; ids must be unique")]
    DuplicateRule,
    /// A network with no variables.
    #[error("has no variables")]
    Empty,
    /// An uncertainty declaration that cannot be used.
    #[error("uncertainty: {0}")]
    Uncertainty(String),
    /// A parameter edit ([`Network::set_parameter`]) that does not fit the network.
    #[error("no such parameter: {0}")]
    NoSuchParameter(String),
}

/// A sum printed with 12 decimals at most, trailing zeros trimmed (0.8999999999999999 -> 0.9).
fn short(x: f64) -> String {
    let s = format!("{x:.12}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

fn positive_hint(state: &str) -> &'static str {
    if state == "present" {
        " (set `positive_state` for an origin without a `present` state)"
    } else {
        ""
    }
}

fn list(items: &[String]) -> String {
    items
        .iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Collects variables, distributions and triage rules, then validates them all at once.
#[derive(Debug, Clone)]
pub struct NetworkBuilder {
    info: ModelInfo,
    entries: Vec<(VariableSpec, CpdSpec)>,
    rules: Vec<TriageRuleSpec>,
    tolerance: f64,
    uncertain: Vec<(String, UncertainAt, UncertaintySpec)>,
}

/// The default tolerance on a row's sum.
pub const ROW_SUM_TOLERANCE: f64 = 1e-9;

impl NetworkBuilder {
    /// An empty model with a name.
    pub fn new(name: &str) -> Self {
        NetworkBuilder {
            info: ModelInfo {
                name: name.to_string(),
                ..ModelInfo::default()
            },
            entries: Vec::new(),
            rules: Vec::new(),
            tolerance: ROW_SUM_TOLERANCE,
            uncertain: Vec::new(),
        }
    }

    /// Declares the uncertainty of one number (or row) of a variable's distribution: checked
    /// and attached when the network is built (a `ci` is turned into a Beta with
    /// [`beta_from_interval`]; `ess` is for table rows only).
    pub fn uncertainty(
        &mut self,
        variable: &str,
        at: UncertainAt,
        spec: UncertaintySpec,
    ) -> &mut Self {
        self.uncertain.push((variable.to_string(), at, spec));
        self
    }

    /// Sets the metadata.
    pub fn info(&mut self, info: ModelInfo) -> &mut Self {
        self.info = info;
        self
    }

    /// Adds a variable with its distribution.
    pub fn variable(&mut self, var: VariableSpec, cpd: CpdSpec) -> &mut Self {
        self.entries.push((var, cpd));
        self
    }

    /// Adds a triage rule.
    pub fn triage_rule(&mut self, rule: TriageRuleSpec) -> &mut Self {
        self.rules.push(rule);
        self
    }

    /// How far a row's sum may be from 1 (default [`ROW_SUM_TOLERANCE`]). Rows within the
    /// tolerance are divided by their sum; rows off by more than 1e-9 get a warning naming the
    /// variable. Formats whose files print rounded numbers (BIF) relax this.
    pub fn row_sum_tolerance(&mut self, tolerance: f64) -> &mut Self {
        self.tolerance = tolerance;
        self
    }

    /// Validates everything and builds the network.
    pub fn build(&self) -> Result<Network, NetworkError> {
        let n = self.entries.len();
        if n == 0 {
            return Err(err(Item::Model, None, NetworkErrorKind::Empty));
        }
        let mut index = FxHashMap::with_capacity_and_hasher(n, Default::default());
        let mut variables = Vec::with_capacity(n);
        for (spec, _) in &self.entries {
            let item = Item::Variable(spec.id.clone());
            if !valid_id(&spec.id) {
                return Err(err(
                    item,
                    None,
                    NetworkErrorKind::InvalidId(spec.id.clone()),
                ));
            }
            if index.insert(spec.id.clone(), variables.len()).is_some() {
                return Err(err(item, None, NetworkErrorKind::DuplicateVariable));
            }
            if spec.states.len() < 2 {
                return Err(err(
                    item,
                    None,
                    NetworkErrorKind::TooFewStates(spec.states.len()),
                ));
            }
            for (i, s) in spec.states.iter().enumerate() {
                if s.trim().is_empty() || s.trim() != s || spec.states[..i].contains(s) {
                    return Err(err(item, None, NetworkErrorKind::BadState(s.clone())));
                }
            }
            let positive_state = match (&spec.positive_state, spec.role) {
                (Some(p), _) => spec.states.iter().position(|s| s == p).ok_or_else(|| {
                    err(
                        item.clone(),
                        None,
                        NetworkErrorKind::PositiveState(p.clone()),
                    )
                })?,
                (None, Role::Origin) => spec
                    .states
                    .iter()
                    .position(|s| s == "present")
                    .ok_or_else(|| {
                        err(
                            item.clone(),
                            None,
                            NetworkErrorKind::PositiveState("present".into()),
                        )
                    })?,
                (None, _) => 0,
            };
            variables.push(Variable {
                id: spec.id.clone(),
                label: spec.label.clone(),
                description: spec.description.clone(),
                role: spec.role,
                states: spec.states.clone(),
                positive_state,
            });
        }
        let ids: Vec<&str> = variables.iter().map(|v| v.id.as_str()).collect();
        let resolve = |item: &Item, name: &str| -> Result<VarId, NetworkError> {
            index.get(name).copied().ok_or_else(|| {
                err(
                    item.clone(),
                    None,
                    NetworkErrorKind::UnknownParent {
                        name: name.to_string(),
                        suggestion: suggest::nearest(name, ids.iter().copied()).map(str::to_string),
                    },
                )
            })
        };

        // Parents first, so that cycles are reported before table details.
        let mut parent_lists = Vec::with_capacity(n);
        for (spec, cpd) in &self.entries {
            let item = Item::Variable(spec.id.clone());
            let names: Vec<&str> = match cpd {
                CpdSpec::Table { parents, .. } => parents.iter().map(String::as_str).collect(),
                CpdSpec::NoisyOr { causes, .. } => {
                    let mut ps: Vec<&str> = Vec::new();
                    for c in causes {
                        if !ps.contains(&c.parent.as_str()) {
                            ps.push(&c.parent);
                        }
                    }
                    ps
                }
            };
            let mut parents = Vec::with_capacity(names.len());
            for name in names {
                let p = resolve(&item, name)?;
                if parents.contains(&p) {
                    return Err(err(
                        item,
                        None,
                        NetworkErrorKind::RepeatedParent(name.into()),
                    ));
                }
                parents.push(p);
            }
            parent_lists.push(parents);
        }
        let topological = graph::topological_order(&parent_lists).map_err(|cycle| {
            let mut names: Vec<String> = cycle.iter().map(|&v| variables[v].id.clone()).collect();
            names.push(names[0].clone());
            err(
                Item::Variable(variables[cycle[0]].id.clone()),
                None,
                NetworkErrorKind::Cycle { cycle: names },
            )
        })?;

        let mut warnings = Vec::new();
        let mut cpds = Vec::with_capacity(n);
        for (v, ((spec, cpd), parents)) in self.entries.iter().zip(parent_lists).enumerate() {
            let item = Item::Variable(spec.id.clone());
            let cpd = match cpd {
                CpdSpec::Table { rows, source, .. } => {
                    self.table(&variables, v, parents, rows, source, &item, &mut warnings)?
                }
                CpdSpec::NoisyOr {
                    leak,
                    leak_source,
                    causes,
                    source,
                } => noisy_or(
                    &variables,
                    v,
                    parents,
                    *leak,
                    leak_source,
                    causes,
                    source,
                    &item,
                )?,
            };
            cpds.push(cpd);
        }

        let mut children = vec![Vec::new(); n];
        for (v, cpd) in cpds.iter().enumerate() {
            for &p in &cpd.parents {
                children[p].push(v);
            }
        }

        self.attach_uncertainty(&variables, &index, &mut cpds)?;
        let triage = self.triage_rules(&variables, &index)?;
        Ok(Network {
            info: self.info.clone(),
            variables,
            cpds,
            children,
            topological,
            index,
            triage,
            warnings,
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn table(
        &self,
        variables: &[Variable],
        v: VarId,
        parents: Vec<VarId>,
        rows: &[RowSpec],
        default_source: &Option<String>,
        item: &Item,
        warnings: &mut Vec<String>,
    ) -> Result<Cpd, NetworkError> {
        let k = variables[v].cardinality();
        let cards: Vec<usize> = parents
            .iter()
            .map(|&p| variables[p].cardinality())
            .collect();
        let configs: usize = cards.iter().product();
        let mut slots: Vec<Option<TableRow>> = vec![None; configs];
        let mut renormalised = 0usize;
        let mut worst = 0.0f64;
        for (r, row) in rows.iter().enumerate() {
            if row.when.len() != parents.len() {
                return Err(err(
                    item.clone(),
                    Some(Part::Row(r)),
                    NetworkErrorKind::RowKey(format!(
                        "names {} parent state(s) but the variable has {} parent(s)",
                        row.when.len(),
                        parents.len()
                    )),
                ));
            }
            let mut offset = 0;
            for ((&p, state), &card) in parents.iter().zip(&row.when).zip(&cards) {
                let s = variables[p].state_index(state).ok_or_else(|| {
                    err(
                        item.clone(),
                        Some(Part::Row(r)),
                        unknown_state(&variables[p], state),
                    )
                })?;
                offset = offset * card + s;
            }
            let combination = describe_combination(variables, &parents, &row.when);
            if slots[offset].is_some() {
                return Err(err(
                    item.clone(),
                    Some(Part::Row(r)),
                    NetworkErrorKind::DuplicateRow(combination),
                ));
            }
            if row.p.len() != k {
                return Err(err(
                    item.clone(),
                    Some(Part::Row(r)),
                    NetworkErrorKind::RowLength {
                        expected: k,
                        found: row.p.len(),
                    },
                ));
            }
            check_probabilities(&row.p)
                .map_err(|kind| err(item.clone(), Some(Part::Row(r)), kind))?;
            let sum: f64 = row.p.iter().sum();
            let off = (sum - 1.0).abs();
            if off > self.tolerance || sum <= 0.0 {
                return Err(err(
                    item.clone(),
                    Some(Part::Row(r)),
                    NetworkErrorKind::RowSum {
                        sum,
                        tolerance: self.tolerance,
                    },
                ));
            }
            if off > ROW_SUM_TOLERANCE {
                renormalised += 1;
                worst = worst.max(off);
            }
            // Rows off by more than rounding are divided by their sum; a row that sums to 1
            // up to a few ulps is kept as written, so that a table written out and read back
            // is bit-identical.
            let probabilities = if off > 1e-12 {
                row.p.iter().map(|x| x / sum).collect()
            } else {
                row.p.clone()
            };
            slots[offset] = Some(TableRow {
                probabilities,
                source: row.source.clone().or_else(|| default_source.clone()),
                uncertainty: None,
            });
        }
        if renormalised > 0 {
            warnings.push(format!(
                "variable `{}`: {renormalised} row(s) summed to 1 only within {worst:.1e}; divided by their sums",
                variables[v].id
            ));
        }
        let mut table_rows = Vec::with_capacity(configs);
        for (offset, slot) in slots.into_iter().enumerate() {
            match slot {
                Some(row) => table_rows.push(row),
                None => {
                    let states = config_states(variables, &parents, &cards, offset);
                    return Err(err(
                        item.clone(),
                        None,
                        NetworkErrorKind::MissingRow(describe_combination(
                            variables, &parents, &states,
                        )),
                    ));
                }
            }
        }
        let values: Vec<f64> = table_rows
            .iter()
            .flat_map(|r| r.probabilities.iter().copied())
            .collect();
        let mut scope = parents.clone();
        scope.push(v);
        let mut all_cards = cards;
        all_cards.push(k);
        let factor = Factor::new(scope, &all_cards, values).expect("shape checked above");
        Ok(Cpd {
            parents,
            parameterisation: Parameterisation::Table(table_rows),
            factor,
        })
    }

    fn attach_uncertainty(
        &self,
        variables: &[Variable],
        index: &FxHashMap<String, VarId>,
        cpds: &mut [Cpd],
    ) -> Result<(), NetworkError> {
        for (name, at, spec) in &self.uncertain {
            let item = Item::Variable(name.clone());
            let Some(&v) = index.get(name) else {
                return Err(err(
                    Item::Model,
                    None,
                    NetworkErrorKind::UnknownVariable {
                        name: name.clone(),
                        suggestion: suggest::nearest(name, variables.iter().map(|v| v.id.as_str()))
                            .map(str::to_string),
                    },
                ));
            };
            let part = match at {
                UncertainAt::Row { row, .. } => Some(Part::Row(*row)),
                UncertainAt::Cause(c) => Some(Part::Cause(*c)),
                UncertainAt::Leak => None,
            };
            let fail = |msg: String| err(item.clone(), part, NetworkErrorKind::Uncertainty(msg));
            let single = |value: f64| -> Result<Uncertainty, NetworkError> {
                match *spec {
                    UncertaintySpec::Beta(a, b) => {
                        if !(a.is_finite() && b.is_finite() && a > 0.0 && b > 0.0) {
                            return Err(fail(format!(
                                "`beta = [{a}, {b}]` needs two finite shapes above 0"
                            )));
                        }
                        Ok(Uncertainty::Beta { alpha: a, beta: b })
                    }
                    UncertaintySpec::Interval(low, high) => {
                        let (alpha, beta) = beta_from_interval(value, low, high)
                            .map_err(|m| fail(format!("`ci`: {m}")))?;
                        Ok(Uncertainty::Interval {
                            low,
                            high,
                            alpha,
                            beta,
                        })
                    }
                    UncertaintySpec::Ess(_) => Err(fail(
                        "`ess` (a Dirichlet) is for table rows; give `beta` or `ci` for a single probability"
                            .into(),
                    )),
                }
            };
            match (at, &mut cpds[v].parameterisation, &self.entries[v].1) {
                (
                    UncertainAt::Row { row, state },
                    Parameterisation::Table(rows),
                    CpdSpec::Table {
                        parents: _,
                        rows: specs,
                        ..
                    },
                ) => {
                    let Some(spec_row) = specs.get(*row) else {
                        return Err(fail(format!("there is no row {}", row + 1)));
                    };
                    let mut offset = 0;
                    for (&p, s) in cpds_parents(&self.entries[v].1, index)
                        .iter()
                        .zip(&spec_row.when)
                    {
                        let si = variables[p].state_index(s).unwrap_or(0);
                        offset = offset * variables[p].cardinality() + si;
                    }
                    let target = &mut rows[offset];
                    let state = match state {
                        None => 0,
                        Some(s) => variables[v].state_index(s).ok_or_else(|| {
                            err(item.clone(), part, unknown_state(&variables[v], s))
                        })?,
                    };
                    let distribution = match *spec {
                        UncertaintySpec::Ess(n) => {
                            if !(n.is_finite() && n > 0.0) {
                                return Err(fail(format!(
                                    "`ess = {n}` must be a finite number above 0"
                                )));
                            }
                            Uncertainty::Dirichlet { ess: n }
                        }
                        _ => single(target.probabilities[state])?,
                    };
                    target.uncertainty = Some(RowUncertainty {
                        state,
                        distribution,
                    });
                }
                (UncertainAt::Cause(c), Parameterisation::NoisyOr { causes, .. }, _) => {
                    let Some(cause) = causes.get_mut(*c) else {
                        return Err(fail(format!("there is no cause {}", c + 1)));
                    };
                    cause.p.uncertainty = Some(single(cause.p.value)?);
                }
                (UncertainAt::Leak, Parameterisation::NoisyOr { leak, .. }, _) => {
                    leak.uncertainty = Some(single(leak.value)?);
                }
                _ => {
                    return Err(fail(
                        "declared on a part the distribution does not have (rows belong to a `cpt`, causes and the leak to a `noisy_or`)".into(),
                    ));
                }
            }
        }
        Ok(())
    }

    fn triage_rules(
        &self,
        variables: &[Variable],
        index: &FxHashMap<String, VarId>,
    ) -> Result<Vec<TriageRule>, NetworkError> {
        let mut rules: Vec<TriageRule> = Vec::with_capacity(self.rules.len());
        for spec in &self.rules {
            let item = Item::TriageRule(spec.id.clone());
            if !valid_id(&spec.id) {
                return Err(err(
                    item,
                    None,
                    NetworkErrorKind::InvalidId(spec.id.clone()),
                ));
            }
            if rules.iter().any(|r| r.id == spec.id) {
                return Err(err(item, None, NetworkErrorKind::DuplicateRule));
            }
            if spec.when_any.is_empty() {
                return Err(err(item, None, NetworkErrorKind::NoTriggers));
            }
            let find = |name: &str, part: Option<Part>| {
                index.get(name).copied().ok_or_else(|| {
                    err(
                        item.clone(),
                        part,
                        NetworkErrorKind::UnknownVariable {
                            name: name.to_string(),
                            suggestion: suggest::nearest(
                                name,
                                variables.iter().map(|v| v.id.as_str()),
                            )
                            .map(str::to_string),
                        },
                    )
                })
            };
            let mut triggers = Vec::with_capacity(spec.when_any.len());
            for (t, (var, state)) in spec.when_any.iter().enumerate() {
                let v = find(var, Some(Part::Trigger(t)))?;
                let s = variables[v].state_index(state).ok_or_else(|| {
                    err(
                        item.clone(),
                        Some(Part::Trigger(t)),
                        unknown_state(&variables[v], state),
                    )
                })?;
                triggers.push(Trigger {
                    variable: v,
                    state: s,
                });
            }
            let mut names = Vec::with_capacity(spec.names.len());
            for name in &spec.names {
                let v = find(name, None)?;
                if variables[v].role != Role::Origin {
                    return Err(err(item, None, NetworkErrorKind::NotAnOrigin(name.clone())));
                }
                names.push(v);
            }
            rules.push(TriageRule {
                id: spec.id.clone(),
                level: spec.level,
                message: spec.message.clone(),
                triggers,
                names,
                source: spec.source.clone(),
            });
        }
        Ok(rules)
    }
}

#[allow(clippy::too_many_arguments)]
fn noisy_or(
    variables: &[Variable],
    v: VarId,
    parents: Vec<VarId>,
    leak: f64,
    leak_source: &Option<String>,
    causes: &[CauseSpec],
    default_source: &Option<String>,
    item: &Item,
) -> Result<Cpd, NetworkError> {
    let k = variables[v].cardinality();
    if k != 2 {
        return Err(err(
            item.clone(),
            None,
            NetworkErrorKind::NoisyOrNotBinary(k),
        ));
    }
    check_probabilities(&[leak]).map_err(|kind| err(item.clone(), None, kind))?;
    let mut parsed = Vec::with_capacity(causes.len());
    for (c, cause) in causes.iter().enumerate() {
        let parent = parents
            .iter()
            .copied()
            .find(|&p| variables[p].id == cause.parent)
            .expect("parents were collected from the causes");
        let state = match &cause.state {
            None => 0,
            Some(s) => variables[parent].state_index(s).ok_or_else(|| {
                err(
                    item.clone(),
                    Some(Part::Cause(c)),
                    unknown_state(&variables[parent], s),
                )
            })?,
        };
        check_probabilities(&[cause.p])
            .map_err(|kind| err(item.clone(), Some(Part::Cause(c)), kind))?;
        if parsed
            .iter()
            .any(|q: &NoisyCause| q.parent == parent && q.state == state)
        {
            return Err(err(
                item.clone(),
                Some(Part::Cause(c)),
                NetworkErrorKind::DuplicateRow(format!(
                    "cause `{}={}`",
                    cause.parent, variables[parent].states[state]
                )),
            ));
        }
        parsed.push(NoisyCause {
            parent,
            state,
            p: Param {
                value: cause.p,
                source: cause.source.clone().or_else(|| default_source.clone()),
                uncertainty: None,
            },
        });
    }
    let cards: Vec<usize> = parents
        .iter()
        .map(|&p| variables[p].cardinality())
        .collect();
    let values = noisy_or_values(&parents, &cards, leak, &parsed);
    let mut scope = parents.clone();
    scope.push(v);
    let mut all_cards = cards;
    all_cards.push(2);
    let factor = Factor::new(scope, &all_cards, values).expect("shape is consistent");
    Ok(Cpd {
        parents,
        parameterisation: Parameterisation::NoisyOr {
            leak: Param {
                value: leak,
                source: leak_source.clone().or_else(|| default_source.clone()),
                uncertainty: None,
            },
            causes: parsed,
        },
        factor,
    })
}

/// The full table of a noisy-OR over `parents..., effect` (effect axis last, "on" first).
fn noisy_or_values(
    parents: &[VarId],
    cards: &[usize],
    leak: f64,
    causes: &[NoisyCause],
) -> Vec<f64> {
    let configs: usize = cards.iter().product();
    let mut values = Vec::with_capacity(configs * 2);
    for offset in 0..configs {
        // Decode the configuration (last parent fastest).
        let mut rest = offset;
        let mut states = vec![0; parents.len()];
        for i in (0..parents.len()).rev() {
            states[i] = rest % cards[i];
            rest /= cards[i];
        }
        // ln P(off) = ln(1 - leak) + sum of ln(1 - p) over active causes; expm1/ln1p keep
        // small "on" probabilities (a leak of 1e-6) exact in relative terms.
        let mut ln_off = (-leak).ln_1p();
        for cause in causes {
            let i = parents
                .iter()
                .position(|&p| p == cause.parent)
                .expect("a parent");
            if states[i] == cause.state {
                ln_off += (-cause.p.value).ln_1p();
            }
        }
        values.push(-ln_off.exp_m1());
        values.push(ln_off.exp());
    }
    values
}

fn err(item: Item, part: Option<Part>, kind: NetworkErrorKind) -> NetworkError {
    NetworkError {
        item,
        part,
        kind: Box::new(kind),
    }
}

fn unknown_state(var: &Variable, state: &str) -> NetworkErrorKind {
    NetworkErrorKind::UnknownState {
        variable: var.id.clone(),
        state: state.to_string(),
        suggestion: suggest::nearest(state, var.states.iter().map(String::as_str))
            .map(str::to_string),
        known: var.states.clone(),
    }
}

fn check_probabilities(p: &[f64]) -> Result<(), NetworkErrorKind> {
    match p.iter().find(|x| !x.is_finite() || **x < 0.0 || **x > 1.0) {
        Some(&bad) => Err(NetworkErrorKind::BadProbability(bad)),
        None => Ok(()),
    }
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && !id
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, '=' | '!' | ','))
}

fn config_states(
    variables: &[Variable],
    parents: &[VarId],
    cards: &[usize],
    offset: usize,
) -> Vec<String> {
    let mut rest = offset;
    let mut states = vec![String::new(); parents.len()];
    for i in (0..parents.len()).rev() {
        states[i] = variables[parents[i]].states[rest % cards[i]].clone();
        rest /= cards[i];
    }
    states
}

fn describe_combination(variables: &[Variable], parents: &[VarId], states: &[String]) -> String {
    if parents.is_empty() {
        return "the prior (no parents)".to_string();
    }
    let parts: Vec<String> = parents
        .iter()
        .zip(states)
        .map(|(&p, s)| format!("{}={s}", variables[p].id))
        .collect();
    format!("`{}`", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binary(id: &str) -> VariableSpec {
        VariableSpec::new(id, id, Role::Finding, &["present", "absent"])
    }

    fn table(parents: &[&str], rows: Vec<(Vec<&str>, Vec<f64>)>) -> CpdSpec {
        CpdSpec::Table {
            parents: parents.iter().map(|s| s.to_string()).collect(),
            rows: rows
                .into_iter()
                .map(|(w, p)| RowSpec {
                    when: w.into_iter().map(String::from).collect(),
                    p,
                    source: None,
                })
                .collect(),
            source: Some("test".into()),
        }
    }

    #[test]
    fn noisy_or_expands_with_multistate_parent() {
        let mut b = NetworkBuilder::new("t");
        b.variable(
            VariableSpec::new("age", "Age", Role::Context, &["young", "mid", "old"]),
            CpdSpec::root(vec![0.3, 0.3, 0.4], "x"),
        );
        b.variable(binary("c"), CpdSpec::root(vec![0.1, 0.9], "x"));
        let mut old = CauseSpec::new("age", 0.2);
        old.state = Some("old".into());
        b.variable(
            binary("e"),
            CpdSpec::noisy_or(0.05, vec![old, CauseSpec::new("c", 0.5)], "x"),
        );
        let net = b.build().unwrap();
        let f = net.cpd(2).factor();
        assert_eq!(f.scope(), &[0, 1, 2]);
        // age=old, c=present: off = 0.95 * 0.8 * 0.5
        let off = 0.95 * 0.8 * 0.5;
        assert!((f.get(&[2, 0, 1]) - off).abs() < 1e-15);
        assert!((f.get(&[2, 0, 0]) - (1.0 - off)).abs() < 1e-15);
        // age=young, c=absent: only the leak
        assert!((f.get(&[0, 1, 0]) - 0.05).abs() < 1e-15);
        assert_eq!(net.cpd(2).parameter_count(), 3);
        assert_eq!(net.cpd(2).unsourced_count(), 0);
    }

    #[test]
    fn rows_in_any_order() {
        let mut b = NetworkBuilder::new("t");
        b.variable(binary("a"), CpdSpec::root(vec![0.5, 0.5], "x"));
        b.variable(
            binary("b"),
            table(
                &["a"],
                vec![
                    (vec!["absent"], vec![0.2, 0.8]),
                    (vec!["present"], vec![0.9, 0.1]),
                ],
            ),
        );
        let net = b.build().unwrap();
        assert_eq!(net.cpd(1).factor().values(), vec![0.9, 0.1, 0.2, 0.8]);
        assert_eq!(net.children(0), &[1]);
    }

    fn build_err(b: &NetworkBuilder) -> NetworkError {
        b.build().expect_err("model should be rejected")
    }

    #[test]
    fn rejects_missing_duplicate_and_bad_rows() {
        let mut b = NetworkBuilder::new("t");
        b.variable(binary("a"), CpdSpec::root(vec![0.5, 0.5], "x"));
        b.variable(
            binary("b"),
            table(&["a"], vec![(vec!["present"], vec![0.9, 0.1])]),
        );
        let e = build_err(&b);
        assert_eq!(e.item, Item::Variable("b".into()));
        assert!(e.to_string().contains("no row for `a=absent`"), "{e}");

        let mut b = NetworkBuilder::new("t");
        b.variable(binary("a"), CpdSpec::root(vec![0.5, 0.5], "x"));
        b.variable(
            binary("b"),
            table(
                &["a"],
                vec![
                    (vec!["present"], vec![0.9, 0.1]),
                    (vec!["present"], vec![0.9, 0.1]),
                ],
            ),
        );
        assert!(
            build_err(&b)
                .to_string()
                .contains("row 2: a second row for `a=present`")
        );

        let mut b = NetworkBuilder::new("t");
        b.variable(binary("a"), CpdSpec::root(vec![0.5, 0.6], "x"));
        let e = build_err(&b);
        assert!(matches!(*e.kind, NetworkErrorKind::RowSum { .. }), "{e}");
        assert!(e.to_string().contains("sum to 1.1"), "{e}");

        let mut b = NetworkBuilder::new("t");
        b.variable(binary("a"), CpdSpec::root(vec![1.5, -0.5], "x"));
        assert!(
            build_err(&b)
                .to_string()
                .contains("probability 1.5 is not a number in [0, 1]")
        );

        let mut b = NetworkBuilder::new("t");
        b.variable(binary("a"), CpdSpec::root(vec![f64::NAN, 1.0], "x"));
        assert!(matches!(
            *build_err(&b).kind,
            NetworkErrorKind::BadProbability(_)
        ));
    }

    #[test]
    fn names_the_cycle() {
        let mut b = NetworkBuilder::new("t");
        b.variable(
            binary("a"),
            table(
                &["c"],
                vec![
                    (vec!["present"], vec![0.5, 0.5]),
                    (vec!["absent"], vec![0.5, 0.5]),
                ],
            ),
        );
        b.variable(
            binary("b"),
            table(
                &["a"],
                vec![
                    (vec!["present"], vec![0.5, 0.5]),
                    (vec!["absent"], vec![0.5, 0.5]),
                ],
            ),
        );
        b.variable(
            binary("c"),
            table(
                &["b"],
                vec![
                    (vec!["present"], vec![0.5, 0.5]),
                    (vec!["absent"], vec![0.5, 0.5]),
                ],
            ),
        );
        let e = build_err(&b);
        let msg = e.to_string();
        assert!(msg.contains("cycle"), "{msg}");
        for link in ["a -> b", "b -> c", "c -> a"] {
            assert!(msg.contains(link), "{msg} lacks {link}");
        }
    }

    #[test]
    fn unknown_parent_suggests() {
        let mut b = NetworkBuilder::new("t");
        b.variable(binary("foot_drop"), CpdSpec::root(vec![0.5, 0.5], "x"));
        b.variable(
            binary("b"),
            CpdSpec::noisy_or(0.1, vec![CauseSpec::new("footdrop", 0.5)], "x"),
        );
        let msg = build_err(&b).to_string();
        assert!(
            msg.contains("unknown parent `footdrop` (did you mean `foot_drop`?)"),
            "{msg}"
        );
    }

    #[test]
    fn noisy_or_must_be_binary() {
        let mut b = NetworkBuilder::new("t");
        b.variable(binary("a"), CpdSpec::root(vec![0.5, 0.5], "x"));
        b.variable(
            VariableSpec::new("e", "e", Role::Finding, &["x", "y", "z"]),
            CpdSpec::noisy_or(0.1, vec![CauseSpec::new("a", 0.5)], "x"),
        );
        assert!(matches!(
            *build_err(&b).kind,
            NetworkErrorKind::NoisyOrNotBinary(3)
        ));
    }

    #[test]
    fn duplicate_ids_and_states() {
        let mut b = NetworkBuilder::new("t");
        b.variable(binary("a"), CpdSpec::root(vec![0.5, 0.5], "x"));
        b.variable(binary("a"), CpdSpec::root(vec![0.5, 0.5], "x"));
        assert_eq!(*build_err(&b).kind, NetworkErrorKind::DuplicateVariable);
        let mut b = NetworkBuilder::new("t");
        b.variable(
            VariableSpec::new("a", "a", Role::Finding, &["x", "x"]),
            CpdSpec::root(vec![0.5, 0.5], "x"),
        );
        assert_eq!(*build_err(&b).kind, NetworkErrorKind::BadState("x".into()));
    }

    #[test]
    fn tolerance_renormalises_with_warning() {
        let mut b = NetworkBuilder::new("t");
        b.row_sum_tolerance(1e-6);
        b.variable(binary("a"), CpdSpec::root(vec![0.3, 0.7000001], "x"));
        let net = b.build().unwrap();
        assert!((net.cpd(0).factor().total() - 1.0).abs() < 1e-15);
        assert_eq!(net.warnings().len(), 1);
        assert!(net.warnings()[0].contains("`a`"));
    }
}
