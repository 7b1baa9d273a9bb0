//! Zero compression: the entries of a pattern's cliques that no query of the pattern can make
//! nonzero, found once, and sweeps that skip them (Jensen & Andersen 1990; Hugin compresses
//! its junction trees the same way).
//!
//! An entry of a clique is 0 in every query of a pattern when its probability without
//! evidence is 0, every observed variable summed out: every query's product of tables is then
//! 0 there too, whatever the observed states and likelihoods. On networks with deterministic
//! or banded tables most entries are such (water: 96–99 % of its patterns' entries; mildew:
//! about 90 %). A collect-and-distribute pass in the Boolean semiring (nonzero or not, each
//! table relaxed to "nonzero for some state of its observed variables") finds them exactly:
//! no rounding can make a tiny probability look like 0.
//!
//! Skipping them is exact. A collect sweep that leaves them out sends up a message that
//! differs only at separator states that are impossible on the parent's side; every entry of
//! the parent with such a state is itself skipped, so nothing reads the difference. The sums
//! merely leave out exact zeros.
//!
//! A clique is compressed when at most [`MAX_KEPT_SHARE`] of its entries can be nonzero: its
//! sweeps then walk a list of the kept entries, in chunks, reading and writing every array
//! through a list of offsets per port instead of through blocks and runs.

use std::ops::Range;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::factor::VarId;
use crate::network::Network;

use super::{At, Clique, Structure};

/// A compressed clique's sweeps go through its kept entries this many at a time (the
/// chunk's values stay in the first-level cache while every array is applied to them).
pub(super) const CHUNK: usize = 256;

/// A clique is compressed when at most this share of its entries is kept: reading an array
/// through a list of offsets costs more per entry than a dense sweep (an estimate, about
/// twice; not tuned).
const MAX_KEPT_SHARE: f64 = 0.4;

/// Cliques smaller than this stay dense: too little to skip.
const MIN_ENTRIES: usize = 512;

/// The entries of a clique that can be nonzero, as the offsets of each of its ports there.
#[derive(Debug, Clone)]
pub(super) struct Sparse {
    /// The number of kept entries (a compressed clique's potential holds these only, in
    /// row-major order).
    pub(super) len: usize,
    /// Port `p`'s offsets (from its base) at the kept entries: `index[p * len..(p + 1) * len]`.
    index: Vec<u32>,
}

impl Sparse {
    /// Port `p`'s offsets at the kept entries `range`.
    #[inline(always)]
    pub(super) fn port(&self, p: usize, range: Range<usize>) -> &[u32] {
        &self.index[p * self.len + range.start..p * self.len + range.end]
    }
}

