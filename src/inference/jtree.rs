//! A compiled junction tree: every posterior and P(evidence) in two passes.
//!
//! [`JunctionTree::compile`] does the expensive work once per network and once per *pattern* of
//! hard evidence (the set of observed variables, not their values), and caches it:
//!
//! - the conditional tables are reduced by the pattern: an observed variable leaves the graph,
//!   so its neighbours are no longer joined through it (this is what makes exact inference with
//!   evidence cheaper than without);
//! - the remaining graph is moralised and triangulated with several elimination heuristics, the
//!   order whose cliques hold the fewest table entries is kept, and the clique tree is built from
//!   the elimination;
//! - tables that do not involve an observed variable are multiplied into flat `f64` clique
//!   potentials, and a collect pass with no evidence is run once and kept (its messages are
//!   absorbed into the potentials); the index maps that project cliques onto separators are
//!   precomputed.
//!
//! A query ([`JunctionTree::posteriors`]) then only multiplies the evidence-dependent table
//! slices and the likelihood vectors into their cliques, recomputes the messages on the paths
//! from them to the root (collect), and sends messages down towards the cliques of the requested
//! variables (distribute, Hugin style), over flat buffers with no allocation. Messages are
//! rescaled to peak at 1 and the logarithms of the scales summed, so P(evidence) is kept in log
//! space.
//!
//! ```
//! use radix::evidence::Evidence;
//! use radix::inference::JunctionTree;
//! # use radix::network::*;
//! # let mut b = NetworkBuilder::new("t");
//! # b.variable(VariableSpec::new("rain", "Rain", Role::Origin, &["present", "absent"]),
//! #            CpdSpec::root(vec![0.2, 0.8], "x"));
//! # b.variable(VariableSpec::new("wet", "Wet", Role::Finding, &["present", "absent"]),
//! #            CpdSpec::noisy_or(0.1, vec![CauseSpec::new("rain", 0.9)], "x"));
//! # let net = b.build().unwrap();
//! let tree = JunctionTree::compile(&net).unwrap();
//! let mut ws = tree.workspace();
//! let mut e = Evidence::new();
//! e.parse_assignment(&net, "wet=present").unwrap();
//! let post = tree.posteriors(&mut ws, &e).unwrap();
//! let rain = post.marginal(net.id_of("rain").unwrap()).unwrap();
//! assert!((rain[0] - 0.182 / 0.262).abs() < 1e-12);
//! ```

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::evidence::{Evidence, Observation};
use crate::factor::VarId;
use crate::network::Network;

use super::order::{self, EliminationPlan, Heuristic};
use super::ve::DEFAULT_MAX_TABLE_ENTRIES;
use super::{InferenceError, Posteriors, VariableElimination};

/// One clique of a compiled tree.
#[derive(Debug, Clone)]
struct Clique {
    /// Its variables; the potential is row-major over them (last fastest).
    vars: Vec<VarId>,
    /// Offset of its potential in the flat buffer.
    offset: usize,
    /// Number of entries.
    len: usize,
    /// The neighbour towards the root, if any.
    parent: Option<usize>,
    /// Offset and length of the separator with the parent in the separator buffer.
    sep_offset: usize,
    sep_len: usize,
    /// The separator's variables come first in `vars`, so entry `i` of this clique projects
    /// onto separator entry `i / block`: projecting and multiplying are runs over contiguous
    /// blocks.
    block: usize,
    /// How the parent's entries map onto the separator: runs of (count, separator stride),
    /// outermost first, with adjacent variables merged (see [`merged_dims`]).
    parent_dims: Vec<(usize, usize)>,
}

/// Where a variable's likelihood is entered and its marginal read: a clique and the
/// variable's stride in it.
#[derive(Debug, Clone, Copy)]
struct Home {
    clique: usize,
    stride: usize,
    card: usize,
}

/// A conditional table that involves observed variables: at query time its slice for the
/// observed states is multiplied into its clique.
#[derive(Debug, Clone)]
struct DynamicTable {
    /// The variable whose table it is.
    child: VarId,
    /// The clique it goes into (None when every variable of the table is observed: then it
    /// is a constant factor of P(evidence)).
    clique: Option<usize>,
    /// For each clique entry, the index into the full table with the observed variables at
    /// state 0.
    map: Vec<u32>,
    /// The observed variables of the table with their strides in it.
    observed: Vec<(VarId, usize)>,
}

/// Size figures of a compiled tree.
#[derive(Debug, Clone, PartialEq)]
pub struct TreeStats {
    /// The heuristic whose order was kept.
    pub heuristic: Heuristic,
    /// The number of cliques.
    pub cliques: usize,
    /// The sum of the clique table sizes (entries).
    pub total_entries: usize,
    /// The largest clique table (entries).
    pub max_clique_entries: usize,
    /// The sum of the separator table sizes (entries).
    pub separator_entries: usize,
    /// The largest number of variables in a clique, minus one.
    pub induced_width: usize,
}

/// The tree compiled for one pattern of hard evidence.
#[derive(Debug)]
struct Structure {
    /// A number unique among the structures of one tree, so a workspace knows whose
    /// potentials it holds.
    id: usize,
    cliques: Vec<Clique>,
    /// Children before parents; roots last.
    collect_order: Vec<usize>,
    /// Clique potentials: the tables without observed variables, times the no-evidence
    /// messages of each clique's subtree.
    base: Vec<f64>,
    /// The no-evidence upward messages, rescaled to peak at 1, in the separator layout.
    prior_messages: Vec<f64>,
    /// ln of the scale each no-evidence message was divided by, per clique.
    prior_message_ln_scale: Vec<f64>,
    /// ln of the scale of each base potential: `base × exp(this)` is the true potential.
    base_ln_scale: Vec<f64>,
    separator_entries: usize,
    /// Per variable; `None` for the pattern's observed variables.
    homes: Vec<Option<Home>>,
    dynamic: Vec<DynamicTable>,
    stats: TreeStats,
}

