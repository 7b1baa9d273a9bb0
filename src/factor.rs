//! Factor algebra: non-negative tables over discrete variables.
//!
//! A [`Factor`] is a function from the joint states of its scope (a list of variables) to
//! non-negative reals, stored as an n-dimensional [`ndarray`] whose axis `i` belongs to
//! `scope[i]`. Conditional probability tables, evidence indicators, likelihood vectors and the
//! intermediate results of variable elimination are all factors. The module knows nothing of
//! networks or files: variables are plain indices ([`VarId`]).
//!
//! ```
//! use radix::factor::Factor;
//! // P(B | A) over scope [A, B], both binary; rows indexed by A.
//! let b_given_a = Factor::new(vec![0, 1], &[2, 2], vec![0.9, 0.1, 0.2, 0.8]).unwrap();
//! let a = Factor::new(vec![0], &[2], vec![0.3, 0.7]).unwrap();
//! let joint = a.product(&b_given_a);
//! let b = joint.sum_out(0);
//! assert!((b.values()[0] - (0.3 * 0.9 + 0.7 * 0.2)).abs() < 1e-15);
//! ```

use ndarray::{ArrayD, Axis, IxDyn};

/// Index of a variable in its network.
pub type VarId = usize;

/// A non-negative table over the joint states of a list of distinct variables.
#[derive(Debug, Clone, PartialEq)]
pub struct Factor {
    scope: Vec<VarId>,
    table: ArrayD<f64>,
}

/// Why a factor could not be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FactorError {
    /// The scope and the cardinalities have different lengths.
    #[error("scope has {scope} variables but {cards} cardinalities were given")]
    ScopeCardinality { scope: usize, cards: usize },
    /// The number of values does not match the product of the cardinalities.
    #[error("expected {expected} values for the given cardinalities, found {found}")]
    Length { expected: usize, found: usize },
    /// A variable appears twice in the scope.
    #[error("variable {0} appears twice in the scope")]
    RepeatedVariable(VarId),
}

impl Factor {
    /// Builds a factor from values in row-major order: the last variable of `scope` varies
    /// fastest.
    pub fn new(scope: Vec<VarId>, cards: &[usize], values: Vec<f64>) -> Result<Self, FactorError> {
        if scope.len() != cards.len() {
            return Err(FactorError::ScopeCardinality {
                scope: scope.len(),
                cards: cards.len(),
            });
        }
        for (i, v) in scope.iter().enumerate() {
            if scope[..i].contains(v) {
                return Err(FactorError::RepeatedVariable(*v));
            }
        }
        let expected: usize = cards.iter().product();
        if values.len() != expected {
            return Err(FactorError::Length {
                expected,
                found: values.len(),
            });
        }
        let table = ArrayD::from_shape_vec(IxDyn(cards), values)
            .map_err(|_| FactorError::Length { expected, found: 0 })?;
        Ok(Factor { scope, table })
    }

    /// The constant factor 1 over no variables (the identity of [`Factor::product`]).
    pub fn unit() -> Self {
        Factor {
            scope: Vec::new(),
            table: ArrayD::from_elem(IxDyn(&[]), 1.0),
        }
    }

    /// A factor over one variable with the given weights (a prior, an indicator or a
    /// likelihood vector).
    pub fn unary(var: VarId, weights: &[f64]) -> Self {
        Factor {
            scope: vec![var],
            table: ArrayD::from_shape_vec(IxDyn(&[weights.len()]), weights.to_vec())
                .expect("one axis of the vector's length"),
        }
    }

    /// The variables of the factor, one per axis.
    pub fn scope(&self) -> &[VarId] {
        &self.scope
    }

    /// The number of states of each variable of the scope.
    pub fn cardinalities(&self) -> &[usize] {
        self.table.shape()
    }

    /// The number of entries of the table.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// True for a factor with no entries (never produced by the operations here).
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// The underlying array (axis `i` belongs to `scope()[i]`).
    pub fn table(&self) -> &ArrayD<f64> {
        &self.table
    }

    /// The values in row-major order (last scope variable fastest).
    pub fn values(&self) -> Vec<f64> {
        self.table.iter().copied().collect()
    }

    /// The position of `var` in the scope.
    pub fn axis_of(&self, var: VarId) -> Option<usize> {
        self.scope.iter().position(|&v| v == var)
    }

    /// The product of two factors, over the union of their scopes (this factor's variables
    /// first, then the other's new ones).
    pub fn product(&self, other: &Factor) -> Factor {
        let mut scope = self.scope.clone();
        let mut cards: Vec<usize> = self.table.shape().to_vec();
        for (i, &v) in other.scope.iter().enumerate() {
            if !scope.contains(&v) {
                scope.push(v);
                cards.push(other.table.shape()[i]);
            }
        }
        // Align both tables to the union scope with length-1 axes where a variable is
        // missing, then let ndarray broadcast.
        let mut left = self.table.view();
        for _ in self.scope.len()..scope.len() {
            let n = left.ndim();
            left = left.insert_axis(Axis(n));
        }
        let mut positions: Vec<(usize, usize)> = other
            .scope
            .iter()
            .enumerate()
            .map(|(axis, v)| (scope.iter().position(|u| u == v).unwrap_or(0), axis))
            .collect();
        positions.sort_unstable();
        let perm: Vec<usize> = positions.iter().map(|&(_, axis)| axis).collect();
        let mut right = other.table.view().permuted_axes(IxDyn(&perm));
        for (k, &u) in scope.iter().enumerate() {
            if !other.scope.contains(&u) {
                right = right.insert_axis(Axis(k));
            }
        }
        let table = &left * &right;
        debug_assert_eq!(table.shape(), &cards[..]);
        Factor { scope, table }
    }

