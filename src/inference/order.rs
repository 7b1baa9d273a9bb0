//! Elimination orders: greedy heuristics on the interaction graph of a set of factors.
//!
//! Eliminating a variable joins all factors that mention it into one table over the variable
//! and its neighbours, and connects those neighbours (the "fill-in" edges). The heuristics pick,
//! step by step, the variable whose elimination is cheapest by their measure. They are
//! heuristics: finding an optimal order is NP-hard.

use std::collections::BTreeSet;

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
    let mut adj: Vec<BTreeSet<VarId>> = vec![BTreeSet::new(); n];
    for scope in scopes {
        for (i, &a) in scope.iter().enumerate() {
            for &b in &scope[i + 1..] {
                adj[a].insert(b);
                adj[b].insert(a);
            }
        }
    }
    let mut pending = vec![false; n];
    for &v in eliminate {
        pending[v] = true;
    }
    let mut score: Vec<(f64, f64)> = vec![(0.0, 0.0); n];
    for &v in eliminate {
        score[v] = cost(&adj, cards, v, heuristic);
    }
    let mut order = Vec::with_capacity(eliminate.len());
    let mut max_table = 0.0f64;
    let mut total_tables = 0.0f64;
    let mut induced_width = 0usize;
    let mut cliques = Vec::with_capacity(eliminate.len());
    let mut remaining: Vec<VarId> = eliminate.to_vec();
    while !remaining.is_empty() {
        let (pos, &v) = remaining
            .iter()
            .enumerate()
            .min_by(|(_, a), (_, b)| {
                score[**a]
                    .partial_cmp(&score[**b])
                    .unwrap_or(std::cmp::Ordering::Equal)
                    .then(a.cmp(b))
            })
            .expect("non-empty");
        remaining.swap_remove(pos);
        pending[v] = false;
        let neighbours: Vec<VarId> = adj[v].iter().copied().collect();
        let table = neighbours
            .iter()
            .fold(cards[v] as f64, |w, &u| w * cards[u] as f64);
        max_table = max_table.max(table);
        total_tables += table;
        induced_width = induced_width.max(neighbours.len());
        for (i, &a) in neighbours.iter().enumerate() {
            adj[a].remove(&v);
            for &b in &neighbours[i + 1..] {
                adj[a].insert(b);
                adj[b].insert(a);
            }
        }
        adj[v].clear();
        order.push(v);
        let mut clique = Vec::with_capacity(neighbours.len() + 1);
        clique.push(v);
        clique.extend(neighbours.iter().copied());
        cliques.push(clique);
        // Only the neighbours and their neighbours can have changed scores.
        let mut touched: BTreeSet<VarId> = BTreeSet::new();
        for &a in &neighbours {
            touched.insert(a);
            touched.extend(adj[a].iter().copied());
        }
        for u in touched {
            if pending[u] {
                score[u] = cost(&adj, cards, u, heuristic);
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

/// (primary, tie-break) cost of eliminating `v` now.
fn cost(adj: &[BTreeSet<VarId>], cards: &[usize], v: VarId, heuristic: Heuristic) -> (f64, f64) {
    let nb = &adj[v];
    let weight = nb.iter().fold(cards[v] as f64, |w, &u| w * cards[u] as f64);
    match heuristic {
        Heuristic::MinDegree => (nb.len() as f64, weight),
        Heuristic::MinWeight => (weight, nb.len() as f64),
        Heuristic::MinFill | Heuristic::WeightedMinFill => {
            let list: Vec<VarId> = nb.iter().copied().collect();
            let mut fill = 0.0;
            for (i, &a) in list.iter().enumerate() {
                for &b in &list[i + 1..] {
                    if !adj[a].contains(&b) {
                        fill += if heuristic == Heuristic::MinFill {
                            1.0
                        } else {
                            (cards[a] * cards[b]) as f64
                        };
                    }
                }
            }
            (fill, weight)
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
    fn kept_variables_are_not_eliminated() {
        let scopes: Vec<&[VarId]> = vec![&[0, 1, 2]];
        let p = plan(&scopes, &[1], &[2, 3, 4], Heuristic::MinFill);
        assert_eq!(p.order, vec![1]);
        assert_eq!(p.max_table, 24.0);
    }
}