/// A network compiled for repeated exact queries. `Sync`: share one across threads, with one
/// [`Workspace`] per thread.
#[derive(Debug)]
pub struct JunctionTree<'n> {
    network: &'n Network,
    options: CompileOptions,
    /// Size figures of the tree with no hard evidence.
    stats: TreeStats,
    /// The tree with no hard evidence, kept for good on small networks, where first-seen
    /// patterns run on it (on large ones it lives in the cache like any other tree).
    pinned: Option<Arc<Structure>>,
    /// Trees compiled for patterns of hard evidence, by sorted observed variables (the empty
    /// pattern included), forgotten oldest first when they hold too many entries.
    cache: Mutex<PatternCache>,
}

#[derive(Debug, Default)]
struct PatternCache {
    trees: HashMap<Vec<VarId>, Arc<Structure>>,
    /// Insertion order, for eviction.
    order: Vec<Vec<VarId>>,
    /// Entries held by the cached trees.
    entries: usize,
    next_id: usize,
    /// How often each pattern without a tree of its own has been queried.
    seen: HashMap<Vec<VarId>, usize>,
}

impl PatternCache {
    /// Adds a tree, first forgetting the oldest ones while the cache would hold too many
    /// entries.
    fn insert(&mut self, pattern: Vec<VarId>, structure: Arc<Structure>) {
        let size = structure.base.len();
        while self.entries + size > CACHE_ENTRIES && !self.order.is_empty() {
            let oldest = self.order.remove(0);
            if let Some(old) = self.trees.remove(&oldest) {
                self.entries -= old.base.len();
            }
        }
        self.entries += size;
        self.order.push(pattern.clone());
        self.trees.insert(pattern, structure);
    }
}

/// The size of tree without evidence up to which first-seen patterns run on it (see
/// [`CompileOptions::compile_pattern_after`]).
pub const SMALL_TREE_ENTRIES: usize = 1 << 16;

/// How many table entries the pattern cache may hold before it forgets its oldest trees.
const CACHE_ENTRIES: usize = 1 << 23;

/// The mutable buffers of one query at a time. Reusing one across queries is cheap: only the
/// cliques the previous query touched are reset.
#[derive(Debug, Clone, Default)]
pub struct Workspace {
    /// The structure whose potentials the buffers hold.
    structure: Option<usize>,
    potentials: Vec<f64>,
    ln_scale: Vec<f64>,
    up: Vec<f64>,
    ratio: Vec<f64>,
    /// Cliques whose subtree holds evidence in the current query.
    marked: Vec<bool>,
    /// Cliques that receive a distribute message in the current query.
    needed: Vec<bool>,
    /// Cliques changed since they were last reset, and the list of them.
    dirty: Vec<bool>,
    dirty_list: Vec<usize>,
    weights: Vec<f64>,
}

/// Options for [`JunctionTree::compile_with`].
#[derive(Debug, Clone, PartialEq)]
pub struct CompileOptions {
    /// Heuristics to try; the order with the fewest total clique entries is kept.
    pub heuristics: Vec<Heuristic>,
    /// Refuse to compile when the tree would hold more entries than this (in all cliques).
    pub max_table_entries: f64,
    /// On a network whose tree without evidence holds at most
    /// [`SMALL_TREE_ENTRIES`] entries, compile a tree of its own for a pattern of hard evidence
    /// when the pattern is queried for the n-th time; until then its queries run on the tree
    /// without evidence, the observations entered as indicators (a one-off query does not pay
    /// for a compile that costs more than it saves). Larger networks compile at once: there the
    /// evidence shrinks the tree more than the compile costs. 1 always compiles at once;
    /// `usize::MAX` never compiles for small networks.
    pub compile_pattern_after: usize,
}

impl Default for CompileOptions {
    fn default() -> Self {
        CompileOptions {
            heuristics: vec![
                Heuristic::MinFill,
                Heuristic::WeightedMinFill,
                Heuristic::MinWeight,
                Heuristic::MinDegree,
            ],
            max_table_entries: DEFAULT_MAX_TABLE_ENTRIES,
            compile_pattern_after: 2,
        }
    }
}

/// The best elimination order of the moral graph among the given heuristics, with the given
/// variables observed (left out of the graph).
pub fn triangulate(
    network: &Network,
    observed: &[bool],
    heuristics: &[Heuristic],
) -> (Heuristic, EliminationPlan) {
    let families: Vec<Vec<VarId>> = (0..network.len())
        .map(|v| {
            let mut f = network.parents(v).to_vec();
            f.push(v);
            f.retain(|&u| !observed[u]);
            f
        })
        .collect();
    let scopes: Vec<&[VarId]> = families.iter().map(Vec::as_slice).collect();
    let free: Vec<VarId> = (0..network.len()).filter(|&v| !observed[v]).collect();
    let cards = network.cardinalities();
    heuristics
        .iter()
        .map(|&h| (h, order::plan(&scopes, &free, &cards, h)))
        .min_by(|a, b| a.1.total_tables.total_cmp(&b.1.total_tables))
        .expect("at least one heuristic")
}

impl<'n> JunctionTree<'n> {
    /// Compiles a network with the default options.
    pub fn compile(network: &'n Network) -> Result<Self, InferenceError> {
        Self::compile_with(network, &CompileOptions::default())
    }

