//! Preparing trees for a cohort of queries known in advance (what `radix batch` does with its
//! file before scoring it).
//!
//! Under [`CompileOptions::reproducible`](super::CompileOptions::reproducible) a small
//! network answers a pattern of hard evidence on a tree of its own only if that tree was
//! prepared up front; else on the largest [base](JunctionTree::prepare_base) the pattern
//! includes, else on the tree without evidence. Choosing those trees from the whole cohort,
//! before any query, keeps every answer independent of the order of the queries.

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::{JunctionTree, is_subset};
use crate::evidence::Evidence;
use crate::factor::VarId;

/// Cases of one pattern from which the pattern gets a tree of its own.
const PATTERN_MIN_CASES: usize = 8;

/// The most entries the trees prepared for a cohort may hold (their kept passes as many again).
const COHORT_MAX_ENTRIES: usize = 1 << 22;

/// The share of the cases that must include a set of commonly observed variables for that set
/// to get a base.
const BASE_MIN_SHARE: f64 = 0.25;

/// What [`JunctionTree::prepare_cohort`] compiled.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CohortTrees {
    /// The patterns given trees of their own, most frequent first.
    pub patterns: Vec<Vec<VarId>>,
    /// The bases (sets of commonly observed variables), smallest first.
    pub bases: Vec<Vec<VarId>>,
}

impl JunctionTree<'_> {
    /// Prepares trees for a cohort of queries known in advance: a tree of its own for each
    /// pattern of hard evidence that recurs (8 cases or more, most frequent first), then bases
    /// for the variables most cases observe: the variables ranked by how many cases observe
    /// them, and each leading set of them that at least a quarter of the cases include (a
    /// cohort where every case gives the age band and most the sex gets {age} and {age, sex}).
    /// Up to 2^22 entries in all. A pattern that cannot be compiled is skipped (its queries
    /// report why). Returns what was compiled.
    ///
    /// ```
    /// # use radix::{evidence::Evidence, format, inference::JunctionTree};
    /// let net = format::load("models/hip_leg_pain.toml").unwrap();
    /// let tree = JunctionTree::compile(&net).unwrap();
    /// let findings = ["foot_drop", "pain_below_knee", "groin_pain", "fever_chills", "sex"];
    /// let cases: Vec<Evidence> = (0..40)
    ///     .map(|i| {
    ///         let mut e = Evidence::new();
    ///         e.parse_assignment(&net, "age_band=under_40").unwrap();
    ///         let finding = findings[i % 5];
    ///         let state = if finding == "sex" { "male" } else { "present" };
    ///         e.parse_assignment(&net, &format!("{finding}={state}")).unwrap();
    ///         e
    ///     })
    ///     .collect();
    /// let prepared = tree.prepare_cohort(&cases.iter().collect::<Vec<_>>());
    /// // The age band with each of five others: 8 cases each, a tree each.
    /// assert_eq!(prepared.patterns.len(), 5);
    /// // Every case gives the age band; no other variable is in a quarter of them.
    /// let age = net.id_of("age_band").unwrap();
    /// assert_eq!(prepared.bases, vec![vec![age]]);
    /// ```
    pub fn prepare_cohort(&self, cases: &[&Evidence]) -> CohortTrees {
        // Each pattern's count, with one of its cases (any: a pattern's tree does not depend
        // on the observed values).
        let counted: FxHashMap<Vec<VarId>, (usize, &Evidence)> = cases
            .par_iter()
            .fold(FxHashMap::default, |mut counts, &e| {
                counts.entry(self.pattern(e)).or_insert((0, e)).0 += 1;
                counts
            })
            .reduce(FxHashMap::default, |mut a, b| {
                for (pattern, (n, e)) in b {
                    a.entry(pattern).or_insert((0, e)).0 += n;
                }
                a
            });
        let mut frequent: Vec<(&Vec<VarId>, &(usize, &Evidence))> = counted
            .iter()
            .filter(|(p, (n, _))| !p.is_empty() && *n >= PATTERN_MIN_CASES)
            .collect();
        frequent.sort_by(|a, b| b.1.0.cmp(&a.1.0).then_with(|| a.0.cmp(b.0)));
        let mut prepared = CohortTrees::default();
        let mut entries = 0;
        for (pattern, (_, evidence)) in frequent {
            if entries >= COHORT_MAX_ENTRIES {
                break;
            }
            if let Ok(stats) = self.prepare(evidence) {
                entries += stats.total_entries;
                prepared.patterns.push(pattern.clone());
            }
        }
        let counts: Vec<(&[VarId], usize)> =
            counted.iter().map(|(p, (n, _))| (&p[..], *n)).collect();
        for base in common_bases(&counts, BASE_MIN_SHARE) {
            if entries >= COHORT_MAX_ENTRIES {
                break;
            }
            // Any case whose pattern includes the base, less its other observations.
            let Some((_, (_, case))) = counted.iter().find(|(p, _)| is_subset(&base, p)) else {
                continue;
            };
            let mut evidence = (*case).clone();
            for (v, _) in case.iter() {
                if base.binary_search(&v).is_err() {
                    evidence.remove(v);
                }
            }
            if let Ok((stats, true)) = self.prepare_base(&evidence) {
                entries += stats.total_entries;
                prepared.bases.push(base);
            }
        }
        prepared
    }
}