/// The tree `s` with its cliques compressed where few of their entries can be nonzero, and
/// the separators between two compressed cliques cut down to their possible states; `None`
/// when no clique is worth compressing. `tables`: each variable's conditional table; `id`:
/// the new tree's.
pub(super) fn compress(
    network: &Network,
    tables: &[&[f64]],
    s: &Structure,
    id: usize,
) -> Option<Structure> {
    let mut sweeper = Sweeper::new(s);
    let (possible, separators) = supports(network, tables, s, &mut sweeper);
    let kept: Vec<Option<usize>> = s
        .cliques
        .iter()
        .zip(&possible)
        .map(|(clique, here)| {
            let kept = here.iter().filter(|&&x| x > 0.0).count();
            let worth =
                clique.len >= MIN_ENTRIES && kept as f64 <= MAX_KEPT_SHARE * clique.len as f64;
            worth.then_some(kept)
        })
        .collect();
    if kept.iter().all(Option::is_none) {
        return None;
    }
    // A separator between two compressed cliques holds its possible states only: where each
    // of its states goes (`u32::MAX`: impossible), and its new layout.
    let mut cut: Vec<Option<Vec<u32>>> = vec![None; s.cliques.len()];
    let mut sep_offset = 0;
    let mut cliques = s.cliques.clone();
    for (c, clique) in cliques.iter_mut().enumerate() {
        let Some(parent) = clique.parent else {
            continue;
        };
        if kept[c].is_some() && kept[parent].is_some() {
            let mut next = 0u32;
            let map: Vec<u32> = separators[clique.sep_range()]
                .iter()
                .map(|&possible| match possible > 0.0 {
                    true => {
                        next += 1;
                        next - 1
                    }
                    false => u32::MAX,
                })
                .collect();
            clique.sep_len = next as usize;
            cut[c] = Some(map);
        }
        clique.sep_offset = sep_offset;
        sep_offset += clique.sep_len;
    }
    // The kept entries of the compressed cliques, as offsets per port, and the new layout of
    // the potentials.
    let mut offset = 0;
    for (c, clique) in cliques.iter_mut().enumerate() {
        clique.offset = offset;
        if let Some(len) = kept[c] {
            let here = &possible[c];
            let np = clique.ports.len();
            // Ports onto a cut separator read its new positions.
            let mut maps: Vec<Option<&[u32]>> = vec![None; np];
            if let (Some(p), Some(map)) = (clique.parent_port, &cut[c]) {
                maps[p] = Some(map);
            }
            for &(child, p) in &clique.children {
                if let Some(map) = &cut[child] {
                    maps[p] = Some(map);
                }
            }
            let mut index = vec![0u32; np * len];
            let mut next = 0;
            sweeper.sweep(clique, |entries, at| {
                let At::Block { bases, ports } = at else {
                    unreachable!("a tree being compressed is swept densely")
                };
                for (x, _) in here[entries].iter().enumerate().filter(|(_, h)| **h > 0.0) {
                    for (p, (port, map)) in ports.iter().zip(&maps).enumerate() {
                        let o = bases[p] + port.offset(x);
                        // Offsets lie within tables and separators, far below 2^32 entries.
                        index[p * len + next] = match map {
                            Some(map) => map[o],
                            None => o as u32,
                        };
                    }
                    next += 1;
                }
            });
            debug_assert!(
                !index.contains(&u32::MAX),
                "a kept entry at an impossible state"
            );
            clique.sparse = Some(Sparse { len, index });
        }
        offset += clique.stored();
    }
    let mut stats = s.stats.clone();
    stats.swept_entries = cliques.iter().map(Clique::swept).sum();
    stats.separator_entries = sep_offset;
    Some(Structure {
        id,
        cliques,
        collect_order: s.collect_order.clone(),
        separator_entries: sep_offset,
        homes: s.homes.clone(),
        constants: s.constants.clone(),
        max_block: s.max_block,
        max_ports: s.max_ports,
        max_outer: s.max_outer,
        stats,
        queries: AtomicUsize::new(s.queries.load(Ordering::Relaxed)),
        prior: OnceLock::new(),
        valued: OnceLock::new(),
        potential_entries: offset,
        compressed: OnceLock::from(None),
    })
}

/// Which entries of each clique can be nonzero, and which states of each separator (in the
/// layout of `s`): a collect and a distribute pass over indicators (1: possible, 0: not).
/// They run on the dense sweeps of queries: products of indicators are indicators, and each
/// message is turned back into one.
fn supports(
    network: &Network,
    tables: &[&[f64]],
    s: &Structure,
    sweeper: &mut Sweeper,
) -> (Vec<Vec<f64>>, Vec<f64>) {
    let cards_of = |v: VarId| network.variable(v).cardinality();
    let k = s.cliques.len();
    let indicator = |m: &mut [f64]| {
        m.iter_mut()
            .for_each(|x| *x = f64::from(u8::from(*x > 0.0)))
    };
    // Collect: an entry is possible below when every table and every child's message allows
    // it. Entries outside a banded clique's bands stay 0.
    let mut possible: Vec<Vec<f64>> = vec![Vec::new(); k];
    let mut up = vec![0.0; s.separator_entries];
    for &c in &s.collect_order {
        let clique = &s.cliques[c];
        let relaxed: Vec<Vec<f64>> = clique
            .tables
            .iter()
            .map(|t| relax(tables[t.child], &t.observed, &cards_of))
            .collect();
        let mut here = vec![0.0; clique.len];
        let mut message = vec![0.0; clique.sep_len];
        sweeper.sweep(clique, |entries, at| {
            let out = &mut here[entries];
            out.fill(1.0);
            for (t, r) in clique.tables.iter().zip(&relaxed) {
                at.multiply(out, r, t.port);
            }
            for &(child, p) in &clique.children {
                at.multiply(out, &up[s.cliques[child].sep_range()], p);
            }
            if let Some(p) = clique.parent_port {
                at.scatter_add(&mut message, out, p);
            }
        });
        indicator(&mut message);
        up[clique.sep_range()].copy_from_slice(&message);
        possible[c] = here;
    }
    // Distribute: an entry is possible when it is possible below and its separator's state is
    // possible in the parent (which holds everything above).
    let mut down = vec![0.0; s.separator_entries];
    for &c in s.collect_order.iter().rev() {
        let clique = &s.cliques[c];
        let here = &mut possible[c];
        let mut to_children: Vec<Vec<f64>> = clique
            .children
            .iter()
            .map(|&(child, _)| vec![0.0; s.cliques[child].sep_len])
            .collect();
        let from_parent = &down[clique.sep_range()];
        sweeper.sweep(clique, |entries, at| {
            let out = &mut here[entries];
            if let Some(p) = clique.parent_port {
                at.multiply(out, from_parent, p);
            }
            for (m, &(_, p)) in to_children.iter_mut().zip(&clique.children) {
                at.scatter_add(m, out, p);
            }
        });
        for (&(child, _), mut m) in clique.children.iter().zip(to_children) {
            indicator(&mut m);
            down[s.cliques[child].sep_range()].copy_from_slice(&m);
        }
    }
    (possible, down)
}