    /// Compiles a network.
    pub fn compile_with(
        network: &'n Network,
        options: &CompileOptions,
    ) -> Result<Self, InferenceError> {
        let mut options = options.clone();
        if options.heuristics.is_empty() {
            options.heuristics = vec![Heuristic::MinFill];
        }
        let unobserved = Arc::new(build(network, &vec![false; network.len()], &options, 0)?);
        let stats = unobserved.stats.clone();
        let mut cache = PatternCache {
            next_id: 1,
            ..PatternCache::default()
        };
        let pinned = (stats.total_entries <= SMALL_TREE_ENTRIES).then(|| Arc::clone(&unobserved));
        cache.insert(Vec::new(), unobserved);
        Ok(JunctionTree {
            network,
            options,
            stats,
            pinned,
            cache: Mutex::new(cache),
        })
    }

    /// The network.
    pub fn network(&self) -> &'n Network {
        self.network
    }

    /// Size figures of the tree with no evidence.
    pub fn stats(&self) -> &TreeStats {
        &self.stats
    }

    /// Size figures of the tree compiled for the hard evidence of `evidence` (compiling it if
    /// needed).
    pub fn stats_for(&self, evidence: &Evidence) -> Result<TreeStats, InferenceError> {
        Ok(self.structure_for(evidence)?.stats.clone())
    }

    /// Forgets the trees compiled for patterns of hard evidence (they are compiled again on
    /// demand). Benchmarks use it to time queries with a cold cache.
    pub fn clear_cache(&self) {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache.trees.clear();
        cache.order.clear();
        cache.seen.clear();
        cache.entries = 0;
    }

    /// The number of evidence patterns whose trees are cached.
    pub fn cached_patterns(&self) -> usize {
        self.cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .trees
            .len()
    }

    /// The variables of each clique of the tree compiled for the hard evidence of `evidence`.
    pub fn clique_scopes(&self, evidence: &Evidence) -> Result<Vec<Vec<VarId>>, InferenceError> {
        let s = self.structure_for(evidence)?;
        Ok(s.cliques.iter().map(|c| c.vars.clone()).collect())
    }

    /// Fresh buffers for queries on this tree.
    pub fn workspace(&self) -> Workspace {
        Workspace::default()
    }

    /// The tree for the pattern of hard evidence of `evidence`, from the cache or compiled.
    fn structure_for(&self, evidence: &Evidence) -> Result<Arc<Structure>, InferenceError> {
        let pattern: Vec<VarId> = evidence
            .iter()
            .map(|(v, _)| v)
            .filter(|&v| {
                evidence
                    .certain_state(v, self.network.variable(v).cardinality())
                    .is_some()
            })
            .collect();
        if let (true, Some(tree)) = (pattern.is_empty(), &self.pinned) {
            return Ok(Arc::clone(tree));
        }
        let id = {
            let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(s) = cache.trees.get(&pattern) {
                return Ok(Arc::clone(s));
            }
            // On a small network a pattern seen for the first time runs on the tree without
            // evidence: a one-off query does not pay for compiling a tree of its own.
            if let Some(tree) = &self.pinned {
                // Forget the counts now and then, so a stream of one-off patterns cannot grow
                // the map without bound.
                if cache.seen.len() >= 1 << 16 {
                    cache.seen.clear();
                }
                let count = cache.seen.entry(pattern.clone()).or_insert(0);
                *count += 1;
                if *count < self.options.compile_pattern_after {
                    return Ok(Arc::clone(tree));
                }
                cache.seen.remove(&pattern);
            }
            cache.next_id += 1;
            cache.next_id
        };
        // Compile outside the lock: other threads keep querying.
        let mut observed = vec![false; self.network.len()];
        for &v in &pattern {
            observed[v] = true;
        }
        // A pattern's tree is compiled inside a query: try the two fill-in heuristics only
        // (on the shared networks they find the smallest tree almost always, at half the cost).
        let mut options = self.options.clone();
        options.heuristics.truncate(2);
        let structure = Arc::new(build(self.network, &observed, &options, id)?);
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(s) = cache.trees.get(&pattern) {
            return Ok(Arc::clone(s));
        }
        cache.insert(pattern, Arc::clone(&structure));
        Ok(structure)
    }

    /// The posterior of every unobserved variable, and P(evidence).
    pub fn posteriors(
        &self,
        ws: &mut Workspace,
        evidence: &Evidence,
    ) -> Result<Posteriors, InferenceError> {
        let s = self.structure_for(evidence)?;
        let ln_p = self.propagate_on(&s, ws, evidence, None)?;
        let mut marginals = Vec::with_capacity(self.network.len() - evidence.len());
        for v in 0..self.network.len() {
            if !evidence.contains(v) {
                marginals.push((v, self.marginal(&s, ws, evidence, v)));
            }
        }
        Ok(Posteriors {
            ln_p_evidence: ln_p,
            marginals,
        })
    }

    /// The posteriors of the given variables only, and P(evidence). Cheaper than
    /// [`Self::posteriors`]: the distribute pass visits only the paths to the targets' cliques.
    pub fn posteriors_of(
        &self,
        ws: &mut Workspace,
        evidence: &Evidence,
        targets: &[VarId],
    ) -> Result<Posteriors, InferenceError> {
        let s = self.structure_for(evidence)?;
        let ln_p = self.propagate_on(&s, ws, evidence, Some(targets))?;
        let marginals = targets
            .iter()
            .map(|&v| (v, self.marginal(&s, ws, evidence, v)))
            .collect();
        Ok(Posteriors {
            ln_p_evidence: ln_p,
            marginals,
        })
    }

    /// Enters the evidence and propagates it, distributing towards the cliques of `targets`
    /// (all cliques when `None`). Returns ln P(evidence).
    pub fn propagate(
        &self,
        ws: &mut Workspace,
        evidence: &Evidence,
        targets: Option<&[VarId]>,
    ) -> Result<f64, InferenceError> {
        let s = self.structure_for(evidence)?;
        self.propagate_on(&s, ws, evidence, targets)
    }

    fn propagate_on(
        &self,
        s: &Structure,
        ws: &mut Workspace,
        evidence: &Evidence,
        targets: Option<&[VarId]>,
    ) -> Result<f64, InferenceError> {
        reset(s, ws);
        let cards_of = |v: VarId| self.network.variable(v).cardinality();
        // Constant factors: the weights of the observed states, and tables whose every
        // variable is observed.
        let mut ln_p = 0.0;
        for (v, obs) in evidence.iter() {
            if let (Observation::Likelihood(w), None) = (obs, s.homes[v]) {
                if let Some(state) = evidence.certain_state(v, w.len()) {
                    ln_p += w[state].ln();
                }
            }
        }
        // Tables involving observed variables: multiply the observed slice into the clique.
        for d in &s.dynamic {
            let offset: usize = d
                .observed
                .iter()
                .map(|&(u, stride)| {
                    evidence
                        .certain_state(u, cards_of(u))
                        .expect("pattern variable")
                        * stride
                })
                .sum();
            let table = self
                .network
                .cpd(d.child)
                .factor()
                .table()
                .as_slice()
                .expect("factor tables are contiguous");
            match d.clique {
                None => ln_p += table[offset].ln(),
                Some(c) => {
                    let clique = &s.cliques[c];
                    let pot = &mut ws.potentials[clique.offset..clique.offset + clique.len];
                    for (x, &k) in pot.iter_mut().zip(&d.map) {
                        *x *= table[k as usize + offset];
                    }
                    mark(s, ws, c);
                }
            }
        }
        if ln_p == f64::NEG_INFINITY {
            return Err(self.conflict(evidence));
        }
        // Likelihood vectors on unobserved variables.
        for (v, obs) in evidence.iter() {
            let Some(home) = s.homes[v] else { continue };
            ws.weights.clear();
            match obs {
                Observation::Is(x) => ws
                    .weights
                    .extend((0..home.card).map(|i| f64::from(u8::from(i == *x)))),
                Observation::IsNot(x) => ws
                    .weights
                    .extend((0..home.card).map(|i| f64::from(u8::from(i != *x)))),
                Observation::Likelihood(w) => ws.weights.extend_from_slice(w),
            }
            let clique = &s.cliques[home.clique];
            scale_axis(
                &mut ws.potentials[clique.offset..clique.offset + clique.len],
                home.stride,
                &ws.weights,
            );
            mark(s, ws, home.clique);
        }
        // Collect along the marked paths.
        for &c in &s.collect_order {
            if !ws.marked[c] {
                continue;
            }
            let clique = &s.cliques[c];
            let pot = &ws.potentials[clique.offset..clique.offset + clique.len];
            let Some(p) = clique.parent else {
                let total = sum(pot);
                if total <= 0.0 || !total.is_finite() {
                    return Err(self.conflict(evidence));
                }
                ln_p += total.ln() + ws.ln_scale[c];
                continue;
            };
            let sep_range = clique.sep_offset..clique.sep_offset + clique.sep_len;
            let up = &mut ws.up[sep_range.clone()];
            project_blocks(pot, clique.block, up);
            let max = rescale(up);
            if max <= 0.0 {
                return Err(self.conflict(evidence));
            }
            // The parent holds the no-evidence message: replace it by this one.
            let ratio = &mut ws.ratio[sep_range.clone()];
            for ((r, &u), &u0) in ratio
                .iter_mut()
                .zip(up.iter())
                .zip(&s.prior_messages[sep_range])
            {
                *r = if u0 > 0.0 { u / u0 } else { 0.0 };
            }
            let parent = &s.cliques[p];
            multiply_dims(
                &mut ws.potentials[parent.offset..parent.offset + parent.len],
                &clique.parent_dims,
                ratio,
            );
            // True message / true no-evidence message, as scales: see `absorb_prior_messages`.
            ws.ln_scale[p] +=
                ws.ln_scale[c] + max.ln() - s.base_ln_scale[c] - s.prior_message_ln_scale[c];
        }
        // Trees without evidence have P = 1: ln 1 = 0, nothing to add.

        // Distribute from the roots down to the cliques that need it.
        match targets {
            None => ws.needed.iter_mut().for_each(|x| *x = true),
            Some(vars) => {
                for &v in vars {
                    let Some(home) = s.homes[v] else { continue };
                    let mut c = home.clique;
                    while !ws.needed[c] {
                        ws.needed[c] = true;
                        match s.cliques[c].parent {
                            Some(p) => c = p,
                            None => break,
                        }
                    }
                }
            }
        }
        for &c in s.collect_order.iter().rev() {
            if !ws.needed[c] {
                continue;
            }
            touch(ws, c);
            let clique = &s.cliques[c];
            let Some(p) = clique.parent else { continue };
            let parent = &s.cliques[p];
            let sep_range = clique.sep_offset..clique.sep_offset + clique.sep_len;
            let down = &mut ws.ratio[sep_range.clone()];
            down.fill(0.0);
            let parent_pot = &ws.potentials[parent.offset..parent.offset + parent.len];
            project_dims(parent_pot, &clique.parent_dims, down);
            let max = down.iter().fold(0.0f64, |m, &x| m.max(x));
            let inv = if max > 0.0 { 1.0 / max } else { 0.0 };
            // Divide out what this clique sent up (or the no-evidence message it stands on).
            let old = if ws.marked[c] {
                &ws.up[sep_range]
            } else {
                &s.prior_messages[sep_range]
            };
            for (d, &u) in down.iter_mut().zip(old) {
                *d = if u > 0.0 { *d * inv / u } else { 0.0 };
            }
            multiply_blocks(
                &mut ws.potentials[clique.offset..clique.offset + clique.len],
                clique.block,
                down,
            );
        }
        Ok(ln_p)
    }

    /// The normalised marginal of a variable after propagation: from its home clique, or from
    /// the evidence for an observed variable.
    fn marginal(&self, s: &Structure, ws: &Workspace, evidence: &Evidence, v: VarId) -> Vec<f64> {
        let Some(home) = s.homes[v] else {
            let card = self.network.variable(v).cardinality();
            let state = evidence.certain_state(v, card).expect("pattern variable");
            return (0..card).map(|i| f64::from(u8::from(i == state))).collect();
        };
        let clique = &s.cliques[home.clique];
        let pot = &ws.potentials[clique.offset..clique.offset + clique.len];
        let mut m = vec![0.0; home.card];
        let block = home.card * home.stride;
        for chunk in pot.chunks_exact(block) {
            for (x, run) in chunk.chunks_exact(home.stride).enumerate() {
                m[x] += sum(run);
            }
        }
        let total: f64 = m.iter().sum();
        m.iter_mut().for_each(|x| *x /= total);
        m
    }

    /// Names a smallest impossible subset of the evidence (rare path: uses elimination).
    fn conflict(&self, evidence: &Evidence) -> InferenceError {
        match VariableElimination::new(self.network).ln_p_evidence(evidence) {
            Err(e) => e,
            // Underflow in the tree but not in elimination: report as impossible with all.
            Ok(_) => InferenceError::ImpossibleEvidence {
                conflict: evidence
                    .iter()
                    .map(|(v, _)| {
                        format!(
                            "{}={}",
                            self.network.variable(v).id(),
                            evidence.describe(self.network, v).unwrap_or_default()
                        )
                    })
                    .collect(),
            },
        }
    }
}

