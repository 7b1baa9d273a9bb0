//! Evidence: what is known about the case.
//!
//! Three kinds of observation, all entered as a weight per state of the variable (a likelihood
//! vector), which is how the inference engines use them:
//! - hard, `VAR=STATE`: the variable is in that state;
//! - negative, `VAR!=STATE`: any state but that one;
//! - likelihood (soft, virtual) evidence, `VAR=0.8,0.2`: one non-negative weight per state in
//!   the order the model lists them, proportional to P(observation | state).
//!
//! ```
//! use radix::evidence::{Evidence, Observation};
//! # use radix::network::*;
//! # let mut b = NetworkBuilder::new("t");
//! # b.variable(VariableSpec::new("fever", "Fever", Role::Finding, &["present", "absent"]),
//! #            CpdSpec::root(vec![0.1, 0.9], "x"));
//! # let net = b.build().unwrap();
//! let mut e = Evidence::new();
//! e.parse_assignment(&net, "fever!=absent").unwrap();
//! assert_eq!(e.certain_state(0, 2), Some(0));
//! assert!(e.parse_assignment(&net, "fevr=present").unwrap_err().to_string().contains("did you mean `fever`"));
//! ```

use crate::factor::VarId;
use crate::network::{Network, UnknownName};

/// One observation of one variable.
#[derive(Debug, Clone, PartialEq)]
pub enum Observation {
    /// The variable is in this state.
    Is(usize),
    /// The variable is in any state but this one.
    IsNot(usize),
    /// Soft evidence: one weight per state, proportional to P(observation | state).
    Likelihood(Vec<f64>),
}

/// Evidence that cannot be entered.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EvidenceError {
    /// A variable or state the network does not have.
    #[error(transparent)]
    Unknown(#[from] UnknownName),
    /// Text that is not `VAR=STATE`, `VAR!=STATE` or `VAR=w1,w2,...`.
    #[error("cannot read `{text}`: {expected}")]
    Syntax {
        /// What was typed.
        text: String,
        /// What form was expected.
        expected: &'static str,
    },
    /// A likelihood with the wrong number of weights.
    #[error(
        "likelihood for `{variable}` has {found} weight(s); give one per state ({expected}: {states})"
    )]
    LikelihoodLength {
        /// Variable id.
        variable: String,
        /// Number of states.
        expected: usize,
        /// Number given.
        found: usize,
        /// The states, in order.
        states: String,
    },
    /// A negative, infinite or NaN weight, or all weights zero.
    #[error("likelihood for `{variable}` must be finite, non-negative weights, not all zero")]
    BadLikelihood {
        /// Variable id.
        variable: String,
    },
    /// The same variable observed twice.
    #[error("`{0}` is given more than once; give each variable one observation")]
    Repeated(String),
}

/// A set of observations, at most one per variable, checked against a network.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Evidence {
    /// Sorted by variable, one per variable, found by binary search: a case observes a
    /// handful of variables, and a short vector is one small allocation (a batch holds every
    /// case's evidence) where a map allocates a node.
    items: Vec<(VarId, Observation)>,
}

impl Evidence {
    /// No evidence.
    pub fn new() -> Self {
        Self::default()
    }

    /// No evidence yet, with room for `n` observations.
    pub fn with_capacity(n: usize) -> Self {
        Evidence {
            items: Vec::with_capacity(n),
        }
    }

    /// Adds an observation after checking it against the network.
    pub fn observe(
        &mut self,
        network: &Network,
        var: VarId,
        obs: Observation,
    ) -> Result<(), EvidenceError> {
        let v = network.variable(var);
        match &obs {
            Observation::Is(s) | Observation::IsNot(s) => {
                if *s >= v.cardinality() {
                    return Err(EvidenceError::Unknown(UnknownName {
                        kind: "state",
                        name: format!("#{s}` of `{}", v.id()),
                        suggestion: None,
                    }));
                }
            }
            Observation::Likelihood(w) => {
                if w.len() != v.cardinality() {
                    return Err(EvidenceError::LikelihoodLength {
                        variable: v.id().to_string(),
                        expected: v.cardinality(),
                        found: w.len(),
                        states: v.states().join(", "),
                    });
                }
                if w.iter().any(|x| !x.is_finite() || *x < 0.0) || w.iter().all(|x| *x == 0.0) {
                    return Err(EvidenceError::BadLikelihood {
                        variable: v.id().to_string(),
                    });
                }
            }
        }
        match self.position(var) {
            Ok(_) => Err(EvidenceError::Repeated(v.id().to_string())),
            Err(at) => {
                self.items.insert(at, (var, obs));
                Ok(())
            }
        }
    }

