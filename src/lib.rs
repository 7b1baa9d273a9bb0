//! # radix: exact probabilistic diagnostic reasoning
//!
//! radix holds the possible origins of a complaint and the findings that tell them apart as a
//! hand-parameterised discrete Bayesian network (written in TOML, every number with its source),
//! computes exact posteriors by variable elimination, and applies the model's red-flag triage
//! rules as hard overrides.
//!
//! **radix is a research and teaching tool, not a medical device.** Its output is not medical
//! advice.
//!
//! The crate is layered; each module has one job (see `ARCHITECTURE.md`):
//! - [`factor`]: the factor algebra (tables over discrete variables, on ndarray);
//! - [`network`]: variables, conditional distributions and their validation;
//! - [`format`](mod@format): model files in and out;
//! - [`evidence`]: hard, negative and likelihood observations;
//! - [`inference`]: exact posteriors and P(evidence);
//! - [`triage`]: red-flag overrides;
//! - [`diagnosis`]: one case's answer: triage, ranked origins, posteriors.
//!
//! ```
//! use radix::{diagnosis, evidence::Evidence, format};
//! let net = format::toml::from_str(r#"
//! [[variable]]
//! id = "flu"
//! label = "Influenza"
//! role = "origin"
//! states = ["present", "absent"]
//! cpt = { p = [0.1, 0.9], source = "expert estimate" }
//! [[variable]]
//! id = "fever"
//! label = "Fever"
//! role = "finding"
//! states = ["present", "absent"]
//! noisy_or = { leak = { p = 0.05, source = "expert estimate" }, causes = [{ parent = "flu", p = 0.8, source = "expert estimate" }] }
//! "#, "flu.toml").unwrap();
//! let mut e = Evidence::new();
//! e.parse_assignment(&net, "fever=present").unwrap();
//! let d = diagnosis::diagnose(&net, &e).unwrap();
//! assert_eq!(net.variable(d.origins[0].variable).id(), "flu");
//! assert!(d.origins[0].probability > 0.6);
//! ```

pub mod analysis;
pub mod diagnosis;
pub mod evidence;
pub mod factor;
pub mod format;
pub mod inference;
pub mod network;
pub mod suggest;
pub mod triage;

/// The disclaimer every face of radix shows.
pub const DISCLAIMER: &str = "radix is a research and teaching tool, not a medical device: its output is not medical advice.";