/// Readies the workspace for a query on `s`: resizes and fills it for a new structure, or
/// resets only the cliques the previous query changed.
fn reset(s: &Structure, ws: &mut Workspace) {
    if ws.structure != Some(s.id) {
        let n = s.cliques.len();
        ws.potentials.clear();
        ws.potentials.extend_from_slice(&s.base);
        ws.ln_scale.clear();
        ws.ln_scale.extend_from_slice(&s.base_ln_scale);
        ws.up.resize(s.separator_entries, 0.0);
        ws.ratio.resize(s.separator_entries, 0.0);
        for flags in [&mut ws.marked, &mut ws.needed, &mut ws.dirty] {
            flags.clear();
            flags.resize(n, false);
        }
        ws.dirty_list.clear();
        ws.structure = Some(s.id);
        return;
    }
    for &c in &ws.dirty_list {
        let clique = &s.cliques[c];
        let range = clique.offset..clique.offset + clique.len;
        ws.potentials[range.clone()].copy_from_slice(&s.base[range]);
        ws.ln_scale[c] = s.base_ln_scale[c];
        ws.dirty[c] = false;
        ws.marked[c] = false;
        ws.needed[c] = false;
    }
    ws.dirty_list.clear();
}

/// Records that a clique's potential changed.
fn touch(ws: &mut Workspace, c: usize) {
    if !ws.dirty[c] {
        ws.dirty[c] = true;
        ws.dirty_list.push(c);
    }
}

