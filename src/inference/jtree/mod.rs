//! A compiled junction tree: every posterior and P(evidence) in two passes.
//!
//! [`JunctionTree::compile`] does the structural work once per network and once per *pattern*
//! of hard evidence (the set of observed variables, not their values), and caches it:
//!
//! - an observed variable leaves the graph, so its neighbours are no longer joined through it
//!   (this is what makes exact inference with evidence cheaper than without);
//! - the remaining graph is moralised and triangulated with several elimination heuristics, the
//!   order whose cliques hold the fewest table entries is kept, and the clique tree is built
//!   from the elimination;
//! - each clique hangs from the smallest clique that holds its separator (every edge costs a
//!   sweep of both its cliques);
//! - each clique gets a *sweep plan*: how every array it reads or writes (its conditional
//!   tables, its separators, the likelihoods and marginals of its variables) is indexed as the
//!   clique's entries are walked in order. No table is built at compile time, so a new pattern
//!   costs a triangulation, not a pass over the tables;
//! - a clique whose tables are 0 outside a band of its innermost variable's states (for every
//!   configuration of the others and any observed states) is *banded*: its sweeps walk the
//!   bands only, when that skips at least half its entries. Each table's ranges along each of
//!   its many-state variables are computed once, when the network is compiled; a pattern
//!   merges them over its observed states;
//! - from a pattern's second query on, its tree is *compressed* (module `sparse`): the clique
//!   entries that no query of the pattern can make nonzero are found once, and a clique where
//!   most are such holds and sweeps the others alone. The compressed tree replaces the
//!   pattern's tree in the cache.
//!
//! Patterns are compiled when first queried (on small networks, from their second query) and
//! cached; [`JunctionTree::prepare`] compiles one up front and keeps it, for callers that know
//! their queries in advance.
//!
//! A query ([`JunctionTree::posteriors`]) makes two passes, each touching a clique's entries
//! once:
//!
//! - *collect*, leaves to root: each entry is the product of the clique's tables (sliced at the
//!   observed states), likelihoods and incoming messages, written once and summed onto the
//!   separator with the parent in the same sweep;
//! - *distribute*, root to leaves (Hugin style): each entry is multiplied by the message from
//!   the parent and, in the same sweep, added into the marginals of the variables read there
//!   and into the separators towards the children. The calibrated clique is never stored. The
//!   root needs no message from above: it does both steps in one sweep, and its potential is
//!   not stored either.
//!
//! From a pattern's second query on, the collect results of the evidence-free parts of the tree
//! are kept (on trees of up to 2^22 entries), so a query recomputes only the paths from its
//! evidence to the root. The tree is rooted inside the smallest subtree that joins its cliques
//! with evidence, at that subtree's largest clique, so that those paths are as short as they
//! can be and the largest clique is swept once. A [base](JunctionTree::prepare_base) keeps one
//! collect pass per joint state of its variables, with their tables in it, so a case on it
//! recomputes only the paths from its other observations. Messages are rescaled to peak at 1
//! and the logarithms of the scales summed, so P(evidence) is kept in log space.
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
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use crate::evidence::{Evidence, Observation};
use crate::factor::VarId;
use crate::network::Network;

use super::order::{self, EliminationPlan, Heuristic};
use kernels::{load, multiply, scatter_add, sum, times};
use sparse::Sparse;

mod cohort;
mod kernels;
mod sparse;
use super::ve::DEFAULT_MAX_TABLE_ENTRIES;
use super::{InferenceError, Posteriors, VariableElimination};
pub use cohort::CohortTrees;

/// How one array (a table, a separator, a likelihood or a marginal) is read or written within
/// one inner block while a clique's entries are swept in row-major order: its offsets from the
/// block's base. (Its stride for each outer variable is in [`Clique::strides`].)
#[derive(Debug, Clone, PartialEq)]
enum Port {
    /// The same entry for the whole block (the array does not depend on the inner variables).
    Const,
    /// Entries `0..block`, in order.
    Contig,
    /// Runs over the innermost variable's states: run `r` starts at `starts[r]` and steps by
    /// `step` (0: the whole run reads or writes one entry; 1: a contiguous slice).
    Runs {
        run: usize,
        step: usize,
        starts: Vec<u32>,
    },
    /// Entries `i * step` for the block's entries `i` (of a banded clique, whose block is its
    /// innermost variable and is swept over a band of it only).
    Strided { step: usize },
}

impl Port {
    /// The offset of a block's (or band's) `x`-th entry, from the block's base.
    fn offset(&self, x: usize) -> usize {
        match self {
            Port::Const => 0,
            Port::Contig => x,
            Port::Runs { run, step, starts } => starts[x / run] as usize + (x % run) * step,
            Port::Strided { step } => x * step,
        }
    }
}

/// A conditional table read by a clique.
#[derive(Debug, Clone)]
struct TableRef {
    /// The variable whose table it is.
    child: VarId,
    port: usize,
    /// The table's observed variables with their strides in it: the slice for the observed
    /// states starts at the sum of state × stride.
    observed: Vec<(VarId, usize)>,
}

/// One clique of a compiled tree.
#[derive(Debug, Clone)]
struct Clique {
    /// Its variables, the separator with the parent first; entries are row-major over them.
    vars: Vec<VarId>,
    /// Offset of its entries in the flat potential buffer.
    offset: usize,
    /// Number of entries.
    len: usize,
    /// The neighbour towards the root, if any.
    parent: Option<usize>,
    /// Offset and length of the separator with the parent in the separator buffers.
    sep_offset: usize,
    sep_len: usize,
    /// The sweep: the cardinalities of the outer variables (an odometer walks them) and the
    /// size of the inner block (a tight loop), with one row of strides per outer variable, one
    /// column per port.
    outer_cards: Vec<usize>,
    block: usize,
    strides: Vec<usize>,
    ports: Vec<Port>,
    /// The port of the separator with the parent.
    parent_port: Option<usize>,
    /// The children with the ports of their separators.
    children: Vec<(usize, usize)>,
    /// The tables this clique multiplies in.
    tables: Vec<TableRef>,
    /// The variables read (and weighted by likelihoods) here, with their ports.
    homes: Vec<(VarId, usize)>,
    /// Whether one of its tables involves an observed variable.
    dynamic: bool,
    /// For a clique whose tables are mostly zero along its innermost variable: where its
    /// entries can be nonzero.
    bands: Option<Bands>,
    /// For a compressed clique, the entries that can be nonzero (its potential holds these
    /// only): see [`sparse`].
    sparse: Option<Sparse>,
    /// Each port's stride for the innermost variable (where a band starts).
    inner_strides: Vec<usize>,
}

/// Where a banded clique's entries can be nonzero: for each position of the outer variables,
/// the range of states of the innermost one (the block) outside which one of its tables is 0.
/// Sweeps skip the rest, which is 0 in every potential and message they would write.
#[derive(Debug, Clone)]
struct Bands {
    /// For the evidence-free pass: from the tables without observed variables.
    prior: Arc<Vec<(u32, u32)>>,
    /// For queries: from all its tables, 0 for every state of their observed variables.
    query: Arc<Vec<(u32, u32)>>,
}

impl Clique {
    /// The bands its sweeps walk, if it is banded: for queries, or for the evidence-free pass.
    fn bands(&self, query: bool) -> Option<&[(u32, u32)]> {
        self.bands.as_ref().map(|b| match query {
            true => &b.query[..],
            false => &b.prior[..],
        })
    }

    /// The entries a query's sweeps visit: the kept ones of a compressed clique, the bands of
    /// a banded one, else all.
    fn swept(&self) -> usize {
        match (&self.sparse, &self.bands) {
            (Some(sparse), _) => sparse.len,
            (None, Some(bands)) => width(&bands.query) as usize,
            (None, None) => self.len,
        }
    }

    /// The entries its potential holds: all, or the kept ones of a compressed clique.
    fn stored(&self) -> usize {
        self.sparse.as_ref().map_or(self.len, |sp| sp.len)
    }

    /// Where its separator with its parent lies in the separator buffers.
    fn sep_range(&self) -> std::ops::Range<usize> {
        self.sep_offset..self.sep_offset + self.sep_len
    }
}

/// Where a variable's likelihood is entered and its marginal read.
#[derive(Debug, Clone, Copy)]
struct Home {
    clique: usize,
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
    /// The entries a query's sweeps visit: all but those that the tables make 0 in cliques
    /// banded along their innermost variable (see the module docs).
    pub swept_entries: usize,
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
    /// A number unique in the process (see [`new_structure_id`]), so a workspace knows whose
    /// buffers it holds.
    id: usize,
    cliques: Vec<Clique>,
    /// Children before parents; roots last.
    collect_order: Vec<usize>,
    separator_entries: usize,
    /// Per variable; `None` for the pattern's observed variables.
    homes: Vec<Option<Home>>,
    /// Tables whose every variable is observed: constant factors of P(evidence), as the
    /// table's variable and its observed variables with their strides.
    constants: Vec<(VarId, Vec<(VarId, usize)>)>,
    /// The largest inner block and port count of any clique (workspace sizes).
    max_block: usize,
    max_ports: usize,
    max_outer: usize,
    stats: TreeStats,
    /// Queries answered on this tree so far.
    queries: AtomicUsize,
    /// The collect pass without evidence, kept from the tree's second query on.
    prior: OnceLock<Prior>,
    /// On a [base](JunctionTree::prepare_base): a collect pass for each joint state of its
    /// pattern's variables, made at its first use.
    valued: OnceLock<ValuedPriors>,
    /// The entries of the potentials buffer (the clique entries, less those compression
    /// leaves out).
    potential_entries: usize,
    /// This tree with its cliques compressed where most of their entries are 0 in every query
    /// (see [`sparse`]), once made (`None`: nothing to compress, or compressed already).
    compressed: OnceLock<Option<Arc<Structure>>>,
}

impl Structure {
    /// The compiled plan without what queries left in it (kept passes, counts, the compressed
    /// copy), numbered `id`: the same tree for other numbers with the same zeros.
    fn plan_copy(&self, id: usize) -> Structure {
        Structure {
            id,
            cliques: self.cliques.clone(),
            collect_order: self.collect_order.clone(),
            separator_entries: self.separator_entries,
            homes: self.homes.clone(),
            constants: self.constants.clone(),
            max_block: self.max_block,
            max_ports: self.max_ports,
            max_outer: self.max_outer,
            stats: self.stats.clone(),
            queries: AtomicUsize::new(0),
            prior: OnceLock::new(),
            valued: OnceLock::new(),
            potential_entries: self.potential_entries,
            // A compressed plan is not compressed again.
            compressed: match self.compressed.get() {
                Some(None) => OnceLock::from(None),
                _ => OnceLock::new(),
            },
        }
    }
}

/// A number for a newly compiled tree, unique in the process: a [`Workspace`] holds the
/// buffers of one tree at a time and knows them by it, whichever [`JunctionTree`] the tree
/// belongs to (with numbers per `JunctionTree`, a workspace moved to another network's tree
/// could take that tree for the one it had sized its buffers for).
fn new_structure_id() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// The result of a collect pass without evidence: what the evidence-free parts of the tree
/// contribute to every query.
#[derive(Debug)]
struct Prior {
    potentials: Vec<f64>,
    up: Vec<f64>,
    /// The reciprocals of `up` (0 for 0): distribute divides by them.
    up_inv: Vec<f64>,
    /// ln of the true scale of each clique's upward message.
    up_ln: Vec<f64>,
    /// For a valued pass (see [`Self::valued`]): each root and the ln of its potential's total
    /// (the ln P of the pattern's states in its part of the tree), for queries that do not
    /// recompute it. Empty for the evidence-free pass.
    root_ln: Vec<(usize, f64)>,
}

impl Prior {
    /// Whether the pass holds the tables with observed variables, sliced at one joint state
    /// of the pattern (a [`ValuedPriors`] entry), rather than leaving them out: such a pass
    /// has the totals of its roots.
    fn valued(&self) -> bool {
        !self.root_ln.is_empty()
    }
}

/// A base's collect passes, one per joint state of its pattern's variables: a case on the
/// base recomputes only the paths from its own observations to the root, where with the
/// evidence-free pass it would also recompute every clique holding a table of the pattern's
/// variables (on the clinical model's age-band base, a table of each origin).
#[derive(Debug)]
struct ValuedPriors {
    /// The pattern's variables with their strides in the joint state's index.
    strides: Vec<(VarId, usize)>,
    passes: Vec<OnceLock<Prior>>,
}

/// The most joint states of a base's pattern that get a collect pass each.
const MAX_VALUED_PASSES: usize = 64;

/// A network compiled for repeated exact queries. `Sync`: share one across threads, with one
/// [`Workspace`] per thread.
#[derive(Debug)]
pub struct JunctionTree<'n> {
    network: &'n Network,
    options: CompileOptions,
    /// Each variable's conditional table, flat.
    tables: Vec<&'n [f64]>,
    /// Where each variable's states start in the flat likelihood and marginal buffers.
    var_offsets: Vec<usize>,
    /// Size figures of the tree with no hard evidence.
    stats: TreeStats,
    /// The tree with no hard evidence, kept for good on small networks, where first-seen
    /// patterns run on it (on large ones it lives in the cache like any other tree).
    pinned: Option<Arc<Structure>>,
    /// Trees compiled for patterns of hard evidence, by sorted observed variables (the empty
    /// pattern included), forgotten oldest first when they hold too many entries.
    cache: Mutex<PatternCache>,
    /// What the bands of the patterns' trees are made of (see [`Ranges`]).
    ranges: Ranges,
    /// Whether some table has an entry 0 (else no clique can be compressed).
    has_zeros: bool,
}