/// The bases worth compiling for a cohort, given each pattern of hard evidence (sorted
/// variables) with its number of cases: the variables ranked by how many cases observe them
/// (ties by id), and each leading set of them that at least `min_share` of the cases (and
/// [`PATTERN_MIN_CASES`]) include.
fn common_bases(patterns: &[(&[VarId], usize)], min_share: f64) -> Vec<Vec<VarId>> {
    let total: usize = patterns.iter().map(|(_, n)| n).sum();
    let mut observed: FxHashMap<VarId, usize> = FxHashMap::default();
    for &(p, n) in patterns {
        for &v in p {
            *observed.entry(v).or_default() += n;
        }
    }
    let mut ranked: Vec<(VarId, usize)> = observed.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let needed = (min_share * total as f64)
        .ceil()
        .max(PATTERN_MIN_CASES as f64) as usize;
    let mut bases = Vec::new();
    let mut base: Vec<VarId> = Vec::new();
    for (v, _) in ranked {
        let at = base.binary_search(&v).unwrap_err();
        base.insert(at, v);
        let including: usize = patterns
            .iter()
            .filter(|(p, _)| is_subset(&base, p))
            .map(|(_, n)| n)
            .sum();
        if including < needed {
            break;
        }
        bases.push(base.clone());
    }
    bases
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bases_are_the_leading_common_variables_shared_by_enough_cases() {
        // Variable 7 in every case, 3 in 80 of 100, 5 in 40 (in 30 with both 7 and 3), the
        // rest rarely.
        let patterns: Vec<(&[usize], usize)> = vec![
            (&[3, 5, 7], 30),
            (&[3, 7], 40),
            (&[3, 7, 9], 10),
            (&[5, 7], 10),
            (&[1, 7], 10),
        ];
        assert_eq!(
            common_bases(&patterns, 0.25),
            vec![vec![7], vec![3, 7], vec![3, 5, 7]]
        );
        // {3, 5, 7} is in 30 cases: below a share of a half.
        assert_eq!(common_bases(&patterns, 0.5), vec![vec![7], vec![3, 7]]);
        // Too few cases for any base.
        assert!(common_bases(&[(&[1, 2][..], 5)], 0.25).is_empty());
        assert!(common_bases(&[], 0.25).is_empty());
    }

    #[test]
    fn subsets_of_sorted_patterns() {
        assert!(is_subset(&[], &[1]));
        assert!(is_subset(&[2, 5], &[1, 2, 3, 5]));
        assert!(!is_subset(&[2, 4], &[1, 2, 3, 5]));
        assert!(!is_subset(&[6], &[1, 2, 3, 5]));
    }
}
