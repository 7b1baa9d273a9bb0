//! Elimination orders: greedy heuristics on the interaction graph of a set of factors.
//!
//! Eliminating a variable joins all factors that mention it into one table over the variable
//! and its neighbours, and connects those neighbours (the "fill-in" edges). The heuristics pick,
//! step by step, the variable whose elimination is cheapest by their measure. They are
//! heuristics: finding an optimal order is NP-hard.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::factor::VarId;

/// How to choose the next variable to eliminate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Heuristic {
    /// Fewest fill-in edges; ties broken by the smallest table (the default).
    #[default]
    MinFill,
    /// Smallest total weight of fill-in edges (product of the two cardinalities).
    WeightedMinFill,
    /// Smallest table created (product of the cardinalities of the variable and its neighbours).
    MinWeight,
    /// Fewest neighbours.
    MinDegree,
}

/// An elimination order and what it costs.
#[derive(Debug, Clone, PartialEq)]
pub struct EliminationPlan {
    /// The variables in the order they are eliminated.
    pub order: Vec<VarId>,
    /// The largest table the elimination builds (entries).
    pub max_table: f64,
    /// The sum of the sizes of the tables it builds (entries).
    pub total_tables: f64,
    /// The induced width: the largest number of neighbours of an eliminated variable.
    pub induced_width: usize,
    /// For each eliminated variable, in order: the variable followed by its neighbours at the
    /// time of its elimination (the scope of the table it creates; a clique of the
    /// triangulated graph).
    pub cliques: Vec<Vec<VarId>>,
}

/// Plans the elimination of `eliminate` from factors with the given scopes.
///
/// `cards` gives the cardinality of every variable id that appears in a scope. Variables of the
/// scopes that are not in `eliminate` are kept; they take part in the graph, so the cost of the
/// final table over them is counted.
pub fn plan(
    scopes: &[&[VarId]],
    eliminate: &[VarId],
    cards: &[usize],
    heuristic: Heuristic,
) -> EliminationPlan {
    let n = cards.len();
    let mut graph = Graph::new(n);
    for scope in scopes {
        for (i, &a) in scope.iter().enumerate() {
            for &b in &scope[i + 1..] {
                if a != b {
                    graph.connect(a, b);
                }
            }
        }
    }
    let mut pending = vec![false; n];
    for &v in eliminate {
        pending[v] = true;
    }
    let mut score: Vec<(f64, f64)> = vec![(0.0, 0.0); n];
    for &v in eliminate {
        score[v] = cost(&graph, cards, v, heuristic);
    }
    let mut order = Vec::with_capacity(eliminate.len());
    let mut max_table = 0.0f64;
    let mut total_tables = 0.0f64;
    let mut induced_width = 0usize;
    let mut cliques = Vec::with_capacity(eliminate.len());
    // A heap of (score, variable), smallest first; an entry whose score has changed since it
    // was pushed is stale and skipped.
    let mut heap: BinaryHeap<Reverse<Candidate>> = eliminate
        .iter()
        .map(|&v| Reverse(Candidate(score[v], v)))
        .collect();
    let mut neighbours: Vec<VarId> = Vec::new();
    let mut touched = vec![0u64; graph.words];
    let mut row = vec![0u64; graph.words];
    let fill_in = matches!(heuristic, Heuristic::MinFill | Heuristic::WeightedMinFill);
    while let Some(Reverse(Candidate(s, v))) = heap.pop() {
        if !pending[v] || s != score[v] {
            continue;
        }
        pending[v] = false;
        neighbours.clear();
        neighbours.extend(graph.neighbours(v));
        let table = neighbours
            .iter()
            .fold(cards[v] as f64, |w, &u| w * cards[u] as f64);
        max_table = max_table.max(table);
        total_tables += table;
        induced_width = induced_width.max(neighbours.len());
        // Connect the neighbours pairwise and take `v` out of the graph.
        touched.fill(0);
        row.copy_from_slice(graph.row(v));
        for &a in &neighbours {
            let ra = graph.row_mut(a);
            for (x, &y) in ra.iter_mut().zip(&row) {
                *x |= y;
            }
            ra[a / 64] &= !(1u64 << (a % 64));
            ra[v / 64] &= !(1u64 << (v % 64));
            for (t, &x) in touched.iter_mut().zip(graph.row(a)) {
                *t |= x;
            }
        }
        graph.row_mut(v).fill(0);
        order.push(v);
        let mut clique = Vec::with_capacity(neighbours.len() + 1);
        clique.push(v);
        clique.extend(neighbours.iter().copied());
        cliques.push(clique);
        // Only the neighbours' scores and, for the fill-in heuristics, the scores of variables
        // adjacent to two or more of them (the new edges may join two of their neighbours)
        // can have changed.
        for (t, &x) in touched.iter_mut().zip(&row) {
            *t |= x;
        }
        for u in bits(&touched) {
            if !pending[u] {
                continue;
            }
            let neighbour = row[u / 64] & (1u64 << (u % 64)) != 0;
            let joined = || {
                graph
                    .row(u)
                    .iter()
                    .zip(&row)
                    .map(|(&x, &y)| (x & y).count_ones())
                    .sum::<u32>()
                    >= 2
            };
            if neighbour || (fill_in && joined()) {
                let new = cost(&graph, cards, u, heuristic);
                if new != score[u] {
                    score[u] = new;
                    heap.push(Reverse(Candidate(new, u)));
                }
            }
        }
    }
    EliminationPlan {
        order,
        max_table,
        total_tables,
        induced_width,
        cliques,
    }
}