/// For a table, one of its variables (a clique's innermost, or [`ANY`]) and which of the
/// table's variables are observed (a bit per position in its scope): for each configuration of
/// its other unobserved variables, the range of that variable's states with a nonzero entry for
/// some observed states. With nothing observed they are computed when the network is compiled
/// (a pass over each table); a pattern's observed variables merge them, once per tree.
///
/// It also keeps each clique's bands: the same clique (variables in the same order, the same
/// tables, the same observed variables among them) recurs in the trees of many patterns.
#[derive(Debug, Default)]
struct Ranges {
    tables: Mutex<HashMap<(VarId, VarId, u64), Arc<TableRanges>>>,
    cliques: Mutex<HashMap<CliqueKey, Option<Bands>>>,
}

/// A clique as its bands see it: its variables in order, its tables, and the observed
/// variables of those tables.
type CliqueKey = (Vec<VarId>, Vec<VarId>, Vec<VarId>);

/// One entry of [`Ranges`].
#[derive(Debug)]
struct TableRanges {
    ranges: Vec<(u32, u32)>,
    /// Whether every range is all the states (a table without zeros): nothing to intersect.
    full: bool,
    /// The share of the states the ranges keep, on average: a clique holding the table keeps
    /// no more of its entries than this.
    kept: f64,
}

/// The states the ranges keep, in all (an empty range is `lo >= hi`).
fn width(ranges: &[(u32, u32)]) -> u64 {
    ranges
        .iter()
        .map(|&(lo, hi)| u64::from(hi.saturating_sub(lo)))
        .sum()
}

impl TableRanges {
    /// `card`: the innermost variable's states, or `u32::MAX` for a table not over it.
    fn new(ranges: Vec<(u32, u32)>, card: u32) -> Self {
        let full = ranges.iter().all(|&r| r == (0, card));
        let kept = width(&ranges) as f64 / (ranges.len().max(1) as f64 * f64::from(card));
        TableRanges { ranges, full, kept }
    }
}

#[derive(Debug, Default)]
struct PatternCache {
    trees: HashMap<Vec<VarId>, Arc<Structure>>,
    /// Insertion order, for eviction.
    order: Vec<Vec<VarId>>,
    /// Entries the cached trees hold or may hold (their kept collect passes).
    entries: usize,
    /// How often each pattern without a tree of its own has been queried.
    seen: HashMap<Vec<VarId>, usize>,
    /// Trees compiled by [`JunctionTree::prepare`], never forgotten but by
    /// [`JunctionTree::clear_cache`].
    prepared: HashMap<Vec<VarId>, Arc<Structure>>,
    /// Trees compiled by [`JunctionTree::prepare_base`] (also in `prepared`), largest pattern
    /// first. Small networks only, whose trees are never compressed.
    bases: Vec<(Vec<VarId>, Arc<Structure>)>,
}

impl PatternCache {
    /// The tree a small network answers a pattern on without a tree of its own: the largest
    /// base whose pattern is part of `pattern` (the first, among bases of one size, in the
    /// order they were prepared), else `pinned`, the tree without evidence; and whether it is
    /// a base (prepared up front).
    fn base_or(&self, pattern: &[VarId], pinned: &Arc<Structure>) -> (Arc<Structure>, bool) {
        match self.bases.iter().find(|(base, _)| is_subset(base, pattern)) {
            Some((_, base)) => (Arc::clone(base), true),
            None => (Arc::clone(pinned), false),
        }
    }

    /// Adds a tree, first forgetting the oldest ones while the cache would hold too many
    /// entries.
    fn insert(&mut self, pattern: Vec<VarId>, structure: Arc<Structure>) {
        let size = structure.stats.total_entries;
        while self.entries + size > CACHE_ENTRIES && !self.order.is_empty() {
            let oldest = self.order.remove(0);
            if let Some(old) = self.trees.remove(&oldest) {
                self.entries -= old.stats.total_entries;
            }
        }
        self.entries += size;
        self.order.push(pattern.clone());
        self.trees.insert(pattern, structure);
    }
}

/// Whether every member of the sorted `part` is in the sorted `whole`.
fn is_subset(part: &[VarId], whole: &[VarId]) -> bool {
    let mut rest = whole.iter();
    part.iter().all(|v| rest.any(|w| w == v))
}

/// The size of tree without evidence up to which first-seen patterns run on it (see
/// [`CompileOptions::compile_pattern_after`]).
pub const SMALL_TREE_ENTRIES: usize = 1 << 13;

/// How many table entries the pattern cache may hold before it forgets its oldest trees.
const CACHE_ENTRIES: usize = 1 << 22;

/// The largest tree whose evidence-free collect pass is kept (2^22 entries, 32 MiB): on larger
/// trees the pass would hold as much memory as a query, for little gain (their patterns'
/// queries mostly touch the whole tree).
const PRIOR_MAX_ENTRIES: usize = 1 << 22;

/// A pattern's tree with more entries than this is worth trying every heuristic for (its
/// passes cost far more than a triangulation).
const LARGE_TREE_ENTRIES: f64 = (1u64 << 21) as f64;

/// The inner block of a sweep: the smallest suffix of a clique's variables with at least this
/// many entries (the odometer over the outer variables then costs little per entry). 1,024
/// rather than 256: on barley 1.3–2.8 % fewer instructions a query and a median time ratio of
/// 0.96 over ten interleaved runs; on water 2.8 % fewer instructions; on alarm, mildew, pigs
/// and the clinical model within 1 % (the others were not measured).
const MIN_BLOCK: usize = 1024;

