//! Triage: red-flag rules that override the probabilities.
//!
//! A model declares rules such as "bladder or bowel dysfunction, or saddle anaesthesia, means an
//! emergency: suspect cauda equina syndrome". A rule looks only at the evidence, never at a
//! probability, so no prior or likelihood in the model can stop it from firing: red flags are
//! kept outside the probability engine on purpose (a probability threshold would under-refer,
//! since red flags are more specific than sensitive and most suspected cases scan negative).

use std::fmt;

use crate::evidence::Evidence;
use crate::factor::VarId;
use crate::network::Network;

/// How soon the patient must be seen. Ordered: `Routine < Urgent < Emergency`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum TriageLevel {
    /// No rule fired.
    Routine,
    /// Needs prompt specialist assessment (days).
    Urgent,
    /// Needs assessment now (hours).
    Emergency,
}

impl TriageLevel {
    /// The name used in files and output.
    pub fn as_str(self) -> &'static str {
        match self {
            TriageLevel::Routine => "routine",
            TriageLevel::Urgent => "urgent",
            TriageLevel::Emergency => "emergency",
        }
    }
}

impl fmt::Display for TriageLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One finding state that fires a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trigger {
    /// The finding.
    pub variable: VarId,
    /// The state that fires the rule.
    pub state: usize,
}

/// A validated triage rule of a network.
#[derive(Debug, Clone, PartialEq)]
pub struct TriageRule {
    /// Identifier.
    pub id: String,
    /// The level the rule sets.
    pub level: TriageLevel,
    /// What to tell the user.
    pub message: String,
    /// The rule fires when any of these is observed.
    pub triggers: Vec<Trigger>,
    /// Origins listed first when the rule fires.
    pub names: Vec<VarId>,
    /// Where the rule comes from.
    pub source: Option<String>,
}

/// A rule that fired for a case.
#[derive(Debug, Clone, PartialEq)]
pub struct FiredRule {
    /// Index of the rule in [`Network::triage_rules`].
    pub rule: usize,
    /// The rule's id.
    pub id: String,
    /// Its level.
    pub level: TriageLevel,
    /// Its message.
    pub message: String,
    /// The observed findings that fired it.
    pub triggered_by: Vec<VarId>,
    /// The origins it names.
    pub names: Vec<VarId>,
}

/// The triage of a case: the highest level of any fired rule (`Routine` if none fired).
#[derive(Debug, Clone, PartialEq)]
pub struct Triage {
    /// The overall level.
    pub level: TriageLevel,
    /// The fired rules, most severe first (file order within a level).
    pub fired: Vec<FiredRule>,
}

impl Triage {
    /// The first fired rule that names an origin, if any: the override to mark it with.
    pub fn override_for(&self, origin: VarId) -> Option<&FiredRule> {
        self.fired.iter().find(|f| f.names.contains(&origin))
    }
}

/// Applies every rule of the network to the evidence.
///
/// A trigger counts as observed when the evidence leaves only its state possible (hard
/// evidence, negative evidence on a binary finding, or a likelihood that is zero for every other
/// state). This function cannot fail and does not run inference: triage is reported even when
/// the evidence turns out to be impossible under the model.
pub fn assess(network: &Network, evidence: &Evidence) -> Triage {
    let mut fired: Vec<FiredRule> = Vec::new();
    for (i, rule) in network.triage_rules().iter().enumerate() {
        let triggered_by: Vec<VarId> = rule
            .triggers
            .iter()
            .filter(|t| {
                let card = network.variable(t.variable).cardinality();
                evidence.certain_state(t.variable, card) == Some(t.state)
            })
            .map(|t| t.variable)
            .collect();
        if !triggered_by.is_empty() {
            fired.push(FiredRule {
                rule: i,
                id: rule.id.clone(),
                level: rule.level,
                message: rule.message.clone(),
                triggered_by,
                names: rule.names.clone(),
            });
        }
    }
    // Stable sort keeps file order within a level.
    fired.sort_by_key(|f| std::cmp::Reverse(f.level));
    Triage {
        level: fired.first().map_or(TriageLevel::Routine, |f| f.level),
        fired,
    }
}
