//! Reasoning tools on top of exact inference: what-if, what to examine next, why, how sure.
//!
//! Each tool takes a validated network and evidence and returns plain data (with a JSON shape
//! documented on its type); the CLI renders it.

pub mod explain;
pub mod next;
pub mod whatif;

pub mod sensitivity;
pub mod uncertainty;

pub mod mpe;
pub mod steps;