/// The mutable buffers of one query at a time. Reuse one across queries: nothing is allocated
/// once its buffers have grown to the tree's size.
#[derive(Debug, Clone, Default)]
pub struct Workspace {
    /// The structure whose sizes the buffers have.
    structure: Option<usize>,
    potentials: Vec<f64>,
    /// Upward messages, rescaled to peak at 1, and their reciprocals (0 for 0).
    up: Vec<f64>,
    up_inv: Vec<f64>,
    /// Upward messages divided by the evidence-free ones (when those are kept).
    ratio: Vec<f64>,
    /// Downward messages (sums into them first, then the messages), and per clique the
    /// factor that rescales its message to peak at 1 (applied as the child reads it).
    down: Vec<f64>,
    down_scale: Vec<f64>,
    /// Per clique: ln of the true scale of its potential, and of its upward message.
    ln_scale: Vec<f64>,
    up_ln: Vec<f64>,
    /// Cliques recomputed by the collect pass of the current query.
    processed: Vec<bool>,
    /// Cliques the distribute pass visits.
    needed: Vec<bool>,
    /// Per variable: a likelihood to enter, a marginal to read; flat buffers by state.
    has_likelihood: Vec<bool>,
    likelihood: Vec<f64>,
    wanted: Vec<bool>,
    marginals: Vec<f64>,
    /// Sweep scratch (`shifted`: the bases moved to the start of a band).
    bases: Vec<usize>,
    shifted: Vec<usize>,
    digits: Vec<usize>,
    block: Vec<f64>,
    sep: Vec<f64>,
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
    /// Answer every query on a tree chosen by its pattern alone, with the tree's evidence-free
    /// pass computed up front, so that no answer depends on which queries came before it:
    /// results are then the same to the last bit whatever the order of queries and the number
    /// of threads (otherwise they may differ in the last digit, about 1e-16). On a network
    /// whose tree without evidence holds at most [`SMALL_TREE_ENTRIES`] entries, that is the
    /// tree without evidence for every pattern not [prepared](JunctionTree::prepare) (a cohort
    /// where most cases have findings of their own would otherwise compile a tree per case),
    /// or the largest [base](JunctionTree::prepare_base) its pattern includes;
    /// on larger ones, each pattern's own tree, at the cost of a compile and a pass per new
    /// pattern. A prepared tree is compressed (see [`JunctionTree`]'s module docs) before its
    /// first query; other trees are not compressed at all. Batch scoring uses it.
    pub reproducible: bool,
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
            reproducible: false,
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
    // When every free variable has the same number of states, weighted fill-in orders exactly
    // like fill-in, and weight like degree: plan each pair once.
    let uniform = free.windows(2).all(|w| cards[w[0]] == cards[w[1]]);
    let same_as = |h: Heuristic| match h {
        Heuristic::WeightedMinFill if uniform => Heuristic::MinFill,
        Heuristic::MinWeight if uniform => Heuristic::MinDegree,
        h => h,
    };
    let mut distinct: Vec<Heuristic> = Vec::new();
    for &h in heuristics {
        if !distinct.iter().any(|&d| same_as(d) == same_as(h)) {
            distinct.push(h);
        }
    }
    distinct
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
        let ranges = Ranges::default();
        ranges.prepare(network);
        let unobserved = Arc::new(build(
            network,
            &vec![false; network.len()],
            &options,
            &[],
            new_structure_id(),
            &ranges,
        )?);
        Ok(JunctionTree::assemble(network, options, unobserved, ranges))
    }

    /// A tree around its compiled tree without evidence.
    fn assemble(
        network: &'n Network,
        options: CompileOptions,
        unobserved: Arc<Structure>,
        ranges: Ranges,
    ) -> Self {
        let stats = unobserved.stats.clone();
        let tables: Vec<&[f64]> = (0..network.len())
            .map(|v| {
                network
                    .cpd(v)
                    .factor()
                    .table()
                    .as_slice()
                    .expect("factor tables are contiguous")
            })
            .collect();
        let has_zeros = tables.iter().any(|t| t.contains(&0.0));
        let mut var_offsets = Vec::with_capacity(network.len() + 1);
        let mut offset = 0;
        for v in 0..network.len() {
            var_offsets.push(offset);
            offset += network.variable(v).cardinality();
        }
        var_offsets.push(offset);
        let mut cache = PatternCache::default();
        let pinned = (stats.total_entries <= SMALL_TREE_ENTRIES).then(|| Arc::clone(&unobserved));
        cache.insert(Vec::new(), Arc::clone(&unobserved));
        let tree = JunctionTree {
            network,
            options,
            tables,
            var_offsets,
            stats,
            pinned,
            cache: Mutex::new(cache),
            ranges,
            has_zeros,
        };
        // The small tree every first-seen pattern runs on keeps its evidence-free collect pass
        // from the start.
        if let Some(pinned) = &tree.pinned {
            pinned.prior.get_or_init(|| tree.prior(pinned, None));
        }
        tree
    }

    /// The tree for `network`, a network with this one's variables, states and arcs but other
    /// numbers (a sampled model, say): it reuses this tree's triangulation and sweep plans,
    /// which depend on the graph and on where the tables are 0, when `network`'s tables are 0
    /// wherever this network's are (zeros may be added, not removed); otherwise it compiles
    /// afresh with this tree's options. Either way its answers are those of
    /// [`Self::compile_with`] on `network`; reusing skips the triangulation and the build,
    /// most of a compile on a small network. Trees compiled for patterns are not carried over.
    ///
    /// ```
    /// # use radix::{evidence::Evidence, format, inference::JunctionTree};
    /// let net = format::load("models/hip_leg_pain.toml").unwrap();
    /// let tree = JunctionTree::compile(&net).unwrap();
    /// let other = net.with_parameter(net.parameters()[0], 0.3).unwrap();
    /// let again = tree.recompile(&other).unwrap();
    /// let mut e = Evidence::new();
    /// e.parse_assignment(&net, "foot_drop=present").unwrap();
    /// let fresh = JunctionTree::compile(&other).unwrap();
    /// assert_eq!(
    ///     again.posteriors(&mut again.workspace(), &e).unwrap(),
    ///     fresh.posteriors(&mut fresh.workspace(), &e).unwrap(),
    /// );
    /// ```
    pub fn recompile<'m>(&self, network: &'m Network) -> Result<JunctionTree<'m>, InferenceError> {
        let unobserved = self.pinned.clone().or_else(|| {
            let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            cache.trees.get(&[][..]).cloned()
        });
        let same_plan = |old: &Network| {
            old.len() == network.len()
                && (0..network.len()).all(|v| {
                    let (a, b) = (old.cpd(v).factor(), network.cpd(v).factor());
                    old.variable(v).cardinality() == network.variable(v).cardinality()
                        && a.scope() == b.scope()
                        && a.table().len() == b.table().len()
                        && a.table()
                            .iter()
                            .zip(b.table())
                            .all(|(&x, &y)| x != 0.0 || y == 0.0)
                })
        };
        let Some(unobserved) = unobserved.filter(|_| same_plan(self.network)) else {
            return JunctionTree::compile_with(network, &self.options);
        };
        let copy = Arc::new(unobserved.plan_copy(new_structure_id()));
        Ok(JunctionTree::assemble(
            network,
            self.options.clone(),
            copy,
            Ranges::default(),
        ))
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

    /// Forgets the trees compiled for patterns of hard evidence and the bands of their cliques
    /// (they are compiled again on demand; the tables' ranges, computed with the network's
    /// own tree, stay). Benchmarks use it to time queries with a cold cache.
    pub fn clear_cache(&self) {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache.trees.clear();
        cache.prepared.clear();
        cache.bases.clear();
        cache.order.clear();
        cache.seen.clear();
        cache.entries = 0;
        self.ranges
            .cliques
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
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

    /// Where a variable's states lie in the flat likelihood and marginal buffers.
    fn states(&self, v: VarId) -> std::ops::Range<usize> {
        self.var_offsets[v]..self.var_offsets[v + 1]
    }

    /// Fresh buffers for queries on this tree.
    pub fn workspace(&self) -> Workspace {
        Workspace::default()
    }

    /// The pattern of hard evidence a query runs on: the observed variables whose state is
    /// certain, in increasing order (the key of the trees compiled per pattern).
    pub fn pattern(&self, evidence: &Evidence) -> Vec<VarId> {
        evidence
            .iter()
            .map(|(v, _)| v)
            .filter(|&v| {
                evidence
                    .certain_state(v, self.network.variable(v).cardinality())
                    .is_some()
            })
            .collect()
    }

    /// Compiles the tree for the pattern of `evidence` now and keeps it until
    /// [`Self::clear_cache`]: every later query of the pattern runs on it. Returns its size.
    ///
    /// With [`CompileOptions::reproducible`] on a small network, only prepared patterns run on
    /// trees of their own (the others on the tree without evidence), so a caller that knows
    /// its queries in advance, as `radix batch` does, prepares its frequent patterns first and
    /// its answers still do not depend on their order.
    pub fn prepare(&self, evidence: &Evidence) -> Result<TreeStats, InferenceError> {
        let pattern = self.pattern(evidence);
        let id = {
            let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(s) = cache.prepared.get(&pattern) {
                return Ok(s.stats.clone());
            }
            new_structure_id()
        };
        let structure = Arc::new(self.build_pattern(&pattern, id)?);
        let stats = structure.stats.clone();
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache.prepared.entry(pattern).or_insert(structure);
        Ok(stats)
    }

    /// [Prepares](Self::prepare) the tree for the pattern of `evidence` as a base for larger
    /// patterns: on a small network (see [`CompileOptions::compile_pattern_after`]), a query
    /// whose pattern has no tree of its own but includes this one runs on the largest such
    /// base, its other observations entered as indicators, instead of on the tree without
    /// evidence. Its answers are as exact; its tree is smaller when the base's variables sit
    /// in large cliques. A batch whose cases all record, say, the age band but differ in
    /// their findings prepares the age band's tree as a base. When its variables have at most
    /// 64 joint states, the base keeps a collect pass for each (made at its first use, with
    /// their tables sliced at those states), so a query recomputes only the paths from its
    /// other observations to the root. Returns the tree's size, and
    /// whether it became a base (it does not when it is no smaller than the tree without
    /// evidence, or on a large network, where every pattern gets a tree of its own).
    ///
    /// ```
    /// # use radix::{evidence::Evidence, format, inference::JunctionTree};
    /// let net = format::load("models/hip_leg_pain.toml").unwrap();
    /// let tree = JunctionTree::compile(&net).unwrap();
    /// let mut age = Evidence::new();
    /// age.parse_assignment(&net, "age_band=60_and_over").unwrap();
    /// let (stats, base) = tree.prepare_base(&age).unwrap();
    /// assert!(base && stats.total_entries < tree.stats().total_entries);
    ///
    /// // A new pattern that includes the age band runs on the base's tree.
    /// let mut case = age.clone();
    /// case.parse_assignment(&net, "foot_drop=present").unwrap();
    /// assert_eq!(tree.stats_for(&case).unwrap(), stats);
    /// ```
    pub fn prepare_base(&self, evidence: &Evidence) -> Result<(TreeStats, bool), InferenceError> {
        let stats = self.prepare(evidence)?;
        let Some(pinned) = &self.pinned else {
            return Ok((stats, false));
        };
        let pattern = self.pattern(evidence);
        if pattern.is_empty() || stats.total_entries >= pinned.stats.total_entries {
            return Ok((stats, false));
        }
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if !cache.bases.iter().any(|(p, _)| *p == pattern) {
            let Some(s) = cache.prepared.get(&pattern).cloned() else {
                // Cleared meanwhile by another thread.
                return Ok((stats, false));
            };
            // Largest first; a stable insertion keeps earlier bases of one size first.
            let at = cache
                .bases
                .partition_point(|(p, _)| p.len() >= pattern.len());
            // A pass kept for each joint state of the pattern, when they are few.
            let mut joint = 1usize;
            let mut strides = Vec::with_capacity(pattern.len());
            for &v in pattern.iter().rev() {
                strides.push((v, joint));
                joint = joint.saturating_mul(self.network.variable(v).cardinality());
            }
            if joint <= MAX_VALUED_PASSES
                && joint.saturating_mul(s.potential_entries) <= PRIOR_MAX_ENTRIES
            {
                s.valued.get_or_init(|| ValuedPriors {
                    strides,
                    passes: (0..joint).map(|_| OnceLock::new()).collect(),
                });
            }
            cache.bases.insert(at, (pattern, s));
        }
        Ok((stats, true))
    }

    /// Compiles the tree of a pattern.
    fn build_pattern(&self, pattern: &[VarId], id: usize) -> Result<Structure, InferenceError> {
        let mut observed = vec![false; self.network.len()];
        for &v in pattern {
            observed[v] = true;
        }
        // A pattern's tree is compiled inside a query: try the two fill-in heuristics first
        // (on the shared networks they find the smallest tree almost always, at half the cost),
        // the others only when the tree is large.
        let mut options = self.options.clone();
        let more = options
            .heuristics
            .split_off(options.heuristics.len().min(2));
        build(self.network, &observed, &options, &more, id, &self.ranges)
    }

    /// The tree for the pattern of hard evidence of `evidence`, from the cache or compiled,
    /// and compressed from its second query on (or, with [`CompileOptions::reproducible`], at
    /// once for a [prepared](Self::prepare) tree and never for others) where that skips
    /// entries: compressing costs one to three queries without compression, which a one-off
    /// query should not pay.
    fn structure_for(&self, evidence: &Evidence) -> Result<Arc<Structure>, InferenceError> {
        let pattern = self.pattern(evidence);
        let (s, prepared) = self.lookup(&pattern)?;
        match s.compressed.get() {
            Some(Some(compressed)) => return Ok(Arc::clone(compressed)),
            Some(None) => return Ok(s),
            None => {}
        }
        let worth = self.has_zeros
            && s.stats.total_entries > SMALL_TREE_ENTRIES
            && s.stats.total_entries <= PRIOR_MAX_ENTRIES
            && match self.options.reproducible {
                // Answers must not depend on history: compress from the first query, and only
                // the trees prepared for patterns known to recur (a one-off pattern would pay
                // for compressing and gain nothing).
                true => prepared,
                false => s.queries.load(Ordering::Relaxed) >= 1,
            };
        if !worth {
            return Ok(s);
        }
        let compressed = s.compressed.get_or_init(|| {
            sparse::compress(self.network, &self.tables, &s, new_structure_id()).map(Arc::new)
        });
        let Some(compressed) = compressed else {
            return Ok(s);
        };
        // Later queries of the pattern find the compressed tree in the cache.
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        let cache = &mut *cache;
        for map in [&mut cache.trees, &mut cache.prepared] {
            if let Some(cached) = map.get_mut(&pattern) {
                if Arc::ptr_eq(cached, &s) {
                    *cached = Arc::clone(compressed);
                }
            }
        }
        Ok(Arc::clone(compressed))
    }

    /// The tree for a pattern of hard evidence, from the cache or compiled, and whether it is
    /// one [prepared](Self::prepare) up front (its own, or a [base](Self::prepare_base)).
    fn lookup(&self, pattern: &[VarId]) -> Result<(Arc<Structure>, bool), InferenceError> {
        if let (true, Some(tree)) = (pattern.is_empty(), &self.pinned) {
            return Ok((Arc::clone(tree), false));
        }
        let id = {
            let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(s) = cache.prepared.get(pattern) {
                return Ok((Arc::clone(s), true));
            }
            // On a small network, when answers must not depend on history (see
            // `CompileOptions::reproducible`), every pattern not prepared runs on a base or
            // the tree without evidence.
            if let (true, Some(tree)) = (self.options.reproducible, &self.pinned) {
                return Ok(cache.base_or(pattern, tree));
            }
            if let Some(s) = cache.trees.get(pattern) {
                return Ok((Arc::clone(s), false));
            }
            // On a small network a pattern seen for the first time runs on the tree without
            // evidence: a one-off query does not pay for compiling a tree of its own.
            if let Some(tree) = &self.pinned {
                // Forget the counts now and then, so a stream of one-off patterns cannot grow
                // the map without bound.
                if cache.seen.len() >= 1 << 16 {
                    cache.seen.clear();
                }
                let count = cache.seen.entry(pattern.to_vec()).or_insert(0);
                *count += 1;
                if *count < self.options.compile_pattern_after {
                    return Ok(cache.base_or(pattern, tree));
                }
                cache.seen.remove(pattern);
            }
            new_structure_id()
        };
        // Compile outside the lock: other threads keep querying.
        let structure = Arc::new(self.build_pattern(pattern, id)?);
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(s) = cache.trees.get(pattern) {
            return Ok((Arc::clone(s), false));
        }
        cache.insert(pattern.to_vec(), Arc::clone(&structure));
        Ok((structure, false))
    }

    /// The posterior of every unobserved variable, and P(evidence).
    pub fn posteriors(
        &self,
        ws: &mut Workspace,
        evidence: &Evidence,
    ) -> Result<Posteriors, InferenceError> {
        let s = self.structure_for(evidence)?;
        let ln_p = self.propagate_on(&s, ws, evidence, None)?;
        let mut post = Posteriors::with_capacity(
            ln_p,
            self.network.len() - evidence.len(),
            *self.var_offsets.last().unwrap_or(&0),
        );
        for v in 0..self.network.len() {
            if !evidence.contains(v) {
                self.marginal(&s, ws, evidence, v, &mut post)?;
            }
        }
        Ok(post)
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
        let mut post = Posteriors::new(ln_p);
        for &v in targets {
            self.marginal(&s, ws, evidence, v, &mut post)?;
        }
        Ok(post)
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

    /// Sizes a workspace's buffers for a tree (no-op when it already holds that tree's).
    fn size(&self, s: &Structure, ws: &mut Workspace) {
        let n_vars = self.network.len();
        let n_states = *self.var_offsets.last().unwrap_or(&0);
        if ws.structure == Some(s.id) {
            return;
        }
        let n = s.cliques.len();
        // Give back a buffer grown for a much larger tree (say, one query without evidence on a
        // large network: over 2^24 entries, 128 MiB), rather than hold it for every later query.
        // Smaller buffers are kept: reallocating one per query would cost more than its pass.
        let need = s.potential_entries;
        if ws.potentials.capacity() > (4 * need).max(1 << 24) {
            ws.potentials = Vec::new();
        }
        // Buffers only grow: every entry a query reads it writes first, so a shorter tree
        // needs no zeroing (which, with patterns alternating, cost a tenth of a query).
        for (buffer, len) in [
            (&mut ws.potentials, need),
            (&mut ws.up, s.separator_entries),
            (&mut ws.up_inv, s.separator_entries),
            (&mut ws.down, s.separator_entries),
        ] {
            if buffer.len() < len {
                buffer.resize(len, 0.0);
            }
        }
        for scale in [&mut ws.ln_scale, &mut ws.up_ln, &mut ws.down_scale] {
            scale.clear();
            scale.resize(n, 0.0);
        }
        for flags in [&mut ws.processed, &mut ws.needed] {
            flags.clear();
            flags.resize(n, false);
        }
        for flags in [&mut ws.has_likelihood, &mut ws.wanted] {
            flags.clear();
            flags.resize(n_vars, false);
        }
        ws.likelihood.resize(n_states, 1.0);
        ws.marginals.resize(n_states, 0.0);
        ws.bases.resize(s.max_ports, 0);
        ws.shifted.resize(s.max_ports, 0);
        ws.digits.resize(s.max_outer, 0);
        ws.block.resize(s.max_block.max(sparse::CHUNK), 0.0);
        let max_sep = s.cliques.iter().map(|c| c.sep_len).max().unwrap_or(1);
        ws.sep.resize(max_sep.max(1), 0.0);
        ws.structure = Some(s.id);
    }

    /// The collect pass of a tree without evidence or, with `pattern_states`, with its
    /// pattern's variables at their states there (and nothing else).
    fn prior(&self, s: &Structure, pattern_states: Option<&Evidence>) -> Prior {
        let mut ws = Workspace::default();
        self.size(s, &mut ws);
        ws.processed.fill(true);
        let mut root_ln = Vec::new();
        for &c in &s.collect_order {
            // Without evidence, a clique with dynamic tables is recomputed by every query: its
            // pass is unused.
            let total = self.collect_clique(s, None, &mut ws, c, pattern_states, false);
            if let (Some(total), Some(_)) = (total, pattern_states) {
                let ln = if total > 0.0 && total.is_finite() {
                    total.ln() + ws.ln_scale[c]
                } else {
                    f64::NEG_INFINITY
                };
                root_ln.push((c, ln));
            }
        }
        Prior {
            potentials: ws.potentials,
            up: ws.up,
            up_inv: ws.up_inv,
            up_ln: ws.up_ln,
            root_ln,
        }
    }

    /// The collect pass of a base for the states its pattern's variables take in `evidence`
    /// (made on first use), if the tree keeps such passes.
    fn valued_prior<'s>(&self, s: &'s Structure, evidence: &Evidence) -> Option<&'s Prior> {
        let valued = s.valued.get()?;
        let mut index = 0;
        for &(v, stride) in &valued.strides {
            index += evidence.certain_state(v, self.network.variable(v).cardinality())? * stride;
        }
        Some(valued.passes[index].get_or_init(|| self.prior(s, Some(evidence))))
    }

    /// Propagates evidence on a tree, with the sweeps compiled for AVX2 where the processor has
    /// it (a quarter less time on the large networks; the same operations in the same order, so
    /// the same results to the last bit).
    fn propagate_on(
        &self,
        s: &Structure,
        ws: &mut Workspace,
        evidence: &Evidence,
        targets: Option<&[VarId]>,
    ) -> Result<f64, InferenceError> {
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx2") {
            // SAFETY: the processor supports AVX2, checked just above.
            return unsafe { self.propagate_avx2(s, ws, evidence, targets) };
        }
        self.propagate_portable(s, ws, evidence, targets)
    }

    /// [`Self::propagate_portable`] compiled for AVX2 (the sweeps and kernels are inlined
    /// into it).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn propagate_avx2(
        &self,
        s: &Structure,
        ws: &mut Workspace,
        evidence: &Evidence,
        targets: Option<&[VarId]>,
    ) -> Result<f64, InferenceError> {
        self.propagate_portable(s, ws, evidence, targets)
    }

    #[inline(always)]
    fn propagate_portable(
        &self,
        s: &Structure,
        ws: &mut Workspace,
        evidence: &Evidence,
        targets: Option<&[VarId]>,
    ) -> Result<f64, InferenceError> {
        self.size(s, ws);
        // From a tree's second query on, keep its evidence-free collect pass (unless the tree
        // is so large that keeping it would double the memory of a query).
        // A base keeps a pass for each state of its pattern, from its first query.
        let seasoned = s.queries.fetch_add(1, Ordering::Relaxed) >= 1;
        let prior = self.valued_prior(s, evidence).or_else(|| {
            if (seasoned || self.options.reproducible) && s.stats.total_entries <= PRIOR_MAX_ENTRIES
            {
                Some(s.prior.get_or_init(|| self.prior(s, None)))
            } else {
                s.prior.get()
            }
        });
        if prior.is_some() && ws.ratio.len() < s.separator_entries {
            // Only queries that reuse a kept pass divide messages by it.
            ws.ratio.resize(s.separator_entries, 0.0);
        }
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
        for (child, observed) in &s.constants {
            ln_p += self.tables[*child][table_offset(observed, evidence, &cards_of)].ln();
        }
        if ln_p == f64::NEG_INFINITY {
            return Err(self.conflict(evidence));
        }
        // Likelihood vectors on the variables left in the tree.
        ws.has_likelihood.fill(false);
        ws.processed.fill(prior.is_none());
        for (v, obs) in evidence.iter() {
            let Some(home) = s.homes[v] else { continue };
            let range = self.states(v);
            let w = &mut ws.likelihood[range];
            match obs {
                Observation::Is(x) => w
                    .iter_mut()
                    .enumerate()
                    .for_each(|(i, p)| *p = f64::from(u8::from(i == *x))),
                Observation::IsNot(x) => w
                    .iter_mut()
                    .enumerate()
                    .for_each(|(i, p)| *p = f64::from(u8::from(i != *x))),
                Observation::Likelihood(l) => w.copy_from_slice(l),
            }
            ws.has_likelihood[v] = true;
            mark(s, ws, home.clique);
        }
        if prior.is_some_and(|p| !p.valued()) {
            for (c, clique) in s.cliques.iter().enumerate() {
                if clique.dynamic {
                    mark(s, ws, c);
                }
            }
        }
        // The cliques the distribute pass visits, and the marginals it reads.
        ws.wanted.fill(false);
        ws.needed.fill(false);
        match targets {
            None => {
                ws.needed.fill(true);
                ws.wanted.fill(true);
            }
            Some(vars) => {
                for &v in vars {
                    ws.wanted[v] = true;
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
        // A recomputed root also does its distribute step in its collect sweep: it needs no
        // message from above, so its potential need not be stored and swept again.
        let fused = |ws: &Workspace, c: usize| {
            s.cliques[c].parent.is_none() && ws.processed[c] && ws.needed[c]
        };
        // Collect: recompute the marked cliques, leaves first.
        for &c in &s.collect_order {
            if !ws.processed[c] {
                continue;
            }
            let total = self.collect_clique(s, prior, ws, c, Some(evidence), fused(ws, c));
            match total {
                Some(total) if total > 0.0 && total.is_finite() => {
                    ln_p += total.ln() + ws.ln_scale[c];
                }
                Some(_) => return Err(self.conflict(evidence)),
                None if ws.up_ln[c] == f64::NEG_INFINITY => return Err(self.conflict(evidence)),
                None => {}
            }
        }
        // Evidence-free trees have P = 1: ln 1 = 0, nothing to add. A valued pass's roots
        // that were not recomputed add what they held there.
        if let Some(prior) = prior {
            for &(root, ln) in &prior.root_ln {
                if !ws.processed[root] {
                    ln_p += ln;
                }
            }
            if ln_p == f64::NEG_INFINITY {
                return Err(self.conflict(evidence));
            }
        }

        // Distribute from the roots down (the roots recomputed above have done theirs).
        for &c in s.collect_order.iter().rev() {
            if ws.needed[c] && !fused(ws, c) {
                self.distribute_clique(s, prior, ws, c);
            }
        }
        Ok(ln_p)
    }

    /// The collect step of one clique: writes its potential (tables × likelihoods × messages
    /// from its children) and its rescaled message to the parent. Returns the potential's
    /// total for a root. `evidence` `None`: the evidence-free pass (tables with observed
    /// variables and likelihoods left out).
    #[inline(always)]
    fn collect_clique(
        &self,
        s: &Structure,
        prior: Option<&Prior>,
        ws: &mut Workspace,
        c: usize,
        evidence: Option<&Evidence>,
        fused: bool,
    ) -> Option<f64> {
        let with_evidence = evidence.is_some();
        let clique = &s.cliques[c];
        let Workspace {
            potentials,
            up,
            up_inv,
            ratio,
            down,
            down_scale,
            ln_scale,
            up_ln,
            processed,
            needed,
            wanted,
            marginals,
            block: scratch,
            has_likelihood,
            likelihood,
            bases,
            shifted,
            digits,
            sep,
            ..
        } = ws;
        let cards_of = |v: VarId| self.network.variable(v).cardinality();
        bases.clear();
        bases.resize(clique.ports.len(), 0);
        // Where each table's slice for the observed states starts.
        for t in &clique.tables {
            if !t.observed.is_empty() {
                bases[t.port] = evidence.map_or(0, |e| table_offset(&t.observed, e, &cards_of));
            }
        }
        let mut scale = 0.0;
        for &(child, _) in &clique.children {
            scale += match (processed[child], prior) {
                (false, Some(p)) => p.up_ln[child],
                _ => up_ln[child],
            };
        }
        ln_scale[c] = scale;
        let pot = &mut potentials[clique.offset..clique.offset + clique.stored()];
        let sep = &mut sep[..clique.sep_len];
        sep.fill(0.0);
        let up_all: &[f64] = up;
        let ratios: &[f64] = ratio;
        // With the evidence-free pass kept, start from its potential and multiply in only what
        // changed (the tables with observed variables, the recomputed messages divided by the
        // evidence-free ones: 0/0 is 0, since an evidence-free message of 0 stays 0) when that
        // is fewer factors than recomputing the product.
        // (A valued pass holds the tables with observed variables already.)
        let from_prior = prior.filter(|p| {
            let changed = clique
                .tables
                .iter()
                .filter(|t| !p.valued() && !t.observed.is_empty())
                .count()
                + clique
                    .children
                    .iter()
                    .filter(|&&(ch, _)| processed[ch])
                    .count();
            changed + 1 < clique.tables.len() + clique.children.len()
        });
        if fused {
            self.clear_accumulators(s, clique, needed, wanted, down, marginals);
        }
        let mut total = 0.0;
        let root = clique.parent.is_none();
        sweep(
            clique,
            clique.sparse.as_ref(),
            clique.bands(with_evidence),
            bases,
            shifted,
            digits,
            #[inline(always)]
            |entries, at| {
                let out = if fused {
                    &mut scratch[..entries.len()]
                } else {
                    &mut pot[entries.clone()]
                };
                if let Some(prior) = from_prior {
                    let start = clique.offset;
                    let kept = &prior.potentials[start + entries.start..start + entries.end];
                    // The first changed factor times the kept entries, the others multiplied
                    // in.
                    let mut first = true;
                    for t in &clique.tables {
                        if !prior.valued() && !t.observed.is_empty() {
                            at.fold_in(out, Some(kept), &mut first, self.tables[t.child], t.port);
                        }
                    }
                    for &(child, p) in &clique.children {
                        if processed[child] {
                            let ratio = &ratios[s.cliques[child].sep_range()];
                            at.fold_in(out, Some(kept), &mut first, ratio, p);
                        }
                    }
                    if first {
                        out.copy_from_slice(kept);
                    }
                } else {
                    // The first factor is loaded, the others multiplied in.
                    let mut first = true;
                    for t in &clique.tables {
                        if !with_evidence && !t.observed.is_empty() {
                            continue;
                        }
                        at.fold_in(out, None, &mut first, self.tables[t.child], t.port);
                    }
                    for &(child, p) in &clique.children {
                        let kept = prior.map(|p| &p.up[..]);
                        let message = sent_up(s, kept, processed, up_all, child);
                        at.fold_in(out, None, &mut first, message, p);
                    }
                    if first {
                        out.fill(1.0);
                    }
                }
                if with_evidence {
                    for &(v, p) in &clique.homes {
                        if has_likelihood[v] {
                            at.multiply(out, &likelihood[self.states(v)], p);
                        }
                    }
                }
                if let Some(p) = clique.parent_port {
                    at.scatter_add(sep, out, p);
                }
                if root {
                    total += sum(out);
                }
                if fused {
                    self.scatter_down(s, clique, needed, wanted, down, marginals, out, at);
                }
            },
        );
        if fused {
            finish_down(
                s,
                clique,
                prior,
                needed,
                processed,
                (up, up_inv),
                down,
                down_scale,
            );
            return Some(total);
        }
        if root {
            return Some(total);
        }
        let max = peak(sep);
        let scale = if max > 0.0 && max.is_finite() {
            up_ln[c] = ln_scale[c] + max.ln();
            1.0 / max
        } else {
            // Impossible evidence below (or, without evidence, a deterministic table that
            // forbids every separator state, which no query then reads).
            up_ln[c] = f64::NEG_INFINITY;
            1.0
        };
        // The message, its reciprocals for the distribute step and, with the evidence-free
        // pass kept, its ratio to the evidence-free message, in one pass.
        let range = clique.sep_range();
        let message = up[range.clone()].iter_mut().zip(&mut up_inv[range.clone()]);
        match prior {
            Some(prior) => {
                let rows = message
                    .zip(sep.iter())
                    .zip(&mut ratio[range.clone()])
                    .zip(prior.up_inv[range.clone()].iter().zip(&prior.up[range]));
                for ((((u, i), &x), r), (&i0, &u0)) in rows {
                    *u = x * scale;
                    *i = reciprocal(*u);
                    *r = divide(*u, i0, u0);
                }
            }
            None => {
                for ((u, i), &x) in message.zip(sep.iter()) {
                    *u = x * scale;
                    *i = reciprocal(*u);
                }
            }
        }
        None
    }

    /// The distribute step of one clique: multiplies its potential by the message from its
    /// parent and, in the same sweep, adds each entry into the marginals of the wanted
    /// variables read here and into the messages towards the needed children.
    #[inline(always)]
    fn distribute_clique(
        &self,
        s: &Structure,
        prior: Option<&Prior>,
        ws: &mut Workspace,
        c: usize,
    ) {
        let clique = &s.cliques[c];
        let Workspace {
            potentials,
            up,
            up_inv,
            down,
            down_scale,
            processed,
            needed,
            wanted,
            marginals,
            bases,
            shifted,
            digits,
            block: scratch,
            sep,
            ..
        } = ws;
        bases.clear();
        bases.resize(clique.ports.len(), 0);
        let pot: &[f64] = match (processed[c], prior) {
            (false, Some(prior)) => &prior.potentials[clique.offset..][..clique.stored()],
            _ => &potentials[clique.offset..][..clique.stored()],
        };
        // The message from the parent, set aside: the children's sums go into `down` too.
        let from_parent = &mut sep[..clique.sep_len];
        let scale = down_scale[c];
        for (f, &d) in from_parent.iter_mut().zip(&down[clique.sep_range()]) {
            *f = d * scale;
        }
        self.clear_accumulators(s, clique, needed, wanted, down, marginals);
        sweep(
            clique,
            clique.sparse.as_ref(),
            clique.bands(true),
            bases,
            shifted,
            digits,
            #[inline(always)]
            |entries, at| {
                let entries = &pot[entries];
                let values: &[f64] = match clique.parent_port {
                    Some(p) => {
                        let tmp = &mut scratch[..entries.len()];
                        at.times(tmp, entries, from_parent, p);
                        tmp
                    }
                    None => entries,
                };
                self.scatter_down(s, clique, needed, wanted, down, marginals, values, at);
            },
        );
        finish_down(
            s,
            clique,
            prior,
            needed,
            processed,
            (up, up_inv),
            down,
            down_scale,
        );
    }

    /// Zeroes what a clique's distribute step sums into: the marginals of the wanted
    /// variables read there and the messages towards the needed children.
    #[inline(always)]
    fn clear_accumulators(
        &self,
        s: &Structure,
        clique: &Clique,
        needed: &[bool],
        wanted: &[bool],
        down: &mut [f64],
        marginals: &mut [f64],
    ) {
        for &(child, _) in &clique.children {
            if needed[child] {
                down[s.cliques[child].sep_range()].fill(0.0);
            }
        }
        for &(v, _) in &clique.homes {
            if wanted[v] {
                marginals[self.states(v)].fill(0.0);
            }
        }
    }

    /// Adds a block of calibrated entries into the marginals and the children's messages.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn scatter_down(
        &self,
        s: &Structure,
        clique: &Clique,
        needed: &[bool],
        wanted: &[bool],
        down: &mut [f64],
        marginals: &mut [f64],
        values: &[f64],
        at: &At,
    ) {
        for &(v, p) in &clique.homes {
            if wanted[v] {
                at.scatter_add(&mut marginals[self.states(v)], values, p);
            }
        }
        for &(child, p) in &clique.children {
            if needed[child] {
                at.scatter_add(&mut down[s.cliques[child].sep_range()], values, p);
            }
        }
    }

    /// Appends the normalised marginal of a variable after propagation to `post`: read in the
    /// distribute pass, or from the evidence for an observed variable.
    fn marginal(
        &self,
        s: &Structure,
        ws: &Workspace,
        evidence: &Evidence,
        v: VarId,
        post: &mut Posteriors,
    ) -> Result<(), InferenceError> {
        let card = self.network.variable(v).cardinality();
        if s.homes[v].is_none() {
            let state = evidence.certain_state(v, card).expect("pattern variable");
            post.push_with(v, (0..card).map(|i| f64::from(u8::from(i == state))));
            return Ok(());
        }
        let m = &ws.marginals[self.states(v)];
        let total: f64 = m.iter().sum();
        if total <= 0.0 || !total.is_finite() {
            return Err(self.conflict(evidence));
        }
        post.push_with(v, m.iter().map(|x| x / total));
        Ok(())
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

/// The message a child sent up in the current query (or, with `kept` and `current` the
/// reciprocal buffers, its reciprocals): the kept evidence-free one when the query did not
/// recompute the child.
fn sent_up<'a>(
    s: &Structure,
    kept: Option<&'a [f64]>,
    processed: &[bool],
    current: &'a [f64],
    child: usize,
) -> &'a [f64] {
    let range = s.cliques[child].sep_range();
    match (processed[child], kept) {
        (false, Some(kept)) => &kept[range],
        _ => &current[range],
    }
}

/// Ends a clique's distribute step: divides out of each needed child's message what the child
/// sent up, so it does not count twice, and sets the factor that rescales it to peak at 1.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn finish_down(
    s: &Structure,
    clique: &Clique,
    prior: Option<&Prior>,
    needed: &[bool],
    processed: &[bool],
    (up, up_inv): (&[f64], &[f64]),
    down: &mut [f64],
    down_scale: &mut [f64],
) {
    for &(child, _) in &clique.children {
        if !needed[child] {
            continue;
        }
        let sent = sent_up(s, prior.map(|p| &p.up[..]), processed, up, child);
        let sent_inv = sent_up(s, prior.map(|p| &p.up_inv[..]), processed, up_inv, child);
        let down = &mut down[s.cliques[child].sep_range()];
        divide_by(down, sent_inv, sent);
        let max = peak(down);
        down_scale[child] = if max > 0.0 && max.is_finite() {
            1.0 / max
        } else {
            1.0
        };
    }
}