/// A variable with its (primary, tie-break) score, ordered by score, then by variable.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Candidate((f64, f64), VarId);

impl Eq for Candidate {}

impl Ord for Candidate {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        let ((a0, a1), a) = (self.0, self.1);
        let ((b0, b1), b) = (other.0, other.1);
        a0.total_cmp(&b0).then(a1.total_cmp(&b1)).then(a.cmp(&b))
    }
}

impl PartialOrd for Candidate {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// An undirected graph as adjacency bitsets: the heuristics' inner loops become word
/// operations (a set-based graph made compiling a tree for a new evidence pattern on a
/// thousand-variable network cost milliseconds).
struct Graph {
    words: usize,
    rows: Vec<u64>,
}

impl Graph {
    fn new(n: usize) -> Self {
        let words = n.div_ceil(64).max(1);
        Graph {
            words,
            rows: vec![0; n * words],
        }
    }

    fn connect(&mut self, a: VarId, b: VarId) {
        self.rows[a * self.words + b / 64] |= 1 << (b % 64);
        self.rows[b * self.words + a / 64] |= 1 << (a % 64);
    }

    fn row(&self, v: VarId) -> &[u64] {
        &self.rows[v * self.words..(v + 1) * self.words]
    }

    fn row_mut(&mut self, v: VarId) -> &mut [u64] {
        &mut self.rows[v * self.words..(v + 1) * self.words]
    }

    fn neighbours(&self, v: VarId) -> impl Iterator<Item = VarId> + '_ {
        bits(self.row(v))
    }
}

/// The members of a bitset, in increasing order.
fn bits(set: &[u64]) -> impl Iterator<Item = usize> + '_ {
    set.iter().enumerate().flat_map(|(w, &word)| {
        let mut word = word;
        std::iter::from_fn(move || {
            (word != 0).then(|| {
                let b = word.trailing_zeros() as usize;
                word &= word - 1;
                w * 64 + b
            })
        })
    })
}

