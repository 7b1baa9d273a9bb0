//! Writes a network in radix's TOML model format (see `docs/model-format.md`).
//!
//! The output reads back through [`crate::format::toml::from_str`] into the same network: the
//! same metadata, variables (ids, labels, descriptions, roles, states, positive states), parents,
//! parameterisations (a noisy-OR is written back as `noisy_or`, a table as `cpt` rows keyed by
//! the parents' states with `when`), numbers (shortest round-trip `f64` form), sources and
//! triage rules.
//!
//! Sources are written as the network holds them: a block-level `source` when every row (or
//! every cause and the leak) has the same one, otherwise each on its own row, cause or leak. A
//! number without a source (as in a network read from BIF or XMLBIF) is written without one;
//! `radix check` counts such numbers. Strings and keys that need quoting are quoted with the
//! `toml` crate's own escaping.
//!
//! ```
//! let net = radix::format::bif::from_str(
//!     "network n { } variable a { type discrete [ 2 ] { yes, no }; }
//!      probability ( a ) { table 0.3, 0.7; }",
//!     "n.bif",
//! ).unwrap();
//! let text = radix::format::toml_writer::to_string(&net);
//! assert!(text.contains("cpt = { p = [0.3, 0.7] }"));
//! let back = radix::format::toml::from_str(&text, "n.toml").unwrap();
//! assert_eq!(back.cpd(0).factor().values(), net.cpd(0).factor().values());
//! ```

use std::fmt::Write as _;

use crate::network::{Network, Parameterisation, Role, RowUncertainty, Uncertainty, Variable};

/// Writes a network as a radix TOML model.
pub fn to_string(network: &Network) -> String {
    let mut out = String::new();
    let info = network.info();
    out.push_str("[model]\n");
    let _ = writeln!(out, "name = {}", string(network.name()));
    for (key, value) in [
        ("title", &info.title),
        ("version", &info.version),
        ("description", &info.description),
    ] {
        if let Some(value) = value {
            let _ = writeln!(out, "{key} = {}", string(value));
        }
    }
    for (v, var) in network.variables().iter().enumerate() {
        out.push('\n');
        variable(&mut out, network, v, var);
    }
    for rule in network.triage_rules() {
        out.push_str("\n[[triage]]\n");
        let _ = writeln!(out, "id = {}", string(&rule.id));
        let _ = writeln!(out, "level = {}", string(rule.level.as_str()));
        let _ = writeln!(out, "message = {}", string(&rule.message));
        out.push_str("when_any = [\n");
        for t in &rule.triggers {
            let var = network.variable(t.variable);
            let _ = writeln!(
                out,
                "  {{ variable = {}, state = {} }},",
                string(var.id()),
                string(&var.states()[t.state])
            );
        }
        out.push_str("]\n");
        let names: Vec<String> = rule
            .names
            .iter()
            .map(|&n| string(network.variable(n).id()))
            .collect();
        let _ = writeln!(out, "names = [{}]", names.join(", "));
        if let Some(source) = &rule.source {
            let _ = writeln!(out, "source = {}", string(source));
        }
    }
    out
}