/// 1/x, or 0 for 0 (a message entry of 0 divides to 0: its state is impossible). Messages are
/// divided by multiplying with these, computed once per message.
#[inline(always)]
fn reciprocal(x: f64) -> f64 {
    if x > 0.0 { 1.0 / x } else { 0.0 }
}

/// `x / u` given `inv = reciprocal(u)`: a multiplication, or a division where `u` is so small
/// (subnormal) that its reciprocal overflows.
#[inline(always)]
fn divide(x: f64, inv: f64, u: f64) -> f64 {
    if inv.is_finite() { x * inv } else { x / u }
}

/// Divides each `x` by its `u` given `inv`, their [reciprocals](reciprocal). A message whose
/// reciprocals are all finite (nearly always) is divided by plain multiplications, which the
/// compiler vectorises; the same results as [`divide`] entry by entry.
#[inline(always)]
fn divide_by(xs: &mut [f64], inv: &[f64], u: &[f64]) {
    let finite = inv.iter().fold(true, |ok, i| ok & i.is_finite());
    if finite {
        for (x, &i) in xs.iter_mut().zip(inv) {
            *x *= i;
        }
    } else {
        for ((x, &i), &u) in xs.iter_mut().zip(inv).zip(u) {
            *x = divide(*x, i, u);
        }
    }
}