    /// Adds hard (`VAR=STATE`) or negative (`VAR!=STATE`) evidence written as text.
    pub fn parse_assignment(&mut self, network: &Network, text: &str) -> Result<(), EvidenceError> {
        let syntax = || EvidenceError::Syntax {
            text: text.to_string(),
            expected: "write VAR=STATE or VAR!=STATE",
        };
        let (name, state, negated) = match text.split_once("!=") {
            Some((n, s)) => (n, s, true),
            None => {
                let (n, s) = text.split_once('=').ok_or_else(syntax)?;
                (n, s, false)
            }
        };
        let (name, state) = (name.trim(), state.trim());
        if name.is_empty() || state.is_empty() {
            return Err(syntax());
        }
        let var = network.lookup(name)?;
        let s = network.lookup_state(var, state)?;
        let obs = if negated {
            Observation::IsNot(s)
        } else {
            Observation::Is(s)
        };
        self.observe(network, var, obs)
    }

    /// Adds likelihood evidence written as `VAR=w1,w2,...`.
    pub fn parse_likelihood(&mut self, network: &Network, text: &str) -> Result<(), EvidenceError> {
        let syntax = || EvidenceError::Syntax {
            text: text.to_string(),
            expected: "write VAR=w1,w2,... with one weight per state",
        };
        let (name, weights) = text.split_once('=').ok_or_else(syntax)?;
        let var = network.lookup(name.trim())?;
        let w: Vec<f64> = weights
            .split(',')
            .map(|x| x.trim().parse::<f64>())
            .collect::<Result<_, _>>()
            .map_err(|_| syntax())?;
        self.observe(network, var, Observation::Likelihood(w))
    }

    /// The observations, by variable.
    pub fn iter(&self) -> impl Iterator<Item = (VarId, &Observation)> {
        self.items.iter().map(|(v, o)| (*v, o))
    }

    /// Where a variable's observation is (`Ok`) or would go (`Err`).
    fn position(&self, var: VarId) -> Result<usize, usize> {
        self.items.binary_search_by_key(&var, |&(v, _)| v)
    }

    /// The observation of one variable.
    pub fn get(&self, var: VarId) -> Option<&Observation> {
        self.position(var).ok().map(|i| &self.items[i].1)
    }

    /// Whether a variable is observed.
    pub fn contains(&self, var: VarId) -> bool {
        self.position(var).is_ok()
    }

    /// The number of observed variables.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when nothing is observed.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Removes the observation of a variable, returning it.
    pub fn remove(&mut self, var: VarId) -> Option<Observation> {
        let i = self.position(var).ok()?;
        Some(self.items.remove(i).1)
    }

    /// The observation as weights per state (an indicator for hard evidence).
    pub fn weights(&self, var: VarId, cardinality: usize) -> Option<Vec<f64>> {
        self.get(var).map(|o| match o {
            Observation::Is(s) => (0..cardinality)
                .map(|i| f64::from(u8::from(i == *s)))
                .collect(),
            Observation::IsNot(s) => (0..cardinality)
                .map(|i| f64::from(u8::from(i != *s)))
                .collect(),
            Observation::Likelihood(w) => w.clone(),
        })
    }

    /// The state a variable must be in given its observation, when only one state has nonzero
    /// weight (hard evidence, negative evidence on a binary variable, or a likelihood that rules
    /// out every state but one).
    pub fn certain_state(&self, var: VarId, cardinality: usize) -> Option<usize> {
        // Called on every query for every observation: decided without building the weights.
        match self.get(var)? {
            Observation::Is(s) => Some(*s),
            Observation::IsNot(s) if cardinality == 2 => Some(1 - *s),
            Observation::IsNot(_) => None,
            Observation::Likelihood(w) => {
                let mut nonzero = w.iter().enumerate().filter(|(_, x)| **x > 0.0);
                match (nonzero.next(), nonzero.next()) {
                    (Some((s, _)), None) => Some(s),
                    _ => None,
                }
            }
        }
    }

    /// Describes one observation as text (`state`, `!=state`, or `w1,w2`).
    pub fn describe(&self, network: &Network, var: VarId) -> Option<String> {
        let states = network.variable(var).states();
        self.get(var).map(|o| match o {
            Observation::Is(s) => states[*s].clone(),
            Observation::IsNot(s) => format!("!={}", states[*s]),
            Observation::Likelihood(w) => w
                .iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join(","),
        })
    }
}