/// Dense sweeps of a tree's cliques, every port based at 0 (the relaxed tables have no
/// observed slice to start from), with their scratch.
struct Sweeper {
    bases: Vec<usize>,
    shifted: Vec<usize>,
    digits: Vec<usize>,
}

impl Sweeper {
    fn new(s: &Structure) -> Self {
        Sweeper {
            bases: vec![0; s.max_ports],
            shifted: vec![0; s.max_ports],
            digits: vec![0; s.max_outer],
        }
    }

    /// Sweeps a clique's entries (a banded one's bands only).
    fn sweep(&mut self, clique: &Clique, f: impl FnMut(Range<usize>, &At)) {
        self.bases.fill(0);
        super::sweep(
            clique,
            None,
            clique.bands(true),
            &mut self.bases,
            &mut self.shifted,
            &mut self.digits,
            f,
        );
    }
}

/// A table relaxed over its observed variables, as an indicator: at each offset of its
/// unobserved variables (the observed ones at state 0), 1 where it is nonzero for some
/// observed states.
fn relax(
    table: &[f64],
    observed: &[(VarId, usize)],
    cards_of: &impl Fn(VarId) -> usize,
) -> Vec<f64> {
    if observed.is_empty() {
        return table
            .iter()
            .map(|&x| f64::from(u8::from(x != 0.0)))
            .collect();
    }
    let mut relaxed = vec![0.0; table.len()];
    for (i, &x) in table.iter().enumerate() {
        if x != 0.0 {
            let at_observed: usize = observed
                .iter()
                .map(|&(u, stride)| (i / stride) % cards_of(u) * stride)
                .sum();
            relaxed[i - at_observed] = 1.0;
        }
    }
    relaxed
}

/// `out[i] = array[index[i]]`.
#[inline(always)]
pub(super) fn gather_load(out: &mut [f64], array: &[f64], index: &[u32]) {
    for (o, &i) in out.iter_mut().zip(index) {
        *o = array[i as usize];
    }
}

/// `out[i] *= array[index[i]]`.
#[inline(always)]
pub(super) fn gather_multiply(out: &mut [f64], array: &[f64], index: &[u32]) {
    for (o, &i) in out.iter_mut().zip(index) {
        *o *= array[i as usize];
    }
}

/// `out[i] = values[i] * array[index[i]]`.
#[inline(always)]
pub(super) fn gather_times(out: &mut [f64], values: &[f64], array: &[f64], index: &[u32]) {
    for ((o, &v), &i) in out.iter_mut().zip(values).zip(index) {
        *o = v * array[i as usize];
    }
}

/// `array[index[i]] += values[i]`.
#[inline(always)]
pub(super) fn scatter_add(array: &mut [f64], values: &[f64], index: &[u32]) {
    for (&v, &i) in values.iter().zip(index) {
        array[i as usize] += v;
    }
}