/// The largest entry, or 0 (NaN ignored, as by `f64::max`): four running maxima, so that the
/// comparisons do not wait on each other.
#[inline(always)]
fn peak(xs: &[f64]) -> f64 {
    let mut m = [0.0f64; 4];
    let mut chunks = xs.chunks_exact(4);
    for c in &mut chunks {
        for i in 0..4 {
            if c[i] > m[i] {
                m[i] = c[i];
            }
        }
    }
    let tail = chunks.remainder().iter().fold(0.0f64, |a, &x| a.max(x));
    m[0].max(m[1]).max(m[2].max(m[3])).max(tail)
}

/// Where the slice of a table with observed variables starts, for the evidence's states.
fn table_offset(
    observed: &[(VarId, usize)],
    evidence: &Evidence,
    cards_of: &impl Fn(VarId) -> usize,
) -> usize {
    observed
        .iter()
        .map(|&(u, stride)| {
            evidence
                .certain_state(u, cards_of(u))
                .expect("pattern variable")
                * stride
        })
        .sum()
}

/// Marks a clique and its path to the root for recomputation.
fn mark(s: &Structure, ws: &mut Workspace, mut c: usize) {
    while !ws.processed[c] {
        ws.processed[c] = true;
        match s.cliques[c].parent {
            Some(p) => c = p,
            None => break,
        }
    }
}

/// Where a sweep is: a block (or band) of a dense clique, with each port's offset for its
/// first entry, or a chunk of a compressed clique's kept entries, with each port's base.
enum At<'a> {
    Block {
        bases: &'a [usize],
        ports: &'a [Port],
    },
    Kept {
        bases: &'a [usize],
        sparse: &'a Sparse,
        range: std::ops::Range<usize>,
    },
}

impl At<'_> {
    /// Multiplies the entries by an array read through port `p`.
    #[inline(always)]
    fn multiply(&self, out: &mut [f64], array: &[f64], p: usize) {
        match self {
            At::Block { bases, ports } => multiply(out, array, bases[p], &ports[p]),
            At::Kept {
                bases,
                sparse,
                range,
            } => sparse::gather_multiply(out, &array[bases[p]..], sparse.port(p, range.clone())),
        }
    }

    /// Fills the entries from an array read through port `p`.
    #[inline(always)]
    fn load(&self, out: &mut [f64], array: &[f64], p: usize) {
        match self {
            At::Block { bases, ports } => load(out, array, bases[p], &ports[p]),
            At::Kept {
                bases,
                sparse,
                range,
            } => sparse::gather_load(out, &array[bases[p]..], sparse.port(p, range.clone())),
        }
    }

    /// Multiplies the entries by an array read through port `p`, or, for the first factor of
    /// a product (`first`, then cleared), sets them to it (times `kept` entries, if given).
    #[inline(always)]
    fn fold_in(
        &self,
        out: &mut [f64],
        kept: Option<&[f64]>,
        first: &mut bool,
        array: &[f64],
        p: usize,
    ) {
        match (std::mem::replace(first, false), kept) {
            (true, Some(kept)) => self.times(out, kept, array, p),
            (true, None) => self.load(out, array, p),
            (false, _) => self.multiply(out, array, p),
        }
    }

    /// `out = values × array` read through port `p`.
    #[inline(always)]
    fn times(&self, out: &mut [f64], values: &[f64], array: &[f64], p: usize) {
        match self {
            At::Block { bases, ports } => times(out, values, array, bases[p], &ports[p]),
            At::Kept {
                bases,
                sparse,
                range,
            } => sparse::gather_times(
                out,
                values,
                &array[bases[p]..],
                sparse.port(p, range.clone()),
            ),
        }
    }

    /// Adds the entries into an array written through port `p`.
    #[inline(always)]
    fn scatter_add(&self, array: &mut [f64], values: &[f64], p: usize) {
        match self {
            At::Block { bases, ports } => scatter_add(array, values, bases[p], &ports[p]),
            At::Kept {
                bases,
                sparse,
                range,
            } => sparse::scatter_add(
                &mut array[bases[p]..],
                values,
                sparse.port(p, range.clone()),
            ),
        }
    }
}

/// Walks a clique's entries: calls `f(entries, at)` with the range of entries to process in
/// the clique's potential and where they are. A dense clique is walked block by block (all of
/// a block, or a banded clique's band; empty bands are skipped); a compressed one chunk by
/// chunk of its kept entries, which its potential holds alone. `bases` holds each port's
/// offset for the clique's first entry on the way in, and again on the way out.
#[inline(always)]
fn sweep(
    clique: &Clique,
    compressed: Option<&Sparse>,
    bands: Option<&[(u32, u32)]>,
    bases: &mut [usize],
    shifted: &mut [usize],
    digits: &mut [usize],
    mut f: impl FnMut(std::ops::Range<usize>, &At),
) {
    let np = clique.ports.len();
    let bases = &mut bases[..np];
    if let Some(sparse) = compressed {
        for start in (0..sparse.len).step_by(sparse::CHUNK) {
            let range = start..(start + sparse::CHUNK).min(sparse.len);
            let at = At::Kept {
                bases,
                sparse,
                range: range.clone(),
            };
            f(range, &at);
        }
        return;
    }
    let shifted = &mut shifted[..np];
    let k = clique.outer_cards.len();
    let digits = &mut digits[..k];
    digits.fill(0);
    let count = clique.len / clique.block;
    let ports = &clique.ports[..];
    let block = clique.block;
    for pos in 0..count {
        match bands {
            None => f(pos * block..(pos + 1) * block, &At::Block { bases, ports }),
            Some(bands) => {
                let (lo, hi) = (bands[pos].0 as usize, bands[pos].1 as usize);
                if lo < hi {
                    for ((s, &b), &step) in
                        shifted.iter_mut().zip(&*bases).zip(&clique.inner_strides)
                    {
                        *s = b + lo * step;
                    }
                    let at = At::Block {
                        bases: shifted,
                        ports,
                    };
                    f(pos * block + lo..pos * block + hi, &at);
                }
            }
        }
        // Step the odometer: the last outer variable fastest.
        let mut j = k;
        while j > 0 {
            j -= 1;
            let row = &clique.strides[j * np..(j + 1) * np];
            let card = clique.outer_cards[j];
            digits[j] += 1;
            if digits[j] < card {
                for (b, &s) in bases.iter_mut().zip(row) {
                    *b += s;
                }
                break;
            }
            digits[j] = 0;
            for (b, &s) in bases.iter_mut().zip(row) {
                *b -= s * (card - 1);
            }
        }
    }
}

/// Plans the sweep of a clique over `vars` (row-major): the inner block is the smallest suffix
/// with at least [`MIN_BLOCK`] entries. Returns the outer cardinalities and the block size.
fn sweep_split(vars: &[VarId], cards: &[usize]) -> (usize, Vec<usize>, usize) {
    let mut block = 1;
    let mut split = vars.len();
    while split > 0 && block < MIN_BLOCK {
        split -= 1;
        block *= cards[vars[split]];
    }
    let outer = vars[..split].iter().map(|&v| cards[v]).collect();
    (split, outer, block)
}