/// (primary, tie-break) cost of eliminating `v` now.
fn cost(graph: &Graph, cards: &[usize], v: VarId, heuristic: Heuristic) -> (f64, f64) {
    let row = graph.row(v);
    // The graphs are sparse: visit only the words of the row that hold neighbours (up to a
    // few dozen; all words past that).
    let mut words = [0usize; 32];
    let mut count = 0;
    for (w, &x) in row.iter().enumerate() {
        if x != 0 {
            if count == words.len() {
                count = usize::MAX;
                break;
            }
            words[count] = w;
            count += 1;
        }
    }
    let all: Vec<usize>;
    let words: &[usize] = if count == usize::MAX {
        all = (0..row.len()).collect();
        &all
    } else {
        &words[..count]
    };
    let mut degree = 0u32;
    let mut weight = cards[v] as f64;
    for &w in words {
        degree += row[w].count_ones();
        let mut x = row[w];
        while x != 0 {
            weight *= cards[w * 64 + x.trailing_zeros() as usize] as f64;
            x &= x - 1;
        }
    }
    match heuristic {
        Heuristic::MinDegree => (f64::from(degree), weight),
        Heuristic::MinWeight => (weight, f64::from(degree)),
        Heuristic::MinFill | Heuristic::WeightedMinFill => {
            // Each missing edge {a, b} among the neighbours is seen from a and from b.
            let mut fill = 0.0;
            for &wa in words {
                let mut bits_a = row[wa];
                while bits_a != 0 {
                    let a = wa * 64 + bits_a.trailing_zeros() as usize;
                    bits_a &= bits_a - 1;
                    let ra = graph.row(a);
                    let mut missing_count = 0u32;
                    let mut across = 0usize;
                    for &w in words {
                        let own = if w == a / 64 { 1u64 << (a % 64) } else { 0 };
                        let mut missing = row[w] & !ra[w] & !own;
                        if heuristic == Heuristic::MinFill {
                            missing_count += missing.count_ones();
                        } else {
                            while missing != 0 {
                                across += cards[w * 64 + missing.trailing_zeros() as usize];
                                missing &= missing - 1;
                            }
                        }
                    }
                    fill += if heuristic == Heuristic::MinFill {
                        f64::from(missing_count)
                    } else {
                        (cards[a] * across) as f64
                    };
                }
            }
            (fill / 2.0, weight)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_needs_no_fill() {
        // A chain a-b-c-d: eliminating from an end never adds an edge; tables stay pairwise.
        let scopes: Vec<&[VarId]> = vec![&[0, 1], &[1, 2], &[2, 3]];
        for h in [
            Heuristic::MinFill,
            Heuristic::WeightedMinFill,
            Heuristic::MinWeight,
            Heuristic::MinDegree,
        ] {
            let p = plan(&scopes, &[0, 1, 2, 3], &[2, 2, 2, 2], h);
            assert_eq!(p.order.len(), 4);
            assert_eq!(p.induced_width, 1, "{h:?}");
            assert_eq!(p.max_table, 4.0);
        }
    }

    #[test]
    fn star_eliminates_leaves_first() {
        // Hub 0 with leaves 1..5: eliminating the hub first would join all leaves.
        let scopes: Vec<&[VarId]> = vec![&[0, 1], &[0, 2], &[0, 3], &[0, 4], &[0, 5]];
        let p = plan(&scopes, &[0, 1, 2, 3, 4, 5], &[2; 6], Heuristic::MinFill);
        assert_ne!(p.order[0], 0);
        assert_eq!(p.induced_width, 1);
    }

    #[test]
    fn long_chains_and_wide_stars_span_many_bitset_words() {
        // A chain of 200 variables (four words per row): no fill-in, whatever the heuristic.
        let edges: Vec<[VarId; 2]> = (0..199).map(|i| [i, i + 1]).collect();
        let scopes: Vec<&[VarId]> = edges.iter().map(|e| e.as_slice()).collect();
        let all: Vec<VarId> = (0..200).collect();
        for h in [Heuristic::MinFill, Heuristic::WeightedMinFill] {
            let p = plan(&scopes, &all, &[2; 200], h);
            assert_eq!(p.induced_width, 1, "{h:?}");
            assert_eq!(p.order.len(), 200);
        }
        // A hub with 2,200 leaves: its row has more nonzero words than the fast path keeps
        // (the fallback visits them all); eliminating leaves first adds no edge.
        let n = 2201;
        let edges: Vec<[VarId; 2]> = (1..n).map(|i| [0, i]).collect();
        let scopes: Vec<&[VarId]> = edges.iter().map(|e| e.as_slice()).collect();
        let all: Vec<VarId> = (0..n).collect();
        let p = plan(&scopes, &all, &vec![2; n], Heuristic::MinFill);
        assert_eq!(p.induced_width, 1);
        assert_eq!(p.max_table, 4.0);
        assert_ne!(p.order[0], 0, "the hub goes last, not first");
    }

    #[test]
    fn kept_variables_are_not_eliminated() {
        let scopes: Vec<&[VarId]> = vec![&[0, 1, 2]];
        let p = plan(&scopes, &[1], &[2, 3, 4], Heuristic::MinFill);
        assert_eq!(p.order, vec![1]);
        assert_eq!(p.max_table, 24.0);
    }
}