/// Marks a clique and its path to the root as holding evidence.
fn mark(s: &Structure, ws: &mut Workspace, mut c: usize) {
    touch(ws, c);
    while !ws.marked[c] {
        ws.marked[c] = true;
        touch(ws, c);
        match s.cliques[c].parent {
            Some(p) => c = p,
            None => break,
        }
    }
}

/// Compiles the tree for one pattern of hard evidence.
fn build(
    network: &Network,
    observed: &[bool],
    options: &CompileOptions,
    id: usize,
) -> Result<Structure, InferenceError> {
    let (heuristic, plan) = triangulate(network, observed, &options.heuristics);
    // Estimate before allocating anything.
    if plan.total_tables > options.max_table_entries {
        return Err(InferenceError::TooLarge {
            entries: plan.total_tables,
            // Base and working potentials (f64) plus the separator index maps (u32).
            gib: plan.total_tables * 24.0 / f64::from(1u32 << 30),
            limit: options.max_table_entries,
        });
    }
    let n = network.len();
    let cards = network.cardinalities();
    let mut position = vec![usize::MAX; n];
    for (i, &v) in plan.order.iter().enumerate() {
        position[v] = i;
    }
    // The elimination tree: clique i (of the i-th eliminated variable) hangs below the clique
    // of the first-eliminated variable among its other members.
    let m = plan.cliques.len();
    let mut parent: Vec<Option<usize>> = plan
        .cliques
        .iter()
        .map(|c| c[1..].iter().map(|&u| position[u]).min())
        .collect();
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); m];
    for (i, p) in parent.iter().enumerate() {
        if let Some(p) = p {
            children[*p].push(i);
        }
    }
    // Merge a clique into a child that contains it, so that only maximal cliques remain.
    let mut removed = vec![false; m];
    let mut replaced_by: Vec<usize> = (0..m).collect();
    for i in 0..m {
        let members = &plan.cliques[i];
        if let Some(&w) = children[i]
            .iter()
            .find(|&&w| members.iter().all(|v| plan.cliques[w].contains(v)))
        {
            removed[i] = true;
            replaced_by[i] = w;
            parent[w] = parent[i];
            let others: Vec<usize> = children[i].iter().copied().filter(|&x| x != w).collect();
            for &x in &others {
                parent[x] = Some(w);
            }
            children[w].extend(others);
            if let Some(p) = parent[i] {
                for c in children[p].iter_mut() {
                    if *c == i {
                        *c = w;
                    }
                }
            }
        }
    }
    let find = |mut i: usize| {
        while replaced_by[i] != i {
            i = replaced_by[i];
        }
        i
    };
    // Number the kept cliques and lay out their buffers.
    let mut index = vec![usize::MAX; m];
    let mut cliques: Vec<Clique> = Vec::new();
    let mut offset = 0;
    for i in 0..m {
        if removed[i] {
            continue;
        }
        index[i] = cliques.len();
        let mut vars = plan.cliques[i].clone();
        vars.sort_unstable();
        let len: usize = vars.iter().map(|&v| cards[v]).product();
        cliques.push(Clique {
            vars,
            offset,
            len,
            parent: None,
            sep_offset: 0,
            sep_len: 0,
            block: len,
            parent_dims: Vec::new(),
        });
        offset += len;
    }
    for i in 0..m {
        if !removed[i] {
            cliques[index[i]].parent = parent[i].map(|p| index[find(p)]);
        }
    }
    // Put each clique's separator with its parent first (see `Clique::block`).
    for c in 0..cliques.len() {
        if let Some(p) = cliques[c].parent {
            let (mut sep, mut rest): (Vec<VarId>, Vec<VarId>) = cliques[c]
                .vars
                .iter()
                .partition(|v| cliques[p].vars.contains(v));
            sep.sort_unstable();
            rest.sort_unstable();
            sep.extend(rest);
            cliques[c].vars = sep;
        }
    }
    // Separators and their index maps.
    let mut sep_offset = 0;
    for c in 0..cliques.len() {
        let Some(p) = cliques[c].parent else { continue };
        let sep: Vec<VarId> = cliques[c]
            .vars
            .iter()
            .copied()
            .take_while(|v| cliques[p].vars.contains(v))
            .collect();
        let sep_len: usize = sep.iter().map(|&v| cards[v]).product();
        let parent_dims = merged_dims(&cliques[p].vars, &sep, &cards);
        let clique = &mut cliques[c];
        clique.sep_offset = sep_offset;
        clique.sep_len = sep_len;
        clique.block = clique.len / sep_len;
        clique.parent_dims = parent_dims;
        sep_offset += sep_len;
    }
    // Each table goes to the clique of the first-eliminated unobserved member of its family,
    // which holds all of them. Tables without observed variables are multiplied in now.
    let mut base = vec![1.0; offset];
    let mut dynamic = Vec::new();
    for v in 0..n {
        let factor = network.cpd(v).factor();
        let scope = factor.scope();
        let values = factor
            .table()
            .as_slice()
            .expect("factor tables are contiguous");
        let mut strides = vec![0usize; scope.len()];
        let mut s = 1;
        for i in (0..scope.len()).rev() {
            strides[i] = s;
            s *= cards[scope[i]];
        }
        let free: Vec<usize> = (0..scope.len()).filter(|&i| !observed[scope[i]]).collect();
        let observed_axes: Vec<(VarId, usize)> = (0..scope.len())
            .filter(|&i| observed[scope[i]])
            .map(|i| (scope[i], strides[i]))
            .collect();
        let Some(first) = free.iter().map(|&i| position[scope[i]]).min() else {
            dynamic.push(DynamicTable {
                child: v,
                clique: None,
                map: Vec::new(),
                observed: observed_axes,
            });
            continue;
        };
        let c = index[find(first)];
        let clique = &cliques[c];
        let var_strides: Vec<usize> = clique
            .vars
            .iter()
            .map(|u| {
                free.iter()
                    .find(|&&i| scope[i] == *u)
                    .map_or(0, |&i| strides[i])
            })
            .collect();
        let map = strided_map(&clique.vars, &var_strides, &cards);
        if observed_axes.is_empty() {
            let pot = &mut base[clique.offset..clique.offset + clique.len];
            for (x, &k) in pot.iter_mut().zip(&map) {
                *x *= values[k as usize];
            }
        } else {
            dynamic.push(DynamicTable {
                child: v,
                clique: Some(c),
                map,
                observed: observed_axes,
            });
        }
    }
    // Each unobserved variable is read and weighted in the smallest clique that holds it.
    let mut homes = vec![None; n];
    for (c, clique) in cliques.iter().enumerate() {
        for (k, &v) in clique.vars.iter().enumerate() {
            let better = match homes[v] {
                None => true,
                Some(Home { clique: h, .. }) => clique.len < cliques[h].len,
            };
            if better {
                let stride: usize = clique.vars[k + 1..].iter().map(|&u| cards[u]).product();
                homes[v] = Some(Home {
                    clique: c,
                    stride,
                    card: cards[v],
                });
            }
        }
    }
    // Post-order: children before parents.
    let mut kids: Vec<Vec<usize>> = vec![Vec::new(); cliques.len()];
    let mut roots = Vec::new();
    for (c, clique) in cliques.iter().enumerate() {
        match clique.parent {
            Some(p) => kids[p].push(c),
            None => roots.push(c),
        }
    }
    let mut collect_order = Vec::with_capacity(cliques.len());
    let mut stack: Vec<(usize, bool)> = roots.iter().rev().map(|&r| (r, false)).collect();
    while let Some((c, expanded)) = stack.pop() {
        if expanded {
            collect_order.push(c);
        } else {
            stack.push((c, true));
            stack.extend(kids[c].iter().map(|&k| (k, false)));
        }
    }
    let stats = TreeStats {
        heuristic,
        cliques: cliques.len(),
        total_entries: offset,
        max_clique_entries: cliques.iter().map(|c| c.len).max().unwrap_or(0),
        separator_entries: sep_offset,
        induced_width: cliques
            .iter()
            .map(|c| c.vars.len())
            .max()
            .unwrap_or(1)
            .saturating_sub(1),
    };
    let mut structure = Structure {
        id,
        cliques,
        collect_order,
        base,
        prior_messages: vec![0.0; sep_offset],
        prior_message_ln_scale: Vec::new(),
        base_ln_scale: Vec::new(),
        separator_entries: sep_offset,
        homes,
        dynamic,
        stats,
    };
    absorb_prior_messages(&mut structure);
    Ok(structure)
}