/// A port for an array with the given stride per clique variable.
fn port(vars: &[VarId], strides: &[usize], split: usize, cards: &[usize]) -> Port {
    let inner_vars = &vars[split..];
    let inner_strides = &strides[split..];
    if inner_strides.iter().all(|&s| s == 0) {
        return Port::Const;
    }
    // Row-major contiguous over the whole block?
    let mut expect = 1;
    let mut contiguous = true;
    for (&v, &s) in inner_vars.iter().zip(inner_strides).rev() {
        if s != expect {
            contiguous = false;
            break;
        }
        expect *= cards[v];
    }
    if contiguous {
        return Port::Contig;
    }
    // The longest run of innermost variables over which the port reads one entry or a
    // contiguous slice; else the innermost variable alone, with its stride.
    let last = inner_vars.len() - 1;
    let step = inner_strides[last];
    let mut run = cards[inner_vars[last]];
    let mut head = last;
    if step <= 1 {
        while head > 0 {
            let want = if step == 0 { 0 } else { run };
            if inner_strides[head - 1] != want {
                break;
            }
            head -= 1;
            run *= cards[inner_vars[head]];
        }
    }
    // The runs' starts, row-major over the variables before the run.
    let mut starts = vec![0u32];
    for (&v, &s) in inner_vars[..head].iter().zip(inner_strides) {
        starts = starts
            .iter()
            .flat_map(|&o| (0..cards[v]).map(move |x| o + (x * s) as u32))
            .collect();
    }
    Port::Runs { run, step, starts }
}

/// Row-major strides of a table over `scope`, as a stride per variable of `vars` (0 for
/// variables not in the scope).
fn strides_in(vars: &[VarId], scope: &[VarId], cards: &[usize]) -> Vec<usize> {
    let mut own = vec![0usize; scope.len()];
    let mut s = 1;
    for i in (0..scope.len()).rev() {
        own[i] = s;
        s *= cards[scope[i]];
    }
    vars.iter()
        .map(|v| scope.iter().position(|u| u == v).map_or(0, |i| own[i]))
        .collect()
}

