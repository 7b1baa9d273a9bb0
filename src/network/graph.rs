//! Directed-acyclic-graph checks on parent lists: topological order and, when there is none,
//! one cycle written out so the user can break it.

use crate::factor::VarId;

/// A topological order of the nodes (parents before children), or one directed cycle
/// `[a, b, c]` meaning `a -> b -> c -> a`.
pub fn topological_order(parents: &[Vec<VarId>]) -> Result<Vec<VarId>, Vec<VarId>> {
    let n = parents.len();
    let mut children = vec![Vec::new(); n];
    let mut indegree = vec![0usize; n];
    for (child, ps) in parents.iter().enumerate() {
        for &p in ps {
            children[p].push(child);
            indegree[child] += 1;
        }
    }
    let mut ready: Vec<VarId> = (0..n).filter(|&v| indegree[v] == 0).rev().collect();
    let mut order = Vec::with_capacity(n);
    while let Some(v) = ready.pop() {
        order.push(v);
        for &c in children[v].iter().rev() {
            indegree[c] -= 1;
            if indegree[c] == 0 {
                ready.push(c);
            }
        }
    }
    if order.len() == n {
        return Ok(order);
    }
    Err(find_cycle(parents, &indegree))
}

/// Walks parent links among the nodes left with positive in-degree: each has a parent also left,
/// so the walk must revisit a node, and the revisited stretch is a cycle.
fn find_cycle(parents: &[Vec<VarId>], indegree: &[usize]) -> Vec<VarId> {
    let start = (0..parents.len())
        .find(|&v| indegree[v] > 0)
        .expect("a node on or behind a cycle remains");
    let mut seen_at = vec![usize::MAX; parents.len()];
    let mut path = Vec::new();
    let mut v = start;
    while seen_at[v] == usize::MAX {
        seen_at[v] = path.len();
        path.push(v);
        v = *parents[v]
            .iter()
            .find(|&&p| indegree[p] > 0)
            .expect("every remaining node has a remaining parent");
    }
    // `path` follows child -> parent links; reverse the cycle to read parent -> child.
    let mut cycle = path[seen_at[v]..].to_vec();
    cycle.reverse();
    cycle
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_parents_first() {
        // 0 -> 1 -> 3, 0 -> 2 -> 3
        let parents = vec![vec![], vec![0], vec![0], vec![1, 2]];
        let order = topological_order(&parents).unwrap();
        let pos = |v| order.iter().position(|&x| x == v).unwrap();
        assert!(pos(0) < pos(1) && pos(1) < pos(3) && pos(2) < pos(3));
    }

    #[test]
    fn names_a_cycle() {
        // 0 -> 1 -> 2 -> 1 (cycle 1,2) and 3 hangs below it.
        let parents = vec![vec![], vec![0, 2], vec![1], vec![2]];
        let cycle = topological_order(&parents).unwrap_err();
        let mut sorted = cycle.clone();
        sorted.sort();
        assert_eq!(sorted, vec![1, 2]);
        // Consecutive entries are parent -> child links, closing back to the start.
        for w in 0..cycle.len() {
            let (a, b) = (cycle[w], cycle[(w + 1) % cycle.len()]);
            assert!(parents[b].contains(&a));
        }
    }

    #[test]
    fn self_loop_is_a_cycle() {
        let parents = vec![vec![0]];
        assert_eq!(topological_order(&parents).unwrap_err(), vec![0]);
    }
}