    /// Sums `var` out of the factor. A variable outside the scope leaves it unchanged.
    pub fn sum_out(&self, var: VarId) -> Factor {
        match self.axis_of(var) {
            None => self.clone(),
            Some(axis) => {
                let mut scope = self.scope.clone();
                scope.remove(axis);
                Factor {
                    scope,
                    table: self.table.sum_axis(Axis(axis)),
                }
            }
        }
    }

    /// Maximises `var` out of the factor (max-product elimination).
    pub fn max_out(&self, var: VarId) -> Factor {
        match self.axis_of(var) {
            None => self.clone(),
            Some(axis) => {
                let mut scope = self.scope.clone();
                scope.remove(axis);
                let table = self
                    .table
                    .fold_axis(Axis(axis), f64::NEG_INFINITY, |&a, &b| a.max(b));
                Factor { scope, table }
            }
        }
    }

    /// Fixes `var` to `state` and drops its axis (hard evidence). A variable outside the
    /// scope leaves the factor unchanged.
    pub fn reduce(&self, var: VarId, state: usize) -> Factor {
        match self.axis_of(var) {
            None => self.clone(),
            Some(axis) => {
                let mut scope = self.scope.clone();
                scope.remove(axis);
                Factor {
                    scope,
                    table: self.table.index_axis(Axis(axis), state).to_owned(),
                }
            }
        }
    }

    /// The sum of all entries.
    pub fn total(&self) -> f64 {
        self.table.sum()
    }

    /// The largest entry (0 for an all-zero factor).
    pub fn max_value(&self) -> f64 {
        self.table.iter().fold(0.0_f64, |m, &x| m.max(x))
    }

    /// Divides every entry by `scale` in place.
    pub fn divide(&mut self, scale: f64) {
        self.table.mapv_inplace(|x| x / scale);
    }

    /// Divides the table by its largest entry so that it peaks at 1, and returns that entry
    /// (1 when the factor is all zero). Variable elimination rescales every intermediate factor
    /// this way and keeps the logarithm of the scales, so that products of hundreds of small
    /// probabilities neither underflow nor lose relative precision.
    pub fn rescale(&mut self) -> f64 {
        let m = self.max_value();
        if m > 0.0 && m != 1.0 {
            self.divide(m);
            m
        } else {
            1.0
        }
    }

    /// Returns the factor with its axes reordered to `order` (a permutation of the scope).
    pub fn permuted(&self, order: &[VarId]) -> Factor {
        let perm: Vec<usize> = order
            .iter()
            .map(|v| {
                self.axis_of(*v)
                    .expect("order is a permutation of the scope")
            })
            .collect();
        Factor {
            scope: order.to_vec(),
            table: self
                .table
                .view()
                .permuted_axes(IxDyn(&perm))
                .as_standard_layout()
                .into_owned(),
        }
    }

    /// The value at the given joint state (one state index per scope variable, in scope order).
    pub fn get(&self, states: &[usize]) -> f64 {
        self.table[IxDyn(states)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;

    #[test]
    fn product_aligns_shared_variables() {
        // f(A,B) * g(B,C) = h(A,B,C) with h[a,b,c] = f[a,b] g[b,c].
        let f = Factor::new(vec![0, 1], &[2, 3], (1..=6).map(f64::from).collect()).unwrap();
        let g = Factor::new(
            vec![2, 1],
            &[2, 3],
            (1..=6).map(|x| f64::from(x) * 10.0).collect(),
        )
        .unwrap();
        let h = f.product(&g);
        assert_eq!(h.scope(), &[0, 1, 2]);
        for a in 0..2 {
            for b in 0..3 {
                for c in 0..2 {
                    assert_abs_diff_eq!(h.get(&[a, b, c]), f.get(&[a, b]) * g.get(&[c, b]));
                }
            }
        }
    }

    #[test]
    fn product_with_disjoint_and_unit() {
        let f = Factor::unary(3, &[0.2, 0.8]);
        let g = Factor::unary(5, &[1.0, 2.0, 3.0]);
        let h = f.product(&g);
        assert_eq!(h.cardinalities(), &[2, 3]);
        assert_abs_diff_eq!(h.get(&[1, 2]), 2.4, epsilon = 1e-15);
        assert_eq!(Factor::unit().product(&f), f);
    }

    #[test]
    fn sum_max_reduce() {
        let f = Factor::new(vec![0, 1], &[2, 2], vec![0.1, 0.4, 0.3, 0.2]).unwrap();
        assert_eq!(f.sum_out(0).values(), vec![0.4, 0.6000000000000001]);
        assert_eq!(f.max_out(1).values(), vec![0.4, 0.3]);
        assert_eq!(f.reduce(1, 0).values(), vec![0.1, 0.3]);
        assert_eq!(f.reduce(7, 0), f);
        assert_abs_diff_eq!(f.total(), 1.0);
    }

    #[test]
    fn rescale_and_permute() {
        let mut f = Factor::new(vec![4, 2], &[2, 3], vec![1., 2., 3., 4., 5., 8.]).unwrap();
        let p = f.permuted(&[2, 4]);
        assert_eq!(p.get(&[2, 1]), 8.0);
        assert_eq!(f.rescale(), 8.0);
        assert_eq!(f.get(&[1, 2]), 1.0);
    }

    #[test]
    fn rejects_bad_shapes() {
        assert!(matches!(
            Factor::new(vec![0, 0], &[2, 2], vec![0.; 4]),
            Err(FactorError::RepeatedVariable(0))
        ));
        assert!(matches!(
            Factor::new(vec![0], &[2], vec![0.; 3]),
            Err(FactorError::Length { .. })
        ));
    }
}