fn variable(out: &mut String, network: &Network, v: usize, var: &Variable) {
    out.push_str("[[variable]]\n");
    let _ = writeln!(out, "id = {}", string(var.id()));
    let _ = writeln!(out, "label = {}", string(var.label()));
    if let Some(d) = var.description() {
        let _ = writeln!(out, "description = {}", string(d));
    }
    let _ = writeln!(out, "role = {}", string(var.role().as_str()));
    let _ = writeln!(out, "states = {}", strings(var.states()));
    if var.positive_state() != default_positive_state(var) {
        let _ = writeln!(
            out,
            "positive_state = {}",
            string(&var.states()[var.positive_state()])
        );
    }
    let cpd = network.cpd(v);
    let parents = cpd.parents();
    match cpd.parameterisation() {
        Parameterisation::Table(rows) if parents.is_empty() => {
            let row = &rows[0];
            let source = row
                .source
                .as_ref()
                .map(|s| format!(", source = {}", string(s)))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "cpt = {{ p = {}{source}{} }}",
                numbers(&row.probabilities),
                row_declaration(var, row.uncertainty.as_ref())
            );
        }
        Parameterisation::Table(rows) => {
            let ids: Vec<String> = parents
                .iter()
                .map(|&p| network.variable(p).id().to_string())
                .collect();
            let _ = writeln!(out, "parents = {}", strings(&ids));
            out.push_str("[variable.cpt]\n");
            let shared = shared_source(rows.iter().map(|r| &r.source));
            if let Some(s) = shared {
                let _ = writeln!(out, "source = {}", string(s));
            }
            out.push_str("rows = [\n");
            let cards: Vec<usize> = parents
                .iter()
                .map(|&p| network.variable(p).cardinality())
                .collect();
            for (c, row) in rows.iter().enumerate() {
                let mut rest = c;
                let mut states = vec![0; parents.len()];
                for i in (0..parents.len()).rev() {
                    states[i] = rest % cards[i];
                    rest /= cards[i];
                }
                let when: Vec<String> = parents
                    .iter()
                    .zip(&states)
                    .map(|(&p, &s)| {
                        let parent = network.variable(p);
                        format!("{} = {}", key(parent.id()), string(&parent.states()[s]))
                    })
                    .collect();
                let source = match (&row.source, shared) {
                    (Some(s), None) => format!(", source = {}", string(s)),
                    _ => String::new(),
                };
                let _ = writeln!(
                    out,
                    "  {{ when = {{ {} }}, p = {}{source}{} }},",
                    when.join(", "),
                    numbers(&row.probabilities),
                    row_declaration(var, row.uncertainty.as_ref())
                );
            }
            out.push_str("]\n");
        }
        Parameterisation::NoisyOr { leak, causes } => {
            out.push_str("[variable.noisy_or]\n");
            let shared = shared_source(
                std::iter::once(&leak.source).chain(causes.iter().map(|c| &c.p.source)),
            );
            if let Some(s) = shared {
                let _ = writeln!(out, "source = {}", string(s));
            }
            let own = |source: &Option<String>| match (source, shared) {
                (Some(s), None) => format!(", source = {}", string(s)),
                _ => String::new(),
            };
            let _ = writeln!(
                out,
                "leak = {{ p = {:?}{}{} }}",
                leak.value,
                own(&leak.source),
                declaration(leak.uncertainty.as_ref())
            );
            out.push_str("causes = [\n");
            for cause in causes {
                let parent = network.variable(cause.parent);
                let state = if cause.state == 0 {
                    String::new()
                } else {
                    format!(", state = {}", string(&parent.states()[cause.state]))
                };
                let _ = writeln!(
                    out,
                    "  {{ parent = {}{state}, p = {:?}{}{} }},",
                    string(parent.id()),
                    cause.p.value,
                    own(&cause.p.source),
                    declaration(cause.p.uncertainty.as_ref())
                );
            }
            out.push_str("]\n");
        }
    }
}

/// `, beta = [a, b]`, `, ci = [lo, hi]` or `, ess = N` as declared (empty when none).
fn declaration(u: Option<&Uncertainty>) -> String {
    match u {
        None => String::new(),
        Some(Uncertainty::Beta { alpha, beta }) => {
            format!(", beta = {}", numbers(&[*alpha, *beta]))
        }
        Some(Uncertainty::Interval { low, high, .. }) => {
            format!(", ci = {}", numbers(&[*low, *high]))
        }
        Some(Uncertainty::Dirichlet { ess }) => format!(", ess = {ess:?}"),
    }
}

/// A row's declaration, with `for_state` when a `beta` or `ci` is about a state but the first.
fn row_declaration(var: &Variable, u: Option<&RowUncertainty>) -> String {
    let Some(u) = u else {
        return String::new();
    };
    let mut out = declaration(Some(&u.distribution));
    if u.state != 0 && !matches!(u.distribution, Uncertainty::Dirichlet { .. }) {
        let _ = write!(out, ", for_state = {}", string(&var.states()[u.state]));
    }
    out
}

/// The positive state the builder picks when the file names none.
pub(crate) fn default_positive_state(var: &Variable) -> usize {
    match var.role() {
        Role::Origin => var.state_index("present").unwrap_or(usize::MAX),
        _ => 0,
    }
}

/// The one source all items share, if every item has it.
fn shared_source<'a>(mut sources: impl Iterator<Item = &'a Option<String>>) -> Option<&'a str> {
    let first = sources.next()?.as_deref()?;
    sources
        .all(|s| s.as_deref() == Some(first))
        .then_some(first)
}

/// A TOML string literal.
fn string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// A TOML key: bare when it can be, quoted otherwise.
fn key(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        s.to_string()
    } else {
        string(s)
    }
}

fn strings(items: &[String]) -> String {
    let parts: Vec<String> = items.iter().map(|s| string(s)).collect();
    format!("[{}]", parts.join(", "))
}

fn numbers(values: &[f64]) -> String {
    let parts: Vec<String> = values.iter().map(|x| format!("{x:?}")).collect();
    format!("[{}]", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_keys_and_strings() {
        assert_eq!(key("age_band"), "age_band");
        assert_eq!(key("a.b"), "\"a.b\"");
        let parsed: toml::Table = format!("{} = {}", key("x.y"), string("a\\b\"c'd\n"))
            .parse()
            .unwrap();
        assert_eq!(parsed["x.y"].as_str(), Some("a\\b\"c'd\n"));
    }
}