/// Runs the collect pass once with only the static tables and keeps its result: each clique's
/// base potential then already holds its subtree's messages, so a query recomputes only the
/// messages on the paths from its evidence to the root.
fn absorb_prior_messages(s: &mut Structure) {
    let n = s.cliques.len();
    let mut message_scale = vec![0.0; n];
    let mut base_scale = vec![0.0; n];
    for &c in &s.collect_order {
        let clique = &s.cliques[c];
        let Some(p) = clique.parent else { continue };
        let (lo, hi) = (clique.offset, clique.offset + clique.len);
        let sep = &mut s.prior_messages[clique.sep_offset..clique.sep_offset + clique.sep_len];
        project_blocks(&s.base[lo..hi], clique.block, sep);
        let max = rescale(sep);
        // A static message can be zero where its subtree forbids a separator state outright
        // (a deterministic table); keep the scale finite.
        let max = if max > 0.0 { max } else { 1.0 };
        message_scale[c] = max.ln();
        let parent = &s.cliques[p];
        let (plo, phi) = (parent.offset, parent.offset + parent.len);
        let sep = &s.prior_messages[clique.sep_offset..clique.sep_offset + clique.sep_len];
        multiply_dims(&mut s.base[plo..phi], &clique.parent_dims, sep);
        base_scale[p] += base_scale[c] + message_scale[c];
    }
    s.prior_message_ln_scale = message_scale;
    s.base_ln_scale = base_scale;
}