/// Compiles the tree for one pattern of hard evidence.
fn build(
    network: &Network,
    observed: &[bool],
    options: &CompileOptions,
    more: &[Heuristic],
    id: usize,
    ranges: &Ranges,
) -> Result<Structure, InferenceError> {
    let (mut heuristic, mut plan) = triangulate(network, observed, &options.heuristics);
    // A large tree's passes cost far more than a triangulation: try the other heuristics too
    // (on barley, one pattern's tree shrinks from 12.0 to 9.4 million entries).
    if plan.total_tables > LARGE_TREE_ENTRIES && !more.is_empty() {
        let (h, other) = triangulate(network, observed, more);
        if other.total_tables < plan.total_tables {
            (heuristic, plan) = (h, other);
        }
    }
    // Estimate before allocating anything.
    if plan.total_tables > options.max_table_entries {
        return Err(InferenceError::TooLarge {
            entries: plan.total_tables,
            // A query's potentials and the kept evidence-free pass (f64 each).
            gib: plan.total_tables * 16.0 / f64::from(1u32 << 30),
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
    let mut vars_of: Vec<Vec<VarId>> = Vec::new();
    let mut parent_of: Vec<Option<usize>> = Vec::new();
    for i in 0..m {
        if !removed[i] {
            index[i] = vars_of.len();
            let mut vars = plan.cliques[i].clone();
            vars.sort_unstable();
            vars_of.push(vars);
        }
    }
    for i in 0..m {
        if !removed[i] {
            parent_of.push(parent[i].map(|p| index[find(p)]));
        }
    }
    let k = vars_of.len();
    // Each table goes to the clique of the first-eliminated unobserved member of its family,
    // which holds all of them.
    let mut assigned: Vec<Vec<VarId>> = vec![Vec::new(); k];
    let mut constants = Vec::new();
    for v in 0..n {
        let scope = network.cpd(v).factor().scope();
        match scope
            .iter()
            .filter(|&&u| !observed[u])
            .map(|&u| position[u])
            .min()
        {
            Some(first) => assigned[index[find(first)]].push(v),
            None => constants.push((v, observed_axes(scope, observed, &cards))),
        }
    }
    let len_of = |vars: &[VarId]| -> usize { vars.iter().map(|&v| cards[v]).product() };
    // Root each tree where its evidence is: see `reroot`.
    let dynamic: Vec<bool> = assigned
        .iter()
        .map(|tables| {
            tables
                .iter()
                .any(|&t| network.cpd(t).factor().scope().iter().any(|&u| observed[u]))
        })
        .collect();
    let sizes: Vec<usize> = vars_of.iter().map(|v| len_of(v)).collect();
    let parent_of = reattach(&vars_of, parent_of, &sizes, n);
    let parent_of = reroot(&parent_of, &dynamic, &sizes);
    // Each clique's separator with its parent (ordered below).
    let mut seps: Vec<Vec<VarId>> = vec![Vec::new(); k];
    for c in 0..k {
        if let Some(p) = parent_of[c] {
            seps[c] = vars_of[c]
                .iter()
                .copied()
                .filter(|v| vars_of[p].contains(v))
                .collect();
        }
    }
    // Each unobserved variable is read and weighted in the smallest clique that holds it.
    let mut home_of: Vec<Option<usize>> = vec![None; n];
    for (c, vars) in vars_of.iter().enumerate() {
        for &v in vars {
            if home_of[v].is_none_or(|h| len_of(vars) < len_of(&vars_of[h])) {
                home_of[v] = Some(c);
            }
        }
    }
    let mut kids: Vec<Vec<usize>> = vec![Vec::new(); k];
    let mut roots = Vec::new();
    for (c, p) in parent_of.iter().enumerate() {
        match p {
            Some(p) => kids[*p].push(c),
            None => roots.push(c),
        }
    }
    // Lay out each clique, parents before children. Its separator with its parent comes first
    // (the upward message is then constant over the inner block of a sweep), in the parent's
    // order (so the parent reads and writes it with strides 0 or 1 only: strided
    // read-modify-writes are what a sweep does slowest). The innermost variable is chosen so
    // that as few tables as possible step through it with another stride.
    let stride_of = |w: VarId, scope: &[VarId]| -> usize {
        scope
            .iter()
            .position(|&u| u == w)
            .map_or(0, |i| scope[i + 1..].iter().map(|&u| cards[u]).product())
    };
    let mut top_down = roots.clone();
    let mut next = 0;
    while next < top_down.len() {
        let c = top_down[next];
        top_down.extend(kids[c].iter().copied());
        next += 1;
    }
    for &c in &top_down {
        let mut vars: Vec<VarId> = match parent_of[c] {
            Some(p) => vars_of[p]
                .iter()
                .copied()
                .filter(|v| seps[c].contains(v))
                .collect(),
            None => Vec::new(),
        };
        seps[c] = vars.clone();
        let mut rest: Vec<VarId> = vars_of[c]
            .iter()
            .copied()
            .filter(|v| !seps[c].contains(v))
            .collect();
        if rest.len() >= 2 {
            let strided = |w: VarId| -> usize {
                assigned[c]
                    .iter()
                    .filter(|&&t| stride_of(w, network.cpd(t).factor().scope()) > 1)
                    .count()
            };
            let best = (0..rest.len())
                .rev()
                .min_by_key(|&i| strided(rest[i]))
                .expect("at least two candidates");
            let w = rest.remove(best);
            rest.push(w);
        }
        vars.extend(rest);
        vars_of[c] = vars;
    }
    // Separator buffers.
    let mut sep_offsets = vec![0usize; k];
    let mut sep_offset = 0;
    for c in 0..k {
        sep_offsets[c] = sep_offset;
        if parent_of[c].is_some() {
            sep_offset += len_of(&seps[c]);
        }
    }
    // The cliques with their sweep plans.
    let mut homes = vec![None; n];
    let mut cliques = Vec::with_capacity(k);
    let mut offset = 0;
    for c in 0..k {
        let vars = &vars_of[c];
        let len = len_of(vars);
        let bands = bands_for(network, vars, &assigned[c], observed, &cards, ranges);
        // A banded clique's block is its innermost variable, swept over the band only.
        let (split, outer_cards, block) = match bands {
            Some(_) => {
                let split = vars.len() - 1;
                let outer = vars[..split].iter().map(|&v| cards[v]).collect();
                (split, outer, cards[vars[split]])
            }
            None => sweep_split(vars, &cards),
        };
        let mut port_strides: Vec<Vec<usize>> = Vec::new();
        let mut ports = Vec::new();
        let mut add_port = |strides: Vec<usize>| {
            let p = match (port(vars, &strides, split, &cards), &bands) {
                // Over a band of the innermost variable: any length.
                (Port::Runs { step, .. }, Some(_)) => Port::Strided { step },
                (p, _) => p,
            };
            ports.push(p);
            port_strides.push(strides);
            ports.len() - 1
        };
        let parent_port = parent_of[c].map(|_| add_port(strides_in(vars, &seps[c], &cards)));
        let children: Vec<(usize, usize)> = kids[c]
            .iter()
            .map(|&ch| (ch, add_port(strides_in(vars, &seps[ch], &cards))))
            .collect();
        let tables: Vec<TableRef> = assigned[c]
            .iter()
            .map(|&t| {
                let scope = network.cpd(t).factor().scope();
                let mut strides = strides_in(vars, scope, &cards);
                // Observed variables are not in the clique: their strides stay 0 here and
                // their states give the slice's start.
                strides.truncate(vars.len());
                TableRef {
                    child: t,
                    port: add_port(strides),
                    observed: observed_axes(scope, observed, &cards),
                }
            })
            .collect();
        let clique_homes: Vec<(VarId, usize)> = vars
            .iter()
            .filter(|&&v| home_of[v] == Some(c))
            .map(|&v| (v, add_port(strides_in(vars, &[v], &cards))))
            .collect();
        for &(v, _) in &clique_homes {
            homes[v] = Some(Home { clique: c });
        }
        let np = ports.len();
        let mut strides = vec![0usize; split * np];
        for (p, s) in port_strides.iter().enumerate() {
            for j in 0..split {
                strides[j * np + p] = s[j];
            }
        }
        cliques.push(Clique {
            vars: vars.clone(),
            offset,
            len,
            parent: parent_of[c],
            sep_offset: sep_offsets[c],
            sep_len: if parent_of[c].is_some() {
                len_of(&seps[c])
            } else {
                0
            },
            outer_cards,
            block,
            strides,
            ports,
            parent_port,
            children,
            tables,
            homes: clique_homes,
            dynamic: dynamic[c],
            inner_strides: port_strides
                .iter()
                .map(|s| s.last().copied().unwrap_or(0))
                .collect(),
            bands,
            sparse: None,
        });
        offset += len;
    }
    // Post-order: children before parents.
    let mut collect_order = Vec::with_capacity(k);
    let mut stack: Vec<(usize, bool)> = roots.iter().rev().map(|&r| (r, false)).collect();
    while let Some((c, expanded)) = stack.pop() {
        if expanded {
            collect_order.push(c);
        } else {
            stack.push((c, true));
            stack.extend(kids[c].iter().map(|&ch| (ch, false)));
        }
    }
    let stats = TreeStats {
        heuristic,
        cliques: k,
        total_entries: offset,
        swept_entries: cliques.iter().map(Clique::swept).sum(),
        max_clique_entries: cliques.iter().map(|c| c.len).max().unwrap_or(0),
        separator_entries: sep_offset,
        induced_width: cliques
            .iter()
            .map(|c| c.vars.len())
            .max()
            .unwrap_or(1)
            .saturating_sub(1),
    };
    Ok(Structure {
        id,
        max_block: cliques.iter().map(|c| c.block).max().unwrap_or(1),
        max_ports: cliques.iter().map(|c| c.ports.len()).max().unwrap_or(1),
        max_outer: cliques
            .iter()
            .map(|c| c.outer_cards.len())
            .max()
            .unwrap_or(1),
        cliques,
        collect_order,
        separator_entries: sep_offset,
        homes,
        constants,
        stats,
        queries: AtomicUsize::new(0),
        prior: OnceLock::new(),
        valued: OnceLock::new(),
        potential_entries: offset,
        compressed: OnceLock::new(),
    })
}

/// Cliques smaller than this are swept densely: a band's bookkeeping would cost more than it
/// skips.
const BAND_MIN_ENTRIES: usize = 4096;

/// Innermost variables with fewer states are not banded (a band's bookkeeping per run).
const BAND_MIN_STATES: usize = 8;

/// The innermost variable of [`Ranges`] for a table not over it: its ranges are all or nothing
/// (`(0, u32::MAX)` where the table is nonzero), whichever variable the clique has innermost.
const ANY: VarId = VarId::MAX;

/// The bands of a clique over `vars` (innermost last) holding the given tables, if they would
/// skip at least half its entries. Networks with deterministic or banded tables (a quantity
/// that can only grow from one time step to the next, say) have cliques that are mostly 0.
fn bands_for(
    network: &Network,
    vars: &[VarId],
    tables: &[VarId],
    observed: &[bool],
    cards: &[usize],
    ranges: &Ranges,
) -> Option<Bands> {
    let len: usize = vars.iter().map(|&v| cards[v]).product();
    let &inner = vars.last()?;
    if len < BAND_MIN_ENTRIES
        || vars.len() < 2
        || cards[inner] < BAND_MIN_STATES
        || tables.is_empty()
    {
        return None;
    }
    let mut seen: Vec<VarId> = tables
        .iter()
        .flat_map(|&t| network.cpd(t).factor().scope().iter().copied())
        .filter(|&u| observed[u])
        .collect();
    seen.sort_unstable();
    seen.dedup();
    let key = (vars.to_vec(), tables.to_vec(), seen);
    let lock = || ranges.cliques.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(found) = lock().get(&key) {
        return found.clone();
    }
    let bands = compute_bands(network, vars, tables, observed, cards, ranges);
    lock().insert(key, bands.clone());
    bands
}

/// [`bands_for`], computed.
fn compute_bands(
    network: &Network,
    vars: &[VarId],
    tables: &[VarId],
    observed: &[bool],
    cards: &[usize],
    ranges: &Ranges,
) -> Option<Bands> {
    let len: usize = vars.iter().map(|&v| cards[v]).product();
    let &inner = vars.last()?;
    // The ranges along the innermost variable of the tables over it, and of those not over it
    // (which empty whole runs) without observed variables: their ranges were computed at
    // preparation, while the others' would cost a pass over the table per pattern (leaving
    // them out makes the bands wider, never wrong). None narrower than all the states (a
    // network without zeros, most often): nothing to band.
    let fixed = |t: VarId| {
        network
            .cpd(t)
            .factor()
            .scope()
            .iter()
            .all(|&u| !observed[u])
    };
    let with_ranges: Vec<(VarId, Arc<TableRanges>)> = tables
        .iter()
        .filter(|&&t| network.cpd(t).factor().scope().contains(&inner) || fixed(t))
        .map(|&t| (t, ranges.get(network, t, inner, observed, cards)))
        .collect();
    if with_ranges.is_empty() {
        return None;
    }
    // The positions of the clique's outer variables read each configuration of a table's
    // other variables equally often, so the clique keeps no more than its narrowest table.
    // When every table keeps more than half, it is not banded (their intersection might keep
    // less, but rarely enough to pay for computing it on every pattern).
    if with_ranges.iter().all(|(_, r)| r.kept > 0.5) {
        return None;
    }
    let query = band_list(network, vars, &with_ranges, observed, cards);
    if 2 * width(&query) as usize > len {
        return None;
    }
    let prior = if with_ranges.iter().all(|(t, _)| fixed(*t)) {
        query.clone()
    } else {
        // The tables without observed variables (their ranges the same for any pattern).
        let unobserved: Vec<(VarId, Arc<TableRanges>)> = with_ranges
            .iter()
            .filter(|(t, _)| fixed(*t))
            .map(|(t, r)| (*t, Arc::clone(r)))
            .collect();
        band_list(network, vars, &unobserved, observed, cards)
    };
    Some(Bands {
        prior: Arc::new(prior),
        query: Arc::new(query),
    })
}

/// For each position of the outer variables of `vars`, the range of the innermost variable's
/// states outside which one of `tables` is 0 for every state of its observed variables.
fn band_list(
    network: &Network,
    vars: &[VarId],
    tables: &[(VarId, Arc<TableRanges>)],
    observed: &[bool],
    cards: &[usize],
) -> Vec<(u32, u32)> {
    let (&inner, outer) = vars.split_last().expect("at least two variables");
    let card = cards[inner];
    let positions: usize = outer.iter().map(|&v| cards[v]).product();
    let mut bands = vec![(0u32, card as u32); positions];
    for (t, table) in tables {
        if table.full {
            continue;
        }
        let scope = network.cpd(*t).factor().scope();
        let rest: Vec<VarId> = scope
            .iter()
            .copied()
            .filter(|&u| !observed[u] && u != inner)
            .collect();
        let range = &table.ranges;
        // Intersect, position by position (row-major over the outer variables, the table's
        // row kept by an odometer).
        let strides = strides_in(outer, &rest, cards);
        let mut digits = vec![0usize; outer.len()];
        let mut r = 0;
        for band in bands.iter_mut() {
            let (lo, hi) = range[r];
            *band = (band.0.max(lo), band.1.min(hi));
            for j in (0..outer.len()).rev() {
                digits[j] += 1;
                if digits[j] < cards[outer[j]] {
                    r += strides[j];
                    break;
                }
                digits[j] = 0;
                r -= strides[j] * (cards[outer[j]] - 1);
            }
        }
    }
    bands
}

impl Ranges {
    /// The ranges of table `t` along `inner` (see [`Ranges`]), row-major over the table's
    /// unobserved variables other than `inner`; `inner` not in the table: the whole range where
    /// the table is nonzero, else empty.
    fn get(
        &self,
        network: &Network,
        t: VarId,
        inner: VarId,
        observed: &[bool],
        cards: &[usize],
    ) -> Arc<TableRanges> {
        let scope = network.cpd(t).factor().scope();
        // A table not over the innermost variable has the same ranges whichever it is.
        let inner = if scope.contains(&inner) { inner } else { ANY };
        if scope.len() > 64 {
            // Not cached: the masks below have a bit per variable of the table.
            return Arc::new(Self::scan(
                network,
                t,
                inner,
                &|j| observed[scope[j]],
                cards,
            ));
        }
        let mask = scope
            .iter()
            .enumerate()
            .filter(|&(_, &u)| observed[u])
            .fold(0u64, |m, (j, _)| m | (1 << j));
        self.get_masked(network, t, inner, mask, cards)
    }

    /// Computes, with nothing observed, the ranges of every table along each of its variables
    /// with states enough to band: one pass over each table at preparation, so that a new
    /// pattern's tree only merges them over its observed states.
    fn prepare(&self, network: &Network) {
        let cards = network.cardinalities();
        for t in 0..network.len() {
            let scope = network.cpd(t).factor().scope();
            if scope.len() > 64 {
                continue;
            }
            for &w in scope {
                if cards[w] >= BAND_MIN_STATES {
                    self.get_masked(network, t, w, 0, &cards);
                }
            }
            self.get_masked(network, t, ANY, 0, &cards);
        }
    }

    /// [`Self::get`] with the observed variables as bits of the table's scope positions. With
    /// some observed, the ranges are those without any, merged over the observed states.
    fn get_masked(
        &self,
        network: &Network,
        t: VarId,
        inner: VarId,
        mask: u64,
        cards: &[usize],
    ) -> Arc<TableRanges> {
        if let Some(found) = self.lock().get(&(t, inner, mask)).cloned() {
            return found;
        }
        let table = if mask == 0 {
            Self::scan(network, t, inner, &|_| false, cards)
        } else {
            let all = self.get_masked(network, t, inner, 0, cards);
            Self::merge(network, t, inner, mask, &all, cards)
        };
        let table = Arc::new(table);
        self.lock().insert((t, inner, mask), Arc::clone(&table));
        table
    }

    /// The ranges from a pass over the table.
    fn scan(
        network: &Network,
        t: VarId,
        inner: VarId,
        observed_at: &dyn Fn(usize) -> bool,
        cards: &[usize],
    ) -> TableRanges {
        let factor = network.cpd(t).factor();
        let scope = factor.scope();
        let rest: Vec<VarId> = scope
            .iter()
            .enumerate()
            .filter(|&(j, &u)| !observed_at(j) && u != inner)
            .map(|(_, &u)| u)
            .collect();
        let rest_len: usize = rest.iter().map(|&v| cards[v]).product();
        let mut range = vec![(u32::MAX, 0u32); rest_len];
        let rest_strides = strides_in(scope, &rest, cards);
        let at = scope.iter().position(|&u| u == inner);
        let owned;
        let values = match factor.table().as_slice() {
            Some(values) => values,
            None => {
                owned = factor.values();
                &owned[..]
            }
        };
        // Row by row over the table's last variable.
        let (&last_var, head) = scope.split_last().expect("a table has its variable");
        let step = rest_strides[head.len()];
        let mut digits = vec![0usize; head.len()];
        for row in values.chunks_exact(cards[last_var]) {
            let r: usize = digits.iter().zip(&rest_strides).map(|(d, s)| d * s).sum();
            if at == Some(head.len()) {
                // The innermost variable is the row: one range per row.
                if let (Some(lo), Some(hi)) = (
                    row.iter().position(|&x| x != 0.0),
                    row.iter().rposition(|&x| x != 0.0),
                ) {
                    let entry = &mut range[r];
                    *entry = (entry.0.min(lo as u32), entry.1.max(hi as u32 + 1));
                }
            } else {
                let k = at.map_or(0, |a| digits[a]) as u32;
                for (i, &x) in row.iter().enumerate() {
                    if x != 0.0 {
                        let entry = &mut range[r + i * step];
                        *entry = (entry.0.min(k), entry.1.max(k + 1));
                    }
                }
            }
            for j in (0..head.len()).rev() {
                digits[j] += 1;
                if digits[j] < cards[head[j]] {
                    break;
                }
                digits[j] = 0;
            }
        }
        // Not over the innermost variable (`inner` is [`ANY`]): the whole run, or nothing.
        let card = match at {
            Some(_) => cards[inner] as u32,
            None => u32::MAX,
        };
        if at.is_none() {
            for entry in range.iter_mut().filter(|e| e.0 < e.1) {
                *entry = (0, card);
            }
        }
        TableRanges::new(range, card)
    }

    /// The ranges with the variables of `mask` observed, from those without: each
    /// configuration of the other variables takes the union of its ranges over the observed
    /// states.
    fn merge(
        network: &Network,
        t: VarId,
        inner: VarId,
        mask: u64,
        all: &TableRanges,
        cards: &[usize],
    ) -> TableRanges {
        let scope = network.cpd(t).factor().scope();
        // The variables `all` is indexed by (row-major), and their strides in the result.
        let from: Vec<usize> = (0..scope.len()).filter(|&j| scope[j] != inner).collect();
        let kept: Vec<VarId> = from
            .iter()
            .filter(|&&j| mask >> j & 1 == 0)
            .map(|&j| scope[j])
            .collect();
        let from_vars: Vec<VarId> = from.iter().map(|&j| scope[j]).collect();
        let strides = strides_in(&from_vars, &kept, cards);
        let len: usize = kept.iter().map(|&v| cards[v]).product();
        let mut range = vec![(u32::MAX, 0u32); len];
        let mut digits = vec![0usize; from_vars.len()];
        let mut r = 0;
        for &(lo, hi) in &all.ranges {
            if lo < hi {
                let entry = &mut range[r];
                *entry = (entry.0.min(lo), entry.1.max(hi));
            }
            for k in (0..from_vars.len()).rev() {
                digits[k] += 1;
                if digits[k] < cards[from_vars[k]] {
                    r += strides[k];
                    break;
                }
                digits[k] = 0;
                r -= strides[k] * (cards[from_vars[k]] - 1);
            }
        }
        let card = match scope.contains(&inner) {
            true => cards[inner] as u32,
            false => u32::MAX,
        };
        TableRanges::new(range, card)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(VarId, VarId, u64), Arc<TableRanges>>> {
        // A panic elsewhere while holding the lock leaves the map as it was: still usable.
        self.tables.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Hangs each clique from the smallest clique that holds its separator, outside its own
/// subtree.
///
/// The elimination tree hangs a clique from the clique of its first-eliminated neighbour, often
/// a large one, and every edge costs a query a sweep of each of its two cliques (one step of
/// each pass). Any clique that holds the separator can take the parent's place: by running
/// intersection every clique on the path between them holds it too, so the subtree moved there
/// keeps each variable's cliques connected, and its separator is unchanged.
fn reattach(
    vars: &[Vec<VarId>],
    mut parent: Vec<Option<usize>>,
    sizes: &[usize],
    n: usize,
) -> Vec<Option<usize>> {
    let mut holding: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (c, members) in vars.iter().enumerate() {
        for &v in members {
            holding[v].push(c);
        }
    }
    for c in 0..vars.len() {
        let Some(p) = parent[c] else { continue };
        let sep: Vec<VarId> = vars[c]
            .iter()
            .copied()
            .filter(|v| vars[p].contains(v))
            .collect();
        let Some(&rarest) = sep.iter().min_by_key(|&&v| holding[v].len()) else {
            continue;
        };
        let mut best = p;
        for &j in &holding[rarest] {
            if sizes[j] >= sizes[best] || !sep.iter().all(|v| vars[j].contains(v)) {
                continue;
            }
            // Not below `c` (that would close a cycle).
            let mut up = Some(j);
            while let Some(x) = up.filter(|&x| x != c) {
                up = parent[x];
            }
            if up.is_none() {
                best = j;
            }
        }
        parent[c] = Some(best);
    }
    parent
}

/// Re-roots each tree of a forest (given by parent links) where its evidence is.
///
/// A query with a kept evidence-free pass recomputes, in its collect pass, the cliques on the
/// paths from the cliques whose tables hold observed variables (`dynamic`) to the root. Rooted
/// inside the smallest subtree that joins the dynamic cliques, it recomputes that subtree
/// only: the cliques hanging off it send the same messages as without evidence. Within that
/// subtree (or the whole tree, when no clique is dynamic) the largest clique is the root.
fn reroot(parent: &[Option<usize>], dynamic: &[bool], sizes: &[usize]) -> Vec<Option<usize>> {
    let k = parent.len();
    let mut neighbours: Vec<Vec<usize>> = vec![Vec::new(); k];
    for (c, p) in parent.iter().enumerate() {
        if let Some(p) = *p {
            neighbours[c].push(p);
            neighbours[p].push(c);
        }
    }
    // Prune leaves without evidence until each tree keeps only the subtree joining its dynamic
    // cliques (nothing, in a tree without any).
    let mut degree: Vec<usize> = neighbours.iter().map(Vec::len).collect();
    let mut kept = vec![true; k];
    let mut leaves: Vec<usize> = (0..k).filter(|&c| degree[c] <= 1 && !dynamic[c]).collect();
    while let Some(c) = leaves.pop() {
        if !kept[c] {
            continue;
        }
        kept[c] = false;
        for &d in &neighbours[c] {
            if kept[d] {
                degree[d] -= 1;
                if degree[d] <= 1 && !dynamic[d] {
                    leaves.push(d);
                }
            }
        }
    }
    // Orient each tree away from its root: its largest kept clique, or its largest clique when
    // it has no evidence.
    let mut new_parent = vec![None; k];
    let mut found = vec![false; k];
    let mut oriented = vec![false; k];
    let mut tree = Vec::new();
    for start in 0..k {
        if found[start] {
            continue;
        }
        tree.clear();
        breadth_first(&neighbours, start, &mut found, |c, _| tree.push(c));
        let any_kept = tree.iter().any(|&c| kept[c]);
        let root = *tree
            .iter()
            .filter(|&&c| kept[c] || !any_kept)
            .max_by_key(|&&c| (sizes[c], std::cmp::Reverse(c)))
            .expect("a tree has a clique");
        breadth_first(&neighbours, root, &mut oriented, |c, from| {
            new_parent[c] = from
        });
    }
    new_parent
}

/// Visits the tree of `start` breadth first, skipping and marking cliques in `seen`: calls
/// `visit(clique, the neighbour it was reached from)`.
fn breadth_first(
    neighbours: &[Vec<usize>],
    start: usize,
    seen: &mut [bool],
    mut visit: impl FnMut(usize, Option<usize>),
) {
    let mut queue = std::collections::VecDeque::from([(start, None)]);
    seen[start] = true;
    while let Some((c, from)) = queue.pop_front() {
        visit(c, from);
        for &d in &neighbours[c] {
            if !seen[d] {
                seen[d] = true;
                queue.push_back((d, Some(c)));
            }
        }
    }
}

/// The observed variables of a table's scope with their strides in it.
fn observed_axes(scope: &[VarId], observed: &[bool], cards: &[usize]) -> Vec<(VarId, usize)> {
    let own = strides_in(scope, scope, cards);
    scope
        .iter()
        .zip(own)
        .filter(|(u, _)| observed[**u])
        .map(|(&u, s)| (u, s))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checks that `parent` orients the undirected edges of `edges` as one tree per component,
    /// and returns the roots.
    fn roots_of(parent: &[Option<usize>], edges: &[(usize, usize)]) -> Vec<usize> {
        let mut oriented: Vec<(usize, usize)> = parent
            .iter()
            .enumerate()
            .filter_map(|(c, p)| p.map(|p| (c.min(p), c.max(p))))
            .collect();
        oriented.sort_unstable();
        let mut expected: Vec<(usize, usize)> =
            edges.iter().map(|&(a, b)| (a.min(b), a.max(b))).collect();
        expected.sort_unstable();
        assert_eq!(oriented, expected, "the same edges, each once");
        (0..parent.len()).filter(|&c| parent[c].is_none()).collect()
    }

    #[test]
    fn bases_keep_a_pass_for_each_state_of_their_pattern() {
        let net = crate::format::load("models/hip_leg_pain.toml").unwrap();
        let tree = JunctionTree::compile(&net).unwrap();
        let mut age = Evidence::new();
        age.parse_assignment(&net, "age_band=60_and_over").unwrap();
        assert!(tree.prepare_base(&age).unwrap().1);
        let (base, _) = tree.lookup(&tree.pattern(&age)).unwrap();
        let valued = base.valued.get().expect("passes kept for the age bands");
        assert_eq!(valued.passes.len(), 3);
        let mut case = age.clone();
        case.parse_assignment(&net, "foot_drop=present").unwrap();
        let mut ws = tree.workspace();
        let answer = tree.posteriors(&mut ws, &case).unwrap();
        // Only the pass for the case's age band is made, and the case recomputes only the
        // path from its finding to the root: fewer cliques than hold an age-band table.
        let made: Vec<bool> = valued.passes.iter().map(|p| p.get().is_some()).collect();
        let oldest = net
            .variable(net.id_of("age_band").unwrap())
            .state_index("60_and_over");
        assert_eq!(made.iter().filter(|&&m| m).count(), 1);
        assert!(made[oldest.unwrap()]);
        let recomputed = ws.processed.iter().filter(|&&p| p).count();
        let dynamic = base.cliques.iter().filter(|c| c.dynamic).count();
        assert!(
            recomputed < dynamic,
            "{recomputed} recomputed, {dynamic} dynamic"
        );
        // The same answer as on a tree without the base.
        let plain = JunctionTree::compile(&net).unwrap();
        let expected = plain.posteriors(&mut plain.workspace(), &case).unwrap();
        assert!((answer.ln_p_evidence - expected.ln_p_evidence).abs() < 1e-12);
        assert_eq!(answer.len(), expected.len());
        for (v, a) in answer.iter() {
            let b = expected.marginal(v).expect("the same variables");
            for (x, y) in a.iter().zip(b) {
                assert!((x - y).abs() < 1e-12, "{}", net.variable(v).id());
            }
        }
    }

    #[test]
    fn trees_are_rooted_at_the_largest_clique_joining_the_evidence() {
        // A path 0-1-2-3-4 with a branch 2-5, and a separate tree 6-7.
        let edges = [(0, 1), (1, 2), (2, 3), (3, 4), (2, 5), (6, 7)];
        let parent = vec![
            None,
            Some(0),
            Some(1),
            Some(2),
            Some(3),
            Some(2),
            None,
            Some(6),
        ];
        let sizes = [100, 10, 20, 30, 500, 1000, 5, 50];
        // Evidence in cliques 1 and 3: the root is the largest of 1, 2, 3 (not 0, 4 or 5,
        // though they are larger); the tree without evidence is rooted at its largest clique.
        let mut dynamic = [false, true, false, true, false, false, false, false];
        let rerooted = reroot(&parent, &dynamic, &sizes);
        assert_eq!(roots_of(&rerooted, &edges), vec![3, 7]);
        // Evidence in one clique only: the root is that clique.
        dynamic = [false, false, false, false, true, false, false, false];
        assert_eq!(
            roots_of(&reroot(&parent, &dynamic, &sizes), &edges),
            vec![4, 7]
        );
        // No evidence: the largest clique of each tree.
        dynamic = [false; 8];
        assert_eq!(
            roots_of(&reroot(&parent, &dynamic, &sizes), &edges),
            vec![5, 7]
        );
        // A single clique.
        assert_eq!(reroot(&[None], &[false], &[3]), vec![None]);
    }

    /// Every (variable order, separator) pair of a small clique: the sweep visits entries in
    /// row-major order, and a port's offsets match the direct index computation.
    #[test]
    fn cliques_hang_from_the_smallest_clique_holding_their_separator() {
        // Clique 0 {0,1,2,3} is the root; 1 {1,2,4} and 2 {2,5} hang from it, 3 {2,4,6} from 1.
        let vars = vec![vec![0, 1, 2, 3], vec![1, 2, 4], vec![2, 5], vec![2, 4, 6]];
        let sizes = [81, 27, 9, 27];
        let parent = vec![None, Some(0), Some(0), Some(1)];
        let moved = reattach(&vars, parent, &sizes, 7);
        // 2's separator {2} is held by 1 and 3, smaller than 0; 1 is the first of the
        // smallest. 3's separator {2, 4} is held by 1 only. 1's by 0 only.
        assert_eq!(moved, vec![None, Some(0), Some(1), Some(1)]);
        // A clique never moves below itself: 1 {2,4,7}'s separator {2,4} is held by its
        // child 2 {2,4,6}, smaller than its parent, but 1 stays.
        let vars = vec![vec![0, 2, 4], vec![2, 4, 7], vec![2, 4, 6]];
        let parent = vec![None, Some(0), Some(1)];
        assert_eq!(
            reattach(&vars, parent, &[64, 32, 8], 8),
            vec![None, Some(0), Some(1)]
        );
    }

    #[test]
    fn sweeps_index_ports_like_direct_computation() {
        // Large enough for two outer variables (the odometer carries) whatever the block.
        let cards = [3, 2, 4, 4, 8, 9];
        let vars: Vec<VarId> = (0..6).collect();
        let len: usize = cards.iter().product();
        for sub in [
            vec![1],
            vec![3, 1],
            vec![0, 1, 2],
            vec![5, 0],
            vec![],
            vec![0, 1, 2, 3, 4, 5],
            vec![4, 5],
        ] {
            let strides = strides_in(&vars, &sub, &cards);
            let (split, outer_cards, block) = sweep_split(&vars, &cards);
            assert_eq!(split, 2, "two outer variables with blocks of {MIN_BLOCK}");
            let p = port(&vars, &strides, split, &cards);
            let flat = strides[..split].to_vec();
            let clique = Clique {
                vars: vars.clone(),
                offset: 0,
                len,
                parent: None,
                sep_offset: 0,
                sep_len: 0,
                outer_cards,
                block,
                strides: flat,
                ports: vec![p.clone()],
                parent_port: None,
                children: Vec::new(),
                tables: Vec::new(),
                homes: Vec::new(),
                dynamic: false,
                bands: None,
                inner_strides: vec![strides[vars.len() - 1]],
                sparse: None,
            };
            let mut seen = Vec::new();
            let mut bases = vec![0usize];
            let mut digits = vec![0usize; split];
            sweep(
                &clique,
                None,
                None,
                &mut bases,
                &mut [0],
                &mut digits,
                |entries, at| {
                    assert_eq!(entries.len(), block);
                    let At::Block { bases: b, .. } = at else {
                        panic!("a dense clique is swept by blocks")
                    };
                    for x in 0..block {
                        seen.push((entries.start + x, b[0] + p.offset(x)));
                    }
                },
            );
            assert_eq!(seen.len(), len);
            for (i, offset) in seen {
                // Decode entry i row-major and compute its index directly.
                let mut rest = i;
                let mut want = 0;
                for j in (0..vars.len()).rev() {
                    want += (rest % cards[j]) * strides[j];
                    rest /= cards[j];
                }
                assert_eq!(offset, want, "entry {i} of sub-table {sub:?}");
            }
            assert_eq!(bases, vec![0], "the sweep leaves the bases where they were");
        }
    }

    #[test]
    fn scatter_adds_match_entry_by_entry_sums() {
        // Sub-tables over the innermost variable alone (every run adds into the same entries),
        // with runs repeating a few times ([3, 5]), and others; over several blocks.
        let cards = [3, 2, 4, 4, 8, 9];
        let vars: Vec<VarId> = (0..6).collect();
        let len: usize = cards.iter().product();
        let values: Vec<f64> = (0..len)
            .map(|i| 1.0 + ((i * 37) % 101) as f64 / 7.0)
            .collect();
        for sub in [
            vec![5],
            vec![4, 5],
            vec![3, 5],
            vec![1, 5],
            vec![0, 4],
            vec![2],
        ] {
            let strides = strides_in(&vars, &sub, &cards);
            let (split, _, block) = sweep_split(&vars, &cards);
            assert_eq!(split, 2, "two outer variables with blocks of {MIN_BLOCK}");
            let p = port(&vars, &strides, split, &cards);
            let size: usize = sub.iter().map(|&v| cards[v]).product();
            let mut got = vec![0.5; size];
            let mut want = got.clone();
            for (b, chunk) in values.chunks(block).enumerate() {
                // The block's base: its outer position's offset.
                let mut rest = b;
                let mut base = 0;
                for j in (0..split).rev() {
                    base += (rest % cards[j]) * strides[j];
                    rest /= cards[j];
                }
                scatter_add(&mut got, chunk, base, &p);
                for (x, &v) in chunk.iter().enumerate() {
                    want[base + p.offset(x)] += v;
                }
            }
            for (g, w) in got.iter().zip(&want) {
                assert!(
                    (g - w).abs() <= 1e-12 * w,
                    "sub-table {sub:?}: {g} against {w}"
                );
            }
        }
    }

    #[test]
    fn ports_classify_their_inner_offsets() {
        // Outer variable 0; the inner block over variables 1 and 2 (32 entries).
        let cards = [3, 4, 8];
        let vars = [0, 1, 2];
        let split = 1;
        let own = port(&vars, &strides_in(&vars, &vars, &cards), split, &cards);
        assert_eq!(own, Port::Contig);
        let outer_only = port(&vars, &strides_in(&vars, &[0], &cards), split, &cards);
        assert_eq!(outer_only, Port::Const);
        let last = port(&vars, &strides_in(&vars, &[2], &cards), split, &cards);
        assert_eq!(
            last,
            Port::Runs {
                run: 8,
                step: 1,
                starts: vec![0; 4]
            }
        );
        let middle = port(&vars, &strides_in(&vars, &[1], &cards), split, &cards);
        assert_eq!(
            middle,
            Port::Runs {
                run: 8,
                step: 0,
                starts: vec![0, 1, 2, 3]
            }
        );
        // Over four variables: the two innermost are outside the sub-table, so its entry is
        // constant over runs of 2 × 4.
        let cards = [3, 2, 2, 4];
        let vars = [0, 1, 2, 3];
        let split = 0;
        let outer_two = port(&vars, &strides_in(&vars, &[1, 0], &cards), split, &cards);
        assert_eq!(
            outer_two,
            Port::Runs {
                run: 8,
                step: 0,
                starts: vec![0, 3, 1, 4, 2, 5]
            }
        );
    }
}