/// The sum of a run, with four accumulators: a single running sum is a chain of dependent
/// additions that the processor cannot overlap.
#[inline]
fn sum(run: &[f64]) -> f64 {
    let mut acc = [0.0f64; 4];
    let mut chunks = run.chunks_exact(4);
    for c in &mut chunks {
        acc[0] += c[0];
        acc[1] += c[1];
        acc[2] += c[2];
        acc[3] += c[3];
    }
    let tail: f64 = chunks.remainder().iter().sum();
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// Sums each contiguous block of a potential into one separator entry.
fn project_blocks(pot: &[f64], block: usize, sep: &mut [f64]) {
    for (x, run) in sep.iter_mut().zip(pot.chunks_exact(block)) {
        *x = sum(run);
    }
}

/// Multiplies each contiguous block of a potential by one separator entry.
fn multiply_blocks(pot: &mut [f64], block: usize, sep: &[f64]) {
    for (run, &x) in pot.chunks_exact_mut(block).zip(sep) {
        if x != 1.0 {
            run.iter_mut().for_each(|p| *p *= x);
        }
    }
}

/// Describes a row-major table over `vars` as runs of (count, stride in the separator table
/// over `sep`), merging adjacent variables that are both outside the separator, or both inside
/// it with contiguous strides. The last run is the innermost loop.
fn merged_dims(vars: &[VarId], sep: &[VarId], cards: &[usize]) -> Vec<(usize, usize)> {
    let mut sep_stride = vec![0usize; sep.len()];
    let mut s = 1;
    for i in (0..sep.len()).rev() {
        sep_stride[i] = s;
        s *= cards[sep[i]];
    }
    let mut dims: Vec<(usize, usize)> = Vec::new();
    for &v in vars {
        let t = sep
            .iter()
            .position(|&u| u == v)
            .map_or(0, |i| sep_stride[i]);
        let n = cards[v];
        match dims.last_mut() {
            // Outside the separator after outside: one longer run.
            Some(last) if last.1 == 0 && t == 0 => last.0 *= n,
            // Inside after inside, contiguous: the outer stride is the inner one times n.
            Some(last) if t != 0 && last.1 == t * n => {
                last.0 *= n;
                last.1 = t;
            }
            _ => dims.push((n, t)),
        }
    }
    if dims.is_empty() {
        dims.push((1, 0));
    }
    dims
}

/// Multiplies each entry of a table laid out as `dims` by its separator entry.
fn multiply_dims(pot: &mut [f64], dims: &[(usize, usize)], sep: &[f64]) {
    let (&(inner_n, inner_t), outer) = dims.split_last().expect("at least one run");
    let mut counter = vec![0usize; outer.len()];
    let mut base = 0usize;
    for run in pot.chunks_exact_mut(inner_n) {
        if inner_t == 0 {
            let x = sep[base];
            if x != 1.0 {
                run.iter_mut().for_each(|p| *p *= x);
            }
        } else if inner_t == 1 {
            for (p, &x) in run.iter_mut().zip(&sep[base..base + inner_n]) {
                *p *= x;
            }
        } else {
            for (j, p) in run.iter_mut().enumerate() {
                *p *= sep[base + j * inner_t];
            }
        }
        advance(&mut counter, &mut base, outer);
    }
}

/// Adds each entry of a table laid out as `dims` into its separator entry.
fn project_dims(pot: &[f64], dims: &[(usize, usize)], sep: &mut [f64]) {
    let (&(inner_n, inner_t), outer) = dims.split_last().expect("at least one run");
    // A run outside the separator just above a strided inner run: the same separator entries
    // repeat for each of its values, so add those rows together first (contiguous, fast) and
    // scatter the sum once.
    if inner_t > 1 {
        if let Some((&(rows, 0), outer)) = outer.split_last() {
            let mut acc = vec![0.0; inner_n];
            let mut counter = vec![0usize; outer.len()];
            let mut base = 0usize;
            for block in pot.chunks_exact(rows * inner_n) {
                acc.fill(0.0);
                for row in block.chunks_exact(inner_n) {
                    for (a, &p) in acc.iter_mut().zip(row) {
                        *a += p;
                    }
                }
                for (j, &a) in acc.iter().enumerate() {
                    sep[base + j * inner_t] += a;
                }
                advance(&mut counter, &mut base, outer);
            }
            return;
        }
    }
    let mut counter = vec![0usize; outer.len()];
    let mut base = 0usize;
    for run in pot.chunks_exact(inner_n) {
        if inner_t == 0 {
            sep[base] += sum(run);
        } else if inner_t == 1 {
            for (x, &p) in sep[base..base + inner_n].iter_mut().zip(run) {
                *x += p;
            }
        } else {
            for (j, &p) in run.iter().enumerate() {
                sep[base + j * inner_t] += p;
            }
        }
        advance(&mut counter, &mut base, outer);
    }
}

/// Steps an odometer over `dims` (outermost first), keeping the separator index in `base`.
#[inline]
fn advance(counter: &mut [usize], base: &mut usize, dims: &[(usize, usize)]) {
    for k in (0..dims.len()).rev() {
        counter[k] += 1;
        *base += dims[k].1;
        if counter[k] < dims[k].0 {
            return;
        }
        *base -= dims[k].1 * dims[k].0;
        counter[k] = 0;
    }
}

/// Divides a table by its largest entry (when positive) and returns that entry.
fn rescale(t: &mut [f64]) -> f64 {
    let max = t.iter().fold(0.0f64, |m, &x| m.max(x));
    if max > 0.0 {
        let inv = 1.0 / max;
        t.iter_mut().for_each(|x| *x *= inv);
    }
    max
}

/// Multiplies the entries of a row-major table by `w[state]` along the axis with the given
/// stride.
fn scale_axis(pot: &mut [f64], stride: usize, w: &[f64]) {
    let block = w.len() * stride;
    for chunk in pot.chunks_exact_mut(block) {
        for (run, &x) in chunk.chunks_exact_mut(stride).zip(w) {
            if x != 1.0 {
                run.iter_mut().for_each(|p| *p *= x);
            }
        }
    }
}

/// For each entry of a row-major table over `vars`, the index of the matching entry of a
/// row-major table over `sub` (a subset of `vars`, in any order). The reference the strided
/// loops are tested against.
#[cfg(test)]
fn index_map(vars: &[VarId], sub: &[VarId], cards: &[usize]) -> Vec<u32> {
    let mut sub_stride = vec![0usize; sub.len()];
    let mut s = 1;
    for i in (0..sub.len()).rev() {
        sub_stride[i] = s;
        s *= cards[sub[i]];
    }
    let strides: Vec<usize> = vars
        .iter()
        .map(|v| sub.iter().position(|u| u == v).map_or(0, |i| sub_stride[i]))
        .collect();
    strided_map(vars, &strides, cards)
}

/// For each entry of a row-major table over `vars`, the sum of state × stride over its
/// variables (a stride of 0 ignores a variable).
fn strided_map(vars: &[VarId], strides: &[usize], cards: &[usize]) -> Vec<u32> {
    let var_cards: Vec<usize> = vars.iter().map(|&v| cards[v]).collect();
    let len: usize = var_cards.iter().product();
    let mut map = Vec::with_capacity(len);
    let Some((&inner_n, outer_cards)) = var_cards.split_last() else {
        map.push(0);
        return map;
    };
    // The innermost variable as a tight run; an odometer over the others.
    let inner_t = strides[vars.len() - 1];
    let outer: Vec<(usize, usize)> = outer_cards
        .iter()
        .copied()
        .zip(strides.iter().copied())
        .collect();
    let mut counter = vec![0usize; outer.len()];
    let mut base = 0usize;
    for _ in 0..len / inner_n {
        map.extend((0..inner_n).map(|j| (base + j * inner_t) as u32));
        advance(&mut counter, &mut base, &outer);
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_map_projects_rows() {
        // vars [0, 1, 2] with cards [2, 3, 2]; sub [2, 0].
        let cards = [2, 3, 2];
        let map = index_map(&[0, 1, 2], &[2, 0], &cards);
        assert_eq!(map.len(), 12);
        // entry (a, b, c) -> c * 2 + a
        for a in 0..2 {
            for b in 0..3 {
                for c in 0..2 {
                    assert_eq!(map[a * 6 + b * 2 + c] as usize, c * 2 + a);
                }
            }
        }
    }

    #[test]
    fn strided_walks_match_index_maps() {
        // Every order of a separator within a clique of mixed cardinalities.
        let cards = [2, 3, 2, 4, 3];
        let vars = [0, 1, 2, 3, 4];
        let len: usize = cards.iter().product();
        let pot: Vec<f64> = (0..len).map(|i| (i * 7 % 11) as f64 + 0.5).collect();
        for sep in [
            vec![1],
            vec![3, 1],
            vec![0, 1, 2],
            vec![4, 0],
            vec![],
            vec![0, 1, 2, 3, 4],
            vec![2, 3],
        ] {
            let map = index_map(&vars, &sep, &cards);
            let sep_len: usize = sep.iter().map(|&v| cards[v]).product();
            let dims = merged_dims(&vars, &sep, &cards);
            let mut want = vec![0.0; sep_len];
            for (i, &k) in map.iter().enumerate() {
                want[k as usize] += pot[i];
            }
            let mut got = vec![0.0; sep_len];
            project_dims(&pot, &dims, &mut got);
            assert_eq!(got, want, "projection onto {sep:?}");
            let factors: Vec<f64> = (0..sep_len).map(|k| k as f64 + 2.0).collect();
            let mut a = pot.clone();
            multiply_dims(&mut a, &dims, &factors);
            for (i, &k) in map.iter().enumerate() {
                assert_eq!(
                    a[i],
                    pot[i] * factors[k as usize],
                    "multiplication by {sep:?}"
                );
            }
        }
    }

    #[test]
    fn scale_axis_scales_one_axis() {
        let mut t = vec![1.0; 6];
        scale_axis(&mut t, 1, &[1.0, 2.0, 3.0]);
        assert_eq!(t, vec![1.0, 2.0, 3.0, 1.0, 2.0, 3.0]);
        let mut t = vec![1.0; 6];
        scale_axis(&mut t, 3, &[0.5, 2.0]);
        assert_eq!(t, vec![0.5, 0.5, 0.5, 2.0, 2.0, 2.0]);
    }
}
